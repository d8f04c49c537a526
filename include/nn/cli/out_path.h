/* nn/cli/out_path.h — where example programs write their pictures. */
#ifndef NN_CLI_OUT_PATH_H
#define NN_CLI_OUT_PATH_H

#include <stddef.h>

/* ---- where examples write their pictures --------------------------------------------------
 * dir + "/" + file into buf, creating dir and any missing parent folders (like mkdir -p);
 * returns buf, or NULL with nn_last_error() set when a folder cannot be made (e.g. a file is
 * in the way) or the path does not fit. */
char *nn_out_path(char *buf, size_t size, const char *dir, const char *file);

#endif
