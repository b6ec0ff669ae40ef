/* Ultralytics checkpoints (pickled DetectionModel trees) read without
 * running anything:
 *  - ../shared/reference/yolo26n_formula.pt (Ultralytics' own final-layout
 *    file, fp16): every tensor equals the formula weights rounded to fp16,
 *    and the eval output equals the reference decoded output within the
 *    manifest's fp16 tolerance;
 *  - tests/fixtures/pt/ul_*.pt (tools/refgen/make_ul_pt_fixtures.py): a
 *    yolov8-style file with strided/offset fp16 views and shared storages, a
 *    yolo11-style mid-training file with bf16 and float64 tensors; outputs
 *    against what Ultralytics computed from the same saved weights;
 *  - the model rebuilt for another nc takes every tensor that still fits;
 *  - errors by message: unsupported task/module, shapes that do not fit the
 *    YAML, strides that do not, not a zip, no data.pkl, a refused global, a
 *    missing storage record, no model inside;
 *  - hostile module trees: not modules, recursion, absurd nesting. */
#include <unistd.h>
#include <zip.h>
#include "engine/checkpoint.h"
#include "engine/checkpoint_import.h"
#include "engine/pretrained.h"
#include "io/pickle.h"
#include "io/pt.h"
#include "io/pt_module.h"
#include "test_ref.h"

static cy_error err;
static char tmpdir[64];

/* float32 -> float16 -> float32, round to nearest even (as torch's .half()) */
static float round_f16(float f) {
    uint32_t b;
    memcpy(&b, &f, 4);
    uint32_t sign = b & 0x80000000u, abs = b & 0x7fffffffu;
    uint16_t h;
    if (abs >= 0x47800000u) h = (uint16_t)(abs > 0x7f800000u ? 0x7e00 : 0x7c00); /* overflow/inf/nan */
    else if (abs < 0x38800000u) { /* subnormal half: round abs * 2^24 to an integer */
        float a;
        memcpy(&a, &abs, 4);
        h = (uint16_t)lrintf(a * 16777216.0f);
    } else {
        uint32_t mant = abs + 0xc8000fffu + ((abs >> 13) & 1); /* rebias exponent, round half even */
        h = (uint16_t)(mant >> 13);
    }
    h |= (uint16_t)(sign >> 16);
    /* back to float32 */
    uint32_t e = (h >> 10) & 0x1f, m = h & 0x3ff, out;
    if (e == 0) {
        float v = ldexpf((float)m, -24);
        return sign ? -v : v;
    }
    out = (e == 31) ? (sign | 0x7f800000u | (m << 13)) : (sign | ((e + 112) << 23) | (m << 13));
    float r;
    memcpy(&r, &out, 4);
    return r;
}

