/* yolov8n / yolo11n training step (v8DetectionLoss, DFL, reg_max 16)
 * against tensors dumped from Ultralytics 8.4.37 by
 * tools/refgen/dump_train_v8_v11.py: loss vector and items, BN running
 * stats after the train forward, assigner outputs, and the gradients (all
 * elements of small tensors, every 5th of large ones; per-tensor norms). */
#include <cjson/cJSON.h>
#include "cyolo.h"
#include "model/model_loss.h"
#include "test_ref.h"

static const float CASE3_TARGETS[6][6] = {
    {0, 0, 0.3f, 0.4f, 0.35f, 0.45f}, {0, 17, 0.7f, 0.6f, 0.2f, 0.25f}, {0, 5, 0.55f, 0.45f, 0.04f, 0.05f},
    {1, 2, 0.5f, 0.5f, 0.8f, 0.7f},   {1, 2, 0.45f, 0.55f, 0.3f, 0.25f}, {1, 79, 0.15f, 0.2f, 0.1f, 0.12f}};

static int in_names(cJSON *obj, const char *name) {
    cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItem(obj, "names")) if (!strcmp(x->valuestring, name)) return 1;
    return 0;
}

static void fixture(const char *model, const char *what, char *path, size_t cap) {
    snprintf(path, cap, "tests/fixtures/train/%s_%s.npy", model, what);
}

