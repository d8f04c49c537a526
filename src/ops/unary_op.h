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

#define UNARY_FORWARD(opname, backward)                                                  \
    NN_REQUIRE(in, opname);                                                              \
    nn_node *node;                                                                       \
    nn_tensor *out = nn_unary_out(opname, backward, in, &node);                          \
    size_t len = in->size;                                                               \
    const float *x = in->data;                                                           \
    float *y = out->data

#endif
