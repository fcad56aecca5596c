//! The panic guard around the decoders: a panic inside `image`, zune-jpeg, jpeg-decoder or
//! moxcms becomes [`Error::Decode`] instead of unwinding into the caller.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, Result};

/// Run `f`, converting a panic inside a decoder into [`Error::Decode`].
pub(super) fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(Error::Decode(format!("decoder panicked: {msg}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_decode_errors() {
        let r: Result<()> = guard(|| panic!("boom"));
        assert_eq!(r, Err(Error::Decode("decoder panicked: boom".into())));
    }
}
