/* src/ops/binary.c — add, sub, mul, div with NumPy broadcasting.
 *
 * Both inputs are seen as 4-D (missing leading dims are 1). For each output dimension an
 * input either matches it (stride = its contiguous stride) or has size 1 (stride 0, so the
 * same element is reused along that dimension). Backward walks the same index map and adds
 * into the input gradients; where an input was broadcast, += sums over the repeated copies,
 * which is exactly the gradient of a broadcast.
 */
#include "internal.h"
#include "ops/broadcast.h"
#include "nn/ops/elementwise.h"

typedef enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV } binary_kind;

/* Visit every output element: o is its offset, ia and ib the offsets in a and b. */
#define FOR_EACH_BROADCAST(bc, BODY)                                                       \
    do {                                                                                   \
        size_t o = 0;                                                                      \
        for (int i0 = 0; i0 < (bc)->dims[0]; i0++)                                         \
            for (int i1 = 0; i1 < (bc)->dims[1]; i1++)                                     \
                for (int i2 = 0; i2 < (bc)->dims[2]; i2++) {                               \
                    size_t ia = i0 * (bc)->sa[0] + i1 * (bc)->sa[1] + i2 * (bc)->sa[2];    \
                    size_t ib = i0 * (bc)->sb[0] + i1 * (bc)->sb[1] + i2 * (bc)->sb[2];    \
                    for (int i3 = 0; i3 < (bc)->dims[3]; i3++, o++, ia += (bc)->sa[3],     \
                             ib += (bc)->sb[3]) {                                          \
                        BODY;                                                              \
                    }                                                                      \
                }                                                                          \
    } while (0)

/* The same walk a row (the innermost dimension) at a time: o, ia, ib are the offsets of the
 * row's first element, len its length, sa3 / sb3 the inputs' strides along it (1, or 0 where
 * the input is broadcast). The row functions below then run plain loops, which the compiler
 * vectorises: the bias add of a linear layer, (B, N) + (N), is such rows of stride 1 / 1. */
#define FOR_EACH_ROW(bc, BODY)                                                             \
    do {                                                                                   \
        size_t o = 0, sa3 = (bc)->sa[3], sb3 = (bc)->sb[3];                                \
        int len = (bc)->dims[3];                                                           \
        for (int i0 = 0; i0 < (bc)->dims[0]; i0++)                                         \
            for (int i1 = 0; i1 < (bc)->dims[1]; i1++)                                     \
                for (int i2 = 0; i2 < (bc)->dims[2]; i2++, o += (size_t)len) {             \
                    size_t ia = i0 * (bc)->sa[0] + i1 * (bc)->sa[1] + i2 * (bc)->sa[2];    \
                    size_t ib = i0 * (bc)->sb[0] + i1 * (bc)->sb[1] + i2 * (bc)->sb[2];    \
                    BODY;                                                                  \
                }                                                                          \
        (void)sa3, (void)sb3;                                                              \
    } while (0)

/* z[k] = x[k sx] op y[k sy], k < len: one loop per stride case, so that each is a straight
 * loop (a stride of 0 is one value, read once). */
#define ROW_CASES(EXPR)                                                                    \
    if (sx == 1 && sy == 1)                                                                \
        for (int k = 0; k < len; k++) { float xv = x[k], yv = y[k]; z[k] = EXPR; }         \
    else if (sx == 1 && sy == 0)                                                           \
        for (int k = 0; k < len; k++) { float xv = x[k], yv = y[0]; z[k] = EXPR; }         \
    else if (sx == 0 && sy == 1)                                                           \
        for (int k = 0; k < len; k++) { float xv = x[0], yv = y[k]; z[k] = EXPR; }         \
    else                                                                                   \
        for (int k = 0; k < len; k++) { float xv = x[k * sx], yv = y[k * sy]; z[k] = EXPR; }

