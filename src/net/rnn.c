/* src/net/rnn.c — recurrent layers: the RNN, GRU and LSTM cells and the loop over time.
 *
 * Every cell is written with the library's ops (matmul, add, sigmoid, tanh, mul, chunk), so
 * its backward is theirs, run by nn_backward from the tape; the formulas are in
 * include/nn/net/rnn.h and again above each cell. The shapes in the comments: B samples,
 * T steps, `in` inputs per step, H hidden units, G gates (1 RNN, 3 GRU, 4 LSTM).
 *
 * A cell gets the input part of its pre-activations, xg = x Wx + b (B, G*H), already computed:
 * nn_rnn_layer_forward makes it for all T steps in one matmul before the loop (the input does
 * not depend on h), nn_rnn_layer_step for its single step. Each cell then adds h Wh itself. */
#include "internal.h"
#include "nn/ops/elementwise.h"
#include "nn/ops/matmul.h"
#include "nn/ops/shape.h"
#include "nn/ops/gru.h"
#include "nn/net/rnn.h"

static bool use_reference = false;

bool nn_set_rnn_reference(bool on) {
    bool old = use_reference;
    use_reference = on;
    return old;
}
bool nn_is_rnn_reference(void) { return use_reference; }

/* The GRU as one op over the whole sequence (src/ops/gru.c) instead of its cell below */
static bool fused_gru(const nn_rnn_layer *l) { return l->kind == NN_CELL_GRU && !use_reference; }

const char *nn_cell_kind_name(nn_cell_kind kind) {
    switch (kind) {
    case NN_CELL_RNN: return "rnn";
    case NN_CELL_GRU: return "gru";
    case NN_CELL_LSTM: return "lstm";
    }
    return "?";
}

/* ---- the three cells: (xg = x Wx + b, state) -> next state ------------------------------ */

static const nn_rnn_state failed_state = {NULL, NULL};

/* RNN:  h' = tanh(x Wx + b + h Wh)
 *   xg (B, H),  h (B, H) @ Wh (H, H) -> (B, H) */
static nn_rnn_state rnn_cell(const nn_rnn_layer *l, nn_tensor *xg, nn_rnn_state s) {
    nn_tensor *h = nn_tanh(nn_add(xg, nn_matmul(s.h, l->Wh)));
    return (nn_rnn_state){h, NULL};
}

/* LSTM:  [i f g o] = x Wx + b + h Wh          xg, h Wh: (B, 4H); each gate (B, H)
 *        i = σ(i)  f = σ(f)  g = tanh(g)  o = σ(o)
 *        c' = f * c + i * g                   keep part of the old memory, write new
 *        h' = o * tanh(c')                    show part of it */
static nn_rnn_state lstm_cell(const nn_rnn_layer *l, nn_tensor *xg, nn_rnn_state s) {
    nn_tensor *gate[4];
    if (nn_chunk(nn_add(xg, nn_matmul(s.h, l->Wh)), 1, 4, gate) < 0) return failed_state;
    nn_tensor *i = nn_sigmoid(gate[0]), *f = nn_sigmoid(gate[1]);
    nn_tensor *g = nn_tanh(gate[2]), *o = nn_sigmoid(gate[3]);
    nn_tensor *c = nn_add(nn_mul(f, s.c), nn_mul(i, g));
    nn_tensor *h = nn_mul(o, nn_tanh(c));
    return (nn_rnn_state){h, c};
}

/* GRU (PyTorch's formulation):
 *   [xr xz xn] = x Wx + b,  [hr hz hn] = h Wh     (B, 3H) each, cut into (B, H) parts
 *   r = σ(xr + hr)                                how much of h the candidate sees
 *   z = σ(xz + hz)                                how much of h to keep
 *   n = tanh(xn + r * (hn + bn))                  the candidate
 *   h' = (1 - z) * n + z * h  =  n + z * (h - n)  (the second form: two ops fewer)
 * The reset gate multiplies h Wh_n + bn, so the r and z parts of x Wx and h Wh can share one
 * bias each, but the n part needs its own hidden-side bias bn. */
static nn_rnn_state gru_cell(const nn_rnn_layer *l, nn_tensor *xg, nn_rnn_state s) {
    nn_tensor *xp[3], *hp[3];   /* r, z, n parts of x Wx + b and of h Wh */
    if (nn_chunk(xg, 1, 3, xp) < 0 || nn_chunk(nn_matmul(s.h, l->Wh), 1, 3, hp) < 0)
        return failed_state;
    nn_tensor *r = nn_sigmoid(nn_add(xp[0], hp[0]));
    nn_tensor *z = nn_sigmoid(nn_add(xp[1], hp[1]));
    nn_tensor *n = nn_tanh(nn_add(xp[2], nn_mul(r, nn_add(hp[2], l->bn))));
    nn_tensor *h = nn_add(n, nn_mul(z, nn_sub(s.h, n)));
    return (nn_rnn_state){h, NULL};
}

