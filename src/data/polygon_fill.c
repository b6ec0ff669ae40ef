/* cv2.fillPoly for one int32 contour on a uint8 mask, LINE_8, shift 0,
 * as OpenCV's drawing.cpp does it: every edge is first drawn as an
 * 8-connected Bresenham line (LineIterator, left to right, clipped to the
 * image), then the edges go into an edge table (x in 16.16 fixed point,
 * starting points moved to where the clipped line enters the image) and
 * each row between two active edges is filled from ceil(left) to
 * floor(right). The arithmetic is OpenCV's, in int64 with two's
 * complement wrap, so that odd inputs give OpenCV's pixels, not UB. */
#include <stdlib.h>
#include <string.h>
#include "data/polygon_mask.h"

enum { XY_SHIFT = 16, XY_ONE = 1 << XY_SHIFT };

typedef struct { int64_t x, y; } pt64;

static int64_t wmul(int64_t a, int64_t b) { return (int64_t)((uint64_t)a * (uint64_t)b); }
static int64_t wadd(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static int64_t wsub(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b); }
static int64_t wshl(int64_t a, int s) { return (int64_t)((uint64_t)a << s); }

/* OpenCV's clipLine(Size2l, Point2l&, Point2l&): Cohen-Sutherland with
 * the intersections computed in double and truncated. */
static int clip_line(int64_t w, int64_t h, pt64 *p1, pt64 *p2) {
    int64_t right = w - 1, bottom = h - 1;
    if (w <= 0 || h <= 0) return 0;
    int64_t *x1 = &p1->x, *y1 = &p1->y, *x2 = &p2->x, *y2 = &p2->y;
    int c1 = (*x1 < 0) + (*x1 > right) * 2 + (*y1 < 0) * 4 + (*y1 > bottom) * 8;
    int c2 = (*x2 < 0) + (*x2 > right) * 2 + (*y2 < 0) * 4 + (*y2 > bottom) * 8;
    if ((c1 & c2) == 0 && (c1 | c2) != 0) {
        int64_t a;
        if (c1 & 12) {
            a = c1 < 8 ? 0 : bottom;
            *x1 += (int64_t)((double)(a - *y1) * (double)(*x2 - *x1) / (double)(*y2 - *y1));
            *y1 = a;
            c1 = (*x1 < 0) + (*x1 > right) * 2;
        }
        if (c2 & 12) {
            a = c2 < 8 ? 0 : bottom;
            *x2 += (int64_t)((double)(a - *y2) * (double)(*x2 - *x1) / (double)(*y2 - *y1));
            *y2 = a;
            c2 = (*x2 < 0) + (*x2 > right) * 2;
        }
        if ((c1 & c2) == 0 && (c1 | c2) != 0) {
            if (c1) {
                a = c1 == 1 ? 0 : right;
                *y1 += (int64_t)((double)(a - *x1) * (double)(*y2 - *y1) / (double)(*x2 - *x1));
                *x1 = a;
                c1 = 0;
            }
            if (c2) {
                a = c2 == 1 ? 0 : right;
                *y2 += (int64_t)((double)(a - *x2) * (double)(*y2 - *y1) / (double)(*x2 - *x1));
                *x2 = a;
                c2 = 0;
            }
        }
    }
    return (c1 | c2) == 0;
}

static int outside(int64_t x, int64_t y, int w, int h) {
    return (uint64_t)(uint32_t)(int32_t)x >= (uint64_t)(unsigned)w ||
           (uint64_t)(uint32_t)(int32_t)y >= (uint64_t)(unsigned)h;
}

/* OpenCV's Line() with LineIterator(img, p1, p2, 8, leftToRight=true):
 * int points (clipped through the int64 clip and back to int). */
