/* The eval graph, node by node, as ONNX operators, then the head's decoding
 * (DFL, anchors, dist2bbox, strides, sigmoid) and YOLO26's top-k as
 * Ultralytics' Detect._inference / postprocess trace them. Reshapes keep the
 * batch (0) and merge the spatial dims (-1), so one emitter serves fixed and
 * dynamic shapes; only the anchors and the attention's way back to [B, C, H,
 * W] need the spatial sizes, taken from Shape when dynamic. */
#include "model/model_onnx.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/half.h"
#include "model/detect_decode.h"

typedef struct {
    cy_model *m;
    const cy_onnx_model_opts *opt;
    cy_onnx *o;
    const char **vname; /* ONNX name of each graph value */
} emitter;

#define IN(...) ((const char *[]){__VA_ARGS__})
#define NIN(...) (sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *))
#define OP(e, op, attrs, nattr, out, ...) cy_onnx_node((e)->o, op, IN(__VA_ARGS__), NIN(__VA_ARGS__), attrs, nattr, out)

static const char *i64s(emitter *e, int n, const int64_t *v) { return cy_onnx_const_i64(e->o, n, v); }
static const char *i64(emitter *e, int64_t v) { return cy_onnx_const_i64(e->o, 1, &v); }

static const char *reshape(emitter *e, const char *x, int n, const int64_t *shape, const char *out) {
    return OP(e, "Reshape", NULL, 0, out, x, i64s(e, n, shape));
}

/* x[axis][start:end] */
static const char *slice(emitter *e, const char *x, int64_t axis, int64_t start, int64_t end) {
    return OP(e, "Slice", NULL, 0, NULL, x, i64(e, start), i64(e, end), i64(e, axis));
}

static const char *unsqueeze(emitter *e, const char *x, int64_t axis) {
    if (cy_onnx_opset(e->o) >= 13) return OP(e, "Unsqueeze", NULL, 0, NULL, x, i64(e, axis));
    cy_onnx_attr a = CY_ONNX_INTS("axes", 1, &axis);
    return OP(e, "Unsqueeze", &a, 1, NULL, x);
}

static const char *transpose(emitter *e, const char *x, int n, const int64_t *perm) {
    cy_onnx_attr a = CY_ONNX_INTS("perm", n, perm);
    return OP(e, "Transpose", &a, 1, NULL, x);
}

static const char *concat(emitter *e, const char *const *xs, int n, int64_t axis, const char *out) {
    cy_onnx_attr a = CY_ONNX_INT("axis", axis);
    return cy_onnx_node(e->o, "Concat", xs, n, &a, 1, out);
}

static const char *activation(emitter *e, const char *x, cy_act act, const char *out) {
    switch (act) {
    case CY_ACT_NONE: return x;
    case CY_ACT_SILU: return OP(e, "Mul", NULL, 0, out, x, OP(e, "Sigmoid", NULL, 0, NULL, x));
    case CY_ACT_RELU: return OP(e, "Relu", NULL, 0, out, x);
    case CY_ACT_SIGMOID: return OP(e, "Sigmoid", NULL, 0, out, x);
    }
    return NULL;
}

/* A float weight: stored as float32, or as float16 and cast back (half). */
static const char *weight(emitter *e, const char *name, int ndim, const int64_t *dims, const float *v) {
    if (!e->opt->half) return cy_onnx_initializer(e->o, name, CY_ONNX_FLOAT, ndim, dims, v);
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)dims[i];
    uint16_t *h = malloc((n ? n : 1) * sizeof *h);
    if (!h) {
        cy_onnx_error(e->o, CY_ERR_MEMORY, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) h[i] = cy_f32_to_half(v[i]);
    const char *w = cy_onnx_initializer(e->o, name, CY_ONNX_FLOAT16, ndim, dims, h);
    free(h);
    cy_onnx_attr to = CY_ONNX_INT("to", CY_ONNX_FLOAT);
    return OP(e, "Cast", &to, 1, NULL, w);
}

