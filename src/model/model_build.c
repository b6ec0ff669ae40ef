/* Builds the model twice over from its layer table: the state (parameters and
 * buffers, registered in PyTorch's __init__ order so names and order are the
 * Ultralytics state_dict) and the graph of primitive nodes for one input
 * shape (emitted in forward order). Each module is a decl_* function that
 * mirrors its __init__ and a fwd_* function that mirrors its forward. The
 * first build registers; later builds (other shapes) re-walk the same decls
 * and must meet the same names in the same order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/model.h"

#define MAXR 16 /* inner repeats per module */

typedef struct {
    cy_model *m;
    cy_graph *g;
    int registering;
    int cursor;
    int silu_counted;
    int detach_next;   /* convs emitted now read detached inputs (o2o head) */
    cy_status st;
    cy_error *err;
} builder;

static int fail(builder *b, cy_status s, const char *fmt, const char *a) {
    if (b->st == CY_OK) b->st = cy_fail(b->err, s, fmt, a);
    return -1;
}

/* model.info()'s "layers": leaf modules, each module object once (all Conv
 * blocks share one SiLU). */
static void count_modules(builder *b, int k) {
    if (b->registering) b->m->modules += k;
}

/* ---- state registration ------------------------------------------------ */

static int reg(builder *b, const char *name, cy_entry_kind kind, cy_entry_role role, int ndim,
               int64_t s0, int64_t s1, int64_t s2, int64_t s3) {
    if (b->st != CY_OK) return -1;
    cy_model *m = b->m;
    int64_t shape[4] = {s0, s1, s2, s3};
    size_t numel = 1;
    for (int i = 0; i < ndim; i++) numel *= (size_t)shape[i];
    if (!b->registering) {
        if (b->cursor >= m->nentries || strcmp(m->entries[b->cursor].name, name))
            return fail(b, CY_ERR_ARG, "internal: state entry %s out of order on rebuild", name);
        return b->cursor++;
    }
    if (strlen(name) >= CY_NAME_MAX) return fail(b, CY_ERR_ARG, "parameter name too long: %s", name);
    if (m->nentries == m->cap_entries) {
        int cap = m->cap_entries ? 2 * m->cap_entries : 256;
        cy_entry *e = realloc(m->entries, cap * sizeof *e);
        if (!e) return fail(b, CY_ERR_MEMORY, "out of memory registering %s", name);
        m->entries = e;
        m->cap_entries = cap;
    }
    cy_entry *e = &m->entries[m->nentries];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->kind = kind;
    e->role = role;
    e->ndim = ndim;
    memcpy(e->shape, shape, sizeof shape);
    e->numel = numel;
    switch (kind) {
    case CY_ENTRY_PARAM:
    case CY_ENTRY_FIXED: e->offset = m->nparams; m->nparams += numel; break;
    case CY_ENTRY_BUFFER: e->offset = m->nbuffers; m->nbuffers += numel; break;
    case CY_ENTRY_COUNTER: e->offset = m->ncounters; m->ncounters += 1; break;
    }
    return m->nentries++;
}

/* ---- graph values and nodes -------------------------------------------- */

static int new_value(builder *b, cy_shape s) {
    if (b->st != CY_OK) return -1;
    cy_graph *g = b->g;
    if (g->nvalues == g->cap_values) {
        int cap = g->cap_values ? 2 * g->cap_values : 256;
        cy_value *v = realloc(g->values, cap * sizeof *v);
        if (!v) return fail(b, CY_ERR_MEMORY, "out of memory%s", "");
        g->values = v;
        g->cap_values = cap;
    }
    if (s.c < 1 || s.h < 1 || s.w < 1)
        return fail(b, CY_ERR_ARG, "the input is too small for this model%s", "");
    cy_value *v = &g->values[g->nvalues];
    memset(v, 0, sizeof *v);
    v->s = s;
    v->last_use = -1;
    return g->nvalues++;
}

static cy_node *new_node(builder *b, cy_op op) {
    if (b->st != CY_OK) return NULL;
    cy_graph *g = b->g;
    if (g->nnodes == g->cap_nodes) {
        int cap = g->cap_nodes ? 2 * g->cap_nodes : 512;
        cy_node *n = realloc(g->nodes, cap * sizeof *n);
        if (!n) { fail(b, CY_ERR_MEMORY, "out of memory%s", ""); return NULL; }
        g->nodes = n;
        g->cap_nodes = cap;
    }
    cy_node *n = &g->nodes[g->nnodes++];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->w = n->b = n->bn = -1;
    return n;
}

static cy_shape vshape(builder *b, int v) { return b->g->values[v].s; }

/* ---- Conv: Conv2d(bias=False) -> BatchNorm2d -> SiLU | Identity -------- */

typedef struct {
    int w, bias, bn;   /* entries; bn = bn.weight, the other BN entries follow it */
    int c1, c2, k, s, g, act;
} conv_d;

