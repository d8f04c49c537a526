/* tests/test_rnn.c — the recurrent layers (nn/net/rnn.h): RNN, GRU and LSTM cells, unrolled
 * over time.
 *
 * Forward: one step and whole sequences against the formulas written out here as plain loops
 * in double precision. Backward: central differences (nn_gradcheck) with respect to the input,
 * the initial state and every parameter, for one step and for T = 3, 4, 5 unrolled steps,
 * on L = sum(y * R) + sum(h_T * Rh) + sum(c_T * Rc) with fixed random R's. Then: the final
 * state is the last output, stepping one at a time equals the unrolled layer, truncated BPTT
 * with nn_rnn_state_keep, a small sequence task that each cell learns, and misuse. */
#include "testing.h"

enum { B = 2, IN = 3, H = 4 };

static const nn_cell_kind kinds[3] = {NN_CELL_RNN, NN_CELL_GRU, NN_CELL_LSTM};

static int gates_of(nn_cell_kind kind) {
    return kind == NN_CELL_RNN ? 1 : kind == NN_CELL_GRU ? 3 : 4;
}

/* ---- the formulas in double precision ---------------------------------------------------- */

static double sigm(double v) { return 1.0 / (1.0 + exp(-v)); }

/* One step of the layer's cell for every sample: x (B, IN), h and c (B, H), all row-major;
 * writes h2 and c2 (c2 only for the LSTM). Parameters are read from the layer. */
static void ref_step(const nn_rnn_layer *l, const double *x, const double *h, const double *c,
                     double *h2, double *c2) {
    int G = l->gates, GH = G * H;
    const float *Wx = l->Wx->data, *Wh = l->Wh->data, *b = l->b->data;
    for (int s = 0; s < B; s++) {
        const double *xs = x + s * IN, *hs = h + s * H;
        double xg[4 * H], hg[4 * H];   /* x Wx + b and h Wh, (G*H) each */
        for (int j = 0; j < GH; j++) {
            xg[j] = b[j];
            for (int k = 0; k < IN; k++) xg[j] += xs[k] * Wx[k * GH + j];
            hg[j] = 0;
            for (int k = 0; k < H; k++) hg[j] += hs[k] * Wh[k * GH + j];
        }
        for (int j = 0; j < H; j++) {
            double out;
            if (l->kind == NN_CELL_RNN) {
                out = tanh(xg[j] + hg[j]);
            } else if (l->kind == NN_CELL_GRU) {
                double r = sigm(xg[j] + hg[j]);
                double z = sigm(xg[H + j] + hg[H + j]);
                double n = tanh(xg[2 * H + j] + r * (hg[2 * H + j] + l->bn->data[j]));
                out = (1 - z) * n + z * hs[j];
            } else {
                double i = sigm(xg[j] + hg[j]), f = sigm(xg[H + j] + hg[H + j]);
                double g = tanh(xg[2 * H + j] + hg[2 * H + j]);
                double o = sigm(xg[3 * H + j] + hg[3 * H + j]);
                double cn = f * c[s * H + j] + i * g;
                c2[s * H + j] = cn;
                out = o * tanh(cn);
            }
            h2[s * H + j] = out;
        }
    }
}

static void to_double(const nn_tensor *t, double *out) {
    for (size_t i = 0; i < t->size; i++) out[i] = t->data[i];
}

static void expect_near_double(const float *got, const double *want, size_t n, double tol) {
    for (size_t i = 0; i < n; i++)
        if (!(fabs(got[i] - want[i]) <= tol))
            fail_msg("element %zu: got %.8g, want %.8g (tol %g)", i, got[i], want[i], tol);
}

/* A model with one layer of `kind`, its parameters made larger than the init (uniform in
 * [-0.8, 0.8]) so that the gates are not all near their linear range. */
static nn_rnn_layer *make_layer(nn_model *m, nn_cell_kind kind) {
    nn_rnn_layer *l = nn_rnn_layer_new(m, "cell", kind, IN, H);
    assert_non_null(l);
    nn_rng rng;
    nn_rng_seed(&rng, 11 + (uint64_t)kind);
    for (int p = 0; p < m->nparams; p++) nn_fill_uniform(m->params[p], -0.8f, 0.8f, &rng);
    return l;
}

static nn_tensor *owned(uint64_t seed, float lo, float hi, int ndim, const int *shape) {
    nn_tensor *t = nn_zeros(ndim, shape);
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn_fill_uniform(t, lo, hi, &rng);
    return t;
}

/* ---- parameters and init ----------------------------------------------------------------- */

