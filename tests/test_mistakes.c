/* tests/test_mistakes.c — the silent mistakes of a learner are caught, with a message that says
 * what happened and what to do, and correct programs see nothing of it:
 *   1. a graph tensor used after nn_graph_clear() (or after a rewind past it) is refused by
 *      every op, nn_item, nn_at and nn_backward; under AddressSanitizer the released arena
 *      memory is poisoned too, so a raw read through the old pointer is reported;
 *   2. a loop without nn_graph_clear() (the tape grows, each step slower) warns once;
 *   3. a loop without nn_model_zero_grad() (gradients pile up) warns once, and nn_diagnose
 *      says so; accumulating on purpose does not warn;
 *   4. nn_at with too few or too many indices is refused;
 *   5. a NaN/Inf gradient stops nn_optim_step and nn_clip_grad_norm before anything changes;
 *      nn_check_finite / nn_model_check_finite find the first bad value; early stopping stops
 *      at a NaN loss and the progress bar shows it;
 *   6. a tensor too large for memory names the op and the shape.
 * Warnings are read from stderr (redirected to a tmpfile) or from nn_last_warning(). */
#include "testing.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(TEST_ASAN)
#define TEST_ASAN 1
#endif
#ifdef TEST_ASAN
#include <sanitizer/asan_interface.h>
/* The out-of-memory tests ask for 4 TiB: AddressSanitizer's allocator refuses that (it would
 * otherwise stop the program), and malloc returns NULL as it does without the sanitizer. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }
#endif

/* ---- capturing stderr ------------------------------------------------------------------- */

typedef struct {
    FILE *f;
    int saved_fd;
} capture;

static void capture_start(capture *c) {
    fflush(stderr);
    c->f = tmpfile();
    assert_non_null(c->f);
    c->saved_fd = dup(2);
    assert_true(c->saved_fd >= 0);
    assert_true(dup2(fileno(c->f), 2) >= 0);
}

/* What was written to stderr since capture_start; the caller frees it. */
static char *capture_end(capture *c) {
    fflush(stderr);
    assert_true(dup2(c->saved_fd, 2) >= 0);
    close(c->saved_fd);
    fseek(c->f, 0, SEEK_END);
    char *text = stream_text(c->f);
    fclose(c->f);
    return text;
}

static int count_of(const char *text, const char *what) {
    int n = 0;
    for (const char *p = strstr(text, what); p; p = strstr(p + 1, what)) n++;
    return n;
}

/* ---- a small model (the README's sin fit) -------------------------------------------------- */

typedef struct {
    nn_model *model;
    nn_linear_layer *hidden, *output;
    nn_tensor *x, *y;
} sin_fit;

static void sin_fit_new(sin_fit *s) {
    enum { N = 32 };
    s->x = nn_zeros(NN_SHAPE(N, 1));
    s->y = nn_zeros(NN_SHAPE(N, 1));
    for (int i = 0; i < N; i++) {
        s->x->data[i] = -3.0f + 6.0f * (float)i / (N - 1);
        s->y->data[i] = sinf(s->x->data[i]);
    }
    s->model = nn_model_new();
    s->hidden = nn_linear_layer_new(s->model, "hidden", 1, 8, NN_INIT_XAVIER);
    s->output = nn_linear_layer_new(s->model, "output", 8, 1, NN_INIT_XAVIER);
}

static nn_tensor *sin_fit_loss(const sin_fit *s) {
    nn_tensor *h = nn_tanh(nn_linear_layer_forward(s->hidden, s->x));
    return nn_mse_loss(nn_linear_layer_forward(s->output, h), s->y);
}

static void sin_fit_free(sin_fit *s) {
    nn_model_free(s->model);
    nn_tensor_free(s->x);
    nn_tensor_free(s->y);
}

/* ==== 1. graph tensors after nn_graph_clear() ============================================== */

