/* One image and its YOLO label file, checked as Ultralytics'
 * verify_image_label does (rows of cls cx cy w h, or polygons kept with
 * their boxes). The text is split as Python's
 * str.strip().splitlines() and str.split() do (ASCII whitespace). */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "data/dataset_internal.h"
#include "io/image.h"

#define LABEL_FILE_MAX ((size_t)256 << 20)

static int is_break(char c) {
    return c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0x1c || c == 0x1d || c == 0x1e;
}
static int is_space(char c) {
    return c == ' ' || c == '\t' || is_break(c) || c == 0x1f;
}

/* Python's float(): decimal or inf/infinity/nan with an optional sign;
 * no hex, no "nan(...)". Returns 0 on success. */
static int parse_float(const char *s, float *out) {
    if (!*s) return -1;
    for (const char *p = s; *p; p++)
        if (*p == 'x' || *p == 'X' || *p == '(' || *p == 'p' || *p == 'P') return -1;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end) return -1;
    *out = (float)d;
    return 0;
}

typedef struct {
    int line;   /* 1-based line in the file */
    int ntok;
    int first;  /* its first token in the token array */
} row;

/* Sorted-order comparison of two 5-float rows (np.unique's lexsort). */
static int cmp_row(const float *a, const float *b) {
    for (int k = 0; k < 5; k++) {
        if (a[k] < b[k]) return -1;
        if (a[k] > b[k]) return 1;
    }
    return 0;
}

/* A polygon row as the bytes Ultralytics compares: the class float32 then
 * the points' float32s, little-endian, as Python compares bytes. */
static int cmp_poly(const float *lb, const cy_polygons *seg, int a, int b) {
    int c = memcmp(&lb[5 * a], &lb[5 * b], sizeof(float));
    if (c) return c;
    size_t na = (size_t)(seg->start[a + 1] - seg->start[a]) * 2 * sizeof(float);
    size_t nb = (size_t)(seg->start[b + 1] - seg->start[b]) * 2 * sizeof(float);
    c = memcmp(seg->xy + 2 * seg->start[a], seg->xy + 2 * seg->start[b], na < nb ? na : nb);
    if (c) return c;
    return na < nb ? -1 : na > nb ? 1 : 0;
}

static int cmp_idx(const float *lb, const cy_polygons *seg, int a, int b) {
    return seg ? cmp_poly(lb, seg, a, b) : cmp_row(lb + 5 * a, lb + 5 * b);
}

/* Stable merge sort of row indices, by box (seg NULL) or by polygon bytes. */
static void sort_idx(int *idx, int *tmp, int n, const float *lb, const cy_polygons *seg) {
    if (n < 2) return;
    int h = n / 2;
    sort_idx(idx, tmp, h, lb, seg);
    sort_idx(idx + h, tmp, n - h, lb, seg);
    int i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = cmp_idx(lb, seg, idx[j], idx[i]) < 0 ? idx[j++] : idx[i++];
    while (i < h) tmp[k++] = idx[i++];
    while (j < n) tmp[k++] = idx[j++];
    memcpy(idx, tmp, (size_t)n * sizeof *idx);
}

/* np.unique(..., return_index=True): the first row of each distinct value,
 * in sorted order, into keep; returns how many. */
static int unique_rows(int *keep, int *tmp, int n, const float *lb, const cy_polygons *seg) {
    for (int i = 0; i < n; i++) keep[i] = i;
    sort_idx(keep, tmp, n, lb, seg);
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (k > 0 && cmp_idx(lb, seg, keep[i], keep[k - 1]) == 0) continue;
        keep[k++] = keep[i];
    }
    return k;
}

/* verify_image_label's duplicate removal: rows whose box repeats, and in a
 * polygon file only those whose class and polygon repeat too ("distinct
 * polygons can share a class and box"); when any go, the rest are in the
 * sorted order np.unique leaves. Returns the number removed, -1 on ENOMEM. */
static int dedupe(float *lb, cy_polygons *seg, int n) {
    int *keep = malloc((size_t)n * 2 * sizeof *keep);
    float *out = malloc((size_t)n * 5 * sizeof *out);
    if (!keep || !out) {
        free(keep);
        free(out);
        return -1;
    }
    int k = unique_rows(keep, keep + n, n, lb, NULL);
    if (k < n && seg->n) k = unique_rows(keep, keep + n, n, lb, seg);
    int removed = n - k;
    if (k < n) {
        for (int i = 0; i < k; i++) memcpy(out + 5 * i, lb + 5 * keep[i], 5 * sizeof *out);
        memcpy(lb, out, (size_t)k * 5 * sizeof *out);
        if (seg->n) {
            int np = 0;
            for (int i = 0; i < k; i++) np += seg->start[keep[i] + 1] - seg->start[keep[i]];
            cy_polygons ns;
            if (cy_polygons_alloc(&ns, k, np, NULL) != CY_OK) {
                removed = -1;
            } else {
                for (int i = 0, at = 0; i < k; i++) {
                    int a = seg->start[keep[i]], m = seg->start[keep[i] + 1] - a;
                    memcpy(ns.xy + 2 * at, seg->xy + 2 * a, (size_t)m * 2 * sizeof(float));
                    ns.start[i] = at;
                    at += m;
                }
                cy_polygons_free(seg);
                *seg = ns;
            }
        }
    }
    free(keep);
    free(out);
    return removed;
}

