// ops_bench: speed of the cpu backend's ops at YOLO shapes. Not built by
// CMake; from the repository root:
//
// gcc -std=gnu17 -O2 -march=native -fopenmp -Iinclude -Isrc -I/usr/include/x86_64-linux-gnu/openblas-pthread src/core/*.c src/backend/ref/*.c src/backend/cpu/*.c bench/ops_bench.c -ldnnl -lopenblas -lm -o ops_bench
// ./ops_bench [threads] [batch] [repeats]
//
// Convolutions report GFLOP/s four ways: the cpu backend (NHWC activations,
// BN folded, SiLU post-op), and bare oneDNN primitives (same post-op) on
// NHWC, on nChw16c, and on the layout oneDNN picks itself (format_tag_any).
// Times are the best of several runs; on a shared machine run it when idle,
// or with repeats > 1 (each timing then samples repeats times longer).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include "backend/backend.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static void fill(float *x, size_t n, float lo, float hi) {
    uint64_t s = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        x[i] = lo + (hi - lo) * (float)((s >> 40) & 0xffffff) / 16777216.0f;
    }
}

static float *alloc_fill(size_t n, float lo, float hi) {
    float *x = aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64);
    fill(x, n, lo, hi);
    return x;
}

#define CK(call)                                                        \
    do {                                                                \
        dnnl_status_t st_ = (call);                                     \
        if (st_ != dnnl_success) {                                      \
            fprintf(stderr, "%s:%d: %s failed (%d)\n", __FILE__, __LINE__, #call, st_); \
            exit(1);                                                    \
        }                                                               \
    } while (0)

/* best time of runs of fn(arg) after 3 warm-ups, sampling ~0.2 s * repeats */
typedef void (*bench_fn)(void *);
static double g_seconds = 0.2;
static double best_time(bench_fn fn, void *arg) {
    for (int i = 0; i < 3; i++) fn(arg);
    double best = 1e30, t_all = now();
    for (int i = 0; i < 100000 && (i < 5 || now() - t_all < g_seconds); i++) {
        double t0 = now();
        fn(arg);
        double t = now() - t0;
        if (t < best) best = t;
    }
    return best;
}

typedef struct {
    int n, c, h, o, k, s, g;
    const char *what;
} conv_shape;

/* ---- the cpu backend's conv ---- */
typedef struct {
    cy_backend *b;
    cy_slot slot;
    cy_tensor in, out;
    cy_conv_params p;
} be_conv;

static void run_be_conv(void *a) {
    be_conv *c = a;
    cy_error err;
    if (c->b->conv2d(c->b, &c->slot, &c->in, &c->out, &c->p, &err) != CY_OK) {
        fprintf(stderr, "conv2d: %s\n", err.msg);
        exit(1);
    }
}

/* ---- a bare oneDNN conv with a chosen activation layout ---- */
typedef struct {
    dnnl_primitive_t prim;
    dnnl_stream_t stream;
    dnnl_memory_t src, wei, bias, dst;
} raw_conv;

static void run_raw_conv(void *a) {
    raw_conv *r = a;
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, r->src}, {DNNL_ARG_WEIGHTS, r->wei},
                               {DNNL_ARG_BIAS, r->bias}, {DNNL_ARG_DST, r->dst}};
    CK(dnnl_primitive_execute(r->prim, r->stream, 4, args));
    CK(dnnl_stream_wait(r->stream));
}

static void md_name(const dnnl_memory_desc_t *md, char *buf, size_t len) {
    /* "nhwc", "nchw" or "nChw16c"-like, enough to tell the layouts apart */
    const dnnl_blocking_desc_t *bd = &md->format_desc.blocking;
    if (md->format_kind != dnnl_blocked) {
        snprintf(buf, len, "?");
        return;
    }
    int inner = bd->inner_nblks ? (int)bd->inner_blks[0] : 0;
    if (inner) snprintf(buf, len, "nChw%dc", inner);
    else snprintf(buf, len, bd->strides[1] == 1 ? "nhwc" : "nchw");
}

