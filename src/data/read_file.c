/* src/data/read_file.c — all of a file, for the loaders that read a file whole (images, text,
 * vocabularies): a regular file larger than the loader's limit is refused from its size
 * before anything is read; a pipe or device is read until one byte past the limit. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int nn_read_file(const char *op, const char *path, size_t max, const char *note,
                      char **out, size_t *len) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return nn_set_last_error("%s: cannot open '%s': %s", op, path, strerror(errno));
    struct stat st;
    int err = 0;
    size_t cap = 1 << 16, n = 0;
    char *b = NULL;
    if (fstat(fd, &st) != 0) {
        err = errno;
    } else if (S_ISDIR(st.st_mode)) {
        err = EISDIR;
    } else if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > max) {
        close(fd);
        return nn_set_last_error("%s: '%s' is too large: %llu bytes, the most it reads is %zu "
                                 "(%s)", op, path, (unsigned long long)st.st_size, max, note);
    } else if (S_ISREG(st.st_mode)) {
        cap = (size_t)st.st_size + 1; /* one more, to see a file that grew meanwhile */
    }
    if (!err) b = nn_xmalloc(cap + 1);
    while (!err && n <= max) {
        if (n == cap) {
            cap = cap > max / 2 ? max + 1 : cap * 2;
            b = nn_xrealloc(b, cap + 1);
        }
        ssize_t got = read(fd, b + n, cap - n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) err = errno ? errno : EIO;
        if (got <= 0) break;
        n += (size_t)got;
    }
    close(fd);
    if (err) {
        free(b);
        return nn_set_last_error("%s: cannot read '%s': %s", op, path, strerror(err));
    }
    if (n > max) {
        free(b);
        return nn_set_last_error("%s: '%s' is too large: more than %zu bytes, the most it "
                                 "reads (%s)", op, path, max, note);
    }
    b[n] = 0;
    *out = b;
    *len = n;
    return 0;
}
