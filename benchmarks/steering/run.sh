#!/usr/bin/env bash
# Steering sweeps: pass 0 run once per composite and the modulated passes of all conditions in one
# batch (lrm steer) against the naive way, where every condition runs all passes on its own. Both
# run in the same process on the same composites (lrm steer --check-naive), which also checks that
# the outputs agree (its last line of stdout, so not --quiet, which silences the tables). K = 8 modulated conditions per composite: the unsteered pass 1 and one-hot
# steering toward target 1 at 7 gains.
# Usage: benchmarks/steering/run.sh [path/to/lrm]   (default build/lrm)
set -euo pipefail
cd "$(dirname "$0")/../.."
LRM=${1:-build/lrm}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
SET=stimuli/mnist.h5
[ -f "$SET" ] || "$LRM" --quiet stimuli import mnist --out "$SET"
K8=(--types one-hot --steer-strength 1,2,3,4,5,6,7 --targets target1 --check-naive)

echo "== mnist-lrm (LRM3 pathways, 28x28 overlays), 512 composites, batches of 64 =="
"$LRM" --seed 1 steer --model mnist-lrm --stimuli "$SET" --split test --composites 512 \
  --batch-size 64 "${K8[@]}" --out "$OUT/mnist.h5" | tail -n 1

echo "== alexnet-lrm3 (random weights, 3x256x256 overlays of digits), 16 composites, batches of 8 =="
"$LRM" --seed 1 steer --model alexnet-lrm3 --stimuli "$SET" --split test --composites 16 \
  --preprocess imagenet-composite --batch-size 8 "${K8[@]}" --out "$OUT/alexnet.h5" | tail -n 1
