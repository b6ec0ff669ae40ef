/* CopyPaste (Ultralytics 8.4.190 data/augment.py CopyPaste.get_params,
 * apply_image, apply_instances): objects of a second sample (mixup mode) or
 * of the sample itself mirrored (flip mode) pasted where they overlap the
 * sample's own boxes by less than 30%. */
#pragma GCC optimize("fp-contract=off")
#include "data/augment_seg.h"
#include "data/polygon_mask.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* bbox_ioa(box1, box2)[i][j]: intersection over box2's area, float32 */
static float ioa(const cy_aug_box *a, const cy_aug_box *b) {
    float iw = fmaxf(fminf(a->x2, b->x2) - fmaxf(a->x1, b->x1), 0);
    float ih = fmaxf(fminf(a->y2, b->y2) - fmaxf(a->y1, b->y1), 0);
    return iw * ih / ((b->x2 - b->x1) * (b->y2 - b->y1) + 1e-7f);
}

typedef struct {
    float key;
    int i;
} keyed;

static int by_key(const void *x, const void *y) {
    const keyed *a = x, *b = y;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return a->i - b->i; /* stable */
}

/* hyp values are float32 here and Python floats upstream: round(p * n)
 * must see the decimal the user wrote (0.1 * 5 is 0.5, not 0.50000001) */
static double as_written(float p) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.7g", p);
    return strtod(buf, NULL);
}

cy_status cy_aug_copy_paste(cy_aug_sample *s, const cy_aug_sample *other, float p, cy_error *err) {
    if (!s->seg.n || !(p != 0)) return CY_OK;
    const int h = s->img.h, w = s->img.w, cn = s->img.c;
    cy_aug_sample flip = {0};
    const cy_aug_sample *src = other;
    if (!src) { /* instances2 = instances.fliplr(w); result = cv2.flip(im, 1) */
        CY_TRY(cy_aug_sample_copy(&flip, s, err));
        cy_aug_fliplr(&flip);
        src = &flip;
    } else {
        if (other->img.h != h || other->img.w != w || other->img.c != cn) {
            return cy_fail(err, CY_ERR_ARG, "copy_paste: images differ in size (%dx%d vs %dx%d)", h, w,
                           other->img.h, other->img.w);
        }
        CY_TRY(cy_aug_seg_compatible(s, other, "copy_paste", err));
    }
    cy_status st = CY_OK;
    const int n2 = src->n;
    keyed *cand = malloc(sizeof *cand * (size_t)(n2 > 0 ? n2 : 1));
    int *sel = malloc(sizeof *sel * (size_t)(n2 > 0 ? n2 : 1));
    uint8_t *paste = calloc((size_t)h * w, 1);
    if (!cand || !sel || !paste) st = cy_fail(err, CY_ERR_MEMORY, "copy_paste: out of memory");
    int ncand = 0, nsel = 0;
    for (int i = 0; st == CY_OK && i < n2; i++) {
        float mx = -INFINITY;
        int all_below = 1;
        for (int j = 0; j < s->n; j++) {
            float v = ioa(&src->boxes[i], &s->boxes[j]);
            all_below &= v < 0.30f;
            mx = fmaxf(mx, v);
        }
        if (all_below) cand[ncand++] = (keyed){mx, i};
    }
    if (st == CY_OK) {
        qsort(cand, (size_t)ncand, sizeof *cand, by_key);
        nsel = (int)nearbyint(as_written(p) * ncand); /* Python round: ties to even */
        if (nsel > ncand) nsel = ncand;
        if (nsel < 0) nsel = 0;
        for (int k = 0; k < nsel; k++) sel[k] = cand[k].i;
    }
    /* cv2.drawContours(im_new, [segment.astype(np.int32)], -1, 1, FILLED) */
    for (int k = 0; st == CY_OK && k < nsel; k++)
        st = cy_fill_poly(paste, h, w, cy_aug_seg_pts(&src->seg, sel[k]), cy_aug_seg_len(&src->seg, sel[k]), 1,
                          err);
    if (st == CY_OK && nsel) {
        /* cv2.copyTo(result, im_new, im): result = flipped image (flip mode) or other's */
        for (size_t q = 0; q < (size_t)h * w; q++)
            if (paste[q])
                for (int c = 0; c < cn; c++) s->img.data[q * cn + c] = src->img.data[q * cn + c];
        st = cy_aug_seg_concat(&s->seg, &src->seg, sel, nsel, &s->seg, err);
        if (st == CY_OK) st = cy_aug_sample_reserve(s, s->n + nsel, err);
        for (int k = 0; st == CY_OK && k < nsel; k++) s->boxes[s->n++] = src->boxes[sel[k]];
    }
    free(cand);
    free(sel);
    free(paste);
    cy_aug_sample_free(&flip);
    return st;
}
