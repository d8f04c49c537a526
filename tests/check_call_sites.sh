#!/bin/sh
# tests/check_call_sites.sh — every public function that can report an error has a call-site
# macro in include/nn/call_sites.h, so that its error names the caller's file:line.
#
# How "can report an error" is decided, from the sources themselves:
#   - a function (public or static, in src/) whose body calls nn_fail, nn_set_last_error or
#     NN_REQUIRE*, or a macro whose text does, can fail;
#   - so can any function whose body calls one that can fail (repeated until nothing changes).
# Out-of-memory aborts (nn_xmalloc) do not count: they are not misuse at a call site.
# Then every function declared in include/nn/*/*.h that can fail must have a line
#   #define NAME(...) NN_AT(NAME(__VA_ARGS__))
# in include/nn/call_sites.h, and every such line must name a declared function, once.
#
# Prints what is missing and ends with `call sites: N passed, M failed` (one check each for
# "no missing macro" and "no stale macro"). Exits non-zero on a failure.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1

headers=$(find include/nn -mindepth 2 -name '*.h' | sort)
sources=$(find src -name '*.c' -o -name '*.h' | sort)

# shellcheck disable=SC2086  # the file lists split into words on purpose
awk -v sites=include/nn/call_sites.h '
function strip(s) { gsub(/\/\*.*\*\//, "", s); return s }
# The calls a line of code makes: every identifier followed by "(".
function calls_in(text, owner,    rest, m, name) {
    rest = text
    while (match(rest, /[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/)) {
        name = substr(rest, RSTART, RLENGTH)
        sub(/[ \t]*\($/, "", name)
        calls[owner] = calls[owner] " " name
        rest = substr(rest, RSTART + RLENGTH)
    }
}
function marks_failure(text) {
    return text ~ /(^|[^A-Za-z0-9_])(nn_fail|nn_set_last_error)[ \t]*\(/ || text ~ /NN_REQUIRE/
}
FILENAME == sites {
    if (match($0, /^#define nn_[a-z0-9_]+\(\.\.\.\) NN_AT\(/)) {
        name = substr($0, 9); sub(/\(.*/, "", name)
        if (name in macro) { printf "duplicate call-site macro: %s\n", name; duplicates++ }
        macro[name] = 1
    }
    next
}
FILENAME ~ /^include\// {
    # A public declaration: a line at column 0 that starts with a type and names nn_x(.
    line = strip($0)
    if (line ~ /^(#|typedef|extern|struct|enum|[ \t*\/}])/ || line == "") next
    if (match(line, /nn_[a-z0-9_]+[ \t]*\(/)) {
        name = substr(line, RSTART, RLENGTH); sub(/[ \t]*\($/, "", name)
        if (!(name in declared)) { declared[name] = FILENAME; ndeclared++ }
    }
    next
}
{
    # Sources: macros (with their continuation lines) and function bodies.
    line = $0
    if (in_macro) {
        mtext = mtext " " line
        if (line !~ /\\$/) { in_macro = 0; if (marks_failure(mtext)) failing[mname] = 1 }
        next
    }
    if (match(line, /^#[ \t]*define[ \t]+[A-Za-z_][A-Za-z0-9_]*/)) {
        mname = line; sub(/^#[ \t]*define[ \t]+/, "", mname); sub(/[^A-Za-z0-9_].*/, "", mname)
        mtext = line
        if (line ~ /\\$/) { in_macro = 1 } else if (marks_failure(mtext)) failing[mname] = 1
        next
    }
    if (in_body) {
        calls_in(strip(line), owner)
        if (marks_failure(line)) failing[owner] = 1
        if (line ~ /^}/) in_body = 0
        next
    }
    if (pending) {   # a definition whose parameters run over several lines
        if (line ~ /;[ \t]*$/ && line !~ /\{/) { pending = 0; next }   # a prototype
        if (line ~ /\{/) { pending = 0; in_body = 1; calls_in(line, owner) }
        next
    }
    if (line ~ /^(#|typedef|struct|enum|extern|[ \t}\/*])/ || line == "") next
    if (!match(line, /[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/)) next
    fname = substr(line, RSTART, RLENGTH); sub(/[ \t]*\($/, "", fname)
    # statics are known per file; everything else (and static inline in src headers) by name
    owner = (line ~ /^static/ && FILENAME ~ /\.c$/) ? FILENAME ":" fname : fname
    if (line ~ /^static/ && FILENAME ~ /\.c$/) local[FILENAME ":" fname] = 1
    file_of[owner] = FILENAME
    if (line ~ /\{/) {
        body = substr(line, index(line, "{"))
        calls_in(strip(body), owner)
        if (marks_failure(body)) failing[owner] = 1
        if (line !~ /}[ \t]*$/) in_body = 1
    } else if (line !~ /;[ \t]*$/) pending = 1
}
END {
    # Propagate: a function that calls a failing one can fail. Calls resolve to the static of
    # the same file first, then to a global function or macro of that name.
    do {
        changed = 0
        for (f in calls) {
            if (f in failing) continue
            n = split(calls[f], list, " ")
            for (k = 1; k <= n; k++) {
                c = list[k]
                key = (file_of[f] ":" c) in local ? file_of[f] ":" c : c
                if (key in failing) { failing[f] = 1; changed = 1; break }
            }
        }
    } while (changed)
    missing = 0; can_fail = 0
    for (name in declared) {
        if (!(name in failing)) continue
        can_fail++
        if (!(name in macro)) {
            printf "missing call-site macro: %s (declared in %s) can report an error\n", name, declared[name]
            missing++
        }
    }
    stale = duplicates
    for (name in macro)
        if (!(name in declared)) { printf "stale call-site macro: %s is not declared in include/nn/\n", name; stale++ }
    for (name in declared) if (!(name in failing) && ENVIRON["VERBOSE"] != "") print "cannot fail: " name
    printf "%d public functions, %d can report an error, %d lack a call-site macro; %d stale or duplicate macros\n", ndeclared, can_fail, missing, stale
    passed = (missing == 0) + (stale == 0)
    printf "call sites: %d passed, %d failed\n", passed, 2 - passed
    exit (passed == 2) ? 0 : 1
}' include/nn/call_sites.h $headers $sources
