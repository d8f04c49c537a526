/* src/ops_reduce.c — sum, mean, max (over everything or along an axis), softmax and
 * log-softmax along the last axis.
 *
 * Along an axis, a tensor is viewed as (outer, n, inner): n = shape[axis], outer = product of
 * the dims before it, inner = product of the dims after it. Element (o, k, i) sits at
 * (o * n + k) * inner + i, and the reduced output element (o, i) at o * inner + i.
 */
#include "internal.h"

int nn_norm_axis(const char *op, const nn_tensor *x, int axis) {
    int a = axis < 0 ? axis + x->ndim : axis;
    if (x->ndim == 0 || a < 0 || a >= x->ndim) {
        nn_fail(op, "an axis runs from 0 to ndim-1, or from -ndim to -1 counting from the end",
                "axis %d is out of range for shape %s", axis, SHAPE(x));
        return -1;
    }
    return a;
}

typedef struct { size_t outer, n, inner; } axis_view;

static axis_view view_along(const nn_tensor *x, int axis) {
    axis_view v = {1, (size_t)x->shape[axis], 1};
    for (int d = 0; d < axis; d++) v.outer *= (size_t)x->shape[d];
    for (int d = axis + 1; d < x->ndim; d++) v.inner *= (size_t)x->shape[d];
    return v;
}

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

nn_tensor *(nn_sum)(nn_tensor *x) { return sum_all("nn_sum", x, 1.0f); }
nn_tensor *(nn_mean)(nn_tensor *x) {
    return x ? sum_all("nn_mean", x, 1.0f / (float)x->size) : sum_all("nn_mean", x, 1.0f);
}

/* ---- sum / mean along an axis: y[o,i] = scale * sum_k x[o,k,i];  dx[o,k,i] += scale dy[o,i] */

static void sum_axis_backward(nn_node *n) {
    axis_view v = view_along(n->in[0], n->i[0]);
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
    axis_view v = view_along(x, a);
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

nn_tensor *(nn_sum_axis)(nn_tensor *x, int axis, bool keepdim) {
    return sum_axis("nn_sum_axis", x, axis, keepdim, false);
}
nn_tensor *(nn_mean_axis)(nn_tensor *x, int axis, bool keepdim) {
    return sum_axis("nn_mean_axis", x, axis, keepdim, true);
}

/* ---- max along an axis: y[o,i] = max_k x[o,k,i];  the gradient goes to the argmax only -- */

static void max_axis_backward(nn_node *n) {
    const int *argmax = n->extra;
    axis_view v = view_along(n->in[0], n->i[0]);
    const float *g = n->out->grad;
    float *gx = n->in[0]->grad;
    for (size_t o = 0; o < v.outer; o++)
        for (size_t i = 0; i < v.inner; i++)
            gx[(o * v.n + (size_t)argmax[o * v.inner + i]) * v.inner + i] += g[o * v.inner + i];
}

nn_tensor *(nn_max_axis)(nn_tensor *x, int axis, bool keepdim) {
    NN_REQUIRE(x, "nn_max_axis");
    int a = nn_norm_axis("nn_max_axis", x, axis);
    if (a < 0) return NULL;
    int shape[NN_MAX_DIMS];
    int nd = reduced_shape(x, a, keepdim, shape);
    nn_node *node;
    nn_tensor *out = nn_record("nn_max_axis", max_axis_backward, nd, shape, x, NULL, NULL, &node);
    axis_view v = view_along(x, a);
    int *argmax = nn_arena_alloc(out->size * sizeof(int));
    for (size_t o = 0; o < v.outer; o++)
        for (size_t i = 0; i < v.inner; i++) {
            const float *col = x->data + o * v.n * v.inner + i;
            size_t best = 0;
            for (size_t k = 1; k < v.n; k++)
                if (col[k * v.inner] > col[best * v.inner]) best = k;
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
            if (row[c] > row[best]) best = c;
        out[r] = best;
    }
}

/* ---- softmax along the last axis ------------------------------------------------------
 * y_j = e^(x_j - m) / sum_k e^(x_k - m), m = max_k x_k (subtracting m avoids overflow).
 * dx_j = y_j (g_j - sum_k g_k y_k) */

static void softmax_rows(const float *x, float *y, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        float m = xr[0];
        for (size_t j = 1; j < cols; j++) m = xr[j] > m ? xr[j] : m;
        float s = 0.0f;
        for (size_t j = 0; j < cols; j++) s += yr[j] = expf(xr[j] - m);
        for (size_t j = 0; j < cols; j++) yr[j] /= s;
    }
}

static void softmax_backward(nn_node *n) {
    size_t cols = (size_t)n->i[0], rows = n->out->size / cols;
    const float *y = n->out->data, *g = n->out->grad;
    float *gx = n->in[0]->grad;
    for (size_t r = 0; r < rows; r++) {
        const float *yr = y + r * cols, *gr = g + r * cols;
        float dot = 0.0f;
        for (size_t j = 0; j < cols; j++) dot += gr[j] * yr[j];
        for (size_t j = 0; j < cols; j++) gx[r * cols + j] += yr[j] * (gr[j] - dot);
    }
}

nn_tensor *(nn_softmax)(nn_tensor *x) {
    NN_REQUIRE(x, "nn_softmax");
    if (nn_norm_axis("nn_softmax", x, -1) < 0) return NULL;
    nn_node *node;
    nn_tensor *out = nn_unary_out("nn_softmax", softmax_backward, x, &node);
    size_t cols = (size_t)x->shape[x->ndim - 1];
    if (node) node->i[0] = (int)cols;
    softmax_rows(x->data, out->data, x->size / cols, cols);
    return out;
}

/* ---- log-softmax along the last axis --------------------------------------------------
 * y_j = x_j - m - log sum_k e^(x_k - m);  dx_j = g_j - softmax_j * sum_k g_k */

static void log_softmax_backward(nn_node *n) {
    size_t cols = (size_t)n->i[0], rows = n->out->size / cols;
    const float *y = n->out->data, *g = n->out->grad;
    float *gx = n->in[0]->grad;
    for (size_t r = 0; r < rows; r++) {
        const float *yr = y + r * cols, *gr = g + r * cols;
        float gsum = 0.0f;
        for (size_t j = 0; j < cols; j++) gsum += gr[j];
        for (size_t j = 0; j < cols; j++) gx[r * cols + j] += gr[j] - expf(yr[j]) * gsum;
    }
}

nn_tensor *(nn_log_softmax)(nn_tensor *x) {
    NN_REQUIRE(x, "nn_log_softmax");
    if (nn_norm_axis("nn_log_softmax", x, -1) < 0) return NULL;
    nn_node *node;
    nn_tensor *out = nn_unary_out("nn_log_softmax", log_softmax_backward, x, &node);
    size_t cols = (size_t)x->shape[x->ndim - 1], rows = x->size / cols;
    if (node) node->i[0] = (int)cols;
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x->data + r * cols;
        float *yr = out->data + r * cols;
        float m = xr[0];
        for (size_t j = 1; j < cols; j++) m = xr[j] > m ? xr[j] : m;
        float s = 0.0f;
        for (size_t j = 0; j < cols; j++) s += expf(xr[j] - m);
        float lse = m + logf(s);
        for (size_t j = 0; j < cols; j++) yr[j] = xr[j] - lse;
    }
    return out;
}
