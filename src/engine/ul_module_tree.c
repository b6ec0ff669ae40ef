/* Builds the module tree of ul_module_tree.h. Each m_* function mirrors the
 * __init__ of one torch or Ultralytics class (the decl_* functions of
 * model_build.c mirror the same ones for the state), so the attribute sets
 * and their order are those of the classes; the state entries are taken
 * from the model one by one, in order, and must carry the names and shapes
 * the tree expects. Errors are sticky in the builder: after the first one
 * every helper does nothing and the partial values are freed. */
#include "engine/ul_module_tree.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/half.h"
#include "core/status.h"

typedef struct {
    const cy_model *m;
    int cursor; /* next state entry to place */
    /* share id of the SiLU that Conv blocks made now hold: Conv.default_act
     * (1), or the copy of it in a deep-copied one-to-one branch */
    int64_t act_share;
    cy_status st;
    cy_error *err;
} tb;

/* A module being made: its state dict and the member dicts inside it. */
typedef struct {
    cy_pt_value *st, *params, *bufs, *mods;
} mod;

static int ok(const tb *b) { return b->st == CY_OK; }

static void fail(tb *b, cy_status s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(tb *b, cy_status s, const char *fmt, ...) {
    if (!ok(b)) return;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    b->st = cy_fail(b->err, s, "%s", msg);
}

/* ---- values: NULL once the builder has failed ---- */

#define MAKER(name, call)                          \
    static cy_pt_value *name {                     \
        cy_pt_value *v = NULL;                     \
        if (ok(b)) b->st = call;                   \
        return ok(b) ? v : NULL;                   \
    }
MAKER(v_int(tb *b, int64_t i), cy_pt_int_new(&v, i, b->err))
MAKER(v_float(tb *b, double f), cy_pt_float_new(&v, f, b->err))
MAKER(v_str(tb *b, const char *s), cy_pt_str_new(&v, s, b->err))
MAKER(v_bool(tb *b, int x), cy_pt_bool_new(&v, x, b->err))
MAKER(v_none(tb *b), cy_pt_none_new(&v, b->err))
MAKER(v_dict(tb *b, int ordered), cy_pt_dict_new(&v, ordered, b->err))
MAKER(v_set(tb *b), cy_pt_set_new(&v, b->err))
#undef MAKER

/* d[k] = v; v is freed when it cannot go in (or the builder failed). */
static void put(tb *b, cy_pt_value *d, const char *k, cy_pt_value *v) {
    if (!v) return;
    if (ok(b)) b->st = cy_pt_dict_set_str(d, k, v, b->err);
    if (!ok(b)) cy_pt_value_free(v);
}

static void append(tb *b, cy_pt_value *seq, cy_pt_value *v) {
    if (!v) return;
    if (ok(b)) b->st = cy_pt_append(seq, v, b->err);
    if (!ok(b)) cy_pt_value_free(v);
}

/* A tuple (or list) of ints. */
static cy_pt_value *v_ints(tb *b, int tuple, int n, const int64_t *x) {
    cy_pt_value *t = NULL;
    if (ok(b)) b->st = tuple ? cy_pt_tuple_new(&t, b->err) : cy_pt_list_new(&t, b->err);
    for (int i = 0; i < n && ok(b); i++) append(b, t, v_int(b, x[i]));
    if (!ok(b)) {
        cy_pt_value_free(t);
        return NULL;
    }
    return t;
}
static cy_pt_value *v_pair(tb *b, int64_t x) { return v_ints(b, 1, 2, (int64_t[]){x, x}); }

/* ---- modules ---- */

/* nn.Module.__init__'s attributes, in its order. */
static void mod_begin(tb *b, mod *md) {
    static const char *const hooks[] = {
        "_backward_pre_hooks", "_backward_hooks", NULL /* _is_full_backward_hook */, "_forward_hooks",
        "_forward_hooks_with_kwargs", "_forward_hooks_always_called", "_forward_pre_hooks",
        "_forward_pre_hooks_with_kwargs", "_state_dict_hooks", "_state_dict_pre_hooks",
        "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks"};
    memset(md, 0, sizeof *md);
    if (!(md->st = v_dict(b, 0))) return;
    put(b, md->st, "training", v_bool(b, 0));
    put(b, md->st, "_parameters", md->params = v_dict(b, 0));
    put(b, md->st, "_buffers", md->bufs = v_dict(b, 0));
    put(b, md->st, "_non_persistent_buffers_set", v_set(b));
    for (size_t i = 0; i < sizeof hooks / sizeof *hooks; i++) {
        if (hooks[i]) put(b, md->st, hooks[i], v_dict(b, 1));
        else put(b, md->st, "_is_full_backward_hook", v_none(b));
    }
    put(b, md->st, "_modules", md->mods = v_dict(b, 0));
}

/* The object of class cls with md's state (NULL after a failure). */
static cy_pt_value *mod_end(tb *b, mod *md, const char *cls) {
    cy_pt_value *o = NULL;
    if (ok(b)) b->st = cy_pt_object_new(&o, cls, 0, NULL, md->st, b->err);
    if (!ok(b)) {
        cy_pt_value_free(md->st);
        o = NULL;
    }
    md->st = NULL;
    return o;
}

static void child(tb *b, mod *md, const char *name, cy_pt_value *c) {
    if (ok(b)) put(b, md->mods, name, c);
    else cy_pt_value_free(c);
}

static void child_i(tb *b, mod *md, int i, cy_pt_value *c) {
    char n[16];
    snprintf(n, sizeof n, "%d", i);
    child(b, md, n, c);
}

static void attr(tb *b, mod *md, const char *k, cy_pt_value *v) {
    if (ok(b)) put(b, md->st, k, v);
    else cy_pt_value_free(v);
}

/* The next state entry, which must be prefix.local with this shape, as a
 * tensor: fp16 for floats (save_model's .half()), int64 for counters. */
static cy_pt_value *take(tb *b, const char *prefix, const char *local, int ndim, const int64_t *shape) {
    if (!ok(b)) return NULL;
    char name[CY_NAME_MAX + 64];
    snprintf(name, sizeof name, "%s.%s", prefix, local);
    const cy_model *m = b->m;
    if (b->cursor >= m->nentries || strcmp(m->entries[b->cursor].name, name)) {
        fail(b, CY_ERR_ARG, "internal: the Ultralytics module tree places '%s' where the model's state has '%s'", name,
             b->cursor < m->nentries ? m->entries[b->cursor].name : "(nothing)");
        return NULL;
    }
    const cy_entry *e = &m->entries[b->cursor++];
    int same = e->kind == CY_ENTRY_COUNTER ? ndim == 0 : e->ndim == ndim;
    for (int d = 0; same && d < ndim; d++) same = e->shape[d] == shape[d];
    if (!same) {
        fail(b, CY_ERR_ARG, "internal: '%s' does not have the shape its Ultralytics module gives it", name);
        return NULL;
    }
    cy_pt_value *t = NULL;
    if (e->kind == CY_ENTRY_COUNTER) {
        b->st = cy_pt_tensor_new(&t, CY_PT_DT_I64, 0, NULL, &m->counters[e->offset], b->err);
        return ok(b) ? t : NULL;
    }
    b->st = cy_pt_tensor_new(&t, CY_PT_DT_F16, e->ndim, e->shape, NULL, b->err);
    if (!ok(b)) return NULL;
    const float *src = (e->kind == CY_ENTRY_BUFFER ? m->buffers : m->params) + e->offset;
    uint16_t *dst = (uint16_t *)cy_pt_tensor_data(t);
    for (size_t i = 0; i < e->numel; i++) dst[i] = cy_f32_to_half(src[i]);
    t->u.tensor.param = e->kind == CY_ENTRY_BUFFER ? 0 : 1; /* Parameters, requires_grad False */
    return t;
}

/* nn.Conv2d / nn.ConvTranspose2d (padding k // 2 for Conv2d, 0 transposed) */
static cy_pt_value *m_conv2d(tb *b, const char *p, int c1, int c2, int k, int s, int g, int bias, int transposed) {
    mod md;
    mod_begin(b, &md);
    const int pad = transposed ? 0 : k / 2;
    int64_t ws[4] = {transposed ? c1 : c2, (transposed ? c2 : c1) / g, k, k}, bs[1] = {c2};
    if (ok(b)) put(b, md.params, "weight", take(b, p, "weight", 4, ws));
    if (ok(b)) put(b, md.params, "bias", bias ? take(b, p, "bias", 1, bs) : v_none(b));
    attr(b, &md, "in_channels", v_int(b, c1));
    attr(b, &md, "out_channels", v_int(b, c2));
    attr(b, &md, "kernel_size", v_pair(b, k));
    attr(b, &md, "stride", v_pair(b, s));
    attr(b, &md, "padding", v_pair(b, pad));
    attr(b, &md, "dilation", v_pair(b, 1));
    attr(b, &md, "transposed", v_bool(b, transposed));
    attr(b, &md, "output_padding", v_pair(b, 0));
    attr(b, &md, "groups", v_int(b, g));
    attr(b, &md, "padding_mode", v_str(b, "zeros"));
    attr(b, &md, "_reversed_padding_repeated_twice", v_ints(b, 1, 4, (int64_t[]){pad, pad, pad, pad}));
    return mod_end(b, &md, transposed ? "torch.nn.modules.conv.ConvTranspose2d" : "torch.nn.modules.conv.Conv2d");
}

static cy_pt_value *m_bn(tb *b, const char *p, int c) {
    mod md;
    mod_begin(b, &md);
    int64_t s[1] = {c};
    if (ok(b)) put(b, md.params, "weight", take(b, p, "weight", 1, s));
    if (ok(b)) put(b, md.params, "bias", take(b, p, "bias", 1, s));
    if (ok(b)) put(b, md.bufs, "running_mean", take(b, p, "running_mean", 1, s));
    if (ok(b)) put(b, md.bufs, "running_var", take(b, p, "running_var", 1, s));
    if (ok(b)) put(b, md.bufs, "num_batches_tracked", take(b, p, "num_batches_tracked", 0, NULL));
    attr(b, &md, "num_features", v_int(b, c));
    attr(b, &md, "eps", v_float(b, 1e-3));      /* initialize_weights' values */
    attr(b, &md, "momentum", v_float(b, 0.03));
    attr(b, &md, "affine", v_bool(b, 1));
    attr(b, &md, "track_running_stats", v_bool(b, 1));
    return mod_end(b, &md, "torch.nn.modules.batchnorm.BatchNorm2d");
}

/* SiLU (Conv.default_act) or nn.Identity (act=False) */
static cy_pt_value *m_act(tb *b, int silu) {
    mod md;
    mod_begin(b, &md);
    if (silu) attr(b, &md, "inplace", v_bool(b, 0));
    cy_pt_value *o = mod_end(b, &md, silu ? "torch.nn.modules.activation.SiLU" : "torch.nn.modules.linear.Identity");
    if (o && silu) o->u.obj.share = b->act_share;
    return o;
}

/* Ultralytics Conv(c1, c2, k, s, autopad, g, act) or DWConv (cls) */
static cy_pt_value *m_conv_cls(tb *b, const char *p, int c1, int c2, int k, int s, int g, int act, const char *cls) {
    char n[CY_NAME_MAX + 16];
    mod md;
    mod_begin(b, &md);
    snprintf(n, sizeof n, "%s.conv", p);
    child(b, &md, "conv", m_conv2d(b, n, c1, c2, k, s, g, 0, 0));
    snprintf(n, sizeof n, "%s.bn", p);
    child(b, &md, "bn", m_bn(b, n, c2));
    child(b, &md, "act", m_act(b, act));
    return mod_end(b, &md, cls);
}

static cy_pt_value *m_conv(tb *b, const char *p, int c1, int c2, int k, int s, int g, int act) {
    return m_conv_cls(b, p, c1, c2, k, s, g, act, "ultralytics.nn.modules.conv.Conv");
}

static int gcd(int a, int c) {
    while (c) {
        int t = a % c;
        a = c;
        c = t;
    }
    return a;
}

static cy_pt_value *m_dwconv(tb *b, const char *p, int c1, int c2, int k, int s) {
    return m_conv_cls(b, p, c1, c2, k, s, gcd(c1, c2), 1, "ultralytics.nn.modules.conv.DWConv");
}

#define SEQUENTIAL "torch.nn.modules.container.Sequential"
#define MODULE_LIST "torch.nn.modules.container.ModuleList"

static cy_pt_value *m_bottleneck(tb *b, const char *p, int c1, int c2, int shortcut, int g, int k1, int k2,
                                 double e) {
    char n[CY_NAME_MAX + 16];
    mod md;
    mod_begin(b, &md);
    int c_ = (int)(c2 * e);
    snprintf(n, sizeof n, "%s.cv1", p);
    child(b, &md, "cv1", m_conv(b, n, c1, c_, k1, 1, 1, 1));
    snprintf(n, sizeof n, "%s.cv2", p);
    child(b, &md, "cv2", m_conv(b, n, c_, c2, k2, 1, g, 1));
    attr(b, &md, "add", v_bool(b, shortcut && c1 == c2));
    return mod_end(b, &md, "ultralytics.nn.modules.block.Bottleneck");
}

/* C3 (Bottleneck k=(1, 3)) and C3k (k=(k, k)); inner blocks e=1.0 */
static cy_pt_value *m_c3(tb *b, const char *p, int c1, int c2, int n, int shortcut, int g, double e, int k1, int k2,
                         const char *cls) {
    char s[CY_NAME_MAX + 16];
    mod md, seq;
    mod_begin(b, &md);
    int c_ = (int)(c2 * e);
    snprintf(s, sizeof s, "%s.cv1", p);
    child(b, &md, "cv1", m_conv(b, s, c1, c_, 1, 1, 1, 1));
    snprintf(s, sizeof s, "%s.cv2", p);
    child(b, &md, "cv2", m_conv(b, s, c1, c_, 1, 1, 1, 1));
    snprintf(s, sizeof s, "%s.cv3", p);
    child(b, &md, "cv3", m_conv(b, s, 2 * c_, c2, 1, 1, 1, 1));
    mod_begin(b, &seq);
    for (int i = 0; i < n; i++) {
        snprintf(s, sizeof s, "%s.m.%d", p, i);
        child_i(b, &seq, i, m_bottleneck(b, s, c_, c_, shortcut, g, k1, k2, 1.0));
    }
    child(b, &md, "m", mod_end(b, &seq, SEQUENTIAL));
    return mod_end(b, &md, cls);
}

static cy_pt_value *m_attention(tb *b, const char *p, int dim, int heads, double ratio) {
    char s[CY_NAME_MAX + 16];
    mod md;
    mod_begin(b, &md);
    int hd = dim / heads, kd = (int)(hd * ratio);
    snprintf(s, sizeof s, "%s.qkv", p);
    child(b, &md, "qkv", m_conv(b, s, dim, dim + 2 * kd * heads, 1, 1, 1, 0));
    snprintf(s, sizeof s, "%s.proj", p);
    child(b, &md, "proj", m_conv(b, s, dim, dim, 1, 1, 1, 0));
    snprintf(s, sizeof s, "%s.pe", p);
    child(b, &md, "pe", m_conv(b, s, dim, dim, 3, 1, dim, 0));
    attr(b, &md, "num_heads", v_int(b, heads));
    attr(b, &md, "head_dim", v_int(b, hd));
    attr(b, &md, "key_dim", v_int(b, kd));
    attr(b, &md, "scale", v_float(b, pow((double)kd, -0.5)));
    return mod_end(b, &md, "ultralytics.nn.modules.block.Attention");
}

static cy_pt_value *m_psablock(tb *b, const char *p, int c) {
    char s[CY_NAME_MAX + 16];
    mod md, ffn;
    mod_begin(b, &md);
    snprintf(s, sizeof s, "%s.attn", p);
    child(b, &md, "attn", m_attention(b, s, c, c / 64 > 1 ? c / 64 : 1, 0.5));
    mod_begin(b, &ffn);
    snprintf(s, sizeof s, "%s.ffn.0", p);
    child_i(b, &ffn, 0, m_conv(b, s, c, 2 * c, 1, 1, 1, 1));
    snprintf(s, sizeof s, "%s.ffn.1", p);
    child_i(b, &ffn, 1, m_conv(b, s, 2 * c, c, 1, 1, 1, 0));
    child(b, &md, "ffn", mod_end(b, &ffn, SEQUENTIAL));
    attr(b, &md, "add", v_bool(b, 1));
    return mod_end(b, &md, "ultralytics.nn.modules.block.PSABlock");
}

/* C2f and C3k2 (whose m replaces C2f's, in the same place) */
static cy_pt_value *m_c2f(tb *b, const char *p, const cy_layer *L) {
    char s[CY_NAME_MAX + 16], t[CY_NAME_MAX + 24];
    mod md, ml;
    mod_begin(b, &md);
    const int c = (int)(L->c2 * L->e), n = L->repeats, c3k2 = L->kind == CY_MOD_C3K2;
    snprintf(s, sizeof s, "%s.cv1", p);
    child(b, &md, "cv1", m_conv(b, s, L->c1, 2 * c, 1, 1, 1, 1));
    snprintf(s, sizeof s, "%s.cv2", p);
    child(b, &md, "cv2", m_conv(b, s, (2 + n) * c, L->c2, 1, 1, 1, 1));
    mod_begin(b, &ml);
    for (int i = 0; i < n; i++) {
        snprintf(s, sizeof s, "%s.m.%d", p, i);
        if (!c3k2) {
            child_i(b, &ml, i, m_bottleneck(b, s, c, c, L->shortcut, L->groups, 3, 3, 1.0));
        } else if (L->attn) {
            mod sq;
            mod_begin(b, &sq);
            snprintf(t, sizeof t, "%s.0", s);
            child_i(b, &sq, 0, m_bottleneck(b, t, c, c, L->shortcut, L->groups, 3, 3, 0.5));
            snprintf(t, sizeof t, "%s.1", s);
            child_i(b, &sq, 1, m_psablock(b, t, c));
            child_i(b, &ml, i, mod_end(b, &sq, SEQUENTIAL));
        } else if (L->c3k) {
            child_i(b, &ml, i, m_c3(b, s, c, c, 2, L->shortcut, L->groups, 0.5, 3, 3, "ultralytics.nn.modules.block.C3k"));
        } else {
            child_i(b, &ml, i, m_bottleneck(b, s, c, c, L->shortcut, L->groups, 3, 3, 0.5));
        }
    }
    child(b, &md, "m", mod_end(b, &ml, MODULE_LIST));
    attr(b, &md, "c", v_int(b, c));
    return mod_end(b, &md, c3k2 ? "ultralytics.nn.modules.block.C3k2" : "ultralytics.nn.modules.block.C2f");
}

static cy_pt_value *m_maxpool(tb *b, int k) {
    mod md;
    mod_begin(b, &md);
    attr(b, &md, "kernel_size", v_int(b, k));
    attr(b, &md, "stride", v_int(b, 1));
    attr(b, &md, "padding", v_int(b, k / 2));
    attr(b, &md, "dilation", v_int(b, 1));
    attr(b, &md, "return_indices", v_bool(b, 0));
    attr(b, &md, "ceil_mode", v_bool(b, 0));
    return mod_end(b, &md, "torch.nn.modules.pooling.MaxPool2d");
}

static cy_pt_value *m_sppf(tb *b, const char *p, const cy_layer *L) {
    char s[CY_NAME_MAX + 16];
    mod md;
    mod_begin(b, &md);
    const int c_ = L->c1 / 2;
    snprintf(s, sizeof s, "%s.cv1", p);
    child(b, &md, "cv1", m_conv(b, s, L->c1, c_, 1, 1, 1, cy_model_sppf_cv1_silu(b->m, L)));
    snprintf(s, sizeof s, "%s.cv2", p);
    child(b, &md, "cv2", m_conv(b, s, c_ * (L->pool_n + 1), L->c2, 1, 1, 1, 1));
    child(b, &md, "m", m_maxpool(b, L->pool_k));
    attr(b, &md, "n", v_int(b, L->pool_n));
    attr(b, &md, "add", v_bool(b, L->shortcut && L->c1 == L->c2));
    return mod_end(b, &md, "ultralytics.nn.modules.block.SPPF");
}

static cy_pt_value *m_c2psa(tb *b, const char *p, const cy_layer *L) {
    char s[CY_NAME_MAX + 16];
    mod md, seq;
    mod_begin(b, &md);
    const int c = (int)(L->c1 * L->e);
    snprintf(s, sizeof s, "%s.cv1", p);
    child(b, &md, "cv1", m_conv(b, s, L->c1, 2 * c, 1, 1, 1, 1));
    snprintf(s, sizeof s, "%s.cv2", p);
    child(b, &md, "cv2", m_conv(b, s, 2 * c, L->c1, 1, 1, 1, 1));
    mod_begin(b, &seq);
    for (int i = 0; i < L->repeats; i++) {
        snprintf(s, sizeof s, "%s.m.%d", p, i);
        child_i(b, &seq, i, m_psablock(b, s, c));
    }
    child(b, &md, "m", mod_end(b, &seq, SEQUENTIAL));
    attr(b, &md, "c", v_int(b, c));
    return mod_end(b, &md, "ultralytics.nn.modules.block.C2PSA");
}

static cy_pt_value *m_concat(tb *b) {
    mod md;
    mod_begin(b, &md);
    attr(b, &md, "d", v_int(b, 1));
    return mod_end(b, &md, "ultralytics.nn.modules.conv.Concat");
}

static cy_pt_value *m_upsample(tb *b, int scale) {
    mod md;
    mod_begin(b, &md);
    attr(b, &md, "name", v_str(b, "Upsample"));
    attr(b, &md, "size", v_none(b));
    attr(b, &md, "scale_factor", v_float(b, scale));
    attr(b, &md, "mode", v_str(b, "nearest"));
    attr(b, &md, "align_corners", v_none(b));
    attr(b, &md, "recompute_scale_factor", v_none(b));
    return mod_end(b, &md, "torch.nn.modules.upsampling.Upsample");
}

/* ---- the head ---- */

/* Sequential(Conv(x, c, 3), Conv(c, c, 3), nn.Conv2d(c, cout, 1)) per level */
static cy_pt_value *m_level_branch(tb *b, const char *p, const char *name, const int *ch, int nl, int c, int cout) {
    char s[CY_NAME_MAX + 32];
    mod ml;
    mod_begin(b, &ml);
    for (int i = 0; i < nl; i++) {
        mod sq;
        mod_begin(b, &sq);
        snprintf(s, sizeof s, "%s.%s.%d.0", p, name, i);
        child_i(b, &sq, 0, m_conv(b, s, ch[i], c, 3, 1, 1, 1));
        snprintf(s, sizeof s, "%s.%s.%d.1", p, name, i);
        child_i(b, &sq, 1, m_conv(b, s, c, c, 3, 1, 1, 1));
        snprintf(s, sizeof s, "%s.%s.%d.2", p, name, i);
        child_i(b, &sq, 2, m_conv2d(b, s, c, cout, 1, 1, 1, 1, 0));
        child_i(b, &ml, i, mod_end(b, &sq, SEQUENTIAL));
    }
    return mod_end(b, &ml, MODULE_LIST);
}

/* the class branch of non-legacy heads: [DWConv3x3, Conv1x1] x 2, Conv2d */
static cy_pt_value *m_cls_branch(tb *b, const char *p, const char *name, const int *ch, int nl, int c3, int nc) {
    char s[CY_NAME_MAX + 32];
    mod ml;
    mod_begin(b, &ml);
    for (int i = 0; i < nl; i++) {
        mod sq, a, d;
        mod_begin(b, &sq);
        mod_begin(b, &a);
        snprintf(s, sizeof s, "%s.%s.%d.0.0", p, name, i);
        child_i(b, &a, 0, m_dwconv(b, s, ch[i], ch[i], 3, 1));
        snprintf(s, sizeof s, "%s.%s.%d.0.1", p, name, i);
        child_i(b, &a, 1, m_conv(b, s, ch[i], c3, 1, 1, 1, 1));
        child_i(b, &sq, 0, mod_end(b, &a, SEQUENTIAL));
        mod_begin(b, &d);
        snprintf(s, sizeof s, "%s.%s.%d.1.0", p, name, i);
        child_i(b, &d, 0, m_dwconv(b, s, c3, c3, 3, 1));
        snprintf(s, sizeof s, "%s.%s.%d.1.1", p, name, i);
        child_i(b, &d, 1, m_conv(b, s, c3, c3, 1, 1, 1, 1));
        child_i(b, &sq, 1, mod_end(b, &d, SEQUENTIAL));
        snprintf(s, sizeof s, "%s.%s.%d.2", p, name, i);
        child_i(b, &sq, 2, m_conv2d(b, s, c3, nc, 1, 1, 1, 1, 0));
        child_i(b, &ml, i, mod_end(b, &sq, SEQUENTIAL));
    }
    return mod_end(b, &ml, MODULE_LIST);
}

static cy_pt_value *m_dfl(tb *b, const char *p, int c1) {
    char s[CY_NAME_MAX + 16];
    mod md;
    mod_begin(b, &md);
    snprintf(s, sizeof s, "%s.dfl.conv", p);
    child(b, &md, "conv", m_conv2d(b, s, c1, 1, 1, 1, 1, 0, 0));
    attr(b, &md, "c1", v_int(b, c1));
    return mod_end(b, &md, "ultralytics.nn.modules.block.DFL");
}

/* Proto(c1, c_, nm), or Proto26(ch, c_, nm, nc): Proto(c_, c_, nm) then the
 * level fusion and the semantic branch */
static cy_pt_value *m_proto(tb *b, const char *p, const int *ch) {
    const cy_model *m = b->m;
    char s[CY_NAME_MAX + 32];
    mod md;
    mod_begin(b, &md);
    const int c_ = m->npr, c1 = m->proto26 ? c_ : ch[0];
    snprintf(s, sizeof s, "%s.proto.cv1", p);
    child(b, &md, "cv1", m_conv(b, s, c1, c_, 3, 1, 1, 1));
    snprintf(s, sizeof s, "%s.proto.upsample", p);
    child(b, &md, "upsample", m_conv2d(b, s, c_, c_, 2, 2, 1, 1, 1));
    snprintf(s, sizeof s, "%s.proto.cv2", p);
    child(b, &md, "cv2", m_conv(b, s, c_, c_, 3, 1, 1, 1));
    snprintf(s, sizeof s, "%s.proto.cv3", p);
    child(b, &md, "cv3", m_conv(b, s, c_, m->nm, 1, 1, 1, 1));
    if (m->proto26) {
        mod fr, sem;
        mod_begin(b, &fr);
        for (int i = 1; i < m->nl; i++) {
            snprintf(s, sizeof s, "%s.proto.feat_refine.%d", p, i - 1);
            child_i(b, &fr, i - 1, m_conv(b, s, ch[i], ch[0], 1, 1, 1, 1));
        }
        child(b, &md, "feat_refine", mod_end(b, &fr, MODULE_LIST));
        snprintf(s, sizeof s, "%s.proto.feat_fuse", p);
        child(b, &md, "feat_fuse", m_conv(b, s, ch[0], c_, 3, 1, 1, 1));
        mod_begin(b, &sem);
        snprintf(s, sizeof s, "%s.proto.semseg.0", p);
        child_i(b, &sem, 0, m_conv(b, s, ch[0], c_, 3, 1, 1, 1));
        snprintf(s, sizeof s, "%s.proto.semseg.1", p);
        child_i(b, &sem, 1, m_conv(b, s, c_, c_, 3, 1, 1, 1));
        snprintf(s, sizeof s, "%s.proto.semseg.2", p);
        child_i(b, &sem, 2, m_conv2d(b, s, c_, m->nc, 1, 1, 1, 1, 0));
        child(b, &md, "semseg", mod_end(b, &sem, SEQUENTIAL));
    }
    return mod_end(b, &md, m->proto26 ? "ultralytics.nn.modules.block.Proto26" : "ultralytics.nn.modules.block.Proto");
}

/* A float tensor of n values in dtype (fp16 or fp32). */
static cy_pt_value *v_floats(tb *b, cy_pt_dtype dt, int ndim, const int64_t *shape, const float *x) {
    cy_pt_value *t = NULL;
    if (!ok(b)) return NULL;
    b->st = cy_pt_tensor_new(&t, dt, ndim, shape, dt == CY_PT_DT_F32 ? x : NULL, b->err);
    if (!ok(b)) return NULL;
    if (dt == CY_PT_DT_F16) {
        uint16_t *d = (uint16_t *)cy_pt_tensor_data(t);
        for (int64_t i = 0; i < cy_pt_tensor_numel(t); i++) d[i] = cy_f32_to_half(x[i]);
    }
    return t;
}

/* The anchor cache Detect._get_decode_boxes leaves after a forward of a
 * (1, 3, imgsz, imgsz) batch: anchors (2, A) at cell centres, strides
 * (1, A), and the P3 feature shape it was made for. */
static void head_cache(tb *b, mod *md, int imgsz, int c_p3) {
    const cy_model *m = b->m;
    int64_t a = 0;
    for (int l = 0; l < m->nl; l++) a += (int64_t)(imgsz / m->stride[l]) * (imgsz / m->stride[l]);
    float *xy = malloc(sizeof(float) * 3 * (size_t)(a ? a : 1));
    if (!xy) {
        fail(b, CY_ERR_MEMORY, "out of memory");
        return;
    }
    int64_t k = 0;
    for (int l = 0; l < m->nl; l++) {
        const int n = imgsz / m->stride[l];
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++, k++) {
                xy[k] = (float)x + 0.5f;
                xy[a + k] = (float)y + 0.5f;
                xy[2 * a + k] = (float)m->stride[l];
            }
    }
    attr(b, md, "anchors", v_floats(b, CY_PT_DT_F16, 2, (int64_t[]){2, a}, xy));
    attr(b, md, "strides", v_floats(b, CY_PT_DT_F16, 2, (int64_t[]){1, a}, xy + 2 * a));
    free(xy);
    /* torch.Size([1, C, H/8, W/8]) */
    const int64_t s0 = imgsz / m->stride[0];
    cy_pt_value *size = v_ints(b, 1, 4, (int64_t[]){1, c_p3, s0, s0});
    if (size) size->u.seq.py = CY_PT_SEQ_SIZE;
    attr(b, md, "shape", size);
}

