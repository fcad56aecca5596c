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
