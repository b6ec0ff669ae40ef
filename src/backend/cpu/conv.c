/* cpu conv2d: oneDNN direct convolution, NHWC activations, weights in the
 * layout oneDNN picks (format_tag_any). Eval BatchNorm is folded into the
 * weights and bias (in double, rounded once), the activation is a post-op.
 * The slot caches the primitive for one input shape and the transformed
 * weights for one weights_version (0 = never cache: reload every call). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "backend/cpu/cpu.h"
#include "backend/ref/check.h"

typedef struct {
    cpu_slot_hdr hdr;
    /* what the primitive was built for */
    int built;
    cy_shape in;
    int cout, kh, kw, sh, sw, ph, pw, dh, dw, groups, has_bias;
    cy_act act;
    dnnl_primitive_t prim;
    dnnl_memory_t src, dst, wei, bias;
    float *bias_data;
    /* which parameters the weights in `wei` and `bias_data` came from */
    int wvalid;
    uint64_t wver;
    const float *wkey[6];
} conv_slot;

static void conv_slot_release(conv_slot *s) {
    if (s->prim) dnnl_primitive_destroy(s->prim);
    if (s->src) dnnl_memory_destroy(s->src);
    if (s->dst) dnnl_memory_destroy(s->dst);
    if (s->wei) dnnl_memory_destroy(s->wei);
    if (s->bias) dnnl_memory_destroy(s->bias);
    free(s->bias_data);
    cpu_slot_hdr h = s->hdr;
    memset(s, 0, sizeof *s);
    s->hdr = h;
}

static void conv_slot_free(cpu_slot_hdr *h) {
    conv_slot_release((conv_slot *)h);
    free(h);
}

static int conv_same_key(const conv_slot *s, const cy_tensor *in, const cy_tensor *out,
                         const cy_conv_params *p) {
    return s->built && !memcmp(&s->in, &in->s, sizeof s->in) && s->cout == out->s.c &&
           s->kh == p->kh && s->kw == p->kw && s->sh == p->sh && s->sw == p->sw &&
           s->ph == p->ph && s->pw == p->pw && s->dh == p->dh && s->dw == p->dw &&
           s->groups == p->groups && s->act == p->act &&
           s->has_bias == (p->bias || p->bn_gamma);
}

static cy_status conv_build(cpu_impl *c, conv_slot *s, const cy_tensor *in,
                            const cy_tensor *out, const cy_conv_params *p,
                            cy_error *err) {
    cy_status rc = CY_OK;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_primitive_desc_t pd = NULL;
    const int G = p->groups, O = out->s.c, C = in->s.c;
    const int has_bias = p->bias || p->bn_gamma;

    conv_slot_release(s);
    dnnl_memory_desc_t src_md, dst_md, wei_md, bias_md;
    dnnl_dims_t sd = {in->s.n, C, in->s.h, in->s.w};
    dnnl_dims_t dd = {out->s.n, O, out->s.h, out->s.w};
    dnnl_dims_t wd5 = {G, O / G, C / G, p->kh, p->kw}, wd4 = {O, C, p->kh, p->kw};
    dnnl_dims_t bd = {O};
    dnnl_dims_t strides = {p->sh, p->sw}, dil = {p->dh - 1, p->dw - 1};
    dnnl_dims_t pad_l = {p->ph, p->pw};
    /* floor mode: the right padding that makes oneDNN's output size ours
     * (it may be below the left padding, or negative) */
    dnnl_dims_t pad_r = {
        (dnnl_dim_t)(out->s.h - 1) * p->sh + (dnnl_dim_t)(p->kh - 1) * p->dh + 1 -
            in->s.h - p->ph,
        (dnnl_dim_t)(out->s.w - 1) * p->sw + (dnnl_dim_t)(p->kw - 1) * p->dw + 1 -
            in->s.w - p->pw};
    DNNL_GO("conv2d", dnnl_memory_desc_init_by_tag(&src_md, 4, sd, dnnl_f32, dnnl_nhwc));
    DNNL_GO("conv2d", dnnl_memory_desc_init_by_tag(&dst_md, 4, dd, dnnl_f32, dnnl_nhwc));
    if (G > 1)
        DNNL_GO("conv2d", dnnl_memory_desc_init_by_tag(&wei_md, 5, wd5, dnnl_f32,
                                                       dnnl_format_tag_any));
    else
        DNNL_GO("conv2d", dnnl_memory_desc_init_by_tag(&wei_md, 4, wd4, dnnl_f32,
                                                       dnnl_format_tag_any));
    DNNL_GO("conv2d", dnnl_memory_desc_init_by_tag(&bias_md, 1, bd, dnnl_f32, dnnl_a));

    dnnl_convolution_desc_t cd;
    DNNL_GO("conv2d", dnnl_dilated_convolution_forward_desc_init(
                          &cd, dnnl_forward_inference, dnnl_convolution_direct, &src_md,
                          &wei_md, has_bias ? &bias_md : NULL, &dst_md, strides, dil,
                          pad_l, pad_r));
    DNNL_GO("conv2d", dnnl_primitive_attr_create(&attr));
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
    DNNL_GO("conv2d", dnnl_memory_create(&s->src, &src_md, c->engine, DNNL_MEMORY_NONE));
    DNNL_GO("conv2d", dnnl_memory_create(&s->dst, &dst_md, c->engine, DNNL_MEMORY_NONE));
    if (has_bias) {
        s->bias_data = malloc((size_t)O * sizeof *s->bias_data);
        if (!s->bias_data) {
            rc = cy_fail(err, CY_ERR_MEMORY, "conv2d: out of memory");
            goto fail;
        }
        DNNL_GO("conv2d", dnnl_memory_create(&s->bias, &bias_md, c->engine, s->bias_data));
    }
    s->built = 1;
    s->in = in->s;
    s->cout = O;
    s->kh = p->kh, s->kw = p->kw, s->sh = p->sh, s->sw = p->sw;
    s->ph = p->ph, s->pw = p->pw, s->dh = p->dh, s->dw = p->dw;
    s->groups = G, s->act = p->act, s->has_bias = has_bias;
fail:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (po) dnnl_post_ops_destroy(po);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (rc != CY_OK) conv_slot_release(s);
    return rc;
}

