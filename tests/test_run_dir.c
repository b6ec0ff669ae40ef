/* Run folders (train, train2, exist_ok, project), results.csv rows with
 * Ultralytics' header and %.6g values, and atomic writes that leave the old
 * file intact when abandoned. */
#include <unistd.h>
#include "engine/run_dir.h"
#include "io/atomic.h"
#include "test_util.h"

int main(void) {
    char dir[] = "/tmp/cyolo_runs_XXXXXX", proj[256], out[4096], out2[4096], out3[4096];
    cy_error err = {0};
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(proj, sizeof proj, "%s/runs/detect", dir);
    CHECK(cy_run_dir(proj, "detect", NULL, "train", 0, out, sizeof out, &err) == CY_OK, "%s", err.msg);
    CHECK(strstr(out, "/runs/detect/train") && out[strlen(out) - 1] == 'n', "first run: %s", out);
    CHECK(cy_run_dir(proj, "detect", NULL, "train", 0, out2, sizeof out2, &err) == CY_OK, "%s", err.msg);
    CHECK(!strcmp(out2 + strlen(out2) - 6, "train2"), "second run: %s", out2);
    CHECK(cy_run_dir(proj, "detect", "train", "train", 1, out3, sizeof out3, &err) == CY_OK && !strcmp(out3, out),
          "exist_ok reuses: %s", out3);
    CHECK(cy_run_dir(proj, "detect", "exp", "train", 0, out3, sizeof out3, &err) == CY_OK &&
              !strcmp(out3 + strlen(out3) - 4, "/exp"),
          "name=exp: %s", out3);

    const char *names[] = {"train/box_loss", "metrics/mAP50-95(B)", "lr/pg0"};
    double v1[] = {1.2345678, 0.5, 0.000123456789}, v2[] = {1.0, 0.25, 1e-5};
    CHECK(cy_results_csv_append(out, 1, 12.5, names, v1, 3, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_results_csv_append(out, 2, 25.25, names, v2, 3, &err) == CY_OK, "%s", err.msg);
    char path[4200], buf[512] = {0};
    snprintf(path, sizeof path, "%s/results.csv", out);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = 0;
    CHECK(!strcmp(buf, "epoch,time,train/box_loss,metrics/mAP50-95(B),lr/pg0\n"
                       "1,12.5,1.23457,0.5,0.000123457\n"
                       "2,25.25,1,0.25,1e-05\n"),
          "results.csv:\n%s", buf);

    /* atomic: an abandoned write leaves the old content, a commit replaces it */
    snprintf(path, sizeof path, "%s/last.pt", out);
    cy_atomic_file a;
    CHECK(cy_atomic_open(&a, path, &err) == CY_OK, "%s", err.msg);
    fputs("first", a.f);
    CHECK(cy_atomic_commit(&a, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_atomic_open(&a, path, &err) == CY_OK, "%s", err.msg);
    fputs("second, interrupted", a.f);
    cy_atomic_abort(&a);
    f = fopen(path, "r");
    n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = 0;
    CHECK(!strcmp(buf, "first"), "abandoned write kept the old file: '%s'", buf);
    CHECK(access(a.tmp, F_OK) != 0, "temporary file removed");
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "cleanup");
    return test_summary();
}
