//! Low-level raster helpers every stage uses: points and affine maps, sampling through them,
//! float planes, resizing (fast_image_resize), sRGB transfer functions.

pub mod colour;
mod cpu;
mod plane;
mod point;
mod resize;
mod warp;

#[cfg(target_arch = "x86_64")]
pub(crate) use cpu::has_avx2_fma;
pub use plane::Plane;
pub use point::{Affine, Point};
pub use resize::{downscale_to, resize_rgb};
pub use warp::{bilinear_rgb, warp_rgb, warp_rgb_f32};
