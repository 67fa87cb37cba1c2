#!/usr/bin/env bash
# The test suite: installs what is missing, builds, runs every test with CTest, then builds the
# torch-free core with AddressSanitizer + UndefinedBehaviorSanitizer and runs its tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 1500
# The Python package (build/python/lrmsuite) with Debian's interpreter, which has numpy, xarray,
# scipy and scikit-learn.
PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=build/python /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/python

cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLRM_WITH_TORCH=OFF -DLRM_SANITIZE=ON >/dev/null
ninja -C build-sanitize -j"$(nproc)" lrm_core_tests
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-sanitize --output-on-failure -j"$(nproc)" --timeout 1500

# Fuzzing: the fixed findings, then every file reader for 30 s under the sanitizers (about 3.5
# minutes with the build). Case i is the same on any machine; a faster one reaches further.
tests/fuzz/run.sh 30
