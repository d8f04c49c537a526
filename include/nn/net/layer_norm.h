/* nn/net/layer_norm.h — the LayerNorm layer: nn_layer_norm (nn/ops/layer_norm.h) with a
 * learned scale and shift per feature. */
#ifndef NN_NET_LAYER_NORM_H
#define NN_NET_LAYER_NORM_H

#include "../core/model.h"

typedef struct nn_layer_norm_layer {
    nn_tensor *gamma;   /* (dim), starts at 1 */
    nn_tensor *beta;    /* (dim), starts at 0 */
    int dim;
    float eps;          /* 1e-5 */
} nn_layer_norm_layer;

/* Parameters "<name>.gamma" and "<name>.beta" (no weight decay: they are scales and shifts,
 * as biases are). */
nn_layer_norm_layer *nn_layer_norm_layer_new(nn_model *m, const char *name, int dim);
/* x (..., dim) -> (..., dim) */
nn_tensor *nn_layer_norm_layer_forward(const nn_layer_norm_layer *layer, nn_tensor *x);

#endif
