/* src/ops/broadcast.h — NumPy broadcasting of two shapes, shared by the ops that take two
 * tensors of different shapes (src/ops/binary.c, src/ops/similarity.c).
 *
 * Both inputs are seen as 4-D (missing leading dims are 1). For each output dimension an
 * input either matches it (stride = its contiguous stride) or has size 1 (stride 0, so the
 * same element is reused along that dimension). */
#ifndef NN_OPS_BROADCAST_H
#define NN_OPS_BROADCAST_H

#include "internal.h"

typedef struct {
    int ndim;
    int shape[NN_MAX_DIMS];          /* output shape (ndim entries) */
    int dims[NN_MAX_DIMS];           /* output shape padded to 4-D */
    size_t sa[NN_MAX_DIMS], sb[NN_MAX_DIMS]; /* strides of a and b in the 4-D output space */
} broadcast;

/* Fill *bc; reports misuse and returns false when the shapes don't broadcast. */
static inline bool broadcast_shapes(const char *op, const nn_tensor *a, const nn_tensor *b,
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

#endif
