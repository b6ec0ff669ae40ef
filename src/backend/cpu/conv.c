/* cpu conv2d: oneDNN direct convolution, NHWC activations, weights in the
 * layout oneDNN picks (format_tag_any). Eval BatchNorm is folded into the
 * weights and bias (in double, rounded once), the activation is a post-op.
 * The slot caches the primitive for one input shape and the transformed
 * weights for one weights_version (0 = never cache: reload every call).
 * Backward (same slot): oneDNN backward-data and backward-weights
 * primitives, created with a forward-training descriptor as their hint and
 * cached per shape beside the forward's; 1x1 stride-1 ungrouped convs are
 * two sgemm calls instead.
 * Reduced precision (inference only, backend.h cy_precision): bf16 or s8
 * source and weights, f32 output; the input is rounded / quantized into
 * the backend's scratch on each call, the weights once per version (int8:
 * with the output scales, which make the primitive, so new weights rebuild
 * it). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "backend/conv_lowp.h"
#include "backend/cpu/cpu.h"
#include "backend/ref/check.h"

/* A convolution's shape: what a primitive is built for (all ints, compared
 * with memcmp, always made by conv_geom_of) */
typedef struct {
    cy_shape in;
    int cout, kh, kw, sh, sw, ph, pw, dh, dw, groups;
    int prec;       /* cy_precision of the input and weights */
    float in_scale; /* INT8: the input's quantization step (0 otherwise) */
} conv_geom;

static conv_geom conv_geom_of(const cy_tensor *in, int cout, const cy_conv_params *p) {
    conv_geom g;
    memset(&g, 0, sizeof g);
    g.in = in->s;
    g.cout = cout;
    g.kh = p->kh, g.kw = p->kw, g.sh = p->sh, g.sw = p->sw;
    g.ph = p->ph, g.pw = p->pw, g.dh = p->dh, g.dw = p->dw;
    g.groups = p->groups;
    g.prec = p->precision;
    g.in_scale = p->precision == CY_PREC_INT8 ? p->in_scale : 0.0f;
    return g;
}

/* The backward's primitives. The data part is built on the first call that
 * wants din, the weights part on the first that wants dweight. */
typedef struct {
    int built;
    conv_geom geom;
    dnnl_primitive_desc_t hint; /* forward training, weights format_tag_any */
    /* din: diff_src computed into the backend's scratch, then added */
    dnnl_primitive_t data;
    dnnl_memory_t dsrc, ddst, wei; /* wei: own copy when the forward's can't serve */
    int wvalid;
    uint64_t wver;
    const float *wkey;
    /* dweight, dbias: computed in oneDNN's layout, then added into the user's
     * OIHW by a reorder with a sum post-op */
    dnnl_primitive_t weights, acc;
    dnnl_memory_t src, wddst, dwei, dbias, user;
} conv_bwd;

typedef struct {
    cpu_slot_hdr hdr;
    /* what the forward primitive was built for */
    int built;
    conv_geom geom;
    int has_bias;
    cy_act act;
    dnnl_primitive_t prim;
    dnnl_memory_t src, dst, wei, bias;
    float *bias_data;
    /* which parameters the weights in `wei` and `bias_data` came from */
    int wvalid;
    uint64_t wver;
    const float *wkey[6];
    conv_bwd bwd;
} conv_slot;

static void destroy_prim(dnnl_primitive_t *p) {
    if (*p) dnnl_primitive_destroy(*p);
    *p = NULL;
}
static void destroy_mem(dnnl_memory_t *m) {
    if (*m) dnnl_memory_destroy(*m);
    *m = NULL;
}

/* the forward part only */
static void conv_slot_release(conv_slot *s) {
    destroy_prim(&s->prim);
    destroy_mem(&s->src);
    destroy_mem(&s->dst);
    destroy_mem(&s->wei);
    destroy_mem(&s->bias);
    free(s->bias_data);
    cpu_slot_hdr h = s->hdr;
    conv_bwd bwd = s->bwd;
    memset(s, 0, sizeof *s);
    s->hdr = h;
    s->bwd = bwd;
}

