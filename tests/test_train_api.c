/* Training through the public C API (cyolo.h): options as text, distillation
 * by cy_train_options_set_distill, the run folder it writes, and refusals. */
#include <unistd.h>
#include "cyolo.h"
#include "test_util.h"

int main(void) {
    char dir[] = "/tmp/cyolo_trainapi_XXXXXX", path[4200], save[4096] = "", proj[600];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/datasets", dir);
    setenv("CYOLO_DATASETS", path, 1);
    snprintf(proj, sizeof proj, "%s/runs", dir);
    cy_error err = {0};
    cy_train_options *o = NULL;
    CHECK(cy_train_options_create(&o, &err) == CY_OK, "%s", err.msg);
    const char *kv[][2] = {{"model", "yolo26n.yaml"}, {"epochs", "1"}, {"imgsz", "64"}, {"batch", "8"},
                           {"fraction", "0.05"}, {"plots", "False"}, {"project", proj}};
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++)
        CHECK(cy_train_options_set(o, kv[i][0], kv[i][1], &err) == CY_OK, "%s: %s", kv[i][0], err.msg);
    CHECK(cy_train_options_set(o, "epoch", "3", &err) == CY_ERR_ARG && strstr(err.msg, "epochs"),
          "unknown key suggests epochs: '%s'", err.msg);
    CHECK(cy_train_options_set_distill(o, "yolo26s.yaml", -1, &err) == CY_ERR_ARG && strstr(err.msg, "dis"),
          "negative dis: '%s'", err.msg);
    CHECK(cy_train_options_set_distill(o, "yolo26s.yaml", 3.0, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_train(o, NULL, save, sizeof save, &err) == CY_OK, "train: %s", err.msg);
    snprintf(path, sizeof path, "%s/results.csv", save);
    char *csv = NULL;
    FILE *f = fopen(path, "r");
    if (f) {
        csv = calloc(1, 1 << 16);
        fread(csv, 1, (1 << 16) - 1, f);
        fclose(f);
    }
    CHECK(csv && strstr(csv, "train/dis_loss") && strstr(csv, "val/dis_loss"), "%s has the dis_loss columns", path);
    free(csv);
    snprintf(path, sizeof path, "%s/args.yaml", save);
    f = fopen(path, "r");
    char line[512];
    int dm = 0, dis = 0;
    while (f && fgets(line, sizeof line, f)) {
        dm |= !strcmp(line, "distill_model: yolo26s.yaml\n");
        dis |= !strcmp(line, "dis: 3.0\n");
    }
    if (f) fclose(f);
    CHECK(dm && dis, "args.yaml records distill_model and dis (%d %d)", dm, dis);
    cy_train_options_free(o);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    CHECK(system(path) == 0, "cleanup");
    return test_summary();
}
