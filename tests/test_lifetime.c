/* tests/test_lifetime.c — tensors that outlive a step (nn_keep), stop-gradient (nn_detach),
 * partial clears (nn_graph_mark / nn_graph_rewind), ops of any arity (nn_record_n), and the
 * per-thread graph state. */
#include "testing.h"
#include <pthread.h>

/* Fill an owned tensor with a fixed pattern from its own generator (no global state). */
static nn_tensor *pattern(uint64_t seed, float lo, float hi, int ndim, const int *shape) {
    nn_tensor *t = nn_zeros(ndim, shape);
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn_fill_uniform(t, lo, hi, &rng);
    return t;
}

/* Graph ops that fill a lot of the arena with values unlike anything a test keeps. */
static void scribble_over_arena(int n) {
    nn_tensor *junk = nn_full(-123.0f, NN_SHAPE(64, 64));
    for (int i = 0; i < n; i++) nn_add_scalar(nn_mul_scalar(junk, (float)i), 7.0f);
    nn_tensor_free(junk);
}

/* ---- nn_keep ---------------------------------------------------------------------------- */

static void test_keep_first_call_makes_owned_copy(void **state) {
    (void)state;
    nn_tensor *x = nn_requires_grad(nn_from_array((float[]){1, -2, 3, 4, 5, -6}, NN_SHAPE(2, 3)));
    nn_tensor *y = nn_mul_scalar(x, 2.0f); /* a graph tensor with history */
    assert_non_null(y->node);
    nn_tensor *kept = nn_keep(NULL, y);
    assert_non_null(kept);
    assert_ptr_not_equal(kept, y);
    assert_ptr_not_equal(kept->data, y->data);
    assert_int_equal(kept->ndim, 2);
    assert_int_equal(kept->shape[0], 2);
    assert_int_equal(kept->shape[1], 3);
    assert_int_equal(kept->size, 6);
    assert_floats_near(kept->data, (float[]){2, -4, 6, 8, 10, -12}, 6, 0);
    /* detached: no gradient buffer, no history */
    assert_false(kept->requires_grad);
    assert_null(kept->grad);
    assert_null(kept->node);

    /* it survives the clear, and the arena's reuse by later steps */
    nn_graph_clear();
    scribble_over_arena(200);
    assert_floats_near(kept->data, (float[]){2, -4, 6, 8, 10, -12}, 6, 0);
    nn_graph_clear();
    scribble_over_arena(10);
    assert_floats_near(kept->data, (float[]){2, -4, 6, 8, 10, -12}, 6, 0);

    /* it is an ordinary owned tensor: ops take it, and nn_tensor_free accepts it */
    assert_floats_near(nn_add(kept, x)->data, (float[]){3, -6, 9, 12, 15, -18}, 6, 0);
    nn_tensor_free(kept);
    nn_tensor_free(x);
}

static void test_keep_reuses_same_shape_and_replaces_other_shapes(void **state) {
    (void)state;
    nn_tensor *x = nn_from_array((float[]){1, 2, 3, 4, 5, 6}, NN_SHAPE(2, 3));
    nn_tensor *kept = nn_keep(NULL, nn_mul_scalar(x, 1.0f));
    nn_graph_clear();

    /* the same shape: the same tensor, new values */
    nn_tensor *again = nn_keep(kept, nn_mul_scalar(x, -1.0f));
    assert_ptr_equal(again, kept);
    assert_floats_near(kept->data, (float[]){-1, -2, -3, -4, -5, -6}, 6, 0);
    float *data_before = kept->data;
    nn_graph_clear();
    for (int step = 0; step < 20; step++) { /* a loop keeps one tensor, no churn */
        nn_tensor *same = nn_keep(kept, nn_add_scalar(x, (float)step));
        assert_ptr_equal(same, kept);
        assert_ptr_equal(same->data, data_before);
        assert_float_equal(same->data[5], 6.0f + (float)step, 0);
        nn_graph_clear();
    }

    /* another shape: a new tensor (the old one is freed: ASan/valgrind see no leak) */
    nn_tensor *row = nn_from_array((float[]){9, 8, 7}, NN_SHAPE(3));
    nn_tensor *other = nn_keep(kept, nn_mul_scalar(row, 1.0f));
    assert_non_null(other);
    assert_int_equal(other->ndim, 1);
    assert_int_equal(other->shape[0], 3);
    assert_int_equal(other->size, 3);
    assert_floats_near(other->data, (float[]){9, 8, 7}, 3, 0);
    kept = other;

    /* the same number of elements in another shape is another shape too */
    nn_tensor *col = nn_keep(kept, nn_reshape(nn_mul_scalar(row, 2.0f), NN_SHAPE(3, 1)));
    assert_int_equal(col->ndim, 2);
    assert_int_equal(col->shape[0], 3);
    assert_int_equal(col->shape[1], 1);
    assert_floats_near(col->data, (float[]){18, 16, 14}, 3, 0);
    kept = col;

    /* a scalar (ndim 0) */
    nn_tensor *s = nn_keep(kept, nn_sum(row));
    assert_int_equal(s->ndim, 0);
    assert_float_equal(nn_item(s), 24.0f, 0);
    kept = s;

    /* keeping a tensor into itself is a no-op, and owned or model tensors can be kept too */
    assert_ptr_equal(nn_keep(kept, kept), kept);
    assert_float_equal(nn_item(kept), 24.0f, 0);
    nn_tensor *copy_of_row = nn_keep(NULL, row);
    assert_ptr_not_equal(copy_of_row, row);
    assert_floats_near(copy_of_row->data, row->data, 3, 0);
    nn_model *m = nn_model_new();
    nn_tensor *w = nn_model_param(m, "w", NN_SHAPE(3), true);
    nn_fill(w, 0.5f);
    copy_of_row = nn_keep(copy_of_row, w);
    assert_floats_near(copy_of_row->data, (float[]){0.5f, 0.5f, 0.5f}, 3, 0);
    assert_null(copy_of_row->grad);
    w->data[0] = 2; /* a copy, not an alias */
    assert_float_equal(copy_of_row->data[0], 0.5f, 0);

    nn_model_free(m);
    nn_tensor_free(copy_of_row);
    nn_tensor_free(kept);
    nn_tensor_free(row);
    nn_tensor_free(x);
}

