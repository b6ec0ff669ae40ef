#include "engine/run_dir.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "io/atomic.h"

static int exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

cy_status cy_run_dir(const char *project, const char *task, const char *name, const char *mode, int exist_ok,
                     char *out, size_t cap, cy_error *err) {
    char base[2048], path[4096];
    if (project && *project) snprintf(base, sizeof base, "%s", project);
    else snprintf(base, sizeof base, "runs/%s", task && *task ? task : "detect");
    snprintf(path, sizeof path, "%s/%s", base, name && *name ? name : mode);
    if (exists(path) && !exist_ok) {
        char cand[4096 + 16];
        int n;
        for (n = 2; n < 9999; n++) {
            snprintf(cand, sizeof cand, "%s%d", path, n);
            if (!exists(cand)) break;
        }
        if (n == 9999) return cy_fail(err, CY_ERR_IO, "%s: no free run folder name", path);
        snprintf(path, sizeof path, "%s", cand);
    }
    CY_TRY(cy_mkdirs(path, err));
    if (strlen(path) >= cap) return cy_fail(err, CY_ERR_ARG, "%s: path too long", path);
    snprintf(out, cap, "%s", path);
    return CY_OK;
}

cy_status cy_results_csv_append(const char *dir, int epoch, double time_s, const char *const *names,
                                const double *values, int n, cy_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/results.csv", dir);
    int fresh = !exists(path);
    FILE *f = fopen(path, "a");
    if (!f) return cy_fail(err, CY_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    if (fresh) {
        fprintf(f, "epoch,time");
        for (int i = 0; i < n; i++) fprintf(f, ",%s", names[i]);
        fputc('\n', f);
    }
    fprintf(f, "%d,%.6g", epoch, time_s);
    for (int i = 0; i < n; i++) fprintf(f, ",%.6g", values[i]);
    fputc('\n', f);
    int bad = ferror(f);
    if (fclose(f) || bad) return cy_fail(err, CY_ERR_IO, "%s: write failed", path);
    return CY_OK;
}
