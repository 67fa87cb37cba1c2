#!/bin/sh
# Python-call overhead: lrmsuite.localize on 400 images x 193,600 units (4 categories, every
# category as target, Student, BY; the localizer benchmark's size) and lrmsuite.encode with PLS-25
# on 3,200 x 9,216 -> 168 neuroids over 10 splits (the compare benchmark's size), 2 threads. For
# each call it prints the time in the core (the functions `lrm localize` and `lrm compare encode`
# run, timed on the worker thread), the whole call from Python, and the overhead between them.
# Usage: benchmarks/python/run.sh [REPEATS]   (default 3; medians; build/python must be built)
set -e
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 PYTHONDONTWRITEBYTECODE=1
PYTHONPATH=build/python /usr/bin/python3 benchmarks/python/bench_calls.py --repeats "${1:-3}"
