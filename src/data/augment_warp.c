/* Resampling kernels for the augmentations, following OpenCV's uint8
 * fixed-point arithmetic so that results match cv2 to within a unit:
 *
 * resize (INTER_LINEAR): source x = (dx + 0.5) * sw / dw - 0.5 (float),
 *   clamped at the edges, weights rounded to 11 bits; the horizontal pass
 *   keeps p * 2048 in int32, the vertical pass combines two rows as
 *   OpenCV's SIMD path does: ((S0 >> 4) * b0 >> 16) + ((S1 >> 4) * b1 >> 16),
 *   then (t + 2) >> 2.
 * warpAffine / warpPerspective (INTER_LINEAR, BORDER_CONSTANT): the forward
 *   matrix is inverted once; source coordinates are computed in 1/1024 (affine)
 *   and quantised to 1/32 pixel; bilinear weights (32-fx)(32-fy) etc. sum to
 *   1024, result (sum + 512) >> 10 (= OpenCV's 15-bit table, exactly).
 *   Neighbours outside the source take the border value and still blend,
 *   as OpenCV does at the image edge. */
/* integer pixel loops: let GCC vectorise with runtime checks (O2 uses the
 * "very cheap" model, which skips them) */
#pragma GCC optimize("vect-cost-model=dynamic", "fp-contract=off")
#include "data/augment.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* cvRound: nearest, ties to even (the FPU default), saturated to int */
static inline int round_sat(double v) {
    if (!(v > -2147483648.0)) return v != v ? 0 : INT32_MIN;
    if (v >= 2147483647.0) return INT32_MAX;
    return (int)rint(v); /* rint inlines (roundsd); lrint is a libm call */
}

/* ---- resize ---- */

typedef struct {
    int *ofs;      /* source offset (element index) of the left/top tap */
    int *ofs1;     /* right/bottom tap (clamped) */
    short *a0, *a1;
} lin_tab;

static int lin_tab_make(lin_tab *t, int n_dst, int n_src, int mult) {
    t->ofs = malloc(sizeof(int) * (size_t)n_dst * 2);
    t->a0 = malloc(sizeof(short) * (size_t)n_dst * 2);
    if (!t->ofs || !t->a0) {
        free(t->ofs); free(t->a0);
        return 0;
    }
    t->ofs1 = t->ofs + n_dst;
    t->a1 = t->a0 + n_dst;
    double scale = 1.0 / ((double)n_dst / n_src);
    for (int d = 0; d < n_dst; d++) {
        float f = (float)((d + 0.5) * scale - 0.5);
        int s = (int)floorf(f);
        f -= (float)s;
        if (s < 0) s = 0, f = 0.f;
        if (s >= n_src - 1) s = n_src - 1, f = 0.f;
        t->ofs[d] = s * mult;
        t->ofs1[d] = (s + 1 < n_src ? s + 1 : s) * mult;
        t->a0[d] = (short)rintf((1.f - f) * 2048.f);
        t->a1[d] = (short)rintf(f * 2048.f);
    }
    return 1;
}

static void lin_tab_free(lin_tab *t) {
    free(t->ofs);
    free(t->a0);
}

/* one source row -> dw*cn values scaled by 2048 */
static void hresize_row(const uint8_t *S, int32_t *D, const lin_tab *tx, int dw, int cn) {
    if (cn == 3) {
        for (int x = 0; x < dw; x++) {
            const uint8_t *p0 = S + tx->ofs[x], *p1 = S + tx->ofs1[x];
            int a0 = tx->a0[x], a1 = tx->a1[x];
            D[3 * x] = p0[0] * a0 + p1[0] * a1;
            D[3 * x + 1] = p0[1] * a0 + p1[1] * a1;
            D[3 * x + 2] = p0[2] * a0 + p1[2] * a1;
        }
        return;
    }
    for (int x = 0; x < dw; x++) {
        const uint8_t *p0 = S + tx->ofs[x], *p1 = S + tx->ofs1[x];
        int a0 = tx->a0[x], a1 = tx->a1[x];
        for (int k = 0; k < cn; k++) D[x * cn + k] = p0[k] * a0 + p1[k] * a1;
    }
}