static void test_ops_refuse_a_tensor_after_clear(void **state) {
    (void)state;
    nn_tensor *x = nn_rand_normal(0.0f, 1.0f, NN_SHAPE(2, 3));
    nn_tensor *y = nn_relu(x);   /* a graph tensor */
    nn_graph_clear();
    int line = __LINE__ + 1;
    EXPECT_NN_ERROR(nn_tanh(y), "nn error in nn_tanh: input 'in' was released by "
                    "nn_graph_clear()", "its memory now holds other tensors", "nn_keep",
                    "nn_item");
    char where[64];
    snprintf(where, sizeof where, "test_mistakes.c:%d", line);
    assert_non_null(strstr(nn_test_message, where));

    /* every kind of op refuses it: one input, two inputs (either side), reductions, shapes,
     * softmax, joins, losses, layers, convolution (the bias too), argmax, keep/detach */
    nn_model *m = nn_model_new();
    nn_linear_layer *fc = nn_linear_layer_new(m, "fc", 3, 2, NN_INIT_HE);
    nn_tensor *img = nn_zeros(NN_SHAPE(1, 1, 4, 4)), *k = nn_zeros(NN_SHAPE(2, 1, 3, 3));
    nn_tensor *bias = nn_zeros(NN_SHAPE(2));
    int labels[2] = {0, 1};
    int rows[2];
#define STALE(expr, op)                                                                  \
    do {                                                                                 \
        nn_tensor *g = nn_mul_scalar(x, 2.0f);                                           \
        nn_tensor *gi = nn_reshape(nn_relu(img), NN_SHAPE(1, 1, 4, 4));                  \
        nn_tensor *gb = nn_add_scalar(bias, 0.0f);                                       \
        (void)g, (void)gi, (void)gb;                                                     \
        nn_graph_clear();                                                                \
        EXPECT_NN_ERROR(expr, op, "released by nn_graph_clear()");                       \
    } while (0)
    STALE(nn_exp(g), "nn_exp");
    STALE(nn_add(x, g), "nn_add");
    STALE(nn_mul(g, x), "nn_mul");
    STALE(nn_matmul(g, fc->W), "nn_matmul");
    STALE(nn_sum(g), "nn_sum");
    STALE(nn_mean_axis(g, 0, false), "nn_mean_axis");
    STALE(nn_max_axis(g, 1, true), "nn_max_axis");
    STALE(nn_softmax(g), "nn_softmax");
    STALE(nn_logsumexp(g, -1, false), "nn_logsumexp");
    STALE(nn_transpose(g), "nn_transpose");
    STALE(nn_slice(g, 1, 0, 2), "nn_slice");
    STALE(nn_concat(0, 2, (nn_tensor *[]){x, g}), "nn_concat");
    STALE(nn_stack(0, 2, (nn_tensor *[]){g, x}), "nn_stack");
    STALE(nn_masked_fill(x, g, 0.0f), "nn_masked_fill");
    STALE(nn_mse_loss(g, x), "nn_mse_loss");
    STALE(nn_cross_entropy_loss(g, labels), "nn_cross_entropy_loss");
    STALE(nn_linear_layer_forward(fc, g), "nn_linear_layer_forward");
    STALE(nn_dropout(g, 0.5f), "nn_dropout");
    STALE(nn_conv2d(gi, k, NULL, 1, 0), "nn_conv2d");
    STALE(nn_conv2d(img, k, gb, 1, 0), "nn_conv2d");
    STALE(nn_max_pool2d(gi, 2, 2), "nn_max_pool2d");
    STALE(nn_argmax_rows(g, rows), "nn_argmax_rows");
    STALE(nn_keep(NULL, g), "nn_keep");
    STALE(nn_detach(g), "nn_detach");
    STALE(nn_clone(g), "nn_clone");
    STALE(nn_fill(g, 1.0f), "nn_fill");
    STALE(nn_copy_into(x, g), "nn_copy_into");
    STALE(nn_item(nn_sum(g)), "nn_item");
    STALE(nn_at(g, 0, 0), "nn_at");
    STALE((nn_at)(g, 0, 0), "nn_at");
    STALE(NN_PRINT(g), "nn_tensor_fprint");
    STALE(nn_zero_grad(g), "nn_zero_grad");
    STALE(nn_activation_stats(g, NN_ACT_RELU), "nn_activation_stats");
#undef STALE
    nn_tensor_free(img);
    nn_tensor_free(k);
    nn_tensor_free(bias);
    nn_model_free(m);
    nn_tensor_free(x);
}

static void test_backward_refuses_a_stale_loss(void **state) {
    (void)state;
    sin_fit s;
    sin_fit_new(&s);
    nn_tensor *loss = sin_fit_loss(&s);
    nn_graph_clear();
    EXPECT_NN_ERROR(nn_backward(loss), "nn_backward", "input 'loss' was released by "
                    "nn_graph_clear()");
    EXPECT_NN_ERROR(nn_item(loss), "nn_item", "nn_graph_clear()");
    for (size_t i = 0; i < s.model->count; i++) assert_true(s.model->grad[i] == 0.0f);
    sin_fit_free(&s);
}

/* What survives: owned tensors, parameters, nn_keep copies, and graph tensors of this step. */
static void test_live_tensors_pass(void **state) {
    (void)state;
    nn_tensor *h = nn_zeros(NN_SHAPE(1, 3)), *kept = NULL;
    nn_tensor *w = nn_requires_grad(nn_rand_normal(0.0f, 0.5f, NN_SHAPE(3, 3)));
    for (int step = 0; step < 5; step++) {
        nn_tensor *next = nn_tanh(nn_add_scalar(nn_matmul(h, w), 1.0f));
        nn_tensor *loss = nn_sum(next);
        nn_zero_grad(w);
        nn_backward(loss);
        kept = nn_keep(kept, next);
        nn_copy_into(h, kept);
        nn_graph_clear();
    }
    assert_true(isfinite(nn_item(nn_sum(h))));
    assert_true(isfinite(nn_at(kept, 0, 2)));
    nn_tensor_free(h);
    nn_tensor_free(kept);
    nn_tensor_free(w);
}

