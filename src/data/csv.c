/* src/data/csv.c — a CSV file of numbers into a data set (see include/nn/data/csv.h).
 *
 * The parser reads the file in 64 KiB blocks and walks it one byte at a time, with a few
 * flags of state (inside quotes? a \r waiting for its \n?). Nothing in it grows with the
 * length of a line or of a field: a field keeps only its first CSV_KEEP bytes (no number is
 * longer) and counts the rest, and each finished field goes straight into a row of doubles.
 * What grows is what the data set will hold: the floats of X and the labels. So any bytes
 * at all, NULs or a 2 GB line included, end in a data set or in a message, never in a crash.
 *
 *   a,b,label        header (skipped; it fixes the number of columns)
 *   1.5, 2,0         row 1: X gets 1.5 2, labels get 0
 *   "3",-1e-2,1      row 2: quotes and spaces around a field are fine
 */
#include "internal.h"
#include "nn/data/dataset.h"
#include "nn/data/csv.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>

/* ---- the parser ------------------------------------------------------------------------ */

#define CSV_KEEP 256 /* bytes of a field kept: more than any number needs */
#define CSV_SHOW 40  /* bytes of a field shown in a message */

/* What is wrong with a field (the first bad one of a line is kept for the message). */
enum { BAD_NONE, BAD_EMPTY, BAD_TEXT, BAD_LONG, BAD_INFINITE, BAD_AFTER_QUOTE };

/* The first bytes of a field and its full length, for a message. */
typedef struct field_text {
    unsigned char b[CSV_SHOW];
    size_t len;
} field_text;

typedef struct csv {
    const char *path;
    char sep;
    int label_opt;              /* as passed: a column, NN_CSV_NO_LABELS or NN_CSV_LAST_COLUMN */
    long long label;            /* the label column; -1 none; -2 while not known yet */
    bool header;                /* the header line is still to come */

    unsigned long long line;    /* the line being read, from 1 */
    unsigned long long rec_line;  /* the line the current record started on */
    unsigned long long quote_line;  /* the line the current quoted field started on */
    bool rec_open;              /* bytes seen since the last line ended */
    size_t col;                 /* fields finished in this line */

    /* the current field */
    unsigned char kept[CSV_KEEP + 1];
    size_t klen, flen, spaces;  /* bytes kept, bytes in all, spaces held back (maybe trailing) */
    bool started, quoted, in_quotes, quote_seen, after_quote, junk;
    bool cr;                    /* a \r outside quotes, waiting to see whether \n follows */

    /* the current line */
    double *row;
    size_t row_cap;
    bool out_of_memory;         /* the first line's row could not grow */
    int bad;                    /* BAD_*: the first bad field of the line */
    size_t bad_col;
    field_text bad_text, label_text;

    /* the table so far */
    size_t ncols;               /* fixed by the header or the first data line; 0 before */
    bool ncols_from_header;
    unsigned long long first_line, blank_line;
    float *X;
    size_t x_len, x_cap;
    int *labels;
    size_t n, lab_cap;
    int most;                   /* the largest label */
} csv;