#define BAD(...) (snprintf(why, why_len, __VA_ARGS__), st = CY_ERR_FORMAT)

cy_status cy_label_parse(const char *label_file, const cy_label_rules *rules, int *exists,
                         float **rows_out, cy_polygons *seg_out, int *n_out, int *ndup, char *why,
                         size_t why_len, cy_error *err) {
    const int nc = rules->nc, single_cls = rules->single_cls, need_seg = rules->segments;
    memset(seg_out, 0, sizeof *seg_out);
    *rows_out = NULL;
    *n_out = 0;
    *ndup = 0;
    *exists = 0;
    if (why_len) why[0] = 0;
    if (!cy_path_is_file(label_file)) return CY_OK;
    *exists = 1;
    char *text;
    size_t len;
    int e = cy_read_text_file(label_file, LABEL_FILE_MAX, &text, &len);
    if (e == ENOMEM) return cy_fail(err, CY_ERR_MEMORY, "out of memory reading %s", label_file);
    if (e) {
        snprintf(why, why_len, "%s: cannot read: %s", label_file, strerror(e));
        return CY_ERR_FORMAT;
    }
    if (memchr(text, 0, len)) {
        free(text);
        snprintf(why, why_len, "%s: not a text file (contains NUL bytes)", label_file);
        return CY_ERR_FORMAT;
    }

    /* Lines and tokens, in place. */
    char *b = text, *end = text + len;
    int line = 1;
    while (b < end && is_space(*b)) {
        if (*b == '\n' || (*b == '\r' && !(b + 1 < end && b[1] == '\n')) || (is_break(*b) && *b != '\r'))
            line++;
        b++;
    }
    while (end > b && is_space(end[-1])) end--;
    *end = 0;
    int nrows = 0, caprows = 0;
    row *rows = NULL;
    char **toks = NULL;
    int ntoks = 0, captoks = 0;
    cy_status st = CY_OK;
    while (b < end) {
        char *le = b;
        while (le < end && !is_break(*le)) le++;
        char *next = le;
        if (next < end) next += (*next == '\r' && next + 1 < end && next[1] == '\n') ? 2 : 1;
        *le = 0;
        if (le > b) {  /* Python keeps whitespace-only lines: a row of 0 columns */
            if (nrows == caprows) {
                caprows = caprows ? caprows * 2 : 64;
                row *nr = realloc(rows, (size_t)caprows * sizeof *rows);
                if (!nr) { st = cy_fail(err, CY_ERR_MEMORY, "out of memory"); break; }
                rows = nr;
            }
            rows[nrows] = (row){.line = line, .ntok = 0, .first = ntoks};
            int first = ntoks;
            for (char *p = b; *p;) {
                while (*p && is_space(*p)) *p++ = 0;
                if (!*p) break;
                if (ntoks == captoks) {
                    captoks = captoks ? captoks * 2 : 256;
                    char **nt = realloc(toks, (size_t)captoks * sizeof *toks);
                    if (!nt) { st = cy_fail(err, CY_ERR_MEMORY, "out of memory"); break; }
                    toks = nt;
                }
                toks[ntoks++] = p;
                while (*p && !is_space(*p)) p++;
            }
            if (st != CY_OK) break;
            rows[nrows].ntok = ntoks - first;
            nrows++;
        }
        line++;
        b = next;
    }

#define TOK(r, k) toks[(r)->first + (k)]
    float *lb = NULL;
    if (st == CY_OK && nrows > 0 && !(lb = malloc((size_t)nrows * 5 * sizeof *lb)))
        st = cy_fail(err, CY_ERR_MEMORY, "out of memory");

    int segments = 0;
    for (int i = 0; st == CY_OK && i < nrows; i++)
        if (rows[i].ntok > 6) segments = 1;

    cy_polygons seg = {0};
    if (st == CY_OK && segments && need_seg)
        for (int i = 0; i < nrows; i++)
            if (rows[i].ntok == 5) {
                BAD("%s:%d: labels mix segment and detection rows (this row has 5 columns, "
                    "others are polygons)", label_file, rows[i].line);
                break;
            }
    if (st == CY_OK && segments) {
        int npts = 0;
        for (int i = 0; i < nrows; i++)
            if (rows[i].ntok > 1) npts += (rows[i].ntok - 1) / 2;
        st = cy_polygons_alloc(&seg, nrows, npts, err);
    }
    if (st == CY_OK && segments) {
        /* segments2boxes: each row is cls x1 y1 x2 y2 ...; its box is the
         * min/max of the points, as xywh (float32 arithmetic). */
        int at = 0;
        for (int i = 0; st == CY_OK && i < nrows; i++) {
            row *r = &rows[i];
            float v;
            seg.start[i] = at;
            if (r->ntok == 0) { BAD("%s:%d: empty polygon row", label_file, r->line); break; }
            if (parse_float(TOK(r, 0), &lb[5 * i])) {
                BAD("%s:%d: could not convert string to float: '%s'", label_file, r->line, TOK(r, 0));
                break;
            }
            int nc2 = r->ntok - 1;
            if (nc2 == 0 || nc2 % 2) {
                BAD("%s:%d: a polygon needs x y pairs, got %d coordinates", label_file, r->line, nc2);
                break;
            }
            if (need_seg && nc2 < 6) {
                BAD("%s:%d: a polygon needs at least 3 points, got %d", label_file, r->line, nc2 / 2);
                break;
            }
            float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
            int nanseen = 0;
            float *xy = seg.xy + 2 * at;
            for (int k = 1; k < r->ntok; k++) {
                if (parse_float(TOK(r, k), &v)) {
                    BAD("%s:%d: could not convert string to float: '%s'", label_file, r->line, TOK(r, k));
                    break;
                }
                xy[k - 1] = v;
                if (isnan(v)) nanseen = 1;
                if (k % 2) { if (v < x0) x0 = v; if (v > x1) x1 = v; }
                else { if (v < y0) y0 = v; if (v > y1) y1 = v; }
            }
            if (st != CY_OK) break;
            at += nc2 / 2;
            if (nanseen) x0 = y0 = x1 = y1 = NAN;  /* numpy's min/max propagate NaN */
            float *o = lb + 5 * i;
            o[1] = (x0 + x1) / 2;
            o[2] = (y0 + y1) / 2;
            o[3] = x1 - x0;
            o[4] = y1 - y0;
        }
    }
    /* Ultralytics checks a polygon's box only, so a polygon may reach far
     * outside the image while its box centre stays inside; a segment
     * dataset checks every point with the same 1% tolerance. */
    for (int i = 0; st == CY_OK && need_seg && i < seg.n; i++)
        for (int k = seg.start[i]; k < seg.start[i + 1]; k++) {
            float x = seg.xy[2 * k], y = seg.xy[2 * k + 1];
            if (!(x <= 1.01f && x >= -0.01f && y <= 1.01f && y >= -0.01f)) {
                BAD("%s:%d: polygon point %d (%g, %g) is outside the image: coordinates must be "
                    "in [0, 1] (1%% tolerance)", label_file, rows[i].line, k - seg.start[i] + 1,
                    (double)x, (double)y);
                break;
            }
        }
    if (st == CY_OK && !segments) {
        for (int i = 0; i < nrows; i++)
            if (rows[i].ntok != 5) {
                BAD("%s:%d: labels require 5 columns, %d columns detected", label_file, rows[i].line,
                    rows[i].ntok);
                break;
            }
        for (int i = 0; st == CY_OK && i < nrows; i++)
            for (int k = 0; k < 5; k++)
                if (parse_float(TOK(&rows[i], k), &lb[5 * i + k])) {
                    BAD("%s:%d: could not convert string to float: '%s'", label_file, rows[i].line,
                        TOK(&rows[i], k));
                    break;
                }
    }

    /* Checks, in Ultralytics' order, with its 1% tolerance (float32). */
    for (int i = 0; st == CY_OK && i < nrows; i++)
        for (int k = 1; k < 5; k++)
            if (!(lb[5 * i + k] <= 1.01f)) {
                BAD("%s:%d: non-normalized or out of bounds coordinate %g (column %d)", label_file,
                    rows[i].line, (double)lb[5 * i + k], k + 1);
                break;
            }
    for (int i = 0; st == CY_OK && i < nrows; i++)
        for (int k = 0; k < 5; k++)
            if (!(lb[5 * i + k] >= -0.01f)) {
                BAD("%s:%d: negative class label or coordinate %g (column %d%s)", label_file,
                    rows[i].line, (double)lb[5 * i + k], k + 1,
                    k == 0 ? ": class" : k == 3 ? ": width" : k == 4 ? ": height" : "");
                break;
            }
    if (st == CY_OK && nrows > 0 && !single_cls) {
        int imax = 0;
        for (int i = 1; i < nrows; i++)
            if (lb[5 * i] > lb[5 * imax]) imax = i;
        float mx = lb[5 * imax];
        if (!(mx < (float)nc))
            BAD("%s:%d: Label class %g exceeds dataset class count %d. Possible class labels are 0-%d",
                label_file, rows[imax].line, isfinite(mx) ? trunc((double)mx) : (double)mx, nc, nc - 1);
    }
    if (st == CY_OK && nrows > 0) {
        int d = dedupe(lb, &seg, nrows);
        if (d < 0) st = cy_fail(err, CY_ERR_MEMORY, "out of memory");
        else {
            *ndup = d;
            nrows -= d;
        }
    }
    free(rows);
    free(toks);
    free(text);
    if (st != CY_OK) {
        free(lb);
        cy_polygons_free(&seg);
        return st;
    }
    *rows_out = lb;
    *seg_out = seg;
    *n_out = nrows;
    return CY_OK;
}

