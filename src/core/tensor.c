/* src/core/tensor.c — creating, filling, inspecting and printing tensors you own. */
#include "internal.h"
#include <stdarg.h>
#include <stdio.h>

size_t nn_set_shape(nn_tensor *t, int ndim, const int *shape) {
    t->ndim = ndim;
    size_t size = 1;
    for (int i = 0; i < NN_MAX_DIMS; i++) {
        t->shape[i] = i < ndim ? shape[i] : 1;
        if (i < ndim) size *= (size_t)shape[i];
    }
    t->size = size;
    return size;
}

/* A valid shape has 0..NN_MAX_DIMS dims, each at least 1. */
static bool shape_ok(const char *op, int ndim, const int *shape) {
    if (ndim < 0 || ndim > NN_MAX_DIMS) {
        nn_fail(op, "tensors have 0 to 4 dimensions", "ndim %d is out of range", ndim);
        return false;
    }
    if (ndim > 0 && !shape) {
        nn_fail(op, "pass the shape, e.g. NN_SHAPE(2, 3)", "shape is NULL for ndim %d", ndim);
        return false;
    }
    size_t size = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1) {
            nn_fail(op, "every dimension needs at least one element",
                    "dimension %d has size %d", i, shape[i]);
            return false;
        }
        if (size > NN_MAX_ELEMENTS / (size_t)shape[i]) {
            nn_fail(op, "a tensor holds at most 2^40 elements (4 TiB of floats)",
                    "the shape's element count overflows at dimension %d", i);
            return false;
        }
        size *= (size_t)shape[i];
    }
    return true;
}

static nn_tensor *owned_tensor(const char *op, int ndim, const int *shape) {
    if (!shape_ok(op, ndim, shape)) return NULL;
    nn_tensor *t = nn_xcalloc(1, sizeof *t);
    nn_set_shape(t, ndim, shape);
    t->data = calloc(t->size, sizeof(float));
    if (!t->data) {
        nn_tensor shape_only = *t;
        free(t);   /* first: a handler may longjmp out of nn_fail */
        nn_fail(op, "a tensor of N elements takes 4N bytes: use a smaller shape",
                "out of memory: a tensor of shape %s needs %s", SHAPE(&shape_only),
                BYTES((double)shape_only.size * sizeof(float)));
        return NULL;
    }
    t->owner = NN_OWNER_USER;
    return t;
}

nn_tensor *nn_zeros(int ndim, const int *shape) { return owned_tensor("nn_zeros", ndim, shape); }

nn_tensor *nn_full(float value, int ndim, const int *shape) {
    nn_tensor *t = owned_tensor("nn_full", ndim, shape);
    if (t) nn_fill(t, value);
    return t;
}

nn_tensor *nn_ones(int ndim, const int *shape) { return nn_full(1.0f, ndim, shape); }

nn_tensor *nn_scalar(float value) { return nn_full(value, 0, NULL); }

nn_tensor *nn_from_array(const float *values, int ndim, const int *shape) {
    NN_REQUIRE(values, "nn_from_array");
    nn_tensor *t = owned_tensor("nn_from_array", ndim, shape);
    if (t) memcpy(t->data, values, t->size * sizeof(float));
    return t;
}

nn_tensor *nn_rand_uniform(float lo, float hi, int ndim, const int *shape) {
    nn_tensor *t = owned_tensor("nn_rand_uniform", ndim, shape);
    if (t) nn_fill_uniform(t, lo, hi, NULL);
    return t;
}

nn_tensor *nn_rand_normal(float mean, float std, int ndim, const int *shape) {
    nn_tensor *t = owned_tensor("nn_rand_normal", ndim, shape);
    if (t) nn_fill_normal(t, mean, std, NULL);
    return t;
}