static void conv_bwd_release(conv_bwd *w) {
    if (w->hint) dnnl_primitive_desc_destroy(w->hint);
    destroy_prim(&w->data);
    destroy_prim(&w->weights);
    destroy_prim(&w->acc);
    dnnl_memory_t *m[] = {&w->dsrc, &w->ddst, &w->wei, &w->src, &w->wddst,
                          &w->dwei, &w->dbias, &w->user};
    for (size_t i = 0; i < sizeof m / sizeof *m; i++) destroy_mem(m[i]);
    memset(w, 0, sizeof *w);
}

static void conv_slot_free(cpu_slot_hdr *h) {
    conv_slot_release((conv_slot *)h);
    conv_bwd_release(&((conv_slot *)h)->bwd);
    free(h);
}

/* int8 always has a bias: the folded one divided by the output scale */
static int conv_has_bias(const cy_conv_params *p) {
    return p->bias || p->bn_gamma || p->precision == CY_PREC_INT8;
}

static int conv_same_key(const conv_slot *s, const cy_tensor *in, const cy_tensor *out,
                         const cy_conv_params *p) {
    const conv_geom g = conv_geom_of(in, out->s.c, p);
    return s->built && !memcmp(&s->geom, &g, sizeof g) && s->act == p->act &&
           s->has_bias == conv_has_bias(p);
}

/* The memory descriptors every primitive of one geometry shares: NHWC
 * activations, weights as given (format_tag_any) or as PyTorch's (G)OIHW,
 * and oneDNN's padding for floor mode. Source and weights in bf16 for a
 * CY_PREC_BF16 geometry, s8 for INT8; output and bias always f32. */
typedef struct {
    dnnl_memory_desc_t src, dst, wei, bias;
    dnnl_dims_t strides, dil, pad_l, pad_r;
} conv_mds;

static dnnl_status_t conv_mds_init(conv_mds *m, const conv_geom *g,
                                   dnnl_format_tag_t wtag) {
    const int G = g->groups, O = g->cout, C = g->in.c;
    dnnl_dims_t sd = {g->in.n, C, g->in.h, g->in.w};
    const int oh = (g->in.h + 2 * g->ph - g->dh * (g->kh - 1) - 1) / g->sh + 1;
    const int ow = (g->in.w + 2 * g->pw - g->dw * (g->kw - 1) - 1) / g->sw + 1;
    dnnl_dims_t dd = {g->in.n, O, oh, ow};
    dnnl_dims_t wd5 = {G, O / G, C / G, g->kh, g->kw}, wd4 = {O, C / G, g->kh, g->kw};
    dnnl_dims_t bd = {O};
    m->strides[0] = g->sh, m->strides[1] = g->sw;
    m->dil[0] = g->dh - 1, m->dil[1] = g->dw - 1;
    m->pad_l[0] = g->ph, m->pad_l[1] = g->pw;
    /* floor mode: the right padding that makes oneDNN's output size ours
     * (it may be below the left padding, or negative) */
    m->pad_r[0] = (dnnl_dim_t)(oh - 1) * g->sh + (dnnl_dim_t)(g->kh - 1) * g->dh + 1 -
                  g->in.h - g->ph;
    m->pad_r[1] = (dnnl_dim_t)(ow - 1) * g->sw + (dnnl_dim_t)(g->kw - 1) * g->dw + 1 -
                  g->in.w - g->pw;
    const dnnl_data_type_t mul = g->prec == CY_PREC_BF16   ? dnnl_bf16
                                 : g->prec == CY_PREC_INT8 ? dnnl_s8
                                                           : dnnl_f32;
    dnnl_status_t st = dnnl_memory_desc_init_by_tag(&m->src, 4, sd, mul, dnnl_nhwc);
    if (st == dnnl_success)
        st = dnnl_memory_desc_init_by_tag(&m->dst, 4, dd, dnnl_f32, dnnl_nhwc);
    if (st == dnnl_success) {
        if (wtag != dnnl_format_tag_any) wtag = G > 1 ? dnnl_goihw : dnnl_oihw;
        st = G > 1 ? dnnl_memory_desc_init_by_tag(&m->wei, 5, wd5, mul, wtag)
                   : dnnl_memory_desc_init_by_tag(&m->wei, 4, wd4, mul, wtag);
    }
    if (st == dnnl_success)
        st = dnnl_memory_desc_init_by_tag(&m->bias, 1, bd, dnnl_f32, dnnl_a);
    return st;
}

