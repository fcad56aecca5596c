//! The built-in catalogue of specs, embedded from `presets.json`.

use std::sync::OnceLock;

use super::Spec;
use crate::error::{Error, Result};

pub(super) const PRESETS_JSON: &str = include_str!("presets.json");

/// All built-in presets, parsed once. The embedded JSON is checked by the unit tests (strict
/// parse and validation of every preset), so the empty fallback cannot ship.
pub fn all() -> &'static [Spec] {
    static ALL: OnceLock<Vec<Spec>> = OnceLock::new();
    ALL.get_or_init(|| {
        let specs: Vec<Spec> = serde_json::from_str(PRESETS_JSON).unwrap_or_default();
        specs
    })
}

/// A built-in preset by id.
pub fn get(id: &str) -> Result<Spec> {
    all()
        .iter()
        .find(|s| s.id == id)
        .cloned()
        .ok_or_else(|| Error::UnknownSpec(id.to_string()))
}

/// Every built-in preset as one JSON array of spec documents (the schema
/// [`Spec::from_json`] reads): ids, names in Chinese and English, pixel sizes, DPI, file-size
/// window, backgrounds, geometry and sources. What bindings hand to a user interface.
pub fn all_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| serde_json::to_string(all()).unwrap_or_else(|_| "[]".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_as_json_reads_back() {
        let specs: Vec<Spec> = serde_json::from_str(all_json()).unwrap();
        assert_eq!(specs.len(), all().len());
        assert_eq!(specs[0].id, all()[0].id);
        assert_eq!(
            Spec::from_id_or_json(" cn-id-card ").unwrap().id,
            "cn-id-card"
        );
        let json = get("us-visa").unwrap().to_json();
        assert_eq!(
            Spec::from_id_or_json(&format!("\n {json}")).unwrap().id,
            "us-visa"
        );
        assert_eq!(
            Spec::from_id_or_json("nope").unwrap_err().code(),
            "unknown_spec"
        );
        assert_eq!(
            Spec::from_id_or_json("{ broken").unwrap_err().code(),
            "invalid_spec"
        );
    }
}
