/* src/graph.c — the per-step arena, the tape, and backward.
 *
 * The arena is a list of chunks. Allocation bumps a pointer in the current chunk; when it is
 * full we move on to the next chunk (kept from earlier steps) or add a new one. Clearing just
 * rewinds every chunk, so after the first step a training loop allocates nothing new.
 */
#include "internal.h"

typedef struct chunk {
    struct chunk *next;
    size_t capacity;
    size_t used;
    _Alignas(16) unsigned char data[];
} chunk;

enum { CHUNK_BYTES = 1 << 20 };   /* 1 MiB; larger requests get a chunk of their own size */

static chunk *first, *current;
static size_t bytes_used, bytes_peak;
static nn_node *tape_tail;        /* the most recent node; ->prev walks back to the start */
static int node_count;
static bool grad_enabled = true;
static bool training = true;

void *nn_arena_alloc(size_t bytes) {
    bytes = (bytes + 15) & ~(size_t)15;
    while (current && current->used + bytes > current->capacity && current->next)
        current = current->next;   /* a rewound chunk from an earlier step */
    if (!current || current->used + bytes > current->capacity) {
        size_t cap = bytes > CHUNK_BYTES ? bytes : CHUNK_BYTES;
        chunk *c = nn_xmalloc(sizeof(chunk) + cap);
        c->capacity = cap;
        c->used = 0;
        c->next = NULL;
        if (current) {
            c->next = current->next;
            current->next = c;
        } else {
            first = c;
        }
        current = c;
    }
    void *p = current->data + current->used;
    current->used += bytes;
    bytes_used += bytes;
    if (bytes_used > bytes_peak) bytes_peak = bytes_used;
    memset(p, 0, bytes);
    return p;
}

void nn_graph_clear(void) {
    for (chunk *c = first; c; c = c->next) c->used = 0;
    current = first;
    bytes_used = 0;
    tape_tail = NULL;
    node_count = 0;
}

void nn_graph_release(void) {
    chunk *c = first;
    while (c) {
        chunk *next = c->next;
        free(c);
        c = next;
    }
    first = current = NULL;
    bytes_used = 0;
    tape_tail = NULL;
    node_count = 0;
}

size_t nn_graph_bytes_used(void) { return bytes_used; }
size_t nn_graph_bytes_peak(void) { return bytes_peak; }
int nn_graph_node_count(void) { return node_count; }

bool nn_set_grad_enabled(bool enabled) {
    bool old = grad_enabled;
    grad_enabled = enabled;
    return old;
}
bool nn_grad_enabled(void) { return grad_enabled; }

bool nn_set_training(bool on) {
    bool old = training;
    training = on;
    return old;
}
bool nn_is_training(void) { return training; }

nn_tensor *nn_graph_tensor(int ndim, const int *shape, bool requires_grad) {
    nn_tensor *t = nn_arena_alloc(sizeof *t);
    nn_set_shape(t, ndim, shape);
    t->data = nn_arena_alloc(t->size * sizeof(float));
    if (requires_grad) {
        t->grad = nn_arena_alloc(t->size * sizeof(float));
        t->requires_grad = true;
    }
    t->owner = NN_OWNER_GRAPH;
    return t;
}

nn_tensor *nn_record(const char *op, nn_backward_fn backward, int ndim, const int *shape,
                     nn_tensor *a, nn_tensor *b, nn_tensor *c, nn_node **node_out) {
    bool needs_grad = grad_enabled && ((a && a->requires_grad) || (b && b->requires_grad) ||
                                       (c && c->requires_grad));
    nn_tensor *out = nn_graph_tensor(ndim, shape, needs_grad);
    nn_node *node = NULL;
    if (needs_grad) {
        node = nn_arena_alloc(sizeof *node);
        node->op = op;
        node->backward = backward;
        node->out = out;
        node->in[0] = a;
        node->in[1] = b;
        node->in[2] = c;
        node->prev = tape_tail;
        tape_tail = node;
        node_count++;
        out->node = node;
    }
    if (node_out) *node_out = node;
    return out;
}

static bool all_zero(const float *g, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (g[i] != 0.0f) return false;
    return true;
}

void nn_backward(nn_tensor *loss) {
    if (!loss) {
        nn_fail("nn_backward", "an earlier call probably failed and returned NULL",
                "loss is NULL");
        return;
    }
    if (loss->size != 1) {
        nn_fail("nn_backward", "backward starts from a scalar: reduce with nn_mean or nn_sum",
                "loss has shape %s, not one element", SHAPE(loss));
        return;
    }
    if (!loss->requires_grad) {
        nn_fail("nn_backward",
                "give a parameter or input requires_grad, and keep grad mode on while "
                "building the loss",
                "the loss does not depend on anything that requires grad");
        return;
    }
    /* Intermediate gradients start from zero on every call, so calling backward twice adds
     * the parameter gradients twice (accumulation happens in the leaves only). Nodes
     * recorded after the loss cannot feed it, so the walk starts at the loss's own node. */
    for (nn_node *n = loss->node; n; n = n->prev) memset(n->out->grad, 0, n->out->size * sizeof(float));
    if (!loss->node) { /* the loss is itself a leaf */
        loss->grad[0] += 1.0f;
        return;
    }
    loss->grad[0] = 1.0f;
    for (nn_node *n = loss->node; n; n = n->prev)
        if (!all_zero(n->out->grad, n->out->size)) n->backward(n);
}
