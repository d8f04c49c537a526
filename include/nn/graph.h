/* nn/graph.h — the per-step graph arena and reverse-mode autograd.
 *
 * Every op appends a node to the tape of the current graph as it runs, so the tape is already
 * in topological order; nn_backward() walks it from the end to the start. No recursion, no
 * sort, no depth limit. All tensors and nodes of a step live in one arena that grows in
 * chunks; nn_graph_clear() releases them in one call (keeping the chunks for the next step).
 *
 *   for (step ...) {
 *       nn_tensor *loss = nn_mse_loss(model_forward(x), y);  // graph tensors
 *       nn_model_zero_grad(model);
 *       nn_backward(loss);
 *       nn_optim_step(opt);
 *       nn_graph_clear();                                // everything above is gone
 *   }
 */
#ifndef NN_GRAPH_H
#define NN_GRAPH_H

#include "tensor.h"

/* One recorded op. backward reads out->grad and adds (+=) into each input's grad. */
typedef void (*nn_backward_fn)(nn_node *node);

struct nn_node {
    const char *op;           /* name, for debugging ("nn_matmul") */
    nn_backward_fn backward;
    nn_tensor *out;
    nn_tensor *in[3];         /* inputs; unused slots are NULL */
    float f[4];               /* small op parameters (e.g. a scalar, a slope) */
    int i[4];                 /* integer parameters (e.g. an axis) */
    void *extra;              /* larger saved state, allocated in the arena */
    nn_node *prev;            /* the node recorded before this one */
};

/* Compute d loss / d t for every tensor t with requires_grad that loss depends on.
 * loss must be a 1-element tensor. Gradients ACCUMULATE: call nn_model_zero_grad first. */
void nn_backward(nn_tensor *loss);

/* Release every graph tensor and node made since the last clear. */
void nn_graph_clear(void);
/* Like clear, and give the arena's memory back to the system (e.g. before exit). */
void nn_graph_release(void);

/* Bytes the arena holds now (in use) and at most since start; for benchmarks and curiosity. */
size_t nn_graph_bytes_used(void);
size_t nn_graph_bytes_peak(void);
int nn_graph_node_count(void);

/* Gradient mode. With grad off, ops record nothing and outputs never require grad: use it
 * for evaluation and inference. Returns the previous setting so you can restore it. */
bool nn_set_grad_enabled(bool enabled);
bool nn_grad_enabled(void);

/* Training mode (on by default): dropout drops in training mode and is identity in eval
 * mode. Returns the previous setting. */
bool nn_set_training(bool training);
bool nn_is_training(void);

/* ---- for writing ops (see docs/en/adding-an-op.md) ---------------------------------------- */

/* Allocate `bytes` in the current step's arena (16-byte aligned, zeroed). */
void *nn_arena_alloc(size_t bytes);
/* A new graph tensor of the given shape, data zeroed; grad allocated when requires_grad. */
nn_tensor *nn_graph_tensor(int ndim, const int *shape, bool requires_grad);
/* Record an op: returns an output tensor of `shape`, and when grad mode is on and any input
 * requires grad, a node on the tape (in *node_out) whose backward will be called.
 * Inputs may be NULL past the used ones. */
nn_tensor *nn_record(const char *op, nn_backward_fn backward, int ndim, const int *shape,
                     nn_tensor *a, nn_tensor *b, nn_tensor *c, nn_node **node_out);

/* Call-site macros: an error names the line of your program that made the call. */
#define nn_backward(...) NN_AT(nn_backward(__VA_ARGS__))

#endif