static conv_d decl_conv(builder *b, const char *p, int c1, int c2, int k, int s, int g, int act) {
    char n[CY_NAME_MAX + 32];
    conv_d d = {.c1 = c1, .c2 = c2, .k = k, .s = s, .g = g, .act = act, .bias = -1};
    if (g < 1 || c1 % g || c2 % g) {
        fail(b, CY_ERR_FORMAT, "%s: channels are not divisible by the conv groups", p);
        return d;
    }
    snprintf(n, sizeof n, "%s.conv.weight", p);
    d.w = reg(b, n, CY_ENTRY_PARAM, CY_ROLE_CONV_W, 4, c2, c1 / g, k, k);
    snprintf(n, sizeof n, "%s.bn.weight", p);
    d.bn = reg(b, n, CY_ENTRY_PARAM, CY_ROLE_BN_W, 1, c2, 0, 0, 0);
    snprintf(n, sizeof n, "%s.bn.bias", p);
    reg(b, n, CY_ENTRY_PARAM, CY_ROLE_BN_B, 1, c2, 0, 0, 0);
    snprintf(n, sizeof n, "%s.bn.running_mean", p);
    reg(b, n, CY_ENTRY_BUFFER, CY_ROLE_BN_MEAN, 1, c2, 0, 0, 0);
    snprintf(n, sizeof n, "%s.bn.running_var", p);
    reg(b, n, CY_ENTRY_BUFFER, CY_ROLE_BN_VAR, 1, c2, 0, 0, 0);
    snprintf(n, sizeof n, "%s.bn.num_batches_tracked", p);
    reg(b, n, CY_ENTRY_COUNTER, CY_ROLE_COUNT, 0, 0, 0, 0, 0);
    count_modules(b, 2); /* Conv2d, BatchNorm2d */
    if (!act) count_modules(b, 1); /* its own nn.Identity */
    else if (!b->silu_counted) { count_modules(b, 1); b->silu_counted = 1; } /* one shared SiLU */
    return d;
}

/* A plain nn.Conv2d(c1, c2, 1) with bias: the heads' last layer. */
static conv_d decl_conv2d_bias(builder *b, const char *p, int c1, int c2) {
    char n[CY_NAME_MAX + 32];
    conv_d d = {.c1 = c1, .c2 = c2, .k = 1, .s = 1, .g = 1, .act = 0, .bn = -1};
    snprintf(n, sizeof n, "%s.weight", p);
    d.w = reg(b, n, CY_ENTRY_PARAM, CY_ROLE_CONV_W, 4, c2, c1, 1, 1);
    snprintf(n, sizeof n, "%s.bias", p);
    d.bias = reg(b, n, CY_ENTRY_PARAM, CY_ROLE_CONV_B, 1, c2, 0, 0, 0);
    count_modules(b, 1);
    return d;
}

/* A node reading in[0..nin) and writing a new value of shape s; NULL (and
 * *out = -1) after an earlier failure. The node stays valid while values are
 * added: nodes and values live in separate arrays. */
static cy_node *emit(builder *b, cy_op op, const int *in, int nin, cy_shape s, int *out) {
    *out = -1;
    cy_node *n = new_node(b, op);
    if (!n) return NULL;
    n->nin = nin;
    memcpy(n->in, in, nin * sizeof *in);
    n->out = *out = new_value(b, s);
    return b->st == CY_OK ? n : NULL;
}

static int fwd_conv(builder *b, const conv_d *d, int x) {
    if (b->st != CY_OK) return -1;
    cy_shape in = vshape(b, x);
    if (in.c != d->c1) return fail(b, CY_ERR_ARG, "internal: channel mismatch at a conv%s", "");
    cy_conv_params cp = {.kh = d->k, .kw = d->k, .sh = d->s, .sw = d->s, .ph = d->k / 2, .pw = d->k / 2,
                         .dh = 1, .dw = 1, .groups = d->g, .bn_eps = 1e-3f,
                         .act = d->act ? CY_ACT_SILU : CY_ACT_NONE};
    int out;
    cy_node *n = emit(b, CY_OP_CONV, &x, 1, cy_conv_out_shape(in, d->c2, &cp), &out);
    if (!n) return -1;
    n->w = d->w;
    n->b = d->bias;
    n->cout = d->c2;
    n->cp = cp;
    n->detach_input = b->detach_next;
    if (!b->g->training) {
        n->bn = d->bn; /* eval: BN and activation fused into the conv */
        return out;
    }
    /* training: batch statistics need BN as its own node, then the activation */
    n->cp.act = CY_ACT_NONE;
    if (d->bn >= 0) {
        int x2 = out;
        cy_node *bn = emit(b, CY_OP_BN, &x2, 1, vshape(b, x2), &out);
        if (!bn) return -1;
        bn->bn = d->bn;
    }
    if (d->act) {
        int x3 = out;
        cy_node *a = emit(b, CY_OP_ACT, &x3, 1, vshape(b, x3), &out);
        if (!a) return -1;
        a->act = CY_ACT_SILU;
    }
    return out;
}

static int fwd_binary(builder *b, cy_op op, int x, int y) {
    if (b->st != CY_OK) return -1;
    int in[2] = {x, y}, out;
    emit(b, op, in, 2, vshape(b, x), &out);
    return out;
}

static int fwd_concat(builder *b, const int *xs, int k) {
    if (b->st != CY_OK) return -1;
    if (k > CY_MAX_FROM) return fail(b, CY_ERR_UNSUPPORTED, "concat of more than 8 inputs%s", "");
    cy_shape s = vshape(b, xs[0]);
    s.c = 0;
    for (int i = 0; i < k; i++) {
        cy_shape t = vshape(b, xs[i]);
        if (t.h != s.h || t.w != s.w || t.n != s.n)
            return fail(b, CY_ERR_ARG,
                        "Concat inputs differ in size: input sides must be multiples of the model's max stride%s", "");
        s.c += t.c;
    }
    int out;
    emit(b, CY_OP_CONCAT, xs, k, s, &out);
    return out;
}

static int fwd_slice(builder *b, int x, int groups, int gstride, int offset, int len) {
    if (b->st != CY_OK) return -1;
    cy_shape s = vshape(b, x);
    s.c = groups * len;
    int out;
    cy_node *n = emit(b, CY_OP_SLICE, &x, 1, s, &out);
    if (n) {
        n->groups = groups;
        n->group_stride = gstride;
        n->offset = offset;
        n->len = len;
    }
    return out;
}

