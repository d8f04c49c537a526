/* tests/test_train.c — the training helpers of nn/train/ (early_stop.h, progress.h,
 * diagnostics.h): early stopping, the progress bar (its non-terminal and forced-terminal
 * modes, through a tmpfile), snapshots and update ratios, activation statistics and the diagnostics report; plus the two regularization
 * forms chapter 2 compares (an L2 penalty in the loss vs weight decay in the optimizer) and
 * gradient clipping as the chapter uses it. */
#include "testing.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- early stopping ---------------------------------------------------------------------- */

static void test_early_stop_keeps_the_best(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_tensor *w = nn_model_param(m, "w", NN_SHAPE(3), true);
    nn_early_stop *es = nn_early_stop_new(m, 3, 0.0f);
    nn_early_stop_restore(es); /* before any check: nothing to restore, no harm */
    /* the validation loss goes down, then up: the best is the third check (3.0) */
    const float val[] = {5.0f, 4.0f, 3.0f, 3.5f, 3.2f, 3.1f, 2.0f};
    int stopped_at = -1;
    for (int k = 0; k < 7; k++) {
        nn_fill(w, (float)k); /* "training" changes the weights between checks */
        if (nn_early_stop_check(es, val[k])) {
            stopped_at = k;
            break;
        }
    }
    assert_int_equal(stopped_at, 5); /* three checks in a row without a new best */
    assert_true(es->stop);
    assert_float_equal(es->best, 3.0f, 0.0f);
    assert_int_equal(es->best_check, 2);
    assert_float_equal(w->data[0], 5.0f, 0.0f);
    nn_early_stop_restore(es);
    assert_floats_near(w->data, (const float[]){2, 2, 2}, 3, 0.0f); /* the best weights */
    assert_true(nn_early_stop_check(es, 1.0f) || es->stop); /* stays stopped */
    nn_early_stop_free(es);
    nn_model_free(m);
}

static void test_early_stop_min_delta_and_nan(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_tensor *w = nn_model_param(m, "w", NN_SHAPE(1), true);
    nn_early_stop *es = nn_early_stop_new(m, 2, 0.1f);
    nn_fill(w, 1.0f);
    assert_false(nn_early_stop_check(es, 1.0f));   /* first check: the best so far */
    nn_fill(w, 2.0f);
    assert_false(nn_early_stop_check(es, 0.95f));  /* better, but by less than min_delta */
    assert_int_equal(es->bad_checks, 1);
    nn_fill(w, 3.0f);
    assert_false(nn_early_stop_check(es, 0.85f));  /* better by 0.15: a new best */
    assert_int_equal(es->best_check, 2);
    nn_fill(w, 4.0f);
    bool was_on = nn_set_warnings(false);          /* (the warning is checked in test_mistakes) */
    assert_true(nn_early_stop_check(es, NAN));     /* NaN: training diverged, stop at once */
    nn_set_warnings(was_on);
    assert_non_null(strstr(es->reason, "validation loss is nan"));
    assert_true(nn_early_stop_check(es, NAN));
    nn_early_stop_restore(es);
    assert_float_equal(w->data[0], 3.0f, 0.0f);
    nn_early_stop_free(es);

    /* a NaN first check does not become "the best" */
    es = nn_early_stop_new(m, 5, 0.0f);
    was_on = nn_set_warnings(false);
    nn_early_stop_check(es, NAN);
    nn_set_warnings(was_on);
    assert_int_equal(es->best_check, -1);
    nn_early_stop_check(es, 7.0f);
    assert_int_equal(es->best_check, 1);
    nn_early_stop_free(es);

    EXPECT_NN_ERROR(nn_early_stop_new(m, 0, 0.0f), "nn_early_stop_new", "patience = 0",
                    "test_train.c:");
    nn_model_free(m);
}

/* ---- progress bar ------------------------------------------------------------------------- */

