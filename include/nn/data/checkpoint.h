/* nn/data/checkpoint.h — save a model's parameters and load them back (NNCK files). */
#ifndef NN_DATA_CHECKPOINT_H
#define NN_DATA_CHECKPOINT_H

#include "../core/model.h"

/* A checkpoint holds every parameter of a model: its name, shape and values. Format
 * (version 1; all integers uint32 little-endian, docs/en/checkpoint-format.md):
 *
 *   "NNCK"             4 bytes, the magic
 *   version            1
 *   count              number of parameters
 *   count times:       name length L, L bytes of name (UTF-8, no NUL),
 *                      ndim (0..4), ndim sizes, size float32 values (little-endian)
 *   crc                CRC-32 (zlib's crc32) of every byte before it
 *
 * Saving writes "<path>.tmp.XXXXXX" in the same folder, fsyncs it and renames it onto path,
 * so a crash leaves the old checkpoint or the new one, never a broken one. */

/* Save every parameter of m. Returns 0, or -1 with nn_last_error() set. */
int nn_model_save(const nn_model *m, const char *path);

/* Load into an already-built model of the same architecture: the same parameter names with
 * the same shapes (in any order). The header is checked first (magic, version, count, from
 * the first 12 bytes), then the file's size against the size a checkpoint of this model has:
 * a file of another size is refused before its body is read (the message gives both sizes
 * and, from the records' names and shapes, the first thing that does not fit), so a huge
 * file of junk costs a few small reads. A file of the right size is read whole and checked
 * (checksum, structure, names, shapes); only then are values copied, so on failure (-1,
 * nn_last_error() names the file and the first problem) the model is untouched. Gradients
 * are not touched. */
int nn_model_load(nn_model *m, const char *path);

#endif
