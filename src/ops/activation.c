/* src/ops/activation.c — the activations (激活函数) and clamp: y = f(x), dx += dy * f'(x).
 * Each op's backward sits right above its forward, with the local derivative in a comment. */
#include "internal.h"
#include "nn/ops/elementwise.h"
#include "ops/unary_op.h"
#include "core/vmath.h"

/* y = 1 / (1 + e^-x);  dy/dx = y (1 - y) */
static void sigmoid_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    UNARY_GRAD_LOOP(n, g[i] * y[i] * (1.0f - y[i]));
}
nn_tensor *nn_sigmoid(nn_tensor *in) {
    UNARY_FORWARD("nn_sigmoid", sigmoid_backward);
    UNARY_SETS_GRADS();
    nn_vsigmoid(x, y, len);   /* 8 or 16 at a time (src/core/vmath.c) */
    return out;
}

/* y = tanh x;  dy/dx = 1 - y^2 */
static void tanh_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    UNARY_GRAD_LOOP(n, g[i] * (1.0f - y[i] * y[i]));
}
nn_tensor *nn_tanh(nn_tensor *in) {
    UNARY_FORWARD("nn_tanh", tanh_backward);
    UNARY_SETS_GRADS();
    nn_vtanh(x, y, len);
    return out;
}

/* y = max(0, x);  dy/dx = 1 if x > 0 else 0 */
/* g is passed in, so read whatever the sign: a load inside the condition would keep the loop
 * a branch per element (unpredictable on real data), a load outside makes it a select */
static inline float relu_grad(float x, float g) { return x > 0.0f ? g : 0.0f; }
static void relu_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    UNARY_GRAD_LOOP(n, relu_grad(x[i], g[i]));
}
nn_tensor *nn_relu(nn_tensor *in) {
    UNARY_FORWARD("nn_relu", relu_backward);
    UNARY_SETS_GRADS();
    for (size_t i = 0; i < len; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
    return out;
}

/* y = x if x > 0 else slope x;  dy/dx = 1 or slope */
static void leaky_relu_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    float slope = n->f[0];
    for (size_t i = 0; i < len; i++) gx[i] += x[i] > 0.0f ? g[i] : slope * g[i];
}
nn_tensor *nn_leaky_relu(nn_tensor *in, float slope) {
    UNARY_FORWARD("nn_leaky_relu", leaky_relu_backward);
    if (node) node->f[0] = slope;
    for (size_t i = 0; i < len; i++) y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
    return out;
}

/* GELU, tanh approximation: y = x/2 (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
 * dy/dx = (1 + tanh u)/2 + x/2 (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2) */
#define GELU_K 0.7978845608f /* sqrt(2/pi) */
#define GELU_C 0.044715f
/* Forward keeps tanh(u) of every element (node->extra) for backward: tanh is most of
 * GELU's cost, and computing it once instead of twice gives the same numbers. */
static void gelu_tanh_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    const float *tanh_u = n->extra;
    bool set = nn_grad_take_unset(n->in[0]);   /* write x's gradient, not add (sets_grads) */
#pragma omp parallel for schedule(static) if (len > PARALLEL_MIN_ELEMENTS)
    for (size_t i = 0; i < len; i++) {
        float xi = x[i], t = tanh_u[i];
        float du = GELU_K * (1.0f + 3.0f * GELU_C * xi * xi);
        float d = g[i] * (0.5f * (1.0f + t) + 0.5f * xi * (1.0f - t * t) * du);
        gx[i] = set ? d : gx[i] + d;
    }
}
nn_tensor *nn_gelu_tanh(nn_tensor *in) {
    UNARY_FORWARD("nn_gelu_tanh", gelu_tanh_backward);
    UNARY_SETS_GRADS();
    float *tanh_u = node ? nn_arena_alloc_unzeroed(len * sizeof(float)) : NULL;
    /* in chunks that stay in L1: u, then tanh u for the whole chunk at once (nn_vtanh) */
    enum { CHUNK = 512 };
    size_t chunks = (len + CHUNK - 1) / CHUNK;
#pragma omp parallel for schedule(static) if (len > PARALLEL_MIN_ELEMENTS)
    for (size_t c = 0; c < chunks; c++) {
        size_t lo = c * CHUNK, n = len - lo < CHUNK ? len - lo : CHUNK;
        float t[CHUNK];
        for (size_t i = 0; i < n; i++) {
            float xi = x[lo + i];
            t[i] = GELU_K * (xi + GELU_C * xi * xi * xi);
        }
        nn_vtanh(t, t, n);
        for (size_t i = 0; i < n; i++) y[lo + i] = 0.5f * x[lo + i] * (1.0f + t[i]);
        if (tanh_u) memcpy(tanh_u + lo, t, n * sizeof(float));
    }
    if (node) node->extra = tanh_u;
    return out;
}

/* GELU, exact: y = x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2 (the normal distribution's CDF)
 * dy/dx = Phi(x) + x phi(x),  phi(x) = e^(-x^2/2) / sqrt(2 pi) (its density) */
#define INV_SQRT2 0.70710678118654752f
#define INV_SQRT_2PI 0.39894228040143268f
static void gelu_erf_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    for (size_t i = 0; i < len; i++) {
        float xi = x[i];
        float cdf = 0.5f * (1.0f + erff(xi * INV_SQRT2));
        float pdf = INV_SQRT_2PI * expf(-0.5f * xi * xi);
        gx[i] += g[i] * (cdf + xi * pdf);
    }
}
nn_tensor *nn_gelu_erf(nn_tensor *in) {
    UNARY_FORWARD("nn_gelu_erf", gelu_erf_backward);
    for (size_t i = 0; i < len; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * INV_SQRT2));
    return out;
}

/* y = min(max(x, lo), hi);  dy/dx = 1 where lo <= x <= hi, else 0 (NaN stays NaN) */
static void clamp_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    float lo = n->f[0], hi = n->f[1];
    for (size_t i = 0; i < len; i++) gx[i] += (x[i] >= lo && x[i] <= hi) ? g[i] : 0.0f;
}
nn_tensor *nn_clamp(nn_tensor *in, float lo, float hi) {
    NN_REQUIRE(in, "nn_clamp");
    if (!(lo <= hi)) {
        nn_fail("nn_clamp", "pass lo <= hi (use -INFINITY or INFINITY for one side only)",
                "lo = %g is not <= hi = %g", lo, hi);
        return NULL;
    }
    UNARY_FORWARD("nn_clamp", clamp_backward);
    if (node) {
        node->f[0] = lo;
        node->f[1] = hi;
    }
    for (size_t i = 0; i < len; i++) y[i] = x[i] < lo ? lo : (x[i] > hi ? hi : x[i]);
    return out;
}
