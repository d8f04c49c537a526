/* src/cli/args.c — reading --flags from argv for the example programs. */
#include "internal.h"
#include "nn/cli/args.h"
#include <errno.h>
#include <stdio.h>

/* ---- argv helpers ---------------------------------------------------------------------- */

static const char *arg_value(int argc, char **argv, const char *name) {
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return NULL;
}

bool nn_arg_flag(int argc, char **argv, const char *flag) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], flag) == 0) return true;
    return false;
}

/* A command-line value that is not a number stops the program with a message: running with
 * a silently different setting would be worse. */
static void bad_arg(const char *name, const char *value, const char *want) {
    fflush(stdout);
    fprintf(stderr, "bad value for %s: '%s' (expected %s)\n", name, value, want);
    exit(2);
}

long nn_arg_int(int argc, char **argv, const char *name, long fallback) {
    const char *v = arg_value(argc, argv, name);
    if (!v) return fallback;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno) bad_arg(name, v, "an integer");
    return x;
}

double nn_arg_float(int argc, char **argv, const char *name, double fallback) {
    const char *v = arg_value(argc, argv, name);
    if (!v) return fallback;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || errno || !isfinite(x)) bad_arg(name, v, "a number");
    return x;
}

const char *nn_arg_str(int argc, char **argv, const char *name, const char *fallback) {
    const char *v = arg_value(argc, argv, name);
    return v ? v : fallback;
}

uint64_t nn_arg_seed(int argc, char **argv, uint64_t fallback) {
    const char *v = arg_value(argc, argv, "--seed");
    if (!v) return fallback;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (end == v || *end || errno || v[0] == '-') bad_arg("--seed", v, "an integer >= 0");
    return x;
}
