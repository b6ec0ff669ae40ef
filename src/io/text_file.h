/* A text file read whole: label files, image lists, the label cache, model
 * YAML copies, results.csv, JSON targets. */
#ifndef CY_IO_TEXT_FILE_H
#define CY_IO_TEXT_FILE_H
#include <stddef.h>

/* Reads a whole file (at most max bytes; pipes too) into a NUL-terminated
 * buffer (malloc'd; free()). Returns 0, or an errno value (EFBIG when
 * larger than max). */
int cy_read_text_file(const char *path, size_t max, char **out, size_t *len);

#endif