static cy_pt_value *m_head(tb *b, const char *p, const cy_layer *L) {
    const cy_model *m = b->m;
    int ch[CY_MAX_LEVELS];
    for (int i = 0; i < m->nl; i++) ch[i] = m->layers[L->from[i]].c2;
    int c2 = ch[0] / 4;
    if (c2 < 16) c2 = 16;
    if (c2 < 4 * m->reg_max) c2 = 4 * m->reg_max;
    int c3 = m->nc < 100 ? m->nc : 100;
    if (c3 < ch[0]) c3 = ch[0];
    const int seg = m->task == CY_TASK_SEGMENT, c4 = ch[0] / 4 > m->nm ? ch[0] / 4 : m->nm;
    mod md;
    mod_begin(b, &md);
    /* one2one_cv2/cv3/cv4 are copy.deepcopy of cv2/cv3/cv4: each copy holds
     * a SiLU of its own */
    for (int o2o = 0; o2o <= (m->end2end ? 1 : 0); o2o++) {
        b->act_share = o2o ? 2 : 1;
        child(b, &md, o2o ? "one2one_cv2" : "cv2",
              m_level_branch(b, p, o2o ? "one2one_cv2" : "cv2", ch, m->nl, c2, 4 * m->reg_max));
        const char *cn = o2o ? "one2one_cv3" : "cv3";
        b->act_share = o2o ? 3 : 1;
        child(b, &md, cn, m->legacy ? m_level_branch(b, p, cn, ch, m->nl, c3, m->nc)
                                    : m_cls_branch(b, p, cn, ch, m->nl, c3, m->nc));
        if (!o2o) child(b, &md, "dfl", m->reg_max > 1 ? m_dfl(b, p, m->reg_max) : m_act(b, 0));
    }
    b->act_share = 1;
    if (seg) {
        child(b, &md, "proto", m_proto(b, p, ch));
        child(b, &md, "cv4", m_level_branch(b, p, "cv4", ch, m->nl, c4, m->nm));
        b->act_share = 4;
        if (m->end2end) child(b, &md, "one2one_cv4", m_level_branch(b, p, "one2one_cv4", ch, m->nl, c4, m->nm));
        b->act_share = 1;
    }
    float st[CY_MAX_LEVELS];
    for (int l = 0; l < m->nl; l++) st[l] = (float)m->stride[l];
    attr(b, &md, "nc", v_int(b, m->nc));
    attr(b, &md, "nl", v_int(b, m->nl));
    attr(b, &md, "reg_max", v_int(b, m->reg_max));
    attr(b, &md, "no", v_int(b, m->nc + 4 * m->reg_max));
    attr(b, &md, "stride", v_floats(b, CY_PT_DT_F16, 1, (int64_t[]){m->nl}, st));
    if (seg) {
        attr(b, &md, "nm", v_int(b, m->nm));
        attr(b, &md, "npr", v_int(b, m->npr));
    }
    /* np, i, f, type follow (parse_model), then what the model's __init__,
     * the trainer and the validator leave on the head */
    return mod_end(b, &md, L->type);
}