static double raw_conv_time(dnnl_engine_t eng, dnnl_stream_t strm, const conv_shape *cs,
                            dnnl_format_tag_t act_tag, char *impl, size_t impl_len,
                            char *fmt, size_t fmt_len) {
    const int oh = (cs->h + 2 * (cs->k / 2) - cs->k) / cs->s + 1;
    dnnl_dims_t sd = {cs->n, cs->c, cs->h, cs->h}, dd = {cs->n, cs->o, oh, oh};
    dnnl_dims_t wd5 = {cs->g, cs->o / cs->g, cs->c / cs->g, cs->k, cs->k};
    dnnl_dims_t wd4 = {cs->o, cs->c, cs->k, cs->k}, bd = {cs->o};
    dnnl_dims_t st = {cs->s, cs->s}, pl = {cs->k / 2, cs->k / 2};
    dnnl_dims_t pr = {(oh - 1) * cs->s + cs->k - cs->h - cs->k / 2,
                      (oh - 1) * cs->s + cs->k - cs->h - cs->k / 2};
    dnnl_memory_desc_t smd, dmd, wmd, bmd;
    CK(dnnl_memory_desc_init_by_tag(&smd, 4, sd, dnnl_f32, act_tag));
    CK(dnnl_memory_desc_init_by_tag(&dmd, 4, dd, dnnl_f32, act_tag));
    if (cs->g > 1)
        CK(dnnl_memory_desc_init_by_tag(&wmd, 5, wd5, dnnl_f32, dnnl_format_tag_any));
    else
        CK(dnnl_memory_desc_init_by_tag(&wmd, 4, wd4, dnnl_f32, dnnl_format_tag_any));
    CK(dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_a));
    dnnl_convolution_desc_t cd;
    CK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference,
                                          dnnl_convolution_direct, &smd, &wmd, &bmd, &dmd,
                                          st, pl, pr));
    dnnl_primitive_attr_t attr;
    dnnl_post_ops_t po;
    CK(dnnl_primitive_attr_create(&attr));
    CK(dnnl_post_ops_create(&po));
    CK(dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_swish, 1.0f, 0.0f));
    CK(dnnl_primitive_attr_set_post_ops(attr, po));
    dnnl_primitive_desc_t pd;
    CK(dnnl_primitive_desc_create(&pd, &cd, attr, eng, NULL));
    const char *name = NULL;
    CK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name));
    snprintf(impl, impl_len, "%s", name);
    raw_conv r = {.stream = strm};
    CK(dnnl_primitive_create(&r.prim, pd));
    const dnnl_memory_desc_t *q;
    q = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    char a[16], b[16];
    md_name(q, a, sizeof a);
    CK(dnnl_memory_create(&r.src, q, eng, DNNL_MEMORY_ALLOCATE));
    q = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    md_name(q, b, sizeof b);
    snprintf(fmt, fmt_len, "%s>%s", a, b);
    CK(dnnl_memory_create(&r.dst, q, eng, DNNL_MEMORY_ALLOCATE));
    q = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    CK(dnnl_memory_create(&r.wei, q, eng, DNNL_MEMORY_ALLOCATE));
    CK(dnnl_memory_create(&r.bias, &bmd, eng, DNNL_MEMORY_ALLOCATE));
    void *h;
    CK(dnnl_memory_get_data_handle(r.src, &h));
    fill(h, dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0)) / 4, -1, 1);
    CK(dnnl_memory_get_data_handle(r.wei, &h));
    fill(h, dnnl_memory_desc_get_size(q) / 4, -0.1f, 0.1f);
    CK(dnnl_memory_get_data_handle(r.bias, &h));
    fill(h, cs->o, -0.1f, 0.1f);
    double t = best_time(run_raw_conv, &r);
    dnnl_primitive_destroy(r.prim);
    dnnl_memory_destroy(r.src), dnnl_memory_destroy(r.dst);
    dnnl_memory_destroy(r.wei), dnnl_memory_destroy(r.bias);
    dnnl_primitive_desc_destroy(pd);
    dnnl_post_ops_destroy(po);
    dnnl_primitive_attr_destroy(attr);
    return t;
}

