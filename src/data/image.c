/* src/data/image.c — images as (C, H, W) tensors in 0..1: load, save as PNG, resize, grey,
 * nearest-neighbour enlarging and a grid of several images (see include/nn/data/image.h).
 *
 * Files are decoded and encoded by stb_image / stb_image_write / stb_image_resize, which
 * Debian builds into libstb.so (we include the headers only, no *_IMPLEMENTATION).
 * stb stores pixels interleaved, row by row: byte[(y * W + x) * C + c]. Our tensors are
 * planar, channel by channel: data[(c * H + y) * W + x]. The loops below convert.
 */
#include "internal.h"
#include "nn/data/image.h"
#include "nn/cli/out_path.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#include <stb/stb_image_write.h>

/* ---- shared ------------------------------------------------------------------------------ */

/* Read the (C, H, W) of an image tensor; (H, W) counts as one channel. -1 after nn_fail. */
static int image_dims(const char *op, const nn_tensor *img, int *c, int *h, int *w) {
    if (!img) {
        nn_fail(op, "an earlier call probably failed and returned NULL", "image is NULL");
        return -1;
    }
    if (img->ndim == 2) {
        *c = 1;
        *h = img->shape[0];
        *w = img->shape[1];
    } else if (img->ndim == 3 && img->shape[0] >= 1 && img->shape[0] <= 4) {
        *c = img->shape[0];
        *h = img->shape[1];
        *w = img->shape[2];
    } else {
        nn_fail(op, "an image is (C, H, W) with C = 1 (grey), 3 (RGB) or 2/4 (with alpha), "
                    "or (H, W) for grey; reshape a (1, C, H, W) batch item first",
                "shape %s is not an image", SHAPE(img));
        return -1;
    }
    return 0;
}

/* A new owned image with the same layout as `like` ((H, W) stays (H, W)). */
static nn_tensor *new_image(const nn_tensor *like, int c, int h, int w) {
    if (like && like->ndim == 2) return nn_zeros(NN_SHAPE(h, w));
    return nn_zeros(NN_SHAPE(c, h, w));
}

/* ---- load -------------------------------------------------------------------------------- */

/* A file from outside decides how much memory stb_image allocates: its header says the size
 * of the picture, and a few bytes of compressed data can then expand to gigabytes (an 87-byte
 * TGA can claim 14096 x 6168 pixels). So nn_image_load reads the declared size first and
 * refuses pictures of more than max_pixels pixels, before anything is decoded. */
#define DEFAULT_MAX_PIXELS ((size_t)64 * 1024 * 1024)
static _Atomic size_t max_pixels = DEFAULT_MAX_PIXELS;

/* stb_image's own limit on a side (STBI_MAX_DIMENSIONS in Debian's build of it). */
#define STB_MAX_SIDE (1 << 24)

size_t nn_image_set_max_pixels(size_t limit) {
    return atomic_exchange(&max_pixels, limit ? limit : DEFAULT_MAX_PIXELS);
}

