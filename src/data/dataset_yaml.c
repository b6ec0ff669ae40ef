/* The dataset YAML, read as check_det_dataset does (nothing downloaded). */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "data/dataset_internal.h"
#include "io/yaml.h"

static const char *const SPLIT_KEYS[CY_SPLIT_COUNT] = {"train", "val", "test"};

int cy_split_index(const char *name) {
    for (int i = 0; i < CY_SPLIT_COUNT; i++)
        if (name && !strcmp(name, SPLIT_KEYS[i])) return i;
    return -1;
}

void cy_dataset_free(cy_dataset *ds) {
    if (!ds) return;
    free(ds->yaml_path);
    free(ds->root);
    for (int i = 0; i < CY_SPLIT_COUNT; i++) cy_strlist_free(&ds->split[i]);
    if (ds->names)
        for (int i = 0; i < ds->nc; i++) free(ds->names[i]);
    free(ds->names);
    cy_strlist_free(&ds->notes);
    free(ds);
}

/* str(v) of what PyYAML would have made of the scalar. */
static char *scalar_text(const cy_yaml *y) {
    if (!y->quoted) {
        int b;
        if (!cy_yaml_bool(y, &b)) return strdup(b ? "True" : "False");
        if (cy_yaml_is_null(y)) return strdup("None");
    }
    return strdup(y->str);
}

static cy_status load_names(cy_dataset *ds, const char *file, const cy_yaml *names,
                            cy_error *err) {
    int n = names->n;
    if (names->kind == CY_YAML_SCALAR)
        return cy_fail(err, CY_ERR_FORMAT,
                       "%s:%d: 'names' must be a list or a mapping {index: name}, got '%s'",
                       file, names->line, names->str);
    if (n == 0) return cy_fail(err, CY_ERR_FORMAT, "%s:%d: 'names' is empty", file, names->line);
    ds->names = calloc((size_t)n, sizeof *ds->names);
    if (!ds->names) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    ds->nc = n;
    long lo = 0, hi = n - 1;
    if (names->kind == CY_YAML_MAP) {
        long *keys = malloc((size_t)n * sizeof *keys);
        if (!keys) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
        for (int i = 0; i < n; i++) {
            char *end;
            errno = 0;
            keys[i] = strtol(names->keys[i], &end, 10);
            if (end == names->keys[i] || *end || errno) {
                int line = names->items[i]->line;
                free(keys);
                return cy_fail(err, CY_ERR_FORMAT,
                               "%s:%d: 'names' key '%s' is not a class index (an integer)", file,
                               line, names->keys[i]);
            }
            for (int j = 0; j < i; j++)
                if (keys[j] == keys[i]) {
                    int line = names->items[i]->line;
                    long twice = keys[j];
                    free(keys);
                    return cy_fail(err, CY_ERR_FORMAT, "%s:%d: 'names' has class index %ld twice",
                                   file, line, twice);
                }
            if (i == 0 || keys[i] < lo) lo = keys[i];
            if (i == 0 || keys[i] > hi) hi = keys[i];
        }
        if (lo < 0 || hi >= n) {
            free(keys);
            return cy_fail(err, CY_ERR_FORMAT,
                           "%s:%d: %d-class dataset requires class indices 0-%d, but you have "
                           "invalid class indices %ld-%ld defined in your dataset YAML",
                           file, names->line, n, n - 1, lo, hi);
        }
        for (int i = 0; i < n; i++) {
            const cy_yaml *v = names->items[i];
            if (v->kind != CY_YAML_SCALAR) {
                long k = keys[i];
                free(keys);
                return cy_fail(err, CY_ERR_FORMAT, "%s:%d: class %ld: the name must be a string",
                               file, v->line, k);
            }
            if (!(ds->names[keys[i]] = scalar_text(v))) {
                free(keys);
                return cy_fail(err, CY_ERR_MEMORY, "out of memory");
            }
        }
        free(keys);
    } else {
        for (int i = 0; i < n; i++) {
            const cy_yaml *v = names->items[i];
            if (v->kind != CY_YAML_SCALAR)
                return cy_fail(err, CY_ERR_FORMAT, "%s:%d: class %d: the name must be a string",
                               file, v->line, i);
            if (!(ds->names[i] = scalar_text(v))) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
        }
    }
    return CY_OK;
}

