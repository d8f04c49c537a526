/* src/data/idx.c — the IDX files of MNIST and Fashion-MNIST, plain or gzip'd
 * (see include/nn/data/idx.h).
 *
 * An IDX file is a tiny header and then raw bytes:
 *
 *   00 00 08 03  | N (uint32, big-endian) | rows | cols | N*rows*cols pixel bytes   images
 *   00 00 08 01  | N                                    | N label bytes             labels
 *
 * The third byte is the element type (08 = unsigned byte), the fourth the number of
 * dimensions. A gzip'd file (it starts with 1f 8b) is inflated here with zlib's inflate()
 * rather than gzread(), because gzread quietly ignores bytes after the end of the gzip
 * stream; reading the stream ourselves, we know where it ends, and refuse what follows it
 * just as we refuse bytes after the data of a plain file. Everything in the header comes
 * from outside and is checked before it is trusted: the data is read in chunks, so a header
 * that claims a billion images in a 100-byte file fails with "truncated" instead of
 * allocating gigabytes first.
 */
#include "internal.h"
#include "nn/data/idx.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <zlib.h>

#define IDX_MAX_SIDE 65535   /* rows, cols: anything larger is a corrupt header */
#define IDX_CHUNK (1u << 22) /* bytes of data asked for at a time */
#define IDX_IN (1u << 16)    /* bytes read from the file at a time */

static const char *type_name(int code) {
    switch (code) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "not an IDX type";
    }
}

static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* ---- reading the bytes: plain or gzip'd ---------------------------------------------------- */

/* An open IDX file. The data comes through idx_read, which hides whether it is gzip'd. */
typedef struct idx_file {
    const char *op, *path;
    FILE *f;
    unsigned long long size;  /* the file's size (a regular file), else 0 */
    bool regular;
    unsigned char in[IDX_IN]; /* bytes read from the file, not yet used */
    size_t in_pos, in_len;    /* (a plain file's first bytes, read to look for gzip) */
    bool gz;                  /* gzip'd: inflated through zs */
    z_stream zs;
    bool zs_live;             /* inflateInit2 done */
    bool ended;               /* no more data: the end of the file or of the gzip stream */
    bool cut;                 /* the file ended inside the gzip stream */
    unsigned long long after; /* bytes after the end of the gzip stream */
    unsigned long long got;   /* bytes of data delivered so far */
    /* the header */
    int ndim;
    uint32_t dims[3];
    size_t item_bytes;        /* bytes per item: rows * cols for images, 1 for labels */
} idx_file;

/* An operating-system error while reading. Returns -1. */
static int read_error(idx_file *f) {
    return nn_set_last_error("%s: cannot read '%s': %s", f->op, f->path,
                             strerror(errno ? errno : EIO));
}

/* Bytes from the file itself (compressed ones for a gzip'd file): up to n into buf, first the
 * ones already in f->in. Returns how many (0 at the end of the file), or -1. */
static long long raw_read(idx_file *f, unsigned char *buf, size_t n) {
    size_t done = 0;
    if (f->in_pos < f->in_len) {
        done = f->in_len - f->in_pos < n ? f->in_len - f->in_pos : n;
        memcpy(buf, f->in + f->in_pos, done);
        f->in_pos += done;
    }
    if (done < n) {
        errno = 0;
        size_t got = fread(buf + done, 1, n - done, f->f);
        if (got < n - done && ferror(f->f)) return read_error(f);
        done += got;
    }
    return (long long)done;
}

/* The compressed data is damaged: zlib's words, and how far the data got. Returns -1. */
static int inflate_error(idx_file *f, int ret) {
    if (ret == Z_MEM_ERROR)
        return nn_set_last_error("%s: out of memory inflating '%s'", f->op, f->path);
    return nn_set_last_error("%s: '%s' is corrupt: its gzip-compressed data is damaged (zlib: "
                             "%s, after %llu byte(s) inflated)", f->op, f->path,
                             f->zs.msg ? f->zs.msg : zError(ret), f->got);
}

/* A gzip member has ended. Another may follow (gzip allows several, one after another);
 * anything else after the stream is counted in f->after, and the data ends. 0 or -1. */
