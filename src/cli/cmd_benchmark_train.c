/* `cyolo benchmark mode=train`: the time of one training step (train forward,
 * loss, backward, clip, optimizer step, EMA) on the built-in image with
 * synthetic targets (5 boxes per image; segment models also get each box's
 * rectangle as its mask, overlap form at imgsz / 4), after warm-up; one
 * JSON line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include "cli/commands.h"
#include "core/formula.h"
#include "engine/train_step.h"

int cmd_benchmark_train(cli_args *a) {
    long imgsz, batch, runs, warmup;
    if (cli_get_int(a, "imgsz", 320, 32, 8192, &imgsz) || cli_get_int(a, "batch", 8, 1, 1024, &batch) ||
        cli_get_int(a, "runs", 10, 1, 100000, &runs) || cli_get_int(a, "warmup", 3, 0, 100000, &warmup))
        return 2;
    const char *oname = cli_get(a, "optimizer", "AdamW");
    cy_optim_params op = {.lr = 0.001, .momentum = 0.9, .weight_decay = 0.0005};
    if (!strcasecmp(oname, "SGD")) op.kind = CY_OPTIM_SGD, op.lr = 0.01, op.momentum = 0.937;
    else if (!strcasecmp(oname, "AdamW")) op.kind = CY_OPTIM_ADAMW;
    else if (!strcasecmp(oname, "MuSGD")) op.kind = CY_OPTIM_MUSGD, op.lr = 0.01;
    else {
        fprintf(stderr, "error: optimizer=%s: expected SGD, AdamW or MuSGD\n", oname);
        return 2;
    }
    cy_model *m;
    int rc = cli_open_model(a, &m, 0);
    if (rc) return rc;
    if (cli_check_unused(a, "benchmark")) {
        cy_model_free(m);
        return 2;
    }
    cy_error err = {0};
    cy_model_summary s;
    cy_model_summarize(m, &s);
    float *x = cli_builtin_image((int)batch, (int)imgsz, (int)imgsz), *rows = malloc((size_t)batch * 5 * 6 * sizeof *rows);
    double *t = malloc(runs * sizeof *t);
    cy_train_ctx ctx = {.clip = 10.0, .e2e = cy_e2e_weights_at(0, 100)};
    cy_targets tg = {0};
    const int mh = (int)imgsz / 4, mw = (int)imgsz / 4;
    uint8_t *mk = s.task == CY_TASK_SEGMENT ? calloc((size_t)batch * mh * mw, 1) : NULL;
    cy_seg_masks masks = {.overlap = 1, .h = mh, .w = mw, .masks = mk};
    if (mk) ctx.masks = &masks;
    if (!x || !rows || !t || (s.task == CY_TASK_SEGMENT && !mk)) {
        fprintf(stderr, "error: out of memory\n");
        rc = 1;
        goto done;
    }
    for (int b = 0, r = 0; b < batch; b++)
        for (int k = 0; k < 5; k++, r++) {
            float *q = rows + 6 * r;
            q[0] = (float)b, q[1] = (float)((b * 5 + k) % s.nc);
            q[2] = 0.2f + 0.12f * k, q[3] = 0.3f + 0.1f * k, q[4] = 0.1f + 0.05f * k, q[5] = 0.15f + 0.04f * k;
            for (int y = (int)((q[3] - q[5] / 2) * mh); mk && y < (int)((q[3] + q[5] / 2) * mh); y++)
                for (int xx = (int)((q[2] - q[4] / 2) * mw); xx < (int)((q[2] + q[4] / 2) * mw); xx++)
                    if (y >= 0 && y < mh && xx >= 0 && xx < mw) mk[((size_t)b * mh + y) * mw + xx] = (uint8_t)(k + 1);
        }
    if (cy_targets_from_rows(&tg, rows, batch * 5, (int)batch, s.nc, &err) != CY_OK ||
        cy_det_loss_ws_create(&ctx.ws, &err) != CY_OK || cy_optim_create_for_model(&ctx.opt, m, &op, &err) != CY_OK ||
        cy_ema_create_for_model(&ctx.ema, m, NULL, &err) != CY_OK) {
        rc = cli_report(&err);
        goto done;
    }
    for (long i = 0; i < warmup + runs; i++) {
        cy_model_loss_out lo;
        double t0 = cy_now_ms();
        if (cy_train_step(m, &ctx, x, (int)batch, (int)imgsz, (int)imgsz, &tg, &lo, &err) != CY_OK) {
            rc = cli_report(&err);
            goto done;
        }
        if (i >= warmup) t[i - warmup] = (cy_now_ms() - t0) / 1e3;
    }
    double sum = 0;
    for (long i = 0; i < runs; i++) sum += t[i];
    double med = cli_sort_median(t, runs);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"impl\": \"cyolo\", \"mode\": \"train\", \"optimizer\": \"%s\", \"batch\": %ld, \"imgsz\": %ld, "
           "\"runs\": %ld, \"median_s\": %.4f, \"min_s\": %.4f, \"mean_s\": %.4f, \"peak_rss_mib\": %.1f}\n",
           oname, batch, imgsz, runs, med, t[0],
           sum / runs, ru.ru_maxrss / 1024.0);
done:
    cy_targets_free(&tg);
    cy_det_loss_ws_free(ctx.ws);
    cy_optim_free(ctx.opt);
    cy_ema_free(ctx.ema);
    free(x);
    free(rows);
    free(mk);
    free(t);
    cy_model_free(m);
    return rc;
}
