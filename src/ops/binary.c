/* src/ops/binary.c — add, sub, mul, div with NumPy broadcasting.
 *
 * Both inputs are seen as 4-D (missing leading dims are 1). For each output dimension an
 * input either matches it (stride = its contiguous stride) or has size 1 (stride 0, so the
 * same element is reused along that dimension). Backward walks the same index map and adds
 * into the input gradients; where an input was broadcast, += sums over the repeated copies,
 * which is exactly the gradient of a broadcast.
 */
#include "internal.h"
#include "nn/ops/elementwise.h"

typedef enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV } binary_kind;

typedef struct {
    int ndim;
    int shape[NN_MAX_DIMS];          /* output shape (ndim entries) */
    int dims[NN_MAX_DIMS];           /* output shape padded to 4-D */
    size_t sa[NN_MAX_DIMS], sb[NN_MAX_DIMS]; /* strides of a and b in the 4-D output space */
} broadcast;

/* Fill *bc; reports misuse and returns false when the shapes don't broadcast. */
static bool broadcast_shapes(const char *op, const nn_tensor *a, const nn_tensor *b,
                             broadcast *bc) {
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    bc->ndim = nd;
    size_t stride_a = 1, stride_b = 1;
    for (int d = NN_MAX_DIMS - 1; d >= 0; d--) {  /* from the last dim to the first */
        int i = d - (NN_MAX_DIMS - nd);            /* index into the output shape */
        int ia = i - (nd - a->ndim), ib = i - (nd - b->ndim);
        int na = (i >= 0 && ia >= 0) ? a->shape[ia] : 1;
        int nb = (i >= 0 && ib >= 0) ? b->shape[ib] : 1;
        if (na != nb && na != 1 && nb != 1) {
            nn_fail(op, "shapes broadcast when, from the last dim backwards, each pair of "
                    "sizes is equal or one of them is 1",
                    "shapes %s and %s do not broadcast (dim %d: %d vs %d)", SHAPE(a), SHAPE(b),
                    i, na, nb);
            return false;
        }
        int n = na > nb ? na : nb;
        bc->dims[d] = n;
        if (i >= 0) bc->shape[i] = n;
        bc->sa[d] = na == 1 ? 0 : stride_a;
        bc->sb[d] = nb == 1 ? 0 : stride_b;
        stride_a *= (size_t)na;
        stride_b *= (size_t)nb;
    }
    return true;
}

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

static void binary_backward(nn_node *n) {
    const broadcast *bc = n->extra;
    const float *a = n->in[0]->data, *b = n->in[1]->data, *g = n->out->grad;
    float *ga = WANTS_GRAD(n->in[0]) ? n->in[0]->grad : NULL;
    float *gb = WANTS_GRAD(n->in[1]) ? n->in[1]->grad : NULL;
    switch ((binary_kind)n->i[0]) {
    case OP_ADD: /* d(a+b) = da + db */
        FOR_EACH_BROADCAST(bc, { if (ga) ga[ia] += g[o]; if (gb) gb[ib] += g[o]; });
        break;
    case OP_SUB: /* d(a-b) = da - db */
        FOR_EACH_BROADCAST(bc, { if (ga) ga[ia] += g[o]; if (gb) gb[ib] -= g[o]; });
        break;
    case OP_MUL: /* d(ab) = b da + a db */
        FOR_EACH_BROADCAST(bc, { if (ga) ga[ia] += g[o] * b[ib]; if (gb) gb[ib] += g[o] * a[ia]; });
        break;
    case OP_DIV: /* d(a/b) = da / b - a db / b^2 */
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
    nn_tensor *out = nn_record(op, binary_backward, local.ndim, local.shape, a, b, NULL, &node);
    broadcast *bc = &local;
    if (node) { /* backward needs the index map */
        bc = nn_arena_alloc(sizeof *bc);
        *bc = local;
        node->extra = bc;
        node->i[0] = kind;
    }
    const float *x = a->data, *y = b->data;
    float *z = out->data;
    switch (kind) {
    case OP_ADD: FOR_EACH_BROADCAST(bc, z[o] = x[ia] + y[ib]); break;
    case OP_SUB: FOR_EACH_BROADCAST(bc, z[o] = x[ia] - y[ib]); break;
    case OP_MUL: FOR_EACH_BROADCAST(bc, z[o] = x[ia] * y[ib]); break;
    case OP_DIV: FOR_EACH_BROADCAST(bc, z[o] = x[ia] / y[ib]); break;
    }
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
