/* One split checked as YOLODataset.get_labels does: list the images, take
 * `fraction` of them, reuse the label cache when its key matches, else
 * verify every image and label (in parallel) and write the cache. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "data/dataset_internal.h"

cy_scan_params cy_scan_default_params(void) {
    return (cy_scan_params){.fraction = 1.0, .single_cls = 0, .cache = 1, .threads = 0, .prefix = ""};
}

void cy_split_free(cy_split *s) {
    if (!s) return;
    for (int i = 0; i < s->n; i++) {
        free(s->rec[i].im_file);
        free(s->rec[i].labels);
        cy_polygons_free(&s->rec[i].seg);
    }
    free(s->rec);
    free(s->cache_path);
    cy_strlist_free(&s->warnings);
    free(s);
}

void cy_split_summary(const cy_split *s, char *buf, size_t len) {
    snprintf(buf, len, "Scanning %s... %d images, %d backgrounds, %d corrupt", s->cache_path,
             s->found, s->missing + s->empty, s->corrupt);
}

static cy_status verify_all(cy_split *s, const cy_strlist *im, const cy_strlist *lb, int nc,
                            const cy_scan_params *p, cy_error *err) {
    int n = im->n;
    cy_label_check *res = calloc((size_t)n, sizeof *res);
    cy_status *sts = calloc((size_t)n, sizeof *sts);
    if (!res || !sts) {
        free(res);
        free(sts);
        return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    }
    int threads = p->threads > 0 ? p->threads : omp_get_max_threads();
    if (threads > n) threads = n;
    if (threads < 1) threads = 1;
    int failed = -1;
    const cy_label_rules rules = {.nc = nc, .single_cls = p->single_cls, .segments = p->segments};
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
    for (int i = 0; i < n; i++) {
        cy_error e = {0};
        sts[i] = cy_verify_image_label(im->v[i], lb->v[i], &rules, p->prefix, &res[i], &e);
        if (sts[i] != CY_OK) {
#pragma omp critical(cy_dataset_fail)
            if (failed < 0 || i < failed) {
                failed = i;
                if (err) *err = e;
            }
        }
    }
    cy_status st = failed >= 0 ? sts[failed] : CY_OK;
    if (st == CY_OK) {
        s->rec = calloc((size_t)(n ? n : 1), sizeof *s->rec);
        if (!s->rec) st = cy_fail(err, CY_ERR_MEMORY, "out of memory");
    }
    for (int i = 0; i < n && st == CY_OK; i++) {
        cy_label_check *c = &res[i];
        s->found += c->label_found;
        s->missing += c->state == CY_LABEL_MISSING;
        s->empty += c->state == CY_LABEL_EMPTY;
        s->corrupt += c->state == CY_LABEL_CORRUPT;
        if (c->msg) st = cy_strlist_push(&s->warnings, c->msg, err);
        if (st == CY_OK && c->state != CY_LABEL_CORRUPT) {
            cy_det_record *r = &s->rec[s->n];
            if (!(r->im_file = strdup(im->v[i]))) {
                st = cy_fail(err, CY_ERR_MEMORY, "out of memory");
                break;
            }
            r->h = c->h;
            r->w = c->w;
            r->n = c->n;
            r->labels = c->labels;
            c->labels = NULL;
            r->seg = c->seg;
            memset(&c->seg, 0, sizeof c->seg);
            s->n++;
        }
    }
    for (int i = 0; i < n; i++) cy_label_check_clear(&res[i]);
    free(res);
    free(sts);
    s->scanned = n;
    return st;
}

/* YOLODataset.verify_labels: a segment split needs a polygon for every
 * box; a detection split that mixes box files and polygon files uses the
 * boxes only and drops every polygon. */
static cy_status check_box_polygon_counts(cy_split *s, const cy_scan_params *p, cy_error *err) {
    if (s->polygons == s->instances) return CY_OK;
    if (p->segments) {
        const cy_det_record *r = NULL;
        for (int i = 0; i < s->n && !r; i++)
            if (s->rec[i].n && !s->rec[i].seg.n) r = &s->rec[i];
        char *lf = r ? cy_img2label_path(r->im_file) : NULL;
        cy_status st = cy_fail(err, CY_ERR_FORMAT,
                               "%sSegment dataset requires equal numbers of boxes and segments, but got "
                               "len(segments) = %lld, len(boxes) = %lld. Please supply a segment dataset, "
                               "not a detect dataset (%s: %d box rows and no polygons)",
                               p->prefix, s->polygons, s->instances, lf ? lf : "?", r ? r->n : 0);
        free(lf);
        return st;
    }
    for (int i = 0; i < s->n; i++) cy_polygons_free(&s->rec[i].seg);
    CY_TRY(cy_strlist_pushf(&s->warnings, err,
                            "%sBox and segment counts should be equal, but got len(segments) = %lld, "
                            "len(boxes) = %lld. To resolve this only boxes will be used and all segments "
                            "will be removed. To avoid this please supply either a detect or segment "
                            "dataset, not a detect-segment mixed dataset.",
                            p->prefix, s->polygons, s->instances));
    s->polygons = 0;
    return CY_OK;
}

