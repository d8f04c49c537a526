/* src/ops/embedding.c — the embedding lookup (词嵌入): y[p] = W[ids[p]];  dW[ids[p]] += dy[p].
 *
 *   W (V, E), ids (N) or (B, T) or (A, B, T)  ->  y (N, E), (B, T, E), (A, B, T, E)
 *
 * Position p runs over the ids in row-major order (p = b * T + t for (B, T) ids), and row p
 * of y (E floats, at y + p * E) is a copy of row ids[p] of W. */
#include "internal.h"
#include "nn/ops/embedding.h"

/* dW[ids[p], :] += dy[p, :], position after position: a row picked at several positions
 * collects every one of their gradients (so this loop is not run in parallel). */
static void embedding_backward(nn_node *n) {
    const int *ids = n->extra;                     /* our own copy, made in forward */
    size_t E = (size_t)n->in[0]->shape[1], count = n->out->size / E;
    for (size_t p = 0; p < count; p++) {
        const float *g = n->out->grad + p * E;     /* dy[p, :] */
        float *gw = n->in[0]->grad + (size_t)ids[p] * E;
        for (size_t e = 0; e < E; e++) gw[e] += g[e];
    }
}

/* "(1, 2)": the multi-index of flat position p in ids of `shape`, for error messages. */
static void position_str(size_t p, int ndim, const int *shape, char *buf, size_t size) {
    int idx[NN_MAX_DIMS];
    for (int d = ndim - 1; d >= 0; d--) {
        idx[d] = (int)(p % (size_t)shape[d]);
        p /= (size_t)shape[d];
    }
    int len = snprintf(buf, size, "(");
    for (int d = 0; d < ndim && len > 0 && (size_t)len < size; d++)
        len += snprintf(buf + len, size - (size_t)len, d ? ", %d" : "%d", idx[d]);
    if (len > 0 && (size_t)len < size) snprintf(buf + len, size - (size_t)len, ")");
}

nn_tensor *nn_embedding(nn_tensor *W, const int *ids, int ndim, const int *shape) {
    NN_REQUIRE(W, "nn_embedding");
    NN_REQUIRE(ids, "nn_embedding");
    if (W->ndim != 2) {
        nn_fail("nn_embedding", "the table W is (V, E): one row of E numbers per token",
                "W has shape %s", SHAPE(W));
        return NULL;
    }
    if (ndim < 1 || ndim > NN_MAX_DIMS - 1 || !shape) {
        nn_fail("nn_embedding", "ids have 1 to 3 dims, e.g. NN_SHAPE(B, T); the result has "
                "one more (E)", "ids with %d dims", ndim);
        return NULL;
    }
    size_t count = 1, E = (size_t)W->shape[1];
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 1 || count > NN_MAX_ELEMENTS / E / (size_t)shape[d]) {
            nn_fail("nn_embedding", "every dim of ids is >= 1 (and the result below 2^40 "
                    "elements)", "ids dim %d has size %d", d, shape[d]);
            return NULL;
        }
        count *= (size_t)shape[d];
    }
    int V = W->shape[0];
    for (size_t p = 0; p < count; p++)
        if (ids[p] < 0 || ids[p] >= V) {
            char where[64] = "";
            if (ndim > 1) position_str(p, ndim, shape, where, sizeof where);
            nn_fail("nn_embedding", "each id must be a row of W: 0 .. V-1 (is the vocabulary "
                    "size right?)", "ids[%zu] = %d%s%s is out of range for W %s (V = %d)", p,
                    ids[p], ndim > 1 ? " at " : "", where, SHAPE(W), V);
            return NULL;
        }

    int out_shape[NN_MAX_DIMS];                    /* ids' shape, then E */
    memcpy(out_shape, shape, (size_t)ndim * sizeof(int));
    out_shape[ndim] = (int)E;
    nn_node *node;
    nn_tensor *out = nn_record("nn_embedding", embedding_backward, ndim + 1, out_shape, W, NULL,
                               NULL, &node);
    if (node) { /* keep our own copy: the caller's ids may change before backward */
        int *saved = nn_arena_alloc(count * sizeof(int));
        memcpy(saved, ids, count * sizeof(int));
        node->extra = saved;
    }
    for (size_t p = 0; p < count; p++)             /* y[p, :] = W[ids[p], :] */
        memcpy(out->data + p * E, W->data + (size_t)ids[p] * E, E * sizeof(float));
    return out;
}
