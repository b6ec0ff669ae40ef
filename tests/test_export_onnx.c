/* cyolo export format=onnx, read back without Python: the file parses as an
 * ONNX ModelProto; input, outputs and metadata are Ultralytics'; the graph is
 * well formed (every node input is produced before it is read, every output
 * produced); BatchNorm is folded into the conv weights (checked against the
 * model's own tensors); only the exported branch's weights are there; fp16
 * and dynamic variants; bad output paths leave nothing behind. The numbers
 * under ONNX Runtime are measured by tools/onnx_parity.py (BENCHMARKS.md). */
#include <sys/stat.h>
#include <unistd.h>
#include "engine/export.h"
#include "model/model.h"
#include "onnx_subset.pb-c.h"
#include "test_util.h"

static Onnx__ModelProto *load(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n);
    size_t got = fread(b, 1, n, f);
    fclose(f);
    Onnx__ModelProto *m = got == (size_t)n ? onnx__model_proto__unpack(NULL, n, b) : NULL;
    free(b);
    return m;
}

static const char *meta(const Onnx__ModelProto *m, const char *key) {
    for (size_t i = 0; i < m->n_metadata_props; i++)
        if (!strcmp(m->metadata_props[i]->key, key)) return m->metadata_props[i]->value;
    return NULL;
}

static const Onnx__TensorProto *init(const Onnx__GraphProto *g, const char *name) {
    for (size_t i = 0; i < g->n_initializer; i++)
        if (!strcmp(g->initializer[i]->name, name)) return g->initializer[i];
    return NULL;
}

static int count_init_containing(const Onnx__GraphProto *g, const char *part) {
    int n = 0;
    for (size_t i = 0; i < g->n_initializer; i++) n += strstr(g->initializer[i]->name, part) != NULL;
    return n;
}

static int count_op(const Onnx__GraphProto *g, const char *op) {
    int n = 0;
    for (size_t i = 0; i < g->n_node; i++) n += !strcmp(g->node[i]->op_type, op);
    return n;
}

/* dims as "1,3,96,96" with symbolic dims by name */
static void dims_text(const Onnx__ValueInfoProto *v, char *buf, size_t cap) {
    const Onnx__TensorShapeProto *s = v->type->tensor_type->shape;
    size_t k = 0;
    buf[0] = 0;
    for (size_t i = 0; i < s->n_dim; i++) {
        const Onnx__TensorShapeProto__Dimension *d = s->dim[i];
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
            k += snprintf(buf + k, cap - k, "%s%lld", i ? "," : "", (long long)d->dim_value);
        else
            k += snprintf(buf + k, cap - k, "%s%s", i ? "," : "", d->dim_param);
    }
}

/* Every node reads only graph inputs, initializers, "" or earlier outputs;
 * every graph output is produced. */
static int well_formed(const Onnx__GraphProto *g) {
    size_t cap = g->n_node * 4 + g->n_initializer + 8, n = 0;
    const char **known = malloc(cap * sizeof *known);
    for (size_t i = 0; i < g->n_input; i++) known[n++] = g->input[i]->name;
    for (size_t i = 0; i < g->n_initializer; i++) known[n++] = g->initializer[i]->name;
    int ok = 1;
    for (size_t i = 0; i < g->n_node && ok; i++) {
        const Onnx__NodeProto *nd = g->node[i];
        for (size_t j = 0; j < nd->n_input && ok; j++) {
            int found = !*nd->input[j];
            for (size_t k = 0; k < n && !found; k++) found = !strcmp(known[k], nd->input[j]);
            if (!found) {
                fprintf(stderr, "node %s reads undefined %s\n", nd->name, nd->input[j]);
                ok = 0;
            }
        }
        for (size_t j = 0; j < nd->n_output && n < cap; j++) known[n++] = nd->output[j];
    }
    for (size_t i = 0; i < g->n_output && ok; i++) {
        int found = 0;
        for (size_t k = 0; k < n && !found; k++) found = !strcmp(known[k], g->output[i]->name);
        ok = found;
    }
    free(known);
    return ok;
}

static cy_model *make(const char *yaml) {
    cy_model_params p = cy_model_default_params();
    p.init = CY_INIT_FORMULA;
    cy_model *m = NULL;
    cy_error err = {0};
    if (cy_model_create(&m, yaml, &p, &err) != CY_OK) fprintf(stderr, "%s: %s\n", yaml, err.msg);
    return m;
}

