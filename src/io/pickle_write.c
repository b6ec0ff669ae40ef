/* Pickle protocol 2 writer, byte-for-byte in the style of Python's pickler
 * under torch.save: str as BINUNICODE, small ints as BININT1/2, floats as
 * BINFLOAT, containers batched by 1000 (APPENDS / SETITEMS), OrderedDict as
 * GLOBAL + REDUCE, tensors as _rebuild_tensor_v2 with a persistent id
 * ('storage', torch.<T>Storage, key, 'cpu', numel), Parameters as
 * _rebuild_parameter(tensor, requires_grad, OrderedDict()), sets and
 * torch.Size as set([...]) and torch.Size((...)), objects as
 * GLOBAL + arguments + NEWOBJ (or REDUCE) + state + BUILD, the way torch.save
 * pickles an nn.Module tree. Globals are memoized, and objects marked as
 * one shared object (u.obj.share); nothing else is shared (tensors that
 * share a storage name it by the same record). */
#include "io/pickle.h"
#include "core/status.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BATCH = 1000 };

typedef struct {
    uint8_t *buf;
    size_t len, cap;
    int oom;
    cy_pt_vec *storages;
    /* pointer -> record number (open addressing, slot = key + 1) */
    const cy_pt_storage **hkeys;
    size_t *hvals, hcap;
    /* memo index of each global once written, else -1 */
    long memo_od, memo_rebuild, memo_param, memo_storage[CY_PT_DT_COUNT_];
    long next_memo;
    /* object classes written so far ("module\nname\n") and their memo slots */
    char **cls_names;
    long *cls_memo;
    size_t ncls, cls_cap;
    /* shared objects written so far: share id -> memo slot */
    int64_t *shared_id;
    long *shared_memo;
    size_t nshared, shared_cap;
    cy_error *err;
} writer;

static void put(writer *w, const void *p, size_t n) {
    if (w->oom) return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < w->len + n) cap *= 2;
        uint8_t *b = realloc(w->buf, cap);
        if (!b) { w->oom = 1; return; }
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}
static void op(writer *w, uint8_t c) { put(w, &c, 1); }
static void u32le(writer *w, uint32_t x) {
    uint8_t b[4] = {x & 255, (x >> 8) & 255, (x >> 16) & 255, x >> 24};
    put(w, b, 4);
}

static void w_int(writer *w, int64_t i) {
    if (i >= 0 && i < 256) {
        uint8_t b[2] = {'K', (uint8_t)i};
        put(w, b, 2);
    } else if (i >= 0 && i < 65536) {
        uint8_t b[3] = {'M', i & 255, (uint8_t)(i >> 8)};
        put(w, b, 3);
    } else if (i >= INT32_MIN && i <= INT32_MAX) {
        op(w, 'J');
        u32le(w, (uint32_t)(int32_t)i);
    } else { /* LONG1: minimal little-endian two's complement */
        uint8_t b[8];
        uint64_t u = (uint64_t)i;
        for (int k = 0; k < 8; k++) b[k] = (uint8_t)(u >> (8 * k));
        int n = 8;
        while (n > 1 && ((b[n - 1] == 0 && !(b[n - 2] & 0x80)) ||
                         (b[n - 1] == 0xff && (b[n - 2] & 0x80))))
            n--;
        uint8_t h[2] = {0x8a, (uint8_t)n};
        put(w, h, 2);
        put(w, b, (size_t)n);
    }
}

static void w_float(writer *w, double f) {
    uint64_t u;
    memcpy(&u, &f, 8);
    uint8_t b[9] = {'G'};
    for (int k = 0; k < 8; k++) b[1 + k] = (uint8_t)(u >> (56 - 8 * k));
    put(w, b, 9);
}

static void w_str(writer *w, const char *s, size_t n) {
    op(w, 'X');
    u32le(w, (uint32_t)n);
    put(w, s, n);
}

static void w_memo_put(writer *w, long *slot) {
    long i = w->next_memo++;
    if (i < 256) {
        uint8_t b[2] = {'q', (uint8_t)i};
        put(w, b, 2);
    } else {
        op(w, 'r');
        u32le(w, (uint32_t)i);
    }
    *slot = i;
}

static void w_global(writer *w, const char *mod_name, long *slot) {
    if (*slot >= 0) {
        if (*slot < 256) {
            uint8_t b[2] = {'h', (uint8_t)*slot};
            put(w, b, 2);
        } else {
            op(w, 'j');
            u32le(w, (uint32_t)*slot);
        }
        return;
    }
    op(w, 'c');
    put(w, mod_name, strlen(mod_name)); /* "module\nname\n" */
    w_memo_put(w, slot);
}

