/* Ultralytics' mask helpers (data/utils.py polygon2mask, polygons2masks,
 * polygons2masks_overlap; utils/ops.py resample_segments) on top of
 * cy_fill_poly and cy_mask_resize. */
#pragma GCC optimize("fp-contract=off") /* np.interp's double arithmetic, no FMA */
#include <stdlib.h>
#include <string.h>
#include "data/polygon_mask.h"

static cy_status check_size(int h, int w, int ratio, cy_error *err) {
    if (h <= 0 || w <= 0 || ratio <= 0 || h / ratio < 1 || w / ratio < 1)
        return cy_fail(err, CY_ERR_ARG, "polygon mask: image %dx%d with downsample_ratio %d gives no pixels", h,
                       w, ratio);
    return CY_OK;
}

/* fill at full size into full (h x w, scratch), shrink into out */
static cy_status mask_one(int h, int w, const float *xy, int npts, uint8_t color, int ratio, uint8_t *full,
                          uint8_t *out, cy_error *err) {
    memset(full, 0, (size_t)h * w);
    CY_TRY(cy_fill_poly(full, h, w, xy, npts, color, err));
    /* Ultralytics fills first and resizes after, so that mask_ratio=1
     * computes the loss the same way */
    return cy_mask_resize(full, h, w, out, h / ratio, w / ratio, err);
}

cy_status cy_polygon2mask(int h, int w, const float *xy, int npts, uint8_t color, int ratio,
                          uint8_t *out, cy_error *err) {
    CY_TRY(check_size(h, w, ratio, err));
    uint8_t *full = malloc((size_t)h * w);
    if (!full) return cy_fail(err, CY_ERR_MEMORY, "polygon mask: out of memory (%dx%d)", h, w);
    cy_status st = mask_one(h, w, xy, npts, color, ratio, full, out, err);
    free(full);
    return st;
}

static cy_status check_polys(const cy_polygons *p, cy_error *err) {
    for (int i = 0; i < p->n; i++)
        if (p->start[i + 1] - p->start[i] < 1)
            return cy_fail(err, CY_ERR_ARG, "polygon mask: polygon %d has no points", i);
    return CY_OK;
}

cy_status cy_polygons2masks(int h, int w, const cy_polygons *p, uint8_t color, int ratio,
                            uint8_t *out, cy_error *err) {
    CY_TRY(check_size(h, w, ratio, err));
    CY_TRY(check_polys(p, err));
    if (p->n == 0) return CY_OK;
    uint8_t *full = malloc((size_t)h * w);
    if (!full) return cy_fail(err, CY_ERR_MEMORY, "polygon mask: out of memory (%dx%d)", h, w);
    size_t m = (size_t)(h / ratio) * (w / ratio);
    cy_status st = CY_OK;
    for (int i = 0; st == CY_OK && i < p->n; i++)
        st = mask_one(h, w, p->xy + 2 * p->start[i], p->start[i + 1] - p->start[i], color, ratio, full,
                      out + m * i, err);
    free(full);
    return st;
}

cy_status cy_polygons2masks_overlap(int h, int w, const cy_polygons *p, int ratio, uint8_t *mask,
                                    int *index, cy_error *err) {
    CY_TRY(check_size(h, w, ratio, err));
    CY_TRY(check_polys(p, err));
    if (p->n > 255)
        return cy_fail(err, CY_ERR_ARG, "polygon mask: %d instances, a uint8 index mask holds at most 255",
                       p->n);
    size_t m = (size_t)(h / ratio) * (w / ratio);
    memset(mask, 0, m);
    if (p->n == 0) return CY_OK;
    uint8_t *full = malloc((size_t)h * w), *ms = malloc(m * p->n);
    uint64_t *area = malloc(sizeof *area * p->n);
    cy_status st = full && ms && area ? CY_OK : cy_fail(err, CY_ERR_MEMORY, "polygon mask: out of memory");
    for (int i = 0; st == CY_OK && i < p->n; i++) {
        st = mask_one(h, w, p->xy + 2 * p->start[i], p->start[i + 1] - p->start[i], 1, ratio, full, ms + m * i,
                      err);
        area[i] = 0;
        for (size_t k = 0; st == CY_OK && k < m; k++) area[i] += ms[m * i + k];
    }
    if (st == CY_OK) {
        /* np.argsort(-areas) on uint64 sums: -0 stays 0, so empty masks come
         * first, then the largest; equal keys keep their order (insertion
         * sort, stable) */
        for (int i = 0; i < p->n; i++) {
            int k = i;
            uint64_t key = -area[i];
            while (k > 0 && -area[index[k - 1]] > key) {
                index[k] = index[k - 1];
                k--;
            }
            index[k] = i;
        }
        for (int k = 0; k < p->n; k++) {
            const uint8_t *src = ms + m * index[k];
            uint8_t v = (uint8_t)(k + 1);
            for (size_t j = 0; j < m; j++) {
                uint8_t t = (uint8_t)(src[j] * v);
                if (t > mask[j]) mask[j] = t;
            }
        }
    }
    free(full);
    free(ms);
    free(area);
    return st;
}

cy_status cy_resample_segment(const float *xy, int npts, int n, float *out, cy_error *err) {
    if (npts < 1 || n < 1 || !xy || !out)
        return cy_fail(err, CY_ERR_ARG, "resample_segments: %d points to %d", npts, n);
    if (npts == n) {
        memcpy(out, xy, (size_t)n * 2 * sizeof *out);
        return CY_OK;
    }
    int len = npts + 1;  /* closed: the first point again at the end */
    /* np.linspace(0, len - 1, num): i * step, the last exactly len - 1 */
    int num = len < n ? n - len : n;
    double *x = malloc(sizeof *x * (size_t)n);
    if (!x) return cy_fail(err, CY_ERR_MEMORY, "resample_segments: out of memory");
    double step = num > 1 ? (double)(len - 1) / (num - 1) : 0;
    int k = 0;
    if (len < n) {
        /* np.insert(x, np.searchsorted(x, xp), xp): each vertex goes before
         * the first position >= it, so a vertex comes before an equal one */
        int j = 0;
        for (int i = 0; i < num || j < len;) {
            double xi = i < num ? (i == num - 1 && num > 1 ? (double)(len - 1) : i * step) : 0;
            if (j < len && (i >= num || (double)j <= xi)) x[k++] = j++;
            else x[k++] = xi, i++;
        }
    } else {
        for (int i = 0; i < num; i++) x[k++] = (i == num - 1 && num > 1) ? (double)(len - 1) : i * step;
    }
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < n; i++) {
            /* np.interp with xp = 0 .. len - 1 */
            double v = x[i];
            int j = (int)v;
            if (j >= len - 1) j = len - 1;
            double y0 = xy[2 * (j % npts) + c];
            double r;
            if (j == len - 1 || (double)j == v) {
                r = y0;
            } else {
                double y1 = xy[2 * ((j + 1) % npts) + c];
                double slope = y1 - y0;
                r = slope * (v - j) + y0;
            }
            out[2 * i + c] = (float)r;
        }
    free(x);
    return CY_OK;
}