/* oscale: INT8's per-output-channel output scales (NULL otherwise) */
static cy_status conv_build(cpu_impl *c, conv_slot *s, const cy_tensor *in,
                            const cy_tensor *out, const cy_conv_params *p,
                            const float *oscale, cy_error *err) {
    cy_status rc = CY_OK;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_primitive_desc_t pd = NULL;
    const int O = out->s.c;
    const int has_bias = conv_has_bias(p);

    conv_slot_release(s);
    const conv_geom geom = conv_geom_of(in, O, p);
    conv_mds m;
    DNNL_GO("conv2d", conv_mds_init(&m, &geom, dnnl_format_tag_any));
    dnnl_convolution_desc_t cd;
    DNNL_GO("conv2d", dnnl_dilated_convolution_forward_desc_init(
                          &cd, dnnl_forward_inference, dnnl_convolution_direct, &m.src,
                          &m.wei, has_bias ? &m.bias : NULL, &m.dst, m.strides, m.dil,
                          m.pad_l, m.pad_r));
    DNNL_GO("conv2d", dnnl_primitive_attr_create(&attr));
    if (oscale) DNNL_GO("conv2d", dnnl_primitive_attr_set_output_scales(attr, O, 2, oscale));
    if (p->act != CY_ACT_NONE) {
        dnnl_alg_kind_t alg = p->act == CY_ACT_SILU   ? dnnl_eltwise_swish
                              : p->act == CY_ACT_RELU ? dnnl_eltwise_relu
                                                      : dnnl_eltwise_logistic;
        float alpha = p->act == CY_ACT_SILU ? 1.0f : 0.0f;
        DNNL_GO("conv2d", dnnl_post_ops_create(&po));
        DNNL_GO("conv2d", dnnl_post_ops_append_eltwise(po, 1.0f, alg, alpha, 0.0f));
        DNNL_GO("conv2d", dnnl_primitive_attr_set_post_ops(attr, po));
    }
    DNNL_GO("conv2d", dnnl_primitive_desc_create(&pd, &cd, attr, c->engine, NULL));
    DNNL_GO("conv2d", dnnl_primitive_create(&s->prim, pd));
    const dnnl_memory_desc_t *w_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    DNNL_GO("conv2d", dnnl_memory_create(&s->wei, w_md, c->engine, DNNL_MEMORY_ALLOCATE));
    DNNL_GO("conv2d", dnnl_memory_create(&s->src, &m.src, c->engine, DNNL_MEMORY_NONE));
    DNNL_GO("conv2d", dnnl_memory_create(&s->dst, &m.dst, c->engine, DNNL_MEMORY_NONE));
    if (has_bias) {
        s->bias_data = malloc((size_t)O * sizeof *s->bias_data);
        if (!s->bias_data) {
            rc = cy_fail(err, CY_ERR_MEMORY, "conv2d: out of memory");
            goto fail;
        }
        DNNL_GO("conv2d", dnnl_memory_create(&s->bias, &m.bias, c->engine, s->bias_data));
    }
    s->built = 1;
    s->geom = geom;
    s->act = p->act, s->has_bias = has_bias;
fail:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (po) dnnl_post_ops_destroy(po);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (rc != CY_OK) conv_slot_release(s);
    return rc;
}

/* PyTorch layout (G)OIHW weights w of type dt (floats, bfloat16 bits or
 * int8) reordered into `to`, a memory in a primitive's weight layout. */
static cy_status load_oihw(cpu_impl *c, const conv_geom *g, const void *w, dnnl_data_type_t dt,
                           dnnl_memory_t to, const char *op, cy_error *err) {
    cy_status rc = CY_OK;
    dnnl_memory_t user = NULL;
    dnnl_primitive_desc_t rpd = NULL;
    dnnl_primitive_t reorder = NULL;
    conv_mds m;
    const dnnl_memory_desc_t *wmd;
    DNNL_GO(op, conv_mds_init(&m, g, dnnl_oihw));
    m.wei.data_type = dt;
    DNNL_GO(op, dnnl_memory_create(&user, &m.wei, c->engine, (void *)w));
    DNNL_GO(op, dnnl_memory_get_memory_desc(to, &wmd));
    DNNL_GO(op, dnnl_reorder_primitive_desc_create(&rpd, &m.wei, c->engine, wmd,
                                                   c->engine, NULL));
    DNNL_GO(op, dnnl_primitive_create(&reorder, rpd));
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, to}};
    DNNL_GO(op, dnnl_primitive_execute(reorder, c->stream, 2, args));
    DNNL_GO(op, dnnl_stream_wait(c->stream));
