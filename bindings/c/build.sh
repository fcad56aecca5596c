#!/usr/bin/env bash
# Builds libidphoto into an install prefix (default target/c/, or PREFIX=/some/dir):
#   include/idphoto.h
#   lib/libidphoto.so -> libidphoto.so.<abi> -> libidphoto.so.<version>   (soname libidphoto.so.<abi>)
#   lib/libidphoto.a
#   lib/pkgconfig/idphoto.pc          shared library; static link flags in Libs.private
#   lib/pkgconfig/idphoto-static.pc   the static archive and the system libraries it needs
# (-z noexecstack: one of tract's assembly kernels lacks the GNU-stack note, which would
# otherwise give a statically linked program an executable stack)
# Uses cargo only (nothing is downloaded beyond the crate registry).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
prefix=${PREFIX:-$root/target/c}
target_dir=${CARGO_TARGET_DIR:-$root/target}
abi=$(tr -d '[:space:]' < bindings/c/abi-version)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)

# one rustc run makes the shared and the static library; it prints the system libraries the
# static one needs only when it compiles, so the list is kept beside the build
native_file="$target_dir/release/idphoto-native-static-libs"
out=$(cargo rustc -p idphoto-c --release --lib -- --print native-static-libs 2>&1) || {
    echo "$out" >&2
    exit 1
}
native=$(echo "$out" | sed -n 's/.*native-static-libs: //p' | tail -n1)
if [ -n "$native" ]; then
    echo "$native" > "$native_file"
elif [ -s "$native_file" ]; then
    native=$(cat "$native_file")
else
    cargo clean -p idphoto-c --release
    out=$(cargo rustc -p idphoto-c --release --lib -- --print native-static-libs 2>&1)
    native=$(echo "$out" | sed -n 's/.*native-static-libs: //p' | tail -n1)
    echo "$native" > "$native_file"
fi

mkdir -p "$prefix/include" "$prefix/lib/pkgconfig"
install -m 644 bindings/c/include/idphoto.h "$prefix/include/idphoto.h"
install -m 755 "$target_dir/release/libidphoto.so" "$prefix/lib/libidphoto.so.$version"
# the symbol table of the Rust internals is not needed to link or run (the exported
# idphoto_* functions are dynamic symbols and stay)
strip --strip-unneeded "$prefix/lib/libidphoto.so.$version"
ln -sf "libidphoto.so.$version" "$prefix/lib/libidphoto.so.$abi"
ln -sf "libidphoto.so.$abi" "$prefix/lib/libidphoto.so"
install -m 644 "$target_dir/release/libidphoto.a" "$prefix/lib/libidphoto.a"

pc_head="prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include
"
cat > "$prefix/lib/pkgconfig/idphoto.pc" <<PC
${pc_head}
Name: idphoto
Description: Make ID photos that meet official specs, and check them
Version: $version
Libs: -L\${libdir} -lidphoto
Libs.private: $native -Wl,-z,noexecstack
Cflags: -I\${includedir}
PC
cat > "$prefix/lib/pkgconfig/idphoto-static.pc" <<PC
${pc_head}
Name: idphoto-static
Description: idphoto linked statically
Version: $version
Libs: \${libdir}/libidphoto.a $native -Wl,-z,noexecstack
Cflags: -I\${includedir}
PC
echo "libidphoto $version (ABI $abi) installed in $prefix"
