/* tests/test_args.c — nn_parse_options, the command line of the example programs.
 *
 * The parser ends the program itself (exit 0 after --help, exit 2 after a usage error), so
 * each case runs it in a forked child: the child parses a pretend command line and prints
 * what it read; the parent checks the exit status and what was printed on stdout and stderr.
 */
#include "testing.h"
#include <sys/wait.h>
#include <unistd.h>

/* The pretend program's settings, with their defaults. */
static bool quick;
static int steps;
static float lr;
static uint64_t seed;
static const char *out_dir, *model, *picture;

typedef struct run {
    int status;     /* the exit status, or -1 when the child did not exit normally */
    char *out, *err; /* what it printed (the caller frees them with run_free) */
} run;

/* In the child: parse `line` (words separated by single spaces; the first is the program's
 * name), then print the values read on one line starting "parsed:" and exit 0. */
static void child(const char *line, bool takes_picture) {
    char words[512];
    char *argv[32];
    int argc = 0;
    snprintf(words, sizeof words, "%s", line);
    for (char *w = strtok(words, " "); w && argc < 31; w = strtok(NULL, " ")) argv[argc++] = w;
    argv[argc] = NULL;

    quick = false, steps = 300, lr = 0.05f, seed = 42;
    out_dir = "out", model = "both", picture = NULL;
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "small and fast"),
        NN_OPT_INT("--steps", &steps, 1, 1000000, "training steps"),
        NN_OPT_FLOAT("--lr", &lr, 1e-6, 10, "learning rate"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for pictures"),
        NN_OPT_CHOICE("--model", &model, "mlp|cnn|both", "which network"),
        NN_OPT_ARG("picture", &picture, "a picture to look at"),
    };
    int n = NN_COUNTOF(opts) - (takes_picture ? 0 : 1); /* the last one: the positional */
    nn_parse_options(argc, argv, "A pretend program for the tests.", opts, n);
    printf("parsed: quick=%d steps=%d lr=%g seed=%llu out=%s model=%s picture=%s "
           "given_steps=%d given_seed=%d\n",
           quick, steps, lr, (unsigned long long)seed, out_dir, model,
           picture ? picture : "(none)", nn_option_given(opts, n, "--steps"),
           nn_option_given(opts, n, "--seed"));
    fflush(stdout);
    _exit(0);
}

/* Run the pretend program with `line` in a child process. */
static run run_line(const char *line, bool takes_picture) {
    FILE *out = tmpfile(), *err = tmpfile();
    assert_non_null(out);
    assert_non_null(err);
    fflush(NULL); /* nothing buffered here may be printed twice */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fileno(out), STDOUT_FILENO);
        dup2(fileno(err), STDERR_FILENO);
        child(line, takes_picture);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    /* The child wrote through the same open files, so their offsets are where it stopped. */
    run r = {WIFEXITED(status) ? WEXITSTATUS(status) : -1, stream_text(out), stream_text(err)};
    fclose(out);
    fclose(err);
    return r;
}

static void run_free(run *r) {
    free(r->out);
    free(r->err);
}

/* `text` contains `want`, else fail showing both outputs. */
#define EXPECT_IN(r, text, want)                                                            \
    do {                                                                                    \
        if (!strstr((r).text, (want)))                                                      \
            fail_msg("%s lacks \"%s\"\n-- stdout:\n%s-- stderr:\n%s", #text, (want), (r).out, \
                     (r).err);                                                              \
    } while (0)

/* A usage error: exit status 2, nothing on stdout, the message and a usage line on stderr. */
static void expect_usage_error(const char *line, const char *message) {
    run r = run_line(line, true);
    if (r.status != 2)
        fail_msg("'%s' exited with %d, want 2\n-- stdout:\n%s-- stderr:\n%s", line, r.status,
                 r.out, r.err);
    assert_string_equal(r.out, "");
    EXPECT_IN(r, err, message);
    EXPECT_IN(r, err, "\nusage: prog [options] [picture]\n");
    EXPECT_IN(r, err, "'prog --help' lists the options");
    run_free(&r);
}

static void test_values_are_read(void **state) {
    (void)state;
    run r = run_line("prog --steps 50 --lr 0.5 --quick --seed 7 --out pics --model cnn", true);
    assert_int_equal(r.status, 0);
    EXPECT_IN(r, out, "parsed: quick=1 steps=50 lr=0.5 seed=7 out=pics model=cnn picture=(none) "
                      "given_steps=1 given_seed=1\n");
    assert_string_equal(r.err, "");
    run_free(&r);

    r = run_line("prog --steps=60 --lr=1e-3 --steps 70", true); /* name=value; the last wins */
    assert_int_equal(r.status, 0);
    EXPECT_IN(r, out, "steps=70 lr=0.001 ");
    run_free(&r);
}

