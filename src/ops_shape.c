/* src/ops_shape.c — ops that move values around: transpose, reshape, row selection.
 * They copy (no views), which keeps every tensor contiguous and every kernel simple. */
#include "internal.h"

/* ---- transpose of the last two dims: y[..., j, i] = x[..., i, j] ----------------------- */

static void transpose_copy(const float *x, float *y, size_t batch, int rows, int cols,
                           bool accumulate) {
    for (size_t t = 0; t < batch; t++) {
        const float *xs = x + t * rows * cols;
        float *ys = y + t * rows * cols;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) {
                float v = xs[(size_t)i * cols + j];
                if (accumulate) ys[(size_t)j * rows + i] += v;
                else ys[(size_t)j * rows + i] = v;
            }
    }
}

static void transpose_backward(nn_node *n) {
    /* dx = (dy)^T: transpose the output gradient back, adding into dx */
    const nn_tensor *y = n->out;
    int rows = y->shape[y->ndim - 2], cols = y->shape[y->ndim - 1];
    transpose_copy(y->grad, n->in[0]->grad, y->size / ((size_t)rows * cols), rows, cols, true);
}

nn_tensor *(nn_transpose)(nn_tensor *x) {
    NN_REQUIRE(x, "nn_transpose");
    if (x->ndim < 2) {
        nn_fail("nn_transpose", "a vector has no second dim: nn_reshape it to (1, n) first",
                "needs at least 2 dims, got shape %s", SHAPE(x));
        return NULL;
    }
    int shape[NN_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    int rows = x->shape[x->ndim - 2], cols = x->shape[x->ndim - 1];
    shape[x->ndim - 2] = cols;
    shape[x->ndim - 1] = rows;
    nn_tensor *out = nn_record("nn_transpose", transpose_backward, x->ndim, shape, x, NULL, NULL,
                               NULL);
    transpose_copy(x->data, out->data, x->size / ((size_t)rows * cols), rows, cols, false);
    return out;
}

/* ---- reshape: same values in the same order, another shape;  dx += dy ------------------ */

static void same_order_backward(nn_node *n) {
    const float *g = n->out->grad;
    float *gx = n->in[0]->grad;
    for (size_t i = 0; i < n->out->size; i++) gx[i] += g[i];
}

nn_tensor *(nn_reshape)(nn_tensor *x, int ndim, const int *shape) {
    NN_REQUIRE(x, "nn_reshape");
    if (ndim < 0 || ndim > NN_MAX_DIMS || (ndim > 0 && !shape)) {
        nn_fail("nn_reshape", "pass 0 to 4 dims, e.g. NN_SHAPE(2, -1)", "bad ndim %d", ndim);
        return NULL;
    }
    int s[NN_MAX_DIMS];
    int infer = -1;
    size_t known = 1;
    for (int d = 0; d < ndim; d++) {
        s[d] = shape[d];
        if (s[d] == -1 && infer < 0) infer = d;
        else if (s[d] < 1) {
            nn_fail("nn_reshape", "sizes are >= 1, with at most one -1 to infer",
                    "bad size %d at dim %d (reshaping %s)", s[d], d, SHAPE(x));
            return NULL;
        } else if (known > NN_MAX_ELEMENTS / (size_t)s[d]) {
            nn_fail("nn_reshape", "a reshape keeps the number of elements",
                    "cannot reshape %s (%zu elements): the new shape's size overflows",
                    SHAPE(x), x->size);
            return NULL;
        } else known *= (size_t)s[d];
    }
    if (infer >= 0) {
        if (x->size % known) {
            nn_fail("nn_reshape", "the -1 dim must divide the element count evenly",
                    "cannot infer -1 when reshaping %s (%zu elements)", SHAPE(x), x->size);
            return NULL;
        }
        s[infer] = (int)(x->size / known);
        known *= (size_t)s[infer];
    }
    if (known != x->size) {
        nn_fail("nn_reshape", "a reshape keeps the number of elements",
                "cannot reshape %s (%zu elements) into %zu elements", SHAPE(x), x->size, known);
        return NULL;
    }
    nn_tensor *out = nn_record("nn_reshape", same_order_backward, ndim, s, x, NULL, NULL, NULL);
    memcpy(out->data, x->data, x->size * sizeof(float));
    return out;
}

/* ---- rows: y = x[start : start + count] along dim 0;  dx[start + r] += dy[r] ------------ */

static void rows_backward(nn_node *n) {
    size_t row = n->out->size / (size_t)n->out->shape[0];
    const float *g = n->out->grad;
    float *gx = n->in[0]->grad + (size_t)n->i[0] * row;
    for (size_t i = 0; i < n->out->size; i++) gx[i] += g[i];
}

nn_tensor *(nn_rows)(nn_tensor *x, int start, int count) {
    NN_REQUIRE(x, "nn_rows");
    if (x->ndim < 1 || start < 0 || count < 1 || start > x->shape[0] - count) {
        nn_fail("nn_rows", "rows start..start+count-1 must lie inside dim 0",
                "rows %d..%d of shape %s", start, start + count - 1, SHAPE(x));
        return NULL;
    }
    int shape[NN_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[0] = count;
    nn_node *node;
    nn_tensor *out = nn_record("nn_rows", rows_backward, x->ndim, shape, x, NULL, NULL, &node);
    if (node) node->i[0] = start;
    size_t row = x->size / (size_t)x->shape[0];
    memcpy(out->data, x->data + (size_t)start * row, out->size * sizeof(float));
    return out;
}

/* ---- take_rows: y[r] = x[index[r]] (a gather; also an embedding lookup);
 *      dx[index[r]] += dy[r] (rows picked twice get both gradients) ------------------------ */

static void take_rows_backward(nn_node *n) {
    const int *index = n->extra;
    size_t row = n->out->size / (size_t)n->out->shape[0];
    for (int r = 0; r < n->out->shape[0]; r++) {
        const float *g = n->out->grad + (size_t)r * row;
        float *gx = n->in[0]->grad + (size_t)index[r] * row;
        for (size_t i = 0; i < row; i++) gx[i] += g[i];
    }
}

nn_tensor *(nn_take_rows)(nn_tensor *x, const int *index, int n) {
    NN_REQUIRE(x, "nn_take_rows");
    NN_REQUIRE(index, "nn_take_rows");
    if (x->ndim < 1 || n < 1) {
        nn_fail("nn_take_rows", "take at least one row of a tensor with dims",
                "n = %d rows of shape %s", n, SHAPE(x));
        return NULL;
    }
    for (int r = 0; r < n; r++)
        if (index[r] < 0 || index[r] >= x->shape[0]) {
            nn_fail("nn_take_rows", "each index must be in 0 .. rows-1",
                    "index[%d] = %d is out of range for shape %s", r, index[r], SHAPE(x));
            return NULL;
        }
    int shape[NN_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[0] = n;
    nn_node *node;
    nn_tensor *out = nn_record("nn_take_rows", take_rows_backward, x->ndim, shape, x, NULL, NULL,
                               &node);
    if (node) { /* keep our own copy: the caller's index array may change before backward */
        int *saved = nn_arena_alloc((size_t)n * sizeof(int));
        memcpy(saved, index, (size_t)n * sizeof(int));
        node->extra = saved;
    }
    size_t row = x->size / (size_t)x->shape[0];
    for (int r = 0; r < n; r++)
        memcpy(out->data + (size_t)r * row, x->data + (size_t)index[r] * row, row * sizeof(float));
    return out;
}
