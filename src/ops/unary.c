/* src/ops/unary.c — elementwise math of one input: y = f(x), dx += dy * f'(x).
 * Each op's backward sits right above its forward, with the local derivative in a comment. */
#include "internal.h"
#include "nn/ops/elementwise.h"
#include "ops/unary_op.h"

/* y = x + s;  dy/dx = 1 */
static void add_scalar_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    for (size_t i = 0; i < len; i++) gx[i] += g[i];
}
nn_tensor *nn_add_scalar(nn_tensor *in, float s) {
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
nn_tensor *nn_mul_scalar(nn_tensor *in, float s) {
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
nn_tensor *nn_neg(nn_tensor *in) {
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
nn_tensor *nn_pow(nn_tensor *in, float p) {
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
nn_tensor *nn_square(nn_tensor *in) {
    UNARY_FORWARD("nn_square", square_backward);
    for (size_t i = 0; i < len; i++) y[i] = x[i] * x[i];
    return out;
}

/* y = sqrt(x);  dy/dx = 1 / (2 sqrt(x)) = 1 / (2y) */
static void sqrt_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    for (size_t i = 0; i < len; i++) gx[i] += g[i] * 0.5f / y[i];
}
nn_tensor *nn_sqrt(nn_tensor *in) {
    UNARY_FORWARD("nn_sqrt", sqrt_backward);
    for (size_t i = 0; i < len; i++) y[i] = sqrtf(x[i]);
    return out;
}

/* y = e^x;  dy/dx = e^x = y */
static void exp_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    for (size_t i = 0; i < len; i++) gx[i] += g[i] * y[i];
}
nn_tensor *nn_exp(nn_tensor *in) {
    UNARY_FORWARD("nn_exp", exp_backward);
    for (size_t i = 0; i < len; i++) y[i] = expf(x[i]);
    return out;
}

/* y = ln x;  dy/dx = 1/x */
static void log_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    for (size_t i = 0; i < len; i++) gx[i] += g[i] / x[i];
}
nn_tensor *nn_log(nn_tensor *in) {
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
nn_tensor *nn_abs(nn_tensor *in) {
    UNARY_FORWARD("nn_abs", abs_backward);
    for (size_t i = 0; i < len; i++) y[i] = fabsf(x[i]);
    return out;
}

/* y = sin x;  dy/dx = cos x */
static void sin_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    for (size_t i = 0; i < len; i++) gx[i] += g[i] * cosf(x[i]);
}
nn_tensor *nn_sin(nn_tensor *in) {
    UNARY_FORWARD("nn_sin", sin_backward);
    for (size_t i = 0; i < len; i++) y[i] = sinf(x[i]);
    return out;
}

/* y = cos x;  dy/dx = -sin x */
static void cos_backward(nn_node *n) {
    UNARY_BACKWARD_VARS(n);
    for (size_t i = 0; i < len; i++) gx[i] -= g[i] * sinf(x[i]);
}
nn_tensor *nn_cos(nn_tensor *in) {
    UNARY_FORWARD("nn_cos", cos_backward);
    for (size_t i = 0; i < len; i++) y[i] = cosf(x[i]);
    return out;
}

