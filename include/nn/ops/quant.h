/* nn/ops/quant.h — post-training quantization (量化): int8 and int4 weights, an int8 matrix
 * multiply, and quantized checkpoints (NNQ1 files).
 *
 * A trained weight w is a float32 (4 bytes). Quantization keeps a small integer q and one
 * float scale s shared by many weights, and reads the weight back as s * q:
 *
 *   int8, per row (per output channel), symmetric:
 *     s_r = max_c |w_rc| / 127            q_rc = round(w_rc / s_r), in [-127, 127]
 *   int4, per group of `group` consecutive weights of a row, symmetric:
 *     s_rg = max_{c in g} |w_rc| / 7      q_rc = round(w_rc / s_rg), in [-7, 7]
 *   dequantize: w'_rc = s * q_rc, and |w_rc - w'_rc| <= s / 2 (rounding to the nearest step;
 *   ties to even, as PyTorch does)
 *
 * Symmetric: zero stays exactly zero and there is no zero point; -128 (int8) and -8 (int4)
 * are left unused so that the range is the same on both sides. The last group of a row may
 * be shorter (cols need not be a multiple of group). A row (or group) of zeros gets s = 0.
 * int4 packs two weights per byte, each as the nibble q + 8 (1 .. 15): the even column in
 * the low 4 bits, the odd one in the high 4 bits; every row starts on a new byte, so a row
 * takes (cols + 1) / 2 bytes.
 *
 * Which way is a "row"? Here always the first index of a (rows, cols) array. One scale per
 * OUTPUT feature is what makes y = s * (integer dot product) work (nn_q8_matmul below). An
 * nn_linear_layer stores W as (in, out) (Y = X W), so its output features are its columns:
 * nn_q8_weights_from_linear and the quantized checkpoint quantize W^T, an (out, in) array,
 * whose rows are output features and whose int4 groups run along the inputs (as GPTQ and
 * AWQ do). A convolution's W (out_ch, in_ch, k, k) is already (out_ch, in_ch * k * k).
 * (An embedding table (V, D) is 2-D as well and so gets one scale per dimension, shared by
 * all tokens; for the chapter 6 GPT its error is the same as the other matrices'.)
 */
#ifndef NN_OPS_QUANT_H
#define NN_OPS_QUANT_H

#include "../core/model.h"
#include "../net/linear.h"
#include <stddef.h>
#include <stdint.h>

/* ---- quantize and dequantize arrays ------------------------------------------------------
 * Each returns 0, or -1 after reporting misuse (NULL, a zero size, group < 1, a weight that
 * is not finite). */

/* w (rows, cols) -> q (rows, cols) and scale (rows). */
int nn_q8_quantize(const float *w, size_t rows, size_t cols, int8_t *q, float *scale);
/* q, scale -> w (rows, cols). */
int nn_q8_dequantize(const int8_t *q, const float *scale, size_t rows, size_t cols, float *w);

/* Groups per row: ceil(cols / group). Packed bytes: rows * ((cols + 1) / 2). */
size_t nn_q4_groups(size_t cols, int group);
size_t nn_q4_packed_bytes(size_t rows, size_t cols);
/* w (rows, cols) -> packed (nn_q4_packed_bytes) and scale (rows, nn_q4_groups). */
int nn_q4_quantize(const float *w, size_t rows, size_t cols, int group, uint8_t *packed,
                   float *scale);
int nn_q4_dequantize(const uint8_t *packed, const float *scale, size_t rows, size_t cols,
                     int group, float *w);

/* w replaced in place by dequantize(quantize(w)): the "fake quant" view, the float values an
 * int8 / int4 model really computes with. 0, or -1 after reporting misuse. */
int nn_q8_roundtrip(float *w, size_t rows, size_t cols);
int nn_q4_roundtrip(float *w, size_t rows, size_t cols, int group);

/* The same for a model's parameter, along its output channels, exactly as
 * nn_model_save_quantized stores it: bits 8 or 4 (group used for 4). Returns 1 when the
 * parameter is one that gets quantized (a weight of 2 or more dims, its decay flag set),
 * 0 when it is kept in float32 (biases, LayerNorm's gamma and beta), -1 on misuse. */
int nn_quant_roundtrip_param(nn_model *m, int p, int bits, int group);

