/* Non-maximum suppression as Ultralytics' non_max_suppression: candidates
 * with best class score > conf (multi_label: every (anchor, class) score
 * > conf, anchors then classes in order, as torch.where lists them), at
 * most max_nms by score, boxes offset by class * max_wh unless agnostic,
 * greedy torchvision-style NMS (suppress IoU > iou), then max_det. Extra
 * channels after the scores (mask coefficients) ride along with their
 * anchor. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "core/status.h"

typedef struct {
    float box[4]; /* xyxy */
    float score;
    int cls;
    int order;    /* candidate index (anchor, then class), breaks score ties */
    int anchor;   /* where the extra channels are read */
} cand;

static int by_score(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return (x->order > y->order) - (x->order < y->order);
}

cy_nms_params cy_nms_default_params(void) {
    cy_nms_params p = {.conf = 0.25f, .iou = 0.7f, .max_det = 300, .agnostic = 0,
                       .max_nms = 30000, .max_wh = 7680, .multi_label = 0};
    return p;
}

static float iou_xyxy(const float *a, const float *b) {
    float iw = fminf(a[2], b[2]) - fmaxf(a[0], b[0]);
    float ih = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
    if (iw < 0) iw = 0;
    if (ih < 0) ih = 0;
    float inter = iw * ih;
    float ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    return ua > 0 ? inter / ua : 0.0f;
}

cy_status cy_nms(const float *pred, int n, int nc, int A, const cy_nms_params *pp, float *dets,
                 int *counts, cy_error *err) {
    return cy_nms_extra(pred, n, nc, 0, A, pp, dets, counts, err);
}

static void push(cand *q, const float *y, int A, int a, int cls, float score, int order) {
    float cx = y[a], cy = y[(size_t)A + a], w = y[(size_t)2 * A + a], h = y[(size_t)3 * A + a];
    q->box[0] = cx - w / 2;
    q->box[1] = cy - h / 2;
    q->box[2] = cx + w / 2;
    q->box[3] = cy + h / 2;
    q->score = score;
    q->cls = cls;
    q->order = order;
    q->anchor = a;
}

cy_status cy_nms_extra(const float *pred, int n, int nc, int nm, int A, const cy_nms_params *pp, float *dets,
                       int *counts, cy_error *err) {
    cy_nms_params p = pp ? *pp : cy_nms_default_params();
    if (n < 1 || nc < 1 || nm < 0 || A < 0 || p.max_det < 1 || p.max_nms < 1 || !(p.iou >= 0 && p.iou <= 1) ||
        !(p.conf >= 0 && p.conf <= 1))
        return cy_fail(err, CY_ERR_ARG, "nms: invalid arguments (conf and iou must be in [0, 1])");
    int multi = p.multi_label && nc > 1; /* multi_label &= nc > 1 */
    size_t ncand = (size_t)(A ? A : 1) * (multi ? nc : 1);
    int row = 6 + nm;
    cand *c = malloc(ncand * sizeof *c);
    float *shifted = malloc(ncand * 4 * sizeof *shifted);
    char *removed = malloc(ncand);
    if (!c || !shifted || !removed) {
        free(c);
        free(shifted);
        free(removed);
        return cy_fail(err, CY_ERR_MEMORY, "nms: out of memory");
    }
    for (int b = 0; b < n; b++) {
        const float *y = pred + (size_t)b * (4 + nc + nm) * A;
        int k = 0;
        for (int a = 0; a < A; a++) {
            float best = -INFINITY;
            int bc = 0;
            for (int j = 0; j < nc; j++) {
                float s = y[(size_t)(4 + j) * A + a];
                if (s > best) { best = s; bc = j; }
            }
            if (!(best > p.conf)) continue;
            if (!multi) {
                push(&c[k++], y, A, a, bc, best, a);
                continue;
            }
            for (int j = 0; j < nc; j++) {
                float s = y[(size_t)(4 + j) * A + a];
                if (s > p.conf) push(&c[k++], y, A, a, j, s, a * nc + j);
            }
        }
        qsort(c, k, sizeof *c, by_score);
        if (k > p.max_nms) k = p.max_nms;
        for (int i = 0; i < k; i++) {
            float off = p.agnostic ? 0.0f : (float)c[i].cls * (float)p.max_wh;
            for (int q = 0; q < 4; q++) shifted[i * 4 + q] = c[i].box[q] + off;
        }
        memset(removed, 0, k);
        int kept = 0;
        float *out = dets + (size_t)b * p.max_det * row;
        for (int i = 0; i < k && kept < p.max_det; i++) {
            if (removed[i]) continue;
            float *o = out + (size_t)kept * row;
            memcpy(o, c[i].box, 4 * sizeof(float));
            o[4] = c[i].score;
            o[5] = (float)c[i].cls;
            for (int e = 0; e < nm; e++) o[6 + e] = y[(size_t)(4 + nc + e) * A + c[i].anchor];
            kept++;
            for (int j = i + 1; j < k; j++)
                if (!removed[j] && iou_xyxy(shifted + i * 4, shifted + j * 4) > p.iou) removed[j] = 1;
        }
        counts[b] = kept;
    }
    free(c);
    free(shifted);
    free(removed);
    return CY_OK;
}
