/* src/net/loss.c — loss functions; each returns a scalar graph tensor. */
#include "internal.h"
#include "core/vmath.h"
#include "nn/ops/elementwise.h"
#include "nn/ops/reduce.h"
#include "nn/net/loss.h"

static bool same_shapes(const char *op, const nn_tensor *pred, const nn_tensor *target) {
    if (nn_same_shape(pred, target)) return true;
    nn_fail(op, "prediction and target need the same shape; a (N, 1) vs (N) mix-up would "
            "silently broadcast to (N, N), so it is refused: nn_reshape one of them",
            "prediction %s and target %s differ", SHAPE(pred), SHAPE(target));
    return false;
}

/* L = mean |pred - target|: built from ops, so its backward comes for free. */
nn_tensor *nn_mae_loss(nn_tensor *pred, nn_tensor *target) {
    NN_REQUIRE(pred, "nn_mae_loss");
    NN_REQUIRE(target, "nn_mae_loss");
    if (!same_shapes("nn_mae_loss", pred, target)) return NULL;
    return nn_mean(nn_abs(nn_sub(pred, target)));
}

/* L = mean (pred - target)^2 */
nn_tensor *nn_mse_loss(nn_tensor *pred, nn_tensor *target) {
    NN_REQUIRE(pred, "nn_mse_loss");
    NN_REQUIRE(target, "nn_mse_loss");
    if (!same_shapes("nn_mse_loss", pred, target)) return NULL;
    return nn_mean(nn_square(nn_sub(pred, target)));
}

/* ---- cross-entropy from logits ----------------------------------------------------------
 * L = -(1/N) sum_n log softmax(z_n)[y_n] = (1/N) sum_n (log s_n - (z_n[y_n] - m_n))
 *   with m_n = max_c z_n[c] and s_n = sum_c e^(z_n[c] - m_n)
 * dL/dz_n = (softmax(z_n) - onehot(y_n)) / N
 * Fusing the two steps avoids log(0) and needs one pass; forward saves the softmax. The
 * order of the subtraction matters for large logits (around 1000): m + log s would round
 * log s away before z[y] is subtracted. Logits (..., C) of any rank are N = size / C rows. */

static void cross_entropy_backward(nn_node *n) {
    int cols = n->in[0]->shape[n->in[0]->ndim - 1], rows = (int)(n->in[0]->size / cols);
    const float *ex = n->extra, *sums = ex + n->in[0]->size;   /* see the forward */
    const int *labels = (const int *)(sums + rows);
    float g = n->out->grad[0] / (float)rows;
    float *gz = n->in[0]->grad;
    bool set = nn_grad_take_unset(n->in[0]);   /* the logits' gradient: written, not added */
#pragma omp parallel for schedule(static) if (n->in[0]->size > PARALLEL_MIN_ELEMENTS)
    for (int r = 0; r < rows; r++) {
        /* dz_c = g (p_c - [c == label]) with p_c = e_c / s: the label's column apart, so the
         * rest vectorise */
        float *restrict gr = gz + (size_t)r * cols;
        const float *restrict er = ex + (size_t)r * cols;
        float s = sums[r];
        int y = labels[r];
        if (set) {
            for (int c = 0; c < cols; c++) gr[c] = g * (er[c] / s);
            gr[y] = g * (er[y] / s - 1.0f);
        } else {
            for (int c = 0; c < y; c++) gr[c] += g * (er[c] / s);
            gr[y] += g * (er[y] / s - 1.0f);
            for (int c = y + 1; c < cols; c++) gr[c] += g * (er[c] / s);
        }
    }
}

bool nn_labels_in_range(const char *op, const int *labels, int rows, int classes,
                        const char *name, const nn_tensor *t) {
    for (int r = 0; r < rows; r++)
        if (labels[r] < 0 || labels[r] >= classes) {
            nn_fail(op, "labels are class indices 0 .. C-1",
                    "labels[%d] = %d is out of range for %s %s (C = %d)", r, labels[r], name,
                    SHAPE(t), classes);
            return false;
        }
    return true;
}

