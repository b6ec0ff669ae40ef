/* Reading shared/reference/manifest.json in tests: a case's object and case
 * 3's training targets as (batch_idx, cls, cx, cy, w, h) rows. */
#ifndef CY_TEST_MANIFEST_H
#define CY_TEST_MANIFEST_H
#include <cjson/cJSON.h>
#include "test_ref.h"

static inline cJSON *manifest_case(cJSON *root, const char *name) {
    return cJSON_GetObjectItem(cJSON_GetObjectItem(root, "cases"), name);
}

/* malloc'd rows of case3.targets.rows, *n of them */
static inline float *manifest_targets(cJSON *case3, int *n) {
    cJSON *rows = cJSON_GetObjectItem(cJSON_GetObjectItem(case3, "targets"), "rows"), *r;
    *n = cJSON_GetArraySize(rows);
    float *t = malloc((size_t)(*n > 0 ? *n : 1) * 6 * sizeof *t);
    int i = 0;
    cJSON_ArrayForEach(r, rows) {
        for (int k = 0; k < 6; k++) t[i * 6 + k] = (float)cJSON_GetArrayItem(r, k)->valuedouble;
        i++;
    }
    return t;
}

#endif