fail:
    if (reorder) dnnl_primitive_destroy(reorder);
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    if (user) dnnl_memory_destroy(user);
    return rc;
}

/* PyTorch layout (OIHW) weights, BN folded when present, reordered into the
 * primitive's weight layout; bias (folded) into bias_data. */
static cy_status conv_load_weights(cpu_impl *c, conv_slot *s, const cy_conv_params *p,
                                   cy_error *err) {
    const conv_geom *g = &s->geom;
    const int O = g->cout;
    const size_t per_o = (size_t)(g->in.c / g->groups) * g->kh * g->kw;
    float *folded = NULL;
    const float *w = p->weight;

    s->wvalid = 0;
    if (p->bn_gamma) {
        folded = malloc((size_t)O * per_o * sizeof *folded);
        if (!folded) return cy_fail(err, CY_ERR_MEMORY, "conv2d: out of memory");
        cy_conv_fold_bn(p, O, per_o, folded, s->bias_data);
        w = folded;
    } else if (p->bias) {
        memcpy(s->bias_data, p->bias, (size_t)O * sizeof *s->bias_data);
    }
    cy_status rc;
    if (g->prec == CY_PREC_BF16) { /* rounded here, as the input is, so the reference rounds the same */
        uint16_t *h = malloc((size_t)O * per_o * sizeof *h);
        if (!h) {
            free(folded);
            return cy_fail(err, CY_ERR_MEMORY, "conv2d: out of memory");
        }
        cy_bf16_convert(w, h, (size_t)O * per_o);
        rc = load_oihw(c, g, h, dnnl_bf16, s->wei, "conv2d", err);
        free(h);
    } else {
        rc = load_oihw(c, g, w, dnnl_f32, s->wei, "conv2d", err);
    }
    free(folded);
    if (rc != CY_OK) return rc;
    s->wvalid = 1;
    s->wver = p->weights_version;
    const float *key[6] = {p->weight, p->bias, p->bn_gamma, p->bn_beta, p->bn_mean,
                           p->bn_var};
    memcpy(s->wkey, key, sizeof key);
    return CY_OK;
}

/* INT8: the output scales come from the weights, so new weights mean a new
 * primitive: quantize, build with their scales, load. */
static cy_status conv_build_s8(cpu_impl *c, conv_slot *s, const cy_tensor *in, const cy_tensor *out,
                               const cy_conv_params *p, cy_error *err) {
    const int O = out->s.c;
    const size_t per_o = (size_t)(in->s.c / p->groups) * p->kh * p->kw;
    int8_t *qw = malloc((size_t)O * per_o);
    float *scale = malloc(2 * (size_t)O * sizeof *scale);
    cy_status rc = CY_OK;
    if (!qw || !scale || cy_conv_quantize_s8(p, O, per_o, qw, scale, scale + O))
        rc = cy_fail(err, CY_ERR_MEMORY, "conv2d: out of memory");
    if (rc == CY_OK) rc = conv_build(c, s, in, out, p, scale, err);
    if (rc == CY_OK) rc = load_oihw(c, &s->geom, qw, dnnl_s8, s->wei, "conv2d", err);
    if (rc == CY_OK) {
        memcpy(s->bias_data, scale + O, (size_t)O * sizeof *s->bias_data);
        s->wvalid = 1;
        s->wver = p->weights_version;
        const float *key[6] = {p->weight, p->bias, p->bn_gamma, p->bn_beta, p->bn_mean, p->bn_var};
        memcpy(s->wkey, key, sizeof key);
    }
    free(qw);
    free(scale);
    return rc;
}

