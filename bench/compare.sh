#!/bin/sh
# bench/compare.sh — issue 13's four chapter workloads (mlp, cnn, rnn, gpt) in libnn and in
# PyTorch, one after the other, at 1 and 2 threads, and one table (bench/README.md).
#
#   sh bench/compare.sh [--quick] [--repeat N] [--threads "1 2"] [--workloads "mlp cnn rnn gpt"]
#
#   --quick      a smoke test: 50 batches of each epoch, 3 timed steps (the figures mean nothing)
#   --repeat N   run each configuration N times and keep its fastest run (default 1)
#   --threads    the thread counts to try (default "1 2")
#   --workloads  which workloads (default all four)
# Environment: BUILD (default build: where `make bench` puts bench_workloads; the script runs
# that make first), PYTHON (default /usr/bin/python3, Debian's, which has python3-torch).
#
# libnn runs with OMP_NUM_THREADS=t; PyTorch with torch.set_num_threads(t),
# OMP_NUM_THREADS=t and OPENBLAS_NUM_THREADS=t. Each side runs once with the default OpenMP
# wait policy and once with OMP_WAIT_POLICY=PASSIVE (spinning threads hurt on a busy
# machine); the table takes each side's faster of the two. OPENBLAS_CORETYPE: kept if set; else SkylakeX on a CPU with
# AVX-512, and OpenBLAS's own choice on one without (SkylakeX kernels would crash there).
# The reference side needs `apt-get install python3-torch libopenblas0-pthread
# dataset-fashion-mnist`; without torch the script says so and prints libnn's side only.
set -eu

quick='' repeat=1 threads="1 2" workloads="mlp cnn rnn gpt"
usage() {
    echo "usage: sh bench/compare.sh [--quick] [--repeat N] [--threads \"1 2\"]" \
         "[--workloads \"mlp cnn rnn gpt\"]" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case $1 in
    --quick) quick=--quick ;;
    --repeat) [ $# -ge 2 ] || usage; repeat=$2; shift ;;
    --threads) [ $# -ge 2 ] || usage; threads=$2; shift ;;
    --workloads) [ $# -ge 2 ] || usage; workloads=$2; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown option '$1'" >&2; usage ;;
    esac
    shift
done
case $repeat in
''|*[!0-9]*|0) echo "compare.sh: --repeat needs a whole number >= 1" >&2; usage ;;
esac
for t in $threads; do
    case $t in ''|*[!0-9]*|0) echo "compare.sh: bad thread count '$t'" >&2; usage ;; esac
done
for w in $workloads; do
    case $w in mlp|cnn|rnn|gpt) ;; *) echo "compare.sh: unknown workload '$w'" >&2; usage ;; esac
done

here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD:-build}
python=${PYTHON:-/usr/bin/python3}
make -s -C "$here/.." BUILD="$build" "$build/bench/bench_workloads" >&2
nn_bin=$here/../$build/bench/bench_workloads
case $build in /*) nn_bin=$build/bench/bench_workloads ;; esac
# SkylakeX on an AVX-512 CPU: Debian's OpenBLAS has been seen to pick a slower kernel set there
# under a hypervisor. Without AVX-512 those kernels die of an illegal instruction.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=SkylakeX
fi
export PYTHONDONTWRITEBYTECODE=1   # no __pycache__ in bench/reference/
log=$(mktemp -d "${TMPDIR:-/tmp}/nn-compare.XXXXXX")

have_torch=1
if ! "$python" -c 'import torch' 2>/dev/null; then
    have_torch=0
    echo "PyTorch not found for $python: install it with"
    echo "  sudo apt-get install python3-torch libopenblas0-pthread dataset-fashion-mnist"
    echo "This run times libnn's side only."
fi

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs"
echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ $have_torch = 1 ]; then
    blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo unknown)
    core=$("$python" -c 'import ctypes, sys
lib = ctypes.CDLL(sys.argv[1]); lib.openblas_get_corename.restype = ctypes.c_char_p
print(lib.openblas_get_corename().decode())' "$blas" 2>/dev/null || echo "not OpenBLAS")
    echo "PyTorch $("$python" -c 'import torch; print(torch.__version__)'), system BLAS: $blas" \
         "(core: $core, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset})"
fi
echo "raw outputs: $log"

# value KEY FILE: KEY's value on the `result:` line of FILE ("" when absent)
value() { sed -n "s/^result: .*[ ]$1=\([^ ]*\).*/\1/p" "$2" | tail -1; }

# faster A B: true when result file A has the shorter time than B
faster() { awk -v a="$(value time "$1")" -v b="$(value time "$2")" 'BEGIN { exit !(a < b) }'; }