static void test_rewind_keeps_what_came_before_the_mark(void **state) {
    (void)state;
    nn_tensor *x = nn_ones(NN_SHAPE(4));
    nn_tensor *prompt = nn_mul_scalar(x, 3.0f);   /* before the mark: stays */
    nn_graph_mark_t start = nn_graph_mark();
    nn_tensor *token = NULL;
    for (int t = 0; t < 3; t++) {
        token = nn_add(prompt, x);                /* after the mark */
        assert_float_equal(nn_item(nn_sum(token)), 16.0f, 0.0f);
        nn_graph_rewind(start);
        assert_float_equal(nn_at(prompt, 2), 3.0f, 0.0f);
    }
    EXPECT_NN_ERROR(nn_relu(token), "nn_relu", "input 'in' was released by nn_graph_rewind()",
                    "made after the mark");
    /* EXPECT_NN_ERROR cleared the graph: prompt is gone too */
    EXPECT_NN_ERROR(nn_relu(prompt), "released by nn_graph_clear()");

    /* nested marks: rewinding to the outer one releases what the inner one kept */
    nn_tensor *a = nn_mul_scalar(x, 1.0f);
    nn_graph_mark_t outer = nn_graph_mark();
    nn_tensor *b = nn_mul_scalar(x, 2.0f);
    nn_graph_mark_t inner = nn_graph_mark();
    nn_tensor *c = nn_mul_scalar(x, 3.0f);
    nn_graph_rewind(inner);
    assert_float_equal(nn_at(b, 0), 2.0f, 0.0f);
    nn_error_handler old = nn_set_error_handler(nn_test_handler, NULL);
    nn_test_caught = 0;
    if (setjmp(nn_test_jump) == 0) nn_relu(c);   /* (not EXPECT_NN_ERROR: it would clear) */
    nn_set_error_handler(old, NULL);
    assert_true(nn_test_caught);
    assert_non_null(strstr(nn_test_message, "nn_graph_rewind()"));
    nn_tensor *c2 = nn_mul_scalar(x, 4.0f);   /* made after the rewind: live */
    assert_float_equal(nn_at(c2, 0), 4.0f, 0.0f);
    nn_graph_rewind(outer);
    assert_float_equal(nn_at(a, 0), 1.0f, 0.0f);
    EXPECT_NN_ERROR(nn_exp(b), "nn_exp", "nn_graph_rewind()");
    nn_tensor_free(x);
}

/* AddressSanitizer builds: the memory of released tensors is poisoned, and a raw read through
 * an old pointer (not through an op) is reported by the sanitizer. */
static void test_released_memory_is_poisoned_under_asan(void **state) {
    (void)state;
#ifdef TEST_ASAN
    nn_tensor *x = nn_ones(NN_SHAPE(64));
    nn_tensor *y = nn_mul_scalar(x, 2.0f);
    float *old_data = y->data;
    assert_false(__asan_address_is_poisoned(old_data));
    nn_graph_clear();
    assert_true(__asan_address_is_poisoned(old_data));
    assert_true(__asan_address_is_poisoned(y));
    nn_tensor *z = nn_mul_scalar(x, 3.0f);   /* reuses the memory: unpoisoned again */
    assert_false(__asan_address_is_poisoned(z->data));
    assert_false(__asan_region_is_poisoned(z->data, z->size * sizeof(float)));
    nn_graph_mark_t m = nn_graph_mark();
    float *after_data = nn_mul_scalar(x, 4.0f)->data;
    nn_graph_rewind(m);
    assert_true(__asan_address_is_poisoned(after_data));
    assert_false(__asan_address_is_poisoned(z->data));
    nn_tensor_free(x);

    /* a raw read in a child process: the sanitizer stops it */
    char self[1024], cmd[1200], out[8192] = {0};
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) skip();
    self[len] = 0;
    snprintf(cmd, sizeof cmd, "ASAN_OPTIONS=detect_leaks=0 '%s' --raw-read-demo 2>&1", self);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    int status = pclose(p);
    assert_true(n > 0);
    assert_non_null(strstr(out, "use-after-poison"));
    assert_null(strstr(out, "raw read was not caught"));
    assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
#else
    skip();
#endif
}

static int raw_read_demo(void) {
    nn_tensor *x = nn_ones(NN_SHAPE(8));
    nn_tensor *y = nn_mul_scalar(x, 2.0f);
    nn_graph_clear();
    volatile float v = y->data[0];   /* the mistake: a released graph tensor */
    printf("raw read was not caught: %g\n", (double)v);
    nn_tensor_free(x);
    return 0;
}

/* ==== 2. a loop that never clears the graph ================================================ */

static void test_growing_graph_warns_once(void **state) {
    (void)state;
    sin_fit s;
    sin_fit_new(&s);
    nn_optim *opt = nn_adam_new(s.model, 0.01f, 0.0f);
    capture c;
    capture_start(&c);
    int line = 0;
    for (int step = 0; step < 150; step++) {
        nn_tensor *loss = sin_fit_loss(&s);
        nn_model_zero_grad(s.model);
        line = __LINE__ + 1;
        nn_backward(loss);
        nn_optim_step(opt);
        /* the mistake: no nn_graph_clear() */
    }
    char *text = capture_end(&c);
    assert_int_equal(count_of(text, "nn warning"), 1);
    assert_non_null(strstr(text, "nn warning: the graph has grown across 100 calls to "
                                 "nn_backward without nn_graph_clear()"));
    assert_non_null(strstr(text, "every step is slower"));
    assert_non_null(strstr(text, "hint: call nn_graph_clear() at the end of each step"));
    assert_non_null(strstr(text, "nn_set_warnings(false)"));
    char where[64];
    snprintf(where, sizeof where, "test_mistakes.c:%d\n", line);
    assert_non_null(strstr(text, where));
    assert_non_null(strstr(nn_last_warning(), "the graph has grown"));
    free(text);
    nn_optim_free(opt);
    sin_fit_free(&s);
}