static void w_tuple_of_ints(writer *w, int n, const int64_t *x) {
    if (n == 0) { op(w, ')'); return; }
    if (n > 3) op(w, '(');
    for (int i = 0; i < n; i++) w_int(w, x[i]);
    op(w, n == 1 ? 0x85 : n == 2 ? 0x86 : n == 3 ? 0x87 : 't');
}

/* Record number of a storage, assigning the next one on first sight. */
static long storage_key(writer *w, const cy_pt_storage *s) {
    if (w->storages->len * 2 >= w->hcap) {
        size_t cap = w->hcap ? w->hcap * 2 : 256;
        const cy_pt_storage **k = calloc(cap, sizeof *k);
        size_t *v = calloc(cap, sizeof *v);
        if (!k || !v) { free(k); free(v); w->oom = 1; return -1; }
        for (size_t i = 0; i < w->hcap; i++) {
            if (!w->hkeys[i]) continue;
            size_t j = ((uintptr_t)w->hkeys[i] >> 4) & (cap - 1);
            while (k[j]) j = (j + 1) & (cap - 1);
            k[j] = w->hkeys[i];
            v[j] = w->hvals[i];
        }
        free(w->hkeys);
        free(w->hvals);
        w->hkeys = k;
        w->hvals = v;
        w->hcap = cap;
    }
    size_t j = ((uintptr_t)s >> 4) & (w->hcap - 1);
    while (w->hkeys[j]) {
        if (w->hkeys[j] == s) return (long)w->hvals[j];
        j = (j + 1) & (w->hcap - 1);
    }
    if (cy_pt__vec_push(w->storages, (void *)s)) { w->oom = 1; return -1; }
    w->hkeys[j] = s;
    w->hvals[j] = w->storages->len - 1;
    return (long)(w->storages->len - 1);
}

static cy_status w_value(writer *w, const cy_pt_value *v, int depth);

static cy_status w_plain_tensor(writer *w, const cy_pt_value *v);

/* A Parameter: _rebuild_parameter(tensor, requires_grad, OrderedDict()) */
static cy_status w_tensor(writer *w, const cy_pt_value *v) {
    if (!v->u.tensor.param) return w_plain_tensor(w, v);
    w_global(w, "torch._utils\n_rebuild_parameter\n", &w->memo_param);
    CY_TRY(w_plain_tensor(w, v));
    op(w, v->u.tensor.param > 1 ? 0x88 : 0x89);
    w_global(w, "collections\nOrderedDict\n", &w->memo_od);
    op(w, ')');
    op(w, 'R');
    op(w, 0x87);
    op(w, 'R');
    return CY_OK;
}

/* GLOBAL of an object's class: "a.b.Name" is module "a.b", name "Name";
 * Python's protocol-2 pickler spells builtins as __builtin__. */
static cy_status w_class(writer *w, const char *cls) {
    const char *dot = strrchr(cls, '.');
    size_t n = strlen(cls);
    if (!dot || dot == cls || !dot[1] || n > 400)
        return cy_fail(w->err, CY_ERR_ARG, "checkpoint object class '%.80s' is not a dotted name", cls);
    for (const char *p = cls; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '.'))
            return cy_fail(w->err, CY_ERR_ARG, "checkpoint object class '%.80s' is not a dotted name", cls);
    char line[420];
    size_t ml = (size_t)(dot - cls);
    if (ml == 8 && !strncmp(cls, "builtins", 8)) snprintf(line, sizeof line, "__builtin__\n%s\n", dot + 1);
    else snprintf(line, sizeof line, "%.*s\n%s\n", (int)ml, cls, dot + 1);
    for (size_t i = 0; i < w->ncls; i++)
        if (!strcmp(w->cls_names[i], line)) {
            w_global(w, line, &w->cls_memo[i]);
            return CY_OK;
        }
    if (w->ncls == w->cls_cap) {
        size_t cap = w->cls_cap ? 2 * w->cls_cap : 32;
        char **nn = realloc(w->cls_names, cap * sizeof *nn);
        if (nn) w->cls_names = nn;
        long *nm = nn ? realloc(w->cls_memo, cap * sizeof *nm) : NULL;
        if (nm) w->cls_memo = nm;
        if (!nn || !nm) return cy_fail(w->err, CY_ERR_MEMORY, "out of memory pickling a checkpoint");
        w->cls_cap = cap;
    }
    if (!(w->cls_names[w->ncls] = strdup(line))) return cy_fail(w->err, CY_ERR_MEMORY, "out of memory pickling a checkpoint");
    w->cls_memo[w->ncls] = -1;
    w_global(w, line, &w->cls_memo[w->ncls++]);
    return CY_OK;
}