/* "/model.3/conv/" from "model.3.conv.weight", torch's node scopes. */
static void scope_of_entry(emitter *e, const char *entry) {
    char s[CY_NAME_MAX + 4] = "/";
    size_t k = 1;
    const char *end = strrchr(entry, '.');
    for (const char *p = entry; *p && p != end && k + 2 < sizeof s; p++) s[k++] = *p == '.' ? '/' : *p;
    s[k++] = '/';
    s[k] = 0;
    cy_onnx_scope(e->o, s);
}

/* Conv (+ folded BatchNorm, as Ultralytics' fuse_conv_and_bn) + activation */
static const char *emit_conv(emitter *e, const cy_node *n, const char *x, const char *out) {
    const cy_model *m = e->m;
    const cy_entry *we = &m->entries[n->w];
    const float *w = m->params + we->offset;
    int cout = (int)we->shape[0];
    size_t per = we->numel / cout;
    float *fw = malloc(we->numel * sizeof *fw), *fb = calloc(cout, sizeof *fb);
    if (!fw || !fb) {
        free(fw);
        free(fb);
        cy_onnx_error(e->o, CY_ERR_MEMORY, "out of memory");
        return NULL;
    }
    const float *b = n->b >= 0 ? m->params + m->entries[n->b].offset : NULL;
    for (int o = 0; o < cout; o++) {
        float scale = 1.0f, shift = 0.0f;
        if (n->bn >= 0) {
            float g = m->params[m->entries[n->bn].offset + o], beta = m->params[m->entries[n->bn + 1].offset + o];
            float mean = m->buffers[m->entries[n->bn + 2].offset + o];
            float den = sqrtf(m->buffers[m->entries[n->bn + 3].offset + o] + n->cp.bn_eps);
            scale = g / den;
            shift = beta - g * mean / den;
        }
        for (size_t j = 0; j < per; j++) fw[o * per + j] = w[o * per + j] * scale;
        fb[o] = (b ? scale * b[o] : 0.0f) + shift;
    }
    char wname[CY_NAME_MAX + 8], bname[CY_NAME_MAX + 8];
    snprintf(wname, sizeof wname, "%s", we->name);
    snprintf(bname, sizeof bname, "%.*s.bias", (int)(strrchr(we->name, '.') - we->name), we->name);
    scope_of_entry(e, we->name);
    int64_t bdim = cout;
    const char *W = weight(e, wname, we->ndim, we->shape, fw), *B = weight(e, bname, 1, &bdim, fb);
    free(fw);
    free(fb);
    const cy_conv_params *cp = &n->cp;
    int64_t ks[2] = {cp->kh, cp->kw}, st[2] = {cp->sh, cp->sw}, dl[2] = {cp->dh, cp->dw};
    int64_t pads[4] = {cp->ph, cp->pw, cp->ph, cp->pw};
    cy_onnx_attr a[] = {CY_ONNX_INTS("dilations", 2, dl), CY_ONNX_INT("group", cp->groups),
                        CY_ONNX_INTS("kernel_shape", 2, ks), CY_ONNX_INTS("pads", 4, pads),
                        CY_ONNX_INTS("strides", 2, st)};
    const char *y = OP(e, "Conv", a, 5, cp->act == CY_ACT_NONE ? out : NULL, x, W, B);
    return activation(e, y, cp->act, out);
}

/* [B, C', H, W] from a [B, ...] tensor whose spatial sizes are those of src */
static const char *shape_bchw(emitter *e, const char *src, const cy_shape *s, int64_t c) {
    if (!e->opt->dynamic) return i64s(e, 4, (int64_t[]){0, c, s->h, s->w});
    const char *hw = slice(e, OP(e, "Shape", NULL, 0, NULL, src), 0, 2, 4);
    return concat(e, IN(i64s(e, 2, (int64_t[]){0, c}), hw), 2, 0, NULL);
}

