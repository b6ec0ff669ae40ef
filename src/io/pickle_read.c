/* Restricted unpickler for .pt checkpoints. It runs nothing: GLOBAL resolves
 * only names on a whitelist (collections.OrderedDict, the torch tensor
 * rebuild functions, torch.<T>Storage classes, set, torch.Size (read as a
 * list and a tuple marked with the type they were), getattr on
 * an allowed class, numpy number scalars and the latin-1 _codecs.encode
 * that carries their bytes) and classes that are safe to keep as inert named objects
 * (CamelCase classes under ultralytics.* and torch.nn.modules.*, namespaces).
 * REDUCE, NEWOBJ and BUILD on such a class make a CY_PT_OBJECT holding the
 * class name, the arguments and the state (and which opcode made it);
 * nothing is imported or called. Parameters are read as tensors marked
 * with their requires_grad (u.tensor.param).
 * Every other name is refused before anything is built. Opcodes: the binary
 * ones of protocols 2 to 5 (out-of-band buffers and extension codes are
 * refused).
 *
 * Ownership: the tree is single-owner, while a pickle may refer to one
 * object twice through the memo. A value that already has a parent is
 * cloned when placed a second time (exact for acyclic pickles, which is what
 * Python writes unless the data is recursive; recursion is refused). Every
 * value made here is registered, so on any error (or for scratch values such
 * as an REDUCE's argument tuple) each is freed exactly once. */
#include "io/pickle.h"
#include "core/status.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Budgets: far above any real checkpoint, far below what hurts. */
#define MAX_VALUES (1u << 20) /* non-tensor values: real checkpoints hold thousands */
#define MAX_STR_BYTES ((size_t)512 << 20)
/* Clones of shared values may multiply what the bytes spell out, but a real
 * pickle never needs more than this many values or string bytes per byte
 * (Ultralytics' module trees: about 1 value per 3 bytes). */
#define VALUES_PER_BYTE 64
#define MAX_MEMO (4u << 20)
#define MAX_MARKS 100000
#define MAX_NAME 256

enum {
    G_ORDERED_DICT = 1, G_REBUILD_V2, G_REBUILD_PARAM, G_REBUILD_PARAM_STATE, G_STORAGE_CLASS,
    G_SET,      /* set / frozenset: read as a list */
    G_SIZE,     /* torch.Size: read as a tuple of ints */
    G_GETATTR,  /* getattr(<allowed class>, name): another class name */
    G_CLASS,    /* a class kept as inert objects; internal.name is its dotted name */
    G_NP_DTYPE, /* numpy.dtype: makes an IN_NP_DTYPE */
    G_NP_SCALAR,   /* numpy's multiarray.scalar(dtype, bytes): a number */
    G_CODECS_ENCODE, /* _codecs.encode(str, 'latin1'): bytes (protocol 2's bytes) */
    IN_STORAGE,
    IN_NP_DTYPE /* a numpy dtype; internal.a packs kind, size and byte order (np_dtype_pack) */
};

typedef struct {
    const uint8_t *p, *end, *start;
    const char *what;
    cy_error *err;
    cy_pt_vec reg;
    cy_pt_value **stack;
    size_t sp, scap;
    size_t *marks;
    size_t nmarks, mcap;
    cy_pt_value **memo;
    size_t memo_cap, memo_n;
    cy_pickle_storages *st;
    uint32_t *sidx; /* storage key hash: slot = entry + 1 */
    size_t sidx_cap;
} reader;

static cy_status bad(reader *r, const char *fmt, const char *detail) {
    char m[200];
    snprintf(m, sizeof m, fmt, detail ? detail : "");
    return cy_fail(r->err, CY_ERR_FORMAT, "%s: %s (pickle offset %zu)", r->what, m,
                   (size_t)(r->p - r->start));
}
static cy_status unsupported(reader *r, const char *fmt, const char *detail) {
    char m[300];
    snprintf(m, sizeof m, fmt, detail ? detail : "");
    return cy_fail(r->err, CY_ERR_UNSUPPORTED, "%s: %s", r->what, m);
}
static cy_status oom_or_budget(reader *r) {
    if (r->reg.len >= r->reg.limit || r->reg.bytes >= r->reg.bytes_limit)
        return bad(r, "too many values (more than a checkpoint can hold)", NULL);
    return cy_fail(r->err, CY_ERR_MEMORY, "%s: out of memory reading the pickle", r->what);
}

static cy_pt_value *mk(reader *r, cy_pt_kind k) { return cy_pt__alloc(k, &r->reg); }

static cy_status need(reader *r, size_t n) {
    if ((size_t)(r->end - r->p) < n) return bad(r, "pickle ends early%s", NULL);
    return CY_OK;
}

static cy_status push(reader *r, cy_pt_value *v) {
    if (!v) return oom_or_budget(r);
    if (r->sp == r->scap) {
        size_t cap = r->scap ? r->scap * 2 : 64;
        cy_pt_value **s = realloc(r->stack, cap * sizeof *s);
        if (!s) return oom_or_budget(r);
        r->stack = s;
        r->scap = cap;
    }
    r->stack[r->sp++] = v;
    return CY_OK;
}

static size_t base(const reader *r) { return r->nmarks ? r->marks[r->nmarks - 1] : 0; }

static cy_status pop(reader *r, cy_pt_value **v) {
    if (r->sp <= base(r)) return bad(r, "pickle pops an empty stack%s", NULL);
    *v = r->stack[--r->sp];
    return CY_OK;
}
static cy_status top(reader *r, cy_pt_value **v) {
    if (r->sp <= base(r)) return bad(r, "pickle reads an empty stack%s", NULL);
    *v = r->stack[r->sp - 1];
    return CY_OK;
}

/* The container under a popped mark at from (APPENDS, SETITEMS). */
static cy_status below_mark(reader *r, size_t from, cy_pt_value **v) {
    if (from <= base(r)) return bad(r, "pickle adds items to nothing%s", NULL);
    *v = r->stack[from - 1];
    return CY_OK;
}

/* Makes v ready to go under parent: clones it when it already has a parent,
 * refuses cycles and deep nesting. */
