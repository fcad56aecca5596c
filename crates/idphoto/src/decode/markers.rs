//! The JPEG marker walk: what the segments before the first scan say (JFIF density, EXIF
//! block, baseline or progressive, frame size, components), read without decoding.

pub(super) fn be16(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]))
}

#[derive(Debug, Default)]
pub(super) struct JpegMeta<'a> {
    /// (units, x density, y density) from the first JFIF APP0.
    pub(super) jfif: Option<(u8, u16, u16)>,
    /// TIFF payload of the first EXIF APP1 (after "Exif\0\0").
    pub(super) exif: Option<&'a [u8]>,
    /// Whether the first SOF marker is a progressive one; `None` if no SOF was found.
    pub(super) progressive: Option<bool>,
    /// Offset of the first SOS marker.
    pub(super) first_sos: Option<usize>,
    /// Components in the frame (SOF) and in the first scan (SOS).
    pub(super) frame_components: Option<u8>,
    /// Components in the first scan.
    pub(super) scan_components: Option<u8>,
    /// Stored (width, height) from the first SOF.
    pub(super) frame_size: Option<(u32, u32)>,
}

/// Walk the JPEG marker segments up to the first scan. Bounds-checked; stops at the first
/// inconsistency and returns what was found so far.
pub(super) fn parse_jpeg(b: &[u8]) -> JpegMeta<'_> {
    let mut meta = JpegMeta::default();
    if !b.starts_with(&[0xFF, 0xD8]) {
        return meta;
    }
    let mut i = 2usize;
    loop {
        // Markers may be preceded by any number of 0xFF fill bytes.
        if b.get(i) != Some(&0xFF) {
            break;
        }
        while b.get(i) == Some(&0xFF) {
            i += 1;
        }
        let Some(&marker) = b.get(i) else { break };
        i += 1;
        match marker {
            0x01 | 0xD0..=0xD8 => continue, // standalone markers
            0xD9 => break,                  // EOI
            0x00 => break,                  // not a marker: corrupt
            _ => {}
        }
        let Some(len) = be16(b, i) else { break };
        let len = len as usize;
        if len < 2 || i + len > b.len() {
            break;
        }
        let seg = &b[i + 2..i + len];
        match marker {
            0xE0 if meta.jfif.is_none() && seg.len() >= 12 && seg.starts_with(b"JFIF\0") => {
                meta.jfif = Some((
                    seg[7],
                    be16(seg, 8).unwrap_or(0),
                    be16(seg, 10).unwrap_or(0),
                ));
            }
            0xE1 if meta.exif.is_none() && seg.starts_with(b"Exif\0\0") => {
                meta.exif = Some(&seg[6..]);
            }
            // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC); the first one counts.
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) && meta.progressive.is_none() => {
                meta.progressive = Some(matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE));
                meta.frame_components = seg.get(5).copied();
                meta.frame_size = be16(seg, 3)
                    .zip(be16(seg, 1))
                    .map(|(w, h)| (u32::from(w), u32::from(h)));
            }
            0xDA => {
                meta.first_sos = Some(i - 2);
                meta.scan_components = seg.first().copied();
                break;
            }
            _ => {}
        }
        i += len;
    }
    meta
}