static int fwd_maxpool(builder *b, int x, int k) {
    if (b->st != CY_OK) return -1;
    int out;
    cy_node *n = emit(b, CY_OP_MAXPOOL, &x, 1, vshape(b, x), &out);
    if (n) {
        n->k = k;
        n->stride = 1;
        n->pad = k / 2;
    }
    return out;
}

static int fwd_upsample(builder *b, int x, int scale) {
    if (b->st != CY_OK) return -1;
    cy_shape s = vshape(b, x);
    s.h *= scale;
    s.w *= scale;
    int out;
    cy_node *n = emit(b, CY_OP_UPSAMPLE, &x, 1, s, &out);
    if (n) n->scale = scale;
    return out;
}

/* ---- Bottleneck --------------------------------------------------------- */

typedef struct {
    conv_d cv1, cv2;
    int add;
} bottleneck_d;

static bottleneck_d decl_bottleneck(builder *b, const char *p, int c1, int c2, int shortcut,
                                    int g, int k1, int k2, double e) {
    char n[CY_NAME_MAX];
    bottleneck_d d;
    int c_ = (int)(c2 * e);
    snprintf(n, sizeof n, "%s.cv1", p);
    d.cv1 = decl_conv(b, n, c1, c_, k1, 1, 1, 1);
    snprintf(n, sizeof n, "%s.cv2", p);
    d.cv2 = decl_conv(b, n, c_, c2, k2, 1, g, 1);
    d.add = shortcut && c1 == c2;
    return d;
}

static int fwd_bottleneck(builder *b, const bottleneck_d *d, int x) {
    int y = fwd_conv(b, &d->cv2, fwd_conv(b, &d->cv1, x));
    return d->add ? fwd_binary(b, CY_OP_ADD, x, y) : y;
}

/* ---- C3 / C3k ----------------------------------------------------------- */

typedef struct {
    conv_d cv1, cv2, cv3;
    int n;
    bottleneck_d m[MAXR];
} c3_d;

/* C3 uses Bottleneck k=(1,3); C3k uses (k,k). Both e=1.0 inside. */
static c3_d decl_c3(builder *b, const char *p, int c1, int c2, int n, int shortcut, int g,
                    double e, int k1, int k2) {
    char s[CY_NAME_MAX];
    c3_d d;
    int c_ = (int)(c2 * e);
    d.n = n;
    if (n > MAXR) { fail(b, CY_ERR_UNSUPPORTED, "%s: too many repeats", p); return d; }
    snprintf(s, sizeof s, "%s.cv1", p);
    d.cv1 = decl_conv(b, s, c1, c_, 1, 1, 1, 1);
    snprintf(s, sizeof s, "%s.cv2", p);
    d.cv2 = decl_conv(b, s, c1, c_, 1, 1, 1, 1);
    snprintf(s, sizeof s, "%s.cv3", p);
    d.cv3 = decl_conv(b, s, 2 * c_, c2, 1, 1, 1, 1);
    for (int i = 0; i < n; i++) {
        snprintf(s, sizeof s, "%s.m.%d", p, i);
        d.m[i] = decl_bottleneck(b, s, c_, c_, shortcut, g, k1, k2, 1.0);
    }
    return d;
}

static int fwd_c3(builder *b, const c3_d *d, int x) {
    int y = fwd_conv(b, &d->cv1, x);
    for (int i = 0; i < d->n; i++) y = fwd_bottleneck(b, &d->m[i], y);
    int parts[2] = {y, fwd_conv(b, &d->cv2, x)};
    return fwd_conv(b, &d->cv3, fwd_concat(b, parts, 2));
}

/* ---- Attention / PSABlock ---------------------------------------------- */

typedef struct {
    conv_d qkv, proj, pe;
    int heads, kd, hd;
    float scale;
} attention_d;

static attention_d decl_attention(builder *b, const char *p, int dim, int heads, double ratio) {
    char s[CY_NAME_MAX];
    attention_d d;
    if (heads < 1) heads = 1;
    d.heads = heads;
    d.hd = dim / heads;
    d.kd = (int)(d.hd * ratio);
    d.scale = (float)pow((double)d.kd, -0.5);
    if (d.hd * heads != dim || d.kd < 1)
        fail(b, CY_ERR_FORMAT, "%s: attention channels do not split into heads", p);
    snprintf(s, sizeof s, "%s.qkv", p);
    d.qkv = decl_conv(b, s, dim, dim + 2 * d.kd * heads, 1, 1, 1, 0);
    snprintf(s, sizeof s, "%s.proj", p);
    d.proj = decl_conv(b, s, dim, dim, 1, 1, 1, 0);
    snprintf(s, sizeof s, "%s.pe", p);
    d.pe = decl_conv(b, s, dim, dim, 3, 1, dim, 0);
    return d;
}

static int fwd_attention(builder *b, const attention_d *d, int x) {
    int qkv = fwd_conv(b, &d->qkv, x);
    if (b->st != CY_OK) return -1;
    cy_shape s = vshape(b, qkv);
    s.c = d->heads * d->hd;
    int o;
    cy_node *n = emit(b, CY_OP_ATTN, &qkv, 1, s, &o);
    if (!n) return -1;
    n->heads = d->heads;
    n->kd = d->kd;
    n->hd = d->hd;
    n->attn_scale = d->scale;
    int per = 2 * d->kd + d->hd;
    int v = fwd_slice(b, qkv, d->heads, per, 2 * d->kd, d->hd);
    int sum = fwd_binary(b, CY_OP_ADD, o, fwd_conv(b, &d->pe, v));
    return fwd_conv(b, &d->proj, sum);
}