nn_tensor *nn_clone(const nn_tensor *src) {
    NN_REQUIRE(src, "nn_clone");
    nn_tensor *t = owned_tensor("nn_clone", src->ndim, src->shape);
    if (!t) return NULL;
    memcpy(t->data, src->data, t->size * sizeof(float));
    t->name = src->name;
    return t;
}

void nn_tensor_free(nn_tensor *t) {
    if (!t) return;
    if (t->owner != NN_OWNER_USER) {
        nn_fail("nn_tensor_free",
                t->owner == NN_OWNER_GRAPH ? "graph tensors are freed by nn_graph_clear()"
                                           : "parameters are freed by nn_model_free()",
                "this tensor is not yours to free");
        return;
    }
    free(t->data);
    free(t->grad);
    free(t);
}

nn_tensor *nn_requires_grad(nn_tensor *t) {
    NN_REQUIRE(t, "nn_requires_grad");
    if (!t->grad) t->grad = nn_xcalloc(t->size, sizeof(float));
    t->requires_grad = true;
    return t;
}

void nn_zero_grad(nn_tensor *t) {
    if (!nn_require_live(t, "nn_zero_grad", "t")) return;
    if (t && t->grad) memset(t->grad, 0, t->size * sizeof(float));
    if (t) t->grad_state = 0;   /* a parameter zeroed by hand: nothing piles up */
}