static void test_growing_graph_can_be_silenced(void **state) {
    (void)state;
    sin_fit s;
    sin_fit_new(&s);
    bool was = nn_set_warnings(false);
    assert_true(was);
    capture c;
    capture_start(&c);
    for (int step = 0; step < 120; step++) {
        nn_tensor *loss = sin_fit_loss(&s);
        nn_model_zero_grad(s.model);
        nn_backward(loss);
    }
    char *text = capture_end(&c);
    nn_set_warnings(was);
    assert_string_equal(text, "");
    assert_non_null(strstr(nn_last_warning(), "the graph has grown across 100 calls"));
    free(text);
    sin_fit_free(&s);
}

static nn_tensor *square_sum(nn_tensor **in, void *user) {
    (void)user;
    return nn_sum(nn_mul(nn_tanh(in[0]), in[0]));
}

/* Correct programs: clearing every step, many backward calls on one graph, rewinding to a
 * mark every step, gradient checks, gradient accumulation: no warning at all. */
static void test_no_growth_warning_for_correct_programs(void **state) {
    (void)state;
    sin_fit s;
    sin_fit_new(&s);
    nn_optim *opt = nn_sgd_new(s.model, 0.05f, 0.9f, 0.0f);
    capture c;
    capture_start(&c);
    for (int step = 0; step < 300; step++) {   /* the right loop */
        nn_tensor *loss = sin_fit_loss(&s);
        nn_model_zero_grad(s.model);
        nn_backward(loss);
        nn_optim_step(opt);
        nn_graph_clear();
    }
    nn_model_zero_grad(s.model);
    nn_tensor *loss = sin_fit_loss(&s);        /* one graph, 200 backward calls */
    for (int k = 0; k < 200; k++) nn_backward(loss);
    nn_graph_clear();
    nn_graph_mark_t start = nn_graph_mark();   /* a step that rewinds instead of clearing */
    for (int step = 0; step < 200; step++) {
        nn_tensor *l = sin_fit_loss(&s);
        nn_model_zero_grad(s.model);
        nn_backward(l);
        nn_optim_step(opt);
        nn_graph_rewind(start);
    }
    nn_graph_clear();
    nn_tensor *x = nn_requires_grad(nn_rand_normal(0.0f, 1.0f, NN_SHAPE(3, 4)));
    for (int k = 0; k < 10; k++) {             /* gradcheck: backward, then 2 evals per value */
        nn_gradcheck_result r = nn_gradcheck(square_sum, &x, 1, NULL, 1e-2, 1e-2);
        assert_true(r.ok);
    }
    for (int step = 0; step < 30; step++) {    /* micro-batches, no clear in between */
        nn_model_zero_grad(s.model);
        for (int micro = 0; micro < 4; micro++) nn_backward(sin_fit_loss(&s));
        nn_optim_step(opt);
        nn_graph_clear();
    }
    char *text = capture_end(&c);
    assert_string_equal(text, "");
    free(text);
    nn_tensor_free(x);
    nn_optim_free(opt);
    sin_fit_free(&s);
}

/* ==== 3. a loop that never zeroes the gradients ============================================ */

static void test_forgotten_zero_grad_warns_once(void **state) {
    (void)state;
    sin_fit s;
    sin_fit_new(&s);
    nn_optim *opt = nn_adam_new(s.model, 0.01f, 0.0f);
    capture c;
    capture_start(&c);
    int line = 0;
    for (int step = 0; step < 20; step++) {
        nn_tensor *loss = sin_fit_loss(&s);
        /* the mistake: no nn_model_zero_grad(s.model) */
        line = __LINE__ + 1;
        nn_backward(loss);
        nn_optim_step(opt);
        nn_graph_clear();
    }
    char *text = capture_end(&c);
    assert_int_equal(count_of(text, "nn warning"), 1);
    assert_non_null(strstr(text, "nn warning: nn_backward adds to the gradient of 'output.W', "
                                 "which still holds the gradient that nn_optim_step used: the "
                                 "gradients pile up step after step"));
    assert_non_null(strstr(text, "hint: call nn_model_zero_grad(model) before each nn_backward"));
    char where[64];
    snprintf(where, sizeof where, "test_mistakes.c:%d\n", line);
    assert_non_null(strstr(text, where));
    free(text);

    /* nn_diagnose flags it too, for every parameter, until the gradients are zeroed */
    nn_tensor *loss = sin_fit_loss(&s);
    nn_backward(loss);
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(nn_diagnose(f, s.model, NULL, 0, NULL), 4);
    text = stream_text(f);
    assert_non_null(strstr(text, "warning: hidden.W: gradients pile up across steps"));
    assert_non_null(strstr(text, "nn_model_zero_grad"));
    free(text);
    fclose(f);
    nn_model_zero_grad(s.model);
    nn_backward(loss);
    assert_int_equal(nn_diagnose(NULL, s.model, NULL, 0, NULL), 0);
    nn_graph_clear();
    nn_optim_free(opt);
    sin_fit_free(&s);
}