/* The dataset root: `path` relative to the current folder when it exists
 * there, else to datasets_dir (Ultralytics' DATASETS_DIR), else (cyolo) to
 * the YAML's folder; no `path`: the YAML's folder. */
static cy_status resolve_root(cy_dataset *ds, const char *file, const cy_yaml *path,
                              const char *datasets_dir, cy_error *err) {
    char *ydir = cy_path_dirname(file);
    if (!ydir) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    char *root = NULL;
    if (!path || cy_yaml_is_null(path) || (path->kind == CY_YAML_SCALAR && !path->str[0])) {
        root = strdup(ydir);
    } else if (path->kind != CY_YAML_SCALAR) {
        free(ydir);
        return cy_fail(err, CY_ERR_FORMAT, "%s:%d: 'path' must be a folder name", file, path->line);
    } else if (path->str[0] == '/' || cy_path_exists(path->str)) {
        root = strdup(path->str);
    } else {
        char *in_ds = datasets_dir ? cy_path_join(datasets_dir, path->str) : NULL;
        char *in_yaml = cy_path_join(ydir, path->str);
        if (in_ds && cy_path_exists(in_ds)) {
            root = in_ds;
            in_ds = NULL;
        } else if (in_yaml && cy_path_exists(in_yaml)) {
            root = in_yaml;
            in_yaml = NULL;
        } else if (in_ds) {
            root = in_ds;
            in_ds = NULL;
        } else {
            root = in_yaml;
            in_yaml = NULL;
        }
        free(in_ds);
        free(in_yaml);
    }
    free(ydir);
    if (!root) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    ds->root = cy_path_resolve(root);
    free(root);
    return ds->root ? CY_OK : cy_fail(err, CY_ERR_MEMORY, "out of memory");
}

static cy_status resolve_entry(const char *root, const char *entry, int retry_dotdot,
                               cy_strlist *out, cy_error *err) {
    char *j = cy_path_join(root, entry);
    char *x = j ? cy_path_resolve(j) : NULL;
    free(j);
    if (!x) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    if (retry_dotdot && !cy_path_exists(x) && !strncmp(entry, "../", 3)) {
        char *j2 = cy_path_join(root, entry + 3);
        char *x2 = j2 ? cy_path_resolve(j2) : NULL;
        free(j2);
        if (!x2) {
            free(x);
            return cy_fail(err, CY_ERR_MEMORY, "out of memory");
        }
        free(x);
        x = x2;
    }
    cy_status st = cy_strlist_push(out, x, err);
    free(x);
    return st;
}

static cy_status resolve_split(cy_dataset *ds, const char *file, const char *key,
                               const cy_yaml *v, cy_strlist *out, cy_error *err) {
    if (!v || cy_yaml_is_null(v)) return CY_OK;
    if (v->kind == CY_YAML_SCALAR) return resolve_entry(ds->root, v->str, 1, out, err);
    if (v->kind == CY_YAML_MAP)
        return cy_fail(err, CY_ERR_FORMAT,
                       "%s:%d: '%s' must be a folder, a .txt list of images, or a list of those",
                       file, v->line, key);
    for (int i = 0; i < v->n; i++) {
        const cy_yaml *e = v->items[i];
        if (e->kind != CY_YAML_SCALAR || cy_yaml_is_null(e))
            return cy_fail(err, CY_ERR_FORMAT, "%s:%d: '%s' item %d must be a path", file,
                           e->line, key, i + 1);
        CY_TRY(resolve_entry(ds->root, e->str, 0, out, err));
    }
    return CY_OK;
}

