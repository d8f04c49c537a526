/* src/net/layer_norm.c — the LayerNorm layer: gamma and beta in the model, nn_layer_norm. */
#include "internal.h"
#include "nn/ops/layer_norm.h"
#include "nn/net/layer_norm.h"

nn_layer_norm_layer *nn_layer_norm_layer_new(nn_model *m, const char *name, int dim) {
    NN_REQUIRE(m, "nn_layer_norm_layer_new");
    if (dim < 1) {
        nn_fail("nn_layer_norm_layer_new", "at least one feature", "dim = %d", dim);
        return NULL;
    }
    char pname[256];
    nn_layer_norm_layer *l = nn_model_alloc(m, sizeof *l);
    l->dim = dim;
    l->eps = 1e-5f;
    snprintf(pname, sizeof pname, "%s.gamma", name ? name : "ln");
    l->gamma = nn_model_param(m, pname, 1, (int[]){dim}, false);
    snprintf(pname, sizeof pname, "%s.beta", name ? name : "ln");
    l->beta = nn_model_param(m, pname, 1, (int[]){dim}, false);
    if (!l->gamma || !l->beta) return NULL;
    nn_fill(l->gamma, 1.0f);
    return l;
}

nn_tensor *nn_layer_norm_layer_forward(const nn_layer_norm_layer *layer, nn_tensor *x) {
    NN_REQUIRE(layer, "nn_layer_norm_layer_forward");
    return nn_layer_norm(x, layer->gamma, layer->beta, layer->eps);
}
