//! Consistency checks for [`Spec`](super::Spec).

use super::Spec;
use crate::error::Result;

/// Validates a spec; errors name the offending field.
pub(super) fn validate(spec: &Spec) -> Result<()> {
    spec.background.default_color()?;
    Ok(())
}
