/* nn/ops/matmul.h — matrix multiply, 2-D and batched. */
#ifndef NN_OPS_MATMUL_H
#define NN_OPS_MATMUL_H

#include "../core/tensor.h"

/* (M, K) @ (K, N) -> (M, N);  (B, M, K) @ (B, K, N) -> (B, M, N);
 * (B, M, K) @ (K, N) -> (B, M, N)  (the same matrix for every batch item).
 * Backward: dA += dC @ B^T,  dB += A^T @ dC. */
nn_tensor *nn_matmul(nn_tensor *a, nn_tensor *b);

#endif
