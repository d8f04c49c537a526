/* src/net/embedding.c — the embedding layer: a table W (vocab, dim) in the model, looked up
 * with nn_embedding. */
#include "internal.h"
#include "nn/ops/embedding.h"
#include "nn/net/embedding.h"

nn_embedding_layer *nn_embedding_layer_new(nn_model *m, const char *name, int vocab, int dim,
                                           float std) {
    NN_REQUIRE(m, "nn_embedding_layer_new");
    if (vocab < 1 || dim < 1) {
        nn_fail("nn_embedding_layer_new", "a table needs at least one token and one number "
                "per token", "vocab = %d, dim = %d", vocab, dim);
        return NULL;
    }
    char pname[256];
    nn_embedding_layer *l = nn_model_alloc(m, sizeof *l);
    l->vocab = vocab;
    l->dim = dim;
    snprintf(pname, sizeof pname, "%s.W", name ? name : "embedding");
    l->W = nn_model_param(m, pname, 2, (int[]){vocab, dim}, true);
    if (!l->W) return NULL;
    nn_fill_normal(l->W, 0.0f, std > 0 ? std : 1.0f, NULL);
    return l;
}

/* (B, T) ids -> (B, T, dim): row ids[b * T + t] of W at [b, t, :]. */
nn_tensor *nn_embedding_layer_forward(const nn_embedding_layer *layer, const int *ids, int B,
                                      int T) {
    NN_REQUIRE(layer, "nn_embedding_layer_forward");
    if (B < 1 || T < 1) {
        nn_fail("nn_embedding_layer_forward", "B sequences of T ids each, both >= 1",
                "B = %d, T = %d", B, T);
        return NULL;
    }
    return nn_embedding(layer->W, ids, NN_SHAPE(B, T));
}