static void test_keep_drops_a_gradient_of_kept(void **state) {
    (void)state;
    /* The copy "has no grad": even when the tensor passed in had asked for one, what comes
     * back is a plain detached tensor, so a later backward cannot pile gradients into it. */
    nn_tensor *h = nn_requires_grad(nn_zeros(NN_SHAPE(2)));
    nn_tensor *x = nn_from_array((float[]){3, 4}, NN_SHAPE(2));
    nn_tensor *kept = nn_keep(h, nn_mul_scalar(x, 1.0f));
    assert_ptr_equal(kept, h);
    assert_floats_near(kept->data, (float[]){3, 4}, 2, 0);
    assert_false(kept->requires_grad);
    assert_null(kept->grad);
    nn_tensor *y = nn_mul(kept, kept);
    assert_false(y->requires_grad);
    assert_int_equal(nn_graph_node_count(), 0);
    nn_tensor_free(kept);
    nn_tensor_free(x);
}

static void test_keep_misuse(void **state) {
    (void)state;
    nn_tensor *x = nn_requires_grad(nn_ones(NN_SHAPE(2, 2)));
    nn_tensor *g = nn_mul_scalar(x, 3.0f);
    /* a graph tensor as `kept`: it would be "freed" or outlive its arena */
    EXPECT_NN_ERROR(nn_keep(g, g), "nn_keep", "must be a tensor you own", "pass NULL");
    g = nn_mul_scalar(x, 3.0f);
    nn_tensor *g2 = nn_tanh(g);
    EXPECT_NN_ERROR(nn_keep(g2, g), "nn_keep", "not a graph or model tensor");
    /* a model parameter as `kept` */
    nn_model *m = nn_model_new();
    nn_tensor *w = nn_model_param(m, "w", NN_SHAPE(2, 2), true);
    g = nn_mul_scalar(x, 3.0f);
    EXPECT_NN_ERROR(nn_keep(w, g), "nn_keep", "must be a tensor you own");
    assert_floats_near(w->data, (float[]){0, 0, 0, 0}, 4, 0); /* untouched */
    /* nothing to keep */
    EXPECT_NN_ERROR(nn_keep(NULL, NULL), "nn_keep", "is NULL");
    nn_model_free(m);
    nn_tensor_free(x);
}

/* ---- truncated BPTT: h carried across chunks by nn_keep ---------------------------------- */

enum { RNN_B = 2, RNN_I = 3, RNN_H = 4, RNN_T = 3, RNN_CHUNKS = 5 };

typedef struct {
    nn_model *m;
    nn_tensor *W, *U;                 /* h = tanh(h W + x U) */
    nn_tensor *x[RNN_CHUNKS][RNN_T];  /* owned inputs, (B, I) each */
    nn_tensor *target;                /* owned, (B, H) */
} rnn;

static rnn rnn_new(void) {
    rnn r;
    r.m = nn_model_new();
    r.W = nn_model_param(r.m, "W", NN_SHAPE(RNN_H, RNN_H), true);
    r.U = nn_model_param(r.m, "U", NN_SHAPE(RNN_I, RNN_H), true);
    nn_rng rng;
    nn_rng_seed(&rng, 77);
    nn_fill_uniform(r.W, -0.6f, 0.6f, &rng);
    nn_fill_uniform(r.U, -0.6f, 0.6f, &rng);
    for (int c = 0; c < RNN_CHUNKS; c++)
        for (int t = 0; t < RNN_T; t++)
            r.x[c][t] = pattern(100 + (uint64_t)(c * RNN_T + t), -1, 1, NN_SHAPE(RNN_B, RNN_I));
    r.target = pattern(99, -0.5f, 0.5f, NN_SHAPE(RNN_B, RNN_H));
    return r;
}

static void rnn_free(rnn *r) {
    for (int c = 0; c < RNN_CHUNKS; c++)
        for (int t = 0; t < RNN_T; t++) nn_tensor_free(r->x[c][t]);
    nn_tensor_free(r->target);
    nn_model_free(r->m);
}

/* Run chunk c from h; returns the last hidden state and sets *loss (a graph tensor). */
static nn_tensor *rnn_chunk(const rnn *r, int c, nn_tensor *h, nn_tensor **loss) {
    nn_tensor *total = NULL;
    for (int t = 0; t < RNN_T; t++) {
        h = nn_tanh(nn_add(nn_matmul(h, r->W), nn_matmul(r->x[c][t], r->U)));
        nn_tensor *l = nn_mse_loss(h, r->target);
        total = total ? nn_add(total, l) : l;
    }
    *loss = total;
    return h;
}