static void test_reference(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/yolo26n_formula.pt", ref_dir());
    cy_ckpt_model c;
    CHECK(cy_ckpt_model_open(path, 1, &c, &err) == CY_OK, "open: %s", err.msg);
    if (c.root) {
        CHECK(c.ultralytics && !strcmp(c.name, "yolo26n") && c.scale == 'n' && c.nc == 80,
              "yolo26n, scale n, nc 80 (got %s %c %d)", c.name, c.scale, c.nc);
        /* manifest case 8: n_state_dict 708 */
        CHECK(c.weights && c.weights->u.dict.len == 708, "708 state_dict tensors (got %zu)",
              c.weights ? c.weights->u.dict.len : 0);
        const cy_pt_value *w = cy_pt_dict_find(c.weights, "model.0.conv.weight");
        CHECK(w && w->u.tensor.dtype == CY_PT_DT_F16 && w->u.tensor.ndim == 4 && w->u.tensor.shape[0] == 16,
              "model.0.conv.weight is fp16 [16, 3, 3, 3]");
        CHECK(c.nstride == 3 && c.stride[0] == 8 && c.stride[2] == 32, "stride 8, 16, 32");
        cy_ckpt_model_close(&c);
    }
    cy_model *m = NULL, *f = formula_model("yolo26n.yaml", CY_BACKEND_CPU);
    CHECK(cy_checkpoint_load_model(path, NULL, 1, &m, &err) == CY_OK, "load: %s", err.msg);
    if (!m || !f) {
        cy_model_free(m);
        cy_model_free(f);
        return;
    }
    int bad = 0, compared = 0;
    for (int i = 0; i < f->nentries; i++) {
        const cy_entry *e = &f->entries[i];
        int k = cy_model_find_entry(m, e->name);
        if (k < 0 || m->entries[k].numel != e->numel) { bad++; continue; }
        if (e->kind == CY_ENTRY_COUNTER) { bad += m->counters[m->entries[k].offset] != 0; continue; }
        const float *want = (e->kind == CY_ENTRY_BUFFER ? f->buffers : f->params) + e->offset;
        const float *got = (e->kind == CY_ENTRY_BUFFER ? m->buffers : m->params) + m->entries[k].offset;
        for (size_t j = 0; j < e->numel; j++) bad += got[j] != round_f16(want[j]);
        compared++;
    }
    CHECK(bad == 0 && compared == 594, "every tensor equals the formula weights rounded to fp16 (%d differ, %d tensors)",
          bad, compared);
    /* eval output against the fp32-weight reference: the difference is the
     * fp16 rounding of the weights, which the manifest measured */
    float *x = formula_input(2, 128, 160);
    cy_array out, dec;
    cy_predict_params pp = {.max_det = 300};
    CHECK(cy_model_forward(m, x, 2, 128, 160, &pp, &out, &err) == CY_OK, "forward: %s", err.msg);
    CHECK(cy_model_decoded(m, &dec, &err) == CY_OK, "decoded: %s", err.msg);
    cy_npy r;
    if (!ref_load("c2_n_eval_decoded_o2o.npy", &r)) {
        int same = r.numel == (int64_t)dec.shape[0] * dec.shape[1] * dec.shape[2];
        double d = 0;
        for (int64_t i = 0; same && i < r.numel; i++) d = fmax(d, fabs((double)dec.data[i] - r.data[i]));
        /* manifest case 8: decoded_o2o_max_abs_diff_vs_fp32_weights */
        const double fp16_tol = 0.001567840576171875;
        CHECK(same && d <= fp16_tol * 1.05 && d > 0, "decoded o2o max |diff| %.6g vs manifest fp16 tolerance %.6g", d,
              fp16_tol);
        printf("yolo26n_formula.pt: decoded o2o max |diff| vs fp32 weights %.6g (manifest: %.6g)\n", d, fp16_tol);
        cy_npy_free(&r);
    }
    cy_array_free(&dec);
    cy_array_free(&out);
    free(x);
    char **names = NULL;
    CHECK(cy_checkpoint_load_names(path, 80, &names, &err) == CY_OK && !strcmp(names[0], "0") &&
              !strcmp(names[79], "79"),
          "names from the pickled model");
    for (int i = 0; names && i < 80; i++) free(names[i]);
    free(names);
    cy_model_free(m);
    cy_model_free(f);
}

/* A fixture's model against the decoded output Ultralytics computed from the
 * same saved weights (formula input 1x3x64x96). */
static cy_model *fixture(const char *name, int use_ema, int nc, const char *first_name) {
    char path[256], ref[256], what[128];
    snprintf(path, sizeof path, "tests/fixtures/pt/%s.pt", name);
    snprintf(ref, sizeof ref, "tests/fixtures/pt/%s_decoded.npy", name);
    cy_model *m = NULL;
    CHECK(cy_checkpoint_load_model(path, NULL, use_ema, &m, &err) == CY_OK, "%s: %s", name, err.msg);
    if (!m) return NULL;
    cy_model_summary s;
    cy_model_summarize(m, &s);
    CHECK(s.nc == nc && m->nl == 3 && m->stride[2] == 32, "%s: nc %d, 3 levels", name, s.nc);
    float *x = formula_input(1, 64, 96);
    cy_array out;
    cy_predict_params pp = {.max_det = 300};
    CHECK(cy_model_forward(m, x, 1, 64, 96, &pp, &out, &err) == CY_OK, "%s forward: %s", name, err.msg);
    snprintf(what, sizeof what, "%s decoded output", name);
    check_close(what, &out, ref, 1e-5);
    cy_array_free(&out);
    free(x);
    char **names = NULL;
    CHECK(cy_checkpoint_load_names(path, nc, &names, &err) == CY_OK && !strcmp(names[0], first_name), "%s names",
          name);
    for (int i = 0; names && i < nc; i++) free(names[i]);
    free(names);
    return m;
}

