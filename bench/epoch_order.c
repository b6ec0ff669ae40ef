/* The order in which cyolo's loader visits the training images, one line
 * per epoch (record indices, file order = sorted image paths), for
 * bench/loop_compare, which feeds it to Ultralytics' sampler. Not a test.
 * Build:
 *   gcc -O2 -fopenmp -Iinclude -Isrc bench/epoch_order.c build/libcyolo.a \
 *       $(pkg-config --libs yaml-0.1 libcjson libpng libjpeg libexif libzip cairo) \
 *       -ldnnl -lopenblas -lm -o /tmp/epoch_order
 *   /tmp/epoch_order <data.yaml> <epochs> [seed] */
#include <stdio.h>
#include <stdlib.h>
#include "data/dataset.h"
#include "data/loader.h"

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s data.yaml epochs [seed]\n", argv[0]);
        return 2;
    }
    int epochs = atoi(argv[2]);
    cy_error err = {0};
    cy_dataset *ds = NULL;
    cy_split *s = NULL;
    cy_loader *l = NULL;
    cy_scan_params sp = cy_scan_default_params();
    cy_loader_params lp = {.imgsz = 32, .augment = 0, .seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 0};
    if (cy_dataset_load(&ds, argv[1], NULL, &err) != CY_OK || cy_split_scan(&s, ds, "train", &sp, &err) != CY_OK ||
        cy_loader_create(&l, s, &lp, &err) != CY_OK) {
        fprintf(stderr, "error: %s\n", err.msg);
        return 1;
    }
    for (int e = 0; e < epochs; e++) {
        cy_loader_epoch(l, e, 1);
        for (int b = 0; b < cy_loader_batches(l, 1); b++) {
            cy_batch bt;
            if (cy_loader_batch(l, b, 1, &bt, &err) != CY_OK) {
                fprintf(stderr, "error: %s\n", err.msg);
                return 1;
            }
            printf("%d%c", bt.index[0], b + 1 < cy_loader_batches(l, 1) ? ' ' : '\n');
        }
    }
    cy_loader_free(l);
    cy_split_free(s);
    cy_dataset_free(ds);
    return 0;
}
