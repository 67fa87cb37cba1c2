#!/usr/bin/env bash
# Extraction of every layer (outputs, <dest>:pre, <dest>:F) of AlexNet-LRM3 (random weights) for
# 2 passes on 512 JPEGs of 224×224: `lrm extract` vs PyTorch forward hooks + h5py, same threads,
# same chunking and compression. Both decode the same JPEGs; wall time of each whole command.
# Usage: benchmarks/extract/run.sh [path/to/lrm] [threads] [images]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lrm=$(realpath "${1:-$here/../../build/lrm}")
threads=${2:-2}
images=${3:-512}
work=$(mktemp -d /tmp/lrm_bench_extract.XXXXXX)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$here/make_jpegs.py" "$work/jpegs" "$images"

t0=$(date +%s.%N)
"$lrm" --quiet --threads "$threads" extract --model alexnet-lrm3 --stimuli "$work/jpegs" --layers all \
  --passes 0,1 --batch-size 32 --out "$work/suite.h5"
t1=$(date +%s.%N)
suite_mb=$(du -m "$work/suite.h5" | cut -f1)
rm -f "$work/suite.h5"
t2=$(date +%s.%N)
/usr/bin/python3 "$here/bench_pytorch_hooks.py" "$work/jpegs" "$work/pytorch.h5" --threads "$threads" \
  --passes 2 --batch-size 32 >/dev/null
t3=$(date +%s.%N)
peer_mb=$(du -m "$work/pytorch.h5" | cut -f1)
awk -v s="$(echo "$t1 - $t0" | bc)" -v p="$(echo "$t3 - $t2" | bc)" -v t="$threads" -v n="$images" \
    -v sm="$suite_mb" -v pm="$peer_mb" 'BEGIN {
  printf "suite (lrm extract):        %7.1f s  (%d MB written)\n", s, sm
  printf "pytorch (hooks + h5py):     %7.1f s  (%d MB written)\n", p, pm
  printf "threads %d, %d images: speed-up pytorch/suite %.2fx (goal >= 1.0)\n", t, n, p / s }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