static void draw_line(uint8_t *m, int h, int w, int x1, int y1, int x2, int y2, uint8_t color) {
    if ((unsigned)x1 >= (unsigned)w || (unsigned)x2 >= (unsigned)w || (unsigned)y1 >= (unsigned)h ||
        (unsigned)y2 >= (unsigned)h) {
        pt64 a = {x1, y1}, b = {x2, y2};
        if (!clip_line(w, h, &a, &b)) return;
        x1 = (int)a.x, y1 = (int)a.y, x2 = (int)b.x, y2 = (int)b.y;
    }
    int dx = x2 - x1, dy = y2 - y1, sy = 1;
    if (dx < 0) {
        dx = -dx;
        dy = -dy;
        x1 = x2;
        y1 = y2;
    }
    if (dy < 0) dy = -dy, sy = -1;
    int vert = dy > dx;
    if (vert) {
        int t = dx;
        dx = dy;
        dy = t;
    }
    int err = dx - (dy + dy), plus = dx + dx, minus = -(dy + dy);
    int x = x1, y = y1;
    for (int i = 0; i <= dx; i++) {
        m[(size_t)y * w + x] = color;
        int step = err < 0;
        err += minus + (step ? plus : 0);
        if (vert) {
            y += sy;
            x += step;
        } else {
            x += 1;
            y += step ? sy : 0;
        }
    }
}

typedef struct edge {
    int y0, y1;
    int64_t x, dx;
    struct edge *next;
} edge;

static int cmp_edges(const void *pa, const void *pb) {
    const edge *a = pa, *b = pb;
    if (a->y0 != b->y0) return a->y0 < b->y0 ? -1 : 1;
    if (a->x != b->x) return a->x < b->x ? -1 : 1;
    if (a->dx != b->dx) return a->dx < b->dx ? -1 : 1;
    return 0;
}

static int32_t to_int32(float v) {
    /* what numpy's float32 -> int32 cast gives on x86 (cvttss2si):
     * truncation, INT32_MIN for NaN and out of range */
    if (!(v > -2147483904.0f && v < 2147483648.0f)) return INT32_MIN;
    return (int32_t)v;
}

/* CollectPolyEdges: draws the outline, returns the edge count. */
static int collect_edges(uint8_t *m, int h, int w, const float *xy, int npts, uint8_t color, edge *edges) {
    int ne = 0;
    pt64 p0 = {wshl(to_int32(xy[2 * (npts - 1)]), XY_SHIFT), to_int32(xy[2 * (npts - 1) + 1])};
    for (int i = 0; i < npts; i++) {
        pt64 p1 = {wshl(to_int32(xy[2 * i]), XY_SHIFT), to_int32(xy[2 * i + 1])};
        pt64 t0 = {(wadd(p0.x, XY_ONE >> 1)) >> XY_SHIFT, p0.y};
        pt64 t1 = {(wadd(p1.x, XY_ONE >> 1)) >> XY_SHIFT, p1.y};
        pt64 c0 = p0, c1 = p1;
        draw_line(m, h, w, (int)t0.x, (int)t0.y, (int)t1.x, (int)t1.y, color);
        if (outside(t0.x, t0.y, w, h) || outside(t1.x, t1.y, w, h)) {
            clip_line(w, h, &t0, &t1);
            if (t0.y != t1.y) {
                c0.y = t0.y;
                c1.y = t1.y;
            }
        }
        c0.x = wshl(t0.x, XY_SHIFT);
        c1.x = wshl(t1.x, XY_SHIFT);
        if (p0.y != p1.y) {
            edge *e = &edges[ne++];
            e->dx = wsub(c1.x, c0.x) / wsub(c1.y, c0.y);
            if (p0.y < p1.y) {
                e->y0 = (int)p0.y;
                e->y1 = (int)p1.y;
                e->x = wadd(c0.x, wmul(wsub(p0.y, c0.y), e->dx));
            } else {
                e->y0 = (int)p1.y;
                e->y1 = (int)p0.y;
                e->x = wadd(c1.x, wmul(wsub(p1.y, c1.y), e->dx));
            }
            e->next = NULL;
        }
        p0 = p1;
    }
    return ne;
}

static void hline(uint8_t *row, int w, int64_t xa, int64_t xb, uint8_t color) {
    int x1 = (int)(wadd(xa, XY_ONE - 1) >> XY_SHIFT), x2 = (int)(xb >> XY_SHIFT);
    if (x1 < w && x2 >= 0) {
        if (x1 < 0) x1 = 0;
        if (x2 >= w) x2 = w - 1;
        if (x2 >= x1) memset(row + x1, color, (size_t)(x2 - x1 + 1));
    }
}