static void run(const char *model, cJSON *info) {
    char yaml[64], path[256], what[256];
    snprintf(yaml, sizeof yaml, "%s.yaml", model);
    cy_error err = {0};
    cy_model *m = formula_model(yaml, CY_BACKEND_CPU);
    if (!m) return;
    cy_model_set_training(m, 1);
    float *x = formula_input(2, 128, 160);
    cy_targets t;
    CHECK(cy_targets_from_rows(&t, &CASE3_TARGETS[0][0], 6, 2, 80, &err) == CY_OK, "%s", err.msg);
    cy_det_loss_ws *ws;
    cy_det_loss_ws_create(&ws, &err);
    cy_model_loss_out lo;
    CHECK(cy_model_run(m, x, 2, 128, 160, &err) == CY_OK, "%s", err.msg);
    cy_model_zero_grad(m, &err);
    CHECK(cy_model_loss(m, ws, &t, cy_e2e_weights_at(0, 1), 1, &lo, &err) == CY_OK, "loss: %s", err.msg);
    float lv[3], li[3];
    for (int i = 0; i < 3; i++) lv[i] = (float)lo.loss[i], li[i] = (float)lo.items[i];
    cy_array a = {.data = lv, .ndim = 1, .shape = {3}};
    fixture(model, "loss", path, sizeof path);
    snprintf(what, sizeof what, "%s loss vector", model);
    check_close(what, &a, path, 1e-4);
    a.data = li;
    fixture(model, "loss_items", path, sizeof path);
    snprintf(what, sizeof what, "%s loss items", model);
    check_close(what, &a, path, 1e-4);

    /* BN running stats in state_dict order */
    cy_array bn = {.data = malloc(m->nbuffers * sizeof(float)), .ndim = 1, .shape = {(int64_t)m->nbuffers}};
    for (int i = 0, o = 0; i < m->nentries; i++)
        if (m->entries[i].kind == CY_ENTRY_BUFFER) {
            memcpy(bn.data + o, m->buffers + m->entries[i].offset, m->entries[i].numel * sizeof(float));
            o += (int)m->entries[i].numel;
        }
    fixture(model, "bn_running", path, sizeof path);
    snprintf(what, sizeof what, "%s BN running stats", model);
    check_close(what, &bn, path, 1e-5);
    cy_array_free(&bn);

    /* assigner: fg, labels, gt index identical; boxes within 1e-4 */
    cy_npy fg, lab, gti, box;
    const cy_det_assign *as = &lo.o2m_assign;
    fixture(model, "fg_mask", path, sizeof path);
    int ok = !ref_load(path, &fg);
    fixture(model, "target_labels", path, sizeof path);
    ok &= !ref_load(path, &lab);
    fixture(model, "target_gt_idx", path, sizeof path);
    ok &= !ref_load(path, &gti);
    fixture(model, "target_bboxes_px", path, sizeof path);
    ok &= !ref_load(path, &box);
    CHECK(ok, "%s: assigner fixtures", model);
    if (ok) {
        int64_t n = (int64_t)as->batch * as->anchors, bad = 0;
        CHECK(fg.numel == n, "%s: fg size %lld vs %lld", model, (long long)fg.numel, (long long)n);
        double boxerr = 0;
        for (int64_t i = 0; i < n && i < fg.numel; i++) {
            bad += (as->fg[i] != 0) != (fg.data[i] != 0);
            if (fg.data[i] != 0) {
                bad += as->label[i] != (int)lab.data[i] || as->gt_idx[i] != (int)gti.data[i];
                for (int k = 0; k < 4; k++) boxerr = fmax(boxerr, fabs(as->box_px[i * 4 + k] - box.data[i * 4 + k]));
            }
        }
        CHECK(bad == 0, "%s: %lld assigner mismatches", model, (long long)bad);
        CHECK(boxerr <= 1e-4 * 160, "%s: target boxes differ by %.3e px", model, boxerr);
        cy_npy_free(&fg), cy_npy_free(&lab), cy_npy_free(&gti), cy_npy_free(&box);
    }

    /* gradients */
    cy_npy gs;
    fixture(model, "grads_sampled", path, sizeof path);
    if (!ref_load(path, &gs)) {
        double d2 = 0, r2 = 0, worst = 0;
        const char *worst_name = "";
        cJSON *row;
        cJSON_ArrayForEach(row, cJSON_GetObjectItem(info, "grad_table")) {
            const char *name = cJSON_GetObjectItem(row, "name")->valuestring;
            int k = cy_model_find_entry(m, name);
            if (k < 0) {
                CHECK(0, "%s: no parameter %s", model, name);
                continue;
            }
            const float *gm = m->grads + m->entries[k].offset;
            cJSON *st = cJSON_GetObjectItem(row, "stored");
            int64_t fo = (int64_t)cJSON_GetObjectItem(st, "file_offset")->valuedouble;
            int64_t cnt = (int64_t)cJSON_GetObjectItem(st, "count")->valuedouble;
            int64_t step = (int64_t)cJSON_GetObjectItem(st, "step")->valuedouble;
            for (int64_t j = 0; j < cnt; j++) {
                double d = (double)gm[j * step] - gs.data[fo + j];
                d2 += d * d;
                r2 += (double)gs.data[fo + j] * gs.data[fo + j];
            }
            double got = 0, want = cJSON_GetObjectItem(row, "l2")->valuedouble;
            for (size_t j = 0; j < m->entries[k].numel; j++) got += (double)gm[j] * gm[j];
            got = sqrt(got);
            if (in_names(cJSON_GetObjectItem(info, "zero_true_gradient_tensors"), name)) {
                CHECK(got < 1e-3, "%s %s: zero-true gradient norm %.3e", model, name, got);
            } else if (in_names(cJSON_GetObjectItem(info, "exactly_zero_gradient_tensors"), name)) {
                CHECK(got == 0, "%s %s: gradient must be exactly 0, norm %.3e", model, name, got);
            } else {
                double e = fabs(got - want) / want;
                if (e > worst) worst = e, worst_name = name;
                CHECK(e <= 1e-3, "%s %s: gradient norm %.6g vs %.6g (rel %.2e)", model, name, got, want, e);
            }
        }
        double rel = sqrt(d2 / r2);
        printf("%s: stored gradients rel L2 %.3e, worst per-tensor norm rel %.3e (%s)\n", model, rel, worst,
               worst_name);
        CHECK(rel <= 1e-3, "%s: gradient rel L2 %.3e", model, rel);
        cy_npy_free(&gs);
    }
    cy_det_loss_ws_free(ws);
    cy_targets_free(&t);
    free(x);
    cy_model_free(m);
}

int main(void) {
    char *text = test_slurp("tests/fixtures/train/manifest.json");
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    cJSON *models = cJSON_GetObjectItem(root, "models");
    CHECK(models != NULL, "tests/fixtures/train/manifest.json missing");
    run("yolov8n", cJSON_GetObjectItem(models, "yolov8n"));
    run("yolo11n", cJSON_GetObjectItem(models, "yolo11n"));
    cJSON_Delete(root);
    free(text);
    return test_summary();
}
