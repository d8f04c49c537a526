/* src/net/dropout.c — inverted dropout. */
#include "internal.h"
#include "nn/net/dropout.h"

/* ---- dropout: y = x * mask / (1 - p);  dx += dy * mask / (1 - p) ------------------------ */

static void dropout_backward(nn_node *n) {
    const float *mask = n->extra; /* already holds 0 or 1/(1-p) */
    const float *g = n->out->grad;
    float *gx = n->in[0]->grad;
    for (size_t i = 0; i < n->out->size; i++) gx[i] += g[i] * mask[i];
}

nn_tensor *nn_dropout(nn_tensor *x, float p) {
    NN_REQUIRE(x, "nn_dropout");
    if (!(p >= 0.0f && p < 1.0f)) {
        nn_fail("nn_dropout", "p is the probability of dropping: 0 <= p < 1",
                "p = %g is out of range", p);
        return NULL;
    }
    if (!nn_is_training() || p == 0.0f) return x; /* eval mode: identity, nothing recorded */
    nn_node *node;
    nn_tensor *out = nn_unary_out("nn_dropout", dropout_backward, x, &node);
    float *mask = nn_arena_alloc(x->size * sizeof(float));
    float keep_scale = 1.0f / (1.0f - p);
    nn_rng *rng = nn_global_rng();
    for (size_t i = 0; i < x->size; i++) {
        mask[i] = nn_rng_uniform(rng) < p ? 0.0f : keep_scale;
        out->data[i] = x->data[i] * mask[i];
    }
    if (node) node->extra = mask;
    return out;
}