/* Each model warns once; a model of its own warns again. */
static void test_zero_grad_warning_is_per_model(void **state) {
    (void)state;
    sin_fit a, b;
    sin_fit_new(&a);
    sin_fit_new(&b);
    nn_optim *oa = nn_sgd_new(a.model, 0.01f, 0.0f, 0.0f), *ob = nn_sgd_new(b.model, 0.01f, 0.0f, 0.0f);
    bool was = nn_set_warnings(false);
    for (int step = 0; step < 5; step++) {
        nn_backward(sin_fit_loss(&a));
        nn_optim_step(oa);
        nn_graph_clear();
    }
    assert_true(a.model->warned_piled);
    assert_false(b.model->warned_piled);
    for (int step = 0; step < 5; step++) {
        nn_backward(sin_fit_loss(&b));
        nn_optim_step(ob);
        nn_graph_clear();
    }
    assert_true(b.model->warned_piled);
    nn_set_warnings(was);
    nn_optim_free(oa);
    nn_optim_free(ob);
    sin_fit_free(&a);
    sin_fit_free(&b);
}

/* Zeroing in any of the usual places, or by hand, and accumulating on purpose: no warning. */
static void test_no_zero_grad_warning_for_correct_programs(void **state) {
    (void)state;
    sin_fit s;
    sin_fit_new(&s);
    nn_optim *opt = nn_adamw_new(s.model, 0.01f, 0.01f);
    capture c;
    capture_start(&c);
    for (int step = 0; step < 10; step++) {    /* zero before backward (the README) */
        nn_tensor *loss = sin_fit_loss(&s);
        nn_model_zero_grad(s.model);
        nn_backward(loss);
        nn_optim_step(opt);
        nn_graph_clear();
    }
    nn_model_zero_grad(s.model);               /* (the loop above ends with a step) */
    for (int step = 0; step < 10; step++) {    /* zero after the step (PyTorch's other order) */
        nn_backward(sin_fit_loss(&s));
        nn_optim_step(opt);
        nn_model_zero_grad(s.model);
        nn_graph_clear();
    }
    for (int step = 0; step < 10; step++) {    /* accumulate 4 micro-batches, then one step */
        nn_model_zero_grad(s.model);
        for (int micro = 0; micro < 4; micro++) {
            nn_backward(nn_mul_scalar(sin_fit_loss(&s), 0.25f));
            nn_graph_clear();
        }
        nn_optim_step(opt);
    }
    for (int step = 0; step < 5; step++) {     /* zeroed by hand, tensor by tensor */
        for (int p = 0; p < s.model->nparams; p++) nn_zero_grad(s.model->params[p]);
        nn_backward(sin_fit_loss(&s));
        nn_optim_step(opt);
        nn_graph_clear();
    }
    for (int step = 0; step < 5; step++) {     /* ... or with memset */
        memset(s.model->grad, 0, s.model->count * sizeof(float));
        nn_backward(sin_fit_loss(&s));
        nn_optim_step(opt);
        nn_graph_clear();
    }
    nn_model_freeze(s.model, "hidden.");       /* frozen parameters are never stepped */
    for (int step = 0; step < 5; step++) {
        nn_model_zero_grad(s.model);
        nn_backward(sin_fit_loss(&s));
        nn_optim_step(opt);
        nn_graph_clear();
    }
    char *text = capture_end(&c);
    assert_string_equal(text, "");
    free(text);
    assert_false(s.model->warned_piled);
    nn_model_zero_grad(s.model);
    nn_backward(sin_fit_loss(&s));
    assert_int_equal(nn_diagnose(NULL, s.model, NULL, 0, NULL), 0);
    nn_graph_clear();
    nn_optim_free(opt);
    sin_fit_free(&s);
}

/* ==== 4. nn_at counts its indices ========================================================== */

static void test_at_counts_indices(void **state) {
    (void)state;
    nn_tensor *t = nn_from_array((const float[]){1, 2, 3, 4, 5, 6}, NN_SHAPE(2, 3));
    assert_float_equal(nn_at(t, 1, 2), 6.0f, 0.0f);
    EXPECT_NN_ERROR(nn_at(t, 1), "nn error in nn_at: 1 index given for a tensor of shape "
                    "(2, 3), which needs 2", "hint: one index per dimension: nn_at(t, i, j)",
                    "test_mistakes.c:");
    EXPECT_NN_ERROR(nn_at(t, 0, 1, 2), "3 indices given for a tensor of shape (2, 3), which "
                    "needs 2");
    EXPECT_NN_ERROR(nn_at(t, 0, 3), "index 3 out of range for dim 1");
    nn_tensor *s = nn_scalar(7.0f), *v = nn_zeros(NN_SHAPE(5)), *q = nn_zeros(NN_SHAPE(1, 2, 3, 4));
    assert_float_equal(nn_at(s), 7.0f, 0.0f);
    EXPECT_NN_ERROR(nn_at(s, 0), "1 index given", "which needs 0", "nn_item");
    EXPECT_NN_ERROR(nn_at(v, 0, 0), "2 indices given", "nn_at(t, i) for a 1-D tensor");
    q->data[q->size - 1] = 9.0f;
    assert_float_equal(nn_at(q, 0, 1, 2, 3), 9.0f, 0.0f);
    EXPECT_NN_ERROR(nn_at(q, 0, 1, 2), "3 indices given", "nn_at(t, i, j, k, l)");
    EXPECT_NN_ERROR(nn_at(q, 0, 1, 2, 3, 0), "5 indices given");
    /* the function itself (the library's own calls) trusts ndim */
    assert_float_equal((nn_at)(t, 0, 1), 2.0f, 0.0f);
    assert_int_equal(NN_NARGS(a), 1);
    assert_int_equal(NN_NARGS(a, b, c, d, e), 5);
    assert_int_equal(NN_NARGS(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), 12);
    nn_tensor_free(t);
    nn_tensor_free(s);
    nn_tensor_free(v);
    nn_tensor_free(q);
}