static void test_fixtures(void) {
    /* final best.pt layout; model.0.conv.weight a permuted fp16 view at
     * offset 7, model.1.bn running stats two slices of one storage */
    cy_pt_value *root = NULL;
    CHECK(cy_pt_read("tests/fixtures/pt/ul_v8_tiny.pt", &root, &err) == CY_OK, "%s", err.msg);
    cy_ckpt_model c;
    if (root && cy_ckpt_model_from_root("ul_v8_tiny.pt", root, 1, &c, &err) == CY_OK) {
        const cy_pt_value *w = cy_pt_dict_find(c.weights, "model.0.conv.weight");
        const cy_pt_value *rm = cy_pt_dict_find(c.weights, "model.1.bn.running_mean");
        const cy_pt_value *rv = cy_pt_dict_find(c.weights, "model.1.bn.running_var");
        CHECK(w && w->u.tensor.offset == 7 && !cy_pt_tensor_is_contiguous(w), "the fp16 view survives");
        CHECK(rm && rv && rm->u.tensor.storage == rv->u.tensor.storage && rv->u.tensor.offset == 8,
              "running_mean and running_var share one storage");
        CHECK(c.weights->u.dict.len == 355 && !strcmp(c.name, "tiny-yolov8n") && c.nc == 3, "355 tensors, nc 3");
        cy_ckpt_model_close(&c);
    } else {
        CHECK(0, "ul_v8_tiny: %s", err.msg);
    }
    cy_pt_value_free(root);
    cy_model *m = fixture("ul_v8_tiny", 1, 3, "cat");
    cy_model_free(m);
    /* mid-training layout: model None, EMA with bf16 and float64 tensors;
     * the raw weights are asked for and the EMA is what there is */
    m = fixture("ul_11_tiny", 0, 2, "cat");
    if (m) {
        int k = cy_model_find_entry(m, "model.1.bn.running_var");
        CHECK(k >= 0 && m->buffers[m->entries[k].offset] > 0.5f, "float64 running_var read");
    }
    cy_model_free(m);
    /* training from it: the YAML rebuilt for another nc, what fits copied */
    cy_model_params p = cy_model_default_params();
    p.nc = 5;
    cy_model *src = NULL;
    m = NULL;
    int moved = 0;
    CHECK(cy_checkpoint_create_model("tests/fixtures/pt/ul_v8_tiny.pt", &p, &m, &err) == CY_OK &&
              cy_checkpoint_load_model("tests/fixtures/pt/ul_v8_tiny.pt", NULL, 1, &src, &err) == CY_OK,
          "pretrained: %s", err.msg);
    if (m && src) cy_model_transfer(m, src, &moved);
    CHECK(m && m->nc == 5 && m->nentries == 355 && moved == 349,
          "nc 5: %d of 355 transferred (all but the weight and bias of the 3 class convs)", moved);
    cy_model_free(src);
    cy_model_free(m);
}

static void expect_error(const char *path, const char *what, const char *a, const char *b) {
    cy_model *m = NULL;
    cy_status s = cy_checkpoint_load_model(path, NULL, 1, &m, &err);
    CHECK(s != CY_OK && m == NULL && strstr(err.msg, path) && strstr(err.msg, a) && (!b || strstr(err.msg, b)),
          "%s: %s", what, err.msg);
}

static void write_zip(const char *path, const char *name, const void *data, size_t n, const char *name2,
                      const void *data2, size_t n2) {
    int e;
    unlink(path);
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &e);
    zip_file_add(z, name, zip_source_buffer(z, data, n, 0), 0);
    if (name2) zip_file_add(z, name2, zip_source_buffer(z, data2, n2, 0), 0);
    zip_close(z);
}

/* Segmentation checkpoints written by the PyPI Ultralytics
 * (tools/refgen/make_ul_seg_pt_fixtures.py): the decoded output (boxes,
 * scores, mask coefficients) and the prototypes from the weights as saved;
 * the SPPF activation follows the pickled module, not the YAML row. */
