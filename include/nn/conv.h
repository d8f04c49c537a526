/* nn/conv.h — convolution (卷积), pooling (池化), flatten, and the convolution layer.
 *
 * Images are NCHW: a batch of N images, C channels each, H rows by W columns, stored
 * row-major, so x[n][c][h][w] sits at ((n*C + c)*H + h)*W + w. A grayscale 28x28 picture is
 * (1, 1, 28, 28); a batch of 64 of them is (64, 1, 28, 28).
 *
 * "Convolution" here is cross-correlation, as in PyTorch and every deep learning library:
 * the kernel slides over the image WITHOUT being flipped,
 *   y[n,k,oh,ow] = b[k] + sum_{c,i,j} w[k,c,i,j] * x[n, c, oh*s - p + i, ow*s - p + j]
 * (pixels outside the image count as 0: that is the padding p). The tutorial's 卷积核
 * (convolution kernel) is w[k]: one C x kh x kw block per output channel (特征图, feature map).
 * A learned kernel does not care about the flip, and a classic one (blur, edges) is simply
 * written already flipped.
 *
 * Output size: Ho = (H + 2p - kh) / s + 1, Wo = (W + 2p - kw) / s + 1 (rounded down).
 */
#ifndef NN_CONV_H
#define NN_CONV_H

#include "layers.h"

/* 2-D convolution.  x: (N, C, H, W)  w: (K, C, kh, kw)  b: (K) or NULL  ->  (N, K, Ho, Wo).
 * stride >= 1, padding >= 0 (zeros on all four sides). Differentiable in x, w and b. */
nn_tensor *nn_conv2d(nn_tensor *x, nn_tensor *w, nn_tensor *b, int stride, int padding);

/* Two implementations sit behind nn_conv2d: the reference (direct nested loops, the formula
 * above written out; slow, easy to read) and the fast path (im2col: copy every patch of the
 * image into a column of a matrix, then one matrix multiply with the kernels; OpenMP over
 * the batch). Both give the same numbers up to float rounding; the tests check that.
 * nn_conv2d_set_reference(true) makes later nn_conv2d calls use the reference (backward uses
 * whichever path its forward used). Returns the previous setting. Default: false (fast). */
bool nn_conv2d_set_reference(bool on);
bool nn_conv2d_uses_reference(void);

/* Pooling over kernel x kernel windows placed every `stride` pixels, per channel, without
 * padding (windows that would stick out of the image are dropped, as in PyTorch's default
 * ceil_mode=False):  x: (N, C, H, W) -> (N, C, Ho, Wo), Ho = (H - kernel) / stride + 1.
 * kernel = stride = 2 halves the height and width (the usual choice).
 *   max: y = the largest value in the window; backward sends dy to that one pixel (the
 *        first one when several tie; a NaN in the window wins, so NaNs propagate).
 *   avg: y = the mean of the window; backward spreads dy evenly, dy / kernel^2 to each. */
nn_tensor *nn_max_pool2d(nn_tensor *x, int kernel, int stride);
nn_tensor *nn_avg_pool2d(nn_tensor *x, int kernel, int stride);

/* (N, d1, d2, ...) -> (N, d1*d2*...): the bridge from feature maps to a linear layer. */
nn_tensor *nn_flatten(nn_tensor *x);

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

#define nn_conv2d(...) NN_AT(nn_conv2d(__VA_ARGS__))
#define nn_max_pool2d(...) NN_AT(nn_max_pool2d(__VA_ARGS__))
#define nn_avg_pool2d(...) NN_AT(nn_avg_pool2d(__VA_ARGS__))
#define nn_flatten(...) NN_AT(nn_flatten(__VA_ARGS__))
#define nn_conv2d_layer_forward(...) NN_AT(nn_conv2d_layer_forward(__VA_ARGS__))

#endif