static char **numbered_names(int nc) {
    char **n = calloc(nc, sizeof *n);
    for (int i = 0; i < nc; i++) {
        n[i] = malloc(16);
        snprintf(n[i], 16, "%d", i);
    }
    return n;
}

static void free_names(char **n, int nc) {
    for (int i = 0; i < nc; i++) free(n[i]);
    free(n);
}

static Onnx__ModelProto *export_load(cy_model *m, const cy_export_onnx_options *o, const char *path, int *e2e) {
    cy_error err = {0};
    char **names = numbered_names(m->nc);
    cy_export_meta meta = {.data = "synth.yaml", .names = names, .date = "2026-12-07T00:00:00"};
    cy_status st = cy_export_onnx(m, o, &meta, path, e2e, &err);
    free_names(names, m->nc);
    CHECK(st == CY_OK, "export %s: %s", path, err.msg);
    return st == CY_OK ? load(path) : NULL;
}

/* The first conv's folded weight equals w * gamma / sqrt(var + eps). */
static void check_folded(const cy_model *m, const Onnx__GraphProto *g) {
    const cy_entry *w = &m->entries[0]; /* model.0.conv.weight, then model.0.bn.* */
    int bn = cy_model_find_entry(m, "model.0.bn.weight");
    const Onnx__TensorProto *t = init(g, w->name);
    CHECK(t && bn > 0, "no %s initializer", w->name);
    if (!t || bn <= 0) return;
    CHECK(t->data_type == 1 && t->raw_data.len == w->numel * 4, "%s: type %d, %zu bytes", w->name, t->data_type,
          t->raw_data.len);
    if (t->raw_data.len != w->numel * 4) return;
    const float *got = (const float *)t->raw_data.data;
    size_t per = w->numel / w->shape[0];
    double worst = 0;
    for (size_t i = 0; i < w->numel; i++) {
        size_t o = i / per;
        float gm = m->params[m->entries[bn].offset + o], var = m->buffers[m->entries[bn + 3].offset + o];
        double want = (double)m->params[w->offset + i] * gm / sqrt((double)var + 1e-3);
        double d = fabs(got[i] - want) / (fabs(want) + 1e-6);
        if (d > worst) worst = d;
    }
    CHECK(worst < 1e-5, "folded conv weight off by %g (relative)", worst);
    char bname[CY_NAME_MAX];
    snprintf(bname, sizeof bname, "model.0.conv.bias");
    const Onnx__TensorProto *b = init(g, bname);
    CHECK(b && b->n_dims == 1 && b->dims[0] == w->shape[0], "model.0.conv.bias missing or of the wrong shape");
}