static void test_progress_not_a_terminal(void **state) {
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    nn_progress p;
    nn_progress_start_on(&p, f, NN_PROGRESS_AUTO, "train", 10); /* a file is no terminal */
    assert_int_equal(p.mode, NN_PROGRESS_PLAIN);
    for (int i = 1; i <= 10; i++) nn_progress_update(&p, i, "loss %.2f", 1.0 / i);
    assert_int_equal(ftell(f), 0); /* nothing while it runs */
    nn_progress_finish(&p);
    char *text = stream_text(f);
    assert_non_null(strstr(text, "train"));
    assert_non_null(strstr(text, "10/10"));
    assert_non_null(strstr(text, "loss 0.10"));
    assert_null(strchr(text, '\r'));    /* no redrawing in a log */
    assert_null(strchr(text, '\033'));  /* no escape codes */
    char *nl = strchr(text, '\n');
    assert_non_null(nl);
    assert_int_equal(nl[1], 0);         /* exactly one line */
    free(text);
    fclose(f);
}

static void test_progress_forced_modes(void **state) {
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    nn_progress p;
    nn_progress_start_on(&p, f, NN_PROGRESS_TTY, "epochs", 4);
    for (int i = 1; i <= 4; i++) nn_progress_update(&p, i, "acc %d%%", 20 * i);
    nn_progress_finish(&p);
    char *text = stream_text(f);
    assert_true(p.drawn >= 2);          /* at least the first and the last update, + finish */
    assert_non_null(strchr(text, '\r'));
    assert_non_null(strstr(text, "[####################] 4/4")); /* the full bar */
    assert_non_null(strstr(text, "acc 80%"));
    assert_int_equal(text[strlen(text) - 1], '\n');
    free(text);
    fclose(f);

    f = tmpfile();
    assert_non_null(f);
    nn_progress_start_on(&p, f, NN_PROGRESS_OFF, "quiet", 3);
    for (int i = 1; i <= 3; i++) nn_progress_update(&p, i, NULL);
    nn_progress_finish(&p);
    assert_int_equal(ftell(f), 0);      /* off: nothing at all */
    fclose(f);
}

/* ---- snapshots, update ratios, norms -------------------------------------------------------- */

static void test_snapshot_and_update_ratio(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_tensor *w = nn_model_param(m, "w", NN_SHAPE(2, 2), true);
    nn_tensor *b = nn_model_param(m, "b", NN_SHAPE(2), false);
    nn_fill(w, 2.0f);
    float *before = nn_model_snapshot(m);
    for (int i = 0; i < 4; i++) w->data[i] *= 1.01f; /* a 1% step */
    nn_fill(b, 0.5f);                                /* b was 0: no ratio */
    assert_float_equal(nn_model_update_ratio(m, before, 0), 0.01f, 1e-5f);
    assert_float_equal(nn_model_update_ratio(m, before, 1), 0.0f, 0.0f);
    /* the whole block: |dw| = sqrt(4 * 0.02^2 + 2 * 0.5^2), |w| = 4 */
    float want = sqrtf(4 * 0.0004f + 2 * 0.25f) / 4.0f;
    assert_float_equal(nn_model_update_ratio(m, before, -1), want, 1e-5f);
    nn_model_restore(m, before);
    assert_floats_near(w->data, (const float[]){2, 2, 2, 2}, 4, 0.0f);
    assert_floats_near(b->data, (const float[]){0, 0}, 2, 0.0f);
    free(before);

    w->grad[0] = 3.0f;
    w->grad[3] = 4.0f;
    assert_float_equal(nn_grad_norm(w), 5.0f, 1e-6f);
    assert_float_equal(nn_value_norm(w), 4.0f, 1e-6f);
    nn_tensor *plain = nn_zeros(NN_SHAPE(2));
    assert_float_equal(nn_grad_norm(plain), 0.0f, 0.0f); /* no grad at all */
    nn_tensor_free(plain);
    nn_model_free(m);
}

/* ---- activation statistics and the report ---------------------------------------------------- */

