/* Polygons through the augmentations: loading (resample + denormalize),
 * concatenation, filtering, segment2box and RandomPerspective's
 * apply_segments. Every coordinate operation is float32 in numpy's order
 * (Ultralytics keeps segments as float32, and NumPy 2 computes
 * float32 <op> Python scalar in float32), so that the masks rasterised from
 * the result match byte for byte. */
#pragma GCC optimize("fp-contract=off")
#include "data/augment_seg.h"
#include "data/polygon_mask.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* update_labels_info's resample count: 1000, or longest + 1 beyond it */
static int resample_count(const cy_polygons *p) {
    int longest = 0;
    for (int i = 0; i < p->n; i++)
        if (cy_aug_seg_len(p, i) > longest) longest = cy_aug_seg_len(p, i);
    return longest > 1000 ? longest + 1 : 1000;
}

cy_status cy_aug_sample_set_polygons(cy_aug_sample *s, const cy_polygons *norm, cy_error *err) {
    if (norm->n != s->n)
        return cy_fail(err, CY_ERR_ARG, "augment: %d polygons for %d boxes", norm->n, s->n);
    cy_polygons out = {0};
    if (norm->n) {
        const int m = resample_count(norm);
        CY_TRY(cy_polygons_alloc(&out, norm->n, norm->n * m, err));
        const float W = (float)s->img.w, H = (float)s->img.h;
        for (int i = 0; i < norm->n; i++) {
            out.start[i] = i * m;
            float *q = out.xy + 2 * (size_t)i * m;
            cy_status st = cy_resample_segment(cy_aug_seg_pts(norm, i), cy_aug_seg_len(norm, i), m, q, err);
            if (st != CY_OK) {
                cy_polygons_free(&out);
                return st;
            }
            for (int k = 0; k < m; k++) q[2 * k] *= W, q[2 * k + 1] *= H; /* denormalize */
        }
    }
    cy_polygons_free(&s->seg);
    s->seg = out;
    return CY_OK;
}

/* Instances.concatenate: counts differ -> every polygon to the longest */
static cy_status unify(cy_polygons *p, cy_error *err) {
    int longest = 0, differ = 0;
    for (int i = 0; i < p->n; i++) {
        int l = cy_aug_seg_len(p, i);
        if (i && l != longest) differ = 1;
        if (l > longest) longest = l;
    }
    if (!differ) return CY_OK;
    cy_polygons out;
    CY_TRY(cy_polygons_alloc(&out, p->n, p->n * longest, err));
    for (int i = 0; i < p->n; i++) {
        out.start[i] = i * longest;
        cy_status st = cy_resample_segment(cy_aug_seg_pts(p, i), cy_aug_seg_len(p, i), longest,
                                           out.xy + 2 * (size_t)i * longest, err);
        if (st != CY_OK) {
            cy_polygons_free(&out);
            return st;
        }
    }
    cy_polygons_free(p);
    *p = out;
    return CY_OK;
}

cy_status cy_aug_seg_concat(const cy_polygons *a, const cy_polygons *b, const int *bidx, int nb,
                            cy_polygons *out, cy_error *err) {
    if (!bidx) nb = b->n;
    int na = a->n, npts = na ? a->start[na] : 0;
    for (int k = 0; k < nb; k++) npts += cy_aug_seg_len(b, bidx ? bidx[k] : k);
    cy_polygons r;
    CY_TRY(cy_polygons_alloc(&r, na + nb, npts, err));
    if (na + nb == 0) {
        cy_polygons_free(out);
        *out = r;
        return CY_OK;
    }
    int o = 0;
    for (int i = 0; i < na + nb; i++) {
        const cy_polygons *src = i < na ? a : b;
        int j = i < na ? i : bidx ? bidx[i - na] : i - na, l = cy_aug_seg_len(src, j);
        r.start[i] = o;
        memcpy(r.xy + 2 * (size_t)o, cy_aug_seg_pts(src, j), sizeof(float) * 2 * (size_t)l);
        o += l;
    }
    cy_status st = unify(&r, err);
    if (st != CY_OK) {
        cy_polygons_free(&r);
        return st;
    }
    cy_polygons_free(out);
    *out = r;
    return CY_OK;
}