/* FillEdgeCollection, pointer for pointer. */
static void fill_edges(uint8_t *m, int h, int w, edge *edges, int total, uint8_t color) {
    if (total < 2) return;
    int y_max = INT32_MIN, y_min = INT32_MAX;
    int64_t x_max = INT64_MIN, x_min = INT64_MAX;
    for (int i = 0; i < total; i++) {
        edge *e1 = &edges[i];
        int64_t x1 = wadd(e1->x, wmul(e1->y1 - e1->y0, e1->dx));
        if (e1->y0 < y_min) y_min = e1->y0;
        if (e1->y1 > y_max) y_max = e1->y1;
        if (e1->x < x_min) x_min = e1->x;
        if (e1->x > x_max) x_max = e1->x;
        if (x1 < x_min) x_min = x1;
        if (x1 > x_max) x_max = x1;
    }
    if (y_max < 0 || y_min >= h || x_max < 0 || x_min >= ((int64_t)w << XY_SHIFT)) return;
    qsort(edges, (size_t)total, sizeof *edges, cmp_edges);
    edge tmp = {.y0 = INT32_MAX};
    edges[total] = tmp;  /* the caller's array has room for it */
    int i = 0;
    tmp.next = NULL;
    edge *e = &edges[0];
    if (y_max > h) y_max = h;
    for (int y = e->y0; y < y_max; y++) {
        edge *last, *prelast, *keep_prelast;
        int draw = 0, clipline = y < 0;
        prelast = &tmp;
        last = tmp.next;
        while (last || e->y0 == y) {
            if (last && last->y1 == y) {
                prelast->next = last->next;  /* the edge ends here */
                last = last->next;
                continue;
            }
            keep_prelast = prelast;
            if (last && (e->y0 > y || last->x < e->x)) {
                prelast = last;
                last = last->next;
            } else if (i < total) {
                prelast->next = e;  /* the edge starts here */
                e->next = last;
                prelast = e;
                e = &edges[++i];
            } else {
                break;
            }
            if (draw) {
                if (!clipline) {
                    uint8_t *row = m + (size_t)y * w;
                    if (keep_prelast->x > prelast->x) hline(row, w, prelast->x, keep_prelast->x, color);
                    else hline(row, w, keep_prelast->x, prelast->x, color);
                }
                keep_prelast->x = wadd(keep_prelast->x, keep_prelast->dx);
                prelast->x = wadd(prelast->x, prelast->dx);
            }
            draw ^= 1;
        }
        /* bubble sort of the active list by x */
        keep_prelast = NULL;
        do {
            prelast = &tmp;
            last = tmp.next;
            edge *last_exchange = NULL;
            while (last != keep_prelast && last->next != NULL) {
                edge *te = last->next;
                if (last->x > te->x) {
                    prelast->next = te;
                    last->next = te->next;
                    te->next = last;
                    prelast = te;
                    last_exchange = prelast;
                } else {
                    prelast = last;
                    last = te;
                }
            }
            if (!last_exchange) break;
            keep_prelast = last_exchange;
        } while (keep_prelast != tmp.next && keep_prelast != &tmp);
    }
}

cy_status cy_fill_poly(uint8_t *mask, int h, int w, const float *xy, int npts, uint8_t color,
                       cy_error *err) {
    if (h <= 0 || w <= 0 || npts < 1 || !mask || !xy)
        return cy_fail(err, CY_ERR_ARG, "fill_poly: bad arguments (%dx%d mask, %d points)", h, w, npts);
    edge *edges = malloc(((size_t)npts + 1) * sizeof *edges);
    if (!edges) return cy_fail(err, CY_ERR_MEMORY, "fill_poly: out of memory (%d points)", npts);
    int ne = collect_edges(mask, h, w, xy, npts, color, edges);
    fill_edges(mask, h, w, edges, ne, color);
    free(edges);
    return CY_OK;
}
