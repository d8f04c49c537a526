/* src/data/quant_checkpoint.c — quantized checkpoints (NNQ1): a model's weights in int8 or
 * int4, its biases and norms in float32 (API in include/nn/ops/quant.h).
 *
 * Layout (version 1): unsigned 32-bit little-endian integers, little-endian float32, no
 * padding, the conventions of NNCK (src/data/checkpoint.c):
 *
 *   "NNQ1"          magic
 *   version         1
 *   count           number of parameters
 *   count records:  name length L (1 .. 4096), L bytes of name, ndim (1 .. 4), ndim sizes,
 *                   kind: 0 float32, 8 int8, 4 int4, then
 *     kind 0:       size float32 values
 *     kind 8 or 4:  layout: 0 = the rows are the parameter's first axis (rows = shape[0],
 *                             cols = size / shape[0]: a convolution's output channels);
 *                           1 = the matrix is the transpose of a 2-D parameter (rows =
 *                             shape[1], cols = shape[0]: an (in, out) linear weight's outputs)
 *                   group:  int4: 1 .. cols, the weights per scale along a row; int8: 0
 *                   scales: float32, rows (int8) or rows * ceil(cols / group) (int4), >= 0
 *                           and s * 127 (int8) or s * 7 (int4) at most FLT_MAX
 *                   values: int8: rows * cols bytes, two's complement, -127 .. 127;
 *                           int4: rows * ceil(cols / 2) bytes, per byte the even column in
 *                           the low nibble, the odd one in the high, each q + 8 (1 .. 15);
 *                           an odd row's last high nibble 0
 *   crc             CRC-32 (zlib's) of every byte before it
 *
 * Loading reads the file whole, but never more than the largest file this model's NNQ1 can
 * be (everything in float32 or int4 with group 1, whichever is larger): a file beyond that
 * is refused before it is read. Then the magic (an NNCK file is named as such), the CRC,
 * every record against the bytes really there and against the model, every scale and
 * quantized value; the dequantized values go to a scratch copy, and only when all is well
 * into the model. So a failed load leaves the model untouched.
 */
#include "internal.h"
#include "nn/ops/quant.h"
#include "../ops/quant_internal.h"

#include <errno.h>
#include <float.h>
#include <zlib.h>

#define QCK_MAGIC "NNQ1"
#define QCK_VERSION 1u
#define QCK_MAX_NAME 4096u

/* What the saver does with parameter p: quantize it (a weight of 2 or more dims) or not. */
static bool quantizes(const nn_model *m, int p) {
    return m->params[p]->ndim >= 2 && m->decay[p];
}

/* ---- save ------------------------------------------------------------------------------ */

typedef struct writer {
    FILE *f;
    uint32_t crc;
    int err;
    unsigned char buf[1 << 14];   /* bytes gathered here, CRC'd and written in pieces */
    size_t n;
} writer;

static void w_flush(writer *w) {
    if (!w->err && w->n && fwrite(w->buf, 1, w->n, w->f) != w->n) w->err = errno ? errno : EIO;
    if (w->n) w->crc = (uint32_t)crc32(w->crc, w->buf, (uInt)w->n);   /* at most 16 KiB */
    w->n = 0;
}

static void w_bytes(writer *w, const void *p, size_t n) {
    const unsigned char *b = p;
    while (n > 0) {
        if (w->n == sizeof w->buf) w_flush(w);
        size_t k = sizeof w->buf - w->n < n ? sizeof w->buf - w->n : n;
        memcpy(w->buf + w->n, b, k);
        w->n += k, b += k, n -= k;
    }
}

static void w_u32(writer *w, uint32_t v) {
    unsigned char b[4];
    nn_put_le32(b, v);
    w_bytes(w, b, 4);
}

static void w_floats(writer *w, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) w_u32(w, nn_float_bits(x[i]));
}

