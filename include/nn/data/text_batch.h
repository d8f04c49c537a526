/* nn/data/text_batch.h — batches for a next-character model: from a sequence of ids
 * (nn_vocab_encode, nn/data/text.h), inputs and the targets to predict, each the character
 * after its input. A train/validation split by position; random windows; and sequential
 * chunks for truncated backpropagation through time (截断的BPTT), where an RNN's hidden state
 * carries from one chunk to the next.
 *
 * Batches are int arrays of B * T ids, row-major: element [b * T + t] is position t of row b,
 * in memory you own (a stack array is fine). That is what the embedding lookup and the loss
 * take: nn_embedding(W, inputs, NN_SHAPE(B, T)) (nn/ops/embedding.h) gives (B, T, E), and
 * nn_cross_entropy_loss(logits (B, T, V), targets) the loss. Ids are data, not tensors: no
 * gradient flows into them, so a graph tensor of them would only cost a conversion.
 */
#ifndef NN_DATA_TEXT_BATCH_H
#define NN_DATA_TEXT_BATCH_H

#include "../core/rng.h"

/* A part of a sequence of ids (not a copy: it points into the sequence). */
typedef struct nn_token_span {
    const int *ids;
    int n;
} nn_token_span;

/* Split ids[0 .. n) by position: the first part for training, the last val_fraction of it
 * for validation (no shuffling: neighbouring windows share characters, so a random split
 * would let the model see its validation text while training). n_val = val_fraction * n
 * rounded to the nearest whole number, halves up, then kept within 2 .. n-2 so that each part
 * holds at least one (input, target) pair. 0 < val_fraction < 1, n >= 4. Returns 0, or -1
 * after nn_fail. */
int nn_text_split(const int *ids, int n, double val_fraction, nn_token_span *train,
                  nn_token_span *val);

/* B random windows of T + 1 ids from ids[0 .. n) (n >= T + 1), starts drawn from rng (NULL:
 * the global generator): inputs[b * T + t] = ids[s_b + t], targets[b * T + t] =
 * ids[s_b + t + 1], so the targets are the inputs shifted by one. The same generator state
 * gives the same batch. inputs and targets hold B * T ints each. Returns 0, or -1 after
 * nn_fail. */
int nn_text_random_batch(const int *ids, int n, int B, int T, nn_rng *rng, int *inputs,
                         int *targets);

/* Sequential chunks for truncated BPTT. The sequence is cut into B streams of L = (n-1) / B
 * inputs each (the last n - 1 - B * L ids are left out), one stream per row; each call hands
 * out the next T positions of every stream. Row b of one chunk continues row b of the chunk
 * before, so the hidden state of row b carries over. n = 17, B = 4 (L = 4), T = 2:
 *
 *   ids       a b c d e f g h i j k l m n o p q
 *   stream 0  a b c d (e)         row 0     chunk 0        chunk 1
 *   stream 1  e f g h (i)         inputs    a b  e f ...   c d  g h ...
 *   stream 2  i j k l (m)         targets   b c  f g ...   d e  h i ...
 *   stream 3  m n o p (q)         (row b of chunk 1 goes on where row b of chunk 0 stopped)
 *
 *   nn_text_stream s;
 *   nn_text_stream_init(&s, ids, n, B, T);
 *   int x[B * T], y[B * T], t;
 *   nn_tensor *h = NULL;                               // the hidden state, (B, H)
 *   while ((t = nn_text_stream_next(&s, x, y)) > 0) {  // x, y: (B, t), t = T but the last
 *       ... run t steps from h, loss, backward, step ...
 *       h = nn_keep(h, h_last);                        // carried on, its history cut
 *       nn_graph_clear();
 *   }
 *   nn_text_stream_reset(&s);                          // next epoch: start h from zero too
 *
 * The stream points into ids (not a copy); ids must outlive it. */
typedef struct nn_text_stream {
    const int *ids;
    int B, T;
    int len;      /* L: input positions per stream */
    int pos;      /* where the next chunk starts in each stream, 0 .. len */
    int chunks;   /* chunks per epoch: ceil(len / T) */
} nn_text_stream;

/* Set up streams over ids[0 .. n): B >= 1 rows, T >= 1 steps per chunk, n - 1 >= B (each row
 * needs one input and its target). Returns 0, or -1 after nn_fail. */
int nn_text_stream_init(nn_text_stream *s, const int *ids, int n, int B, int T);

/* The next chunk: inputs and targets as (B, t) row-major arrays (element [b * t + j]), where
 * t = T except for the last chunk of an epoch, which may be shorter. Returns t, or 0 when the
 * epoch is over (nothing written; nn_text_stream_reset starts the next), or -1 after nn_fail.
 * inputs and targets hold B * T ints each. */
int nn_text_stream_next(nn_text_stream *s, int *inputs, int *targets);

/* Back to the start of every stream, for the next epoch. Returns 0, or -1 after nn_fail. */
int nn_text_stream_reset(nn_text_stream *s);

#endif