static int conv_weights_current(const conv_slot *s, const cy_conv_params *p) {
    const float *key[6] = {p->weight, p->bias, p->bn_gamma, p->bn_beta, p->bn_mean,
                           p->bn_var};
    return s->wvalid && p->weights_version != 0 && s->wver == p->weights_version &&
           !memcmp(s->wkey, key, sizeof key);
}

cy_status cpu_conv2d(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                     cy_tensor *out, const cy_conv_params *p, cy_error *err) {
    cy_status rc = CY_OK;
    cpu_impl *c = cpu_of(b);
    CY_TRY(cy_check_conv(in, out, p, err));
    if (!slot) return cy_fail(err, CY_ERR_ARG, "conv2d: no slot");
    cpu_use_threads(c);
    conv_slot *s = *slot;
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return cy_fail(err, CY_ERR_MEMORY, "conv2d: out of memory");
        s->hdr.free = conv_slot_free;
        *slot = s;
    }
    if (p->precision == CY_PREC_INT8) {
        if (!conv_same_key(s, in, out, p) || !conv_weights_current(s, p))
            CY_TRY(conv_build_s8(c, s, in, out, p, err));
    } else {
        if (!conv_same_key(s, in, out, p)) CY_TRY(conv_build(c, s, in, out, p, NULL, err));
        if (!conv_weights_current(s, p)) CY_TRY(conv_load_weights(c, s, p, err));
    }

    void *src = in->data;
    if (s->geom.prec == CY_PREC_BF16) { /* the input rounded to bfloat16, in the backend's scratch */
        const size_t n = cy_shape_numel(in->s);
        uint16_t *h = (uint16_t *)cpu_scratch(c, (n + 1) / 2);
        if (!h) return cy_fail(err, CY_ERR_MEMORY, "conv2d: out of memory");
        cy_bf16_convert(in->data, h, n);
        src = h;
    } else if (s->geom.prec == CY_PREC_INT8) { /* the input quantized, in the backend's scratch */
        const size_t n = cy_shape_numel(in->s);
        int8_t *q = (int8_t *)cpu_scratch(c, (n + 3) / 4);
        if (!q) return cy_fail(err, CY_ERR_MEMORY, "conv2d: out of memory");
        cy_s8_quantize(in->data, q, n, 1.0f / p->in_scale);
        src = q;
    }
    DNNL_GO("conv2d", dnnl_memory_set_data_handle(s->src, src));
    DNNL_GO("conv2d", dnnl_memory_set_data_handle(s->dst, out->data));
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, s->src},
                               {DNNL_ARG_WEIGHTS, s->wei},
                               {DNNL_ARG_DST, s->dst},
                               {DNNL_ARG_BIAS, s->bias}};
    DNNL_GO("conv2d", dnnl_primitive_execute(s->prim, c->stream, s->has_bias ? 4 : 3, args));
    DNNL_GO("conv2d", dnnl_stream_wait(c->stream));
fail:
    return rc;
}

/* ---- backward ------------------------------------------------------------ */

/* A fresh backward for geometry g: only the hint, the parts come later. The
 * hint is a forward-training descriptor of the same convolution, with bias,
 * weights format_tag_any: oneDNN picks the backward's layouts to match it. */
static cy_status bwd_begin(cpu_impl *c, conv_bwd *w, const conv_geom *g, cy_error *err) {
    cy_status rc = CY_OK;
    conv_bwd_release(w);
    conv_mds m;
    dnnl_convolution_desc_t cd;
    DNNL_GO("conv2d_backward", conv_mds_init(&m, g, dnnl_format_tag_any));
    DNNL_GO("conv2d_backward", dnnl_dilated_convolution_forward_desc_init(
                                   &cd, dnnl_forward_training, dnnl_convolution_direct,
                                   &m.src, &m.wei, &m.bias, &m.dst, m.strides, m.dil,
                                   m.pad_l, m.pad_r));
    DNNL_GO("conv2d_backward",
            dnnl_primitive_desc_create(&w->hint, &cd, NULL, c->engine, NULL));
    w->built = 1;
    w->geom = *g;
fail:
    if (rc != CY_OK) conv_bwd_release(w);
    return rc;
}

