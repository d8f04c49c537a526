/* src/core/rng.c — the PCG32 generator and the global one everything random draws from. */
#include "internal.h"

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
