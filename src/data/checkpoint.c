/* src/data/checkpoint.c — save a model's parameters to a file and load them back
 * (format in include/nn/data/checkpoint.h and docs/en/checkpoint-format.md).
 *
 * Saving (through src/data/safe_file.c): write everything to a fresh temporary file in the
 * target's folder, fsync it, then rename it onto the target. rename() within one folder is
 * atomic, so whoever opens the path sees the old checkpoint or the new one, never half of
 * one, even after a crash.
 *
 * Loading: the header first (magic, version, count, from the first 12 bytes), then the
 * size. The model to load into is already built, so the size of a file that fits it is
 * known (checkpoint_size); a file of another size is refused before its body is read, with
 * the reason found from the headers of its records alone (a few bytes each), so a 3 GB file
 * of anything is refused after reading a few hundred bytes. A file of the right size is read
 * whole (as large as the model, no larger) and all of it is checked (every length against
 * the bytes really there, the CRC-32, every name and shape against the model) before a
 * single value is copied. A bad file therefore leaves the model as it was.
 */
#include "internal.h"
#include "nn/data/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CKPT_MAGIC "NNCK"
#define CKPT_VERSION 1u
#define CKPT_MAX_NAME 4096u   /* longer names mean a corrupt length field */


/* ---- save ------------------------------------------------------------------------------- */

/* Bytes go to the file and into the running CRC-32 at the same time. */
typedef struct writer {
    FILE *f;
    uLong crc;
    int err;   /* errno of the first failed write, 0 while all is well */
} writer;

static void w_bytes(writer *w, const void *p, size_t n) {
    if (w->err || n == 0) return;
    w->crc = crc32(w->crc, p, (uInt)n); /* callers pass at most 16 KiB at a time */
    if (fwrite(p, 1, n, w->f) != n) w->err = errno ? errno : EIO;
}

static void w_u32(writer *w, uint32_t v) {
    unsigned char b[4];
    nn_put_le32(b, v);
    w_bytes(w, b, 4);
}

static void w_floats(writer *w, const float *x, size_t n) {
    unsigned char buf[4096 * 4];
    while (n > 0) {
        size_t k = n < 4096 ? n : 4096;
        for (size_t i = 0; i < k; i++) nn_put_le32(buf + 4 * i, nn_float_bits(x[i]));
        w_bytes(w, buf, 4 * k);
        x += k;
        n -= k;
    }
}


int nn_model_save(const nn_model *m, const char *path) {
    if (!m || !path) {
        nn_fail("nn_model_save", "pass a model and a file name such as \"model.nnck\"",
                "%s is NULL", !m ? "the model" : "path");
        return -1;
    }
    for (int p = 0; p < m->nparams; p++) {
        size_t len = strlen(m->params[p]->name);
        if (len == 0 || len > CKPT_MAX_NAME) {
            nn_fail("nn_model_save", "give parameters names of 1 .. 4096 bytes",
                    "parameter %d has a name of %zu bytes", p, len);
            return -1;
        }
    }
    nn_safe_file out;
    int e = nn_safe_open(&out, path);
    if (e)
        return nn_set_last_error("nn_model_save: cannot create a temporary file next to '%s': %s",
                                 path, strerror(e));
    FILE *f = out.f;
    writer w = {f, crc32(0L, Z_NULL, 0), 0};
    w_bytes(&w, CKPT_MAGIC, 4);
    w_u32(&w, CKPT_VERSION);
    w_u32(&w, (uint32_t)m->nparams);
    for (int p = 0; p < m->nparams; p++) {
        const nn_tensor *t = m->params[p];
        size_t len = strlen(t->name);
        w_u32(&w, (uint32_t)len);
        w_bytes(&w, t->name, len);
        w_u32(&w, (uint32_t)t->ndim);
        for (int d = 0; d < t->ndim; d++) w_u32(&w, (uint32_t)t->shape[d]);
        w_floats(&w, t->data, t->size);
    }
    unsigned char tail[4];
    nn_put_le32(tail, (uint32_t)w.crc); /* the checksum covers everything before it */
    if (!w.err && fwrite(tail, 1, 4, f) != 4) w.err = errno ? errno : EIO;

    e = nn_safe_commit(&out, path, w.err, true);
    if (e) return nn_set_last_error("nn_model_save: cannot write '%s': %s", path, strerror(e));
    return 0;
}

