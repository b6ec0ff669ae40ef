/* The fast CPU backend and the plain-C reference backend give the same
 * eval outputs on shapes no reference tensor covers: the smallest legal
 * input (32x32, P5 = 1x1), tall and wide inputs, batch 3, for the three
 * families; and every layer output agrees too. */
#include "cyolo.h"
#include "test_ref.h"

static void compare(const char *yaml, int n, int h, int w) {
    cy_model *m[2];
    cy_error err = {0};
    cy_array out[2], dec[2];
    for (int k = 0; k < 2; k++) {
        cy_model_params p = cy_model_default_params();
        p.init = CY_INIT_FORMULA;
        p.backend = k ? CY_BACKEND_REF : CY_BACKEND_CPU;
        if (cy_model_create(&m[k], yaml, &p, &err) != CY_OK) {
            CHECK(0, "%s: %s", yaml, err.msg);
            return;
        }
        cy_model_set_keep_layers(m[k], 1);
    }
    float *x = formula_input(n, h, w);
    cy_predict_params pp = {.max_det = 300};
    for (int k = 0; k < 2; k++) {
        CHECK(cy_model_forward(m[k], x, n, h, w, &pp, &out[k], &err) == CY_OK, "%s forward: %s", yaml, err.msg);
        CHECK(cy_model_decoded(m[k], &dec[k], &err) == CY_OK, "%s decoded: %s", yaml, err.msg);
    }
    cy_model_summary s;
    cy_model_summarize(m[0], &s);
    for (int l = 0; l < s.layers - 1; l++) {
        cy_array a, b;
        if (cy_model_layer_output(m[0], l, &a, &err) != CY_OK || cy_model_layer_output(m[1], l, &b, &err) != CY_OK) {
            CHECK(0, "%s layer %d: %s", yaml, l, err.msg);
            continue;
        }
        double e = test_max_rel(a.data, b.data, (size_t)(a.shape[0] * a.shape[1] * a.shape[2] * a.shape[3]));
        CHECK(e <= 1e-4, "%s %dx%dx%d layer %d: cpu vs ref %.3e", yaml, n, h, w, l, e);
        cy_array_free(&a);
        cy_array_free(&b);
    }
    size_t numel = (size_t)(dec[0].shape[0] * dec[0].shape[1] * dec[0].shape[2]);
    double e = test_max_rel(dec[0].data, dec[1].data, numel);
    CHECK(e <= 1e-4, "%s %dx%dx%d decoded: cpu vs ref %.3e", yaml, n, h, w, e);
    CHECK(out[0].shape[1] == out[1].shape[1], "%s: output shapes differ", yaml);
    for (int k = 0; k < 2; k++) {
        cy_array_free(&out[k]);
        cy_array_free(&dec[k]);
        cy_model_free(m[k]);
    }
    free(x);
}

int main(void) {
    compare("yolo26n.yaml", 1, 32, 32);
    compare("yolo26n.yaml", 3, 160, 32);
    compare("yolov8n.yaml", 2, 32, 96);
    compare("yolo11n.yaml", 1, 64, 224);
    compare("yolo26s.yaml", 1, 96, 128);
    return test_summary();
}
