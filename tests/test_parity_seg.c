/* yolo26n-seg and yolov8n-seg eval forward against the PyPI Ultralytics
 * (tools/refgen/dump_seg.py, formula weights, tests/fixtures/seg): the
 * decoded [B, 4+nc+nm, A] output of the inference branch (boxes, sigmoid
 * scores, mask coefficients), the raw coefficients, the prototype masks and
 * the final output (YOLO26: top-k rows with their coefficients, compared as
 * a set), on the cpu and ref backends, and a second input shape. */
#include "cyolo.h"
#include "test_ref.h"

static void fixture(char *buf, size_t cap, const char *name, const char *what) {
    snprintf(buf, cap, "tests/fixtures/seg/%s_%s.npy", name, what);
}

static void run(const char *name, cy_backend_kind backend, int end2end) {
    char yaml[64], what[160], ref[256];
    snprintf(yaml, sizeof yaml, "%s.yaml", name);
    const char *bk = backend == CY_BACKEND_REF ? "ref" : "cpu";
    cy_error err = {0};
    cy_model *m = formula_model(yaml, backend);
    if (!m) return;
    float *x = formula_input(2, 64, 96);
    cy_array out, t;
    cy_predict_params pp = {.max_det = 300};
    CHECK(cy_model_forward(m, x, 2, 64, 96, &pp, &out, &err) == CY_OK, "forward: %s", err.msg);
    snprintf(what, sizeof what, "%s (%s) final output", name, bk);
    fixture(ref, sizeof ref, name, "final");
    if (end2end) check_rows_as_set(what, &out, ref, 1e-4);
    else check_close(what, &out, ref, 1e-4);
    cy_array_free(&out);
    CHECK(cy_model_decoded(m, &t, &err) == CY_OK, "decoded: %s", err.msg);
    snprintf(what, sizeof what, "%s (%s) decoded boxes, scores and coefficients", name, bk);
    fixture(ref, sizeof ref, name, "decoded");
    check_close(what, &t, ref, 1e-4);
    cy_array_free(&t);
    CHECK(cy_model_raw_head(m, end2end, CY_HEAD_MASKS, &t, &err) == CY_OK, "coefficients: %s", err.msg);
    snprintf(what, sizeof what, "%s (%s) mask coefficients", name, bk);
    fixture(ref, sizeof ref, name, "coef");
    check_close(what, &t, ref, 1e-4);
    cy_array_free(&t);
    CHECK(cy_model_proto(m, &t, &err) == CY_OK, "proto: %s", err.msg);
    snprintf(what, sizeof what, "%s (%s) prototype masks", name, bk);
    fixture(ref, sizeof ref, name, "proto");
    check_close(what, &t, ref, 1e-4);
    cy_array_free(&t);
    CHECK(cy_model_semantic(m, &t, &err) == CY_ERR_ARG, "eval forwards have no semantic branch");
    free(x);
    x = formula_input(1, 96, 64);
    CHECK(cy_model_forward(m, x, 1, 96, 64, &pp, &out, &err) == CY_OK, "forward 96x64: %s", err.msg);
    cy_array_free(&out);
    CHECK(cy_model_decoded(m, &t, &err) == CY_OK, "decoded: %s", err.msg);
    snprintf(what, sizeof what, "%s (%s) decoded 1x3x96x64", name, bk);
    fixture(ref, sizeof ref, name, "decoded_1x3x96x64");
    check_close(what, &t, ref, 1e-4);
    cy_array_free(&t);
    free(x);
    cy_model_free(m);
}

/* A detect model has none of the segment parts. */
static void detect_has_no_masks(void) {
    cy_error err = {0};
    cy_model *m = formula_model("yolo26n.yaml", CY_BACKEND_CPU);
    if (!m) return;
    float *x = formula_input(1, 64, 64);
    cy_array out, t;
    cy_predict_params pp = {.max_det = 10};
    CHECK(cy_model_forward(m, x, 1, 64, 64, &pp, &out, &err) == CY_OK, "forward: %s", err.msg);
    CHECK(out.shape[2] == 6, "detect rows keep 6 columns (%lld)", (long long)out.shape[2]);
    cy_array_free(&out);
    CHECK(cy_model_raw_head(m, 1, CY_HEAD_MASKS, &t, &err) == CY_ERR_ARG && strstr(err.msg, "no mask coefficients"),
          "mask coefficients of a detect model refused: %s", err.msg);
    CHECK(cy_model_proto(m, &t, &err) == CY_ERR_ARG && strstr(err.msg, "detect model has no prototype masks"),
          "proto of a detect model refused: %s", err.msg);
    free(x);
    cy_model_free(m);
}

int main(void) {
    run("yolo26n-seg", CY_BACKEND_CPU, 1);
    run("yolov8n-seg", CY_BACKEND_CPU, 0);
    run("yolo26n-seg", CY_BACKEND_REF, 1);
    run("yolov8n-seg", CY_BACKEND_REF, 0);
    detect_has_no_masks();
    return test_summary();
}