/* ---- load ------------------------------------------------------------------------------- */

/* The size in bytes of a checkpoint of m: magic, version, count and checksum (16), plus
 * 4 + name + 4 + 4 * ndim + 4 * size per parameter. A file of any other size cannot fit. */
static unsigned long long checkpoint_size(const nn_model *m) {
    unsigned long long n = 16;
    for (int p = 0; p < m->nparams; p++) {
        const nn_tensor *t = m->params[p];
        n += 8 + strlen(t->name) + 4ull * (unsigned)t->ndim + 4ull * t->size;
    }
    return n;
}

/* Where the bytes come from: a regular file, read where needed (pread), or a pipe or device
 * (which cannot seek), whose first bytes have been read into memory. */
typedef struct source {
    const char *path;
    int fd;
    unsigned char *mem;       /* the stream's first bytes; NULL for a regular file */
    unsigned long long size;  /* the file's size, or how many bytes of the stream were read */
    bool more;                /* a stream with more bytes than that */
} source;

/* Exactly n bytes at offset off into buf. 0, or an errno (EIO: the file is shorter than
 * fstat said, e.g. someone is rewriting it). */
static int src_read(const source *s, unsigned long long off, void *buf, size_t n) {
    if (off > s->size || n > s->size - off) return EIO;
    if (s->mem) {
        memcpy(buf, s->mem + off, n);
        return 0;
    }
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = pread(s->fd, p, n < (1u << 30) ? n : (1u << 30), (off_t)off);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return got < 0 && errno ? errno : EIO;
        p += got;
        off += (size_t)got;
        n -= (size_t)got;
    }
    return 0;
}

/* A stream: read its first `limit` bytes (fewer if it ends sooner) into s->mem. 0 or an errno. */
static int read_stream(source *s, unsigned long long limit) {
    size_t cap = limit < (1u << 16) ? (size_t)limit : (1u << 16), len = 0;
    s->mem = malloc(cap ? cap : 1);
    if (!s->mem) return ENOMEM;
    while (len < limit) {
        if (len == cap) {
            size_t bigger = (unsigned long long)cap * 2 < limit ? cap * 2 : (size_t)limit;
            unsigned char *p = realloc(s->mem, bigger);
            if (!p) return ENOMEM;
            s->mem = p;
            cap = bigger;
        }
        ssize_t got = read(s->fd, s->mem + len, cap - len);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return errno ? errno : EIO;
        if (got == 0) break;
        len += (size_t)got;
    }
    s->size = len;
    s->more = len == limit;
    return 0;
}

/* One parameter as the file describes it; name and data point into the file's bytes (or,
 * when only the records' headers are read, name into `owned`). */
typedef struct entry {
    const char *name;
    uint32_t name_len;
    int ndim;
    int shape[NN_MAX_DIMS];
    size_t size;
    const unsigned char *data;
    bool used;
    char *owned;
} entry;


/* "(2, 3)" for an entry's shape. */
static void shape_text(char *buf, size_t size, int ndim, const int *shape) {
    int n = snprintf(buf, size, "(");
    for (int d = 0; d < ndim && n > 0 && (size_t)n < size; d++)
        n += snprintf(buf + n, size - n, d ? ", %d" : "%d", shape[d]);
    if (n > 0 && (size_t)n < size) snprintf(buf + n, size - n, ")");
}

/* Walk the parameter records in bytes [12, end). Fills e[0 .. count). 0, or -1 with
 * nn_last_error() saying where the records stop making sense. */