bool nn_same_shape(const nn_tensor *a, const nn_tensor *b) {
    if (!a || !b) return a == b;
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

char *nn_shape_str(const nn_tensor *t, char *buf, size_t bufsize) {
    if (!t) {
        snprintf(buf, bufsize, "(NULL)");
        return buf;
    }
    size_t n = (size_t)snprintf(buf, bufsize, "(");
    for (int i = 0; i < t->ndim && n < bufsize; i++)
        n += (size_t)snprintf(buf + n, bufsize - n, i ? ", %d" : "%d", t->shape[i]);
    if (n < bufsize) snprintf(buf + n, bufsize - n, ")");
    return buf;
}

float nn_item(const nn_tensor *t) {
    if (!t) {
        nn_fail("nn_item", "an earlier call probably failed", "tensor is NULL");
        return NAN;
    }
    if (!nn_graph_check_live(t, "nn_item", "t")) return NAN;
    if (t->size != 1) {
        char s[64];
        nn_fail("nn_item", "reduce first, e.g. nn_sum(x) or nn_mean(x)",
                "tensor of shape %s has %zu elements, not 1", nn_shape_str(t, s, sizeof s),
                t->size);
        return NAN;
    }
    return t->data[0];
}

/* The element at the t->ndim int indices in ap. */
static float at_indices(const nn_tensor *t, va_list ap) {
    size_t offset = 0;
    for (int d = 0; d < t->ndim; d++) {
        int i = va_arg(ap, int);
        if (i < 0 || i >= t->shape[d]) {
            nn_fail("nn_at", "indices run from 0 to size-1", "index %d out of range for dim %d "
                    "of size %d", i, d, t->shape[d]);
            return NAN;
        }
        offset = offset * (size_t)t->shape[d] + (size_t)i;
    }
    return t->data[offset];
}

float nn_at(const nn_tensor *t, ...) {
    NN_REQUIRE_OR(t, "nn_at", NAN);
    va_list ap;
    va_start(ap, t);
    float v = at_indices(t, ap);
    va_end(ap);
    return v;
}

float nn_at_checked(int nindices, const nn_tensor *t, ...) {
    NN_REQUIRE_OR(t, "nn_at", NAN);
    if (nindices != t->ndim) {
        nn_fail("nn_at", t->ndim == 0 ? "a scalar takes no index: nn_at(t), or nn_item(t)"
                : t->ndim == 1 ? "one index per dimension: nn_at(t, i) for a 1-D tensor"
                : t->ndim == 2 ? "one index per dimension: nn_at(t, i, j) for a 2-D tensor"
                : t->ndim == 3 ? "one index per dimension: nn_at(t, i, j, k) for a 3-D tensor"
                               : "one index per dimension: nn_at(t, i, j, k, l) for a 4-D tensor",
                "%d ind%s given for a tensor of shape %s, which needs %d", nindices,
                nindices == 1 ? "ex" : "ices", SHAPE(t), t->ndim);
        return NAN;
    }
    va_list ap;
    va_start(ap, t);
    float v = at_indices(t, ap);
    va_end(ap);
    return v;
}

/* ---- finite values ----------------------------------------------------------------------- */

/* A float is NaN or infinite when its 8 exponent bits are all ones. Counting those in blocks
 * needs no branch per element (the compiler vectorises it); only a block with a bad value is
 * searched again. */
#define EXPONENT_BITS 0x7f800000u
static inline bool bits_nonfinite(const float *v) {
    uint32_t u;
    memcpy(&u, v, sizeof u);
    return (u & EXPONENT_BITS) == EXPONENT_BITS;
}

/* Blocks of 1024 floats, counted without a branch; the first block with a bad one is searched.
 * The threads take runs of blocks, each stopping at its first find; the smallest index wins,
 * so the answer is the first one on any number of threads. */
size_t nn_find_nonfinite(const float *v, size_t n) {
    enum { BLOCK = 1024 };
    long blocks = (long)((n + BLOCK - 1) / BLOCK);
    size_t first = n;
#pragma omp parallel for schedule(static) reduction(min : first) \
    if ((long)n > PARALLEL_MIN_STREAM)
    for (long b = 0; b < blocks; b++) {
        size_t start = (size_t)b * BLOCK, end = n - start > BLOCK ? start + BLOCK : n;
        if (first < start) continue;   /* this thread has found an earlier one */
        unsigned bad = 0;
        for (size_t i = start; i < end; i++) bad += bits_nonfinite(v + i);
        if (bad)
            for (size_t i = start; i < end; i++)
                if (bits_nonfinite(v + i)) {
                    first = i;
                    break;
                }
    }
    return first;
}

/* dst = src, or dst = 0 without a src: in runs of 4096 floats (16 KiB), handed out to the
 * threads in order. */
static void stream_runs(float *dst, const float *src, size_t n) {
    enum { RUN = 1 << 12 };
    long runs = (long)((n + RUN - 1) / RUN);
#pragma omp parallel for schedule(static) if ((long)n > PARALLEL_MIN_STREAM)
    for (long r = 0; r < runs; r++) {
        size_t lo = (size_t)r * RUN, len = n - lo < RUN ? n - lo : RUN;
        if (src) memcpy(dst + lo, src + lo, len * sizeof(float));
        else memset(dst + lo, 0, len * sizeof(float));
    }
}

void nn_copy_floats(float *dst, const float *src, size_t n) { stream_runs(dst, src, n); }
void nn_zero_floats(float *dst, size_t n) { stream_runs(dst, NULL, n); }

size_t nn_count_nonfinite(const float *v, size_t n) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += bits_nonfinite(v + i);
    return bad;
}

char *nn_index_str(const nn_tensor *t, size_t i, char *buf, size_t size) {
    int idx[NN_MAX_DIMS] = {0};
    for (int d = t->ndim - 1; d >= 0; d--) {
        idx[d] = (int)(i % (size_t)t->shape[d]);
        i /= (size_t)t->shape[d];
    }
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < t->ndim && n < size; d++)
        n += (size_t)snprintf(buf + n, size - n, d ? ", %d" : "%d", idx[d]);
    if (n < size) snprintf(buf + n, size - n, "]");
    return buf;
}

bool nn_nonfinite_str(const nn_tensor *t, const float *v, bool is_grad, char *buf,
                      size_t size) {
    size_t i = nn_find_nonfinite(v, t->size);
    if (i == t->size) return false;
    char idx[64] = "";
    if (t->ndim > 0) nn_index_str(t, i, idx, sizeof idx);
    snprintf(buf, size, "%s%s = %g (shape %s; %zu of %zu %s not finite)",
             is_grad ? "grad" : "value", idx, (double)v[i], SHAPE(t),
             nn_count_nonfinite(v, t->size), t->size, is_grad ? "gradients" : "values");
    return true;
}