int nn_model_save_quantized(const nn_model *m, const char *path, int bits, int group) {
    const char *op = "nn_model_save_quantized";
    if (!m || !path) {
        nn_fail(op, "pass a model and a file name such as \"model.nnq\"", "%s is NULL",
                !m ? "the model" : "path");
        return -1;
    }
    if (bits != 8 && bits != 4) {
        nn_fail(op, "int8 (bits = 8) or int4 (bits = 4, with a group such as 32)", "bits = %d",
                bits);
        return -1;
    }
    if (bits == 4 && group < 1) {
        nn_fail(op, "groups of 32, 64 or 128 weights are usual", "group = %d", group);
        return -1;
    }
    for (int p = 0; p < m->nparams; p++) {
        size_t len = strlen(m->params[p]->name);
        if (len == 0 || len > QCK_MAX_NAME || m->params[p]->ndim < 1) {
            nn_fail(op, "give parameters names of 1 .. 4096 bytes and at least one dimension",
                    "parameter %d has a name of %zu bytes and %d dimensions", p, len,
                    m->params[p]->ndim);
            return -1;
        }
        size_t bad = nn_find_nonfinite(m->params[p]->data, m->params[p]->size);
        if (bad < m->params[p]->size) {
            nn_fail(op, "quantize a trained model's weights; nn_model_check_finite finds the "
                    "bad one", "parameter '%s' holds a value that is not finite",
                    m->params[p]->name);
            return -1;
        }
    }
    nn_safe_file out;
    int e = nn_safe_open(&out, path);
    if (e)
        return nn_set_last_error("%s: cannot create a temporary file next to '%s': %s", op, path,
                                 strerror(e));
    writer *w = nn_xcalloc(1, sizeof *w);
    w->f = out.f;
    w_bytes(w, QCK_MAGIC, 4);
    w_u32(w, QCK_VERSION);
    w_u32(w, (uint32_t)m->nparams);
    for (int p = 0; p < m->nparams; p++) {
        const nn_tensor *t = m->params[p];
        size_t len = strlen(t->name);
        w_u32(w, (uint32_t)len);
        w_bytes(w, t->name, len);
        w_u32(w, (uint32_t)t->ndim);
        for (int d = 0; d < t->ndim; d++) w_u32(w, (uint32_t)t->shape[d]);
        if (!quantizes(m, p)) {
            w_u32(w, 0);
            w_floats(w, t->data, t->size);
            continue;
        }
        size_t rows, cols;
        float *mat = nn_xmalloc(t->size * sizeof *mat);
        nn_quant_get_channels(t, mat, &rows, &cols);   /* (out channels, fan_in) */
        w_u32(w, (uint32_t)bits);
        w_u32(w, t->ndim == 2 ? 1 : 0);
        if (bits == 8) {
            int8_t *q = nn_xmalloc(rows * cols);
            float *s = nn_xmalloc(rows * sizeof *s);
            nn_q8_quantize(mat, rows, cols, q, s);   /* values checked finite above */
            w_u32(w, 0);
            w_floats(w, s, rows);
            w_bytes(w, q, rows * cols);
            free(q), free(s);
        } else {
            int g = (size_t)group < cols ? group : (int)cols;   /* a group of at most a row */
            size_t ns = rows * nn_q4_groups(cols, g), nb = nn_q4_packed_bytes(rows, cols);
            uint8_t *q = nn_xmalloc(nb);
            float *s = nn_xmalloc(ns * sizeof *s);
            nn_q4_quantize(mat, rows, cols, g, q, s);
            w_u32(w, (uint32_t)g);
            w_floats(w, s, ns);
            w_bytes(w, q, nb);
            free(q), free(s);
        }
        free(mat);
    }
    w_flush(w);   /* the CRC now covers every byte before it */
    unsigned char tail[4];
    nn_put_le32(tail, w->crc);
    int err = w->err;
    if (!err && fwrite(tail, 1, 4, out.f) != 4) err = errno ? errno : EIO;
    free(w);
    e = nn_safe_commit(&out, path, err, true);
    if (e) return nn_set_last_error("%s: cannot write '%s': %s", op, path, strerror(e));
    return 0;
}

/* ---- load ------------------------------------------------------------------------------ */

/* The largest NNQ1 file of m: per parameter the header (name, shape, kind, layout, group)
 * and the larger of float32 (4 bytes a value) and int4 with group 1 (4.5 bytes a value). */
static size_t max_file_size(const nn_model *m) {
    size_t n = 16;
    for (int p = 0; p < m->nparams; p++) {
        const nn_tensor *t = m->params[p];
        n += 20 + strlen(t->name) + 4 * (size_t)t->ndim + 5 * t->size + 4 * (size_t)t->shape[0];
    }
    return n;
}


/* The model's parameter called name[0 .. len), or -1. */
static int find_param(const nn_model *m, const unsigned char *name, size_t len) {
    for (int p = 0; p < m->nparams; p++)
        if (strlen(m->params[p]->name) == len && memcmp(m->params[p]->name, name, len) == 0)
            return p;
    return -1;
}

