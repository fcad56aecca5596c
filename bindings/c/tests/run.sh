#!/usr/bin/env bash
# The C library's tests: builds the install prefix (build.sh), checks the header as C99 and
# C++, builds the example and the test programs against the shared and the static library
# with pkg-config, compares the C output with the Rust command line's byte for byte, runs the
# API test under valgrind and AddressSanitizer and the threaded test natively.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
c_dir=bindings/c
prefix=${PREFIX:-$root/target/c}
work=${CARGO_TARGET_DIR:-$root/target}/c-tests
fixtures=$root/fixtures/photos
mkdir -p "$work"

PREFIX=$prefix "$c_dir/build.sh"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export LD_LIBRARY_PATH=$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
cflags=(-O2 -g -Wall -Wextra -Werror)

echo "--- header: C99 and C++, warnings are errors"
printf '#include <idphoto.h>\nint main(void) { return idphoto_abi_version() == IDPHOTO_ABI_VERSION ? 0 : 1; }\n' > "$work/header.c"
cc -std=c99 -pedantic "${cflags[@]}" $(pkg-config --cflags idphoto) -c "$work/header.c" -o "$work/header_c.o"
c++ -x c++ -std=c++11 -pedantic "${cflags[@]}" $(pkg-config --cflags idphoto) -c "$work/header.c" -o "$work/header_cpp.o"
c++ "$work/header_cpp.o" $(pkg-config --libs idphoto) -o "$work/header_cpp"
"$work/header_cpp"

echo "--- exported symbols of the shared library"
others=$(nm -D --defined-only "$prefix/lib/libidphoto.so" | awk '$2 ~ /^[TDBR]$/ {print $3}' | grep -v '^idphoto_' || true)
if [ -n "$others" ]; then
    echo "symbols other than idphoto_* are exported:" >&2
    echo "$others" | head >&2
    exit 1
fi
readelf -d "$prefix/lib/libidphoto.so" | grep -q "SONAME.*libidphoto.so.$(cat $c_dir/abi-version)"

echo "--- build against the shared and the static library"
for prog in examples/make_id_photo tests/test_api tests/test_threads; do
    name=$(basename "$prog")
    cc -std=c99 "${cflags[@]}" $(pkg-config --cflags idphoto) "$c_dir/$prog.c" \
        $(pkg-config --libs idphoto) -lpthread -o "$work/$name"
    cc -std=c99 "${cflags[@]}" $(pkg-config --cflags idphoto-static) "$c_dir/$prog.c" \
        $(pkg-config --libs idphoto-static) -lpthread -o "$work/${name}_static"
done
if ldd "$work/test_api_static" | grep -q libidphoto; then
    echo "the static build links libidphoto.so" >&2
    exit 1
fi

echo "--- the C output equals the Rust output"
cargo build --release -p idphoto-cli --quiet
rust_cli=${CARGO_TARGET_DIR:-$root/target}/release/idphoto
"$rust_cli" make "$fixtures/obama.jpg" --spec cn-id-card -o "$work/rust.jpg" > /dev/null
"$work/make_id_photo" "$fixtures/obama.jpg" "$work/c_shared.jpg" cn-id-card
"$work/make_id_photo_static" "$fixtures/obama.jpg" "$work/c_static.jpg" cn-id-card
cmp "$work/rust.jpg" "$work/c_shared.jpg"
cmp "$work/rust.jpg" "$work/c_static.jpg"

echo "--- API test, shared and static"
"$work/test_api" "$fixtures"
"$work/test_api_static" "$fixtures"

echo "--- threads: 4 threads, one engine, 40 photos"
"$work/test_threads" "$fixtures"

echo "--- API test under valgrind (the library unstripped, for the suppressions' names)"
mkdir -p "$work/unstripped"
cp "${CARGO_TARGET_DIR:-$root/target}/release/libidphoto.so" "$work/unstripped/libidphoto.so.$(cat $c_dir/abi-version)"
LD_LIBRARY_PATH=$work/unstripped valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite \
    --error-exitcode=1 --suppressions="$c_dir/tests/valgrind.supp" "$work/test_api" "$fixtures"

echo "--- API test under AddressSanitizer"
cc -std=c99 "${cflags[@]}" -fsanitize=address -fno-omit-frame-pointer $(pkg-config --cflags idphoto) \
    "$c_dir/tests/test_api.c" $(pkg-config --libs idphoto) -o "$work/test_api_asan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$work/test_api_asan" "$fixtures"
echo "--- C library: all tests passed"