static void test_rnn_params_names_shapes_init(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    const char *names[3] = {"enc", "dec", "lm"};
    nn_rnn_layer *ls[3];
    for (int k = 0; k < 3; k++) ls[k] = nn_rnn_layer_new(m, names[k], kinds[k], 5, 8);
    /* RNN 5*8 + 8*8 + 8; GRU 3x that + 8 (bn); LSTM 4x */
    size_t one = 5 * 8 + 8 * 8 + 8;
    assert_int_equal(m->count, one + (3 * one + 8) + 4 * one);
    assert_int_equal(m->nparams, 3 + 4 + 3);
    float k = 1.0f / sqrtf(8.0f);
    for (int i = 0; i < 3; i++) {
        const nn_rnn_layer *l = ls[i];
        int G = gates_of(kinds[i]);
        char pname[64];
        assert_int_equal(l->gates, G);
        assert_int_equal(l->in, 5);
        assert_int_equal(l->hidden, 8);
        snprintf(pname, sizeof pname, "%s.Wx", names[i]);
        assert_ptr_equal(nn_model_find(m, pname), l->Wx);
        snprintf(pname, sizeof pname, "%s.Wh", names[i]);
        assert_ptr_equal(nn_model_find(m, pname), l->Wh);
        snprintf(pname, sizeof pname, "%s.b", names[i]);
        assert_ptr_equal(nn_model_find(m, pname), l->b);
        snprintf(pname, sizeof pname, "%s.bn", names[i]);
        assert_ptr_equal(nn_model_find(m, pname), l->bn);   /* NULL unless GRU */
        assert_int_equal(l->bn != NULL, kinds[i] == NN_CELL_GRU);
        assert_int_equal(l->Wx->shape[0], 5);
        assert_int_equal(l->Wx->shape[1], G * 8);
        assert_int_equal(l->Wh->shape[0], 8);
        assert_int_equal(l->Wh->shape[1], G * 8);
        assert_int_equal(l->b->shape[0], G * 8);
        /* uniform(-1/sqrt(H), 1/sqrt(H)), not all equal */
        const nn_tensor *ws[2] = {l->Wx, l->Wh};
        for (int w = 0; w < 2; w++) {
            float lo = 1, hi = -1;
            for (size_t j = 0; j < ws[w]->size; j++) {
                lo = fminf(lo, ws[w]->data[j]);
                hi = fmaxf(hi, ws[w]->data[j]);
            }
            assert_true(lo >= -k && hi <= k && hi - lo > k);
        }
        for (int j = 0; j < G * 8; j++) {
            bool forget = kinds[i] == NN_CELL_LSTM && j >= 8 && j < 16;
            if (forget) assert_float_equal(l->b->data[j], 1.0f, 0);
            else assert_true(fabsf(l->b->data[j]) <= k);
        }
    }
    /* names default to the kind */
    nn_model *m2 = nn_model_new();
    nn_rnn_layer_new(m2, NULL, NN_CELL_GRU, 2, 3);
    assert_non_null(nn_model_find(m2, "gru.bn"));
    assert_string_equal(nn_cell_kind_name(NN_CELL_LSTM), "lstm");
    assert_string_equal(nn_cell_kind_name((nn_cell_kind)7), "?");
    nn_model_free(m2);
    nn_model_free(m);
}

/* ---- forward against the double-precision loops ------------------------------------------ */

static void test_rnn_one_step_matches_reference(void **state) {
    (void)state;
    for (int k = 0; k < 3; k++) {
        nn_model *m = nn_model_new();
        nn_rnn_layer *l = make_layer(m, kinds[k]);
        nn_tensor *x = owned(1, -1, 1, NN_SHAPE(B, IN));
        nn_tensor *h0 = owned(2, -1, 1, NN_SHAPE(B, H)), *c0 = owned(3, -1, 1, NN_SHAPE(B, H));
        nn_rnn_state in = {h0, kinds[k] == NN_CELL_LSTM ? c0 : NULL}, out;
        nn_tensor *h = nn_rnn_layer_step(l, x, &in, &out);
        assert_ptr_equal(h, out.h);
        assert_int_equal(h->ndim, 2);
        assert_int_equal(h->shape[0], B);
        assert_int_equal(h->shape[1], H);
        assert_int_equal(out.c != NULL, kinds[k] == NN_CELL_LSTM);
        double xd[B * IN], hd[B * H], cd[B * H], h2[B * H], c2[B * H];
        to_double(x, xd);
        to_double(h0, hd);
        to_double(c0, cd);
        ref_step(l, xd, hd, cd, h2, c2);
        expect_near_double(h->data, h2, B * H, 2e-6);
        if (out.c) expect_near_double(out.c->data, c2, B * H, 2e-6);
        nn_graph_clear();
        nn_tensor_free(x);
        nn_tensor_free(h0);
        nn_tensor_free(c0);
        nn_model_free(m);
    }
}

