/* src/ops/conv.c — 2-D convolution (卷积), NCHW (the layer is in src/net/conv_layer.c).
 *
 * Cross-correlation, like PyTorch: the kernel is NOT flipped (see nn/ops/conv.h).
 *   x: (N, C, H, W)   w: (K, C, kh, kw)   b: (K)   y: (N, K, Ho, Wo)
 *   y[n,k,oh,ow] = b[k] + sum_{c,i,j} w[k,c,i,j] * x[n, c, oh*s - p + i, ow*s - p + j]
 * with x = 0 outside the image (padding). Backward, for every output element g = dy[n,k,oh,ow]:
 *   db[k] += g,   dw[k,c,i,j] += g * x[n,c,ih,iw],   dx[n,c,ih,iw] += g * w[k,c,i,j]
 * (ih = oh*s - p + i, iw = ow*s - p + j, inside the image).
 *
 * Two implementations of the same formulas, picked by nn_set_conv2d_reference():
 *   reference  the formulas above as nested loops. Read this one first.
 *   fast       im2col: for one image, copy each patch that a kernel position sees into a
 *              column of a matrix col (R = C*kh*kw rows, P = Ho*Wo columns). Then the whole
 *              convolution of that image is ONE matrix multiply, y_n (K, P) = w (K, R) @ col,
 *              which the GEMM of src/core/gemm.c runs at full speed. Backward is two more,
 *              whose transposed operands the GEMM reads in place:
 *                dw (K, R)  += dy_n (K, P) @ col^T
 *                dcol (R, P) = w^T (R, K) @ dy_n (K, P),  then col2im adds dcol back into dx
 *              (col2im is im2col in reverse: a pixel seen by several patches gets the sum).
 *              Images are independent, so OpenMP hands them out to the threads; each thread
 *              has its own col buffer, each image its own dw/db, summed in image order at
 *              the end (so the result does not depend on the number of threads).
 */
#include "internal.h"
#include "nn/ops/conv.h"
#include <stdio.h>

typedef struct conv_geom {
    int N, C, H, W;   /* input */
    int K, kh, kw;    /* kernels */
    int Ho, Wo;       /* output */
    int stride, pad;
} conv_geom;

static bool use_reference = false;

bool nn_set_conv2d_reference(bool on) {
    bool old = use_reference;
    use_reference = on;
    return old;
}
bool nn_is_conv2d_reference(void) { return use_reference; }

/* ==== reference: the formulas as loops ==================================================== */

/* y: (N, K, Ho, Wo) = b + w (*) x */
static void conv_forward_reference(const conv_geom *g, const float *x, const float *w,
                                   const float *b, float *y) {
    for (int n = 0; n < g->N; n++)
        for (int k = 0; k < g->K; k++)
            for (int oh = 0; oh < g->Ho; oh++)
                for (int ow = 0; ow < g->Wo; ow++) {
                    float s = b ? b[k] : 0.0f;
                    for (int c = 0; c < g->C; c++)
                        for (int i = 0; i < g->kh; i++) {
                            int ih = oh * g->stride - g->pad + i;
                            if (ih < 0 || ih >= g->H) continue;   /* padding row: x = 0 */
                            for (int j = 0; j < g->kw; j++) {
                                int iw = ow * g->stride - g->pad + j;
                                if (iw < 0 || iw >= g->W) continue;
                                s += w[((k * g->C + c) * g->kh + i) * g->kw + j] *
                                     x[(((size_t)n * g->C + c) * g->H + ih) * g->W + iw];
                            }
                        }
                    y[(((size_t)n * g->K + k) * g->Ho + oh) * g->Wo + ow] = s;
                }
}

