/* `cyolo train ... distill_model=` end to end on a few tiny images: a yolo26s
 * teacher trained for one epoch, then a yolo26n student distilled from its
 * best.pt. Checks what the user sees: the dis_loss columns (> 0 in training,
 * 0 in validation), the teacher path and dis in train_args, projectors in
 * last.pt only, best.pt's student weights shaped exactly as a plain run's;
 * resume=True rebuilds the teacher and ends with the same state as the
 * uninterrupted run; a missing teacher on resume, another family, another
 * class count are refused by message before any run folder appears; a
 * smaller teacher is allowed with a warning. */
#include <unistd.h>
#include "engine/checkpoint.h"
#include "engine/distill_setup.h"
#include "engine/trainer.h"
#include "io/pt.h"
#include "io/pt_value.h"
#include "test_ref.h"
#include "test_resume_util.h"
#include "test_util.h"

static cy_args *base(const char *proj, const char *model, const char *name) {
    cy_error err = {0};
    cy_args *a;
    cy_args_create(&a, &err);
    const char *kv[][2] = {{"model", model}, {"epochs", "3"},     {"imgsz", "64"},       {"batch", "8"},
                           {"fraction", "0.05"}, {"workers", "2"}, {"save_period", "1"},  {"close_mosaic", "1"},
                           {"warmup_epochs", "0.5"}, {"nbs", "16"}, {"project", proj},     {"name", name}};
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++)
        CHECK(cy_args_set(a, kv[i][0], kv[i][1], &err) == CY_OK, "%s=%s: %s", kv[i][0], kv[i][1], err.msg);
    return a;
}

static void set(cy_args *a, const char *k, const char *v) {
    cy_error err = {0};
    CHECK(cy_args_set(a, k, v, &err) == CY_OK, "%s=%s: %s", k, v, err.msg);
}

static int run(cy_args *a, cy_error *err) {
    char save[4096];
    FILE *quiet = fopen("/dev/null", "w");
    int st = cy_train_run(a, quiet, save, sizeof save, err);
    fclose(quiet);
    return st;
}

/* column index of name in the CSV header, and the values of row `row` */
static int csv_value(const char *path, const char *col, int row, double *out) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[4096];
    int idx = -1, r = 0, rc = -1;
    if (fgets(line, sizeof line, f)) {
        int k = 0;
        for (char *t = strtok(line, ",\n"); t; t = strtok(NULL, ",\n"), k++)
            if (!strcmp(t, col)) idx = k;
    }
    while (idx >= 0 && fgets(line, sizeof line, f))
        if (++r == row) {
            int k = 0;
            for (char *t = strtok(line, ",\n"); t; t = strtok(NULL, ",\n"), k++)
                if (k == idx) *out = atof(t), rc = 0;
        }
    fclose(f);
    return rc;
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

