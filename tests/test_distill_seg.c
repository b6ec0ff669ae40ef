/* Knowledge distillation for a segmentation pair against PyPI Ultralytics'
 * own DistillationModel (tools/refgen/dump_distill_seg.py): student
 * yolo26n-seg, teacher yolo26s-seg, formula weights and projectors, dis 6,
 * the training-step batch of tests/fixtures/seg_train (overlap masks). The
 * distillation hooks are the Segment head's inputs, so this needs no code of
 * its own: the teacher weights w per level, dis_loss, the backpropagated
 * loss vector (segment items + dis x batch) and the projector gradients. */
#include <cjson/cJSON.h>
#include "cyolo.h"
#include "model/distill.h"
#include "model/model_loss.h"
#include "test_seg_batch.h"

#define DIR SEG_BATCH_DIR

int main(void) {
    cy_error err = {0};
    char *text = test_slurp(DIR "distill_seg.json");
    cJSON *info = text ? cJSON_Parse(text) : NULL;
    cy_model *s = formula_model("yolo26n-seg.yaml", CY_BACKEND_CPU), *t = formula_model("yolo26s-seg.yaml", CY_BACKEND_CPU);
    seg_batch sb;
    if (!info || !s || !t || seg_batch_load(&sb)) {
        CHECK(0, "fixtures or models");
        return test_summary();
    }
    cy_distill *d;
    CHECK(cy_distill_create(&d, s, t, 6.0, 0, &err) == CY_OK, "create: %s", err.msg);
    cy_distill_init_formula(d);
    cy_model_set_training(s, 1);
    const int B = SEG_B, H = SEG_H, W = SEG_W;
    float *x = sb.x;
    cy_det_loss_ws *ws;
    cy_det_loss_ws_create(&ws, &err);
    cy_model_loss_out lo;
    cy_distill_out dout;
    CHECK(cy_model_run(s, x, B, H, W, &err) == CY_OK, "student forward: %s", err.msg);
    cy_model_zero_grad(s, &err);
    cy_distill_zero_grad(d);
    CHECK(cy_distill_forward(d, s, x, B, H, W, 1, &dout, &err) == CY_OK, "distill: %s", err.msg);
    CHECK(cy_model_loss_masks(s, ws, &sb.t, &sb.masks, cy_e2e_weights_at(0, 100), 1, &lo, &err) == CY_OK, "loss: %s",
          err.msg);
    float lv[6];
    for (int i = 0; i < 5; i++) lv[i] = (float)lo.loss[i];
    lv[5] = (float)(dout.dis_loss * B);
    cy_array a = {.data = lv, .ndim = 1, .shape = {6}};
    check_close("segment pair loss vector", &a, DIR "distill_seg_loss.npy", 1e-4);
    double want = cJSON_GetObjectItem(cJSON_GetObjectItem(info, "items"), "dis_loss")->valuedouble;
    CHECK(fabs(dout.dis_loss - want) <= 1e-4 * want, "dis_loss %.7g vs %.7g", dout.dis_loss, want);
    for (int l = 0; l < 3; l++) {
        cy_array w;
        char ref[96], what[64];
        CHECK(cy_distill_teacher_weights(d, l, &w, &err) == CY_OK, "w: %s", err.msg);
        snprintf(ref, sizeof ref, DIR "distill_seg_teacher_w%d.npy", l);
        snprintf(what, sizeof what, "teacher w level %d", l);
        if (w.data) check_close(what, &w, ref, 1e-4);
        cy_array_free(&w);
    }
    /* projector gradients: every step-th element, and each tensor's norm */
    int step = cJSON_GetObjectItem(info, "projector_grad_step")->valueint;
    cy_npy pg;
    if (!ref_load(DIR "distill_seg_projector_grads.npy", &pg)) {
        const float *g = cy_distill_grads(d);
        const size_t n = cy_distill_nparams(d);
        double d2 = 0, r2 = 0;
        int64_t k = 0;
        for (size_t i = 0; i < n; i += (size_t)step, k++)
            if (k < pg.numel) d2 += (g[i] - pg.data[k]) * (double)(g[i] - pg.data[k]), r2 += (double)pg.data[k] * pg.data[k];
        CHECK(k == pg.numel, "projector gradient size: %lld samples, reference %lld", (long long)k, (long long)pg.numel);
        CHECK(sqrt(d2 / r2) < 1e-3, "projector gradients rel L2 %.3g", sqrt(d2 / r2));
        printf("projector gradients: rel L2 %.3g over %lld samples\n", sqrt(d2 / r2), (long long)k);
        cy_npy_free(&pg);
    }
    const cy_entry *pe;
    int npe = cy_distill_entries(d, &pe);
    cJSON *pl2 = cJSON_GetObjectItem(info, "projector_grad_l2");
    CHECK(npe == cJSON_GetArraySize(pl2), "%d projector tensors", npe);
    for (int i = 0; i < npe; i++) {
        cJSON *wv = cJSON_GetObjectItem(pl2, pe[i].name);
        CHECK(wv != NULL, "reference has no %s", pe[i].name);
        if (!wv) continue;
        double s2 = 0;
        for (size_t j = 0; j < pe[i].numel; j++) s2 += (double)cy_distill_grads(d)[pe[i].offset + j] * cy_distill_grads(d)[pe[i].offset + j];
        CHECK(fabs(sqrt(s2) - wv->valuedouble) <= 1e-3 * wv->valuedouble, "%s: gradient norm %.6g vs %.6g", pe[i].name,
              sqrt(s2), wv->valuedouble);
    }
    /* a detect teacher for a segment student is refused naming both tasks */
    cy_model *dt = formula_model("yolo26s.yaml", CY_BACKEND_CPU);
    cy_distill *bad = NULL;
    CHECK(dt && cy_distill_create(&bad, s, dt, 6.0, 0, &err) == CY_ERR_ARG && strstr(err.msg, "a detect teacher for a segment student"),
          "detect teacher refused: %s", err.msg);
    cy_model_free(dt);
    cy_distill_free(d);
    cy_det_loss_ws_free(ws);
    seg_batch_free(&sb);
    cy_model_free(s);
    cJSON_Delete(info);
    free(text);
    return test_summary();
}