static void test_keep_truncated_bptt(void **state) {
    (void)state;
    rnn r = rnn_new();
    nn_optim *opt = nn_sgd_new(r.m, 0.1f, 0.0f, 0.0f);
    nn_tensor *h = pattern(5, -0.5f, 0.5f, NN_SHAPE(RNN_B, RNN_H)); /* owned start state */
    float epoch_loss[4] = {0, 0, 0, 0};
    int nodes_per_chunk = -1;
    for (int epoch = 0; epoch < 4; epoch++) {
        for (int c = 0; c < RNN_CHUNKS; c++) {
            nn_tensor *h_start = nn_clone(h); /* the state this chunk starts from */
            nn_tensor *loss;
            nn_tensor *h_last = rnn_chunk(&r, c, h, &loss);
            /* every chunk records the same ops: nothing of the chunk before is on the tape */
            if (nodes_per_chunk < 0) nodes_per_chunk = nn_graph_node_count();
            assert_int_equal(nn_graph_node_count(), nodes_per_chunk);
            epoch_loss[epoch] += nn_item(loss);
            nn_model_zero_grad(r.m);
            nn_backward(loss);
            assert_null(h->grad); /* the carried state is a constant to this chunk */
            float gW[RNN_H * RNN_H], gU[RNN_I * RNN_H];
            memcpy(gW, r.W->grad, sizeof gW);
            memcpy(gU, r.U->grad, sizeof gU);

            nn_tensor *kept = nn_keep(h, h_last);
            assert_ptr_equal(kept, h); /* same shape every chunk: the same tensor */
            h = kept;
            assert_floats_near(h->data, h_last->data, RNN_B * RNN_H, 0);
            nn_graph_clear();

            if (epoch == 0 && c == 2) {
                /* the gradient is exactly what a fresh graph starting from a copy of the
                 * state computes: backward did not flow into the chunk before */
                nn_model_zero_grad(r.m);
                nn_tensor *fresh_loss;
                nn_tensor *fresh_last = rnn_chunk(&r, c, h_start, &fresh_loss);
                nn_backward(fresh_loss);
                assert_memory_equal(r.W->grad, gW, sizeof gW);
                assert_memory_equal(r.U->grad, gU, sizeof gU);
                assert_memory_equal(fresh_last->data, h->data, sizeof(float) * RNN_B * RNN_H);
                nn_graph_clear();

                /* the control: the same start values, but with history into W (W -
                 * detach(W) is 0 in value and 1 in derivative). Now backward flows back
                 * past the start, and W's gradient is no longer the same; U's is. */
                nn_model_zero_grad(r.m);
                nn_tensor *leak = nn_sum(nn_sub(r.W, nn_detach(r.W)));
                nn_tensor *h_dep = nn_add(h_start, leak);
                assert_memory_equal(h_dep->data, h_start->data, sizeof(float) * RNN_B * RNN_H);
                nn_tensor *l;
                rnn_chunk(&r, c, h_dep, &l);
                nn_backward(l);
                assert_memory_not_equal(r.W->grad, gW, sizeof gW);
                assert_memory_equal(r.U->grad, gU, sizeof gU);
                nn_graph_clear();
                memcpy(r.W->grad, gW, sizeof gW); /* step with the truncated gradient */
                memcpy(r.U->grad, gU, sizeof gU);
            }
            nn_optim_step(opt);
            nn_tensor_free(h_start);
        }
    }
    /* it trains */
    for (int e = 1; e < 4; e++) assert_true(epoch_loss[e] < epoch_loss[e - 1]);
    nn_tensor_free(h);
    nn_optim_free(opt);
    rnn_free(&r);
}

/* ---- nn_detach ---------------------------------------------------------------------------- */

static void test_detach_stops_gradient(void **state) {
    (void)state;
    nn_tensor *x = nn_requires_grad(nn_from_array((float[]){1, -2, 3}, NN_SHAPE(3)));
    nn_tensor *d = nn_detach(x);
    assert_ptr_not_equal(d, x);
    assert_ptr_not_equal(d->data, x->data);
    assert_floats_near(d->data, x->data, 3, 0);
    assert_int_equal(d->ndim, 1);
    assert_int_equal(d->shape[0], 3);
    assert_false(d->requires_grad);
    assert_null(d->grad);
    assert_null(d->node);
    assert_int_equal(nn_graph_node_count(), 0);

    /* y = x * detach(x): dy/dx = detach(x), not 2x */
    nn_backward(nn_sum(nn_mul(x, d)));
    assert_floats_near(x->grad, (float[]){1, -2, 3}, 3, 0);

    /* a loss only through detach: nothing to differentiate */
    EXPECT_NN_ERROR(nn_backward(nn_sum(nn_square(nn_detach(x)))), "nn_backward",
                    "does not depend");

    /* detaching an intermediate: z = tanh(x); L = sum(detach(z) * x + z) */
    nn_zero_grad(x);
    nn_tensor *z = nn_tanh(x);
    nn_tensor *dz = nn_detach(z);
    assert_floats_near(dz->data, z->data, 3, 0);
    nn_backward(nn_sum(nn_add(nn_mul(dz, x), z)));
    for (int i = 0; i < 3; i++) {
        float t = tanhf(x->data[i]);
        assert_float_equal(x->grad[i], t + (1 - t * t), 1e-6);
    }

    /* the copy is a snapshot: changing x later leaves it alone */
    nn_tensor *snap = nn_detach(x);
    x->data[0] = 42;
    assert_float_equal(snap->data[0], 1.0f, 0);

    /* it works with grad mode off too, and a detached tensor dies with the graph */
    nn_set_grad_enabled(false);
    nn_tensor *e = nn_detach(x);
    assert_float_equal(e->data[0], 42.0f, 0);
    assert_false(e->requires_grad);
    nn_set_grad_enabled(true);
    EXPECT_NN_ERROR(nn_tensor_free(nn_detach(x)), "nn_tensor_free", "not yours");
    EXPECT_NN_ERROR(nn_detach(NULL), "nn_detach", "is NULL");
    nn_tensor_free(x);
}

static void test_detach_teacher_target(void **state) {
    (void)state;
    /* A frozen-teacher style target: student s = a * x, teacher t = detach(b * x); L = sum((s -
     * t)^2). Only a gets a gradient; b (a parameter too) gets none. */
    nn_model *m = nn_model_new();
    nn_tensor *a = nn_model_param(m, "a", NN_SHAPE(1), true);
    nn_tensor *b = nn_model_param(m, "b", NN_SHAPE(1), true);
    a->data[0] = 2;
    b->data[0] = 5;
    nn_tensor *x = nn_from_array((float[]){1, 2}, NN_SHAPE(2));
    nn_tensor *s = nn_mul(x, a), *t = nn_detach(nn_mul(x, b));
    nn_backward(nn_sum(nn_square(nn_sub(s, t))));
    /* dL/da = sum 2 (a x - b x) x = 2 (a - b) sum x^2 = 2 * -3 * 5 = -30 */
    assert_float_equal(a->grad[0], -30.0f, 1e-5);
    assert_float_equal(b->grad[0], 0.0f, 0);
    nn_tensor_free(x);
    nn_model_free(m);
}

