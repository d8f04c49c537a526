/* src/data/text_utf8.c — UTF-8 characters (字符): decode one, encode one, and find the first
 * bad byte of a text with a message that says what is wrong there (include/nn/data/text.h).
 *
 *   bytes     code points            the first byte says how many follow (10xxxxxx each)
 *   1         U+0000 .. U+007F       0xxxxxxx                  'A'  41
 *   2         U+0080 .. U+07FF       110xxxxx 10xxxxxx         'é'  c3 a9
 *   3         U+0800 .. U+FFFF       1110xxxx 10xxxxxx x2      '床' e5 ba 8a
 *   4         U+10000 .. U+10FFFF    11110xxx 10xxxxxx x3      '😀' f0 9f 98 80
 *
 * Only the shortest form is valid (c0 af would be an "overlong" '/', a classic way to sneak
 * a character past a filter), U+D800 .. U+DFFF are UTF-16 surrogates, not characters, and
 * nothing lies above U+10FFFF. The decoder reads only the bytes it is given, so a truncated
 * sequence at the end of a buffer is reported, never read past.
 */
#include "internal.h"
#include "nn/data/text.h"

/* Decode the character at b[0 .. n) (n >= 1): its length, or 0 with what is wrong written
 * to why[0 .. size) (when why is not NULL). */
static int decode_or_explain(const unsigned char *b, size_t n, uint32_t *cp, char *why,
                             size_t size) {
    unsigned char c = b[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (len == 0) {
        if (why) snprintf(why, size, "0x%02x is a continuation byte (10xxxxxx) with no lead byte "
                          "before it", c);
        return 0;
    }
    if (c >= 0xF8) {
        if (why) snprintf(why, size, "0x%02x is never used in UTF-8", c);
        return 0;
    }
    if (c >= 0xF5) {
        if (why) snprintf(why, size, "0x%02x would start a character above U+10FFFF, the last "
                          "one", c);
        return 0;
    }
    char hex[32] = ""; /* the bytes so far, for a message (only built when one is wanted) */
    int h = why ? snprintf(hex, sizeof hex, "0x%02x", c) : 0;
    uint32_t v = c & (0x7F >> len);
    for (int k = 1; k < len; k++) {
        if ((size_t)k >= n) {
            if (why) snprintf(why, size, "%s: 0x%02x starts a %d-byte character but the text "
                              "ends after %d byte%s", hex, c, len, k, k == 1 ? "" : "s");
            return 0;
        }
        if (why) h += snprintf(hex + h, sizeof hex - (size_t)h, " 0x%02x", b[k]);
        if ((b[k] & 0xC0) != 0x80) {
            if (why) snprintf(why, size, "%s: 0x%02x starts a %d-byte character but 0x%02x is "
                              "not a continuation byte (10xxxxxx)", hex, c, len, b[k]);
            return 0;
        }
        v = v << 6 | (b[k] & 0x3F);
    }
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000}; /* shortest form */
    if (v < least[len]) {
        if (why) {
            int need = v < 0x80 ? 1 : v < 0x800 ? 2 : 3;
            snprintf(why, size, "%s: an overlong form of U+%04X (%d bytes for a character that "
                     "takes %d)", hex, (unsigned)v, len, need);
        }
        return 0;
    }
    if (v >= 0xD800 && v <= 0xDFFF) {
        if (why) snprintf(why, size, "%s: U+%04X is a UTF-16 surrogate, not a character", hex,
                          (unsigned)v);
        return 0;
    }
    if (v > 0x10FFFF) {
        if (why) snprintf(why, size, "%s: U+%X is above U+10FFFF, the last character", hex,
                          (unsigned)v);
        return 0;
    }
    *cp = v;
    return len;
}

int nn_utf8_decode(const char *s, size_t n, uint32_t *cp) {
    uint32_t v = 0;
    if (!s || n == 0) return 0;
    int len = decode_or_explain((const unsigned char *)s, n, &v, NULL, 0);
    if (len && cp) *cp = v;
    return len;
}

int nn_utf8_encode(uint32_t cp, char out[4]) {
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp > 0x10FFFF) return 0;
    o[0] = (unsigned char)(0xF0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The offset of the first invalid sequence in text[0 .. len), or len when there is none; then
 * where[0 .. size) (when not NULL) gets "byte N (line L): what is wrong", for a message. */
size_t nn_utf8_find_bad(const char *text, size_t len, char *where, size_t size) {
    const unsigned char *b = (const unsigned char *)text;
    size_t i = 0, line = 1;
    while (i < len) {
        uint32_t cp;
        if (b[i] < 0x80) { /* the common case, ASCII, without the call */
            line += b[i] == '\n';
            i++;
            continue;
        }
        int k = decode_or_explain(b + i, len - i, &cp, NULL, 0);
        if (k == 0) { /* decode once more, this time for the message */
            char why[200];
            decode_or_explain(b + i, len - i, &cp, why, sizeof why);
            if (where) snprintf(where, size, "byte %zu (line %zu): %s", i, line, why);
            return i;
        }
        i += (size_t)k;
    }
    return len;
}

int nn_utf8_check(const char *text, size_t len, size_t *bad_offset) {
    if (!text && len > 0) {
        nn_fail("nn_utf8_check", "pass the text and its length in bytes", "text is NULL but "
                "len = %zu", len);
        return -1;
    }
    char where[300];
    size_t bad = nn_utf8_find_bad(text, len, where, sizeof where);
    if (bad == len) return 0;
    if (bad_offset) *bad_offset = bad;
    return nn_set_last_error("nn_utf8_check: invalid UTF-8 at %s", where);
}