/* The whole sequence, from a zero state (NULL) and from a given one. */
static void test_rnn_unrolled_matches_reference(void **state) {
    (void)state;
    enum { T = 5 };
    for (int k = 0; k < 3; k++)
        for (int given = 0; given < 2; given++) {
            nn_model *m = nn_model_new();
            nn_rnn_layer *l = make_layer(m, kinds[k]);
            nn_tensor *x = owned(4, -1, 1, NN_SHAPE(B, T, IN));
            nn_tensor *h0 = owned(5, -1, 1, NN_SHAPE(B, H)), *c0 = owned(6, -1, 1, NN_SHAPE(B, H));
            nn_rnn_state start = {h0, kinds[k] == NN_CELL_LSTM ? c0 : NULL}, end;
            nn_tensor *y = nn_rnn_layer_forward(l, x, given ? &start : NULL, &end);
            assert_int_equal(y->ndim, 3);
            assert_int_equal(y->shape[0], B);
            assert_int_equal(y->shape[1], T);
            assert_int_equal(y->shape[2], H);
            double h[B * H] = {0}, c[B * H] = {0}, xt[B * IN], h2[B * H], c2[B * H] = {0};
            if (given) {
                to_double(h0, h);
                to_double(c0, c);
            }
            for (int t = 0; t < T; t++) {
                for (int s = 0; s < B; s++)
                    for (int i = 0; i < IN; i++) xt[s * IN + i] = x->data[(s * T + t) * IN + i];
                ref_step(l, xt, h, c, h2, c2);
                memcpy(h, h2, sizeof h);
                memcpy(c, c2, sizeof c);
                for (int s = 0; s < B; s++)
                    expect_near_double(y->data + (s * T + t) * H, h + s * H, H, 5e-6);
            }
            expect_near_double(end.h->data, h, B * H, 5e-6);
            if (kinds[k] == NN_CELL_LSTM) expect_near_double(end.c->data, c, B * H, 5e-6);
            else assert_null(end.c);
            nn_graph_clear();
            nn_tensor_free(x);
            nn_tensor_free(h0);
            nn_tensor_free(c0);
            nn_model_free(m);
        }
}

/* The final h is y[:, T-1, :] exactly; NULL state and explicit zeros agree exactly; start and
 * end may be one struct. */
static void test_rnn_final_state_and_zero_start(void **state) {
    (void)state;
    enum { T = 4 };
    for (int k = 0; k < 3; k++) {
        nn_model *m = nn_model_new();
        nn_rnn_layer *l = make_layer(m, kinds[k]);
        nn_tensor *x = owned(7, -1, 1, NN_SHAPE(B, T, IN));
        nn_rnn_state end;
        nn_tensor *y = nn_rnn_layer_forward(l, x, NULL, &end);
        for (int s = 0; s < B; s++)
            assert_memory_equal(end.h->data + s * H, y->data + (s * T + T - 1) * H,
                                H * sizeof(float));
        nn_tensor *zh = nn_zeros(NN_SHAPE(B, H)), *zc = nn_zeros(NN_SHAPE(B, H));
        nn_rnn_state zero = {zh, kinds[k] == NN_CELL_LSTM ? zc : NULL};
        nn_tensor *y0 = nn_rnn_layer_forward(l, x, &zero, &zero);   /* in and out: one struct */
        assert_memory_equal(y0->data, y->data, y->size * sizeof(float));
        assert_memory_equal(zero.h->data, end.h->data, B * H * sizeof(float));
        assert_true(zero.h != zh);   /* the struct now holds the final (graph) state */
        nn_rnn_state empty = {NULL, NULL};
        nn_tensor *ye = nn_rnn_layer_forward(l, x, &empty, NULL);   /* NULL fields; no end */
        assert_memory_equal(ye->data, y->data, y->size * sizeof(float));
        nn_graph_clear();
        nn_tensor_free(zh);
        nn_tensor_free(zc);
        nn_tensor_free(x);
        nn_model_free(m);
    }
}

/* T calls of nn_rnn_layer_step give the unrolled layer's outputs and final state. */
static void test_rnn_step_by_step_equals_unrolled(void **state) {
    (void)state;
    enum { T = 6 };
    for (int k = 0; k < 3; k++) {
        nn_model *m = nn_model_new();
        nn_rnn_layer *l = make_layer(m, kinds[k]);
        nn_tensor *x = owned(8, -1, 1, NN_SHAPE(B, T, IN));
        nn_rnn_state end;
        nn_tensor *y = nn_rnn_layer_forward(l, x, NULL, &end);
        nn_rnn_state s = {NULL, NULL};
        float worst = 0;
        for (int t = 0; t < T; t++) {
            nn_tensor *xt = nn_reshape(nn_slice(x, 1, t, 1), NN_SHAPE(B, IN));
            nn_tensor *h = nn_rnn_layer_step(l, xt, &s, &s);
            for (int b = 0; b < B; b++)
                for (int j = 0; j < H; j++)
                    worst = fmaxf(worst, fabsf(h->data[b * H + j] - y->data[(b * T + t) * H + j]));
        }
        assert_true(worst <= 1e-6f);
        assert_floats_near(s.h->data, end.h->data, B * H, 1e-6f);
        if (end.c) assert_floats_near(s.c->data, end.c->data, B * H, 1e-6f);
        nn_graph_clear();
        nn_tensor_free(x);
        nn_model_free(m);
    }
}