static int parse_entries(const char *path, const unsigned char *b, size_t end, entry *e,
                         uint32_t count, size_t file_len) {
    nn_cursor c = {b, 12, end};
#define BROKEN(...)                                                                      \
    do {                                                                                 \
        char what_[256];                                                                 \
        snprintf(what_, sizeof what_, __VA_ARGS__);                                      \
        return nn_set_last_error("nn_model_load: '%s' is truncated or corrupt (%zu bytes): " \
                                 "parameter %u of %u: %s", path, file_len, i + 1, count, \
                                 what_);                                                 \
    } while (0)
    for (uint32_t i = 0; i < count; i++) {
        uint32_t len, ndim;
        if (!nn_cursor_u32(&c, &len)) BROKEN("the file ends before its name length");
        if (len == 0 || len > CKPT_MAX_NAME)
            BROKEN("name length %u at byte %zu is not 1 .. %u", len, c.pos - 4, CKPT_MAX_NAME);
        if (c.end - c.pos < len) BROKEN("the file ends inside its %u-byte name", len);
        e[i].name = (const char *)b + c.pos;
        e[i].name_len = len;
        c.pos += len;
        if (!nn_cursor_u32(&c, &ndim)) BROKEN("the file ends before its number of dimensions");
        if (ndim > NN_MAX_DIMS) BROKEN("%u dimensions (at most %d)", ndim, NN_MAX_DIMS);
        e[i].ndim = (int)ndim;
        size_t size = 1;
        for (uint32_t d = 0; d < ndim; d++) {
            uint32_t s;
            if (!nn_cursor_u32(&c, &s)) BROKEN("the file ends inside its shape");
            if (s == 0 || s > (uint32_t)INT32_MAX) BROKEN("dimension %u has size %u", d, s);
            e[i].shape[d] = (int)s;
            if (size > ((size_t)1 << 40) / s) BROKEN("an implausibly large shape");
            size *= s;
        }
        e[i].size = size;
        if ((c.end - c.pos) / 4 < size)
            BROKEN("%zu values (%zu bytes) at byte %zu, but only %zu bytes remain before the "
                   "checksum", size, 4 * size, c.pos, c.end - c.pos);
        e[i].data = b + c.pos;
        c.pos += 4 * size;
    }
#undef BROKEN
    if (c.pos != end)
        return nn_set_last_error("nn_model_load: '%s' is corrupt: %zu unexpected byte(s) after "
                                 "the last of its %u parameters", path, end - c.pos, count);
    return 0;
}

/* The first entry called name[0 .. len), or NULL. */
static entry *find_entry(entry *e, uint32_t count, const char *name, size_t len) {
    for (uint32_t i = 0; i < count; i++)
        if (e[i].name_len == len && memcmp(e[i].name, name, len) == 0) return &e[i];
    return NULL;
}

/* The model's parameter called name[0 .. len) (which may hold any bytes), or NULL. */
static nn_tensor *find_param(const nn_model *m, const char *name, size_t len) {
    for (int p = 0; p < m->nparams; p++)
        if (strlen(m->params[p]->name) == len && memcmp(m->params[p]->name, name, len) == 0)
            return m->params[p];
    return NULL;
}

static bool same_shape(const entry *x, const nn_tensor *t) {
    bool same = x->ndim == t->ndim;
    for (int d = 0; same && d < t->ndim; d++) same = x->shape[d] == t->shape[d];
    return same;
}

/* Entry x against the model: in it, with the same shape, and not twice among e[0 .. n).
 * 0, or -1 with the message (`count`: the file's number of parameters; the message ends in
 * `tail`, e.g. the file's size). Marks x used. */
static int check_entry(const nn_model *m, const char *path, entry *e, uint32_t n, entry *x,
                       uint32_t count, const char *tail) {
    char name[200], have[80], want[80];
    nn_quote_bytes(name, sizeof name, x->name, x->name_len, 120);
    shape_text(have, sizeof have, x->ndim, x->shape);
    const nn_tensor *t = find_param(m, x->name, x->name_len);
    if (!t)
        return nn_set_last_error("nn_model_load: '%s' does not fit this model: the checkpoint's "
                                 "parameter %s %s is not in the model (checkpoint has %u "
                                 "parameters, model has %d)%s", path, name, have, count,
                                 m->nparams, tail);
    if (find_entry(e, n, x->name, x->name_len) != x)
        return nn_set_last_error("nn_model_load: '%s' is corrupt: it holds parameter %s twice%s",
                                 path, name, tail);
    nn_shape_str(t, want, sizeof want);
    if (!same_shape(x, t))
        return nn_set_last_error("nn_model_load: '%s' does not fit this model: parameter %s "
                                 "has shape %s in the checkpoint but %s in the model%s",
                                 path, name, have, want, tail);
    x->used = true;
    return 0;
}

