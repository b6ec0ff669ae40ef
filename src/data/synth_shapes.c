/* Geometry of the synthetic shapes: the cairo path the generator fills,
 * the outline polygon its segment labels hold (clipped to the image), and
 * the shape's own painted pixels, which tests compare that polygon with.
 * The vertex formulas are the generator's from before segment labels
 * existed: detection labels come from them and must not move a bit. */
#include "data/synth_shapes.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* the polygonal classes' vertices; 0 for the round ones (circle, ring) */
static int vertices(const cy_synth_object *o, double *xs, double *ys) {
    double cx = o->cx, cy = o->cy, r = o->r, a = o->a;
    int n = 0;
    switch (o->cls) {
    case 0: /* circle */
    case 4: /* ring */
        return 0;
    case 1: /* square */
        for (int k = 0; k < 4; k++) xs[n] = cx + r * cos(a + k * M_PI / 2), ys[n++] = cy + r * sin(a + k * M_PI / 2);
        return n;
    case 2: /* triangle */
        for (int k = 0; k < 3; k++)
            xs[n] = cx + r * cos(a + k * 2 * M_PI / 3), ys[n++] = cy + r * sin(a + k * 2 * M_PI / 3);
        return n;
    case 3: /* five-pointed star */
        for (int k = 0; k < 10; k++) {
            double rr = k % 2 ? r * 0.45 : r;
            xs[n] = cx + rr * cos(a + k * M_PI / 5), ys[n++] = cy + rr * sin(a + k * M_PI / 5);
        }
        return n;
    default: { /* cross: 12 corners of a plus sign */
        static const double px[12] = {-1, -0.33, -0.33, 0.33, 0.33, 1, 1, 0.33, 0.33, -0.33, -0.33, -1};
        static const double py[12] = {-0.33, -0.33, -1, -1, -0.33, -0.33, 0.33, 0.33, 1, 1, 0.33, 0.33};
        for (int k = 0; k < 12; k++) {
            double x = px[k] * r, y = py[k] * r;
            xs[n] = cx + x * cos(a) - y * sin(a), ys[n++] = cy + x * sin(a) + y * cos(a);
        }
        return n;
    }
    }
}

#define RING_INNER 0.55

void cy_synth_box(const cy_synth_object *o, double box[4]) {
    double xs[16], ys[16];
    int n = vertices(o, xs, ys);
    if (n == 0) {
        box[0] = o->cx - o->r, box[1] = o->cy - o->r, box[2] = o->cx + o->r, box[3] = o->cy + o->r;
        return;
    }
    box[0] = box[2] = xs[0], box[1] = box[3] = ys[0];
    for (int k = 0; k < n; k++) {
        box[0] = fmin(box[0], xs[k]), box[2] = fmax(box[2], xs[k]);
        box[1] = fmin(box[1], ys[k]), box[3] = fmax(box[3], ys[k]);
    }
}

void cy_synth_path(cairo_t *cr, const cy_synth_object *o) {
    double xs[16], ys[16];
    int n = vertices(o, xs, ys);
    cairo_new_path(cr);
    if (n == 0) {
        cairo_arc(cr, o->cx, o->cy, o->r, 0, 2 * M_PI);
        if (o->cls == 4) {
            cairo_new_sub_path(cr);
            cairo_arc_negative(cr, o->cx, o->cy, o->r * RING_INNER, 2 * M_PI, 0);
        }
        return;
    }
    for (int k = 0; k < n; k++) {
        if (k) cairo_line_to(cr, xs[k], ys[k]);
        else cairo_move_to(cr, xs[k], ys[k]);
    }
    cairo_close_path(cr);
}

/* vertices of a regular polygon inscribed in a circle of radius r: the
 * chord may stray at most 0.2 px from the arc, and never fewer than 24 */
static int circle_points(double r) {
    double t = 1 - 0.2 / r;
    int n = t > -1 ? (int)ceil(M_PI / acos(t)) : 24;
    return n < 24 ? 24 : n > 4096 ? 4096 : n;
}

/* one half-plane of Sutherland-Hodgman: keeps side(p) >= 0, where side is
 * (x - v) * sgn along axis (0: x, 1: y) */
