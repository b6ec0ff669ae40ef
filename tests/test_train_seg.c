/* One training step of yolo26n-seg (E2ELoss over SegmentLoss26, the
 * mask-aware assigner, Proto26's semantic loss) and yolov8n-seg
 * (v8SegmentationLoss, DFL) against PyPI Ultralytics 8.4.190
 * (tools/refgen/dump_train_seg.py, tests/fixtures/seg_train): on a batch of
 * three images (polygon masks in overlap form, one polygon crossing the
 * border, an image without labels, overlapping instances): the loss vector
 * and items (1e-4), the one-to-many assignment, every learnable tensor's
 * gradient norm (5e-3: float sums through the whole backbone) and the
 * sampled gradient vector (rel L2 1e-3, the bound). */
#include <cjson/cJSON.h>
#include "cyolo.h"
#include "model/model.h"
#include "model/model_loss.h"
#include "test_seg_batch.h"

#define DIR SEG_BATCH_DIR

static void run(const char *name, cJSON *info, int step) {
    char yaml[64], path[256], what[160];
    snprintf(yaml, sizeof yaml, "%s.yaml", name);
    cy_error err = {0};
    cy_model *m = formula_model(yaml, CY_BACKEND_CPU);
    seg_batch sb;
    if (!m || seg_batch_load(&sb)) {
        cy_model_free(m);
        return;
    }
    const int B = SEG_B, H = SEG_H, W = SEG_W;
    float *x = sb.x;
    cy_model_set_training(m, 1);
    cy_det_loss_ws *ws;
    cy_det_loss_ws_create(&ws, &err);
    cy_model_loss_out lo;
    CHECK(cy_model_run(m, x, B, H, W, &err) == CY_OK, "%s", err.msg);
    cy_model_zero_grad(m, &err);
    CHECK(cy_model_loss_masks(m, ws, &sb.t, &sb.masks, cy_e2e_weights_at(0, 100), 1, &lo, &err) == CY_OK, "loss: %s",
          err.msg);
    CHECK(lo.nitems == 5 && !strcmp(lo.names[1], "seg_loss") && !strcmp(lo.names[3], "dfl_loss") && !strcmp(lo.names[4], "sem_loss"), "%s: item names",
          name);
    float lv[5], li[5];
    for (int i = 0; i < 5; i++) lv[i] = (float)lo.loss[i], li[i] = (float)lo.items[i];
    printf("%s loss %.6g %.6g %.6g %.6g %.6g\n", name, lv[0], lv[1], lv[2], lv[3], lv[4]);
    cy_array a = {.data = lv, .ndim = 1, .shape = {5}};
    snprintf(path, sizeof path, DIR "%s_loss.npy", name);
    snprintf(what, sizeof what, "%s loss vector", name);
    check_close(what, &a, path, 1e-4);
    a.data = li;
    snprintf(path, sizeof path, DIR "%s_loss_items.npy", name);
    snprintf(what, sizeof what, "%s loss items", name);
    check_close(what, &a, path, 1e-4);
    /* the one-to-many assignment */
    cy_npy fg, gti;
    snprintf(path, sizeof path, DIR "%s_fg_mask.npy", name);
    int ok = !ref_load(path, &fg);
    snprintf(path, sizeof path, DIR "%s_target_gt_idx.npy", name);
    ok &= !ref_load(path, &gti);
    if (ok) {
        const cy_det_assign *as = &lo.o2m_assign;
        int64_t n = (int64_t)as->batch * as->anchors, dfg = 0, dgt = 0, nfg = 0;
        CHECK(fg.numel == n, "%s: fg size", name);
        for (int64_t i = 0; i < n && i < fg.numel; i++) {
            nfg += as->fg[i];
            dfg += as->fg[i] != (fg.data[i] != 0);
            dgt += as->fg[i] && as->gt_idx[i] != (int)gti.data[i];
        }
        CHECK(dfg == 0 && dgt == 0, "%s: assignment differs at %lld fg / %lld gt of %lld fg anchors", name,
              (long long)dfg, (long long)dgt, (long long)nfg);
        cy_npy_free(&fg);
        cy_npy_free(&gti);
    }
    /* gradients: learnable tensors in state_dict order */
    cy_npy norms, samp;
    snprintf(path, sizeof path, DIR "%s_grad_norms.npy", name);
    ok = !ref_load(path, &norms);
    snprintf(path, sizeof path, DIR "%s_grads_sampled.npy", name);
    ok &= !ref_load(path, &samp);
    if (ok) {
        int k = 0, worst = -1;
        int64_t flat = 0, si = 0;
        double werr = 0, d2 = 0, r2 = 0;
        cJSON *names = cJSON_GetObjectItem(info, "grad_names");
        for (int e = 0; e < m->nentries; e++) {
            const cy_entry *en = &m->entries[e];
            if (en->kind != CY_ENTRY_PARAM) continue;
            if (k >= norms.numel) break;
            const char *want = cJSON_GetArrayItem(names, k)->valuestring;
            if (strcmp(want, en->name)) {
                CHECK(0, "%s: gradient tensor %d is %s, Ultralytics %s", name, k, en->name, want);
                break;
            }
            const float *g = m->grads + en->offset;
            double s = 0;
            for (size_t i = 0; i < en->numel; i++) s += (double)g[i] * g[i];
            const double rel = fabs(sqrt(s) - norms.data[k]) / fmax(norms.data[k], 1e-6 * 1e3);
            if (rel > werr) werr = rel, worst = e;
            for (; si < samp.numel && si * step < flat + (int64_t)en->numel; si++) {
                const double c = g[si * step - flat], r = samp.data[si];
                d2 += (c - r) * (c - r), r2 += r * r;
            }
            flat += (int64_t)en->numel;
            k++;
        }
        CHECK(k == norms.numel, "%s: %d gradient tensors, Ultralytics %lld", name, k, (long long)norms.numel);
        CHECK(werr < 5e-3, "%s: worst gradient norm rel err %.3g at %s", name, werr, worst >= 0 ? m->entries[worst].name : "-");
        CHECK(sqrt(d2 / r2) < 1e-3, "%s: sampled gradient rel L2 %.3g", name, sqrt(d2 / r2));
        printf("%s: gradient norms worst rel %.3g (%s), sampled rel L2 %.3g over %lld elements\n", name, werr,
               worst >= 0 ? m->entries[worst].name : "-", sqrt(d2 / r2), (long long)samp.numel);
        cy_npy_free(&norms);
        cy_npy_free(&samp);
    }
    cy_det_loss_ws_free(ws);
    seg_batch_free(&sb);
    cy_model_free(m);
}

int main(void) {
    char *text = test_slurp(DIR "manifest.json");
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    CHECK(root != NULL, "cannot read " DIR "manifest.json");
    if (!root) return test_summary();
    int step = cJSON_GetObjectItem(root, "step")->valueint;
    cJSON *models = cJSON_GetObjectItem(root, "models");
    run("yolo26n-seg", cJSON_GetObjectItem(models, "yolo26n-seg"), step);
    run("yolov8n-seg", cJSON_GetObjectItem(models, "yolov8n-seg"), step);
    cJSON_Delete(root);
    free(text);
    return test_summary();
}