static cy_status w_object(writer *w, const cy_pt_value *v, int depth) {
    const int64_t share = v->u.obj.share;
    for (size_t i = 0; share && i < w->nshared; i++)
        if (w->shared_id[i] == share) {
            w_global(w, "", &w->shared_memo[i]); /* slot set: BINGET */
            return CY_OK;
        }
    CY_TRY(w_class(w, v->u.obj.cls));
    if (v->u.obj.args) CY_TRY(w_value(w, v->u.obj.args, depth + 1));
    else op(w, ')');
    op(w, v->u.obj.reduce ? 'R' : 0x81); /* REDUCE : NEWOBJ */
    if (v->u.obj.state) {
        CY_TRY(w_value(w, v->u.obj.state, depth + 1));
        op(w, 'b'); /* BUILD */
    }
    if (share) {
        if (w->nshared == w->shared_cap) {
            size_t cap = w->shared_cap ? 2 * w->shared_cap : 16;
            int64_t *ni = realloc(w->shared_id, cap * sizeof *ni);
            if (ni) w->shared_id = ni;
            long *nm = ni ? realloc(w->shared_memo, cap * sizeof *nm) : NULL;
            if (nm) w->shared_memo = nm;
            if (!ni || !nm) return cy_fail(w->err, CY_ERR_MEMORY, "out of memory pickling a checkpoint");
            w->shared_cap = cap;
        }
        w->shared_id[w->nshared] = share;
        w_memo_put(w, &w->shared_memo[w->nshared++]);
    }
    return CY_OK;
}

static cy_status w_plain_tensor(writer *w, const cy_pt_value *v) {
    const cy_pt_storage *s = v->u.tensor.storage;
    if (!s || s->dtype != v->u.tensor.dtype || !s->data)
        return cy_fail(w->err, CY_ERR_ARG, "checkpoint tensor has no valid storage");
    long key = storage_key(w, s);
    if (key < 0) return cy_fail(w->err, CY_ERR_MEMORY, "out of memory pickling a checkpoint");
    char name[48], ks[24];
    w_global(w, "torch._utils\n_rebuild_tensor_v2\n", &w->memo_rebuild);
    op(w, '(');
    op(w, '(');
    w_str(w, "storage", 7);
    snprintf(name, sizeof name, "torch\n%sStorage\n", cy_pt__storage_name(s->dtype));
    w_global(w, name, &w->memo_storage[s->dtype]);
    int kn = snprintf(ks, sizeof ks, "%ld", key);
    w_str(w, ks, (size_t)kn);
    w_str(w, "cpu", 3);
    w_int(w, s->numel);
    op(w, 't');
    op(w, 'Q'); /* BINPERSID */
    w_int(w, v->u.tensor.offset);
    w_tuple_of_ints(w, v->u.tensor.ndim, v->u.tensor.shape);
    w_tuple_of_ints(w, v->u.tensor.ndim, v->u.tensor.stride);
    op(w, 0x89); /* requires_grad False */
    w_global(w, "collections\nOrderedDict\n", &w->memo_od);
    op(w, ')');
    op(w, 'R'); /* backward_hooks = OrderedDict() */
    op(w, 't');
    op(w, 'R');
    return CY_OK;
}