cy_status cy_split_scan_paths(cy_split **out, const char *const *paths, int npaths, int nc,
                              const cy_scan_params *params, cy_error *err) {
    *out = NULL;
    cy_scan_params p = params ? *params : cy_scan_default_params();
    if (!p.prefix) p.prefix = "";
    if (!(p.fraction > 0))
        return cy_fail(err, CY_ERR_ARG, "%sfraction=%g: must be in (0, 1]", p.prefix, p.fraction);
    if (nc < 1) return cy_fail(err, CY_ERR_ARG, "%snc=%d: a dataset needs at least one class", p.prefix, nc);

    cy_strlist im = {0}, lb = {0};
    CY_TRY(cy_image_files(paths, npaths, p.prefix, &im, err));
    if (p.fraction < 1) {
        /* round(len * fraction): Python rounds half to even, as rint does. */
        int keep = (int)rint((double)im.n * p.fraction);
        for (int i = keep; i < im.n; i++) free(im.v[i]);
        im.n = keep;
    }
    cy_split *s = calloc(1, sizeof *s);
    cy_status st = s ? CY_OK : cy_fail(err, CY_ERR_MEMORY, "out of memory");
    for (int i = 0; st == CY_OK && i < im.n; i++) {
        char *l = cy_img2label_path(im.v[i]);
        st = l ? cy_strlist_push(&lb, l, err) : cy_fail(err, CY_ERR_MEMORY, "out of memory");
        free(l);
    }
    if (st == CY_OK && im.n == 0)
        st = cy_fail(err, CY_ERR_IO, "%sNo images left in %s after fraction=%g", p.prefix,
                     npaths ? paths[0] : "", p.fraction);
    if (st == CY_OK && !(s->cache_path = cy_label_cache_path(lb.v[0])))
        st = cy_fail(err, CY_ERR_MEMORY, "out of memory");
    if (st == CY_OK) {
        s->total = im.n;
        uint64_t key = cy_label_cache_key(&im, &lb, nc, p.single_cls, p.segments);
        if (p.cache && cy_label_cache_read(s->cache_path, key, s) == 0) {
            s->from_cache = 1;
        } else {
            st = verify_all(s, &im, &lb, nc, &p, err);
            if (st == CY_OK && p.cache) {
                cy_error we = {0};
                if (cy_label_cache_write(s->cache_path, key, s, &we) != CY_OK) {
                    char *dir = cy_path_dirname(s->cache_path);
                    st = cy_strlist_pushf(&s->warnings, err,
                                          "%sCache directory %s is not writeable, cache not saved (%s)",
                                          p.prefix, dir ? dir : s->cache_path, we.msg);
                    free(dir);
                }
            }
        }
    }
    cy_strlist_free(&im);
    cy_strlist_free(&lb);
    if (st == CY_OK && s->found == 0)
        st = cy_strlist_pushf(&s->warnings, err,
                              "%sNo labels found in %s. See https://docs.ultralytics.com/datasets "
                              "for dataset formatting guidance.",
                              p.prefix, s->cache_path);
    if (st == CY_OK && s->n == 0)
        st = cy_fail(err, CY_ERR_FORMAT,
                     "%sNo valid images found in %s: %d of %d images are corrupt "
                     "(images with incorrectly formatted labels are ignored)%s%s",
                     p.prefix, s->cache_path, s->corrupt, s->total,
                     s->warnings.n ? "; first: " : "", s->warnings.n ? s->warnings.v[0] : "");
    if (st == CY_OK) {
        for (int i = 0; i < s->n; i++) {
            cy_det_record *r = &s->rec[i];
            s->instances += r->n;
            s->polygons += r->seg.n;
            if (p.single_cls)
                for (int j = 0; j < r->n; j++) r->labels[5 * j] = 0;
        }
        st = check_box_polygon_counts(s, &p, err);
    }
    if (st == CY_OK) {
        if (s->instances == 0)
            st = cy_strlist_pushf(&s->warnings, err,
                                  "%sLabels are missing or empty in %s, training may not work correctly.",
                                  p.prefix, s->cache_path);
    }
    if (st != CY_OK) {
        cy_split_free(s);
        return st;
    }
    *out = s;
    return CY_OK;
}

cy_status cy_split_scan(cy_split **out, const cy_dataset *ds, const char *split,
                        const cy_scan_params *p, cy_error *err) {
    *out = NULL;
    int k = cy_split_index(split);
    if (k < 0) return cy_fail(err, CY_ERR_ARG, "split '%s': expected train, val or test", split ? split : "");
    const cy_strlist *l = &ds->split[k];
    if (l->n == 0)
        return cy_fail(err, CY_ERR_ARG, "%s: no '%s' split in this dataset", ds->yaml_path, split);
    return cy_split_scan_paths(out, (const char *const *)l->v, l->n, ds->nc, p, err);
}