static cy_status prepare(reader *r, cy_pt_value *parent, cy_pt_value **v) {
    if ((*v)->parent) {
        cy_pt_value *c;
        if (cy_pt__clone_reg(&c, *v, &r->reg, NULL)) return oom_or_budget(r);
        *v = c;
    }
    const char *why;
    if (cy_pt__check_link(parent, *v, &why)) {
        if (!strcmp(why, "containers nest too deeply"))
            return bad(r, "containers nest deeper than the limit%s", NULL);
        return unsupported(r, "the pickle holds a recursive structure%s", NULL);
    }
    return CY_OK;
}

static cy_status seq_add(reader *r, cy_pt_value *seq, cy_pt_value *item) {
    CY_TRY(prepare(r, seq, &item));
    if (cy_pt__seq_push(seq, item)) return oom_or_budget(r);
    return CY_OK;
}

static cy_status dict_add(reader *r, cy_pt_value *d, cy_pt_value *k, cy_pt_value *v) {
    if (!cy_pt__key_ok(k)) return unsupported(r, "dict key of kind %s is not supported", cy_pt_kind_name(k->kind));
    CY_TRY(prepare(r, d, &k));
    CY_TRY(prepare(r, d, &v));
    if (v == k) {
        cy_pt_value *c;
        if (cy_pt__clone_reg(&c, v, &r->reg, NULL)) return oom_or_budget(r);
        v = c;
    }
    cy_pt_value *ok, *ov; /* replaced entries stay registered: freed at the end */
    if (cy_pt__dict_insert(d, k, v, &ok, &ov)) return oom_or_budget(r);
    return CY_OK;
}

/* ---- readers of operands ---- */

static uint32_t rd_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A str (or, with kind CY_PT_BYTES, bytes) of n bytes at s. */
static cy_status new_text(reader *r, cy_pt_kind kind, const uint8_t *s, size_t n) {
    if (kind == CY_PT_STR && !cy_pt__utf8_valid((const char *)s, n))
        return bad(r, "string is not valid UTF-8%s", NULL);
    if (n > r->reg.bytes_limit - r->reg.bytes) return bad(r, "strings exceed the size limit%s", NULL);
    r->reg.bytes += n;
    cy_pt_value *v = mk(r, kind);
    if (!v) return oom_or_budget(r);
    v->u.str.s = malloc(n + 1);
    if (!v->u.str.s) return oom_or_budget(r);
    memcpy(v->u.str.s, s, n);
    v->u.str.s[n] = 0;
    v->u.str.len = n;
    return push(r, v);
}
static cy_status new_str(reader *r, const uint8_t *s, size_t n) { return new_text(r, CY_PT_STR, s, n); }

/* Reads a length of `width` bytes (little-endian) and the text after it. */
static cy_status read_sized(reader *r, int width, cy_pt_kind kind) {
    CY_TRY(need(r, (size_t)width));
    uint64_t n = 0;
    for (int i = 0; i < width; i++) n |= (uint64_t)r->p[i] << (8 * i);
    r->p += width;
    if (n > (uint64_t)(r->end - r->p)) return bad(r, "pickle ends early%s", NULL);
    r->p += n;
    return new_text(r, kind, r->p - n, (size_t)n);
}

static cy_status new_int(reader *r, int64_t i) {
    cy_pt_value *v = mk(r, CY_PT_INT);
    if (v) v->u.i = i;
    return push(r, v);
}

static cy_status read_line(reader *r, char *out) {
    const uint8_t *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    if (!nl) return bad(r, "pickle ends inside a GLOBAL name%s", NULL);
    size_t n = (size_t)(nl - r->p);
    if (n >= MAX_NAME) return bad(r, "GLOBAL name too long%s", NULL);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = r->p[i];
        out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[n] = 0;
    r->p = nl + 1;
    return CY_OK;
}

static int starts_with(const char *s, const char *prefix) { return !strncmp(s, prefix, strlen(prefix)); }

/* A Python identifier that names a class by the naming convention torch
 * and Ultralytics follow: it starts with an upper-case letter, or (lower_ok:
 * Ultralytics' v8DetectionLoss, which mid-training checkpoints pickle as the
 * model's criterion) has an upper-case letter after a lower-case start;
 * functions are all lower-case. */
static int is_class_name(const char *name, int lower_ok) {
    int upper = 0;
    if (!((*name >= 'A' && *name <= 'Z') || (lower_ok && *name >= 'a' && *name <= 'z'))) return 0;
    for (const char *p = name; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
        upper |= *p >= 'A' && *p <= 'Z';
    }
    return upper;
}

/* Classes whose instances are kept as inert named objects: model modules
 * and argument namespaces. Nothing of theirs ever runs, so the name is all
 * that matters; the check keeps the door narrow all the same. */
static int inert_class(const char *mod, const char *name) {
    if (!strcmp(mod, "torch") && !strcmp(name, "device")) return 1; /* a criterion's device: torch.device('cpu') */
    if (!is_class_name(name, starts_with(mod, "ultralytics."))) return 0;
    if (!strcmp(mod, "types")) return !strcmp(name, "SimpleNamespace");
    if (!strcmp(mod, "argparse")) return !strcmp(name, "Namespace");
    return starts_with(mod, "ultralytics.") || starts_with(mod, "torch.nn.modules.");
}

