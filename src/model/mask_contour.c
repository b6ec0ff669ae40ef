/* findContours(RETR_EXTERNAL, CHAIN_APPROX_SIMPLE) and masks2segments'
 * merge, transcribed from the algorithms OpenCV and Ultralytics run (see
 * mask_contour.h); checked point for point against cv2 on fixtures. */
#include <stdlib.h>
#include <string.h>
#include "model/mask_contour.h"

/* chain codes 0..7: right, up-right, up, up-left, left, down-left, down,
 * down-right (OpenCV's icvCodeDeltas) */
static const int CODE_DX[8] = {1, 1, 0, -1, -1, -1, 0, 1};
static const int CODE_DY[8] = {0, -1, -1, -1, 0, 1, 1, 1};

typedef struct {
    int *xy;
    size_t n, cap;
} pts;

static int pts_push(pts *p, int x, int y) {
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        int *q = realloc(p->xy, cap * 2 * sizeof *q);
        if (!q) return 0;
        p->xy = q, p->cap = cap;
    }
    p->xy[2 * p->n] = x, p->xy[2 * p->n + 1] = y;
    p->n++;
    return 1;
}

/* icvFetchContour for an outer border starting at i0 (pixel (x, y) of the
 * mask): marks the border 2 (-126 where it is a right bound, which tells
 * the scan it is outside again) and appends the direction-change points */
static int fetch_outer(signed char *i0, const int *deltas, int x, int y, pts *out) {
    const signed char nbd = 2;
    signed char *i1, *i3, *i4 = NULL;
    int s = 4, s_end = 4, prev_s;
    do {
        s = (s - 1) & 7;
        i1 = i0 + deltas[s];
    } while (*i1 == 0 && s != s_end);
    if (s == s_end) { /* a lone pixel */
        *i0 = (signed char)(nbd | -128);
        return pts_push(out, x, y);
    }
    i3 = i0;
    prev_s = s ^ 4;
    for (;;) {
        s_end = s;
        while (s < 15) {
            i4 = i3 + deltas[++s];
            if (*i4 != 0) break;
        }
        s &= 7;
        if ((unsigned)(s - 1) < (unsigned)s_end) *i3 = (signed char)(nbd | -128);
        else if (*i3 == 1) *i3 = nbd;
        if (s != prev_s) {
            if (!pts_push(out, x, y)) return 0;
            prev_s = s;
        }
        x += CODE_DX[s], y += CODE_DY[s];
        if (i4 == i0 && i3 == i1) break;
        i3 = i4;
        s = (s + 4) & 7;
    }
    return 1;
}

void cy_contours_free(cy_contours *c) {
    if (!c) return;
    free(c->start);
    memset(c, 0, sizeof *c);
}

cy_status cy_find_contours(const uint8_t *mask, int h, int w, cy_contours *out, cy_error *err) {
    memset(out, 0, sizeof *out);
    if (h < 1 || w < 1) return cy_fail(err, CY_ERR_ARG, "find_contours: bad size %dx%d", h, w);
    /* a one-pixel frame of background, as OpenCV's copyMakeBorder */
    int step = w + 2;
    signed char *img = calloc((size_t)(h + 2) * step, 1);
    pts p = {0};
    int *starts = NULL, ns = 0, cap = 0, ok = img != NULL;
    for (int y = 0; ok && y < h; y++)
        for (int x = 0; x < w; x++) img[(size_t)(y + 1) * step + x + 1] = mask[(size_t)y * w + x] != 0;
    int deltas[16] = {1, -step + 1, -step, -step - 1, -1, step - 1, step, step + 1};
    memcpy(deltas + 8, deltas, 8 * sizeof *deltas);
    for (int y = 1; ok && y <= h; y++) {
        signed char *row = img + (size_t)y * step;
        int prev = 0, lnbd = 0; /* lnbd: the last border pixel of this row (0: the frame) */
        for (int x = 1; ok && x <= w; x++) {
            int v = row[x];
            if (v == prev) continue;
            /* an outer border starts at 0 -> 1, unless the last border on the
             * row is a left one (positive): then we are inside a component */
            if (prev == 0 && v == 1 && row[lnbd] <= 0) {
                if (ns + 1 >= cap) {
                    cap = cap ? 2 * cap : 16;
                    int *q = realloc(starts, (size_t)cap * sizeof *q);
                    if (!q) { ok = 0; break; }
                    starts = q;
                }
                starts[ns++] = (int)p.n;
                ok = fetch_outer(row + x, deltas, x - 1, y - 1, &p);
                prev = row[x]; /* the scan resumes after the start, on its mark */
                continue;
            }
            prev = v;
            if (prev & -2) lnbd = x;
        }
    }
    free(img);
    if (!ok) {
        free(p.xy), free(starts);
        return cy_fail(err, CY_ERR_MEMORY, "find_contours: out of memory");
    }
    /* one allocation, contours last found first (OpenCV prepends each) */
    out->start = malloc(((size_t)ns + 1) * sizeof(int) + p.n * 2 * sizeof(int) + 1);
    if (!out->start) {
        free(p.xy), free(starts);
        return cy_fail(err, CY_ERR_MEMORY, "find_contours: out of memory");
    }
    out->n = ns;
    out->xy = out->start + ns + 1;
    int o = 0;
    for (int k = ns - 1; k >= 0; k--) {
        int a = starts[k], b = k + 1 < ns ? starts[k + 1] : (int)p.n;
        out->start[ns - 1 - k] = o;
        memcpy(out->xy + 2 * o, p.xy + 2 * a, (size_t)(b - a) * 2 * sizeof(int));
        o += b - a;
    }
    out->start[ns] = o;
    free(p.xy), free(starts);
    return CY_OK;
}