cy_status cy_aug_resize(const cy_image *src, int h, int w, cy_image *dst, cy_error *err) {
    if (h <= 0 || w <= 0 || !src->data || src->h <= 0 || src->w <= 0)
        return cy_fail(err, CY_ERR_ARG, "resize: bad size %dx%d -> %dx%d", src->h, src->w, h, w);
    CY_TRY(cy_image_alloc(dst, h, w, src->c, err));
    int cn = src->c, sw = src->w, sh = src->h;
    if (h == sh && w == sw) {
        memcpy(dst->data, src->data, (size_t)h * w * cn);
        return CY_OK;
    }
    lin_tab tx, ty;
    if (!lin_tab_make(&tx, w, sw, cn)) goto oom0;
    if (!lin_tab_make(&ty, h, sh, 1)) goto oom1;
    int32_t *rows = malloc(sizeof(int32_t) * (size_t)w * cn * 2);
    if (!rows) goto oom2;
    int32_t *buf[2] = {rows, rows + (size_t)w * cn};
    int have[2] = {-1, -1}; /* source row held by buf[i] */
    const int n = w * cn;
    for (int y = 0; y < h; y++) {
        int r0 = ty.ofs[y], r1 = ty.ofs1[y];
        int32_t *R0 = NULL, *R1 = NULL;
        /* reuse rows already resized (consecutive outputs share rows) */
        for (int i = 0; i < 2; i++) {
            if (have[i] == r0) R0 = buf[i];
            if (have[i] == r1) R1 = buf[i];
        }
        if (!R0) {
            int i = (R1 == buf[0]) ? 1 : 0;
            hresize_row(src->data + (size_t)r0 * sw * cn, buf[i], &tx, w, cn);
            have[i] = r0;
            R0 = buf[i];
            if (r1 == r0) R1 = R0;
        }
        if (!R1) {
            int i = (R0 == buf[0]) ? 1 : 0;
            hresize_row(src->data + (size_t)r1 * sw * cn, buf[i], &tx, w, cn);
            have[i] = r1;
            R1 = buf[i];
        }
        int b0 = ty.a0[y], b1 = ty.a1[y];
        uint8_t *D = dst->data + (size_t)y * n;
        for (int x = 0; x < n; x++) {
            int t = (((R0[x] >> 4) * b0) >> 16) + (((R1[x] >> 4) * b1) >> 16);
            t = (t + 2) >> 2;
            D[x] = (uint8_t)(t < 0 ? 0 : t > 255 ? 255 : t);
        }
    }
    free(rows);
    lin_tab_free(&ty);
    lin_tab_free(&tx);
    return CY_OK;
oom2:
    lin_tab_free(&ty);
oom1:
    lin_tab_free(&tx);
oom0:
    cy_image_free(dst);
    return cy_fail(err, CY_ERR_MEMORY, "resize: out of memory (%dx%d)", h, w);
}

/* ---- bilinear sampling at 1/32-pixel source coordinates ---- */

/* X, Y: source position in 1/32 pixels. Writes cn bytes. */
static inline void sample_edge(const cy_image *src, int64_t X, int64_t Y, uint8_t *out,
                               uint8_t border) {
    const int cn = src->c, sw = src->w, sh = src->h;
    int64_t sx = X >> 5, sy = Y >> 5;
    int fx = (int)(X & 31), fy = (int)(Y & 31);
    if (sx >= sw || sx + 1 < 0 || sy >= sh || sy + 1 < 0) {
        for (int k = 0; k < cn; k++) out[k] = border;
        return;
    }
    int w00 = (32 - fx) * (32 - fy), w01 = fx * (32 - fy), w10 = (32 - fx) * fy, w11 = fx * fy;
    int vx0 = sx >= 0, vx1 = sx + 1 < sw, vy0 = sy >= 0, vy1 = sy + 1 < sh;
    const uint8_t *row0 = src->data + ((size_t)(vy0 ? sy : 0) * sw) * cn;
    const uint8_t *row1 = src->data + ((size_t)(vy1 ? sy + 1 : 0) * sw) * cn;
    size_t c0 = (size_t)(vx0 ? sx : 0) * cn, c1 = (size_t)(vx1 ? sx + 1 : 0) * cn;
    for (int k = 0; k < cn; k++) {
        int p00 = vy0 && vx0 ? row0[c0 + k] : border;
        int p01 = vy0 && vx1 ? row0[c1 + k] : border;
        int p10 = vy1 && vx0 ? row1[c0 + k] : border;
        int p11 = vy1 && vx1 ? row1[c1 + k] : border;
        out[k] = (uint8_t)((p00 * w00 + p01 * w01 + p10 * w10 + p11 * w11 + 512) >> 10);
    }
}