static cy_status global(reader *r, const char *mod, const char *name) {
    int what = 0, dt = -1;
    int builtins = !strcmp(mod, "builtins") || !strcmp(mod, "__builtin__");
    if (!strcmp(mod, "collections") && !strcmp(name, "OrderedDict")) what = G_ORDERED_DICT;
    else if (builtins && (!strcmp(name, "set") || !strcmp(name, "frozenset"))) {
        what = G_SET;
        dt = !strcmp(name, "frozenset"); /* internal.a: 1 for a frozenset */
    }
    else if (builtins && !strcmp(name, "getattr")) what = G_GETATTR;
    else if (!strcmp(mod, "torch") && !strcmp(name, "Size")) what = G_SIZE;
    else if (!strcmp(mod, "torch._utils") && !strcmp(name, "_rebuild_parameter_with_state"))
        what = G_REBUILD_PARAM_STATE;
    else if (inert_class(mod, name)) what = G_CLASS;
    else if (!strcmp(mod, "numpy") && !strcmp(name, "dtype")) what = G_NP_DTYPE;
    else if ((!strcmp(mod, "numpy.core.multiarray") || !strcmp(mod, "numpy._core.multiarray")) &&
             !strcmp(name, "scalar"))
        what = G_NP_SCALAR;
    else if (!strcmp(mod, "_codecs") && !strcmp(name, "encode")) what = G_CODECS_ENCODE;
    else if (!strcmp(mod, "torch._utils") && !strcmp(name, "_rebuild_tensor_v2")) what = G_REBUILD_V2;
    else if (!strcmp(mod, "torch._utils") && !strcmp(name, "_rebuild_parameter")) what = G_REBUILD_PARAM;
    else if (!strcmp(mod, "torch.storage") && !strcmp(name, "UntypedStorage")) { what = G_STORAGE_CLASS; dt = CY_PT_DT_U8; }
    else if (!strcmp(mod, "torch")) {
        for (int t = 0; t < CY_PT_DT_COUNT_; t++) {
            char n[32];
            snprintf(n, sizeof n, "%sStorage", cy_pt__storage_name((cy_pt_dtype)t));
            if (!strcmp(name, n)) { what = G_STORAGE_CLASS; dt = t; }
        }
    }
    if (!what) {
        char full[2 * MAX_NAME + 2];
        snprintf(full, sizeof full, "%s.%s", mod, name);
        return unsupported(r, "pickle refers to %s, which is not allowed", full);
    }
    cy_pt_value *v = mk(r, CY_PT_INTERNAL_);
    if (!v) return oom_or_budget(r);
    v->u.internal.what = what;
    v->u.internal.a = dt;
    if (what == G_CLASS) {
        size_t n = strlen(mod) + strlen(name) + 2;
        if (!(v->u.internal.name = malloc(n))) return oom_or_budget(r);
        snprintf(v->u.internal.name, n, "%s.%s", mod, name);
    }
    return push(r, v);
}

static cy_status memo_put(reader *r, size_t idx) {
    cy_pt_value *v;
    CY_TRY(top(r, &v));
    /* Python numbers memo slots 0, 1, 2, ...: a slot beyond the pickle's size is made up. */
    if (idx >= MAX_MEMO || idx > (size_t)(r->end - r->start) + 1024) return bad(r, "memo index beyond the limit%s", NULL);
    if (idx >= r->memo_cap) {
        size_t cap = r->memo_cap ? r->memo_cap : 256;
        while (cap <= idx) cap *= 2;
        cy_pt_value **m = realloc(r->memo, cap * sizeof *m);
        if (!m) return oom_or_budget(r);
        memset(m + r->memo_cap, 0, (cap - r->memo_cap) * sizeof *m);
        r->memo = m;
        r->memo_cap = cap;
    }
    if (!r->memo[idx]) r->memo_n++;
    r->memo[idx] = v;
    return CY_OK;
}

static cy_status memo_get(reader *r, size_t idx) {
    if (idx >= r->memo_cap || !r->memo[idx]) return bad(r, "memo lookup of an unset slot%s", NULL);
    return push(r, r->memo[idx]);
}

/* Pops the items above the latest mark. */
static cy_status pop_mark(reader *r, size_t *from) {
    if (!r->nmarks) return bad(r, "pickle uses a MARK that is not there%s", NULL);
    *from = r->marks[--r->nmarks];
    return CY_OK;
}

static int is_internal(const cy_pt_value *v, int what) {
    return v->kind == CY_PT_INTERNAL_ && v->u.internal.what == what;
}

/* ---- storages ---- */

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    while (*s) h = (h ^ (uint8_t)*s++) * 1099511628211ull;
    return h;
}

static cy_status storage_ref(reader *r, const cy_pt_value *pid, cy_pt_storage **out) {
    if (pid->kind != CY_PT_TUPLE || pid->u.seq.len != 5)
        return unsupported(r, "persistent id is not a ('storage', ...) tuple%s", NULL);
    cy_pt_value **it = pid->u.seq.items;
    if (it[0]->kind != CY_PT_STR || strcmp(it[0]->u.str.s, "storage"))
        return unsupported(r, "persistent id of a kind other than 'storage'%s", NULL);
    if (!is_internal(it[1], G_STORAGE_CLASS) || it[2]->kind != CY_PT_STR || it[3]->kind != CY_PT_STR ||
        it[4]->kind != CY_PT_INT)
        return bad(r, "malformed storage persistent id%s", NULL);
    const char *key = it[2]->u.str.s;
    size_t klen = it[2]->u.str.len;
    if (klen == 0 || klen > 64 || strlen(key) != klen) return bad(r, "bad storage key%s", NULL);
    cy_pt_dtype dt = (cy_pt_dtype)it[1]->u.internal.a;
    int64_t numel = it[4]->u.i;
    if (numel < 0 || numel > (INT64_C(1) << 60) / (int64_t)cy_pt_dtype_size(dt))
        return bad(r, "storage '%s' has an impossible size", key);
    /* find or add */
    if (r->st->len * 2 >= r->sidx_cap) {
        size_t cap = r->sidx_cap ? r->sidx_cap * 2 : 256;
        uint32_t *ix = calloc(cap, sizeof *ix);
        if (!ix) return oom_or_budget(r);
        for (size_t i = 0; i < r->st->len; i++) {
            size_t j = hash_str(r->st->items[i].key) & (cap - 1);
            while (ix[j]) j = (j + 1) & (cap - 1);
            ix[j] = (uint32_t)(i + 1);
        }
        free(r->sidx);
        r->sidx = ix;
        r->sidx_cap = cap;
    }
    size_t j = hash_str(key) & (r->sidx_cap - 1);
    for (; r->sidx[j]; j = (j + 1) & (r->sidx_cap - 1)) {
        cy_pickle_storage_ref *e = &r->st->items[r->sidx[j] - 1];
        if (!strcmp(e->key, key)) {
            if (e->s->dtype != dt || e->s->numel != numel)
                return bad(r, "storage '%s' is described two different ways", key);
            *out = e->s;
            return CY_OK;
        }
    }
    if (r->st->len >= MAX_VALUES) return bad(r, "too many storages%s", NULL);
    if (r->st->len == r->st->cap) {
        size_t cap = r->st->cap ? r->st->cap * 2 : 64;
        cy_pickle_storage_ref *n = realloc(r->st->items, cap * sizeof *n);
        if (!n) return oom_or_budget(r);
        r->st->items = n;
        r->st->cap = cap;
    }
    cy_pt_storage *s = cy_pt__storage_new(dt, numel, 0);
    char *k = strdup(key);
    if (!s || !k) { free(s); free(k); return oom_or_budget(r); }
    s->key = (int64_t)r->st->len;
    r->st->items[r->st->len] = (cy_pickle_storage_ref){k, s};
    r->sidx[j] = (uint32_t)(++r->st->len);
    *out = s;
    return CY_OK;
}

