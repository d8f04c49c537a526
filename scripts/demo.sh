#!/bin/sh
# scripts/demo.sh BUILD_DIR — the project's main job (`make demo`).
#
# Runs every chapter example, BUILD_DIR/examples/<chapter>/<name>, with its default settings
# (no arguments), in path order so ch01 comes before ch02, then prints a summary table:
# program, seconds, and the example's last `result: ...` line.
#
# Each example runs with the repository root as its working directory, so the pictures it
# writes by default (--out out: SVG/PNG) land in out/ there. NN_REPO_ROOT is exported too
# (as in the smoke tests); large datasets have absolute default paths. Under stdbuf (GNU
# coreutils, when present) stdout and stderr are line-buffered, so the log keeps the order
# in which an example printed its lines.
# The summary cuts each result line at about 100 characters; the full line is in the log.
# Fails when an example exits non-zero or prints no `result:` line. An example whose large
# dataset is absent may print `result: skipped=1 reason=...` and exit 0: that is fine.
# NN_DEMO_ARGS (e.g. --quick) is passed to every example: CI runs the whole script that way,
# in a minute, instead of the defaults' nine minutes on two cores.
set -u

build=${1:?usage: sh scripts/demo.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
# The build folder as an absolute path (the names in the table are relative to it).
build=$(cd "$build" 2>/dev/null && pwd) || { echo "demo: no build folder $1" >&2; exit 1; }
NN_REPO_ROOT=$root
export NN_REPO_ROOT

# Through the pipe to tee, stdout would be block-buffered and show up after the progress
# lines on stderr; stdbuf makes both line-buffered.
if command -v stdbuf >/dev/null 2>&1; then
    linebuf="stdbuf -oL -eL"
else
    linebuf=""
fi

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
    # shellcheck disable=SC2086 # $linebuf is a command prefix or nothing, NN_DEMO_ARGS words
    { $linebuf "$prog" ${NN_DEMO_ARGS:-}; echo $? >"$tmp/rc"; } 2>&1 | tee "$tmp/log"
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
    { if (length($1) > w) w = length($1); name[NR] = $1; sec[NR] = $2; st[NR] = $3
      res[NR] = length($4) > 100 ? substr($4, 1, 97) "..." : $4 }
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