static const char *emit_slice(emitter *e, const cy_node *n, const char *x, const char *out) {
    if (n->groups == 1) return OP(e, "Slice", NULL, 0, out, x, i64(e, n->offset), i64(e, n->offset + n->len), i64(e, 1));
    /* channel g*len + j = in channel g*group_stride + offset + j */
    const char *v = reshape(e, x, 4, (int64_t[]){0, n->groups, n->group_stride, -1}, NULL);
    v = slice(e, v, 2, n->offset, n->offset + n->len);
    cy_shape s = e->m->graph.values[n->in[0]].s;
    return OP(e, "Reshape", NULL, 0, out, v, shape_bchw(e, x, &s, (int64_t)n->groups * n->len));
}

/* Ultralytics Attention on the qkv conv's output */
static const char *emit_attention(emitter *e, const cy_node *n, const char *qkv, const char *out) {
    int per = 2 * n->kd + n->hd;
    const char *v4 = reshape(e, qkv, 4, (int64_t[]){0, n->heads, per, -1}, NULL);
    const char *q = slice(e, v4, 2, 0, n->kd), *k = slice(e, v4, 2, n->kd, 2 * n->kd);
    const char *v = slice(e, v4, 2, 2 * n->kd, per);
    const int64_t swap[4] = {0, 1, 3, 2};
    const char *att = OP(e, "MatMul", NULL, 0, NULL, transpose(e, q, 4, swap), k);
    att = OP(e, "Mul", NULL, 0, NULL, att, cy_onnx_const_f32(e->o, n->attn_scale));
    cy_onnx_attr ax = CY_ONNX_INT("axis", -1);
    att = OP(e, "Softmax", &ax, 1, NULL, att);
    const char *y = OP(e, "MatMul", NULL, 0, NULL, v, transpose(e, att, 4, swap));
    cy_shape s = e->m->graph.values[n->in[0]].s;
    return OP(e, "Reshape", NULL, 0, out, y, shape_bchw(e, qkv, &s, (int64_t)n->heads * n->hd));
}

static const char *emit_node(emitter *e, const cy_node *n, const char *out) {
    const cy_model *m = e->m;
    const char *x = e->vname[n->in[0]];
    switch (n->op) {
    case CY_OP_CONV: return emit_conv(e, n, x, out);
    case CY_OP_ACT: return activation(e, x, n->act, out);
    case CY_OP_ADD: return OP(e, "Add", NULL, 0, out, x, e->vname[n->in[1]]);
    case CY_OP_MAXPOOL: {
        int64_t k[2] = {n->k, n->k}, s[2] = {n->stride, n->stride}, p[4] = {n->pad, n->pad, n->pad, n->pad};
        cy_onnx_attr a[] = {CY_ONNX_INT("ceil_mode", 0), CY_ONNX_INTS("kernel_shape", 2, k),
                            CY_ONNX_INTS("pads", 4, p), CY_ONNX_INTS("strides", 2, s)};
        return OP(e, "MaxPool", a, 4, out, x);
    }
    case CY_OP_UPSAMPLE: {
        float sc[4] = {1, 1, (float)n->scale, (float)n->scale};
        int64_t d4 = 4, d0 = 0;
        const char *scales = cy_onnx_initializer(e->o, NULL, CY_ONNX_FLOAT, 1, &d4, sc);
        const char *roi = cy_onnx_initializer(e->o, NULL, CY_ONNX_FLOAT, 1, &d0, sc);
        cy_onnx_attr a[] = {CY_ONNX_STR("coordinate_transformation_mode", "asymmetric"),
                            CY_ONNX_STR("mode", "nearest"), CY_ONNX_STR("nearest_mode", "floor")};
        return OP(e, "Resize", a, 3, out, x, roi, scales);
    }
    case CY_OP_CONCAT: {
        const char *xs[CY_MAX_FROM];
        for (int j = 0; j < n->nin; j++) xs[j] = e->vname[n->in[j]];
        return concat(e, xs, n->nin, 1, out);
    }
    case CY_OP_SLICE: return emit_slice(e, n, x, out);
    case CY_OP_ATTN: return emit_attention(e, n, x, out);
    case CY_OP_DECONV: {
        const cy_entry *we = &m->entries[n->w], *be = &m->entries[n->b];
        scope_of_entry(e, we->name);
        const char *W = weight(e, we->name, we->ndim, we->shape, m->params + we->offset);
        const char *B = weight(e, be->name, be->ndim, be->shape, m->params + be->offset);
        int64_t k[2] = {n->k, n->k}, pads[4] = {0, 0, 0, 0};
        cy_onnx_attr a[] = {CY_ONNX_INTS("kernel_shape", 2, k), CY_ONNX_INTS("pads", 4, pads),
                            CY_ONNX_INTS("strides", 2, k)};
        return OP(e, "ConvTranspose", a, 3, out, x, W, B);
    }
    case CY_OP_BN: break;
    }
    cy_onnx_error(e->o, CY_ERR_ARG, "internal: a training-only node in the eval graph");
    return NULL;
}

