/* src/cli/out_path.c — where examples write their pictures: dir/file, making missing folders. */
#include "internal.h"
#include "nn/cli/out_path.h"
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

char *nn_out_path(char *buf, size_t size, const char *dir, const char *file) {
    if (!buf || !file) {
        nn_fail("nn_out_path", "pass a buffer and a file name", "buf %p, file %p",
                (void *)buf, (const void *)file);
        return NULL;
    }
    if (!dir || !dir[0]) dir = ".";
    int n = snprintf(buf, size, "%s/%s", dir, file);
    if (n < 0 || (size_t)n >= size) {
        nn_set_last_error("path %s/%s is too long", dir, file);
        return NULL;
    }
    /* Like mkdir -p: make each missing folder on the way, outermost first. buf holds
     * "dir/file" here, so cutting it at each '/' inside dir gives the prefixes. */
    size_t dlen = strlen(dir);
    for (size_t i = 1; i <= dlen; i++) {
        if (i < dlen && buf[i] != '/') continue;
        if (buf[i - 1] == '/') continue; /* "a//b" or a trailing '/': nothing new to make */
        char saved = buf[i];
        buf[i] = '\0';
        int made = mkdir(buf, 0777) == 0 || errno == EEXIST;
        int err = errno;
        struct stat st;
        if (made && (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))) {
            made = 0;
            err = ENOTDIR; /* a file is in the way */
        }
        if (!made) {
            nn_set_last_error("cannot create folder %s: %s", buf, strerror(err));
            buf[i] = saved;
            return NULL;
        }
        buf[i] = saved;
    }
    return buf;
}