static void test_activation_stats(void **state) {
    (void)state;
    /* tanh outputs, 2 samples x 3 units: 2 of 6 beyond 0.99 */
    nn_tensor *t = nn_from_array((const float[]){0.995f, 0.0f, -0.5f, -0.999f, 0.5f, 0.0f},
                                 NN_SHAPE(2, 3));
    nn_act_stats s = nn_activation_stats(t, NN_ACT_TANH);
    assert_float_equal(s.mean, (0.995f - 0.5f - 0.999f + 0.5f) / 6.0f, 1e-6f);
    assert_float_equal(s.saturated, 2.0f / 6.0f, 1e-6f);
    assert_float_equal(s.dead, 0.0f, 0.0f);

    /* ReLU outputs: unit 1 is 0 for both samples (dead); 3 of 6 values are 0 */
    nn_tensor *r = nn_from_array((const float[]){1.0f, 0.0f, 0.0f, 3.0f, 0.0f, 2.0f},
                                 NN_SHAPE(2, 3));
    s = nn_activation_stats(r, NN_ACT_RELU);
    assert_float_equal(s.mean, 1.0f, 1e-6f);
    assert_float_equal(s.std, sqrtf((1 + 9 + 4) / 6.0f - 1.0f), 1e-5f);
    assert_float_equal(s.saturated, 0.5f, 1e-6f);
    assert_float_equal(s.dead, 1.0f / 3.0f, 1e-6f);

    /* sigmoid: below 0.01 or above 0.99 */
    nn_tensor *g = nn_from_array((const float[]){0.005f, 0.5f, 0.995f, 0.3f}, NN_SHAPE(4));
    assert_float_equal(nn_activation_stats(g, NN_ACT_SIGMOID).saturated, 0.5f, 1e-6f);
    assert_float_equal(nn_activation_stats(g, NN_ACT_LINEAR).saturated, 0.0f, 0.0f);
    nn_tensor_free(t);
    nn_tensor_free(r);
    nn_tensor_free(g);
}

static void test_start_loss_check(void **state) {
    (void)state;
    assert_float_equal(nn_expected_start_loss(10), logf(10.0f), 1e-6f);
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(nn_check_start_loss(f, 2.35f, 10), 0);
    assert_int_equal(nn_check_start_loss(f, 12.0f, 10), 1);
    assert_int_equal(nn_check_start_loss(f, 0.5f, 10), 1);
    assert_int_equal(nn_check_start_loss(NULL, NAN, 10), 1);
    char *text = stream_text(f);
    assert_non_null(strstr(text, "ln(10) = 2.3026: ok"));
    assert_non_null(strstr(text, "too high"));
    assert_non_null(strstr(text, "too low"));
    free(text);
    fclose(f);
}

static void test_diagnose_finds_problems(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_linear_layer *l = nn_linear_layer_new(m, "fc", 4, 3, NN_INIT_XAVIER);
    nn_tensor *x = nn_rand_normal(0, 1, NN_SHAPE(8, 4));

    /* healthy: small tanh activations, a small step */
    nn_tensor *h = nn_tanh(nn_linear_layer_forward(l, x));
    nn_backward(nn_sum(h));
    float *before = nn_model_snapshot(m);
    for (size_t i = 0; i < l->W->size; i++) l->W->data[i] *= 1.001f;
    nn_probe ok = {"h", h, NN_ACT_TANH};
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(nn_diagnose(f, m, &ok, 1, before), 0);
    char *text = stream_text(f);
    assert_non_null(strstr(text, "fc.W"));
    assert_non_null(strstr(text, "update/|w|"));
    assert_non_null(strstr(text, "no warnings"));
    free(text);
    fclose(f);
    nn_graph_clear();

    /* saturated: the same layer with weights 100 times larger; and a 50% step */
    for (size_t i = 0; i < l->W->size; i++) l->W->data[i] = before[i] * 100.0f;
    nn_tensor *hs = nn_tanh(nn_linear_layer_forward(l, x));
    memcpy(before, m->data, m->count * sizeof(float));
    for (size_t i = 0; i < l->W->size; i++) l->W->data[i] *= 1.5f;
    nn_probe sat = {"h", hs, NN_ACT_TANH};
    f = tmpfile();
    assert_non_null(f);
    assert_int_equal(nn_diagnose(f, m, &sat, 1, before), 2); /* saturated + large update */
    text = stream_text(f);
    assert_non_null(strstr(text, "warning: h:"));
    assert_non_null(strstr(text, "saturated"));
    assert_non_null(strstr(text, "lower the learning rate"));
    free(text);
    fclose(f);

    /* dead ReLUs and a NaN gradient; counted without printing (f = NULL) */
    nn_tensor *dead = nn_zeros(NN_SHAPE(8, 3));
    nn_probe d = {"r", dead, NN_ACT_RELU};
    l->b->grad[0] = NAN;
    assert_int_equal(nn_diagnose(NULL, m, &d, 1, NULL), 2);
    nn_tensor_free(dead);
    free(before);
    nn_tensor_free(x);
    nn_model_free(m);
}