static void test_segment(void) {
    static const char *names[] = {"seg26_tiny", "segv8_tiny", "segv8_noact"};
    for (int i = 0; i < 3; i++) {
        char path[128], ref[160], what[160];
        snprintf(path, sizeof path, "tests/fixtures/pt/ul_%s.pt", names[i]);
        cy_model *m = NULL;
        if (cy_checkpoint_load_model(path, NULL, 1, &m, &err) != CY_OK) {
            CHECK(0, "%s: %s", path, err.msg);
            continue;
        }
        cy_model_summary s;
        cy_model_summarize(m, &s);
        CHECK(s.task == CY_TASK_SEGMENT && s.nm == 4, "%s: a segment model with 4 masks", path);
        if (i > 0) CHECK(s.modules == (i == 1 ? 69 : 70), "%s: %d layers (the SPPF's own Identity counts)", path, s.modules);
        float *x = formula_input(1, 64, 96);
        cy_array out, t;
        cy_predict_params pp = {.max_det = 300};
        CHECK(cy_model_forward(m, x, 1, 64, 96, &pp, &out, &err) == CY_OK, "%s forward: %s", path, err.msg);
        cy_array_free(&out);
        CHECK(cy_model_decoded(m, &t, &err) == CY_OK, "%s decoded: %s", path, err.msg);
        snprintf(ref, sizeof ref, "tests/fixtures/pt/ul_%s_decoded.npy", names[i]);
        snprintf(what, sizeof what, "%s decoded output", names[i]);
        check_close(what, &t, ref, 1e-4);
        cy_array_free(&t);
        CHECK(cy_model_proto(m, &t, &err) == CY_OK, "%s proto: %s", path, err.msg);
        snprintf(ref, sizeof ref, "tests/fixtures/pt/ul_%s_proto.npy", names[i]);
        snprintf(what, sizeof what, "%s prototypes", names[i]);
        check_close(what, &t, ref, 1e-4);
        cy_array_free(&t);
        free(x);
        cy_model_free(m);
    }
    /* 8.4.37's tiny segmentation checkpoint loads too */
    cy_model *m = NULL;
    CHECK(cy_checkpoint_load_model("tests/fixtures/pt/ul_seg_tiny.pt", NULL, 1, &m, &err) == CY_OK, "ul_seg_tiny: %s",
          err.msg);
    cy_model_free(m);
}