/* ==== 5. NaN and Inf ======================================================================= */

static void test_optim_step_refuses_nonfinite_grads(void **state) {
    (void)state;
    sin_fit s;
    sin_fit_new(&s);
    nn_optim *opts[3] = {nn_sgd_new(s.model, 0.1f, 0.9f, 1e-3f), nn_adam_new(s.model, 0.01f, 0.0f),
                         nn_adamw_new(s.model, 0.01f, 0.1f)};
    float *before = malloc(s.model->count * sizeof(float));
    float *moments = malloc(s.model->count * sizeof(float));
    for (int k = 0; k < 3; k++) {
        nn_model_zero_grad(s.model);
        nn_backward(sin_fit_loss(&s));
        nn_graph_clear();
        nn_optim_step(opts[k]);                /* one good step, so there is momentum */
        nn_model_zero_grad(s.model);
        nn_backward(sin_fit_loss(&s));
        nn_graph_clear();
        s.model->params[2]->grad[5] = k == 1 ? INFINITY : NAN;   /* output.W [5, 0] */
        memcpy(before, s.model->data, s.model->count * sizeof(float));
        memcpy(moments, opts[k]->m, s.model->count * sizeof(float));
        long t = opts[k]->t;
        int line = __LINE__ + 1;
        EXPECT_NN_ERROR(nn_optim_step(opts[k]), "nn error in nn_optim_step: parameter "
                        "'output.W' has a gradient that is not finite: grad[5, 0] = ",
                        "(shape (8, 1); 1 of 8 gradients not finite)", "nothing was changed",
                        "nn_clip_grad_norm", "nn_check_finite");
        char where[64];
        snprintf(where, sizeof where, "test_mistakes.c:%d", line);
        assert_non_null(strstr(nn_test_message, where));
        assert_non_null(strstr(nn_test_message, k == 1 ? "= inf" : "= nan"));
        assert_memory_equal(before, s.model->data, s.model->count * sizeof(float));
        assert_memory_equal(moments, opts[k]->m, s.model->count * sizeof(float));
        assert_int_equal(opts[k]->t, t);
        nn_optim_free(opts[k]);
    }
    free(before);
    free(moments);
    sin_fit_free(&s);
}

static void test_clip_refuses_nonfinite_grads(void **state) {
    (void)state;
    sin_fit s;
    sin_fit_new(&s);
    nn_backward(sin_fit_loss(&s));
    nn_graph_clear();
    s.model->params[0]->grad[3] = -INFINITY;   /* hidden.W [0, 3] */
    float *grads = malloc(s.model->count * sizeof(float));
    memcpy(grads, s.model->grad, s.model->count * sizeof(float));
    EXPECT_NN_ERROR(nn_clip_grad_norm(s.model, 1.0f), "nn error in nn_clip_grad_norm: "
                    "parameter 'hidden.W' has a gradient that is not finite: grad[0, 3] = -inf");
    assert_memory_equal(grads, s.model->grad, s.model->count * sizeof(float));

    /* finite gradients whose norm is beyond float (3e38 * sqrt(17)): still clipped */
    nn_model_zero_grad(s.model);
    for (size_t i = 0; i < s.model->count; i++) s.model->grad[i] = 3e38f;
    float norm = nn_clip_grad_norm(s.model, 1.0f);
    assert_true(isinf(norm));
    assert_true(nn_model_check_finite(s.model));
    assert_float_equal(nn_model_grad_norm(s.model), 1.0f, 1e-4f);
    free(grads);
    sin_fit_free(&s);
}