static void head_tail(tb *b, cy_pt_value *head, const cy_ul_tree_meta *meta, int c_p3) {
    if (!ok(b)) return;
    mod md = {.st = head->u.obj.state};
    attr(b, &md, "inplace", v_bool(b, 1));
    if (meta->imgsz > 0) head_cache(b, &md, meta->imgsz, c_p3);
    attr(b, &md, "max_det", v_int(b, meta->max_det > 0 ? meta->max_det : 300));
    /* the trainer's validator sets end2end = (nms is False), False by default */
    attr(b, &md, "_end2end", v_bool(b, 0));
}

/* ---- layers and the model ---- */

static cy_pt_value *m_layer(tb *b, const cy_layer *L) {
    char p[32];
    snprintf(p, sizeof p, "model.%d", L->index);
    switch (L->kind) {
    case CY_MOD_CONV: return m_conv(b, p, L->c1, L->c2, L->k, L->s, L->groups, 1);
    case CY_MOD_DWCONV: return m_dwconv(b, p, L->c1, L->c2, L->k, L->s);
    case CY_MOD_BOTTLENECK: return m_bottleneck(b, p, L->c1, L->c2, L->shortcut, L->groups, 3, 3, L->e);
    case CY_MOD_C3:
        return m_c3(b, p, L->c1, L->c2, L->repeats, L->shortcut, L->groups, L->e, 1, 3, "ultralytics.nn.modules.block.C3");
    case CY_MOD_C3K:
        return m_c3(b, p, L->c1, L->c2, L->repeats, L->shortcut, L->groups, L->e, L->k, L->k,
                    "ultralytics.nn.modules.block.C3k");
    case CY_MOD_C2F:
    case CY_MOD_C3K2: return m_c2f(b, p, L);
    case CY_MOD_SPPF: return m_sppf(b, p, L);
    case CY_MOD_C2PSA: return m_c2psa(b, p, L);
    case CY_MOD_CONCAT: return m_concat(b);
    case CY_MOD_UPSAMPLE: return m_upsample(b, L->scale);
    case CY_MOD_DETECT: return m_head(b, p, L);
    }
    fail(b, CY_ERR_UNSUPPORTED, "layer %d: no Ultralytics module for it", L->index);
    return NULL;
}

