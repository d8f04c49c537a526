/* src/ops/quant.c — int8 and int4 symmetric quantization of weight arrays, and back
 * (formulas in include/nn/ops/quant.h).
 *
 * Quantizing is two passes over each row (or group): find max |w| to fix the scale, then
 * round every w / s to the nearest integer (ties to even). Dividing by s (not multiplying by
 * 1 / s) keeps the rounding error within s / 2 up to one float rounding, which the tests
 * check. */
#include "internal.h"
#include "nn/ops/quant.h"
#include "quant_internal.h"

/* max |v[0 .. n)|, or -1 when one is not finite. One pass over the bits: with the sign bit
 * cleared, finite floats compare as their unsigned integers do, and every NaN or infinity is
 * at least 0x7f800000 (all exponent bits set), so the largest pattern answers both
 * questions. An integer maximum vectorizes (a float one would not, for NaN's sake). */
static float max_abs(const float *v, size_t n) {
    uint32_t top = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, v + i, 4);
        b &= 0x7fffffffu;
        top = b > top ? b : top;
    }
    return top >= 0x7f800000u ? -1 : nn_bits_float(top);
}

/* round(w / s) to the nearest integer, ties to even (as PyTorch's quantize_per_tensor and
 * torch.round do), clamped to [-qmax, qmax]; 0 when s is 0 (a row of zeros). Adding and
 * subtracting 1.5 * 2^23 rounds: floats that large have no bits below 1, so the addition
 * itself rounds to an integer (|w / s| <= qmax is far smaller). No libm call, so the loops
 * that call this vectorize. */
static inline int quantize_one(float w, float s, int qmax) {
    if (s == 0) return 0;
    const float magic = 12582912.0f;   /* 1.5 * 2^23 */
    float r = (w / s + magic) - magic;
    return r > qmax ? qmax : r < -qmax ? -qmax : (int)r;
}

/* The step s = max / qmax, made a little smaller in the one case where s * qmax rounds up
 * past the largest float (max near 3.4e38): dequantizing must never give infinity. */
static float step(float max, int qmax) {
    float s = max / (float)qmax;
    while (isinf(s * (float)qmax)) s = nextafterf(s, 0);
    return s;
}

static bool check_size(const char *op, size_t rows, size_t cols) {
    if (rows == 0 || cols == 0 || rows > NN_MAX_ELEMENTS / cols) {
        nn_fail(op, "pass the array's (rows, cols), both at least 1",
                "rows = %zu, cols = %zu", rows, cols);
        return false;
    }
    return true;
}

static int not_finite(const char *op, size_t row) {
    nn_fail(op, "quantize a trained model's weights; nn_model_check_finite finds the bad one",
            "row %zu holds a value that is not finite (NaN or infinity)", row);
    return -1;
}

/* 0 when every value of w (rows, cols) is finite; else the misuse report for the first bad
 * row and -1. The functions that allocate call it first, so that a handler that jumps out of
 * nn_fail (as the tests' does) leaks nothing. */
int nn_quant_check_finite(const char *op, const float *w, size_t rows, size_t cols) {
    size_t bad = nn_find_nonfinite(w, rows * cols);
    return bad < rows * cols ? not_finite(op, bad / cols) : 0;
}

/* ---- int8, one scale per row ------------------------------------------------------------ */

int nn_q8_quantize_op(const char *op, const float *w, size_t rows, size_t cols, int8_t *q,
                      float *scale) {
    for (size_t r = 0; r < rows; r++) {
        const float *wr = w + r * cols;   // w: (rows, cols)
        float m = max_abs(wr, cols);
        if (m < 0) return not_finite(op, r);
        float s = step(m, 127);           // the largest |w| maps to 127
        scale[r] = s;
        for (size_t c = 0; c < cols; c++) q[r * cols + c] = (int8_t)quantize_one(wr[c], s, 127);
    }
    return 0;
}