static cy_status persid(reader *r) {
    cy_pt_value *pid = NULL;
    CY_TRY(pop(r, &pid));
    cy_pt_storage *s = NULL;
    CY_TRY(storage_ref(r, pid, &s));
    cy_pt_value *v = mk(r, CY_PT_INTERNAL_);
    if (!v) return oom_or_budget(r);
    v->u.internal.what = IN_STORAGE;
    v->u.internal.storage = s;
    s->refs++;
    return push(r, v);
}

/* ---- REDUCE / BUILD ---- */

static cy_status ints_of(reader *r, const cy_pt_value *t, int64_t *out, int *n) {
    if (t->kind != CY_PT_TUPLE || t->u.seq.len > CY_PT_MAX_DIMS)
        return bad(r, "tensor size/stride is not a tuple of at most 8 ints%s", NULL);
    for (size_t i = 0; i < t->u.seq.len; i++) {
        if (t->u.seq.items[i]->kind != CY_PT_INT) return bad(r, "tensor size/stride holds a non-int%s", NULL);
        out[i] = t->u.seq.items[i]->u.i;
    }
    *n = (int)t->u.seq.len;
    return CY_OK;
}

static cy_status rebuild_tensor(reader *r, const cy_pt_value *args, cy_pt_value **out) {
    size_t n = args->u.seq.len;
    cy_pt_value **a = args->u.seq.items;
    if (n != 6 && n != 7) return bad(r, "_rebuild_tensor_v2 with %s arguments", n < 6 ? "too few" : "too many");
    if (!is_internal(a[0], IN_STORAGE) || a[1]->kind != CY_PT_INT || a[4]->kind != CY_PT_BOOL ||
        a[5]->kind != CY_PT_DICT)
        return bad(r, "_rebuild_tensor_v2 arguments of the wrong kinds%s", NULL);
    if (a[5]->u.dict.len) return unsupported(r, "tensors with backward hooks are not supported%s", NULL);
    if (n == 7 && a[6]->kind != CY_PT_NONE && !(a[6]->kind == CY_PT_DICT && a[6]->u.dict.len == 0))
        return unsupported(r, "tensors with extra metadata are not supported%s", NULL);
    int64_t shape[CY_PT_MAX_DIMS], stride[CY_PT_MAX_DIMS];
    int nd, nd2;
    CY_TRY(ints_of(r, a[2], shape, &nd));
    CY_TRY(ints_of(r, a[3], stride, &nd2));
    if (nd != nd2) return bad(r, "tensor size and stride differ in length%s", NULL);
    cy_pt_storage *s = a[0]->u.internal.storage;
    if (cy_pt__view_ok(nd, shape, stride, a[1]->u.i, s->numel))
        return bad(r, "tensor reaches outside its storage%s", NULL);
    cy_pt_value *t = mk(r, CY_PT_TENSOR);
    if (!t) return oom_or_budget(r);
    t->u.tensor.dtype = s->dtype;
    t->u.tensor.ndim = nd;
    memcpy(t->u.tensor.shape, shape, sizeof shape);
    memcpy(t->u.tensor.stride, stride, sizeof stride);
    t->u.tensor.offset = a[1]->u.i;
    t->u.tensor.storage = s;
    s->refs++;
    *out = t;
    return CY_OK;
}

/* An inert instance of class cls; args (a tuple) goes inside it. */
static cy_status make_object(reader *r, const char *cls, cy_pt_value *args, cy_pt_value **out) {
    size_t n = strlen(cls);
    if (n > r->reg.bytes_limit - r->reg.bytes) return bad(r, "strings exceed the size limit%s", NULL);
    r->reg.bytes += n;
    cy_pt_value *o = mk(r, CY_PT_OBJECT);
    if (!o) return oom_or_budget(r);
    if (!(o->u.obj.cls = strdup(cls))) return oom_or_budget(r);
    if (args->u.seq.len) {
        CY_TRY(prepare(r, o, &args));
        o->u.obj.args = args;
        cy_pt__link(o, args);
    }
    *out = o;
    return CY_OK;
}

static int is_identifier(const char *s) {
    if (!*s || (*s >= '0' && *s <= '9')) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

/* ---- numpy scalars ----
 * Ultralytics' checkpoints may hold numpy numbers (an optimizer group's lr
 * set by np.interp during warmup): numpy pickles them as
 * multiarray.scalar(dtype('f8', False, True) + BUILD (3, '<', ...), bytes),
 * the bytes through _codecs.encode(str, 'latin1') under protocol 2. They
 * are read as the plain number; nothing of numpy is run. */

#define NP_BIG_ENDIAN 0x10000

static int64_t np_dtype_pack(char kind, int size) { return (int64_t)(unsigned char)kind | (int64_t)size << 8; }

/* numpy.dtype(name, align, copy): the names numpy writes for its numbers */
static cy_status np_dtype(reader *r, cy_pt_value **a, size_t na, cy_pt_value **out) {
    if (na != 3 || a[0]->kind != CY_PT_STR || a[1]->kind != CY_PT_BOOL || a[2]->kind != CY_PT_BOOL)
        return bad(r, "numpy.dtype with arguments of the wrong kinds%s", NULL);
    const char *s = a[0]->u.str.s; /* kind letter, size digit: "f8", "i2", "b1" */
    char kind = s[0];
    int size = a[0]->u.str.len == 2 ? s[1] - '0' : 0;
    int ok = (kind == 'f' && (size == 4 || size == 8)) ||
             ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8)) ||
             (kind == 'b' && size == 1);
    if (!ok) return unsupported(r, "numpy dtype '%s' is not supported (numbers only)", s);
    cy_pt_value *v = mk(r, CY_PT_INTERNAL_);
    if (!v) return oom_or_budget(r);
    v->u.internal.what = IN_NP_DTYPE;
    v->u.internal.a = np_dtype_pack(kind, size);
    *out = v;
    return CY_OK;
}