/* ---- gradients: central differences ------------------------------------------------------ */

typedef struct {
    const nn_rnn_layer *l;
    int T;               /* 0: one nn_rnn_layer_step; else the unrolled layer over T steps */
    nn_tensor *R, *Rh, *Rc;
} grad_ctx;

/* in: x, h0, then c0 for the LSTM, then the parameters (used through the layer itself). */
static nn_tensor *rnn_loss(nn_tensor **in, void *user) {
    grad_ctx *g = user;
    bool lstm = g->l->kind == NN_CELL_LSTM;
    nn_rnn_state start = {in[1], lstm ? in[2] : NULL}, end;
    nn_tensor *y = g->T ? nn_rnn_layer_forward(g->l, in[0], &start, &end)
                        : nn_rnn_layer_step(g->l, in[0], &start, &end);
    nn_tensor *loss = nn_add(nn_sum(nn_mul(y, g->R)), nn_sum(nn_mul(end.h, g->Rh)));
    if (lstm) loss = nn_add(loss, nn_sum(nn_mul(end.c, g->Rc)));
    return loss;
}

static double check_rnn_grad(nn_cell_kind kind, int T) {
    nn_model *m = nn_model_new();
    nn_rnn_layer *l = make_layer(m, kind);
    bool lstm = kind == NN_CELL_LSTM;
    grad_ctx g = {l, T, NULL, NULL, NULL};
    g.R = T ? owned(20, -1, 1, NN_SHAPE(B, T, H)) : owned(20, -1, 1, NN_SHAPE(B, H));
    g.Rh = owned(21, -1, 1, NN_SHAPE(B, H));
    g.Rc = owned(22, -1, 1, NN_SHAPE(B, H));
    nn_tensor *in[7];
    int n = 0;
    in[n++] = nn_requires_grad(T ? owned(23, -1, 1, NN_SHAPE(B, T, IN))
                                 : owned(23, -1, 1, NN_SHAPE(B, IN)));
    in[n++] = nn_requires_grad(owned(24, -1, 1, NN_SHAPE(B, H)));
    if (lstm) in[n++] = nn_requires_grad(owned(25, -1, 1, NN_SHAPE(B, H)));
    int first_param = n;
    for (int p = 0; p < m->nparams; p++) in[n++] = m->params[p];   /* Wx, Wh, b (, bn) */
    nn_gradcheck_result r = nn_gradcheck(rnn_loss, in, n, &g, 1e-2, 1e-2);
    size_t want = (size_t)(T ? B * T * IN : B * IN) + B * H * (lstm ? 2 : 1) + m->count;
    printf("  gradcheck %-4s %s: %3zu elements, max rel err %.2e%s\n", nn_cell_kind_name(kind),
           T ? (T == 3 ? "T=3     " : T == 4 ? "T=4     " : "T=5     ") : "one step", r.checked,
           r.max_rel_err, kind == NN_CELL_GRU && nn_is_rnn_reference() ? " (built from ops)" : "");
    if (!r.ok)
        fail_msg("%s T=%d: input %d element %zu analytic %.6g numeric %.6g rel %.3g",
                 nn_cell_kind_name(kind), T, r.worst_input, r.worst_index, r.analytic,
                 r.numeric, r.max_rel_err);
    assert_int_equal(r.checked, want);
    /* every parameter really got a gradient (none is left out of the graph) */
    for (int p = first_param; p < n; p++) {
        float norm = 0;
        for (size_t i = 0; i < in[p]->size; i++) norm += fabsf(in[p]->grad[i]);
        assert_true(norm > 0);
    }
    for (int k = 0; k < first_param; k++) nn_tensor_free(in[k]);
    nn_tensor_free(g.R);
    nn_tensor_free(g.Rh);
    nn_tensor_free(g.Rc);
    nn_model_free(m);
    return r.max_rel_err;
}

/* The GRU twice: as one op (nn_gru_sequence, the default) and built from its cell's ops. */
static void test_rnn_gradcheck_one_step(void **state) {
    (void)state;
    for (int k = 0; k < 3; k++) check_rnn_grad(kinds[k], 0);
    bool was = nn_set_rnn_reference(true);
    check_rnn_grad(NN_CELL_GRU, 0);
    nn_set_rnn_reference(was);
}

