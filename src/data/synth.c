#include "data/synth.h"
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "data/synth_shapes.h"
#include "io/atomic.h"

const char *const cy_synth_names[CY_SYNTH_CLASSES] = {"circle", "square", "triangle", "star", "ring", "cross"};

#define SYNTH_VERSION 1

cy_synth_params cy_synth_default_params(void) {
    cy_synth_params p = {.n_train = 320, .n_val = 80, .imgsz = 320, .max_objects = 6, .seed = 0};
    return p;
}

/* splitmix64: the generator's only randomness, seeded per image */
static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double uniform(uint64_t *s, double lo, double hi) {
    return lo + (hi - lo) * (double)(next_u64(s) >> 11) / 9007199254740992.0;
}

typedef struct {
    double x1, y1, x2, y2;
} box;

const char *cy_synth_yaml_name(const cy_synth_params *p) {
    return p && p->segment ? "synth-seg.yaml" : "synth.yaml";
}

static void background(cairo_t *cr, uint64_t *rng, int S) {
    /* a two-colour gradient at a random angle, then stripes or a checker */
    double a = uniform(rng, 0, 2 * M_PI);
    cairo_pattern_t *g = cairo_pattern_create_linear(S / 2.0 - cos(a) * S, S / 2.0 - sin(a) * S,
                                                     S / 2.0 + cos(a) * S, S / 2.0 + sin(a) * S);
    cairo_pattern_add_color_stop_rgb(g, 0, uniform(rng, 0.1, 0.9), uniform(rng, 0.1, 0.9), uniform(rng, 0.1, 0.9));
    cairo_pattern_add_color_stop_rgb(g, 1, uniform(rng, 0.1, 0.9), uniform(rng, 0.1, 0.9), uniform(rng, 0.1, 0.9));
    cairo_set_source(cr, g);
    cairo_paint(cr);
    cairo_pattern_destroy(g);
    int kind = (int)(next_u64(rng) % 3);
    cairo_set_source_rgba(cr, uniform(rng, 0, 1), uniform(rng, 0, 1), uniform(rng, 0, 1), uniform(rng, 0.08, 0.25));
    double step = uniform(rng, S / 24.0, S / 6.0);
    if (kind == 0) {
        for (double x = -S; x < 2 * S; x += 2 * step) {
            cairo_move_to(cr, x, 0);
            cairo_line_to(cr, x + S * 0.5, S);
            cairo_line_to(cr, x + S * 0.5 + step, S);
            cairo_line_to(cr, x + step, 0);
            cairo_close_path(cr);
        }
        cairo_fill(cr);
    } else if (kind == 1) {
        for (int i = 0; i * step < S; i++)
            for (int j = 0; j * step < S; j++)
                if ((i + j) % 2) cairo_rectangle(cr, i * step, j * step, step, step);
        cairo_fill(cr);
    }
}