static cy_status load(cy_dataset *ds, const char *file, const cy_yaml *y,
                      const cy_dataset_params *params, cy_error *err) {
    if (y->kind != CY_YAML_MAP)
        return cy_fail(err, CY_ERR_FORMAT,
                       "%s: not a mapping: a dataset YAML has path, train, val and names keys",
                       file);
    const cy_yaml *split[CY_SPLIT_COUNT];
    for (int i = 0; i < CY_SPLIT_COUNT; i++) split[i] = cy_yaml_get(y, SPLIT_KEYS[i]);
    if (!split[CY_SPLIT_VAL] && (split[CY_SPLIT_VAL] = cy_yaml_get(y, "validation")))
        CY_TRY(cy_strlist_pushf(&ds->notes, err,
                                "%s: renaming data YAML 'validation' key to 'val' to match YOLO format",
                                file));
    for (int i = 0; i < 2; i++)
        if (!cy_yaml_get(y, SPLIT_KEYS[i]) && !(i == CY_SPLIT_VAL && split[i]))
            return cy_fail(err, CY_ERR_FORMAT,
                           "%s: '%s:' key missing: 'train' and 'val' are required in all data YAMLs",
                           file, SPLIT_KEYS[i]);

    const cy_yaml *names = cy_yaml_get(y, "names"), *ncy = cy_yaml_get(y, "nc");
    if (names && cy_yaml_is_null(names)) names = NULL;
    if (ncy && cy_yaml_is_null(ncy)) ncy = NULL;
    if (!names && !ncy)
        return cy_fail(err, CY_ERR_FORMAT,
                       "%s: key missing: either 'names' or 'nc' is required in all data YAMLs", file);
    long nc = 0;
    if (ncy && (cy_yaml_int(ncy, &nc) || nc < 1 || nc > 1000000))
        return cy_fail(err, CY_ERR_FORMAT, "%s:%d: 'nc' must be a positive integer, got '%s'", file,
                       ncy->line, ncy->kind == CY_YAML_SCALAR ? ncy->str : "(not a number)");
    if (names) {
        CY_TRY(load_names(ds, file, names, err));
        if (ncy && nc != ds->nc)
            return cy_fail(err, CY_ERR_FORMAT, "%s:%d: 'names' length %d and 'nc: %ld' must match",
                           file, ncy->line, ds->nc, nc);
    } else {
        ds->names = calloc((size_t)nc, sizeof *ds->names);
        if (!ds->names) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
        ds->nc = (int)nc;
        for (int i = 0; i < ds->nc; i++)
            if (asprintf(&ds->names[i], "class_%d", i) < 0) {
                ds->names[i] = NULL;
                return cy_fail(err, CY_ERR_MEMORY, "out of memory");
            }
    }

    ds->channels = 3;
    const cy_yaml *ch = cy_yaml_get(y, "channels");
    if (ch && !cy_yaml_is_null(ch)) {
        long c;
        if (cy_yaml_int(ch, &c) || c < 1 || c > 4)
            return cy_fail(err, CY_ERR_FORMAT, "%s:%d: 'channels' must be an integer from 1 to 4 (1: gray, 3: RGB), got '%s'", file,
                           ch->line, ch->kind == CY_YAML_SCALAR ? ch->str : "(not a number)");
        ds->channels = (int)c;
    }

    CY_TRY(resolve_root(ds, file, cy_yaml_get(y, "path"), params ? params->datasets_dir : NULL, err));
    for (int i = 0; i < CY_SPLIT_COUNT; i++)
        CY_TRY(resolve_split(ds, file, SPLIT_KEYS[i], split[i], &ds->split[i], err));

    const cy_yaml *dl = cy_yaml_get(y, "download");
    int has_dl = dl && !cy_yaml_is_null(dl);
    if (has_dl)
        CY_TRY(cy_strlist_pushf(&ds->notes, err,
                                "%s: 'download' ignored: cyolo fetches nothing, the images must be on disk",
                                file));
    /* Only val is checked here, as Ultralytics does; train and test fail
     * when they are scanned. */
    const cy_strlist *val = &ds->split[CY_SPLIT_VAL];
    for (int i = 0; i < val->n; i++)
        if (!cy_path_exists(val->v[i]))
            return cy_fail(err, CY_ERR_IO, "%s: val: %s does not exist (dataset images not found%s)",
                           file, val->v[i],
                           has_dl ? "; cyolo does not run the YAML's 'download', fetch the data yourself"
                                  : "");
    return CY_OK;
}

cy_status cy_dataset_load(cy_dataset **out, const char *yaml_path, const cy_dataset_params *params,
                          cy_error *err) {
    *out = NULL;
    cy_yaml *y;
    CY_TRY(cy_yaml_load(yaml_path, &y, err));
    cy_dataset *ds = calloc(1, sizeof *ds);
    if (!ds || !(ds->yaml_path = strdup(yaml_path))) {
        free(ds);
        cy_yaml_free(y);
        return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    }
    cy_status st = load(ds, yaml_path, y, params, err);
    cy_yaml_free(y);
    if (st != CY_OK) {
        cy_dataset_free(ds);
        return st;
    }
    *out = ds;
    return CY_OK;
}