static void test_rnn_gradcheck_unrolled(void **state) {
    (void)state;
    for (int k = 0; k < 3; k++)
        for (int T = 3; T <= 5; T++) check_rnn_grad(kinds[k], T);
    bool was = nn_set_rnn_reference(true);
    for (int T = 3; T <= 5; T++) check_rnn_grad(NN_CELL_GRU, T);
    nn_set_rnn_reference(was);
}

/* ---- the GRU as one op against the GRU built from ops ------------------------------------ */

typedef struct { float *y, *hT, *grad[6]; } gru_run;   /* x, h0, Wx, Wh, b, bn */

/* One forward and backward of a GRU layer (in, H) on x (Bn, T, in) from h0, loss
 * sum(y * R) + sum(h_T * Rh); everything copied out. */
static gru_run run_gru(bool reference, int threads, int Bn, int T, int in, int Hn) {
    bool was = nn_set_rnn_reference(reference);
    int team = test_set_threads(threads);
    nn_model *m = nn_model_new();
    nn_rnn_layer *l = nn_rnn_layer_new(m, "gru", NN_CELL_GRU, in, Hn);
    nn_rng rng;
    nn_rng_seed(&rng, 40);
    for (int p = 0; p < m->nparams; p++) nn_fill_uniform(m->params[p], -0.6f, 0.6f, &rng);
    nn_tensor *x = nn_requires_grad(owned(41, -1, 1, NN_SHAPE(Bn, T, in)));
    nn_tensor *h0 = nn_requires_grad(owned(42, -1, 1, NN_SHAPE(Bn, Hn)));
    nn_tensor *R = owned(43, -1, 1, NN_SHAPE(Bn, T, Hn)), *Rh = owned(44, -1, 1, NN_SHAPE(Bn, Hn));
    nn_rnn_state start = {h0, NULL}, end;
    nn_tensor *y = nn_rnn_layer_forward(l, x, &start, &end);
    nn_model_zero_grad(m);
    nn_backward(nn_add(nn_sum(nn_mul(y, R)), nn_sum(nn_mul(end.h, Rh))));
    gru_run r = {malloc(y->size * sizeof(float)), malloc(end.h->size * sizeof(float)), {0}};
    memcpy(r.y, y->data, y->size * sizeof(float));
    memcpy(r.hT, end.h->data, end.h->size * sizeof(float));
    nn_tensor *with_grad[6] = {x, h0, l->Wx, l->Wh, l->b, l->bn};
    for (int i = 0; i < 6; i++) {
        r.grad[i] = malloc(with_grad[i]->size * sizeof(float));
        memcpy(r.grad[i], with_grad[i]->grad, with_grad[i]->size * sizeof(float));
    }
    nn_graph_clear();
    nn_tensor_free(x), nn_tensor_free(h0), nn_tensor_free(R), nn_tensor_free(Rh);
    nn_model_free(m);
    test_restore_threads(team);
    nn_set_rnn_reference(was);
    return r;
}

static void gru_run_free(gru_run *r) {
    free(r->y), free(r->hT);
    for (int i = 0; i < 6; i++) free(r->grad[i]);
}

/* |got - want| <= tol (1 + |want|) everywhere */
static void expect_close(const float *got, const float *want, size_t n, float tol,
                         const char *what) {
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(got[i] - want[i]) <= tol * (1.0f + fabsf(want[i]))))
            fail_msg("%s[%zu]: one op %.8g, from ops %.8g", what, i, got[i], want[i]);
}

/* Batches of 1, past one block of 16 rows and not a multiple of it; T of 1, even and odd;
 * H not a multiple of a vector: outputs and all six gradients agree with the cell built from
 * ops (within float rounding: the sums run in other orders). And with 33 x 64 (three blocks,
 * enough for the threads) the op gives the same bits on one thread as on three. */
static void test_gru_one_op_matches_the_cell(void **state) {
    (void)state;
    const int cases[][4] = {{1, 1, 3, 5}, {2, 6, 3, 4}, {17, 7, 5, 9}, {33, 4, 8, 64}};
    const char *names[6] = {"dx", "dh0", "dWx", "dWh", "db", "dbn"};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int Bn = cases[c][0], T = cases[c][1], in = cases[c][2], Hn = cases[c][3];
        size_t sizes[6] = {(size_t)Bn * T * in, (size_t)Bn * Hn, (size_t)in * 3 * Hn,
                           (size_t)Hn * 3 * Hn, (size_t)3 * Hn, (size_t)Hn};
        gru_run ops = run_gru(true, 0, Bn, T, in, Hn), one = run_gru(false, 3, Bn, T, in, Hn);
        expect_close(one.y, ops.y, (size_t)Bn * T * Hn, 1e-5f, "y");
        expect_close(one.hT, ops.hT, (size_t)Bn * Hn, 1e-5f, "h_T");
        for (int i = 0; i < 6; i++)
            expect_close(one.grad[i], ops.grad[i], sizes[i], 1e-4f, names[i]);
        gru_run single = run_gru(false, 1, Bn, T, in, Hn);
        assert_memory_equal(single.y, one.y, (size_t)Bn * T * Hn * sizeof(float));
        for (int i = 0; i < 6; i++)
            assert_memory_equal(single.grad[i], one.grad[i], sizes[i] * sizeof(float));
        gru_run_free(&ops), gru_run_free(&one), gru_run_free(&single);
    }
}