static void bench_convs(cy_backend *cpu, dnnl_engine_t eng, dnnl_stream_t strm, int batch) {
    static const conv_shape shapes[] = {
        {1, 3, 640, 16, 3, 2, 1, "stem 3->16 k3s2 @640"},
        {1, 16, 320, 32, 3, 2, 1, "16->32 k3s2 @320"},
        {1, 32, 160, 32, 1, 1, 1, "32->32 1x1 @160"},
        {1, 16, 160, 8, 3, 1, 1, "16->8 k3 @160"},
        {1, 8, 160, 16, 3, 1, 1, "8->16 k3 @160"},
        {1, 32, 160, 32, 3, 1, 1, "32->32 k3 @160"},
        {1, 64, 160, 64, 3, 2, 1, "64->64 k3s2 @160"},
        {1, 64, 80, 64, 3, 1, 1, "64->64 k3 @80"},
        {1, 128, 40, 128, 1, 1, 1, "128->128 1x1 @40"},
        {1, 128, 40, 128, 3, 1, 1, "128->128 k3 @40"},
        {1, 256, 20, 256, 1, 1, 1, "256->256 1x1 @20"},
        {1, 64, 80, 64, 3, 1, 64, "dw 64 k3 @80"},
        {1, 128, 40, 128, 3, 1, 128, "dw 128 k3 @40"},
    };
    printf("\nconv2d, batch %d, fp32, GFLOP/s (ms)\n", batch);
    printf("%-22s %15s %15s %15s %15s  %-17s %s\n", "shape", "backend nhwc", "raw nhwc",
           "raw nChw16c", "raw any", "any picks", "impl nhwc | nChw16c | any");
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        conv_shape cs = shapes[i];
        cs.n = batch;
        const int oh = (cs.h + 2 * (cs.k / 2) - cs.k) / cs.s + 1;
        const double flops = 2.0 * cs.n * cs.o * oh * oh * (cs.c / cs.g) * cs.k * cs.k;
        cy_shape is = {cs.n, cs.c, cs.h, cs.h};
        be_conv bc = {.b = cpu};
        bc.p = (cy_conv_params){.kh = cs.k, .kw = cs.k, .sh = cs.s, .sw = cs.s,
                                .ph = cs.k / 2, .pw = cs.k / 2, .dh = 1, .dw = 1,
                                .groups = cs.g};
        size_t nw = (size_t)cs.o * (cs.c / cs.g) * cs.k * cs.k;
        float *w = alloc_fill(nw, -0.1f, 0.1f), *bn = alloc_fill(4 * cs.o, 0.5f, 1.5f);
        bc.p.weight = w;
        bc.p.bn_gamma = bn, bc.p.bn_beta = bn + cs.o, bc.p.bn_mean = bn + 2 * cs.o;
        bc.p.bn_var = bn + 3 * cs.o, bc.p.bn_eps = 1e-3f;
        bc.p.act = CY_ACT_SILU;
        bc.p.weights_version = 1;
        bc.in = (cy_tensor){alloc_fill(cy_shape_numel(is), -1, 1), is};
        bc.out.s = cy_conv_out_shape(is, cs.o, &bc.p);
        bc.out.data = alloc_fill(cy_shape_numel(bc.out.s), 0, 0);
        double t0 = best_time(run_be_conv, &bc);
        char impl0[64] = "", impl1[64], impl2[64], f1[40], f2[40];
        double t3 = raw_conv_time(eng, strm, &cs, dnnl_nhwc, impl0, sizeof impl0, f1,
                                  sizeof f1);
        double t1 = raw_conv_time(eng, strm, &cs, dnnl_nChw16c, impl1, sizeof impl1, f1,
                                  sizeof f1);
        double t2 = raw_conv_time(eng, strm, &cs, dnnl_format_tag_any, impl2, sizeof impl2,
                                  f2, sizeof f2);
        printf("%-22s %6.1f (%6.3f) %6.1f (%6.3f) %6.1f (%6.3f) %6.1f (%6.3f)  %-17s "
               "%s | %s | %s\n", cs.what, flops / t0 * 1e-9, t0 * 1e3, flops / t3 * 1e-9,
               t3 * 1e3, flops / t1 * 1e-9, t1 * 1e3, flops / t2 * 1e-9, t2 * 1e3, f2, impl0,
               impl1, impl2);
        cpu->slot_free(cpu, bc.slot);
        free(w), free(bn), free(bc.in.data), free(bc.out.data);
    }
}

