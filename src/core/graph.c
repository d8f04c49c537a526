/* src/core/graph.c — the per-step arena, the tape, marks, and backward.
 *
 * The arena is a list of chunks. Allocation bumps a pointer in the current chunk; when it is
 * full we move on to the next chunk (kept from earlier steps) or add a new one. Clearing just
 * rewinds every chunk, so after the first step a training loop allocates nothing new. A mark
 * remembers (chunk, used) and the tape's tail; rewinding to it is a partial clear.
 * All of this state is per thread (_Thread_local): see "Threads" in nn/core/graph.h.
 */
#include "internal.h"

typedef struct chunk {
    struct chunk *next;
    size_t capacity;
    size_t used;
    _Alignas(16) unsigned char data[];
} chunk;

enum { CHUNK_BYTES = 1 << 20 };   /* 1 MiB; larger requests get a chunk of their own size */

static _Thread_local chunk *first, *current;
static _Thread_local size_t bytes_used, bytes_peak;
static _Thread_local nn_node *tape_tail;  /* the most recent node; ->prev walks back */
static _Thread_local int node_count;
static _Thread_local bool grad_enabled = true;
static _Thread_local bool training = true;

/* The marks still good to rewind to, oldest first (see nn_graph_mark). */
enum { MAX_MARKS = 64 };
static _Thread_local nn_graph_mark_t live_marks[MAX_MARKS];
static _Thread_local int nlive_marks;
static _Thread_local unsigned long mark_counter;

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
    nlive_marks = 0;
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
    nlive_marks = 0;
}

/* ---- marks ------------------------------------------------------------------------------ */

nn_graph_mark_t nn_graph_mark(void) {
    nn_graph_mark_t m = {current, current ? current->used : 0, bytes_used, tape_tail,
                         node_count, 0};
    /* Nothing made since the newest live mark (or just rewound to it): this is the same
     * point, so it is the same mark. A loop that marks and rewinds every iteration then
     * keeps one live mark instead of running out of them. (Every allocation adds bytes,
     * and a rewind to an older mark ends the newest one, so equal counters mean nothing
     * happened in between.) */
    if (nlive_marks > 0) {
        const nn_graph_mark_t *top = &live_marks[nlive_marks - 1];
        if (top->bytes_used == bytes_used && top->tape_tail == tape_tail &&
            top->node_count == node_count)
            return *top;
    }
    if (nlive_marks == MAX_MARKS) {
        nn_fail("nn_graph_mark", "rewind (or clear) older marks before making new ones",
                "more than %d marks are live at once", MAX_MARKS);
        return m;   /* generation 0: rewinding to it is refused */
    }
    m.generation = ++mark_counter;
    live_marks[nlive_marks++] = m;
    return m;
}

void nn_graph_rewind(nn_graph_mark_t m) {
    int k = nlive_marks - 1;
    while (k >= 0 && live_marks[k].generation != m.generation) k--;
    if (k < 0 || m.generation == 0) {
        nn_fail("nn_graph_rewind",
                "a mark is good until the next nn_graph_clear() or until you rewind to an "
                "older mark; take a new one with nn_graph_mark()",
                "this mark is no longer live");
        return;
    }
    nlive_marks = k + 1;   /* marks made after this one are gone; this one stays good */
    m = live_marks[k];
    chunk *c = m.chunk;
    if (c) c->used = m.used;
    for (chunk *after = c ? c->next : first; after; after = after->next) after->used = 0;
    current = c ? c : first;
    bytes_used = m.bytes_used;
    tape_tail = m.tape_tail;
    node_count = m.node_count;
}

/* ---- lifetimes -------------------------------------------------------------------------- */

nn_tensor *nn_keep(nn_tensor *kept, const nn_tensor *t) {
    NN_REQUIRE(t, "nn_keep");
    if (kept && kept->owner != NN_OWNER_USER) {
        nn_fail("nn_keep", "pass NULL the first time, then the tensor nn_keep returned",
                "`kept` must be a tensor you own, not a graph or model tensor");
        return NULL;
    }
    if (!kept || !nn_same_shape(kept, t)) {
        nn_tensor_free(kept);
        kept = nn_zeros(t->ndim, t->shape);
    } else if (kept->grad) {   /* the copy is detached: a gradient kept once asked for goes */
        free(kept->grad);
        kept->grad = NULL;
    }
    kept->requires_grad = false;
    if (kept != t) memcpy(kept->data, t->data, t->size * sizeof(float));
    return kept;
}

nn_tensor *nn_detach(nn_tensor *x) {
    NN_REQUIRE(x, "nn_detach");
    nn_tensor *out = nn_graph_tensor(x->ndim, x->shape, false);
    memcpy(out->data, x->data, x->size * sizeof(float));
    return out;
}

size_t nn_graph_bytes_used(void) { return bytes_used; }
size_t nn_graph_bytes_peak(void) { return bytes_peak; }
int nn_graph_node_count(void) { return node_count; }

bool nn_set_grad_enabled(bool enabled) {
    bool old = grad_enabled;
    grad_enabled = enabled;
    return old;
}
bool nn_is_grad_enabled(void) { return grad_enabled; }

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

/* The node list holds at least `slots` entries, so the short form's node->in[2] is always
 * readable (NULL when unused). */
static nn_tensor *record(const char *op, nn_backward_fn backward, int ndim, const int *shape,
                         int nin, nn_tensor *const *in, int slots, nn_node **node_out) {
    bool needs_grad = false;
    for (int k = 0; k < nin && grad_enabled; k++)
        if (in[k] && in[k]->requires_grad) needs_grad = true;
    nn_tensor *out = nn_graph_tensor(ndim, shape, needs_grad);
    nn_node *node = NULL;
    if (needs_grad) {
        node = nn_arena_alloc(sizeof *node);
        node->op = op;
        node->backward = backward;
        node->out = out;
        node->in = nn_arena_alloc((size_t)(slots > nin ? slots : nin) * sizeof(nn_tensor *));
        if (nin) memcpy(node->in, in, (size_t)nin * sizeof(nn_tensor *));
        node->nin = nin;
        node->prev = tape_tail;
        tape_tail = node;
        node_count++;
        out->node = node;
    }
    if (node_out) *node_out = node;
    return out;
}

nn_tensor *nn_record_n(const char *op, nn_backward_fn backward, int ndim, const int *shape,
                       int nin, nn_tensor *const *in, nn_node **node_out) {
    if (nin < 0 || (nin > 0 && !in)) {
        nn_fail(op, "pass the number of inputs and an array of them", "nin = %d", nin);
        return NULL;
    }
    return record(op, backward, ndim, shape, nin, in, nin, node_out);
}

nn_tensor *nn_record(const char *op, nn_backward_fn backward, int ndim, const int *shape,
                     nn_tensor *a, nn_tensor *b, nn_tensor *c, nn_node **node_out) {
    nn_tensor *in[3] = {a, b, c};
    int nin = c ? 3 : b ? 2 : a ? 1 : 0;
    return record(op, backward, ndim, shape, nin, in, 3, node_out);
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