/* Python's x % i (the result takes the sign of i) */
static int pymod(int x, int i) { return ((x % i) + i) % i; }

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

cy_status cy_ul_module_tree(const cy_model *m, cy_ul_tree_meta *meta, cy_pt_value **out, cy_error *err) {
    *out = NULL;
    tb b = {.m = m, .err = err, .act_share = 1};
    if (m->nl < 1 || m->nl > CY_MAX_LEVELS || m->detect_layer != m->nlayers - 1)
        return cy_fail(err, CY_ERR_UNSUPPORTED, "the model does not end in a Detect or Segment head");
    int imgsz = meta->imgsz, smax = 1;
    for (int l = 0; l < m->nl; l++) smax = m->stride[l] > smax ? m->stride[l] : smax;
    if (imgsz > 0) imgsz = (imgsz + smax - 1) / smax * smax; /* check_imgsz rounds up to the stride */
    cy_ul_tree_meta mt = *meta;
    mt.imgsz = imgsz;

    mod root, seq;
    mod_begin(&b, &root);
    mod_begin(&b, &seq);
    int *save = malloc(sizeof(int) * (size_t)(m->nlayers * CY_MAX_FROM + 1));
    int nsave = 0;
    if (!save) fail(&b, CY_ERR_MEMORY, "out of memory");
    for (int i = 0; i < m->nlayers && ok(&b); i++) {
        const cy_layer *L = &m->layers[i];
        cy_pt_value *o = m_layer(&b, L);
        if (!ok(&b)) {
            cy_pt_value_free(o);
            break;
        }
        mod lm = {.st = o->u.obj.state};
        attr(&b, &lm, "np", v_int(&b, L->params));
        attr(&b, &lm, "i", v_int(&b, L->index));
        if (L->from_is_list) {
            int64_t f[CY_MAX_FROM];
            for (int j = 0; j < L->nfrom; j++) f[j] = L->from_raw[j];
            attr(&b, &lm, "f", v_ints(&b, 0, L->nfrom, f));
        } else {
            attr(&b, &lm, "f", v_int(&b, L->from_raw[0]));
        }
        attr(&b, &lm, "type", v_str(&b, L->type));
        if (L->kind == CY_MOD_DETECT) head_tail(&b, o, &mt, m->layers[L->from[0]].c2);
        for (int j = 0; j < L->nfrom; j++)
            if (L->from_raw[j] != -1 && i > 0) save[nsave++] = pymod(L->from_raw[j], i);
        child_i(&b, &seq, i, o);
    }
    child(&b, &root, "model", mod_end(&b, &seq, SEQUENTIAL));
    if (ok(&b) && b.cursor != m->nentries)
        fail(&b, CY_ERR_ARG, "internal: the Ultralytics module tree leaves '%s' of the model's state out",
             m->entries[b.cursor].name);
    /* DetectionModel.__init__: yaml, save, names, inplace, stride; the
     * trainer: nc, args; the loss: criterion (None once saved) */
    if (ok(&b) && (b.st = cy_pt_dict_set_str(root.st, "yaml", meta->yaml, err)) == CY_OK) meta->yaml = NULL;
    if (save && ok(&b)) {
        qsort(save, (size_t)nsave, sizeof *save, cmp_int);
        int64_t *s64 = malloc(sizeof(int64_t) * (size_t)(nsave + 1));
        if (!s64) fail(&b, CY_ERR_MEMORY, "out of memory");
        for (int i = 0; s64 && i < nsave; i++) s64[i] = save[i];
        if (s64) attr(&b, &root, "save", v_ints(&b, 0, nsave, s64));
        free(s64);
    }
    free(save);
    if (ok(&b) && (b.st = cy_pt_dict_set_str(root.st, "names", meta->names, err)) == CY_OK) meta->names = NULL;
    attr(&b, &root, "inplace", v_bool(&b, 1));
    float st[CY_MAX_LEVELS];
    for (int l = 0; l < m->nl; l++) st[l] = (float)m->stride[l];
    attr(&b, &root, "stride", v_floats(&b, CY_PT_DT_F32, 1, (int64_t[]){m->nl}, st)); /* not a buffer: .half() skips it */
    attr(&b, &root, "nc", v_int(&b, m->nc));
    if (!meta->args) attr(&b, &root, "args", v_dict(&b, 0));
    else if (ok(&b) && (b.st = cy_pt_dict_set_str(root.st, "args", meta->args, err)) == CY_OK) meta->args = NULL;
    attr(&b, &root, "criterion", v_none(&b));
    *out = mod_end(&b, &root, m->task == CY_TASK_SEGMENT ? "ultralytics.nn.tasks.SegmentationModel"
                                                         : "ultralytics.nn.tasks.DetectionModel");
    if (!ok(&b)) {
        cy_pt_value_free(*out);
        *out = NULL;
    }
    return b.st;
}
