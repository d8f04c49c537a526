#!/bin/sh
# tests/run.sh — run everything `make test` checks and print one verdict.
#
#   BUILD=build CC=cc sh tests/run.sh
#
#   1. unit tests      each cmocka program $BUILD/tests/test_*; its own summary lines
#                      ("[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s), ...") are counted
#   2. example smoke   each $BUILD/examples/<chapter>/<name> with --quick, in a scratch
#                      directory: exit 0 and a `result: key=value ...` line; then with --help
#                      (exit 0, a line starting with "usage:" on stdout) and with --bogus-flag
#                      (exit 2, a line starting with "usage:" on stderr): three tests each
#   3. doc snippets    tests/check_snippets.sh (the ```c blocks in README.md and docs/)
#   4. call sites      tests/check_call_sites.sh (every public function that can report an
#                      error has its file:line macro in include/nn/call_sites.h)
#
# Ends with the line `tests: N passed, M failed`; exits non-zero when M > 0 or nothing ran.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
BUILD=${BUILD:-build}
CC=${CC:-cc}
export BUILD CC

# Examples and tests find repository files (fixtures, small data) through NN_REPO_ROOT.
NN_REPO_ROOT=$root
export NN_REPO_ROOT

# OpenMP threads that spin while they wait can stall for milliseconds on a busy machine;
# sleeping waiters keep the quick runs quick there (set it yourself to override).
OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
export OMP_WAIT_POLICY

# Sanitizer builds: report leaks, and stop at the first error with a stack trace.
case $BUILD in
    *sanitize*)
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
        export ASAN_OPTIONS UBSAN_OPTIONS
        ;;
esac

# A program that hangs fails instead of stalling the run (generous: sanitizers are slow).
limit=${TEST_TIMEOUT:-900}
if command -v timeout >/dev/null 2>&1; then run_limit="timeout $limit"; else run_limit=""; fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nn-tests.XXXXXX") || exit 1
mkdir -p "$BUILD"
scratch=$(mktemp -d "$BUILD/smoke.XXXXXX") || exit 1
trap 'rm -rf "$tmp" "$scratch"' EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
failures=""         # names of what failed, for the recap at the end
note_failure() { failures="$failures
    $1"; }

# Run "$@", showing its output as it comes and keeping a copy in $tmp/log; sets $rc.
run_logged() {
    { $run_limit "$@" </dev/null; echo $? >"$tmp/rc"; } 2>&1 | tee "$tmp/log"
    rc=$(cat "$tmp/rc")
    if [ "$rc" -eq 124 ] && [ -n "$run_limit" ]; then
        echo "(timed out after $limit s)"
    fi
}

# ---- 1. unit tests ----------------------------------------------------------------------
echo "== unit tests ($BUILD/tests) =="
for t in "$BUILD"/tests/test_*; do
    if [ ! -f "$t" ] || [ ! -x "$t" ]; then continue; fi
    echo "-- ${t#"$BUILD"/}"
    run_logged "$t"
    # cmocka prints "[  PASSED  ] 12 test(s)." and, when some fail,
    # "[  FAILED  ] 2 test(s), listed below:"; its exit status is the number that failed.
    p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test(s)\.$/\1/p' "$tmp/log" | tail -n 1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test(s), listed below:$/\1/p' "$tmp/log" | tail -n 1)
    p=${p:-0}
    f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        # It crashed, timed out, or failed after its tests (e.g. a leak report at exit).
        echo "(${t#"$BUILD"/} exited with status $rc)"
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    [ "$f" -eq 0 ] || note_failure "${t#"$BUILD"/} ($f)"
done

# ---- 2. example smoke tests -------------------------------------------------------------
echo "== example smoke tests (--quick, --help, --bogus-flag) =="
for prog in "$BUILD"/examples/*/*; do
    if [ ! -f "$prog" ] || [ ! -x "$prog" ]; then continue; fi
    name=${prog#"$BUILD"/}
    abs=$(cd "$(dirname "$prog")" && pwd)/$(basename "$prog")
    # Each example gets a fresh scratch directory for whatever pictures it writes.
    work="$scratch/$(echo "$name" | tr '/' '_')"
    mkdir -p "$work"
    (cd "$work" && $run_limit "$abs" --quick </dev/null) >"$tmp/log" 2>&1
    rc=$?
    result=$(grep '^result: ' "$tmp/log" | tail -n 1)
    if [ "$rc" -eq 0 ] && echo "$result" | grep -q '^result: .*[A-Za-z_][A-Za-z0-9_.-]*=[^ ]'; then
        passed=$((passed + 1))
        echo "PASS $name: $result"
    else
        failed=$((failed + 1))
        note_failure "$name"
        if [ "$rc" -ne 0 ]; then why="exit status $rc"; else why="no 'result: key=value' line"; fi
        echo "FAIL $name ($why); last lines of its output:"
        tail -n 40 "$tmp/log" | sed 's/^/    /'
    fi

    # A real command-line tool: --help explains it, an unknown option is a usage error.
    (cd "$work" && $run_limit "$abs" --help </dev/null) >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -eq 0 ] && grep -q '^usage: ' "$tmp/out"; then
        passed=$((passed + 1))
        echo "PASS $name --help: $(grep '^usage: ' "$tmp/out" | head -n 1)"
    else
        failed=$((failed + 1))
        note_failure "$name --help"
        echo "FAIL $name --help (exit status $rc, want 0 and a line 'usage: ...' on stdout):"
        cat "$tmp/out" "$tmp/err" | tail -n 20 | sed 's/^/    /'
    fi
    (cd "$work" && $run_limit "$abs" --bogus-flag </dev/null) >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -eq 2 ] && grep -q '^usage: ' "$tmp/err"; then
        passed=$((passed + 1))
        echo "PASS $name --bogus-flag: exit 2, $(head -n 1 "$tmp/err")"
    else
        failed=$((failed + 1))
        note_failure "$name --bogus-flag"
        echo "FAIL $name --bogus-flag (exit status $rc, want 2 and a line 'usage: ...' on stderr):"
        cat "$tmp/out" "$tmp/err" | tail -n 20 | sed 's/^/    /'
    fi
done

# Run a checker script that ends with "<label>: N passed, M failed" and add its counts.
run_checker() {
    label=$1; what=$2; shift 2
    echo "== $what =="
    run_logged "$@"
    line=$(grep "^$label: [0-9]* passed, [0-9]* failed\$" "$tmp/log" | tail -n 1)
    if [ -n "$line" ]; then
        p=$(echo "$line" | sed 's/^[^:]*: \([0-9]*\) passed.*/\1/')
        f=$(echo "$line" | sed 's/.* passed, \([0-9]*\) failed$/\1/')
    else
        p=0; f=0
    fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p))
    failed=$((failed + f))
    [ "$f" -eq 0 ] || note_failure "$what ($f)"
}

# ---- 3. doc snippets --------------------------------------------------------------------
run_checker snippets "doc snippets" sh tests/check_snippets.sh

# ---- 4. call-site macros ----------------------------------------------------------------
run_checker "call sites" "call-site macros" sh tests/check_call_sites.sh

# ---- verdict ----------------------------------------------------------------------------
echo
[ -z "$failures" ] || echo "failed:$failures"
if [ $((passed + failed)) -eq 0 ]; then
    echo "nothing ran: no tests under $BUILD/tests, no examples, no snippets" >&2
fi
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ $((passed + failed)) -gt 0 ]
