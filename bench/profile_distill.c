/* Where a distilled training step's time goes: the student's train forward,
 * the teacher's forward (by op type), the projectors and loss (forward and
 * backward), the student's loss and backward. Not a test. Build:
 *   gcc -O2 -fopenmp -Iinclude -Isrc bench/profile_distill.c build/libcyolo.a \
 *       -ldnnl -lopenblas -lyaml -lcjson -lpng -ljpeg -lexif -lzip -lcairo -lm -o /tmp/profile_distill
 *   /tmp/profile_distill [student yaml] [teacher yaml] [imgsz] [batch] [steps] [teacher chunk] [fp32|bf16|int8] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/formula.h"
#include "model/distill.h"
#include "model/model_loss.h"

static const char *op_name(cy_op op) {
    static const char *n[] = {"conv", "act", "add", "maxpool", "upsample", "concat", "slice", "attn", "bn"};
    return (unsigned)op < sizeof n / sizeof *n ? n[op] : "?";
}

int main(int argc, char **argv) {
    const char *sy = argc > 1 ? argv[1] : "yolo26n.yaml", *ty = argc > 2 ? argv[2] : "yolo26s.yaml";
    int S = argc > 3 ? atoi(argv[3]) : 320, B = argc > 4 ? atoi(argv[4]) : 8, steps = argc > 5 ? atoi(argv[5]) : 5;
    int chunk = argc > 6 ? atoi(argv[6]) : -1;
    cy_precision prec = argc > 7 && !strcmp(argv[7], "bf16")   ? CY_PREC_BF16
                        : argc > 7 && !strcmp(argv[7], "int8") ? CY_PREC_INT8
                                                               : CY_PREC_F32;
    cy_model *s, *t;
    cy_error e = {0};
    cy_model_params p = cy_model_default_params();
    p.nc = 6;
    if (cy_model_create(&s, sy, &p, &e) || cy_model_create(&t, ty, &p, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    cy_distill *d;
    if (cy_distill_create(&d, s, t, 6.0, 0, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    if (chunk >= 0) cy_distill_set_teacher_chunk(d, chunk);
    if (cy_distill_set_teacher_precision(d, prec, NULL, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    cy_model_set_training(s, 1);
    size_t n = (size_t)B * 3 * S * S;
    float *x = malloc(n * 4);
    cy_formula_fill(x, n, "input", CY_FORMULA_INPUT, 0);
    float *rows = malloc((size_t)B * 5 * 6 * sizeof *rows);
    int r = 0;
    for (int b = 0; b < B; b++)
        for (int k = 0; k < 5; k++, r++) {
            float *q = rows + 6 * r;
            q[0] = (float)b, q[1] = (float)((b * 5 + k) % 6), q[2] = 0.2f + 0.12f * k, q[3] = 0.3f + 0.1f * k;
            q[4] = 0.1f + 0.05f * k, q[5] = 0.15f + 0.04f * k;
        }
    cy_targets tg;
    cy_targets_from_rows(&tg, rows, r, B, 6, &e);
    cy_det_loss_ws *ws;
    cy_det_loss_ws_create(&ws, &e);
    double ts = 0, tfwd = 0, tbwd = 0, tl = 0;
    for (int i = 0; i <= steps; i++) { /* step 0 warms up (primitives, buffers) */
        if (i == 1) t->profile = 1;
        cy_model_loss_out lo;
        cy_distill_out o;
        double a = cy_now_ms();
        cy_model_run(s, x, B, S, S, &e);
        double b = cy_now_ms();
        cy_model_zero_grad(s, &e);
        cy_distill_zero_grad(d);
        cy_distill_forward(d, s, x, B, S, S, 0, &o, &e); /* teacher + projectors + loss, forward only */
        double c = cy_now_ms();
        cy_distill_forward(d, s, x, B, S, S, 1, &o, &e); /* the same, and the projectors' backward */
        double f = cy_now_ms();
        cy_model_loss(s, ws, &tg, cy_e2e_weights_at(0, 100), 1, &lo, &e);
        double g = cy_now_ms();
        if (i) ts += b - a, tfwd += c - b, tbwd += (f - c) - (c - b), tl += g - f;
    }
    double teacher = 0, by_op[16] = {0};
    for (int k = 0; k < t->graph.nnodes; k++) {
        const cy_node *nd = &t->graph.nodes[k];
        by_op[nd->op] += nd->fwd_ms, teacher += nd->fwd_ms;
    }
    teacher /= 2.0 * steps; /* two distillation forwards a step */
    if (e.msg[0]) fprintf(stderr, "error: %s\n", e.msg);
    printf("%s <- %s, imgsz %d, batch %d, ms per step (mean of %d):\n", sy, ty, S, B, steps);
    printf("  student train forward        %8.1f\n", ts / steps);
    printf("  teacher eval forward         %8.1f (chunks of %d images, 0: auto)\n", teacher, chunk >= 0 ? chunk : 0);
    printf("  projectors + loss, forward   %8.1f\n", tfwd / steps - teacher);
    printf("  projectors, backward         %8.1f\n", tbwd / steps);
    printf("  student loss + backward      %8.1f\n", tl / steps);
    printf("teacher forward by op (ms per forward):\n");
    for (int op = 0; op < 9; op++)
        if (by_op[op] > 0)
            printf("  %-10s %8.1f (%4.1f%%)\n", op_name((cy_op)op), by_op[op] / (2 * steps), 100 * by_op[op] / (2 * steps) / teacher);
    cy_targets_free(&tg);
    cy_det_loss_ws_free(ws);
    cy_distill_free(d);
    cy_model_free(s);
    free(x);
    free(rows);
    return 0;
}
