/* Segment loader batches (cy_loader_params.segments) on a small built-in
 * segment set (cyolo synth task=segment): every batch carries masks of
 * (h / mask_ratio, w / mask_ratio); with overlap_mask each target row k of
 * an image owns the pixels of value k + 1 and they lie inside its box (the
 * rows come in mask order); without, one 0/1 mask per row, inside its box;
 * train (Mosaic, affine, flips) and val (letterbox, rect) alike; a detect
 * loader on the same split has no masks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "data/dataset.h"
#include "data/loader.h"
#include "data/synth.h"
#include "test_util.h"

/* fraction of row r's mask pixels inside its box, grown by one mask pixel
 * for the rasterisation and resize */
static double inside(const uint8_t *m, int mh, int mw, int want, const float *row) {
    const float x1 = (row[2] - row[4] / 2) * mw - 1, x2 = (row[2] + row[4] / 2) * mw + 1;
    const float y1 = (row[3] - row[5] / 2) * mh - 1, y2 = (row[3] + row[5] / 2) * mh + 1;
    long n = 0, in = 0;
    for (int y = 0; y < mh; y++)
        for (int x = 0; x < mw; x++) {
            const int v = want ? m[(size_t)y * mw + x] == want : m[(size_t)y * mw + x] != 0;
            if (!v) continue;
            n++;
            in += x >= x1 && x <= x2 && y >= y1 && y <= y2;
        }
    return n ? (double)in / n : -1;
}

static void check_loader(const cy_split *s, int augment, int overlap, const char *what) {
    cy_error err = {0};
    cy_loader *l = NULL;
    cy_loader_params p = {.imgsz = 96, .augment = augment, .hyp = cy_aug_default_hyp(), .seed = 3, .workers = 2,
                          .rect = !augment, .pad = augment ? 0.0 : 0.5, .batch = 4, .segments = 1, .mask_ratio = 4,
                          .overlap_mask = overlap};
    CHECK(cy_loader_create(&l, s, &p, &err) == CY_OK, "%s: %s", what, err.msg);
    if (!l) return;
    cy_loader_epoch(l, 0, augment);
    int nb = cy_loader_batches(l, 4), rows = 0, empty = 0, outside = 0;
    for (int b = 0; b < nb; b++) {
        cy_batch bt;
        CHECK(cy_loader_batch(l, b, 4, &bt, &err) == CY_OK, "%s batch %d: %s", what, b, err.msg);
        CHECK(bt.masks && bt.mask_h == bt.h / 4 && bt.mask_w == bt.w / 4 && bt.overlap == overlap,
              "%s batch %d: masks %p %dx%d for %dx%d", what, b, (void *)bt.masks, bt.mask_h, bt.mask_w, bt.h, bt.w);
        if (!bt.masks) break;
        const size_t plane = (size_t)bt.mask_h * bt.mask_w;
        int k = 0, prev = -1;
        for (int t = 0; t < bt.ntargets; t++) {
            const float *row = bt.targets + 6 * t;
            const int img = (int)row[0];
            k = img == prev ? k + 1 : 0;
            prev = img;
            const uint8_t *m = overlap ? bt.masks + (size_t)img * plane : bt.masks + (size_t)t * plane;
            const double f = inside(m, bt.mask_h, bt.mask_w, overlap ? k + 1 : 0, row);
            rows++;
            /* an object covered by later (smaller) ones, or tiny, may show no pixel in overlap masks */
            if (f < 0) empty++;
            else if (f < 0.95) outside++;
        }
        if (overlap) { /* no pixel names a row that does not exist */
            int bad = 0;
            for (int i = 0; i < bt.n; i++) {
                int n = 0;
                for (int t = 0; t < bt.ntargets; t++) n += (int)bt.targets[6 * t] == i;
                for (size_t q = 0; q < plane; q++) bad += bt.masks[(size_t)i * plane + q] > n;
            }
            CHECK(bad == 0, "%s batch %d: %d pixels name a missing row", what, b, bad);
        }
    }
    CHECK(rows > 20, "%s: %d target rows", what, rows);
    CHECK(outside == 0, "%s: %d of %d rows have mask pixels outside their box", what, outside, rows);
    CHECK(empty <= rows / 10, "%s: %d of %d rows without mask pixels", what, empty, rows);
    printf("%s: %d rows, %d without pixels\n", what, rows, empty);
    cy_loader_free(l);
}

int main(void) {
    char root[64] = "/tmp/cyolo_test_loader_seg_XXXXXX";
    if (!mkdtemp(root)) return 1;
    cy_error err = {0};
    cy_synth_params sp = cy_synth_default_params();
    sp.n_train = 12, sp.n_val = 8, sp.imgsz = 96, sp.segment = 1;
    CHECK(cy_synth_generate(root, &sp, &err) == CY_OK, "synth: %s", err.msg);
    char yaml[160];
    snprintf(yaml, sizeof yaml, "%s/%s", root, cy_synth_yaml_name(&sp));
    cy_dataset *ds = NULL;
    CHECK(cy_dataset_load(&ds, yaml, NULL, &err) == CY_OK, "dataset: %s", err.msg);
    cy_scan_params scp = cy_scan_default_params();
    scp.cache = 0, scp.segments = 1;
    cy_split *tr = NULL, *va = NULL;
    CHECK(ds && cy_split_scan(&tr, ds, "train", &scp, &err) == CY_OK, "train scan: %s", err.msg);
    CHECK(ds && cy_split_scan(&va, ds, "val", &scp, &err) == CY_OK, "val scan: %s", err.msg);
    if (tr && va) {
        check_loader(tr, 1, 1, "train, overlap");
        check_loader(tr, 1, 0, "train, per row");
        check_loader(va, 0, 1, "val, overlap");
        check_loader(va, 0, 0, "val, per row");
        /* a detect loader on the same split: no masks */
        cy_loader *l = NULL;
        cy_loader_params p = {.imgsz = 96, .augment = 0, .hyp = cy_aug_default_hyp(), .batch = 4};
        cy_batch bt;
        CHECK(cy_loader_create(&l, va, &p, &err) == CY_OK && cy_loader_batch(l, 0, 4, &bt, &err) == CY_OK &&
                  bt.masks == NULL && bt.mask_h == 0,
              "detect loader: no masks");
        cy_loader_free(l);
    }
    cy_split_free(tr);
    cy_split_free(va);
    cy_dataset_free(ds);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", root);
    return test_summary();
}
