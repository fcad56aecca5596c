//! Head geometry and crop solving: the spec's rules in output pixels, the scale and offset
//! that place a head on the output canvas so that they hold (following the spec's precedence
//! when two cannot both hold), the crown of the head in a matte, and which failing rules are
//! waived.

mod crown;
mod solve;
mod waive;

pub use crown::{find_crown, CROWN_FALLBACK_RATIO};
pub use solve::{measure, px_rules, solve, Head, Placement, PxRule};
pub(crate) use solve::{needed_face_px, solve_limited};
pub(crate) use waive::waive;
