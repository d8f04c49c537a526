/* nn/net/linear.h — the linear (fully connected) layer. */
#ifndef NN_NET_LINEAR_H
#define NN_NET_LINEAR_H

#include "../core/model.h"
#include "init.h"

/* Y = X W + b: one row of X per sample (the tutorial's Y = g(WX + b) with samples as rows).
 *   X: (N, in) or (B, T, in)   W: (in, out)   b: (out)   Y: (N, out) or (B, T, out) */
typedef struct nn_linear_layer {
    nn_tensor *W;
    nn_tensor *b;
    int in, out;
} nn_linear_layer;

/* Parameters are named "<name>.W" and "<name>.b"; the bias starts at zero. */
nn_linear_layer *nn_linear_layer_new(nn_model *m, const char *name, int in, int out, nn_init init);
nn_tensor *nn_linear_layer_forward(const nn_linear_layer *layer, nn_tensor *x);

#endif