static void test_check_finite_reports_the_first_bad_value(void **state) {
    (void)state;
    /* no error handler is installed: these must never abort */
    nn_tensor *x = nn_zeros(NN_SHAPE(3, 4));
    assert_true(nn_check_finite(x, "x"));
    x->data[6] = NAN;
    x->data[9] = INFINITY;
    assert_false(nn_check_finite(x, "x"));
    assert_string_equal(nn_last_error(), "x: value[1, 2] = nan (shape (3, 4); 2 of 12 values "
                                         "not finite)");
    x->data[6] = 0.0f;
    assert_false(nn_check_finite(x, NULL));
    assert_string_equal(nn_last_error(), "tensor: value[2, 1] = inf (shape (3, 4); 1 of 12 "
                                         "values not finite)");
    x->data[9] = 0.0f;
    nn_requires_grad(x);
    x->grad[11] = -INFINITY;
    assert_false(nn_check_finite(x, "x"));
    assert_string_equal(nn_last_error(), "x: grad[2, 3] = -inf (shape (3, 4); 1 of 12 gradients "
                                         "not finite)");
    nn_tensor *s = nn_scalar(NAN);
    assert_false(nn_check_finite(s, "loss"));
    assert_string_equal(nn_last_error(), "loss: value = nan (shape (); 1 of 1 values not finite)");
    assert_false(nn_check_finite(NULL, "pred"));
    assert_non_null(strstr(nn_last_error(), "pred is NULL"));
    nn_tensor *g = nn_exp(s);
    assert_false(nn_check_finite(g, "g"));
    nn_graph_clear();
    assert_false(nn_check_finite(g, "g"));
    assert_non_null(strstr(nn_last_error(), "g is a graph tensor released by nn_graph_clear()"));
    /* a long tensor: the bad value in a later block */
    nn_tensor *big = nn_zeros(NN_SHAPE(5000));
    assert_true(nn_check_finite(big, "big"));
    big->data[4321] = NAN;
    assert_false(nn_check_finite(big, "big"));
    assert_non_null(strstr(nn_last_error(), "big: value[4321] = nan"));
    nn_tensor_free(big);
    nn_tensor_free(s);
    nn_tensor_free(x);
}

static void test_model_check_finite_names_the_parameter(void **state) {
    (void)state;
    sin_fit s;
    sin_fit_new(&s);
    assert_true(nn_model_check_finite(s.model));
    s.model->params[1]->grad[4] = NAN;   /* hidden.b */
    assert_false(nn_model_check_finite(s.model));
    assert_string_equal(nn_last_error(), "parameter 'hidden.b': grad[4] = nan (shape (8); 1 of 8 "
                                         "gradients not finite)");
    s.model->params[1]->data[2] = INFINITY;   /* a value is reported before a gradient */
    assert_false(nn_model_check_finite(s.model));
    assert_non_null(strstr(nn_last_error(), "parameter 'hidden.b': value[2] = inf"));
    assert_false(nn_model_check_finite(NULL));
    sin_fit_free(&s);
}

static void test_early_stop_stops_at_nan(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_tensor *w = nn_model_param(m, "w", NN_SHAPE(2), true);
    nn_early_stop *es = nn_early_stop_new(m, 50, 0.0f);
    nn_fill(w, 1.0f);
    assert_false(nn_early_stop_check(es, 0.5f));
    assert_string_equal(es->reason, "");
    nn_fill(w, 2.0f);
    assert_false(nn_early_stop_check(es, 0.7f));
    nn_fill(w, 1e30f);
    capture c;
    capture_start(&c);
    assert_true(nn_early_stop_check(es, NAN));   /* at once, patience 50 notwithstanding */
    assert_true(nn_early_stop_check(es, INFINITY));
    char *text = capture_end(&c);
    assert_true(es->stop);
    assert_string_equal(es->reason, "validation loss is nan at check 2: training diverged; the "
                                    "best was 0.5 at check 0");
    assert_non_null(strstr(nn_last_error(), es->reason));
    assert_int_equal(count_of(text, "nn warning"), 1);
    assert_non_null(strstr(text, "nn warning: nn_early_stop_check stops training: validation "
                                 "loss is nan at check 2"));
    assert_non_null(strstr(text, "nn_early_stop_restore"));
    free(text);
    nn_early_stop_restore(es);
    assert_float_equal(w->data[0], 1.0f, 0.0f);
    nn_early_stop_free(es);

    /* patience running out gives a reason too (and no warning) */
    es = nn_early_stop_new(m, 2, 0.0f);
    nn_early_stop_check(es, 1.0f);
    nn_early_stop_check(es, 2.0f);
    assert_true(nn_early_stop_check(es, 3.0f));
    assert_string_equal(es->reason, "no improvement by more than 0 in 2 checks; the best was 1 "
                                    "at check 0");
    nn_early_stop_free(es);
    nn_model_free(m);
}

static void test_progress_shows_a_nan_loss(void **state) {
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    nn_progress p;
    nn_progress_start_on(&p, f, NN_PROGRESS_PLAIN, "train", 10);
    for (int i = 1; i <= 10; i++)
        nn_progress_update(&p, i, "loss %.4f  info %d", i < 4 ? 1.0 / i : NAN, i);
    nn_progress_finish(&p);
    char *text = stream_text(f);
    assert_non_null(strstr(text, "loss nan  info 10  [nan/inf since 4: training diverged]\n"));
    free(text);
    fclose(f);

    f = tmpfile();   /* a terminal: the note is drawn with the bar */
    assert_non_null(f);
    nn_progress_start_on(&p, f, NN_PROGRESS_TTY, "train", 3);
    nn_progress_update(&p, 1, "loss %g", 0.5);
    nn_progress_update(&p, 3, "loss %g", -INFINITY);
    nn_progress_finish(&p);
    text = stream_text(f);
    assert_non_null(strstr(text, "loss -inf  [nan/inf since 3: training diverged]"));
    free(text);
    fclose(f);

    f = tmpfile();   /* finite numbers and words that contain "inf" or "nan": no note */
    assert_non_null(f);
    nn_progress_start_on(&p, f, NN_PROGRESS_PLAIN, "infer", 2);
    nn_progress_update(&p, 1, "info nano banana %g", 1.5);
    nn_progress_update(&p, 2, "loss %g inference", 1e30);
    nn_progress_finish(&p);
    text = stream_text(f);
    assert_null(strstr(text, "diverged"));
    assert_int_equal(p.nonfinite_at, -1);
    free(text);
    fclose(f);
}