int main(void) {
    char dir[] = "/tmp/cyolo_distill_XXXXXX", proj[600], path[1200], path2[1200], cmd[4096], teacher[1200];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/datasets", dir);
    setenv("CYOLO_DATASETS", path, 1);
    snprintf(proj, sizeof proj, "%s/runs", dir);
    cy_error err = {0};

    /* the teacher, and a plain student run for comparison */
    cy_args *t = base(proj, "yolo26s.yaml", "teacher");
    set(t, "epochs", "1");
    CHECK(run(t, &err) == CY_OK, "teacher run: %s", err.msg);
    snprintf(teacher, sizeof teacher, "%s/teacher/weights/best.pt", proj);
    cy_args *plain = base(proj, "yolo26n.yaml", "plain");
    set(plain, "epochs", "1");
    CHECK(run(plain, &err) == CY_OK, "plain run: %s", err.msg);

    /* a: distilled, 3 epochs */
    cy_args *a = base(proj, "yolo26n.yaml", "a");
    set(a, "distill_model", teacher);
    set(a, "dis", "6.0");
    CHECK(run(a, &err) == CY_OK, "distilled run: %s", err.msg);
    snprintf(path, sizeof path, "%s/a/results.csv", proj);
    double v = -1;
    for (int row = 1; row <= 3; row++) {
        CHECK(csv_value(path, "train/dis_loss", row, &v) == 0 && v > 0, "epoch %d train/dis_loss %g > 0", row, v);
        CHECK(csv_value(path, "val/dis_loss", row, &v) == 0 && v == 0, "epoch %d val/dis_loss %g == 0", row, v);
    }
    CHECK(csv_value(path, "lr/pg2", 1, &v) == 0, "lr/pg2 column after the dis_loss columns");
    cy_pt_value *last = NULL, *best = NULL, *pbest = NULL;
    snprintf(path, sizeof path, "%s/a/weights/last.pt", proj);
    CHECK(cy_pt_read(path, &last, &err) == CY_OK, "%s", err.msg);
    snprintf(path, sizeof path, "%s/a/weights/best.pt", proj);
    CHECK(cy_pt_read(path, &best, &err) == CY_OK, "%s", err.msg);
    snprintf(path, sizeof path, "%s/plain/weights/best.pt", proj);
    CHECK(cy_pt_read(path, &pbest, &err) == CY_OK, "%s", err.msg);
    if (last && best && pbest) {
        const cy_pt_value *pr = cy_pt_dict_find(last, "projector");
        CHECK(pr && pr->kind == CY_PT_DICT && pr->u.dict.len == 12, "last.pt holds the 12 projector tensors");
        CHECK(cy_pt_dict_find(last, "projector_optimizer") != NULL, "last.pt holds the projector optimizer");
        CHECK(!cy_pt_dict_find(best, "projector") && !cy_pt_dict_find(best, "projector_optimizer"),
              "best.pt holds the student alone");
        const cy_pt_value *ta = cy_pt_dict_find(last, "train_args");
        const char *dm = "";
        double dis = 0;
        CHECK(cy_pt_get_str(ta, "distill_model", &dm, &err) == CY_OK && !strcmp(dm, teacher),
              "train_args distill_model '%s'", dm);
        CHECK(cy_pt_get_float(ta, "dis", &dis, &err) == CY_OK && dis == 6.0, "train_args dis %g", dis);
        const cy_pt_value *m1 = cy_pt_dict_find(best, "model"), *m2 = cy_pt_dict_find(pbest, "model");
        int same = m1 && m2 && m1->u.dict.len == m2->u.dict.len;
        for (size_t i = 0; same && i < m1->u.dict.len; i++) {
            const cy_pt_value *x = m1->u.dict.vals[i], *y = cy_pt_dict_find(m2, m1->u.dict.keys[i]->u.str.s);
            same = y && x->u.tensor.dtype == y->u.tensor.dtype && cy_pt_tensor_numel(x) == cy_pt_tensor_numel(y);
        }
        CHECK(same, "best.pt's student state_dict has the plain run's names, dtypes and sizes");
    }

    /* b: a's epoch-0 checkpoint resumed: the teacher comes back from train_args */
    CHECK(test_resume_epoch0(proj, "a", "b", NULL, path2, sizeof path2, &err) == CY_OK, "resume b: %s", err.msg);
    cy_pt_value *rb = NULL;
    CHECK(cy_pt_read(path2, &rb, &err) == CY_OK, "%s", err.msg);
    cy_model *again = NULL; /* a resumed run's checkpoint still holds its model YAML */
    CHECK(cy_checkpoint_load_model(path2, NULL, 1, &again, &err) == CY_OK, "reload the resumed last.pt: %s", err.msg);
    cy_model_free(again);
    static const char *keys[] = {"model", "ema", "optimizer", "projector", "projector_optimizer", "epoch"};
    for (size_t i = 0; last && rb && i < sizeof keys / sizeof *keys; i++) {
        const cy_pt_value *x = cy_pt_dict_find(last, keys[i]), *y = cy_pt_dict_find(rb, keys[i]);
        CHECK(x && y && cy_pt_equal(x, y), "'%s' identical after resume", keys[i]);
    }

    /* c: resume whose teacher has gone: the message names the path */
    snprintf(cmd, sizeof cmd, "mkdir -p %s/c/weights && cp %s/a/weights/epoch0.pt %s/c/weights/last.pt", proj, proj,
             proj);
    CHECK(system(cmd) == 0, "prepare c");
    cy_args *c;
    cy_args_create(&c, &err);
    snprintf(path2, sizeof path2, "%s/c/weights/last.pt", proj);
    set(c, "model", path2);
    set(c, "resume", "True");
    set(c, "distill_model", "/nonexistent/teacher.pt");
    CHECK(run(c, &err) != CY_OK && strstr(err.msg, "/nonexistent/teacher.pt") && strstr(err.msg, "does not exist"),
          "missing teacher on resume: '%s'", err.msg);

    /* an int8 teacher: trains, shows dis_loss, keeps the choice in args.yaml
     * and its calibrated steps in last.pt (a resumed run ends as the
     * uninterrupted one); an unknown precision is refused before the run
     * folder exists */
    cy_args *q = base(proj, "yolo26n.yaml", "int8");
    set(q, "epochs", "2");
    set(q, "distill_model", teacher);
    set(q, "distill_precision", "int8");
    CHECK(run(q, &err) == CY_OK, "int8 teacher run: %s", err.msg);
    snprintf(path, sizeof path, "%s/int8/results.csv", proj);
    CHECK(csv_value(path, "train/dis_loss", 1, &v) == 0 && v > 0, "int8 teacher: train/dis_loss %g > 0", v);
    snprintf(path, sizeof path, "%s/int8/args.yaml", proj);
    char *args_text = test_slurp(path);
    CHECK(args_text && strstr(args_text, "distill_precision: int8"), "args.yaml keeps distill_precision");
    free(args_text);
    CHECK(test_resume_epoch0(proj, "int8", "int8r", NULL, path2, sizeof path2, &err) == CY_OK,
          "resume the int8 run: %s", err.msg);
    cy_pt_value *q1 = NULL, *q2 = NULL;
    snprintf(path, sizeof path, "%s/int8/weights/last.pt", proj);
    CHECK(cy_pt_read(path, &q1, &err) == CY_OK && cy_pt_read(path2, &q2, &err) == CY_OK, "%s", err.msg);
    static const char *qkeys[] = {"model", "ema", "projector", "teacher_int8_step"};
    for (size_t i = 0; q1 && q2 && i < sizeof qkeys / sizeof *qkeys; i++) {
        const cy_pt_value *x = cy_pt_dict_find(q1, qkeys[i]), *y = cy_pt_dict_find(q2, qkeys[i]);
        CHECK(x && y && cy_pt_equal(x, y), "int8 teacher: '%s' identical after resume", qkeys[i]);
    }
    cy_pt_value_free(q1);
    cy_pt_value_free(q2);
    set(q, "name", "fp16");
    set(q, "distill_precision", "fp16");
    CHECK(run(q, &err) != CY_OK && strstr(err.msg, "distill_precision=fp16") && strstr(err.msg, "int8"),
          "fp16 teacher refused: '%s'", err.msg);
    snprintf(path, sizeof path, "%s/fp16", proj);
    CHECK(!exists(path), "no run folder for a refused precision");
    cy_args_free(q);

    /* refusals before the run folder exists */
    cy_args *f = base(proj, "yolo11n.yaml", "family");
    set(f, "distill_model", teacher);
    CHECK(run(f, &err) != CY_OK && strstr(err.msg, "family") && strstr(err.msg, "yolo11"),
          "yolo11 student, yolo26 teacher: '%s'", err.msg);
    snprintf(path, sizeof path, "%s/family", proj);
    CHECK(!exists(path), "no run folder for a refused teacher");
    cy_args *k = base(proj, "yolo26n.yaml", "classes");
    set(k, "distill_model", teacher);
    set(k, "single_cls", "True");
    CHECK(run(k, &err) != CY_OK && strstr(err.msg, "6 classes") && strstr(err.msg, "1"),
          "6-class teacher, single_cls student: '%s'", err.msg);

    /* a teacher that is not a detector (an Ultralytics segmentation checkpoint) */
    cy_args *sg = base(proj, "yolo26n.yaml", "seg");
    set(sg, "distill_model", "tests/fixtures/pt/ul_seg_tiny.pt");
    CHECK(run(sg, &err) != CY_OK && strstr(err.msg, "ul_seg_tiny.pt") &&
              strstr(err.msg, "the teacher is a segment model and the student") && strstr(err.msg, "a detect model"),
          "segmentation teacher: '%s'", err.msg);
    cy_args_free(sg);

    /* a smaller teacher: allowed, with a warning */
    cy_model_params mp = cy_model_default_params();
    mp.nc = 6;
    cy_model *big = NULL;
    CHECK(cy_model_create(&big, "yolo26s.yaml", &mp, &err) == CY_OK, "%s", err.msg);
    char *log_text = NULL;
    size_t log_len = 0;
    FILE *log = open_memstream(&log_text, &log_len);
    cy_distill *d = NULL;
    cy_distill_setup ds = {.teacher = "yolo26n.yaml", .dis = 6.0, .nc = 6};
    CHECK(cy_distill_setup_create(&ds, big, log, &d, &err) == CY_OK, "smaller teacher: %s", err.msg);
    fclose(log);
    CHECK(log_text && strstr(log_text, "smaller than the student"), "warning: '%s'", log_text ? log_text : "");
    free(log_text);
    cy_distill_free(d);
    cy_model_free(big);

    cy_pt_value_free(last);
    cy_pt_value_free(best);
    cy_pt_value_free(pbest);
    cy_pt_value_free(rb);
    cy_args *all[] = {t, plain, a, c, f, k};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) cy_args_free(all[i]);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "cleanup");
    return test_summary();
}
