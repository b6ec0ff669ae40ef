/* Geometric and mixing augmentations and the v8_transforms pipeline; see
 * augment.h for the semantics and augment_warp.c / augment_color.c for the
 * pixel kernels. Formulas are Ultralytics' (ultralytics/data/augment.py);
 * the comments name the upstream expression where rounding matters. */
/* integer pixel loops: let GCC vectorise with runtime checks (O2 uses the
 * "very cheap" model, which skips them) */
#pragma GCC optimize("vect-cost-model=dynamic", "fp-contract=off")
#include "data/augment.h"
#include "data/augment_seg.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- rng ---- */

void cy_aug_rng_seed(cy_aug_rng *r, uint64_t seed, uint64_t stream) {
    r->state = 0;
    r->inc = (stream << 1) | 1u;
    (void)cy_aug_rng_u32(r);
    r->state += seed;
    (void)cy_aug_rng_u32(r);
}

uint32_t cy_aug_rng_u32(cy_aug_rng *r) {
    uint64_t old = r->state;
    r->state = old * 6364136223846793005ULL + r->inc;
    uint32_t xs = (uint32_t)(((old >> 18) ^ old) >> 27);
    uint32_t rot = (uint32_t)(old >> 59);
    return (xs >> rot) | (xs << ((-rot) & 31));
}

double cy_aug_rng_unit(cy_aug_rng *r) {
    uint64_t hi = cy_aug_rng_u32(r) >> 5, lo = cy_aug_rng_u32(r) >> 6; /* 27 + 26 bits */
    return (double)(hi * 67108864.0 + lo) * (1.0 / 9007199254740992.0);
}

double cy_aug_rng_uniform(cy_aug_rng *r, double lo, double hi) {
    return lo + (hi - lo) * cy_aug_rng_unit(r);
}

int cy_aug_rng_int(cy_aug_rng *r, int n) {
    if (n <= 1) return 0;
    uint32_t bound = (uint32_t)n, thresh = (uint32_t)(-bound) % bound;
    for (;;) {
        uint32_t x = cy_aug_rng_u32(r);
        if (x >= thresh) return (int)(x % bound);
    }
}

double cy_aug_rng_normal(cy_aug_rng *r) {
    double u1 = cy_aug_rng_unit(r), u2 = cy_aug_rng_unit(r);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
}

/* Marsaglia & Tsang; shape < 1 boosted by U^(1/shape) */
double cy_aug_rng_gamma(cy_aug_rng *r, double shape) {
    if (!(shape > 0)) return 0;
    if (shape < 1) {
        double u = cy_aug_rng_unit(r);
        return cy_aug_rng_gamma(r, shape + 1) * pow(1.0 - u, 1.0 / shape);
    }
    double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = cy_aug_rng_normal(r);
            v = 1.0 + c * x;
        } while (v <= 0);
        v = v * v * v;
        double u = cy_aug_rng_unit(r);
        if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
        if (log(u) < 0.5 * x * x + d * (1.0 - v + log(v))) return d * v;
    }
}

double cy_aug_rng_beta(cy_aug_rng *r, double a, double b) {
    double x = cy_aug_rng_gamma(r, a), y = cy_aug_rng_gamma(r, b);
    return x + y > 0 ? x / (x + y) : 0.5;
}

/* ---- samples ---- */

void cy_aug_sample_free(cy_aug_sample *s) {
    if (!s) return;
    cy_image_free(&s->img);
    free(s->boxes);
    s->boxes = NULL;
    s->n = s->cap = 0;
    cy_polygons_free(&s->seg);
}

cy_status cy_aug_sample_reserve(cy_aug_sample *s, int cap, cy_error *err) {
    if (cap <= s->cap) return CY_OK;
    int nc = s->cap ? s->cap : 8;
    while (nc < cap) nc *= 2;
    cy_aug_box *b = realloc(s->boxes, sizeof *b * (size_t)nc);
    if (!b) return cy_fail(err, CY_ERR_MEMORY, "augment: out of memory (%d boxes)", cap);
    s->boxes = b;
    s->cap = nc;
    return CY_OK;
}

cy_status cy_aug_sample_push(cy_aug_sample *s, cy_aug_box b, cy_error *err) {
    CY_TRY(cy_aug_sample_reserve(s, s->n + 1, err));
    s->boxes[s->n++] = b;
    return CY_OK;
}

cy_status cy_aug_sample_copy(cy_aug_sample *dst, const cy_aug_sample *src, cy_error *err) {
    memset(dst, 0, sizeof *dst);
    CY_TRY(cy_image_alloc(&dst->img, src->img.h, src->img.w, src->img.c, err));
    memcpy(dst->img.data, src->img.data, (size_t)src->img.h * src->img.w * src->img.c);
    if (cy_aug_sample_reserve(dst, src->n, err) != CY_OK) {
        cy_aug_sample_free(dst);
        return err ? err->status : CY_ERR_MEMORY;
    }
    if (src->n) memcpy(dst->boxes, src->boxes, sizeof *src->boxes * (size_t)src->n);
    dst->n = src->n;
    if (cy_polygons_copy(&dst->seg, &src->seg, err) != CY_OK) {
        cy_aug_sample_free(dst);
        return err ? err->status : CY_ERR_MEMORY;
    }
    return CY_OK;
}