typedef struct {
    attention_d attn;
    conv_d ffn0, ffn1;
} psablock_d;

static psablock_d decl_psablock(builder *b, const char *p, int c, double ratio, int heads) {
    char s[CY_NAME_MAX];
    psablock_d d;
    snprintf(s, sizeof s, "%s.attn", p);
    d.attn = decl_attention(b, s, c, heads, ratio);
    snprintf(s, sizeof s, "%s.ffn.0", p);
    d.ffn0 = decl_conv(b, s, c, 2 * c, 1, 1, 1, 1);
    snprintf(s, sizeof s, "%s.ffn.1", p);
    d.ffn1 = decl_conv(b, s, 2 * c, c, 1, 1, 1, 0);
    return d;
}

static int fwd_psablock(builder *b, const psablock_d *d, int x) {
    x = fwd_binary(b, CY_OP_ADD, x, fwd_attention(b, &d->attn, x));
    return fwd_binary(b, CY_OP_ADD, x, fwd_conv(b, &d->ffn1, fwd_conv(b, &d->ffn0, x)));
}

/* ---- C2f / C3k2 ---------------------------------------------------------- */

typedef enum { BLOCK_BOTTLENECK, BLOCK_C3K, BLOCK_BOTTLENECK_PSA } c2f_block_kind;

typedef struct {
    c2f_block_kind kind;
    bottleneck_d bn;
    c3_d c3k;
    psablock_d psa;
} c2f_block_d;

typedef struct {
    conv_d cv1, cv2;
    int c, n;
    c2f_block_d m[MAXR];
} c2f_d;

static void decl_c2f(builder *b, c2f_d *d, const char *p, const cy_layer *L) {
    char s[CY_NAME_MAX];
    int is_c3k2 = L->kind == CY_MOD_C3K2;
    d->c = (int)(L->c2 * L->e);
    d->n = L->repeats;
    if (d->n > MAXR) { fail(b, CY_ERR_UNSUPPORTED, "%s: too many repeats", p); return; }
    snprintf(s, sizeof s, "%s.cv1", p);
    d->cv1 = decl_conv(b, s, L->c1, 2 * d->c, 1, 1, 1, 1);
    snprintf(s, sizeof s, "%s.cv2", p);
    d->cv2 = decl_conv(b, s, (2 + d->n) * d->c, L->c2, 1, 1, 1, 1);
    for (int i = 0; i < d->n; i++) {
        c2f_block_d *k = &d->m[i];
        snprintf(s, sizeof s, "%s.m.%d", p, i);
        if (!is_c3k2) {
            k->kind = BLOCK_BOTTLENECK; /* C2f: Bottleneck(c, c, shortcut, g, k=(3,3), e=1.0) */
            k->bn = decl_bottleneck(b, s, d->c, d->c, L->shortcut, L->groups, 3, 3, 1.0);
        } else if (L->attn) {
            char t[CY_NAME_MAX + 4];
            k->kind = BLOCK_BOTTLENECK_PSA;
            snprintf(t, sizeof t, "%s.0", s);
            k->bn = decl_bottleneck(b, t, d->c, d->c, L->shortcut, L->groups, 3, 3, 0.5);
            snprintf(t, sizeof t, "%s.1", s);
            k->psa = decl_psablock(b, t, d->c, 0.5, d->c / 64 > 1 ? d->c / 64 : 1);
        } else if (L->c3k) {
            k->kind = BLOCK_C3K; /* C3k(c, c, 2, shortcut, g): e=0.5, k=3 */
            k->c3k = decl_c3(b, s, d->c, d->c, 2, L->shortcut, L->groups, 0.5, 3, 3);
        } else {
            k->kind = BLOCK_BOTTLENECK; /* Bottleneck(c, c, shortcut, g): k=(3,3), e=0.5 */
            k->bn = decl_bottleneck(b, s, d->c, d->c, L->shortcut, L->groups, 3, 3, 0.5);
        }
    }
}

/* cat(chunk(cv1(x), 2) + blocks) = cat(cv1(x), blocks): only the second
 * half is sliced out, as the first block's input. */
static int fwd_c2f(builder *b, const c2f_d *d, int x) {
    int ys[MAXR + 1];
    int y = fwd_conv(b, &d->cv1, x);
    ys[0] = y;
    int last = fwd_slice(b, y, 1, 0, d->c, d->c);
    for (int i = 0; i < d->n; i++) {
        const c2f_block_d *k = &d->m[i];
        if (k->kind == BLOCK_C3K) last = fwd_c3(b, &k->c3k, last);
        else last = fwd_bottleneck(b, &k->bn, last);
        if (k->kind == BLOCK_BOTTLENECK_PSA) last = fwd_psablock(b, &k->psa, last);
        ys[i + 1] = last;
    }
    return fwd_conv(b, &d->cv2, fwd_concat(b, ys, d->n + 1));
}

/* ---- SPPF, C2PSA -------------------------------------------------------- */

typedef struct {
    conv_d cv1, cv2;
    int n, k, add;
} sppf_d;

