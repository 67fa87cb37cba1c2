#!/usr/bin/env bash
# Suite vs PyTorch on the same batch and thread count (no-grad forward, random weights, median s per call):
#   alexnet:  AlexNet-LRM3, 2 passes; peer: the independent implementation in gen_lrm_parity.py.
#   resnet50: ResNet-50 with three pathways, 2 passes, batch 32; peer: the published lrm-steering
#             LRMNet, exported from a git mirror (LRM_STEERING, default: the fetched mirror).
# Usage: benchmarks/model/run.sh [path/to/lrm] [threads] [alexnet batch] [alexnet|resnet50|all]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lrm=${1:-$here/../../build/lrm}
threads=${2:-2}
batch=${3:-16}
which=${4:-all}
mirror=${LRM_STEERING:-/work/.mirror/harvard-visionlab+lrm-steering/repo}
resnet_feedback=fc:layer4.0.conv1,layer4.2:layer2.0.conv1,layer3.5:conv1
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads MKL_NUM_THREADS=$threads

cpu_file=$(mktemp)
trap 'rm -f "$cpu_file"' EXIT
timed() {  # runs a command; prints its output, then its whole-process user+sys CPU seconds
  /usr/bin/time -o "$cpu_file" -f "%U %S" "$@"
  awk '{ printf "cpu %.1f\n", $1 + $2 }' "$cpu_file"
}

compare() {  # label, suite output, peer output (each: a "... s per call" line, then "cpu N")
  local s p sc pc
  echo "suite:   $(echo "$2" | head -1)"
  echo "pytorch: $(echo "$3" | head -1)"
  s=$(echo "$2" | head -1 | sed -E 's/.*: ([0-9.]+) s per call.*/\1/')
  p=$(echo "$3" | head -1 | sed -E 's/.*: ([0-9.]+) s per call.*/\1/')
  sc=$(echo "$2" | sed -n 's/^cpu //p')
  pc=$(echo "$3" | sed -n 's/^cpu //p')
  awk -v l="$1" -v s="$s" -v p="$p" -v sc="$sc" -v pc="$pc" -v t="$threads" 'BEGIN {
    printf "%s, threads %d: suite/pytorch time ratio %.3f (< 1: suite faster)\n", l, t, s / p
    printf "%s: whole-process CPU seconds (user+sys, setup included) suite %.1f, pytorch %.1f, ratio %.3f\n", l, sc, pc, sc / pc
  }'
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ $which == all || $which == alexnet ]]; then
  compare alexnet-lrm3 \
    "$(timed "$lrm" --threads "$threads" model bench alexnet-lrm3 --batch-size "$batch" --num-passes 2 --repeats 5)" \
    "$(timed /usr/bin/python3 "$here/bench_pytorch.py" --threads "$threads" --batch-size "$batch" --passes 2 --repeats 5)"
fi
if [[ $which == all || $which == resnet50 ]]; then
  compare "resnet50 + 3 pathways" \
    "$(timed "$lrm" --threads "$threads" model bench "resnet50;feedback=$resnet_feedback" --batch-size 32 \
      --num-passes 2 --repeats 3)" \
    "$(timed /usr/bin/python3 "$here/bench_published.py" --lrm-steering "$mirror" --model resnet50 \
      --feedback "$resnet_feedback" --threads "$threads" --batch-size 32 --passes 2 --repeats 3)"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
