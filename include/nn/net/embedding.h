/* nn/net/embedding.h — the embedding layer (词嵌入): one learned vector per token.
 *
 * A text model reads token ids (integers 0 .. vocab-1), not numbers it can multiply. The
 * layer keeps a table W (vocab, dim) in the model and turns each id into its row
 * (nn_embedding, nn/ops/embedding.h): ids (B, T) -> vectors (B, T, dim), ready for an RNN
 * (nn/net/rnn.h) or a linear layer. Training moves the rows of the tokens it sees, so tokens
 * used alike end up with similar vectors.
 */
#ifndef NN_NET_EMBEDDING_H
#define NN_NET_EMBEDDING_H

#include "../core/model.h"

typedef struct nn_embedding_layer {
    nn_tensor *W;      /* (vocab, dim): row v is token v's vector */
    int vocab, dim;
} nn_embedding_layer;

/* The table is the parameter "<name>.W" (vocab, dim), drawn from normal(0, std); std <= 0
 * picks 1, PyTorch's default: the vectors are then the network's input features at the unit
 * scale the next layer's initialisation assumes (like the standardised inputs of chapters
 * 1-3). A smaller std (0.02, GPT-2's) suits a table added to a residual stream or shared
 * with the output layer. The table counts as a weight for weight decay. */
nn_embedding_layer *nn_embedding_layer_new(nn_model *m, const char *name, int vocab, int dim,
                                           float std);
/* ids: B*T token ids, row-major (ids[b * T + t]) -> (B, T, dim). For ids of another shape,
 * (N) -> (N, dim) say, call nn_embedding(layer->W, ids, NN_SHAPE(N)). */
nn_tensor *nn_embedding_layer_forward(const nn_embedding_layer *layer, const int *ids, int B,
                                      int T);

#endif