/* Compare the file's parameters e[0 .. count) with the model's: no name twice, then the
 * same names with the same shapes, the model's missing ones named first. 0 or -1 (the
 * message ends in `tail`). */
static int match_model(const nn_model *m, const char *path, entry *e, uint32_t count,
                       const char *tail) {
    char want[80], name[200];
    for (uint32_t i = 1; i < count; i++)
        if (find_entry(e, i, e[i].name, e[i].name_len)) {
            nn_quote_bytes(name, sizeof name, e[i].name, e[i].name_len, 120);
            return nn_set_last_error("nn_model_load: '%s' is corrupt: it holds parameter %s "
                                     "twice%s", path, name, tail);
        }
    for (int p = 0; p < m->nparams; p++) {
        const nn_tensor *t = m->params[p];
        entry *x = find_entry(e, count, t->name, strlen(t->name));
        nn_shape_str(t, want, sizeof want);
        nn_quote_bytes(name, sizeof name, t->name, strlen(t->name), 120);
        if (!x)
            return nn_set_last_error("nn_model_load: '%s' does not fit this model: the model's "
                                     "parameter %s %s is not in the checkpoint (%u "
                                     "parameters, model has %d); was it saved from another "
                                     "architecture?%s", path, name, want, count, m->nparams,
                                     tail);
        if (check_entry(m, path, e, count, x, count, tail) != 0) return -1;
    }
    for (uint32_t i = 0; i < count; i++)
        if (!e[i].used && check_entry(m, path, e, count, &e[i], count, tail) != 0) return -1;
    return 0;
}

/* The file's size is not the size a checkpoint of this model has, so it is refused. Say why,
 * from the headers of its records alone (names and shapes: a few bytes each, read with
 * pread; the values are skipped, never read). At most nparams + 1 records are looked at: a
 * file that lists more cannot fit, and that bounds the work by the model, not the file.
 * Always returns -1. */