/* ---- memory-bound ops through the backend ---- */
typedef struct {
    cy_backend *b;
    int op, arg;
    cy_slot slot;
    cy_tensor x, y, z;
    const cy_tensor *list[2];
    cy_bn_params bn;
} be_misc;

static void run_misc(void *a) {
    be_misc *m = a;
    cy_error err;
    cy_status s = CY_OK;
    switch (m->op) {
    case 0: s = m->b->activation(m->b, &m->x, &m->y, CY_ACT_SILU, &err); break;
    case 1: s = m->b->add(m->b, &m->x, &m->z, &m->y, &err); break;
    case 2: s = m->b->maxpool2d(m->b, &m->slot, &m->x, &m->y, 5, 1, 2, &err); break;
    case 3: s = m->b->upsample_nearest(m->b, &m->x, &m->y, 2, &err); break;
    case 4: s = m->b->concat(m->b, m->list, 2, &m->y, &err); break;
    case 5: s = m->b->slice_channels(m->b, &m->x, &m->y, 1, 0, m->x.s.c / 2, m->x.s.c / 2, &err); break;
    case 6: s = m->b->batchnorm(m->b, &m->slot, &m->x, &m->y, &m->bn, &err); break;
    case 7: s = m->b->attention(m->b, &m->x, &m->y, m->arg, 32, 64, 0.17677f, &err); break;
    case 8: s = m->b->maxpool2d(m->b, &m->slot, &m->x, &m->y, m->arg, m->z.s.c, m->z.s.h, &err); break;
    }
    if (s != CY_OK) {
        fprintf(stderr, "op %d: %s\n", m->op, err.msg);
        exit(1);
    }
}

static void bench_misc(cy_backend *cpu, int batch) {
    printf("\nother ops, batch %d (GB/s counts bytes read + written once)\n", batch);
    const int N = batch;
    struct { const char *name; int op; cy_shape x, y; int arg; } ops[] = {
        {"silu 32x160x160", 0, {N, 32, 160, 160}, {N, 32, 160, 160}, 0},
        {"add 64x80x80", 1, {N, 64, 80, 80}, {N, 64, 80, 80}, 0},
        {"maxpool k5 128x20x20", 2, {N, 128, 20, 20}, {N, 128, 20, 20}, 0},
        {"upsample x2 128x20x20", 3, {N, 128, 20, 20}, {N, 128, 40, 40}, 0},
        {"concat 2x64x80x80", 4, {N, 64, 80, 80}, {N, 128, 80, 80}, 0},
        {"split half 64x80x80", 5, {N, 64, 80, 80}, {N, 32, 80, 80}, 0},
        {"bn eval 64x80x80", 6, {N, 64, 80, 80}, {N, 64, 80, 80}, 0},
        {"bn train 64x80x80", 6, {N, 64, 80, 80}, {N, 64, 80, 80}, 1},
        {"attention 2h 20x20", 7, {N, 256, 20, 20}, {N, 128, 20, 20}, 2},
        {"attention 4h 20x20", 7, {N, 512, 20, 20}, {N, 256, 20, 20}, 4},
        {"attention 2h 40x40", 7, {N, 256, 40, 40}, {N, 128, 40, 40}, 2},
    };
    float *prm = alloc_fill(4 * 512, 0.5f, 1.5f);
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
        be_misc m = {.b = cpu, .op = ops[i].op, .arg = ops[i].arg};
        m.x = (cy_tensor){alloc_fill(cy_shape_numel(ops[i].x), -3, 3), ops[i].x};
        m.z = (cy_tensor){alloc_fill(cy_shape_numel(ops[i].x), -3, 3), ops[i].x};
        m.y = (cy_tensor){alloc_fill(cy_shape_numel(ops[i].y), 0, 0), ops[i].y};
        m.list[0] = &m.x, m.list[1] = &m.z;
        m.bn = (cy_bn_params){prm, prm + 512, prm + 1024, prm + 1536, 1e-3f, 0.03f,
                              ops[i].arg, NULL, NULL};
        double t = best_time(run_misc, &m);
        double bytes = 4.0 * (cy_shape_numel(ops[i].x) * (ops[i].op == 1 || ops[i].op == 4 ? 2 : 1) +
                              cy_shape_numel(ops[i].y));
        if (ops[i].op == 7) {
            const double L = ops[i].x.h * ops[i].x.w;
            const double fl = 2.0 * N * ops[i].arg * L * L * (32 + 64);
            printf("%-24s %8.3f ms  %7.1f GFLOP/s\n", ops[i].name, t * 1e3, fl / t * 1e-9);
        } else {
            printf("%-24s %8.3f ms  %7.1f GB/s\n", ops[i].name, t * 1e3, bytes / t * 1e-9);
        }
        cpu->slot_free(cpu, m.slot);
        free(m.x.data), free(m.y.data), free(m.z.data);
    }
    free(prm);
}

