/* src/data/checkpoint.c — save a model's parameters to a file and load them back
 * (format in include/nn/data/checkpoint.h and docs/en/checkpoint-format.md).
 *
 * Saving (through src/data/safe_file.c): write everything to a fresh temporary file in the
 * target's folder, fsync it, then rename it onto the target. rename() within one folder is
 * atomic, so whoever opens the path sees the old checkpoint or the new one, never half of
 * one, even after a crash.
 *
 * Loading: read the whole file into memory and check all of it (magic, version, every
 * length against the bytes really there, the CRC-32, every name and shape against the
 * model) before copying a single value. A bad file therefore leaves the model as it was.
 */
#include "internal.h"
#include "nn/data/checkpoint.h"

#include <errno.h>
#include <stdio.h>
#include <zlib.h>

#define CKPT_MAGIC "NNCK"
#define CKPT_VERSION 1u
#define CKPT_MAX_NAME 4096u   /* longer names mean a corrupt length field */

/* ---- little-endian helpers --------------------------------------------------------------- */

static void put_le32(unsigned char *b, uint32_t v) {
    b[0] = (unsigned char)v;
    b[1] = (unsigned char)(v >> 8);
    b[2] = (unsigned char)(v >> 16);
    b[3] = (unsigned char)(v >> 24);
}

