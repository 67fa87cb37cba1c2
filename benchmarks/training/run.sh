#!/usr/bin/env bash
# Training at scale. (1) Peak resident memory (VmHWM, as getrusage's maximum RSS) of one training
# epoch of mnist-ff on 10,000 and on 100,000 generated 28x28 images in the suite's HDF5 layout: the
# images are streamed in batches by a loader thread, so it should not grow with the set (held as
# preprocessed floats, 100,000 images alone would take 314 MB). (2) lrm prototypes against
# lrm extract of the same layer (classifier.6) and pass (0) on the 8,000 MNIST training digits.
# Threads: 2 for LibTorch and OpenMP. The machine may be shared: the load average is printed.
# Usage: benchmarks/training/run.sh [path/to/lrm]   (default build/lrm)
set -euo pipefail
cd "$(dirname "$0")/../.."
LRM=${1:-build/lrm}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
PY=/usr/bin/python3
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== peak RSS of one training epoch (mnist-ff, batch 256) =="
declare -A RSS
for n in 10000 100000; do
  $PY benchmarks/training/make_set.py "$n" "$OUT/set$n.h5"
  /usr/bin/time -f "%M %e" -o "$OUT/time$n" "$LRM" --quiet --threads 2 train --model mnist-ff \
    --stimuli "$OUT/set$n.h5" --split train --epochs 1 --batch-size 256 --out "$OUT/m$n.pt"
  read -r kb secs < "$OUT/time$n"
  RSS[$n]=$kb
  printf "%7d images: peak RSS %6.1f MB, %6.1f s\n" "$n" "$(echo "$kb/1024" | bc -l)" "$secs"
done
printf "peak RSS ratio 100,000 / 10,000 images: %.3f\n" "$(echo "${RSS[100000]}/${RSS[10000]}" | bc -l)"

echo "== prototypes vs extract, classifier.6 pass 0, 8,000 MNIST training digits (mnist-lrm) =="
SET=stimuli/mnist.h5
[ -f "$SET" ] || "$LRM" --quiet stimuli import mnist --out "$SET"
COMMON=(--model mnist-lrm --stimuli "$SET" --split train --batch-size 32)
/usr/bin/time -f "%e" -o "$OUT/extract" "$LRM" --quiet --threads 2 extract "${COMMON[@]}" \
  --layers classifier.6 --passes 0 --out "$OUT/ex.h5"
/usr/bin/time -f "%e" -o "$OUT/protos" "$LRM" --quiet --threads 2 prototypes "${COMMON[@]}" \
  --passes 0 --out "$OUT/pr.h5"
ex=$(cat "$OUT/extract") pr=$(cat "$OUT/protos")
printf "extract %.2f s, prototypes %.2f s: prototypes / extract %.2f\n" "$ex" "$pr" \
  "$(echo "$pr/$ex" | bc -l)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
