//! JPEG encoding (placeholder).