/* ---- max-pool: the backend vs bare oneDNN pooling on either layout ---- */
typedef struct {
    dnnl_primitive_t prim;
    dnnl_stream_t stream;
    dnnl_memory_t src, dst;
} raw_pool;

static void run_raw_pool(void *a) {
    raw_pool *r = a;
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, r->src}, {DNNL_ARG_DST, r->dst}};
    CK(dnnl_primitive_execute(r->prim, r->stream, 2, args));
    CK(dnnl_stream_wait(r->stream));
}

static double raw_pool_time(dnnl_engine_t eng, dnnl_stream_t strm, cy_shape x, int k,
                            int s, int p, dnnl_format_tag_t tag) {
    const int oh = (x.h + 2 * p - k) / s + 1, ow = (x.w + 2 * p - k) / s + 1;
    dnnl_dims_t sd = {x.n, x.c, x.h, x.w}, dd = {x.n, x.c, oh, ow};
    dnnl_dims_t st = {s, s}, ker = {k, k}, dil = {0, 0}, pl = {p, p};
    dnnl_dims_t pr = {(oh - 1) * s + k - x.h - p, (ow - 1) * s + k - x.w - p};
    dnnl_memory_desc_t smd, dmd;
    CK(dnnl_memory_desc_init_by_tag(&smd, 4, sd, dnnl_f32, tag));
    CK(dnnl_memory_desc_init_by_tag(&dmd, 4, dd, dnnl_f32, tag));
    dnnl_pooling_v2_desc_t pd_;
    CK(dnnl_pooling_v2_forward_desc_init(&pd_, dnnl_forward_inference, dnnl_pooling_max,
                                         &smd, &dmd, st, ker, dil, pl, pr));
    dnnl_primitive_desc_t pd;
    CK(dnnl_primitive_desc_create(&pd, &pd_, NULL, eng, NULL));
    raw_pool r = {.stream = strm};
    CK(dnnl_primitive_create(&r.prim, pd));
    CK(dnnl_memory_create(&r.src, &smd, eng, DNNL_MEMORY_ALLOCATE));
    CK(dnnl_memory_create(&r.dst, &dmd, eng, DNNL_MEMORY_ALLOCATE));
    void *h;
    CK(dnnl_memory_get_data_handle(r.src, &h));
    fill(h, cy_shape_numel(x), -1, 1);
    double t = best_time(run_raw_pool, &r);
    dnnl_primitive_destroy(r.prim);
    dnnl_memory_destroy(r.src), dnnl_memory_destroy(r.dst);
    dnnl_primitive_desc_destroy(pd);
    return t;
}

