//! What refinement takes ([`RefineOptions`]) and what it reports about the photo
//! ([`MatteInfo`]).

/// Parameters of [`refine`](crate::matte::refine()).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefineOptions {
    /// Radius of the low-resolution guided filter (mask pixels).
    pub radius: usize,
    /// Regulariser of the guided filter.
    pub eps: f32,
    /// Half-width of the uncertain band on the person's side of the contour, in mask pixels
    /// (one mask pixel = the image's long side / 256).
    pub band_inner: f32,
    /// Half-width of the uncertain band on the background's side, in mask pixels.
    pub band_outer: f32,
    /// Extra outer band width when the background is plain (mask pixels): fine hair far from
    /// the model's contour is recovered from the known wall colour.
    pub band_outer_plain: f32,
    /// Extra inner band width when the background is plain (mask pixels): background seen
    /// through gaps in the hair is found by its colour.
    pub band_inner_plain: f32,
    /// Slope applied to the guided filter's alpha around 0.5 where colour gives no evidence
    /// (1 = unchanged; larger = crisper edge).
    pub sharpen: f32,
    /// Colour distance (0..1 RGB) between the local person and background colours below
    /// which the colour model is not trusted at all.
    pub min_contrast: f32,
    /// How many local standard deviations of the two colours the distance must exceed.
    pub spread: f32,
    /// Alpha below this becomes 0 and above `1 - clip` becomes 1 (noise suppression), on a
    /// plain wall.
    pub clip: f32,
    /// The same on other backgrounds, where faint alpha is mostly background texture taken
    /// for hair.
    pub clip_busy: f32,
    /// Soft edge: radius in pixels of a final blur of the alpha (0 = none).
    pub feather: f32,
}

impl Default for RefineOptions {
    fn default() -> Self {
        RefineOptions {
            // 6 lowers the p3m band SAD by about one point (`--sweep`), but with it the crown
            // that `check` measures on a face pasted at the corner of a large canvas lies 5 px
            // above the planned one (tests/canvas_geometry.rs, cn-driver-license): 4 kept
            radius: 4,
            band_inner: 1.5,
            band_outer: 2.5,
            band_outer_plain: 4.0,
            band_inner_plain: 2.0,
            sharpen: 2.0,
            eps: 1e-4,
            min_contrast: 0.03,
            // 0.25 lowers the p3m band SAD a little more (`--sweep`), but together with
            // radius 6 the crown moves by more than a pixel between a full and a reduced
            // decode (pipeline test small_face_in_a_large_photo_is_decoded_finer)
            spread: 0.5,
            clip: 0.05,
            // 0.15: lower p3m band SAD than 0.05 / 0.1 (`matting-eval --sweep`), and no faint
            // remnants of a busy background around the hair
            clip_busy: 0.15,
            // 1 px: lowest p3m contour-band SAD and gradient error of 0, 1 and 2 px
            // (`matting-eval`)
            feather: 1.0,
        }
    }
}

/// What the refinement learned about the photo.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MatteInfo {
    /// The background is a near-uniform wall; its mean colour (sRGB).
    pub plain_background: Option<[u8; 3]>,
    /// Share of background pixels next to the person that differ clearly from the local
    /// mean background colour (texture, objects): 0 plain .. 1 busy.
    pub background_clutter: f32,
    /// Share of the lower (clothing) contour where person and background colours are too
    /// close to separate by colour.
    pub low_contrast_clothing: f32,
}

impl MatteInfo {
    /// The background is too busy to separate the person reliably.
    pub fn cluttered(&self) -> bool {
        self.background_clutter > 0.35
    }
    /// The clothing is close to the background colour.
    pub fn clothing_like_background(&self) -> bool {
        self.low_contrast_clothing > 0.3
    }
}

impl MatteInfo {
    /// Report notices (warnings) for what the refinement found.
    pub fn notices(&self) -> Vec<crate::report::Notice> {
        let mut out = Vec::new();
        if self.cluttered() {
            out.push(crate::report::Notice::new(
                "background.cluttered",
                "背景杂乱, 人像边缘可能分离不准确; 请在纯色墙前重拍",
                "the background is too cluttered to separate the person reliably: retake in front of a plain wall",
            ));
        }
        if self.clothing_like_background() {
            out.push(crate::report::Notice::new(
                "clothing.like_background",
                "衣服颜色与背景接近, 边缘可能不准确",
                "the clothing is close to the background colour: its outline may be inaccurate",
            ));
        }
        out
    }
}
