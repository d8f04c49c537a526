/* tests/scratch_dir.h — a fresh mkdtemp folder for each test that writes files, removed with
 * everything in it afterwards. Use IO_TEST(f) instead of NN_TEST(f), and in_dir("name") for
 * paths inside the folder (the last four results stay valid at once). */
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

#endif
