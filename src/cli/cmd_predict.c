/* `cyolo predict` and `cyolo benchmark` on the built-in image: the
 * deterministic formula image (manifest "input" rule) at imgsz x imgsz. Real
 * image sources arrive with the data pipeline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "cli/commands.h"
#include "core/formula.h"

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int cmd_predict(cli_args *a) {
    const char *src = cli_get(a, "source", NULL);
    if (src && strcmp(src, "builtin")) return cmd_predict_files(a);
    long imgsz, batch, max_det;
    if (cli_get_int(a, "imgsz", 640, 32, 8192, &imgsz) || cli_get_int(a, "batch", 1, 1, 1024, &batch) ||
        cli_get_int(a, "max_det", 300, 1, 100000, &max_det))
        return 2;
    double conf = atof(cli_get(a, "conf", "0.25")), iou = atof(cli_get(a, "iou", "0.7"));
    cy_model *m;
    int rc = cli_open_model(a, &m, 0);
    if (rc) return rc;
    if (cli_check_unused(a, "predict")) {
        cy_model_free(m);
        return 2;
    }
    float *x = cli_builtin_image((int)batch, (int)imgsz, (int)imgsz);
    cy_error err = {0};
    cy_array out = {0};
    cy_predict_params pp = {.max_det = (int)max_det};
    double t0 = now_ms();
    if (!x) {
        rc = 1;
        fprintf(stderr, "error: out of memory\n");
    } else if (cy_model_forward(m, x, (int)batch, (int)imgsz, (int)imgsz, &pp, &out, &err) != CY_OK) {
        rc = cli_report(&err);
    } else {
        double ms = now_ms() - t0;
        cy_model_summary s;
        cy_model_summarize(m, &s);
        for (int b = 0; b < batch; b++) {
            int kept = 0;
            if (s.end2end) {
                for (int r = 0; r < out.shape[1]; r++) /* rows of 6 (+ mask coefficients) */
                    kept += out.data[((size_t)b * out.shape[1] + r) * out.shape[2] + 4] > conf;
            } else {
                cy_nms_params np = cy_nms_default_params();
                np.conf = (float)conf;
                np.iou = (float)iou;
                np.max_det = (int)max_det;
                float *dets = malloc((size_t)np.max_det * 6 * sizeof(float));
                int cnt = 0;
                if (dets && cy_nms(out.data + (size_t)b * out.shape[1] * out.shape[2], 1, s.nc,
                                   (int)out.shape[2], &np, dets, &cnt, &err) == CY_OK)
                    kept = cnt;
                free(dets);
            }
            printf("image %d/%ld builtin %ldx%ld: %d detections above conf %.2f\n", b + 1, batch, imgsz, imgsz,
                   kept, conf);
        }
        printf("Speed: %.1f ms inference per batch of %ld at shape (%ld, 3, %ld, %ld)\n", ms, batch, batch, imgsz,
               imgsz);
    }
    cy_array_free(&out);
    free(x);
    cy_model_free(m);
    return rc;
}

int cmd_benchmark(cli_args *a) {
    const char *mode = cli_get(a, "mode", "eval");
    if (!strcmp(mode, "train")) return cmd_benchmark_train(a);
    if (strcmp(mode, "eval")) {
        fprintf(stderr, "error: mode=%s: expected 'eval' or 'train'\n", mode);
        return 2;
    }
    long imgsz, batch, runs, warmup;
    if (cli_get_int(a, "imgsz", 640, 32, 8192, &imgsz) || cli_get_int(a, "batch", 1, 1, 1024, &batch) ||
        cli_get_int(a, "runs", 20, 1, 100000, &runs) || cli_get_int(a, "warmup", 5, 0, 100000, &warmup))
        return 2;
    cy_model *m;
    int rc = cli_open_model(a, &m, 0);
    if (rc) return rc;
    if (cli_check_unused(a, "benchmark")) {
        cy_model_free(m);
        return 2;
    }
    float *x = cli_builtin_image((int)batch, (int)imgsz, (int)imgsz);
    double *t = malloc(runs * sizeof *t);
    cy_error err = {0};
    cy_predict_params pp = {.max_det = 300};
    for (long i = 0; x && t && i < warmup + runs && !rc; i++) {
        cy_array out;
        double t0 = now_ms();
        if (cy_model_forward(m, x, (int)batch, (int)imgsz, (int)imgsz, &pp, &out, &err) != CY_OK) {
            rc = cli_report(&err);
            break;
        }
        double dt = now_ms() - t0;
        cy_array_free(&out);
        if (i >= warmup) t[i - warmup] = dt;
    }
    if (!x || !t) {
        fprintf(stderr, "error: out of memory\n");
        rc = 1;
    }
    if (!rc) {
        double sum = 0;
        for (long i = 0; i < runs; i++) sum += t[i];
        double med = cli_sort_median(t, runs);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("{\"impl\": \"cyolo\", \"batch\": %ld, \"imgsz\": %ld, \"runs\": %ld, \"median_ms\": %.3f, "
               "\"min_ms\": %.3f, \"mean_ms\": %.3f, \"peak_rss_mib\": %.1f}\n",
               batch, imgsz, runs, med, t[0], sum / runs, ru.ru_maxrss / 1024.0);
    }
    free(t);
    free(x);
    cy_model_free(m);
    return rc;
}
