/* Where a training step's time goes: yolo26n forward (training graph), loss,
 * backward, per op type and the slowest nodes. Not a test. Build:
 *   gcc -O2 -fopenmp -Iinclude -Isrc bench/profile_train.c build/libcyolo.a \
 *       -ldnnl -lopenblas -lyaml -lcjson -lm -o /tmp/profile_train
 *   /tmp/profile_train [yaml] [imgsz] [batch] [steps] */
#include <stdio.h>
#include <stdlib.h>
#include "core/formula.h"
#include "model/model_loss.h"

int main(int argc, char **argv) {
    const char *yaml = argc > 1 ? argv[1] : "yolo26n.yaml";
    int S = argc > 2 ? atoi(argv[2]) : 320, B = argc > 3 ? atoi(argv[3]) : 8, steps = argc > 4 ? atoi(argv[4]) : 5;
    cy_model *m;
    cy_error e = {0};
    cy_model_params p = cy_model_default_params();
    if (cy_model_create(&m, yaml, &p, &e)) { fprintf(stderr, "%s\n", e.msg); return 1; }
    cy_model_set_training(m, 1);
    size_t n = (size_t)B * 3 * S * S;
    float *x = malloc(n * 4);
    cy_formula_fill(x, n, "input", CY_FORMULA_INPUT, 0);
    float *rows = malloc((size_t)B * 5 * 6 * sizeof *rows);
    int r = 0;
    for (int b = 0; b < B; b++)
        for (int k = 0; k < 5; k++, r++) {
            float *q = rows + 6 * r;
            q[0] = (float)b, q[1] = (float)((b * 5 + k) % m->nc), q[2] = 0.2f + 0.12f * k, q[3] = 0.3f + 0.1f * k;
            q[4] = 0.1f + 0.05f * k, q[5] = 0.15f + 0.04f * k;
        }
    cy_targets t;
    cy_det_loss_ws *ws;
    cy_model_loss_out lo;
    if (cy_targets_from_rows(&t, rows, r, B, m->nc, &e) || cy_det_loss_ws_create(&ws, &e)) { fprintf(stderr, "%s\n", e.msg); return 1; }
    double tf = 0, tl = 0, tb = 0;
    for (int i = 0; i <= steps; i++) {
        if (i == 1) { /* step 0 warms up: primitives, buffers */
            m->profile = 1;
            tf = tl = tb = 0;
        }
        double t0 = cy_now_ms();
        cy_model_run(m, x, B, S, S, &e);
        double t1 = cy_now_ms();
        cy_model_zero_grad(m, &e);
        cy_model_loss(m, ws, &t, cy_e2e_weights_at(0, 100), 0, &lo, &e);
        double t2 = cy_now_ms();
        cy_model_loss(m, ws, &t, cy_e2e_weights_at(0, 100), 1, &lo, &e); /* loss again + backward */
        double t3 = cy_now_ms();
        tf += t1 - t0, tl += t2 - t1, tb += (t3 - t2) - (t2 - t1);
    }
    printf("per step: forward %.1f ms, loss %.1f ms, backward %.1f ms\n", tf / steps, tl / steps, tb / steps);
    static const char *names[] = {"conv", "act", "add", "maxpool", "upsample", "concat", "slice", "attn", "bn"};
    double f[9] = {0}, bw[9] = {0};
    cy_graph *g = &m->graph;
    for (int k = 0; k < g->nnodes; k++) f[g->nodes[k].op] += g->nodes[k].fwd_ms / steps, bw[g->nodes[k].op] += g->nodes[k].bwd_ms / steps;
    for (int i = 0; i < 9; i++) printf("%-9s fwd %7.2f ms  bwd %7.2f ms\n", names[i], f[i], bw[i]);
    for (int j = 0; j < 12; j++) {
        int best = -1;
        for (int k = 0; k < g->nnodes; k++)
            if (g->nodes[k].live && (best < 0 || g->nodes[k].bwd_ms > g->nodes[best].bwd_ms)) best = k;
        cy_node *nd = &g->nodes[best];
        cy_shape in = g->values[nd->in[0]].s, o = g->values[nd->out].s;
        printf("node %3d %-8s %4dx%3dx%3d -> %4dx%3dx%3d k%d s%d g%d  fwd %6.2f bwd %6.2f ms\n", best, names[nd->op], in.c,
               in.h, in.w, o.c, o.h, o.w, nd->cp.kh, nd->cp.sh, nd->cp.groups, nd->fwd_ms / steps, nd->bwd_ms / steps);
        nd->bwd_ms = -1;
    }
    return 0;
}