/* Decode one record at c (its name already read: parameter t) into out (t->size floats).
 * NULL, or what is wrong (a static string or one written into why). */
static const char *decode(nn_cursor *c, const nn_tensor *t, float *out, char *why, size_t size) {
    uint32_t kind, layout, group;
    if (!nn_cursor_u32(c, &kind)) return "the file ends before its kind";
    if (kind == 0) {
        if ((c->end - c->pos) / 4 < t->size) return "the file ends inside its float32 values";
        for (size_t i = 0; i < t->size; i++) {
            out[i] = nn_bits_float(nn_get_le32(c->b + c->pos + 4 * i));
            if (!isfinite(out[i])) return "a float32 value is not finite";
        }
        c->pos += 4 * t->size;
        return NULL;
    }
    if (kind != 8 && kind != 4) {
        snprintf(why, size, "kind %u is not 0 (float32), 8 (int8) or 4 (int4)", kind);
        return why;
    }
    if (!nn_cursor_u32(c, &layout) || !nn_cursor_u32(c, &group))
        return "the file ends before its layout";
    if (layout > 1 || (layout == 1 && t->ndim != 2)) {
        snprintf(why, size, "layout %u (0, or 1 for a 2-D parameter)", layout);
        return why;
    }
    size_t rows = layout ? (size_t)t->shape[1] : (size_t)t->shape[0], cols = t->size / rows;
    if (kind == 8 ? group != 0 : group < 1 || group > cols) {
        snprintf(why, size, "group %u (int8: 0; int4: 1 .. %zu)", group, cols);
        return why;
    }
    size_t ns = kind == 8 ? rows : rows * nn_q4_groups(cols, (int)group);
    size_t nb = kind == 8 ? rows * cols : nn_q4_packed_bytes(rows, cols);
    if ((c->end - c->pos) / 4 < ns || c->end - c->pos - 4 * ns < nb)
        return "the file ends inside its scales and values";
    float *s = nn_xmalloc(ns * sizeof *s), *mat = nn_xmalloc(rows * cols * sizeof *mat);
    const char *bad = NULL;
    for (size_t i = 0; i < ns && !bad; i++) {
        s[i] = nn_bits_float(nn_get_le32(c->b + c->pos + 4 * i));
        if (!(s[i] >= 0 && s[i] * (kind == 8 ? 127.0f : 7.0f) <= FLT_MAX))
            bad = "a scale is negative, not finite, or so large that s * q overflows";
    }
    const unsigned char *v = c->b + c->pos + 4 * ns;
    if (!bad && kind == 8) {
        for (size_t i = 0; i < nb && !bad; i++)
            if (v[i] == 0x80) bad = "an int8 value is -128 (the range is -127 .. 127)";
        if (!bad) nn_q8_dequantize((const int8_t *)v, s, rows, cols, mat);
    } else if (!bad) {
        size_t row_bytes = (cols + 1) / 2;
        for (size_t r = 0; r < rows && !bad; r++)
            for (size_t b = 0; b < row_bytes && !bad; b++) {
                unsigned lo = v[r * row_bytes + b] & 15, hi = v[r * row_bytes + b] >> 4;
                bool last_odd = cols % 2 && b == row_bytes - 1;
                if (lo == 0 || (last_odd ? hi != 0 : hi == 0))
                    bad = "an int4 nibble is 0 (values are stored as q + 8, 1 .. 15)";
            }
        if (!bad) nn_q4_dequantize(v, s, rows, cols, (int)group, mat);
    }
    if (!bad) {
        /* back from (channels, fan_in) to the parameter's own layout */
        if (layout == 1)
            for (size_t i = 0; i < cols; i++)
                for (size_t o = 0; o < rows; o++) out[i * rows + o] = mat[o * cols + i];
        else
            memcpy(out, mat, rows * cols * sizeof *out);
        c->pos += 4 * ns + nb;
    }
    free(s), free(mat);
    return bad;
}