static int explain_size(const nn_model *m, const source *s, uint32_t count,
                        unsigned long long expected) {
    const char *path = s->path;
    char sizes[128], tail[140];
    snprintf(sizes, sizeof sizes, "the file has %llu bytes%s, a checkpoint of this model %llu",
             s->size, s->more ? " or more" : "", expected);
    snprintf(tail, sizeof tail, " (%s)", sizes);
    uint32_t look = count;
    if ((unsigned long long)count > (unsigned long long)m->nparams + 1)
        look = (uint32_t)m->nparams + 1;
    entry *e = calloc(look ? look : 1, sizeof *e);
    if (!e) return nn_set_last_error("nn_model_load: out of memory reading '%s'", path);

    const unsigned long long end = s->size;
    unsigned long long pos = 12;
    char what[256] = "";
    bool cut = false; /* the file ends too soon (truncated), rather than holding nonsense */
    int err = 0;
    uint32_t i;
#define NEED(n, ...)                                                                       \
    if (end - pos < (n)) {                                                                 \
        cut = true;                                                                        \
        snprintf(what, sizeof what, __VA_ARGS__);                                          \
        break;                                                                             \
    }
#define READ(buf, n)                                                                       \
    if ((err = src_read(s, pos, (buf), (n))) != 0) break;                                  \
    pos += (n)
    for (i = 0; i < look; i++) {
        unsigned char b[4 * NN_MAX_DIMS];
        NEED(4, "the file ends before its name length");
        READ(b, 4);
        uint32_t len = nn_get_le32(b);
        if (len == 0 || len > CKPT_MAX_NAME) {
            snprintf(what, sizeof what, "name length %u at byte %llu is not 1 .. %u", len,
                     pos - 4, CKPT_MAX_NAME);
            break;
        }
        NEED(len, "the file ends inside its %u-byte name", len);
        e[i].owned = malloc(len);
        if (!e[i].owned) {
            err = ENOMEM;
            break;
        }
        READ(e[i].owned, len);
        e[i].name = e[i].owned;
        e[i].name_len = len;
        NEED(4, "the file ends before its number of dimensions");
        READ(b, 4);
        uint32_t ndim = nn_get_le32(b);
        if (ndim > NN_MAX_DIMS) {
            snprintf(what, sizeof what, "%u dimensions (at most %d)", ndim, NN_MAX_DIMS);
            break;
        }
        NEED(4 * ndim, "the file ends inside its shape");
        READ(b, 4 * ndim);
        e[i].ndim = (int)ndim;
        size_t size = 1;
        for (uint32_t d = 0; d < ndim && !what[0]; d++) {
            uint32_t sz = nn_get_le32(b + 4 * d);
            if (sz == 0 || sz > (uint32_t)INT32_MAX)
                snprintf(what, sizeof what, "dimension %u has size %u", d, sz);
            else if (size > ((size_t)1 << 40) / sz)
                snprintf(what, sizeof what, "an implausibly large shape");
            e[i].shape[d] = (int)sz;
            size *= sz;
        }
        if (what[0]) break;
        e[i].size = size;
        NEED(4 * (unsigned long long)size, "its %zu values (%zu bytes) at byte %llu run past the "
             "end of the file", size, 4 * size, pos);
        pos += 4 * (unsigned long long)size; /* skipped, not read */
    }
#undef NEED
#undef READ
    if (err) {
        nn_set_last_error("nn_model_load: cannot read '%s': %s", path, strerror(err));
    } else if (what[0]) {
        char name[200] = "";
        if (i < look && e[i].name) {
            name[0] = ' ';
            nn_quote_bytes(name + 1, sizeof name - 1, e[i].name, e[i].name_len, 120);
        }
        nn_set_last_error("nn_model_load: '%s' is %s (%s): parameter %u of %u%s: %s", path,
                          cut ? "truncated" : "corrupt", sizes, i + 1, count, name, what);
    } else if (look < count) {
        /* nparams + 1 well-formed records: one of them is not in the model, or twice here */
        uint32_t k = 0;
        while (k < look && check_entry(m, path, e, look, &e[k], count, tail) == 0) k++;
        if (k == look) /* cannot happen (there are more records than names), but say so */
            nn_set_last_error("nn_model_load: '%s' does not fit this model: it lists %u "
                              "parameters, the model has %d%s", path, count, m->nparams, tail);
    } else if (match_model(m, path, e, count, tail) != 0) {
        /* the message is set */
    } else if (end < pos + 4) {
        nn_set_last_error("nn_model_load: '%s' is truncated (%s): the file ends inside the "
                          "4-byte checksum after its %u parameters", path, sizes, count);
    } else {
        nn_set_last_error("nn_model_load: '%s' has %llu%s unexpected byte(s) after its "
                          "checksum (%s)", path, end - (pos + 4), s->more ? " or more" : "",
                          sizes);
    }
    for (uint32_t k = 0; k < look; k++) free(e[k].owned);
    free(e);
    return -1;
}

/* The checks of a file whose size is right: read all of it (no more than the model's own
 * size) and check every length, the checksum, every name and shape; then copy the values.
 * 0 or -1 (the model untouched). */
static int load_checked(nn_model *m, const source *s, uint32_t count) {
    const char *path = s->path;
    size_t len = (size_t)s->size;
    unsigned char *b = s->mem;
    if (!b) {
        b = malloc(len);
        if (!b) return nn_set_last_error("nn_model_load: out of memory reading '%s'", path);
        int err = src_read(s, 0, b, len);
        if (err) {
            free(b);
            return nn_set_last_error("nn_model_load: cannot read '%s': %s", path, strerror(err));
        }
    }
    int rc = -1;
    entry *e = calloc(count ? count : 1, sizeof *e);
    if (!e) {
        nn_set_last_error("nn_model_load: out of memory reading '%s'", path);
        goto done;
    }
    /* does every length add up, and does the checksum agree? */
    if (parse_entries(path, b, len - 4, e, count, len) != 0) goto done;
    uint32_t stored = nn_get_le32(b + len - 4);
    uint32_t crc = nn_crc32(b, len - 4);
    if (stored != crc) {
        nn_set_last_error("nn_model_load: '%s' is corrupt: checksum mismatch (CRC-32 stored "
                          "%08x, computed %08x); some bytes changed after it was saved",
                          path, stored, crc);
        goto done;
    }
    /* does it fit the model? */
    if (match_model(m, path, e, count, "") != 0) goto done;

    /* all checked: now, and only now, copy the values in */
    for (int p = 0; p < m->nparams; p++) {
        nn_tensor *t = m->params[p];
        const entry *x = find_entry(e, count, t->name, strlen(t->name));
        for (size_t i = 0; i < t->size; i++) t->data[i] = nn_bits_float(nn_get_le32(x->data + 4 * i));
    }
    rc = 0;
done:
    free(e);
    if (b != s->mem) free(b);
    return rc;
}