static void test_defaults_stay_when_not_given(void **state) {
    (void)state;
    run r = run_line("prog", true);
    assert_int_equal(r.status, 0);
    EXPECT_IN(r, out, "parsed: quick=0 steps=300 lr=0.05 seed=42 out=out model=both "
                      "picture=(none) given_steps=0 given_seed=0\n");
    run_free(&r);
}

static void test_unknown_option(void **state) {
    (void)state;
    expect_usage_error("prog --bogus-flag", "prog: unknown option '--bogus-flag'\n");
    expect_usage_error("prog --stpes 5", "unknown option '--stpes'; did you mean --steps?");
    expect_usage_error("prog --qiuck", "did you mean --quick?");
    expect_usage_error("prog -seed 5", "unknown option '-seed'; did you mean --seed?");
    expect_usage_error("prog --hepl", "did you mean --help?");
    expect_usage_error("prog --mod cnn", "did you mean --model?");
    expect_usage_error("prog -x", "unknown option '-x'\n");
}

static void test_missing_value(void **state) {
    (void)state;
    expect_usage_error("prog --steps", "--steps needs a value: --steps N");
    expect_usage_error("prog --out", "--out needs a value: --out DIR");
    expect_usage_error("prog --out --quick", "--out needs a value");
    expect_usage_error("prog --quick=yes", "--quick takes no value");
}

static void test_value_that_is_not_a_number(void **state) {
    (void)state;
    expect_usage_error("prog --steps abc", "--steps: 'abc' is not a whole number");
    expect_usage_error("prog --steps 1.5", "--steps: '1.5' is not a whole number");
    expect_usage_error("prog --steps 12x", "'12x' is not a whole number");
    expect_usage_error("prog --steps=", "'' is not a whole number");
    expect_usage_error("prog --lr x", "--lr: 'x' is not a number");
    expect_usage_error("prog --lr nan", "'nan' is not a number");
    expect_usage_error("prog --model rnn", "--model: 'rnn' is not one of mlp|cnn|both");
}

static void test_number_out_of_range(void **state) {
    (void)state;
    expect_usage_error("prog --steps -5", "--steps: -5 is out of range (1 .. 1000000)");
    expect_usage_error("prog --steps 0", "out of range");
    expect_usage_error("prog --steps 3000000000", "--steps: 3000000000 is out of range");
    expect_usage_error("prog --steps 99999999999999999999999", "is out of range");
    expect_usage_error("prog --lr -1", "--lr: -1 is out of range (1e-06 .. 10)");
    expect_usage_error("prog --lr 11", "out of range");
    expect_usage_error("prog --lr 1e999", "out of range");
    expect_usage_error("prog --lr inf", "out of range");
    run r = run_line("prog --steps 1000000 --lr 10", true); /* both ends are allowed */
    assert_int_equal(r.status, 0);
    EXPECT_IN(r, out, "steps=1000000 lr=10 ");
    run_free(&r);
}

static void test_help_lists_options_with_defaults(void **state) {
    (void)state;
    run r = run_line("prog --steps 5 --help", true);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    assert_int_equal(strncmp(r.out, "usage: prog [options] [picture]\n", 32), 0);
    assert_null(strstr(r.out, "parsed:")); /* it stopped after the help */
    EXPECT_IN(r, out, "\nA pretend program for the tests.\n");
    EXPECT_IN(r, out, "\narguments:\n  picture ");
    EXPECT_IN(r, out, "a picture to look at  [optional]\n");
    EXPECT_IN(r, out, "\noptions:\n  --quick ");
    EXPECT_IN(r, out, "  --steps N ");
    EXPECT_IN(r, out, "training steps  [default: 300, range 1 .. 1000000]\n");
    EXPECT_IN(r, out, "learning rate  [default: 0.05, range 1e-06 .. 10]\n");
    EXPECT_IN(r, out, "  --seed N ");
    EXPECT_IN(r, out, "[default: 42]\n");
    EXPECT_IN(r, out, "  --out DIR ");
    EXPECT_IN(r, out, "folder for pictures  [default: out]\n");
    EXPECT_IN(r, out, "  --model mlp|cnn|both ");
    EXPECT_IN(r, out, "which network  [default: both]\n");
    EXPECT_IN(r, out, "  -h, --help ");
    run_free(&r);

    r = run_line("prog -h", false);
    assert_int_equal(r.status, 0);
    assert_int_equal(strncmp(r.out, "usage: prog [options]\n", 22), 0);
    assert_null(strstr(r.out, "arguments:"));
    run_free(&r);
}