/* ---- nn_graph_mark / nn_graph_rewind ------------------------------------------------------- */

static void test_rewind_restores_counters_and_keeps_earlier_tensors(void **state) {
    (void)state;
    nn_tensor *x = nn_requires_grad(nn_from_array((float[]){0.5f, -1, 2}, NN_SHAPE(3)));
    nn_tensor *a = nn_mul(x, x);          /* before the mark: a = x^2 */
    nn_tensor *loss_before = nn_sum(a);   /* so is this loss */
    size_t bytes = nn_graph_bytes_used();
    int nodes = nn_graph_node_count();
    assert_int_equal(nodes, 2);

    nn_graph_mark_t mark = nn_graph_mark();
    assert_int_equal(nn_graph_bytes_used(), bytes); /* a mark allocates nothing */
    assert_int_equal(nn_graph_node_count(), nodes);
    nn_tensor *junk = nn_tanh(nn_add(a, x));
    for (int i = 0; i < 50; i++) junk = nn_mul_scalar(junk, 1.5f);
    assert_true(nn_graph_bytes_used() > bytes);
    assert_int_equal(nn_graph_node_count(), nodes + 52);
    nn_graph_rewind(mark);
    assert_int_equal(nn_graph_bytes_used(), bytes);
    assert_int_equal(nn_graph_node_count(), nodes);

    /* the memory after the mark is reused: scribble over it, then check what came before */
    scribble_over_arena(20);
    assert_floats_near(a->data, (float[]){0.25f, 1, 4}, 3, 0);
    assert_float_equal(nn_item(loss_before), 5.25f, 0);
    nn_graph_rewind(mark);

    /* backward through nodes recorded before the mark still works */
    nn_backward(loss_before);
    assert_floats_near(x->grad, (float[]){1, -2, 4}, 3, 0);

    /* and a new loss built after the rewind on top of them, too: L = sum(tanh(x^2)); its
     * first node follows the last one recorded before the mark on the tape */
    nn_zero_grad(x);
    nn_tensor *ta = nn_tanh(a);
    assert_ptr_equal(ta->node->prev, loss_before->node);
    nn_tensor *loss_after = nn_sum(ta);
    assert_int_equal(nn_graph_node_count(), nodes + 2);
    nn_backward(loss_after);
    for (int i = 0; i < 3; i++) {
        float t = tanhf(x->data[i] * x->data[i]);
        assert_float_equal(x->grad[i], (1 - t * t) * 2 * x->data[i], 1e-6);
    }
    nn_graph_rewind(mark);
    assert_int_equal(nn_graph_node_count(), nodes);
    nn_tensor_free(x);
}

static void test_rewind_generation_loop_constant_memory(void **state) {
    (void)state;
    /* The "prompt": a context computed once; each "token" uses it and is rewound away. */
    nn_tensor *prompt = pattern(11, -1, 1, NN_SHAPE(8, 16));
    nn_tensor *w = pattern(12, -0.5f, 0.5f, NN_SHAPE(16, 16));
    nn_set_grad_enabled(false);
    nn_tensor *context = nn_tanh(nn_matmul(prompt, w)); /* (8, 16), a graph tensor */
    float context_copy[8 * 16];
    memcpy(context_copy, context->data, sizeof context_copy);

    nn_graph_mark_t start = nn_graph_mark();
    size_t base = nn_graph_bytes_used();
    size_t peak_before = nn_graph_bytes_peak(); /* the peak since start: earlier tests too */
    size_t peak_after_first = 0;
    float out[1000];
    nn_tensor *first_h = NULL, *first_y = NULL;
    for (int t = 0; t < 1000; t++) {
        nn_tensor *h = nn_tanh(nn_mul_scalar(context, (float)(t % 17) / 8.0f));
        nn_tensor *y = nn_sum(nn_matmul(h, w));
        out[t] = nn_item(y);
        /* the very same memory every time round, not just the same byte count */
        if (t == 0) {
            first_h = h;
            first_y = y;
        }
        assert_ptr_equal(h, first_h);
        assert_ptr_equal(h->data, first_h->data);
        assert_ptr_equal(y, first_y);
        nn_graph_rewind(start);
        assert_int_equal(nn_graph_bytes_used(), base);
        if (t == 0) peak_after_first = nn_graph_bytes_peak();
        else assert_int_equal(nn_graph_bytes_peak(), peak_after_first);
    }
    /* one token's worth at most, not 1000 */
    size_t one_token = base + (64u << 10);
    assert_true(peak_after_first <= (peak_before > one_token ? peak_before : one_token));
    assert_memory_equal(context->data, context_copy, sizeof context_copy);
    /* the same token computes the same value every time it comes round */
    for (int t = 17; t < 1000; t++) assert_float_equal(out[t], out[t - 17], 0);
    assert_true(out[1] != out[2]);
    nn_set_grad_enabled(true);
    nn_tensor_free(prompt);
    nn_tensor_free(w);
}

static void test_rewind_with_a_fresh_mark_each_iteration(void **state) {
    (void)state;
    /* Taking the mark inside the loop (as a per-token function would) must not pile up live
     * marks: after a rewind, a mark taken at the same point is the same mark. */
    nn_tensor *x = nn_requires_grad(nn_ones(NN_SHAPE(4)));
    nn_tensor *base_t = nn_mul_scalar(x, 3.0f);
    nn_graph_mark_t outer = nn_graph_mark();
    size_t base = nn_graph_bytes_used();
    for (int t = 0; t < 1000; t++) {
        nn_graph_mark_t m = nn_graph_mark();
        nn_tensor *y = nn_sum(nn_mul_scalar(base_t, (float)t));
        assert_float_equal(nn_item(y), 12.0f * (float)t, 0);
        nn_graph_rewind(m);
        assert_int_equal(nn_graph_bytes_used(), base);
    }
    /* the outer mark (the same point) is still good, and so is backward before it */
    nn_graph_rewind(outer);
    nn_backward(nn_sum(base_t));
    assert_floats_near(x->grad, (float[]){3, 3, 3, 3}, 4, 0);
    nn_tensor_free(x);
}

