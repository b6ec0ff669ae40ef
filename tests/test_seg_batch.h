/* The segment training-step batch of tests/fixtures/seg_train (written by
 * tools/refgen/dump_train_seg.py): three 128x160 formula images, their label
 * rows and overlap masks; shared by the loss and distillation tests. */
#ifndef CY_TEST_SEG_BATCH_H
#define CY_TEST_SEG_BATCH_H
#include "model/loss_seg.h"
#include "test_ref.h"

#define SEG_BATCH_DIR "tests/fixtures/seg_train/"
enum { SEG_B = 3, SEG_H = 128, SEG_W = 160 };

typedef struct {
    float *x;            /* [3][3][128][160] formula input */
    cy_targets t;
    uint8_t *m8;
    cy_seg_masks masks;  /* overlap form, (32, 40) */
} seg_batch;

/* 0 on success; a failed CHECK otherwise. */
static inline int seg_batch_load(seg_batch *b) {
    memset(b, 0, sizeof *b);
    cy_npy rows, mk;
    cy_error err = {0};
    if (ref_load(SEG_BATCH_DIR "batch_rows.npy", &rows)) {
        CHECK(0, "batch rows fixture");
        return -1;
    }
    if (ref_load(SEG_BATCH_DIR "batch_masks.npy", &mk)) {
        cy_npy_free(&rows);
        CHECK(0, "batch masks fixture");
        return -1;
    }
    int st = cy_targets_from_rows(&b->t, rows.data, rows.shape[0], SEG_B, 80, &err) == CY_OK ? 0 : -1;
    CHECK(st == 0, "targets: %s", err.msg);
    b->m8 = malloc((size_t)mk.numel);
    for (int64_t i = 0; b->m8 && i < mk.numel; i++) b->m8[i] = (uint8_t)mk.data[i];
    b->masks = (cy_seg_masks){.overlap = 1, .h = (int)mk.shape[1], .w = (int)mk.shape[2], .masks = b->m8};
    b->x = formula_input(SEG_B, SEG_H, SEG_W);
    cy_npy_free(&rows);
    cy_npy_free(&mk);
    return st || !b->m8 || !b->x ? -1 : 0;
}

static inline void seg_batch_free(seg_batch *b) {
    cy_targets_free(&b->t);
    free(b->m8);
    free(b->x);
}

#endif
