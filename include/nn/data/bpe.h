/* nn/data/bpe.h — a byte-pair-encoding (BPE) tokenizer: text as tokens (词元) that are
 * pieces of words, for chapter 6 ("token", 常见的大模型词).
 *
 *   nn_bpe *bpe = nn_bpe_train(text, len, 4000);           // learn 4000 ids from a corpus
 *   int n = nn_bpe_encode(bpe, text, len, NULL, 0);        // how many tokens
 *   int *ids = malloc(n * sizeof *ids);
 *   nn_bpe_encode(bpe, text, len, ids, n);                 // "明月光" -> e.g. 2609 213
 *   size_t k;
 *   const char *s = nn_bpe_token(bpe, ids[0], &k);         // "明月", k = 6 bytes
 *   nn_bpe_save(bpe, "poems.nnbp");                        // beside the model's checkpoint
 *
 * What a token is. A language model reads ids, one per token. Chapter 4 made every character
 * (字符) a token: a small vocabulary, but long sequences, and the model must learn from
 * scratch that 明 and 月 keep company. Whole words are the other extreme: short sequences, but
 * the vocabulary has no end (every name, every inflection) and a word never seen cannot be
 * written at all. BPE finds the middle ground from the data: it starts from the characters
 * and glues together, again and again, the two neighbouring tokens seen together most often.
 * Frequent words and phrases become one token (明月, "the"), rare ones stay spelled out in
 * smaller pieces, and any text of known characters can still be written. A text then takes
 * fewer tokens than characters, so the same context window sees more of it.
 *
 * Training (nn_bpe_train), on "aaabdaaabac" (the classic example):
 *   1. The base alphabet is the text's characters, with the ids nn_vocab_build gives them
 *      (id 0 <unk>, then by frequency): 1 a (7 times), 2 b (2), 3 c (1), 4 d (1).
 *   2. Count every pair of neighbouring tokens: a a 4 times (each "aaa" holds two, which
 *      overlap: runs count as most implementations count them), a b 2, and the rest once.
 *   3. Merge the most frequent pair into a new token, id 5 = "aa", everywhere, left to right
 *      (so "aaa" becomes "aa" "a"):  aa a b d aa a b a c.
 *   4. Repeat from 2. Now a b (1 2) and aa a (5 1) are both seen twice: ties go to the pair
 *      with the smallest (left id, right id), so the same text always gives the same merges.
 *      Id 6 = "ab": aa ab d aa ab a c. Then id 7 = "aaab" (5 6): aaab d aaab a c.
 *   5. Stop when the vocabulary has vocab_size ids, or when no pair occurs twice (here: after
 *      3 merges, 8 ids; 11 characters became 5 tokens).
 * Pairs never cross a line break: "\n" stays a token of its own, and every token lies within
 * one line (a poem's line, a saying), as words lie within a line.
 *
 * Encoding (nn_bpe_encode) replays the merges in the order they were learned (their rank):
 * the text becomes characters, then each learned pair present, lowest rank first, is merged
 * everywhere, left to right, exactly as training did. So the training text encodes to the
 * very tokens training ended with, and any text is split the way training would have split
 * it. A character the alphabet lacks becomes <unk> (id 0). Decoding concatenates the tokens'
 * strings; <unk> is written as U+FFFD '�', as nn_vocab_decode writes it.
 *
 * Ids: 0 <unk>; 1 .. chars->size - 1 the characters (as in bpe->chars, an nn_vocab); then the
 * merged tokens in the order learned: merges[k] made id chars->size + k.
 */
#ifndef NN_DATA_BPE_H
#define NN_DATA_BPE_H

#include <stddef.h>
#include <stdint.h>

#include "text.h"

/* The most ids a tokenizer may have, <unk> included: every Unicode character and a million
 * merges. */
#define NN_BPE_MAX_SIZE (1 << 21)
/* The most bytes the strings of all its tokens may take together (training stops before a
 * merge would pass it; a file that passes it is refused). Real tokenizers use well under
 * 1 MiB. */
#define NN_BPE_MAX_BYTES ((size_t)64 << 20)

/* One learned merge: tokens left and right, next to each other, become one. */
typedef struct nn_bpe_merge {
    int left, right;        /* both ids made before this merge's own */
    uint64_t count;         /* how often the pair occurred when it was merged (runs overlap) */
} nn_bpe_merge;