int nn_model_load_quantized(nn_model *m, const char *path) {
    const char *op = "nn_model_load_quantized";
    if (!m || !path) {
        nn_fail(op, "pass a built model and the file's name", "%s is NULL",
                !m ? "the model" : "path");
        return -1;
    }
    char *file;
    size_t len;
    if (nn_read_file(op, path, max_file_size(m), "the largest quantized checkpoint this model "
                     "can have", &file, &len) != 0)
        return -1;
    const unsigned char *b = (const unsigned char *)file;
    int rc = -1;
    float *scratch = NULL;
    bool *seen = NULL;
    if (len >= 4 && memcmp(b, "NNCK", 4) == 0) {
        nn_set_last_error("%s: '%s' is a float32 checkpoint (NNCK); load it with nn_model_load",
                          op, path);
        goto done;
    }
    if (len < 4 || memcmp(b, QCK_MAGIC, 4) != 0) {
        nn_set_last_error("%s: '%s' is not a quantized checkpoint (no \"NNQ1\" at its start)", op,
                          path);
        goto done;
    }
    if (len < 16) {
        nn_set_last_error("%s: '%s' is truncated: %zu bytes, a header and checksum take 16", op,
                          path, len);
        goto done;
    }
    if (nn_get_le32(b + len - 4) != nn_crc32(b, len - 4)) {
        nn_set_last_error("%s: '%s' is corrupt or truncated: checksum mismatch (%zu bytes)", op,
                          path, len);
        goto done;
    }
    uint32_t version = nn_get_le32(b + 4), count = nn_get_le32(b + 8);
    if (version != QCK_VERSION) {
        nn_set_last_error("%s: '%s' has version %u; this library reads version %u", op, path,
                          version, QCK_VERSION);
        goto done;
    }
    if (count != (uint32_t)m->nparams) {
        nn_set_last_error("%s: '%s' does not fit this model: it holds %u parameters, the model "
                          "has %d; was it saved from another architecture?", op, path, count,
                          m->nparams);
        goto done;
    }
    scratch = nn_xmalloc((m->count ? m->count : 1) * sizeof *scratch);
    seen = nn_xcalloc((size_t)m->nparams + 1, sizeof *seen);
    nn_cursor c = {b, 12, len - 4};
    char why[160], name[200];
    for (uint32_t i = 0; i < count; i++) {
        uint32_t nlen, ndim;
        const char *bad = NULL;
        int p = -1;
        name[0] = 0;
        if (!nn_cursor_u32(&c, &nlen) || nlen == 0 || nlen > QCK_MAX_NAME || c.end - c.pos < nlen) {
            bad = "its name length is not 1 .. 4096 or runs past the end";
        } else {
            nn_quote_bytes(name, sizeof name, b + c.pos, nlen, 120);
            p = find_param(m, b + c.pos, nlen);
            c.pos += nlen;
            if (p < 0) bad = "the model has no parameter of that name";
            else if (seen[p]) bad = "the file holds it twice";
        }
        if (!bad && (!nn_cursor_u32(&c, &ndim) || ndim != (uint32_t)m->params[p]->ndim ||
                     c.end - c.pos < 4 * ndim))
            bad = "its number of dimensions differs from the model's";
        for (uint32_t d = 0; !bad && d < ndim; d++) {
            uint32_t sz = nn_get_le32(b + c.pos + 4 * d);
            if (sz != (uint32_t)m->params[p]->shape[d]) {
                char have[80];
                nn_shape_str(m->params[p], have, sizeof have);
                snprintf(why, sizeof why, "dimension %u has size %u in the file, but the model's "
                         "shape is %s", d, sz, have);
                bad = why;
            }
        }
        if (!bad) {
            c.pos += 4 * ndim;
            const nn_tensor *t = m->params[p];
            bad = decode(&c, t, scratch + (t->data - m->data), why, sizeof why);
            seen[p] = true;
        }
        if (bad) {
            nn_set_last_error("%s: '%s' is corrupt or does not fit this model: parameter %u of "
                              "%u%s%s: %s", op, path, i + 1, count, name[0] ? " " : "", name,
                              bad);
            goto done;
        }
    }
    if (c.pos != c.end) {
        nn_set_last_error("%s: '%s' is corrupt: %zu unexpected byte(s) after its last parameter",
                          op, path, c.end - c.pos);
        goto done;
    }
    /* count == nparams and no name twice: every parameter was seen. All is well. */
    for (int p = 0; p < m->nparams; p++) {
        nn_tensor *t = m->params[p];
        memcpy(t->data, scratch + (t->data - m->data), t->size * sizeof *t->data);
    }
    rc = 0;
done:
    free(file), free(scratch), free(seen);
    return rc;
}