/* ---- truncated BPTT ---------------------------------------------------------------------- */

/* Two chunks of 3 with the state carried by nn_rnn_state_keep compute what one forward over
 * the 6 steps computes; backward stops at the chunk's start (the carried state is a constant:
 * the gradient equals a fresh graph's from a copy of it); every chunk records the same ops. */
static void test_rnn_truncated_bptt_with_keep(void **state) {
    (void)state;
    enum { T = 6, CH = 3 };
    for (int k = 0; k < 3; k++) {
        nn_model *m = nn_model_new();
        nn_rnn_layer *l = make_layer(m, kinds[k]);
        nn_tensor *x = owned(30, -1, 1, NN_SHAPE(B, T, IN));
        nn_tensor *full = nn_clone(nn_rnn_layer_forward(l, x, NULL, NULL));   /* (B, T, H) */
        nn_graph_clear();

        nn_rnn_state carry = {NULL, NULL}, last;
        int nodes = -1;
        for (int c = 0; c < T / CH; c++) {
            nn_tensor *xc = nn_detach(nn_slice(x, 1, c * CH, CH));           /* (B, CH, IN) */
            int before = nn_graph_node_count();
            nn_tensor *y = nn_rnn_layer_forward(l, xc, &carry, &last);
            if (nodes < 0) nodes = nn_graph_node_count() - before;
            assert_int_equal(nn_graph_node_count() - before, nodes);
            for (int b = 0; b < B; b++)
                assert_floats_near(y->data + b * CH * H, full->data + (b * T + c * CH) * H,
                                   CH * H, 1e-6f);
            nn_model_zero_grad(m);
            nn_backward(nn_sum(nn_square(y)));
            float gWh[4 * H * H];
            memcpy(gWh, l->Wh->grad, l->Wh->size * sizeof(float));
            if (carry.h) assert_null(carry.h->grad);
            if (c == 1) {   /* the same gradient from a fresh graph on a copy of the state */
                nn_rnn_state copy = {nn_clone(carry.h), carry.c ? nn_clone(carry.c) : NULL};
                nn_tensor *xc2 = nn_detach(nn_slice(x, 1, c * CH, CH));
                nn_model_zero_grad(m);
                nn_backward(nn_sum(nn_square(nn_rnn_layer_forward(l, xc2, &copy, NULL))));
                assert_memory_equal(l->Wh->grad, gWh, l->Wh->size * sizeof(float));
                nn_rnn_state_free(&copy);
                assert_null(copy.h);
            }
            nn_rnn_state_keep(&carry, &last);
            assert_int_equal(carry.c != NULL, kinds[k] == NN_CELL_LSTM);
            nn_graph_clear();
        }
        /* carry holds the final state of the whole sequence */
        for (int b = 0; b < B; b++)
            assert_floats_near(carry.h->data + b * H, full->data + (b * T + T - 1) * H, H, 1e-6f);
        /* a NULL field frees the kept one */
        nn_rnn_state none = {carry.h, NULL};
        nn_rnn_state_keep(&carry, &none);
        assert_null(carry.c);
        nn_rnn_state_free(&carry);
        assert_null(carry.h);
        nn_tensor_free(full);
        nn_tensor_free(x);
        nn_model_free(m);
    }
}

/* ---- learning: embedding -> recurrent layer -> linear, next-token loss ------------------- */

/* The target at step t is the token at step t - 2 (0 for t < 2): only a memory of two steps
 * solves it. Each cell, trained with Adam over truncated-BPTT chunks of 8 steps (the state
 * carried with nn_rnn_state_keep), must get the loss far below log(V). */
