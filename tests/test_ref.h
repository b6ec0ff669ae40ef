/* Access to the shared reference tensors and the repo's own fixtures. */
#ifndef CY_TEST_REF_H
#define CY_TEST_REF_H
#include <stdio.h>
#include <stdlib.h>
#include "core/formula.h"
#include "cyolo.h"
#include "io/npy.h"
#include "test_util.h"

static inline const char *ref_dir(void) {
    const char *d = getenv("CYOLO_REF_DIR");
    return d ? d : "../shared/reference";
}

/* Loads <ref_dir>/<name> (or a repo path when name starts with "tests/"). */
static inline int ref_load(const char *name, cy_npy *out) {
    char path[1024];
    if (name[0] == 't' && name[1] == 'e') snprintf(path, sizeof path, "%s", name);
    else snprintf(path, sizeof path, "%s/%s", ref_dir(), name);
    cy_error err = {0};
    if (cy_npy_read(path, out, &err) != CY_OK) {
        fprintf(stderr, "cannot load reference %s: %s\n", path, err.msg);
        return -1;
    }
    return 0;
}

/* A whole text file, NUL-terminated (NULL if unreadable); caller frees. */
static inline char *test_slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc(n + 1) : NULL;
    if (s && fread(s, 1, n, f) == (size_t)n) s[n] = 0;
    else { free(s); s = NULL; }
    fclose(f);
    return s;
}

/* A model with the manifest's formula weights on the given backend; NULL
 * after a failed CHECK naming the YAML when it cannot be built. */
static inline cy_model *formula_model(const char *yaml, cy_backend_kind backend) {
    cy_model_params p = cy_model_default_params();
    p.init = CY_INIT_FORMULA;
    p.backend = backend;
    cy_model *m = NULL;
    cy_error err = {0};
    if (cy_model_create(&m, yaml, &p, &err) != CY_OK) {
        CHECK(0, "create %s: %s", yaml, err.msg);
        return NULL;
    }
    return m;
}

static inline float *formula_input(int n, int h, int w) {
    size_t numel = (size_t)n * 3 * h * w;
    float *x = malloc(numel * sizeof *x);
    cy_formula_fill(x, numel, "input", CY_FORMULA_INPUT, 0);
    return x;
}

/* Compares an array with a reference tensor elementwise:
 * max|c - ref| <= tol * max(1, max|ref|). */
static inline void check_close(const char *what, const cy_array *a, const char *ref_name, double tol) {
    cy_npy r;
    if (ref_load(ref_name, &r)) {
        CHECK(0, "%s: reference %s missing", what, ref_name);
        return;
    }
    int same = r.ndim == a->ndim;
    for (int i = 0; same && i < r.ndim; i++) same = r.shape[i] == a->shape[i];
    CHECK(same, "%s: shape differs from %s", what, ref_name);
    if (same) {
        double e = test_max_rel(a->data, r.data, (size_t)r.numel);
        CHECK(e <= tol, "%s: max rel err %.3e > %.1e", what, e, tol);
    }
    cy_npy_free(&r);
}

/* The final top-k output compared as a set of rows: each reference row must
 * be matched by a distinct row with the same class and box/score within tol
 * (scaled by max(1, max|ref|)), and any columns after the class (mask
 * coefficients) too; row order is free (exact float ties). */
static inline void check_rows_as_set(const char *what, const cy_array *a, const char *ref_name, double tol) {
    cy_npy r;
    if (ref_load(ref_name, &r)) {
        CHECK(0, "%s: reference %s missing", what, ref_name);
        return;
    }
    int same = r.ndim == 3 && a->ndim == 3 && r.shape[0] == a->shape[0] && r.shape[1] == a->shape[1] &&
               r.shape[2] >= 6 && a->shape[2] == r.shape[2];
    CHECK(same, "%s: shape differs from %s", what, ref_name);
    if (!same) {
        cy_npy_free(&r);
        return;
    }
    int64_t B = r.shape[0], K = r.shape[1], W = r.shape[2];
    double scale = 1;
    for (int64_t i = 0; i < r.numel; i++) scale = fmax(scale, fabs(r.data[i]));
    double lim = tol * scale;
    char *used = calloc(K, 1);
    int unmatched = 0;
    for (int64_t b = 0; b < B; b++) {
        memset(used, 0, K);
        for (int64_t i = 0; i < K; i++) {
            const float *rr = r.data + (b * K + i) * W;
            int found = 0;
            for (int64_t j = 0; j < K && !found; j++) {
                const float *cr = a->data + (b * K + j) * W;
                if (used[j] || cr[5] != rr[5]) continue;
                int ok = 1;
                for (int q = 0; q < W; q++) ok &= q == 5 || fabs((double)cr[q] - rr[q]) <= lim;
                if (ok) used[j] = found = 1;
            }
            unmatched += !found;
        }
    }
    CHECK(unmatched == 0, "%s: %d reference rows have no match", what, unmatched);
    free(used);
    cy_npy_free(&r);
}
#endif