/* _codecs.encode(text, 'latin1'): each code point below 256 one byte */
static cy_status codecs_encode(reader *r, cy_pt_value **a, size_t na, cy_pt_value **out) {
    if (na != 2 || a[0]->kind != CY_PT_STR || a[1]->kind != CY_PT_STR ||
        (strcmp(a[1]->u.str.s, "latin1") && strcmp(a[1]->u.str.s, "latin-1")))
        return unsupported(r, "_codecs.encode is allowed only as encode(str, 'latin1')%s", NULL);
    const unsigned char *s = (const unsigned char *)a[0]->u.str.s;
    size_t n = a[0]->u.str.len, k = 0;
    if (n > r->reg.bytes_limit - r->reg.bytes) return bad(r, "strings exceed the size limit%s", NULL);
    r->reg.bytes += n;
    cy_pt_value *v = mk(r, CY_PT_BYTES);
    if (!v || !(v->u.str.s = malloc(n + 1))) return oom_or_budget(r);
    for (size_t i = 0; i < n; k++) { /* valid UTF-8 (checked when read) */
        unsigned cp = s[i];
        if (cp < 0x80) i++;
        else if ((cp & 0xe0) == 0xc0) cp = (cp & 0x1f) << 6 | (s[i + 1] & 0x3f), i += 2;
        else return bad(r, "_codecs.encode: a character outside latin-1%s", NULL);
        if (cp > 0xff) return bad(r, "_codecs.encode: a character outside latin-1%s", NULL);
        v->u.str.s[k] = (char)cp;
    }
    v->u.str.s[k] = 0;
    v->u.str.len = k;
    *out = v;
    return CY_OK;
}

/* multiarray.scalar(dtype, bytes) -> int, float or bool */
static cy_status np_scalar(reader *r, cy_pt_value **a, size_t na, cy_pt_value **out) {
    if (na != 2 || !is_internal(a[0], IN_NP_DTYPE) || a[1]->kind != CY_PT_BYTES)
        return unsupported(r, "numpy scalar with arguments of the wrong kinds (numbers only)%s", NULL);
    int64_t d = a[0]->u.internal.a;
    char kind = (char)(d & 0xff);
    int size = (int)(d >> 8 & 0xff);
    if (a[1]->u.str.len != (size_t)size) return bad(r, "numpy scalar bytes do not match its dtype%s", NULL);
    uint8_t b[8];
    for (int i = 0; i < size; i++) /* little-endian from here on */
        b[i] = (uint8_t)a[1]->u.str.s[(d & NP_BIG_ENDIAN) ? size - 1 - i : i];
    uint64_t u = 0;
    for (int i = 0; i < size; i++) u |= (uint64_t)b[i] << (8 * i);
    cy_pt_value *v = NULL;
    if (kind == 'f') {
        if (!(v = mk(r, CY_PT_FLOAT))) return oom_or_budget(r);
        if (size == 8) memcpy(&v->u.f, &u, 8);
        else {
            uint32_t u32 = (uint32_t)u;
            float f;
            memcpy(&f, &u32, 4);
            v->u.f = f;
        }
    } else if (kind == 'b') {
        if (!(v = mk(r, CY_PT_BOOL))) return oom_or_budget(r);
        v->u.b = u != 0;
    } else {
        if (kind == 'u' && size == 8 && u > (uint64_t)INT64_MAX)
            return unsupported(r, "numpy uint64 scalar above the int64 range%s", NULL);
        int64_t x = (int64_t)u;
        if (kind == 'i' && size < 8 && (u >> (8 * size - 1) & 1)) x = (int64_t)(u | ~((1ull << (8 * size)) - 1));
        if (!(v = mk(r, CY_PT_INT))) return oom_or_budget(r);
        v->u.i = x;
    }
    *out = v;
    return CY_OK;
}

static cy_status reduce(reader *r) {
    cy_pt_value *args = NULL, *fn = NULL;
    CY_TRY(pop(r, &args));
    CY_TRY(top(r, &fn));
    if (fn->kind != CY_PT_INTERNAL_ || fn->u.internal.what == IN_STORAGE ||
        fn->u.internal.what == IN_NP_DTYPE || fn->u.internal.what == G_STORAGE_CLASS)
        return unsupported(r, "pickle calls something that is not an allowed function%s", NULL);
    if (args->kind != CY_PT_TUPLE) return bad(r, "REDUCE arguments are not a tuple%s", NULL);
    cy_pt_value *res = NULL;
    size_t na = args->u.seq.len;
    cy_pt_value **a = args->u.seq.items;
    switch (fn->u.internal.what) {
    case G_ORDERED_DICT:
        if (args->u.seq.len) return unsupported(r, "OrderedDict built from arguments is not supported%s", NULL);
        res = mk(r, CY_PT_DICT);
        if (!res) return oom_or_budget(r);
        res->u.dict.ordered = 1;
        break;
    case G_REBUILD_V2: CY_TRY(rebuild_tensor(r, args, &res)); break;
    case G_REBUILD_PARAM: /* (tensor, requires_grad, backward_hooks) -> the tensor */
        if (args->u.seq.len != 3 || args->u.seq.items[0]->kind != CY_PT_TENSOR)
            return bad(r, "_rebuild_parameter arguments of the wrong kinds%s", NULL);
        if (cy_pt__clone_reg(&res, args->u.seq.items[0], &r->reg, NULL)) return oom_or_budget(r);
        res->u.tensor.param = 1 + (a[1]->kind == CY_PT_BOOL && a[1]->u.b);
        break;
    case G_REBUILD_PARAM_STATE: /* (tensor, requires_grad, hooks, attributes): the tensor */
        if (na != 4 || a[0]->kind != CY_PT_TENSOR)
            return bad(r, "_rebuild_parameter_with_state arguments of the wrong kinds%s", NULL);
        if (cy_pt__clone_reg(&res, a[0], &r->reg, NULL)) return oom_or_budget(r);
        res->u.tensor.param = 1 + (a[1]->kind == CY_PT_BOOL && a[1]->u.b);
        break;
    case G_SET: /* set() or set(list): kept as a list */
        if (na > 1 || (na == 1 && a[0]->kind != CY_PT_LIST && a[0]->kind != CY_PT_TUPLE))
            return bad(r, "set built from something that is not a list%s", NULL);
        if (na == 0) res = mk(r, CY_PT_LIST);
        else if (cy_pt__clone_reg(&res, a[0], &r->reg, NULL)) res = NULL;
        if (!res) return oom_or_budget(r);
        res->kind = CY_PT_LIST;
        res->u.seq.py = fn->u.internal.a ? CY_PT_SEQ_FROZENSET : CY_PT_SEQ_SET;
        break;
    case G_SIZE: /* torch.Size((d0, d1, ...)): the tuple */
        if (na != 1 || a[0]->kind != CY_PT_TUPLE) return bad(r, "torch.Size without a tuple%s", NULL);
        for (size_t i = 0; i < a[0]->u.seq.len; i++)
            if (a[0]->u.seq.items[i]->kind != CY_PT_INT) return bad(r, "torch.Size holds a non-int%s", NULL);
        if (cy_pt__clone_reg(&res, a[0], &r->reg, NULL)) return oom_or_budget(r);
        res->u.seq.py = CY_PT_SEQ_SIZE;
        break;
    case G_GETATTR: { /* getattr(<allowed class>, name): a name, still never looked up */
        if (na != 2 || !is_internal(a[0], G_CLASS) || a[1]->kind != CY_PT_STR || !is_identifier(a[1]->u.str.s))
            return unsupported(r, "getattr is allowed only on an allowed class with a plain name%s", NULL);
        size_t n = strlen(a[0]->u.internal.name) + a[1]->u.str.len + 2;
        if (n > 2 * MAX_NAME) return bad(r, "getattr name too long%s", NULL);
        if (!(res = mk(r, CY_PT_INTERNAL_))) return oom_or_budget(r);
        res->u.internal.what = G_CLASS;
        if (!(res->u.internal.name = malloc(n))) return oom_or_budget(r);
        snprintf(res->u.internal.name, n, "%s.%s", a[0]->u.internal.name, a[1]->u.str.s);
        break;
    }
    case G_CLASS:
        CY_TRY(make_object(r, fn->u.internal.name, args, &res));
        res->u.obj.reduce = 1;
        break;
    case G_NP_DTYPE: CY_TRY(np_dtype(r, a, na, &res)); break;
    case G_NP_SCALAR: CY_TRY(np_scalar(r, a, na, &res)); break;
    case G_CODECS_ENCODE: CY_TRY(codecs_encode(r, a, na, &res)); break;
    default: return unsupported(r, "pickle calls something that is not an allowed function%s", NULL);
    }
    r->stack[r->sp - 1] = res;
    return CY_OK;
}

