/* src/base.c — errors with the caller's file:line, the PCG32 generator, argv helpers. */
#include "internal.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

/* ---- errors ------------------------------------------------------------------------- */

static _Thread_local const char *site_file;
static _Thread_local int site_line;
static _Thread_local char last_error[2048];

static nn_error_handler error_handler;   /* NULL means the default: print and abort */
static void *error_user;

void nn_set_site(const char *file, int line) {
    site_file = file;
    site_line = line;
}

nn_error_handler nn_set_error_handler(nn_error_handler handler, void *user) {
    nn_error_handler old = error_handler;
    error_handler = handler;
    error_user = user;
    return old;
}

const char *nn_last_error(void) { return last_error; }

int nn_set_last_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return -1;
}

void nn_fail(const char *op, const char *hint, const char *fmt, ...) {
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);

    int n = snprintf(last_error, sizeof last_error, "nn error in %s: %s", op, what);
    if (site_file && n > 0 && (size_t)n < sizeof last_error)
        n += snprintf(last_error + n, sizeof last_error - n, "\n  called at %s:%d", site_file,
                      site_line);
    if (hint && n > 0 && (size_t)n < sizeof last_error)
        snprintf(last_error + n, sizeof last_error - n, "\n  hint: %s", hint);

    nn_error err = {op, last_error, site_file, site_line};
    if (error_handler) {
        error_handler(&err, error_user);
        return; /* the handler returned: the op will return NULL */
    }
    fflush(stdout); /* keep what the program printed before the error */
    fprintf(stderr, "%s\n", last_error);
    fflush(stderr);
    abort();
}

void *nn_xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "nn: out of memory allocating %zu bytes\n", bytes);
        abort();
    }
    return p;
}

void *nn_xcalloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "nn: out of memory allocating %zu x %zu bytes\n", count, size);
        abort();
    }
    return p;
}

void *nn_xrealloc(void *p, size_t bytes) {
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q) {
        fprintf(stderr, "nn: out of memory reallocating %zu bytes\n", bytes);
        abort();
    }
    return q;
}

/* ---- PCG32 --------------------------------------------------------------------------- */
/* state' = state * 6364136223846793005 + inc;  output = rotate(xorshift(state)).
 * Seeding follows the reference: state = 0, step, add the seed, step. */

uint32_t nn_rng_u32(nn_rng *rng) {
    uint64_t old = rng->state;
    rng->state = old * 6364136223846793005ULL + rng->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
}

void nn_rng_seed(nn_rng *rng, uint64_t seed) {
    rng->state = 0;
    rng->inc = (0xda3e39cb94b95bdbULL << 1u) | 1u; /* a fixed odd stream constant */
    nn_rng_u32(rng);
    rng->state += seed;
    nn_rng_u32(rng);
}

float nn_rng_uniform(nn_rng *rng) {
    return (float)(nn_rng_u32(rng) >> 8) * (1.0f / 16777216.0f); /* 24 bits: exact in float */
}

float nn_rng_normal(nn_rng *rng) {
    /* Box–Muller; u1 in (0, 1] so the log is finite. */
    float u1 = 1.0f - nn_rng_uniform(rng);
    float u2 = nn_rng_uniform(rng);
    return sqrtf(-2.0f * logf(u1)) * cosf(6.28318530718f * u2);
}

int nn_rng_int(nn_rng *rng, int n) {
    if (n <= 1) return 0;
    /* Rejection sampling removes the modulo bias. */
    uint32_t bound = (uint32_t)n;
    uint32_t threshold = (0u - bound) % bound;
    for (;;) {
        uint32_t r = nn_rng_u32(rng);
        if (r >= threshold) return (int)(r % bound);
    }
}

void nn_rng_shuffle(nn_rng *rng, int *a, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = nn_rng_int(rng, i + 1);
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

static nn_rng global_rng;
static bool global_seeded;

nn_rng *nn_global_rng(void) {
    if (!global_seeded) {
        nn_rng_seed(&global_rng, 42);
        global_seeded = true;
    }
    return &global_rng;
}

void nn_seed(uint64_t seed) {
    nn_rng_seed(&global_rng, seed);
    global_seeded = true;
}

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

double nn_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
