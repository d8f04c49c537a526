/* src/ops/reduce.c — sum, mean, max (over everything or along an axis).
 *
 * Along an axis, a tensor is viewed as (outer, n, inner): n = shape[axis], outer = product of
 * the dims before it, inner = product of the dims after it. Element (o, k, i) sits at
 * (o * n + k) * inner + i, and the reduced output element (o, i) at o * inner + i.
 */
#include "internal.h"
#include "nn/ops/reduce.h"

/* The output shape of reducing `axis`: that dim becomes 1 (keepdim) or disappears. */
static int reduced_shape(const nn_tensor *x, int axis, bool keepdim, int *shape) {
    int nd = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (d != axis) shape[nd++] = x->shape[d];
        else if (keepdim) shape[nd++] = 1;
    }
    return nd;
}

/* ---- sum and mean of everything: y = sum x (times 1/N for the mean); dx += dy (/ N) ----- */

static void sum_all_backward(nn_node *n) {
    float g = n->out->grad[0] * n->f[0]; /* f[0] = 1 for sum, 1/N for mean */
    float *gx = n->in[0]->grad;
    for (size_t i = 0; i < n->in[0]->size; i++) gx[i] += g;
}

static nn_tensor *sum_all(const char *op, nn_tensor *x, float scale) {
    NN_REQUIRE(x, op);
    nn_node *node;
    nn_tensor *out = nn_record(op, sum_all_backward, 0, NULL, x, NULL, NULL, &node);
    if (node) node->f[0] = scale;
    double s = 0.0; /* double: summing many floats loses digits otherwise */
    for (size_t i = 0; i < x->size; i++) s += x->data[i];
    out->data[0] = (float)(s * scale);
    return out;
}

nn_tensor *nn_sum(nn_tensor *x) { return sum_all("nn_sum", x, 1.0f); }
nn_tensor *nn_mean(nn_tensor *x) {
    return x ? sum_all("nn_mean", x, 1.0f / (float)x->size) : sum_all("nn_mean", x, 1.0f);
}

/* ---- sum / mean along an axis: y[o,i] = scale * sum_k x[o,k,i];  dx[o,k,i] += scale dy[o,i] */

static void sum_axis_backward(nn_node *n) {
    nn_axis_view v = nn_axis_view_of(n->in[0], n->i[0]);
    float scale = n->f[0];
    const float *g = n->out->grad;
    float *gx = n->in[0]->grad;
    for (size_t o = 0; o < v.outer; o++)
        for (size_t k = 0; k < v.n; k++)
            for (size_t i = 0; i < v.inner; i++)
                gx[(o * v.n + k) * v.inner + i] += scale * g[o * v.inner + i];
}

static nn_tensor *sum_axis(const char *op, nn_tensor *x, int axis, bool keepdim, bool mean) {
    NN_REQUIRE(x, op);
    int a = nn_norm_axis(op, x, axis);
    if (a < 0) return NULL;
    int shape[NN_MAX_DIMS];
    int nd = reduced_shape(x, a, keepdim, shape);
    nn_node *node;
    nn_tensor *out = nn_record(op, sum_axis_backward, nd, shape, x, NULL, NULL, &node);
    nn_axis_view v = nn_axis_view_of(x, a);
    float scale = mean ? 1.0f / (float)v.n : 1.0f;
    if (node) {
        node->i[0] = a;
        node->f[0] = scale;
    }
    for (size_t o = 0; o < v.outer; o++)
        for (size_t k = 0; k < v.n; k++)
            for (size_t i = 0; i < v.inner; i++)
                out->data[o * v.inner + i] += x->data[(o * v.n + k) * v.inner + i];
    if (mean)
        for (size_t j = 0; j < out->size; j++) out->data[j] *= scale;
    return out;
}

nn_tensor *nn_sum_axis(nn_tensor *x, int axis, bool keepdim) {
    return sum_axis("nn_sum_axis", x, axis, keepdim, false);
}
nn_tensor *nn_mean_axis(nn_tensor *x, int axis, bool keepdim) {
    return sum_axis("nn_mean_axis", x, axis, keepdim, true);
}

/* ---- max along an axis: y[o,i] = max_k x[o,k,i];  the gradient goes to the argmax only --
 * (the first one on ties; the first NaN when there is one, so NaN propagates). */

static void max_axis_backward(nn_node *n) {
    const int *argmax = n->extra;
    nn_axis_view v = nn_axis_view_of(n->in[0], n->i[0]);
    const float *g = n->out->grad;
    float *gx = n->in[0]->grad;
    for (size_t o = 0; o < v.outer; o++)
        for (size_t i = 0; i < v.inner; i++)
            gx[(o * v.n + (size_t)argmax[o * v.inner + i]) * v.inner + i] += g[o * v.inner + i];
}

nn_tensor *nn_max_axis(nn_tensor *x, int axis, bool keepdim) {
    NN_REQUIRE(x, "nn_max_axis");
    int a = nn_norm_axis("nn_max_axis", x, axis);
    if (a < 0) return NULL;
    int shape[NN_MAX_DIMS];
    int nd = reduced_shape(x, a, keepdim, shape);
    nn_node *node;
    nn_tensor *out = nn_record("nn_max_axis", max_axis_backward, nd, shape, x, NULL, NULL, &node);
    nn_axis_view v = nn_axis_view_of(x, a);
    int *argmax = nn_arena_alloc(out->size * sizeof(int));
    for (size_t o = 0; o < v.outer; o++)
        for (size_t i = 0; i < v.inner; i++) {
            const float *col = x->data + o * v.n * v.inner + i;
            size_t best = 0;
            for (size_t k = 1; k < v.n; k++)
                if (nn_beats(col[k * v.inner], col[best * v.inner])) best = k;
            out->data[o * v.inner + i] = col[best * v.inner];
            argmax[o * v.inner + i] = (int)best;
        }
    if (node) {
        node->i[0] = a;
        node->extra = argmax;
    }
    return out;
}

void nn_argmax_rows(const nn_tensor *x, int *out) {
    NN_REQUIRE_OR(out, "nn_argmax_rows", );
    if (!nn_require_live(x, "nn_argmax_rows", "x")) return;
    if (!x || x->ndim != 2) {
        nn_fail("nn_argmax_rows", "pass logits or probabilities of shape (N, C)",
                "expected a 2-D tensor, got shape %s", SHAPE(x));
        return;
    }
    int rows = x->shape[0], cols = x->shape[1];
    for (int r = 0; r < rows; r++) {
        const float *row = x->data + (size_t)r * cols;
        int best = 0;
        for (int c = 1; c < cols; c++)
            if (nn_beats(row[c], row[best])) best = c;
        out[r] = best;
    }
}