static uint32_t get_le32(const unsigned char *b) {
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint32_t float_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_float(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

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
    put_le32(b, v);
    w_bytes(w, b, 4);
}

static void w_floats(writer *w, const float *x, size_t n) {
    unsigned char buf[4096 * 4];
    while (n > 0) {
        size_t k = n < 4096 ? n : 4096;
        for (size_t i = 0; i < k; i++) put_le32(buf + 4 * i, float_bits(x[i]));
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
    put_le32(tail, (uint32_t)w.crc); /* the checksum covers everything before it */
    if (!w.err && fwrite(tail, 1, 4, f) != 4) w.err = errno ? errno : EIO;

    e = nn_safe_commit(&out, path, w.err, true);
    if (e) return nn_set_last_error("nn_model_save: cannot write '%s': %s", path, strerror(e));
    return 0;
}

/* ---- load ------------------------------------------------------------------------------- */

/* The whole file, or NULL with nn_last_error() set. */
static unsigned char *read_file(const char *path, size_t *len_out) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        nn_set_last_error("nn_model_load: cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
        if (len == cap) {
            unsigned char *bigger = realloc(buf, cap * 2);
            if (!bigger) free(buf);
            buf = bigger;
            cap *= 2;
        }
    }
    int bad = !buf || ferror(f);
    int e = errno;
    fclose(f);
    if (bad) {
        free(buf);
        nn_set_last_error("nn_model_load: cannot read '%s': %s", path,
                          buf ? strerror(e ? e : EIO) : "out of memory");
        return NULL;
    }
    *len_out = len;
    return buf;
}

/* One parameter as the file describes it; name and data point into the file's bytes. */
typedef struct entry {
    const char *name;
    uint32_t name_len;
    int ndim;
    int shape[NN_MAX_DIMS];
    size_t size;
    const unsigned char *data;
    bool used;
} entry;

/* A cursor over the file that never reads past `end`. */
typedef struct cursor {
    const unsigned char *b;
    size_t pos, end;
} cursor;

static bool c_u32(cursor *c, uint32_t *v) {
    if (c->end - c->pos < 4) return false;
    *v = get_le32(c->b + c->pos);
    c->pos += 4;
    return true;
}

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
    cursor c = {b, 12, end};
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
        if (!c_u32(&c, &len)) BROKEN("the file ends before its name length");
        if (len == 0 || len > CKPT_MAX_NAME)
            BROKEN("name length %u at byte %zu is not 1 .. %u", len, c.pos - 4, CKPT_MAX_NAME);
        if (c.end - c.pos < len) BROKEN("the file ends inside its %u-byte name", len);
        e[i].name = (const char *)b + c.pos;
        e[i].name_len = len;
        c.pos += len;
        if (!c_u32(&c, &ndim)) BROKEN("the file ends before its number of dimensions");
        if (ndim > NN_MAX_DIMS) BROKEN("%u dimensions (at most %d)", ndim, NN_MAX_DIMS);
        e[i].ndim = (int)ndim;
        size_t size = 1;
        for (uint32_t d = 0; d < ndim; d++) {
            uint32_t s;
            if (!c_u32(&c, &s)) BROKEN("the file ends inside its shape");
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

/* The entry called `name`, or NULL. */
static entry *find_entry(entry *e, uint32_t count, const char *name) {
    size_t n = strlen(name);
    for (uint32_t i = 0; i < count; i++)
        if (e[i].name_len == n && memcmp(e[i].name, name, n) == 0) return &e[i];
    return NULL;
}

/* Compare the file's parameters with the model's: same names, same shapes. 0 or -1. */
static int match_model(const nn_model *m, const char *path, entry *e, uint32_t count) {
    char want[80], have[80];
    for (int p = 0; p < m->nparams; p++) {
        const nn_tensor *t = m->params[p];
        entry *x = find_entry(e, count, t->name);
        nn_shape_str(t, want, sizeof want);
        if (!x)
            return nn_set_last_error("nn_model_load: '%s' does not fit this model: the model's "
                                     "parameter \"%s\" %s is not in the checkpoint (%u "
                                     "parameters, model has %d); was it saved from another "
                                     "architecture?", path, t->name, want, count, m->nparams);
        shape_text(have, sizeof have, x->ndim, x->shape);
        bool same = x->ndim == t->ndim;
        for (int d = 0; same && d < t->ndim; d++) same = x->shape[d] == t->shape[d];
        if (!same)
            return nn_set_last_error("nn_model_load: '%s' does not fit this model: parameter "
                                     "\"%s\" has shape %s in the checkpoint but %s in the model",
                                     path, t->name, have, want);
        x->used = true;
    }
    for (uint32_t i = 0; i < count; i++)
        if (!e[i].used) {
            shape_text(have, sizeof have, e[i].ndim, e[i].shape);
            return nn_set_last_error("nn_model_load: '%s' does not fit this model: the "
                                     "checkpoint's parameter \"%.*s\" %s is not in the model "
                                     "(checkpoint has %u parameters, model has %d)",
                                     path, (int)e[i].name_len, e[i].name, have, count,
                                     m->nparams);
        }
    return 0;
}

int nn_model_load(nn_model *m, const char *path) {
    if (!m || !path) {
        nn_fail("nn_model_load", "build the model first (same layers as when saved), then load",
                "%s is NULL", !m ? "the model" : "path");
        return -1;
    }
    size_t len = 0;
    unsigned char *b = read_file(path, &len);
    if (!b) return -1;
    entry *e = NULL;
    int rc = -1;

    /* 1. what kind of file is it? */
    if (len >= 4 && memcmp(b, CKPT_MAGIC, 4) != 0) {
        nn_set_last_error("nn_model_load: '%s' is not a libnn checkpoint: it starts with bytes "
                          "%02x %02x %02x %02x, expected \"NNCK\" (4e 4e 43 4b)",
                          path, b[0], b[1], b[2], b[3]);
        goto done;
    }
    if (len < 16) {
        nn_set_last_error("nn_model_load: '%s' is truncated: %zu bytes, but even an empty "
                          "checkpoint has 16 (magic, version, count, checksum)", path, len);
        goto done;
    }
    uint32_t version = get_le32(b + 4), count = get_le32(b + 8);
    if (version != CKPT_VERSION) {
        nn_set_last_error("nn_model_load: '%s' is checkpoint format version %u; this library "
                          "reads version %u", path, version, CKPT_VERSION);
        goto done;
    }
    /* Each record takes at least 13 bytes (length, 1-byte name, ndim, one value), so a
     * count larger than that is a corrupt header, not a reason to allocate a lot. */
    if (count > (len - 16) / 13) {
        nn_set_last_error("nn_model_load: '%s' is truncated or corrupt: its header lists %u "
                          "parameters, more than its %zu bytes can hold", path, count, len);
        goto done;
    }

    /* 2. does every length add up, and does the checksum agree? */
    e = calloc(count ? count : 1, sizeof *e);
    if (!e) {
        nn_set_last_error("nn_model_load: out of memory reading '%s'", path);
        goto done;
    }
    if (parse_entries(path, b, len - 4, e, count, len) != 0) goto done;
    uint32_t stored = get_le32(b + len - 4);
    uint32_t computed = 0;
    {
        uLong crc = crc32(0L, Z_NULL, 0);
        for (size_t off = 0; off < len - 4; off += 1u << 30) {
            size_t k = len - 4 - off < (1u << 30) ? len - 4 - off : (1u << 30);
            crc = crc32(crc, b + off, (uInt)k);
        }
        computed = (uint32_t)crc;
    }
    if (stored != computed) {
        nn_set_last_error("nn_model_load: '%s' is corrupt: checksum mismatch (CRC-32 stored "
                          "%08x, computed %08x); some bytes changed after it was saved",
                          path, stored, computed);
        goto done;
    }

    /* 3. does it fit the model? */
    if (match_model(m, path, e, count) != 0) goto done;

    /* 4. all checked: now, and only now, copy the values in. */
    for (int p = 0; p < m->nparams; p++) {
        nn_tensor *t = m->params[p];
        const entry *x = find_entry(e, count, t->name);
        for (size_t i = 0; i < t->size; i++) t->data[i] = bits_float(get_le32(x->data + 4 * i));
    }
    rc = 0;
done:
    free(e);
    free(b);
    return rc;
}
