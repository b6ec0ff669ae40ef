/* cv2.resize(mask, (dw, dh)) for one-channel uint8, INTER_LINEAR, as
 * OpenCV computes it (imgproc/src/resize.cpp):
 *  - the same size is a copy;
 *  - an exact 2x shrink both ways becomes INTER_AREA's fast path,
 *    (a + b + c + d + 2) >> 2;
 *  - otherwise source x = (dx + 0.5) * sw / dw - 0.5 in float, clamped at
 *    the edges, weights rounded to 11 bits; the horizontal pass keeps
 *    p * 2048 in int32; the vertical pass is OpenCV's SIMD formula
 *    ((S0 >> 4) * b0 >> 16) + ((S1 >> 4) * b1 >> 16), then (t + 2) >> 2.
 * OpenCV's scalar code rounds differently ((S0 b0 + S1 b1 + 2^21) >> 22,
 * cvRound(sum / 4)), but the cv2 Ultralytics runs on (5.1, pip wheel)
 * gives the SIMD result in every column at every width, tails included:
 * measured with tools/refgen/make_polygon_mask_fixture.py's widths. */
#pragma GCC optimize("fp-contract=off")
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "data/polygon_mask.h"

typedef struct {
    int *ofs;
    short *a;  /* [n][2] */
} taps;

static int taps_make(taps *t, int nd, int ns) {
    t->ofs = malloc(sizeof(int) * (size_t)nd);
    t->a = malloc(sizeof(short) * (size_t)nd * 2);
    if (!t->ofs || !t->a) return 0;
    double scale = 1.0 / ((double)nd / ns);
    for (int d = 0; d < nd; d++) {
        float f = (float)((d + 0.5) * scale - 0.5);
        int s = (int)floorf(f);
        f -= (float)s;
        if (s < 0) s = 0, f = 0.f;
        if (s >= ns - 1) s = ns - 1, f = 0.f;
        t->ofs[d] = s;
        /* saturate_cast<short>(cbuf * 2048): cvRound, ties to even */
        t->a[2 * d] = (short)lrintf((1.f - f) * 2048.f);
        t->a[2 * d + 1] = (short)lrintf(f * 2048.f);
    }
    return 1;
}

static void taps_free(taps *t) {
    free(t->ofs);
    free(t->a);
}

static void hpass(const uint8_t *S, int32_t *D, const taps *tx, int dw, int sw) {
    for (int x = 0; x < dw; x++) {
        int s = tx->ofs[x];
        int s1 = s + 1 < sw ? s + 1 : s;
        D[x] = S[s] * tx->a[2 * x] + S[s1] * tx->a[2 * x + 1];
    }
}

static uint8_t sat_u8(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

static cy_status resize_linear(const uint8_t *src, int sh, int sw, uint8_t *dst, int dh, int dw,
                               cy_error *err) {
    taps tx = {0}, ty = {0};
    int32_t *rows = malloc(sizeof(int32_t) * (size_t)dw * 2);
    if (!rows || !taps_make(&tx, dw, sw) || !taps_make(&ty, dh, sh)) {
        free(rows);
        taps_free(&tx);
        taps_free(&ty);
        return cy_fail(err, CY_ERR_MEMORY, "mask resize: out of memory");
    }
    int32_t *R0 = rows, *R1 = rows + dw;
    for (int y = 0; y < dh; y++) {
        int s0 = ty.ofs[y], s1 = s0 + 1 < sh ? s0 + 1 : s0;
        hpass(src + (size_t)s0 * sw, R0, &tx, dw, sw);
        hpass(src + (size_t)s1 * sw, R1, &tx, dw, sw);
        int b0 = ty.a[2 * y], b1 = ty.a[2 * y + 1];
        uint8_t *D = dst + (size_t)y * dw;
        for (int x = 0; x < dw; x++) {
            int t = (((R0[x] >> 4) * b0) >> 16) + (((R1[x] >> 4) * b1) >> 16);
            D[x] = sat_u8((t + 2) >> 2);
        }
    }
    free(rows);
    taps_free(&tx);
    taps_free(&ty);
    return CY_OK;
}

/* resizeAreaFast_ for 2x2 blocks, one channel */
static void resize_area2(const uint8_t *src, int sw, uint8_t *dst, int dh, int dw) {
    for (int y = 0; y < dh; y++) {
        const uint8_t *S0 = src + (size_t)(2 * y) * sw, *S1 = S0 + sw;
        uint8_t *D = dst + (size_t)y * dw;
        for (int x = 0; x < dw; x++) {
            int sum = S0[2 * x] + S0[2 * x + 1] + S1[2 * x] + S1[2 * x + 1];
            D[x] = (uint8_t)((sum + 2) >> 2);
        }
    }
}

cy_status cy_mask_resize(const uint8_t *src, int sh, int sw, uint8_t *dst, int dh, int dw,
                         cy_error *err) {
    if (sh <= 0 || sw <= 0 || dh <= 0 || dw <= 0 || !src || !dst)
        return cy_fail(err, CY_ERR_ARG, "mask resize: bad size %dx%d -> %dx%d", sh, sw, dh, dw);
    if (sh == dh && sw == dw) {
        memcpy(dst, src, (size_t)sh * sw);
        return CY_OK;
    }
    double sx = 1.0 / ((double)dw / sw), sy = 1.0 / ((double)dh / sh);
    int ix = (int)lrint(sx), iy = (int)lrint(sy);
    if (ix == 2 && iy == 2 && fabs(sx - ix) < 2.220446049250313e-16 && fabs(sy - iy) < 2.220446049250313e-16) {
        resize_area2(src, sw, dst, dh, dw);
        return CY_OK;
    }
    return resize_linear(src, sh, sw, dst, dh, dw, err);
}