/* dx, dw, db += contributions of every output gradient; any of them may be NULL. */
static void conv_backward_reference(const conv_geom *g, const float *x, const float *w,
                                    const float *dy, float *dx, float *dw, float *db) {
    for (int n = 0; n < g->N; n++)
        for (int k = 0; k < g->K; k++)
            for (int oh = 0; oh < g->Ho; oh++)
                for (int ow = 0; ow < g->Wo; ow++) {
                    float gy = dy[(((size_t)n * g->K + k) * g->Ho + oh) * g->Wo + ow];
                    if (db) db[k] += gy;
                    for (int c = 0; c < g->C; c++)
                        for (int i = 0; i < g->kh; i++) {
                            int ih = oh * g->stride - g->pad + i;
                            if (ih < 0 || ih >= g->H) continue;
                            for (int j = 0; j < g->kw; j++) {
                                int iw = ow * g->stride - g->pad + j;
                                if (iw < 0 || iw >= g->W) continue;
                                size_t xi = (((size_t)n * g->C + c) * g->H + ih) * g->W + iw;
                                size_t wi = ((size_t)(k * g->C + c) * g->kh + i) * g->kw + j;
                                if (dw) dw[wi] += gy * x[xi];
                                if (dx) dx[xi] += gy * w[wi];
                            }
                        }
                }
}

/* ==== fast path: im2col + matrix multiplies =============================================== */

/* The output columns ow whose input column iw = ow*s - p + j lies inside [0, W):
 * ow in [*lo, *hi). Outside that range the patch reads padding. */
static void valid_range(int j, int s, int p, int W, int Wo, int *lo, int *hi) {
    int a = p - j;                                  /* need ow*s >= p - j */
    *lo = a <= 0 ? 0 : (a + s - 1) / s;
    int b = W + p - j;                              /* need ow*s < W + p - j */
    *hi = b <= 0 ? 0 : (b - 1) / s + 1;
    if (*hi > Wo) *hi = Wo;
    if (*lo > *hi) *lo = *hi;
}

/* im2col for stride 1 when the output is as wide as the input (Wo = W: a k x k kernel with
 * padding (k - 1) / 2, like every convolution of chapter 3). Then a col row (c, i, j) is the
 * channel's plane itself, moved by di = i - pad rows and dj = j - pad columns:
 *   col[oh * W + ow] = x[(oh + di) * W + ow + dj]
 * which for all the rows inside the image is ONE contiguous run of x. Copy it with a single
 * memcpy, then put the zeros back where the run is wrong: the rows above and below the image,
 * and the |dj| columns at the left or right edge, where the run wrapped into the neighbouring
 * row of x. One memcpy of 180-760 floats per col row instead of one per output row (the
 * CNN workload: 300 batches on one thread 1.32-1.38 -> 1.15-1.17 s; an AVX-512 version of
 * the row-by-row loop, a masked load and a full store per 16 floats, had reached 1.24-1.38). */
static void im2col_same_width(const conv_geom *g, const float *restrict x,
                              float *restrict col) {
    const int W = g->W, H = g->H, Ho = g->Ho;
    size_t P = (size_t)Ho * W;
    for (int c = 0; c < g->C; c++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++) {
                float *row = col + ((size_t)(c * g->kh + i) * g->kw + j) * P;
                const float *plane = x + (size_t)c * H * W;
                int di = i - g->pad, dj = j - g->pad;
                int lo = di < 0 ? -di : 0, hi = H - di < Ho ? H - di : Ho;   /* rows inside */
                if (lo > Ho) lo = Ho;
                if (hi < lo) hi = lo;   /* none inside: all zeros, nothing to copy */
                memset(row, 0, (size_t)lo * W * sizeof(float));
                memset(row + (size_t)hi * W, 0, (size_t)(Ho - hi) * W * sizeof(float));
                /* elements lo*W .. hi*W of the row read plane[k + di*W + dj]; the run may
                 * start before the plane or end after it by |dj|: those are edge columns */
                long first = (long)lo * W, last = (long)hi * W;   /* [first, last) in row */
                long shift = (long)di * W + dj;
                long from = first + shift < 0 ? -shift : first;
                long to = last + shift > (long)H * W ? (long)H * W - shift : last;
                if (to > from)   /* (no rows inside, or an image narrower than the shift) */
                    memcpy(row + from, plane + from + shift, (size_t)(to - from) * sizeof(float));
                int left = -dj < W ? -dj : W, right = W - dj > 0 ? W - dj : 0;
                for (int oh = lo; oh < hi; oh++) {   /* the wrapped columns */
                    float *r = row + (size_t)oh * W;
                    for (int ow = 0; ow < left; ow++) r[ow] = 0.0f;
                    for (int ow = right; ow < W; ow++) r[ow] = 0.0f;
                }
            }
}

