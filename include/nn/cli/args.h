/* nn/cli/args.h — the command line of the example programs: options, --help, usage errors.
 *
 * A program lists its options once, each with the variable it sets. The value already in
 * the variable is the default, and --help shows it:
 *
 *     bool quick = false;
 *     int steps = 600;
 *     float lr = 0.05f;
 *     uint64_t seed = 42;
 *     const char *out_dir = "out", *picture = NULL;
 *     nn_option opts[] = {
 *         NN_OPT_FLAG("--quick", &quick, "small and fast (for the tests)"),
 *         NN_OPT_INT("--steps", &steps, 1, 1000000, "training steps"),
 *         NN_OPT_FLOAT("--lr", &lr, 1e-6, 10, "learning rate"),
 *         NN_OPT_SEED(&seed),
 *         NN_OPT_STR("--out", &out_dir, "DIR", "folder for the pictures"),
 *         NN_OPT_ARG("picture", &picture, "a picture to look at"),
 *     };
 *     nn_parse_options(argc, argv, "What the program does, in a few lines.", opts,
 *                      NN_COUNTOF(opts));
 *
 * What the user can then type, and what happens:
 *   prog --steps 50 --lr 0.1    sets steps and lr (--steps=50 works too; the last one wins)
 *   prog my.png                 a positional argument: sets picture (a program accepts as
 *                               many as it lists with NN_OPT_ARG, each optional)
 *   prog --help  (or -h)        prints "usage: prog [options] [picture]", the description,
 *                               and every option with its meaning, range and default; exit 0
 *   prog --stpes 50             a usage error: it says what is wrong ("unknown option
 *                               '--stpes'; did you mean --steps?") and prints the usage line
 *                               on stderr, then exits with status 2. So do a missing value
 *                               ("--steps" last), a value that is not a number ("--steps x",
 *                               "--steps 1.5"), a number out of range ("--steps -5", "--lr 0"),
 *                               a word not in the list of a choice, and an argument too many.
 * A value that starts with "--" is taken as the next option, not as a value: "--out --quick"
 * says that --out needs a value. After "--" every word is a positional argument.
 *
 * The macros check the variable's type at compile time (an int for NN_OPT_INT, a float for
 * NN_OPT_FLOAT, ...): a mismatch is a compile error, not a silent overwrite of memory.
 * Mistakes in the list itself (an option without a variable, min > max, a name used twice,
 * a name without its "--") are misuse and are reported like any other (nn/core/errors.h).
 */
#ifndef NN_CLI_ARGS_H
#define NN_CLI_ARGS_H

#include <stdbool.h>
#include <stdint.h>

typedef enum nn_option_kind {
    NN_OPTION_FLAG,   /* --quick           no value: sets a bool to true */
    NN_OPTION_INT,    /* --steps N         a whole number in [min, max], into an int */
    NN_OPTION_FLOAT,  /* --lr X            a number in [min, max], into a float */
    NN_OPTION_SEED,   /* --seed N          a whole number >= 0, into a uint64_t */
    NN_OPTION_STRING, /* --out DIR         any text, into a const char * */
    NN_OPTION_CHOICE, /* --model mlp|cnn   one of the words in `choices`, into a const char * */
    NN_OPTION_ARG,    /* picture           a positional argument, into a const char * */
} nn_option_kind;

typedef struct nn_option {
    const char *name;    /* "--steps"; for a positional argument its name in the usage line */
    nn_option_kind kind;
    void *value;         /* the variable it sets: bool *, int *, float *, uint64_t *, const char ** */
    double min, max;     /* the allowed range of an INT or a FLOAT option, both included */
    const char *choices; /* CHOICE: the allowed words, "mlp|cnn|both"; STRING: what the value
                          * is called in the help, "DIR" */
    const char *help;    /* what it does, one line */
    bool given;          /* set by nn_parse_options: it was on the command line */
} nn_option;

/* The number of elements of an array (not of a pointer): NN_COUNTOF(opts). */
#define NN_COUNTOF(array) ((int)(sizeof(array) / sizeof((array)[0])))

/* One nn_option each. `var` is the address of the variable: &quick, &steps, ... */
#define NN_OPT_FLAG(name_, var, help_)                                                     \
    {.name = (name_), .kind = NN_OPTION_FLAG, .value = _Generic((var), bool *: (var)),     \
     .help = (help_)}
#define NN_OPT_INT(name_, var, lo, hi, help_)                                              \
    {.name = (name_), .kind = NN_OPTION_INT, .value = _Generic((var), int *: (var)),       \
     .min = (lo), .max = (hi), .help = (help_)}
#define NN_OPT_FLOAT(name_, var, lo, hi, help_)                                            \
    {.name = (name_), .kind = NN_OPTION_FLOAT, .value = _Generic((var), float *: (var)),   \
     .min = (lo), .max = (hi), .help = (help_)}
#define NN_OPT_SEED(var)                                                                   \
    {.name = "--seed", .kind = NN_OPTION_SEED, .value = _Generic((var), uint64_t *: (var)), \
     .help = "random seed: the same seed gives the same run"}
#define NN_OPT_STR(name_, var, what, help_)                                                \
    {.name = (name_), .kind = NN_OPTION_STRING,                                            \
     .value = _Generic((var), const char **: (var)), .choices = (what), .help = (help_)}
#define NN_OPT_CHOICE(name_, var, words, help_)                                            \
    {.name = (name_), .kind = NN_OPTION_CHOICE,                                            \
     .value = _Generic((var), const char **: (var)), .choices = (words), .help = (help_)}
#define NN_OPT_ARG(name_, var, help_)                                                      \
    {.name = (name_), .kind = NN_OPTION_ARG, .value = _Generic((var), const char **: (var)), \
     .help = (help_)}

/* Read argv into the variables of opts[0 .. n). `about` (may be NULL) is printed by --help
 * under the usage line. Returns when every word was understood; exits 0 after --help and 2
 * after a usage error (see the top of this file). A number option whose default lies
 * outside its range shows "not set by default" in the help: test nn_option_given. */
void nn_parse_options(int argc, char **argv, const char *about, nn_option *opts, int n);

/* Was the option called `name` ("--steps", as in the list) on the command line? For
 * defaults that depend on another option:
 *     if (quick && !nn_option_given(opts, NN_COUNTOF(opts), "--steps")) steps = 150;
 * A name that is not in the list is misuse. */
bool nn_option_given(const nn_option *opts, int n, const char *name);

#endif
