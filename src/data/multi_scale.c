#include "data/multi_scale.h"
#include <math.h>
#include <stdlib.h>

int cy_multi_scale_size(int imgsz, double ms, int stride, uint64_t seed, int64_t ni) {
    int lo = (int)(imgsz * (1.0 - ms)), hi = (int)(imgsz * (1.0 + ms) + stride);
    cy_aug_rng r;
    cy_aug_rng_seed(&r, seed, 0x3a17c0deULL ^ (uint64_t)ni);
    int v = hi > lo ? lo + cy_aug_rng_int(&r, hi - lo) : lo;
    int sz = v / stride * stride;
    return sz < stride ? stride : sz;
}

void cy_resize_bilinear_planes(const float *x, int planes, int h, int w, float *out, int oh, int ow) {
    float sh = (float)h / oh, sw = (float)w / ow;
    for (int p = 0; p < planes; p++) {
        const float *in = x + (size_t)p * h * w;
        float *o = out + (size_t)p * oh * ow;
        for (int y = 0; y < oh; y++) {
            float fy = ((float)y + 0.5f) * sh - 0.5f;
            if (fy < 0) fy = 0;
            int y0 = (int)fy, y1 = y0 + (y0 < h - 1);
            float ly = fy - y0;
            for (int xo = 0; xo < ow; xo++) {
                float fx = ((float)xo + 0.5f) * sw - 0.5f;
                if (fx < 0) fx = 0;
                int x0 = (int)fx, x1 = x0 + (x0 < w - 1);
                float lx = fx - x0;
                o[(size_t)y * ow + xo] = (1 - ly) * ((1 - lx) * in[(size_t)y0 * w + x0] + lx * in[(size_t)y0 * w + x1]) +
                                         ly * ((1 - lx) * in[(size_t)y1 * w + x0] + lx * in[(size_t)y1 * w + x1]);
            }
        }
    }
}

cy_status cy_multi_scale_batch(cy_batch *b, int imgsz, double ms, int stride, uint64_t seed, int64_t ni,
                               float **buf, size_t *cap, cy_error *err) {
    int sz = cy_multi_scale_size(imgsz, ms, stride, seed, ni), longest = b->h > b->w ? b->h : b->w;
    if (sz == longest) return CY_OK;
    double sf = (double)sz / longest;
    int oh = (int)ceil(b->h * sf / stride) * stride, ow = (int)ceil(b->w * sf / stride) * stride;
    size_t need = (size_t)b->n * 3 * oh * ow;
    if (need > *cap) {
        float *nb = realloc(*buf, need * sizeof *nb);
        if (!nb) return cy_fail(err, CY_ERR_MEMORY, "out of memory for a multi_scale batch");
        *buf = nb, *cap = need;
    }
    cy_resize_bilinear_planes(b->x, b->n * 3, b->h, b->w, *buf, oh, ow);
    b->x = *buf, b->h = oh, b->w = ow;
    return CY_OK;
}