int nn_model_load(nn_model *m, const char *path) {
    if (!m || !path) {
        nn_fail("nn_model_load", "build the model first (same layers as when saved), then load",
                "%s is NULL", !m ? "the model" : "path");
        return -1;
    }
    source s = {path, -1, NULL, 0, false};
    s.fd = open(path, O_RDONLY);
    if (s.fd < 0)
        return nn_set_last_error("nn_model_load: cannot open '%s': %s", path, strerror(errno));
    int rc = -1, err = 0;
    struct stat st;
    const unsigned long long expected = checkpoint_size(m);
    if (fstat(s.fd, &st) != 0) {
        err = errno;
    } else if (S_ISDIR(st.st_mode)) {
        err = EISDIR;
    } else if (S_ISREG(st.st_mode)) {
        s.size = (unsigned long long)st.st_size;
    } else {
        /* a pipe or a device: read no more than one byte past what a fitting file has */
        err = read_stream(&s, expected + 1);
    }
    if (err) {
        nn_set_last_error("nn_model_load: cannot read '%s': %s", path, strerror(err));
        goto done;
    }

    /* 1. the header, from the first 12 bytes: what kind of file is it? */
    unsigned char head[12];
    size_t got = s.size < 12 ? (size_t)s.size : 12;
    if ((err = src_read(&s, 0, head, got)) != 0) {
        nn_set_last_error("nn_model_load: cannot read '%s': %s", path, strerror(err));
        goto done;
    }
    if (got >= 4 && memcmp(head, CKPT_MAGIC, 4) != 0) {
        char text[40];
        nn_quote_bytes(text, sizeof text, head, 4, 4);
        nn_set_last_error("nn_model_load: '%s' is not a libnn checkpoint: it starts with bytes "
                          "%02x %02x %02x %02x (%s), expected \"NNCK\" (4e 4e 43 4b)",
                          path, head[0], head[1], head[2], head[3], text);
        goto done;
    }
    if (s.size < 16) {
        nn_set_last_error("nn_model_load: '%s' is truncated: %llu bytes, but even an empty "
                          "checkpoint has 16 (magic, version, count, checksum)", path, s.size);
        goto done;
    }
    uint32_t version = nn_get_le32(head + 4), count = nn_get_le32(head + 8);
    if (version != CKPT_VERSION) {
        nn_set_last_error("nn_model_load: '%s' is checkpoint format version %u; this library "
                          "reads version %u", path, version, CKPT_VERSION);
        goto done;
    }
    /* Each record takes at least 13 bytes (length, 1-byte name, ndim, one value), so a
     * count larger than that is a corrupt header, not a reason to allocate a lot. */
    if (count > (s.size - 16) / 13) {
        nn_set_last_error("nn_model_load: '%s' is truncated or corrupt: its header lists %u "
                          "parameters, more than its %llu bytes can hold", path, count, s.size);
        goto done;
    }

    /* 2. the size: the model fixes it (its names and shapes). Any other size is refused
     * here, before the body is read, so a 3 GB file of anything costs a few small reads. */
    if (s.size != expected || s.more) {
        explain_size(m, &s, count, expected);
        goto done;
    }

    /* 3. read it all, check every byte, and only then copy the values */
    rc = load_checked(m, &s, count);
done:
    free(s.mem);
    close(s.fd);
    return rc;
}
