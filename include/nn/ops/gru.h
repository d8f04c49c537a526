/* nn/ops/gru.h — a GRU (门控循环单元) run over a whole sequence as ONE op.
 *
 * nn_rnn_layer_forward with a GRU layer calls this (unless nn_set_rnn_reference(true)): the
 * same formulas as the cell written with the library's ops in src/net/rnn.c (read that one
 * first, and nn/net/rnn.h), but one node on the tape instead of about fifteen per step, the
 * gates computed in one pass per step, and backward through time written out by hand:
 *   xg (B, T, 3H) = x Wx + b for every step (the layer makes it with one nn_linear)
 *   h0 (B, H) the state to start from, Wh (H, 3H), bn (H)
 *   for t = 0 .. T-1, h = h_t:
 *     [hr hz hn] = h Wh
 *     r = σ(xr + hr),  z = σ(xz + hz),  n = tanh(xn + r * (hn + bn)),  h_{t+1} = n + z * (h - n)
 *   -> y (B, T, H), y[:, t] = h_{t+1}
 * Backward, from the last step to the first, with g = dL/dh_{t+1} (y's gradient at t plus
 * what step t+1 sent back):
 *   dn = g (1 - z),  dz = g (h - n),  dh = g z + dP Wh^T       (dP below)
 *   da_n = dn (1 - n^2),  da_r = da_n (hn + bn) r (1 - r),  da_z = dz z (1 - z)
 *   dxg_t = [da_r, da_z, da_n],  dP = [da_r, da_z, da_n r],  dbn += sum over rows of da_n r
 * and after the loop dWh = sum_t h_t^T dP_t, one product over all B*T rows at once. */
#ifndef NN_OPS_GRU_H
#define NN_OPS_GRU_H

#include "../core/tensor.h"

/* xg (B, T, 3H), h0 (B, H), Wh (H, 3H), bn (H) -> y (B, T, H). Differentiable in all four. */
nn_tensor *nn_gru_sequence(nn_tensor *xg, nn_tensor *h0, nn_tensor *Wh, nn_tensor *bn);

#endif