int nn_q8_quantize(const float *w, size_t rows, size_t cols, int8_t *q, float *scale) {
    NN_REQUIRE_OR(w, "nn_q8_quantize", -1);
    NN_REQUIRE_OR(q, "nn_q8_quantize", -1);
    NN_REQUIRE_OR(scale, "nn_q8_quantize", -1);
    if (!check_size("nn_q8_quantize", rows, cols)) return -1;
    return nn_q8_quantize_op("nn_q8_quantize", w, rows, cols, q, scale);
}

int nn_q8_dequantize(const int8_t *q, const float *scale, size_t rows, size_t cols, float *w) {
    NN_REQUIRE_OR(q, "nn_q8_dequantize", -1);
    NN_REQUIRE_OR(scale, "nn_q8_dequantize", -1);
    NN_REQUIRE_OR(w, "nn_q8_dequantize", -1);
    if (!check_size("nn_q8_dequantize", rows, cols)) return -1;
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) w[r * cols + c] = scale[r] * q[r * cols + c];
    return 0;
}

/* ---- int4, one scale per group of a row, two values per byte ----------------------------- */

size_t nn_q4_groups(size_t cols, int group) {
    return group < 1 ? 0 : (cols + (size_t)group - 1) / (size_t)group;
}

size_t nn_q4_packed_bytes(size_t rows, size_t cols) { return rows * ((cols + 1) / 2); }

static bool check_group(const char *op, int group) {
    if (group < 1) {
        nn_fail(op, "groups of 32, 64 or 128 weights are usual", "group = %d", group);
        return false;
    }
    return true;
}

/* The work of nn_q4_quantize; `op` names the public call in a message. */
static int q4_quantize(const char *op, const float *w, size_t rows, size_t cols, int group,
                       uint8_t *packed, float *scale) {
    size_t groups = nn_q4_groups(cols, group), row_bytes = (cols + 1) / 2;
    memset(packed, 0, rows * row_bytes);   /* an odd row's last high nibble stays 0 */
    for (size_t r = 0; r < rows; r++) {
        const float *wr = w + r * cols;
        uint8_t *pr = packed + r * row_bytes;
        for (size_t g = 0; g < groups; g++) {
            size_t c0 = g * (size_t)group, c1 = c0 + (size_t)group < cols ? c0 + group : cols;
            float m = max_abs(wr + c0, c1 - c0);   /* the tail group may be shorter */
            if (m < 0) return not_finite(op, r);
            float s = step(m, 7);
            scale[r * groups + g] = s;
            for (size_t c = c0; c < c1; c++) {
                unsigned nib = (unsigned)(quantize_one(wr[c], s, 7) + 8);   /* 1 .. 15 */
                pr[c / 2] |= (uint8_t)(c % 2 ? nib << 4 : nib);
            }
        }
    }
    return 0;
}

int nn_q4_quantize(const float *w, size_t rows, size_t cols, int group, uint8_t *packed,
                   float *scale) {
    const char *op = "nn_q4_quantize";
    NN_REQUIRE_OR(w, op, -1);
    NN_REQUIRE_OR(packed, op, -1);
    NN_REQUIRE_OR(scale, op, -1);
    if (!check_size(op, rows, cols) || !check_group(op, group)) return -1;
    return q4_quantize(op, w, rows, cols, group, packed, scale);
}

int nn_q4_dequantize(const uint8_t *packed, const float *scale, size_t rows, size_t cols,
                     int group, float *w) {
    const char *op = "nn_q4_dequantize";
    NN_REQUIRE_OR(packed, op, -1);
    NN_REQUIRE_OR(scale, op, -1);
    NN_REQUIRE_OR(w, op, -1);
    if (!check_size(op, rows, cols) || !check_group(op, group)) return -1;
    size_t groups = nn_q4_groups(cols, group), row_bytes = (cols + 1) / 2;
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *pr = packed + r * row_bytes;
        for (size_t c = 0; c < cols; c++) {
            int q = (int)(c % 2 ? pr[c / 2] >> 4 : pr[c / 2] & 15) - 8;
            w[r * cols + c] = scale[r * groups + c / (size_t)group] * q;
        }
    }
    return 0;
}