static cy_status bwd_build_data(cpu_impl *c, conv_bwd *w, cy_error *err) {
    cy_status rc = CY_OK;
    dnnl_primitive_desc_t pd = NULL;
    conv_mds m;
    dnnl_convolution_desc_t cd;
    DNNL_GO("conv2d_backward", conv_mds_init(&m, &w->geom, dnnl_format_tag_any));
    DNNL_GO("conv2d_backward", dnnl_dilated_convolution_backward_data_desc_init(
                                   &cd, dnnl_convolution_direct, &m.src, &m.wei, &m.dst,
                                   m.strides, m.dil, m.pad_l, m.pad_r));
    DNNL_GO("conv2d_backward",
            dnnl_primitive_desc_create(&pd, &cd, NULL, c->engine, w->hint));
    DNNL_GO("conv2d_backward", dnnl_primitive_create(&w->data, pd));
    const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    DNNL_GO("conv2d_backward", dnnl_memory_create(&w->wei, wmd, c->engine,
                                                  DNNL_MEMORY_ALLOCATE));
    DNNL_GO("conv2d_backward", dnnl_memory_create(&w->dsrc, &m.src, c->engine,
                                                  DNNL_MEMORY_NONE));
    DNNL_GO("conv2d_backward", dnnl_memory_create(&w->ddst, &m.dst, c->engine,
                                                  DNNL_MEMORY_NONE));
    w->wvalid = 0;
fail:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (rc != CY_OK) {
        destroy_prim(&w->data);
        destroy_mem(&w->wei);
        destroy_mem(&w->dsrc);
        destroy_mem(&w->ddst);
    }
    return rc;
}

static cy_status bwd_build_weights(cpu_impl *c, conv_bwd *w, cy_error *err) {
    cy_status rc = CY_OK;
    dnnl_primitive_desc_t pd = NULL, rpd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    conv_mds m, u;
    dnnl_convolution_desc_t cd;
    DNNL_GO("conv2d_backward", conv_mds_init(&m, &w->geom, dnnl_format_tag_any));
    DNNL_GO("conv2d_backward", conv_mds_init(&u, &w->geom, dnnl_oihw));
    DNNL_GO("conv2d_backward", dnnl_dilated_convolution_backward_weights_desc_init(
                                   &cd, dnnl_convolution_direct, &m.src, &m.wei, &m.bias,
                                   &m.dst, m.strides, m.dil, m.pad_l, m.pad_r));
    DNNL_GO("conv2d_backward",
            dnnl_primitive_desc_create(&pd, &cd, NULL, c->engine, w->hint));
    DNNL_GO("conv2d_backward", dnnl_primitive_create(&w->weights, pd));
    const dnnl_memory_desc_t *dwmd =
        dnnl_primitive_desc_query_md(pd, dnnl_query_diff_weights_md, 0);
    DNNL_GO("conv2d_backward", dnnl_memory_create(&w->dwei, dwmd, c->engine,
                                                  DNNL_MEMORY_ALLOCATE));
    DNNL_GO("conv2d_backward", dnnl_memory_create(&w->dbias, &m.bias, c->engine,
                                                  DNNL_MEMORY_ALLOCATE));
    DNNL_GO("conv2d_backward", dnnl_memory_create(&w->src, &m.src, c->engine,
                                                  DNNL_MEMORY_NONE));
    DNNL_GO("conv2d_backward", dnnl_memory_create(&w->wddst, &m.dst, c->engine,
                                                  DNNL_MEMORY_NONE));
    DNNL_GO("conv2d_backward", dnnl_memory_create(&w->user, &u.wei, c->engine,
                                                  DNNL_MEMORY_NONE));
    /* user (G)OIHW dweight += diff weights: a reorder with a sum post-op */
    DNNL_GO("conv2d_backward", dnnl_primitive_attr_create(&attr));
    DNNL_GO("conv2d_backward", dnnl_post_ops_create(&po));
    DNNL_GO("conv2d_backward", dnnl_post_ops_append_sum(po, 1.0f));
    DNNL_GO("conv2d_backward", dnnl_primitive_attr_set_post_ops(attr, po));
    DNNL_GO("conv2d_backward", dnnl_reorder_primitive_desc_create(
                                   &rpd, dwmd, c->engine, &u.wei, c->engine, attr));
    DNNL_GO("conv2d_backward", dnnl_primitive_create(&w->acc, rpd));
fail:
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (po) dnnl_post_ops_destroy(po);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (rc != CY_OK) {
        destroy_prim(&w->weights);
        destroy_prim(&w->acc);
        dnnl_memory_t *mm[] = {&w->dwei, &w->dbias, &w->src, &w->wddst, &w->user};
        for (size_t i = 0; i < sizeof mm / sizeof *mm; i++) destroy_mem(mm[i]);
    }
    return rc;
}

