//! The engine every bench of this binary uses: created once, its networks planned up front.

use std::sync::OnceLock;

/// The shared engine, with [`idphoto::Engine::warm_up`] done.
pub fn engine() -> &'static idphoto::Engine {
    static ENGINE: OnceLock<idphoto::Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let engine = idphoto::Engine::new().expect("models");
        engine.warm_up().expect("models");
        engine
    })
}
