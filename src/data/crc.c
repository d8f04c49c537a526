/* src/data/crc.c — the checksum every file format of the project ends with. */
#include "internal.h"

#include <zlib.h>

uint32_t nn_crc32(const void *b, size_t n) {
    const unsigned char *p = b;
    uLong crc = crc32(0L, Z_NULL, 0);
    for (size_t off = 0; off < n; off += (size_t)1 << 30) {   /* zlib takes a uInt length */
        size_t k = n - off < ((size_t)1 << 30) ? n - off : ((size_t)1 << 30);
        crc = crc32(crc, p + off, (uInt)k);
    }
    return (uint32_t)crc;
}
