#!/bin/sh
# bench/compare_torch.sh — the same MLP training step in libnn and in PyTorch, in one run, with
# the same number of threads, and the ratio. Needs `make bench` and Debian's python3-torch.
# Debian's torch calls the system BLAS: with only the reference libblas3 installed it is slow,
# so install libopenblas0-pthread for a fair comparison (the script says which one is active).
#   sh bench/compare_torch.sh [threads]        (default 1: the fairest on a shared machine)
# One step of one small MLP only; bench/compare.sh runs issue 13's four chapter workloads.
set -eu
threads=${1:-1}
build=${BUILD:-build}
[ -x "$build/bench/bench_mlp" ] || { echo "run 'make bench' first" >&2; exit 1; }
# Debian's OpenBLAS mis-detects some AVX-512 CPUs without this (see DESIGN.md); on a CPU
# without AVX-512 the SkylakeX kernels die of an illegal instruction, so leave it alone there.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
fi
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo unknown)
echo "system BLAS (used by PyTorch): $blas"
nn_out=$("$build/bench/bench_mlp")
echo "$nn_out"
pt_out=$(/usr/bin/python3 "$(dirname "$0")/torch_mlp.py")
echo "$pt_out"
nn=$(echo "$nn_out" | sed -n 's/^result: ms_per_step=\([0-9.]*\).*/\1/p')
pt=$(echo "$pt_out" | sed -n 's/^result: ms_per_step=\([0-9.]*\).*/\1/p')
awk -v a="$nn" -v b="$pt" -v t="$threads" 'BEGIN {
    printf "threads %s: libnn %.3f ms/step, PyTorch %.3f ms/step: libnn takes %.2fx the time of PyTorch\n", t, a, b, a / b
    printf "result: libnn_ms=%.3f torch_ms=%.3f ratio=%.2f\n", a, b, a / b }'
