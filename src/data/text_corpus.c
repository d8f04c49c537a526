/* src/data/text_corpus.c — corpora (语料) from files: a UTF-8 text file, or a fortunes file
 * cut into entries (include/nn/data/text_corpus.h).
 *
 * A fortunes file, as Debian's tang300 has it (cat -v; ^[ is ESC):
 *
 *   ^[[32m《感遇・其一》^[[m              title, green        } the lines drop_titles drops
 *   ^[[33m作者：张九龄^[[m                author, yellow      }
 *   兰叶春葳蕤，桂华秋皎洁。             the poem
 *   ...
 *   %                                    ends the entry
 *   ^[[32m《梦李白・其二》^[[m
 *
 * The file is checked as UTF-8 first, as it is on disk, so an error names the byte offset
 * and line you see in an editor. Then it is cut into lines, and each line is copied, without
 * its escape codes, into the corpus: removing bytes and whole lines from valid UTF-8 leaves
 * valid UTF-8 (the codes are ASCII, and the cut never falls inside a character).
 */
#include "internal.h"
#include "nn/data/text.h"
#include "nn/data/text_corpus.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>


/* The file as text: read (at most NN_TEXT_MAX_BYTES), not empty, valid UTF-8, no NUL bytes
 * (valid UTF-8, but no text file holds one: it is a binary file, or UTF-16). 0 or -1. */
static int read_text(const char *op, const char *path, char **out, size_t *len) {
    if (nn_read_file(op, path, NN_TEXT_MAX_BYTES,
                          "NN_TEXT_MAX_BYTES, 256 MiB; cut the text into smaller files", out,
                          len) != 0)
        return -1;
    const unsigned char *b = (const unsigned char *)*out;
    char where[300];
    const char *nul;
    if (*len == 0) {
        nn_set_last_error("%s: '%s' is empty", op, path);
    } else if (*len >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF))) {
        nn_set_last_error("%s: '%s' is UTF-16 (it starts with the byte order mark %02x %02x), "
                          "not UTF-8; save it as UTF-8", op, path, b[0], b[1]);
    } else if (nn_utf8_find_bad(*out, *len, where, sizeof where) != *len) {
        nn_set_last_error("%s: '%s' is not valid UTF-8: %s", op, path, where);
    } else if ((nul = memchr(*out, 0, *len)) != NULL) {
        size_t at = (size_t)(nul - *out), line = 1;
        for (size_t i = 0; i < at; i++) line += b[i] == '\n';
        nn_set_last_error("%s: '%s' is not text: byte %zu (line %zu) is NUL (0x00); a binary "
                          "file, or UTF-16 (then save it as UTF-8)?", op, path, at, line);
    } else {
        return 0;
    }
    free(*out);
    return -1;
}

/* ---- the corpus being built -------------------------------------------------------------- */

static void put(nn_corpus *c, size_t *cap, const char *s, size_t n) {
    if (c->bytes + n + 1 > *cap) {
        while (c->bytes + n + 1 > *cap) *cap *= 2;
        c->text = nn_xrealloc(c->text, *cap);
    }
    memcpy(c->text + c->bytes, s, n);
    c->bytes += n;
}

static void add_entry(nn_corpus *c, size_t start) {
    c->entries = nn_xrealloc(c->entries, ((size_t)c->n_entries + 1) * sizeof *c->entries);
    c->entries[c->n_entries++] = (nn_corpus_entry){start, c->bytes - start};
}

/* Finish the text: a NUL after it, the character count. */
static nn_corpus *finish(nn_corpus *c) {
    c->text[c->bytes] = 0;
    int chars = 0;
    for (size_t i = 0; i < c->bytes; i++) chars += ((unsigned char)c->text[i] & 0xC0) != 0x80;
    c->chars = chars; /* at most NN_TEXT_MAX_BYTES, far below INT_MAX */
    return c;
}

void nn_corpus_free(nn_corpus *c) {
    if (!c) return;
    free(c->text);
    free(c->entries);
    free(c);
}

/* ---- a text file ------------------------------------------------------------------------- */

