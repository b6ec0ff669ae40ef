/* The checkpoint of export_ultralytics.h: the module tree of the checkpoint's
 * model plus the dict around it. What Ultralytics records beside its model
 * (the yaml dict, names, train_args, train_metrics, train_results) comes
 * from the source checkpoint: as it is for an Ultralytics one, converted
 * from cyolo's plain data (YAML text, results.csv text) for a cyolo one. */
#include "engine/export_ultralytics.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "core/status.h"
#include "engine/checkpoint.h"
#include "engine/checkpoint_import.h"
#include "engine/ul_module_tree.h"
#include "io/pt.h"
#include "io/pt_module.h"

/* The Ultralytics release whose module tree and checkpoint layout this writes. */
#define UL_FORMAT_VERSION "8.4.190"

static cy_status put(cy_pt_value *d, const char *k, cy_pt_value *v, cy_status st, cy_error *err) {
    if (st != CY_OK) {
        cy_pt_value_free(v);
        return st;
    }
    st = cy_pt_dict_set_str(d, k, v, err);
    if (st != CY_OK) cy_pt_value_free(v);
    return st;
}

/* A copy of root[key] when it is there, else None. */
static cy_status copy_or_none(const cy_pt_value *root, const char *key, cy_pt_value **out, cy_error *err) {
    const cy_pt_value *v = cy_pt_dict_find(root, key);
    return v ? cy_pt_clone(out, v, err) : cy_pt_none_new(out, err);
}

static const char *str_at(const cy_pt_value *d, const char *key) {
    const cy_pt_value *v = cy_pt_dict_find(d, key);
    return v && v->kind == CY_PT_STR ? v->u.str.s : NULL;
}

static int64_t int_at(const cy_pt_value *d, const char *key, int64_t dflt) {
    const cy_pt_value *v = cy_pt_dict_find(d, key);
    return v && v->kind == CY_PT_INT ? v->u.i : dflt;
}

/* The yaml dict Ultralytics keeps on a model: yaml_model_load's (the file's
 * keys, then scale and yaml_file), channels, and nc as the trainer set it. */
static cy_status yaml_dict(const char *path, const cy_ckpt_model *c, const cy_model *m, cy_pt_value **out,
                           cy_error *err) {
    CY_TRY(cy_pt_from_yaml_text(path, c->yaml_text, out, err));
    cy_status st = cy_pt_dict_put_int(*out, "nc", m->nc, err);
    if (!c->ultralytics) { /* an Ultralytics yaml dict has these already */
        char scale[2] = {c->scale, 0}, file[80];
        snprintf(file, sizeof file, "%s.yaml", c->name); /* yolo26n.yaml, as the user names it */
        if (!st) st = cy_pt_dict_put_str(*out, "scale", scale, err);
        if (!st) st = cy_pt_dict_put_str(*out, "yaml_file", *c->name ? file : "model.yaml", err);
    }
    if (!st && !cy_pt_dict_find(*out, "channels")) st = cy_pt_dict_put_int(*out, "channels", m->channels, err);
    if (st) {
        cy_pt_value_free(*out);
        *out = NULL;
    }
    return st;
}

static cy_status names_dict(const char *path, const cy_model *m, cy_pt_value **out, cy_error *err) {
    char **names = NULL;
    cy_status st = cy_checkpoint_load_names(path, m->nc, &names, err);
    if (!st) st = cy_pt_dict_new(out, 0, err);
    for (int i = 0; !st && i < m->nc; i++) {
        cy_pt_value *s = NULL;
        st = cy_pt_str_new(&s, names[i], err);
        if (!st && (st = cy_pt_dict_set_intkey(*out, i, s, err)) != CY_OK) cy_pt_value_free(s);
    }
    for (int i = 0; names && i < m->nc; i++) free(names[i]);
    free(names);
    if (st) {
        cy_pt_value_free(*out);
        *out = NULL;
    }
    return st;
}

/* ---- results.csv text -> train_results {column: [values]} and the
 * train_metrics of one epoch's row ---- */

/* Splits a CSV line in place on commas (results.csv has no quoting). */
static int split(char *line, char **cells, int cap) {
    int n = 0;
    for (char *p = line; n < cap;) {
        cells[n++] = p;
        char *c = strchr(p, ',');
        if (!c) break;
        *c = 0;
        p = c + 1;
    }
    return n;
}