void cy_aug_seg_compact(cy_polygons *p, const uint8_t *keep) {
    int j = 0, o = 0;
    for (int i = 0; i < p->n; i++) {
        int l = cy_aug_seg_len(p, i), from = p->start[i];
        if (!keep[i]) continue;
        memmove(p->xy + 2 * (size_t)o, p->xy + 2 * (size_t)from, sizeof(float) * 2 * (size_t)l);
        p->start[j++] = o;
        o += l;
    }
    /* start[] is read before it is overwritten: start[j] <= start[i] for j <= i */
    p->start[j] = o;
    p->n = j;
    if (!j) cy_polygons_free(p);
}

void cy_aug_seg_shift(cy_polygons *p, int i, float dx, float dy) {
    float *q = cy_aug_seg_pts(p, i);
    for (int k = 0, l = cy_aug_seg_len(p, i); k < l; k++) q[2 * k] += dx, q[2 * k + 1] += dy;
}

static inline float clipf(float v, float lo, float hi) { return fminf(fmaxf(v, lo), hi); }

void cy_aug_seg_clip(cy_polygons *p, int i, float x1, float y1, float x2, float y2) {
    float *q = cy_aug_seg_pts(p, i);
    for (int k = 0, l = cy_aug_seg_len(p, i); k < l; k++) {
        /* np.clip = minimum(maximum(v, lo), hi); NaN stays NaN as there */
        float x = q[2 * k], y = q[2 * k + 1];
        q[2 * k] = x != x ? x : clipf(x, x1, x2);
        q[2 * k + 1] = y != y ? y : clipf(y, y1, y2);
    }
}

void cy_aug_sample_compact(cy_aug_sample *s, const uint8_t *keep) {
    int j = 0;
    for (int i = 0; i < s->n; i++)
        if (keep[i]) s->boxes[j++] = s->boxes[i];
    if (s->seg.n) cy_aug_seg_compact(&s->seg, keep);
    s->n = j;
}

cy_status cy_aug_seg_compatible(const cy_aug_sample *a, const cy_aug_sample *b, const char *what,
                                cy_error *err) {
    int a_boxes_only = a->n > 0 && a->seg.n == 0, b_boxes_only = b->n > 0 && b->seg.n == 0;
    if ((a->seg.n && b_boxes_only) || (b->seg.n && a_boxes_only))
        return cy_fail(err, CY_ERR_ARG, "%s: one sample has polygons, the other boxes without polygons", what);
    return CY_OK;
}

/* ---- segment2box ---- */

/* cv2.pointPolygonTest(contour, pt, measureDist=False) on float points:
 * 1 inside, 0 on an edge, -1 outside (OpenCV's crossing count) */
static int point_polygon_test(const float *xy, int n, float px, float py) {
    int counter = 0;
    float vx = xy[2 * (n - 1)], vy = xy[2 * (n - 1) + 1];
    for (int i = 0; i < n; i++) {
        float v0x = vx, v0y = vy;
        vx = xy[2 * i], vy = xy[2 * i + 1];
        if ((v0y <= py && vy <= py) || (v0y > py && vy > py) || (v0x < px && vx < px)) {
            if (py == vy && (px == vx || (py == v0y && ((v0x <= px && px <= vx) || (vx <= px && px <= v0x)))))
                return 0;
            continue;
        }
        double dist = (double)(py - v0y) * (vx - v0x) - (double)(px - v0x) * (vy - v0y);
        if (dist == 0) return 0;
        if (vy < v0y) dist = -dist;
        counter += dist > 0;
    }
    return counter % 2 == 0 ? -1 : 1;
}