# best OUT CMD...: run CMD $repeat times, keep in OUT the output of the fastest run that
# printed a result line. 1 when none did.
best() {
    out=$1; shift
    rm -f "$out"
    i=0
    while [ $i -lt "$repeat" ]; do
        i=$((i + 1))
        if "$@" >"$out.try" 2>&1 && [ -n "$(value time "$out.try")" ]; then
            if [ ! -f "$out" ] || faster "$out.try" "$out"; then
                mv "$out.try" "$out"
            fi
        else
            echo "  failed: $* (see $out.try)" >&2
        fi
    done
    [ -f "$out" ]
}

# get KEY FILE: as value, "-" for an empty answer or no file
get() { if [ -n "$2" ] && [ -f "$2" ]; then v=$(value "$1" "$2"); echo "${v:--}"; else echo -; fi; }

script() { case $1 in rnn) echo char_rnn.py ;; *) echo "$1.py" ;; esac; }

rows=$log/rows
: >"$rows"
for w in $workloads; do
    for t in $threads; do
        echo "running $w, $t thread(s) ..." >&2
        # libnn, like PyTorch, with OpenMP's default wait policy (idle threads spin a while)
        # and with PASSIVE (they sleep), the faster kept
        nn_out='' nn_cfg=-
        for policy in default PASSIVE; do
            f=$log/$w.$t.libnn-$policy
            set -- env
            [ $policy = default ] || set -- env OMP_WAIT_POLICY=$policy
            best "$f" "$@" OMP_NUM_THREADS="$t" "$nn_bin" --workload "$w" $quick || continue
            if [ -z "$nn_out" ] || faster "$f" "$nn_out"; then
                nn_out=$f nn_cfg=$policy
            fi
        done
        pt_out='' pt_cfg=-
        if [ $have_torch = 1 ]; then
            for policy in default PASSIVE; do
                f=$log/$w.$t.torch-$policy
                set -- env
                [ $policy = default ] || set -- env OMP_WAIT_POLICY=$policy
                best "$f" "$@" OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t" \
                     "$python" "$here/reference/$(script "$w")" --threads "$t" $quick || continue
                if [ -z "$pt_out" ] || faster "$f" "$pt_out"; then
                    pt_out=$f pt_cfg=$policy
                fi
            done
        fi
        # one row: workload threads unit, then libnn's and PyTorch's time rss loss acc, config
        echo "$w $t $(get unit "$nn_out") $(get time "$nn_out") $(get peak_rss_mib "$nn_out")" \
             "$(get loss "$nn_out") $(get test_acc "$nn_out") $(get unit "$pt_out")" \
             "$(get time "$pt_out") $(get peak_rss_mib "$pt_out") $(get loss "$pt_out")" \
             "$(get test_acc "$pt_out") $pt_cfg $nn_cfg" >>"$rows"
    done
done
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

awk '
function num(s) { return s != "-" && s != "" }
function cell(v, u) { return num(v) ? sprintf("%.3f %s", v, u) : "-" }
BEGIN {
    printf "| workload | threads | libnn best (wait policy) | PyTorch best (wait policy) | libnn / PyTorch "
    printf "| peak RSS libnn | peak RSS PyTorch | loss libnn | loss PyTorch "
    print "| test acc libnn | test acc PyTorch |"
    print "|---|---|---|---|---|---|---|---|---|---|---|"
}
{
    w = $1; u = ($3 != "-") ? $3 : $8
    ratio = (num($4) && num($9)) ? sprintf("%.2f", $4 / $9) : "-"
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", w, $2,
           num($4) ? cell($4, u) " (" $14 ")" : "-",
           num($9) ? cell($9, u) " (" $13 ")" : "-", ratio,
           num($5) ? $5 " MiB" : "-", num($10) ? $10 " MiB" : "-", $6, $11, $7, $12
    if (num($4) && (!(w in nn_best) || $4 < nn_best[w])) { nn_best[w] = $4; nn_thr[w] = $2 " thr, " $14 }
    if (num($9) && (!(w in pt_best) || $9 < pt_best[w])) {
        pt_best[w] = $9; pt_thr[w] = $2 " thr, " $13
    }
    if (!(w in seen)) { seen[w] = 1; order[++n] = w; unit[w] = u }
}
END {
    print ""
    for (i = 1; i <= n; i++) {
        w = order[i]
        if ((w in nn_best) && (w in pt_best))
            printf "%s: libnn best %.3f %s (%s), PyTorch best %.3f %s (%s): %s %.2fx %s\n",
                   w, nn_best[w], unit[w], nn_thr[w], pt_best[w], unit[w], pt_thr[w],
                   "libnn takes", nn_best[w] / pt_best[w], "PyTorch'"'"'s time"
        else if (w in nn_best)
            printf "%s: libnn best %.3f %s (%s), no PyTorch figure\n",
                   w, nn_best[w], unit[w], nn_thr[w]
    }
}' "$rows"
