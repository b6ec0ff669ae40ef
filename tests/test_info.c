/* `cyolo info` numbers and table equal Ultralytics' model.info() and
 * parse_model log for all 15 detect models (tests/fixtures/model_info.json,
 * written by tools/model_info.py), and the issue's headline figures. */
#include <cjson/cJSON.h>
#include "cyolo.h"
#include "test_ref.h"

static void check_model(const char *name, cJSON *info) {
    char yaml[64];
    snprintf(yaml, sizeof yaml, "%s.yaml", name);
    cy_model *m;
    cy_error err = {0};
    cy_model_params p = cy_model_default_params();
    if (cy_model_create(&m, yaml, &p, &err) != CY_OK) {
        CHECK(0, "create %s: %s", yaml, err.msg);
        return;
    }
    cy_model_summary s;
    cy_model_summarize(m, &s);
    CHECK(s.params == (int64_t)cJSON_GetObjectItem(info, "parameters")->valuedouble, "%s params %lld", name,
          (long long)s.params);
    CHECK(s.gradients == (int64_t)cJSON_GetObjectItem(info, "gradients")->valuedouble, "%s gradients %lld", name,
          (long long)s.gradients);
    CHECK(s.modules == cJSON_GetObjectItem(info, "layers")->valueint, "%s layers %d", name, s.modules);
    double gf = cJSON_GetObjectItem(info, "GFLOPs_unrounded")->valuedouble;
    CHECK(fabs(s.gflops_640 - gf) < 1e-6, "%s GFLOPs %.7f, Ultralytics %.7f", name, s.gflops_640, gf);
    /* the printed table and summary line, character for character */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cy_model_print_info(m, f, &err);
    fclose(f);
    cJSON *rows = cJSON_GetObjectItem(info, "table_text"), *row;
    cJSON_ArrayForEach(row, rows) {
        CHECK(strstr(buf, row->valuestring) != NULL, "%s: table row missing:\n%s\n--- got:\n%s", name,
              row->valuestring, buf);
    }
    const char *line = cJSON_GetObjectItem(info, "summary_line")->valuestring;
    CHECK(strstr(buf, line) != NULL, "%s: summary line '%s' missing", name, line);
    free(buf);
    cy_model_free(m);
}

int main(void) {
    char *text = test_slurp("tests/fixtures/model_info.json");
    CHECK(text != NULL, "cannot read tests/fixtures/model_info.json");
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    cJSON *models = cJSON_GetObjectItem(root, "models"), *mdl;
    int count = 0;
    cJSON_ArrayForEach(mdl, models) {
        check_model(mdl->string, mdl);
        count++;
    }
    CHECK(count == 15, "fixture lists %d models", count);
    /* the issue's figures, independent of the fixture */
    static const struct { const char *yaml; long long params; double gflops; } issue[] = {
        {"yolo26n.yaml", 2572280, 6.1}, {"yolo26s.yaml", 10009784, 22.8}, {"yolo26m.yaml", 21896248, 75.4},
        {"yolo26l.yaml", 26299704, 93.8}, {"yolo26x.yaml", 58993368, 209.5}};
    for (size_t i = 0; i < sizeof issue / sizeof *issue; i++) {
        cy_model *m;
        cy_error err = {0};
        cy_model_params p = cy_model_default_params();
        if (cy_model_create(&m, issue[i].yaml, &p, &err) != CY_OK) {
            CHECK(0, "%s: %s", issue[i].yaml, err.msg);
            continue;
        }
        cy_model_summary s;
        cy_model_summarize(m, &s);
        CHECK(s.params == issue[i].params, "%s params", issue[i].yaml);
        CHECK(fabs(s.gflops_640 - issue[i].gflops) < 0.05, "%s GFLOPs %.4f", issue[i].yaml, s.gflops_640);
        cy_model_free(m);
    }
    cJSON_Delete(root);
    free(text);
    return test_summary();
}