static nn_rnn_state cell_step(const nn_rnn_layer *l, nn_tensor *xg, nn_rnn_state s) {
    switch (l->kind) {
    case NN_CELL_RNN: return rnn_cell(l, xg, s);
    case NN_CELL_GRU: return gru_cell(l, xg, s);
    case NN_CELL_LSTM: return lstm_cell(l, xg, s);
    }
    return failed_state;
}

/* ---- the layer ---------------------------------------------------------------------------- */

nn_rnn_layer *nn_rnn_layer_new(nn_model *m, const char *name, nn_cell_kind kind, int in,
                               int hidden) {
    NN_REQUIRE(m, "nn_rnn_layer_new");
    if (kind != NN_CELL_RNN && kind != NN_CELL_GRU && kind != NN_CELL_LSTM) {
        nn_fail("nn_rnn_layer_new", "pass NN_CELL_RNN, NN_CELL_GRU or NN_CELL_LSTM",
                "unknown cell kind %d", (int)kind);
        return NULL;
    }
    if (in < 1 || hidden < 1) {
        nn_fail("nn_rnn_layer_new", "a layer needs at least one input and one hidden unit",
                "in = %d, hidden = %d", in, hidden);
        return NULL;
    }
    int H = hidden, G = kind == NN_CELL_RNN ? 1 : kind == NN_CELL_GRU ? 3 : 4;
    if (!name) name = nn_cell_kind_name(kind);
    nn_rnn_layer *l = nn_model_alloc(m, sizeof *l);
    *l = (nn_rnn_layer){kind, in, H, G, NULL, NULL, NULL, NULL};
    char pname[256];
    snprintf(pname, sizeof pname, "%s.Wx", name);
    l->Wx = nn_model_param(m, pname, 2, (int[]){in, G * H}, true);
    snprintf(pname, sizeof pname, "%s.Wh", name);
    l->Wh = nn_model_param(m, pname, 2, (int[]){H, G * H}, true);
    snprintf(pname, sizeof pname, "%s.b", name);
    l->b = nn_model_param(m, pname, 1, (int[]){G * H}, false);
    if (kind == NN_CELL_GRU) {
        snprintf(pname, sizeof pname, "%s.bn", name);
        if (!(l->bn = nn_model_param(m, pname, 1, (int[]){H}, false))) return NULL;
    }
    if (!l->Wx || !l->Wh || !l->b) return NULL;

    /* PyTorch's init: every weight and bias uniform(-k, k), k = 1/sqrt(H) */
    float k = 1.0f / sqrtf((float)H);
    nn_fill_uniform(l->Wx, -k, k, NULL);
    nn_fill_uniform(l->Wh, -k, k, NULL);
    nn_fill_uniform(l->b, -k, k, NULL);
    if (l->bn) nn_fill_uniform(l->bn, -k, k, NULL);
    if (kind == NN_CELL_LSTM) /* the forget gate, b[H .. 2H), starts at 1 (see rnn.h) */
        for (int j = H; j < 2 * H; j++) l->b->data[j] = 1.0f;
    return l;
}

/* The state to start from: in's tensors after checking their shapes, zeros where NULL. */
static bool start_state(const nn_rnn_layer *l, const char *op, const nn_rnn_state *in, int B,
                        nn_rnn_state *s) {
    int H = l->hidden;
    nn_tensor *h = in ? in->h : NULL, *c = in ? in->c : NULL;
    /* a state from an earlier step that was not kept (nn_rnn_state_keep) is gone */
    if (!nn_require_live(h, op, "state h") || !nn_require_live(c, op, "state c")) return false;
    if (h && (h->ndim != 2 || h->shape[0] != B || h->shape[1] != H)) {
        nn_fail(op, "the state h is (B, H): one row per sample of x, H = the layer's hidden",
                "h %s does not fit x's batch B = %d and H = %d (a %s layer)", SHAPE(h), B, H,
                nn_cell_kind_name(l->kind));
        return false;
    }
    if (c && l->kind != NN_CELL_LSTM) {
        nn_fail(op, "only an LSTM carries a cell state: pass c = NULL",
                "c %s given to a %s layer", SHAPE(c), nn_cell_kind_name(l->kind));
        return false;
    }
    if (c && (c->ndim != 2 || c->shape[0] != B || c->shape[1] != H)) {
        nn_fail(op, "the cell state c is (B, H), like h",
                "c %s does not fit x's batch B = %d and H = %d (a lstm layer)", SHAPE(c), B, H);
        return false;
    }
    s->h = h ? h : nn_graph_tensor(NN_SHAPE(B, H), false);
    s->c = l->kind != NN_CELL_LSTM ? NULL : c ? c : nn_graph_tensor(NN_SHAPE(B, H), false);
    return true;
}