void cy_label_check_clear(cy_label_check *c) {
    cy_polygons_free(&c->seg);
    free(c->labels);
    free(c->msg);
    c->labels = NULL;
    c->msg = NULL;
    c->n = 0;
}

/* err.msg without a leading "<path>: " (the message names the image already). */
static const char *strip_name(const char *msg, const char *path) {
    size_t n = strlen(path);
    if (!strncmp(msg, path, n) && msg[n] == ':' && msg[n + 1] == ' ') return msg + n + 2;
    return msg;
}

/* 0: not a JPEG or it ends with FF D9; 1: a JPEG without its end marker. */
static int jpeg_without_end(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;
    unsigned char h[2] = {0}, t[2] = {0};
    int r = 0;
    if (fread(h, 1, 2, fp) == 2 && h[0] == 0xFF && h[1] == 0xD8 && fseek(fp, -2, SEEK_END) == 0 &&
        fread(t, 1, 2, fp) == 2)
        r = !(t[0] == 0xFF && t[1] == 0xD9);
    fclose(fp);
    return r;
}

static cy_status set_msg(cy_label_check *out, cy_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static cy_status set_msg(cy_label_check *out, cy_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    if (out->msg) {  /* two notes on one image: keep both */
        char *j = NULL;
        r = asprintf(&j, "%s; %s", out->msg, s);
        free(s);
        if (r < 0) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
        s = j;
        free(out->msg);
    }
    out->msg = s;
    return CY_OK;
}

cy_status cy_verify_image_label(const char *im_file, const char *label_file,
                                const cy_label_rules *rules, const char *prefix,
                                cy_label_check *out, cy_error *err) {
    memset(out, 0, sizeof *out);
    if (!prefix) prefix = "";
    out->state = CY_LABEL_CORRUPT;
    cy_error ie = {0};
    int h = 0, w = 0;
    if (cy_image_probe(im_file, &h, &w, &ie) != CY_OK)
        return set_msg(out, err, "%s%s: ignoring corrupt image/label: %s", prefix, im_file,
                       strip_name(ie.msg, im_file));
    if (h <= 9 || w <= 9)
        return set_msg(out, err, "%s%s: ignoring corrupt image/label: image size (%d, %d) <10 pixels",
                       prefix, im_file, h, w);
    if (jpeg_without_end(im_file)) {
        /* Ultralytics re-saves such a file; cyolo keeps the file as it is
         * when it decodes, and drops it when it does not. */
        cy_image im = {0};
        cy_status s = cy_image_read(im_file, &im, &ie);
        cy_image_free(&im);
        if (s == CY_ERR_MEMORY) return cy_fail(err, s, "%s", ie.msg);
        if (s != CY_OK)
            return set_msg(out, err, "%s%s: ignoring corrupt image/label: corrupt JPEG: %s", prefix,
                           im_file, strip_name(ie.msg, im_file));
        CY_TRY(set_msg(out, err, "%s%s: corrupt JPEG (does not end with its end marker) decodes, kept as it is (not re-saved)", prefix,
                       im_file));
    }
    out->h = h;
    out->w = w;
    char why[768];
    int exists, ndup;
    float *rows;
    cy_polygons seg;
    int n;
    cy_status st = cy_label_parse(label_file, rules, &exists, &rows, &seg, &n, &ndup, why,
                                  sizeof why, err);
    out->label_found = exists;
    if (st == CY_ERR_FORMAT) {
        free(out->msg);  /* the corruption is the message */
        out->msg = NULL;
        return set_msg(out, err, "%s%s: ignoring corrupt image/label: %s", prefix, im_file, why);
    }
    if (st != CY_OK) return st;
    out->labels = rows;
    out->seg = seg;
    out->n = n;
    out->state = !exists ? CY_LABEL_MISSING : n == 0 ? CY_LABEL_EMPTY : CY_LABEL_FOUND;
    if (ndup) CY_TRY(set_msg(out, err, "%s%s: %d duplicate labels removed", prefix, im_file, ndup));
    return CY_OK;
}