/* NEWOBJ (cls, args) and NEWOBJ_EX (cls, args, kwargs): only allowed classes. */
static cy_status newobj(reader *r, int ex) {
    cy_pt_value *args = NULL, *kw = NULL, *cls = NULL;
    if (ex) CY_TRY(pop(r, &kw));
    CY_TRY(pop(r, &args));
    CY_TRY(top(r, &cls));
    if (!is_internal(cls, G_CLASS))
        return unsupported(r, "pickle creates an object (NEWOBJ) of something that is not an allowed class%s",
                           NULL);
    if (args->kind != CY_PT_TUPLE) return bad(r, "NEWOBJ arguments are not a tuple%s", NULL);
    if (kw && (kw->kind != CY_PT_DICT || kw->u.dict.len))
        return unsupported(r, "objects made with keyword arguments are not supported%s", NULL);
    cy_pt_value *o = NULL;
    CY_TRY(make_object(r, cls->u.internal.name, args, &o));
    r->stack[r->sp - 1] = o;
    return CY_OK;
}

static cy_status build(reader *r) {
    cy_pt_value *state = NULL, *inst = NULL;
    CY_TRY(pop(r, &state));
    CY_TRY(top(r, &inst));
    /* A state_dict carries its module versions as OrderedDict attributes
     * (_metadata); they are dropped, as load_state_dict does not need them. */
    if (inst->kind == CY_PT_DICT && inst->u.dict.ordered &&
        (state->kind == CY_PT_DICT || state->kind == CY_PT_NONE))
        return CY_OK;
    /* numpy.dtype's state (version, byte order, ...): only the byte order matters */
    if (is_internal(inst, IN_NP_DTYPE)) {
        if (state->kind != CY_PT_TUPLE || state->u.seq.len < 2 || state->u.seq.items[1]->kind != CY_PT_STR ||
            state->u.seq.items[1]->u.str.len != 1 || !strchr("<>|=", state->u.seq.items[1]->u.str.s[0]))
            return bad(r, "numpy dtype state is not (version, byte order, ...)%s", NULL);
        if (state->u.seq.items[1]->u.str.s[0] == '>') inst->u.internal.a |= NP_BIG_ENDIAN;
        return CY_OK;
    }
    /* An inert object keeps its state as it is: __setstate__ never runs. */
    if (inst->kind == CY_PT_OBJECT) {
        if (inst->u.obj.state) return bad(r, "pickle sets the state of one object twice%s", NULL);
        CY_TRY(prepare(r, inst, &state));
        inst->u.obj.state = state;
        cy_pt__link(inst, state);
        return CY_OK;
    }
    return unsupported(r, "pickle sets the state of a %s, which is not allowed", cy_pt_kind_name(inst->kind));
}

/* ---- main loop ---- */