/* min_index: the first (row-major) pair of closest points */
static void min_index(const int *a, int na, const int *b, int nb, int *ia, int *ib) {
    long long best = -1;
    for (int i = 0; i < na; i++)
        for (int j = 0; j < nb; j++) {
            long long dx = a[2 * i] - b[2 * j], dy = a[2 * i + 1] - b[2 * j + 1], d = dx * dx + dy * dy;
            if (best < 0 || d < best) best = d, *ia = i, *ib = j;
        }
}

/* merge_multi_segment of contours c into out (pushed points) */
static int merge_segments(const cy_contours *c, pts *out) {
    int n = c->n, ok = 1;
    /* each segment, rolled and closed in the first round, kept for the second */
    int **seg = calloc((size_t)n, sizeof *seg), *len = calloc((size_t)n, sizeof *len);
    int (*idx)[2] = calloc((size_t)n, sizeof *idx), *nidx = calloc((size_t)n, sizeof *nidx);
    if (!seg || !len || !idx || !nidx) ok = 0;
    for (int i = 1; ok && i < n; i++) {
        int a = 0, b = 0;
        min_index(c->xy + 2 * c->start[i - 1], c->start[i] - c->start[i - 1], c->xy + 2 * c->start[i],
                  c->start[i + 1] - c->start[i], &a, &b);
        idx[i - 1][nidx[i - 1]++] = a;
        idx[i][nidx[i]++] = b;
    }
    for (int i = 0; ok && i < n; i++) {
        int m = c->start[i + 1] - c->start[i], rev = 0;
        const int *src = c->xy + 2 * c->start[i];
        int i0 = idx[i][0], i1 = nidx[i] == 2 ? idx[i][1] : 0;
        if (nidx[i] == 2 && i0 > i1) { /* a middle segment runs the other way */
            rev = 1;
            i0 = m - 1 - i0, i1 = m - 1 - i1;
        }
        seg[i] = malloc(((size_t)m + 1) * 2 * sizeof(int));
        if (!seg[i]) { ok = 0; break; }
        len[i] = m + 1;
        for (int k = 0; k <= m; k++) { /* np.roll(-i0), then the first point again */
            int q = (k % m + i0) % m, s = rev ? m - 1 - q : q;
            seg[i][2 * k] = src[2 * s], seg[i][2 * k + 1] = src[2 * s + 1];
        }
        int end = i == 0 || i == n - 1 ? m + 1 : i1 - i0 + 1;
        for (int k = 0; ok && k < end; k++) ok = pts_push(out, seg[i][2 * k], seg[i][2 * k + 1]);
    }
    for (int i = n - 2; ok && i > 0; i--) { /* back along the middle segments */
        int d = abs(idx[i][1] - idx[i][0]);
        for (int k = d; ok && k < len[i]; k++) ok = pts_push(out, seg[i][2 * k], seg[i][2 * k + 1]);
    }
    for (int i = 0; seg && i < n; i++) free(seg[i]);
    free(seg), free(len), free(idx), free(nidx);
    return ok;
}

cy_status cy_mask_to_segment(const uint8_t *mask, int h, int w, int **xy, int *npts, cy_error *err) {
    *xy = NULL, *npts = 0;
    cy_contours c;
    CY_TRY(cy_find_contours(mask, h, w, &c, err));
    pts p = {0};
    int ok = 1;
    if (c.n == 1)
        for (int k = 0; ok && k < c.start[1]; k++) ok = pts_push(&p, c.xy[2 * k], c.xy[2 * k + 1]);
    else if (c.n > 1)
        ok = merge_segments(&c, &p);
    cy_contours_free(&c);
    if (!ok) {
        free(p.xy);
        return cy_fail(err, CY_ERR_MEMORY, "mask_to_segment: out of memory");
    }
    *xy = p.xy, *npts = (int)p.n;
    return CY_OK;
}
