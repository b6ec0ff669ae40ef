/* Writing files so that a crash never leaves a half-written one: write a
 * temporary file in the same folder, fsync it, rename it over the target,
 * fsync the folder. */
#ifndef CY_IO_ATOMIC_H
#define CY_IO_ATOMIC_H
#include <stdio.h>
#include "core/status.h"

typedef struct {
    FILE *f;
    char tmp[4096], path[4096];
} cy_atomic_file;

/* Opens "<path>.tmp.<pid>" for writing. */
cy_status cy_atomic_open(cy_atomic_file *a, const char *path, cy_error *err);
/* Flushes, fsyncs and renames over path; on any failure the temporary file is
 * removed and path is left as it was. */
cy_status cy_atomic_commit(cy_atomic_file *a, cy_error *err);
/* Gives up: closes and removes the temporary file. */
void cy_atomic_abort(cy_atomic_file *a);

/* mkdir -p; existing folders are fine. */
cy_status cy_mkdirs(const char *path, cy_error *err);

#endif