static void bench_pool(cy_backend *cpu, dnnl_engine_t eng, dnnl_stream_t strm, int batch) {
    printf("\nmaxpool, batch %d (ms)\n", batch);
    struct { cy_shape x; int k, s, p; } cases[] = {
        {{batch, 128, 20, 20}, 5, 1, 2}, {{batch, 256, 20, 20}, 5, 1, 2},
        {{batch, 64, 80, 80}, 3, 2, 1}, {{batch, 32, 160, 160}, 2, 2, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cy_shape x = cases[i].x;
        const int k = cases[i].k, s = cases[i].s, p = cases[i].p;
        cy_shape y = {x.n, x.c, (x.h + 2 * p - k) / s + 1, (x.w + 2 * p - k) / s + 1};
        be_misc m = {.b = cpu, .op = 8, .arg = k};
        m.x = (cy_tensor){alloc_fill(cy_shape_numel(x), -1, 1), x};
        m.y = (cy_tensor){alloc_fill(cy_shape_numel(y), 0, 0), y};
        m.z.s.c = s, m.z.s.h = p;
        double t0 = best_time(run_misc, &m);
        double t1 = raw_pool_time(eng, strm, x, k, s, p, dnnl_nhwc);
        double t2 = raw_pool_time(eng, strm, x, k, s, p, dnnl_nChw16c);
        cpu->slot_free(cpu, m.slot);
        printf("k%d s%d p%d %4dx%3dx%3d   backend %7.3f   oneDNN nhwc %7.3f   oneDNN nChw16c %7.3f\n",
               k, s, p, x.c, x.h, x.w, t0 * 1e3, t1 * 1e3, t2 * 1e3);
        free(m.x.data), free(m.y.data);
    }
}

/* ---- attention's two GEMMs: oneDNN sgemm vs OpenBLAS, head-parallel or not */
typedef struct {
    int lib, L, kd, hd, pairs, ld;
    float *qkv, *S, *out;
} gemm_case;

static void run_gemms(void *a) {
    gemm_case *g = a;
    for (int p = 0; p < g->pairs; p++) {
        const float *q = g->qkv + (size_t)p * (2 * g->kd + g->hd);
        if (g->lib == 0) {
            dnnl_sgemm('N', 'T', g->L, g->L, g->kd, 0.17f, q, g->ld, q + g->kd, g->ld, 0, g->S, g->L);
            dnnl_sgemm('N', 'N', g->L, g->hd, g->L, 1, g->S, g->L, q + 2 * g->kd, g->ld, 0,
                       g->out + p * g->hd, g->pairs * g->hd);
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->L, g->L, g->kd, 0.17f, q,
                        g->ld, q + g->kd, g->ld, 0, g->S, g->L);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->L, g->hd, g->L, 1, g->S,
                        g->L, q + 2 * g->kd, g->ld, 0, g->out + p * g->hd, g->pairs * g->hd);
        }
    }
}

static void bench_gemm(void) {
    printf("\nattention GEMMs only (kd 32, hd 64), one head after another, GFLOP/s\n");
    int Ls[] = {400, 1600};
    for (int i = 0; i < 2; i++) {
        gemm_case g = {.L = Ls[i], .kd = 32, .hd = 64, .pairs = 4, .ld = 4 * 128};
        g.qkv = alloc_fill((size_t)g.L * g.ld, -1, 1);
        g.S = alloc_fill((size_t)g.L * g.L, 0, 0);
        g.out = alloc_fill((size_t)g.L * g.pairs * g.hd, 0, 0);
        double fl = 2.0 * g.pairs * g.L * g.L * (g.kd + g.hd);
        double t0 = best_time(run_gemms, &g);
        g.lib = 1;
        double t1 = best_time(run_gemms, &g);
        printf("L=%-5d dnnl_sgemm %7.1f   cblas_sgemm (openblas) %7.1f\n", g.L, fl / t0 * 1e-9,
               fl / t1 * 1e-9);
        free(g.qkv), free(g.S), free(g.out);
    }
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 0;
    int batch = argc > 2 ? atoi(argv[2]) : 1;
    if (argc > 3) g_seconds *= atoi(argv[3]);
    cy_error err;
    cy_backend *cpu;
    if (cy_backend_cpu_create(&cpu, threads, &err) != CY_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    if (threads <= 0) threads = omp_get_num_procs();
    omp_set_num_threads(threads);
    openblas_set_num_threads(threads);
    const dnnl_version_t *v = dnnl_version();
    printf("oneDNN %d.%d.%d, %d threads\n", v->major, v->minor, v->patch, threads);
    dnnl_engine_t eng;
    dnnl_stream_t strm;
    CK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    CK(dnnl_stream_create(&strm, eng, dnnl_stream_default_flags));
    bench_convs(cpu, eng, strm, batch);
    bench_misc(cpu, batch);
    bench_pool(cpu, eng, strm, batch);
    bench_gemm();
    dnnl_stream_destroy(strm);
    dnnl_engine_destroy(eng);
    cy_backend_destroy(cpu);
    return 0;
}
