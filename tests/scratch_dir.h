/* tests/scratch_dir.h — for tests that write files: a fresh mkdtemp folder for each test,
 * removed with everything in it afterwards (use IO_TEST(f) instead of NN_TEST(f), and
 * in_dir("name") for paths inside it; the last four results stay valid at once), and small
 * whole-file helpers. */
#ifndef NN_SCRATCH_DIR_H
#define NN_SCRATCH_DIR_H

#include "testing.h"
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[256];

static int io_setup(void **state) {
    nn_test_setup(state);
    snprintf(dir, sizeof dir, "%s/nn_test_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int io_teardown(void **state) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
    return nn_test_teardown(state);
}
#define IO_TEST(f) cmocka_unit_test_setup_teardown(f, io_setup, io_teardown)

__attribute__((unused)) static const char *in_dir(const char *name) {
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

/* ---- whole files ----------------------------------------------------------------------- */

__attribute__((unused)) static int file_exists(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != NULL;
}

/* The whole file, plus a NUL after it (so text can be used as a string); the caller frees. */
__attribute__((unused)) static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 4096, n = 0, got;
    unsigned char *buf = malloc(cap);
    assert_non_null(buf);
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

/* True when the folder of `path` holds no "<name>.tmp*" left over from writing <path>. */
__attribute__((unused)) static int no_temp_left(const char *path) {
    char folder[512], prefix[512];
    const char *slash = strrchr(path, '/');
    snprintf(folder, sizeof folder, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    snprintf(prefix, sizeof prefix, "%s.tmp", slash ? slash + 1 : path);
    DIR *d = opendir(folder);
    if (!d) return 1; /* no folder, no leftovers */
    struct dirent *e;
    int clean = 1;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) clean = 0;
    closedir(d);
    return clean;
}

/* Write exactly len bytes to path (replacing it). */
__attribute__((unused)) static void spit(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len) assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

#endif