/* The head's per-level maps of one part, flattened and joined: [B, C, A]. */
static const char *head_part(emitter *e, const cy_head_values *hv, int part, int64_t c) {
    const char *xs[CY_MAX_LEVELS];
    for (int l = 0; l < e->m->nl; l++)
        xs[l] = reshape(e, e->vname[cy_head_value(hv, part, l)], 3, (int64_t[]){0, c, -1}, NULL);
    return concat(e, xs, e->m->nl, 2, NULL);
}

/* make_anchors: per level the cell centres (x + 0.5, y + 0.5) row-major, and
 * the level's stride; *anchors [1, 2, A], *strides [1, A]. */
static void anchors(emitter *e, const cy_head_values *hv, const char **anchors_out, const char **strides_out) {
    const cy_model *m = e->m;
    const cy_graph *g = &m->graph;
    if (!e->opt->dynamic) {
        int A = cy_detect_anchors(m);
        float *pts = malloc(2 * (size_t)A * sizeof *pts), *st = malloc((size_t)A * sizeof *st);
        if (!pts || !st) {
            free(pts);
            free(st);
            cy_onnx_error(e->o, CY_ERR_MEMORY, "out of memory");
            *anchors_out = *strides_out = NULL;
            return;
        }
        int a = 0;
        for (int l = 0; l < m->nl; l++)
            for (int y = 0; y < g->level_h[l]; y++)
                for (int x = 0; x < g->level_w[l]; x++, a++) {
                    pts[a] = x + 0.5f;
                    pts[A + a] = y + 0.5f;
                    st[a] = (float)m->stride[l];
                }
        *anchors_out = cy_onnx_initializer(e->o, "anchors", CY_ONNX_FLOAT, 3, (int64_t[]){1, 2, A}, pts);
        *strides_out = cy_onnx_initializer(e->o, "strides", CY_ONNX_FLOAT, 2, (int64_t[]){1, A}, st);
        free(pts);
        free(st);
        return;
    }
    const char *pts[CY_MAX_LEVELS], *sts[CY_MAX_LEVELS];
    cy_onnx_attr to_f = CY_ONNX_INT("to", CY_ONNX_FLOAT);
    for (int l = 0; l < m->nl; l++) {
        const char *shp = OP(e, "Shape", NULL, 0, NULL, e->vname[hv->cls[l]]);
        const char *hw = slice(e, shp, 0, 2, 4); /* [h, w] int64 */
        const char *hwf = OP(e, "Cast", &to_f, 1, NULL, hw);
        int64_t i0 = 0, i1 = 1; /* 0-d indices: Gather gives the scalars Range takes */
        const char *h = OP(e, "Gather", NULL, 0, NULL, hwf, cy_onnx_initializer(e->o, NULL, CY_ONNX_INT64, 0, NULL, &i0));
        const char *w = OP(e, "Gather", NULL, 0, NULL, hwf, cy_onnx_initializer(e->o, NULL, CY_ONNX_INT64, 0, NULL, &i1));
        const char *zero = cy_onnx_const_f32(e->o, 0.0f), *one = cy_onnx_const_f32(e->o, 1.0f);
        const char *half = cy_onnx_const_f32(e->o, 0.5f);
        const char *sx = OP(e, "Add", NULL, 0, NULL, OP(e, "Range", NULL, 0, NULL, zero, w, one), half); /* [w] */
        const char *sy = OP(e, "Add", NULL, 0, NULL, OP(e, "Range", NULL, 0, NULL, zero, h, one), half); /* [h] */
        const char *gx = OP(e, "Expand", NULL, 0, NULL, unsqueeze(e, sx, 0), hw);                     /* [h, w] */
        const char *gy = OP(e, "Expand", NULL, 0, NULL, unsqueeze(e, sy, 1), hw);
        const char *fx = reshape(e, gx, 2, (int64_t[]){1, -1}, NULL), *fy = reshape(e, gy, 2, (int64_t[]){1, -1}, NULL);
        pts[l] = concat(e, IN(fx, fy), 2, 0, NULL); /* [2, hw] */
        sts[l] = OP(e, "Add", NULL, 0, NULL, OP(e, "Mul", NULL, 0, NULL, fx, zero),
                    cy_onnx_const_f32(e->o, (float)m->stride[l])); /* [1, hw] */
    }
    *anchors_out = unsqueeze(e, concat(e, pts, m->nl, 1, NULL), 0);
    *strides_out = concat(e, sts, m->nl, 1, NULL);
}

