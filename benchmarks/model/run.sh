#!/usr/bin/env bash
# AlexNet-LRM3 (random weights), 2 passes, same batch and thread count: suite vs PyTorch.
# Usage: benchmarks/model/run.sh [path/to/lrm] [threads] [batch]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lrm=${1:-$here/../../build/lrm}
threads=${2:-2}
batch=${3:-16}
suite=$("$lrm" --threads "$threads" model bench alexnet-lrm3 --batch-size "$batch" --num-passes 2 --repeats 5)
peer=$(/usr/bin/python3 "$here/bench_pytorch.py" --threads "$threads" --batch-size "$batch" --passes 2 --repeats 5)
echo "suite:   $suite"
echo "pytorch: $peer"
s=$(echo "$suite" | sed -E 's/.*: ([0-9.]+) s per call.*/\1/')
p=$(echo "$peer" | sed -E 's/.*: ([0-9.]+) s per call.*/\1/')
awk -v s="$s" -v p="$p" -v t="$threads" 'BEGIN { printf "threads %d: suite/pytorch time ratio %.3f (< 1: suite faster)\n", t, s / p }'
