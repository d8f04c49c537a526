/* tests/test_ch02_effects.c — chapter 2's experiments show the effects they claim.
 *
 * Each chapter 2 example is run as the learner runs it (with --quick, its default seed, in a
 * scratch folder) and its final `result: key=value ...` line is read back; the test asserts
 * the DIRECTION of each effect, with margins wide enough that it holds for every seed tried
 * while tuning (the docs list the measured figures): a remedy lowers the validation loss or
 * the train/validation gap, ReLU + He keeps the first layer's gradient orders of magnitude
 * above deep sigmoid's, clipping bounds the step while the unclipped run blows up, momentum
 * and Adam beat plain SGD on the ill-conditioned valley, mini-batches beat full batch on the
 * same budget, and the diagnostics flag the broken setups but not the healthy one.
 * A program's output is printed only when a check on it fails, to help find out why.
 *
 * The programs are found next to this test's own binary: BUILD/tests/test_ch02_effects ->
 * BUILD/examples/ch02_<topic>/<name> (`make test` builds the examples first).
 */
#include "testing.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static char examples_dir[1024];   /* BUILD/examples */
static char scratch[256];         /* where the programs write their pictures */

/* ---- running a program and reading its result line ----------------------------------------- */

typedef struct result {
    char line[8192];
} result;

/* The last program's output, shown only when a check on it fails (a passing run stays quiet). */
static char last_prog[256];
static char last_stdout[65536];
static size_t last_len;
static int last_cut; /* the output did not fit in last_stdout */

static void show_output(void) {
    if (!last_prog[0]) return;
    /* straight to stderr: cmocka's print_error cuts its text at 1 KB */
    fflush(stdout);
    fprintf(stderr, "---- output of %s --quick (stdout%s) ----\n%s", last_prog,
            last_cut ? ", cut short" : "", last_stdout);
    char path[300], buf[1024];
    snprintf(path, sizeof path, "%s/stderr.txt", scratch);
    FILE *f = fopen(path, "r");
    if (f) {
        fprintf(stderr, "---- its stderr ----\n");
        while (fgets(buf, sizeof buf, f)) fputs(buf, stderr);
        fclose(f);
    }
    fprintf(stderr, "---- end of output ----\n");
    fflush(stderr);
}

/* Like assert_true, but shows the program's output first when cond is false. */
#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            show_output();                                                                   \
            fail_msg("%s", "check failed: " #cond);                                          \
        }                                                                                    \
    } while (0)

/* Run BUILD/examples/<rel> --quick in the scratch folder; fail unless it exits 0 and prints
 * a result line, which goes into r. */
static void run_example(const char *rel, result *r) {
    char exe[1400], cmd[3000];
    snprintf(exe, sizeof exe, "%s/%s", examples_dir, rel);
    if (access(exe, X_OK) != 0)
        fail_msg("%s is missing: build the examples first (make BUILD=... examples, or make test)",
                 exe);
    /* stdout is kept (and scanned for the result line); stderr (the progress lines) goes to a
     * file; both are shown only if a check fails */
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --quick --out '%s' 2>'%s/stderr.txt'", scratch,
             exe, scratch, scratch);
    snprintf(last_prog, sizeof last_prog, "%s", rel);
    last_len = 0;
    last_cut = 0;
    last_stdout[0] = 0;
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char buf[8192];
    r->line[0] = 0;
    while (fgets(buf, sizeof buf, p)) {
        if (strncmp(buf, "result: ", 8) == 0) snprintf(r->line, sizeof r->line, "%s", buf);
        size_t n = strlen(buf);
        if (last_len + n < sizeof last_stdout) {
            memcpy(last_stdout + last_len, buf, n + 1);
            last_len += n;
        } else {
            last_cut = 1;
        }
    }
    int status = pclose(p);
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        show_output();
        fail_msg("%s --quick failed (status %d)", rel, status);
    }
    if (!r->line[0]) {
        show_output();
        fail_msg("%s printed no result line", rel);
    }
}

