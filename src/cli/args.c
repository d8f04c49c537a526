/* src/cli/args.c — the command line of the example programs: nn_parse_options (options,
 * --help, usage errors) and nn_option_given. */
#include "internal.h"
#include "nn/cli/args.h"
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>

/* ---- the list of options ---------------------------------------------------------------- */

/* The program's name for messages: argv[0] without its folders. */
static const char *program_name(int argc, char **argv) {
    if (argc < 1 || !argv || !argv[0] || !argv[0][0]) return "program";
    const char *slash = strrchr(argv[0], '/');
    return slash ? slash + 1 : argv[0];
}

/* What stands for the value in the help: "--steps N", "--out DIR", "--model mlp|cnn|both". */
static const char *value_word(const nn_option *o) {
    switch (o->kind) {
    case NN_OPTION_INT:
    case NN_OPTION_SEED: return "N";
    case NN_OPTION_FLOAT: return "X";
    case NN_OPTION_STRING: return o->choices ? o->choices : "TEXT";
    case NN_OPTION_CHOICE: return o->choices;
    default: return NULL;
    }
}

/* Mistakes in the list itself are the programmer's: report them as misuse. 0 when fine. */
static int check_list(const nn_option *opts, int n) {
    const char *op = "nn_parse_options";
    if (n < 0 || (n > 0 && !opts)) {
        nn_fail(op, "pass the array and NN_COUNTOF(array)", "%d options at %p", n, (void *)opts);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        const nn_option *o = &opts[i];
        const char *name = o->name ? o->name : "(no name)";
        if (!o->name || !o->value || (unsigned)o->kind > NN_OPTION_ARG) {
            nn_fail(op, "make each entry with one of the NN_OPT_* macros",
                    "option %d (%s) has no name, no variable or an unknown kind", i, name);
            return -1;
        }
        bool dashed = strncmp(o->name, "--", 2) == 0 && o->name[2] != '\0';
        if (o->kind != NN_OPTION_ARG && !dashed) {
            nn_fail(op, "option names start with two dashes, e.g. \"--steps\"",
                    "option %d is called '%s'", i, name);
            return -1;
        }
        if (o->kind == NN_OPTION_ARG && o->name[0] == '-') {
            nn_fail(op, "a positional argument is named without dashes, e.g. \"picture\"",
                    "positional argument %d is called '%s'", i, name);
            return -1;
        }
        if ((o->kind == NN_OPTION_INT || o->kind == NN_OPTION_FLOAT) && !(o->min <= o->max)) {
            nn_fail(op, "the range is (min, max), both included", "%s has min %g > max %g",
                    name, o->min, o->max);
            return -1;
        }
        if (o->kind == NN_OPTION_INT && (o->min < INT_MIN || o->max > INT_MAX)) {
            nn_fail(op, "an NN_OPT_INT sets an int", "the range of %s, %.0f .. %.0f, does not fit "
                    "in an int", name, o->min, o->max);
            return -1;
        }
        if (o->kind == NN_OPTION_CHOICE && (!o->choices || !o->choices[0])) {
            nn_fail(op, "list the allowed words as \"a|b|c\"", "%s has no choices", name);
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (strcmp(opts[j].name, o->name) == 0) {
                nn_fail(op, "each option appears once in the list", "%s is listed twice", name);
                return -1;
            }
    }
    return 0;
}

/* The option whose name is the first len characters of `word`, or NULL. */
static nn_option *find_option(nn_option *opts, int n, const char *word, size_t len) {
    for (int i = 0; i < n; i++)
        if (opts[i].kind != NN_OPTION_ARG && strlen(opts[i].name) == len &&
            strncmp(opts[i].name, word, len) == 0)
            return &opts[i];
    return NULL;
}

/* The index-th positional argument of the list (0: the first), or NULL. */
static nn_option *find_positional(nn_option *opts, int n, int index) {
    for (int i = 0; i < n; i++)
        if (opts[i].kind == NN_OPTION_ARG) {
            if (index == 0) return &opts[i];
            index--;
        }
    return NULL;
}

/* ---- help and usage --------------------------------------------------------------------- */

static void print_usage_line(FILE *f, const char *prog, const nn_option *opts, int n) {
    fprintf(f, "usage: %s [options]", prog);
    for (int i = 0; i < n; i++)
        if (opts[i].kind == NN_OPTION_ARG) fprintf(f, " [%s]", opts[i].name);
    fprintf(f, "\n");
}

/* The option's current value as text: the default, when called before parsing. */
static void value_text(const nn_option *o, char *buf, size_t size) {
    switch (o->kind) {
    case NN_OPTION_INT: snprintf(buf, size, "%d", *(const int *)o->value); break;
    case NN_OPTION_FLOAT: snprintf(buf, size, "%g", *(const float *)o->value); break;
    case NN_OPTION_SEED:
        snprintf(buf, size, "%llu", (unsigned long long)*(const uint64_t *)o->value);
        break;
    case NN_OPTION_FLAG: snprintf(buf, size, "%s", *(const bool *)o->value ? "on" : "off"); break;
    default: {
        const char *s = *(const char *const *)o->value;
        snprintf(buf, size, "%s", s ? s : "none");
    }
    }
}

/* "  [default: 600, range 10 .. 1000000]", "  [default: out]"; nothing for a flag that is off. */
static void range_and_default(const nn_option *o, char *buf, size_t size) {
    char def[64];
    value_text(o, def, sizeof def);
    if (o->kind == NN_OPTION_FLAG) {
        snprintf(buf, size, "%s", *(const bool *)o->value ? "  [on by default]" : "");
    } else if (o->kind == NN_OPTION_INT || o->kind == NN_OPTION_FLOAT) {
        double v = o->kind == NN_OPTION_INT ? *(const int *)o->value : *(const float *)o->value;
        char lo[32], hi[32];
        snprintf(lo, sizeof lo, o->kind == NN_OPTION_INT ? "%.0f" : "%g", o->min);
        snprintf(hi, sizeof hi, o->kind == NN_OPTION_INT ? "%.0f" : "%g", o->max);
        if (v >= o->min && v <= o->max)
            snprintf(buf, size, "  [default: %s, range %s .. %s]", def, lo, hi);
        else /* a default outside the range: "not given" (see nn_option_given) */
            snprintf(buf, size, "  [not set by default, range %s .. %s]", lo, hi);
    } else if (o->kind == NN_OPTION_ARG && !*(const char *const *)o->value) {
        snprintf(buf, size, "  [optional]");
    } else {
        snprintf(buf, size, "  [default: %s]", def);
    }
}

/* tails[i]: the "[default: ...]" text of option i, made before parsing changed anything. */
static void print_help(const char *prog, const char *about, const nn_option *opts, int n,
                       char (*tails)[160]) {
    /* the column where the explanations start */
    int width = (int)strlen("-h, --help");
    for (int i = 0; i < n; i++) {
        const char *v = value_word(&opts[i]);
        int w = (int)strlen(opts[i].name) + (v ? 1 + (int)strlen(v) : 0);
        if (w > width) width = w;
    }
    if (width > 28) width = 28;

    print_usage_line(stdout, prog, opts, n);
    if (about && about[0]) printf("\n%s\n", about);
    char label[128];
    for (int pass = 0; pass < 2; pass++) { /* the positional arguments first, then options */
        bool any = false;
        for (int i = 0; i < n; i++) {
            const nn_option *o = &opts[i];
            if ((o->kind == NN_OPTION_ARG) != (pass == 0)) continue;
            if (!any) printf("\n%s:\n", pass == 0 ? "arguments" : "options");
            any = true;
            const char *v = value_word(o);
            snprintf(label, sizeof label, "%s%s%s", o->name, v ? " " : "", v ? v : "");
            const char *help = o->help ? o->help : "";
            if (4 + width + strlen(help) + strlen(tails[i]) <= 100)
                printf("  %-*s  %s%s\n", width, label, help, tails[i]);
            else /* too long for one line: the default and range go under the help */
                printf("  %-*s  %s\n  %-*s%s\n", width, label, help, width, "", tails[i]);
        }
        if (pass == 1) {
            if (!any) printf("\noptions:\n");
            printf("  %-*s  %s\n", width, "-h, --help", "print this help and exit");
        }
    }
}

/* ---- usage errors ----------------------------------------------------------------------- */

/* What a usage error prints besides its message: the program's name and its options. */
typedef struct parse_state {
    const char *prog;
    const nn_option *opts;
    int n;
} parse_state;

/* What is wrong, the usage line and where to find more, all on stderr; then exit 2. */
static void usage_error(const parse_state *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
static void usage_error(const parse_state *ps, const char *fmt, ...) {
    fflush(stdout);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", ps->prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    print_usage_line(stderr, ps->prog, ps->opts, ps->n);
    fprintf(stderr, "'%s --help' lists the options with their meaning, range and default.\n",
            ps->prog);
    exit(2);
}

/* How many single-character edits (insert, delete, replace, swap two neighbours) turn a
 * into b: the optimal string alignment distance. Words longer than 63 characters: 99. */
static int edit_distance(const char *a, size_t la, const char *b) {
    size_t lb = strlen(b);
    if (la > 63 || lb > 63) return 99;
    int d[64][64];
    for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int best = d[i - 1][j] + 1;                                  /* delete */
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;          /* insert */
            if (d[i - 1][j - 1] + cost < best) best = d[i - 1][j - 1] + cost; /* replace */
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;                              /* swap */
            d[i][j] = best;
        }
    return d[la][lb];
}

/* An unknown option: suggest the closest name when it is close (a typo, one dash, a prefix). */
static void unknown_option(const parse_state *ps, const char *word, size_t len)
    __attribute__((noreturn));
static void unknown_option(const parse_state *ps, const char *word, size_t len) {
    const char *best = NULL;
    int best_d = 99;
    for (int i = 0; i <= ps->n; i++) {
        const char *name = i < ps->n ? ps->opts[i].name : "--help";
        if (i < ps->n && ps->opts[i].kind == NN_OPTION_ARG) continue;
        int d = edit_distance(word, len, name);
        if (d < best_d) best_d = d, best = name;
    }
    /* close: at most 2 edits, and fewer edits than the name has letters after its "--" */
    bool is_close = best && best_d <= 2 && best_d < (int)strlen(best) - 2;
    if (!is_close && len >= 5) { /* "--mlp" for "--mlp-epochs": a prefix of exactly one name */
        int matches = 0;
        for (int i = 0; i < ps->n; i++)
            if (ps->opts[i].kind != NN_OPTION_ARG && strncmp(ps->opts[i].name, word, len) == 0)
                matches++, best = ps->opts[i].name;
        is_close = matches == 1;
    }
    if (is_close)
        usage_error(ps, "unknown option '%.*s'; did you mean %s?", (int)len, word, best);
    usage_error(ps, "unknown option '%.*s'", (int)len, word);
}

/* ---- reading one value ------------------------------------------------------------------ */

static void set_value(const parse_state *ps, nn_option *o, const char *v) {
    char *end;
    errno = 0;
    switch (o->kind) {
    case NN_OPTION_INT: {
        long x = strtol(v, &end, 10);
        if (end == v || *end || isspace((unsigned char)v[0]))
            usage_error(ps, "%s: '%s' is not a whole number", o->name, v);
        if (errno == ERANGE || x < o->min || x > o->max)
            usage_error(ps, "%s: %s is out of range (%.0f .. %.0f)", o->name, v, o->min, o->max);
        *(int *)o->value = (int)x;
        break;
    }
    case NN_OPTION_FLOAT: {
        double x = strtod(v, &end);
        if (end == v || *end || isspace((unsigned char)v[0]) || isnan(x))
            usage_error(ps, "%s: '%s' is not a number", o->name, v);
        if (!isfinite(x) || x < o->min || x > o->max)
            usage_error(ps, "%s: %s is out of range (%g .. %g)", o->name, v, o->min, o->max);
        *(float *)o->value = (float)x;
        break;
    }
    case NN_OPTION_SEED: {
        unsigned long long x = strtoull(v, &end, 10);
        if (!isdigit((unsigned char)v[0]) || *end)
            usage_error(ps, "%s: '%s' is not a whole number >= 0", o->name, v);
        if (errno == ERANGE)
            usage_error(ps, "%s: %s is out of range (0 .. %llu)", o->name, v,
                        (unsigned long long)UINT64_MAX);
        *(uint64_t *)o->value = (uint64_t)x;
        break;
    }
    case NN_OPTION_CHOICE: {
        size_t len = strlen(v);
        for (const char *c = o->choices; *c;) { /* each word of "a|b|c" */
            size_t w = strcspn(c, "|");
            if (w == len && strncmp(c, v, w) == 0) {
                *(const char **)o->value = v;
                return;
            }
            c += w + (c[w] == '|');
        }
        usage_error(ps, "%s: '%s' is not one of %s", o->name, v, o->choices);
    }
    default: *(const char **)o->value = v; break;
    }
}

/* ---- nn_parse_options ------------------------------------------------------------------- */

void nn_parse_options(int argc, char **argv, const char *about, nn_option *opts, int n) {
    if (check_list(opts, n) != 0) return;
    parse_state ps = {program_name(argc, argv), opts, n};
    /* The defaults for --help, before a word before it ("--steps 5 --help") changes one. */
    char(*tails)[160] = nn_xmalloc((size_t)(n > 0 ? n : 1) * sizeof *tails);
    for (int i = 0; i < n; i++) {
        range_and_default(&opts[i], tails[i], sizeof tails[i]);
        opts[i].given = false;
    }
    int next_arg = 0;       /* how many positional arguments were read */
    bool only_args = false; /* after "--" */
    for (int i = 1; i < argc; i++) {
        const char *word = argv[i];
        if (!only_args && strcmp(word, "--") == 0) {
            only_args = true;
            continue;
        }
        if (only_args || word[0] != '-' || word[1] == '\0') { /* positional ("-" too) */
            nn_option *slot = find_positional(opts, n, next_arg);
            if (!slot && next_arg == 0)
                usage_error(&ps, "unexpected argument '%s' (%s takes options only)", word,
                            ps.prog);
            if (!slot)
                usage_error(&ps, "unexpected argument '%s' (%s takes at most %d)", word, ps.prog,
                            next_arg);
            *(const char **)slot->value = word;
            slot->given = true;
            next_arg++;
            continue;
        }
        if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0) {
            print_help(ps.prog, about, opts, n, tails);
            exit(0);
        }
        const char *eq = strchr(word, '='); /* --steps=50 */
        size_t len = eq ? (size_t)(eq - word) : strlen(word);
        nn_option *o = find_option(opts, n, word, len);
        if (!o) unknown_option(&ps, word, len);
        if (o->kind == NN_OPTION_FLAG) {
            if (eq) usage_error(&ps, "%s takes no value (it is on or off)", o->name);
            *(bool *)o->value = true;
        } else {
            const char *v = NULL;
            if (eq)
                v = eq + 1;
            else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
                v = argv[++i];
            else
                usage_error(&ps, "%s needs a value: %s %s", o->name, o->name, value_word(o));
            set_value(&ps, o, v);
        }
        o->given = true;
    }
    free(tails);
}

bool nn_option_given(const nn_option *opts, int n, const char *name) {
    for (int i = 0; opts && name && i < n; i++)
        if (strcmp(opts[i].name, name) == 0) return opts[i].given;
    nn_fail("nn_option_given", "use the name exactly as in the list, dashes included",
            "no option called '%s' among the %d given", name ? name : "(null)", n);
    return false;
}