/* The weights backward-data reads: the forward's reordered copy when it is
 * current and in the same layout (the usual training step: forward, then
 * backward, same weights_version), else an own copy, cached the same way. */
static cy_status bwd_data_weights(cpu_impl *c, conv_slot *s, const cy_conv_params *p,
                                  dnnl_memory_t *wei, cy_error *err) {
    conv_bwd *w = &s->bwd;
    const dnnl_memory_desc_t *fmd, *bmd;
    if (dnnl_memory_get_memory_desc(w->wei, &bmd) != dnnl_success)
        return cy_fail(err, CY_ERR_BACKEND, "conv2d_backward: no weights descriptor");
    if (s->built && !memcmp(&s->geom, &w->geom, sizeof s->geom) &&
        conv_weights_current(s, p) &&
        dnnl_memory_get_memory_desc(s->wei, &fmd) == dnnl_success &&
        dnnl_memory_desc_equal(fmd, bmd)) {
        *wei = s->wei;
        return CY_OK;
    }
    if (!(w->wvalid && p->weights_version != 0 && w->wver == p->weights_version &&
          w->wkey == p->weight)) {
        w->wvalid = 0;
        CY_TRY(load_oihw(c, &w->geom, p->weight, dnnl_f32, w->wei, "conv2d_backward", err));
        w->wvalid = 1;
        w->wver = p->weights_version;
        w->wkey = p->weight;
    }
    *wei = w->wei;
    return CY_OK;
}

/* dbias[o] += sum over pixels of dout[., o] (NHWC rows), double per thread. */
static cy_status bias_grad(const cpu_impl *c, const cy_tensor *dout, float *dbias,
                           cy_error *err) {
    const int O = dout->s.c;
    const long px = (long)dout->s.n * dout->s.h * dout->s.w;
    const int team = px * O > 65536 ? c->threads : 1;
    double *part = calloc((size_t)team * O, sizeof *part);
    if (!part) return cy_fail(err, CY_ERR_MEMORY, "conv2d_backward: out of memory");
#pragma omp parallel num_threads(team) if (team > 1)
    {
        double *acc = part + (size_t)omp_get_thread_num() * O;
#pragma omp for schedule(static)
        for (long i = 0; i < px; i++) {
            const float *r = dout->data + (size_t)i * O;
#pragma omp simd
            for (int o = 0; o < O; o++) acc[o] += r[o];
        }
    }
    for (int o = 0; o < O; o++) {
        double t = 0;
        for (int k = 0; k < team; k++) t += part[(size_t)k * O + o];
        dbias[o] = (float)(dbias[o] + t);
    }
    free(part);
    return CY_OK;
}

/* A 1x1, stride-1, ungrouped conv on NHWC is one GEMM per direction, over
 * the [pixels, channels] matrices: sgemm's beta = 1 adds straight into din
 * and into the OIHW dweight, with no scratch copy or reorder (1.2-1.4x the
 * oneDNN primitives plus those passes at YOLO shapes).
 *   din [px, C] += dout [px, O] W [O, C]
 *   dW  [O, C]  += dout^T [O, px] x [px, C] */
static cy_status pointwise_backward(const cpu_impl *c, const cy_tensor *in,
                                    const cy_tensor *dout, cy_tensor *din, float *dweight,
                                    float *dbias, const cy_conv_params *p, cy_error *err) {
    const dnnl_dim_t px = (dnnl_dim_t)in->s.n * in->s.h * in->s.w, C = in->s.c,
                     O = dout->s.c;
    dnnl_status_t st = dnnl_success;
    if (din)
        st = dnnl_sgemm('N', 'N', px, C, O, 1.0f, dout->data, O, p->weight, C, 1.0f,
                        din->data, C);
    if (st == dnnl_success && dweight)
        st = dnnl_sgemm('T', 'N', O, C, px, 1.0f, dout->data, O, in->data, C, 1.0f,
                        dweight, C);
    if (st != dnnl_success) return cpu_dnnl_fail(err, "conv2d_backward", "dnnl_sgemm", st);
    return dbias ? bias_grad(c, dout, dbias, err) : CY_OK;
}

