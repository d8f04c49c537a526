/* src/data/safe_file.c — write a file so that a crash, a full disk or a bad write never leaves
 * half of it under the real name: write "<path>.tmp.XXXXXX" in the same folder, flush and
 * close it, and only then rename it onto <path> (one atomic step on POSIX file systems). On
 * any failure the temporary file is removed and the old <path>, if any, is untouched. Every
 * writer in the library (PNG images, SVG charts, checkpoints) goes through here. */
#include "internal.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int nn_safe_open(nn_safe_file *s, const char *path) {
    size_t n = strlen(path);
    s->f = NULL;
    s->tmp = nn_xmalloc(n + 12);
    memcpy(s->tmp, path, n);
    memcpy(s->tmp + n, ".tmp.XXXXXX", 12);
    int fd = mkstemp(s->tmp); /* a fresh name: two writers of one path cannot collide */
    if (fd < 0) {
        int e = errno;
        free(s->tmp);
        return e;
    }
    fchmod(fd, 0644); /* mkstemp makes it private (0600); ours are ordinary files */
    s->f = fdopen(fd, "wb");
    if (!s->f) {
        int e = errno;
        close(fd);
        remove(s->tmp);
        free(s->tmp);
        return e;
    }
    return 0;
}

/* fsync the folder that holds path, so the rename itself survives a power cut. Best effort:
 * some file systems refuse, which costs durability, not correctness. */
static void sync_folder(const char *path) {
    const char *slash = strrchr(path, '/');
    size_t n = !slash ? 0 : slash == path ? 1 : (size_t)(slash - path);
    char *dir = nn_xmalloc(n + 2);
    if (n) memcpy(dir, path, n);
    else dir[n++] = '.';
    dir[n] = 0;
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

int nn_safe_commit(nn_safe_file *s, const char *path, int err, bool durable) {
    FILE *f = s->f;
    int e = err;
    if (!e && (fflush(f) != 0 || ferror(f))) e = errno ? errno : EIO;
    if (!e && durable && fsync(fileno(f)) != 0) e = errno; /* on disk before it gets the name */
    if (fclose(f) != 0 && !e) e = errno ? errno : EIO;
    if (!e && rename(s->tmp, path) != 0) e = errno;
    if (e) remove(s->tmp);
    else if (durable) sync_folder(path);
    free(s->tmp);
    s->f = NULL;
    s->tmp = NULL;
    return e;
}