/* Detect._inference: [B, 4 + nc (+ nm), A] */
static const char *decode(emitter *e, const cy_head_values *hv, int xywh, const char *out) {
    const cy_model *m = e->m;
    int R = m->reg_max;
    char sc[32];
    snprintf(sc, sizeof sc, "/model.%d/", m->detect_layer);
    cy_onnx_scope(e->o, sc);
    const char *box = head_part(e, hv, CY_HEAD_BOXES, 4 * R);
    const char *cls = head_part(e, hv, CY_HEAD_SCORES, m->nc);
    if (R > 1) { /* DFL: the expectation of the softmax over reg_max bins */
        const char *d = reshape(e, box, 4, (int64_t[]){0, 4, R, -1}, NULL);
        d = transpose(e, d, 4, (int64_t[]){0, 1, 3, 2});
        cy_onnx_attr ax = CY_ONNX_INT("axis", -1);
        d = OP(e, "Softmax", &ax, 1, NULL, d);
        float *bins = malloc(R * sizeof *bins);
        if (!bins) {
            cy_onnx_error(e->o, CY_ERR_MEMORY, "out of memory");
            return NULL;
        }
        for (int i = 0; i < R; i++) bins[i] = (float)i;
        const char *proj = cy_onnx_initializer(e->o, NULL, CY_ONNX_FLOAT, 2, (int64_t[]){R, 1}, bins);
        free(bins);
        box = reshape(e, OP(e, "MatMul", NULL, 0, NULL, d, proj), 3, (int64_t[]){0, 4, -1}, NULL);
    }
    const char *anc, *str;
    anchors(e, hv, &anc, &str);
    const char *x1y1 = OP(e, "Sub", NULL, 0, NULL, anc, slice(e, box, 1, 0, 2));
    const char *x2y2 = OP(e, "Add", NULL, 0, NULL, anc, slice(e, box, 1, 2, 4));
    const char *dbox;
    if (xywh) {
        const char *c = OP(e, "Div", NULL, 0, NULL, OP(e, "Add", NULL, 0, NULL, x1y1, x2y2), cy_onnx_const_f32(e->o, 2.0f));
        dbox = concat(e, IN(c, OP(e, "Sub", NULL, 0, NULL, x2y2, x1y1)), 2, 1, NULL);
    } else {
        dbox = concat(e, IN(x1y1, x2y2), 2, 1, NULL);
    }
    dbox = OP(e, "Mul", NULL, 0, NULL, dbox, str);
    const char *parts[3] = {dbox, OP(e, "Sigmoid", NULL, 0, NULL, cls), NULL};
    int np = 2;
    if (m->task == CY_TASK_SEGMENT) parts[np++] = head_part(e, hv, CY_HEAD_MASKS, m->nm);
    return concat(e, parts, np, 1, out);
}

