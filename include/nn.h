/* nn.h — libnn: a small, readable tensor + autograd library for learning neural networks.
 * Include this one header; the areas live in include/nn/, one header each. */
#ifndef NN_H
#define NN_H

#ifdef __cplusplus
extern "C" {
#endif

#include "nn/base.h"
#include "nn/tensor.h"
#include "nn/graph.h"
#include "nn/ops.h"
#include "nn/model.h"
#include "nn/layers.h"
#include "nn/conv.h"
#include "nn/loss.h"
#include "nn/optim.h"
#include "nn/gradcheck.h"
#include "nn/plot.h"
#include "nn/augment.h"
#include "nn/train.h"
#include "nn/io.h"

#ifdef __cplusplus
}
#endif

#endif
