/* nn/cli/args.h — reading --flags from argv, for the example programs. */
#ifndef NN_CLI_ARGS_H
#define NN_CLI_ARGS_H

#include <stdbool.h>
#include <stdint.h>

/* Parse "--seed N" from argv, default `fallback`; examples use it and print the seed.
 * The nn_arg_* readers stop the program (exit 2, with a message) on a value that is not a
 * number, e.g. "--seed abc", instead of running with a setting you did not ask for. */
uint64_t nn_arg_seed(int argc, char **argv, uint64_t fallback);
/* True when `flag` (e.g. "--quick") is among argv. */
bool nn_arg_flag(int argc, char **argv, const char *flag);
/* The integer after `name` in argv (e.g. --epochs 5), or `fallback`. */
long nn_arg_int(int argc, char **argv, const char *name, long fallback);
/* The float after `name` in argv, or `fallback`. */
double nn_arg_float(int argc, char **argv, const char *name, double fallback);
/* The string after `name` in argv, or `fallback`. */
const char *nn_arg_str(int argc, char **argv, const char *name, const char *fallback);

#endif