static sppf_d decl_sppf(builder *b, const char *p, const cy_layer *L) {
    char s[CY_NAME_MAX];
    sppf_d d;
    int c_ = L->c1 / 2;
    count_modules(b, 1); /* MaxPool2d */
    /* cv1 has no activation in Ultralytics 8.4.37 (the detection reference);
     * the PyPI release (the reference for segmentation) gives YOLOv8/11's
     * short rows back the SiLU their published weights were trained with */
    int act1 = cy_model_sppf_cv1_silu(b->m, L);
    snprintf(s, sizeof s, "%s.cv1", p);
    d.cv1 = decl_conv(b, s, L->c1, c_, 1, 1, 1, act1);
    snprintf(s, sizeof s, "%s.cv2", p);
    d.cv2 = decl_conv(b, s, c_ * (L->pool_n + 1), L->c2, 1, 1, 1, 1);
    d.n = L->pool_n;
    d.k = L->pool_k;
    d.add = L->shortcut && L->c1 == L->c2;
    if (d.n + 1 > CY_MAX_FROM) fail(b, CY_ERR_UNSUPPORTED, "%s: SPPF n is at most 7", p);
    return d;
}

static int fwd_sppf(builder *b, const sppf_d *d, int x) {
    int ys[CY_MAX_FROM];
    ys[0] = fwd_conv(b, &d->cv1, x);
    for (int i = 0; i < d->n; i++) ys[i + 1] = fwd_maxpool(b, ys[i], d->k);
    int y = fwd_conv(b, &d->cv2, fwd_concat(b, ys, d->n + 1));
    return d->add ? fwd_binary(b, CY_OP_ADD, y, x) : y;
}

typedef struct {
    conv_d cv1, cv2;
    int c, n;
    psablock_d m[MAXR];
} c2psa_d;

static void decl_c2psa(builder *b, c2psa_d *d, const char *p, const cy_layer *L) {
    char s[CY_NAME_MAX];
    d->c = (int)(L->c1 * L->e);
    d->n = L->repeats;
    if (d->n > MAXR) { fail(b, CY_ERR_UNSUPPORTED, "%s: too many repeats", p); return; }
    snprintf(s, sizeof s, "%s.cv1", p);
    d->cv1 = decl_conv(b, s, L->c1, 2 * d->c, 1, 1, 1, 1);
    snprintf(s, sizeof s, "%s.cv2", p);
    d->cv2 = decl_conv(b, s, 2 * d->c, L->c1, 1, 1, 1, 1);
    for (int i = 0; i < d->n; i++) {
        snprintf(s, sizeof s, "%s.m.%d", p, i);
        d->m[i] = decl_psablock(b, s, d->c, 0.5, d->c / 64);
    }
}

static int fwd_c2psa(builder *b, const c2psa_d *d, int x) {
    int y = fwd_conv(b, &d->cv1, x);
    int parts[2] = {fwd_slice(b, y, 1, 0, 0, d->c), fwd_slice(b, y, 1, 0, d->c, d->c)};
    for (int i = 0; i < d->n; i++) parts[1] = fwd_psablock(b, &d->m[i], parts[1]);
    return fwd_conv(b, &d->cv2, fwd_concat(b, parts, 2));
}

/* ---- Detect --------------------------------------------------------------- */

typedef struct {
    conv_d box[CY_MAX_LEVELS][3];
    conv_d cls[CY_MAX_LEVELS][5];
    int ncls; /* convs in the class branch: 3 legacy, 5 otherwise */
} head_branch_d;

/* deep_copy: the one-to-one branch is copy.deepcopy of the one-to-many one,
 * so each of its two ModuleLists owns a SiLU of its own (one more leaf each). */
static void decl_head_branch(builder *b, head_branch_d *d, const char *p, const char *box_name,
                             const char *cls_name, const int *ch, int deep_copy) {
    char s[CY_NAME_MAX];
    cy_model *m = b->m;
    int c2 = m->c2_box, c3 = m->c3_cls;
    if (deep_copy) count_modules(b, 2);
    for (int i = 0; i < m->nl; i++) {
        snprintf(s, sizeof s, "%s.%s.%d.0", p, box_name, i);
        d->box[i][0] = decl_conv(b, s, ch[i], c2, 3, 1, 1, 1);
        snprintf(s, sizeof s, "%s.%s.%d.1", p, box_name, i);
        d->box[i][1] = decl_conv(b, s, c2, c2, 3, 1, 1, 1);
        snprintf(s, sizeof s, "%s.%s.%d.2", p, box_name, i);
        d->box[i][2] = decl_conv2d_bias(b, s, c2, 4 * m->reg_max);
    }
    for (int i = 0; i < m->nl; i++) {
        if (m->legacy) {
            d->ncls = 3;
            snprintf(s, sizeof s, "%s.%s.%d.0", p, cls_name, i);
            d->cls[i][0] = decl_conv(b, s, ch[i], c3, 3, 1, 1, 1);
            snprintf(s, sizeof s, "%s.%s.%d.1", p, cls_name, i);
            d->cls[i][1] = decl_conv(b, s, c3, c3, 3, 1, 1, 1);
            snprintf(s, sizeof s, "%s.%s.%d.2", p, cls_name, i);
            d->cls[i][2] = decl_conv2d_bias(b, s, c3, m->nc);
        } else {
            d->ncls = 5; /* [DWConv3x3, Conv1x1], [DWConv3x3, Conv1x1], Conv2d */
            snprintf(s, sizeof s, "%s.%s.%d.0.0", p, cls_name, i);
            d->cls[i][0] = decl_conv(b, s, ch[i], ch[i], 3, 1, ch[i], 1);
            snprintf(s, sizeof s, "%s.%s.%d.0.1", p, cls_name, i);
            d->cls[i][1] = decl_conv(b, s, ch[i], c3, 1, 1, 1, 1);
            snprintf(s, sizeof s, "%s.%s.%d.1.0", p, cls_name, i);
            d->cls[i][2] = decl_conv(b, s, c3, c3, 3, 1, c3, 1);
            snprintf(s, sizeof s, "%s.%s.%d.1.1", p, cls_name, i);
            d->cls[i][3] = decl_conv(b, s, c3, c3, 1, 1, 1, 1);
            snprintf(s, sizeof s, "%s.%s.%d.2", p, cls_name, i);
            d->cls[i][4] = decl_conv2d_bias(b, s, c3, m->nc);
        }
    }
}

