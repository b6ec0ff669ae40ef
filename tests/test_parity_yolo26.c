/* yolo26n / yolo26s eval forward against the Ultralytics 8.4.37 reference
 * (shared/reference case 2): every stored layer, the raw head outputs, the
 * decoded pre-top-k prediction and the final top-300 rows, on both the fast
 * CPU backend and the plain-C reference backend. */
#include "cyolo.h"
#include "test_ref.h"

static const int N_LAYERS[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 16, 17, 19, 20, 22};

static void run(const char *yaml, cy_backend_kind backend, int full) {
    const char *bname = backend == CY_BACKEND_CPU ? "cpu" : "ref";
    char tag = yaml[6];
    cy_error err = {0};
    cy_model *m = formula_model(yaml, backend);
    if (!m) return;
    float *x = formula_input(2, 128, 160);
    cy_model_set_keep_layers(m, 1);
    cy_model_set_want_one2many(m, full);
    cy_array out, t;
    cy_predict_params pp = {.max_det = 300};
    CHECK(cy_model_forward(m, x, 2, 128, 160, &pp, &out, &err) == CY_OK, "forward: %s", err.msg);
    char what[128], ref[128];
    for (size_t i = 0; i < sizeof N_LAYERS / sizeof *N_LAYERS; i++) {
        int l = N_LAYERS[i];
        if (!full && l != 16 && l != 19 && l != 22) continue;
        CHECK(cy_model_layer_output(m, l, &t, &err) == CY_OK, "layer %d: %s", l, err.msg);
        snprintf(what, sizeof what, "%s/%s layer %d", yaml, bname, l);
        snprintf(ref, sizeof ref, "c2_%c_eval_layer%02d.npy", tag, l);
        check_close(what, &t, ref, 1e-4);
        cy_array_free(&t);
    }
    if (full) {
        static const char *raw[4] = {"one2many_scores", "one2many_boxes", "one2one_scores", "one2one_boxes"};
        for (int k = 0; k < 4; k++) {
            CHECK(cy_model_raw_head(m, k / 2, k % 2, &t, &err) == CY_OK, "raw: %s", err.msg);
            snprintf(what, sizeof what, "%s/%s %s", yaml, bname, raw[k]);
            snprintf(ref, sizeof ref, "c2_%c_eval_raw_%s.npy", tag, raw[k]);
            check_close(what, &t, ref, 1e-4);
            cy_array_free(&t);
        }
        CHECK(cy_model_decoded(m, &t, &err) == CY_OK, "decoded: %s", err.msg);
        snprintf(what, sizeof what, "%s/%s decoded o2o", yaml, bname);
        check_close(what, &t, "c2_n_eval_decoded_o2o.npy", 1e-4);
        cy_array_free(&t);
    }
    snprintf(what, sizeof what, "%s/%s final top-300", yaml, bname);
    snprintf(ref, sizeof ref, "c2_%c_eval_final.npy", tag);
    check_rows_as_set(what, &out, ref, 1e-4);
    cy_array_free(&out);
    free(x);
    cy_model_free(m);
}

/* Without Detect.bias_init the pure formula head gives the case-2
 * "pureformula" output: proves the bias rule is what makes the difference. */
static void run_pure_formula(void) {
    cy_model_params p = cy_model_default_params();
    p.init = CY_INIT_FORMULA;
    cy_model *m;
    cy_error err = {0};
    if (cy_model_create(&m, "yolo26n.yaml", &p, &err) != CY_OK) {
        CHECK(0, "create: %s", err.msg);
        return;
    }
    CHECK(cy_model_reinit(m, CY_INIT_FORMULA, 0, &err) == CY_OK, "pure formula: %s", err.msg);
    float *x = formula_input(2, 128, 160);
    cy_array out;
    cy_predict_params pp = {.max_det = 300};
    CHECK(cy_model_forward(m, x, 2, 128, 160, &pp, &out, &err) == CY_OK, "forward: %s", err.msg);
    check_rows_as_set("yolo26n pure formula final", &out, "c2_n_eval_final_pureformula.npy", 1e-4);
    cy_array_free(&out);
    free(x);
    cy_model_free(m);
}

int main(void) {
    run("yolo26n.yaml", CY_BACKEND_CPU, 1);
    run("yolo26n.yaml", CY_BACKEND_REF, 1);
    run("yolo26s.yaml", CY_BACKEND_CPU, 0);
    run_pure_formula();
    return test_summary();
}
