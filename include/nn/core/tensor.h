/* nn/core/tensor.h — the tensor: float32, row-major, contiguous, up to 4 dimensions.
 *
 * Who owns a tensor:
 *   - nn_tensor_* constructors below return a tensor YOU own: free it with nn_tensor_free().
 *     Use them for data sets, fixtures and anything that outlives one training step.
 *   - Ops (nn_add, nn_matmul, ...) return tensors the GRAPH owns (nn/core/graph.h): they vanish
 *     in one call, nn_graph_clear(), at the end of each step. Never free them yourself.
 *   - Parameters belong to their nn_model (nn/core/model.h).
 */
#ifndef NN_CORE_TENSOR_H
#define NN_CORE_TENSOR_H

#include "errors.h"
#include "rng.h"
#include <stdio.h>

#define NN_MAX_DIMS 4

typedef struct nn_node nn_node;

typedef struct nn_tensor {
    float *data;             /* size floats, row-major */
    float *grad;             /* same size; NULL unless requires_grad */
    int ndim;                /* 0 (a scalar) .. NN_MAX_DIMS */
    int shape[NN_MAX_DIMS];  /* shape[i] for i < ndim; unused entries are 1 */
    size_t size;             /* product of the shape (1 for a scalar) */
    bool requires_grad;      /* backward computes d loss / d this */
    const char *name;        /* optional, for printing and checkpoints */
    nn_node *node;           /* the op that produced it (NULL for leaves) */
    unsigned char owner;     /* internal: NN_OWNER_USER, _GRAPH or _MODEL */
    unsigned char grad_state;/* internal (parameters): NN_GRAD_* bits, see src/internal.h */
    uint64_t gen;            /* internal (graph tensors): the arena generation that made it */
    struct nn_model *model;  /* internal (parameters): the model it belongs to */
} nn_tensor;

/* Write a shape inline: nn_zeros(NN_SHAPE(2, 3)) passes ndim = 2 and shape = {2, 3}. */
#define NN_SHAPE(...) (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), (const int[]){__VA_ARGS__}
/* The same for a list of axes: nn_permute(x, NN_AXES(0, 2, 1, 3)). */
#define NN_AXES(...) NN_SHAPE(__VA_ARGS__)

/* ---- constructors (caller owns the result; free with nn_tensor_free) ---------------- */
nn_tensor *nn_zeros(int ndim, const int *shape);
nn_tensor *nn_ones(int ndim, const int *shape);
nn_tensor *nn_full(float value, int ndim, const int *shape);
nn_tensor *nn_from_array(const float *values, int ndim, const int *shape); /* copies values */
nn_tensor *nn_scalar(float value);                                         /* ndim 0 */
nn_tensor *nn_rand_uniform(float lo, float hi, int ndim, const int *shape); /* global rng */
nn_tensor *nn_rand_normal(float mean, float std, int ndim, const int *shape);
nn_tensor *nn_clone(const nn_tensor *t);   /* owned copy of the data, no grad, no graph */
void nn_tensor_free(nn_tensor *t);         /* NULL is fine; refuses graph/model tensors */

/* Ask for gradients on a tensor you own (allocates t->grad, zeroed). Returns t. */
nn_tensor *nn_requires_grad(nn_tensor *t);
void nn_zero_grad(nn_tensor *t);           /* t->grad = 0 (no-op without grad) */

/* ---- inspecting ----------------------------------------------------------------------- */
bool nn_same_shape(const nn_tensor *a, const nn_tensor *b);
/* "(2, 3)" into buf; returns buf. */
char *nn_shape_str(const nn_tensor *t, char *buf, size_t bufsize);
float nn_item(const nn_tensor *t);          /* the value of a 1-element tensor */
/* Element at a multi-index (as many indices as dims); slow, for tests and printing.
 * In your code nn_at(t, i, j) counts its indices (nn/call_sites.h turns it into
 * nn_at_checked(2, t, i, j)), so too few or too many is an error, not a garbage read. */
float nn_at(const nn_tensor *t, ...);
float nn_at_checked(int nindices, const nn_tensor *t, ...);
/* How many arguments a macro got, 1 to 12: NN_NARGS(t, i, j) is 3. */
#define NN_NARGS(...) NN_NARGS_(__VA_ARGS__, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define NN_NARGS_(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, n, ...) n
/* true when every value of t (and its gradient, if it has one) is finite. Otherwise false,
 * with the first bad element in nn_last_error(), e.g. "pred[3, 0] = nan (shape (64, 1), 1 of
 * 64 values not finite)"; `what` names t there (NULL: t->name or "tensor"). Never aborts. */
bool nn_check_finite(const nn_tensor *t, const char *what);
/* Print name, shape and up to `max_items` values per row. */
void nn_tensor_fprint(FILE *f, const nn_tensor *t, const char *label, int max_items);
/* NN_PRINT(x) prints "x: shape (2, 3)" and the values, using the variable's own name. */
#define NN_PRINT(t) nn_tensor_fprint(stdout, (t), #t, 8)

/* Fill in place (these don't record anything; use them on owned tensors and parameters). */
void nn_fill(nn_tensor *t, float value);
void nn_fill_uniform(nn_tensor *t, float lo, float hi, nn_rng *rng);   /* rng NULL = global */
void nn_fill_normal(nn_tensor *t, float mean, float std, nn_rng *rng);
/* Copy src's values into dst (same size required). */
void nn_copy_into(nn_tensor *dst, const nn_tensor *src);

#endif
