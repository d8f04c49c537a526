/* src/ops/quant_internal.h — what the quantization sources share (not installed). */
#ifndef NN_QUANT_INTERNAL_H
#define NN_QUANT_INTERNAL_H

#include "nn/core/tensor.h"
#include <stddef.h>
#include <stdint.h>

/* A parameter seen as (channels, fan_in), its output channels as rows, the view in which
 * it is quantized: a 2-D weight is (in, out) (Y = X W), so the view is its transpose
 * (out, in); a convolution's (out_ch, in_ch, k, k) is already (out_ch, in_ch * k * k).
 * get copies t's values into mat (t->size floats) and says rows and cols; put copies them
 * back. (src/ops/quant.c; the quantized checkpoint uses the same view.) */
void nn_quant_get_channels(const nn_tensor *t, float *mat, size_t *rows, size_t *cols);
void nn_quant_put_channels(nn_tensor *t, const float *mat);

/* nn_q8_quantize without its argument checks; `op` names the public call in the message
 * about a value that is not finite (nn_q8_matmul's x, nn_q8_weights_new's w). */
int nn_q8_quantize_op(const char *op, const float *w, size_t rows, size_t cols, int8_t *q,
                      float *scale);

/* 0 when every value of w (rows, cols) is finite; otherwise reports misuse for `op`, naming
 * the first row with a NaN or infinity, and returns -1. Called before allocating. */
int nn_quant_check_finite(const char *op, const float *w, size_t rows, size_t cols);

#endif