static int next_member(idx_file *f) {
    if (f->zs.avail_in < 2) { /* two bytes tell whether another member starts */
        size_t have = f->zs.avail_in;
        if (have) f->in[0] = f->zs.next_in[0];
        long long got = raw_read(f, f->in + have, sizeof f->in - have);
        if (got < 0) return -1;
        f->zs.next_in = f->in;
        f->zs.avail_in = (uInt)(have + (size_t)got);
    }
    if (f->zs.avail_in == 0) { /* the end of the file: a clean end */
        f->ended = true;
        return 0;
    }
    if (f->zs.avail_in >= 2 && f->zs.next_in[0] == 0x1f && f->zs.next_in[1] == 0x8b) {
        inflateReset(&f->zs);
        return 0;
    }
    /* bytes that are not gzip: count them (from the file's size when it has one) */
    unsigned long long after = f->zs.avail_in;
    long pos = ftell(f->f);
    if (f->regular && pos >= 0 && f->size >= (unsigned long long)pos) {
        after += f->size - (unsigned long long)pos;
    } else {
        long long got;
        while ((got = raw_read(f, f->in, sizeof f->in)) > 0) after += (unsigned long long)got;
        if (got < 0) return -1;
    }
    f->zs.avail_in = 0;
    f->after = after;
    f->ended = true;
    return 0;
}

/* Up to n bytes of data (decompressed when gzip'd) into buf. Returns how many arrived, fewer
 * than n only at the end of the data (see f->cut and f->after for why it ended), or -1 with
 * nn_last_error() set: a read error, or damaged compressed data, named as such. */
static long long idx_read(idx_file *f, unsigned char *buf, size_t n) {
    size_t done = 0;
    if (!f->gz) {
        while (done < n && !f->ended) {
            size_t want = n - done < IDX_CHUNK ? n - done : IDX_CHUNK;
            long long got = raw_read(f, buf + done, want);
            if (got < 0) return -1;
            if (got == 0) f->ended = true;
            done += (size_t)got;
        }
        f->got += done;
        return (long long)done;
    }
    while (done < n && !f->ended) {
        if (f->zs.avail_in == 0) {
            long long got = raw_read(f, f->in, sizeof f->in);
            if (got < 0) return -1;
            if (got == 0) { /* the file ends, but the gzip stream has not */
                f->cut = f->ended = true;
                break;
            }
            f->zs.next_in = f->in;
            f->zs.avail_in = (uInt)got;
        }
        size_t want = n - done < IDX_CHUNK ? n - done : IDX_CHUNK;
        f->zs.next_out = buf + done;
        f->zs.avail_out = (uInt)want;
        int ret = inflate(&f->zs, Z_NO_FLUSH);
        size_t made = want - f->zs.avail_out;
        done += made;
        f->got += made;
        if (ret == Z_STREAM_END) {
            if (next_member(f) != 0) return -1;
        } else if (ret == Z_BUF_ERROR && f->zs.avail_in == 0) {
            continue; /* it wants more input */
        } else if (ret != Z_OK) {
            return inflate_error(f, ret);
        }
    }
    return (long long)done;
}

/* " (its gzip stream is cut short)" when that is why the data ended, else "". */
static const char *why_short(const idx_file *f) {
    return f->cut ? " (the file ends inside its gzip stream: it was cut short)" : "";
}

static void idx_close(idx_file *f) {
    if (!f) return;
    if (f->zs_live) inflateEnd(&f->zs);
    if (f->f) fclose(f->f);
    free(f);
}

/* ---- the header ------------------------------------------------------------------------ */

/* Open path and check its header for `want_ndim` dims of unsigned bytes. The open file, or
 * NULL with nn_last_error() set (and nothing left open). */