/* Bilinear for a run of pixels whose 1/32 coordinates are in XY (pairs), all
 * with both neighbours inside. cn == 3 specialised: the common case. */
static void sample_row(const cy_image *src, const int32_t *XY, int n, uint8_t *D,
                       uint8_t border) {
    const int cn = src->c, sw = src->w, sh = src->h;
    const size_t stride = (size_t)sw * cn;
    for (int i = 0; i < n; i++) {
        int32_t X = XY[2 * i], Y = XY[2 * i + 1];
        int32_t sx = X >> 5, sy = Y >> 5;
        if ((unsigned)sx < (unsigned)(sw - 1) && (unsigned)sy < (unsigned)(sh - 1)) {
            int fx = X & 31, fy = Y & 31;
            int w00 = (32 - fx) * (32 - fy), w01 = fx * (32 - fy), w10 = (32 - fx) * fy,
                w11 = fx * fy;
            const uint8_t *p = src->data + (size_t)sy * stride + (size_t)sx * cn;
            if (cn == 3) {
                D[0] = (uint8_t)((p[0] * w00 + p[3] * w01 + p[stride] * w10 + p[stride + 3] * w11 + 512) >> 10);
                D[1] = (uint8_t)((p[1] * w00 + p[4] * w01 + p[stride + 1] * w10 + p[stride + 4] * w11 + 512) >> 10);
                D[2] = (uint8_t)((p[2] * w00 + p[5] * w01 + p[stride + 2] * w10 + p[stride + 5] * w11 + 512) >> 10);
            } else {
                for (int k = 0; k < cn; k++)
                    D[k] = (uint8_t)((p[k] * w00 + p[cn + k] * w01 + p[stride + k] * w10 +
                                      p[stride + cn + k] * w11 + 512) >> 10);
            }
        } else {
            sample_edge(src, X, Y, D, border);
        }
        D += cn;
    }
}

static inline int32_t clamp32(int64_t v) {
    return v < INT32_MIN / 2 ? INT32_MIN / 2 : v > INT32_MAX / 2 ? INT32_MAX / 2 : (int32_t)v;
}

/* Axis-aligned affine (scale + translation): the source column of each
 * output column and the source row of each output row are fixed, so the
 * column positions are tabulated once and rows share them. Same fixed-point
 * coordinates and weights as the general path. ad: per-column deltas. */
