/* The segment validator against Ultralytics 8.4.190's SegmentationValidator
 * (tests/fixtures/seg_val, tools/refgen/dump_seg_val.py): one hand-built
 * batch of 3 letterboxed images (each with its own original shape and
 * letterbox, the last without labels) and fixed model outputs through
 * cy_val_stats, as cyolo val scores them:
 *   nms_overlap   decoded [B, 4+nc+nm, A] -> NMS (multi-label, coefficients
 *                 kept), index masks (overlap_mask=True)
 *   nms_instance  the same with one 0/1 mask per target row (overlap_mask=False)
 *   e2e_overlap   an end2end model's rows of 6 + nm
 * The 8 results and fitness within 1e-6, and the rows per image equal.
 * cy_nms_extra's rows (boxes, scores, classes, coefficients) against
 * non_max_suppression(nc=3, multi_label=True); a detect-model validator
 * still writes the 4 (B) keys. Predict: image 0's NMS rows through
 * cy_pred_masks (process_mask upsampled to the input, empty masks dropped)
 * and cy_pred_write_segments for a 90x150 original equal
 * SegmentationPredictor.construct_result's masks and Results.save_txt's
 * text byte for byte. */
#include <cjson/cJSON.h>
#include "engine/predict_run_masks.h"
#include "engine/validate.h"
#include "io/npy.h"
#include "test_util.h"

#define FX "tests/fixtures/seg_val/"
#define TOL 1e-6

static cy_npy load(const char *name) {
    char path[512];
    snprintf(path, sizeof path, FX "%s.npy", name);
    cy_npy a = {0};
    cy_error err = {0};
    CHECK(cy_npy_read(path, &a, &err) == CY_OK, "%s: %s", path, err.msg);
    return a;
}

static cJSON *load_json(void) {
    FILE *f = fopen(FX "seg_val.json", "rb");
    CHECK(f != NULL, "cannot open seg_val.json");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = calloc((size_t)n + 1, 1);
    if (fread(text, 1, (size_t)n, f) != (size_t)n) text[0] = 0;
    fclose(f);
    cJSON *root = cJSON_Parse(text);
    free(text);
    CHECK(root != NULL, "seg_val.json parses");
    return root;
}

/* cy_nms_extra against non_max_suppression's rows, coefficients included */
static void test_nms_extra(int nc, int nm) {
    cy_npy dec = load("decoded");
    if (!dec.data) return;
    int B = (int)dec.shape[0], A = (int)dec.shape[2], row = 6 + nm;
    cy_nms_params np = cy_nms_default_params();
    np.conf = 0.001f, np.iou = 0.7f, np.multi_label = 1;
    float *rows = malloc((size_t)B * np.max_det * row * sizeof *rows);
    int counts[8];
    cy_error err = {0};
    CHECK(cy_nms_extra(dec.data, B, nc, nm, A, &np, rows, counts, &err) == CY_OK, "%s", err.msg);
    for (int b = 0; b < B; b++) {
        char name[32];
        snprintf(name, sizeof name, "nms_%d", b);
        cy_npy ref = load(name);
        if (!ref.data) continue;
        int n = (int)ref.shape[0];
        CHECK(counts[b] == n, "image %d: %d NMS rows, Ultralytics %d", b, counts[b], n);
        double worst = 0;
        for (int i = 0; i < n && i < counts[b]; i++)
            for (int k = 0; k < row; k++) {
                double d = fabs((double)rows[((size_t)b * np.max_det + i) * row + k] - ref.data[(size_t)i * row + k]);
                if (!(d <= worst)) worst = d;
            }
        printf("  nms image %d: %d rows, max |d| %.3g\n", b, n, worst);
        CHECK(worst <= 1e-5, "image %d: NMS rows differ by %g", b, worst);
        cy_npy_free(&ref);
    }
    /* single-label keeps one row per anchor: fewer rows, each its anchor's best class */
    int single[8];
    np.multi_label = 0;
    CHECK(cy_nms_extra(dec.data, B, nc, nm, A, &np, rows, single, &err) == CY_OK, "%s", err.msg);
    CHECK(single[0] < counts[0], "single-label: %d rows < multi-label %d", single[0], counts[0]);
    /* nm = 0 on a detect-shaped prediction is cy_nms */
    float *det = malloc((size_t)(4 + nc) * A * sizeof *det), *r0 = malloc((size_t)np.max_det * 6 * sizeof *r0),
          *r1 = malloc((size_t)np.max_det * 6 * sizeof *r1);
    memcpy(det, dec.data, (size_t)(4 + nc) * A * sizeof *det);
    int c0, c1;
    CHECK(cy_nms(det, 1, nc, A, &np, r0, &c0, &err) == CY_OK && cy_nms_extra(det, 1, nc, 0, A, &np, r1, &c1, &err) ==
              CY_OK, "%s", err.msg);
    CHECK(c0 == c1 && c0 == single[0] && !memcmp(r0, r1, (size_t)c0 * 6 * sizeof *r0), "nm 0 equals cy_nms");
    free(det), free(r0), free(r1), free(rows);
    cy_npy_free(&dec);
}