static void forward_row(binary_kind kind, float *restrict z, const float *restrict x, size_t sx,
                        const float *restrict y, size_t sy, int len) {
    switch (kind) {
    case OP_ADD: ROW_CASES(xv + yv) break;
    case OP_SUB: ROW_CASES(xv - yv) break;
    case OP_MUL: ROW_CASES(xv * yv) break;
    case OP_DIV: ROW_CASES(xv / yv) break;
    }
}

/* gx[k sx] += sign * g[k] * f[k sf] (f NULL: 1), k < len. sx = 0 (x was broadcast along the
 * row) is a sum into one element, added in the same order as element by element. */
static void accumulate_row(float *gx, size_t sx, const float *g, float sign, const float *f,
                           size_t sf, int len) {
    if (sx == 0) {
        float s = gx[0];
        for (int k = 0; k < len; k++) s += sign * g[k] * (f ? f[k * sf] : 1.0f);
        gx[0] = s;
    } else if (!f) {
        if (sign > 0.0f) for (int k = 0; k < len; k++) gx[k * sx] += g[k];
        else for (int k = 0; k < len; k++) gx[k * sx] -= g[k];
    } else if (sx == 1 && sf == 1) {
        for (int k = 0; k < len; k++) gx[k] += sign * g[k] * f[k];
    } else {
        for (int k = 0; k < len; k++) gx[k * sx] += sign * g[k] * f[k * sf];
    }
}

/* Input k of add, sub or mul when it has the output's shape (no broadcast to undo) and
 * nothing has written its gradient yet: written here, in one pass, and true; the loops below
 * then leave it out. Otherwise (a broadcast input, one already written) false, and it is
 * zeroed first if still unset, as nn_backward would have (the node has sets_grads). The
 * values are those the loops would add to zero: g, -g, g * other. */
static bool set_whole_grad(nn_node *n, int k, binary_kind kind) {
    nn_tensor *t = n->in[k], *other = n->in[1 - k];
    if (!WANTS_GRAD(t)) return false;
    bool whole = t->size == n->out->size && (kind != OP_MUL || other->size == t->size);
    if (!whole || !(t->grad_state & NN_GRAD_UNSET)) {
        nn_grad_zero_if_unset(t);
        return false;
    }
    nn_grad_take_unset(t);
    const float *restrict g = n->out->grad, *restrict o = other->data;
    float *restrict gt = t->grad;
    size_t len = t->size;
    if (kind == OP_MUL) for (size_t i = 0; i < len; i++) gt[i] = g[i] * o[i];
    else if (kind == OP_SUB && k == 1) for (size_t i = 0; i < len; i++) gt[i] = -g[i];
    else memcpy(gt, g, len * sizeof(float));
    return true;
}

static void binary_backward(nn_node *n) {
    const broadcast *bc = n->extra;
    const float *a = n->in[0]->data, *b = n->in[1]->data, *g = n->out->grad;
    binary_kind kind = (binary_kind)n->i[0];
    bool set_a = kind != OP_DIV && set_whole_grad(n, 0, kind);
    bool set_b = kind != OP_DIV && set_whole_grad(n, 1, kind);
    float *ga = WANTS_GRAD(n->in[0]) && !set_a ? n->in[0]->grad : NULL;
    float *gb = WANTS_GRAD(n->in[1]) && !set_b ? n->in[1]->grad : NULL;
    switch ((binary_kind)n->i[0]) {
    case OP_ADD: /* d(a+b) = da + db */
        FOR_EACH_ROW(bc, {
            if (ga) accumulate_row(ga + ia, sa3, g + o, 1.0f, NULL, 0, len);
            if (gb) accumulate_row(gb + ib, sb3, g + o, 1.0f, NULL, 0, len);
        });
        break;
    case OP_SUB: /* d(a-b) = da - db */
        FOR_EACH_ROW(bc, {
            if (ga) accumulate_row(ga + ia, sa3, g + o, 1.0f, NULL, 0, len);
            if (gb) accumulate_row(gb + ib, sb3, g + o, -1.0f, NULL, 0, len);
        });
        break;
    case OP_MUL: /* d(ab) = b da + a db */
        FOR_EACH_ROW(bc, {
            if (ga) accumulate_row(ga + ia, sa3, g + o, 1.0f, b + ib, sb3, len);
            if (gb) accumulate_row(gb + ib, sb3, g + o, 1.0f, a + ia, sa3, len);
        });
        break;
    case OP_DIV: /* d(a/b) = da / b - a db / b^2: rare enough to stay element by element */
        FOR_EACH_BROADCAST(bc, {
            if (ga) ga[ia] += g[o] / b[ib];
            if (gb) gb[ib] -= g[o] * a[ia] / (b[ib] * b[ib]);
        });
        break;
    }
}

