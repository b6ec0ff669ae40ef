/* `cyolo info` for the 15 -seg models (v8/11/26 x n/s/m/l/x) against the
 * PyPI Ultralytics (tests/fixtures/seg/model_info_seg.json, written by
 * tools/model_info_seg.py): parameters, gradients, state_dict size, every
 * layer's parameter count, module and printed arguments, the head's
 * state_dict names and shapes in order (scale n), the layer count, and the
 * Segment head's increment over the detect model of the same scale in
 * GFLOPs (8.4.190 counts attention matmuls that 8.4.37, the detection
 * reference cyolo follows, does not; see tools/FLOPS_RULE.md). */
#include <cjson/cJSON.h>
#include "cyolo.h"
#include "engine/pretrained.h"
#include "model/model.h"
#include "test_ref.h"

static cy_model *create(const char *yaml) {
    cy_model *m = NULL;
    cy_error err = {0};
    cy_model_params p = cy_model_default_params();
    if (cy_model_create(&m, yaml, &p, &err) != CY_OK) CHECK(0, "create %s: %s", yaml, err.msg);
    return m;
}

static double num(cJSON *o, const char *k) { return cJSON_GetObjectItem(o, k)->valuedouble; }

static void check_model(const char *name, cJSON *info) {
    char yaml[64], det_yaml[64];
    snprintf(yaml, sizeof yaml, "%s.yaml", name);
    snprintf(det_yaml, sizeof det_yaml, "%.*s.yaml", (int)(strlen(name) - 4), name); /* drop "-seg" */
    cy_model *m = create(yaml), *d = create(det_yaml);
    if (!m || !d) goto done;
    cy_model_summary s, sd;
    cy_model_summarize(m, &s);
    cy_model_summarize(d, &sd);
    CHECK(s.task == CY_TASK_SEGMENT && sd.task == CY_TASK_DETECT, "%s: tasks %d %d", name, s.task, sd.task);
    CHECK(s.nm == (int)num(info, "nm") && m->npr == (int)num(info, "npr"), "%s: nm %d npr %d", name, s.nm, m->npr);
    CHECK(s.params == (int64_t)num(info, "parameters"), "%s params %lld", name, (long long)s.params);
    CHECK(s.gradients == (int64_t)num(info, "gradients"), "%s gradients %lld", name, (long long)s.gradients);
    CHECK(sd.params == (int64_t)num(info, "detect_parameters"), "%s detect params", name);
    CHECK(m->nentries == (int)num(info, "state_dict_entries"), "%s state_dict entries %d", name, m->nentries);
    CHECK(s.modules == (int)num(info, "layers"), "%s layers %d, Ultralytics %d", name, s.modules,
          (int)num(info, "layers"));
    double dg = s.gflops_640 - sd.gflops_640, ul_dg = num(info, "GFLOPs") - num(info, "detect_GFLOPs");
    CHECK(fabs(dg - ul_dg) < 1e-6, "%s: the head adds %.7f GFLOPs, Ultralytics %.7f", name, dg, ul_dg);
    cJSON *rows = cJSON_GetObjectItem(info, "table"), *row;
    int i = 0;
    CHECK(cJSON_GetArraySize(rows) == m->nlayers, "%s: %d layers in the table", name, m->nlayers);
    cJSON_ArrayForEach(row, rows) {
        if (i >= m->nlayers) break;
        const cy_layer *L = &m->layers[i++];
        CHECK(L->params == (int64_t)num(row, "params"), "%s layer %d params %lld vs %.0f", name, L->index,
              (long long)L->params, num(row, "params"));
        CHECK(!strcmp(L->type, cJSON_GetObjectItem(row, "module")->valuestring), "%s layer %d module %s", name,
              L->index, L->type);
        CHECK(!strcmp(L->args, cJSON_GetObjectItem(row, "args")->valuestring), "%s layer %d args %s vs %s", name,
              L->index, L->args, cJSON_GetObjectItem(row, "args")->valuestring);
    }
    cJSON *sd_list = cJSON_GetObjectItem(info, "head_state_dict"), *e;
    if (sd_list) {
        int first = m->nentries - cJSON_GetArraySize(sd_list), k = first, bad = 0;
        cJSON_ArrayForEach(e, sd_list) {
            const char *want = cJSON_GetArrayItem(e, 0)->valuestring;
            cJSON *shape = cJSON_GetArrayItem(e, 1);
            const cy_entry *en = k < m->nentries && k >= 0 ? &m->entries[k] : NULL;
            int ok = en && !strcmp(en->name, want) && en->ndim == cJSON_GetArraySize(shape);
            for (int q = 0; ok && q < en->ndim; q++) ok = en->shape[q] == cJSON_GetArrayItem(shape, q)->valueint;
            if (!ok && !bad++) CHECK(0, "%s: state_dict entry %d is %s, Ultralytics %s", name, k, en ? en->name : "-", want);
            k++;
        }
        CHECK(!bad, "%s: the head's %d state_dict entries in order", name, cJSON_GetArraySize(sd_list));
        CHECK(first > 0 && strncmp(m->entries[first - 1].name, m->entries[first].name, 9),
              "%s: the head's entries start where Ultralytics' do", name);
    }
done:
    cy_model_free(m);
    cy_model_free(d);
}

/* pretrained=<detect checkpoint> for a segment model: every detection tensor
 * (same names and shapes) is taken over, the segment parts keep their own. */
static void transfer_from_detect(void) {
    cy_model *det = create("yolo26n.yaml"), *seg = create("yolo26n-seg.yaml");
    if (!det || !seg) return;
    for (size_t i = 0; i < det->nparams; i++) det->params[i] = (float)(i % 97) * 0.01f;
    int k = cy_model_find_entry(seg, "model.23.proto.cv1.conv.weight");
    const float keep = k >= 0 ? seg->params[seg->entries[k].offset] : 0;
    int n = 0;
    cy_model_transfer(seg, det, &n);
    CHECK(n == det->nentries, "transferred %d of the detector's %d entries", n, det->nentries);
    int same = 1;
    for (int e = 0; e < det->nentries; e++) {
        int j = cy_model_find_entry(seg, det->entries[e].name);
        if (j < 0 || det->entries[e].kind != CY_ENTRY_PARAM) continue;
        same &= !memcmp(seg->params + seg->entries[j].offset, det->params + det->entries[e].offset,
                        det->entries[e].numel * sizeof(float));
    }
    CHECK(same, "the transferred values equal the detector's");
    CHECK(k >= 0 && seg->params[seg->entries[k].offset] == keep, "Proto keeps its own weights");
    cy_model_free(det);
    cy_model_free(seg);
}

int main(void) {
    transfer_from_detect();
    char *text = test_slurp("tests/fixtures/seg/model_info_seg.json");
    CHECK(text != NULL, "cannot read tests/fixtures/seg/model_info_seg.json");
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    cJSON *models = cJSON_GetObjectItem(root, "models"), *mdl;
    int count = 0;
    cJSON_ArrayForEach(mdl, models) {
        check_model(mdl->string, mdl);
        count++;
    }
    CHECK(count == 15, "fixture lists %d models", count);
    cJSON_Delete(root);
    free(text);
    return test_summary();
}
