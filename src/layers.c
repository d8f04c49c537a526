/* src/layers.c — initialisers, the linear layer, dropout. */
#include "internal.h"
#include <stdio.h>

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

nn_linear *nn_linear_new(nn_model *m, const char *name, int in, int out, nn_init init) {
    NN_REQUIRE(m, "nn_linear_new");
    if (in < 1 || out < 1) {
        nn_fail("nn_linear_new", "a layer needs at least one input and one output",
                "in = %d, out = %d", in, out);
        return NULL;
    }
    char pname[256];
    nn_linear *l = nn_model_alloc(m, sizeof *l);
    l->in = in;
    l->out = out;
    snprintf(pname, sizeof pname, "%s.W", name ? name : "linear");
    l->W = nn_model_param(m, pname, 2, (int[]){in, out}, true);
    snprintf(pname, sizeof pname, "%s.b", name ? name : "linear");
    l->b = nn_model_param(m, pname, 1, (int[]){out}, false);
    if (!l->W || !l->b) return NULL;
    switch (init) {
    case NN_INIT_XAVIER: nn_init_xavier(l->W, in, out, NULL); break;
    case NN_INIT_HE: nn_init_he(l->W, in, NULL); break;
    case NN_INIT_ZEROS: break;
    }
    return l;
}

/* Y = X W + b: a matmul, then the bias broadcast over the rows. */
nn_tensor *(nn_linear_forward)(const nn_linear *layer, nn_tensor *x) {
    NN_REQUIRE(layer, "nn_linear_forward");
    NN_REQUIRE(x, "nn_linear_forward");
    if (x->ndim < 2) {
        nn_fail("nn_linear_forward", "one sample per row: nn_reshape a single sample to "
                "(1, in)", "input %s has no batch dimension; expected (N, %d)", SHAPE(x),
                layer->in);
        return NULL;
    }
    if (x->shape[x->ndim - 1] != layer->in) {
        nn_fail("nn_linear_forward", "the input's last dim must equal the layer's `in` "
                "(one sample per row)",
                "input %s does not fit a layer W %s (in = %d)", SHAPE(x), SHAPE(layer->W),
                layer->in);
        return NULL;
    }
    return nn_add(nn_matmul(x, layer->W), layer->b);
}

/* ---- dropout: y = x * mask / (1 - p);  dx += dy * mask / (1 - p) ------------------------ */

static void dropout_backward(nn_node *n) {
    const float *mask = n->extra; /* already holds 0 or 1/(1-p) */
    const float *g = n->out->grad;
    float *gx = n->in[0]->grad;
    for (size_t i = 0; i < n->out->size; i++) gx[i] += g[i] * mask[i];
}

nn_tensor *(nn_dropout)(nn_tensor *x, float p) {
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