static void test_errors(void) {
    char cmd[600];
    expect_error("tests/fixtures/pt/ul_badshape.pt", "shapes that do not fit the YAML",
                 "'model.0.conv.weight' has shape [8, 3, 3, 3] in the checkpoint",
                 "expects [16, 3, 3, 3]");
    char p[256];
    snprintf(p, sizeof p, "%s/text.pt", tmpdir);
    FILE *f = fopen(p, "w");
    fputs("just some text", f);
    fclose(f);
    expect_error(p, "not a zip", "not a PyTorch zip checkpoint", NULL);
    snprintf(p, sizeof p, "%s/nopkl.pt", tmpdir);
    write_zip(p, "nopkl/version", "3\n", 2, NULL, NULL, 0);
    expect_error(p, "no data.pkl", "no nopkl/data.pkl", NULL);
    snprintf(p, sizeof p, "%s/evil.pt", tmpdir);
    const char evil[] = "\x80\x02}X\x05\x00\x00\x00modelcsubprocess\nPopen\nX\x02\x00\x00\x00lsq\x01\x85Rs.";
    write_zip(p, "evil/data.pkl", evil, sizeof evil - 1, NULL, NULL, 0);
    expect_error(p, "refused global", "subprocess.Popen, which is not allowed", NULL);
    /* a mid-training checkpoint pickles the model's criterion: Ultralytics'
     * v8DetectionLoss (a class despite its lower-case start) holding a
     * torch.device; both are kept inert. An all-lower-case name (a
     * function) under ultralytics. is still refused. */
    snprintf(p, sizeof p, "%s/crit.pt", tmpdir);
    const char crit[] = "\x80\x02}X\x09\x00\x00\x00" "criterion" "cultralytics.utils.loss\nv8DetectionLoss\n)\x81}"
                        "X\x06\x00\x00\x00" "device" "ctorch\ndevice\nX\x03\x00\x00\x00" "cpu" "\x85Rsbs.";
    write_zip(p, "crit/data.pkl", crit, sizeof crit - 1, NULL, NULL, 0);
    cy_pt_value *cv = NULL;
    cy_error cerr = {0};
    CHECK(cy_pt_read(p, &cv, &cerr) == CY_OK && cy_pt_dict_find(cv, "criterion"), "criterion kept inert: %s",
          cerr.msg);
    cy_pt_value_free(cv);
    snprintf(p, sizeof p, "%s/func.pt", tmpdir);
    const char func[] = "\x80\x02}X\x01\x00\x00\x00" "f" "cultralytics.utils.ops\nxyxy2xywh\ns.";
    write_zip(p, "func/data.pkl", func, sizeof func - 1, NULL, NULL, 0);
    expect_error(p, "refused function", "ultralytics.utils.ops.xyxy2xywh, which is not allowed", NULL);
    /* numpy number scalars (torch.save of tools/refgen/make_numpy_scalar_fixture.py) read as
     * plain numbers; a numpy string scalar and a numpy array are still refused */
    cy_pt_value *nv = NULL;
    cy_error nerr = {0};
    CHECK(cy_pt_read("tests/fixtures/pt/numpy_scalars.pt", &nv, &nerr) == CY_OK, "numpy scalars: %s", nerr.msg);
    if (nv) {
        const cy_pt_value *opt = cy_pt_dict_find(nv, "optimizer"), *pg = opt ? cy_pt_dict_find(opt, "param_groups") : NULL;
        const cy_pt_value *lr = pg && pg->kind == CY_PT_LIST && pg->u.seq.len ? cy_pt_dict_find(pg->u.seq.items[0], "lr") : NULL;
        const cy_pt_value *i64 = cy_pt_dict_find(nv, "i64"), *i16 = cy_pt_dict_find(nv, "i16"),
                          *f32 = cy_pt_dict_find(nv, "f32"), *b = cy_pt_dict_find(nv, "b"), *u8 = cy_pt_dict_find(nv, "u8");
        CHECK(lr && lr->kind == CY_PT_FLOAT && lr->u.f == 0.00019, "numpy float64 lr");
        CHECK(i64 && i64->kind == CY_PT_INT && i64->u.i == -5, "numpy int64");
        CHECK(i16 && i16->kind == CY_PT_INT && i16->u.i == -2, "numpy int16 sign");
        CHECK(f32 && f32->kind == CY_PT_FLOAT && f32->u.f == 1.5, "numpy float32");
        CHECK(b && b->kind == CY_PT_BOOL && b->u.b == 1, "numpy bool");
        CHECK(u8 && u8->kind == CY_PT_INT && u8->u.i == 200, "numpy uint8");
        cy_pt_value_free(nv);
    }
    snprintf(p, sizeof p, "%s/npstr.pt", tmpdir);
    const char npstr[] = "\x80\x02}X\x01\x00\x00\x00scnumpy.core.multiarray\nscalar\ncnumpy\ndtype\nX\x02\x00\x00\x00U2"
                         "\x89\x88\x87R(K\x03X\x01\x00\x00\x00<NNNK\x08K\x04K\x08tbc_codecs\nencode\n"
                         "X\x08\x00\x00\x00" "a\x00\x00\x00" "b\x00\x00\x00X\x06\x00\x00\x00latin1\x86R\x86Rs.";
    write_zip(p, "npstr/data.pkl", npstr, sizeof npstr - 1, NULL, NULL, 0);
    expect_error(p, "numpy str scalar", "numpy dtype 'U2' is not supported", NULL);
    snprintf(p, sizeof p, "%s/nparr.pt", tmpdir);
    const char nparr[] = "\x80\x02}X\x01\x00\x00\x00" "acnumpy.core.multiarray\n_reconstruct\n" "s.";
    write_zip(p, "nparr/data.pkl", nparr, sizeof nparr - 1, NULL, NULL, 0);
    expect_error(p, "numpy array", "numpy.core.multiarray._reconstruct, which is not allowed", NULL);
    /* a tensor whose storage key '5' has no data/5 record (data/0 exists) */
    snprintf(p, sizeof p, "%s/nostorage.pt", tmpdir);
    const char pk[] = "\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
                      "X\x01\x00\x00\x00" "5X\x03\x00\x00\x00" "cpuK\x02tQK\x00K\x02\x85K\x01\x85\x89}tR.";
    write_zip(p, "nostorage/data.pkl", pk, sizeof pk - 1, "nostorage/data/0", "12345678", 8);
    expect_error(p, "missing storage", "storage '5'", "nostorage/data/5 is missing");
    /* model.stride (a 3-float record 8, 16, 32) changed to 8, 16, 64 */
    snprintf(p, sizeof p, "%s/stride.pt", tmpdir);
    snprintf(cmd, sizeof cmd, "cp tests/fixtures/pt/ul_v8_tiny.pt '%s'", p);
    CHECK(system(cmd) == 0, "copy");
    int e = 0, patched = 0;
    zip_t *z = zip_open(p, 0, &e);
    static const float strides[3] = {8, 16, 32}, wrong[3] = {8, 16, 64};
    for (zip_int64_t i = 0; z && i < zip_get_num_entries(z, 0) && !patched; i++) {
        zip_stat_t st;
        float got[3];
        if (zip_stat_index(z, (zip_uint64_t)i, 0, &st) || st.size != sizeof got) continue;
        zip_file_t *zf = zip_fopen_index(z, (zip_uint64_t)i, 0);
        int same = zf && zip_fread(zf, got, sizeof got) == (zip_int64_t)sizeof got && !memcmp(got, strides, sizeof got);
        if (zf) zip_fclose(zf);
        if (same) patched = zip_file_replace(z, (zip_uint64_t)i, zip_source_buffer(z, wrong, sizeof wrong, 0), 0) == 0;
    }
    CHECK(z && zip_close(z) == 0 && patched, "stride record patched");
    expect_error(p, "strides", "the checkpoint's strides differ from those of the model its YAML builds", NULL);
    /* a checkpoint of plain data without a model */
    snprintf(p, sizeof p, "%s/nomodel.pt", tmpdir);
    const char nm[] = "\x80\x02}X\x05\x00\x00\x00" "epochK\x03s.";
    write_zip(p, "nomodel/data.pkl", nm, sizeof nm - 1, NULL, NULL, 0);
    expect_error(p, "no model", "no model inside", NULL);
}

