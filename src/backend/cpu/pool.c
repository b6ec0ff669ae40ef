/* cpu max pooling: oneDNN pooling on NHWC (3-4x faster than a plain loop
 * over channel rows at YOLO shapes). Floor mode: the right padding is what
 * makes oneDNN's output size ours, possibly negative. Padding never wins. */
#include <stdlib.h>
#include <string.h>
#include "backend/cpu/cpu.h"
#include "backend/ref/check.h"

typedef struct {
    cpu_slot_hdr hdr;
    int built;
    cy_shape in;
    int k, stride, pad;
    dnnl_primitive_t prim;
    dnnl_memory_t src, dst;
} pool_slot;

static void pool_slot_release(pool_slot *s) {
    if (s->prim) dnnl_primitive_destroy(s->prim);
    if (s->src) dnnl_memory_destroy(s->src);
    if (s->dst) dnnl_memory_destroy(s->dst);
    cpu_slot_hdr h = s->hdr;
    memset(s, 0, sizeof *s);
    s->hdr = h;
}

static void pool_slot_free(cpu_slot_hdr *h) {
    pool_slot_release((pool_slot *)h);
    free(h);
}

static cy_status pool_build(cpu_impl *c, pool_slot *s, const cy_tensor *in,
                            const cy_tensor *out, int k, int stride, int pad,
                            cy_error *err) {
    cy_status rc = CY_OK;
    dnnl_primitive_desc_t pd = NULL;
    pool_slot_release(s);
    dnnl_dims_t sd = {in->s.n, in->s.c, in->s.h, in->s.w};
    dnnl_dims_t dd = {out->s.n, out->s.c, out->s.h, out->s.w};
    dnnl_dims_t st = {stride, stride}, ker = {k, k}, dil = {0, 0}, pl = {pad, pad};
    dnnl_dims_t pr = {(dnnl_dim_t)(out->s.h - 1) * stride + k - in->s.h - pad,
                      (dnnl_dim_t)(out->s.w - 1) * stride + k - in->s.w - pad};
    dnnl_memory_desc_t smd, dmd;
    DNNL_GO("maxpool2d", dnnl_memory_desc_init_by_tag(&smd, 4, sd, dnnl_f32, dnnl_nhwc));
    DNNL_GO("maxpool2d", dnnl_memory_desc_init_by_tag(&dmd, 4, dd, dnnl_f32, dnnl_nhwc));
    dnnl_pooling_v2_desc_t desc;
    DNNL_GO("maxpool2d", dnnl_pooling_v2_forward_desc_init(&desc, dnnl_forward_inference,
                                                           dnnl_pooling_max, &smd, &dmd,
                                                           st, ker, dil, pl, pr));
    DNNL_GO("maxpool2d", dnnl_primitive_desc_create(&pd, &desc, NULL, c->engine, NULL));
    DNNL_GO("maxpool2d", dnnl_primitive_create(&s->prim, pd));
    DNNL_GO("maxpool2d", dnnl_memory_create(&s->src, &smd, c->engine, DNNL_MEMORY_NONE));
    DNNL_GO("maxpool2d", dnnl_memory_create(&s->dst, &dmd, c->engine, DNNL_MEMORY_NONE));
    s->built = 1;
    s->in = in->s;
    s->k = k, s->stride = stride, s->pad = pad;
fail:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (rc != CY_OK) pool_slot_release(s);
    return rc;
}

cy_status cpu_maxpool2d(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                        cy_tensor *out, int k, int stride, int pad, cy_error *err) {
    cy_status rc = CY_OK;
    cpu_impl *c = cpu_of(b);
    CY_TRY(cy_check_maxpool(in, out, k, stride, pad, err));
    if (!slot) return cy_fail(err, CY_ERR_ARG, "maxpool2d: no slot");
    cpu_use_threads(c);
    pool_slot *s = *slot;
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return cy_fail(err, CY_ERR_MEMORY, "maxpool2d: out of memory");
        s->hdr.free = pool_slot_free;
        *slot = s;
    }
    if (!s->built || memcmp(&s->in, &in->s, sizeof s->in) || s->k != k ||
        s->stride != stride || s->pad != pad)
        CY_TRY(pool_build(c, s, in, out, k, stride, pad, err));
    DNNL_GO("maxpool2d", dnnl_memory_set_data_handle(s->src, in->data));
    DNNL_GO("maxpool2d", dnnl_memory_set_data_handle(s->dst, out->data));
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, s->src}, {DNNL_ARG_DST, s->dst}};
    DNNL_GO("maxpool2d", dnnl_primitive_execute(s->prim, c->stream, 2, args));
    DNNL_GO("maxpool2d", dnnl_stream_wait(c->stream));
