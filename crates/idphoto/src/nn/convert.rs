//! ONNX to the converted form ([`convert`]): each network parsed, rewritten for the own
//! operators, typed and decluttered once, with a symbolic input size, and written as a
//! [`bundle`](super::bundle) of packed NNEF forms. The library's build converts its embedded
//! networks so (the test `converted_models_are_current` checks the files against their ONNX
//! models); [`Models::from_onnx`](super::Models::from_onnx) converts others.

use super::bundle;
use super::model::{Fit, Model};
use super::source::{Conversion, Source};
use crate::error::Result;

/// Which of the library's networks an ONNX model is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Network {
    /// The face detector: both forms, any sides that are multiples of 16.
    Detector,
    /// The landmark model: its 192x192 input only.
    Landmarker,
    /// A segmentation network exported for this NHWC height and width: both forms, any
    /// sides that are multiples of 32.
    Segmenter([usize; 2]),
}

/// The converted file of the ONNX model `onnx`.
pub(crate) fn convert(onnx: &[u8], network: Network) -> Result<Vec<u8>> {
    let conversion = |size_free, transposed, fixed, multiple| Conversion {
        size_free,
        transposed,
        fixed,
        multiple,
    };
    let conversions = match network {
        Network::Detector => vec![
            conversion(false, false, None, 16),
            conversion(false, true, None, 16),
        ],
        Network::Landmarker => vec![conversion(false, false, Some([192, 192]), 1)],
        Network::Segmenter([h, w]) => {
            // at its exported size, each `Resize` of the decoder must prove to be a 2x
            // upsampling, which the size-free forms take it as
            Model::load_with(onnx, [1, h, w, 3], Fit::Exported)?;
            vec![
                conversion(true, false, None, 32),
                conversion(true, true, None, 32),
            ]
        }
    };
    let forms = conversions
        .into_iter()
        .map(|c| Source::from_onnx(onnx, c)?.pack())
        .collect::<Result<Vec<_>>>()?;
    bundle::write(&forms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::builtin;

    /// The embedded converted networks are the conversion of the ONNX models beside them
    /// ([`Models::from_onnx`](crate::nn::Models::from_onnx), the same bytes every time).
    /// `IDPHOTO_BLESS=1` writes them anew.
    #[test]
    fn converted_models_are_current() {
        let convert_all = || {
            crate::nn::Models::from_onnx(
                builtin::FACE_DETECTION_ONNX,
                builtin::FACE_LANDMARK_ONNX,
                builtin::SELFIE_SEGMENTATION_ONNX,
                builtin::SELFIE_SEGMENTATION_LANDSCAPE_ONNX,
            )
            .unwrap()
        };
        let (converted, again) = (convert_all(), convert_all());
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        let cases = [
            (
                &converted.face_detection,
                &again.face_detection,
                "face_detection_short_range.idnn",
                builtin::FACE_DETECTION,
            ),
            (
                &converted.face_landmark,
                &again.face_landmark,
                "face_landmark.idnn",
                builtin::FACE_LANDMARK,
            ),
            (
                &converted.selfie_segmentation,
                &again.selfie_segmentation,
                "selfie_segmentation.idnn",
                builtin::SELFIE_SEGMENTATION,
            ),
            (
                &converted.selfie_segmentation_landscape,
                &again.selfie_segmentation_landscape,
                "selfie_segmentation_landscape.idnn",
                builtin::SELFIE_SEGMENTATION_LANDSCAPE,
            ),
        ];
        let bless = std::env::var_os("IDPHOTO_BLESS").is_some();
        for (converted, again, file, embedded) in cases {
            assert!(converted == again, "{file}: another conversion differs");
            if bless {
                std::fs::write(dir.join(file), converted.as_ref()).unwrap();
            } else {
                assert!(
                    converted.as_ref() == embedded,
                    "{file} is not the conversion of its ONNX model: run \
                     `IDPHOTO_BLESS=1 cargo test --release -p idphoto converted_models_are_current`"
                );
            }
        }
    }

    #[test]
    fn a_segmenter_whose_exported_size_is_wrong_is_refused() {
        // the landscape network's resizes are not 2x upsamplings at 256x256
        let err = convert(
            builtin::SELFIE_SEGMENTATION_LANDSCAPE_ONNX,
            Network::Segmenter([256, 256]),
        )
        .err()
        .unwrap();
        assert_eq!(err.code(), "model_error");
    }
}
