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
    t->data = nn_xcalloc(t->size, sizeof(float));
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
    if (t && t->grad) memset(t->grad, 0, t->size * sizeof(float));
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
    if (t->size != 1) {
        char s[64];
        nn_fail("nn_item", "reduce first, e.g. nn_sum(x) or nn_mean(x)",
                "tensor of shape %s has %zu elements, not 1", nn_shape_str(t, s, sizeof s),
                t->size);
        return NAN;
    }
    return t->data[0];
}

float nn_at(const nn_tensor *t, ...) {
    NN_REQUIRE_OR(t, "nn_at", NAN);
    va_list ap;
    va_start(ap, t);
    size_t offset = 0;
    for (int d = 0; d < t->ndim; d++) {
        int i = va_arg(ap, int);
        if (i < 0 || i >= t->shape[d]) {
            va_end(ap);
            nn_fail("nn_at", "indices run from 0 to size-1", "index %d out of range for dim %d "
                    "of size %d", i, d, t->shape[d]);
            return NAN;
        }
        offset = offset * (size_t)t->shape[d] + (size_t)i;
    }
    va_end(ap);
    return t->data[offset];
}

void nn_tensor_fprint(FILE *f, const nn_tensor *t, const char *label, int max_items) {
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
