/* src/ops/unary_op.h — shorthands for writing elementwise ops of one input (src/ops/unary.c,
 * src/ops/activation.c): each op then reads as its formula and its derivative. */
#ifndef NN_UNARY_OP_H
#define NN_UNARY_OP_H

#include "internal.h"

/* Shorthands for the loops below: n elements, x input, y output, g = dL/dy, gx = dL/dx. */
#define UNARY_BACKWARD_VARS(n)                                                           \
    size_t len = (n)->out->size;                                                         \
    const float *x = (n)->in[0]->data, *y = (n)->out->data, *g = (n)->out->grad;         \
    float *gx = (n)->in[0]->grad;                                                        \
    (void)x; (void)y

#define UNARY_FORWARD(opname, backward)                                                  \
    NN_REQUIRE(in, opname);                                                              \
    nn_node *node;                                                                       \
    nn_tensor *out = nn_unary_out(opname, backward, in, &node);                          \
    size_t len = in->size;                                                               \
    const float *x = in->data;                                                           \
    float *y = out->data

#endif
