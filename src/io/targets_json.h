/* Training targets as JSON: {"columns": ["batch_idx", "cls", "cx", "cy", "w",
 * "h"], "rows": [[0, 17, 0.7, 0.6, 0.2, 0.25], ...]} (columns in any order;
 * the manifest's format). */
#ifndef CY_IO_TARGETS_JSON_H
#define CY_IO_TARGETS_JSON_H
#include "core/status.h"

/* *rows gets nrows x 6 floats in the order batch_idx, cls, cx, cy, w, h
 * (malloc'd; free()). */
cy_status cy_targets_json_read(const char *path, float **rows, int *nrows, cy_error *err);

#endif