/* ---- regularization and clipping, as chapter 2 uses them ------------------------------------- */

/* loss = mse + lambda * sum w^2 (the penalty) with plain SGD gives the same step as
 * loss = mse with SGD's weight_decay = 2 lambda: d/dw (lambda w^2) = 2 lambda w. Biases are
 * left alone by both. */
static void test_l2_penalty_equals_weight_decay(void **state) {
    (void)state;
    const float lambda = 0.05f, lr = 0.1f;
    nn_tensor *x = nn_rand_normal(0, 1, NN_SHAPE(6, 3));
    nn_tensor *y = nn_rand_normal(0, 1, NN_SHAPE(6, 2));
    float after[2][8];
    for (int k = 0; k < 2; k++) {
        nn_seed(77);
        nn_model *m = nn_model_new();
        nn_linear_layer *l = nn_linear_layer_new(m, "fc", 3, 2, NN_INIT_XAVIER);
        nn_fill(l->b, 0.3f);
        nn_optim *opt = nn_sgd_new(m, lr, 0.0f, k == 0 ? 0.0f : 2.0f * lambda);
        nn_tensor *loss = nn_mse_loss(nn_linear_layer_forward(l, x), y);
        if (k == 0) loss = nn_add(loss, nn_mul_scalar(nn_l2_penalty(m), lambda));
        nn_model_zero_grad(m);
        nn_backward(loss);
        nn_optim_step(opt);
        assert_int_equal(m->count, 8);
        memcpy(after[k], m->data, sizeof after[k]);
        nn_graph_clear();
        nn_optim_free(opt);
        nn_model_free(m);
    }
    assert_floats_near(after[0], after[1], 8, 1e-6f);
    nn_tensor_free(x);
    nn_tensor_free(y);
}

/* The L1 penalty pulls every weight toward 0 by the same amount (lambda * sign w), the L2
 * penalty in proportion to the weight (2 lambda w). */
static void test_penalty_gradients(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_tensor *w = nn_model_param(m, "w", NN_SHAPE(4), true);
    nn_tensor *b = nn_model_param(m, "b", NN_SHAPE(1), false);
    memcpy(w->data, (const float[]){-2.0f, -0.5f, 0.25f, 3.0f}, 4 * sizeof(float));
    b->data[0] = 5.0f;
    nn_tensor *l1 = nn_l1_penalty(m);
    assert_float_equal(nn_item(l1), 5.75f, 1e-6f);
    nn_model_zero_grad(m);
    nn_backward(l1);
    assert_floats_near(w->grad, (const float[]){-1, -1, 1, 1}, 4, 0.0f);
    assert_float_equal(b->grad[0], 0.0f, 0.0f);
    nn_tensor *l2 = nn_l2_penalty(m);
    assert_float_equal(nn_item(l2), 4.0f + 0.25f + 0.0625f + 9.0f, 1e-5f);
    nn_model_zero_grad(m);
    nn_backward(l2);
    assert_floats_near(w->grad, (const float[]){-4, -1, 0.5f, 6}, 4, 1e-6f);
    assert_float_equal(b->grad[0], 0.0f, 0.0f);
    nn_model_free(m);
}

