/* A short training run with plots=True writes every image Ultralytics'
 * detect run writes, each decodable and of Ultralytics' pixel size; a run
 * from pretrained=<last.pt> (with multi_scale and rect) and the models of
 * model=<last.pt> get every item transferred; cy_model_transfer between
 * different class counts skips the class outputs. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "data/synth.h"
#include "engine/pretrained.h"
#include "engine/trainer.h"
#include "io/image.h"
#include "test_util.h"

static void set(cy_args *a, const char *k, const char *v) {
    cy_error err = {0};
    CHECK(cy_args_set(a, k, v, &err) == CY_OK, "%s=%s: %s", k, v, err.msg);
}

static char data[600];

static cy_args *base_args(const char *proj, const char *name, const char *model) {
    cy_error err = {0};
    cy_args *a = NULL;
    cy_args_create(&a, &err);
    set(a, "model", model);
    set(a, "epochs", "1");
    set(a, "imgsz", "64");
    set(a, "batch", "4");
    set(a, "data", data);
    set(a, "workers", "2");
    set(a, "project", proj);
    set(a, "name", name);
    return a;
}

static void check_image(const char *dir, const char *file, int w, int h) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    cy_image im = {0};
    cy_error err = {0};
    CHECK(cy_image_read(path, &im, &err) == CY_OK, "%s decodes: %s", file, err.msg);
    CHECK(im.w == w && im.h == h, "%s is %dx%d, want %dx%d", file, im.w, im.h, w, h);
    cy_image_free(&im);
}

/* runs training, returns what it logged (malloc'd) */
static char *run(cy_args *a, char *save, size_t cap) {
    cy_error err = {0};
    FILE *log = tmpfile();
    CHECK(cy_train_run(a, log, save, cap, &err) == CY_OK, "train: %s", err.msg);
    long n = ftell(log);
    char *text = calloc(n + 1, 1);
    rewind(log);
    if (fread(text, 1, n, log) != (size_t)n) text[0] = 0;
    fclose(log);
    return text;
}

/* "Transferred N/M items" -> N == M > 0 */
static void check_transferred_all(const char *log, const char *what) {
    const char *t = strstr(log, "Transferred ");
    int n = 0, m = -1;
    CHECK(t && sscanf(t, "Transferred %d/%d items from pretrained weights", &n, &m) == 2 && n == m && n > 100,
          "%s: every item transferred (%d/%d)", what, n, m);
}

int main(void) {
    char dir[] = "/tmp/cyolo_plots_XXXXXX", ds[512], proj[512], save[4096], last[4300], cmd[600];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    /* a small built-in-style set: 16 train, 8 val images of 64 px */
    snprintf(ds, sizeof ds, "%s/synth", dir);
    cy_synth_params sp = cy_synth_default_params();
    sp.n_train = 16, sp.n_val = 8, sp.imgsz = 64;
    cy_error gerr = {0};
    CHECK(cy_synth_generate(ds, &sp, &gerr) == CY_OK, "synth: %s", gerr.msg);
    snprintf(data, sizeof data, "%s/synth.yaml", ds);
    snprintf(proj, sizeof proj, "%s/runs", dir);

    cy_args *a = base_args(proj, "a", "yolo26n.yaml");
    free(run(a, save, sizeof save));
    check_image(save, "labels.jpg", 1600, 1600);
    /* 4 images of 64 px: a 2 x 2 grid */
    for (int i = 0; i < 3; i++) {
        char f[64];
        snprintf(f, sizeof f, "train_batch%d.jpg", i);
        check_image(save, f, 128, 128);
        /* val: 8 square 64 px images, rect 96 x 96 (pad 0.5), a 3 x 3 grid; one val batch, so only val_batch0 */
    }
    check_image(save, "val_batch0_labels.jpg", 288, 288);
    check_image(save, "val_batch0_pred.jpg", 288, 288);
    check_image(save, "confusion_matrix.png", 3000, 2250);
    check_image(save, "confusion_matrix_normalized.png", 3000, 2250);
    static const char *curves[] = {"BoxPR_curve.png", "BoxF1_curve.png", "BoxP_curve.png", "BoxR_curve.png"};
    for (int i = 0; i < 4; i++) check_image(save, curves[i], 2250, 1500);
    snprintf(last, sizeof last, "%s/weights/last.pt", save);

    cy_args *b = base_args(proj, "b", "yolo26n.yaml");
    set(b, "pretrained", last);
    set(b, "multi_scale", "0.5");
    set(b, "rect", "True");
    set(b, "val", "False");
    set(b, "plots", "False");
    char *log = run(b, save, sizeof save);
    check_transferred_all(log, "pretrained=last.pt");
    free(log);
    CHECK(access(strcat(save, "/labels.jpg"), F_OK) != 0, "plots=False writes no labels.jpg");

    /* model=last.pt without resume: the checkpoint's YAML and weights (what the trainer calls) */
    cy_model *tm = NULL, *vm = NULL;
    cy_model_params mp = cy_model_default_params();
    mp.nc = 6;
    cy_error e = {0};
    FILE *lf = tmpfile();
    CHECK(cy_train_models_create(last, "True", &mp, lf, &tm, &vm, &e) == CY_OK, "model=last.pt: %s", e.msg);
    char text[256] = "";
    rewind(lf);
    if (!fgets(text, sizeof text, lf)) text[0] = 0;
    fclose(lf);
    check_transferred_all(text, "model=last.pt");
    CHECK(tm && vm && tm->nparams == vm->nparams, "a training model and its validation twin");
    cy_model_free(tm);
    cy_model_free(vm);

    cy_args *d = base_args(proj, "d", "yolo26n.yaml");
    set(d, "multi_scale", "1.5");
    cy_error err = {0};
    CHECK(cy_train_run(d, stdout, save, sizeof save, &err) == CY_ERR_ARG && strstr(err.msg, "multi_scale=1.5"),
          "multi_scale out of range: %s", err.msg);

    /* different class counts: everything but the class branch transfers */
    cy_model *m6 = NULL, *m3 = NULL;
    cy_model_params p = cy_model_default_params();
    p.nc = 6;
    CHECK(cy_model_create(&m6, "yolo26n.yaml", &p, &err) == CY_OK, "%s", err.msg);
    p.nc = 3;
    CHECK(cy_model_create(&m3, "yolo26n.yaml", &p, &err) == CY_OK, "%s", err.msg);
    if (m6 && m3) {
        int n = 0, cls_out = 0;
        cy_model_transfer(m3, m6, &n);
        for (int i = 0; i < m3->nentries; i++) {
            const cy_entry *e = &m3->entries[i];
            if (e->ndim >= 1 && e->shape[0] == 3 && strstr(e->name, "cv3.")) cls_out++;
        }
        CHECK(cls_out > 0 && n == m3->nentries - cls_out, "transferred %d of %d, the %d class outputs skipped", n,
              m3->nentries, cls_out);
    }
    cy_model_free(m6);
    cy_model_free(m3);
    cy_args_free(a);
    cy_args_free(b);
    cy_args_free(d);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "cleanup");
    return test_summary();
}