static void test_rewind_nested_marks(void **state) {
    (void)state;
    nn_tensor *x = nn_ones(NN_SHAPE(8));
    nn_tensor *a = nn_mul_scalar(x, 2.0f);
    nn_graph_mark_t outer = nn_graph_mark();
    size_t at_outer = nn_graph_bytes_used();
    nn_tensor *b = nn_mul_scalar(a, 2.0f);
    nn_graph_mark_t inner = nn_graph_mark();
    size_t at_inner = nn_graph_bytes_used();
    assert_true(at_inner > at_outer);
    nn_mul_scalar(b, 2.0f);

    /* rewinding to the same mark again and again is fine */
    for (int i = 0; i < 5; i++) {
        nn_graph_rewind(inner);
        assert_int_equal(nn_graph_bytes_used(), at_inner);
        assert_float_equal(b->data[7], 4.0f, 0);
        nn_tanh(b);
    }
    nn_graph_rewind(outer);
    assert_int_equal(nn_graph_bytes_used(), at_outer);
    assert_float_equal(a->data[0], 2.0f, 0);
    nn_graph_rewind(outer); /* again: still good */
    assert_int_equal(nn_graph_bytes_used(), at_outer);

    /* the inner mark died with the rewind to the outer one (its memory is being reused) */
    nn_mul_scalar(a, 5.0f);
    nn_error_handler prev = nn_set_error_handler(nn_test_handler, NULL);
    nn_test_caught = 0;
    if (setjmp(nn_test_jump) == 0) nn_graph_rewind(inner);
    nn_set_error_handler(prev, NULL);
    assert_true(nn_test_caught);
    assert_non_null(strstr(nn_test_message, "nn_graph_rewind"));
    assert_non_null(strstr(nn_test_message, "no longer live"));
    /* a refused rewind changes nothing, and the outer mark is still good */
    assert_true(nn_graph_bytes_used() > at_outer);
    nn_graph_rewind(outer);
    assert_int_equal(nn_graph_bytes_used(), at_outer);
    assert_float_equal(a->data[3], 2.0f, 0);

    /* three levels: rewinding to the middle one kills only the innermost */
    nn_graph_mark_t m1 = nn_graph_mark();
    nn_mul_scalar(a, 1.0f);
    nn_graph_mark_t m2 = nn_graph_mark();
    nn_mul_scalar(a, 1.0f);
    nn_graph_mark_t m3 = nn_graph_mark();
    nn_mul_scalar(a, 1.0f);
    nn_graph_rewind(m2);
    EXPECT_NN_ERROR(nn_graph_rewind(m3), "nn_graph_rewind", "no longer live");
    (void)m1;
    nn_tensor_free(x);
}

static void test_rewind_refused_after_clear(void **state) {
    (void)state;
    nn_tensor *x = nn_ones(NN_SHAPE(4));
    nn_mul_scalar(x, 2.0f);
    nn_graph_mark_t m = nn_graph_mark();
    nn_mul_scalar(x, 3.0f);
    nn_graph_clear();
    nn_mul_scalar(x, 4.0f);
    EXPECT_NN_ERROR(nn_graph_rewind(m), "nn_graph_rewind", "no longer live", "nn_graph_clear");

    /* and after a release (the chunks themselves are gone) */
    nn_mul_scalar(x, 2.0f);
    m = nn_graph_mark();
    nn_graph_release();
    EXPECT_NN_ERROR(nn_graph_rewind(m), "nn_graph_rewind", "no longer live");
    nn_tensor_free(x);
}

static void test_rewind_to_a_mark_on_an_empty_arena(void **state) {
    (void)state;
    nn_tensor *x = nn_requires_grad(nn_from_array((float[]){1, 2}, NN_SHAPE(2)));
    for (int round = 0; round < 2; round++) {
        /* round 0: no chunk at all yet; round 1: chunks kept from an earlier clear */
        if (round == 0) nn_graph_release();
        else {
            nn_mul_scalar(x, 2.0f);
            nn_graph_clear();
        }
        assert_int_equal(nn_graph_bytes_used(), 0);
        nn_graph_mark_t m = nn_graph_mark();
        nn_tensor *y = nn_mul_scalar(x, 3.0f);
        assert_float_equal(y->data[1], 6.0f, 0);
        assert_true(nn_graph_bytes_used() > 0);
        nn_graph_rewind(m);
        assert_int_equal(nn_graph_bytes_used(), 0);
        assert_int_equal(nn_graph_node_count(), 0);
        /* the arena is usable from the start again, and backward works */
        nn_zero_grad(x);
        nn_tensor *z = nn_sum(nn_mul_scalar(x, 5.0f));
        assert_float_equal(nn_item(z), 15.0f, 0);
        nn_backward(z);
        assert_floats_near(x->grad, (float[]){5, 5}, 2, 0);
        nn_graph_rewind(m);
        assert_int_equal(nn_graph_bytes_used(), 0);
    }
    nn_tensor_free(x);
}

