/* nn/data/text.h — text as numbers: UTF-8 characters (字符) and a character vocabulary (词表)
 * that gives each one an id, for chapter 4 (从词嵌入到RNN). Corpora (text files, fortunes
 * files): nn/data/text_corpus.h; batches of ids for training: nn/data/text_batch.h.
 *
 *   nn_vocab *v = nn_vocab_build(text, len, 0);          // every character of the text
 *   int n = nn_vocab_encode(v, text, len, NULL, 0);      // how many ids (characters)
 *   int *ids = malloc(n * sizeof *ids);
 *   nn_vocab_encode(v, text, len, ids, n);               // "床前" -> e.g. 412 37
 *   nn_vocab_save(v, "poems.nnvc");                      // beside the model's checkpoint
 *
 * A character is a Unicode code point (U+0000 .. U+10FFFF, no surrogates), 1 to 4 bytes of
 * UTF-8: 'A' is 1 byte, '床' 3. Chinese and English are handled alike: one id per character.
 */
#ifndef NN_DATA_TEXT_H
#define NN_DATA_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* ---- UTF-8 -------------------------------------------------------------------------------- */

/* The character that starts s[0 .. n): its code point goes to *cp and its length in bytes
 * (1 .. 4) is returned; 0 when s does not start with a valid UTF-8 character (n == 0, a bad
 * lead byte, a truncated sequence, an overlong form, a surrogate, above U+10FFFF). */
int nn_utf8_decode(const char *s, size_t n, uint32_t *cp);

/* The UTF-8 bytes of code point cp into out[0 .. 4): returns the length (1 .. 4), or 0 when
 * cp is not a character (a surrogate U+D800 .. U+DFFF, or above U+10FFFF). No NUL added. */
int nn_utf8_encode(uint32_t cp, char out[4]);

/* Check that text[0 .. len) is valid UTF-8. Returns 0, or -1 with nn_last_error() naming the
 * byte offset of the first bad sequence and what is wrong there ("byte 17: 0xe5 0x41: ...");
 * the offset also goes to *bad_offset when it is not NULL. */
int nn_utf8_check(const char *text, size_t len, size_t *bad_offset);

/* ---- the vocabulary (词表) ----------------------------------------------------------------- */

/* Ids 0 .. size-1. Id 0 is <unk>, the unknown character: what characters not in the vocabulary
 * (never seen, or cut by max_size) become. Ids 1, 2, ... are the characters in order of
 * frequency, the most frequent first; ties go to the smaller code point, so the same text
 * always gives the same ids. */
#define NN_VOCAB_UNK 0

typedef struct nn_vocab {
    int size;               /* number of ids, <unk> included */
    uint32_t *chars;        /* chars[id]: the character's code point (chars[0] = 0, unused) */
    uint64_t *counts;       /* counts[id]: how often it occurs in the text it was built from;
                             * counts[0]: the characters that max_size left out */
    struct nn_vocab_index *index; /* code point -> id (private) */
} nn_vocab;

/* Count the characters of text[0 .. len) and give each an id. max_size: 0 for every
 * character, else the most ids, <unk> included (>= 2): the max_size - 1 most frequent
 * characters keep an id, the rest become <unk>. Returns NULL with nn_last_error() when the
 * text is not valid UTF-8 (the message names the byte offset). Free with nn_vocab_free. */
nn_vocab *nn_vocab_build(const char *text, size_t len, int max_size);

void nn_vocab_free(nn_vocab *v);   /* NULL is fine */

/* The id of code point cp, or NN_VOCAB_UNK when it has none. */
int nn_vocab_id(const nn_vocab *v, uint32_t cp);

/* text[0 .. len) as ids, one per character, unknown ones as NN_VOCAB_UNK. Writes the first
 * min(count, cap) ids to ids[] and returns the count (like snprintf: pass NULL, 0 to learn
 * it). Returns -1 with nn_last_error() naming the byte offset when the text is not valid
 * UTF-8 (ids[] may then hold the ids before it). At most INT_MAX characters. */
int nn_vocab_encode(const nn_vocab *v, const char *text, size_t len, int *ids, size_t cap);

/* ids[0 .. n) as UTF-8 text into out[0 .. size): as many whole characters as fit in size-1
 * bytes, then a NUL (when size > 0). Returns the bytes the whole text needs, the NUL not
 * counted (like snprintf). <unk> is written as U+FFFD '�', the replacement character. An id
 * outside 0 .. size-1 is misuse (nn_fail, then -1). n may be up to INT_MAX / 4.
 *   char s[8];
 *   nn_vocab_decode(v, &id, 1, s, sizeof s);   // one sampled character, printable */
int nn_vocab_decode(const nn_vocab *v, const int *ids, int n, char *out, size_t size);

/* ---- vocabulary files ------------------------------------------------------------------- */

/* A vocabulary file ("poems.nnvc"), version 1; integers little-endian:
 *
 *   "NNVC"             4 bytes, the magic
 *   version            uint32, 1
 *   count              uint32, the number of characters (size - 1)
 *   unk count          uint64, counts[0]
 *   count times:       uint32 code point, uint64 count       (ids 1, 2, ... in this order)
 *   crc                uint32, CRC-32 (zlib's crc32) of every byte before it
 *
 * 24 + 12 * count bytes. Saving writes "<path>.tmp.XXXXXX", fsyncs it and renames it onto
 * path (as checkpoints are saved), so a crash leaves the old file or the new one. */

/* Save v to path. Returns 0, or -1 with nn_last_error() set. */
int nn_vocab_save(const nn_vocab *v, const char *path);

/* Load a vocabulary saved by nn_vocab_save: the same ids for the same characters. Everything
 * is checked (magic, version, count against the file's size, CRC-32, every code point a
 * character, none twice, frequency order); a bad file gives NULL with nn_last_error() naming
 * the file and the first problem. */
nn_vocab *nn_vocab_load(const char *path);

#endif