static int clip_plane(const double *in, int n, double *out, int axis, double v, double sgn) {
    int m = 0;
    for (int i = 0; i < n; i++) {
        const double *p = in + 2 * i, *q = in + 2 * ((i + 1) % n);
        double sp = (p[axis] - v) * sgn, sq = (q[axis] - v) * sgn;
        if (sp >= 0) out[m++] = p[0], out[m++] = p[1];
        if ((sp >= 0) != (sq >= 0)) {
            double t = sp / (sp - sq);
            double x = p[0] + t * (q[0] - p[0]), y = p[1] + t * (q[1] - p[1]);
            if (axis == 0) x = v; /* exactly on the border, never a rounding past it */
            else y = v;
            out[m++] = x, out[m++] = y;
        }
    }
    return m / 2;
}

static int near(const double *p, const double *q) { return fabs(p[0] - q[0]) < 1e-9 && fabs(p[1] - q[1]) < 1e-9; }

cy_status cy_synth_polygon(const cy_synth_object *o, int S, double **xy_out, int *n_out, cy_error *err) {
    *xy_out = NULL, *n_out = 0;
    double xs[16], ys[16];
    int nv = vertices(o, xs, ys), no = 0, ni = 0, n;
    if (nv) n = nv;
    else {
        no = circle_points(o->r);
        ni = o->cls == 4 ? circle_points(o->r * RING_INNER) : 0;
        n = ni ? no + 1 + ni + 1 : no; /* outer, back to its start, inner, back to its start */
    }
    /* each clip plane at most doubles the count: kept points plus crossings */
    size_t cap = (size_t)(2 * n + 8) * 16;
    double *a = malloc(cap * sizeof *a), *b = malloc(cap * sizeof *b);
    if (!a || !b) {
        free(a), free(b);
        return cy_fail(err, CY_ERR_MEMORY, "synth: out of memory for a polygon of %d points", n);
    }
    if (nv) {
        for (int k = 0; k < nv; k++) a[2 * k] = xs[k], a[2 * k + 1] = ys[k];
    } else {
        int m = 0;
        /* increasing angle, as cairo_arc draws the outer circle */
        for (int k = 0; k <= no; k++) {
            double t = 2 * M_PI * (k % no) / no;
            if (k == no && !ni) break;
            a[m++] = o->cx + o->r * cos(t), a[m++] = o->cy + o->r * sin(t);
        }
        /* decreasing angle for the hole, as cairo_arc_negative draws it */
        for (int k = 0; ni && k <= ni; k++) {
            double t = -2 * M_PI * (k % ni) / ni, ri = o->r * RING_INNER;
            a[m++] = o->cx + ri * cos(t), a[m++] = o->cy + ri * sin(t);
        }
    }
    n = clip_plane(a, n, b, 0, 0, 1);
    n = clip_plane(b, n, a, 0, S, -1);
    n = clip_plane(a, n, b, 1, 0, 1);
    n = clip_plane(b, n, a, 1, S, -1);
    /* drop repeated neighbours: a vertex on the border comes out twice, and
     * one a rounding away from it (cos(pi / 2) is not 0) beside its cut */
    int m = 0;
    for (int i = 0; i < n; i++) {
        const double *p = a + 2 * i;
        if (m && near(p, a + 2 * (m - 1))) continue;
        a[2 * m] = p[0], a[2 * m + 1] = p[1], m++;
    }
    while (m > 1 && near(a, a + 2 * (m - 1))) m--;
    free(b);
    if (m < 3) {
        free(a);
        return CY_OK;
    }
    *xy_out = a, *n_out = m;
    return CY_OK;
}

cy_status cy_synth_object_mask(const cy_synth_object *o, int S, uint8_t *mask, cy_error *err) {
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_A8, S, S);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return cy_fail(err, CY_ERR_MEMORY, "synth: cannot draw a %dx%d mask", S, S);
    }
    cairo_t *cr = cairo_create(s);
    cy_synth_path(cr, o); /* the generator's path, filled with its (default) anti-aliasing */
    cairo_fill(cr);
    cairo_destroy(cr);
    cairo_surface_flush(s);
    const unsigned char *px = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < S; y++) memcpy(mask + (size_t)y * S, px + (size_t)y * stride, (size_t)S);
    cairo_surface_destroy(s);
    return CY_OK;
}