static cy_status from_pickle(const char *b, size_t n, cy_ckpt_model *c) {
    cy_pt_value *root = NULL;
    cy_pickle_storages st = {0};
    cy_status s = cy_pickle_load((const uint8_t *)b, n, "crafted", &root, &st, &err);
    cy_pickle_storages_free(&st);
    if (s == CY_OK) {
        s = cy_ckpt_model_from_root("crafted.pt", root, 1, c, &err);
        if (s == CY_OK) cy_ckpt_model_close(c);
    }
    cy_pt_value_free(root);
    return s;
}
#define CRAFTED(lit, c) from_pickle(lit, sizeof(lit) - 1, c)

static void test_hostile_modules(void) {
    cy_ckpt_model c;
    /* model = DetectionModel() with no state: not a module */
    cy_status s = CRAFTED("\x80\x02}X\x05\x00\x00\x00modelcultralytics.nn.tasks\nDetectionModel\n)\x81s.", &c);
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "lacks the _parameters"), "%s", err.msg);
    /* a module whose _modules holds an int */
    s = CRAFTED("\x80\x02}X\x05\x00\x00\x00modelcultralytics.nn.tasks\nDetectionModel\n)\x81}(X\x0b\x00\x00\x00"
                "_parameters}X\x08\x00\x00\x00_buffers}X\x08\x00\x00\x00_modules}X\x01\x00\x00\x00xK\x01sub"
                "s.",
                &c);
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "module x is a int, not a torch module"), "%s", err.msg);
    /* an object that holds itself (memo reference inside its own state) */
    s = CRAFTED("\x80\x02}X\x05\x00\x00\x00modelcultralytics.nn.tasks\nDetectionModel\n)\x81q\x00}X\x04\x00\x00\x00"
                "selfh\x00sbs.",
                &c);
    CHECK(s != CY_OK, "self-reference: %s", err.msg);
    /* NEWOBJ of a class outside the allow-list, and of a lower-case name */
    s = CRAFTED("\x80\x02" "cos\nPathLike\n)\x81.", &c);
    CHECK(s == CY_ERR_UNSUPPORTED && strstr(err.msg, "os.PathLike"), "%s", err.msg);
    s = CRAFTED("\x80\x02" "cultralytics.utils\nchecks\n)\x81.", &c);
    CHECK(s == CY_ERR_UNSUPPORTED && strstr(err.msg, "ultralytics.utils.checks"), "%s", err.msg);
    /* BUILD twice on one object */
    s = CRAFTED("\x80\x02" "ctorch.nn.modules.conv\nConv2d\n)\x81}b}b.", &c);
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "twice"), "%s", err.msg);
    /* getattr only on allowed classes */
    s = CRAFTED("\x80\x02" "cbuiltins\ngetattr\nctorch.nn.modules.conv\nConv2d\nX\x03\x00\x00\x00" "abc\x86R)R.", &c);
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "Conv2d.abc) lacks the _parameters"),
          "getattr on a class names another class, still inert: %s", err.msg);
    s = CRAFTED("\x80\x02" "cbuiltins\ngetattr\nX\x01\x00\x00\x00xX\x03\x00\x00\x00" "abc\x86R.", &c);
    CHECK(s == CY_ERR_UNSUPPORTED && strstr(err.msg, "getattr"), "%s", err.msg);
    /* modules nested past the depth limit: Sequential in Sequential ... */
    size_t n = 0, cap = 1 << 16;
    char *b = malloc(cap);
    const char head[] = "\x80\x02}X\x05\x00\x00\x00model";
    const char open_mod[] = "ctorch.nn.modules.container\nSequential\n)\x81}(X\x0b\x00\x00\x00_parameters}"
                            "X\x08\x00\x00\x00_buffers}X\x08\x00\x00\x00_modules}X\x01\x00\x00\x00" "0";
    memcpy(b, head, sizeof head - 1);
    n += sizeof head - 1;
    for (int i = 0; i < 60; i++) {
        memcpy(b + n, open_mod, sizeof open_mod - 1);
        n += sizeof open_mod - 1;
    }
    b[n++] = 'N';
    for (int i = 0; i < 60; i++) { /* SETITEM into _modules, SETITEMS into the state, BUILD */
        memcpy(b + n, "sub", 3);
        n += 3;
    }
    b[n++] = 's';
    b[n++] = '.';
    s = from_pickle(b, n, &c);
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "deeper"), "deep module nesting: %s", err.msg);
    free(b);
}