/* The kind of file from its first bytes (its "signature"), for clearer messages. */
static const char *image_kind(const unsigned char *b, size_t len) {
    if (len >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0) return "PNG";
    if (len >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return "JPEG";
    if (len >= 2 && b[0] == 'B' && b[1] == 'M') return "BMP";
    if (len >= 4 && memcmp(b, "GIF8", 4) == 0) return "GIF";
    if (len >= 2 && b[0] == 'P' && (b[1] == '5' || b[1] == '6')) return "PNM";
    return NULL;
}

/* The size a header declares, for the two formats where stb_image says only "unknown image
 * type" when the size is the problem: PNG (its first chunk, IHDR, holds width and height)
 * and TGA (no signature: we accept what stb's own TGA test accepts, but let a side be 0).
 * Returns the kind and sets *w, *h, or returns NULL. */
static const char *declared_size(const unsigned char *b, size_t len, long long *w, long long *h) {
    if (len >= 24 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0 && memcmp(b + 12, "IHDR", 4) == 0) {
        *w = (long long)b[16] << 24 | b[17] << 16 | b[18] << 8 | b[19];
        *h = (long long)b[20] << 24 | b[21] << 16 | b[22] << 8 | b[23];
        return "PNG";
    }
    if (len >= 18 && b[1] <= 1) { /* TGA: byte 1 colour map type, 2 image type, 16 bits */
        int bits = b[16];
        bool mapped = b[1] == 1;
        bool type_ok = mapped ? b[2] == 1 || b[2] == 9
                              : b[2] == 2 || b[2] == 3 || b[2] == 10 || b[2] == 11;
        bool map_ok = !mapped || b[7] == 8 || b[7] == 15 || b[7] == 16 || b[7] == 24 || b[7] == 32;
        bool bits_ok = mapped ? bits == 8 || bits == 16
                              : bits == 8 || bits == 15 || bits == 16 || bits == 24 || bits == 32;
        if (type_ok && map_ok && bits_ok) {
            *w = b[12] | b[13] << 8;
            *h = b[14] | b[15] << 8;
            return "TGA";
        }
    }
    return NULL;
}

/* Refuse a declared size of no pixels, or more than stb_image or the limit allow. This runs
 * before decoding, so a file that lies about its size costs nothing. 0, or -1 with the
 * message set. */
static int check_size(const char *path, size_t len, const char *kind, long long w, long long h) {
    const char *what = kind ? kind : "image";
    if (w <= 0 || h <= 0)
        return nn_set_last_error("nn_image_load: '%s' (%zu bytes): its %s header says the picture "
                                 "is %lld x %lld pixels (width x height); an image needs at least "
                                 "1 x 1", path, len, what, w, h);
    if (w > STB_MAX_SIDE || h > STB_MAX_SIDE)
        return nn_set_last_error("nn_image_load: '%s' (%zu bytes): its %s header says the picture "
                                 "is %lld x %lld pixels (width x height); stb_image reads at most "
                                 "%d pixels on a side", path, len, what, w, h, STB_MAX_SIDE);
    unsigned long long pixels = (unsigned long long)w * (unsigned long long)h;
    size_t limit = atomic_load(&max_pixels);
    if (pixels > limit)
        return nn_set_last_error("nn_image_load: '%s' (%zu bytes): its %s header says the picture "
                                 "is %lld x %lld pixels (width x height), %llu pixels, more than "
                                 "the limit of %zu pixels; it was not decoded, because a small "
                                 "or damaged file can claim a picture that takes gigabytes. If "
                                 "you trust the file, raise the limit first: "
                                 "nn_image_set_max_pixels(%llu)",
                                 path, len, what, w, h, pixels, limit, pixels);
    return 0;
}

/* Is the whole file there? Decoders (stb's too) forgive a missing end: a cut-off JPEG gets
 * grey rows, a PNG missing its last bytes loads anyway. So we look for the end marks:
 *   JPEG ends with End Of Image, FF D9, which cannot occur inside the compressed data
 *   (a literal FF there is written FF 00);
 *   PNG ends with the chunk IEND: length 0, "IEND", its CRC AE 42 60 82;
 *   BMP says its file size in bytes 2..5 of the header. */
static bool has_end_mark(const char *kind, const unsigned char *b, size_t len) {
    static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
    if (kind && strcmp(kind, "JPEG") == 0) {
        for (size_t i = len; i >= 2; i--)
            if (b[i - 2] == 0xFF && b[i - 1] == 0xD9) return true;
        return false;
    }
    if (kind && strcmp(kind, "PNG") == 0) {
        for (size_t i = len; i >= 8 + 12; i--)
            if (memcmp(b + i - 12, iend, 12) == 0) return true;
        return false;
    }
    if (kind && strcmp(kind, "BMP") == 0 && len >= 6) { /* BMP: the header has the file size */
        uint32_t size = b[2] | (uint32_t)b[3] << 8 | (uint32_t)b[4] << 16 | (uint32_t)b[5] << 24;
        return size == 0 || len >= size; /* some writers leave it 0 */
    }
    return true; /* other formats: trust the decoder */
}

/* Check every Huffman table of a JPEG before stb_image sees it. Debian's stb_image 2.27
 * copies a table's code lengths into arrays of 256 (+1) entries without checking that the
 * 16 counts of a table add up to at most 256, so a table declaring more codes writes past
 * them. A JPEG is a list of segments: FF, a marker byte, and (for most markers) a 2-byte
 * big-endian length that counts itself. A DHT segment (marker C4) holds one or more tables,
 * each 1 byte class/id, 16 counts (how many codes of each length 1..16), then that many
 * code values. After the SOS segment (marker DA) come the compressed bytes, up to the next
 * marker (an FF there is followed by 00, or by a restart marker D0..D7).
 *
 * The walk follows stb's own way of finding markers (it skips stray bytes between segments
 * and FF fill bytes), and goes on after SOS through every scan to the end, so that it sees
 * every DHT stb's decoder could see. Returns 0, or -1 with the message set. */
/* The scan header (SOS) at b[i] (its length field; the segment ends at end): does a
 * component decode with a table that `defined` (bit id of [0] DC, [1] AC) lacks? stb's
 * decoder would read a table it never built: stale memory (found by scripts/fuzz.sh). A
 * progressive scan uses only the DC tables (a first DC scan) or only the AC ones. */
static bool undefined_table(const unsigned char *b, size_t i, size_t end, size_t len,
                            const unsigned defined[2], bool progressive) {
    if (i + 3 > len || i + 3 > end) return false;   /* cut short: stb refuses it */
    size_t n = b[i + 2], at = i + 3 + 2 * n;        /* components, then Ss, Se, Ah Al */
    if (at + 3 > len || at + 3 > end) return false;
    unsigned ss = b[at], ah = b[at + 2] >> 4;
    bool dc = !progressive || (ss == 0 && ah == 0), ac = !progressive || ss > 0;
    for (size_t c = 0; c < n; c++) {
        unsigned t = b[i + 3 + 2 * c + 1], hd = t >> 4, ha = t & 15u;
        if ((dc && !(defined[0] >> hd & 1u)) || (ac && !(defined[1] >> ha & 1u)))
            return true;
    }
    return false;
}

static int check_jpeg_tables(const char *path, const unsigned char *b, size_t len) {
    size_t i = 1; /* stb's start of image: FF, any FF fill bytes, D8 */
    unsigned defined[2] = {0, 0}; /* the DC (0) and AC (1) table ids seen, one bit each */
    bool progressive = false;
    if (len < 2 || b[0] != 0xFF) return 0;
    while (i < len && b[i] == 0xFF) i++;
    if (i >= len || b[i] != 0xD8) return 0; /* not a JPEG to stb either */
    i++;
    for (;;) {
        while (i < len && b[i] != 0xFF) i++; /* stray bytes, then FF and its fill bytes */
        while (i < len && b[i] == 0xFF) i++;
        if (i >= len) return 0;
        unsigned marker = b[i++];
        if (marker == 0xD9) return 0; /* end of image */
        if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8))
            continue;                  /* markers without a length (stb refuses them here) */
        if (i + 2 > len) return 0;     /* cut short: the end-mark check reports it */
        size_t seg = i - 2, length = (size_t)b[i] << 8 | b[i + 1];
        size_t end = i + length;       /* the length counts its own 2 bytes */
        if (marker == 0xC4) {
            size_t p = i + 2;
            for (int t = 0; p < end; t++) {
                unsigned codes = 0; /* counts past the end of the file: stb reads them as 0 */
                for (size_t k = p + 1; k <= p + 16 && k < len; k++) codes += b[k];
                if (codes > 256)
                    return nn_set_last_error("nn_image_load: '%s' is a corrupt JPEG: Huffman table "
                                             "%d (class %u, id %u) of the DHT segment at byte %zu "
                                             "declares %u codes, more than the 256 a table can "
                                             "hold", path, t, b[p] >> 4, b[p] & 15u, seg, codes);
                if (p + 17 + codes > end)
                    return nn_set_last_error("nn_image_load: '%s' is a corrupt JPEG: Huffman table "
                                             "%d of the DHT segment at byte %zu needs %u bytes, "
                                             "but its segment (%zu bytes long) has only %zu left",
                                             path, t, seg, 17 + codes, length, end - p);
                if (p + 17 + codes > len)
                    return nn_set_last_error("nn_image_load: '%s' is a truncated JPEG (%zu bytes): "
                                             "the file ends inside Huffman table %d of the DHT "
                                             "segment at byte %zu", path, len, t, seg);
                defined[(b[p] >> 4) & 1] |= 1u << (b[p] & 15u);
                p += 17 + codes;
            }
        }
        if (marker == 0xC2) progressive = true;
        if (marker == 0xDA && undefined_table(b, i, end, len, defined, progressive))
            return nn_set_last_error("nn_image_load: '%s' is a corrupt JPEG: the scan at byte "
                                     "%zu decodes with a Huffman table no DHT segment before it "
                                     "defined", path, seg);
        if (length < 2) end = i + 2; /* nonsense (stb refuses it); step over the length */
        i = end;
        if (marker == 0xDA) {        /* start of scan: skip the compressed bytes */
            while (i < len) {
                if (b[i] != 0xFF) {
                    i++;
                    continue;
                }
                size_t j = i + 1;
                while (j < len && b[j] == 0xFF) j++;
                if (j < len && (b[j] == 0x00 || (b[j] >= 0xD0 && b[j] <= 0xD7))) {
                    i = j + 1; /* a stuffed FF 00, or a restart marker: still compressed data */
                    continue;
                }
                break;         /* a real marker (or the end): the walk goes on from here */
            }
        }
    }
}

