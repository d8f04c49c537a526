/* src/net/distill.c — the distillation loss, one fused op (formulas in nn/net/distill.h).
 *
 * Why fused rather than built from nn_log_softmax, nn_softmax, nn_mul and nn_sum: the whole
 * backward is one line, dL/ds = (alpha T (q - p) + (1 - alpha)(softmax(s) - onehot)) / N, and
 * the forward needs only three stable log-softmaxes per row. Forward computes that direction
 * once per element and saves it; backward scales it by the incoming gradient.
 */
#include "internal.h"
#include "nn/net/distill.h"

/* backward: student grad (N, C) += g * d, with d (N, C) saved by forward (already / N) */
static void distill_backward(nn_node *n) {
    const float *d = n->extra;
    float g = n->out->grad[0];
    float *gs = n->in[0]->grad;
    for (size_t i = 0; i < n->in[0]->size; i++) gs[i] += g * d[i];
}

/* out[c] = log softmax(z / T)[c] over one row of C logits, stably: (z_c - m) / T - log sum e^.. */
static void log_softmax_row(const float *z, int C, float T, double *out) {
    float m = nn_max_floats(z, (size_t)C);
    double s = 0.0;
    for (int c = 0; c < C; c++) s += exp(((double)z[c] - m) / T);
    double ls = log(s);
    for (int c = 0; c < C; c++) out[c] = ((double)z[c] - m) / T - ls;
}

nn_tensor *nn_distill_loss(nn_tensor *student, nn_tensor *teacher, const int *labels,
                           float T, float alpha) {
    const char *op = "nn_distill_loss";
    NN_REQUIRE(student, op);
    NN_REQUIRE(teacher, op);
    if (student->ndim < 2 || !nn_same_shape(student, teacher)) {
        nn_fail(op, "student and teacher logits are (N, C) each, one row of class scores per "
                "sample, for the same samples", "student logits %s, teacher logits %s",
                SHAPE(student), SHAPE(teacher));
        return NULL;
    }
    if (!(T > 0.0f) || !isfinite(T)) {
        nn_fail(op, "T = 1 is the plain softmax; Hinton et al. use T from 2 to 20",
                "temperature T = %g must be positive and finite", T);
        return NULL;
    }
    if (!(alpha >= 0.0f && alpha <= 1.0f)) {
        nn_fail(op, "alpha weighs the teacher's soft targets, 1 - alpha the labels: 0.9 is common",
                "alpha = %g is outside [0, 1]", alpha);
        return NULL;
    }
    int C = student->shape[student->ndim - 1];
    size_t rows_z = student->size / (size_t)C;
    if (rows_z > INT32_MAX) {
        nn_fail(op, "use fewer rows per call", "%zu rows", rows_z);
        return NULL;
    }
    int N = (int)rows_z;
    if (alpha < 1.0f) {
        if (!labels) {
            nn_fail(op, "the hard term (1 - alpha) * cross-entropy needs the labels; alpha = 1 "
                    "uses the teacher alone", "labels is NULL with alpha = %g", alpha);
            return NULL;
        }
        for (int r = 0; r < N; r++)
            if (labels[r] < 0 || labels[r] >= C) {
                nn_fail(op, "labels are class indices 0 .. C-1",
                        "labels[%d] = %d is out of range for logits %s (C = %d)", r, labels[r],
                        SHAPE(student), C);
                return NULL;
            }
    }

    nn_node *node;
    nn_tensor *out = nn_record(op, distill_backward, 0, NULL, student, NULL, NULL, &node);
    float *d = node ? nn_arena_alloc(student->size * sizeof(float)) : NULL;
    double *lq = nn_xmalloc(3 * (size_t)C * sizeof(double)), *lp = lq + C, *l1 = lp + C;
    double kl = 0.0, ce = 0.0;
    for (int r = 0; r < N; r++) {
        const float *s = student->data + (size_t)r * C, *t = teacher->data + (size_t)r * C;
        log_softmax_row(s, C, T, lq);      /* log q, q = softmax(s / T) */
        log_softmax_row(t, C, T, lp);      /* log p, p = softmax(t / T) */
        log_softmax_row(s, C, 1.0f, l1);   /* log softmax(s), for the labels */
        for (int c = 0; c < C; c++) {
            double p = exp(lp[c]);
            kl += p * (lp[c] - lq[c]);     /* p = 0 (underflow) adds exactly 0 */
        }
        if (alpha < 1.0f) ce -= l1[labels[r]];
        if (!d) continue;
        float *dr = d + (size_t)r * C;
        for (int c = 0; c < C; c++) {
            double soft = (double)alpha * T * (exp(lq[c]) - exp(lp[c]));
            double hard = alpha < 1.0f ? (1.0 - alpha) * (exp(l1[c]) - (c == labels[r])) : 0.0;
            dr[c] = (float)((soft + hard) / N);
        }
    }
    free(lq);
    out->data[0] = (float)((double)alpha * T * T * kl / N + (1.0 - alpha) * ce / N);
    if (node) node->extra = d;
    return out;
}