/* The number after " key=" in the result line; fails the test when the key is missing. */
static double value(const result *r, const char *key) {
    char pat[128];
    snprintf(pat, sizeof pat, " %s=", key);
    const char *at = strstr(r->line, pat);
    if (!at) {
        show_output();
        fail_msg("result line lacks %s:\n%s", key, r->line);
    }
    return strtod(at + strlen(pat), NULL);
}

/* ---- the experiments ------------------------------------------------------------------------------ */

static void test_overfitting_and_remedies(void **state) {
    (void)state;
    result r;
    run_example("ch02_overfitting/overfit", &r);
    double base_train = value(&r, "baseline_train"), base_val = value(&r, "baseline_val");
    double base_gap = value(&r, "baseline_gap");
    /* the big model memorises: train loss far below the noise (0.09), validation far above */
    CHECK(base_train < 0.02);
    CHECK(base_gap > 0.08);
    /* every remedy generalises better than the baseline, by a wide margin */
    const char *remedies[] = {"smaller", "augment", "early_stop", "l1", "l2", "weight_decay",
                              "dropout"};
    for (size_t k = 0; k < sizeof remedies / sizeof remedies[0]; k++) {
        char key[64];
        snprintf(key, sizeof key, "%s_val", remedies[k]);
        if (!(value(&r, key) < 0.75 * base_val)) {
            show_output();
            fail_msg("%s = %g is not clearly below baseline_val = %g", key, value(&r, key),
                     base_val);
        }
        snprintf(key, sizeof key, "%s_gap", remedies[k]);
        if (!(value(&r, key) < 0.5 * base_gap)) {
            show_output();
            fail_msg("%s = %g is not clearly below baseline_gap = %g", key, value(&r, key),
                     base_gap);
        }
    }
    /* L2 and weight decay shrink the weights */
    CHECK(value(&r, "l2_wnorm") < 0.5 * value(&r, "baseline_wnorm"));
    CHECK(value(&r, "weight_decay_wnorm") < 0.5 * value(&r, "baseline_wnorm"));
    /* early stopping stopped early */
    CHECK(value(&r, "early_stop_steps") < value(&r, "steps"));
}

static void test_vanishing_gradients(void **state) {
    (void)state;
    result r;
    run_example("ch02_vanishing/vanishing", &r);
    double sig1 = value(&r, "sigmoid_xavier_grad1"), sigout = value(&r, "sigmoid_xavier_gradout");
    double relu1 = value(&r, "relu_he_grad1"), reluout = value(&r, "relu_he_gradout");
    double tanh1 = value(&r, "tanh_xavier_grad1");
    CHECK(sig1 < 1e-4 * sigout);   /* deep sigmoid: the first layer gets ~nothing */
    CHECK(relu1 > 1e3 * sig1);     /* ReLU + He: orders of magnitude more */
    CHECK(tanh1 > 1e3 * sig1);
    CHECK(relu1 > 0.01 * reluout); /* and of the same order as its last layer's */
    /* the sigmoid network stays at a coin toss; the others learn */
    CHECK(value(&r, "sigmoid_xavier_loss") > 0.6);
    CHECK(value(&r, "relu_he_loss") < 0.3);
    CHECK(value(&r, "tanh_xavier_loss") < 0.3);
}

static void test_exploding_gradients_and_clipping(void **state) {
    (void)state;
    result r;
    run_example("ch02_exploding/exploding", &r);
    /* clipping bounds every step's gradient norm */
    CHECK(value(&r, "clip_max_applied") <= 1.0 + 1e-4);
    CHECK(value(&r, "clip_max_norm") > 10.0); /* ... while the raw gradient was large */
    /* without clipping the gradient explodes (or the loss turns NaN) */
    CHECK(value(&r, "noclip_max_norm") > 1e6 || value(&r, "noclip_diverged_at") > 0);
    double clip_loss = value(&r, "clip_loss");
    CHECK(isfinite(clip_loss));
    CHECK(clip_loss < 10.0);
    CHECK(value(&r, "noclip_loss") > 1000.0 * clip_loss);
    CHECK(value(&r, "he_loss") < 1.0); /* the right init needs no clipping */
}

