#!/bin/sh
# scripts/fuzz.sh — fuzz the file loaders with libFuzzer for a while and print a table.
#
#   sh scripts/fuzz.sh [seconds-per-target] [target ...]     (default: 30 s, every target)
#   sh scripts/fuzz.sh 60 idx image                          (only those two, a minute each)
#
#   1. make fuzz       clang and libFuzzer (installed when missing, scripts/deps.sh --fuzz),
#                      then build/fuzz/fuzz_<target> for each fuzz/fuzz_<target>.c
#   2. seeds           build/fuzz/make_seeds writes small valid and near-valid files into
#                      build/fuzz/seeds/<target>/
#   3. regressions     every input saved in fuzz/regressions/<target>/ is run once: inputs
#                      that once crashed a loader must not crash it again
#   4. fuzzing         each target for N seconds (-max_total_time=N -rss_limit_mb=2048
#                      -timeout=10), starting from its seeds and build/fuzz/corpus/<target>/
#                      (which keeps what it learns for the next run); an input that crashes,
#                      leaks, hangs or runs out of memory lands in build/fuzz/findings/<target>/
#
# Ends with a table (target, executions, crashes found, corpus size, regressions) and exits
# non-zero when anything crashed, leaked or timed out. To look at a finding:
#   build/fuzz/fuzz_idx build/fuzz/findings/idx/crash-...     (runs that one input)
# and save it as fuzz/regressions/idx/<what-it-shows> once it is understood.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1

seconds=${1:-30}
case $seconds in
    '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [seconds-per-target] [target ...]" >&2; exit 2 ;;
esac
[ $# -gt 0 ] && shift

fuzz=build/fuzz
# Compile on every core (the fuzz build is a second copy of the library).
make --no-print-directory -j"$(nproc 2>/dev/null || echo 2)" fuzz || exit 1

echo "== seeds =="
"$fuzz/make_seeds" "$fuzz/seeds" || exit 1

# The targets: the arguments, or every fuzz/fuzz_<target>.c that was built.
if [ $# -gt 0 ]; then
    targets=$*
else
    targets=""
    for src in fuzz/fuzz_*.c; do
        [ -f "$src" ] || continue
        t=${src#fuzz/fuzz_}
        targets="$targets ${t%.c}"
    done
fi

# Sanitizer reports with a stack trace; leaks are checked after every input (libFuzzer's
# -detect_leaks, on by default with ASan).
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export UBSAN_OPTIONS

# The lines of a libFuzzer log that say what went wrong (the sanitizer's verdict, our own
# harness messages), indented.
what_failed() {
    grep -E 'ERROR: |runtime error|SUMMARY|^fuzz: ' "$1" | head -n 20 | sed 's/^/    /'
}

table=""
failed=0
for t in $targets; do
    bin=$fuzz/fuzz_$t
    if [ ! -x "$bin" ]; then
        echo "no fuzz target $bin (from fuzz/fuzz_$t.c)" >&2
        failed=1
        continue
    fi
    corpus=$fuzz/corpus/$t
    findings=$fuzz/findings/$t
    log=$fuzz/logs/$t.log
    mkdir -p "$corpus" "$findings" "$fuzz/logs" "$fuzz/seeds/$t"

    # ---- regressions: each saved input once ----
    reg_total=0
    reg_bad=0
    for input in fuzz/regressions/"$t"/*; do
        [ -f "$input" ] || continue
        reg_total=$((reg_total + 1))
        if ! "$bin" -rss_limit_mb=2048 -timeout=10 "$input" >"$log" 2>&1; then
            reg_bad=$((reg_bad + 1))
            failed=1
            echo "REGRESSION $t: $input still fails:"
            what_failed "$log"
        fi
    done
    if [ "$reg_total" -eq 0 ]; then regressions="-"
    elif [ "$reg_bad" -eq 0 ]; then regressions="$reg_total ok"
    else regressions="$reg_bad of $reg_total FAIL"
    fi

    # ---- fuzzing ----
    echo "== fuzz_$t: $seconds s =="
    found_before=$(find "$findings" -type f | wc -l)
    "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$findings/" "$corpus" "$fuzz/seeds/$t" >"$log" 2>&1
    rc=$?
    found=$(( $(find "$findings" -type f | wc -l) - found_before ))
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    size=$(grep -o 'corp: [0-9]*' "$log" | tail -n 1 | sed 's/corp: //')
    grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1
    if [ "$rc" -ne 0 ] || [ "$found" -gt 0 ]; then
        failed=1
        [ "$found" -gt 0 ] || found=1   # it stopped on something it could not save
        echo "FOUND in fuzz_$t (exit status $rc); the report:"
        what_failed "$log"
        echo "    full log: $log"
        sed -n 's/.*Test unit written to //p' "$log" |
            while read -r input; do echo "    reproduce: $bin $input"; done
    fi
    table="$table
$(printf '%-12s %12s %8s %8s  %s' "$t" "${execs:-?}" "$found" "${size:-?}" "$regressions")"
done

echo
printf '%-12s %12s %8s %8s  %s' target executions crashes corpus regressions
echo "$table"
if [ "$failed" -ne 0 ]; then
    echo "fuzz: FOUND PROBLEMS (inputs under $fuzz/findings/, logs under $fuzz/logs/)"
    exit 1
fi
echo "fuzz: no crashes, leaks or timeouts in $seconds s per target"