/* ---- round trips ------------------------------------------------------------------------- */

int nn_q8_roundtrip(float *w, size_t rows, size_t cols) {
    NN_REQUIRE_OR(w, "nn_q8_roundtrip", -1);
    if (!check_size("nn_q8_roundtrip", rows, cols) ||
        nn_quant_check_finite("nn_q8_roundtrip", w, rows, cols) != 0)
        return -1;
    int8_t *q = nn_xmalloc(rows * cols);
    float *s = nn_xmalloc(rows * sizeof *s);
    int rc = nn_q8_quantize_op("nn_q8_roundtrip", w, rows, cols, q, s);
    if (rc == 0) rc = nn_q8_dequantize(q, s, rows, cols, w);
    free(q), free(s);
    return rc;
}

int nn_q4_roundtrip(float *w, size_t rows, size_t cols, int group) {
    const char *op = "nn_q4_roundtrip";
    NN_REQUIRE_OR(w, op, -1);
    if (!check_size(op, rows, cols) || !check_group(op, group) ||
        nn_quant_check_finite(op, w, rows, cols) != 0)
        return -1;
    uint8_t *p = nn_xmalloc(nn_q4_packed_bytes(rows, cols));
    float *s = nn_xmalloc(rows * nn_q4_groups(cols, group) * sizeof *s);
    int rc = q4_quantize(op, w, rows, cols, group, p, s);
    if (rc == 0) rc = nn_q4_dequantize(p, s, rows, cols, group, w);
    free(p), free(s);
    return rc;
}

/* A parameter as (channels, fan_in) and back (src/ops/quant_internal.h). */
void nn_quant_get_channels(const nn_tensor *t, float *mat, size_t *rows, size_t *cols) {
    if (t->ndim == 2) {
        size_t in = (size_t)t->shape[0], out = (size_t)t->shape[1];
        for (size_t i = 0; i < in; i++)
            for (size_t o = 0; o < out; o++) mat[o * in + i] = t->data[i * out + o];
        *rows = out, *cols = in;
    } else {
        memcpy(mat, t->data, t->size * sizeof *mat);
        *rows = (size_t)t->shape[0], *cols = t->size / (size_t)t->shape[0];
    }
}

void nn_quant_put_channels(nn_tensor *t, const float *mat) {
    if (t->ndim == 2) {
        size_t in = (size_t)t->shape[0], out = (size_t)t->shape[1];
        for (size_t i = 0; i < in; i++)
            for (size_t o = 0; o < out; o++) t->data[i * out + o] = mat[o * in + i];
    } else {
        memcpy(t->data, mat, t->size * sizeof *mat);
    }
}

int nn_quant_roundtrip_param(nn_model *m, int p, int bits, int group) {
    const char *op = "nn_quant_roundtrip_param";
    NN_REQUIRE_OR(m, op, -1);
    if (p < 0 || p >= m->nparams) {
        nn_fail(op, "parameters are numbered 0 .. nparams - 1", "parameter %d of %d", p,
                m->nparams);
        return -1;
    }
    if (bits != 8 && bits != 4) {
        nn_fail(op, "int8 or int4: bits = 8 or 4", "bits = %d", bits);
        return -1;
    }
    if (bits == 4 && !check_group(op, group)) return -1;
    nn_tensor *t = m->params[p];
    if (t->ndim < 2 || !m->decay[p]) return 0;   /* biases and norms stay float32 */
    if (nn_quant_check_finite(op, t->data, 1, t->size) != 0) return -1;
    size_t rows, cols;
    float *mat = nn_xmalloc(t->size * sizeof *mat);
    nn_quant_get_channels(t, mat, &rows, &cols);
    int rc = bits == 8 ? nn_q8_roundtrip(mat, rows, cols) : nn_q4_roundtrip(mat, rows, cols, group);
    if (rc == 0) nn_quant_put_channels(t, mat);
    free(mat);
    return rc == 0 ? 1 : -1;
}