/* rows[..., :, idx] gathered along dim 1 by an index [B, k]: [B, k, c] */
static const char *gather_rows(emitter *e, const char *rows, const char *idx, int64_t c) {
    const char *ix = OP(e, "Expand", NULL, 0, NULL, unsqueeze(e, idx, -1), i64s(e, 3, (int64_t[]){1, 1, c}));
    cy_onnx_attr ax = CY_ONNX_INT("axis", 1);
    return OP(e, "GatherElements", &ax, 1, NULL, rows, ix);
}

static void topk(emitter *e, const char *x, const char *k, const char **values, const char **indices) {
    cy_onnx_attr a[] = {CY_ONNX_INT("axis", -1), CY_ONNX_INT("largest", 1), CY_ONNX_INT("sorted", 1)};
    const char *outs[2];
    cy_onnx_node_n(e->o, "TopK", IN(x, k), 2, a, 3, 2, outs);
    *values = outs[0];
    *indices = outs[1];
}

/* Detect.postprocess: [B, k, 6 (+ nm)] */
static const char *postprocess(emitter *e, const char *y, const char *out) {
    const cy_model *m = e->m;
    int nc = m->nc, extra = cy_detect_extra(m);
    const char *p = transpose(e, y, 3, (int64_t[]){0, 2, 1}); /* [B, A, 4 + nc + extra] */
    const char *boxes = slice(e, p, 2, 0, 4), *scores = slice(e, p, 2, 4, 4 + nc);
    const char *k;
    if (!e->opt->dynamic) {
        int A = cy_detect_anchors(m);
        k = i64(e, e->opt->max_det < A ? e->opt->max_det : A);
    } else { /* min(max_det, anchors) at run time */
        const char *A = slice(e, OP(e, "Shape", NULL, 0, NULL, scores), 0, 1, 2);
        k = OP(e, "Min", NULL, 0, NULL, A, i64(e, e->opt->max_det));
    }
    const char *best;
    if (cy_onnx_opset(e->o) >= 18) {
        cy_onnx_attr kd = CY_ONNX_INT("keepdims", 0);
        best = OP(e, "ReduceMax", &kd, 1, NULL, scores, i64(e, -1));
    } else {
        int64_t axm1 = -1;
        cy_onnx_attr a[] = {CY_ONNX_INTS("axes", 1, &axm1), CY_ONNX_INT("keepdims", 0)};
        best = OP(e, "ReduceMax", a, 2, NULL, scores);
    }
    const char *v, *ori;
    topk(e, best, k, &v, &ori); /* the k anchors with the best class score */
    const char *cand = reshape(e, gather_rows(e, scores, ori, nc), 2, (int64_t[]){0, -1}, NULL); /* [B, k*nc] */
    const char *conf, *index;
    topk(e, cand, k, &conf, &index);
    const char *ncc = i64(e, nc);
    cy_onnx_attr to_f = CY_ONNX_INT("to", CY_ONNX_FLOAT), ax1 = CY_ONNX_INT("axis", 1);
    const char *label = OP(e, "Cast", &to_f, 1, NULL, OP(e, "Mod", NULL, 0, NULL, index, ncc));
    const char *anchor = OP(e, "GatherElements", &ax1, 1, NULL, ori, OP(e, "Div", NULL, 0, NULL, index, ncc));
    const char *parts[4] = {gather_rows(e, boxes, anchor, 4), unsqueeze(e, conf, -1), unsqueeze(e, label, -1), NULL};
    int np = 3;
    if (extra) parts[np++] = gather_rows(e, slice(e, p, 2, 4 + nc, 4 + nc + extra), anchor, extra);
    return concat(e, parts, np, -1, out);
}

/* Which nodes the exported outputs need. */
static int *live_nodes(const cy_model *m, const cy_head_values *hv, int proto, cy_error *err) {
    const cy_graph *g = &m->graph;
    int *need = calloc(g->nvalues, sizeof *need), *live = calloc(g->nnodes ? g->nnodes : 1, sizeof *live);
    if (!need || !live) {
        free(need);
        free(live);
        cy_fail(err, CY_ERR_MEMORY, "out of memory");
        return NULL;
    }
    for (int l = 0; l < m->nl; l++) {
        need[hv->box[l]] = need[hv->cls[l]] = 1;
        if (m->task == CY_TASK_SEGMENT) need[hv->mask[l]] = 1;
    }
    if (proto > 0) need[proto] = 1;
    for (int k = g->nnodes - 1; k >= 0; k--) {
        const cy_node *n = &g->nodes[k];
        if (!need[n->out]) continue;
        live[k] = 1;
        for (int j = 0; j < n->nin; j++) need[n->in[j]] = 1;
    }
    free(need);
    return live;
}

