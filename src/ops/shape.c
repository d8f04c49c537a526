/* src/ops/shape.c — ops that move values around: transpose, reshape, rows, copy, and along
 * any axis: slice, concat, stack, split/chunk, permute.
 * They copy (no views), which keeps every tensor contiguous and every kernel simple.
 *
 * Along an axis a tensor is seen as (outer, n, inner) (nn_axis_view in internal.h): element
 * (o, k, i) sits at (o * n + k) * inner + i. A slice along the axis is then `outer` runs of
 * len * inner contiguous floats, which is what the loops below copy. */
#include "internal.h"
#include "nn/ops/shape.h"

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

nn_tensor *nn_transpose(nn_tensor *x) {
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

nn_tensor *nn_reshape(nn_tensor *x, int ndim, const int *shape) {
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
    nn_tensor *out = nn_record_filled("nn_reshape", same_order_backward, ndim, s, x, NULL, NULL,
                                      NULL);
    nn_copy_floats(out->data, x->data, x->size);
    return out;
}

/* ---- rows: y = x[start : start + count] along dim 0;  dx[start + r] += dy[r] ------------ */

static void rows_backward(nn_node *n) {
    size_t row = n->out->size / (size_t)n->out->shape[0];
    const float *g = n->out->grad;
    float *gx = n->in[0]->grad + (size_t)n->i[0] * row;
    for (size_t i = 0; i < n->out->size; i++) gx[i] += g[i];
}

nn_tensor *nn_rows(nn_tensor *x, int start, int count) {
    NN_REQUIRE(x, "nn_rows");
    if (x->ndim < 1 || start < 0 || count < 1 || start > x->shape[0] - count) {
        nn_fail("nn_rows", "rows start..start+count-1 must lie inside dim 0",
                "rows %d..%ld of shape %s", start, (long)start + count - 1, SHAPE(x));
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

nn_tensor *nn_take_rows(nn_tensor *x, const int *index, int n) {
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

/* ---- copy: y = x in a fresh tensor;  dx += dy ----------------------------------------------- */

nn_tensor *nn_copy(nn_tensor *x) {
    NN_REQUIRE(x, "nn_copy");
    nn_tensor *out = nn_record_filled("nn_copy", same_order_backward, x->ndim, x->shape, x, NULL,
                                      NULL, NULL);
    memcpy(out->data, x->data, x->size * sizeof(float));
    return out;
}

/* ---- slice: y = x[..., start : start + len, ...] along axis;  dx[.., start + k, ..] += dy ---- */

/* Copy `outer` runs of `run` floats: from src (stride src_stride) to dst (stride dst_stride);
 * add instead of copying for backward. Slice, concat and stack are all this one loop. */
static void copy_runs(const float *src, size_t src_stride, float *dst, size_t dst_stride,
                      size_t outer, size_t run, bool accumulate) {
    for (size_t o = 0; o < outer; o++) {
        const float *s = src + o * src_stride;
        float *d = dst + o * dst_stride;
        if (accumulate) for (size_t i = 0; i < run; i++) d[i] += s[i];
        else memcpy(d, s, run * sizeof(float));
    }
}

static void slice_backward(nn_node *n) {
    /* node->i: axis, start */
    nn_axis_view v = nn_axis_view_of(n->in[0], n->i[0]);
    size_t len = (size_t)n->out->shape[n->i[0]];
    copy_runs(n->out->grad, len * v.inner, n->in[0]->grad + (size_t)n->i[1] * v.inner,
              v.n * v.inner, v.outer, len * v.inner, true);
}

nn_tensor *nn_slice(nn_tensor *x, int axis, int start, int len) {
    NN_REQUIRE(x, "nn_slice");
    int a = nn_norm_axis("nn_slice", x, axis);
    if (a < 0) return NULL;
    if (start < 0 || len < 1 || start > x->shape[a] - len) {
        nn_fail("nn_slice", "start .. start+len-1 must lie inside the axis, and len >= 1",
                "slice %d..%ld of axis %d of shape %s", start, (long)start + len - 1, axis,
                SHAPE(x));   /* long: start + len may pass INT_MAX */
        return NULL;
    }
    int shape[NN_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[a] = len;
    nn_node *node;
    nn_tensor *out = nn_record("nn_slice", slice_backward, x->ndim, shape, x, NULL, NULL, &node);
    if (node) {
        node->i[0] = a;
        node->i[1] = start;
    }
    nn_axis_view v = nn_axis_view_of(x, a);
    copy_runs(x->data + (size_t)start * v.inner, v.n * v.inner, out->data, (size_t)len * v.inner,
              v.outer, (size_t)len * v.inner, false);
    return out;
}

/* ---- concat and stack: inputs side by side along an axis --------------------------------
 * Both are the same copy: per outer index, input k contributes a block of block_k floats,
 * and the output row holds the blocks one after another. concat: block_k = n_k * inner;
 * stack: block_k = inner (each input is one slot of the new axis). Backward copies the
 * blocks of dy back, adding into each input that wants a grad. */

/* The output's dims before the joined axis (node->i[0]), multiplied. */
static size_t join_outer(const nn_tensor *out, int axis) {
    size_t outer = 1;
    for (int d = 0; d < axis; d++) outer *= (size_t)out->shape[d];
    return outer;
}

static void join_backward(nn_node *n) {
    /* each input's block is its size / outer floats */
    size_t outer = join_outer(n->out, n->i[0]), row = n->out->size / outer, offset = 0;
    for (int k = 0; k < n->nin; k++) {
        const nn_tensor *xk = n->in[k];
        size_t block = xk->size / outer;
        if (WANTS_GRAD(xk))
            copy_runs(n->out->grad + offset, row, xk->grad, block, outer, block, true);
        offset += block;
    }
}

static nn_tensor *join(const char *op, int nin, nn_tensor *const *xs, int ndim,
                       const int *shape, int axis) {
    nn_node *node;
    nn_tensor *out = nn_record_n(op, join_backward, ndim, shape, nin, xs, &node);
    if (!out) return NULL;
    if (node) node->i[0] = axis;
    size_t outer = join_outer(out, axis), row = out->size / outer, offset = 0;
    for (int k = 0; k < nin; k++) {
        size_t block = xs[k]->size / outer;
        copy_runs(xs[k]->data, block, out->data + offset, row, outer, block, false);
        offset += block;
    }
    return out;
}

/* Inputs of a join: n >= 1 tensors, none NULL, all of the first one's ndim. */
static bool join_inputs_ok(const char *op, int n, nn_tensor *const *xs) {
    if (n < 1 || !xs) {
        nn_fail(op, "pass n >= 1 and an array of n tensors", "n = %d, xs = %p", n,
                (const void *)xs);
        return false;
    }
    for (int k = 0; k < n; k++) {
        if (!xs[k]) {
            nn_fail(op, "an earlier call probably failed and returned NULL",
                    "input %d of %d is NULL", k, n);
            return false;
        }
        char what[32];
        snprintf(what, sizeof what, "xs[%d]", k);
        if (!nn_require_live(xs[k], op, what)) return false;
        if (xs[k]->ndim != xs[0]->ndim) {
            nn_fail(op, "every input needs the same number of dims",
                    "input 0 has shape %s but input %d has %s", SHAPE(xs[0]), k, SHAPE(xs[k]));
            return false;
        }
    }
    return true;
}

nn_tensor *nn_concat(int axis, int n, nn_tensor *const *xs) {
    if (!join_inputs_ok("nn_concat", n, xs)) return NULL;
    int a = nn_norm_axis("nn_concat", xs[0], axis);
    if (a < 0) return NULL;
    int shape[NN_MAX_DIMS];
    memcpy(shape, xs[0]->shape, sizeof shape);
    long total = 0;
    for (int k = 0; k < n; k++) {
        for (int d = 0; d < xs[0]->ndim; d++)
            if (d != a && xs[k]->shape[d] != shape[d]) {
                nn_fail("nn_concat", "all dims but the joined axis must agree",
                        "input 0 has shape %s but input %d has %s (axis %d)", SHAPE(xs[0]), k,
                        SHAPE(xs[k]), axis);
                return NULL;
            }
        total += xs[k]->shape[a];
    }
    if (total > INT32_MAX) {
        nn_fail("nn_concat", "the joined axis must stay below 2^31", "axis %d would be %ld",
                axis, total);
        return NULL;
    }
    shape[a] = (int)total;
    return join("nn_concat", n, xs, xs[0]->ndim, shape, a);
}

nn_tensor *nn_stack(int axis, int n, nn_tensor *const *xs) {
    if (!join_inputs_ok("nn_stack", n, xs)) return NULL;
    int nd = xs[0]->ndim, a = axis < 0 ? axis + nd + 1 : axis;
    if (a < 0 || a > nd || nd + 1 > NN_MAX_DIMS) {
        nn_fail("nn_stack", "the new axis goes at 0 .. ndim (or -1 for last), and the result "
                "has at most 4 dims", "axis %d for inputs of shape %s", axis, SHAPE(xs[0]));
        return NULL;
    }
    for (int k = 1; k < n; k++)
        if (!nn_same_shape(xs[k], xs[0])) {
            nn_fail("nn_stack", "stacked tensors must all have the same shape",
                    "input 0 has shape %s but input %d has %s", SHAPE(xs[0]), k, SHAPE(xs[k]));
            return NULL;
        }
    int shape[NN_MAX_DIMS];
    for (int d = 0, s = 0; d <= nd; d++) shape[d] = d == a ? n : xs[0]->shape[s++];
    return join("nn_stack", n, xs, nd + 1, shape, a);
}

/* ---- split and chunk: n slices along an axis ---------------------------------------------- */

int nn_split(nn_tensor *x, int axis, int n, const int *sizes, nn_tensor **parts) {
    NN_REQUIRE_OR(x, "nn_split", -1);
    NN_REQUIRE_OR(sizes, "nn_split", -1);
    NN_REQUIRE_OR(parts, "nn_split", -1);
    int a = nn_norm_axis("nn_split", x, axis);
    if (a < 0) return -1;
    long total = 0;
    for (int k = 0; k < n; k++) total += sizes[k] > 0 ? sizes[k] : -(1L << 40);
    if (n < 1 || total != x->shape[a]) {
        nn_fail("nn_split", "n >= 1 sizes, each >= 1, adding up to the size of the axis",
                "cannot split axis %d of shape %s into %d parts of the given sizes", axis,
                SHAPE(x), n);
        return -1;
    }
    for (int k = 0, start = 0; k < n; start += sizes[k], k++)
        if (!(parts[k] = nn_slice(x, a, start, sizes[k]))) return -1;
    return 0;
}

int nn_chunk(nn_tensor *x, int axis, int n, nn_tensor **parts) {
    NN_REQUIRE_OR(x, "nn_chunk", -1);
    NN_REQUIRE_OR(parts, "nn_chunk", -1);
    int a = nn_norm_axis("nn_chunk", x, axis);
    if (a < 0) return -1;
    if (n < 1 || x->shape[a] % n) {
        nn_fail("nn_chunk", "the size of the axis must divide evenly into n parts",
                "cannot cut axis %d (size %d) of shape %s into %d equal parts", axis,
                x->shape[a], SHAPE(x), n);
        return -1;
    }
    for (int k = 0, len = x->shape[a] / n; k < n; k++)
        if (!(parts[k] = nn_slice(x, a, k * len, len))) return -1;
    return 0;
}

/* ---- permute: y[i0, i1, i2, i3] = x[the same indices, reordered by perm] ------------------
 * Output axis d walks input axis perm[d], so its stride in x is x's stride of axis perm[d].
 * Padded to 4 dims (size 1, stride 0); backward walks the same map and adds into dx. */

typedef struct { int dims[NN_MAX_DIMS]; size_t stride[NN_MAX_DIMS]; } permute_map;

static void permute_walk(const permute_map *m, const float *x, float *y, bool backward) {
    size_t o = 0;
    for (int i0 = 0; i0 < m->dims[0]; i0++)
        for (int i1 = 0; i1 < m->dims[1]; i1++)
            for (int i2 = 0; i2 < m->dims[2]; i2++) {
                size_t base = i0 * m->stride[0] + i1 * m->stride[1] + i2 * m->stride[2];
                for (int i3 = 0; i3 < m->dims[3]; i3++, o++) {
                    size_t at = base + i3 * m->stride[3];
                    if (backward) ((float *)x)[at] += y[o];   /* here x is dx and y is dy */
                    else y[o] = x[at];
                }
            }
}

static void permute_backward(nn_node *n) {
    permute_walk(n->extra, n->in[0]->grad, n->out->grad, true);
}

nn_tensor *nn_permute(nn_tensor *x, int ndim, const int *perm) {
    NN_REQUIRE(x, "nn_permute");
    NN_REQUIRE(perm, "nn_permute");
    bool seen[NN_MAX_DIMS] = {false};
    bool ok = ndim == x->ndim;
    for (int d = 0; ok && d < ndim; d++) {
        int p = perm[d] < 0 ? perm[d] + ndim : perm[d];
        ok = p >= 0 && p < ndim && !seen[p];
        if (ok) seen[p] = true;
    }
    if (!ok) {
        nn_fail("nn_permute", "pass each axis 0 .. ndim-1 exactly once, e.g. NN_AXES(0, 2, 1, 3)",
                "not a permutation of the %d axes of shape %s", x->ndim, SHAPE(x));
        return NULL;
    }
    size_t xstride[NN_MAX_DIMS], s = 1;
    for (int d = x->ndim - 1; d >= 0; d--) {
        xstride[d] = s;
        s *= (size_t)x->shape[d];
    }
    permute_map m;
    int shape[NN_MAX_DIMS];
    for (int d = 0; d < NN_MAX_DIMS; d++) {
        int out_d = d - (NN_MAX_DIMS - ndim);          /* leading pad dims are size 1 */
        int p = out_d < 0 ? -1 : (perm[out_d] < 0 ? perm[out_d] + ndim : perm[out_d]);
        m.dims[d] = p < 0 ? 1 : x->shape[p];
        m.stride[d] = p < 0 ? 0 : xstride[p];
        if (out_d >= 0) shape[out_d] = m.dims[d];
    }
    nn_node *node;
    nn_tensor *out = nn_record("nn_permute", permute_backward, ndim, shape, x, NULL, NULL, &node);
    if (node) {
        permute_map *saved = nn_arena_alloc(sizeof *saved);
        *saved = m;
        node->extra = saved;
    }
    permute_walk(&m, x->data, out->data, false);
    return out;
}