static int csv_error(const csv *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int csv_error(const csv *p, const char *fmt, ...) {
    char what[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return nn_set_last_error("nn_csv_load: '%s' %s", p->path, what);
}

static void keep_text(field_text *t, const unsigned char *b, size_t klen, size_t flen) {
    size_t k = klen < CSV_SHOW ? klen : CSV_SHOW;
    memcpy(t->b, b, k);
    t->len = flen;
}

/* The field as a quoted, escaped string, with its length when it is long. */
static const char *shown(const field_text *t, char *buf, size_t size) {
    nn_quote_bytes(buf, size, t->b, t->len, CSV_SHOW);
    if (t->len > CSV_SHOW) {
        size_t k = strlen(buf);
        snprintf(buf + k, size - k, " (%zu bytes)", t->len);
    }
    return buf;
}

static bool is_blank(const csv *p, unsigned char c) {
    return (c == ' ' || c == '\t') && c != (unsigned char)p->sep;
}

static void add_byte(csv *p, unsigned char c) {
    if (p->klen < CSV_KEEP) p->kept[p->klen++] = c;
    p->flen++;
}

/* Spaces held back inside an unquoted field become part of it when more text follows. */
static void commit_spaces(csv *p) {
    for (; p->spaces > 0; p->spaces--) add_byte(p, ' ');
}

static void reset_field(csv *p) {
    p->klen = p->flen = p->spaces = 0;
    p->started = p->quoted = p->in_quotes = p->quote_seen = p->after_quote = p->junk = false;
}

/* The field as a number: BAD_NONE and *v, or what is wrong. */
static int parse_number(csv *p, double *v) {
    if (p->junk) return BAD_AFTER_QUOTE;
    unsigned char *s = p->kept;
    size_t n = p->klen;
    if (p->flen > CSV_KEEP) return BAD_LONG;
    while (n > 0 && (s[0] == ' ' || s[0] == '\t')) s++, n--;        /* "  1.5 " in quotes */
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (n == 0) return BAD_EMPTY;
    char buf[CSV_KEEP + 1];
    memcpy(buf, s, n);
    buf[n] = 0;
    /* strtod would skip other white space and stop at a NUL: neither is a number here */
    if (memchr(s, 0, n) || isspace((unsigned char)buf[0])) return BAD_TEXT;
    char *end;
    *v = strtod(buf, &end);
    if (end != buf + n) return BAD_TEXT;
    if (!isfinite(*v)) return BAD_INFINITE; /* nan, inf, 1e999 */
    return BAD_NONE;
}

/* The hint for a field that is not a number but holds another likely separator. */
static const char *separator_hint(const csv *p, const field_text *t, char *buf, size_t size) {
    static const char seps[] = ",;\t|";
    size_t k = t->len < CSV_SHOW ? t->len : CSV_SHOW;
    for (const char *s = seps; *s; s++)
        if (*s != p->sep && memchr(t->b, *s, k)) {
            char name[3] = {*s, 0, 0};
            if (*s == '\t') memcpy(name, "\\t", 3);
            snprintf(buf, size, " (is the separator '%s'? set .separator in nn_csv_options)",
                     name);
            return buf;
        }
    return "";
}

/* A field ends (at a separator, a line end or the end of the file). */
static void end_field(csv *p) {
    size_t j = p->col++;
    if (p->header) { /* column names: only counted */
        reset_field(p);
        return;
    }
    double v = 0;
    int bad = p->flen == 0 && !p->junk ? BAD_EMPTY : parse_number(p, &v);
    bool label_here = p->label == -2 || (p->label >= 0 && j == (size_t)p->label);
    if (label_here) keep_text(&p->label_text, p->kept, p->klen, p->flen);
    if (bad && !p->bad) {
        p->bad = bad;
        p->bad_col = j;
        keep_text(&p->bad_text, p->kept, p->klen, p->flen);
    }
    if (p->ncols == 0 && j >= p->row_cap) { /* the first line: the row grows */
        size_t cap = p->row_cap ? 2 * p->row_cap : 16;
        double *row = realloc(p->row, cap * sizeof *row);
        if (row) {
            p->row = row;
            p->row_cap = cap;
        } else {
            p->out_of_memory = true;
        }
    }
    if (j < p->row_cap) p->row[j] = v; /* (beyond it: a ragged line, refused at its end) */
    reset_field(p);
}

/* The label column is known once the number of columns is. 0 or -1. */
static int fix_columns(csv *p) {
    char where[64]; /* the line that fixed the number of columns */
    snprintf(where, sizeof where, p->ncols_from_header ? "line %llu, the header," : "line %llu",
             p->first_line);
    if (p->ncols > INT_MAX)
        return csv_error(p, "is too wide: %s has %zu columns, more than a tensor can hold",
                         where, p->ncols);
    if (p->label_opt == NN_CSV_LAST_COLUMN) p->label = (long long)p->ncols - 1;
    else p->label = p->label_opt;
    if (p->label >= (long long)p->ncols)
        return csv_error(p, "has no label column %d: %s has %zu column(s), so label_column "
                         "(counted from 0) can be 0 .. %zu", p->label_opt, where, p->ncols,
                         p->ncols - 1);
    if (p->label >= 0 && p->ncols == 1)
        return csv_error(p, "has only the label column (%s has one column): no values left "
                         "for X", where);
    if (p->row_cap < p->ncols) {
        double *row = realloc(p->row, p->ncols * sizeof *row);
        if (!row) return csv_error(p, "is too large: out of memory for one line of %zu columns",
                                   p->ncols);
        p->row = row;
        p->row_cap = p->ncols;
    }
    return 0;
}

/* The message for the bad field of a line. Returns -1. */
static int field_error(csv *p) {
    char text[CSV_SHOW * 4 + 40], hint[80];
    bool is_label = p->label >= 0 && p->bad_col == (size_t)p->label;
    const char *which = is_label ? " (the label column)" : "";
    unsigned long long line = p->rec_line;
    size_t col = p->bad_col + 1;
    shown(&p->bad_text, text, sizeof text);
    switch (p->bad) {
    case BAD_EMPTY:
        return csv_error(p, "line %llu, column %zu%s is empty (a missing value?)", line, col, which);
    case BAD_AFTER_QUOTE:
        return csv_error(p, "line %llu, column %zu%s: %s has text after its closing quote",
                         line, col, which, text);
    default:
        if (is_label)
            return csv_error(p, "line %llu, column %zu (the label column): %s is not a class "
                             "label: labels are whole numbers 0, 1, 2, ...", line, col, text);
        if (p->bad == BAD_LONG)
            return csv_error(p, "line %llu, column %zu: %s is too long to be a number", line,
                             col, text);
        if (p->bad == BAD_INFINITE)
            return csv_error(p, "line %llu, column %zu: %s is not a finite number (nan and inf "
                             "are refused)", line, col, text);
        return csv_error(p, "line %llu, column %zu: %s is not a number%s", line, col, text,
                         separator_hint(p, &p->bad_text, hint, sizeof hint));
    }
}

/* A line ends: a blank one is noted; the header fixes the columns; a data line is checked
 * and its values go into X and the labels. 0 or -1. */
static int end_record(csv *p) {
    bool blank = p->col == 0 && p->flen == 0 && !p->quoted && !p->junk;
    unsigned long long line = p->rec_line;
    p->rec_open = false;
    p->line++;
    if (blank) {
        if (!p->blank_line) p->blank_line = line;
        reset_field(p);
        return 0;
    }
    if (p->blank_line)
        return csv_error(p, "line %llu is blank; only the last lines of a file may be (a "
                         "missing value?)", p->blank_line);
    end_field(p);
    size_t cols = p->col;
    p->col = 0;
    if (p->header) {
        p->header = false;
        p->ncols = cols;
        p->ncols_from_header = true;
        p->first_line = line;
        return fix_columns(p);
    }
    if (p->out_of_memory)
        return csv_error(p, "is too large: out of memory for line %llu of %zu columns", line, cols);
    if (p->ncols == 0) {
        p->ncols = cols;
        p->first_line = line;
        if (fix_columns(p) != 0) return -1;
    } else if (cols != p->ncols) {
        return csv_error(p, "line %llu has %zu column(s), but %s (line %llu) has %zu%s", line,
                         cols, p->ncols_from_header ? "the header" : "the first line",
                         p->first_line, p->ncols,
                         cols > p->ncols ? " (a field with the separator in it needs quotes)" : "");
    }
    if (p->n >= INT_MAX) return csv_error(p, "has more than %d lines of data", INT_MAX - 1);
    /* room for one more row */
    size_t f = p->ncols - (p->label >= 0);
    if (p->x_cap - p->x_len < f) {
        size_t cap = p->x_cap ? 2 * p->x_cap : 1024;
        while (cap - p->x_len < f) cap *= 2;
        float *x = realloc(p->X, cap * sizeof *x);
        if (!x) return csv_error(p, "is too large: out of memory after %zu lines", p->n);
        p->X = x;
        p->x_cap = cap;
    }
    if (p->label >= 0 && p->n == p->lab_cap) {
        size_t cap = p->lab_cap ? 2 * p->lab_cap : 256;
        int *l = realloc(p->labels, cap * sizeof *l);
        if (!l) return csv_error(p, "is too large: out of memory after %zu lines", p->n);
        p->labels = l;
        p->lab_cap = cap;
    }
    /* every value, left to right: the first problem is the one reported */
    size_t x0 = p->x_len;
    for (size_t j = 0; j < p->ncols; j++) {
        if (p->bad && j == p->bad_col) {
            p->x_len = x0;
            return field_error(p);
        }
        double v = p->row[j];
        char text[CSV_SHOW * 4 + 40];
        if ((long long)j == p->label) {
            if (v != floor(v) || v < 0 || v > INT_MAX - 1) {
                p->x_len = x0;
                return csv_error(p, "line %llu, column %zu (the label column): %s is not a "
                                 "class label: labels are whole numbers 0, 1, 2, ...%s", line,
                                 j + 1, shown(&p->label_text, text, sizeof text),
                                 v > INT_MAX - 1 ? " (at most 2147483646)" : "");
            }
            p->labels[p->n] = (int)v;
            if ((int)v > p->most) p->most = (int)v;
        } else {
            if (fabs(v) > FLT_MAX) {
                p->x_len = x0;
                return csv_error(p, "line %llu, column %zu: %g is too large for a float "
                                 "(floats reach about 3.4e38)", line, j + 1, v);
            }
            p->X[p->x_len++] = (float)v;
        }
    }
    p->n++;
    p->bad = BAD_NONE;
    return 0;
}

/* Go through n bytes of the file. 0, or -1 at the first error. */
static int feed(csv *p, const unsigned char *b, size_t n) {
    const unsigned char sep = (unsigned char)p->sep;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = b[i];
        if (!p->rec_open) {
            p->rec_open = true;
            p->rec_line = p->line;
        }
        if (p->cr) { /* "\r\n" ends a line; a \r alone is an ordinary byte */
            p->cr = false;
            if (c == '\n') {
                if (end_record(p) != 0) return -1;
                continue;
            }
            commit_spaces(p);
            if (p->after_quote) p->junk = true;
            p->started = true;
            add_byte(p, '\r');
        }
        if (p->in_quotes) {
            if (!p->quote_seen) {
                if (c == '"') p->quote_seen = true;
                else {
                    if (c == '\n') p->line++;
                    add_byte(p, c);
                }
                continue;
            }
            p->quote_seen = false;
            if (c == '"') { /* "" inside quotes: one " */
                add_byte(p, c);
                continue;
            }
            p->in_quotes = false; /* that " closed the field; c comes after it */
            p->after_quote = true;
        }
        if (c == '\n') {
            if (end_record(p) != 0) return -1;
        } else if (c == '\r') {
            p->cr = true;
        } else if (c == sep) {
            end_field(p);
        } else if (is_blank(p, c)) {
            if (p->started) p->spaces++;
        } else if (c == '"' && !p->started) {
            p->quoted = p->started = p->in_quotes = true;
            p->quote_line = p->line;
        } else {
            commit_spaces(p);
            if (p->after_quote) p->junk = true;
            p->started = true;
            add_byte(p, c);
        }
    }
    return 0;
}

/* The end of the file: close the last line, then check that there was data. 0 or -1. */
static int finish(csv *p, bool empty_file) {
    if (p->in_quotes && !p->quote_seen)
        return csv_error(p, "line %llu, column %zu: the quoted field that starts there is not "
                         "closed before the end of the file", p->quote_line, p->col + 1);
    if (p->quote_seen) { /* the file ends right after a closing quote */
        p->in_quotes = p->quote_seen = false;
        p->after_quote = true;
    }
    p->cr = false; /* a \r at the very end ends the last line */
    if (p->rec_open && end_record(p) != 0) return -1;
    if (p->n > 0) return 0;
    if (p->ncols_from_header)
        return csv_error(p, "has a header (line %llu) but no data lines", p->first_line);
    if (!empty_file) return csv_error(p, "has only blank lines, no data");
    return csv_error(p, "is empty");
}

/* Read the whole file through the parser. 0 or -1. */
static int parse_file(csv *p, FILE *f) {
    unsigned char *buf = malloc(1 << 16);
    if (!buf) return csv_error(p, "cannot be read: out of memory");
    bool first = true, empty = true;
    int rc = 0;
    for (;;) {
        size_t got = fread(buf, 1, 1 << 16, f);
        if (got == 0) {
            if (ferror(f)) rc = csv_error(p, "cannot be read: %s", strerror(errno ? errno : EIO));
            break;
        }
        size_t skip = 0;
        if (first && got >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) skip = 3; /* UTF-8 BOM */
        first = false;
        if (got > skip) empty = false;
        if (feed(p, buf + skip, got - skip) != 0) {
            rc = -1;
            break;
        }
    }
    free(buf);
    if (rc == 0) rc = finish(p, empty);
    return rc;
}

int nn_csv_load(const char *path, const nn_csv_options *opt, nn_dataset *ds) {
    const char *op = "nn_csv_load";
    static const nn_csv_options defaults = NN_CSV_DEFAULTS;
    if (!opt) opt = &defaults;
    if (ds) memset(ds, 0, sizeof *ds);
    if (!path || !ds) {
        nn_fail(op, "pass the file's path and a data set to fill: nn_csv_load(\"data.csv\", "
                "&opt, &ds)", "%s is NULL", !path ? "path" : "ds");
        return -1;
    }
    char sep = opt->separator ? opt->separator : ',';
    if (sep == '"' || sep == '\n' || sep == '\r' || sep == '.' || sep == '+' || sep == '-' ||
        isalnum((unsigned char)sep)) {
        nn_fail(op, "use a separator that cannot be part of a number or a quote, such as ',', "
                "';', '\\t', ' ' or '|'", "separator '%c' (0x%02x)", isprint((unsigned char)sep) ? sep : '?',
                (unsigned char)sep);
        return -1;
    }
    if (opt->label_column < NN_CSV_LAST_COLUMN) {
        nn_fail(op, "label_column is a column counted from 0, NN_CSV_NO_LABELS (-1) or "
                "NN_CSV_LAST_COLUMN (-2)", "label_column = %d", opt->label_column);
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) return nn_set_last_error("%s: cannot open '%s': %s", op, path, strerror(errno));

    csv *p = calloc(1, sizeof *p);
    if (!p) {
        fclose(f);
        return nn_set_last_error("%s: out of memory reading '%s'", op, path);
    }
    p->path = path;
    p->sep = sep;
    p->label_opt = opt->label_column;
    p->label = opt->label_column;
    p->header = opt->header;
    p->line = 1;
    p->most = -1;

    /* strtod reads "1.5" whatever locale the program has set (a "de_DE" one wants "1,5") */
    locale_t c_numbers = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    locale_t before = c_numbers ? uselocale(c_numbers) : (locale_t)0;
    int rc = parse_file(p, f);
    if (c_numbers) {
        uselocale(before);
        freelocale(c_numbers);
    }
    fclose(f);

    if (rc == 0) {
        size_t feat = p->ncols - (p->label >= 0);
        ds->n = (int)p->n;
        ds->X = nn_from_array(p->X, NN_SHAPE((int)p->n, (int)feat));
        ds->x_ndim = 2;
        ds->x_shape[0] = (int)p->n, ds->x_shape[1] = (int)feat;
        if (p->label >= 0) {
            ds->labels = nn_xmalloc(p->n * sizeof(int));
            memcpy(ds->labels, p->labels, p->n * sizeof(int));
            ds->num_classes = p->most + 1;
        }
        ds->order = nn_xmalloc(p->n * sizeof(int));
        for (size_t i = 0; i < p->n; i++) ds->order[i] = (int)i;
    }
    free(p->row);
    free(p->X);
    free(p->labels);
    free(p);
    return rc;
}