/* ==== 6. tensors too large for memory ====================================================== */

/* The tests ask for 4 TiB, which must fail. Without the sanitizer an address-space limit makes
 * sure of it (a system that overcommits memory could otherwise say yes); the sanitizer has a
 * maximum allocation size of its own (and needs its address space). */
#ifndef TEST_ASAN
static struct rlimit saved_limit;
#endif
static void limit_memory(void) {
#ifndef TEST_ASAN
    assert_int_equal(getrlimit(RLIMIT_AS, &saved_limit), 0);
    struct rlimit lim = saved_limit;
    rlim_t want = (rlim_t)64 << 30;
    if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur > want) lim.rlim_cur = want;
    assert_int_equal(setrlimit(RLIMIT_AS, &lim), 0);
#endif
}
static void unlimit_memory(void) {
#ifndef TEST_ASAN
    assert_int_equal(setrlimit(RLIMIT_AS, &saved_limit), 0);
#endif
}

static void test_out_of_memory_names_op_and_shape(void **state) {
    (void)state;
    limit_memory();
    EXPECT_NN_ERROR(nn_zeros(NN_SHAPE(1 << 20, 1 << 20)), "nn error in nn_zeros: out of memory: "
                    "a tensor of shape (1048576, 1048576) needs 4.0 TiB", "test_mistakes.c:");
    nn_tensor *col = nn_zeros(NN_SHAPE(1 << 20, 1)), *row = nn_zeros(NN_SHAPE(1, 1 << 20));
    EXPECT_NN_ERROR(nn_matmul(col, row), "nn error in nn_matmul: out of memory: the result, of "
                    "shape (1048576, 1048576), needs 4.0 TiB", "smaller batches");
    nn_requires_grad(col);
    EXPECT_NN_ERROR(nn_add(col, row), "nn error in nn_add: out of memory: the result, of shape "
                    "(1048576, 1048576), needs 8.0 TiB with its gradient");
    nn_tensor *col2 = nn_zeros(NN_SHAPE(1 << 21, 1)), *row2 = nn_zeros(NN_SHAPE(1, 1 << 21));
    EXPECT_NN_ERROR(nn_matmul(col2, row2), "nn error in nn_matmul: the result would have shape "
                    "(2097152, 2097152): too many elements", "2^40");
    nn_model *m = nn_model_new();
    nn_linear_layer_new(m, "fc", 4, 4, NN_INIT_HE);
    EXPECT_NN_ERROR(nn_model_param(m, "huge", NN_SHAPE(1 << 20, 1 << 20), true),
                    "nn error in nn_model_param: out of memory: parameter \"huge\" of shape "
                    "(1048576, 1048576) needs 8.0 TiB (the model holds 20 floats already)");
    assert_int_equal(m->nparams, 2);   /* the model is as it was, and still works */
    assert_int_equal(m->count, 20);
    nn_tensor *one = nn_ones(NN_SHAPE(1, 4));
    nn_tensor *y = nn_linear_layer_forward(m->blocks[0], one);
    assert_true(isfinite(nn_item(nn_sum(y))));
    nn_tensor_free(one);
    unlimit_memory();
    nn_model_free(m);
    nn_tensor_free(col);
    nn_tensor_free(row);
    nn_tensor_free(col2);
    nn_tensor_free(row2);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--raw-read-demo") == 0) return raw_read_demo();
    const struct CMUnitTest tests[] = {
        NN_TEST(test_ops_refuse_a_tensor_after_clear),
        NN_TEST(test_backward_refuses_a_stale_loss),
        NN_TEST(test_live_tensors_pass),
        NN_TEST(test_rewind_keeps_what_came_before_the_mark),
        NN_TEST(test_released_memory_is_poisoned_under_asan),
        NN_TEST(test_growing_graph_warns_once),
        NN_TEST(test_growing_graph_can_be_silenced),
        NN_TEST(test_no_growth_warning_for_correct_programs),
        NN_TEST(test_forgotten_zero_grad_warns_once),
        NN_TEST(test_zero_grad_warning_is_per_model),
        NN_TEST(test_no_zero_grad_warning_for_correct_programs),
        NN_TEST(test_at_counts_indices),
        NN_TEST(test_optim_step_refuses_nonfinite_grads),
        NN_TEST(test_clip_refuses_nonfinite_grads),
        NN_TEST(test_check_finite_reports_the_first_bad_value),
        NN_TEST(test_model_check_finite_names_the_parameter),
        NN_TEST(test_early_stop_stops_at_nan),
        NN_TEST(test_progress_shows_a_nan_loss),
        NN_TEST(test_out_of_memory_names_op_and_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
