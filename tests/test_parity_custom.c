/* The custom model YAMLs of tests/fixtures/custom against Ultralytics 8.4.37,
 * from tools/refgen/dump_custom.py (formula weights, input (2,3,64,96)):
 * model.info() figures (layers, parameters, gradients, unrounded GFLOPs), the
 * strides, the parse_model table rows and summary line as printed, stored layer
 * outputs, the decoded [B, 4+nc, A] prediction (one2one branch for end2end
 * heads) and, for end2end heads, the final top-k rows as a set; on both the CPU
 * and the plain-C reference backend. The models exercise module forms the
 * stock yolov8/yolo11/yolo26 YAMLs do not: DWConv, grouped and k=5 Conv,
 * standalone Bottleneck, C3, C2f shortcut False, SPPF k/n/shortcut, C3k2 in all
 * three forms with g and shortcut, C2PSA n=2 with two odd-sized heads, a
 * three-input Concat, Upsample x4, scale picked from the name, reg_max 1/8/16,
 * a two-level head, and the no-scale C3k2 c3k rule. */
#include <cjson/cJSON.h>
#include "cyolo.h"
#include "test_ref.h"

#ifndef DIR
#define DIR "tests/fixtures/custom/" /* relative to the repo root */
#endif

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc(n + 1);
    if (s && fread(s, 1, n, f) == (size_t)n) s[n] = 0;
    fclose(f);
    return s;
}

static double num(cJSON *o, const char *key) {
    cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void check_info(const char *tag, cy_model *m, cJSON *info) {
    cy_model_summary s;
    cy_model_summarize(m, &s);
    CHECK(s.params == (int64_t)num(info, "parameters"), "%s params %lld, Ultralytics %.0f", tag,
          (long long)s.params, num(info, "parameters"));
    CHECK(s.gradients == (int64_t)num(info, "gradients"), "%s gradients %lld, Ultralytics %.0f", tag,
          (long long)s.gradients, num(info, "gradients"));
    CHECK(s.modules == (int)num(info, "layers"), "%s layers %d, Ultralytics %.0f", tag, s.modules,
          num(info, "layers"));
    double gf = num(info, "GFLOPs_unrounded");
    CHECK(fabs(s.gflops_640 - gf) < 1e-6, "%s GFLOPs %.7f, Ultralytics %.7f", tag, s.gflops_640, gf);
    CHECK(s.nc == (int)num(info, "nc"), "%s nc %d", tag, s.nc);
    CHECK(s.reg_max == (int)num(info, "reg_max"), "%s reg_max %d", tag, s.reg_max);
    CHECK(s.end2end == cJSON_IsTrue(cJSON_GetObjectItem(info, "end2end")), "%s end2end %d", tag, s.end2end);
    cJSON *stride = cJSON_GetObjectItem(info, "stride"), *st;
    int l = 0;
    cJSON_ArrayForEach(st, stride) {
        CHECK(l < 3 && s.stride[l] == (int)st->valuedouble, "%s stride[%d] %d, Ultralytics %g", tag, l,
              l < 3 ? s.stride[l] : -1, st->valuedouble);
        l++;
    }
    CHECK(l == 3 || s.stride[l] == 0, "%s has more than %d strides", tag, l);
    /* the printed table and summary line, character for character */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cy_error err = {0};
    CHECK(cy_model_print_info(m, f, &err) == CY_OK, "%s print_info: %s", tag, err.msg);
    fclose(f);
    cJSON *rows = cJSON_GetObjectItem(info, "table_text"), *row;
    int nrows = 0;
    cJSON_ArrayForEach(row, rows) {
        CHECK(strstr(buf, row->valuestring) != NULL, "%s: table row missing:\n%s\n--- got:\n%s", tag,
              row->valuestring, buf);
        nrows++;
    }
    CHECK(nrows == s.layers, "%s: %d table rows for %d layers", tag, nrows, s.layers);
    const char *line = cJSON_GetObjectItem(info, "summary_line")->valuestring;
    CHECK(strstr(buf, line) != NULL, "%s: summary line '%s' missing:\n%s", tag, line, buf);
    free(buf);
}

static void run(const char *stem, cJSON *info, cy_backend_kind backend) {
    char yaml[256], tag[128], what[192], ref[256];
    snprintf(yaml, sizeof yaml, "%s%s.yaml", DIR, stem);
    snprintf(tag, sizeof tag, "%s/%s", stem, backend == CY_BACKEND_CPU ? "cpu" : "ref");
    cy_model_params p = cy_model_default_params();
    p.init = CY_INIT_FORMULA;
    p.backend = backend;
    cy_model *m;
    cy_error err = {0};
    if (cy_model_create(&m, yaml, &p, &err) != CY_OK) {
        CHECK(0, "create %s: %s", yaml, err.msg);
        return;
    }
    check_info(tag, m, info);

    cJSON *shape = cJSON_GetObjectItem(info, "input_shape");
    int n = cJSON_GetArrayItem(shape, 0)->valueint, h = cJSON_GetArrayItem(shape, 2)->valueint,
        w = cJSON_GetArrayItem(shape, 3)->valueint;
    float *x = formula_input(n, h, w);
    cy_model_set_keep_layers(m, 1);
    cy_array out, t;
    cy_predict_params pp = {.max_det = 300};
    if (cy_model_forward(m, x, n, h, w, &pp, &out, &err) != CY_OK) {
        CHECK(0, "%s forward: %s", tag, err.msg);
        free(x);
        cy_model_free(m);
        return;
    }
    cJSON *layers = cJSON_GetObjectItem(info, "layers_stored"), *lj;
    cJSON_ArrayForEach(lj, layers) {
        int l = lj->valueint;
        if (cy_model_layer_output(m, l, &t, &err) != CY_OK) {
            CHECK(0, "%s layer %d: %s", tag, l, err.msg);
            continue;
        }
        snprintf(what, sizeof what, "%s layer %d", tag, l);
        snprintf(ref, sizeof ref, "%s%s_layer%02d.npy", DIR, stem, l);
        check_close(what, &t, ref, 1e-4);
        cy_array_free(&t);
    }
    snprintf(ref, sizeof ref, "%s%s_decoded.npy", DIR, stem);
    if (cy_model_decoded(m, &t, &err) == CY_OK) {
        snprintf(what, sizeof what, "%s decoded", tag);
        check_close(what, &t, ref, 1e-4);
        cy_array_free(&t);
    } else {
        CHECK(0, "%s decoded: %s", tag, err.msg);
    }
    if (cJSON_IsTrue(cJSON_GetObjectItem(info, "end2end"))) {
        snprintf(what, sizeof what, "%s final top-k", tag);
        snprintf(ref, sizeof ref, "%s%s_final.npy", DIR, stem);
        check_rows_as_set(what, &out, ref, 1e-4);
    } else {
        snprintf(what, sizeof what, "%s forward output (decoded)", tag);
        check_close(what, &out, ref, 1e-4);
    }
    cy_array_free(&out);
    free(x);
    cy_model_free(m);
}

int main(void) {
    char *text = slurp(DIR "manifest.json");
    CHECK(text != NULL, "cannot read " DIR "manifest.json");
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    cJSON *models = cJSON_GetObjectItem(root, "models"), *mdl;
    int count = 0;
    cJSON_ArrayForEach(mdl, models) {
        run(mdl->string, mdl, CY_BACKEND_CPU);
        run(mdl->string, mdl, CY_BACKEND_REF);
        count++;
    }
    CHECK(count == 3, "manifest lists %d models", count);
    cJSON_Delete(root);
    free(text);
    return test_summary();
}