static cy_status step(reader *r, int *done) {
    CY_TRY(need(r, 1));
    uint8_t c = *r->p++;
    cy_pt_value *v = NULL, *k = NULL, *x = NULL;
    size_t from = 0;
    switch (c) {
    case 0x80: /* PROTO */
        CY_TRY(need(r, 1));
        if (*r->p++ > 5) return unsupported(r, "pickle protocol above 5%s", NULL);
        return CY_OK;
    case 0x95: /* FRAME */
        CY_TRY(need(r, 8));
        r->p += 8;
        return CY_OK;
    case '.': /* STOP */
        *done = 1;
        return CY_OK;
    case '(': /* MARK */
        if (r->nmarks >= MAX_MARKS) return bad(r, "too many nested MARKs%s", NULL);
        if (r->nmarks == r->mcap) {
            size_t cap = r->mcap ? r->mcap * 2 : 64;
            size_t *m = realloc(r->marks, cap * sizeof *m);
            if (!m) return oom_or_budget(r);
            r->marks = m;
            r->mcap = cap;
        }
        r->marks[r->nmarks++] = r->sp;
        return CY_OK;
    case 'N': return push(r, mk(r, CY_PT_NONE));
    case 0x88:
    case 0x89:
        v = mk(r, CY_PT_BOOL);
        if (v) v->u.b = c == 0x88;
        return push(r, v);
    case 'K':
        CY_TRY(need(r, 1));
        return new_int(r, *r->p++);
    case 'M':
        CY_TRY(need(r, 2));
        r->p += 2;
        return new_int(r, r->p[-2] | r->p[-1] << 8);
    case 'J':
        CY_TRY(need(r, 4));
        r->p += 4;
        return new_int(r, (int32_t)rd_u32(r->p - 4));
    case 0x8a: { /* LONG1 */
        CY_TRY(need(r, 1));
        size_t n = *r->p++;
        CY_TRY(need(r, n));
        if (n > 8) return unsupported(r, "integer wider than 64 bits%s", NULL);
        uint64_t u = 0;
        for (size_t i = 0; i < n; i++) u |= (uint64_t)r->p[i] << (8 * i);
        if (n && n < 8 && (r->p[n - 1] & 0x80)) u |= ~(uint64_t)0 << (8 * n);
        r->p += n;
        return new_int(r, (int64_t)u);
    }
    case 'G': { /* BINFLOAT, big-endian */
        CY_TRY(need(r, 8));
        uint64_t u = 0;
        for (int i = 0; i < 8; i++) u = u << 8 | r->p[i];
        r->p += 8;
        v = mk(r, CY_PT_FLOAT);
        if (v) memcpy(&v->u.f, &u, 8);
        return push(r, v);
    }
    case 'X': { /* BINUNICODE */
        CY_TRY(need(r, 4));
        size_t n = rd_u32(r->p);
        r->p += 4;
        CY_TRY(need(r, n));
        r->p += n;
        return new_str(r, r->p - n, n);
    }
    case 0x8c: /* SHORT_BINUNICODE */
    case 'U': { /* SHORT_BINSTRING (Python 2 str) */
        CY_TRY(need(r, 1));
        size_t n = *r->p++;
        CY_TRY(need(r, n));
        r->p += n;
        return new_str(r, r->p - n, n);
    }
    case 'c': { /* GLOBAL */
        char mod[MAX_NAME], name[MAX_NAME];
        CY_TRY(read_line(r, mod));
        CY_TRY(read_line(r, name));
        return global(r, mod, name);
    }
    case 0x93: /* STACK_GLOBAL */
        CY_TRY(pop(r, &x));
        CY_TRY(pop(r, &k));
        if (k->kind != CY_PT_STR || x->kind != CY_PT_STR || k->u.str.len >= MAX_NAME ||
            x->u.str.len >= MAX_NAME)
            return bad(r, "STACK_GLOBAL without two short strings%s", NULL);
        return global(r, k->u.str.s, x->u.str.s);
    case ')': return push(r, mk(r, CY_PT_TUPLE));
    case ']': return push(r, mk(r, CY_PT_LIST));
    case '}': return push(r, mk(r, CY_PT_DICT));
    case 0x85:
    case 0x86:
    case 0x87: { /* TUPLE1..3 */
        size_t n = (size_t)(c - 0x84);
        if (r->sp < base(r) + n) return bad(r, "pickle pops an empty stack%s", NULL);
        v = mk(r, CY_PT_TUPLE);
        if (!v) return oom_or_budget(r);
        for (size_t i = r->sp - n; i < r->sp; i++) CY_TRY(seq_add(r, v, r->stack[i]));
        r->sp -= n;
        return push(r, v);
    }
    case 't': /* TUPLE */
        CY_TRY(pop_mark(r, &from));
        v = mk(r, CY_PT_TUPLE);
        if (!v) return oom_or_budget(r);
        for (size_t i = from; i < r->sp; i++) CY_TRY(seq_add(r, v, r->stack[i]));
        r->sp = from;
        return push(r, v);
    case 'a': /* APPEND */
        CY_TRY(pop(r, &x));
        CY_TRY(top(r, &v));
        if (v->kind != CY_PT_LIST) return bad(r, "APPEND to something that is not a list%s", NULL);
        return seq_add(r, v, x);
    case 'e': /* APPENDS */
        CY_TRY(pop_mark(r, &from));
        CY_TRY(below_mark(r, from, &v));
        if (v->kind != CY_PT_LIST) return bad(r, "APPENDS to something that is not a list%s", NULL);
        for (size_t i = from; i < r->sp; i++) CY_TRY(seq_add(r, v, r->stack[i]));
        r->sp = from;
        return CY_OK;
    case 's': /* SETITEM */
        CY_TRY(pop(r, &x));
        CY_TRY(pop(r, &k));
        CY_TRY(top(r, &v));
        if (v->kind != CY_PT_DICT) return bad(r, "SETITEM on something that is not a dict%s", NULL);
        return dict_add(r, v, k, x);
    case 'u': /* SETITEMS */
        CY_TRY(pop_mark(r, &from));
        CY_TRY(below_mark(r, from, &v));
        if (v->kind != CY_PT_DICT) return bad(r, "SETITEMS on something that is not a dict%s", NULL);
        if ((r->sp - from) % 2) return bad(r, "SETITEMS with an odd number of items%s", NULL);
        for (size_t i = from; i < r->sp; i += 2) CY_TRY(dict_add(r, v, r->stack[i], r->stack[i + 1]));
        r->sp = from;
        return CY_OK;
    case 'q':
        CY_TRY(need(r, 1));
        return memo_put(r, *r->p++);
    case 'r':
        CY_TRY(need(r, 4));
        r->p += 4;
        return memo_put(r, rd_u32(r->p - 4));
    case 0x94: return memo_put(r, r->memo_n); /* MEMOIZE */
    case 'h':
        CY_TRY(need(r, 1));
        return memo_get(r, *r->p++);
    case 'j':
        CY_TRY(need(r, 4));
        r->p += 4;
        return memo_get(r, rd_u32(r->p - 4));
    case 'Q': return persid(r);
    case 'R': return reduce(r);
    case 'b': return build(r);
    case 0x81: return newobj(r, 0);
    case 0x92: return newobj(r, 1); /* NEWOBJ_EX */
    case '0': /* POP: an item, or the mark when nothing is above it */
        if (r->sp > base(r)) r->sp--;
        else CY_TRY(pop_mark(r, &from));
        return CY_OK;
    case '1': /* POP_MARK */
        CY_TRY(pop_mark(r, &from));
        r->sp = from;
        return CY_OK;
    case '2': /* DUP */
        CY_TRY(top(r, &v));
        return push(r, v);
    case 'T': { /* BINSTRING: signed 32-bit length */
        CY_TRY(need(r, 4));
        if (r->p[3] & 0x80) return bad(r, "negative string length%s", NULL);
        return read_sized(r, 4, CY_PT_STR);
    }
    case 0x8d: return read_sized(r, 8, CY_PT_STR);   /* BINUNICODE8 */
    case 'C': return read_sized(r, 1, CY_PT_BYTES);  /* SHORT_BINBYTES */
    case 'B': return read_sized(r, 4, CY_PT_BYTES);  /* BINBYTES */
    case 0x8e: return read_sized(r, 8, CY_PT_BYTES); /* BINBYTES8 */
    case 0x96: return read_sized(r, 8, CY_PT_BYTES); /* BYTEARRAY8 */
    case 0x8b: { /* LONG4 */
        CY_TRY(need(r, 4));
        uint32_t n = rd_u32(r->p);
        r->p += 4;
        CY_TRY(need(r, n));
        if (n > 8) return unsupported(r, "integer wider than 64 bits%s", NULL);
        uint64_t u = 0;
        for (uint32_t i = 0; i < n; i++) u |= (uint64_t)r->p[i] << (8 * i);
        if (n && n < 8 && (r->p[n - 1] & 0x80)) u |= ~(uint64_t)0 << (8 * n);
        r->p += n;
        return new_int(r, (int64_t)u);
    }
    case 0x8f: /* EMPTY_SET: kept as a list */
        v = mk(r, CY_PT_LIST);
        if (v) v->u.seq.py = CY_PT_SEQ_SET;
        return push(r, v);
    case 0x90: /* ADDITEMS */
        CY_TRY(pop_mark(r, &from));
        CY_TRY(below_mark(r, from, &v));
        if (v->kind != CY_PT_LIST) return bad(r, "ADDITEMS to something that is not a set%s", NULL);
        for (size_t i = from; i < r->sp; i++) CY_TRY(seq_add(r, v, r->stack[i]));
        r->sp = from;
        return CY_OK;
    case 0x91: /* FROZENSET */
        CY_TRY(pop_mark(r, &from));
        v = mk(r, CY_PT_LIST);
        if (!v) return oom_or_budget(r);
        v->u.seq.py = CY_PT_SEQ_FROZENSET;
        for (size_t i = from; i < r->sp; i++) CY_TRY(seq_add(r, v, r->stack[i]));
        r->sp = from;
        return push(r, v);
    case 0x97:
    case 0x98: return unsupported(r, "pickle uses out-of-band buffers, which a checkpoint never holds%s", NULL);
    default: {
        char op[8];
        snprintf(op, sizeof op, "0x%02x", c);
        return unsupported(r, "pickle opcode %s is not supported", op);
    }
    }
}