/* ---- int8 matrix multiply ----------------------------------------------------------------
 * y (M, N) = x (M, K) W^T + bias, with W (N, K) in int8, one scale per row n, and x
 * quantized on the fly, one scale per row m (dynamic quantization: activations differ per
 * input, so their scale is measured each time):
 *   sx_m = max_k |x_mk| / 127     qx_mk = round(x_mk / sx_m)
 *   acc_mn = sum_k qx_mk qw_nk    (exact in int32 for K <= NN_Q8_MAX_K: K * 127^2 < 2^31,
 *                                  and the VNNI kernel's K * 255 * 127 too)
 *   y_mn = sx_m sw_n acc_mn + bias_n
 * Compared with the float product, the error is at most, per output,
 *   |y_mn - y*_mn| <= sum_k (|x_mk| sw_n / 2 + |w_nk| sx_m / 2 + sx_m sw_n / 4)
 * (each factor is off by at most half its step), plus float rounding. */
#define NN_Q8_MAX_K 65536
typedef struct nn_q8_weights {
    int n, k;          /* N output features, K inputs */
    int8_t *q;         /* (N, K) */
    float *scale;      /* (N) */
    int32_t *row_sum;  /* (N): sum_k q_nk, the correction of the VNNI kernel (see .c) */
} nn_q8_weights;

/* From w (N, K) (row n = output n), or from a linear layer's W (in, out) = W^T. NULL on
 * misuse. Free with nn_q8_weights_free (NULL is fine). */
nn_q8_weights *nn_q8_weights_new(const float *w, int n, int k);
nn_q8_weights *nn_q8_weights_from_linear(const nn_linear_layer *layer);
void nn_q8_weights_free(nn_q8_weights *w);

/* y (M, N) = x (M, K) W^T + bias (bias may be NULL). 0, or -1 after reporting misuse. */
int nn_q8_matmul(const float *x, int m, const nn_q8_weights *w, const float *bias, float *y);
/* The same on a tensor x (..., K): a new graph tensor (..., N) without gradient (inference
 * only: rounding has no useful derivative). NULL on misuse. */
nn_tensor *nn_q8_linear_forward(const nn_q8_weights *w, const nn_tensor *bias, nn_tensor *x);

/* The integer dot products have three implementations: the reference (plain loops, read it
 * first), AVX2 (32 bytes at a time, _mm256_maddubs_epi16) and AVX-512 VNNI
 * (_mm512_dpbusd_epi32, 64 multiply-adds per instruction). Integer sums are exact, so all
 * three give bit-identical results (tests/test_quant.c). NN_Q8_AUTO (the default) picks the
 * fastest this CPU has, at run time. */
typedef enum { NN_Q8_AUTO, NN_Q8_REFERENCE, NN_Q8_AVX2, NN_Q8_VNNI } nn_q8_kernel;
/* Does this CPU (and this build) have it? AUTO and REFERENCE: always. */
bool nn_q8_kernel_available(nn_q8_kernel k);
/* Select a kernel for later calls; returns the previous setting. One the CPU lacks is
 * misuse (and the setting stays). */
nn_q8_kernel nn_set_q8_kernel(nn_q8_kernel k);
/* The kernel calls use now (AUTO resolved) and its name: "reference", "avx2", "avx512-vnni". */
nn_q8_kernel nn_q8_kernel_in_use(void);
const char *nn_q8_kernel_name(nn_q8_kernel k);

/* ---- quantized checkpoints (NNQ1) --------------------------------------------------------
 * Like nn_model_save (nn/data/checkpoint.h), but each weight of 2 or more dims (decay flag
 * set) is stored as int8 per output channel (bits 8) or int4 in groups of `group` (bits 4);
 * biases and norms stay float32. Layout in src/data/quant_checkpoint.c and
 * docs/en/checkpoint-format.md. Saving is atomic (temporary file, fsync, rename).
 * 0, or -1 with nn_last_error() (misuse: bits not 4 or 8, group < 1, is reported too). */
int nn_model_save_quantized(const nn_model *m, const char *path, int bits, int group);
/* Load into an already-built model with the same parameter names and shapes: the values
 * become the dequantized weights. Everything is checked (size, CRC-32, each record, the
 * names and shapes against the model) before a value is copied, so on failure (-1,
 * nn_last_error() names the file and the problem) the model is untouched. */
int nn_model_load_quantized(nn_model *m, const char *path);

#endif
