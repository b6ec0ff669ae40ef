#include "model/detect_decode.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cy_detect_anchors(const cy_model *m) {
    int a = 0;
    for (int l = 0; l < m->nl; l++) a += m->graph.level_h[l] * m->graph.level_w[l];
    return a;
}

cy_status cy_detect_decode(const cy_model *m, int one2one, float *y, cy_error *err) {
    const cy_graph *g = &m->graph;
    const cy_head_values *hv = one2one ? &g->o2o : &g->o2m;
    int n = g->input.n, nc = m->nc, R = m->reg_max, A = cy_detect_anchors(m);
    int xywh = !m->end2end;
    const float *proj = NULL; /* the DFL conv weight: arange(reg_max) */
    if (R > 1) {
        char name[CY_NAME_MAX];
        snprintf(name, sizeof name, "model.%d.dfl.conv.weight", m->detect_layer);
        int k = cy_model_find_entry(m, name);
        if (k < 0) return cy_fail(err, CY_ERR_ARG, "internal: no DFL weight");
        proj = m->params + m->entries[k].offset;
    }
    int a0 = 0;
    for (int l = 0; l < m->nl; l++) {
        int H = g->level_h[l], W = g->level_w[l], HW = H * W;
        float stride = (float)m->stride[l];
        float *box = malloc((size_t)n * 4 * R * HW * sizeof(float));
        float *cls = malloc((size_t)n * nc * HW * sizeof(float));
        if (!box || !cls) {
            free(box);
            free(cls);
            return cy_fail(err, CY_ERR_MEMORY, "out of memory decoding the head");
        }
        cy_model_value_nchw(m, hv->box[l], box);
        cy_model_value_nchw(m, hv->cls[l], cls);
        for (int b = 0; b < n; b++) {
            float *yb = y + (size_t)b * (4 + nc) * A;
            const float *bb = box + (size_t)b * 4 * R * HW;
            const float *cb = cls + (size_t)b * nc * HW;
            for (int p = 0; p < HW; p++) {
                float d[4];
                for (int s = 0; s < 4; s++) {
                    if (R == 1) {
                        d[s] = bb[(size_t)s * HW + p];
                        continue;
                    }
                    float mx = -INFINITY, sum = 0, acc = 0;
                    for (int j = 0; j < R; j++) mx = fmaxf(mx, bb[(size_t)(s * R + j) * HW + p]);
                    for (int j = 0; j < R; j++) sum += expf(bb[(size_t)(s * R + j) * HW + p] - mx);
                    for (int j = 0; j < R; j++)
                        acc += proj[j] * (expf(bb[(size_t)(s * R + j) * HW + p] - mx) / sum);
                    d[s] = acc;
                }
                float ax = (float)(p % W) + 0.5f, ay = (float)(p / W) + 0.5f;
                float x1 = ax - d[0], y1 = ay - d[1], x2 = ax + d[2], y2 = ay + d[3];
                float o[4];
                if (xywh) {
                    o[0] = (x1 + x2) / 2; o[1] = (y1 + y2) / 2; o[2] = x2 - x1; o[3] = y2 - y1;
                } else {
                    o[0] = x1; o[1] = y1; o[2] = x2; o[3] = y2;
                }
                int a = a0 + p;
                for (int s = 0; s < 4; s++) yb[(size_t)s * A + a] = o[s] * stride;
                for (int c = 0; c < nc; c++)
                    yb[(size_t)(4 + c) * A + a] = 1.0f / (1.0f + expf(-cb[(size_t)c * HW + p]));
            }
        }
        free(box);
        free(cls);
        a0 += HW;
    }
    return CY_OK;
}

typedef struct {
    float v;
    int i;
} scored;

/* Descending by value; equal values keep the lower index first. */
static int by_score_desc(const void *a, const void *b) {
    const scored *x = a, *y = b;
    if (x->v != y->v) return x->v < y->v ? 1 : -1;
    return (x->i > y->i) - (x->i < y->i);
}

void cy_detect_topk(const float *y, int n, int nc, int A, int k, float *out) {
    scored *s = malloc((size_t)(A > k * nc ? A : k * nc) * sizeof *s);
    int *anchor = malloc((size_t)k * sizeof *anchor);
    if (!s || !anchor) { /* callers size k small; on failure output zeros */
        memset(out, 0, (size_t)n * k * 6 * sizeof(float));
        free(s);
        free(anchor);
        return;
    }
    for (int b = 0; b < n; b++) {
        const float *yb = y + (size_t)b * (4 + nc) * A;
        for (int a = 0; a < A; a++) {
            float mx = -INFINITY;
            for (int c = 0; c < nc; c++) mx = fmaxf(mx, yb[(size_t)(4 + c) * A + a]);
            s[a].v = mx;
            s[a].i = a;
        }
        qsort(s, A, sizeof *s, by_score_desc);
        for (int j = 0; j < k; j++) anchor[j] = s[j].i;
        for (int j = 0; j < k; j++)
            for (int c = 0; c < nc; c++) {
                s[j * nc + c].v = yb[(size_t)(4 + c) * A + anchor[j]];
                s[j * nc + c].i = j * nc + c;
            }
        qsort(s, (size_t)k * nc, sizeof *s, by_score_desc);
        float *ob = out + (size_t)b * k * 6;
        for (int r = 0; r < k; r++) {
            int a = anchor[s[r].i / nc], c = s[r].i % nc;
            for (int q = 0; q < 4; q++) ob[r * 6 + q] = yb[(size_t)q * A + a];
            ob[r * 6 + 4] = s[r].v;
            ob[r * 6 + 5] = (float)c;
        }
    }
    free(s);
    free(anchor);
}
