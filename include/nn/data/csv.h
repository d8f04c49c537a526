/* nn/data/csv.h — a CSV file of numbers into a data set. A bad file returns -1 with a
 * message in nn_last_error() that names the line and the column. */
#ifndef NN_DATA_CSV_H
#define NN_DATA_CSV_H

#include "dataset.h"

/* How to read the file. Start from NN_CSV_DEFAULTS and change what differs:
 *   nn_csv_options opt = NN_CSV_DEFAULTS;
 *   opt.header = true;
 *   opt.label_column = NN_CSV_LAST_COLUMN;
 * (A struct of zeros is not the default: it says "column 0 holds the labels".) */
typedef struct nn_csv_options {
    char separator;   /* between fields: ',' (also when 0), ';', '\t', ' ', '|', ... */
    bool header;      /* the first line holds column names (they are skipped) */
    int label_column; /* the column of class labels, counted from 0; or NN_CSV_NO_LABELS
                         (every column goes into X); or NN_CSV_LAST_COLUMN */
} nn_csv_options;

#define NN_CSV_NO_LABELS (-1)
#define NN_CSV_LAST_COLUMN (-2)
#define NN_CSV_DEFAULTS {.separator = ',', .header = false, .label_column = NN_CSV_NO_LABELS}

/* Load a CSV file into *ds: X (N, F) floats, one row per line, and, with a label column,
 * its N labels in ds->labels (ds->num_classes = 1 + the largest); F is the number of
 * columns, less the label column. opt NULL = NN_CSV_DEFAULTS. The file:
 *   - fields split by the separator; spaces and tabs around a field are ignored; a field
 *     may be in double quotes ("1.5"; "" inside stands for one "; a quoted field may hold
 *     the separator or a line break);
 *   - every line has as many fields as the first (or as the header);
 *   - numbers as strtod reads them, always with '.' as the decimal point whatever the
 *     locale (3, -0.5, 1e-3); finite (nan and inf are refused) and within float range;
 *   - labels: whole numbers >= 0 (3 or 3.0);
 *   - lines end in \n or \r\n; blank lines at the end are ignored (elsewhere they are an
 *     error: a missing value?); a UTF-8 byte-order mark at the start is skipped.
 * Lines may be of any length. Returns 0, or -1 with nn_last_error() naming the line and
 * column (lines and columns counted from 1) and showing the bad field, with *ds zeroed and
 * nothing allocated. A NULL path or ds, label_column < -2, or a separator that is '"', a
 * line break or could be part of a number (a letter, a digit, '.', '+', '-') is misuse. */
int nn_csv_load(const char *path, const nn_csv_options *opt, nn_dataset *ds);

#endif
