//! idphoto
