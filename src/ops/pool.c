/* src/ops/pool.c — pooling (池化) and flatten.
 *
 * Pooling shrinks each feature map by summarising every kernel x kernel window with one
 * number, channel by channel, no padding:
 *   x: (N, C, H, W)  ->  y: (N, C, Ho, Wo),  Ho = (H - k) / s + 1,  Wo = (W - k) / s + 1
 *   max: y[n,c,oh,ow] = max_{i,j < k} x[n, c, oh*s + i, ow*s + j]
 *        dx[the argmax] += dy   (only the winner influenced y)
 *   avg: y[n,c,oh,ow] = (1/k^2) sum_{i,j < k} x[n, c, oh*s + i, ow*s + j]
 *        dx[every pixel of the window] += dy / k^2
 * Planes (n, c) are independent, so OpenMP splits them across threads; windows that overlap
 * (stride < kernel) stay inside one plane, so threads never add into the same dx.
 */
#include "internal.h"
#include "nn/ops/shape.h"
#include "nn/ops/conv.h"

typedef struct pool_geom { int planes, H, W, Ho, Wo, k, s; } pool_geom;

/* Check the arguments and fill *g; reports misuse and returns false when bad. */
static bool pool_setup(const char *op, const nn_tensor *x, int kernel, int stride,
                       pool_geom *g) {
    if (x->ndim != 4) {
        nn_fail(op, "pooling works on a batch of feature maps (N, C, H, W); one H x W image "
                "is nn_reshape(x, NN_SHAPE(1, 1, H, W))",
                "x has shape %s: want 4 dims (N, C, H, W)", SHAPE(x));
        return false;
    }
    if (kernel < 1 || stride < 1) {
        nn_fail(op, "kernel (window size) and stride (step) are 1 or more; kernel = stride = 2 "
                "halves height and width",
                "kernel = %d, stride = %d (x %s)", kernel, stride, SHAPE(x));
        return false;
    }
    if (kernel > x->shape[2] || kernel > x->shape[3]) {
        nn_fail(op, "the window must fit inside the feature map (no padding here): use a "
                "smaller kernel or pool earlier",
                "kernel %dx%d is bigger than the input %dx%d (x %s)", kernel, kernel,
                x->shape[2], x->shape[3], SHAPE(x));
        return false;
    }
    g->planes = x->shape[0] * x->shape[1];
    g->H = x->shape[2];
    g->W = x->shape[3];
    g->k = kernel;
    g->s = stride;
    g->Ho = (g->H - kernel) / stride + 1;
    g->Wo = (g->W - kernel) / stride + 1;
    return true;
}

/* ---- max pool ----------------------------------------------------------------------------- */

typedef struct { pool_geom g; int *argmax; } max_pool_saved;

static void max_pool_backward(nn_node *n) {
    const max_pool_saved *s = n->extra;
    const pool_geom *g = &s->g;
    size_t in_plane = (size_t)g->H * g->W, out_plane = (size_t)g->Ho * g->Wo;
    const float *dy = n->out->grad;
    float *dx = n->in[0]->grad;
#pragma omp parallel for schedule(static) if (n->out->size > 65536)
    for (int p = 0; p < g->planes; p++)
        for (size_t o = 0; o < out_plane; o++)  /* argmax: the winner's index in its plane */
            dx[p * in_plane + s->argmax[p * out_plane + o]] += dy[p * out_plane + o];
}

/* The chapter 3 CNN's pooling (kernel 2, stride 2), one output row: the loop above with the
 * window unrolled into its four candidates, compared in the same order (the first of equal
 * values wins), as selects that the compiler turns into vector code. A NaN needs the loop
 * above's rule (the first NaN wins): then this returns false and the row is done again there. */
static bool max_pool_2x2_row(const float *xp, int W, int oh, int Wo, float *y, int *argmax) {
    const float *r0 = xp + (size_t)2 * oh * W, *r1 = r0 + W;
    int at0 = 2 * oh * W, nan = 0;
    for (int ow = 0; ow < Wo; ow++) {
        float a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
        int best = at0 + 2 * ow;
        float bv = a;
        bool take = b > bv;
        bv = take ? b : bv, best = take ? at0 + 2 * ow + 1 : best;
        take = c > bv;
        bv = take ? c : bv, best = take ? at0 + W + 2 * ow : best;
        take = d > bv;
        bv = take ? d : bv, best = take ? at0 + W + 2 * ow + 1 : best;
        nan |= (a != a) | (b != b) | (c != c) | (d != d);
        y[ow] = bv;
        if (argmax) argmax[ow] = best;
    }
    return !nan;
}

/* One plane x (H, W) -> y (Ho, Wo) and each output's argmax (its winner's index in the
 * plane; argmax may be NULL): the 2x2 / stride 2 rows unrolled unless `general` (the
 * reference), every other window by the loop below. Also nn_conv2d_relu_maxpool2d's. */