/* col (R, P): row r = (c, i, j) holds, for every output pixel (oh, ow), the input pixel that
 * kernel entry (i, j) of channel c multiplies there (0 for padding).  x: one image (C, H, W).
 * Stride 1 with Wo = W takes the run-copying version above. */
static void im2col(const conv_geom *g, const float *restrict x, float *restrict col) {
    if (g->stride == 1 && g->Wo == g->W) {   /* with stride 1: kw = 2 pad + 1 */
        im2col_same_width(g, x, col);
        return;
    }
    size_t P = (size_t)g->Ho * g->Wo;
    for (int c = 0; c < g->C; c++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++) {
                float *row = col + ((size_t)(c * g->kh + i) * g->kw + j) * P;
                int lo, hi;
                valid_range(j, g->stride, g->pad, g->W, g->Wo, &lo, &hi);
                for (int oh = 0; oh < g->Ho; oh++) {
                    float *dst = row + (size_t)oh * g->Wo;
                    int ih = oh * g->stride - g->pad + i;
                    if (ih < 0 || ih >= g->H) {
                        memset(dst, 0, (size_t)g->Wo * sizeof(float));
                        continue;
                    }
                    const float *src = x + ((size_t)c * g->H + ih) * g->W; /* row ih */
                    int off = j - g->pad;                  /* iw = ow * stride + off */
                    for (int ow = 0; ow < lo; ow++) dst[ow] = 0.0f;
                    if (g->stride == 1 && hi > lo)
                        memcpy(dst + lo, src + lo + off, (size_t)(hi - lo) * sizeof(float));
                    else
                        for (int ow = lo; ow < hi; ow++) dst[ow] = src[ow * g->stride + off];
                    for (int ow = hi; ow < g->Wo; ow++) dst[ow] = 0.0f;
                }
            }
}

/* The reverse of im2col: dx (C, H, W) += each entry of dcol (R, P) at the pixel it came from.
 * Padding entries have no pixel and are dropped. */
static void col2im_add(const conv_geom *g, const float *dcol, float *dx) {
    size_t P = (size_t)g->Ho * g->Wo;
    for (int c = 0; c < g->C; c++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++) {
                const float *row = dcol + ((size_t)(c * g->kh + i) * g->kw + j) * P;
                int lo, hi;
                valid_range(j, g->stride, g->pad, g->W, g->Wo, &lo, &hi);
                for (int oh = 0; oh < g->Ho; oh++) {
                    int ih = oh * g->stride - g->pad + i;
                    if (ih < 0 || ih >= g->H) continue;
                    const float *src = row + (size_t)oh * g->Wo;
                    float *dst = dx + ((size_t)c * g->H + ih) * g->W;  /* row ih */
                    int off = j - g->pad;
                    if (g->stride == 1)        /* contiguous: the compiler vectorises it */
                        for (int ow = lo; ow < hi; ow++) dst[ow + off] += src[ow];
                    else
                        for (int ow = lo; ow < hi; ow++) dst[ow * g->stride + off] += src[ow];
                }
            }
}

/* Sum of n floats in 8 running partial sums: C may not reorder a float sum by itself, and
 * with one running total it could not vectorise the loop. */
static float sum_floats(const float *a, int n) {
    float part[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) part[l] += a[i + l];
    float s = 0.0f;
    for (; i < n; i++) s += a[i];
    for (int l = 0; l < 8; l++) s += part[l];
    return s;
}

/* nn_conv2d_relu's activation, y = max(0, y), and its backward: the gradient of the
 * pre-activation is dy where y > 0, else 0 (y > 0 exactly where the pre-activation is). */
