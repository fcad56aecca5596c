//! Which vector instructions this CPU has, for the loops compiled for several.

/// Whether this CPU runs the AVX2 and FMA versions of the crate's loops (checked at run time).
#[cfg(target_arch = "x86_64")]
pub(crate) fn has_avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}