static void warp_axis(const cy_image *src, cy_image *dst, const double iM[6], const int32_t *ad,
                      uint8_t border) {
    const int dw = dst->w, dh = dst->h, cn = dst->c, sw = src->w, sh = src->h;
    const size_t stride = (size_t)sw * cn;
    int32_t *X = malloc(sizeof(int32_t) * (size_t)dw * 3);
    if (!X) { /* rows one pixel at a time */
        for (int y = 0; y < dh; y++) {
            int64_t X0 = (int64_t)round_sat(iM[2] * 1024) + 16;
            int64_t Y = ((int64_t)round_sat((iM[4] * y + iM[5]) * 1024) + 16) >> 5;
            for (int x = 0; x < dw; x++)
                sample_edge(src, (X0 + ad[x]) >> 5, Y, dst->data + ((size_t)y * dw + x) * cn, border);
        }
        return;
    }
    int32_t *off = X + dw, *fx = X + 2 * (size_t)dw;
    const int64_t X0 = (int64_t)round_sat(iM[2] * 1024) + 16;
    for (int x = 0; x < dw; x++) {
        X[x] = clamp32((X0 + ad[x]) >> 5);
        int32_t sx = X[x] >> 5;
        fx[x] = X[x] & 31;
        off[x] = (unsigned)sx < (unsigned)(sw - 1) ? sx * cn : -1; /* -1: edge path */
    }
    /* X grows with x (the scale is positive), so the columns with both
     * neighbours inside form one run [xa, xb); a reflected map has none */
    int xa = 0, xb = 0;
    if (iM[0] > 0) {
        while (xa < dw && off[xa] < 0) xa++;
        xb = xa;
        while (xb < dw && off[xb] >= 0) xb++;
        for (int x = xb; x < dw; x++)
            if (off[x] >= 0) { /* not monotonic after all: edge path for the rest */
                xb = xa;
                break;
            }
    }
    for (int y = 0; y < dh; y++) {
        int32_t Y = clamp32(((int64_t)round_sat((iM[4] * y + iM[5]) * 1024) + 16) >> 5);
        int32_t sy = Y >> 5;
        uint8_t *D = dst->data + (size_t)y * dw * cn;
        if ((unsigned)sy >= (unsigned)(sh - 1)) {
            for (int x = 0; x < dw; x++) sample_edge(src, X[x], Y, D + (size_t)x * cn, border);
            continue;
        }
        const int wy1 = Y & 31, wy0 = 32 - wy1;
        const uint8_t *r0 = src->data + (size_t)sy * stride, *r1 = r0 + stride;
        int x = 0;
        for (; x < xa; x++) sample_edge(src, X[x], Y, D + (size_t)x * cn, border);
        if (cn == 3) {
            uint8_t *restrict d = D + (size_t)xa * 3;
            for (int xi = xa; xi < xb; xi++, d += 3) {
                const uint8_t *a = r0 + off[xi], *b = r1 + off[xi];
                const int wx1 = fx[xi], wx0 = 32 - wx1;
                int t0 = a[0] * wx0 + a[3] * wx1, t1 = b[0] * wx0 + b[3] * wx1;
                int u0 = a[1] * wx0 + a[4] * wx1, u1 = b[1] * wx0 + b[4] * wx1;
                int v0 = a[2] * wx0 + a[5] * wx1, v1 = b[2] * wx0 + b[5] * wx1;
                d[0] = (uint8_t)((t0 * wy0 + t1 * wy1 + 512) >> 10);
                d[1] = (uint8_t)((u0 * wy0 + u1 * wy1 + 512) >> 10);
                d[2] = (uint8_t)((v0 * wy0 + v1 * wy1 + 512) >> 10);
            }
        } else {
            for (int xi = xa; xi < xb; xi++) {
                const uint8_t *a = r0 + off[xi], *b = r1 + off[xi];
                const int wx1 = fx[xi], wx0 = 32 - wx1;
                for (int k = 0; k < cn; k++) {
                    int t0 = a[k] * wx0 + a[cn + k] * wx1, t1 = b[k] * wx0 + b[cn + k] * wx1;
                    D[(size_t)xi * cn + k] = (uint8_t)((t0 * wy0 + t1 * wy1 + 512) >> 10);
                }
            }
        }
        for (x = xb; x < dw; x++) sample_edge(src, X[x], Y, D + (size_t)x * cn, border);
    }
    free(X);
}


/* OpenCV invertAffineTransform */
static void invert_affine(const double M[9], double iM[6]) {
    double D = M[0] * M[4] - M[1] * M[3];
    D = D != 0 ? 1. / D : 0;
    double A11 = M[4] * D, A22 = M[0] * D, A12 = -M[1] * D, A21 = -M[3] * D;
    double b1 = -A11 * M[2] - A12 * M[5];
    double b2 = -A21 * M[2] - A22 * M[5];
    iM[0] = A11, iM[1] = A12, iM[2] = b1;
    iM[3] = A21, iM[4] = A22, iM[5] = b2;
}