static int is_int_text(const char *s) {
    if (*s == '-' || *s == '+') s++;
    if (!*s) return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

enum { MAX_COLS = 64, MAX_ROWS = 100000 };

static cy_status results_from_csv(const char *csv, int64_t epoch, cy_pt_value **results, cy_pt_value **metrics,
                                  cy_error *err) {
    *results = *metrics = NULL;
    CY_TRY(cy_pt_dict_new(results, 0, err));
    cy_status st = cy_pt_dict_new(metrics, 0, err);
    char *text = strdup(csv);
    char **lines = NULL;
    int nlines = 0;
    if (!st && !text) st = cy_fail(err, CY_ERR_MEMORY, "out of memory");
    for (char *p = text; !st && p && *p && nlines < MAX_ROWS + 1;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        size_t len = strlen(p);
        if (len && p[len - 1] == '\r') p[len - 1] = 0;
        char **l = realloc(lines, sizeof *l * (size_t)(nlines + 1));
        if (!l) st = cy_fail(err, CY_ERR_MEMORY, "out of memory");
        else if (*p) (lines = l)[nlines++] = p;
        else lines = l;
        p = nl ? nl + 1 : NULL;
    }
    char *head[MAX_COLS], *row[MAX_COLS];
    int ncol = !st && nlines ? split(lines[0], head, MAX_COLS) : 0;
    char ***rows = calloc((size_t)(nlines ? nlines : 1), sizeof *rows);
    if (!st && !rows) st = cy_fail(err, CY_ERR_MEMORY, "out of memory");
    for (int r = 1; !st && r < nlines; r++) {
        if (!(rows[r] = calloc(MAX_COLS, sizeof **rows))) st = cy_fail(err, CY_ERR_MEMORY, "out of memory");
        else if (split(lines[r], rows[r], MAX_COLS) != ncol) { /* a torn row: leave it out */
            free(rows[r]);
            rows[r] = NULL;
        }
    }
    for (int c = 0; !st && c < ncol; c++) {
        int ints = 1;
        for (int r = 1; r < nlines; r++)
            if (rows[r]) ints &= is_int_text(rows[r][c]);
        cy_pt_value *col = NULL;
        st = cy_pt_list_new(&col, err);
        for (int r = 1; !st && r < nlines; r++) {
            if (!rows[r]) continue;
            cy_pt_value *v = NULL;
            st = ints ? cy_pt_int_new(&v, strtoll(rows[r][c], NULL, 10), err)
                      : cy_pt_float_new(&v, strtod(rows[r][c], NULL), err);
            if (!st && (st = cy_pt_append(col, v, err)) != CY_OK) cy_pt_value_free(v);
        }
        st = put(*results, head[c], col, st, err);
    }
    /* the saved epoch's row: its metrics/ and val/ columns and fitness */
    int found = -1;
    for (int r = 1; !st && r < nlines; r++)
        if (rows[r] && ncol && !strcmp(head[0], "epoch") && strtoll(rows[r][0], NULL, 10) == epoch + 1) found = r;
    double fitness = 0;
    for (int c = 0; !st && found > 0 && c < ncol; c++) {
        memcpy(row, rows[found], sizeof row);
        if (strncmp(head[c], "metrics/", 8) && strncmp(head[c], "val/", 4)) continue;
        double x = strtod(row[c], NULL);
        if (!strcmp(head[c], "metrics/mAP50-95(B)") || !strcmp(head[c], "metrics/mAP50-95(M)")) fitness += x;
        st = cy_pt_dict_put_float(*metrics, head[c], x, err);
    }
    if (!st && found > 0) st = cy_pt_dict_put_float(*metrics, "fitness", fitness, err);
    for (int r = 1; rows && r < nlines; r++) free(rows[r]);
    free(rows);
    free(lines);
    free(text);
    if (st) {
        cy_pt_value_free(*results);
        cy_pt_value_free(*metrics);
        *results = *metrics = NULL;
    }
    return st;
}

/* train_metrics and train_results: an Ultralytics source's as they are,
 * a cyolo source's from its results.csv text. */
static cy_status results(const cy_ckpt_model *c, cy_pt_value **res, cy_pt_value **met, cy_error *err) {
    const char *csv = c->ultralytics ? NULL : str_at(c->root, "train_results");
    if (csv) return results_from_csv(csv, int_at(c->root, "epoch", -1), res, met, err);
    cy_status st = copy_or_none(c->root, "train_results", res, err);
    if (!st) st = copy_or_none(c->root, "train_metrics", met, err);
    if (st) {
        cy_pt_value_free(*res);
        *res = NULL;
    }
    return st;
}

static cy_status same_file(const char *a, const char *b, cy_error *err) {
    struct stat sa, sb;
    if (!strcmp(a, b) || (!stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino))
        return cy_fail(err, CY_ERR_ARG, "%s: the output would replace the checkpoint it is made from", b);
    return CY_OK;
}

cy_status cy_export_ultralytics_pt(const char *checkpoint, const char *out_path, cy_error *err) {
    if (!checkpoint || !*checkpoint || !out_path || !*out_path)
        return cy_fail(err, CY_ERR_ARG, "export format=ultralytics: no checkpoint or output path given");
    CY_TRY(same_file(checkpoint, out_path, err));
    cy_model_params p = cy_model_default_params();
    p.threads = 1;
    cy_model *m = NULL;
    CY_TRY(cy_checkpoint_load_model(checkpoint, &p, 1, &m, err));
    cy_ckpt_model c;
    cy_status st = cy_ckpt_model_open(checkpoint, 1, &c, err);
    if (st) {
        cy_model_free(m);
        return st;
    }
    cy_pt_value *ck = NULL, *tree = NULL, *v = NULL, *res = NULL, *met = NULL;
    cy_ul_tree_meta meta = {0};
    const cy_pt_value *ta = cy_pt_dict_find(c.root, "train_args");
    if (ta && ta->kind != CY_PT_DICT) ta = NULL;
    meta.imgsz = (int)int_at(ta, "imgsz", 640);
    meta.max_det = (int)int_at(ta, "max_det", 300);
    if (meta.imgsz < 32 || meta.imgsz > 8192) meta.imgsz = 640;
    if (meta.max_det < 1) meta.max_det = 300;
    st = yaml_dict(checkpoint, &c, m, &meta.yaml, err);
    if (!st) st = names_dict(checkpoint, m, &meta.names, err);
    if (!st) st = ta ? cy_pt_clone(&meta.args, ta, err) : cy_pt_dict_new(&meta.args, 0, err);
    /* the model's own task: runs from before the segment trainer recorded it say "detect" */
    if (!st) st = cy_pt_dict_put_str(meta.args, "task", cy_task_name(m->task), err);
    if (!st) st = cy_ul_module_tree(m, &meta, &tree, err);
    if (!st) st = results(&c, &res, &met, err);

    /* strip_optimizer's metadata first, then save_model's keys */
    char date[40];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
    if (!st) st = cy_pt_dict_new(&ck, 0, err);
    if (!st) st = cy_pt_dict_put_str(ck, "date", date, err);
    if (!st) st = cy_pt_dict_put_str(ck, "version", UL_FORMAT_VERSION, err);
    if (!st) st = cy_pt_dict_put_str(ck, "license", "AGPL-3.0 License (https://ultralytics.com/license)", err);
    if (!st) st = cy_pt_dict_put_str(ck, "docs", "https://docs.ultralytics.com", err);
    if (!st) st = copy_or_none(c.root, "epoch", &v, err);
    st = put(ck, "epoch", v, st, err);
    v = NULL;
    if (!st) st = copy_or_none(c.root, "best_fitness", &v, err);
    st = put(ck, "best_fitness", v, st, err);
    v = NULL;
    if (!st) st = cy_pt_dict_put_none(ck, "model", err); /* resume and final checkpoints derive from the EMA */
    st = put(ck, "ema", tree, st, err);
    tree = NULL;
    if (!st) st = copy_or_none(c.root, "updates", &v, err);
    st = put(ck, "updates", v, st, err);
    v = NULL;
    if (!st) st = cy_pt_dict_put_none(ck, "optimizer", err);
    if (!st) st = ta ? cy_pt_clone(&v, ta, err) : cy_pt_dict_new(&v, 0, err);
    if (!st) st = cy_pt_dict_put_str(v, "task", cy_task_name(m->task), err);
    st = put(ck, "train_args", v, st, err);
    v = NULL;
    st = put(ck, "train_metrics", met, st, err);
    met = NULL;
    st = put(ck, "train_results", res, st, err);
    res = NULL;
    if (!st) st = cy_pt_dict_put_str(ck, "exported_by", "cyolo " CYOLO_VERSION_STRING, err);
    if (!st) st = cy_pt_write(out_path, ck, err);

    cy_pt_value_free(ck);
    cy_pt_value_free(tree);
    cy_pt_value_free(res);
    cy_pt_value_free(met);
    cy_pt_value_free(meta.yaml);
    cy_pt_value_free(meta.names);
    cy_pt_value_free(meta.args);
    cy_ckpt_model_close(&c);
    cy_model_free(m);
    return st;
}