void nn_max_pool_plane(const float *xp, int H, int W, int k, int s, bool general, float *y,
                       int *argmax) {
    int Ho = (H - k) / s + 1, Wo = (W - k) / s + 1;
    bool two_by_two = k == 2 && s == 2 && !general;
    for (int oh = 0; oh < Ho; oh++) {
        size_t row = (size_t)oh * Wo;
        if (two_by_two && max_pool_2x2_row(xp, W, oh, Wo, y + row, argmax ? argmax + row : NULL))
            continue;   /* done by the fast path (no NaN in this row) */
        for (int ow = 0; ow < Wo; ow++) {
            int top_left = oh * s * W + ow * s, best = top_left;
            float bv = xp[best];
            bool nan = false;
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++) {
                    int at = top_left + i * W + j;
                    float v = xp[at];
                    /* strictly greater: the first of equal values wins. Written as
                     * selects, not a branch: on real data the winner is unpredictable. */
                    bool take = v > bv;
                    bv = take ? v : bv;
                    best = take ? at : best;
                    nan |= v != v;                 /* true only for NaN */
                }
            if (nan)                               /* rare: the first NaN wins, so */
                for (int i = k - 1; i >= 0; i--)   /* NaNs propagate like in PyTorch */
                    for (int j = k - 1; j >= 0; j--)
                        if (isnan(xp[top_left + i * W + j])) best = top_left + i * W + j;
            if (nan) bv = xp[best];
            y[row + ow] = bv;
            if (argmax) argmax[row + ow] = best;
        }
    }
}

nn_tensor *nn_max_pool2d(nn_tensor *x, int kernel, int stride) {
    NN_REQUIRE(x, "nn_max_pool2d");
    pool_geom g;
    if (!pool_setup("nn_max_pool2d", x, kernel, stride, &g)) return NULL;
    nn_node *node;
    nn_tensor *y = nn_record_filled("nn_max_pool2d", max_pool_backward, 4,
                             (int[]){x->shape[0], x->shape[1], g.Ho, g.Wo}, x, NULL, NULL, &node);
    size_t in_plane = (size_t)g.H * g.W, out_plane = (size_t)g.Ho * g.Wo;
    int *argmax = NULL;
    if (node) {
        max_pool_saved *s = nn_arena_alloc(sizeof *s);
        s->g = g;
        s->argmax = argmax = nn_arena_alloc(y->size * sizeof(int));
        node->extra = s;
    }
    bool general = nn_is_conv2d_reference();
#pragma omp parallel for schedule(static) if (x->size > 65536)
    for (int p = 0; p < g.planes; p++)
        nn_max_pool_plane(x->data + p * in_plane, g.H, g.W, g.k, g.s, general,
                          y->data + p * out_plane, argmax ? argmax + p * out_plane : NULL);
    return y;
}

/* ---- average pool ------------------------------------------------------------------------- */

static void avg_pool_backward(nn_node *n) {
    const pool_geom *g = n->extra;
    size_t in_plane = (size_t)g->H * g->W, out_plane = (size_t)g->Ho * g->Wo;
    float scale = 1.0f / (float)(g->k * g->k);
    const float *dy = n->out->grad;
    float *dx = n->in[0]->grad;
#pragma omp parallel for schedule(static) if (n->out->size > 65536)
    for (int p = 0; p < g->planes; p++)
        for (int oh = 0; oh < g->Ho; oh++)
            for (int ow = 0; ow < g->Wo; ow++) {
                float share = dy[p * out_plane + (size_t)oh * g->Wo + ow] * scale;
                for (int i = 0; i < g->k; i++)
                    for (int j = 0; j < g->k; j++)
                        dx[p * in_plane + (size_t)(oh * g->s + i) * g->W + ow * g->s + j] += share;
            }
}

nn_tensor *nn_avg_pool2d(nn_tensor *x, int kernel, int stride) {
    NN_REQUIRE(x, "nn_avg_pool2d");
    pool_geom g;
    if (!pool_setup("nn_avg_pool2d", x, kernel, stride, &g)) return NULL;
    nn_node *node;
    nn_tensor *y = nn_record("nn_avg_pool2d", avg_pool_backward, 4,
                             (int[]){x->shape[0], x->shape[1], g.Ho, g.Wo}, x, NULL, NULL, &node);
    if (node) {
        pool_geom *saved = nn_arena_alloc(sizeof *saved);
        *saved = g;
        node->extra = saved;
    }
    size_t in_plane = (size_t)g.H * g.W, out_plane = (size_t)g.Ho * g.Wo;
    float scale = 1.0f / (float)(g.k * g.k);
#pragma omp parallel for schedule(static) if (x->size > 65536)
    for (int p = 0; p < g.planes; p++) {
        const float *xp = x->data + p * in_plane;
        for (int oh = 0; oh < g.Ho; oh++)
            for (int ow = 0; ow < g.Wo; ow++) {
                float sum = 0.0f;
                for (int i = 0; i < g.k; i++)
                    for (int j = 0; j < g.k; j++) sum += xp[(oh * g.s + i) * g.W + ow * g.s + j];
                y->data[p * out_plane + (size_t)oh * g.Wo + ow] = sum * scale;
            }
    }
    return y;
}

/* ---- flatten: (N, d1, d2, ...) -> (N, d1*d2*...), the same values in the same order ----- */

nn_tensor *nn_flatten(nn_tensor *x) {
    NN_REQUIRE(x, "nn_flatten");
    if (x->ndim < 2) {
        nn_fail("nn_flatten", "flatten keeps dim 0 (the batch) and joins the rest: give it "
                "(N, ...) with at least 2 dims",
                "x has shape %s", SHAPE(x));
        return NULL;
    }
    return nn_reshape(x, 2, (int[]){x->shape[0], -1});
}
