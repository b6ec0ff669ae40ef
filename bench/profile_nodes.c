/* Per-op-type time of yolo26n's eval forward on the cpu backend: where the
 * milliseconds go. Not a test. Build:
 *   gcc -O2 -fopenmp -Iinclude -Isrc bench/profile_nodes.c build/libcyolo.a \
 *       -ldnnl -lopenblas -lyaml -lcjson -lm -o /tmp/profile_nodes
 *   /tmp/profile_nodes [yaml] [imgsz] [batch] [runs] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/formula.h"
#include "model/model.h"

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    const char *yaml = argc > 1 ? argv[1] : "yolo26n.yaml";
    int sz = argc > 2 ? atoi(argv[2]) : 640, n = argc > 3 ? atoi(argv[3]) : 1, runs = argc > 4 ? atoi(argv[4]) : 10;
    cy_model *m;
    cy_error err = {0};
    cy_model_params p = cy_model_default_params();
    if (cy_model_create(&m, yaml, &p, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    size_t numel = (size_t)n * 3 * sz * sz;
    float *x = malloc(numel * 4);
    cy_formula_fill(x, numel, "input", CY_FORMULA_INPUT, 0);
    cy_shape s = {n, 3, sz, sz};
    if (cy_model_run_graph(m, x, s, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    cy_graph *g = &m->graph;
    double *t = calloc(g->nnodes, sizeof *t);
    static const char *names[] = {"conv", "act", "add", "maxpool", "upsample", "concat", "slice", "attn"};
    double tot_ms = 0;
    for (int r = 0; r < runs; r++) {
        double t0 = now_ms();
        cy_model_run_graph(m, x, s, &err);
        tot_ms += now_ms() - t0;
    }
    /* per node: rerun node by node */
    for (int r = 0; r < runs; r++) {
        for (int k = 0; k < g->nnodes; k++) {
            if (!g->nodes[k].live) continue;
            double t0 = now_ms();
            extern cy_status cy_model_run_node(cy_model *, int, cy_error *);
            cy_model_run_node(m, k, &err);
            t[k] += now_ms() - t0;
        }
    }
    double by[8] = {0};
    int cnt[8] = {0};
    for (int k = 0; k < g->nnodes; k++) if (g->nodes[k].live) { by[g->nodes[k].op] += t[k] / runs; cnt[g->nodes[k].op]++; }
    double api_ms = 0;
    cy_predict_params pp = {.max_det = 300};
    for (int r = 0; r < runs; r++) {
        cy_array out;
        double t0 = now_ms();
        cy_model_forward(m, x, n, sz, sz, &pp, &out, &err);
        api_ms += now_ms() - t0;
        cy_array_free(&out);
    }
    printf("graph only: %.2f ms/run; cy_model_forward (graph + decode + top-k): %.2f ms/run\n", tot_ms / runs,
           api_ms / runs);
    for (int i = 0; i < 8; i++) printf("%-9s %4d nodes %8.2f ms\n", names[i], cnt[i], by[i]);
    /* the 15 slowest convs */
    for (int j = 0; j < 15; j++) {
        int best = -1;
        for (int k = 0; k < g->nnodes; k++) if (g->nodes[k].live && (best < 0 || t[k] > t[best])) best = k;
        cy_node *nd = &g->nodes[best];
        cy_shape in = g->values[nd->in[0]].s, o = g->values[nd->out].s;
        double gf = nd->op == CY_OP_CONV ? 2.0 * o.n * o.c * o.h * o.w * (in.c / nd->cp.groups) * nd->cp.kh * nd->cp.kw / 1e9 : 0;
        printf("node %3d %-8s %4dx%3dx%3d -> %4dx%3dx%3d k%d s%d g%d  %6.2f ms  %6.1f GFLOP/s\n", best, names[nd->op], in.c, in.h, in.w,
               o.c, o.h, o.w, nd->cp.kh, nd->cp.sh, nd->cp.groups, t[best] / runs, gf / (t[best] / runs / 1e3));
        t[best] = -1;
    }
    return 0;
}
