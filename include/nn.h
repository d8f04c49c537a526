/* nn.h — libnn: a small, readable tensor + autograd library for learning neural networks.
 * Include this one header. The areas live in include/nn/, one folder per layer of the
 * library and one header per job (README.md, "Layout"):
 *   core/   errors, random numbers, the tensor, the graph (arena, tape, backward), the model
 *   ops/    differentiable ops: elementwise, matmul, shape, reductions, softmax, convolution,
 *           one-hot, the embedding lookup, cosine similarity, LayerNorm, attention, a GRU
 *           over a whole sequence
 *   net/    what networks are built from: init, layers (linear, conv, embedding, RNN/GRU/LSTM,
 *           LayerNorm, position encodings, multi-head attention, the Transformer block, a
 *           small GPT), losses, penalties, optimizers, sampling the next token
 *   data/   files and data sets: images, IDX, CSV, Fashion-MNIST, checkpoints, text (UTF-8,
 *           vocabularies, corpora, next-character batches), BPE tokenizers, vector indexes
 *   train/  training aids: early stopping, progress bar, diagnostics, augmentation
 *   viz/    pictures: SVG and ASCII charts, heatmaps
 *   cli/    for example programs: argv flags, output folders
 */
#ifndef NN_H
#define NN_H

#ifdef __cplusplus
extern "C" {
#endif

#include "nn/core/errors.h"
#include "nn/core/rng.h"
#include "nn/core/clock.h"
#include "nn/core/tensor.h"
#include "nn/core/graph.h"
#include "nn/core/model.h"
#include "nn/core/gradcheck.h"

#include "nn/ops/elementwise.h"
#include "nn/ops/matmul.h"
#include "nn/ops/shape.h"
#include "nn/ops/reduce.h"
#include "nn/ops/softmax.h"
#include "nn/ops/conv.h"
#include "nn/ops/one_hot.h"
#include "nn/ops/similarity.h"
#include "nn/ops/embedding.h"
#include "nn/ops/layer_norm.h"
#include "nn/ops/attention.h"
#include "nn/ops/gru.h"
#include "nn/ops/quant.h"

#include "nn/net/init.h"
#include "nn/net/linear.h"
#include "nn/net/conv_layer.h"
#include "nn/net/embedding.h"
#include "nn/net/rnn.h"
#include "nn/net/dropout.h"
#include "nn/net/loss.h"
#include "nn/net/penalty.h"
#include "nn/net/optim.h"
#include "nn/net/sample.h"
#include "nn/net/sample_stats.h"
#include "nn/net/preference.h"
#include "nn/net/layer_norm.h"
#include "nn/net/position.h"
#include "nn/net/attention.h"
#include "nn/net/transformer.h"
#include "nn/net/gpt.h"
#include "nn/net/lora.h"
#include "nn/net/prune.h"
#include "nn/net/distill.h"

#include "nn/data/image.h"
#include "nn/data/idx.h"
#include "nn/data/dataset.h"
#include "nn/data/text.h"
#include "nn/data/text_corpus.h"
#include "nn/data/text_batch.h"
#include "nn/data/bpe.h"
#include "nn/data/csv.h"
#include "nn/data/fashion_mnist.h"
#include "nn/data/checkpoint.h"
#include "nn/data/vector_index.h"

#include "nn/train/early_stop.h"
#include "nn/train/progress.h"
#include "nn/train/diagnostics.h"
#include "nn/train/augment.h"
#include "nn/train/data_parallel.h"

#include "nn/viz/plot.h"
#include "nn/viz/heatmap.h"

#include "nn/cli/args.h"
#include "nn/cli/out_path.h"

#include "nn/call_sites.h"   /* last: your file:line in every error (user code only) */

#ifdef __cplusplus
}
#endif

#endif
