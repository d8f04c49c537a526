/* src/core/graph.c — the per-step arena, the tape, marks, and backward.
 *
 * The arena is a list of chunks. Allocation bumps a pointer in the current chunk; when it is
 * full we move on to the next chunk (kept from earlier steps) or add a new one. Clearing just
 * rewinds every chunk, so after the first step a training loop allocates nothing new. A mark
 * remembers (chunk, used) and the tape's tail; rewinding to it is a partial clear.
 * All of this state is per thread (_Thread_local): see "Threads" in nn/core/graph.h.
 *
 * Because memory is reused, a graph tensor kept past nn_graph_clear() would silently read the
 * next step's numbers. So every graph tensor carries a generation number (t->gen), and every
 * op checks its inputs' (NN_REQUIRE in src/internal.h, nn_graph_is_live below): the clear
 * starts a new generation, and so does each mark for what is made after it; rewinding to the
 * mark gives that part a fresh one. The check costs a compare or two per input. It reads the
 * stamp inside the old tensor, so it misses a stale pointer whose memory now holds, exactly
 * there, a tensor of the new step; AddressSanitizer builds (make SANITIZE=1) also poison all
 * released arena memory, so any read through such a pointer is reported as well.
 */
#include "internal.h"

#ifdef NN_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

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

/* Generations (see the top of this file). seg_gen[0] stamps what is made after the last
 * clear and before the first live mark, seg_gen[k] what is made after live mark k: the
 * tensors of generation seg_gen[0 .. nlive_marks] are the live ones. Numbers only grow
 * (gen_counter), so an old one never comes back; clear_gen is seg_gen[0] at the last clear,
 * and a tensor with a smaller number was made before that clear. 0 is never a generation:
 * tensors you own and parameters have gen 0. */
static _Thread_local uint64_t seg_gen[MAX_MARKS + 1];
static _Thread_local uint64_t gen_counter, clear_gen;

static uint64_t current_gen(void) {
    uint64_t *g = &seg_gen[nlive_marks];
    if (!*g) *g = ++gen_counter;   /* the very first tensor of this thread */
    return *g;
}

/* The graph-growth warning: backward calls in a row, without a clear, each on a longer tape. */
enum { GROWTH_WARN_AT = 100 };
static _Thread_local int backward_streak, nodes_at_last_backward;
static _Thread_local bool growth_warned;

/* A new chunk (NULL when the system has no memory for it); its data starts poisoned. */
static chunk *new_chunk(size_t bytes) {
    size_t cap = bytes > CHUNK_BYTES ? bytes : CHUNK_BYTES;
    chunk *c = malloc(sizeof(chunk) + cap);
    if (!c) return NULL;
    c->capacity = cap;
    c->used = 0;
    c->next = NULL;
    POISON(c->data, cap);
    if (current) {
        c->next = current->next;
        current->next = c;
    } else {
        first = c;
    }
    return c;
}

/* nn_arena_alloc without the zeroing, or NULL when out of memory: for memory that its user
 * writes in full before reading (an op's output, see nn_record_filled; the gradients of
 * recorded tensors, which nn_backward zeroes). Sanitizer builds fill it with NaN instead, so
 * that an element left unwritten shows up in the tests' results. */
static void *arena_alloc_raw(size_t bytes) {
    bytes = (bytes + 15) & ~(size_t)15;
    while (current && current->used + bytes > current->capacity && current->next)
        current = current->next;   /* a rewound chunk from an earlier step */
    if (!current || current->used + bytes > current->capacity) {
        chunk *c = new_chunk(bytes);
        if (!c) return NULL;
        current = c;
    }
    void *p = current->data + current->used;
    current->used += bytes;
    bytes_used += bytes;
    if (bytes_used > bytes_peak) bytes_peak = bytes_used;
    UNPOISON(p, bytes);
#ifdef NN_ASAN
    memset(p, 0xff, bytes);   /* 0xffffffff is a NaN */
#endif
    return p;
}

