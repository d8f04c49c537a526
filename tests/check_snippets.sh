#!/bin/sh
# tests/check_snippets.sh — the C code in the docs must compile (and run), so it cannot rot.
#
# Every fenced block that opens with a line exactly ```c in README.md and docs/**/*.md is
# checked against $BUILD/libnn.a (default build/):
#   - a block containing `main(` is a whole program: compiled, linked and run (60 s limit,
#     in a scratch directory); it must exit 0;
#   - any other block is a fragment: it gets #include <nn.h>, <stdio.h>, <math.h>,
#     <stdlib.h> in front and is compiled with -c only, so it must consist of complete
#     declarations and function definitions at file scope.
# Prints `snippet OK file:line` or `snippet FAIL file:line` (with the compiler's words), then
# `snippets: N passed, M failed`. Exits non-zero on any failure.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
build=${BUILD:-build}
cc=${CC:-cc}
lib="$build/libnn.a"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nn-snippets.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# The flags a student would use. A library built with OpenMP needs -fopenmp to link; one
# built with sanitizers needs them too.
cflags="-std=c11 -Wall -Wextra -Werror -Iinclude"
libs="$(pkg-config --libs stb 2>/dev/null || echo -lstb) -lz -lm"
if printf 'int main(void){return 0;}' | $cc -fopenmp -x c - -o "$tmp/omp" >/dev/null 2>&1; then
    libs="$libs -fopenmp"
fi
case $build in
    *sanitize*) cflags="$cflags -fsanitize=address,undefined -fno-omit-frame-pointer" ;;
esac
if command -v timeout >/dev/null 2>&1; then run_limit="timeout 60"; else run_limit=""; fi

# The markdown files, README first.
files=""
[ -f README.md ] && files="README.md"
if [ -d docs ]; then
    files="$files $(find docs -name '*.md' -type f | LC_ALL=C sort | tr '\n' ' ')"
fi

passed=0
failed=0
n=0
for md in $files; do
    # Split the file's ```c blocks into $tmp/blocks/<k>.c; index lists "<k> <line>" with the
    # line number of the opening fence.
    rm -rf "$tmp/blocks"; mkdir "$tmp/blocks"
    awk -v dir="$tmp/blocks" '
        !inside && $0 == "```c"  { inside = 1; k++; out = dir "/" k ".c"; printf "" > out
                                   print k, NR > (dir "/index"); next }
        inside && /^[ \t]*```/   { inside = 0; close(out); next }
        inside                   { print > out }
    ' "$md"
    [ -f "$tmp/blocks/index" ] || continue

    while read -r k line; do
        n=$((n + 1))
        src="$tmp/snippet$n.c"
        where="$md:$line"
        if grep -q 'main(' "$tmp/blocks/$k.c"; then
            # A whole program: build it and run it in a scratch directory.
            # (#line makes the compiler name the markdown file and its line numbers.)
            { printf '#line %s "%s"\n' "$((line + 1))" "$md"; cat "$tmp/blocks/$k.c"; } >"$src"
            work="$tmp/run$n"; mkdir "$work"
            # shellcheck disable=SC2086  # flag lists split on purpose
            if ! $cc $cflags "$src" -o "$tmp/prog$n" "$lib" $libs >"$tmp/out" 2>&1; then
                status="FAIL"
            else
                (cd "$work" && NN_REPO_ROOT=$root $run_limit "$tmp/prog$n" </dev/null) >"$tmp/out" 2>&1
                rc=$?
                if [ "$rc" -eq 0 ]; then
                    status="OK"
                else
                    status="FAIL"
                    [ "$rc" -eq 124 ] && [ -n "$run_limit" ] && rc="124 (timed out after 60 s)"
                    echo "(the program exited with status $rc)" >>"$tmp/out"
                fi
            fi
        else
            # A fragment: give it the usual includes and compile it only.
            {
                printf '#include <nn.h>\n#include <stdio.h>\n#include <math.h>\n#include <stdlib.h>\n'
                printf '#line %s "%s"\n' "$((line + 1))" "$md"
                cat "$tmp/blocks/$k.c"
            } >"$src"
            # shellcheck disable=SC2086
            if $cc $cflags -c "$src" -o "$tmp/frag$n.o" >"$tmp/out" 2>&1; then
                status="OK"
            else
                status="FAIL"
            fi
        fi
        if [ "$status" = OK ]; then
            passed=$((passed + 1))
            echo "snippet OK $where"
        else
            failed=$((failed + 1))
            echo "snippet FAIL $where"
            sed 's/^/    /' "$tmp/out"
        fi
    done <"$tmp/blocks/index"
done

echo "snippets: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