cy_status cpu_conv2d_backward(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                              const cy_tensor *dout, cy_tensor *din, float *dweight,
                              float *dbias, const cy_conv_params *p, cy_error *err) {
    cy_status rc = CY_OK;
    cpu_impl *c = cpu_of(b);
    CY_TRY(cy_check_conv_backward(in, dout, din, p, err));
    if (!slot) return cy_fail(err, CY_ERR_ARG, "conv2d_backward: no slot");
    if (!din && !dweight && !dbias) return CY_OK;
    cpu_use_threads(c);
    conv_slot *s = *slot;
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return cy_fail(err, CY_ERR_MEMORY, "conv2d_backward: out of memory");
        s->hdr.free = conv_slot_free;
        *slot = s;
    }
    conv_bwd *w = &s->bwd;
    const conv_geom g = conv_geom_of(in, dout->s.c, p);
    if (g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0 &&
        g.groups == 1)
        return pointwise_backward(c, in, dout, din, dweight, dbias, p, err);
    if (!w->built || memcmp(&w->geom, &g, sizeof g)) CY_TRY(bwd_begin(c, w, &g, err));

    if (din) {
        if (!w->data) CY_TRY(bwd_build_data(c, w, err));
        dnnl_memory_t wei = NULL;
        CY_TRY(bwd_data_weights(c, s, p, &wei, err));
        const size_t n = cy_shape_numel(in->s);
        float *scr = cpu_scratch(c, n);
        if (!scr) return cy_fail(err, CY_ERR_MEMORY, "conv2d_backward: out of memory");
        DNNL_GO("conv2d_backward", dnnl_memory_set_data_handle(w->dsrc, scr));
        DNNL_GO("conv2d_backward", dnnl_memory_set_data_handle(w->ddst, dout->data));
        dnnl_exec_arg_t args[3] = {{DNNL_ARG_DIFF_DST, w->ddst},
                                   {DNNL_ARG_WEIGHTS, wei},
                                   {DNNL_ARG_DIFF_SRC, w->dsrc}};
        DNNL_GO("conv2d_backward", dnnl_primitive_execute(w->data, c->stream, 3, args));
        DNNL_GO("conv2d_backward", dnnl_stream_wait(c->stream));
        cpu_add_into(c, din->data, scr, n);
    }
    if (dweight) {
        if (!w->weights) CY_TRY(bwd_build_weights(c, w, err));
        DNNL_GO("conv2d_backward", dnnl_memory_set_data_handle(w->src, in->data));
        DNNL_GO("conv2d_backward", dnnl_memory_set_data_handle(w->wddst, dout->data));
        DNNL_GO("conv2d_backward", dnnl_memory_set_data_handle(w->user, dweight));
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, w->src},
                                   {DNNL_ARG_DIFF_DST, w->wddst},
                                   {DNNL_ARG_DIFF_WEIGHTS, w->dwei},
                                   {DNNL_ARG_DIFF_BIAS, w->dbias}};
        DNNL_GO("conv2d_backward", dnnl_primitive_execute(w->weights, c->stream, 4, args));
        dnnl_exec_arg_t racc[2] = {{DNNL_ARG_FROM, w->dwei}, {DNNL_ARG_TO, w->user}};
        DNNL_GO("conv2d_backward", dnnl_primitive_execute(w->acc, c->stream, 2, racc));
        DNNL_GO("conv2d_backward", dnnl_stream_wait(c->stream));
        if (dbias) {
            void *h = NULL;
            DNNL_GO("conv2d_backward", dnnl_memory_get_data_handle(w->dbias, &h));
            const float *db = h;
            for (int o = 0; o < g.cout; o++) dbias[o] += db[o];
        }
    } else if (dbias) {
        CY_TRY(bias_grad(c, dout, dbias, err));
    }
fail:
    return rc;
}