fail:
    return rc;
}

/* Max pooling backward on NHWC, an OpenMP loop (oneDNN's needs the forward
 * run in training mode for its workspace). Tasks are (image, channel range)
 * pairs, so no two touch the same din; a range is all channels unless there
 * are fewer images than threads: whole contiguous pixel rows, as blocks of
 * a few channels strided by C thrash L1's sets (3x slower). Per output
 * pixel, each channel's argmax is found as the reference finds it: the
 * first real position, then moved by a strictly larger value or a NaN
 * (PyTorch's choice); then its gradient is added there. */
cy_status cpu_maxpool2d_backward(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                                 const cy_tensor *dout, cy_tensor *din, int k,
                                 int stride, int pad, cy_error *err) {
    const cpu_impl *c = cpu_of(b);
    CY_TRY(cy_check_maxpool_backward(in, dout, din, k, stride, pad, err));
    if (!din) return CY_OK;
    cpu_use_threads(c);
    const int C = in->s.c, H = in->s.h, W = in->s.w, OH = dout->s.h, OW = dout->s.w;
    const int team = (long)OH * OW * C * k * k * in->s.n > 65536 ? c->threads : 1;
    /* channel ranges per image: enough tasks for the team, 16-channel steps */
    int parts = in->s.n >= team ? 1 : (team + in->s.n - 1) / in->s.n;
    int cw = (C + parts - 1) / parts;
    cw = (cw + 15) / 16 * 16;
    parts = (C + cw - 1) / cw;
    const long tasks = (long)in->s.n * parts;
    char *mem = malloc((size_t)team * cw * (sizeof(float) + sizeof(int)));
    if (!mem) return cy_fail(err, CY_ERR_MEMORY, "maxpool2d_backward: out of memory");
#pragma omp parallel for num_threads(team) schedule(dynamic) if (team > 1)
    for (long t = 0; t < tasks; t++) {
        const int n = (int)(t / parts), c0 = (int)(t % parts) * cw;
        const int cn = C - c0 < cw ? C - c0 : cw;
        const float *x = in->data + (size_t)n * H * W * C + c0;
        const float *dy = dout->data + (size_t)n * OH * OW * C + c0;
        float *dx = din->data + (size_t)n * H * W * C + c0;
        float *best = (float *)(mem + (size_t)omp_get_thread_num() * cw *
                                          (sizeof(float) + sizeof(int)));
        int *at = (int *)(best + cw);
        for (int oy = 0; oy < OH; oy++) {
            const int iy0 = oy * stride - pad;
            const int ky0 = iy0 < 0 ? -iy0 : 0, ky1 = H - iy0 < k ? H - iy0 : k;
            for (int ox = 0; ox < OW; ox++) {
                const int ix0 = ox * stride - pad;
                const int kx0 = ix0 < 0 ? -ix0 : 0, kx1 = W - ix0 < k ? W - ix0 : k;
                const int first = (iy0 + ky0) * W + ix0 + kx0;
                const float *x0 = x + (size_t)first * C;
#pragma omp simd
                for (int j = 0; j < cn; j++) best[j] = x0[j], at[j] = first;
                for (int ky = ky0; ky < ky1; ky++)
                    for (int kx = ky == ky0 ? kx0 + 1 : kx0; kx < kx1; kx++) {
                        const int pos = (iy0 + ky) * W + ix0 + kx;
                        const float *xr = x + (size_t)pos * C;
#pragma omp simd
                        for (int j = 0; j < cn; j++) {
                            const float v = xr[j];
                            const int up = v > best[j] || v != v;
                            best[j] = up ? v : best[j];
                            at[j] = up ? pos : at[j];
                        }
                    }
                const float *g = dy + ((size_t)oy * OW + ox) * C;
                for (int j = 0; j < cn; j++) dx[(size_t)at[j] * C + j] += g[j];
            }
        }
    }
    free(mem);
    return CY_OK;
}
