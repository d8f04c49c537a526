/* src/data/quote.c — nn_quote_bytes: a file's bytes as a quoted string for an error message
 * (declared in src/internal.h). The data loaders (CSV, IDX, checkpoints, images, text) quote
 * what they found in a file with it, so a file can never send control codes to the terminal
 * through a message, and every message quotes bytes the same way.
 */
#include "internal.h"

/* The length (2 .. 4) of the valid UTF-8 sequence that starts b[0 .. n), or 0 when there is
 * none; C1 controls (U+0080 .. U+009F) count as none, since some terminals obey them. */
static size_t utf8_length(const unsigned char *b, size_t n) {
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* the range of the second byte */
    if (b[0] >= 0xC2 && b[0] <= 0xDF) {
        len = 2;
        if (b[0] == 0xC2) lo = 0xA0;
    } else if (b[0] >= 0xE0 && b[0] <= 0xEF) {
        len = 3;
        if (b[0] == 0xE0) lo = 0xA0;          /* no overlong forms */
        if (b[0] == 0xED) hi = 0x9F;          /* no surrogates */
    } else if (b[0] >= 0xF0 && b[0] <= 0xF4) {
        len = 4;
        if (b[0] == 0xF0) lo = 0x90;
        if (b[0] == 0xF4) hi = 0x8F;          /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || b[1] < lo || b[1] > hi) return 0;
    for (size_t k = 2; k < len; k++)
        if (b[k] < 0x80 || b[k] > 0xBF) return 0;
    return len;
}

/* Write the first max_shown of the n bytes as a quoted string for a message: "a\tb" with \"
 * \\ \n \r \t, \xNN for any other byte that is not printable ASCII or valid UTF-8 text, and
 * ... after the closing quote when bytes were left out (too many, or no room in out). So a
 * file can never send control codes to the terminal through a message. Reads at most
 * min(n, max_shown) bytes; out always ends in a NUL (size >= 8 to hold anything). */
void nn_quote_bytes(char *out, size_t size, const void *bytes, size_t n, size_t max_shown) {
    const unsigned char *b = bytes;
    size_t shown = n < max_shown ? n : max_shown, i = 0, o = 0;
    if (size < 8) {
        if (size) out[0] = 0;
        return;
    }
    out[o++] = '"';
    while (i < shown) {
        char piece[8];
        size_t len = 1, plen;
        unsigned char c = b[i];
        if (c == '"' || c == '\\') plen = (size_t)snprintf(piece, sizeof piece, "\\%c", c);
        else if (c == '\n') plen = (size_t)snprintf(piece, sizeof piece, "\\n");
        else if (c == '\r') plen = (size_t)snprintf(piece, sizeof piece, "\\r");
        else if (c == '\t') plen = (size_t)snprintf(piece, sizeof piece, "\\t");
        else if (c >= 0x20 && c < 0x7F) plen = (size_t)snprintf(piece, sizeof piece, "%c", c);
        else if (c >= 0x80 && (len = utf8_length(b + i, shown - i)) > 0) {
            memcpy(piece, b + i, len);
            plen = len;
        } else {
            len = 1;
            plen = (size_t)snprintf(piece, sizeof piece, "\\x%02x", c);
        }
        if (o + plen + 5 > size) break; /* keep room for `"...` and the NUL */
        memcpy(out + o, piece, plen);
        o += plen;
        i += len;
    }
    out[o++] = '"';
    if (i < n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = 0;
}