static cy_status w_value(writer *w, const cy_pt_value *v, int depth) {
    if (depth > CY_PT_MAX_DEPTH + 1)
        return cy_fail(w->err, CY_ERR_ARG, "checkpoint value nests deeper than %d levels", CY_PT_MAX_DEPTH);
    switch (v->kind) {
    case CY_PT_NONE: op(w, 'N'); break;
    case CY_PT_BOOL: op(w, v->u.b ? 0x88 : 0x89); break;
    case CY_PT_INT: w_int(w, v->u.i); break;
    case CY_PT_FLOAT: w_float(w, v->u.f); break;
    case CY_PT_STR:
        if (v->u.str.len > UINT32_MAX - 1 || !cy_pt__utf8_valid(v->u.str.s, v->u.str.len))
            return cy_fail(w->err, CY_ERR_ARG, "checkpoint string is not valid UTF-8 or too long");
        w_str(w, v->u.str.s, v->u.str.len);
        break;
    case CY_PT_TUPLE: {
        if (v->u.seq.py == CY_PT_SEQ_SIZE) CY_TRY(w_class(w, "torch.Size")); /* torch.Size((d0, ...)) */
        size_t n = v->u.seq.len;
        if (n == 0) { op(w, ')'); break; }
        if (n > 3) op(w, '(');
        for (size_t i = 0; i < n; i++) CY_TRY(w_value(w, v->u.seq.items[i], depth + 1));
        op(w, n == 1 ? 0x85 : n == 2 ? 0x86 : n == 3 ? 0x87 : 't');
        if (v->u.seq.py == CY_PT_SEQ_SIZE) {
            op(w, 0x85);
            op(w, 'R');
        }
        break;
    }
    case CY_PT_LIST: {
        const int set = v->u.seq.py == CY_PT_SEQ_SET || v->u.seq.py == CY_PT_SEQ_FROZENSET;
        if (set) CY_TRY(w_class(w, v->u.seq.py == CY_PT_SEQ_SET ? "builtins.set" : "builtins.frozenset"));
        op(w, ']');
        size_t n = v->u.seq.len;
        for (size_t b = 0; b < n; b += BATCH) {
            size_t e = b + BATCH < n ? b + BATCH : n;
            if (e - b > 1) op(w, '(');
            for (size_t i = b; i < e; i++) CY_TRY(w_value(w, v->u.seq.items[i], depth + 1));
            op(w, e - b > 1 ? 'e' : 'a');
        }
        if (set) { /* set([...]), as protocol 2 pickles a set */
            op(w, 0x85);
            op(w, 'R');
        }
        break;
    }
    case CY_PT_DICT: {
        if (v->u.dict.ordered) {
            w_global(w, "collections\nOrderedDict\n", &w->memo_od);
            op(w, ')');
            op(w, 'R');
        } else {
            op(w, '}');
        }
        size_t n = v->u.dict.len;
        for (size_t b = 0; b < n; b += BATCH) {
            size_t e = b + BATCH < n ? b + BATCH : n;
            if (e - b > 1) op(w, '(');
            for (size_t i = b; i < e; i++) {
                if (!cy_pt__key_ok(v->u.dict.keys[i]))
                    return cy_fail(w->err, CY_ERR_ARG, "checkpoint dict key must be str, int, bool, float or None");
                CY_TRY(w_value(w, v->u.dict.keys[i], depth + 1));
                CY_TRY(w_value(w, v->u.dict.vals[i], depth + 1));
            }
            op(w, e - b > 1 ? 'u' : 's');
        }
        break;
    }
    case CY_PT_TENSOR: CY_TRY(w_tensor(w, v)); break;
    case CY_PT_OBJECT: CY_TRY(w_object(w, v, depth)); break;
    default:
        return cy_fail(w->err, CY_ERR_ARG, "checkpoint value of unknown kind %d", (int)v->kind);
    }
    return w->oom ? cy_fail(w->err, CY_ERR_MEMORY, "out of memory pickling a checkpoint") : CY_OK;
}

cy_status cy_pickle_dump(const cy_pt_value *root, uint8_t **out, size_t *out_len,
                         cy_pt_vec *storages, cy_error *err) {
    *out = NULL;
    *out_len = 0;
    if (!root) return cy_fail(err, CY_ERR_ARG, "pickle: NULL value");
    writer w = {.storages = storages, .memo_od = -1, .memo_rebuild = -1, .memo_param = -1, .err = err};
    for (int i = 0; i < CY_PT_DT_COUNT_; i++) w.memo_storage[i] = -1;
    uint8_t proto[2] = {0x80, 2};
    put(&w, proto, 2);
    cy_status s = w_value(&w, root, 0);
    op(&w, '.');
    if (!s && w.oom) s = cy_fail(err, CY_ERR_MEMORY, "out of memory pickling a checkpoint");
    free(w.hkeys);
    free(w.hvals);
    for (size_t i = 0; i < w.ncls; i++) free(w.cls_names[i]);
    free(w.cls_names);
    free(w.cls_memo);
    free(w.shared_id);
    free(w.shared_memo);
    if (s) {
        free(w.buf);
        return s;
    }
    *out = w.buf;
    *out_len = w.len;
    return CY_OK;
}