static void test_yolo26n(void) {
    cy_model *m = make("yolo26n.yaml");
    if (!m) return;
    cy_export_onnx_options o = cy_export_onnx_defaults();
    o.imgsz_h = o.imgsz_w = 96; /* 12x12 + 6x6 + 3x3 = 189 anchors */
    int e2e = -1;
    const char *path = "/tmp/cy_test_export_26.onnx";
    Onnx__ModelProto *x = export_load(m, &o, path, &e2e);
    CHECK(e2e == 1, "yolo26n exports its end2end head by default");
    if (x) {
        const Onnx__GraphProto *g = x->graph;
        char d[128];
        CHECK(x->ir_version == 8 && x->n_opset_import == 1 && x->opset_import[0]->version == 18,
              "ir %lld opset %lld", (long long)x->ir_version, (long long)x->opset_import[0]->version);
        CHECK(!strcmp(x->producer_name, "cyolo"), "producer %s", x->producer_name);
        CHECK(g->n_input == 1 && !strcmp(g->input[0]->name, "images"), "input");
        dims_text(g->input[0], d, sizeof d);
        CHECK(!strcmp(d, "1,3,96,96"), "input dims %s", d);
        CHECK(g->n_output == 1 && !strcmp(g->output[0]->name, "output0"), "outputs");
        dims_text(g->output[0], d, sizeof d);
        CHECK(!strcmp(d, "1,189,6"), "output0 dims %s (k = min(300, 189))", d);
        CHECK(well_formed(g), "graph is not well formed");
        CHECK(count_op(g, "BatchNormalization") == 0, "BN left in the graph");
        CHECK(count_op(g, "TopK") == 2 && count_op(g, "GatherElements") == 3, "top-k: %d TopK, %d GatherElements",
              count_op(g, "TopK"), count_op(g, "GatherElements"));
        CHECK(count_init_containing(g, "model.23.one2one_cv2.") > 0, "one-to-one box weights missing");
        CHECK(count_init_containing(g, "model.23.cv2.") == 0 && count_init_containing(g, "model.23.cv3.") == 0,
              "one-to-many weights in an end2end export");
        int convs = count_op(g, "Conv");
        CHECK(convs == count_init_containing(g, ".weight"), "%d Conv nodes vs %d weights", convs,
              count_init_containing(g, ".weight"));
        check_folded(m, g);
        const char *want[][2] = {{"author", "cyolo"}, {"stride", "32"}, {"task", "detect"}, {"batch", "1"},
                                 {"imgsz", "[96, 96]"}, {"channels", "3"}, {"end2end", "True"}, {"head", "Detect"},
                                 {"description", "cyolo YOLO26n model trained on synth.yaml"},
                                 {"version", CYOLO_VERSION_STRING}, {"date", "2026-12-07T00:00:00"},
                                 {"args", "{'batch': 1, 'half': False, 'dynamic': False, 'simplify': True, "
                                          "'opset': None, 'nms': False}"}};
        for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
            const char *v = meta(x, want[i][0]);
            CHECK(v && !strcmp(v, want[i][1]), "metadata %s = %s, want %s", want[i][0], v ? v : "(none)", want[i][1]);
        }
        const char *names = meta(x, "names");
        CHECK(names && !strncmp(names, "{0: '0', 1: '1', ", 17) && strstr(names, ", 79: '79'}"), "names %s",
              names ? names : "(none)");
        onnx__model_proto__free_unpacked(x, NULL);
    }
    struct stat st32, st16;
    CHECK(stat(path, &st32) == 0, "no file");

    /* end2end=False: the one-to-many branch, decoded boxes, no one-to-one weights */
    o.end2end = 0;
    x = export_load(m, &o, path, &e2e);
    CHECK(e2e == 0, "end2end=False");
    if (x) {
        char d[64];
        dims_text(x->graph->output[0], d, sizeof d);
        CHECK(!strcmp(d, "1,84,189"), "end2end=False output0 %s", d);
        CHECK(count_init_containing(x->graph, "one2one") == 0, "one-to-one weights in a one-to-many export");
        CHECK(count_op(x->graph, "TopK") == 0, "top-k without end2end");
        CHECK(!strcmp(meta(x, "end2end"), "False"), "metadata end2end");
        onnx__model_proto__free_unpacked(x, NULL);
    }

    /* dynamic + half + batch 4 + opset 12 */
    o = cy_export_onnx_defaults();
    o.imgsz_h = 64;
    o.imgsz_w = 96;
    o.dynamic = o.half = 1;
    o.batch = 4;
    o.opset = 12;
    x = export_load(m, &o, path, &e2e);
    if (x) {
        const Onnx__GraphProto *g = x->graph;
        char d[64];
        dims_text(g->input[0], d, sizeof d);
        CHECK(!strcmp(d, "batch,3,height,width"), "dynamic input %s", d);
        dims_text(g->output[0], d, sizeof d);
        CHECK(!strcmp(d, "batch,detections,6"), "dynamic output0 %s", d);
        CHECK(x->ir_version == 7 && x->opset_import[0]->version == 12, "opset 12: ir %lld", (long long)x->ir_version);
        CHECK(well_formed(g), "dynamic graph is not well formed");
        const Onnx__TensorProto *w = init(g, "model.0.conv.weight");
        CHECK(w && w->data_type == 10, "half: conv weights are float16 (%d)", w ? w->data_type : -1);
        CHECK(count_op(g, "Cast") >= count_op(g, "Conv"), "half: weights cast back to float");
        CHECK(count_op(g, "Range") == 6, "dynamic anchors: %d Range nodes", count_op(g, "Range"));
        CHECK(!strcmp(meta(x, "imgsz"), "[64, 96]") && !strcmp(meta(x, "batch"), "4"), "imgsz/batch metadata");
        CHECK(strstr(meta(x, "args"), "'half': True, 'dynamic': True") && strstr(meta(x, "args"), "'opset': 12"),
              "args %s", meta(x, "args"));
        onnx__model_proto__free_unpacked(x, NULL);
        CHECK(stat(path, &st16) == 0 && st16.st_size * 10 < st32.st_size * 6, "half file %lld vs %lld bytes",
              (long long)st16.st_size, (long long)st32.st_size);
    }
    unlink(path);

    /* bad output paths: a clear error naming the path, nothing left */
    cy_error err = {0};
    char **names = numbered_names(m->nc);
    cy_export_meta meta = {.names = names, .date = ""};
    o = cy_export_onnx_defaults();
    o.imgsz_h = o.imgsz_w = 64;
    const char *bad = "/tmp/cy_no_such_dir_for_export/x.onnx";
    cy_status s = cy_export_onnx(m, &o, &meta, bad, NULL, &err);
    CHECK(s == CY_ERR_IO && strstr(err.msg, "cy_no_such_dir_for_export"), "bad dir: %d %s", s, err.msg);
    mkdir("/tmp/cy_export_dir_target", 0755);
    s = cy_export_onnx(m, &o, &meta, "/tmp/cy_export_dir_target", NULL, &err);
    CHECK(s != CY_OK, "export over a folder must fail");
    rmdir("/tmp/cy_export_dir_target");
    o.opset = 9;
    s = cy_export_onnx(m, &o, &meta, path, NULL, &err);
    CHECK(s == CY_ERR_ARG && strstr(err.msg, "opset=9"), "opset 9: %s", err.msg);
    CHECK(access(path, F_OK) != 0, "a refused export left %s", path);
    free_names(names, m->nc);
    cy_model_free(m);
}

