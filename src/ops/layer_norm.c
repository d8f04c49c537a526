/* src/ops/layer_norm.c — LayerNorm over the last axis, forward and backward side by side.
 * The formulas are in include/nn/ops/layer_norm.h. Shapes: x, y (R, C) seen as R rows of C
 * (R = the product of every axis but the last); gamma, beta (C); the saved mean and rstd (R). */
#include "internal.h"
#include "nn/ops/layer_norm.h"

typedef struct { float *mean, *rstd; int rows, cols; } layer_norm_saved;

/* Rows are independent, so OpenMP shares them out above this many elements (the tiny GPT's
 * 2048 x 64 is 131,072: about 0.3 ms a pass on one thread). */
enum { LN_PARALLEL_MIN = 1 << 16 };

/* Backward in two passes, each shared among the threads without changing a bit of the
 * result: dx row by row (each row's own two means), then dgamma and dbeta column by column,
 * every column summed over the rows in order, as one thread would. */
static void layer_norm_backward(nn_node *n) {
    const layer_norm_saved *s = n->extra;
    nn_tensor *x = n->in[0], *gamma = n->in[1], *beta = n->in[2];
    const float *dy = n->out->grad;
    int C = s->cols, R = s->rows;
    bool par = (long)R * C > LN_PARALLEL_MIN;
    if (WANTS_GRAD(x)) {
#pragma omp parallel for schedule(static) if (par)
        for (int r = 0; r < R; r++) {
            const float *xr = x->data + (size_t)r * C, *dyr = dy + (size_t)r * C;
            float mean = s->mean[r], rstd = s->rstd[r];
            /* mean(g) and mean(g * xhat), g = dy * gamma */
            float g_mean = 0.0f, gx_mean = 0.0f;
            for (int j = 0; j < C; j++) {
                float xhat = (xr[j] - mean) * rstd, g = dyr[j] * (gamma ? gamma->data[j] : 1.0f);
                g_mean += g;
                gx_mean += g * xhat;
            }
            g_mean /= (float)C;
            gx_mean /= (float)C;
            float *dxr = x->grad + (size_t)r * C;
            for (int j = 0; j < C; j++) {
                float xhat = (xr[j] - mean) * rstd, g = dyr[j] * (gamma ? gamma->data[j] : 1.0f);
                dxr[j] += rstd * (g - g_mean - xhat * gx_mean);
            }
        }
    }
    float *dgamma = WANTS_GRAD(gamma) ? gamma->grad : NULL;
    float *dbeta = WANTS_GRAD(beta) ? beta->grad : NULL;
    if (!dgamma && !dbeta) return;
    /* dgamma_j = sum_r dy_rj xhat_rj, dbeta_j = sum_r dy_rj: columns in blocks of 16 */
    enum { BLOCK = 16 };
#pragma omp parallel for schedule(static) if (par && C > BLOCK)
    for (int j0 = 0; j0 < C; j0 += BLOCK) {
        int j1 = j0 + BLOCK < C ? j0 + BLOCK : C;
        for (int r = 0; r < R; r++) {
            const float *xr = x->data + (size_t)r * C, *dyr = dy + (size_t)r * C;
            float mean = s->mean[r], rstd = s->rstd[r];
            for (int j = j0; j < j1; j++) {
                if (dgamma) dgamma[j] += dyr[j] * ((xr[j] - mean) * rstd);
                if (dbeta) dbeta[j] += dyr[j];
            }
        }
    }
}

static bool is_vector_of(const nn_tensor *t, int C) {
    return !t || (t->ndim == 1 && t->shape[0] == C);
}

nn_tensor *nn_layer_norm(nn_tensor *x, nn_tensor *gamma, nn_tensor *beta, float eps) {
    NN_REQUIRE(x, "nn_layer_norm");
    if (gamma) NN_REQUIRE(gamma, "nn_layer_norm");
    if (beta) NN_REQUIRE(beta, "nn_layer_norm");
    if (x->ndim < 1) {
        nn_fail("nn_layer_norm", "x with at least one axis (the features)", "a scalar");
        return NULL;
    }
    int C = x->shape[x->ndim - 1];
    if (!is_vector_of(gamma, C) || !is_vector_of(beta, C)) {
        nn_fail("nn_layer_norm", "gamma and beta of shape (C), C = the last size of x",
                "x's last size %d, gamma %s, beta %s", C, gamma ? "given" : "NULL",
                beta ? "given" : "NULL");
        return NULL;
    }
    if (!(eps > 0.0f) || !isfinite(eps)) {
        nn_fail("nn_layer_norm", "eps > 0 and finite (1e-5 is usual)", "eps = %g", (double)eps);
        return NULL;
    }
    int rows = (int)(x->size / (size_t)C);
    nn_node *node;
    nn_tensor *out = nn_record("nn_layer_norm", layer_norm_backward, x->ndim, x->shape, x,
                               gamma, beta, &node);
    layer_norm_saved *s = NULL;
    if (node) {
        s = nn_arena_alloc(sizeof *s);
        s->mean = nn_arena_alloc(sizeof(float) * (size_t)rows);
        s->rstd = nn_arena_alloc(sizeof(float) * (size_t)rows);
        s->rows = rows;
        s->cols = C;
        node->extra = s;
    }
#pragma omp parallel for schedule(static) if ((long)rows * C > LN_PARALLEL_MIN)
    for (int r = 0; r < rows; r++) {
        const float *xr = x->data + (size_t)r * C;
        float *yr = out->data + (size_t)r * C;
        /* two passes (mean, then the spread around it): the one-pass E[x^2] - E[x]^2 loses
         * every digit when the mean is large next to the spread */
        double sum = 0.0;
        for (int j = 0; j < C; j++) sum += xr[j];
        float mean = (float)(sum / C);
        double sq = 0.0;
        for (int j = 0; j < C; j++) sq += (double)(xr[j] - mean) * (xr[j] - mean);
        float rstd = (float)(1.0 / sqrt(sq / C + eps));
        for (int j = 0; j < C; j++) {
            float xhat = (xr[j] - mean) * rstd;
            yr[j] = xhat * (gamma ? gamma->data[j] : 1.0f) + (beta ? beta->data[j] : 0.0f);
        }
        if (s) {
            s->mean[r] = mean;
            s->rstd[r] = rstd;
        }
    }
    return out;
}