/* PyTorch layout (OIHW) weights, BN folded when present, reordered into the
 * primitive's weight layout; bias (folded) into bias_data. */
static cy_status conv_load_weights(cpu_impl *c, conv_slot *s, const cy_conv_params *p,
                                   cy_error *err) {
    cy_status rc = CY_OK;
    const int G = s->groups, O = s->cout, cig = s->in.c / G;
    const size_t per_o = (size_t)cig * s->kh * s->kw;
    float *folded = NULL;
    dnnl_memory_t user = NULL;
    dnnl_primitive_desc_t rpd = NULL;
    dnnl_primitive_t reorder = NULL;
    const float *w = p->weight;

    s->wvalid = 0;
    if (p->bn_gamma) {
        folded = malloc((size_t)O * per_o * sizeof *folded);
        if (!folded) return cy_fail(err, CY_ERR_MEMORY, "conv2d: out of memory");
        for (int o = 0; o < O; o++) {
            /* the unfused path divides by sqrtf(var + eps) in float */
            const double sc = (double)p->bn_gamma[o] / sqrtf(p->bn_var[o] + p->bn_eps);
            for (size_t i = 0; i < per_o; i++)
                folded[o * per_o + i] = (float)(w[o * per_o + i] * sc);
            const double b = p->bias ? p->bias[o] : 0.0;
            s->bias_data[o] = (float)((b - p->bn_mean[o]) * sc + p->bn_beta[o]);
        }
        w = folded;
    } else if (p->bias) {
        memcpy(s->bias_data, p->bias, (size_t)O * sizeof *s->bias_data);
    }

    dnnl_dims_t wd5 = {G, O / G, cig, s->kh, s->kw}, wd4 = {O, cig, s->kh, s->kw};
    if (G > 1)
        DNNL_GO("conv2d", cpu_memory_tag(&user, c->engine, 5, wd5, dnnl_goihw, (void *)w));
    else
        DNNL_GO("conv2d", cpu_memory_tag(&user, c->engine, 4, wd4, dnnl_oihw, (void *)w));
    const dnnl_memory_desc_t *umd, *wmd;
    DNNL_GO("conv2d", dnnl_memory_get_memory_desc(user, &umd));
    DNNL_GO("conv2d", dnnl_memory_get_memory_desc(s->wei, &wmd));
    DNNL_GO("conv2d", dnnl_reorder_primitive_desc_create(&rpd, umd, c->engine, wmd,
                                                         c->engine, NULL));
    DNNL_GO("conv2d", dnnl_primitive_create(&reorder, rpd));
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, s->wei}};
    DNNL_GO("conv2d", dnnl_primitive_execute(reorder, c->stream, 2, args));
    DNNL_GO("conv2d", dnnl_stream_wait(c->stream));
    s->wvalid = 1;
    s->wver = p->weights_version;
    const float *key[6] = {p->weight, p->bias, p->bn_gamma, p->bn_beta, p->bn_mean,
                           p->bn_var};
    memcpy(s->wkey, key, sizeof key);
fail:
    if (reorder) dnnl_primitive_destroy(reorder);
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    if (user) dnnl_memory_destroy(user);
    free(folded);
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
    if (!conv_same_key(s, in, out, p)) CY_TRY(conv_build(c, s, in, out, p, err));
    if (!conv_weights_current(s, p)) CY_TRY(conv_load_weights(c, s, p, err));

    DNNL_GO("conv2d", dnnl_memory_set_data_handle(s->src, in->data));
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