/* nn_arena_alloc, or NULL when out of memory. */
static void *arena_alloc(size_t bytes) {
    void *p = arena_alloc_raw(bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

/* Out of memory is reported like misuse; if the handler returns, there is nothing to hand
 * back, so the program stops. */
static void *arena_or_fail(void *p, size_t bytes) {
    if (!p) {
        nn_fail("nn_arena_alloc", "use smaller batches or layers",
                "out of memory: the step's arena cannot grow by %s", BYTES(bytes));
        abort();
    }
    return p;
}

void *nn_arena_alloc(size_t bytes) { return arena_or_fail(arena_alloc(bytes), bytes); }
void *nn_arena_alloc_unzeroed(size_t bytes) { return arena_or_fail(arena_alloc_raw(bytes), bytes); }

/* What every clear does; `release` also frees the chunks. */
static void reset(bool release) {
    chunk *c = first;
    while (c) {
        chunk *next = c->next;
        if (release) {
            UNPOISON(c->data, c->capacity);
            free(c);
        } else {
            c->used = 0;
            POISON(c->data, c->capacity);
        }
        c = next;
    }
    if (release) first = NULL;
    current = first;
    bytes_used = 0;
    tape_tail = NULL;
    node_count = 0;
    nlive_marks = 0;
    seg_gen[0] = clear_gen = ++gen_counter;   /* every tensor made so far is stale now */
    backward_streak = nodes_at_last_backward = 0;
}

void nn_graph_clear(void) { reset(false); }

void nn_graph_release(void) {
    reset(true);
    growth_warned = false;
}

/* ---- is a graph tensor still there? ------------------------------------------------------ */

/* t->gen, read without AddressSanitizer's check: a released tensor's memory is poisoned, but
 * it is still the arena's, and its old stamp tells what released it. */
#ifdef NN_ASAN
__attribute__((no_sanitize_address))
#endif
static uint64_t gen_of(const nn_tensor *t) { return t->gen; }

bool nn_graph_is_live(const nn_tensor *t) {
    if (!t) return true;
#ifdef NN_ASAN
    if (__asan_region_is_poisoned((void *)t, sizeof *t)) return false;   /* released */
#endif
    if (t->gen == 0) return t->owner != NN_OWNER_GRAPH;   /* owned or a parameter */
    for (int k = nlive_marks; k >= 0; k--)   /* the newest generation first */
        if (t->gen == seg_gen[k]) return true;
    return false;
}

bool nn_graph_check_live(const nn_tensor *t, const char *op, const char *what) {
    if (nn_graph_is_live(t)) return true;
    const char *hint = "a graph tensor lasts until the next nn_graph_clear() (or a rewind to a "
                       "mark made before it); to use one later, copy it first: "
                       "kept = nn_keep(kept, t) gives a tensor you own, nn_item(t) a number";
    uint64_t g = gen_of(t);
    if (g > 0 && g < clear_gen)
        nn_fail(op, hint, "input '%s' was released by nn_graph_clear(): it is a graph tensor "
                "of an earlier step, and its memory now holds other tensors", what);
    else if (g >= clear_gen && g <= gen_counter)
        nn_fail(op, hint, "input '%s' was released by nn_graph_rewind(): it was made after "
                "the mark, and its memory now holds other tensors", what);
    else
        nn_fail(op, hint, "input '%s' is not a live tensor: its memory was released "
                "(nn_graph_clear or nn_graph_rewind) and now holds other data", what);
    return false;
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
    current_gen();   /* what came before the mark keeps its generation ... */
    m.generation = ++mark_counter;
    live_marks[nlive_marks++] = m;
    seg_gen[nlive_marks] = ++gen_counter;   /* ... and what comes after gets a new one */
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
    seg_gen[nlive_marks] = ++gen_counter;   /* what was made after it is stale */
    m = live_marks[k];
    chunk *c = m.chunk;
    if (c) {
        c->used = m.used;
        POISON(c->data + c->used, c->capacity - c->used);
    }
    for (chunk *after = c ? c->next : first; after; after = after->next) {
        after->used = 0;
        POISON(after->data, after->capacity);
    }
    current = c ? c : first;
    bytes_used = m.bytes_used;
    tape_tail = m.tape_tail;
    node_count = m.node_count;
    backward_streak = nodes_at_last_backward = 0;
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

/* A graph tensor made for `op`. A shape beyond NN_MAX_ELEMENTS, or memory the system does
 * not have, is reported with the op and the shape; the ops that call this expect a tensor
 * back, so if the error handler returns, the program stops here. */
static nn_tensor *graph_tensor(const char *op, int ndim, const int *shape, bool requires_grad,
                               bool zero_data, bool zero_grad) {
    size_t size = 1;
    bool too_big = false;
    for (int d = 0; d < ndim && d < NN_MAX_DIMS; d++) {
        if (shape[d] > 0 && size > NN_MAX_ELEMENTS / (size_t)shape[d]) too_big = true;
        else size *= shape[d] > 0 ? (size_t)shape[d] : 1;
    }
    nn_tensor *t = arena_alloc(sizeof *t);
    if (t && !too_big) {
        nn_set_shape(t, ndim, shape);
        size_t bytes = t->size * sizeof(float);
        t->data = zero_data ? arena_alloc(bytes) : arena_alloc_raw(bytes);
        if (t->data && requires_grad) {
            t->grad = zero_grad ? arena_alloc(bytes) : arena_alloc_raw(bytes);
            t->requires_grad = true;
        }
    }
    if (!t || too_big || !t->data || (requires_grad && !t->grad)) {
        nn_tensor probe = {0};
        nn_set_shape(&probe, ndim, shape);
        if (too_big)
            nn_fail(op, "a tensor holds at most 2^40 elements (4 TiB of floats)",
                    "the result would have shape %s: too many elements", SHAPE(&probe));
        else
            nn_fail(op, "a tensor of N elements takes 4N bytes (and as much again for its "
                    "gradient): use smaller batches or layers",
                    "out of memory: the result, of shape %s, needs %s%s", SHAPE(&probe),
                    BYTES((double)size * sizeof(float) * (requires_grad ? 2 : 1)),
                    requires_grad ? " with its gradient" : "");
        abort();
    }
    t->owner = NN_OWNER_GRAPH;
    t->gen = current_gen();
    return t;
}

nn_tensor *nn_graph_tensor(int ndim, const int *shape, bool requires_grad) {
    return graph_tensor("nn_graph_tensor", ndim, shape, requires_grad, true, true);
}

/* The node list holds at least `slots` entries, so the short form's node->in[2] is always
 * readable (NULL when unused). */
/* The output's gradient is not zeroed here: nn_backward zeroes the gradient of every
 * recorded tensor before it adds anything in. Its values are zeroed unless `filled` (the op
 * writes every element itself). */
static nn_tensor *record(const char *op, nn_backward_fn backward, int ndim, const int *shape,
                         int nin, nn_tensor *const *in, int slots, bool filled,
                         nn_node **node_out) {
    bool needs_grad = false;
    for (int k = 0; k < nin && grad_enabled; k++)
        if (in[k] && in[k]->requires_grad) needs_grad = true;
    nn_tensor *out = graph_tensor(op, ndim, shape, needs_grad, !filled, false);
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
    return record(op, backward, ndim, shape, nin, in, nin, false, node_out);
}

nn_tensor *nn_record(const char *op, nn_backward_fn backward, int ndim, const int *shape,
                     nn_tensor *a, nn_tensor *b, nn_tensor *c, nn_node **node_out) {
    nn_tensor *in[3] = {a, b, c};
    int nin = c ? 3 : b ? 2 : a ? 1 : 0;
    return record(op, backward, ndim, shape, nin, in, 3, false, node_out);
}

nn_tensor *nn_record_filled(const char *op, nn_backward_fn backward, int ndim, const int *shape,
                            nn_tensor *a, nn_tensor *b, nn_tensor *c, nn_node **node_out) {
    nn_tensor *in[3] = {a, b, c};
    int nin = c ? 3 : b ? 2 : a ? 1 : 0;
    return record(op, backward, ndim, shape, nin, in, 3, true, node_out);
}

/* A recorded tensor's gradient, still UNSET, zeroed: the next backward adds to it. */
static void zero_grad_of(nn_tensor *t) {
    if (t->grad) memset(t->grad, 0, t->size * sizeof(float));
    t->grad_state &= (unsigned char)~NN_GRAD_UNSET;
}

static bool all_zero(const float *g, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (g[i] != 0.0f) return false;
    return true;
}

/* Gradient bookkeeping (NN_GRAD_* in src/internal.h). Parameter p is about to receive
 * gradient, and the optimizer stepped on its gradient since it was last zeroed. If that
 * gradient is 0 anyway (zeroed by hand), all is well; otherwise this backward adds on top of
 * the last step's gradient: say so, once per model. Gradient accumulation on purpose
 * (backward, backward, ..., step, zero) never gets here: no step came between. */
static void check_stepped(nn_tensor *p) {
    p->grad_state &= (unsigned char)~NN_GRAD_STEPPED;
    if (!p->grad || all_zero(p->grad, p->size)) return;
    p->grad_state |= NN_GRAD_PILED;
    if (!p->model || p->model->warned_piled) return;
    p->model->warned_piled = true;
    nn_warn("call nn_model_zero_grad(model) before each nn_backward. (Gradients add up on "
            "purpose, so that several backward calls can sum micro-batches before one step; "
            "a step then needs a zero_grad before the next backward.)",
            "nn_backward adds to the gradient of '%s', which still holds the gradient that "
            "nn_optim_step used: the gradients pile up step after step",
            p->name ? p->name : "?");
}

/* The graph-growth warning: a training loop that never calls nn_graph_clear() makes the tape
 * longer at every step, and every backward walks all of it, so the loop gets slower and
 * slower (quadratic time). Several backward calls in one graph are fine (gradcheck, tests,
 * a Jacobian row by row): only a streak of GROWTH_WARN_AT calls, each on a longer tape,
 * warns. */
static void check_growth(void) {
    backward_streak = node_count > nodes_at_last_backward ? backward_streak + 1 : 1;
    nodes_at_last_backward = node_count;
    if (backward_streak < GROWTH_WARN_AT || growth_warned) return;
    growth_warned = true;
    nn_warn("call nn_graph_clear() at the end of each step, after nn_optim_step (copy what you "
            "need first: nn_item, nn_keep); nn_set_warnings(false) silences this",
            "the graph has grown across %d calls to nn_backward without nn_graph_clear() "
            "(the tape now holds %d nodes): each backward walks the whole tape, so every "
            "step is slower than the one before", backward_streak, node_count);
}

void nn_backward(nn_tensor *loss) {
    if (!loss) {
        nn_fail("nn_backward", "an earlier call probably failed and returned NULL",
                "loss is NULL");
        return;
    }
    if (!nn_graph_check_live(loss, "nn_backward", "loss")) return;
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
     * the parameter gradients twice (accumulation happens in the leaves only). record()
     * leaves them as the arena gave them; here each is marked UNSET, and zeroed only when
     * the first backward that reaches it would add to it. A node with sets_grads writes its
     * inputs' gradients in full instead (nn_grad_take_unset): the char model's logits
     * (2048 x 2502) then get their gradient written once, not zeroed and then added to. */
    check_growth();
    for (nn_node *n = tape_tail; n; n = n->prev) n->out->grad_state |= NN_GRAD_UNSET;
    if (!loss->node) { /* the loss is itself a leaf */
        loss->grad[0] += 1.0f;
    } else {
        loss->grad[0] = 1.0f;
        loss->grad_state &= (unsigned char)~NN_GRAD_UNSET;
    }
    for (nn_node *n = loss->node; n; n = n->prev) {
        /* no gradient reached this node's output (or only zeros): nothing to pass on */
        if ((n->out->grad_state & NN_GRAD_UNSET) || all_zero(n->out->grad, n->out->size))
            continue;
        for (int k = 0; k < n->nin; k++) {
            nn_tensor *t = n->in[k];
            if (!t) continue;
            if ((t->grad_state & NN_GRAD_UNSET) && !n->sets_grads) zero_grad_of(t);
            if (t->grad_state & NN_GRAD_STEPPED) check_stepped(t);
        }
        n->backward(n);
    }
    /* the gradients no backward wrote (not on a path to the loss, or recorded after it)
     * read as zero, as after any backward */
    for (nn_node *n = tape_tail; n; n = n->prev)
        if (n->out->grad_state & NN_GRAD_UNSET) zero_grad_of(n->out);
}