nn_tensor *nn_rnn_layer_forward(const nn_rnn_layer *layer, nn_tensor *x,
                                const nn_rnn_state *start, nn_rnn_state *end) {
    NN_REQUIRE(layer, "nn_rnn_layer_forward");
    NN_REQUIRE(x, "nn_rnn_layer_forward");
    if (x->ndim != 3 || x->shape[2] != layer->in) {
        nn_fail("nn_rnn_layer_forward", "x is (B, T, in): B sequences of T steps, `in` "
                "numbers per step (for one step (B, in), use nn_rnn_layer_step)",
                "x %s does not fit a %s layer with in = %d", SHAPE(x),
                nn_cell_kind_name(layer->kind), layer->in);
        return NULL;
    }
    int B = x->shape[0], T = x->shape[1], GH = layer->gates * layer->hidden;
    nn_rnn_state s;
    if (!start_state(layer, "nn_rnn_layer_forward", start, B, &s)) return NULL;

    /* the input part of every step at once: (B, T, in) @ (in, G*H) + b -> (B, T, G*H) */
    nn_tensor *xg = nn_linear(x, layer->Wx, layer->b);
    if (fused_gru(layer)) {
        nn_tensor *y = nn_gru_sequence(xg, s.h, layer->Wh, layer->bn);   /* (B, T, H) */
        if (!y) return NULL;
        if (end) *end = (nn_rnn_state){
            nn_reshape(nn_slice(y, 1, T - 1, 1), NN_SHAPE(B, layer->hidden)), NULL};
        return y;
    }
    nn_tensor **hs = nn_arena_alloc((size_t)T * sizeof *hs);   /* each step's h (B, H) */
    for (int t = 0; t < T; t++) {
        /* step t's part, xg[:, t, :]: (B, 1, G*H) -> (B, G*H) */
        nn_tensor *xg_t = nn_reshape(nn_slice(xg, 1, t, 1), NN_SHAPE(B, GH));
        s = cell_step(layer, xg_t, s);
        if (!s.h) return NULL;
        hs[t] = s.h;
    }
    if (end) *end = s;
    return nn_stack(1, T, hs);   /* T of (B, H) -> (B, T, H) */
}

nn_tensor *nn_rnn_layer_step(const nn_rnn_layer *layer, nn_tensor *x, const nn_rnn_state *in,
                             nn_rnn_state *out) {
    NN_REQUIRE(layer, "nn_rnn_layer_step");
    NN_REQUIRE(x, "nn_rnn_layer_step");
    if (x->ndim != 2 || x->shape[1] != layer->in) {
        nn_fail("nn_rnn_layer_step", "one step is x (B, in) (for a sequence (B, T, in), use "
                "nn_rnn_layer_forward)", "x %s does not fit a %s layer with in = %d",
                SHAPE(x), nn_cell_kind_name(layer->kind), layer->in);
        return NULL;
    }
    nn_rnn_state s;
    if (!start_state(layer, "nn_rnn_layer_step", in, x->shape[0], &s)) return NULL;
    nn_tensor *xg = nn_linear(x, layer->Wx, layer->b);   /* (B, G*H) */
    int B = x->shape[0], H = layer->hidden;
    if (fused_gru(layer)) {   /* one step of the same op as the layer's: the same numbers */
        nn_tensor *y = nn_gru_sequence(nn_reshape(xg, NN_SHAPE(B, 1, 3 * H)), s.h, layer->Wh,
                                       layer->bn);   /* (B, 1, H) */
        s.h = y ? nn_reshape(y, NN_SHAPE(B, H)) : NULL;
    } else {
        s = cell_step(layer, xg, s);
    }
    if (!s.h) return NULL;
    if (out) *out = s;
    return s.h;
}

/* ---- carrying a state across nn_graph_clear() --------------------------------------------- */

void nn_rnn_state_keep(nn_rnn_state *kept, const nn_rnn_state *s) {
    NN_REQUIRE_OR(kept, "nn_rnn_state_keep", );
    NN_REQUIRE_OR(s, "nn_rnn_state_keep", );
    nn_tensor *h = s->h, *c = s->c;   /* read first: s may be kept itself */
    if (h) kept->h = nn_keep(kept->h, h);
    else {
        nn_tensor_free(kept->h);
        kept->h = NULL;
    }
    if (c) kept->c = nn_keep(kept->c, c);
    else {
        nn_tensor_free(kept->c);
        kept->c = NULL;
    }
}

void nn_rnn_state_free(nn_rnn_state *kept) {
    if (!kept) return;
    nn_tensor_free(kept->h);
    nn_tensor_free(kept->c);
    kept->h = kept->c = NULL;
}