/* A -seg model: output1 = the prototypes, mask coefficients after the scores. */
static void test_seg(const char *yaml, int end2end_rows) {
    cy_model *m = make(yaml);
    if (!m) return;
    cy_export_onnx_options o = cy_export_onnx_defaults();
    o.imgsz_h = o.imgsz_w = 64; /* 84 anchors; protos 16x16 */
    const char *path = "/tmp/cy_test_export_seg.onnx";
    int e2e;
    Onnx__ModelProto *x = export_load(m, &o, path, &e2e);
    if (x) {
        const Onnx__GraphProto *g = x->graph;
        char d0[64], d1[64];
        CHECK(g->n_output == 2 && !strcmp(g->output[0]->name, "output0") && !strcmp(g->output[1]->name, "output1"),
              "%s: outputs", yaml);
        dims_text(g->output[0], d0, sizeof d0);
        dims_text(g->output[1], d1, sizeof d1);
        CHECK(!strcmp(d0, end2end_rows ? "1,84,38" : "1,116,84"), "%s: output0 %s", yaml, d0);
        CHECK(!strcmp(d1, "1,32,16,16"), "%s: output1 %s", yaml, d1);
        CHECK(well_formed(g), "%s: graph is not well formed", yaml);
        CHECK(count_init_containing(g, "semseg") == 0, "%s: the training-only semantic branch was exported", yaml);
        CHECK(count_op(g, "ConvTranspose") == 1, "%s: Proto's upsampling", yaml);
        CHECK(!strcmp(meta(x, "task"), "segment"), "%s: task %s", yaml, meta(x, "task"));
        onnx__model_proto__free_unpacked(x, NULL);
    }
    unlink(path);
    cy_model_free(m);
}

static void test_repr(void) {
    char b[64];
    cy_export_pyrepr_str("person", b, sizeof b);
    CHECK(!strcmp(b, "'person'"), "%s", b);
    cy_export_pyrepr_str("it's", b, sizeof b);
    CHECK(!strcmp(b, "\"it's\""), "%s", b);
    cy_export_pyrepr_str("a'b\"c\\", b, sizeof b);
    CHECK(!strcmp(b, "'a\\'b\"c\\\\'"), "%s", b);
    cy_export_pyrepr_str("tab\there", b, sizeof b);
    CHECK(!strcmp(b, "'tab\\there'"), "%s", b);
}

int main(void) {
    test_repr();
    test_yolo26n();
    test_seg("yolo26n-seg.yaml", 1);
    test_seg("yolov8n-seg.yaml", 0);
    return test_summary();
}