static void test_rnn_learns_to_delay(void **state) {
    (void)state;
    enum { V = 4, E = 6, HID = 16, BT = 8, TT = 8, STEPS = 150 };
    for (int k = 0; k < 3; k++) {
        nn_seed(5);
        nn_model *m = nn_model_new();
        nn_embedding_layer *emb = nn_embedding_layer_new(m, "emb", V, E, 0);
        nn_rnn_layer *rnn = nn_rnn_layer_new(m, "rnn", kinds[k], E, HID);
        nn_linear_layer *head = nn_linear_layer_new(m, "head", HID, V, NN_INIT_XAVIER);
        nn_optim *opt = nn_adam_new(m, 0.03f, 0.0f);
        nn_rng rng;
        nn_rng_seed(&rng, 77);
        int prev[BT][2] = {{0}};   /* the last two tokens of each sequence, across chunks */
        nn_rnn_state carry = {NULL, NULL}, last;
        float first = 0, recent = 0;
        for (int step = 0; step < STEPS; step++) {
            int ids[BT * TT], targets[BT * TT];
            for (int b = 0; b < BT; b++)
                for (int t = 0; t < TT; t++) {
                    int tok = nn_rng_int(&rng, V);
                    ids[b * TT + t] = tok;
                    targets[b * TT + t] = prev[b][0];
                    prev[b][0] = prev[b][1];
                    prev[b][1] = tok;
                }
            nn_tensor *y = nn_rnn_layer_forward(rnn, nn_embedding_layer_forward(emb, ids, BT, TT),
                                                &carry, &last);
            nn_tensor *loss = nn_cross_entropy_loss(nn_linear_layer_forward(head, y), targets);
            float v = nn_item(loss);
            if (step == 0) first = v;
            if (step >= STEPS - 10) recent += v / 10;
            nn_model_zero_grad(m);
            nn_backward(loss);
            nn_optim_step(opt);
            nn_rnn_state_keep(&carry, &last);
            nn_graph_clear();
        }
        printf("  %-4s learns a delay of 2: loss %.3f -> %.3f (log V = %.3f)\n",
               nn_cell_kind_name(kinds[k]), first, recent, log((double)V));
        assert_true(first > 1.0f);
        assert_true(recent < 0.25f);
        nn_rnn_state_free(&carry);
        nn_optim_free(opt);
        nn_model_free(m);
    }
}

/* ---- grad mode off, frozen layer --------------------------------------------------------- */

static void test_rnn_no_grad_and_frozen(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_rnn_layer *l = make_layer(m, NN_CELL_LSTM);
    nn_tensor *x = owned(40, -1, 1, NN_SHAPE(B, 3, IN));
    bool was = nn_set_grad_enabled(false);
    nn_tensor *y = nn_rnn_layer_forward(l, x, NULL, NULL);
    assert_int_equal(nn_graph_node_count(), 0);
    assert_false(y->requires_grad);
    nn_set_grad_enabled(was);
    nn_graph_clear();
    nn_model_freeze(m, "cell.");
    y = nn_rnn_layer_forward(l, x, NULL, NULL);
    assert_false(y->requires_grad);   /* nothing to learn: x needs no grad either */
    nn_graph_clear();
    nn_tensor_free(x);
    nn_model_free(m);
}

/* ---- misuse ------------------------------------------------------------------------------ */