nn_corpus *nn_text_load(const char *path) {
    const char *op = "nn_text_load";
    if (!path) {
        nn_fail(op, "pass the name of a UTF-8 text file", "path is NULL");
        return NULL;
    }
    char *b;
    size_t len;
    if (read_text(op, path, &b, &len) != 0) return NULL;
    size_t i = len >= 3 && memcmp(b, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0; /* byte order mark */
    nn_corpus *c = nn_xcalloc(1, sizeof *c);
    size_t cap = len + 1;
    c->text = nn_xmalloc(cap);
    for (; i < len; i++)
        if (!(b[i] == '\r' && i + 1 < len && b[i + 1] == '\n')) c->text[c->bytes++] = b[i];
    free(b);
    if (c->bytes == 0) {
        nn_corpus_free(c);
        nn_set_last_error("%s: '%s' holds no text, only a byte order mark", op, path);
        return NULL;
    }
    add_entry(c, 0);
    return finish(c);
}

/* ---- a fortunes file --------------------------------------------------------------------- */

/* A line that ends an entry: "%", then nothing but spaces or tabs. */
static bool is_separator(const char *s, size_t n) {
    if (n == 0 || s[0] != '%') return false;
    for (size_t k = 1; k < n; k++)
        if (s[k] != ' ' && s[k] != '\t') return false;
    return true;
}

static bool is_blank(const char *s, size_t n) {
    for (size_t k = 0; k < n; k++)
        if (s[k] != ' ' && s[k] != '\t') return false;
    return true;
}

/* Copy s[0 .. n) to out without escape sequences: ESC [ parameter bytes (0-9 : ; < = > ?)
 * intermediate bytes (space .. /) and one final byte (@ .. ~) — colour codes are ESC [ 32 m
 * and ESC [ m. A broken sequence is removed as far as it goes; a lone ESC is removed.
 * Returns the bytes written (at most n). */
static size_t strip_escapes(const char *s, size_t n, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] != 0x1B) {
            out[o++] = s[i++];
            continue;
        }
        i++;
        if (i < n && s[i] == '[') {
            i++;
            while (i < n && s[i] >= 0x30 && s[i] <= 0x3F) i++;
            while (i < n && s[i] >= 0x20 && s[i] <= 0x2F) i++;
            if (i < n && s[i] >= 0x40 && s[i] <= 0x7E) i++;
        }
    }
    return o;
}

/* The entry being read: where it starts in the text, where its last non-blank line ends. */
typedef struct {
    bool body;      /* has it a line of text yet? */
    size_t start;
    size_t kept;
} entry_state;

/* End the entry (its trailing blank lines dropped); true when it had text. */
static bool end_entry(nn_corpus *c, entry_state *e) {
    if (!e->body) return false;
    c->bytes = e->kept;
    add_entry(c, e->start);
    e->body = false;
    return true;
}

/* Cut b[0 .. len) (valid UTF-8) into entries. */
static nn_corpus *parse_fortunes(const char *b, size_t len, const nn_fortunes_options *o) {
    const char *sep = o->separator ? o->separator : "\n";
    nn_corpus *c = nn_xcalloc(1, sizeof *c);
    size_t cap = len + 1;
    c->text = nn_xmalloc(cap);
    char *line = nn_xmalloc(len + 1);
    entry_state e = {false, 0, 0};
    bool full = false; /* max_entries reached */
    for (size_t i = 0; i < len && !full;) {
        const char *s = b + i, *nl = memchr(s, '\n', len - i);
        size_t n = nl ? (size_t)(nl - s) : len - i;
        i += n + 1;
        if (n > 0 && s[n - 1] == '\r') n--;
        if (is_separator(s, n)) {
            full = end_entry(c, &e) && c->n_entries == o->max_entries;
            continue;
        }
        if (!e.body && o->drop_titles && n >= 2 && s[0] == 0x1B && s[1] == '[') continue;
        size_t k = strip_escapes(s, n, line);
        bool blank = is_blank(line, k);
        if (!e.body && blank) continue; /* leading empty lines */
        if (!e.body) {
            if (c->n_entries > 0) put(c, &cap, sep, strlen(sep));
            e.body = true;
            e.start = c->bytes;
        }
        put(c, &cap, line, k);
        put(c, &cap, "\n", 1);
        if (!blank) e.kept = c->bytes;
    }
    if (!full) end_entry(c, &e); /* the last entry needs no "%" after it */
    free(line);
    return c;
}

nn_corpus *nn_fortunes_load(const char *path, const nn_fortunes_options *opt) {
    const char *op = "nn_fortunes_load";
    nn_fortunes_options none = {0};
    const nn_fortunes_options *o = opt ? opt : &none;
    if (!path || o->max_entries < 0) {
        nn_fail(op, "pass a fortunes file such as /usr/share/games/fortunes/tang300, and "
                "max_entries >= 0 (0 for all)", "%s", !path ? "path is NULL"
                : "max_entries < 0");
        return NULL;
    }
    size_t sep_len = o->separator ? strlen(o->separator) : 0;
    char where[300];
    if (o->separator && nn_utf8_find_bad(o->separator, sep_len, where, sizeof where) != sep_len) {
        nn_fail(op, "the separator goes into the text, which is UTF-8; e.g. \"\\n\" or \"%\\n\"",
                "separator is not valid UTF-8: %s", where);
        return NULL;
    }
    char *b;
    size_t len;
    if (read_text(op, path, &b, &len) != 0) return NULL;
    size_t skip = len >= 3 && memcmp(b, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    nn_corpus *c = parse_fortunes(b + skip, len - skip, o);
    free(b);
    if (c->n_entries == 0) {
        nn_corpus_free(c);
        nn_set_last_error("%s: '%s' has no entries: only \"%%\" lines, blank lines%s", op, path,
                          o->drop_titles ? " and titles (drop_titles is on)" : "");
        return NULL;
    }
    return finish(c);
}