static void relu_in_place(float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
}
static void relu_mask(const float *restrict y, const float *restrict dy, float *restrict g,
                      size_t n) {
    for (size_t i = 0; i < n; i++) {
        float d = dy[i];   /* loaded whatever the sign: a select, not a branch per element */
        g[i] = y[i] > 0.0f ? d : 0.0f;
    }
}

/* A 1x1 kernel with stride 1 and no padding sees each pixel once: col IS the image. */
static bool col_is_image(const conv_geom *g) {
    return g->kh == 1 && g->kw == 1 && g->stride == 1 && g->pad == 0;
}

/* What the op does after the convolution: nothing (nn_conv2d), max(0, .) (nn_conv2d_relu),
 * or max(0, .) then max pooling by pool_k x pool_k windows every pool_s pixels
 * (nn_conv2d_relu_maxpool2d), the output then (N, K, Hp, Wp). */
typedef struct conv_after {
    bool relu;
    bool pool;
    int pool_k, pool_s;
    int Hp, Wp;
} conv_after;

/* floats per image of the op's output */
static size_t out_per_image(const conv_geom *g, const conv_after *a) {
    return (size_t)g->K * (a->pool ? (size_t)a->Hp * a->Wp : (size_t)g->Ho * g->Wo);
}

/* Image n's convolution output y_n (K, Ho*Wo), relu'd: pooled into out (K, Hp*Wp) with each
 * winner's index in its plane (argmax; NULL when there is no backward). */
static void pool_image(const conv_geom *g, const conv_after *a, const float *yn, bool general,
                       float *out, int *argmax) {
    size_t P = (size_t)g->Ho * g->Wo, PP = (size_t)a->Hp * a->Wp;
    for (int k = 0; k < g->K; k++)
        nn_max_pool_plane(yn + k * P, g->Ho, g->Wo, a->pool_k, a->pool_s, general, out + k * PP,
                          argmax ? argmax + k * PP : NULL);
}

/* The convolution's columns live in one scratch per thread, not one per image: backward
 * builds them again (as cheap as reading them back, and chapter 3's two layers at batch 64
 * would keep 5 MB). With a ReLU, each image's output is cut at 0 while it is in the cache;
 * with pooling, that output is a per-thread scratch too, and only the pooled values (and
 * their argmax) are kept. */
static void conv_forward_fast(const conv_geom *g, const conv_after *a, const float *x,
                              const float *w, const float *b, float *y, int *argmax) {
    int R = g->C * g->kh * g->kw, P = g->Ho * g->Wo;
    size_t xs = (size_t)g->C * g->H * g->W, ys = (size_t)g->K * P, cs = (size_t)R * P;
    size_t os = out_per_image(g, a);
    bool direct = col_is_image(g), pool = a->pool;
    size_t per = (direct ? 0 : cs) + (pool ? ys : 0);   /* floats of scratch per thread */
    float *scratch = per ? nn_arena_alloc_unzeroed(nn_max_threads() * per * sizeof(float)) : NULL;
#pragma omp parallel for schedule(dynamic) if (g->N > 1)
    for (int n = 0; n < g->N; n++) {
        float *mine = scratch ? scratch + (size_t)nn_thread_id() * per : NULL;
        const float *col = x + n * xs;
        if (!direct) {
            im2col(g, x + n * xs, mine);
            col = mine;
        }
        float *yn = pool ? mine + (direct ? 0 : cs) : y + n * ys;   /* (K, P), from the bias */
        for (int k = 0; k < g->K; k++)
            for (int q = 0; q < P; q++) yn[(size_t)k * P + q] = b ? b[k] : 0.0f;
        nn_kernel_gemm_nn(w, col, yn, g->K, R, P);       /* y_n (K,P) += w (K,R) @ col (R,P) */
        if (a->relu) relu_in_place(yn, ys);              /* while y_n is still in cache */
        if (pool) pool_image(g, a, yn, false, y + n * os, argmax ? argmax + n * os : NULL);
    }
}

