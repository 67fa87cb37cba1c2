#!/usr/bin/env bash
# `lrm extract` on 1 process vs `mpirun -n 2`: every layer of AlexNet-LRM3 (random weights) for 2
# passes on the same JPEGs (224×224), one thread per rank. Prints the wall times, the parallel
# efficiency T1 / (2 T2), the join (rank 0 copying the parts' compressed chunks into one file)
# against the whole run, and whether the two files hold the same values (h5diff).
# Usage: benchmarks/mpi/extract.sh [path/to/lrm] [images]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lrm=$(realpath "${1:-$here/../../build/lrm}")
images=${2:-128}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
work=$(mktemp -d /tmp/lrm_bench_mpi_extract.XXXXXX)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$here/../extract/make_jpegs.py" "$work/jpegs" "$images"
args=(extract --threads 1 --model alexnet-lrm3 --stimuli "$work/jpegs" --layers all --passes 0,1
  --batch-size 16)

t0=$(date +%s.%N)
"$lrm" --quiet "${args[@]}" --out "$work/one.h5"
t1=$(date +%s.%N)
mpirun --allow-run-as-root --oversubscribe --bind-to none -n 2 "$lrm" "${args[@]}" \
  --out "$work/two.h5" 2>"$work/two.log"
t2=$(date +%s.%N)
join=$(sed -n 's/.* in \([0-9.]*\) s$/\1/p' "$work/two.log")
mb=$(du -m "$work/two.h5" | cut -f1)
same=$(h5diff -q "$work/one.h5" "$work/two.h5" /activations /activations >/dev/null && echo yes || echo NO)
awk -v a="$(echo "$t1 - $t0" | bc)" -v b="$(echo "$t2 - $t1" | bc)" -v j="${join:-0}" -v n="$images" \
    -v mb="$mb" -v same="$same" 'BEGIN {
  printf "1 process:            %7.1f s\n", a
  printf "mpirun -n 2:          %7.1f s  (join %.2f s = %.1f%% of the run, %d MB file, %.0f MB/s)\n",
         b, j, 100 * j / b, mb, (j > 0 ? mb / j : 0)
  printf "%d images: speed-up %.2fx, efficiency %.0f%%; same values: %s\n", n, a / b, 50 * a / b, same }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc --all) cores"