typedef struct nn_bpe {
    int size;               /* number of ids: <unk>, the characters, the merged tokens */
    nn_vocab *chars;        /* the base alphabet, ids 0 .. chars->size - 1 (nn/data/text.h) */
    int n_merges;           /* size - chars->size */
    nn_bpe_merge *merges;   /* merges[k] (rank k) made id chars->size + k */
    struct nn_bpe_tables *tables; /* the tokens' strings, pair -> rank (private) */
} nn_bpe;

/* Learn a tokenizer from text[0 .. len) (valid UTF-8) with at most vocab_size ids. The base
 * alphabet is every character of the text, so vocab_size must be at least its size,
 * nn_vocab_build(text, len, 0)->size (<unk> included); a smaller one, or one above
 * NN_BPE_MAX_SIZE, is misuse (nn_fail). Training stops earlier when no pair occurs twice
 * (or before the strings would pass NN_BPE_MAX_BYTES). Returns NULL with nn_last_error() when
 * the text is not valid UTF-8 (the message names the byte offset and line) or has more than
 * INT_MAX characters. Free with nn_bpe_free. Time: about the text's length times the number
 * of merges, since a merge rewrites the text (tang300, 30 000 characters, to 4000 ids: 0.05 s;
 * 1 million characters to 8000: 2 s). */
nn_bpe *nn_bpe_train(const char *text, size_t len, int vocab_size);

void nn_bpe_free(nn_bpe *bpe);   /* NULL is fine */

/* The number of ids, bpe->size (misuse for NULL). */
int nn_bpe_size(const nn_bpe *bpe);

/* text[0 .. len) as token ids. Writes the first min(count, cap) ids to ids[] and returns the
 * count (like snprintf: pass NULL, 0 to learn it). Returns -1 with nn_last_error() naming the
 * byte offset when the text is not valid UTF-8, or when it has more than INT_MAX characters.
 * Time: about n log n for n characters; memory: a few dozen bytes per character. */
int nn_bpe_encode(const nn_bpe *bpe, const char *text, size_t len, int *ids, size_t cap);

/* ids[0 .. n) as UTF-8 text into out[0 .. size): as many whole characters as fit in size-1
 * bytes, then a NUL (when size > 0). Returns the bytes the whole text needs, the NUL not
 * counted (like snprintf), or -1 with nn_last_error() when that is more than INT_MAX. An id
 * outside 0 .. size-1, n < 0, or NULL arrays with n or size above 0 are misuse (nn_fail). */
int nn_bpe_decode(const nn_bpe *bpe, const int *ids, int n, char *out, size_t size);

/* The UTF-8 bytes of token id, followed by a NUL (so printf("%s") works; a token may itself
 * hold a NUL character, so *len, when len is not NULL, gets its length). Owned by bpe.
 * "\xef\xbf\xbd" (U+FFFD) for <unk>. An id outside 0 .. size-1 is misuse (NULL). */
const char *nn_bpe_token(const nn_bpe *bpe, int id, size_t *len);

/* ---- tokenizer files -------------------------------------------------------------------- */

/* A tokenizer file ("poems.nnbp"), version 1; integers little-endian:
 *
 *   "NNBP"             4 bytes, the magic
 *   version            uint32, 1
 *   chars              uint32, the number of characters C (ids 1 .. C)
 *   merges             uint32, the number of merges M (ids C+1 .. C+M)
 *   C times:           uint32 code point, uint64 count        (ids 1, 2, ... in this order)
 *   M times:           uint32 left, uint32 right, uint64 count (ids C+1, C+2, ...)
 *   crc                uint32, CRC-32 (zlib's crc32) of every byte before it
 *
 * 20 + 12 C + 16 M bytes. Saving writes "<path>.tmp.XXXXXX", fsyncs it and renames it onto
 * path (as checkpoints and vocabularies are saved), so a crash leaves the old file or the
 * new one. */

/* Save bpe to path. Returns 0, or -1 with nn_last_error() set. */
int nn_bpe_save(const nn_bpe *bpe, const char *path);

/* Load a tokenizer saved by nn_bpe_save: the same ids, the same encodings. Everything is
 * checked: the size (before a large file is read), magic, version, counts against the file's
 * size, CRC-32; the characters (each a character, none twice, in frequency order); each
 * merge (both ids made before it, neither <unk> nor "\n", no pair twice, counts of at least
 * 2 that never grow, NN_BPE_MAX_BYTES of strings in all). A bad file gives NULL with
 * nn_last_error() naming the file and the first problem. */
nn_bpe *nn_bpe_load(const char *path);

#endif