/* The gradient of image n's convolution output (K, P): the op's dy itself (plain conv), dy
 * where y > 0 (ReLU), or each pooled dy sent back to its window's winner where the pooled y
 * is > 0 (ReLU then pool: the winner's value is y, so it passed the ReLU exactly then).
 * y, dy, argmax: the op's output, its gradient, the pool's winners. d: scratch (K, P). */
static const float *conv_out_grad(const conv_geom *g, const conv_after *a, const float *y,
                                  const float *dy, const int *argmax, int n, float *d) {
    size_t P = (size_t)g->Ho * g->Wo, ys = (size_t)g->K * P, os = out_per_image(g, a);
    if (a->pool) {
        size_t PP = (size_t)a->Hp * a->Wp;
        memset(d, 0, ys * sizeof(float));
        const float *yo = y + n * os, *go = dy + n * os;
        const int *am = argmax + n * os;
        for (int k = 0; k < g->K; k++)
            for (size_t o = 0; o < PP; o++) {
                size_t i = (size_t)k * PP + o;
                if (yo[i] > 0.0f) d[(size_t)k * P + am[i]] += go[i];   /* windows may overlap */
            }
        return d;
    }
    if (a->relu) {
        relu_mask(y + n * ys, dy + n * ys, d, ys);
        return d;
    }
    return dy + n * ys;
}

/* y, dy, argmax: the op's output, its gradient and the pool's winners (see conv_out_grad) */
static void conv_backward_fast(const conv_geom *g, const conv_after *a, const float *x,
                               const float *w, const float *y, const float *dy,
                               const int *argmax, float *dx, float *dw, float *db) {
    int R = g->C * g->kh * g->kw, P = g->Ho * g->Wo, K = g->K;
    size_t xs = (size_t)g->C * g->H * g->W, ys = (size_t)K * P;
    bool direct = col_is_image(g);
    int nt = nn_max_threads();
    /* Per-thread scratch: col (R,P) for dw, dcol (R,P) for dx, dy_n (K,P) after a ReLU. */
    size_t per = (size_t)2 * R * P + (a->relu ? ys : 0);
    float *scratch = nn_arena_alloc_unzeroed((size_t)nt * per * sizeof(float));
    /* Each image's own dw (K,R) and db (K), added up in image order after the loop: the
     * result is then the same bits whichever thread did which image, and for any number of
     * threads. (Each is written whole, so the arena need not zero them.) */
    float *dw_n = dw ? nn_arena_alloc_unzeroed((size_t)g->N * K * R * sizeof(float)) : NULL;
    float *db_n = db ? nn_arena_alloc_unzeroed((size_t)g->N * K * sizeof(float)) : NULL;
    /* dynamic: when another program holds a core, the free thread takes more images */
#pragma omp parallel for schedule(dynamic) if (g->N > 1)
    for (int n = 0; n < g->N; n++) {
        float *s = scratch + (size_t)nn_thread_id() * per;
        float *col = s, *dcol = s + (size_t)R * P;
        const float *dyn = conv_out_grad(g, a, y, dy, argmax, n, dcol + (size_t)R * P);
        if (db)
            for (int k = 0; k < K; k++)
                db_n[(size_t)n * K + k] = sum_floats(dyn + (size_t)k * P, P);
        if (dw) {
            const float *c = x + n * xs;
            if (!direct) {
                im2col(g, c, col);
                c = col;
            }
            /* dw_n (K,R) = dy_n (K,P) @ col^T, col stored (R,P): read transposed in place */
            nn_kernel_gemm_set(false, true, dyn, c, dw_n + (size_t)n * K * R, K, R, P, NULL);
        }
        if (dx) {                                        /* w^T (R,K), w stored (K,R) */
            if (direct) {                                /* dx_n (C,P) += w^T @ dy_n */
                nn_kernel_gemm_tn(w, dyn, dx + n * xs, R, K, P);
            } else {
                /* dcol (R,P) = w^T @ dy_n */
                nn_kernel_gemm_set(true, false, w, dyn, dcol, R, P, K, NULL);
                col2im_add(g, dcol, dx + n * xs);
            }
        }
    }
    if (dw) {                                            /* dw += the images' dw_n, in order */
        size_t KR = (size_t)K * R;
        for (int n = 0; n < g->N; n++)
            for (size_t i = 0; i < KR; i++) dw[i] += dw_n[(size_t)n * KR + i];
    }
    if (db)
        for (int n = 0; n < g->N; n++)
            for (int k = 0; k < K; k++) db[k] += db_n[(size_t)n * K + k];
}

