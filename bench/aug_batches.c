/* cyolo's training batches written to disk, for bench/aug_compare.py (which
 * sets them beside Ultralytics' own). Not a test. Build:
 *   gcc -O2 -fopenmp -Iinclude -Isrc bench/aug_batches.c build/libcyolo.a \
 *       $(pkg-config --libs yaml-0.1 libcjson libpng libjpeg libexif libzip cairo) \
 *       -ldnnl -lopenblas -lm -o /tmp/aug_batches
 *   /tmp/aug_batches <data.yaml> <epochs> <imgsz> <batch> <out_prefix> [seed] [key=value ...]
 * Writes <out_prefix>.u8 (every image, uint8 CHW RGB, in batch order) and
 * <out_prefix>.txt (rows: image number, class, cx, cy, w, h normalised);
 * key=value sets hsv_h ... mosaic (the default hyperparameters otherwise);
 * close_mosaic=N closes mosaic for the last N epochs, as the trainer does.
 * Two loader workers, as bench/learn trains; Mosaic partners from one
 * replayed buffer, as Ultralytics on CPU. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "data/dataset.h"
#include "data/loader.h"

static int fail(const cy_error *e) {
    fprintf(stderr, "error: %s\n", e->msg);
    return 1;
}

static int set_hyp(cy_aug_hyp *h, const char *kv) {
    char k[32];
    float v;
    if (sscanf(kv, "%31[^=]=%f", k, &v) != 2) return -1;
    struct { const char *name; float *at; } keys[] = {
        {"hsv_h", &h->hsv_h}, {"hsv_s", &h->hsv_s}, {"hsv_v", &h->hsv_v}, {"degrees", &h->degrees},
        {"translate", &h->translate}, {"scale", &h->scale}, {"shear", &h->shear},
        {"perspective", &h->perspective}, {"flipud", &h->flipud}, {"fliplr", &h->fliplr},
        {"mosaic", &h->mosaic}, {"mixup", &h->mixup}, {"cutmix", &h->cutmix}};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (!strcmp(k, keys[i].name)) return *keys[i].at = v, 0;
    return -1;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s data.yaml epochs imgsz batch out_prefix [seed] [key=value ...]\n", argv[0]);
        return 2;
    }
    int epochs = atoi(argv[2]), imgsz = atoi(argv[3]), batch = atoi(argv[4]);
    cy_error err = {0};
    cy_dataset *ds = NULL;
    cy_split *split = NULL;
    cy_loader *l = NULL;
    if (cy_dataset_load(&ds, argv[1], NULL, &err) != CY_OK) return fail(&err);
    cy_scan_params sp = cy_scan_default_params();
    if (cy_split_scan(&split, ds, "train", &sp, &err) != CY_OK) return fail(&err);
    cy_loader_params lp = {.imgsz = imgsz, .augment = 1, .hyp = cy_aug_default_hyp(),
                           .seed = argc > 6 ? strtoull(argv[6], NULL, 10) : 0, .workers = 2, .batch = batch};
    int close_mosaic = 0;
    for (int a = 7; a < argc; a++)
        if (!strncmp(argv[a], "close_mosaic=", 13)) close_mosaic = atoi(argv[a] + 13);
        else if (set_hyp(&lp.hyp, argv[a])) {
            fprintf(stderr, "error: %s: expected <hyperparameter>=<number>\n", argv[a]);
            return 2;
        }
    if (cy_loader_create(&l, split, &lp, &err) != CY_OK) return fail(&err);
    char path[4096];
    snprintf(path, sizeof path, "%s.u8", argv[5]);
    FILE *fx = fopen(path, "wb");
    snprintf(path, sizeof path, "%s.txt", argv[5]);
    FILE *ft = fopen(path, "w");
    if (!fx || !ft) {
        fprintf(stderr, "error: cannot write %s.*\n", argv[5]);
        return 1;
    }
    long nimg = 0, nt = 0;
    for (int e = 0; e < epochs; e++) {
        if (close_mosaic > 0 && e == epochs - close_mosaic) {
            cy_aug_close_mosaic(&lp.hyp);
            cy_loader_set_hyp(l, &lp.hyp);
        }
        cy_loader_epoch(l, e, 1);
        for (int b = 0; b < cy_loader_batches(l, batch); b++) {
            cy_batch bt;
            if (cy_loader_batch(l, b, batch, &bt, &err) != CY_OK) return fail(&err);
            size_t n = (size_t)bt.n * 3 * bt.h * bt.w;
            for (size_t q = 0; q < n; q++) fputc((int)lrintf(bt.x[q] * 255), fx);
            for (int t = 0; t < bt.ntargets; t++) {
                const float *r = bt.targets + 6 * t;
                fprintf(ft, "%ld %g %.6f %.6f %.6f %.6f\n", nimg + (long)r[0], r[1], r[2], r[3], r[4], r[5]);
            }
            nimg += bt.n, nt += bt.ntargets;
        }
    }
    fclose(fx), fclose(ft);
    printf("%ld images, %.4f targets per image\n", nimg, (double)nt / nimg);
    cy_loader_free(l);
    cy_split_free(split);
    cy_dataset_free(ds);
    return 0;
}