static idx_file *idx_open(const char *op, const char *path, int want_ndim) {
    const char *what = want_ndim == 3 ? "images (magic 00 00 08 03)" : "labels (magic 00 00 08 01)";
    if (!path) {
        nn_fail(op, "pass the path of an IDX file (plain or .gz)", "path is NULL");
        return NULL;
    }
    idx_file *f = calloc(1, sizeof *f);
    if (!f) {
        nn_set_last_error("%s: out of memory opening '%s'", op, path);
        return NULL;
    }
    f->op = op;
    f->path = path;
    f->f = fopen(path, "rb");
    if (!f->f) {
        nn_set_last_error("%s: cannot open '%s': %s", op, path, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(fileno(f->f), &st) == 0 && S_ISREG(st.st_mode)) {
        f->regular = true;
        f->size = (unsigned long long)st.st_size;
    }

    /* gzip'd? Its first two bytes say (1f 8b); an IDX file starts with 00 00. */
    long long got = raw_read(f, f->in, 2);
    if (got < 0) goto fail;
    f->in_pos = 0;
    f->in_len = (size_t)got;
    if (got == 2 && f->in[0] == 0x1f && f->in[1] == 0x8b) {
        f->gz = true;
        f->zs.next_in = f->in;
        f->zs.avail_in = 2;
        f->in_len = 0;
        if (inflateInit2(&f->zs, 16 + MAX_WBITS) != Z_OK) { /* 16: gzip only */
            nn_set_last_error("%s: out of memory opening '%s'", op, path);
            goto fail;
        }
        f->zs_live = true;
    }

    unsigned char head[16];
    got = idx_read(f, head, 4);
    if (got < 0) goto fail;
    if (got < 4) {
        nn_set_last_error("%s: '%s' is truncated: %lld byte(s), but an IDX file starts with 4 "
                          "magic bytes; expected %s%s", op, path, got, what, why_short(f));
        goto fail;
    }
    if (head[0] != 0 || head[1] != 0) {
        char text[40];
        nn_quote_bytes(text, sizeof text, head, 4, 4);
        nn_set_last_error("%s: '%s' is not an IDX file: it starts with %02x %02x %02x %02x (%s), "
                          "expected %s", op, path, head[0], head[1], head[2], head[3], text, what);
        goto fail;
    }
    if (head[2] != 0x08) {
        nn_set_last_error("%s: '%s' has IDX type code 0x%02x (%s); only 0x08 (unsigned byte) "
                          "is supported, as in MNIST and Fashion-MNIST",
                          op, path, head[2], type_name(head[2]));
        goto fail;
    }
    f->ndim = head[3];
    if (f->ndim != want_ndim) {
        nn_set_last_error("%s: '%s' has %d dimension(s), expected %d: %s%s", op, path, f->ndim,
                          want_ndim, what,
                          f->ndim == 1 ? " (this looks like a label file)"
                          : f->ndim == 3 ? " (this looks like an image file)" : "");
        goto fail;
    }
    got = idx_read(f, head + 4, 4 * (size_t)f->ndim);
    if (got < 0) goto fail;
    if (got < 4 * f->ndim) {
        nn_set_last_error("%s: '%s' is truncated in its header: %lld of the %d bytes of "
                          "dimension sizes%s", op, path, got, 4 * f->ndim, why_short(f));
        goto fail;
    }
    static const char *const dim_names[3] = {"count N", "rows", "cols"};
    f->item_bytes = 1;
    for (int d = 0; d < f->ndim; d++) {
        f->dims[d] = be32(head + 4 + 4 * d);
        uint32_t max = d == 0 ? (uint32_t)INT32_MAX : IDX_MAX_SIDE;
        if (f->dims[d] == 0 || f->dims[d] > max) {
            nn_set_last_error("%s: '%s' has an implausible %s of %u in its header (expected 1 .. "
                              "%u); the header is corrupt", op, path, dim_names[d], f->dims[d], max);
            goto fail;
        }
        if (d > 0) f->item_bytes *= f->dims[d];
    }
    unsigned long long need = 4ull + 4ull * f->ndim + (unsigned long long)f->dims[0] * f->item_bytes;
    if ((unsigned long long)f->dims[0] * f->item_bytes > NN_MAX_ELEMENTS) {
        nn_set_last_error("%s: '%s' has an implausible header: %u item(s) of %zu byte(s) are "
                          "more than a tensor can hold; the header is corrupt",
                          op, path, f->dims[0], f->item_bytes);
        goto fail;
    }

    /* A plain file's size is known now: check it before reading anything. */
    if (!f->gz && f->regular) {
        if (f->size < need) {
            nn_set_last_error("%s: '%s' is truncated: its header promises %u item(s) of %zu "
                              "byte(s), %llu bytes in all, but the file has %llu",
                              op, path, f->dims[0], f->item_bytes, need, f->size);
            goto fail;
        }
        if (f->size > need) {
            nn_set_last_error("%s: '%s' has %llu unexpected byte(s) after the data (header: %u "
                              "item(s) of %zu byte(s), %llu bytes in all)",
                              op, path, f->size - need, f->dims[0], f->item_bytes, need);
            goto fail;
        }
    }
    return f;
fail:
    idx_close(f);
    return NULL;
}

/* ---- the data -------------------------------------------------------------------------- */

/* Read the first n items' bytes (n <= N). With `to_end` (all N items), also make sure the
 * data ends right after them and that nothing follows the gzip stream (gzip's own checksum
 * is checked on the way). Returns a malloc'd buffer, or NULL with nn_last_error() set. */
static unsigned char *idx_read_items(idx_file *f, size_t n, bool to_end) {
    const char *op = f->op, *path = f->path;
    size_t want = n * f->item_bytes;
    unsigned long long all = 4ull + 4ull * f->ndim + (unsigned long long)f->dims[0] * f->item_bytes;
    /* Grow the buffer as data arrives, so a lying header cannot make us allocate more than
     * twice what the file really holds. */
    size_t cap = want < IDX_CHUNK ? want : IDX_CHUNK;
    unsigned char *buf = malloc(cap);
    size_t have = 0;
    while (buf && have < want) {
        if (have == cap) {
            size_t bigger = cap * 2 < want ? cap * 2 : want;
            unsigned char *p = realloc(buf, bigger);
            if (!p) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap = bigger;
        }
        size_t ask = cap - have;
        long long got = idx_read(f, buf + have, ask);
        if (got < 0) {
            free(buf);
            return NULL;
        }
        have += (size_t)got;
        if ((size_t)got < ask) { /* the data ended early */
            nn_set_last_error("%s: '%s' is truncated: the header promises %u item(s) of %zu "
                              "byte(s) (%zu bytes of data), but only %zu arrived%s",
                              op, path, f->dims[0], f->item_bytes, f->dims[0] * f->item_bytes,
                              have, why_short(f));
            free(buf);
            return NULL;
        }
    }
    if (!buf) {
        nn_set_last_error("%s: out of memory reading %zu bytes from '%s'", op, want, path);
        return NULL;
    }
    if (to_end) {
        unsigned char extra[4096];
        unsigned long long total = 0;
        long long more = 0;
        /* count them for the message, up to 64 MiB (a small gzip file can inflate to far more) */
        while (total < (1ull << 26) && (more = idx_read(f, extra, sizeof extra)) > 0)
            total += (unsigned long long)more;
        const char *msg = NULL, *or_more = "";
        if (total >= (1ull << 26)) {
            more = 0;
            or_more = " or more";
        }
        if (more < 0) {
            /* the message is set */
        } else if (total > 0) {
            msg = f->gz ? "the data (decompressed)" : "the data";
        } else if (f->after > 0) {
            msg = "the end of its gzip stream";
            total = f->after;
        } else if (f->cut) {
            nn_set_last_error("%s: '%s' is truncated: its data is complete, but the file ends "
                              "inside its gzip stream (the gzip trailer is missing: it was cut "
                              "short)", op, path);
            more = -1;
        }
        if (msg)
            nn_set_last_error("%s: '%s' has %llu%s unexpected byte(s) after %s (header: %u "
                              "item(s) of %zu byte(s), %llu bytes in all)",
                              op, path, total, or_more, msg, f->dims[0], f->item_bytes, all);
        if (more < 0 || msg) {
            free(buf);
            return NULL;
        }
    }
    return buf;
}

/* How many items to read: all N, or the first `limit` when 0 < limit < N. */
static size_t items_to_read(const idx_file *f, int limit) {
    return limit > 0 && (uint32_t)limit < f->dims[0] ? (size_t)limit : f->dims[0];
}

/* The images' bytes and their count and size, for both loaders below. */
static unsigned char *image_bytes(const char *op, const char *path, int limit, int *n,
                                  int *rows, int *cols) {
    idx_file *f = idx_open(op, path, 3);
    if (!f) return NULL;
    size_t count = items_to_read(f, limit);
    *n = (int)count, *rows = (int)f->dims[1], *cols = (int)f->dims[2];
    unsigned char *bytes = idx_read_items(f, count, count == f->dims[0]);
    idx_close(f);
    return bytes;
}

nn_tensor *nn_idx_load_images(const char *path, int limit) {
    int n, rows, cols;
    unsigned char *bytes = image_bytes("nn_idx_load_images", path, limit, &n, &rows, &cols);
    if (!bytes) return NULL;
    /* (N, 1, rows, cols): one grey channel, the layout a conv layer expects. */
    nn_tensor *x = nn_zeros(NN_SHAPE(n, 1, rows, cols));
    for (size_t i = 0; i < x->size; i++) x->data[i] = bytes[i] / 255.0f;
    free(bytes);
    return x;
}

unsigned char *nn_idx_load_image_bytes(const char *path, int limit, int *count, int *rows,
                                       int *cols) {
    int n = 0, r = 0, c = 0;
    unsigned char *bytes = image_bytes("nn_idx_load_image_bytes", path, limit, &n, &r, &c);
    if (count) *count = bytes ? n : 0;
    if (rows) *rows = bytes ? r : 0;
    if (cols) *cols = bytes ? c : 0;
    return bytes;
}

int *nn_idx_load_labels(const char *path, int limit, int *count) {
    const char *op = "nn_idx_load_labels";
    if (count) *count = 0;
    idx_file *f = idx_open(op, path, 1);
    if (!f) return NULL;
    size_t n = items_to_read(f, limit);
    unsigned char *bytes = idx_read_items(f, n, n == f->dims[0]);
    idx_close(f);
    if (!bytes) return NULL;
    int *labels = malloc(n * sizeof(int));
    if (!labels) {
        free(bytes);
        nn_set_last_error("%s: out of memory for %zu labels from '%s'", op, n, path);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) labels[i] = bytes[i];
    free(bytes);
    if (count) *count = (int)n;
    return labels;
}
