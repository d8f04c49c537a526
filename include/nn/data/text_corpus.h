/* nn/data/text_corpus.h — a corpus (语料): the text a language model learns from, read from a
 * UTF-8 text file or from a fortunes file, such as Debian's 唐诗三百首 (fortunes-zh).
 *
 *   nn_fortunes_options opt = {.drop_titles = true};
 *   nn_corpus *c = nn_fortunes_load("/usr/share/games/fortunes/tang300", &opt);
 *   if (!c) { fprintf(stderr, "%s\n", nn_last_error()); return 1; }
 *   nn_vocab *v = nn_vocab_build(c->text, c->bytes, 0);        // nn/data/text.h
 *   printf("%d poems, %d characters, %d ids\n", c->n_entries, c->chars, v->size);
 *
 * Files with text of the package fortunes-zh (apt-get install fortunes-zh): tang300
 * (唐诗三百首, 313 poems), song100 (宋词, 96 poems), chinese (5263 sayings); fortunes (English,
 * 431, package fortunes). All in /usr/share/games/fortunes/.
 */
#ifndef NN_DATA_TEXT_CORPUS_H
#define NN_DATA_TEXT_CORPUS_H

#include <stdbool.h>
#include <stddef.h>

/* The largest file the loaders read: 256 MiB (a character model trains on a few MB; the
 * biggest file above, chinese, is 2 MB). Its ids take up to 4 times as much memory. */
#define NN_TEXT_MAX_BYTES ((size_t)256 << 20)

/* Entry i of a corpus is text[entries[i].start .. entries[i].start + entries[i].bytes). */
typedef struct nn_corpus_entry {
    size_t start, bytes;
} nn_corpus_entry;

typedef struct nn_corpus {
    char *text;                 /* valid UTF-8, with a NUL after it */
    size_t bytes;               /* its length in bytes, the NUL not counted */
    int chars;                  /* its length in characters (字符): the ids it encodes to */
    int n_entries;              /* entries: a fortunes file's poems or sayings; a text file: 1 */
    nn_corpus_entry *entries;   /* n_entries of them, in file order */
} nn_corpus;

/* A UTF-8 text file, whole: its bytes as they are, except that a leading byte order mark
 * (EF BB BF) is dropped and Windows line ends (\r\n) become \n. Returns NULL with
 * nn_last_error() for a file that cannot be read, is empty, is larger than
 * NN_TEXT_MAX_BYTES (refused before it is read), is not valid UTF-8 (the message names the
 * byte offset and line), or holds a NUL byte (a binary file, or UTF-16, is not text).
 * Free with nn_corpus_free. */
nn_corpus *nn_text_load(const char *path);

typedef struct nn_fortunes_options {
    bool drop_titles;        /* drop each entry's title and author lines (tang300, song100) */
    int max_entries;         /* read at most this many entries; 0 for all */
    const char *separator;   /* written between two entries; NULL for "\n" (an empty line) */
} nn_fortunes_options;

/* A fortunes file (the format of fortune(6) and strfile(1)): entries separated by lines that
 * hold only "%" (trailing spaces allowed: song100 has one such line, "%    ", which strfile
 * does not see, so fortune(6) shows those two poems as one of its 95). In each entry, colour
 * codes (ESC [ ... m, and any other ESC [ sequence) are removed, and so are its leading and
 * trailing empty lines; each entry then ends in one \n. Entries left empty are skipped.
 *
 * Titles: in tang300 and song100 every entry starts with two coloured lines, the title in
 * green and the author in yellow (shown here as cat -v does, ^[ is ESC):
 *   tang300   ^[[32m《感遇・其一》^[[m                title
 *             ^[[33m作者：张九龄^[[m                  author (full-width colon)
 *   song100   ^[[32m题目:《塞上》^[[m
 *             ^[[33m作者:柳开（９４６－９９９）^[[m     author, ASCII colon, years
 * and no other line is coloured. drop_titles drops the lines at the head of each entry that
 * start with a colour code (ESC [), which is exactly those two there. In other files (chinese)
 * it drops whatever coloured lines start an entry.
 *
 * opt may be NULL (everything kept, "\n" between entries). Returns NULL with nn_last_error()
 * as nn_text_load does, and also for a file with no entries (only "%" lines and blank ones,
 * or titles dropped). */
nn_corpus *nn_fortunes_load(const char *path, const nn_fortunes_options *opt);

void nn_corpus_free(nn_corpus *c);   /* NULL is fine */

#endif
