/* src/ops/unary_op.h — shorthands for writing elementwise ops of one input (src/ops/unary.c,
 * src/ops/activation.c): each op then reads as its formula and its derivative. */
#ifndef NN_UNARY_OP_H
#define NN_UNARY_OP_H

#include "internal.h"

/* Shorthands for the loops below: n elements, x input, y output, g = dL/dy, gx = dL/dx. */
/* restrict: gx never overlaps x, y or g (an op's input and output are separate tensors),
 * and saying so lets the compiler vectorise the loops without checking at run time. */
#define UNARY_BACKWARD_VARS(n)                                                           \
    size_t len = (n)->out->size;                                                         \
    const float *restrict x = (n)->in[0]->data, *restrict y = (n)->out->data;            \
    const float *restrict g = (n)->out->grad;                                            \
    float *restrict gx = (n)->in[0]->grad;                                               \
    (void)x; (void)y

/* A backward's loop, gx[i] += value, for an op whose forward said UNARY_SETS_GRADS: when
 * nothing has written x's gradient yet (nn_grad_take_unset), gx[i] = value instead, and
 * nn_backward need not zero it first. `value` may read x[i], y[i], g[i]. */
#define UNARY_GRAD_LOOP(n, value)                                                        \
    do {                                                                                 \
        if (nn_grad_take_unset((n)->in[0]))                                              \
            for (size_t i = 0; i < len; i++) gx[i] = (value);                            \
        else                                                                             \
            for (size_t i = 0; i < len; i++) gx[i] += (value);                           \
    } while (0)
#define UNARY_SETS_GRADS() \
    do {                   \
        if (node) node->sets_grads = true; \
    } while (0)

#define UNARY_FORWARD(opname, backward)                                                  \
    NN_REQUIRE(in, opname);                                                              \
    nn_node *node;                                                                       \
    nn_tensor *out = nn_unary_out(opname, backward, in, &node);                          \
    size_t len = in->size;                                                               \
    const float *x = in->data;                                                           \
    float *y = out->data

#endif