cy_status cy_synth_image(const cy_synth_params *p, int val, int index, cy_image *im, cy_synth_object *obj,
                         int *n_out, cy_error *err) {
    int S = p->imgsz;
    *n_out = 0;
    if (im->w != S || im->h != S || im->c != 3)
        return cy_fail(err, CY_ERR_ARG, "synth: image buffer %dx%dx%d, want %dx%dx3", im->w, im->h, im->c, S, S);
    uint64_t rng = p->seed * 0x100000001b3ULL + (uint64_t)index * 2654435761ULL + (val ? 7919 : 0);
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, S, S);
    if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surf);
        return cy_fail(err, CY_ERR_MEMORY, "synth: cannot draw a %dx%d image", S, S);
    }
    cairo_t *cr = cairo_create(surf);
    background(cr, &rng, S);
    int n = 1 + (int)(next_u64(&rng) % (uint64_t)p->max_objects), kept = 0;
    box boxes[CY_SYNTH_MAX_OBJECTS];
    for (int i = 0; i < n && i < CY_SYNTH_MAX_OBJECTS; i++) {
        cy_synth_object o;
        o.cls = (int)(next_u64(&rng) % CY_SYNTH_CLASSES);
        o.r = uniform(&rng, 0.04, 0.22) * S, o.cx = uniform(&rng, 0, S), o.cy = uniform(&rng, 0, S);
        o.a = uniform(&rng, 0, 2 * M_PI);
        /* the box before drawing: skip a shape that would hide an earlier one */
        box nb = {o.cx - o.r, o.cy - o.r, o.cx + o.r, o.cy + o.r};
        int hides = 0;
        for (int j = 0; j < kept; j++) {
            double iw = fmin(nb.x2, boxes[j].x2) - fmax(nb.x1, boxes[j].x1);
            double ih = fmin(nb.y2, boxes[j].y2) - fmax(nb.y1, boxes[j].y1);
            double area = (boxes[j].x2 - boxes[j].x1) * (boxes[j].y2 - boxes[j].y1);
            if (iw > 0 && ih > 0 && iw * ih > 0.5 * area) hides = 1;
        }
        if (hides) continue;
        cairo_set_source_rgb(cr, uniform(&rng, 0, 1), uniform(&rng, 0, 1), uniform(&rng, 0, 1));
        double bb[4];
        cy_synth_path(cr, &o);
        cairo_fill(cr);
        cy_synth_box(&o, bb);
        box b = {fmax(bb[0], 0), fmax(bb[1], 0), fmin(bb[2], S), fmin(bb[3], S)};
        if (b.x2 - b.x1 < 4 || b.y2 - b.y1 < 4) continue; /* mostly outside the image */
        obj[kept] = o;
        boxes[kept++] = b;
    }
    cairo_surface_flush(surf);
    const unsigned char *px = cairo_image_surface_get_data(surf);
    int stride = cairo_image_surface_get_stride(surf);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            uint32_t v;
            memcpy(&v, px + (size_t)y * stride + (size_t)x * 4, 4);
            uint8_t *o = im->data + ((size_t)y * S + x) * 3;
            /* sensor-like grain over everything: texture even on plain backgrounds */
            int grain = (int)(next_u64(&rng) % 17) - 8;
            for (int k = 0; k < 3; k++) {
                int c = (int)((v >> (16 - 8 * k)) & 255) + grain;
                o[k] = (uint8_t)(c < 0 ? 0 : c > 255 ? 255 : c);
            }
        }
    cairo_destroy(cr);
    cairo_surface_destroy(surf);
    *n_out = kept;
    return CY_OK;
}

/* the detection row: the drawn box clipped to the image, as cx cy w h */
static void write_box(FILE *f, const cy_synth_object *o, int S) {
    double bb[4];
    cy_synth_box(o, bb);
    box b = {fmax(bb[0], 0), fmax(bb[1], 0), fmin(bb[2], S), fmin(bb[3], S)};
    fprintf(f, "%d %.6f %.6f %.6f %.6f\n", o->cls, (b.x1 + b.x2) / 2 / S, (b.y1 + b.y2) / 2 / S, (b.x2 - b.x1) / S,
            (b.y2 - b.y1) / S);
}

/* the segment row: the clipped outline; none when its box is under 4 px */
static cy_status write_polygon(FILE *f, const cy_synth_object *o, int S, cy_error *err) {
    double *xy;
    int n;
    CY_TRY(cy_synth_polygon(o, S, &xy, &n, err));
    double x1 = S, y1 = S, x2 = 0, y2 = 0;
    for (int k = 0; k < n; k++)
        x1 = fmin(x1, xy[2 * k]), x2 = fmax(x2, xy[2 * k]), y1 = fmin(y1, xy[2 * k + 1]), y2 = fmax(y2, xy[2 * k + 1]);
    if (n >= 3 && x2 - x1 >= 4 && y2 - y1 >= 4) {
        fprintf(f, "%d", o->cls);
        for (int k = 0; k < n; k++) fprintf(f, " %.6f %.6f", xy[2 * k] / S, xy[2 * k + 1] / S);
        fputc('\n', f);
    }
    free(xy);
    return CY_OK;
}

