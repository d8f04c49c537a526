/* fuzz/stb_impl.c — stb's image code compiled into the fuzz build, with the same
 * instrumentation as the library, instead of Debian's prebuilt libstb.so: the fuzzer then
 * sees coverage inside the decoders (and ASan checks their memory accesses), which is where
 * most of nn_image_load's work happens. The headers are Debian's (libstb-dev), so the code
 * is the code the normal build links. NDEBUG as in Debian's build of libstb: stb_image's
 * assert()s are off there, so a failed one (e.g. stbi__jpeg_huff_decode's check of a code
 * against a corrupt Huffman table) is not what a user's program meets; with them off, that
 * input is refused ("unknown marker") and ASan + UBSan find no bad access on the way
 * (fuzz/regressions/image/jpeg-huffman-code-mismatch.jpg keeps it). */
#ifndef NDEBUG
#define NDEBUG
#endif
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#include <stb/stb_image_write.h>
