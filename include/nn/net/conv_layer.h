/* nn/net/conv_layer.h — the convolution layer: kernels and biases as parameters of a model. */
#ifndef NN_NET_CONV_LAYER_H
#define NN_NET_CONV_LAYER_H

#include "../core/model.h"
#include "init.h"

/* A convolution layer: K = out_ch kernels of in_ch x ksize x ksize, and a bias per kernel.
 *   x: (N, in_ch, H, W)  W: (out_ch, in_ch, ksize, ksize)  b: (out_ch)  ->  (N, out_ch, Ho, Wo)
 * Each output value sees in_ch * ksize * ksize inputs: that is the fan-in for He and Xavier
 * init (Xavier's fan-out is out_ch * ksize * ksize, as in PyTorch). */
typedef struct nn_conv2d_layer {
    nn_tensor *W;
    nn_tensor *b;
    int in_ch, out_ch, ksize, stride, padding;
} nn_conv2d_layer;

/* Parameters are named "<name>.W" and "<name>.b"; the bias starts at zero. */
nn_conv2d_layer *nn_conv2d_layer_new(nn_model *m, const char *name, int in_ch, int out_ch,
                                     int ksize, int stride, int padding, nn_init init);
nn_tensor *nn_conv2d_layer_forward(const nn_conv2d_layer *layer, nn_tensor *x);
/* nn_relu(nn_conv2d_layer_forward(layer, x)) in one op (nn_conv2d_relu): half the memory */
nn_tensor *nn_conv2d_layer_forward_relu(const nn_conv2d_layer *layer, nn_tensor *x);
/* nn_max_pool2d(nn_conv2d_layer_forward_relu(layer, x), pool_kernel, pool_stride) in one op
 * (nn_conv2d_relu_maxpool2d): no full-size output kept */
nn_tensor *nn_conv2d_layer_forward_relu_maxpool(const nn_conv2d_layer *layer, nn_tensor *x,
                                                int pool_kernel, int pool_stride);

#endif