static cy_status write_labels(const char *path, const cy_synth_object *obj, int n, int S, int segment,
                              cy_error *err) {
    cy_atomic_file f;
    CY_TRY(cy_atomic_open(&f, path, err));
    cy_status st = CY_OK;
    for (int i = 0; i < n && st == CY_OK; i++) {
        if (segment) st = write_polygon(f.f, &obj[i], S, err);
        else write_box(f.f, &obj[i], S);
    }
    if (st != CY_OK) {
        cy_atomic_abort(&f);
        return st;
    }
    return cy_atomic_commit(&f, err);
}

static cy_status make_image(const char *root, const char *split, int index, const cy_synth_params *p, cy_image *im,
                            cy_error *err) {
    cy_synth_object obj[CY_SYNTH_MAX_OBJECTS];
    int n;
    CY_TRY(cy_synth_image(p, split[0] == 'v', index, im, obj, &n, err));
    char path[4096];
    snprintf(path, sizeof path, "%s/images/%s/%06d.jpg", root, split, index);
    CY_TRY(cy_image_write_jpeg(path, im, 92, err));
    snprintf(path, sizeof path, "%s/labels/%s/%06d.txt", root, split, index);
    return write_labels(path, obj, n, p->imgsz, p->segment, err);
}

/* the YAML's first line: which generator and parameters made the set */
static void marker(char *buf, size_t cap, const cy_synth_params *p) {
    snprintf(buf, cap, "# cyolo synth%s v%d n_train=%d n_val=%d imgsz=%d max_objects=%d seed=%llu",
             p->segment ? "-seg" : "", SYNTH_VERSION, p->n_train, p->n_val, p->imgsz, p->max_objects,
             (unsigned long long)p->seed);
}

static int already_there(const char *root, const cy_synth_params *p) {
    char path[4096], want[256], line[256] = "";
    snprintf(path, sizeof path, "%s/%s", root, cy_synth_yaml_name(p));
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    marker(want, sizeof want, p);
    line[strcspn(line, "\n")] = 0;
    return ok && !strcmp(line, want);
}

cy_status cy_synth_generate(const char *root, const cy_synth_params *pp, cy_error *err) {
    cy_synth_params p = pp ? *pp : cy_synth_default_params();
    if (p.n_train < 1 || p.n_val < 1 || p.imgsz < 32 || p.imgsz > 4096 || p.max_objects < 1 ||
        p.max_objects > CY_SYNTH_MAX_OBJECTS || (p.segment != 0 && p.segment != 1))
        return cy_fail(err, CY_ERR_ARG, "synth: invalid parameters");
    if (already_there(root, &p)) return CY_OK;
    static const char *dirs[4] = {"images/train", "images/val", "labels/train", "labels/val"};
    char path[4096];
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", root, dirs[i]);
        CY_TRY(cy_mkdirs(path, err));
    }
    cy_image im;
    CY_TRY(cy_image_alloc(&im, p.imgsz, p.imgsz, 3, err));
    cy_status st = CY_OK;
    for (int i = 0; i < p.n_train && st == CY_OK; i++) st = make_image(root, "train", i, &p, &im, err);
    for (int i = 0; i < p.n_val && st == CY_OK; i++) st = make_image(root, "val", i, &p, &im, err);
    cy_image_free(&im);
    CY_TRY(st);
    /* the YAML last: its marker line says the set is complete */
    snprintf(path, sizeof path, "%s/%s", root, cy_synth_yaml_name(&p));
    cy_atomic_file f;
    CY_TRY(cy_atomic_open(&f, path, err));
    char m[256];
    marker(m, sizeof m, &p);
    /* no path: key, so Ultralytics resolves the splits against this file's folder */
    fprintf(f.f, "%s\ntrain: images/train\nval: images/val\nnames:\n", m);
    for (int c = 0; c < CY_SYNTH_CLASSES; c++) fprintf(f.f, "  %d: %s\n", c, cy_synth_names[c]);
    return cy_atomic_commit(&f, err);
}
