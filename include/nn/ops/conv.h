/* nn/ops/conv.h — convolution (卷积), pooling (池化) and flatten.
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
#ifndef NN_OPS_CONV_H
#define NN_OPS_CONV_H

#include "../core/tensor.h"

/* 2-D convolution.  x: (N, C, H, W)  w: (K, C, kh, kw)  b: (K) or NULL  ->  (N, K, Ho, Wo).
 * stride >= 1, padding >= 0 (zeros on all four sides). Differentiable in x, w and b. */
nn_tensor *nn_conv2d(nn_tensor *x, nn_tensor *w, nn_tensor *b, int stride, int padding);

/* nn_relu(nn_conv2d(x, w, b, stride, padding)) as one op: the same numbers, but one output
 * tensor (and one gradient) instead of two, and the activation applied while each image's
 * output is still in cache. Backward needs only y: the pre-activation was positive exactly
 * where y > 0. */
nn_tensor *nn_conv2d_relu(nn_tensor *x, nn_tensor *w, nn_tensor *b, int stride, int padding);

/* nn_max_pool2d(nn_conv2d_relu(x, w, b, stride, padding), pool_kernel, pool_stride) as one op,
 * the same numbers: (N, K, Hp, Wp). Each image's convolution output is pooled as soon as it
 * is made, so only the pooled values (and which pixel won each window) are kept: a quarter
 * of the memory for 2 x 2 windows, no full-size output or gradient at all. */
nn_tensor *nn_conv2d_relu_maxpool2d(nn_tensor *x, nn_tensor *w, nn_tensor *b, int stride,
                                    int padding, int pool_kernel, int pool_stride);

/* Two implementations sit behind nn_conv2d: the reference (direct nested loops, the formula
 * above written out; slow, easy to read) and the fast path (im2col: copy every patch of the
 * image into a column of a matrix, then one matrix multiply with the kernels; OpenMP over
 * the batch). Both give the same numbers up to float rounding; the tests check that.
 * nn_set_conv2d_reference(true) makes later nn_conv2d calls use the reference (backward uses
 * whichever path its forward used), and nn_max_pool2d its general loop instead of the
 * unrolled one for kernel 2, stride 2. Returns the previous setting. Default: false (fast). */
bool nn_set_conv2d_reference(bool on);
bool nn_is_conv2d_reference(void);

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

#endif