/* ==== the op ================================================================================ */

typedef struct {
    conv_geom g;
    conv_after a;
    bool reference;
    int *argmax;   /* pooling: each output's winner in its plane of the convolution output */
} conv_saved;

static void conv2d_backward(nn_node *n) {
    const conv_saved *s = n->extra;
    nn_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2];
    float *dx = WANTS_GRAD(x) ? x->grad : NULL;
    float *dw = WANTS_GRAD(w) ? w->grad : NULL;
    float *db = WANTS_GRAD(b) ? b->grad : NULL;
    const float *y = n->out->data, *dy = n->out->grad;
    if (s->reference) {
        if (s->a.relu) {   /* the gradient of the convolution's output, then the plain backward */
            size_t ys = (size_t)s->g.K * s->g.Ho * s->g.Wo;
            float *full = nn_arena_alloc_unzeroed(s->g.N * ys * sizeof(float));
            for (int i = 0; i < s->g.N; i++)   /* with a ReLU, written into full's image i */
                conv_out_grad(&s->g, &s->a, y, dy, s->argmax, i, full + i * ys);
            dy = full;
        }
        conv_backward_reference(&s->g, x->data, w->data, dy, dx, dw, db);
    } else {
        conv_backward_fast(&s->g, &s->a, x->data, w->data, y, dy, s->argmax, dx, dw, db);
    }
}

/* nn_conv2d, nn_conv2d_relu and nn_conv2d_relu_maxpool2d: op is the caller's name, for the
 * messages; a says what follows the convolution (its Hp, Wp filled in here) */