static void test_rewind_across_chunks(void **state) {
    (void)state;
    nn_tensor *small = pattern(21, -1, 1, NN_SHAPE(3, 5));
    nn_tensor *big = pattern(22, -1, 1, NN_SHAPE(600, 600)); /* 1.44 MB: more than a chunk */
    nn_tensor *kept_before = nn_mul_scalar(small, 2.0f);
    float want_before[15];
    memcpy(want_before, kept_before->data, sizeof want_before);
    nn_graph_mark_t m = nn_graph_mark();
    size_t base = nn_graph_bytes_used();
    size_t peak = 0;
    float *where[4] = {NULL, NULL, NULL, NULL};
    for (int round = 0; round < 4; round++) {
        /* small ones, a big one (a chunk of its own), small ones again, big one again */
        nn_tensor *s1 = nn_add_scalar(small, (float)round);
        nn_tensor *b1 = nn_mul_scalar(big, 2.0f);
        nn_tensor *s2 = nn_add_scalar(s1, 1.0f);
        for (int i = 0; i < 40; i++) nn_mul_scalar(small, 1.0f);
        nn_tensor *b2 = nn_add(b1, big);
        /* every round reuses the memory of the first, big chunks included */
        float *now[4] = {s1->data, b1->data, s2->data, b2->data};
        for (int k = 0; k < 4; k++) {
            if (round == 0) where[k] = now[k];
            assert_ptr_equal(now[k], where[k]);
        }
        assert_true(nn_graph_bytes_used() > base + 2u * 600 * 600 * 4);
        assert_float_equal(s2->data[14], small->data[14] + (float)round + 1.0f, 1e-6);
        assert_float_equal(b1->data[600 * 600 - 1], 2.0f * big->data[600 * 600 - 1], 0);
        assert_float_equal(b2->data[12345], 3.0f * big->data[12345], 1e-6);
        nn_graph_rewind(m);
        assert_int_equal(nn_graph_bytes_used(), base);
        assert_memory_equal(kept_before->data, want_before, sizeof want_before);
        if (round == 0) peak = nn_graph_bytes_peak();
        else assert_int_equal(nn_graph_bytes_peak(), peak);
    }
    /* a mark taken past a chunk boundary, then one before it */
    nn_tensor *b1 = nn_mul_scalar(big, 2.0f);
    nn_graph_mark_t late = nn_graph_mark();
    size_t at_late = nn_graph_bytes_used();
    nn_tensor *s = nn_add_scalar(small, 1.0f);
    nn_tensor *b2 = nn_mul_scalar(big, 3.0f);
    assert_float_equal(s->data[0], small->data[0] + 1.0f, 1e-6);
    assert_float_equal(b2->data[7], 3.0f * big->data[7], 1e-6);
    nn_graph_rewind(late);
    assert_int_equal(nn_graph_bytes_used(), at_late);
    assert_float_equal(b1->data[599], 2.0f * big->data[599], 0);
    nn_graph_rewind(m);
    assert_int_equal(nn_graph_bytes_used(), base);
    nn_tensor *again = nn_mul_scalar(big, -1.0f);
    assert_float_equal(again->data[359999], -big->data[359999], 0);
    assert_memory_equal(kept_before->data, want_before, sizeof want_before);
    nn_tensor_free(small);
    nn_tensor_free(big);
}

static void test_mark_limit(void **state) {
    (void)state;
    nn_tensor *x = nn_ones(NN_SHAPE(2));
    nn_graph_mark_t first = nn_graph_mark();
    for (int i = 1; i < 64; i++) {   /* 64 distinct live marks are allowed */
        nn_mul_scalar(x, 1.0f);
        nn_graph_mark();
    }
    nn_mul_scalar(x, 1.0f);
    EXPECT_NN_ERROR(nn_graph_mark(), "nn_graph_mark", "more than 64 marks");
    /* the clear in EXPECT_NN_ERROR dropped them all; a new one works */
    (void)first;
    nn_mul_scalar(x, 1.0f);
    nn_graph_mark_t m = nn_graph_mark();
    nn_mul_scalar(x, 1.0f);
    nn_graph_rewind(m);
    nn_tensor_free(x);
}

/* ---- nn_record_n: an op of any number of inputs -------------------------------------------- */

enum { WSUM_N = 5 };

/* out = sum_k c_k * in_k (same shapes; an input may be NULL); the weights live in extra. */
static void wsum_backward(nn_node *n) {
    const float *c = n->extra;
    for (int k = 0; k < n->nin; k++) {
        nn_tensor *in = n->in[k];
        if (!in || !in->requires_grad || !in->grad) continue;
        for (size_t i = 0; i < in->size; i++) in->grad[i] += c[k] * n->out->grad[i];
    }
}

static nn_tensor *wsum(int nin, nn_tensor *const *in, const float *c) {
    const nn_tensor *shape_of = NULL;
    for (int k = 0; k < nin && !shape_of; k++) shape_of = in[k];
    nn_node *node;
    nn_tensor *out = nn_record_n("wsum", wsum_backward, shape_of->ndim, shape_of->shape, nin, in,
                                 &node);
    for (int k = 0; k < nin; k++)
        if (in[k])
            for (size_t i = 0; i < out->size; i++) out->data[i] += c[k] * in[k]->data[i];
    if (node) {
        float *saved = nn_arena_alloc((size_t)nin * sizeof(float));
        memcpy(saved, c, (size_t)nin * sizeof(float));
        node->extra = saved;
    }
    return out;
}

static const float wsum_c[WSUM_N] = {1.0f, -2.0f, 0.5f, 3.0f, -1.5f};

/* L = sum(wsum(x0..x4) * x0): every input's gradient differs, x0's has two terms. */
static nn_tensor *wsum_loss(nn_tensor **in, void *user) {
    (void)user;
    return nn_sum(nn_mul(wsum(WSUM_N, in, wsum_c), in[0]));
}