typedef struct {
    const char *name;
    int overlap, end2end;
} run_cfg;

static void test_run(const run_cfg *cfg, const cJSON *ref, int nc, int nm) {
    cy_npy proto = load("proto"), dec = load("decoded"), e2e = load("e2e"), tg = load("targets");
    cy_npy mo = load("masks_overlap"), mi = load("masks_inst"), rp = load("ratio_pad"), ori = load("ori_shape");
    cy_val_stats *s = NULL;
    cy_error err = {0};
    if (!proto.data || !dec.data || !e2e.data || !tg.data || !mo.data || !mi.data || !rp.data || !ori.data || !ref)
        goto out;
    int B = (int)proto.shape[0], mh = (int)proto.shape[2], mw = (int)proto.shape[3], N = (int)tg.shape[0];
    /* the split: what the records hold (the seg branch reads labels from the batch) */
    cy_det_record rec[8];
    memset(rec, 0, sizeof rec);
    char files[8][16];
    int index[8];
    double ratio[8], pad[16];
    for (int b = 0; b < B; b++) {
        snprintf(files[b], sizeof files[b], "im%d.jpg", b);
        rec[b].im_file = files[b];
        rec[b].h = (int)ori.data[2 * b], rec[b].w = (int)ori.data[2 * b + 1];
        for (int t = 0; t < N; t++) rec[b].n += (int)tg.data[6 * t] == b;
        index[b] = b;
        ratio[b] = rp.data[4 * b], pad[2 * b] = rp.data[4 * b + 2], pad[2 * b + 1] = rp.data[4 * b + 3];
    }
    cy_split split = {.rec = rec, .n = B};
    const cy_npy *mk = cfg->overlap ? &mo : &mi;
    uint8_t *masks = malloc((size_t)mk->numel);
    for (int64_t i = 0; i < mk->numel; i++) masks[i] = (uint8_t)mk->data[i];
    cy_batch batch = {.n = B, .h = 4 * mh, .w = 4 * mw, .targets = tg.data, .ntargets = N, .index = index,
                      .ratio = ratio, .pad = pad, .mask_h = mh, .mask_w = mw, .overlap = cfg->overlap,
                      .masks = masks};
    const cy_npy *o = cfg->end2end ? &e2e : &dec;
    cy_array out = {.data = o->data, .ndim = 3, .shape = {o->shape[0], o->shape[1], o->shape[2]}};
    cy_val_params vp = {.batch = 4, .conf = 0.001f, .iou = 0.7f, .max_det = 300};
    CHECK(cy_val_stats_create(&s, nc, nm, &vp, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_val_stats_add(s, &batch, &split, &out, cfg->end2end, proto.data, 0, &err) == CY_OK, "%s: %s", cfg->name,
          err.msg);
    cy_val_result r = {0};
    CHECK(cy_val_stats_finish(s, &r, &err) == CY_OK, "%s", err.msg);
    CHECK(r.has_masks && r.nkeys == CY_SEG_NKEYS && r.images == B && r.instances == N, "%s: result shape", cfg->name);
    int np_ = 0;
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(ref, "counts");
    for (int b = 0; b < B; b++) np_ += cJSON_GetArrayItem(counts, b)->valueint;
    CHECK(r.metrics.n_pred == np_ && r.mask.n_pred == np_, "%s: %lld predictions scored, Ultralytics %d", cfg->name,
          (long long)r.metrics.n_pred, np_);
    printf("  %s:\n", cfg->name);
    double worst = 0;
    for (int k = 0; k <= CY_SEG_NKEYS; k++) {
        double v = k < CY_SEG_NKEYS ? r.values[k] : r.fitness;
        const cJSON *j = cJSON_GetObjectItemCaseSensitive(ref, cy_seg_metric_keys[k]);
        double want = cJSON_IsNumber(j) ? j->valuedouble : NAN, d = fabs(v - want);
        if (!(d <= worst)) worst = d;
        printf("    %-22s %.12f  ref %.12f\n", cy_seg_metric_keys[k], v, want);
        CHECK(d <= TOL, "%s %s: %.17g vs %.17g", cfg->name, cy_seg_metric_keys[k], v, want);
        if (k < CY_SEG_NKEYS) CHECK(!strcmp(r.keys[k], cy_seg_metric_keys[k]), "key %d", k);
    }
    CHECK(r.values[7] > 0.1 && r.values[3] > 0.1, "%s: the fixture scores something", cfg->name);
    printf("    max |d| %.3g\n", worst);
    cy_val_result_free(&r);
    /* a segment batch without gt masks is refused by name */
    batch.masks = NULL;
    CHECK(cy_val_stats_add(s, &batch, &split, &out, cfg->end2end, proto.data, 0, &err) == CY_ERR_ARG &&
              strstr(err.msg, "gt masks"),
          "no masks refused: %s", err.msg);
    free(masks);
out:
    cy_val_stats_free(s);
    cy_npy_free(&proto), cy_npy_free(&dec), cy_npy_free(&e2e), cy_npy_free(&tg), cy_npy_free(&mo), cy_npy_free(&mi),
        cy_npy_free(&rp), cy_npy_free(&ori);
}

/* the detect branch: the same decoded boxes without coefficients, 4 keys */
static void test_detect_keys(int nc, int nm) {
    cy_npy dec = load("decoded"), tg = load("targets");
    if (!dec.data || !tg.data) return;
    int A = (int)dec.shape[2], N = 0;
    for (int t = 0; t < tg.shape[0]; t++) N += tg.data[6 * t] == 0;
    float *det = malloc((size_t)(4 + nc) * A * sizeof *det);
    memcpy(det, dec.data, (size_t)(4 + nc) * A * sizeof *det); /* image 0's boxes and scores */
    float labels[64 * 5];
    for (int j = 0; j < N; j++) labels[5 * j] = tg.data[6 * j + 1], memcpy(labels + 5 * j + 1, tg.data + 6 * j + 2, 16);
    cy_det_record rec = {.im_file = "im0.jpg", .h = 64, .w = 96, .n = N, .labels = labels};
    cy_split split = {.rec = &rec, .n = 1};
    int index = 0;
    double ratio = 1, pad[2] = {0, 0};
    cy_batch batch = {.n = 1, .h = 64, .w = 96, .targets = tg.data, .ntargets = N, .index = &index, .ratio = &ratio,
                      .pad = pad};
    cy_array out = {.data = det, .ndim = 3, .shape = {1, 4 + nc, A}};
    cy_val_params vp = {.batch = 1, .conf = 0.001f, .iou = 0.7f, .max_det = 300};
    cy_val_stats *s = NULL;
    cy_error err = {0};
    cy_val_result r = {0};
    CHECK(cy_val_stats_create(&s, nc, 0, &vp, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_val_stats_add(s, &batch, &split, &out, 0, NULL, 0, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_val_stats_finish(s, &r, &err) == CY_OK, "%s", err.msg);
    CHECK(!r.has_masks && r.nkeys == 4 && !strcmp(r.keys[3], "metrics/mAP50-95(B)"), "detect: 4 (B) keys");
    CHECK(r.values[3] == r.metrics.map && r.fitness == r.metrics.fitness && r.metrics.map > 0.1,
          "detect: values are the box metrics (mAP50-95 %g)", r.metrics.map);
    (void)nm;
    cy_val_result_free(&r);
    cy_val_stats_free(s);
    free(det);
    cy_npy_free(&dec), cy_npy_free(&tg);
}

static void test_predict(int nm) {
    cy_npy proto = load("proto"), rows = load("nms_0"), ref = load("predict_0_masks");
    FILE *f = fopen(FX "predict_0.txt", "rb");
    CHECK(f != NULL, "predict_0.txt");
    if (!proto.data || !rows.data || !ref.data || !f) goto out;
    char want[1 << 16], got[1 << 16];
    size_t nw = fread(want, 1, sizeof want - 1, f);
    want[nw] = 0;
    int mh = (int)proto.shape[2], mw = (int)proto.shape[3], H = 4 * mh, W = 4 * mw, row = 6 + nm;
    int n = (int)rows.shape[0] + 1;
    /* one more row whose box holds no pixel: its mask is empty, it is dropped */
    float *r = malloc((size_t)n * row * sizeof *r), *det = malloc((size_t)n * 6 * sizeof *det);
    memcpy(r, rows.data, (size_t)(n - 1) * row * sizeof *r);
    float *extra = r + (size_t)(n - 1) * row;
    memcpy(extra, rows.data, (size_t)row * sizeof *r);
    extra[0] = extra[2] = 10.2f, extra[1] = extra[3] = 7.6f;
    uint8_t *masks = NULL;
    cy_error err = {0};
    CHECK(cy_pred_masks(proto.data, nm, mh, mw, r, &n, H, W, det, &masks, &err) == CY_OK, "%s", err.msg);
    CHECK(n == ref.shape[0], "predict: %d masks kept, Ultralytics %lld", n, (long long)ref.shape[0]);
    int64_t diff = 0;
    for (int64_t i = 0; n == ref.shape[0] && i < ref.numel; i++) diff += masks[i] != (ref.data[i] != 0);
    CHECK(n == ref.shape[0] && diff == 0, "predict masks differ in %lld pixels", (long long)diff);
    FILE *t = tmpfile();
    CHECK(t && cy_pred_write_segments(t, det, masks, n, H, W, 90, 150, 1, &err) == CY_OK, "%s", err.msg);
    size_t ng = 0;
    if (t) {
        rewind(t);
        ng = fread(got, 1, sizeof got - 1, t);
        fclose(t);
    }
    got[ng] = 0;
    CHECK(ng == nw && !strcmp(got, want), "save_txt lines differ:\n%.300s\nvs Ultralytics\n%.300s", got, want);
    int lines = 0;
    for (size_t i = 0; i < ng; i++) lines += got[i] == '\n';
    printf("  predict: %d masks, %d save_txt lines (%zu bytes) as Ultralytics\n", n, lines, ng);
    free(r), free(det), free(masks);
out:
    if (f) fclose(f);
    cy_npy_free(&proto), cy_npy_free(&rows), cy_npy_free(&ref);
}

int main(void) {
    cJSON *root = load_json();
    if (!root) return test_summary();
    int nc = cJSON_GetObjectItemCaseSensitive(root, "nc")->valueint;
    int nm = cJSON_GetObjectItemCaseSensitive(root, "nm")->valueint;
    test_nms_extra(nc, nm);
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(root, "runs");
    const run_cfg cfgs[3] = {{"nms_overlap", 1, 0}, {"nms_instance", 0, 0}, {"e2e_overlap", 1, 1}};
    for (int i = 0; i < 3; i++) test_run(&cfgs[i], cJSON_GetObjectItemCaseSensitive(runs, cfgs[i].name), nc, nm);
    test_detect_keys(nc, nm);
    test_predict(nm);
    cJSON_Delete(root);
    return test_summary();
}