bool nn_check_finite(const nn_tensor *t, const char *what) {
    if (!what) what = t && t->name ? t->name : "tensor";
    if (!t) {
        nn_set_last_error("nn_check_finite: %s is NULL", what);
        return false;
    }
    if (!nn_graph_is_live(t)) {
        nn_set_last_error("nn_check_finite: %s is a graph tensor released by nn_graph_clear() "
                          "(or nn_graph_rewind): it no longer exists", what);
        return false;
    }
    char bad[256];
    if (nn_nonfinite_str(t, t->data, false, bad, sizeof bad) ||
        (t->grad && nn_nonfinite_str(t, t->grad, true, bad, sizeof bad))) {
        nn_set_last_error("%s: %s", what, bad);
        return false;
    }
    return true;
}

void nn_tensor_fprint(FILE *f, const nn_tensor *t, const char *label, int max_items) {
    if (!nn_require_live(t, "nn_tensor_fprint", label ? label : "t")) return;
    char s[64];
    fprintf(f, "%s: shape %s\n", label ? label : "tensor", nn_shape_str(t, s, sizeof s));
    if (!t) return;
    if (max_items < 1) max_items = 1;
    int cols = t->ndim ? t->shape[t->ndim - 1] : 1;
    size_t rows = t->size / (size_t)cols;
    for (size_t r = 0; r < rows; r++) {
        if ((int)r >= max_items) {
            fprintf(f, "  ... (%zu more rows)\n", rows - r);
            break;
        }
        fprintf(f, "  [");
        for (int c = 0; c < cols; c++) {
            if (c >= max_items) {
                fprintf(f, ", ... (%d more)", cols - c);
                break;
            }
            fprintf(f, c ? ", %9.4f" : "%9.4f", t->data[r * (size_t)cols + c]);
        }
        fprintf(f, "]\n");
    }
}

void nn_fill(nn_tensor *t, float value) {
    NN_REQUIRE_OR(t, "nn_fill", );
    for (size_t i = 0; i < t->size; i++) t->data[i] = value;
}

void nn_fill_uniform(nn_tensor *t, float lo, float hi, nn_rng *rng) {
    NN_REQUIRE_OR(t, "nn_fill_uniform", );
    if (!rng) rng = nn_global_rng();
    for (size_t i = 0; i < t->size; i++) t->data[i] = lo + (hi - lo) * nn_rng_uniform(rng);
}

void nn_fill_normal(nn_tensor *t, float mean, float std, nn_rng *rng) {
    NN_REQUIRE_OR(t, "nn_fill_normal", );
    if (!rng) rng = nn_global_rng();
    for (size_t i = 0; i < t->size; i++) t->data[i] = mean + std * nn_rng_normal(rng);
}

void nn_copy_into(nn_tensor *dst, const nn_tensor *src) {
    NN_REQUIRE_OR(dst, "nn_copy_into", );
    NN_REQUIRE_OR(src, "nn_copy_into", );
    if (dst->size != src->size) {
        nn_fail("nn_copy_into", "both tensors need the same number of elements",
                "sizes differ: dst %s, src %s", SHAPE(dst), SHAPE(src));
        return;
    }
    memcpy(dst->data, src->data, src->size * sizeof(float));
}

int nn_norm_axis(const char *op, const nn_tensor *x, int axis) {
    int a = axis < 0 ? axis + x->ndim : axis;
    if (x->ndim == 0 || a < 0 || a >= x->ndim) {
        nn_fail(op, "an axis runs from 0 to ndim-1, or from -ndim to -1 counting from the end",
                "axis %d is out of range for shape %s", axis, SHAPE(x));
        return -1;
    }
    return a;
}