void cy_aug_sample_set_image(cy_aug_sample *s, cy_image *img) {
    cy_image_free(&s->img);
    s->img = *img;
    memset(img, 0, sizeof *img);
}

static inline float clampf(float v, float lo, float hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* ---- hyperparameters ---- */

cy_aug_hyp cy_aug_default_hyp(void) {
    cy_aug_hyp h = {.hsv_h = 0.015f, .hsv_s = 0.7f, .hsv_v = 0.4f,
                    .degrees = 0, .translate = 0.1f, .scale = 0.5f, .shear = 0, .perspective = 0,
                    .flipud = 0, .fliplr = 0.5f,
                    .mosaic = 1.0f, .mixup = 0, .cutmix = 0};
    return h;
}

void cy_aug_close_mosaic(cy_aug_hyp *hyp) {
    hyp->mosaic = 0;
    hyp->mixup = 0;
    hyp->cutmix = 0;
}

/* ---- load_image resize ---- */

void cy_aug_load_shape(int h0, int w0, int imgsz, int *h, int *w) {
    int m = h0 > w0 ? h0 : w0;
    double r = (double)imgsz / m;
    if (r != 1) {
        int nw = (int)ceil(w0 * r), nh = (int)ceil(h0 * r);
        *w = nw < imgsz ? nw : imgsz;
        *h = nh < imgsz ? nh : imgsz;
        if (*w < 1) *w = 1;
        if (*h < 1) *h = 1;
    } else {
        *w = w0, *h = h0;
    }
}

cy_status cy_aug_load_resize(cy_aug_sample *s, int imgsz, cy_error *err) {
    int h0 = s->img.h, w0 = s->img.w, h, w;
    cy_aug_load_shape(h0, w0, imgsz, &h, &w);
    if (h == h0 && w == w0) return CY_OK;
    cy_image out = {0};
    CY_TRY(cy_aug_resize(&s->img, h, w, &out, err));
    cy_aug_sample_set_image(s, &out);
    /* upstream labels are normalised, so they follow the exact size change */
    float rx = (float)w / w0, ry = (float)h / h0;
    for (int i = 0; i < s->n; i++) {
        s->boxes[i].x1 *= rx, s->boxes[i].x2 *= rx;
        s->boxes[i].y1 *= ry, s->boxes[i].y2 *= ry;
    }
    for (int i = 0; i < s->seg.n; i++) {
        float *q = cy_aug_seg_pts(&s->seg, i);
        for (int k = 0, l = cy_aug_seg_len(&s->seg, i); k < l; k++) q[2 * k] *= rx, q[2 * k + 1] *= ry;
    }
    return CY_OK;
}

/* ---- LetterBox ---- */

cy_aug_letterbox_params cy_aug_letterbox_default(void) {
    cy_aug_letterbox_params p = {.auto_pad = 0, .scale_fill = 0, .scaleup = 1, .center = 1,
                                 .stride = 32, .pad_value = 114};
    return p;
}

/* Python's round(): nearest, ties to even (the default rounding mode) */
static inline int pyround(double v) { return (int)nearbyint(v); }

cy_status cy_aug_letterbox(cy_aug_sample *s, int new_h, int new_w,
                           const cy_aug_letterbox_params *p, cy_aug_letterbox_info *info,
                           cy_error *err) {
    cy_aug_letterbox_params def = cy_aug_letterbox_default();
    if (!p) p = &def;
    const int h = s->img.h, w = s->img.w, cn = s->img.c;
    if (new_h <= 0 || new_w <= 0 || h <= 0 || w <= 0)
        return cy_fail(err, CY_ERR_ARG, "letterbox: bad size %dx%d -> %dx%d", h, w, new_h, new_w);
    double r = fmin((double)new_h / h, (double)new_w / w);
    if (!p->scaleup) r = fmin(r, 1.0);
    double ratio_w = r, ratio_h = r;
    int unpad_w = pyround(w * r), unpad_h = pyround(h * r);
    if (unpad_w < 1) unpad_w = 1;
    if (unpad_h < 1) unpad_h = 1;
    double dw = new_w - unpad_w, dh = new_h - unpad_h;
    if (p->auto_pad) {
        int st = p->stride > 0 ? p->stride : 32;
        dw = fmod(dw, st), dh = fmod(dh, st);
        if (dw < 0) dw += st;
        if (dh < 0) dh += st;
    } else if (p->scale_fill) {
        dw = dh = 0;
        unpad_w = new_w, unpad_h = new_h;
        ratio_w = (double)new_w / w, ratio_h = (double)new_h / h;
    }
    if (p->center) dw /= 2, dh /= 2;
    int top = p->center ? pyround(dh - 0.1) : 0, bottom = pyround(dh + 0.1);
    int left = p->center ? pyround(dw - 0.1) : 0, right = pyround(dw + 0.1);
    int out_w = unpad_w + left + right, out_h = unpad_h + top + bottom;

    cy_image rs = {0}, out = {0};
    const cy_image *from = &s->img;
    if (unpad_w != w || unpad_h != h) {
        CY_TRY(cy_aug_resize(&s->img, unpad_h, unpad_w, &rs, err));
        from = &rs;
    }
    cy_status st = cy_image_alloc(&out, out_h, out_w, cn, err);
    if (st != CY_OK) {
        cy_image_free(&rs);
        return st;
    }
    /* copyMakeBorder(top, bottom, left, right, BORDER_CONSTANT, 114) */
    const size_t orow = (size_t)out_w * cn, irow = (size_t)unpad_w * cn;
    for (int y = 0; y < out_h; y++) {
        uint8_t *D = out.data + y * orow;
        int sy = y - top;
        if (sy < 0 || sy >= unpad_h) {
            memset(D, p->pad_value, orow);
            continue;
        }
        memset(D, p->pad_value, (size_t)left * cn);
        memcpy(D + (size_t)left * cn, from->data + sy * irow, irow);
        memset(D + (size_t)(left + unpad_w) * cn, p->pad_value, (size_t)right * cn);
    }
    cy_image_free(&rs);
    cy_aug_sample_set_image(s, &out);
    for (int i = 0; i < s->n; i++) {
        cy_aug_box *b = &s->boxes[i];
        b->x1 = (float)(b->x1 * ratio_w) + left, b->x2 = (float)(b->x2 * ratio_w) + left;
        b->y1 = (float)(b->y1 * ratio_h) + top, b->y2 = (float)(b->y2 * ratio_h) + top;
    }
    /* Instances.scale then add_padding: float32 points times a Python float */
    const float rw = (float)ratio_w, rh = (float)ratio_h;
    for (int i = 0; i < s->seg.n; i++) {
        float *q = cy_aug_seg_pts(&s->seg, i);
        for (int k = 0, l = cy_aug_seg_len(&s->seg, i); k < l; k++) {
            q[2 * k] *= rw, q[2 * k + 1] *= rh;
            q[2 * k] += (float)left, q[2 * k + 1] += (float)top;
        }
    }
    if (info) {
        info->ratio_w = ratio_w, info->ratio_h = ratio_h;
        info->left = left, info->top = top;
        info->unpad_w = unpad_w, info->unpad_h = unpad_h;
    }
    return CY_OK;
}

/* ---- Mosaic ---- */

int cy_aug_mosaic_border(int imgsz) {
    /* Python: -imgsz // 2 floors */
    int q = -imgsz / 2;
    if (-imgsz % 2 != 0 && imgsz > 0) q -= 1;
    return q;
}

static inline int imax(int a, int b) { return a > b ? a : b; }
static inline int imin(int a, int b) { return a < b ? a : b; }

/* Mosaic's labels with polygons (_update_labels, _cat_labels): shifted by
 * the tile offsets, concatenated (counts unified), clipped to the canvas,
 * zero-area boxes dropped with their polygons. out->img is made; out's
 * boxes are empty with room for all. */
static cy_status mosaic_polygons(const cy_aug_sample *const tiles[4], int rect[4][8], int S,
                                 cy_aug_sample *out, cy_error *err) {
    cy_polygons all = {0};
    cy_status st = CY_OK;
    for (int i = 0; i < 4 && st == CY_OK; i++) {
        const cy_aug_sample *t = tiles[i];
        const float padw = (float)(rect[i][0] - rect[i][4]), padh = (float)(rect[i][1] - rect[i][5]);
        const int first = all.n;
        st = cy_aug_seg_concat(&all, &t->seg, NULL, 0, &all, err);
        for (int k = 0; k < t->n && st == CY_OK; k++) {
            cy_aug_box b = t->boxes[k];
            b.x1 += padw, b.x2 += padw, b.y1 += padh, b.y2 += padh;
            out->boxes[out->n++] = b;
            cy_aug_seg_shift(&all, first + k, padw, padh);
        }
    }
    uint8_t *keep = st == CY_OK ? malloc((size_t)(out->n > 0 ? out->n : 1)) : NULL;
    if (st == CY_OK && !keep) st = cy_fail(err, CY_ERR_MEMORY, "mosaic: out of memory");
    if (st != CY_OK) {
        cy_polygons_free(&all);
        cy_aug_sample_free(out);
        return st;
    }
    out->seg = all;
    const float F = (float)S;
    for (int i = 0; i < out->n; i++) {
        cy_aug_box *b = &out->boxes[i];
        b->x1 = clampf(b->x1, 0, F), b->x2 = clampf(b->x2, 0, F);
        b->y1 = clampf(b->y1, 0, F), b->y2 = clampf(b->y2, 0, F);
        cy_aug_seg_clip(&out->seg, i, 0, 0, F, F);
        keep[i] = (b->x2 - b->x1) * (b->y2 - b->y1) > 0;
    }
    cy_aug_sample_compact(out, keep);
    free(keep);
    return CY_OK;
}

cy_status cy_aug_mosaic4_at(const cy_aug_sample *const tiles[4], int imgsz, int xc, int yc,
                            cy_aug_sample *out, cy_error *err) {
    const int s = imgsz, S = 2 * imgsz, cn = tiles[0]->img.c;
    memset(out, 0, sizeof *out);
    int total = 0, with_seg = 0;
    for (int i = 0; i < 4; i++) {
        if (tiles[i]->img.c != cn || !tiles[i]->img.data)
            return cy_fail(err, CY_ERR_ARG, "mosaic: tile %d has %d channels, tile 0 %d", i,
                           tiles[i]->img.c, cn);
        total += tiles[i]->n;
        with_seg |= tiles[i]->seg.n > 0;
        for (int k = 0; k < i; k++) CY_TRY(cy_aug_seg_compatible(tiles[k], tiles[i], "mosaic", err));
    }
    (void)s;
    CY_TRY(cy_image_alloc(&out->img, S, S, cn, err));
    if (cy_aug_sample_reserve(out, total, err) != CY_OK) {
        cy_aug_sample_free(out);
        return CY_ERR_MEMORY;
    }
    int rect[4][8]; /* x1a y1a x2a y2a x1b y1b x2b y2b */
    for (int i = 0; i < 4; i++) {
        const int h = tiles[i]->img.h, w = tiles[i]->img.w;
        int x1a, y1a, x2a, y2a, x1b, y1b, x2b, y2b;
        if (i == 0) { /* top left */
            x1a = imax(xc - w, 0), y1a = imax(yc - h, 0), x2a = xc, y2a = yc;
            x1b = w - (x2a - x1a), y1b = h - (y2a - y1a), x2b = w, y2b = h;
        } else if (i == 1) { /* top right */
            x1a = xc, y1a = imax(yc - h, 0), x2a = imin(xc + w, S), y2a = yc;
            x1b = 0, y1b = h - (y2a - y1a), x2b = imin(w, x2a - x1a), y2b = h;
        } else if (i == 2) { /* bottom left */
            x1a = imax(xc - w, 0), y1a = yc, x2a = xc, y2a = imin(S, yc + h);
            x1b = w - (x2a - x1a), y1b = 0, x2b = w, y2b = imin(y2a - y1a, h);
        } else { /* bottom right */
            x1a = xc, y1a = yc, x2a = imin(xc + w, S), y2a = imin(S, yc + h);
            x1b = 0, y1b = 0, x2b = imin(w, x2a - x1a), y2b = imin(y2a - y1a, h);
        }
        int r[8] = {x1a, y1a, x2a, y2a, x1b, y1b, x2b, y2b};
        memcpy(rect[i], r, sizeof r);
    }
    /* canvas: 114 everywhere a tile does not cover, row by row */
    const size_t row = (size_t)S * cn;
    memset(out->img.data, 114, row * S);
    for (int i = 0; i < 4; i++) {
        const int *r = rect[i];
        int cw = imin(r[2] - r[0], r[6] - r[4]), ch = imin(r[3] - r[1], r[7] - r[5]);
        if (cw <= 0 || ch <= 0) continue;
        const cy_image *im = &tiles[i]->img;
        for (int y = 0; y < ch; y++)
            memcpy(out->img.data + (size_t)(r[1] + y) * row + (size_t)r[0] * cn,
                   im->data + ((size_t)(r[5] + y) * im->w + r[4]) * cn, (size_t)cw * cn);
    }
    if (with_seg) return mosaic_polygons(tiles, rect, S, out, err);
    for (int i = 0; i < 4; i++) {
        float padw = (float)(rect[i][0] - rect[i][4]), padh = (float)(rect[i][1] - rect[i][5]);
        for (int k = 0; k < tiles[i]->n; k++) {
            cy_aug_box b = tiles[i]->boxes[k];
            b.x1 += padw, b.x2 += padw, b.y1 += padh, b.y2 += padh;
            b.x1 = clampf(b.x1, 0, (float)S), b.x2 = clampf(b.x2, 0, (float)S);
            b.y1 = clampf(b.y1, 0, (float)S), b.y2 = clampf(b.y2, 0, (float)S);
            if ((b.x2 - b.x1) * (b.y2 - b.y1) > 0) out->boxes[out->n++] = b;
        }
    }
    return CY_OK;
}

cy_status cy_aug_mosaic4(const cy_aug_sample *const tiles[4], int imgsz, cy_aug_rng *rng,
                         cy_aug_sample *out, cy_error *err) {
    int bd = cy_aug_mosaic_border(imgsz);
    /* yc, xc = (int(random.uniform(-x, 2 * s + x)) for x in self.border) */
    int yc = (int)cy_aug_rng_uniform(rng, -bd, 2.0 * imgsz + bd);
    int xc = (int)cy_aug_rng_uniform(rng, -bd, 2.0 * imgsz + bd);
    return cy_aug_mosaic4_at(tiles, imgsz, xc, yc, out, err);
}

/* ---- RandomPerspective ---- */

void cy_aug_affine_sample(const cy_aug_hyp *hyp, cy_aug_rng *rng, cy_aug_affine_draw *d) {
    d->persp_x = cy_aug_rng_uniform(rng, -hyp->perspective, hyp->perspective);
    d->persp_y = cy_aug_rng_uniform(rng, -hyp->perspective, hyp->perspective);
    d->angle = cy_aug_rng_uniform(rng, -hyp->degrees, hyp->degrees);
    d->scale = cy_aug_rng_uniform(rng, 1 - hyp->scale, 1 + hyp->scale);
    d->shear_x = cy_aug_rng_uniform(rng, -hyp->shear, hyp->shear);
    d->shear_y = cy_aug_rng_uniform(rng, -hyp->shear, hyp->shear);
    d->trans_x = cy_aug_rng_uniform(rng, 0.5 - hyp->translate, 0.5 + hyp->translate);
    d->trans_y = cy_aug_rng_uniform(rng, 0.5 - hyp->translate, 0.5 + hyp->translate);
}

/* numpy's float32 3x3 @ 3x3 (OpenBLAS sgemm): acc = a0 b0, then two fused
 * multiply-adds, one float32 rounding each */
static void mat3_mul_f32(const double a[9], const double b[9], double r[9]) {
    double t[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            float acc = (float)a[i * 3] * (float)b[j];
            acc = fmaf((float)a[i * 3 + 1], (float)b[3 + j], acc);
            acc = fmaf((float)a[i * 3 + 2], (float)b[6 + j], acc);
            t[i * 3 + j] = acc;
        }
    memcpy(r, t, sizeof t);
}

void cy_aug_affine_matrix(const cy_aug_affine_draw *d, int in_w, int in_h, int out_w,
                          int out_h, double M[9]) {
    /* each factor is a float32 matrix upstream */
    double C[9] = {1, 0, (float)(-in_w / 2.0), 0, 1, (float)(-in_h / 2.0), 0, 0, 1};
    double P[9] = {1, 0, 0, 0, 1, 0, (float)d->persp_x, (float)d->persp_y, 1};
    /* cv2.getRotationMatrix2D(angle=a, center=(0, 0), scale=s) */
    double a = d->angle * (M_PI / 180.0);
    double al = cos(a) * d->scale, be = sin(a) * d->scale;
    double R[9] = {(float)al, (float)be, 0, (float)-be, (float)al, 0, 0, 0, 1};
    double S[9] = {1, (float)tan(d->shear_x * M_PI / 180), 0,
                   (float)tan(d->shear_y * M_PI / 180), 1, 0, 0, 0, 1};
    double T[9] = {1, 0, (float)(d->trans_x * out_w), 0, 1, (float)(d->trans_y * out_h), 0, 0, 1};
    /* M = T @ S @ R @ P @ C, evaluated as Python does: left to right */
    double t[9];
    mat3_mul_f32(T, S, t);
    mat3_mul_f32(t, R, t);
    mat3_mul_f32(t, P, t);
    mat3_mul_f32(t, C, M);
}

int cy_aug_box_candidate(const cy_aug_box *b1, const cy_aug_box *b2, float wh_thr,
                         float ar_thr, float area_thr) {
    const float eps = 1e-16f;
    float w1 = b1->x2 - b1->x1, h1 = b1->y2 - b1->y1;
    float w2 = b2->x2 - b2->x1, h2 = b2->y2 - b2->y1;
    float ar = fmaxf(w2 / (h2 + eps), h2 / (w2 + eps));
    return w2 > wh_thr && h2 > wh_thr && w2 * h2 / (w1 * h1 + eps) > area_thr && ar < ar_thr;
}

static int is_identity(const double M[9]) {
    static const double I[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    for (int i = 0; i < 9; i++)
        if (M[i] != I[i]) return 0;
    return 1;
}

cy_status cy_aug_perspective_apply(cy_aug_sample *s, const cy_aug_affine_draw *d,
                                   int perspective, int border, cy_error *err) {
    const int in_w = s->img.w, in_h = s->img.h;
    const int out_w = in_w + 2 * border, out_h = in_h + 2 * border;
    if (out_w <= 0 || out_h <= 0)
        return cy_fail(err, CY_ERR_ARG, "perspective: border %d leaves no image of %dx%d",
                       border, in_h, in_w);
    double M[9];
    cy_aug_affine_matrix(d, in_w, in_h, out_w, out_h, M);
    if (border != 0 || !is_identity(M)) {
        cy_image out = {0};
        CY_TRY(cy_image_alloc(&out, out_h, out_w, s->img.c, err));
        if (perspective)
            cy_aug_warp_perspective(&s->img, &out, M, 114);
        else
            cy_aug_warp_affine(&s->img, &out, M, 114);
        cy_aug_sample_set_image(s, &out);
    }
    if (s->seg.n) return cy_aug_seg_perspective(s, M, out_w, out_h, d->scale, err);
    /* boxes: map the 4 corners, enclose, clip, filter against the scaled original */
    int j = 0;
    for (int i = 0; i < s->n; i++) {
        const cy_aug_box b = s->boxes[i];
        const float cx[4] = {b.x1, b.x2, b.x1, b.x2}, cyy[4] = {b.y1, b.y2, b.y2, b.y1};
        float xmin = INFINITY, ymin = INFINITY, xmax = -INFINITY, ymax = -INFINITY;
        for (int k = 0; k < 4; k++) {
            double X = M[0] * cx[k] + M[1] * cyy[k] + M[2];
            double Y = M[3] * cx[k] + M[4] * cyy[k] + M[5];
            if (perspective) {
                double W = M[6] * cx[k] + M[7] * cyy[k] + M[8];
                X /= W, Y /= W;
            }
            float fx = (float)X, fy = (float)Y;
            if (!(fx >= xmin)) xmin = fx; /* NaN-safe: a NaN corner poisons the box */
            if (!(fx <= xmax)) xmax = fx;
            if (!(fy >= ymin)) ymin = fy;
            if (!(fy <= ymax)) ymax = fy;
        }
        cy_aug_box nb = {b.cls, clampf(xmin, 0, (float)out_w), clampf(ymin, 0, (float)out_h),
                         clampf(xmax, 0, (float)out_w), clampf(ymax, 0, (float)out_h)};
        float sc = (float)d->scale;
        cy_aug_box ob = {b.cls, b.x1 * sc, b.y1 * sc, b.x2 * sc, b.y2 * sc};
        if (isfinite(nb.x1) && isfinite(nb.y1) && isfinite(nb.x2) && isfinite(nb.y2) &&
            cy_aug_box_candidate(&ob, &nb, 2, 100, 0.1f))
            s->boxes[j++] = nb;
    }
    s->n = j;
    return CY_OK;
}

cy_status cy_aug_random_perspective(cy_aug_sample *s, const cy_aug_hyp *hyp, int border,
                                    cy_aug_rng *rng, cy_error *err) {
    cy_aug_affine_draw d;
    cy_aug_affine_sample(hyp, rng, &d);
    return cy_aug_perspective_apply(s, &d, hyp->perspective != 0, border, err);
}

/* ---- flips ---- */

void cy_aug_fliplr(cy_aug_sample *s) {
    const int w = s->img.w, h = s->img.h, cn = s->img.c;
    for (int y = 0; y < h; y++) {
        uint8_t *row = s->img.data + (size_t)y * w * cn;
        for (int a = 0, b = w - 1; a < b; a++, b--)
            for (int k = 0; k < cn; k++) {
                uint8_t t = row[a * cn + k];
                row[a * cn + k] = row[b * cn + k];
                row[b * cn + k] = t;
            }
    }
    for (int i = 0; i < s->n; i++) {
        float x1 = s->boxes[i].x1;
        s->boxes[i].x1 = w - s->boxes[i].x2;
        s->boxes[i].x2 = w - x1;
    }
    for (int i = 0; i < s->seg.n; i++) {
        float *q = cy_aug_seg_pts(&s->seg, i);
        for (int k = 0, l = cy_aug_seg_len(&s->seg, i); k < l; k++) q[2 * k] = (float)w - q[2 * k];
    }
}

void cy_aug_flipud(cy_aug_sample *s) {
    const int h = s->img.h;
    const size_t row = (size_t)s->img.w * s->img.c;
    uint8_t tmp[4096];
    for (int a = 0, b = h - 1; a < b; a++, b--) {
        uint8_t *ra = s->img.data + a * row, *rb = s->img.data + b * row;
        for (size_t o = 0; o < row; o += sizeof tmp) {
            size_t n = row - o < sizeof tmp ? row - o : sizeof tmp;
            memcpy(tmp, ra + o, n);
            memcpy(ra + o, rb + o, n);
            memcpy(rb + o, tmp, n);
        }
    }
    for (int i = 0; i < s->n; i++) {
        float y1 = s->boxes[i].y1;
        s->boxes[i].y1 = h - s->boxes[i].y2;
        s->boxes[i].y2 = h - y1;
    }
    for (int i = 0; i < s->seg.n; i++) {
        float *q = cy_aug_seg_pts(&s->seg, i);
        for (int k = 0, l = cy_aug_seg_len(&s->seg, i); k < l; k++) q[2 * k + 1] = (float)h - q[2 * k + 1];
    }
}

void cy_aug_random_flip(cy_aug_sample *s, int vertical, float p, cy_aug_rng *rng) {
    if (cy_aug_rng_unit(rng) < p) {
        if (vertical)
            cy_aug_flipud(s);
        else
            cy_aug_fliplr(s);
    }
}

/* ---- MixUp / CutMix ---- */

static cy_status append_boxes(cy_aug_sample *s, const cy_aug_box *b, int n, cy_error *err) {
    CY_TRY(cy_aug_sample_reserve(s, s->n + n, err));
    if (n) memcpy(s->boxes + s->n, b, sizeof *b * (size_t)n);
    s->n += n;
    return CY_OK;
}

cy_status cy_aug_mixup_apply(cy_aug_sample *s, const cy_aug_sample *other, double r,
                             cy_error *err) {
    if (other->img.h != s->img.h || other->img.w != s->img.w || other->img.c != s->img.c)
        return cy_fail(err, CY_ERR_ARG, "mixup: images differ in size (%dx%d vs %dx%d)",
                       s->img.h, s->img.w, other->img.h, other->img.w);
    CY_TRY(cy_aug_seg_compatible(s, other, "mixup", err));
    if (s->seg.n || other->seg.n) CY_TRY(cy_aug_seg_concat(&s->seg, &other->seg, NULL, 0, &s->seg, err));
    CY_TRY(append_boxes(s, other->boxes, other->n, err));
    const size_t n = (size_t)s->img.h * s->img.w * s->img.c;
    const double q = 1 - r;
    uint8_t *a = s->img.data;
    const uint8_t *b = other->img.data;
    /* (img * r + img2 * (1 - r)).astype(uint8), float64 */
    for (size_t i = 0; i < n; i++) a[i] = (uint8_t)(int)(a[i] * r + b[i] * q);
    return CY_OK;
}

cy_status cy_aug_mixup(cy_aug_sample *s, const cy_aug_sample *other, cy_aug_rng *rng,
                       cy_error *err) {
    return cy_aug_mixup_apply(s, other, cy_aug_rng_beta(rng, 32.0, 32.0), err);
}

/* bbox_ioa: intersection over the area of b (eps 1e-7) */
static float ioa(const float a[4], const cy_aug_box *b) {
    float iw = fminf(a[2], b->x2) - fmaxf(a[0], b->x1);
    float ih = fminf(a[3], b->y2) - fmaxf(a[1], b->y1);
    if (iw < 0) iw = 0;
    if (ih < 0) ih = 0;
    return iw * ih / ((b->x2 - b->x1) * (b->y2 - b->y1) + 1e-7f);
}

cy_status cy_aug_cutmix(cy_aug_sample *s, const cy_aug_sample *other, cy_aug_rng *rng,
                        cy_error *err) {
    if (other->img.h != s->img.h || other->img.w != s->img.w || other->img.c != s->img.c)
        return cy_fail(err, CY_ERR_ARG, "cutmix: images differ in size (%dx%d vs %dx%d)",
                       s->img.h, s->img.w, other->img.h, other->img.w);
    CY_TRY(cy_aug_seg_compatible(s, other, "cutmix", err));
    const int h = s->img.h, w = s->img.w, cn = s->img.c;
    /* a sample with polygons takes objects 1% inside the area, else 10% */
    const float thr = s->seg.n ? 0.01f : 0.1f;
    enum { NUM_AREAS = 3 };
    float areas[NUM_AREAS][4];
    int free_idx[NUM_AREAS], nfree = 0;
    for (int k = 0; k < NUM_AREAS; k++) {
        /* _rand_bbox, beta = 1 */
        double lam = cy_aug_rng_beta(rng, 1.0, 1.0);
        double cut = sqrt(1.0 - lam);
        int cut_w = (int)(w * cut), cut_h = (int)(h * cut);
        int cx = cy_aug_rng_int(rng, w), cyv = cy_aug_rng_int(rng, h);
        areas[k][0] = (float)imin(imax(cx - cut_w / 2, 0), w);
        areas[k][1] = (float)imin(imax(cyv - cut_h / 2, 0), h);
        areas[k][2] = (float)imin(imax(cx + cut_w / 2, 0), w);
        areas[k][3] = (float)imin(imax(cyv + cut_h / 2, 0), h);
    }
    for (int k = 0; k < NUM_AREAS; k++) {
        float sum = 0;
        for (int i = 0; i < s->n; i++) sum += ioa(areas[k], &s->boxes[i]);
        if (sum <= 0) free_idx[nfree++] = k;
    }
    if (!nfree) return CY_OK;
    const float *area = areas[free_idx[cy_aug_rng_int(rng, nfree)]];
    const int x1 = (int)area[0], y1 = (int)area[1], x2 = (int)area[2], y2 = (int)area[3];
    int added = 0;
    for (int i = 0; i < other->n; i++)
        if (ioa(area, &other->boxes[i]) >= thr) added++;
    if (!added) return CY_OK;
    CY_TRY(cy_aug_sample_reserve(s, s->n + added, err));
    if (other->seg.n) {
        int *idx = malloc(sizeof *idx * (size_t)added), k = 0;
        if (!idx) return cy_fail(err, CY_ERR_MEMORY, "cutmix: out of memory");
        for (int i = 0; i < other->n; i++)
            if (ioa(area, &other->boxes[i]) >= thr) idx[k++] = i;
        const int first = s->seg.n;
        cy_status st = cy_aug_seg_concat(&s->seg, &other->seg, idx, added, &s->seg, err);
        free(idx);
        CY_TRY(st);
        /* add_padding(-x1, -y1); clip(x2 - x1, y2 - y1); add_padding(x1, y1) */
        for (int i = first; i < s->seg.n; i++) {
            cy_aug_seg_shift(&s->seg, i, (float)-x1, (float)-y1);
            cy_aug_seg_clip(&s->seg, i, 0, 0, (float)(x2 - x1), (float)(y2 - y1));
            cy_aug_seg_shift(&s->seg, i, (float)x1, (float)y1);
        }
    }
    for (int i = 0; i < other->n; i++) {
        if (!(ioa(area, &other->boxes[i]) >= thr)) continue;
        cy_aug_box b = other->boxes[i];
        /* add_padding(-x1, -y1); clip(x2 - x1, y2 - y1); add_padding(x1, y1) */
        b.x1 = clampf(b.x1 - x1, 0, (float)(x2 - x1)) + x1;
        b.x2 = clampf(b.x2 - x1, 0, (float)(x2 - x1)) + x1;
        b.y1 = clampf(b.y1 - y1, 0, (float)(y2 - y1)) + y1;
        b.y2 = clampf(b.y2 - y1, 0, (float)(y2 - y1)) + y1;
        s->boxes[s->n++] = b;
    }
    for (int y = y1; y < y2; y++)
        memcpy(s->img.data + ((size_t)y * w + x1) * cn, other->img.data + ((size_t)y * w + x1) * cn,
               (size_t)(x2 - x1) * cn);
    return CY_OK;
}

/* ---- pipeline ---- */

/* Mosaic's partners may come from the loader's buffer (pick); MixUp's and
 * CutMix's are drawn from the whole dataset, as BaseMixTransform does. */
static int pick_mosaic_partner(const cy_aug_pipeline *p, cy_aug_rng *rng) {
    if (p->pick) return p->pick(p->ctx, rng);
    return cy_aug_rng_int(rng, p->n_images);
}

static cy_status load_one(const cy_aug_pipeline *p, int index, cy_aug_sample *out,
                          cy_error *err) {
    memset(out, 0, sizeof *out);
    cy_status st = p->load(p->ctx, index, out, err);
    if (st != CY_OK) {
        cy_aug_sample_free(out);
        return st;
    }
    if (!out->img.data || out->img.h <= 0 || out->img.w <= 0) {
        cy_aug_sample_free(out);
        return cy_fail(err, CY_ERR_ARG, "augment: loader gave no image for index %d", index);
    }
    return CY_OK;
}

/* pre_transform = Compose([Mosaic, RandomPerspective(pre_transform=LetterBox)]),
 * with CopyPaste between them (flip mode) or after them (mixup mode, whose
 * partner gets Mosaic and RandomPerspective only: with_cp = 0) */
static cy_status pre_transform(const cy_aug_pipeline *p, int index, cy_aug_rng *rng,
                               cy_aug_sample *out, int with_cp, cy_error *err);

/* CopyPaste in mixup mode: BaseMixTransform's gate, then a partner */
static cy_status copy_paste_mixup(const cy_aug_pipeline *p, cy_aug_rng *rng, cy_aug_sample *s,
                                  cy_error *err) {
    if (!s->seg.n || p->hyp.copy_paste == 0) return CY_OK;
    if (cy_aug_rng_unit(rng) > p->hyp.copy_paste) return CY_OK;
    cy_aug_sample other;
    CY_TRY(pre_transform(p, cy_aug_rng_int(rng, p->n_images), rng, &other, 0, err));
    cy_status st = cy_aug_copy_paste(s, &other, p->hyp.copy_paste, err);
    cy_aug_sample_free(&other);
    return st;
}

static cy_status pre_transform(const cy_aug_pipeline *p, int index, cy_aug_rng *rng,
                               cy_aug_sample *out, int with_cp, cy_error *err) {
    const int s = p->imgsz;
    cy_status st;
    memset(out, 0, sizeof *out);
    /* BaseMixTransform: `if random.uniform(0, 1) > p: skip` */
    int mosaic = !(cy_aug_rng_unit(rng) > p->hyp.mosaic) && p->hyp.mosaic > 0;
    int border = 0;
    if (mosaic) {
        cy_aug_sample t[4];
        memset(t, 0, sizeof t);
        int idx[4] = {index, 0, 0, 0};
        for (int i = 1; i < 4; i++) idx[i] = pick_mosaic_partner(p, rng);
        for (int i = 0; i < 4; i++) {
            st = load_one(p, idx[i], &t[i], err);
            if (st != CY_OK) {
                for (int k = 0; k < i; k++) cy_aug_sample_free(&t[k]);
                return st;
            }
        }
        const cy_aug_sample *tp[4] = {&t[0], &t[1], &t[2], &t[3]};
        st = cy_aug_mosaic4(tp, s, rng, out, err);
        for (int k = 0; k < 4; k++) cy_aug_sample_free(&t[k]);
        if (st != CY_OK) return st;
        border = cy_aug_mosaic_border(s);
    } else {
        CY_TRY(load_one(p, index, out, err));
        cy_aug_letterbox_params lb = cy_aug_letterbox_default();
        int rect = p->rect_h > 0 && p->rect_w > 0;
        st = cy_aug_letterbox(out, rect ? p->rect_h : s, rect ? p->rect_w : s, &lb, NULL, err);
        if (st != CY_OK) {
            cy_aug_sample_free(out);
            return st;
        }
    }
    const int cp = with_cp && p->hyp.copy_paste != 0;
    st = cp && !p->hyp.copy_paste_mixup ? cy_aug_copy_paste(out, NULL, p->hyp.copy_paste, err) : CY_OK;
    if (st == CY_OK) st = cy_aug_random_perspective(out, &p->hyp, border, rng, err);
    if (st == CY_OK && cp && p->hyp.copy_paste_mixup) st = copy_paste_mixup(p, rng, out, err);
    if (st != CY_OK) cy_aug_sample_free(out);
    return st;
}

cy_status cy_aug_train_sample(const cy_aug_pipeline *p, int index, cy_aug_rng *rng,
                              cy_aug_sample *out, cy_error *err) {
    if (!p || !p->load || p->imgsz <= 0 || p->n_images <= 0 || index < 0 || index >= p->n_images)
        return cy_fail(err, CY_ERR_ARG, "augment: bad pipeline or index %d", index);
    CY_TRY(pre_transform(p, index, rng, out, 1, err));
    cy_status st = CY_OK;
    /* MixUp, then CutMix: each draws its gate, then a pre-transformed partner */
    const float mix_p[2] = {p->hyp.mixup, p->hyp.cutmix};
    for (int m = 0; m < 2 && st == CY_OK; m++) {
        if (cy_aug_rng_unit(rng) > mix_p[m] || !(mix_p[m] > 0)) continue;
        cy_aug_sample other;
        st = pre_transform(p, cy_aug_rng_int(rng, p->n_images), rng, &other, 1, err);
        if (st != CY_OK) break;
        st = m == 0 ? cy_aug_mixup(out, &other, rng, err) : cy_aug_cutmix(out, &other, rng, err);
        cy_aug_sample_free(&other);
    }
    if (st != CY_OK) {
        cy_aug_sample_free(out);
        return st;
    }
    cy_aug_random_hsv(&out->img, p->hyp.hsv_h, p->hyp.hsv_s, p->hyp.hsv_v, rng);
    cy_aug_random_flip(out, 1, p->hyp.flipud, rng);
    cy_aug_random_flip(out, 0, p->hyp.fliplr, rng);
    return CY_OK;
}
