/* yolov8n and yolo11n eval forward against tensors dumped from Ultralytics
 * 8.4.37 by tools/refgen/dump_v8_v11.py (formula weights, tests/fixtures/ref):
 * layer outputs and the decoded [B, 84, A] output, at two input shapes. */
#include "cyolo.h"
#include "test_ref.h"

static void run(const char *name, const int *layers, int nlayers) {
    char yaml[64], what[128], ref[256];
    snprintf(yaml, sizeof yaml, "%s.yaml", name);
    cy_error err = {0};
    cy_model *m = formula_model(yaml, CY_BACKEND_CPU);
    if (!m) return;
    cy_model_set_keep_layers(m, 1);
    float *x = formula_input(2, 128, 160);
    cy_array out, t;
    cy_predict_params pp = {.max_det = 300};
    CHECK(cy_model_forward(m, x, 2, 128, 160, &pp, &out, &err) == CY_OK, "forward: %s", err.msg);
    for (int i = 0; i < nlayers; i++) {
        CHECK(cy_model_layer_output(m, layers[i], &t, &err) == CY_OK, "layer: %s", err.msg);
        snprintf(what, sizeof what, "%s layer %d", name, layers[i]);
        snprintf(ref, sizeof ref, "tests/fixtures/ref/%s_layer%02d.npy", name, layers[i]);
        check_close(what, &t, ref, 1e-4);
        cy_array_free(&t);
    }
    snprintf(what, sizeof what, "%s decoded output", name);
    snprintf(ref, sizeof ref, "tests/fixtures/ref/%s_final.npy", name);
    check_close(what, &out, ref, 1e-4);
    cy_array_free(&out);
    free(x);
    /* a second, non-square shape with batch 1 */
    x = formula_input(1, 96, 64);
    CHECK(cy_model_forward(m, x, 1, 96, 64, &pp, &out, &err) == CY_OK, "forward 96x64: %s", err.msg);
    snprintf(what, sizeof what, "%s decoded output 1x3x96x64", name);
    snprintf(ref, sizeof ref, "tests/fixtures/ref/%s_final_1x3x96x64.npy", name);
    check_close(what, &out, ref, 1e-4);
    cy_array_free(&out);
    free(x);
    cy_model_free(m);
}

int main(void) {
    static const int v8[] = {0, 2, 4, 6, 8, 9, 12, 15, 18, 21};
    static const int v11[] = {0, 2, 4, 6, 8, 9, 10, 13, 16, 19, 22};
    run("yolov8n", v8, sizeof v8 / sizeof *v8);
    run("yolo11n", v11, sizeof v11 / sizeof *v11);
    return test_summary();
}