/* 0 when no internal value (global, bare storage) is left in the tree. */
static int has_internal(const cy_pt_value *v) {
    switch (v->kind) {
    case CY_PT_INTERNAL_: return 1;
    case CY_PT_LIST:
    case CY_PT_TUPLE:
        for (size_t i = 0; i < v->u.seq.len; i++)
            if (has_internal(v->u.seq.items[i])) return 1;
        return 0;
    case CY_PT_DICT:
        for (size_t i = 0; i < v->u.dict.len; i++)
            if (has_internal(v->u.dict.vals[i])) return 1;
        return 0;
    case CY_PT_OBJECT:
        return (v->u.obj.args && has_internal(v->u.obj.args)) || (v->u.obj.state && has_internal(v->u.obj.state));
    default: return 0;
    }
}

void cy_pickle_storages_free(cy_pickle_storages *t) {
    for (size_t i = 0; i < t->len; i++) {
        free(t->items[i].key);
        cy_pt__storage_unref(t->items[i].s);
    }
    free(t->items);
    t->items = NULL;
    t->len = t->cap = 0;
}

cy_status cy_pickle_load(const uint8_t *buf, size_t len, const char *what,
                         cy_pt_value **root, cy_pickle_storages *st, cy_error *err) {
    return cy_pickle_load_limited(buf, len, what, 0, root, st, err);
}

cy_status cy_pickle_load_limited(const uint8_t *buf, size_t len, const char *what,
                                 size_t max_values, cy_pt_value **root,
                                 cy_pickle_storages *st, cy_error *err) {
    *root = NULL;
    reader r = {.p = buf, .start = buf, .end = buf + len, .what = what, .err = err, .st = st};
    r.reg.limit = max_values && max_values < MAX_VALUES ? max_values : MAX_VALUES;
    if (len < MAX_VALUES && len * VALUES_PER_BYTE + 65536 < r.reg.limit) r.reg.limit = len * VALUES_PER_BYTE + 65536;
    r.reg.bytes_limit = len < MAX_STR_BYTES / VALUES_PER_BYTE ? len * VALUES_PER_BYTE + (1u << 20) : MAX_STR_BYTES;
    cy_status s = CY_OK;
    int done = 0;
    while (!s && !done) s = step(&r, &done);
    cy_pt_value *res = NULL;
    if (!s) s = pop(&r, &res);
    if (!s && res->parent) {
        cy_pt_value *c;
        if (cy_pt__clone_reg(&c, res, &r.reg, NULL)) s = oom_or_budget(&r);
        else res = c;
    }
    if (!s && has_internal(res))
        s = unsupported(&r, "the pickle holds a bare storage or class, not plain data%s", NULL);
    /* Free every registered root other than the result. Collect first: a
     * freed subtree must not be read again. */
    size_t nroots = 0;
    for (size_t i = 0; i < r.reg.len; i++) {
        cy_pt_value *v = r.reg.items[i];
        if (!v->parent && (s || v != res)) r.reg.items[nroots++] = v;
    }
    for (size_t i = 0; i < nroots; i++) cy_pt_value_free(r.reg.items[i]);
    free(r.reg.items);
    free(r.stack);
    free(r.marks);
    free(r.memo);
    free(r.sidx);
    if (s) {
        cy_pickle_storages_free(st);
        return s;
    }
    *root = res;
    return CY_OK;
}