static nn_tensor *conv2d_op(const char *op, nn_tensor *x, nn_tensor *w, nn_tensor *b,
                            int stride, int padding, conv_after a) {
    NN_REQUIRE(x, op);
    NN_REQUIRE(w, op);
    if (!nn_require_live(b, op, "b")) return NULL;   /* b may be NULL: no bias */
    if (x->ndim != 4) {
        nn_fail(op, "x is a batch of images (N, C, H, W); one grayscale H x W image is "
                "nn_reshape(x, NN_SHAPE(1, 1, H, W))",
                "x has shape %s: want 4 dims (N, C, H, W) (w is %s)", SHAPE(x), SHAPE(w));
        return NULL;
    }
    if (w->ndim != 4) {
        nn_fail(op, "w holds K kernels of C x kh x kw: shape (K, C, kh, kw)",
                "w has shape %s: want 4 dims (K, C, kh, kw) (x is %s)", SHAPE(w), SHAPE(x));
        return NULL;
    }
    if (x->shape[1] != w->shape[1]) {
        nn_fail(op, "w's dim 1 (in channels) must equal x's dim 1; is x laid out NCHW "
                "(channels before height and width)?",
                "x %s has %d channels but w %s expects %d", SHAPE(x), x->shape[1], SHAPE(w),
                w->shape[1]);
        return NULL;
    }
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0])) {
        nn_fail(op, "one bias per kernel (output channel), or pass NULL for none",
                "b has shape %s but w %s has %d kernels: want b (%d)", SHAPE(b), SHAPE(w),
                w->shape[0], w->shape[0]);
        return NULL;
    }
    if (stride < 1) {
        nn_fail(op, "stride is how far the kernel moves each step: 1 or more",
                "stride = %d (x %s, w %s)", stride, SHAPE(x), SHAPE(w));
        return NULL;
    }
    if (padding < 0) {
        nn_fail(op, "padding is how many rows/columns of zeros go around the image: 0 or more",
                "padding = %d (x %s, w %s)", padding, SHAPE(x), SHAPE(w));
        return NULL;
    }
    conv_geom g = {x->shape[0], x->shape[1], x->shape[2], x->shape[3],
                   w->shape[0], w->shape[2], w->shape[3], 0, 0, stride, padding};
    if (g.kh > g.H + 2 * padding || g.kw > g.W + 2 * padding) {
        nn_fail(op, "the kernel must fit inside the padded image: use a smaller kernel or "
                "more padding (Ho = (H + 2p - kh) / s + 1 must be >= 1)",
                "kernel %dx%d is bigger than the padded input %dx%d (x %s, w %s, padding %d)",
                g.kh, g.kw, g.H + 2 * padding, g.W + 2 * padding, SHAPE(x), SHAPE(w), padding);
        return NULL;
    }
    g.Ho = (g.H + 2 * padding - g.kh) / stride + 1;
    g.Wo = (g.W + 2 * padding - g.kw) / stride + 1;
    if (a.pool) {
        if (a.pool_k < 1 || a.pool_s < 1 || a.pool_k > g.Ho || a.pool_k > g.Wo) {
            nn_fail(op, "the pooling window (1 or more, at most the convolution's output) and "
                    "its stride (1 or more); 2 and 2 halve the height and width",
                    "pool kernel %d, stride %d on the convolution's %dx%d output (x %s, w %s)",
                    a.pool_k, a.pool_s, g.Ho, g.Wo, SHAPE(x), SHAPE(w));
            return NULL;
        }
        a.Hp = (g.Ho - a.pool_k) / a.pool_s + 1;
        a.Wp = (g.Wo - a.pool_k) / a.pool_s + 1;
    }
    int out_h = a.pool ? a.Hp : g.Ho, out_w = a.pool ? a.Wp : g.Wo;

    nn_node *node;
    /* both paths write every output (the bias first, then the products added on) */
    nn_tensor *y = nn_record_filled(op, conv2d_backward, 4, (int[]){g.N, g.K, out_h, out_w}, x,
                                    w, b, &node);
    conv_saved *s = NULL;
    int *argmax = NULL;
    if (node) {
        s = nn_arena_alloc(sizeof *s);
        *s = (conv_saved){g, a, use_reference, NULL};
        if (a.pool) s->argmax = argmax = nn_arena_alloc_unzeroed(y->size * sizeof(int));
        node->extra = s;
    }
    const float *bias = b ? b->data : NULL;
    if (use_reference) {
        size_t ys = (size_t)g.K * g.Ho * g.Wo;   /* pooling: the whole output first */
        float *full = a.pool ? nn_arena_alloc_unzeroed(g.N * ys * sizeof(float)) : y->data;
        conv_forward_reference(&g, x->data, w->data, bias, full);
        if (a.relu) relu_in_place(full, g.N * ys);
        size_t os = out_per_image(&g, &a);
        if (a.pool)
            for (int n = 0; n < g.N; n++)
                pool_image(&g, &a, full + n * ys, true, y->data + n * os,
                           argmax ? argmax + n * os : NULL);
    } else {
        conv_forward_fast(&g, &a, x->data, w->data, bias, y->data, argmax);
    }
    return y;
}

nn_tensor *nn_conv2d(nn_tensor *x, nn_tensor *w, nn_tensor *b, int stride, int padding) {
    return conv2d_op("nn_conv2d", x, w, b, stride, padding, (conv_after){0});
}

nn_tensor *nn_conv2d_relu(nn_tensor *x, nn_tensor *w, nn_tensor *b, int stride, int padding) {
    return conv2d_op("nn_conv2d_relu", x, w, b, stride, padding, (conv_after){.relu = true});
}

nn_tensor *nn_conv2d_relu_maxpool2d(nn_tensor *x, nn_tensor *w, nn_tensor *b, int stride,
                                    int padding, int pool_kernel, int pool_stride) {
    conv_after a = {true, true, pool_kernel, pool_stride, 0, 0};
    return conv2d_op("nn_conv2d_relu_maxpool2d", x, w, b, stride, padding, a);
}
