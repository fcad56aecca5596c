//! File rules: format, pixel size, aspect, DPI, KB window, bit depth and colour space, from the
//! file's header facts.

use crate::decode::{FileInfo, SourceFormat};
use crate::report::RuleResult;
use crate::spec::Spec;

/// Appends the file rules of `spec` for a file with header facts `info` and `len` bytes.
pub(crate) fn file_rules(spec: &Spec, info: &FileInfo, len: usize, rules: &mut Vec<RuleResult>) {
    rules.push(RuleResult::flag(
        "file.format",
        info.format == SourceFormat::Jpeg,
        "文件格式须为 JPEG",
        "The file must be a JPEG",
    ));
    let (wmin, wmax, hmin, hmax) = match &spec.pixels.range {
        Some(r) => (r.min_width, r.max_width, r.min_height, r.max_height),
        None => (
            spec.pixels.width,
            spec.pixels.width,
            spec.pixels.height,
            spec.pixels.height,
        ),
    };
    rules.push(RuleResult::range(
        "file.width",
        info.display_width as f64,
        Some(wmin as f64),
        Some(wmax as f64),
        "px",
    ));
    rules.push(RuleResult::range(
        "file.height",
        info.display_height as f64,
        Some(hmin as f64),
        Some(hmax as f64),
        "px",
    ));
    if let Some(aspect) = spec.pixels.range.as_ref().and_then(|r| r.aspect) {
        let a = info.display_width as f64 / info.display_height.max(1) as f64;
        rules.push(RuleResult::range(
            "file.aspect",
            a,
            Some(aspect - 0.01),
            Some(aspect + 0.01),
            "ratio",
        ));
    }
    let (dmin, dmax) = spec
        .dpi_range
        .map(|[a, b]| (a as f64, b as f64))
        .unwrap_or((spec.dpi as f64, spec.dpi as f64));
    match &info.density {
        Some(d) => rules.push(RuleResult::range(
            "file.dpi",
            d.x_dpi,
            Some(dmin - 0.5),
            Some(dmax + 0.5),
            "dpi",
        )),
        None => rules.push(RuleResult::flag(
            "file.dpi",
            false,
            "文件未记录 DPI",
            "The file records no DPI",
        )),
    }
    if let Some(win) = &spec.file_size_kb {
        rules.push(RuleResult::range(
            "file.kb_window",
            len as f64 / 1024.0,
            win.min,
            win.max,
            "kb",
        ));
    }
    rules.push(RuleResult::flag(
        "file.bit_depth",
        info.bits_per_channel == 8 && info.channels == 3,
        "须为 24 位 RGB 彩色",
        "Must be 24-bit RGB colour",
    ));
    rules.push(RuleResult::flag(
        "file.color_space",
        !info.has_icc || info.icc_is_srgb == Some(true),
        "色彩空间须为 sRGB",
        "Colour space must be sRGB",
    ));
}