void cy_aug_warp_affine(const cy_image *src, cy_image *dst, const double M[9], uint8_t border) {
    const int dw = dst->w, dh = dst->h, cn = dst->c;
    double iM[6];
    invert_affine(M, iM);
    /* per-column deltas in 1/1024 pixel, computed once (as OpenCV) */
    int32_t *ad = malloc(sizeof(int32_t) * (size_t)dw * 4);
    if (!ad) { /* fall back to per-pixel rounding without tables */
        for (int y = 0; y < dh; y++)
            for (int x = 0; x < dw; x++) {
                int64_t X = ((int64_t)round_sat((iM[1] * y + iM[2]) * 1024) + 16 +
                             round_sat(iM[0] * x * 1024)) >> 5;
                int64_t Y = ((int64_t)round_sat((iM[4] * y + iM[5]) * 1024) + 16 +
                             round_sat(iM[3] * x * 1024)) >> 5;
                sample_edge(src, X, Y, dst->data + ((size_t)y * dw + x) * cn, border);
            }
        return;
    }
    int32_t *bd = ad + dw, *XY = ad + 2 * (size_t)dw;
    for (int x = 0; x < dw; x++) {
        ad[x] = round_sat(iM[0] * x * 1024);
        bd[x] = round_sat(iM[3] * x * 1024);
    }
    if (iM[1] == 0 && iM[3] == 0) { /* no rotation or shear (the default hyp) */
        warp_axis(src, dst, iM, ad, border);
        free(ad);
        return;
    }
    for (int y = 0; y < dh; y++) {
        int64_t X0 = (int64_t)round_sat((iM[1] * y + iM[2]) * 1024) + 16;
        int64_t Y0 = (int64_t)round_sat((iM[4] * y + iM[5]) * 1024) + 16;
        for (int x = 0; x < dw; x++) {
            XY[2 * x] = clamp32((X0 + ad[x]) >> 5);
            XY[2 * x + 1] = clamp32((Y0 + bd[x]) >> 5);
        }
        sample_row(src, XY, dw, dst->data + (size_t)y * dw * cn, border);
    }
    free(ad);
}

/* 3x3 inverse by the adjugate; a singular matrix maps everything outside */
static int invert3(const double m[9], double r[9]) {
    double c0 = m[4] * m[8] - m[5] * m[7], c1 = m[5] * m[6] - m[3] * m[8],
           c2 = m[3] * m[7] - m[4] * m[6];
    double det = m[0] * c0 + m[1] * c1 + m[2] * c2;
    if (det == 0 || !isfinite(det)) return 0;
    double id = 1.0 / det;
    r[0] = c0 * id, r[1] = (m[2] * m[7] - m[1] * m[8]) * id, r[2] = (m[1] * m[5] - m[2] * m[4]) * id;
    r[3] = c1 * id, r[4] = (m[0] * m[8] - m[2] * m[6]) * id, r[5] = (m[2] * m[3] - m[0] * m[5]) * id;
    r[6] = c2 * id, r[7] = (m[1] * m[6] - m[0] * m[7]) * id, r[8] = (m[0] * m[4] - m[1] * m[3]) * id;
    return 1;
}

void cy_aug_warp_perspective(const cy_image *src, cy_image *dst, const double M[9],
                             uint8_t border) {
    const int dw = dst->w, dh = dst->h, cn = dst->c;
    double iM[9];
    if (!invert3(M, iM)) {
        memset(dst->data, border, (size_t)dw * dh * cn);
        return;
    }
    int32_t *XY = malloc(sizeof(int32_t) * (size_t)dw * 2);
    for (int y = 0; y < dh; y++) {
        double X0 = iM[1] * y + iM[2], Y0 = iM[4] * y + iM[5], W0 = iM[7] * y + iM[8];
        uint8_t *D = dst->data + (size_t)y * dw * cn;
        for (int x = 0; x < dw; x++) {
            double W = W0 + iM[6] * x;
            W = W != 0 ? 32.0 / W : 0;
            double fX = (X0 + iM[0] * x) * W, fY = (Y0 + iM[3] * x) * W;
            fX = fX < -1e9 ? -1e9 : fX > 1e9 ? 1e9 : fX;
            fY = fY < -1e9 ? -1e9 : fY > 1e9 ? 1e9 : fY;
            int32_t X = round_sat(fX), Y = round_sat(fY);
            if (XY) {
                XY[2 * x] = X;
                XY[2 * x + 1] = Y;
            } else {
                sample_edge(src, X, Y, D + (size_t)x * cn, border);
            }
        }
        if (XY) sample_row(src, XY, dw, D, border);
    }
    free(XY);
}
