#!/usr/bin/env bash
# The cost of calling idphoto through its C ABI: idphoto_process from C against
# Engine::process from Rust (the same photo, spec and work), alternated ROUNDS times, each
# process pinned to one core. Usage: benches/call-overhead.sh [PHOTO [SPEC [N [ROUNDS]]]]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
photo=${1:-fixtures/photos/obama.jpg}
spec=${2:-cn-id-card}
runs=${3:-20}
rounds=${4:-5}
target=${CARGO_TARGET_DIR:-$root/target}
PREFIX=$target/c bindings/c/build.sh > /dev/null
cargo build --release -p idphoto-benches --bin call-overhead --quiet
export PKG_CONFIG_PATH=$target/c/lib/pkgconfig
cc -O2 -std=c99 benches/c/call_overhead.c $(pkg-config --cflags --libs idphoto) -o "$target/c-call-overhead"
for ((r = 1; r <= rounds; r++)); do
    LD_LIBRARY_PATH=$target/c/lib taskset -c 0 "$target/c-call-overhead" "$photo" "$spec" "$runs"
    taskset -c 0 "$target/release/call-overhead" "$photo" "$spec" "$runs"
done
