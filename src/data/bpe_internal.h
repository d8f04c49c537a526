/* src/data/bpe_internal.h — what the tokenizer's two sources share (not installed):
 * bpe.c trains, encodes and decodes; bpe_file.c saves and loads. */
#ifndef NN_BPE_INTERNAL_H
#define NN_BPE_INTERNAL_H

#include "nn/data/bpe.h"

/* The bytes of the string of each id of a tokenizer with these characters and merges, into
 * bytes[0 .. chars->size + n_merges) (3 for <unk>, U+FFFD; a character's UTF-8 length; the
 * sum of its two parts for a merge, whose ids must be valid). Returns the total, or
 * SIZE_MAX once it passes NN_BPE_MAX_BYTES (bytes[] then holds the ids before). */
size_t nn_bpe_string_bytes(const nn_vocab *chars, const nn_bpe_merge *merges, int n_merges,
                           size_t *bytes);

/* A tokenizer from its parts, which it takes over (merges may be NULL when n_merges is 0):
 * the merges must be checked (valid ids, no pair twice, nn_bpe_string_bytes in bounds). */
nn_bpe *nn_bpe_from_parts(nn_vocab *chars, nn_bpe_merge *merges, int n_merges);

/* The first merge whose pair an earlier one already merged, or -1 when none is repeated; the
 * earlier one's index goes to *earlier. */
int nn_bpe_first_repeat(const nn_bpe_merge *merges, int n_merges, int *earlier);

#endif
