/* Reads the Detect head's raw outputs straight from the graph values (in the
 * backend's layout, no conversion), decodes boxes per anchor, and runs the
 * NMS-free top-k on logits so that only the anchors that can win are
 * decoded. Float operations are those of Ultralytics' decode, in its order. */
#include "model/detect_decode.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/topk.h"

typedef struct {
    const cy_model *m;
    const cy_head_values *hv;
    const float *proj;        /* DFL weights (arange), reg_max > 1 */
    int nhwc;
    int level_start[CY_MAX_LEVELS + 1];
} head_reader;

static cy_status reader_init(head_reader *r, const cy_model *m, int one2one, cy_error *err) {
    memset(r, 0, sizeof *r);
    r->m = m;
    r->hv = one2one ? &m->graph.o2o : &m->graph.o2m;
    r->nhwc = m->backend->layout == CY_LAYOUT_NHWC;
    for (int l = 0; l < m->nl; l++)
        r->level_start[l + 1] = r->level_start[l] + m->graph.level_h[l] * m->graph.level_w[l];
    if (m->reg_max > 1) {
        char name[CY_NAME_MAX];
        snprintf(name, sizeof name, "model.%d.dfl.conv.weight", m->detect_layer);
        int k = cy_model_find_entry(m, name);
        if (k < 0) return cy_fail(err, CY_ERR_ARG, "internal: no DFL weight");
        r->proj = m->params + m->entries[k].offset;
    }
    return CY_OK;
}

/* element (b, c, p) of a head value, whatever its layout */
static inline float at(const head_reader *r, int v, int b, int c, int p) {
    const cy_value *val = &r->m->graph.values[v];
    int C = val->s.c, HW = val->s.h * val->s.w;
    return r->nhwc ? val->data[((size_t)b * HW + p) * C + c] : val->data[((size_t)b * C + c) * HW + p];
}

static inline float sigmoidf_(float x) { return 1.0f / (1.0f + expf(-x)); }

static int level_of(const head_reader *r, int a) {
    int l = 0;
    while (a >= r->level_start[l + 1]) l++;
    return l;
}

/* The box of anchor a in pixels: xyxy for end2end models, else xywh. */
static void decode_box(const head_reader *r, int b, int a, float *o) {
    const cy_model *m = r->m;
    int l = level_of(r, a), p = a - r->level_start[l], W = m->graph.level_w[l], R = m->reg_max;
    int v = r->hv->box[l];
    float d[4];
    for (int s = 0; s < 4; s++) {
        if (R == 1) {
            d[s] = at(r, v, b, s, p);
            continue;
        }
        float mx = -INFINITY, sum = 0, acc = 0;
        for (int j = 0; j < R; j++) mx = fmaxf(mx, at(r, v, b, s * R + j, p));
        for (int j = 0; j < R; j++) sum += expf(at(r, v, b, s * R + j, p) - mx);
        for (int j = 0; j < R; j++) acc += r->proj[j] * (expf(at(r, v, b, s * R + j, p) - mx) / sum);
        d[s] = acc;
    }
    float ax = (float)(p % W) + 0.5f, ay = (float)(p / W) + 0.5f, stride = (float)m->stride[l];
    float x1 = ax - d[0], y1 = ay - d[1], x2 = ax + d[2], y2 = ay + d[3];
    if (!m->end2end) {
        o[0] = (x1 + x2) / 2 * stride;
        o[1] = (y1 + y2) / 2 * stride;
        o[2] = (x2 - x1) * stride;
        o[3] = (y2 - y1) * stride;
    } else {
        o[0] = x1 * stride;
        o[1] = y1 * stride;
        o[2] = x2 * stride;
        o[3] = y2 * stride;
    }
}

int cy_detect_anchors(const cy_model *m) {
    int a = 0;
    for (int l = 0; l < m->nl; l++) a += m->graph.level_h[l] * m->graph.level_w[l];
    return a;
}

int cy_detect_extra(const cy_model *m) { return m->task == CY_TASK_SEGMENT ? m->nm : 0; }

cy_status cy_detect_decode(const cy_model *m, int one2one, float *y, cy_error *err) {
    head_reader r;
    CY_TRY(reader_init(&r, m, one2one, err));
    int n = m->graph.input.n, nc = m->nc, A = cy_detect_anchors(m), ne = cy_detect_extra(m);
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < n; b++)
        for (int a = 0; a < A; a++) {
            float *yb = y + (size_t)b * (4 + nc + ne) * A;
            float o[4];
            decode_box(&r, b, a, o);
            for (int s = 0; s < 4; s++) yb[(size_t)s * A + a] = o[s];
            int l = level_of(&r, a), p = a - r.level_start[l];
            for (int c = 0; c < nc; c++) yb[(size_t)(4 + c) * A + a] = sigmoidf_(at(&r, r.hv->cls[l], b, c, p));
            for (int c = 0; c < ne; c++) yb[(size_t)(4 + nc + c) * A + a] = at(&r, r.hv->mask[l], b, c, p);
        }
    return CY_OK;
}

cy_status cy_detect_topk(const cy_model *m, int k, float *out, cy_error *err) {
    head_reader r;
    CY_TRY(reader_init(&r, m, 1, err));
    int n = m->graph.input.n, nc = m->nc, A = cy_detect_anchors(m);
    float *best = malloc((size_t)A * sizeof *best), *scores = malloc((size_t)k * nc * sizeof *scores);
    int *anchor = malloc((size_t)k * sizeof *anchor), *row = malloc((size_t)k * sizeof *row);
    cy_status st = CY_OK;
    if (!best || !scores || !anchor || !row) {
        st = cy_fail(err, CY_ERR_MEMORY, "out of memory in the top-k");
        goto done;
    }
    for (int b = 0; b < n; b++) {
        /* sigmoid is monotone in float, so the best class score of an anchor
         * is the sigmoid of its best logit */
        for (int l = 0; l < m->nl; l++) {
            int v = r.hv->cls[l];
            for (int a = r.level_start[l]; a < r.level_start[l + 1]; a++) {
                int p = a - r.level_start[l];
                float mx = -INFINITY;
                for (int c = 0; c < nc; c++) mx = fmaxf(mx, at(&r, v, b, c, p));
                best[a] = sigmoidf_(mx);
            }
        }
        cy_topk_indices(best, A, k, anchor);
        for (int j = 0; j < k; j++) {
            int l = level_of(&r, anchor[j]), p = anchor[j] - r.level_start[l];
            for (int c = 0; c < nc; c++) scores[j * nc + c] = sigmoidf_(at(&r, r.hv->cls[l], b, c, p));
        }
        cy_topk_indices(scores, k * nc, k, row);
        const int ne = cy_detect_extra(m), w = 6 + ne;
        float *ob = out + (size_t)b * k * w;
        for (int i = 0; i < k; i++) {
            int a = anchor[row[i] / nc], l = level_of(&r, a), p = a - r.level_start[l];
            decode_box(&r, b, a, ob + i * w);
            ob[i * w + 4] = scores[row[i]];
            ob[i * w + 5] = (float)(row[i] % nc);
            for (int c = 0; c < ne; c++) ob[i * w + 6 + c] = at(&r, r.hv->mask[l], b, c, p);
        }
    }
done:
    free(best);
    free(scores);
    free(anchor);
    free(row);
    return st;
}