/* The model YAML dict as text: values read back as themselves. */
static void test_yaml_text(void) {
    cy_pt_value *d, *l, *v;
    cy_pt_dict_new(&d, 0, &err);
    cy_pt_dict_put_int(d, "nc", 3, &err);
    cy_pt_dict_put_float(d, "depth", 0.5, &err);
    cy_pt_dict_put_float(d, "one", 1.0, &err);
    cy_pt_dict_put_str(d, "s1", "nn.Upsample", &err);
    cy_pt_dict_put_str(d, "s2", "a: b, \"c\"", &err);
    cy_pt_dict_put_str(d, "s3", "true", &err);
    cy_pt_dict_put_str(d, "s4", "12", &err);
    cy_pt_dict_put_none(d, "none", &err);
    cy_pt_list_new(&l, &err);
    cy_pt_bool_new(&v, 1, &err);
    cy_pt_append(l, v, &err);
    cy_pt_str_new(&v, "nearest", &err);
    cy_pt_append(l, v, &err);
    cy_pt_dict_set_str(d, "row", l, &err);
    char *text = NULL;
    CHECK(cy_pt_to_yaml_text(d, "test", &text, &err) == CY_OK, "%s", err.msg);
    const char *want = "nc: 3\ndepth: 0.5\none: 1.0\ns1: nn.Upsample\ns2: \"a: b, \\\"c\\\"\"\ns3: \"true\"\n"
                       "s4: \"12\"\nnone: None\nrow: [True, nearest]\n";
    CHECK(text && !strcmp(text, want), "yaml text:\n%s", text ? text : "(none)");
    free(text);
    cy_pt_tensor_new(&v, CY_PT_DT_F32, 0, NULL, NULL, &err);
    cy_pt_dict_set_str(d, "t", v, &err);
    CHECK(cy_pt_to_yaml_text(d, "x.pt: yaml", &text, &err) == CY_ERR_FORMAT && strstr(err.msg, "x.pt: yaml holds a tensor"),
          "%s", err.msg);
    cy_pt_value_free(d);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cyolo_test_ul_XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    test_reference();
    test_fixtures();
    test_segment();
    test_errors();
    test_hostile_modules();
    test_yaml_text();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmpdir);
    return test_summary();
}