/* detached: the branch sees x.detach() (YOLO26's one-to-one head), so its
 * first convs pass no gradient back to the neck. */
static void fwd_head_branch(builder *b, const head_branch_d *d, const int *xs, cy_head_values *hv,
                            int detached) {
    for (int i = 0; i < b->m->nl; i++) {
        int y = xs[i];
        for (int j = 0; j < 3; j++) {
            b->detach_next = detached && j == 0;
            y = fwd_conv(b, &d->box[i][j], y);
        }
        hv->box[i] = y;
        y = xs[i];
        for (int j = 0; j < d->ncls; j++) {
            b->detach_next = detached && j == 0;
            y = fwd_conv(b, &d->cls[i][j], y);
        }
        hv->cls[i] = y;
    }
    b->detach_next = 0;
}

/* ---- Segment: mask-coefficient branch cv4 and Proto / Proto26 ---------- */

static int fwd_deconv(builder *b, int x, int w, int bias, int cout, int k) {
    if (b->st != CY_OK) return -1;
    cy_shape s = vshape(b, x);
    s.c = cout;
    s.h *= k;
    s.w *= k;
    int out;
    cy_node *n = emit(b, CY_OP_DECONV, &x, 1, s, &out);
    if (n) {
        n->w = w;
        n->b = bias;
        n->cout = cout;
        n->k = k;
    }
    return out;
}

typedef struct {
    conv_d cv[CY_MAX_LEVELS][3]; /* Conv3x3, Conv3x3, Conv2d 1x1 -> nm */
} mask_branch_d;

static void decl_mask_branch(builder *b, mask_branch_d *d, const char *p, const char *name, const int *ch,
                             int deep_copy) {
    char s[CY_NAME_MAX];
    cy_model *m = b->m;
    int c4 = ch[0] / 4 > m->nm ? ch[0] / 4 : m->nm;
    if (deep_copy) count_modules(b, 1);
    for (int i = 0; i < m->nl; i++) {
        snprintf(s, sizeof s, "%s.%s.%d.0", p, name, i);
        d->cv[i][0] = decl_conv(b, s, ch[i], c4, 3, 1, 1, 1);
        snprintf(s, sizeof s, "%s.%s.%d.1", p, name, i);
        d->cv[i][1] = decl_conv(b, s, c4, c4, 3, 1, 1, 1);
        snprintf(s, sizeof s, "%s.%s.%d.2", p, name, i);
        d->cv[i][2] = decl_conv2d_bias(b, s, c4, m->nm);
    }
}

static void fwd_mask_branch(builder *b, const mask_branch_d *d, const int *xs, cy_head_values *hv, int detached) {
    for (int i = 0; i < b->m->nl; i++) {
        int y = xs[i];
        for (int j = 0; j < 3; j++) {
            b->detach_next = detached && j == 0;
            y = fwd_conv(b, &d->cv[i][j], y);
        }
        hv->mask[i] = y;
    }
    b->detach_next = 0;
}

/* Proto(c1, c_, nm): cv1 Conv3x3 -> ConvTranspose2d(c_, c_, 2, 2) -> cv2
 * Conv3x3 -> cv3 Conv1x1. Proto26 first fuses the levels (each coarser one
 * through a 1x1 Conv, nearest-upsampled to P3 and added), then feat_fuse
 * Conv3x3, then Proto(c_, c_, nm); its semseg branch reads the fused P3
 * feature and runs only in training (as Ultralytics' forward does). */
typedef struct {
    conv_d refine[CY_MAX_LEVELS], fuse, cv1, cv2, cv3, sem[3];
    int up_w, up_b;
} proto_d;

static void decl_proto(builder *b, proto_d *d, const char *p, const int *ch) {
    char s[CY_NAME_MAX];
    cy_model *m = b->m;
    const int c_ = m->npr, c1 = m->proto26 ? c_ : ch[0];
    snprintf(s, sizeof s, "%s.proto.cv1", p);
    d->cv1 = decl_conv(b, s, c1, c_, 3, 1, 1, 1);
    snprintf(s, sizeof s, "%s.proto.upsample.weight", p);
    d->up_w = reg(b, s, CY_ENTRY_PARAM, CY_ROLE_CONV_W, 4, c_, c_, 2, 2);
    snprintf(s, sizeof s, "%s.proto.upsample.bias", p);
    d->up_b = reg(b, s, CY_ENTRY_PARAM, CY_ROLE_CONV_B, 1, c_, 0, 0, 0);
    count_modules(b, 1);
    snprintf(s, sizeof s, "%s.proto.cv2", p);
    d->cv2 = decl_conv(b, s, c_, c_, 3, 1, 1, 1);
    snprintf(s, sizeof s, "%s.proto.cv3", p);
    d->cv3 = decl_conv(b, s, c_, m->nm, 1, 1, 1, 1);
    if (!m->proto26) return;
    for (int i = 1; i < m->nl; i++) {
        snprintf(s, sizeof s, "%s.proto.feat_refine.%d", p, i - 1);
        d->refine[i] = decl_conv(b, s, ch[i], ch[0], 1, 1, 1, 1);
    }
    snprintf(s, sizeof s, "%s.proto.feat_fuse", p);
    d->fuse = decl_conv(b, s, ch[0], c_, 3, 1, 1, 1);
    snprintf(s, sizeof s, "%s.proto.semseg.0", p);
    d->sem[0] = decl_conv(b, s, ch[0], c_, 3, 1, 1, 1);
    snprintf(s, sizeof s, "%s.proto.semseg.1", p);
    d->sem[1] = decl_conv(b, s, c_, c_, 3, 1, 1, 1);
    snprintf(s, sizeof s, "%s.proto.semseg.2", p);
    d->sem[2] = decl_conv2d_bias(b, s, c_, m->nc);
}