static void test_convergence_speed(void **state) {
    (void)state;
    result r;
    run_example("ch02_convergence/convergence", &r);
    double sgd = value(&r, "sgd_loss"), start = value(&r, "start_loss");
    CHECK(value(&r, "momentum_loss") < 0.01 * sgd);
    CHECK(value(&r, "adam_loss") < 0.01 * sgd);
    CHECK(sgd < start);                          /* plain SGD does get somewhere */
    CHECK(value(&r, "sgd_big_loss") > 1e3 * start); /* too large a step diverges */
    CHECK(value(&r, "sgd_osc_loss") < start);    /* just below the limit: it oscillates
                                                        * but converges */
    CHECK((int)value(&r, "sgd_big_steps_to_1e-3") == -1);
}

static void test_minibatch_beats_full_batch(void **state) {
    (void)state;
    result r;
    run_example("ch02_minibatch/minibatch", &r);
    double full = value(&r, "full_val");
    CHECK(value(&r, "b64_val") < 0.5 * full);
    CHECK(value(&r, "b512_val") < full);
    CHECK(value(&r, "b64_steps") == 64 * value(&r, "full_steps"));
}

static void test_diagnostics_flag_the_broken_setups(void **state) {
    (void)state;
    result r;
    run_example("ch02_diagnostics/diagnostics", &r);
    double expected = value(&r, "expected_start");
    CHECK(fabs(expected - log(10.0)) < 1e-3);
    CHECK(fabs(value(&r, "healthy_start") - expected) < 0.46); /* within the check's band */
    CHECK(value(&r, "saturated_start") > 2.0 * expected);
    CHECK(value(&r, "healthy_saturated") < 0.05);
    CHECK(value(&r, "saturated_saturated") > 0.5);
    CHECK(value(&r, "dead_relu_dead") > 0.25);
    CHECK(value(&r, "healthy_dead") == 0.0);
    CHECK(value(&r, "healthy_update") < 1e-2);
}

static void test_image_augmentation_helps(void **state) {
    (void)state;
    result r;
    run_example("ch02_augment/augment", &r);
    CHECK(value(&r, "plain_train_acc") > 0.99);   /* both fit the 12 pictures ... */
    CHECK(value(&r, "augmented_val_acc") > 0.9);  /* ... only one of them generalises */
    CHECK(value(&r, "plain_val_acc") < 0.6);
}

/* ---- setup: where the programs are, and a scratch folder -------------------------------------- */

int main(int argc, char **argv) {
    (void)argc;
    /* argv[0] = BUILD/tests/test_ch02_effects  ->  BUILD/examples, made absolute because
     * the programs run in the scratch folder */
    char dir[512];
    snprintf(dir, sizeof dir, "%s", argv[0]);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    char cwd[400] = "";
    if (dir[0] != '/' && !getcwd(cwd, sizeof cwd)) {
        perror("getcwd");
        return 1;
    }
    snprintf(examples_dir, sizeof examples_dir, "%s%s%s/../examples", cwd, cwd[0] ? "/" : "",
             dir);
    snprintf(scratch, sizeof scratch, "/tmp/nn_test_ch02_XXXXXX");
    if (!mkdtemp(scratch)) {
        perror("mkdtemp");
        return 1;
    }

    const struct CMUnitTest tests[] = {
        NN_TEST(test_overfitting_and_remedies),
        NN_TEST(test_vanishing_gradients),
        NN_TEST(test_exploding_gradients_and_clipping),
        NN_TEST(test_convergence_speed),
        NN_TEST(test_minibatch_beats_full_batch),
        NN_TEST(test_diagnostics_flag_the_broken_setups),
        NN_TEST(test_image_augmentation_helps),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);

    /* remove the pictures and the folder */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", scratch);
    return failed;
}