static void test_positional_arguments(void **state) {
    (void)state;
    run r = run_line("prog cat.png --quick", true);
    assert_int_equal(r.status, 0);
    EXPECT_IN(r, out, "quick=1 ");
    EXPECT_IN(r, out, "picture=cat.png ");
    run_free(&r);

    r = run_line("prog --steps 5 -- --odd-name.png", true); /* after --: arguments only */
    assert_int_equal(r.status, 0);
    EXPECT_IN(r, out, "steps=5 ");
    EXPECT_IN(r, out, "picture=--odd-name.png ");
    run_free(&r);

    expect_usage_error("prog a.png b.png", "unexpected argument 'b.png' (prog takes at most 1)");

    r = run_line("prog stray", false); /* a program without positional arguments */
    assert_int_equal(r.status, 2);
    EXPECT_IN(r, err, "unexpected argument 'stray' (prog takes options only)");
    EXPECT_IN(r, err, "\nusage: prog [options]\n");
    run_free(&r);
}

static void test_seed(void **state) {
    (void)state;
    run r = run_line("prog --seed 0", true);
    assert_int_equal(r.status, 0);
    EXPECT_IN(r, out, "seed=0 ");
    run_free(&r);
    r = run_line("prog --seed=18446744073709551615", true);
    assert_int_equal(r.status, 0);
    EXPECT_IN(r, out, "seed=18446744073709551615 ");
    run_free(&r);
    expect_usage_error("prog --seed 18446744073709551616", "--seed: 18446744073709551616 is out of "
                                                          "range (0 .. 18446744073709551615)");
    expect_usage_error("prog --seed -1", "--seed: '-1' is not a whole number >= 0");
    expect_usage_error("prog --seed abc", "--seed: 'abc' is not a whole number >= 0");
    expect_usage_error("prog --seed 12abc", "'12abc' is not a whole number >= 0");
    expect_usage_error("prog --seed +3", "'+3' is not a whole number >= 0");
    expect_usage_error("prog --seed", "--seed needs a value: --seed N");
}

/* Mistakes in the list are the programmer's: misuse, reported like any other. */
static void test_mistakes_in_the_list_are_misuse(void **state) {
    (void)state;
    int n = 5, m = 7;
    bool b = false;
    char *argv[] = {"prog", NULL};
    nn_option reversed[] = {NN_OPT_INT("--n", &n, 10, 1, "min > max")};
    EXPECT_NN_ERROR(nn_parse_options(1, argv, NULL, reversed, 1), "nn_parse_options",
                    "--n has min 10 > max 1", "test_args.c");
    nn_option twice[] = {NN_OPT_INT("--n", &n, 1, 10, "a"), NN_OPT_INT("--n", &m, 1, 10, "b")};
    EXPECT_NN_ERROR(nn_parse_options(1, argv, NULL, twice, 2), "--n is listed twice");
    nn_option undashed[] = {NN_OPT_FLAG("quick", &b, "no dashes")};
    EXPECT_NN_ERROR(nn_parse_options(1, argv, NULL, undashed, 1), "is called 'quick'",
                    "two dashes");
    nn_option too_wide[] = {NN_OPT_INT("--n", &n, 0, 1e10, "not an int")};
    EXPECT_NN_ERROR(nn_parse_options(1, argv, NULL, too_wide, 1), "does not fit in an int");
    nn_option ok[] = {NN_OPT_INT("--n", &n, 1, 10, "fine")};
    nn_parse_options(1, argv, NULL, ok, 1); /* no arguments: nothing happens */
    assert_int_equal(n, 5);
    assert_false(nn_option_given(ok, 1, "--n"));
    EXPECT_NN_ERROR(nn_option_given(ok, 1, "--m"), "nn_option_given", "no option called '--m'");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_values_are_read),
        NN_TEST(test_defaults_stay_when_not_given),
        NN_TEST(test_unknown_option),
        NN_TEST(test_missing_value),
        NN_TEST(test_value_that_is_not_a_number),
        NN_TEST(test_number_out_of_range),
        NN_TEST(test_help_lists_options_with_defaults),
        NN_TEST(test_positional_arguments),
        NN_TEST(test_seed),
        NN_TEST(test_mistakes_in_the_list_are_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
