/* One training step's loss and gradients of yolo26n against the reference
 * (case 3): train forward, E2ELoss (o2m 0.8 / o2o 0.2), backward of
 * loss.sum(). The loss vector and items within 1e-4; the whole gradient
 * vector within 1e-3 relative L2; each tensor's gradient norm within 1e-3
 * relative, except the BN biases whose true gradient is zero (absolute). */
#include "cyolo.h"
#include "model/model_loss.h"
#include "test_manifest.h"

static int in_list(cJSON *names, const char *name) {
    cJSON *x;
    cJSON_ArrayForEach(x, names) if (!strcmp(x->valuestring, name)) return 1;
    return 0;
}

static void run(cy_backend_kind backend, cJSON *case3) {
    const char *bname = backend == CY_BACKEND_CPU ? "cpu" : "ref";
    cy_error err = {0};
    cy_model *m = formula_model("yolo26n.yaml", backend);
    if (!m) return;
    cy_model_set_training(m, 1);
    float *x = formula_input(2, 128, 160);
    int nrows;
    float *rows = manifest_targets(case3, &nrows);
    cy_targets t;
    CHECK(cy_targets_from_rows(&t, rows, nrows, 2, 80, &err) == CY_OK, "targets: %s", err.msg);
    cy_det_loss_ws *ws;
    cy_det_loss_ws_create(&ws, &err);
    cy_model_loss_out lo;
    CHECK(cy_model_run(m, x, 2, 128, 160, &err) == CY_OK, "train forward: %s", err.msg);
    CHECK(cy_model_zero_grad(m, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_model_loss(m, ws, &t, cy_e2e_weights_at(0, 100), 1, &lo, &err) == CY_OK, "loss: %s", err.msg);

    float lv[3] = {(float)lo.loss[0], (float)lo.loss[1], (float)lo.loss[2]};
    float li[3] = {(float)lo.items[0], (float)lo.items[1], (float)lo.items[2]};
    cy_array a = {.data = lv, .ndim = 1, .shape = {3}};
    char what[160];
    snprintf(what, sizeof what, "%s loss vector", bname);
    check_close(what, &a, "c3_n_train_loss.npy", 1e-4);
    a.data = li;
    snprintf(what, sizeof what, "%s loss items", bname);
    check_close(what, &a, "c3_n_train_loss_items.npy", 1e-4);

    cy_npy g;
    if (ref_load("c3_n_train_grads.npy", &g) == 0) {
        CHECK((size_t)g.numel == m->nparams, "gradient vector length %lld vs %zu", (long long)g.numel, m->nparams);
        double d2 = 0, r2 = 0;
        for (int64_t i = 0; i < g.numel && (size_t)i < m->nparams; i++) {
            double d = (double)m->grads[i] - g.data[i];
            d2 += d * d;
            r2 += (double)g.data[i] * g.data[i];
        }
        double rel = sqrt(d2 / r2);
        CHECK(rel <= 1e-3, "%s: whole gradient rel L2 err %.3e", bname, rel);
        printf("%s: whole gradient rel L2 err %.3e\n", bname, rel);
        cJSON *zero = cJSON_GetObjectItem(cJSON_GetObjectItem(case3, "zero_true_gradient_tensors"), "names");
        cJSON *row;
        double worst = 0;
        const char *worst_name = "";
        cJSON_ArrayForEach(row, cJSON_GetObjectItem(case3, "grad_table")) {
            const char *name = cJSON_GetObjectItem(row, "name")->valuestring;
            int64_t off = (int64_t)cJSON_GetObjectItem(row, "offset")->valuedouble;
            int64_t n = (int64_t)cJSON_GetObjectItem(row, "numel")->valuedouble;
            double want = cJSON_GetObjectItem(row, "l2")->valuedouble, got = 0;
            for (int64_t i = 0; i < n; i++) got += (double)m->grads[off + i] * m->grads[off + i];
            got = sqrt(got);
            if (in_list(zero, name)) {
                CHECK(got < 1e-3, "%s %s: zero-true gradient has norm %.3e", bname, name, got);
                continue;
            }
            double e = fabs(got - want) / want;
            if (e > worst) { worst = e; worst_name = name; }
            CHECK(e <= 1e-3, "%s %s: gradient norm %.6g vs %.6g (rel %.2e)", bname, name, got, want, e);
        }
        printf("%s: worst per-tensor gradient norm rel err %.3e (%s)\n", bname, worst, worst_name);
        cy_npy_free(&g);
    }
    cy_det_loss_ws_free(ws);
    cy_targets_free(&t);
    free(rows);
    free(x);
    cy_model_free(m);
}

int main(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/manifest.json", ref_dir());
    char *text = test_slurp(path);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    cJSON *case3 = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "cases"), "3_train_loss");
    CHECK(case3 != NULL, "manifest case 3 missing");
    if (case3) {
        run(CY_BACKEND_CPU, case3);
        run(CY_BACKEND_REF, case3);
    }
    cJSON_Delete(root);
    free(text);
    return test_summary();
}