static void test_record_n_any_arity(void **state) {
    (void)state;
    nn_tensor *in[WSUM_N];
    for (int k = 0; k < WSUM_N; k++)
        in[k] = nn_requires_grad(pattern(300 + (uint64_t)k, -1, 1, NN_SHAPE(2, 3)));
    nn_gradcheck_result r = nn_gradcheck(wsum_loss, in, WSUM_N, NULL, 1e-2, 1e-2);
    if (!r.ok)
        fail_msg("gradcheck: input %d element %zu analytic %.6g numeric %.6g", r.worst_input,
                 r.worst_index, r.analytic, r.numeric);
    assert_int_equal(r.checked, WSUM_N * 6);

    /* the node keeps its own copy of the input list: the caller's array may change */
    nn_graph_clear();
    for (int k = 0; k < WSUM_N; k++) nn_zero_grad(in[k]);
    nn_tensor *list[WSUM_N];
    memcpy(list, in, sizeof list);
    nn_node *node = NULL;
    nn_tensor *y = nn_record_n("probe", wsum_backward, NN_SHAPE(2, 3), WSUM_N, list, &node);
    assert_non_null(node);
    assert_int_equal(node->nin, WSUM_N);
    assert_ptr_not_equal(node->in, list);
    float *c = nn_arena_alloc(sizeof wsum_c);
    memcpy(c, wsum_c, sizeof wsum_c);
    node->extra = c;
    assert_true(y->requires_grad);
    assert_ptr_equal(y->node, node);
    assert_string_equal(node->op, "probe");
    for (int k = 0; k < WSUM_N; k++) list[k] = NULL; /* clobber the caller's copy */
    nn_backward(nn_sum(y));
    for (int k = 0; k < WSUM_N; k++)
        for (int i = 0; i < 6; i++) assert_float_equal(in[k]->grad[i], wsum_c[k], 0);

    /* NULL entries are allowed, and inputs without grad get none */
    nn_graph_clear();
    for (int k = 0; k < WSUM_N; k++) nn_zero_grad(in[k]);
    nn_tensor *plain = pattern(400, -1, 1, NN_SHAPE(2, 3));
    nn_tensor *mixed[WSUM_N] = {plain, NULL, in[2], NULL, in[4]};
    nn_tensor *z = wsum(WSUM_N, mixed, wsum_c);
    for (int i = 0; i < 6; i++)
        assert_float_equal(z->data[i], wsum_c[0] * plain->data[i] + wsum_c[2] * in[2]->data[i] +
                                           wsum_c[4] * in[4]->data[i], 1e-6);
    nn_backward(nn_sum(z));
    assert_float_equal(in[2]->grad[5], 0.5f, 0);
    assert_float_equal(in[4]->grad[0], -1.5f, 0);
    assert_float_equal(in[1]->grad[0], 0.0f, 0);
    assert_null(plain->grad);

    /* nothing wants a gradient, or grad mode is off: an output but no node */
    nn_tensor *consts[2] = {plain, plain};
    node = (nn_node *)&node; /* must be overwritten */
    nn_tensor *k = nn_record_n("probe", wsum_backward, NN_SHAPE(4), 2, consts, &node);
    assert_null(node);
    assert_false(k->requires_grad);
    assert_null(k->grad);
    assert_int_equal(k->shape[0], 4);
    nn_set_grad_enabled(false);
    int before = nn_graph_node_count();
    nn_tensor *off = nn_record_n("probe", wsum_backward, NN_SHAPE(2, 3), WSUM_N, in, &node);
    assert_null(node);
    assert_false(off->requires_grad);
    assert_int_equal(nn_graph_node_count(), before);
    nn_set_grad_enabled(true);
    /* no inputs at all: a constant */
    nn_tensor *none = nn_record_n("probe", wsum_backward, NN_SHAPE(3), 0, NULL, &node);
    assert_null(node);
    assert_floats_near(none->data, (float[]){0, 0, 0}, 3, 0);

    /* misuse */
    EXPECT_NN_ERROR(nn_record_n("probe", wsum_backward, NN_SHAPE(3), -1, in, NULL), "probe",
                    "nin = -1");
    EXPECT_NN_ERROR(nn_record_n("probe", wsum_backward, NN_SHAPE(3), 2, NULL, NULL), "probe",
                    "nin = 2", "array");
    for (int i = 0; i < WSUM_N; i++) nn_tensor_free(in[i]);
    nn_tensor_free(plain);
}

/* ---- threads: each has its own arena, tape and modes -------------------------------------- */

enum { TH_N = 8, TH_IN = 6, TH_OUT = 5, TH_ITERS = 200 };

typedef struct {
    float loss[TH_ITERS];
    float gx[TH_N * TH_IN], gw[TH_IN * TH_OUT];
    int bad_counters;      /* a node count or byte count that was not what this graph made */
} th_result;

/* A training-like loop on the thread's own owned tensors; identical wherever it runs. */
static void th_compute(const float *xd, const float *wd, th_result *res) {
    nn_tensor *x = nn_requires_grad(nn_from_array(xd, NN_SHAPE(TH_N, TH_IN)));
    nn_tensor *w = nn_requires_grad(nn_from_array(wd, NN_SHAPE(TH_IN, TH_OUT)));
    res->bad_counters = 0;
    for (int it = 0; it < TH_ITERS; it++) {
        nn_tensor *h = nn_tanh(nn_matmul(x, w));
        nn_tensor *loss = nn_mean(nn_square(nn_add_scalar(h, -0.01f * (float)(it % 13))));
        if (nn_graph_node_count() != 5) res->bad_counters++;
        nn_backward(loss);          /* grads accumulate over the iterations */
        res->loss[it] = nn_item(loss);
        x->data[it % (TH_N * TH_IN)] += 0.001f;
        nn_graph_clear();
        if (nn_graph_bytes_used() != 0 || nn_graph_node_count() != 0) res->bad_counters++;
    }
    memcpy(res->gx, x->grad, sizeof res->gx);
    memcpy(res->gw, w->grad, sizeof res->gw);
    nn_tensor_free(x);
    nn_tensor_free(w);
}

typedef struct {
    int role;                        /* 0 turns grad and training off for a while; 1 does not */
    const float *xd, *wd;
    pthread_barrier_t *barrier;
    th_result result;
    size_t bytes_at_start;           /* this thread's arena when it began: 0 */
    int mode_errors;                 /* modes that leaked between threads */
    char last_error[64];
} th_job;

