/* src/ops_unary.c — elementwise ops of one input: y = f(x), dx += dy * f'(x).
 * Each op's backward sits right above its forward, with the local derivative in a comment. */
#include "internal.h"

/* Shorthands for the loops below: n elements, x input, y output, g = dL/dy, gx = dL/dx. */
#define UNARY_BACKWARD_VARS(n)                                                           \
    size_t len = (n)->out->size;                                                         \
    const float *x = (n)->in[0]->data, *y = (n)->out->data, *g = (n)->out->grad;         \
    float *gx = (n)->in[0]->grad;                                                        \
    (void)x; (void)y

#define UNARY_FORWARD(opname, backward)                                                  \
    NN_REQUIRE(in, opname);                                                              \
    nn_node *node;                                                                       \
    nn_tensor *out = nn_unary_out(opname, backward, in, &node);                          \
    size_t len = in->size;                                                               \
    const float *x = in->data;                                                           \
    float *y = out->data

/* y = x + s;  dy/dx = 1 */
static void add_scalar_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    for (size_t i = 0; i < len; i++) gx[i] += g[i];
}
nn_tensor *(nn_add_scalar)(nn_tensor *in, float s) {
    UNARY_FORWARD("nn_add_scalar", add_scalar_backward);
    for (size_t i = 0; i < len; i++) y[i] = x[i] + s;
    return out;
}

/* y = s x;  dy/dx = s */
static void mul_scalar_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    float s = n->f[0];
    for (size_t i = 0; i < len; i++) gx[i] += g[i] * s;
}
nn_tensor *(nn_mul_scalar)(nn_tensor *in, float s) {
    UNARY_FORWARD("nn_mul_scalar", mul_scalar_backward);
    if (node) node->f[0] = s;
    for (size_t i = 0; i < len; i++) y[i] = x[i] * s;
    return out;
}

/* y = -x;  dy/dx = -1 */
static void neg_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    for (size_t i = 0; i < len; i++) gx[i] -= g[i];
}
nn_tensor *(nn_neg)(nn_tensor *in) {
    UNARY_FORWARD("nn_neg", neg_backward);
    for (size_t i = 0; i < len; i++) y[i] = -x[i];
    return out;
}

/* y = x^p;  dy/dx = p x^(p-1) */
static void pow_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    float p = n->f[0];
    for (size_t i = 0; i < len; i++) gx[i] += g[i] * p * powf(x[i], p - 1.0f);
}
nn_tensor *(nn_pow)(nn_tensor *in, float p) {
    UNARY_FORWARD("nn_pow", pow_backward);
    if (node) node->f[0] = p;
    for (size_t i = 0; i < len; i++) y[i] = powf(x[i], p);
    return out;
}

/* y = x^2;  dy/dx = 2x */
static void square_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    for (size_t i = 0; i < len; i++) gx[i] += g[i] * 2.0f * x[i];
}
nn_tensor *(nn_square)(nn_tensor *in) {
    UNARY_FORWARD("nn_square", square_backward);
    for (size_t i = 0; i < len; i++) y[i] = x[i] * x[i];
    return out;
}

/* y = sqrt(x);  dy/dx = 1 / (2 sqrt(x)) = 1 / (2y) */
static void sqrt_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    for (size_t i = 0; i < len; i++) gx[i] += g[i] * 0.5f / y[i];
}
nn_tensor *(nn_sqrt)(nn_tensor *in) {
    UNARY_FORWARD("nn_sqrt", sqrt_backward);
    for (size_t i = 0; i < len; i++) y[i] = sqrtf(x[i]);
    return out;
}

/* y = e^x;  dy/dx = e^x = y */
static void exp_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    for (size_t i = 0; i < len; i++) gx[i] += g[i] * y[i];
}
nn_tensor *(nn_exp)(nn_tensor *in) {
    UNARY_FORWARD("nn_exp", exp_backward);
    for (size_t i = 0; i < len; i++) y[i] = expf(x[i]);
    return out;
}

/* y = ln x;  dy/dx = 1/x */
static void log_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    for (size_t i = 0; i < len; i++) gx[i] += g[i] / x[i];
}
nn_tensor *(nn_log)(nn_tensor *in) {
    UNARY_FORWARD("nn_log", log_backward);
    for (size_t i = 0; i < len; i++) y[i] = logf(x[i]);
    return out;
}