static void test_clipping_bounds_the_norm(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_tensor *a = nn_model_param(m, "a", NN_SHAPE(2), true);
    nn_tensor *b = nn_model_param(m, "b", NN_SHAPE(2), false);
    memcpy(a->grad, (const float[]){300.0f, 0.0f}, 2 * sizeof(float));
    memcpy(b->grad, (const float[]){0.0f, -400.0f}, 2 * sizeof(float));
    float before = nn_clip_grad_norm(m, 1.0f);
    assert_float_equal(before, 500.0f, 1e-3f);                /* the norm before clipping */
    assert_true(nn_model_grad_norm(m) <= 1.0f + 1e-6f);       /* bounded */
    assert_floats_near(a->grad, (const float[]){0.6f, 0.0f}, 2, 1e-6f); /* same direction */
    assert_floats_near(b->grad, (const float[]){0.0f, -0.8f}, 2, 1e-6f);
    assert_float_equal(nn_clip_grad_norm(m, 1.0f), 1.0f, 1e-6f); /* already short: unchanged */
    assert_floats_near(a->grad, (const float[]){0.6f, 0.0f}, 2, 1e-6f);
    nn_model_free(m);
}

/* ---- output paths ------------------------------------------------------------------------------ */

static void test_out_path(void **state) {
    (void)state;
    char dir[128], buf[256];
    snprintf(dir, sizeof dir, "/tmp/nn_test_train_%ld", (long)getpid());
    assert_non_null(nn_out_path(buf, sizeof buf, dir, "a.svg"));
    assert_true(strstr(buf, "/a.svg") != NULL);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_non_null(nn_out_path(buf, sizeof buf, dir, "b.svg")); /* already there: fine */
    char small[8];
    assert_null(nn_out_path(small, sizeof small, dir, "long_name.svg"));
    assert_non_null(strstr(nn_last_error(), "too long"));
    /* A file where a folder should be: cannot be made (even as root). */
    char blocker[160], under[200];
    snprintf(blocker, sizeof blocker, "%s/plain_file", dir);
    FILE *f = fopen(blocker, "w");
    assert_non_null(f);
    fclose(f);
    assert_null(nn_out_path(buf, sizeof buf, blocker, "a.svg"));
    assert_non_null(strstr(nn_last_error(), "cannot create"));
    snprintf(under, sizeof under, "%s/sub", blocker);
    assert_null(nn_out_path(buf, sizeof buf, under, "a.svg"));
    assert_non_null(strstr(nn_last_error(), "cannot create"));
    remove(blocker);
    rmdir(dir);
}

static void test_out_path_nested(void **state) {
    (void)state;
    /* Missing parents are made too, like mkdir -p. */
    char top[128], mid[160], deep[200], buf[256];
    snprintf(top, sizeof top, "/tmp/nn_test_train_nest_%ld", (long)getpid());
    snprintf(mid, sizeof mid, "%s/a", top);
    snprintf(deep, sizeof deep, "%s/b/", mid); /* a trailing '/' is fine */
    assert_non_null(nn_out_path(buf, sizeof buf, deep, "x.svg"));
    assert_non_null(strstr(buf, "/a/b/"));
    assert_non_null(strstr(buf, "x.svg"));
    struct stat st;
    char b[200];
    snprintf(b, sizeof b, "%s/b", mid);
    assert_int_equal(stat(b, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    FILE *f = fopen(buf, "w"); /* the path is usable */
    assert_non_null(f);
    fclose(f);
    assert_non_null(nn_out_path(buf, sizeof buf, deep, "y.svg")); /* all there now: fine */
    snprintf(buf, sizeof buf, "%s/b/x.svg", mid);
    assert_int_equal(remove(buf), 0);
    assert_int_equal(rmdir(b), 0);
    assert_int_equal(rmdir(mid), 0);
    assert_int_equal(rmdir(top), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_early_stop_keeps_the_best),
        NN_TEST(test_early_stop_min_delta_and_nan),
        NN_TEST(test_progress_not_a_terminal),
        NN_TEST(test_progress_forced_modes),
        NN_TEST(test_snapshot_and_update_ratio),
        NN_TEST(test_activation_stats),
        NN_TEST(test_start_loss_check),
        NN_TEST(test_diagnose_finds_problems),
        NN_TEST(test_l2_penalty_equals_weight_decay),
        NN_TEST(test_penalty_gradients),
        NN_TEST(test_clipping_bounds_the_norm),
        NN_TEST(test_out_path),
        NN_TEST(test_out_path_nested),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
