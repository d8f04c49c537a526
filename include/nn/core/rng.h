/* nn/core/rng.h — the one seeded random number generator everything random draws from. */
#ifndef NN_CORE_RNG_H
#define NN_CORE_RNG_H

#include <stdbool.h>
#include <stdint.h>

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

#endif