static nn_tensor *binary(const char *op, binary_kind kind, nn_tensor *a, nn_tensor *b) {
    NN_REQUIRE(a, op);
    NN_REQUIRE(b, op);
    broadcast local;
    if (!broadcast_shapes(op, a, b, &local)) return NULL;
    nn_node *node;
    nn_tensor *out = nn_record_filled(op, binary_backward, local.ndim, local.shape, a, b, NULL,
                                      &node);   /* every element is written below */
    broadcast *bc = &local;
    if (node) { /* backward needs the index map */
        bc = nn_arena_alloc(sizeof *bc);
        *bc = local;
        node->extra = bc;
        node->i[0] = kind;
        node->sets_grads = kind != OP_DIV;   /* see set_whole_grad */
    }
    const float *x = a->data, *y = b->data;
    float *z = out->data;
    FOR_EACH_ROW(bc, forward_row(kind, z + o, x + ia, sa3, y + ib, sb3, len));
    return out;
}

nn_tensor *nn_add(nn_tensor *a, nn_tensor *b) { return binary("nn_add", OP_ADD, a, b); }
nn_tensor *nn_sub(nn_tensor *a, nn_tensor *b) { return binary("nn_sub", OP_SUB, a, b); }
nn_tensor *nn_mul(nn_tensor *a, nn_tensor *b) { return binary("nn_mul", OP_MUL, a, b); }
nn_tensor *nn_div(nn_tensor *a, nn_tensor *b) { return binary("nn_div", OP_DIV, a, b); }

/* ---- masked fill: y = value where mask != 0, else x;  dx += dy where mask == 0 ----------
 * The mask broadcasts to x's shape by the rules above (the output keeps x's shape) and is a
 * constant: it gets no gradient. */

static void masked_fill_backward(nn_node *n) {
    if (!WANTS_GRAD(n->in[0])) return;   /* recorded only because the mask asked for grad */
    const broadcast *bc = n->extra;
    const float *mask = n->in[1]->data, *g = n->out->grad;
    float *gx = n->in[0]->grad;
    FOR_EACH_BROADCAST(bc, { if (mask[ib] == 0.0f) gx[ia] += g[o]; });
}

nn_tensor *nn_masked_fill(nn_tensor *x, const nn_tensor *mask, float value) {
    NN_REQUIRE(x, "nn_masked_fill");
    NN_REQUIRE(mask, "nn_masked_fill");
    broadcast local;
    if (!broadcast_shapes("nn_masked_fill", x, mask, &local)) return NULL;
    if (local.ndim != x->ndim || memcmp(local.shape, x->shape, (size_t)x->ndim * sizeof(int))) {
        nn_fail("nn_masked_fill", "the mask broadcasts TO x's shape; it may not enlarge x",
                "mask %s would broadcast x %s to a larger shape", SHAPE(mask), SHAPE(x));
        return NULL;
    }
    nn_node *node;   /* the mask is the second input so that backward can read it */
    nn_tensor *out = nn_record("nn_masked_fill", masked_fill_backward, x->ndim, x->shape, x,
                               (nn_tensor *)mask, NULL, &node);
    broadcast *bc = &local;
    if (node) {
        bc = nn_arena_alloc(sizeof *bc);
        *bc = local;
        node->extra = bc;
    }
    const float *xd = x->data, *md = mask->data;
    float *y = out->data;
    FOR_EACH_BROADCAST(bc, y[o] = md[ib] != 0.0f ? value : xd[ia]);
    return out;
}