/* y = |x|;  dy/dx = sign(x) (0 at 0, the usual subgradient choice) */
static void abs_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    for (size_t i = 0; i < len; i++)
        gx[i] += x[i] > 0.0f ? g[i] : (x[i] < 0.0f ? -g[i] : 0.0f);
}
nn_tensor *(nn_abs)(nn_tensor *in) {
    UNARY_FORWARD("nn_abs", abs_backward);
    for (size_t i = 0; i < len; i++) y[i] = fabsf(x[i]);
    return out;
}

/* y = sin x;  dy/dx = cos x */
static void sin_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    for (size_t i = 0; i < len; i++) gx[i] += g[i] * cosf(x[i]);
}
nn_tensor *(nn_sin)(nn_tensor *in) {
    UNARY_FORWARD("nn_sin", sin_backward);
    for (size_t i = 0; i < len; i++) y[i] = sinf(x[i]);
    return out;
}

/* y = cos x;  dy/dx = -sin x */
static void cos_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    for (size_t i = 0; i < len; i++) gx[i] -= g[i] * sinf(x[i]);
}
nn_tensor *(nn_cos)(nn_tensor *in) {
    UNARY_FORWARD("nn_cos", cos_backward);
    for (size_t i = 0; i < len; i++) y[i] = cosf(x[i]);
    return out;
}

/* ---- activations ---------------------------------------------------------------------- */

/* y = 1 / (1 + e^-x);  dy/dx = y (1 - y) */
static void sigmoid_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    for (size_t i = 0; i < len; i++) gx[i] += g[i] * y[i] * (1.0f - y[i]);
}
nn_tensor *(nn_sigmoid)(nn_tensor *in) {
    UNARY_FORWARD("nn_sigmoid", sigmoid_backward);
    for (size_t i = 0; i < len; i++) {
        /* e^-x overflows for very negative x; use e^x / (1 + e^x) there. */
        if (x[i] >= 0.0f) {
            y[i] = 1.0f / (1.0f + expf(-x[i]));
        } else {
            float e = expf(x[i]);
            y[i] = e / (1.0f + e);
        }
    }
    return out;
}

/* y = tanh x;  dy/dx = 1 - y^2 */
static void tanh_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    for (size_t i = 0; i < len; i++) gx[i] += g[i] * (1.0f - y[i] * y[i]);
}
nn_tensor *(nn_tanh)(nn_tensor *in) {
    UNARY_FORWARD("nn_tanh", tanh_backward);
    for (size_t i = 0; i < len; i++) y[i] = tanhf(x[i]);
    return out;
}

/* y = max(0, x);  dy/dx = 1 if x > 0 else 0 */
static void relu_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    for (size_t i = 0; i < len; i++) gx[i] += x[i] > 0.0f ? g[i] : 0.0f;
}
nn_tensor *(nn_relu)(nn_tensor *in) {
    UNARY_FORWARD("nn_relu", relu_backward);
    for (size_t i = 0; i < len; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
    return out;
}

/* y = x if x > 0 else slope x;  dy/dx = 1 or slope */
static void leaky_relu_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    float slope = n->f[0];
    for (size_t i = 0; i < len; i++) gx[i] += x[i] > 0.0f ? g[i] : slope * g[i];
}
nn_tensor *(nn_leaky_relu)(nn_tensor *in, float slope) {
    UNARY_FORWARD("nn_leaky_relu", leaky_relu_backward);
    if (node) node->f[0] = slope;
    for (size_t i = 0; i < len; i++) y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
    return out;
}

/* GELU, tanh approximation: y = x/2 (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
 * dy/dx = (1 + tanh u)/2 + x/2 (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2) */
#define GELU_K 0.7978845608f /* sqrt(2/pi) */
#define GELU_C 0.044715f
static void gelu_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    for (size_t i = 0; i < len; i++) {
        float xi = x[i];
        float t = tanhf(GELU_K * (xi + GELU_C * xi * xi * xi));
        float du = GELU_K * (1.0f + 3.0f * GELU_C * xi * xi);
        gx[i] += g[i] * (0.5f * (1.0f + t) + 0.5f * xi * (1.0f - t * t) * du);
    }
}
nn_tensor *(nn_gelu)(nn_tensor *in) {
    UNARY_FORWARD("nn_gelu", gelu_backward);
    for (size_t i = 0; i < len; i++) {
        float xi = x[i];
        y[i] = 0.5f * xi * (1.0f + tanhf(GELU_K * (xi + GELU_C * xi * xi * xi)));
    }
    return out;
}

/* y = x (a fresh tensor with the same values);  dy/dx = 1 */
nn_tensor *(nn_copy)(nn_tensor *in) {
    UNARY_FORWARD("nn_copy", add_scalar_backward);
    memcpy(y, x, len * sizeof(float));
    return out;
}
