/* src/ops/softmax.c — softmax, log-softmax and log-sum-exp along any axis.
 *
 * Along the axis the n values of one slice sit inner floats apart (the (outer, n, inner)
 * view of internal.h); the last axis (inner = 1) is the usual case. With m the slice's
 * maximum and s = sum_k e^(x_k - m):
 *   softmax_j = e^(x_j - m) / s            dx_j = y_j (g_j - sum_k g_k y_k)
 *   log_softmax_j = (x_j - m) - log s      dx_j = g_j - softmax_j sum_k g_k
 *   logsumexp = m + log s                  dx_j = g softmax_j
 * Subtracting m first keeps e^x from overflowing; log_softmax subtracts (x_j - m) and log s
 * in that order, since for logits near 1000 the sum m + log s would round log s away.
 */
#include "internal.h"
#include "nn/ops/softmax.h"
#include "core/vmath.h"

typedef enum { SOFTMAX, LOG_SOFTMAX } softmax_kind;

/* The maximum m of one slice (NaN if any value is NaN) and s = sum_k e^(x_k - m). Along the
 * last axis (stride 1) e[k] = e^(x_k - m) is left in e, 16 at a time (src/core/vmath.c);
 * along another axis the same sum one at a time, and e is not written. Either way the same
 * bits: softmax along axis 0 equals softmax along the last axis of the permuted tensor. */
static void slice_max_sum(const float *x, size_t n, size_t stride, float *e, float *m_out,
                          float *s_out) {
    float m = x[0];
    if (stride == 1) m = nn_max_floats(x, n);   /* the usual case: softmax over the last axis */
    else for (size_t k = 1; k < n; k++) if (nn_beats(x[k * stride], m)) m = x[k * stride];
    float s = 0.0f;
    if (isinf(m)) { /* all -inf (a fully masked row) or a +inf: no finite shift. The log of
                     * the sum is then m itself; e^(x - m) would give e^(inf - inf) = NaN */
        *m_out = m;
        *s_out = 0.0f;
        return;
    }
    if (stride == 1) s = nn_vexp_sum(x, m, e, n);
    else s = nn_vexp_sum_strided(x, stride, m, n);
    *m_out = m;
    *s_out = s;
}

static void softmax_backward(nn_node *n) {
    /* node->i: axis, kind */
    nn_axis_view v = nn_axis_view_of(n->in[0], n->i[0]);
    const float *y = n->out->data, *g = n->out->grad;
    float *gx = n->in[0]->grad;
    for (size_t o = 0; o < v.outer; o++)
        for (size_t i = 0; i < v.inner; i++) {
            size_t base = o * v.n * v.inner + i, st = v.inner;
            float acc = 0.0f;   /* sum_k g_k y_k (softmax) or sum_k g_k (log-softmax) */
            if (n->i[1] == SOFTMAX) {
                for (size_t k = 0; k < v.n; k++) acc += g[base + k * st] * y[base + k * st];
                for (size_t k = 0; k < v.n; k++)
                    gx[base + k * st] += y[base + k * st] * (g[base + k * st] - acc);
            } else {
                for (size_t k = 0; k < v.n; k++) acc += g[base + k * st];
                for (size_t k = 0; k < v.n; k++)
                    gx[base + k * st] += g[base + k * st] - nn_exp1(y[base + k * st]) * acc;
            }
        }
}

static nn_tensor *softmax_along(const char *op, softmax_kind kind, nn_tensor *x, int axis) {
    NN_REQUIRE(x, op);
    int a = nn_norm_axis(op, x, axis);
    if (a < 0) return NULL;
    nn_node *node;
    nn_tensor *out = nn_unary_out(op, softmax_backward, x, &node);
    if (node) {
        node->i[0] = a;
        node->i[1] = kind;
    }
    nn_axis_view v = nn_axis_view_of(x, a);
    for (size_t o = 0; o < v.outer; o++)
        for (size_t i = 0; i < v.inner; i++) {
            size_t base = o * v.n * v.inner + i, st = v.inner;
            const float *xs = x->data + base;
            float *ys = out->data + base;
            float m, s;
            slice_max_sum(xs, v.n, st, ys, &m, &s);   /* stride 1: ys = e^(x - m) */
            float log_s = logf(s);
            if (kind == SOFTMAX && st == 1 && !isinf(m)) {   /* e^(x - m) is there */
                for (size_t k = 0; k < v.n; k++) ys[k] /= s;
            } else {
                for (size_t k = 0; k < v.n; k++) {
                    float shifted = xs[k * st] - m;
                    ys[k * st] = kind == SOFTMAX ? nn_exp1(shifted) / s : shifted - log_s;
                }
            }
        }
    return out;
}

nn_tensor *nn_softmax(nn_tensor *x) { return softmax_along("nn_softmax", SOFTMAX, x, -1); }
nn_tensor *nn_softmax_axis(nn_tensor *x, int axis) {
    return softmax_along("nn_softmax_axis", SOFTMAX, x, axis);
}
nn_tensor *nn_log_softmax(nn_tensor *x) {
    return softmax_along("nn_log_softmax", LOG_SOFTMAX, x, -1);
}
nn_tensor *nn_log_softmax_axis(nn_tensor *x, int axis) {
    return softmax_along("nn_log_softmax_axis", LOG_SOFTMAX, x, axis);
}

/* ---- logsumexp: y[o, i] = m + log sum_k e^(x[o,k,i] - m);  dx[o,k,i] += dy[o,i] e^(x - y) -- */

static void logsumexp_backward(nn_node *n) {
    nn_axis_view v = nn_axis_view_of(n->in[0], n->i[0]);
    const float *x = n->in[0]->data, *y = n->out->data, *g = n->out->grad;
    float *gx = n->in[0]->grad;
    for (size_t o = 0; o < v.outer; o++)
        for (size_t i = 0; i < v.inner; i++) {
            size_t base = o * v.n * v.inner + i, r = o * v.inner + i;
            if (y[r] == -INFINITY) continue;   /* all -inf: no gradient anywhere */
            for (size_t k = 0; k < v.n; k++)
                gx[base + k * v.inner] += g[r] * nn_exp1(x[base + k * v.inner] - y[r]);
        }
}

nn_tensor *nn_logsumexp(nn_tensor *x, int axis, bool keepdim) {
    NN_REQUIRE(x, "nn_logsumexp");
    int a = nn_norm_axis("nn_logsumexp", x, axis);
    if (a < 0) return NULL;
    int shape[NN_MAX_DIMS], nd = 0;
    for (int d = 0; d < x->ndim; d++)
        if (d != a) shape[nd++] = x->shape[d];
        else if (keepdim) shape[nd++] = 1;
    nn_node *node;
    nn_tensor *out = nn_record("nn_logsumexp", logsumexp_backward, nd, shape, x, NULL, NULL, &node);
    if (node) node->i[0] = a;
    nn_axis_view v = nn_axis_view_of(x, a);
    /* room for one slice's e^(x - m), which slice_max_sum leaves along the last axis */
    float *e = v.inner == 1 ? nn_arena_alloc_unzeroed(v.n * sizeof(float)) : NULL;
    for (size_t o = 0; o < v.outer; o++)
        for (size_t i = 0; i < v.inner; i++) {
            float m, s;
            slice_max_sum(x->data + o * v.n * v.inner + i, v.n, v.inner, e, &m, &s);
            out->data[o * v.inner + i] = isinf(m) ? m : m + logf(s);
        }
    return out;
}