static void fwd_proto(builder *b, const proto_d *d, const int *xs) {
    cy_model *m = b->m;
    int x = xs[0];
    if (m->proto26) {
        for (int i = 1; i < m->nl; i++) {
            int up = fwd_upsample(b, fwd_conv(b, &d->refine[i], xs[i]), 1 << i);
            if (b->st == CY_OK && memcmp(&b->g->values[up].s, &b->g->values[x].s, sizeof(cy_shape)))
                fail(b, CY_ERR_ARG, "Proto26: level sizes are not 2x apart (input sides must be multiples "
                                    "of the model's max stride)%s", "");
            x = fwd_binary(b, CY_OP_ADD, x, up);
        }
        if (b->g->training) {
            int y = x;
            for (int j = 0; j < 3; j++) y = fwd_conv(b, &d->sem[j], y);
            b->g->semseg = y;
        }
        x = fwd_conv(b, &d->fuse, x);
    }
    x = fwd_conv(b, &d->cv1, x);
    x = fwd_deconv(b, x, d->up_w, d->up_b, m->npr, 2);
    x = fwd_conv(b, &d->cv2, x);
    b->g->proto = fwd_conv(b, &d->cv3, x);
}

static void build_detect(builder *b, const cy_layer *L, const int *xs) {
    cy_model *m = b->m;
    char p[32];
    snprintf(p, sizeof p, "model.%d", L->index);
    int ch[CY_MAX_LEVELS];
    for (int i = 0; i < m->nl; i++) ch[i] = vshape(b, xs[i]).c;
    int c2 = ch[0] / 4;
    if (c2 < 16) c2 = 16;
    if (c2 < 4 * m->reg_max) c2 = 4 * m->reg_max;
    int c3 = m->nc < 100 ? m->nc : 100;
    if (c3 < ch[0]) c3 = ch[0];
    m->c2_box = c2;
    m->c3_cls = c3;
    head_branch_d *o2m = calloc(1, sizeof *o2m), *o2o = calloc(1, sizeof *o2o);
    mask_branch_d *mask_o2m = calloc(1, sizeof *mask_o2m), *mask_o2o = calloc(1, sizeof *mask_o2o);
    proto_d *proto = calloc(1, sizeof *proto);
    if (!o2m || !o2o || !mask_o2m || !mask_o2o || !proto) {
        fail(b, CY_ERR_MEMORY, "out of memory%s", "");
        goto done;
    }
    decl_head_branch(b, o2m, p, "cv2", "cv3", ch, 0);
    if (m->reg_max > 1) {
        char s[64];
        snprintf(s, sizeof s, "%s.dfl.conv.weight", p);
        reg(b, s, CY_ENTRY_FIXED, CY_ROLE_DFL, 4, 1, m->reg_max, 1, 1);
        count_modules(b, 1); /* DFL's Conv2d */
    } else {
        count_modules(b, 1); /* nn.Identity */
    }
    if (m->end2end) decl_head_branch(b, o2o, p, "one2one_cv2", "one2one_cv3", ch, 1);
    int seg = m->task == CY_TASK_SEGMENT;
    if (seg) { /* Segment.__init__ after Detect's: proto, cv4, one2one_cv4 */
        decl_proto(b, proto, p, ch);
        decl_mask_branch(b, mask_o2m, p, "cv4", ch, 0);
        if (m->end2end) decl_mask_branch(b, mask_o2o, p, "one2one_cv4", ch, 1);
    }
    fwd_head_branch(b, o2m, xs, &b->g->o2m, 0);
    if (seg) fwd_mask_branch(b, mask_o2m, xs, &b->g->o2m, 0);
    if (m->end2end) fwd_head_branch(b, o2o, xs, &b->g->o2o, 1);
    if (m->end2end && seg) fwd_mask_branch(b, mask_o2o, xs, &b->g->o2o, 1);
    if (seg) fwd_proto(b, proto, xs);
    for (int i = 0; i < m->nl && b->st == CY_OK; i++) {
        cy_shape s = vshape(b, xs[i]);
        b->g->level_h[i] = s.h;
        b->g->level_w[i] = s.w;
    }
done:
    free(o2m);
    free(o2o);
    free(mask_o2m);
    free(mask_o2o);
    free(proto);
}

/* ---- the model ---------------------------------------------------------- */

