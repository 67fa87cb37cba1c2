#!/bin/sh
# RSA benchmarks (issue 13): CKA of 5,000 x 50,000 representations and bootstrap inference of 20
# models x 1,000 resamples on 92 stimuli, lrm vs numpy on the same data, ratio printed.
# Usage: benchmarks/rsa/run.sh [build/lrm] [--stimuli N --units P]   (from the repository root)
set -e
LRM=${1:-build/lrm}
[ $# -gt 0 ] && shift
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2
WORK=$(mktemp -d /tmp/lrm_bench_rsa.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
/usr/bin/python3 benchmarks/rsa/bench.py "$LRM" "$WORK" "$@"
/usr/bin/python3 benchmarks/rsa/bench_cka.py "$LRM" "$WORK" "$@"