nn_tensor *nn_cross_entropy_loss(nn_tensor *logits, const int *labels) {
    NN_REQUIRE(logits, "nn_cross_entropy_loss");
    NN_REQUIRE(labels, "nn_cross_entropy_loss");
    if (logits->ndim < 2 || logits->size / logits->shape[logits->ndim - 1] > INT32_MAX) {
        nn_fail("nn_cross_entropy_loss",
                "logits are (N, C) with one row of class scores per sample, or (B, T, C) with "
                "labels (B, T)", "logits have shape %s", SHAPE(logits));
        return NULL;
    }
    int cols = logits->shape[logits->ndim - 1], rows = (int)(logits->size / cols);
    if (!nn_labels_in_range("nn_cross_entropy_loss", labels, rows, cols, "logits", logits))
        return NULL;
    nn_node *node;
    nn_tensor *out = nn_record("nn_cross_entropy_loss", cross_entropy_backward, 0, NULL, logits, NULL,
                               NULL, &node);
    if (node) node->sets_grads = true;
    /* Saved for backward: e = e^(z - m) (N*C floats) and each row's sum s (N), whose ratio
     * e / s is the softmax (divided there, not here: one pass over the N*C floats fewer, the
     * same numbers), then a copy of the labels. */
    float *ex = nn_arena_alloc_unzeroed(logits->size * sizeof(float) +
                                        (size_t)rows * (sizeof(float) + sizeof(int)));
    float *sums = ex + logits->size;
    memcpy(sums + rows, labels, (size_t)rows * sizeof(int));
    /* rows are independent: shared among the threads, each row's loss kept, then added up
     * in row order (the same sum whatever the number of threads) */
    float *row_loss = nn_arena_alloc_unzeroed((size_t)rows * sizeof(float));
#pragma omp parallel for schedule(static) if (logits->size > PARALLEL_MIN_ELEMENTS)
    for (int r = 0; r < rows; r++) {
        const float *z = logits->data + (size_t)r * cols;
        float m = nn_max_floats(z, (size_t)cols);
        float s = nn_vexp_sum(z, m, ex + (size_t)r * cols, (size_t)cols);   /* e, its sum */
        sums[r] = s;
        row_loss[r] = logf(s) - (z[labels[r]] - m);
    }
    double total = 0.0;
    for (int r = 0; r < rows; r++) total += (double)row_loss[r];
    out->data[0] = (float)(total / rows);
    if (node) node->extra = ex;
    return out;
}

/* ---- binary cross-entropy from logits ----------------------------------------------------
 * l = -t log s(z) - (1-t) log(1 - s(z)) = max(z, 0) - z t + log(1 + e^-|z|)   (stable form)
 * dl/dz = s(z) - t;  L is the mean over all elements. */

static void bce_backward(nn_node *n) {
    const float *z = n->in[0]->data, *t = n->in[1]->data;
    size_t len = n->in[0]->size;
    float g = n->out->grad[0] / (float)len;
    if (WANTS_GRAD(n->in[0]))
        for (size_t i = 0; i < len; i++)
            n->in[0]->grad[i] += g * (1.0f / (1.0f + expf(-z[i])) - t[i]);
    if (WANTS_GRAD(n->in[1])) /* dl/dt = -z */
        for (size_t i = 0; i < len; i++) n->in[1]->grad[i] -= g * z[i];
}

nn_tensor *nn_bce_with_logits_loss(nn_tensor *logits, nn_tensor *target) {
    NN_REQUIRE(logits, "nn_bce_with_logits_loss");
    NN_REQUIRE(target, "nn_bce_with_logits_loss");
    if (!same_shapes("nn_bce_with_logits_loss", logits, target)) return NULL;
    nn_tensor *out = nn_record("nn_bce_with_logits_loss", bce_backward, 0, NULL, logits, target, NULL,
                               NULL);
    double total = 0.0;
    for (size_t i = 0; i < logits->size; i++) {
        float z = logits->data[i], t = target->data[i];
        total += (double)((z > 0.0f ? z : 0.0f) - z * t + log1pf(expf(-fabsf(z))));
    }
    out->data[0] = (float)(total / (double)logits->size);
    return out;
}