static void *th_main(void *arg) {
    th_job *j = arg;
    j->bytes_at_start = nn_graph_bytes_used();
    if (!nn_is_grad_enabled() || !nn_is_training()) j->mode_errors++; /* fresh thread: defaults */
    nn_tensor *p = nn_requires_grad(nn_ones(NN_SHAPE(3)));
    pthread_barrier_wait(j->barrier);                              /* A */
    if (j->role == 0) {
        if (!nn_set_grad_enabled(false)) j->mode_errors++;
        nn_set_training(false);
    }
    pthread_barrier_wait(j->barrier);                              /* B: role 0 is off now */
    if (j->role == 0) {
        nn_tensor *y = nn_mul(p, p);
        if (y->requires_grad || nn_graph_node_count() != 0 || nn_is_grad_enabled()) j->mode_errors++;
        if (nn_dropout(p, 0.5f) != p) j->mode_errors++;           /* eval mode: identity */
    } else {
        nn_tensor *y = nn_mul(p, p);
        if (!y->requires_grad || nn_graph_node_count() != 1 || !nn_is_grad_enabled() ||
            !nn_is_training())
            j->mode_errors++;
    }
    nn_set_last_error("thread %d", j->role);
    pthread_barrier_wait(j->barrier);                              /* C: main checks its own */
    snprintf(j->last_error, sizeof j->last_error, "%s", nn_last_error());
    nn_graph_clear();
    if (j->role == 0) {
        nn_set_grad_enabled(true);
        nn_set_training(true);
    }
    th_compute(j->xd, j->wd, &j->result);
    nn_tensor_free(p);
    nn_graph_release();
    return NULL;
}

static void test_threads_have_their_own_graphs(void **state) {
    (void)state;
    float xd[2][TH_N * TH_IN], wd[2][TH_IN * TH_OUT];
    nn_rng rng;
    nn_rng_seed(&rng, 2024);
    for (int t = 0; t < 2; t++) {
        for (int i = 0; i < TH_N * TH_IN; i++) xd[t][i] = 2 * nn_rng_uniform(&rng) - 1;
        for (int i = 0; i < TH_IN * TH_OUT; i++) wd[t][i] = nn_rng_uniform(&rng) - 0.5f;
    }
    /* the references, on this thread */
    static th_result want[2];
    for (int t = 0; t < 2; t++) {
        th_compute(xd[t], wd[t], &want[t]);
        assert_int_equal(want[t].bad_counters, 0);
    }
    assert_true(want[0].loss[0] != want[1].loss[0]);

    /* this thread holds a graph while the others run */
    nn_tensor *q = nn_requires_grad(nn_from_array((float[]){1, 2, 3}, NN_SHAPE(3)));
    nn_tensor *mine = nn_mul(q, q);
    size_t my_bytes = nn_graph_bytes_used();
    assert_true(my_bytes > 0);
    nn_set_last_error("main thread");

    pthread_barrier_t barrier;
    assert_int_equal(pthread_barrier_init(&barrier, NULL, 3), 0);
    static th_job jobs[2];
    pthread_t tid[2];
    for (int t = 0; t < 2; t++) {
        memset(&jobs[t], 0, sizeof jobs[t]);
        jobs[t].role = t;
        jobs[t].xd = xd[t];
        jobs[t].wd = wd[t];
        jobs[t].barrier = &barrier;
        assert_int_equal(pthread_create(&tid[t], NULL, th_main, &jobs[t]), 0);
    }
    pthread_barrier_wait(&barrier);                                /* A */
    pthread_barrier_wait(&barrier);                                /* B */
    /* thread 0 turned its modes off; this thread's are still on */
    assert_true(nn_is_grad_enabled());
    assert_true(nn_is_training());
    nn_tensor *still = nn_mul(q, mine);
    assert_true(still->requires_grad);
    assert_int_equal(nn_graph_node_count(), 2);
    pthread_barrier_wait(&barrier);                                /* C */
    for (int t = 0; t < 2; t++) assert_int_equal(pthread_join(tid[t], NULL), 0);
    pthread_barrier_destroy(&barrier);

    for (int t = 0; t < 2; t++) {
        assert_int_equal(jobs[t].bytes_at_start, 0);
        assert_int_equal(jobs[t].mode_errors, 0);
        assert_int_equal(jobs[t].result.bad_counters, 0);
        char want_msg[32];
        snprintf(want_msg, sizeof want_msg, "thread %d", t);
        assert_string_equal(jobs[t].last_error, want_msg);
        /* bit for bit what this thread computed */
        assert_memory_equal(jobs[t].result.loss, want[t].loss, sizeof want[t].loss);
        assert_memory_equal(jobs[t].result.gx, want[t].gx, sizeof want[t].gx);
        assert_memory_equal(jobs[t].result.gw, want[t].gw, sizeof want[t].gw);
    }
    assert_string_equal(nn_last_error(), "main thread");
    /* this thread's graph came through untouched: backward through it works */
    assert_floats_near(mine->data, (float[]){1, 4, 9}, 3, 0);
    assert_int_equal(nn_graph_node_count(), 2);
    nn_backward(nn_sum(still)); /* d/dq sum(q * q^2) = 3 q^2 */
    assert_floats_near(q->grad, (float[]){3, 12, 27}, 3, 0);
    nn_tensor_free(q);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_keep_first_call_makes_owned_copy),
        NN_TEST(test_keep_reuses_same_shape_and_replaces_other_shapes),
        NN_TEST(test_keep_drops_a_gradient_of_kept),
        NN_TEST(test_keep_misuse),
        NN_TEST(test_keep_truncated_bptt),
        NN_TEST(test_detach_stops_gradient),
        NN_TEST(test_detach_teacher_target),
        NN_TEST(test_rewind_restores_counters_and_keeps_earlier_tensors),
        NN_TEST(test_rewind_generation_loop_constant_memory),
        NN_TEST(test_rewind_with_a_fresh_mark_each_iteration),
        NN_TEST(test_rewind_nested_marks),
        NN_TEST(test_rewind_refused_after_clear),
        NN_TEST(test_rewind_to_a_mark_on_an_empty_arena),
        NN_TEST(test_rewind_across_chunks),
        NN_TEST(test_mark_limit),
        NN_TEST(test_record_n_any_arity),
        NN_TEST(test_threads_have_their_own_graphs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