static void test_rnn_errors(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    EXPECT_NN_ERROR(nn_rnn_layer_new(m, "r", (nn_cell_kind)9, 3, 4), "nn_rnn_layer_new",
                    "unknown cell kind 9", "NN_CELL_LSTM");
    EXPECT_NN_ERROR(nn_rnn_layer_new(m, "r", NN_CELL_RNN, 0, 4), "in = 0");
    EXPECT_NN_ERROR(nn_rnn_layer_new(m, "r", NN_CELL_GRU, 3, -1), "hidden = -1");
    EXPECT_NN_ERROR(nn_rnn_layer_new(NULL, "r", NN_CELL_GRU, 3, 4), "is NULL");
    nn_rnn_layer *gru = nn_rnn_layer_new(m, "gru", NN_CELL_GRU, IN, H);
    nn_rnn_layer *lstm = nn_rnn_layer_new(m, "lstm", NN_CELL_LSTM, IN, H);
    EXPECT_NN_ERROR(nn_rnn_layer_new(m, "gru", NN_CELL_GRU, IN, H), "already exists");

    nn_tensor *x = nn_zeros(NN_SHAPE(B, 5, IN)), *x2 = nn_zeros(NN_SHAPE(B, IN));
    nn_tensor *xbad = nn_zeros(NN_SHAPE(B, 5, IN + 1));
    nn_tensor *h_b = nn_zeros(NN_SHAPE(B + 1, H)), *h_h = nn_zeros(NN_SHAPE(B, H + 1));
    nn_tensor *h1 = nn_zeros(NN_SHAPE(B * H)), *ok = nn_zeros(NN_SHAPE(B, H));
    EXPECT_NN_ERROR(nn_rnn_layer_forward(gru, x2, NULL, NULL), "nn_rnn_layer_forward",
                    "x (2, 3) does not fit a gru layer with in = 3", "nn_rnn_layer_step",
                    "test_rnn.c");
    EXPECT_NN_ERROR(nn_rnn_layer_forward(gru, xbad, NULL, NULL), "x (2, 5, 4)", "in = 3");
    EXPECT_NN_ERROR(nn_rnn_layer_forward(gru, NULL, NULL, NULL), "is NULL");
    EXPECT_NN_ERROR(nn_rnn_layer_forward(NULL, x, NULL, NULL), "is NULL");
    EXPECT_NN_ERROR(nn_rnn_layer_forward(gru, x, &(nn_rnn_state){h_b, NULL}, NULL),
                    "nn_rnn_layer_forward", "h (3, 4)", "B = 2", "H = 4");
    EXPECT_NN_ERROR(nn_rnn_layer_forward(gru, x, &(nn_rnn_state){h_h, NULL}, NULL), "h (2, 5)");
    EXPECT_NN_ERROR(nn_rnn_layer_forward(gru, x, &(nn_rnn_state){h1, NULL}, NULL), "h (8)");
    EXPECT_NN_ERROR(nn_rnn_layer_forward(gru, x, &(nn_rnn_state){ok, ok}, NULL),
                    "only an LSTM carries a cell state", "given to a gru layer");
    EXPECT_NN_ERROR(nn_rnn_layer_forward(lstm, x, &(nn_rnn_state){ok, h_b}, NULL),
                    "c (3, 4) does not fit");
    EXPECT_NN_ERROR(nn_rnn_layer_forward(lstm, x, &(nn_rnn_state){NULL, h_h}, NULL), "c (2, 5)");
    EXPECT_NN_ERROR(nn_rnn_layer_step(lstm, x, NULL, NULL), "nn_rnn_layer_step",
                    "x (2, 5, 3)", "nn_rnn_layer_forward");
    EXPECT_NN_ERROR(nn_rnn_layer_step(lstm, x2, &(nn_rnn_state){h_b, NULL}, NULL),
                    "nn_rnn_layer_step", "h (3, 4)");
    /* the GRU op itself: xg (B, T, 3H), h0 (B, H), Wh (H, 3H), bn (H) */
    nn_tensor *xg = nn_zeros(NN_SHAPE(B, 5, 3 * H)), *bn_bad = nn_zeros(NN_SHAPE(H + 1));
    EXPECT_NN_ERROR(nn_gru_sequence(xg, ok, lstm->Wh, gru->bn), "nn_gru_sequence",
                    "Wh is (H, 3H)", "(4, 16)", "test_rnn.c");
    EXPECT_NN_ERROR(nn_gru_sequence(x, ok, gru->Wh, gru->bn), "xg is (B, T, 3H)",
                    "xg (2, 5, 3)");
    EXPECT_NN_ERROR(nn_gru_sequence(xg, h_b, gru->Wh, gru->bn), "h0 (3, 4)");
    EXPECT_NN_ERROR(nn_gru_sequence(xg, ok, gru->Wh, bn_bad), "bn (5)");
    EXPECT_NN_ERROR(nn_gru_sequence(xg, NULL, gru->Wh, gru->bn), "is NULL");
    nn_tensor_free(xg), nn_tensor_free(bn_bad);
    /* a state carried across nn_graph_clear() without nn_rnn_state_keep is gone */
    nn_rnn_state stale;
    nn_rnn_layer_forward(lstm, x, NULL, &stale);
    nn_graph_clear();
    EXPECT_NN_ERROR(nn_rnn_layer_forward(lstm, x, &stale, NULL), "nn_rnn_layer_forward",
                    "input 'state h'", "nn_graph_clear");
    EXPECT_NN_ERROR(nn_rnn_layer_step(lstm, x2, &(nn_rnn_state){NULL, stale.c}, NULL),
                    "nn_rnn_layer_step", "input 'state c'");
    /* a kept state must be yours: a graph tensor in `kept` is refused by nn_keep */
    nn_rnn_state graph_state = {nn_rnn_layer_step(gru, x2, NULL, NULL), NULL};
    EXPECT_NN_ERROR(nn_rnn_state_keep(&graph_state, &graph_state), "nn_keep", "you own");
    EXPECT_NN_ERROR(nn_rnn_state_keep(NULL, &graph_state), "nn_rnn_state_keep", "is NULL");
    nn_tensor *all[] = {x, x2, xbad, h_b, h_h, h1, ok};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) nn_tensor_free(all[i]);
    nn_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_rnn_params_names_shapes_init),
        NN_TEST(test_rnn_one_step_matches_reference),
        NN_TEST(test_rnn_unrolled_matches_reference),
        NN_TEST(test_rnn_final_state_and_zero_start),
        NN_TEST(test_rnn_step_by_step_equals_unrolled),
        NN_TEST(test_rnn_gradcheck_one_step),
        NN_TEST(test_rnn_gradcheck_unrolled),
        NN_TEST(test_gru_one_op_matches_the_cell),
        NN_TEST(test_rnn_truncated_bptt_with_keep),
        NN_TEST(test_rnn_learns_to_delay),
        NN_TEST(test_rnn_no_grad_and_frozen),
        NN_TEST(test_rnn_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
