//! What each failing rule tells the user to do, in Chinese and English.

/// The advice for a failing rule `code` whose value is below its minimum (`low`) or above its
/// maximum: (Chinese, English).
// Size: one table, an arm per rule and direction; splitting it would only scatter it.
pub(super) fn advice(code: &str, low: bool) -> (&'static str, &'static str) {
    match (code, low) {
        ("geometry.head_height", true) => (
            "头部太小: 请靠近镜头或重新裁剪",
            "Head too small: move closer or crop tighter",
        ),
        ("geometry.head_height", false) => (
            "头部太大: 请离镜头远一些或重新裁剪",
            "Head too large: step back or crop wider",
        ),
        ("geometry.face_width", true) => (
            "脸部太窄: 请靠近镜头或重新裁剪",
            "Face too narrow in the frame: move closer or crop tighter",
        ),
        ("geometry.face_width", false) => (
            "脸部太宽: 请离镜头远一些或重新裁剪",
            "Face too wide in the frame: step back or crop wider",
        ),
        ("geometry.crown_margin", true) => (
            "头顶离上边缘太近: 请下移人像",
            "Top of the head too close to the top edge: move the head down",
        ),
        ("geometry.crown_margin", false) => (
            "头顶上方留白太多: 请上移人像",
            "Too much space above the head: move the head up",
        ),
        ("geometry.chin_margin", true) => ("下巴离下边缘太近", "Chin too close to the bottom edge"),
        ("geometry.chin_margin", false) => ("下巴下方留白太多", "Too much space below the chin"),
        ("geometry.eye_line_from_top", true) | ("geometry.eye_line_from_bottom", false) => (
            "眼睛位置太高: 请下移人像",
            "Eyes too high in the frame: move the head down",
        ),
        ("geometry.eye_line_from_top", false) | ("geometry.eye_line_from_bottom", true) => (
            "眼睛位置太低: 请上移人像",
            "Eyes too low in the frame: move the head up",
        ),
        ("geometry.eye_mid_x", true) => ("人像偏左: 请水平居中", "Face left of centre: centre it"),
        ("geometry.eye_mid_x", false) => {
            ("人像偏右: 请水平居中", "Face right of centre: centre it")
        }
        ("geometry.inter_eye", true) => (
            "两眼间距太小: 请靠近镜头",
            "Eyes too close together in the frame: move closer",
        ),
        ("geometry.inter_eye", false) => (
            "两眼间距太大: 请离镜头远一些",
            "Eyes too far apart in the frame: step back",
        ),
        ("file.width", _) | ("file.height", _) => (
            "像素尺寸不符合要求: 请按规格重新输出",
            "Pixel size does not match the spec: export again at the spec's size",
        ),
        ("file.dpi", _) => (
            "分辨率(DPI)不符合要求: 请按规格重新输出",
            "DPI does not match the spec: export again with the spec's DPI",
        ),
        ("file.kb_window", true) => (
            "文件太小: 请提高 JPEG 质量",
            "File too small: raise the JPEG quality",
        ),
        ("file.kb_window", false) => (
            "文件太大: 请降低 JPEG 质量",
            "File too large: lower the JPEG quality",
        ),
        ("pose.roll", _) => (
            "头部倾斜: 请保持头部端正, 双眼水平",
            "Head tilted: hold the head straight with the eyes level",
        ),
        ("pose.yaw", _) => (
            "脸部没有正对镜头: 请正视镜头",
            "Face turned sideways: look straight at the camera",
        ),
        ("background.color", _) => (
            "背景颜色不符合要求: 请更换为规定底色",
            "Background colour differs from the spec: replace the background",
        ),
        ("pose.pitch", false) => (
            "头部上仰: 请平视镜头",
            "Chin raised: look straight into the camera",
        ),
        ("pose.pitch", true) => (
            "头部低垂: 请平视镜头",
            "Head bowed: look straight into the camera",
        ),
        ("expression.eyes_open", _) => (
            "眼睛未睁开: 请睁大双眼",
            "Eyes not open: keep both eyes open",
        ),
        ("expression.mouth_closed", _) => (
            "嘴巴张开: 请闭上嘴, 保持自然表情",
            "Mouth open: close the mouth, neutral expression",
        ),
        ("crop.leftward", _) | ("crop.rightward", _) => (
            "脸部太靠近左右边缘: 请水平居中",
            "Face too close to a side edge: centre it",
        ),
        ("crop.margin_above", _) => ("头部上方空间不足", "Too little space above the eyes"),
        ("crop.margin_below", _) => ("下巴下方空间不足", "Too little space below the eyes"),
        ("crop.head_size", true) => ("头部太小", "Head too small in the frame"),
        ("crop.head_size", false) => ("头部太大", "Head too large in the frame"),
        ("background.uniformity", _) => (
            "背景不均匀或有纹理: 请在纯色墙前拍摄",
            "Background not plain: stand in front of a plain wall",
        ),
        ("background.shadow", _) => (
            "背景有阴影或明暗不均: 请离墙远一些并均匀照亮背景",
            "Shadow or uneven light on the background: step away from the wall, light it evenly",
        ),
        ("face.count", true) => (
            "未检测到人脸: 请使用正面、清晰的本人照片",
            "No face found: use a clear, frontal photo of yourself",
        ),
        ("face.count", false) => (
            "照片中有多张人脸: 照片中只能有本人",
            "More than one face: only you may be in the photo",
        ),
        ("lighting.balance", _) => (
            "脸部一侧明显偏暗 (阴阳脸): 请面向光源, 让光线均匀照亮两侧脸颊",
            "One side of the face is much darker: face the light so both cheeks are lit evenly",
        ),
        ("lighting.highlights", _) => (
            "照片曝光不足: 请在更明亮的光线下拍摄",
            "Photo underexposed: take it in brighter light",
        ),
        ("lighting.clipping", _) => (
            "脸部过曝, 细节丢失: 请避免强光直射或闪光灯",
            "Face overexposed, detail lost: avoid direct sun or flash",
        ),
        ("lighting.uniformity", _) => (
            "光线不均匀, 请面向窗户拍摄",
            "Uneven light on the face: face a window",
        ),
        ("lighting.face_luminance", true) | ("lighting.underexposure", _) => (
            "脸部太暗: 请在更明亮的光线下拍摄",
            "Face too dark: take the photo in brighter light",
        ),
        ("lighting.face_luminance", false) | ("lighting.overexposure", _) => (
            "脸部过曝: 请避免强光直射或闪光灯",
            "Face overexposed: avoid direct sun or flash",
        ),
        ("lighting.dynamic_range", _) => (
            "脸部层次太少: 请调整光线后重拍",
            "Too few tones on the face: retake with better light",
        ),
        ("image.sharpness", _) => (
            "照片模糊: 请对焦并保持相机稳定",
            "Photo blurred: focus and hold the camera still",
        ),
        ("image.compression", _) => (
            "压缩痕迹明显: 请使用原图或更高质量保存",
            "Heavy compression artefacts: use the original or save at higher quality",
        ),
        ("image.damage", _) => (
            "照片文件已损坏(色带错位, 重复或灰色区块): 请使用原始照片",
            "The photo file is damaged (shifted colour bands, repeated or grey blocks): use the original photo",
        ),
        ("image.noise", _) => (
            "噪点太多: 请在更明亮的光线下拍摄",
            "Too much noise: take the photo in brighter light",
        ),
        ("color.cast", _) => (
            "肤色偏色: 请关闭滤镜, 在自然光下拍摄",
            "Unnatural skin colour: turn filters off, use daylight",
        ),
        ("glasses.glare", _) => (
            "眼镜反光: 请调整角度或摘下眼镜",
            "Glare on glasses: tilt them slightly or take them off",
        ),
        ("hair.eyebrows_visible", _) => (
            "头发可能遮挡眉毛: 请露出眉毛",
            "Hair may cover the eyebrows: keep them visible",
        ),
        ("ears.visible", _) => (
            "耳朵可能被遮挡: 请露出双耳",
            "Ears may be hidden: keep both ears visible",
        ),
        ("face.source_resolution", _) => (
            "原图人脸分辨率太低: 请使用更清晰的照片或靠近镜头",
            "Face resolution in the original too low: use a sharper photo or move closer",
        ),
        _ => ("不符合要求", "Out of range"),
    }
}
