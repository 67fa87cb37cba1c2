#!/usr/bin/env bash
# Fuzzes each file reader for a bounded time under AddressSanitizer + UndefinedBehaviorSanitizer
# with the deterministic mutation harness tests/fuzz/fuzz.cpp, on the seeds in tests/fuzz/corpus/.
#
#   tests/fuzz/run.sh [seconds per target, default 30] [target ...]
#
# Case i of a target always gets the same mutations; LRM_FUZZ_MAX_CASES caps the cases per target
# (cases 0..N-1), e.g. to repeat exactly the cases of a slower machine.
#
# Targets: activations (localize/compare inputs), netcdf (brain data), mat, image (PNG/JPEG),
# csv (stimulus manifests), toml (analysis files). Builds the torch-free core with the sanitizers
# in LRM_FUZZ_BUILD (default build-sanitize, the folder scripts/test.sh uses) and links lrm_fuzz
# against it. A crash or hang ends the harness; the script keeps the case and restarts after it.
# Each reader first reads the fixed findings in tests/fuzz/regressions/<target>/ as they are.
# Prints one line per target; exits 1 when any target has a finding (an exception other than
# InputError, a sanitizer report, a crash or a hang). Findings are kept in LRM_FUZZ_OUT (default
# $LRM_FUZZ_BUILD/fuzz-findings).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(activations netcdf mat image csv toml)
build=${LRM_FUZZ_BUILD:-build-sanitize}
out=${LRM_FUZZ_OUT:-$build/fuzz-findings}

if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLRM_WITH_TORCH=OFF \
    -DLRM_SANITIZE=ON >/dev/null
fi
ninja -C "$build" -j"$(nproc)" lrm_core >/dev/null
# The harness is compiled as the core is and linked with the core tests' libraries (not gtest).
if [ ! -x "$build/lrm_fuzz" ] || [ tests/fuzz/fuzz.cpp -nt "$build/lrm_fuzz" ] ||
  [ "$build/liblrm_core.a" -nt "$build/lrm_fuzz" ]; then
  flags=$(python3 - "$build" <<'PY'
import json, shlex, sys
for entry in json.load(open(sys.argv[1] + "/compile_commands.json")):
    if entry["file"].endswith("src/io/neural_responses.cpp"):
        args = shlex.split(entry["command"])[1:]
        keep, skip = [], False
        for a in args:
            if skip:
                skip = False
            elif a in ("-o", "-c"):
                skip = True
            else:
                keep.append(a)
        print(" ".join(shlex.quote(a) for a in keep))
        break
PY
)
  libs=$(awk '/^build lrm_core_tests[ :]/{f=1} f && /LINK_LIBRARIES =/{sub(/.*LINK_LIBRARIES = /,""); print; exit}' \
    "$build/build.ninja" | sed 's#[^ ]*libgtest[^ ]*##g')
  (cd "$build" && eval c++ "$flags" -fsanitize=address,undefined -o lrm_fuzz \
    "$PWD/../tests/fuzz/fuzz.cpp" $libs)
fi

mkdir -p "$out"
failed=0
# Allocations past 2 GiB fail (return null) as they do without the sanitizer on a corrupt size,
# instead of ASan poisoning gigabytes; a short HDF5 check limit keeps hangs cheap.
sanitizer_env=(ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1:max_allocation_size_mb=2048
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 LRM_H5_CHECK_SECONDS=2)
for target in "${targets[@]}"; do
  # First the fixed findings of this reader, each read once as it is.
  regressions=()
  for f in tests/fuzz/regressions/"$target"/*; do
    [ -f "$f" ] && [ "${f%.py}" = "$f" ] && regressions+=("$f")
  done
  if [ ${#regressions[@]} -gt 0 ]; then
    rc=0
    env "${sanitizer_env[@]}" "$build/lrm_fuzz" "$target" --replay "${regressions[@]}" \
      >"$out/regressions-$target.log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
      echo "crash: $target regressions (exit $rc): $(grep -m1 -E 'ERROR|runtime error|hang|finding' \
        "$out/regressions-$target.log" || tail -n 1 "$out/regressions-$target.log")"
      failed=1
    else
      tail -n 1 "$out/regressions-$target.log"
    fi
  fi
  work=$(mktemp -d)
  # Manifests name images beside them.
  cp tests/fuzz/corpus/image/* "$work/"
  cases=0 accepted=0 refused=0 findings=0 isolated=0 crashes=0 next=0
  start=$SECONDS
  while :; do
    left=$((seconds - (SECONDS - start)))
    [ "$left" -le 0 ] && break
    rc=0
    env "${sanitizer_env[@]}" "$build/lrm_fuzz" "$target" "tests/fuzz/corpus/$target" \
      "$work" "$left" "$next" $((${LRM_FUZZ_MAX_CASES:-1000000000} - next)) >"$work/log" 2>&1 ||
      rc=$?
    grep '^finding:' "$work/log" || true
    if [ "$rc" -le 1 ] && tail -n 1 "$work/log" | grep -q "^$target cases "; then
      read -r _ _ c _ a _ r _ f _ s _ _ < <(tail -n 1 "$work/log")
      cases=$((cases + c)) accepted=$((accepted + a)) refused=$((refused + r))
      findings=$((findings + f)) isolated=$((isolated + s))
      cp "$work"/finding-* "$out/" 2>/dev/null || true
      break
    fi
    # A crash, a sanitizer report or a hang: keep the case and the report, go on after it.
    case_file=$(head -n 1 "$work/current")
    read -r c a r f s < <(sed -n 2p "$work/current")
    cases=$((cases + c)) accepted=$((accepted + a)) refused=$((refused + r))
    findings=$((findings + f)) isolated=$((isolated + s))
    crashes=$((crashes + 1))
    cp "$case_file" "$out/crash-$target-$(basename "$case_file")"
    cp "$work/log" "$out/crash-$target-$(basename "$case_file").log"
    echo "crash: $target $(basename "$case_file") (exit $rc): $(grep -m1 -E 'ERROR|runtime error|hang' "$work/log" || tail -n 1 "$work/log")"
    n=$(basename "$case_file")
    n=${n#case}
    next=$((${n%%-*} + 1))
  done
  rm -rf "$work"
  echo "fuzz $target: $cases mutations, $accepted accepted, $refused refused" \
    "($isolated of them isolated HDF5 faults or hangs), $findings findings, $crashes crashes"
  [ $((findings + crashes)) -eq 0 ] || failed=1
done
exit $failed
