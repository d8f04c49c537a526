/* nn/net/rnn.h — recurrent layers (循环神经网络): the vanilla RNN, GRU and LSTM cells, and one
 * layer type that runs any of them along a sequence.
 *
 * A cell reads one time step x_t (B, in) and the state carried from the step before,
 * h (B, H) (and for the LSTM also the cell state c (B, H)), and returns the next state;
 * the new h is also that step's output. Over a sequence x (B, T, in) the layer is a plain C
 * loop over t = 0 .. T-1, each step recording its ops on the tape, so nn_backward runs back
 * through every step: backpropagation through time (BPTT).
 *
 * The cells (σ = sigmoid, * = elementwise product; one sample per row, as in nn_linear_layer):
 *   RNN   h' = tanh(x Wx + h Wh + b)
 *   LSTM  [i f g o] = x Wx + h Wh + b           (B, 4H), cut into four (B, H) gates
 *         i = σ(i), f = σ(f), g = tanh(g), o = σ(o)   (input, forget, candidate, output)
 *         c' = f * c + i * g
 *         h' = o * tanh(c')
 *   GRU   [xr xz xn] = x Wx + b,   [hr hz hn] = h Wh          (B, 3H) each, cut in three
 *         r = σ(xr + hr)                        reset gate
 *         z = σ(xz + hz)                        update gate
 *         n = tanh(xn + r * (hn + bn))          candidate (PyTorch's formulation)
 *         h' = (1 - z) * n + z * h
 * x Wx + h Wh is the single product [x, h] W of the textbooks, with W = [Wx; Wh] stacked.
 *
 * Parameters, in the model (G = 1 for the RNN, 3 for the GRU, 4 for the LSTM; the gates side
 * by side in the order above):
 *   "<name>.Wx" (in, G*H)   "<name>.Wh" (H, G*H)   "<name>.b" (G*H)   GRU only: "<name>.bn" (H)
 * All start uniform(-1/sqrt(H), 1/sqrt(H)) as in PyTorch, except the LSTM's forget-gate bias,
 * which starts at 1. The cell state is multiplied by f at every step (dc'/dc = f), so with
 * f = σ(0) = 0.5 both the memory and the gradient flowing back along it shrink as 0.5^T;
 * with σ(1) ≈ 0.73 the cell keeps what it holds for longer from the first step of training
 * on, until it learns what to forget (Gers et al. 2000; Jozefowicz et al. 2015; Keras's
 * unit_forget_bias). PyTorch starts it uniform like the rest.
 *
 *   nn_rnn_layer *lstm = nn_rnn_layer_new(model, "lstm", NN_CELL_LSTM, E, H);
 *   nn_rnn_state last;
 *   nn_tensor *y = nn_rnn_layer_forward(lstm, x, NULL, &last);   // (B, T, H); zeros to start
 *   // last.h is y[:, T-1, :]; last.c the final cell state
 *
 * Truncated BPTT: carry the final state into the next chunk as a tensor you own, so that
 * backward stops at the chunk's start and nn_graph_clear() can free the chunk:
 *   nn_rnn_state carry = {0}, last;                              // NULL: zeros to start
 *   for (chunk ...) {
 *       nn_tensor *y = nn_rnn_layer_forward(lstm, x_chunk, &carry, &last);
 *       ... loss, nn_backward, nn_optim_step ...
 *       nn_rnn_state_keep(&carry, &last);                        // nn_keep of h (and c)
 *       nn_graph_clear();
 *   }
 *   nn_rnn_state_free(&carry);
 *
 * Generation, one step at a time (the same numbers as the unrolled layer):
 *   nn_rnn_state s = {0};
 *   for (t ...) { nn_tensor *h = nn_rnn_layer_step(lstm, x_t, &s, &s); ... }
 *
 * Two implementations of the GRU sit behind the layer: by default the whole sequence is one
 * op, nn_gru_sequence (nn/ops/gru.h: the same formulas, backward through time written out
 * by hand, several times faster); nn_set_rnn_reference(true) makes later calls build it from
 * the cell above, op by op on the tape (the readable one). The RNN and LSTM cells are always
 * built from ops.
 */
#ifndef NN_NET_RNN_H
#define NN_NET_RNN_H

#include "../core/model.h"

typedef enum nn_cell_kind { NN_CELL_RNN, NN_CELL_GRU, NN_CELL_LSTM } nn_cell_kind;

typedef struct nn_rnn_layer {
    nn_cell_kind kind;
    int in, hidden;   /* input size and H */
    int gates;        /* G: 1 (RNN), 3 (GRU), 4 (LSTM) */
    nn_tensor *Wx;    /* (in, G*H) */
    nn_tensor *Wh;    /* (H, G*H) */
    nn_tensor *b;     /* (G*H) */
    nn_tensor *bn;    /* (H): the GRU's bias inside r * (h Wh_n + bn); NULL for RNN, LSTM */
} nn_rnn_layer;

/* What a recurrent layer carries from one step to the next. A NULL field means zeros. */
typedef struct nn_rnn_state {
    nn_tensor *h;     /* (B, H) */
    nn_tensor *c;     /* (B, H): the LSTM's cell state; NULL for RNN and GRU */
} nn_rnn_state;

/* A layer of `kind` reading `in` numbers per step and carrying H = `hidden`; its parameters
 * are named after `name` ("rnn", "gru" or "lstm" when NULL). */
nn_rnn_layer *nn_rnn_layer_new(nn_model *m, const char *name, nn_cell_kind kind, int in,
                               int hidden);

/* The GRU as one op (false, the default) or built from its cell's ops (true); see above.
 * Returns the previous setting. */
bool nn_set_rnn_reference(bool on);
bool nn_is_rnn_reference(void);

/* Run the layer over x (B, T, in), starting from `start` (NULL, or NULL fields: zeros;
 * h and c (B, H)). Returns every step's h, (B, T, H), and writes the state after the last
 * step to *end (unless end is NULL; end->h equals the output's last step). start and end
 * may be the same struct. The input part x Wx + b of all T steps is one matmul, before the
 * loop; each step adds h Wh. */
nn_tensor *nn_rnn_layer_forward(const nn_rnn_layer *layer, nn_tensor *x,
                                const nn_rnn_state *start, nn_rnn_state *end);

/* One step: x (B, in) and the state `in` (NULL or NULL fields: zeros) -> the next state in
 * *out (unless NULL; may be the same struct as in); returns its h (B, H). Running T of these
 * gives the same numbers as nn_rnn_layer_forward over the T steps. */
nn_tensor *nn_rnn_layer_step(const nn_rnn_layer *layer, nn_tensor *x, const nn_rnn_state *in,
                             nn_rnn_state *out);

/* Truncated BPTT: copy s's tensors (graph tensors, say a chunk's final state) into *kept,
 * tensors you own that survive nn_graph_clear() and have no history (nn_keep on h and c).
 * kept starts as {0}; a NULL field of s frees and clears that field of kept. */
void nn_rnn_state_keep(nn_rnn_state *kept, const nn_rnn_state *s);
/* Free the owned tensors of a kept state and set its fields to NULL. */
void nn_rnn_state_free(nn_rnn_state *kept);

/* "rnn", "gru", "lstm" (for printing and command-line flags); "?" for anything else. */
const char *nn_cell_kind_name(nn_cell_kind kind);

#endif
