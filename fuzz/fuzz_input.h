/* fuzz/fuzz_input.h — what every harness shares: the fuzzer's bytes as a file the loaders
 * can open by path, and an error handler that turns a misuse report into a crash.
 *
 * The loaders take paths, so the bytes go into an in-memory file (memfd_create) that they
 * open as /proc/self/fd/N: no disk traffic, and the file is a regular one, so stat() sees
 * its size as it would for a real file. Where memfd_create is missing, a file under /tmp
 * (or $TMPDIR) does the same job. Include this header first: it defines _GNU_SOURCE. */
#ifndef FUZZ_INPUT_H
#define FUZZ_INPUT_H

#define _GNU_SOURCE
#include <nn.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

/* Bad bytes are bad input (error kind 2): the loaders must return NULL or -1. Reaching the
 * misuse handler (kind 1) from a loader is a bug in the loader, so it is a crash here. */
static void fuzz_on_misuse(const nn_error *err, void *user) {
    (void)user;
    fprintf(stderr, "fuzz: a loader reported MISUSE for bad input (a loader bug: bad bytes "
                    "must give NULL / -1, not nn_fail):\n%s\n", err->message);
    abort();
}

static void fuzz_write_all(int fd, const uint8_t *data, size_t size) {
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
        if (n <= 0) {
            perror("fuzz: writing the input file");
            abort();
        }
        done += (size_t)n;
    }
}

static int fuzz_fd = -1;
static char fuzz_path[256];
static bool fuzz_path_is_tmp;

static void fuzz_remove_tmp(void) {
    if (fuzz_path_is_tmp) unlink(fuzz_path);
}

/* Once, before the first input (each harness calls it from LLVMFuzzerInitialize). */
static void fuzz_init(void) {
    nn_set_error_handler(fuzz_on_misuse, NULL);
    fuzz_fd = memfd_create("nn-fuzz-input", 0);
    if (fuzz_fd >= 0) {
        snprintf(fuzz_path, sizeof fuzz_path, "/proc/self/fd/%d", fuzz_fd);
        return;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(fuzz_path, sizeof fuzz_path, "%s/nn-fuzz-input.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    fuzz_fd = mkstemp(fuzz_path);
    if (fuzz_fd < 0) {
        perror("fuzz: cannot make a temporary input file");
        abort();
    }
    fuzz_path_is_tmp = true;
    atexit(fuzz_remove_tmp);
}

/* Make the file hold exactly data[0 .. size) and return its path (the same path each
 * time). */
__attribute__((unused)) static const char *fuzz_input_path(const uint8_t *data, size_t size) {
    int fd = fuzz_fd;
    if (ftruncate(fd, 0) != 0) {
        perror("fuzz: truncating the input file");
        abort();
    }
    fuzz_write_all(fd, data, size);
    return fuzz_path;
}

/* Formats that end in a CRC-32 of everything before it (NNCK, NNQ1, NNVX): random bytes
 * almost never carry a right checksum, so the loader would refuse them before reading a
 * field. Calling check(data) and then check(the same bytes with the last four replaced by
 * their correct CRC-32) lets the fuzzer reach the field checks too. min: the smallest size
 * worth fixing (a header and the checksum). */
__attribute__((unused)) static void fuzz_with_fixed_crc(const uint8_t *data, size_t size,
                                                       size_t min,
                                                       void (*check)(const uint8_t *, size_t)) {
    check(data, size);
    if (size < min) return;
    uint8_t *fixed = malloc(size);
    if (!fixed) abort();
    memcpy(fixed, data, size);
    uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), fixed, (uInt)(size - 4));
    for (int i = 0; i < 4; i++) fixed[size - 4 + i] = (uint8_t)(crc >> (8 * i));
    check(fixed, size);
    free(fixed);
}

#endif
