//! Gives the shared library its soname (`libidphoto.so.<ABI version>`), so that programs
//! linked against it find the ABI they were built for.

fn main() {
    let abi = include_str!("abi-version").trim();
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libidphoto.so.{abi}");
    }
    println!("cargo:rerun-if-changed=abi-version");
}
