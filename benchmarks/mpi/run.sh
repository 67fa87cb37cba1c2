#!/usr/bin/env bash
# `lrm localize` and `lrm compare encode` on 1 process vs `mpirun -n 2` on the same data (one
# thread per rank), then benchmarks/mpi/extract.sh when `lrm extract` runs under mpirun. Prints the
# wall times, the parallel efficiency T1 / (2 T2), whether the result files are equal (h5diff), and
# the per-rank throughput the README's scaling model starts from.
# Usage: benchmarks/mpi/run.sh [path/to/lrm] [stimuli] [units]   (default 1500 x 80,000)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lrm=$(realpath "${1:-$here/../../build/lrm}")
stimuli=${2:-1500}
units=${3:-80000}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
work=$(mktemp -d /tmp/lrm_bench_mpi.XXXXXX)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$here/make_data.py" "$work" "$stimuli" "$units"
"$lrm" --quiet --seed 1 compare simulate --activations "$work/compare.h5" --layer a --pass 0 \
  --neuroids 400 --repetitions 4 --out "$work/sim.h5"

now() { date +%s.%N; }
# bench NAME TOP MB ARGS...: times 1 process and 2 ranks, checks the files are equal.
bench() {
  local name=$1 top=$2 mb=$3
  shift 3
  local t0 t1 t2
  t0=$(now)
  "$lrm" --quiet --threads 1 "$@" --out "$work/$name.1.h5"
  t1=$(now)
  mpirun --allow-run-as-root --oversubscribe --bind-to none -n 2 "$lrm" --quiet --threads 1 "$@" \
    --out "$work/$name.2.h5"
  t2=$(now)
  local same
  same=$(h5diff -q "$work/$name.1.h5" "$work/$name.2.h5" "$top" "$top" >/dev/null && echo yes || echo NO)
  awk -v n="$name" -v a="$(echo "$t1 - $t0" | bc)" -v b="$(echo "$t2 - $t1" | bc)" -v mb="$mb" \
      -v same="$same" 'BEGIN {
    printf "%-8s 1 process %6.2f s (%5.0f MB/s)   mpirun -n 2 %6.2f s   speed-up %.2fx, efficiency %3.0f%%   same: %s\n",
           n, a, mb / a, b, a / b, 50 * a / b, same }'
}

loc_mb=$(du -m "$work/localize.h5" | cut -f1)
cmp_mb=$(du -m "$work/compare.h5" | cut -f1)
echo "data: localize $stimuli x $units ($loc_mb MB), encode 400 stimuli x 4 layers x 2 passes ($cmp_mb MB), 400 neuroids"
bench localize /localizer "$loc_mb" localize --activations "$work/localize.h5" --target all
bench encode /encoding "$cmp_mb" --seed 1 compare encode --activations "$work/compare.h5" \
  --brain "$work/sim.h5:/responses" --regression ridge --splits 3
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(getconf _NPROCESSORS_ONLN) cores"

# extract: only once lrm extract splits its stimuli under mpirun (benchmarks/mpi/extract.sh).
if [ -x "$here/extract.sh" ] && [ -x "$(dirname "$lrm")/lrm-torch" ]; then
  "$here/extract.sh" "$lrm" || echo "extract under mpirun: not available in this build"
fi