static int build_layer(builder *b, const cy_layer *L) {
    char p[32];
    snprintf(p, sizeof p, "model.%d", L->index);
    cy_graph *g = b->g;
    int x = L->from[0] < 0 ? 0 : g->layer_value[L->from[0]];
    switch (L->kind) {
    case CY_MOD_CONV: {
        conv_d d = decl_conv(b, p, L->c1, L->c2, L->k, L->s, L->groups, 1);
        return fwd_conv(b, &d, x);
    }
    case CY_MOD_DWCONV: {
        int g0 = L->c1, c = L->c2; /* groups = gcd(c1, c2) */
        while (c) { int t = g0 % c; g0 = c; c = t; }
        conv_d d = decl_conv(b, p, L->c1, L->c2, L->k, L->s, g0, 1);
        return fwd_conv(b, &d, x);
    }
    case CY_MOD_BOTTLENECK: {
        bottleneck_d d = decl_bottleneck(b, p, L->c1, L->c2, L->shortcut, L->groups, 3, 3, L->e);
        return fwd_bottleneck(b, &d, x);
    }
    case CY_MOD_C3:
    case CY_MOD_C3K: {
        int k1 = L->kind == CY_MOD_C3 ? 1 : L->k, k2 = L->kind == CY_MOD_C3 ? 3 : L->k;
        c3_d *d = malloc(sizeof *d);
        if (!d) return fail(b, CY_ERR_MEMORY, "out of memory%s", "");
        *d = decl_c3(b, p, L->c1, L->c2, L->repeats, L->shortcut, L->groups, L->e, k1, k2);
        int y = b->st == CY_OK ? fwd_c3(b, d, x) : -1;
        free(d);
        return y;
    }
    case CY_MOD_C2F:
    case CY_MOD_C3K2: {
        c2f_d *d = calloc(1, sizeof *d);
        if (!d) return fail(b, CY_ERR_MEMORY, "out of memory%s", "");
        decl_c2f(b, d, p, L);
        int y = b->st == CY_OK ? fwd_c2f(b, d, x) : -1;
        free(d);
        return y;
    }
    case CY_MOD_SPPF: {
        sppf_d d = decl_sppf(b, p, L);
        return fwd_sppf(b, &d, x);
    }
    case CY_MOD_C2PSA: {
        c2psa_d *d = calloc(1, sizeof *d);
        if (!d) return fail(b, CY_ERR_MEMORY, "out of memory%s", "");
        decl_c2psa(b, d, p, L);
        int y = b->st == CY_OK ? fwd_c2psa(b, d, x) : -1;
        free(d);
        return y;
    }
    case CY_MOD_CONCAT: {
        int xs[CY_MAX_FROM];
        for (int j = 0; j < L->nfrom; j++) xs[j] = g->layer_value[L->from[j]];
        count_modules(b, 1);
        return fwd_concat(b, xs, L->nfrom);
    }
    case CY_MOD_UPSAMPLE:
        count_modules(b, 1);
        return fwd_upsample(b, x, L->scale);
    case CY_MOD_DETECT: {
        int xs[CY_MAX_LEVELS];
        for (int j = 0; j < L->nfrom; j++) xs[j] = g->layer_value[L->from[j]];
        build_detect(b, L, xs);
        return -1;
    }
    }
    return fail(b, CY_ERR_ARG, "internal: unknown module%s", "");
}

void cy_graph_free(cy_model *m) {
    cy_graph *g = &m->graph;
    for (int i = 0; i < g->nnodes; i++)
        if (g->nodes[i].slot && m->backend) m->backend->slot_free(m->backend, g->nodes[i].slot);
    for (int i = 0; i < g->nblocks; i++) free(g->blocks[i].data);
    free(g->blocks);
    for (int i = 0; g->grad && i < g->nvalues; i++) free(g->grad[i]);
    free(g->grad);
    for (int i = 0; i < g->nnodes; i++) free(g->nodes[i].bn_save);
    free(g->nodes);
    free(g->values);
    free(g->layer_value);
    memset(g, 0, sizeof *g);
}

cy_status cy_model_build_graph(cy_model *m, cy_shape input, cy_error *err) {
    cy_graph_free(m);
    cy_graph *g = &m->graph;
    builder b = {.m = m, .g = g, .registering = m->entries == NULL, .err = err};
    if (b.registering) m->modules = 0;
    g->input = input;
    g->training = m->training;
    g->layer_value = calloc(m->nlayers, sizeof *g->layer_value);
    if (!g->layer_value) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    new_value(&b, input);
    for (int i = 0; i < m->nlayers && b.st == CY_OK; i++) {
        size_t before = m->nparams;
        int v = build_layer(&b, &m->layers[i]);
        if (b.registering) m->layers[i].params = (int64_t)(m->nparams - before);
        g->layer_value[i] = v;
    }
    if (b.st == CY_OK && !b.registering && b.cursor != m->nentries)
        b.st = cy_fail(err, CY_ERR_ARG, "internal: state entries differ on rebuild");
    if (b.st != CY_OK) {
        cy_graph_free(m);
        return b.st;
    }
    g->built = 1;
    return CY_OK;
}

cy_status cy_model_set_sppf_act(cy_model *m, int layer, int silu, cy_error *err) {
    if (layer < 0 || layer >= m->nlayers || m->layers[layer].kind != CY_MOD_SPPF)
        return cy_fail(err, CY_ERR_FORMAT, "layer %d is not an SPPF", layer);
    cy_layer *L = &m->layers[layer];
    const int was = cy_model_sppf_cv1_silu(m, L);
    L->sppf_cv1_act = silu ? 2 : 1;
    if (was != !!silu) {
        m->modules += silu ? -1 : 1; /* its own nn.Identity leaf; every SiLU is the one shared module */
        cy_graph_free(m);
    }
    return CY_OK;
}

int cy_model_sppf_cv1_silu(const cy_model *m, const cy_layer *L) {
    return L->sppf_cv1_act ? L->sppf_cv1_act == 2 : L->sppf_short_row && m->task == CY_TASK_SEGMENT;
}

int cy_model_find_entry(const cy_model *m, const char *name) {
    for (int i = 0; i < m->nentries; i++)
        if (!strcmp(m->entries[i].name, name)) return i;
    return -1;
}
