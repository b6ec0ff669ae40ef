#include "io/targets_json.h"
#include "io/text_file.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *COLUMNS[6] = {"batch_idx", "cls", "cx", "cy", "w", "h"};

cy_status cy_targets_json_read(const char *path, float **rows_out, int *nrows_out, cy_error *err) {
    *rows_out = NULL;
    *nrows_out = 0;
    char *text = NULL;
    size_t len;
    int e = cy_read_text_file(path, (size_t)64 << 20, &text, &len);
    if (e == ENOMEM) return cy_fail(err, CY_ERR_MEMORY, "out of memory reading %s", path);
    if (e == EFBIG || e == EIO) return cy_fail(err, CY_ERR_IO, "%s: cannot read (or larger than 64 MiB)", path);
    if (e) return cy_fail(err, CY_ERR_IO, "%s: cannot open: %s", path, strerror(e));
    cJSON *root = cJSON_Parse(text);
    free(text);
    cy_status st = CY_OK;
    float *rows = NULL;
    if (!root) {
        st = cy_fail(err, CY_ERR_FORMAT, "%s: invalid JSON", path);
        goto done;
    }
    cJSON *cols = cJSON_GetObjectItem(root, "columns"), *rs = cJSON_GetObjectItem(root, "rows");
    if (!cJSON_IsArray(cols) || !cJSON_IsArray(rs)) {
        st = cy_fail(err, CY_ERR_FORMAT, "%s: expected {\"columns\": [...], \"rows\": [[...], ...]}", path);
        goto done;
    }
    int ncol = cJSON_GetArraySize(cols), where[6];
    for (int k = 0; k < 6; k++) {
        where[k] = -1;
        for (int j = 0; j < ncol; j++) {
            cJSON *c = cJSON_GetArrayItem(cols, j);
            if (cJSON_IsString(c) && !strcmp(c->valuestring, COLUMNS[k])) where[k] = j;
        }
        if (where[k] < 0) {
            st = cy_fail(err, CY_ERR_FORMAT, "%s: column \"%s\" is missing", path, COLUMNS[k]);
            goto done;
        }
    }
    int n = cJSON_GetArraySize(rs);
    rows = malloc((size_t)(n ? n : 1) * 6 * sizeof *rows);
    if (!rows) {
        st = cy_fail(err, CY_ERR_MEMORY, "out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        cJSON *r = cJSON_GetArrayItem(rs, i);
        if (!cJSON_IsArray(r) || cJSON_GetArraySize(r) != ncol) {
            st = cy_fail(err, CY_ERR_FORMAT, "%s: row %d must be a list of %d numbers", path, i, ncol);
            goto done;
        }
        for (int k = 0; k < 6; k++) {
            cJSON *v = cJSON_GetArrayItem(r, where[k]);
            if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
                st = cy_fail(err, CY_ERR_FORMAT, "%s: row %d, column %s is not a finite number", path, i,
                             COLUMNS[k]);
                goto done;
            }
            rows[i * 6 + k] = (float)v->valuedouble;
        }
    }
    *rows_out = rows;
    *nrows_out = n;
    rows = NULL;
done:
    free(rows);
    cJSON_Delete(root);
    return st;
}