/* stb_image 2.27 reads the numbers of a PNM header (width, height, maximum value) into an
 * int without checking for overflow (undefined behaviour; in practice a wrapped, wrong
 * size). Refuse a PNM (P5 or P6) whose header has a number above INT_MAX, reading it as stb
 * does: whitespace and # comments between the numbers. 0, or -1 with the message set. */
static int check_pnm_numbers(const char *path, const unsigned char *b, size_t len) {
    static const char *const names[3] = {"width", "height", "maximum value"};
    if (len < 2 || b[0] != 'P' || (b[1] != '5' && b[1] != '6')) return 0;
    size_t i = 2;
    for (int n = 0; n < 3; n++) {
        for (;;) { /* spaces, then a comment up to the end of its line, again */
            while (i < len && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r'))) i++;
            if (i >= len || b[i] != '#') break;
            while (i < len && b[i] != '\n' && b[i] != '\r') i++;
        }
        long long v = 0;
        for (; i < len && b[i] >= '0' && b[i] <= '9'; i++)
            if ((v = v * 10 + (b[i] - '0')) > INT_MAX)
                return nn_set_last_error("nn_image_load: '%s' is a corrupt PNM: the %s in its "
                                         "header has more digits than any picture needs", path,
                                         names[n]);
    }
    return 0;
}

/* Where the pixels of a binary PNM (P5, P6) start, found as stb_image 2.27 reads the
 * header: after "P5" or "P6" it takes one byte, then for each of width, height and maximum
 * value skips whitespace and # comments and reads digits; the byte after the last digit of
 * the maximum value ends the header. Its reader gives 0 past the end of the file and stops
 * at the end before looking at the byte in hand, and so does this copy. Sets *maxval. */
static size_t pnm_pixels_start(const unsigned char *b, size_t len, long long *maxval) {
    size_t i = 2;
#define PNM_GET8() (i < len ? b[i++] : 0)
    unsigned char c = PNM_GET8();
    long long v = 0;
    for (int n = 0; n < 3; n++) {
        for (;;) {
            while (i < len && (c == ' ' || (c >= '\t' && c <= '\r'))) c = PNM_GET8();
            if (i >= len || c != '#') break;
            while (i < len && c != '\n' && c != '\r') c = PNM_GET8();
        }
        v = 0;
        while (i < len && c >= '0' && c <= '9') {
            if (v <= INT_MAX) v = v * 10 + (c - '0'); /* larger ones were refused before */
            c = PNM_GET8();
        }
    }
#undef PNM_GET8
    *maxval = v;
    return i;
}

/* stb_image 2.27 copies a PNM's pixels in one piece and ignores a short read: a file cut
 * short loads, and its pixels are whatever was in the memory stb allocated. So a binary PNM
 * (P5, P6) must hold width x height x channels samples after its header, of 1 byte, or 2
 * when the maximum value is above 255. 0, or -1 with the message set. */
static int check_pnm_length(const char *path, const unsigned char *b, size_t len, int w, int h,
                            int channels) {
    if (len < 2 || b[0] != 'P' || (b[1] != '5' && b[1] != '6')) return 0;
    long long maxval;
    size_t start = pnm_pixels_start(b, len, &maxval);
    int bytes = maxval > 255 ? 2 : 1;
    unsigned long long need = (unsigned long long)w * (unsigned long long)h * channels * bytes;
    size_t have = len - start;
    if (have >= need) return 0;
    return nn_set_last_error("nn_image_load: '%s' is a truncated PNM (%zu bytes): its header "
                             "says %d x %d pixels (width x height), %d channel%s of %d bits, "
                             "which needs %llu bytes of pixels after the %zu bytes of header, "
                             "but the file has %zu", path, len, w, h, channels,
                             channels == 1 ? "" : "s", 8 * bytes, need, start, have);
}

/* The PNM forms stb_image 2.27 does not read (it reads P5, binary grey, and P6, binary
 * colour): a name for the message, or NULL. Only a "P<digit>" followed by whitespace counts,
 * as in a real PNM header. */
static const char *unread_pnm_form(const unsigned char *b, size_t len) {
    if (len < 3 || b[0] != 'P' || !(b[2] == ' ' || (b[2] >= '\t' && b[2] <= '\r'))) return NULL;
    switch (b[1]) {
    case '1': return "P1, a PBM (black and white) in ASCII";
    case '2': return "P2, a PGM (grey) in ASCII";
    case '3': return "P3, a PPM (colour) in ASCII";
    case '4': return "P4, a binary PBM (black and white, 1 bit a pixel)";
    case '7': return "P7, a PAM";
    default: return NULL;
    }
}

/* A TGA whose pixels stop before the picture does. stb_image 2.27 reads on past the end of
 * the file: an uncompressed picture gets the rest of its rows from uninitialised memory (or
 * zeros), a run-length encoded one zeros, so 260 bytes could load as 16 megapixels. The
 * header (18 bytes) is followed by the image ID (byte 0 says its length), the colour map
 * (colour-mapped files only) and the pixels, each of (bits + 7) / 8 bytes (a colour index in
 * a colour-mapped file). The colour map is counted as stb reads it: it skips "first entry
 * index" bytes (bytes 3..4) before the map's entries (count in bytes 5..6, bits in byte 7).
 * stbi_info accepted the header before this runs. 0, or -1 with the message set. */
static int check_tga_length(const char *path, const unsigned char *b, size_t len) {
    if (len < 18) return 0;
    bool mapped = b[1] == 1, rle = b[2] >= 8;
    unsigned long long w = b[12] | b[13] << 8, h = b[14] | b[15] << 8, pixels = w * h;
    unsigned bits = b[16], bpp = (bits + 7) / 8;
    unsigned long long map = 0;
    if (mapped) map = (b[3] | b[4] << 8) + (unsigned long long)(b[5] | b[6] << 8) * ((b[7] + 7) / 8);
    unsigned long long start = 18 + (unsigned long long)b[0] + map;
    if (!rle) { /* types 1 (colour-mapped), 2 (true colour), 3 (grey): W x H pixels */
        unsigned long long need = start + pixels * bpp;
        if (len >= need) return 0;
        return nn_set_last_error("nn_image_load: '%s' is a truncated TGA (%zu bytes): its header "
                                 "says %llu x %llu pixels (width x height) of %u bits, "
                                 "uncompressed, which needs %llu bytes (18 of header, %u of "
                                 "image ID, %llu of colour map, %llu of pixels), but the file "
                                 "has %zu", path, len, w, h, bits, need, b[0], map,
                                 pixels * bpp, len);
    }
    /* Types 9, 10, 11: run-length encoded. A packet is one byte, then either one pixel that
     * is repeated (1 + bpp bytes) or n raw pixels (1 + n * bpp bytes), and covers at most
     * 128 pixels. So no packet is shorter than 1 + bpp bytes, and W x H pixels take at least
     * ceil(W x H / 128) packets: a file below (header, ID, map and) that many times 1 + bpp
     * bytes cannot hold the picture, however well it compresses. */
    unsigned long long least = start + (pixels + 127) / 128 * (1 + bpp);
    if (len < least)
        return nn_set_last_error("nn_image_load: '%s' is a truncated TGA (%zu bytes): its header "
                                 "says %llu x %llu pixels (width x height) of %u bits, run-length "
                                 "encoded; even with every packet repeating one pixel 128 times "
                                 "that needs at least %llu bytes", path, len, w, h, bits, least);
    /* Above the bound, walk the packets as stb does (it stops at the last pixel, reading only
     * the pixels of a raw packet it needs): each step moves on by at least one byte, so this
     * costs at most one step per byte of the file. */
    unsigned long long at = start, done = 0;
    while (done < pixels && at < len) {
        unsigned head = b[at++], count = 1 + (head & 127u);
        unsigned long long used = count < pixels - done ? count : pixels - done;
        at += (head & 128u) ? bpp : used * bpp;
        if (at > len) break; /* the file ends inside this packet */
        done += used;
    }
    if (done >= pixels) return 0;
    return nn_set_last_error("nn_image_load: '%s' is a truncated TGA (%zu bytes): its run-length "
                             "packets cover %llu of the %llu pixels (%llu x %llu, width x height) "
                             "before the file ends", path, len, done, pixels, w, h);
}

/* A PNG is its 8-byte signature and a list of chunks: 4 bytes of length (big-endian), 4 of
 * type, the data, 4 of CRC; stb_image reads them up to IEND. stb 2.27 grows its buffer for
 * the compressed pixels to hold each IDAT chunk's declared length before it reads the
 * chunk, so a 173-byte file whose second IDAT claimed 1.6 GB made it allocate 2 GiB (and
 * then fail: the bytes are not there). Refuse a chunk before IEND that does not fit in the
 * file. 0, or -1 with the message set. */
static int check_png_chunks(const char *path, const unsigned char *b, size_t len) {
    if (len < 8 || memcmp(b, "\x89PNG\r\n\x1a\n", 8) != 0) return 0;
    for (size_t i = 8; i + 8 <= len;) {
        if (memcmp(b + i + 4, "IEND", 4) == 0) return 0;
        uint32_t n = (uint32_t)b[i] << 24 | (uint32_t)b[i + 1] << 16 | (uint32_t)b[i + 2] << 8 |
                     b[i + 3];
        if ((unsigned long long)i + 12 + n > len) {
            char type[4 * 4 + 8];
            nn_quote_bytes(type, sizeof type, b + i + 4, 4, 4);
            return nn_set_last_error("nn_image_load: '%s' is a truncated or corrupt PNG (%zu "
                                     "bytes): its chunk %s at byte %zu says it holds %lu bytes "
                                     "of data, but only %zu bytes of the file are left after "
                                     "the chunk's 8-byte head", path, len, type, i,
                                     (unsigned long)n, len - i - 8);
        }
        i += 12 + (size_t)n;
    }
    return 0;
}

/* 16-bit files (PNG, PNM, PSD) are loaded as stored and converted here, because stb_image
 * 2.27 converts a 16-bit PNM's channels with its 8-bit code and then reads past its buffer
 * (loaded with 2, 3 or 4 channels). Its PNM samples also come back in the file's byte
 * order, big-endian, where PNG and PSD ones are native uint16: `big_endian` reads them so.
 * stb's own conversions: grey to RGB repeats the grey, a missing alpha is 1 (opaque), an
 * alpha that is not wanted is dropped; RGB to grey is the luma of nn_image_to_grey (BT.601;
 * stb's 8-bit code uses nearly the same weights, 77, 150 and 29 / 256). */
static void copy_16bit(nn_tensor *img, const void *pix, int stored, int c, bool big_endian) {
    const uint16_t *native = pix;
    const unsigned char *raw = pix;
    size_t plane = (size_t)img->shape[1] * img->shape[2];
    for (size_t p = 0; p < plane; p++) {
        float v[4] = {0.0f, 0.0f, 0.0f, 1.0f}; /* grey or R, G, B, alpha */
        for (int k = 0; k < stored; k++) {
            size_t i = p * stored + k;
            unsigned s = big_endian ? (unsigned)raw[2 * i] << 8 | raw[2 * i + 1] : native[i];
            v[k] = s / 65535.0f;
        }
        float grey = v[0], alpha = stored == 2 || stored == 4 ? v[stored - 1] : 1.0f;
        if (stored >= 3) grey = fminf(0.299f * v[0] + 0.587f * v[1] + 0.114f * v[2], 1.0f);
        else v[1] = v[2] = v[0];
        float out[4] = {grey, alpha, 0.0f, 0.0f};      /* c = 1, 2: grey (and alpha) */
        if (c >= 3) out[0] = v[0], out[1] = v[1], out[2] = v[2], out[3] = alpha;
        for (int k = 0; k < c; k++) img->data[k * plane + p] = out[k];
    }
}

/* stb_image's reason for a failure, as " (stb_image: ...)", or "" when it gave none. Its
 * "unknown image type" is dropped for a file we recognised: stb tries every format in turn,
 * and the last one's "unknown image type" overwrites what the right one said. */
static void stb_reason(char *buf, size_t size, const char *kind) {
    const char *r = stbi_failure_reason();
    if (r && *r && !(kind && strcmp(r, "unknown image type") == 0))
        snprintf(buf, size, " (stb_image: %s)", r);
    else
        buf[0] = 0;
}

/* Why stbi_info refused a file we recognised (PNG, JPEG, BMP, GIF, PNM), in stb's words.
 * stbi_info tries every format and keeps only the last one's reason; stbi_load tries just
 * the format whose signature matches, and fails at the same header check (stbi_info and
 * stbi_load share each format's header code), so it gives the first, real reason and
 * decodes nothing. */
static void first_stb_reason(char *buf, size_t size, const char *kind,
                             const unsigned char *bytes, size_t len) {
    int w, h, c;
    unsigned char *pix = stbi_load_from_memory(bytes, (int)len, &w, &h, &c, 0);
    if (pix) { /* cannot happen with stb 2.27; then there is no reason to give */
        stbi_image_free(pix);
        buf[0] = 0;
        return;
    }
    stb_reason(buf, size, kind);
}

nn_tensor *nn_image_load(const char *path, int channels) {
    if (!path) {
        nn_fail("nn_image_load", "pass the file name of a PNG, JPEG or BMP", "path is NULL");
        return NULL;
    }
    if (channels < 0 || channels > 4) {
        nn_fail("nn_image_load", "channels: 1 = grey, 3 = RGB, 4 = RGBA, 0 = as stored",
                "channels = %d", channels);
        return NULL;
    }
    /* No picture within the pixel limit needs more than 8 bytes a pixel (16-bit RGBA, stored
     * raw) plus its headers, and stb reads at most 2 GiB: a larger file is refused from its
     * size, before it is read. */
    size_t limit = atomic_load(&max_pixels), most = (size_t)INT_MAX;
    if (limit < (most - (1u << 20)) / 8) most = limit * 8 + (1u << 20);
    size_t len = 0;
    char *file = NULL;
    if (nn_read_file("nn_image_load", path, most, "no picture within the pixel limit is that "
                     "large; nn_image_set_max_pixels raises it", &file, &len) != 0)
        return NULL;
    unsigned char *bytes = (unsigned char *)file;
    if (len == 0) {
        free(bytes);
        nn_set_last_error("nn_image_load: '%s' is empty (0 bytes); expected a PNG, JPEG or BMP "
                          "image", path);
        return NULL;
    }
    int w, h, stored;
    char why[128];
    const char *kind = image_kind(bytes, len);
    /* 1. What stb_image 2.27 would misread: Huffman tables its JPEG decoder overflows on (even
     *    stbi_info reads them), numbers in a PNM header that overflow an int. */
    if (check_jpeg_tables(path, bytes, len) != 0 || check_pnm_numbers(path, bytes, len) != 0) {
        free(bytes);
        return NULL;
    }
    /* 2. The declared size, before decoding: no pixels, or too many. */
    if (!stbi_info_from_memory(bytes, (int)len, &w, &h, &stored)) {
        long long dw, dh;
        const char *declared = declared_size(bytes, len, &dw, &dh);
        if (declared && check_size(path, len, declared, dw, dh) != 0) {
            free(bytes);
            return NULL;
        }
        if (!kind) kind = declared;
        if (kind && strcmp(kind, "TGA") != 0)
            first_stb_reason(why, sizeof why, kind, bytes, len);
        else
            stb_reason(why, sizeof why, kind);
        if (kind && strstr(why, "too large")) {
            nn_set_last_error("nn_image_load: '%s' (%zu bytes) is a %s too large for stb_image "
                              "to decode%s", path, len, kind, why);
        } else if (kind) {
            nn_set_last_error("nn_image_load: '%s' (%zu bytes) looks like a %s but is truncated "
                              "or corrupt%s", path, len, kind, why);
        } else if (unread_pnm_form(bytes, len)) {
            nn_set_last_error("nn_image_load: '%s' (%zu bytes) is a PNM that stb_image cannot "
                              "read: %s; it reads only the binary P5 (grey) and P6 (colour) "
                              "forms. Convert the file, e.g. to PNG", path, len,
                              unread_pnm_form(bytes, len));
        } else {
            char start[4 * 16 + 8];
            nn_quote_bytes(start, sizeof start, bytes, len, 16);
            nn_set_last_error("nn_image_load: '%s' (%zu bytes) is not an image this library can "
                              "read%s; expected PNG, JPEG, BMP, GIF, TGA or PNM (it starts with "
                              "%s)", path, len, why, start);
        }
        free(bytes);
        return NULL;
    }
    if (!kind) {
        long long dw, dh;
        kind = declared_size(bytes, len, &dw, &dh); /* a TGA, maybe */
    }
    if (check_size(path, len, kind, w, h) != 0) {
        free(bytes);
        return NULL;
    }
    if (!has_end_mark(kind, bytes, len)) {
        nn_set_last_error("nn_image_load: '%s' is a truncated %s (%zu bytes, its end marker is "
                          "missing); the file was cut short", path, kind, len);
        free(bytes);
        return NULL;
    }
    /* 3. Pixels that stop before the picture does (stb_image would make up the rest), and
     *    PNG chunks longer than the file (stb would allocate for them first). */
    bool tga = kind && strcmp(kind, "TGA") == 0;
    if (check_pnm_length(path, bytes, len, w, h, stored) != 0 ||
        (tga && check_tga_length(path, bytes, len) != 0) ||
        check_png_chunks(path, bytes, len) != 0) {
        free(bytes);
        return NULL;
    }
    /* 4. Decode: 8-bit files with stb's channel conversion, 16-bit ones as stored (see
     *    copy_16bit). */
    bool deep = stbi_is_16_bit_from_memory(bytes, (int)len) != 0;
    bool big_endian = deep && kind && strcmp(kind, "PNM") == 0;
    void *pix = deep ? (void *)stbi_load_16_from_memory(bytes, (int)len, &w, &h, &stored, 0)
                     : (void *)stbi_load_from_memory(bytes, (int)len, &w, &h, &stored, channels);
    free(bytes);
    if (!pix) {
        stb_reason(why, sizeof why, kind);
        nn_set_last_error("nn_image_load: '%s' is a truncated or corrupt %s%s", path,
                          kind ? kind : "image", why);
        return NULL;
    }
    if (check_size(path, len, kind, w, h) != 0) { /* the same size as stbi_info said */
        stbi_image_free(pix);
        return NULL;
    }
    int c = channels ? channels : stored;
    nn_tensor *img = nn_zeros(NN_SHAPE(c, h, w));
    size_t plane = (size_t)h * w;
    if (deep) {
        copy_16bit(img, pix, stored, c, big_endian);
    } else {
        const unsigned char *p8 = pix;
        for (size_t p = 0; p < plane; p++)
            for (int k = 0; k < c; k++) img->data[k * plane + p] = p8[p * c + k] / 255.0f;
    }
    stbi_image_free(pix);
    return img;
}

/* ---- save -------------------------------------------------------------------------------- */

/* stb_image_write hands the encoded PNG over in pieces; we pass them on to the file. */
typedef struct png_sink {
    FILE *f;
    int failed;
} png_sink;

static void png_write(void *context, void *data, int size) {
    png_sink *s = context;
    if (size > 0 && fwrite(data, 1, (size_t)size, s->f) != (size_t)size) s->failed = 1;
}

/* 0..1 float -> 0..255 byte, rounding to the nearest level; NaN and below 0 -> 0. */
static unsigned char to_byte(float v) {
    if (!(v > 0.0f)) return 0;
    if (v >= 1.0f) return 255;
    return (unsigned char)(v * 255.0f + 0.5f);
}

int nn_image_save_png(const char *path, const nn_tensor *img) {
    int c, h, w;
    if (!path) {
        nn_fail("nn_image_save_png", "pass a file name such as \"out.png\"", "path is NULL");
        return -1;
    }
    if (image_dims("nn_image_save_png", img, &c, &h, &w) != 0) return -1;
    if ((size_t)w * c > (size_t)INT_MAX / 4 || h > INT_MAX / 4) {
        nn_fail("nn_image_save_png", "PNG rows are limited; resize first",
                "image %s is too large", SHAPE(img));
        return -1;
    }
    size_t plane = (size_t)h * w;
    unsigned char *pix = malloc(plane * c);
    if (!pix) return nn_set_last_error("nn_image_save_png: out of memory for '%s'", path);
    for (size_t p = 0; p < plane; p++)
        for (int k = 0; k < c; k++) pix[p * c + k] = to_byte(img->data[k * plane + p]);

    nn_safe_file out;
    int e = nn_safe_open(&out, path);
    if (e) {
        free(pix);
        return nn_set_last_error("nn_image_save_png: cannot write '%s': %s", path, strerror(e));
    }
    png_sink sink = {out.f, 0};
    int ok = stbi_write_png_to_func(png_write, &sink, w, h, c, pix, w * c);
    free(pix);
    if (!ok) e = ENOMEM; /* stb could not allocate its buffers */
    else if (sink.failed) e = errno ? errno : EIO;
    e = nn_safe_commit(&out, path, e, false);
    if (e) return nn_set_last_error("nn_image_save_png: cannot write '%s': %s", path, strerror(e));
    return 0;
}

/* nn_image_save_png into dir/file (folders made as needed), saying where it went or why not:
 * the three steps every example did after making a picture. */
int nn_image_save_png_in(const char *dir, const char *file, const nn_tensor *img) {
    if (!file) {
        nn_fail("nn_image_save_png_in", "pass a file name such as \"out.png\"", "file is NULL");
        return -1;
    }
    char path[4096];
    if (nn_out_path(path, sizeof path, dir, file) && nn_image_save_png(path, img) == 0) {
        printf("wrote %s\n", path);
        return 0;
    }
    fprintf(stderr, "could not write %s/%s: %s\n", dir && dir[0] ? dir : ".", file,
            nn_last_error());
    return -1;
}

/* ---- resize, enlarge, grey --------------------------------------------------------------- */

nn_tensor *nn_image_resize(const nn_tensor *img, int h, int w) {
    int c, H, W;
    if (image_dims("nn_image_resize", img, &c, &H, &W) != 0) return NULL;
    if (h < 1 || w < 1 || h > 65535 || w > 65535) {
        nn_fail("nn_image_resize", "the new height and width must be 1 .. 65535",
                "%s -> (%d, %d)", SHAPE(img), h, w);
        return NULL;
    }
    nn_tensor *out = new_image(img, c, h, w);
    /* One channel at a time: our planes are exactly stb's 1-channel images. Each axis gets
     * its own filter: the triangle filter (bilinear interpolation) where it grows or keeps
     * its size, the box filter (an area average) where it shrinks. Both have weights >= 0
     * that sum to 1, so the values stay in the input's range. (stb_image_resize 0.97's
     * triangle filter fails an assert and aborts on about one shrink ratio in five, e.g.
     * 160 -> 106 or 7 -> 5: stb issue #1449. Its box filter has no such problem.) */
    stbir_filter fx = w < W ? STBIR_FILTER_BOX : STBIR_FILTER_TRIANGLE;
    stbir_filter fy = h < H ? STBIR_FILTER_BOX : STBIR_FILTER_TRIANGLE;
    for (int k = 0; k < c; k++) {
        const float *src = img->data + (size_t)k * H * W;
        float *dst = out->data + (size_t)k * h * w;
        if (!stbir_resize(src, W, H, W * (int)sizeof(float), dst, w, h, w * (int)sizeof(float),
                          STBIR_TYPE_FLOAT, 1, STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP,
                          STBIR_EDGE_CLAMP, fx, fy, STBIR_COLORSPACE_LINEAR, NULL)) {
            nn_tensor_free(out);
            nn_fail("nn_image_resize", NULL, "stb_image_resize failed for %s -> (%d, %d)",
                    SHAPE(img), h, w);
            return NULL;
        }
    }
    return out;
}

nn_tensor *nn_image_scale_nearest(const nn_tensor *img, int factor) {
    int c, H, W;
    if (image_dims("nn_image_scale_nearest", img, &c, &H, &W) != 0) return NULL;
    if (factor < 1 || (long)H * factor > 65535 || (long)W * factor > 65535) {
        nn_fail("nn_image_scale_nearest", "factor >= 1, and the result at most 65535 wide",
                "%s times %d", SHAPE(img), factor);
        return NULL;
    }
    int h = H * factor, w = W * factor;
    nn_tensor *out = new_image(img, c, h, w);
    for (int k = 0; k < c; k++)
        for (int y = 0; y < h; y++) {
            const float *src = img->data + ((size_t)k * H + y / factor) * W;
            float *dst = out->data + ((size_t)k * h + y) * w;
            for (int x = 0; x < w; x++) dst[x] = src[x / factor];
        }
    return out;
}

nn_tensor *nn_image_to_grey(const nn_tensor *img) {
    int c, h, w;
    if (image_dims("nn_image_to_grey", img, &c, &h, &w) != 0) return NULL;
    nn_tensor *out = nn_zeros(NN_SHAPE(1, h, w));
    size_t plane = (size_t)h * w;
    if (c < 3) { /* grey (with or without alpha): the grey channel */
        memcpy(out->data, img->data, plane * sizeof(float));
    } else {     /* BT.601 luma: the eye is most sensitive to green, least to blue */
        const float *r = img->data, *g = r + plane, *b = g + plane;
        for (size_t p = 0; p < plane; p++)
            out->data[p] = 0.299f * r[p] + 0.587f * g[p] + 0.114f * b[p];
    }
    return out;
}

/* ---- grid ------------------------------------------------------------------------------- */

nn_tensor *nn_image_grid(const nn_tensor *const *images, int n, int cols, int pad) {
    const char *op = "nn_image_grid";
    if (!images || n < 1 || pad < 0) {
        nn_fail(op, "pass an array of n >= 1 images and a padding >= 0",
                "images %s, n = %d, pad = %d", images ? "given" : "NULL", n, pad);
        return NULL;
    }
    int c0 = 0, cell_h = 0, cell_w = 0;
    for (int i = 0; i < n; i++) {
        int c, h, w;
        if (image_dims(op, images[i], &c, &h, &w) != 0) return NULL;
        if (i == 0) c0 = c;
        if (c != c0) {
            nn_fail(op, "convert them all to grey (nn_image_to_grey) or all to RGB",
                    "image 0 has %d channel(s) but image %d, shape %s, has %d", c0, i,
                    SHAPE(images[i]), c);
            return NULL;
        }
        if (h > cell_h) cell_h = h;
        if (w > cell_w) cell_w = w;
    }
    if (cols <= 0) { /* about square: the smallest cols with cols * cols >= n */
        cols = 1;
        while (cols * cols < n) cols++;
    }
    if (cols > n) cols = n;
    int rows = (n + cols - 1) / cols;
    long H = (long)rows * cell_h + (long)(rows + 1) * pad;
    long W = (long)cols * cell_w + (long)(cols + 1) * pad;
    if (H > 65535 || W > 65535) {
        nn_fail(op, "fewer or smaller images, or less padding",
                "the grid would be %ld x %ld pixels", H, W);
        return NULL;
    }
    nn_tensor *out = nn_full(1.0f, NN_SHAPE(c0, (int)H, (int)W)); /* white background */
    for (int i = 0; i < n; i++) {
        const nn_tensor *img = images[i];
        int c, h, w;
        image_dims(op, img, &c, &h, &w);
        /* Stretch this image to 0..1 by its own finite min and max (all channels together,
         * so colours keep their balance). */
        float lo = INFINITY, hi = -INFINITY;
        for (size_t j = 0; j < img->size; j++) {
            float v = img->data[j];
            if (isfinite(v)) {
                if (v < lo) lo = v;
                if (v > hi) hi = v;
            }
        }
        float scale = hi > lo ? 1.0f / (hi - lo) : 0.0f;
        int y0 = pad + (i / cols) * (cell_h + pad), x0 = pad + (i % cols) * (cell_w + pad);
        for (int k = 0; k < c; k++)
            for (int y = 0; y < h; y++) {
                const float *src = img->data + ((size_t)k * h + y) * w;
                float *dst = out->data + ((size_t)k * H + y0 + y) * W + x0;
                for (int x = 0; x < w; x++) {
                    float v = src[x];
                    dst[x] = !isfinite(v) ? 0.0f : hi > lo ? (v - lo) * scale : 0.5f;
                }
            }
    }
    return out;
}
