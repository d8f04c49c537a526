/* src/net/init.c — initialisers: Xavier (Glorot) and He (Kaiming). */
#include "internal.h"
#include "nn/net/init.h"

void nn_init_xavier(nn_tensor *w, int fan_in, int fan_out, nn_rng *rng) {
    /* Var(w) = 2 / (in + out) keeps activations' variance steady for tanh/sigmoid;
     * uniform(-a, a) has variance a^2 / 3, so a = sqrt(6 / (in + out)). */
    float a = sqrtf(6.0f / (float)(fan_in + fan_out));
    nn_fill_uniform(w, -a, a, rng);
}

void nn_init_he(nn_tensor *w, int fan_in, nn_rng *rng) {
    /* ReLU zeroes half its inputs, so twice the variance: Var(w) = 2 / in. */
    nn_fill_normal(w, 0.0f, sqrtf(2.0f / (float)fan_in), rng);
}

