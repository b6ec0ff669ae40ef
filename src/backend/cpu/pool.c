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