void cy_aug_segment2box(const float *xy, int n, int w, int h, float box[4]) {
    box[0] = box[1] = box[2] = box[3] = 0;
    if (n <= 0) return;
    const float W = (float)w, H = (float)h;
    float xmin = xy[0], ymin = xy[1], xmax = xy[0], ymax = xy[1];
    for (int i = 1; i < n; i++) {
        float x = xy[2 * i], y = xy[2 * i + 1];
        xmin = fminf(xmin, x), xmax = fmaxf(xmax, x), ymin = fminf(ymin, y), ymax = fmaxf(ymax, y);
    }
    if (xmin >= 0 && ymin >= 0 && xmax <= W && ymax <= H) {
        box[0] = xmin, box[1] = ymin, box[2] = xmax, box[3] = ymax;
        return;
    }
    if (xmax < 0 || ymax < 0 || xmin > W || ymin > H) return;
    /* the polygon's part inside: inside points, border crossings, covered corners */
    const float bounds[4] = {0, W, 0, H}, lims[4] = {H, H, W, W};
    float lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    int any = 0;
#define TAKE(X, Y)                                                                    \
    do {                                                                              \
        float tx_ = (X), ty_ = (Y);                                                   \
        lo[0] = fminf(lo[0], tx_), hi[0] = fmaxf(hi[0], tx_);                         \
        lo[1] = fminf(lo[1], ty_), hi[1] = fmaxf(hi[1], ty_);                         \
        any = 1;                                                                      \
    } while (0)
    for (int i = 0; i < n; i++) {
        const float sx = xy[2 * i], sy = xy[2 * i + 1];
        const int j = i + 1 < n ? i + 1 : 0; /* np.roll(segment, -1) */
        const float dx = xy[2 * j] - sx, dy = xy[2 * j + 1] - sy;
        if (sx >= 0 && sy >= 0 && sx <= W && sy <= H) TAKE(sx, sy);
        for (int k = 0; k < 4; k++) {
            const int ax = k >= 2; /* axes (0, 0, 1, 1): x = 0, x = W, y = 0, y = H */
            float t = (bounds[k] - (ax ? sy : sx)) / (ax ? dy : dx);
            float ix = sx + t * dx, iy = sy + t * dy;
            float other = ax ? ix : iy;
            if (t >= 0 && t <= 1 && other >= 0 && other <= lims[k]) TAKE(ix, iy);
        }
    }
    const float corners[4][2] = {{0, 0}, {W, 0}, {0, H}, {W, H}};
    for (int c = 0; c < 4; c++)
        if (point_polygon_test(xy, n, corners[c][0], corners[c][1]) >= 0) TAKE(corners[c][0], corners[c][1]);
#undef TAKE
    if (any) box[0] = lo[0], box[1] = lo[1], box[2] = hi[0], box[3] = hi[1];
}

/* ---- RandomPerspective.apply_segments and the filter after it ---- */

cy_status cy_aug_seg_perspective(cy_aug_sample *s, const double M[9], int out_w, int out_h, double sc,
                                 cy_error *err) {
    uint8_t *keep = malloc((size_t)(s->n > 0 ? s->n : 1));
    if (!keep) return cy_fail(err, CY_ERR_MEMORY, "perspective: out of memory");
    float m[9];
    for (int k = 0; k < 9; k++) m[k] = (float)M[k];
    const float W = (float)out_w, H = (float)out_h;
    for (int i = 0; i < s->n; i++) {
        float *q = cy_aug_seg_pts(&s->seg, i);
        const int l = cy_aug_seg_len(&s->seg, i);
        /* xy1 @ M.T in float32 as OpenBLAS sgemm: a*b, then fused adds */
        for (int k = 0; k < l; k++) {
            const float x = q[2 * k], y = q[2 * k + 1];
            float r[3];
            for (int j = 0; j < 3; j++) {
                float acc = x * m[3 * j];
                acc = fmaf(y, m[3 * j + 1], acc);
                r[j] = acc + m[3 * j + 2];
            }
            q[2 * k] = r[0] / r[2], q[2 * k + 1] = r[1] / r[2];
        }
        float b[4];
        cy_aug_segment2box(q, l, out_w, out_h, b);
        cy_aug_seg_clip(&s->seg, i, b[0], b[1], b[2], b[3]);
        /* Instances.clip(w, h): boxes and points to the image */
        cy_aug_seg_clip(&s->seg, i, 0, 0, W, H);
        cy_aug_box nb = {s->boxes[i].cls, clipf(b[0], 0, W), clipf(b[1], 0, H), clipf(b[2], 0, W),
                         clipf(b[3], 0, H)};
        /* instances.scale(bbox_only): float32 boxes times a Python float */
        const cy_aug_box o = s->boxes[i];
        cy_aug_box ob = {o.cls, (float)(o.x1 * sc), (float)(o.y1 * sc), (float)(o.x2 * sc), (float)(o.y2 * sc)};
        keep[i] = (uint8_t)(isfinite(nb.x1) && isfinite(nb.y1) && isfinite(nb.x2) && isfinite(nb.y2) &&
                            cy_aug_box_candidate(&ob, &nb, 2, 100, 0.01f));
        s->boxes[i] = nb;
    }
    cy_aug_sample_compact(s, keep);
    free(keep);
    return CY_OK;
}
