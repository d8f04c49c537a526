/* nn/base.h — errors, call sites and the random number generator.
 *
 * Two kinds of errors (docs/en/api.md explains both):
 *   1. Misuse (shape mismatch, bad axis, label out of range): nn_fail() builds a message that
 *      names the op, the shapes, the caller's file:line and a hint, then calls the error
 *      handler. The default handler prints the message and aborts. Tests install their own
 *      handler (which may longjmp out); if a handler returns, the op returns NULL.
 *   2. Bad input from outside (missing file, corrupt data): functions return NULL or a
 *      negative code and leave a readable message in nn_last_error().
 */
#ifndef NN_BASE_H
#define NN_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NN_MAX_DIMS 4

/* ---- errors ------------------------------------------------------------------------- */

typedef struct nn_error {
    const char *op;      /* the function that failed, e.g. "nn_matmul" */
    const char *message; /* the whole formatted message, shapes and hint included */
    const char *file;    /* the caller's file, or NULL when it is not known */
    int line;
} nn_error;

/* Called on misuse. The default prints err->message to stderr and aborts. */
typedef void (*nn_error_handler)(const nn_error *err, void *user);

/* Install a handler (NULL restores the default); returns the previous one. */
nn_error_handler nn_set_error_handler(nn_error_handler handler, void *user);

/* The message of the last error of either kind on this thread ("" when none). */
const char *nn_last_error(void);

/* Record a bad-input error (kind 2) without calling the handler; returns -1 for convenience. */
int nn_set_last_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Report misuse (kind 1). Library code calls it; `hint` may be NULL. */
void nn_fail(const char *op, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The caller's file:line. The header wraps every op in a macro that records it, so an error
 * can say where in *your* program the bad call was. Library sources define
 * NN_BUILDING_LIBRARY so their internal calls keep the user's site. */
void nn_set_site(const char *file, int line);
#ifdef NN_BUILDING_LIBRARY
#define NN_AT(call) (call)
#else
#define NN_AT(call) (nn_set_site(__FILE__, __LINE__), call)
#endif

/* ---- random numbers ------------------------------------------------------------------ */

/* PCG32 (O'Neill 2014): 64-bit state, 32-bit output, a known good small generator.
 * Everything random in the library (init, dropout, shuffling, sampling) draws from the
 * global generator unless you pass your own, so one nn_seed() makes a run repeatable. */
typedef struct nn_rng {
    uint64_t state;
    uint64_t inc;
} nn_rng;

void nn_rng_seed(nn_rng *rng, uint64_t seed);
uint32_t nn_rng_u32(nn_rng *rng);
float nn_rng_uniform(nn_rng *rng);          /* [0, 1) with 24 random bits */
float nn_rng_normal(nn_rng *rng);           /* mean 0, std 1 (Box–Muller) */
int nn_rng_int(nn_rng *rng, int n);         /* 0 .. n-1, unbiased */
void nn_rng_shuffle(nn_rng *rng, int *a, int n); /* Fisher–Yates */

void nn_seed(uint64_t seed);   /* seed the global generator */
nn_rng *nn_global_rng(void);   /* the global generator (seeded with 42 until nn_seed) */

/* Parse "--seed N" from argv, default `fallback`; examples use it and print the seed.
 * The nn_arg_* readers stop the program (exit 2, with a message) on a value that is not a
 * number, e.g. "--seed abc", instead of running with a setting you did not ask for. */
uint64_t nn_arg_seed(int argc, char **argv, uint64_t fallback);
/* True when `flag` (e.g. "--quick") is among argv. */
bool nn_arg_flag(int argc, char **argv, const char *flag);
/* The integer after `name` in argv (e.g. --epochs 5), or `fallback`. */
long nn_arg_int(int argc, char **argv, const char *name, long fallback);
/* The float after `name` in argv, or `fallback`. */
double nn_arg_float(int argc, char **argv, const char *name, double fallback);
/* The string after `name` in argv, or `fallback`. */
const char *nn_arg_str(int argc, char **argv, const char *name, const char *fallback);

/* Wall-clock seconds since an arbitrary start (monotonic); for progress and benchmarks. */
double nn_seconds(void);

#endif
