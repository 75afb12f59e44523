#!/usr/bin/env bash
# Configures and builds with every core.
#   scripts/build.sh release   -> build/release (optimised service, no tests)   [default]
#   scripts/build.sh test      -> build/test    (Debug -O1 -g1, unity, ASan+UBSan, test hooks, tests)
#   scripts/build.sh KIND TARGET...  builds only the named targets (the chaos runs need only the
#                                    service: minutes instead of half an hour on a fresh machine)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

kind=${1:-release}
shift || true
targets=()
for t in "$@"; do targets+=(--target "$t"); done
case $kind in
  release)
    dir=build/release
    args=(-DCMAKE_BUILD_TYPE=Release -DTK_BUILD_TESTS=OFF) ;;
  test)
    # Unity batches of 8 sources: the coroutine-heavy test and adapter sources instantiate the same
    # Asio and Beast templates, which a batch compiles once (four integration tests: 45% of the CPU
    # time of compiling them one by one). Line tables only (-g1): sanitizer reports keep files and
    # lines.
    dir=build/test
    args=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1 -DCMAKE_CXX_FLAGS_DEBUG=-g1
          -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=8
          -DTK_SANITIZE=ON -DTK_TEST_HOOKS=ON) ;;
  *) echo "usage: $0 [release|test]" >&2; exit 2 ;;
esac

jobs=$(nproc 2>/dev/null || echo 2)
echo "==> cmake configure $dir"
cmake -S . -B "$dir" -G Ninja "${args[@]}"
echo "==> cmake build $dir (-j$jobs)"
cmake --build "$dir" -j"$jobs" "${targets[@]}"
