/* fuzz/fuzz_text.c — the chapter 4 text loaders (src/data/text*.c) on arbitrary bytes.
 *
 * The first byte of an input picks what reads the rest (make_seeds writes its text seeds
 * with such a byte in front):
 *   0  nn_text_load                       a UTF-8 text file
 *   1  nn_fortunes_load, titles kept      a fortunes file (entries between "%" lines)
 *   2  nn_fortunes_load, titles dropped
 *   3  nn_vocab_load                      a vocabulary file (NNVC)
 * Whatever loads must be consistent: the corpus text is valid UTF-8 of `bytes` bytes with a
 * NUL after it; a vocabulary built from it encodes the text to `chars` ids, and decoding those
 * ids gives the text back; a loaded vocabulary saves and loads to the same entries. Bad bytes
 * must give NULL: no crash, no misuse report, no leak. */
#include "fuzz_input.h"

#include <nn/data/text.h>
#include <nn/data/text_corpus.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

/* Build a vocabulary from the corpus, encode and decode it, and compare with the text. */
static void check_corpus(const nn_corpus *c) {
    if (c->text[c->bytes] != 0 || nn_utf8_check(c->text, c->bytes, NULL) != 0) abort();
    nn_vocab *v = nn_vocab_build(c->text, c->bytes, 0);
    if (!v) abort();   /* the text is valid UTF-8, so building cannot fail */
    int *ids = malloc(((size_t)c->chars + 1) * sizeof(int));
    char *back = malloc(c->bytes + 1);
    if (!ids || !back) abort();
    if (nn_vocab_encode(v, c->text, c->bytes, ids, (size_t)c->chars + 1) != c->chars) abort();
    int n = nn_vocab_decode(v, ids, c->chars, back, c->bytes + 1);
    if (n < 0 || (size_t)n != c->bytes || memcmp(back, c->text, c->bytes) != 0) abort();
    free(back);
    free(ids);
    nn_vocab_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const char *path = fuzz_input_path(data + 1, size - 1);
    switch (data[0] & 3) {
    case 0:
    case 1:
    case 2: {
        nn_fortunes_options opt = {.drop_titles = (data[0] & 3) == 2};
        nn_corpus *c = (data[0] & 3) == 0 ? nn_text_load(path) : nn_fortunes_load(path, &opt);
        if (c) check_corpus(c);
        nn_corpus_free(c);
        break;
    }
    case 3: {
        nn_vocab *v = nn_vocab_load(path);
        if (v) {
            for (int id = 1; id < v->size; id++)
                if (nn_vocab_id(v, v->chars[id]) != id) abort();
        }
        nn_vocab_free(v);
        break;
    }
    }
    return 0;
}
