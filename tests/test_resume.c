/* resume=True continues bit for bit: a run of 3 epochs, and the same run
 * resumed from its epoch-1 checkpoint (as if interrupted after that epoch),
 * end with identical model, EMA and optimizer state. */
#include <unistd.h>
#include "engine/trainer.h"
#include "io/pt.h"
#include "io/pt_value.h"
#include "test_resume_util.h"
#include "test_util.h"

static void set(cy_args *a, const char *k, const char *v) {
    cy_error err = {0};
    CHECK(cy_args_set(a, k, v, &err) == CY_OK, "%s=%s: %s", k, v, err.msg);
}

int main(void) {
    char dir[] = "/tmp/cyolo_resume_XXXXXX", cmd[2048], path_a[512], path_b[512], ds[512], save[4096];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(ds, sizeof ds, "%s/datasets", dir);
    setenv("CYOLO_DATASETS", ds, 1);
    cy_error err = {0};
    cy_args *a;
    cy_args_create(&a, &err);
    char proj[600];
    snprintf(proj, sizeof proj, "%s/runs", dir);
    set(a, "model", "yolo26n.yaml");
    set(a, "epochs", "3");
    set(a, "imgsz", "64");
    set(a, "batch", "8");
    set(a, "fraction", "0.05");
    set(a, "workers", "2");
    set(a, "save_period", "1");
    set(a, "close_mosaic", "1"); /* the resumed epochs cross the mosaic switch */
    set(a, "warmup_epochs", "0.5");
    set(a, "nbs", "16");        /* accumulate 2: a step can straddle epochs */
    set(a, "project", proj);
    set(a, "name", "a");
    FILE *quiet = fopen("/dev/null", "w");
    CHECK(cy_train_run(a, quiet, save, sizeof save, &err) == CY_OK, "run a: %s", err.msg);
    /* b: a copy of a's state after epoch index 0, resumed */
    CHECK(test_resume_epoch0(proj, "a", "b", quiet, path_b, sizeof path_b, &err) == CY_OK, "resume b: %s", err.msg);
    fclose(quiet);
    snprintf(path_a, sizeof path_a, "%s/a/weights/last.pt", proj);
    cy_pt_value *ra = NULL, *rb = NULL;
    CHECK(cy_pt_read(path_a, &ra, &err) == CY_OK && cy_pt_read(path_b, &rb, &err) == CY_OK, "%s", err.msg);
    static const char *keys[] = {"model", "ema", "optimizer", "epoch", "updates", "pending"};
    for (size_t i = 0; ra && rb && i < sizeof keys / sizeof *keys; i++) {
        const cy_pt_value *x = cy_pt_dict_find(ra, keys[i]), *y = cy_pt_dict_find(rb, keys[i]);
        CHECK(x && y && cy_pt_equal(x, y), "'%s' identical after resume", keys[i]);
    }
    char csv[700];
    snprintf(csv, sizeof csv, "%s/b/results.csv", proj);
    FILE *f = fopen(csv, "r");
    int lines = 0;
    for (int c; f && (c = fgetc(f)) != EOF;) lines += c == '\n';
    if (f) fclose(f);
    CHECK(lines == 4, "the resumed results.csv has the header and 3 epochs (%d lines)", lines);
    /* resuming a finished run is refused */
    cy_args *c;
    cy_args_create(&c, &err);
    set(c, "model", path_a);
    set(c, "resume", "True");
    CHECK(cy_train_run(c, stdout, save, sizeof save, &err) == CY_ERR_ARG && strstr(err.msg, "finished"),
          "finished run: %s", err.msg);
    cy_pt_value_free(ra);
    cy_pt_value_free(rb);
    cy_args_free(a);
    cy_args_free(c);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "cleanup");
    return test_summary();
}
