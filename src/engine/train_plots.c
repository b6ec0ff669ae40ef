#include "engine/train_plots.h"
#include "data/polygon_mask.h"
#include <stdio.h>
#include <stdlib.h>
#include "io/plot_images.h"
#include "io/plot_labels.h"

cy_status cy_train_plot_labels(const cy_split *split, char *const *names, int nc, const char *dir, cy_error *err) {
    int64_t n = split->instances, k = 0;
    int *cls = malloc((n > 0 ? n : 1) * sizeof *cls);
    float *xywh = malloc((n > 0 ? n : 1) * 4 * sizeof *xywh);
    if (!cls || !xywh) {
        free(cls), free(xywh);
        return cy_fail(err, CY_ERR_MEMORY, "out of memory for labels.jpg");
    }
    for (int i = 0; i < split->n; i++)
        for (int j = 0; j < split->rec[i].n && k < n; j++, k++) {
            const float *q = split->rec[i].labels + 5 * j;
            cls[k] = (int)q[0];
            for (int a = 0; a < 4; a++) xywh[4 * k + a] = q[1 + a];
        }
    char path[4200];
    snprintf(path, sizeof path, "%s/labels.jpg", dir);
    cy_status st = cy_plot_labels(cls, xywh, k, names, nc, path, err);
    free(cls), free(xywh);
    return st;
}

int cy_train_plot_iteration(int64_t ni, int nb, int epochs, int close_mosaic) {
    if (ni >= 0 && ni < 3) return 1;
    if (close_mosaic <= 0) return 0;
    int64_t base = (int64_t)(epochs - close_mosaic) * nb;
    return ni >= base && ni < base + 3;
}

cy_status cy_plot_batch_labels(const cy_batch *b, const cy_split *split, char *const *names, int nc,
                               const char *dir, const char *stem, cy_error *err) {
    cy_plot_box *boxes = malloc((b->ntargets > 0 ? b->ntargets : 1) * sizeof *boxes);
    const char **paths = malloc(b->n * sizeof *paths);
    if (!boxes || !paths) {
        free(boxes), free(paths);
        return cy_fail(err, CY_ERR_MEMORY, "out of memory for %s.jpg", stem);
    }
    for (int t = 0; t < b->ntargets; t++) {
        const float *r = b->targets + 6 * t;
        boxes[t] = (cy_plot_box){(int)r[0], (int)r[1], r[2], r[3], r[4], r[5], -1};
    }
    for (int i = 0; i < b->n; i++) paths[i] = split->rec[b->index[i]].im_file;
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.jpg", dir, stem);
    /* segment batches: their masks over the boxes, as plot_images draws them */
    cy_plot_masks pm = {.mask_h = b->mask_h, .mask_w = b->mask_w, .overlap = b->overlap, .masks = b->masks,
                        .resize = cy_mask_resize};
    cy_status st = b->masks ? cy_plot_images_masks(b->x, b->n, b->h, b->w, boxes, b->ntargets, &pm, paths, names, nc,
                                                   path, err)
                            : cy_plot_images(b->x, b->n, b->h, b->w, boxes, b->ntargets, paths, names, nc, path, err);
    free(boxes), free(paths);
    return st;
}

cy_status cy_plot_batch_preds(const cy_batch *b, const cy_split *split, const float *dets, const int *counts,
                              int stride, char *const *names, int nc, const char *dir, const char *stem,
                              cy_error *err) {
    int total = 0;
    for (int i = 0; i < b->n; i++) total += counts[i];
    cy_plot_box *boxes = malloc((total > 0 ? total : 1) * sizeof *boxes);
    const char **paths = malloc(b->n * sizeof *paths);
    if (!boxes || !paths) {
        free(boxes), free(paths);
        return cy_fail(err, CY_ERR_MEMORY, "out of memory for %s.jpg", stem);
    }
    int k = 0;
    for (int i = 0; i < b->n; i++) {
        paths[i] = split->rec[b->index[i]].im_file;
        for (int j = 0; j < counts[i]; j++) {
            const float *d = dets + ((size_t)i * stride + j) * 6;
            boxes[k++] = (cy_plot_box){i, (int)d[5], (d[0] + d[2]) / 2 / b->w, (d[1] + d[3]) / 2 / b->h,
                                       (d[2] - d[0]) / b->w, (d[3] - d[1]) / b->h, d[4]};
        }
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.jpg", dir, stem);
    cy_status st = cy_plot_images(b->x, b->n, b->h, b->w, boxes, k, paths, names, nc, path, err);
    free(boxes), free(paths);
    return st;
}
