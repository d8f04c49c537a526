#!/bin/sh
# scripts/demo.sh BUILD_DIR — the project's main job (`make demo`).
#
# Runs every chapter example, BUILD_DIR/examples/<chapter>/<name>, in its quick default
# (no arguments), in path order so ch01 comes before ch02, then prints a summary table:
# program, seconds, and the example's last `result: ...` line.
#
# Each example runs in the scratch folder out/ (created here), so the pictures it writes
# into its current directory (SVG/PNG) land there. Examples find repository files through
# NN_REPO_ROOT (as in the smoke tests); large datasets have absolute default paths.
# Fails when an example exits non-zero or prints no `result:` line. An example whose large
# dataset is absent may print `result: skipped=1 reason=...` and exit 0: that is fine.
set -u

build=${1:?usage: sh scripts/demo.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
# The build folder as an absolute path, since the examples run from out/.
build=$(cd "$build" 2>/dev/null && pwd) || { echo "demo: no build folder $1" >&2; exit 1; }
mkdir -p out
NN_REPO_ROOT=$root
export NN_REPO_ROOT

# OpenMP threads that spin while they wait can stall for milliseconds on a busy machine;
# sleeping waiters keep the quick runs quick there (set it yourself to override).
OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
export OMP_WAIT_POLICY

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nn-demo.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# Wall-clock time in nanoseconds (GNU date), else whole seconds scaled to nanoseconds.
now_ns() {
    t=$(date +%s%N)
    case $t in *N) echo "$(date +%s)000000000" ;; *) echo "$t" ;; esac
}

count=0
failed=0
: >"$tmp/summary"
for prog in "$build"/examples/*/*; do
    if [ ! -f "$prog" ] || [ ! -x "$prog" ]; then continue; fi
    name=${prog#"$build"/}
    count=$((count + 1))
    echo "== $name =="

    # Show the output as it comes and keep a copy; the pipe hides the exit code, so the
    # example's status goes through a file.
    start=$(now_ns)
    { (cd out && "$prog"); echo $? >"$tmp/rc"; } 2>&1 | tee "$tmp/log"
    end=$(now_ns)
    rc=$(cat "$tmp/rc")
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')

    result=$(grep '^result:' "$tmp/log" | tail -n 1)
    if [ "$rc" -ne 0 ]; then
        status="FAIL"; failed=$((failed + 1))
        result="(exit status $rc) $result"
    elif [ -z "$result" ]; then
        status="FAIL"; failed=$((failed + 1))
        result="(no result: line)"
    else
        case $result in
            "result: skipped=1"*) status="skipped" ;;
            *) status="ok" ;;
        esac
    fi
    printf '%s\t%s\t%s\t%s\n' "$name" "$secs" "$status" "$result" >>"$tmp/summary"
    echo
done

if [ "$count" -eq 0 ]; then
    echo "demo: no example programs under $build/examples/ (run make first)" >&2
    exit 1
fi

echo "== summary =="
awk -F '\t' '
    { if (length($1) > w) w = length($1); name[NR] = $1; sec[NR] = $2; st[NR] = $3; res[NR] = $4 }
    END {
        printf "%-*s  %7s  %-7s  %s\n", w, "program", "seconds", "status", "result"
        for (i = 1; i <= NR; i++)
            printf "%-*s  %7s  %-7s  %s\n", w, name[i], sec[i], st[i], res[i]
    }' "$tmp/summary"
echo "pictures and other outputs: out/"

if [ "$failed" -gt 0 ]; then
    echo "demo: $failed of $count examples failed" >&2
    exit 1
fi
echo "demo: all $count examples ran"