cy_status cy_model_to_onnx(cy_model *m, const cy_onnx_model_opts *opt, cy_onnx *o, cy_error *err) {
    if (m->training) return cy_fail(err, CY_ERR_ARG, "ONNX export needs the model in eval mode");
    if (cy_onnx_opset(o) < 11) return cy_fail(err, CY_ERR_ARG, "ONNX export needs opset 11 or later (got %d)", cy_onnx_opset(o));
    if (opt->one2one && !m->end2end) return cy_fail(err, CY_ERR_ARG, "the model has no one-to-one (end2end) head");
    if (opt->batch < 1 || opt->max_det < 1) return cy_fail(err, CY_ERR_ARG, "ONNX export: batch and max_det must be >= 1");
    cy_shape s = {opt->batch, m->channels, opt->h, opt->w};
    cy_graph *g = &m->graph;
    if (!g->built || g->training || memcmp(&g->input, &s, sizeof s)) CY_TRY(cy_model_build_graph(m, s, err));
    const cy_head_values *hv = opt->one2one ? &g->o2o : &g->o2m;
    int proto = m->task == CY_TASK_SEGMENT ? g->proto : 0;
    int *live = live_nodes(m, hv, proto, err);
    if (!live) return CY_ERR_MEMORY;
    emitter e = {.m = m, .opt = opt, .o = o};
    e.vname = calloc(g->nvalues, sizeof *e.vname);
    if (!e.vname) {
        free(live);
        return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    }
    static const char *const in_names[4] = {"batch", NULL, "height", "width"};
    int64_t in_dims[4] = {opt->dynamic ? -1 : opt->batch, m->channels, opt->dynamic ? -1 : opt->h,
                          opt->dynamic ? -1 : opt->w};
    e.vname[0] = cy_onnx_input(o, "images", CY_ONNX_FLOAT, 4, in_dims, in_names);
    for (int k = 0; k < g->nnodes; k++) {
        if (!live[k]) continue;
        const cy_node *n = &g->nodes[k];
        e.vname[n->out] = emit_node(&e, n, n->out == proto ? "output1" : NULL);
    }
    free(live);
    int A = cy_detect_anchors(m), extra = cy_detect_extra(m);
    if (opt->one2one) {
        const char *y = postprocess(&e, decode(&e, hv, 0, NULL), "output0");
        int k = opt->max_det < A ? opt->max_det : A;
        static const char *const names[3] = {"batch", "detections", NULL};
        int64_t d[3] = {opt->dynamic ? -1 : opt->batch, opt->dynamic ? -1 : k, 6 + extra};
        cy_onnx_output(o, y, CY_ONNX_FLOAT, 3, d, names);
    } else {
        const char *y = decode(&e, hv, 1, "output0");
        static const char *const names[3] = {"batch", NULL, "anchors"};
        int64_t d[3] = {opt->dynamic ? -1 : opt->batch, 4 + m->nc + extra, opt->dynamic ? -1 : A};
        cy_onnx_output(o, y, CY_ONNX_FLOAT, 3, d, names);
    }
    if (proto > 0) {
        cy_shape ps = g->values[proto].s;
        static const char *const names[4] = {"batch", NULL, "mask_height", "mask_width"};
        int64_t d[4] = {opt->dynamic ? -1 : ps.n, ps.c, opt->dynamic ? -1 : ps.h, opt->dynamic ? -1 : ps.w};
        cy_onnx_output(o, e.vname[proto], CY_ONNX_FLOAT, 4, d, names);
    }
    free(e.vname);
    return cy_onnx_status(o, err);
}
