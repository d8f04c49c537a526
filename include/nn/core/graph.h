/* nn/core/graph.h — the per-step graph arena and reverse-mode autograd.
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
 *
 * Threads: the arena, the tape and the two modes (grad, training) belong to the thread that
 * uses them (they are thread-local), so two threads can each build and run their own graphs.
 * A graph tensor must not be handed to an op on another thread, and each thread that built
 * graphs calls nn_graph_release() before it ends. What is shared by all threads: models and
 * optimizers (guard them yourself), the global random generator (give each thread its own
 * nn_rng) and the error handler. The last error message and the call site are per thread.
 */
#ifndef NN_CORE_GRAPH_H
#define NN_CORE_GRAPH_H

#include "tensor.h"

/* One recorded op. backward reads out->grad and adds (+=) into each input's grad. */
typedef void (*nn_backward_fn)(nn_node *node);

struct nn_node {
    const char *op;           /* name, for debugging ("nn_matmul") */
    nn_backward_fn backward;
    nn_tensor *out;
    nn_tensor **in;           /* the nin inputs (in the arena); an entry may be NULL */
    int nin;
    float f[4];               /* small op parameters (e.g. a scalar, a slope) */
    int i[4];                 /* integer parameters (e.g. an axis) */
    void *extra;              /* larger saved state, allocated in the arena */
    nn_node *prev;            /* the node recorded before this one */
    bool sets_grads;          /* backward writes an input's gradient in full the first time
                               * instead of adding to zeros (internal; see nn_backward) */
};

/* Compute d loss / d t for every tensor t with requires_grad that loss depends on.
 * loss must be a 1-element tensor. Gradients ACCUMULATE: call nn_model_zero_grad first.
 * (Adding to a gradient that nn_optim_step already used, never zeroed since, warns once per
 * model: the gradients would pile up from step to step.) */
void nn_backward(nn_tensor *loss);

/* Release every graph tensor and node made since the last clear. Their memory is reused by
 * the next step, so a graph tensor used after this is refused by every op (and by nn_item,
 * nn_at, nn_backward): "input 'x' was released by nn_graph_clear()". Keep what you need
 * first (nn_item, nn_keep). A loop that never clears makes every backward slower (the tape
 * grows): the 100th backward in a row on a longer tape warns (once; see nn_set_warnings). */
void nn_graph_clear(void);
/* Like clear, and give the arena's memory back to the system (e.g. before exit). */
void nn_graph_release(void);

/* Bytes the arena holds now (in use) and at most since start; for benchmarks and curiosity. */
size_t nn_graph_bytes_used(void);
size_t nn_graph_bytes_peak(void);
int nn_graph_node_count(void);

/* ---- lifetimes beyond one step --------------------------------------------------------- */

/* A tensor that outlives nn_graph_clear(): copy t's values into `kept`, a tensor you own, and
 * return it. kept NULL (the first time) or of another shape: a new owned tensor is made (and
 * the old one freed). The copy is detached: it has no grad and no history, so the next step's
 * backward stops there. The hidden state carried between truncated-BPTT chunks:
 *
 *   nn_tensor *h = nn_zeros(NN_SHAPE(B, H));          // owned
 *   for (chunk ...) {
 *       nn_tensor *h_last = run_chunk(x, h);           // graph tensor
 *       ... loss, backward, step ...
 *       h = nn_keep(h, h_last);                        // survives the clear below
 *       nn_graph_clear();
 *   }
 *   nn_tensor_free(h);                                 */
nn_tensor *nn_keep(nn_tensor *kept, const nn_tensor *t);

/* The same values as a new graph tensor with no history: gradients do not flow through it
 * (a "stop gradient"; e.g. a frozen teacher's outputs as targets). */
nn_tensor *nn_detach(nn_tensor *x);

/* A point in the arena and the tape. nn_graph_rewind(mark) releases everything made after
 * nn_graph_mark() returned it, and keeps what came before: a generation loop keeps its
 * prompt's tensors and runs each new token in the same memory.
 *
 *   nn_graph_mark_t start = nn_graph_mark();
 *   for (int t = 0; t < n_new; t++) {
 *       ... forward one token, sample, store it in memory you own ...
 *       nn_graph_rewind(start);                        // constant memory per token
 *   }
 * Tensors made after the mark are released by the rewind, and refused by ops from then on
 * (each mark gives what follows it a generation of its own; see src/core/graph.c).
 * A mark is only good until the next nn_graph_clear() or until an earlier mark is rewound;
 * using it after that is misuse and reported. Rewinding to the same mark again and again is
 * fine, and a mark taken where the newest live mark is (nothing made in between, or just
 * rewound to it) is that same mark, so marking inside the loop works too. At most 64 marks
 * are live at once. */
typedef struct nn_graph_mark_t {
    void *chunk;              /* internal: the arena chunk and how much of it was in use */
    size_t used;
    size_t bytes_used;
    nn_node *tape_tail;
    int node_count;
    unsigned long generation; /* which mark this is (0: none, never good to rewind to) */
} nn_graph_mark_t;

nn_graph_mark_t nn_graph_mark(void);
void nn_graph_rewind(nn_graph_mark_t mark);

/* ---- modes ------------------------------------------------------------------------------ */

/* Gradient mode. With grad off, ops record nothing and outputs never require grad: use it
 * for evaluation and inference. Returns the previous setting so you can restore it. */
bool nn_set_grad_enabled(bool enabled);
bool nn_is_grad_enabled(void);

/* Training mode (on by default): dropout drops in training mode and is identity in eval
 * mode. Returns the previous setting. */
bool nn_set_training(bool training);
bool nn_is_training(void);

/* ---- for writing ops (see docs/en/adding-an-op.md) ---------------------------------------- */

/* Allocate `bytes` in the current step's arena (16-byte aligned, zeroed). Out of memory is
 * reported like misuse; if the error handler returns, the program stops (nothing to return). */
void *nn_arena_alloc(size_t bytes);
/* A new graph tensor of the given shape, data zeroed; grad allocated when requires_grad.
 * Stamped with the arena's generation, so ops can tell when it has been released. A shape of
 * more than 2^40 elements, or one the memory cannot hold, is reported with the shape (and,
 * through nn_record, the op); if the error handler returns, the program stops. */
nn_tensor *nn_graph_tensor(int ndim, const int *shape, bool requires_grad);
/* Record an op of nin inputs: returns an output tensor of `shape`, and when grad mode is on
 * and any input requires grad, a node on the tape (in *node_out, else NULL) whose backward
 * will be called. The node keeps its own copy of the input list (node->in[0..nin)). */
nn_tensor *nn_record_n(const char *op, nn_backward_fn backward, int ndim, const int *shape,
                       int nin, nn_tensor *const *in, nn_node **node_out);
/* The short form for one to three inputs (pass NULL for the unused ones; nin is the number
 * up to the last non-NULL input). */
nn_tensor *nn_record(const char *op, nn_backward_fn backward, int ndim, const int *shape,
                     nn_tensor *a, nn_tensor *b, nn_tensor *c, nn_node **node_out);

#endif
