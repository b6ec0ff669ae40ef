/* The value tree behind .pt checkpoints: construction, ownership checks,
 * lookup, tensor access and equality. */
#include "io/pt_internal.h"
#include "core/half.h"
#include "core/status.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- storage ---- */

static const size_t dtype_sizes[CY_PT_DT_COUNT_] = {4, 8, 2, 2, 8, 4, 2, 1, 1, 1};
static const char *const dtype_names[CY_PT_DT_COUNT_] = {
    "float32", "float64", "float16", "bfloat16", "int64",
    "int32",   "int16",   "int8",    "uint8",    "bool"};
static const char *const storage_names[CY_PT_DT_COUNT_] = {
    "Float", "Double", "Half", "BFloat16", "Long", "Int", "Short", "Char", "Byte", "Bool"};

size_t cy_pt_dtype_size(cy_pt_dtype dt) {
    return (unsigned)dt < CY_PT_DT_COUNT_ ? dtype_sizes[dt] : 0;
}
const char *cy_pt_dtype_name(cy_pt_dtype dt) {
    return (unsigned)dt < CY_PT_DT_COUNT_ ? dtype_names[dt] : "?";
}
const char *cy_pt__storage_name(cy_pt_dtype dt) {
    return (unsigned)dt < CY_PT_DT_COUNT_ ? storage_names[dt] : "?";
}

cy_pt_storage *cy_pt__storage_new(cy_pt_dtype dt, int64_t numel, int alloc_data) {
    cy_pt_storage *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->refs = 1;
    s->dtype = dt;
    s->numel = numel;
    s->key = -1;
    if (alloc_data) {
        size_t n = (size_t)numel * dtype_sizes[dt];
        s->data = calloc(n ? n : 1, 1);
        if (!s->data) { free(s); return NULL; }
    }
    return s;
}

void cy_pt__storage_unref(cy_pt_storage *s) {
    if (s && --s->refs == 0) {
        free(s->data);
        free(s);
    }
}

int cy_pt__vec_push(cy_pt_vec *v, void *p) {
    if (v->limit && v->len >= v->limit) return -1;
    if (v->len == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        void **n = realloc(v->items, cap * sizeof *n);
        if (!n) return -1;
        v->items = n;
        v->cap = cap;
    }
    v->items[v->len++] = p;
    return 0;
}

/* ---- allocation and freeing ---- */

cy_pt_value *cy_pt__alloc(cy_pt_kind kind, cy_pt_vec *reg) {
    cy_pt_value *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->kind = kind;
    if (reg && cy_pt__vec_push(reg, v)) { free(v); return NULL; }
    return v;
}

/* Recursion depth is bounded by CY_PT_MAX_DEPTH (checked at every link). */
static void value_free(cy_pt_value *v) {
    if (!v) return;
    switch (v->kind) {
    case CY_PT_STR:
    case CY_PT_BYTES: free(v->u.str.s); break;
    case CY_PT_OBJECT:
        free(v->u.obj.cls);
        value_free(v->u.obj.args);
        value_free(v->u.obj.state);
        break;
    case CY_PT_LIST:
    case CY_PT_TUPLE:
        for (size_t i = 0; i < v->u.seq.len; i++) value_free(v->u.seq.items[i]);
        free(v->u.seq.items);
        break;
    case CY_PT_DICT:
        for (size_t i = 0; i < v->u.dict.len; i++) {
            value_free(v->u.dict.keys[i]);
            value_free(v->u.dict.vals[i]);
        }
        free(v->u.dict.keys);
        free(v->u.dict.vals);
        free(v->u.dict.index);
        break;
    case CY_PT_TENSOR: cy_pt__storage_unref(v->u.tensor.storage); break;
    case CY_PT_INTERNAL_:
        cy_pt__storage_unref(v->u.internal.storage);
        free(v->u.internal.name);
        break;
    default: break;
    }
    free(v);
}

void cy_pt_value_free(cy_pt_value *v) { value_free(v); }

static cy_status oom(cy_error *err) { return cy_fail(err, CY_ERR_MEMORY, "out of memory building a checkpoint value"); }

static cy_status new_scalar(cy_pt_value **out, cy_pt_kind k, cy_error *err) {
    *out = cy_pt__alloc(k, NULL);
    return *out ? CY_OK : oom(err);
}
cy_status cy_pt_none_new(cy_pt_value **out, cy_error *err) { return new_scalar(out, CY_PT_NONE, err); }
cy_status cy_pt_bool_new(cy_pt_value **out, int b, cy_error *err) {
    CY_TRY(new_scalar(out, CY_PT_BOOL, err));
    (*out)->u.b = b != 0;
    return CY_OK;
}
cy_status cy_pt_int_new(cy_pt_value **out, int64_t i, cy_error *err) {
    CY_TRY(new_scalar(out, CY_PT_INT, err));
    (*out)->u.i = i;
    return CY_OK;
}
cy_status cy_pt_float_new(cy_pt_value **out, double f, cy_error *err) {
    CY_TRY(new_scalar(out, CY_PT_FLOAT, err));
    (*out)->u.f = f;
    return CY_OK;
}
cy_status cy_pt_list_new(cy_pt_value **out, cy_error *err) { return new_scalar(out, CY_PT_LIST, err); }
cy_status cy_pt_tuple_new(cy_pt_value **out, cy_error *err) { return new_scalar(out, CY_PT_TUPLE, err); }
cy_status cy_pt_dict_new(cy_pt_value **out, int ordered, cy_error *err) {
    CY_TRY(new_scalar(out, CY_PT_DICT, err));
    (*out)->u.dict.ordered = ordered != 0;
    return CY_OK;
}

int cy_pt__utf8_valid(const char *str, size_t len) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xe0) == 0xc0) { n = 1; cp = c & 0x1f; }
        else if ((c & 0xf0) == 0xe0) { n = 2; cp = c & 0x0f; }
        else if ((c & 0xf8) == 0xf0) { n = 3; cp = c & 0x07; }
        else return 0;
        if (len - i <= n) return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff)
            return 0;
        /* Surrogates are accepted: torch reads with "surrogatepass". */
        i += n + 1;
    }
    return 1;
}

cy_status cy_pt_str_newn(cy_pt_value **out, const char *s, size_t len, cy_error *err) {
    *out = NULL;
    if (!s && len) return cy_fail(err, CY_ERR_ARG, "string value: NULL text");
    if (!cy_pt__utf8_valid(s, len))
        return cy_fail(err, CY_ERR_ARG, "string value is not valid UTF-8");
    if (len > UINT32_MAX - 1)
        return cy_fail(err, CY_ERR_ARG, "string value of %zu bytes is too long", len);
    cy_pt_value *v = cy_pt__alloc(CY_PT_STR, NULL);
    char *c = malloc(len + 1);
    if (!v || !c) { free(v); free(c); return oom(err); }
    if (len) memcpy(c, s, len);
    c[len] = 0;
    v->u.str.s = c;
    v->u.str.len = len;
    *out = v;
    return CY_OK;
}
cy_status cy_pt_str_new(cy_pt_value **out, const char *s, cy_error *err) {
    return cy_pt_str_newn(out, s, s ? strlen(s) : 0, err);
}

/* ---- tensors ---- */

static int64_t shape_numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0) return -1;
        if (shape[d] && n > INT64_MAX / 16 / shape[d]) return -1;
        n *= shape[d];
    }
    return n;
}

cy_status cy_pt_tensor_new(cy_pt_value **out, cy_pt_dtype dtype, int ndim,
                           const int64_t *shape, const void *data, cy_error *err) {
    *out = NULL;
    if ((unsigned)dtype >= CY_PT_DT_COUNT_) return cy_fail(err, CY_ERR_ARG, "tensor: bad dtype %d", (int)dtype);
    if (ndim < 0 || ndim > CY_PT_MAX_DIMS || (ndim && !shape))
        return cy_fail(err, CY_ERR_ARG, "tensor: %d dimensions (at most %d)", ndim, CY_PT_MAX_DIMS);
    int64_t n = shape_numel(ndim, shape);
    if (n < 0) return cy_fail(err, CY_ERR_ARG, "tensor: bad or too large shape");
    cy_pt_value *v = cy_pt__alloc(CY_PT_TENSOR, NULL);
    cy_pt_storage *s = v ? cy_pt__storage_new(dtype, n, 1) : NULL;
    if (!s) { free(v); return oom(err); }
    if (data && n) memcpy(s->data, data, (size_t)n * dtype_sizes[dtype]);
    v->u.tensor.dtype = dtype;
    v->u.tensor.ndim = ndim;
    int64_t st = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        v->u.tensor.shape[d] = shape[d];
        v->u.tensor.stride[d] = st;
        st *= shape[d] ? shape[d] : 1;
    }
    v->u.tensor.storage = s;
    *out = v;
    return CY_OK;
}

int cy_pt__view_ok(int ndim, const int64_t *shape, const int64_t *stride,
                   int64_t offset, int64_t numel) {
    if (ndim < 0 || ndim > CY_PT_MAX_DIMS || offset < 0) return -1;
    if (shape_numel(ndim, shape) < 0) return -1;
    int64_t last = offset;
    for (int d = 0; d < ndim; d++) {
        if (stride[d] < 0) return -1;
        if (shape[d] == 0) return 0; /* empty: any offset/stride is fine */
    }
    for (int d = 0; d < ndim; d++) {
        int64_t span = shape[d] - 1;
        if (span && stride[d] > (INT64_MAX - last) / span) return -1;
        last += span * stride[d];
    }
    return last < numel ? 0 : -1;
}

cy_status cy_pt_tensor_view(cy_pt_value **out, const cy_pt_value *base, int ndim,
                            const int64_t *shape, const int64_t *stride,
                            int64_t offset, cy_error *err) {
    *out = NULL;
    if (!base || base->kind != CY_PT_TENSOR) return cy_fail(err, CY_ERR_ARG, "tensor view: base is not a tensor");
    if (ndim < 0 || ndim > CY_PT_MAX_DIMS || (ndim && (!shape || !stride)))
        return cy_fail(err, CY_ERR_ARG, "tensor view: %d dimensions", ndim);
    cy_pt_storage *s = base->u.tensor.storage;
    if (cy_pt__view_ok(ndim, shape, stride, offset, s->numel))
        return cy_fail(err, CY_ERR_ARG, "tensor view: outside its storage of %lld elements",
                       (long long)s->numel);
    cy_pt_value *v = cy_pt__alloc(CY_PT_TENSOR, NULL);
    if (!v) return oom(err);
    v->u.tensor.dtype = base->u.tensor.dtype;
    v->u.tensor.ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        v->u.tensor.shape[d] = shape[d];
        v->u.tensor.stride[d] = stride[d];
    }
    v->u.tensor.offset = offset;
    v->u.tensor.storage = s;
    s->refs++;
    *out = v;
    return CY_OK;
}

int64_t cy_pt_tensor_numel(const cy_pt_value *t) {
    if (!t || t->kind != CY_PT_TENSOR) return 0;
    return shape_numel(t->u.tensor.ndim, t->u.tensor.shape);
}

int cy_pt_tensor_is_contiguous(const cy_pt_value *t) {
    if (!t || t->kind != CY_PT_TENSOR) return 0;
    int64_t st = 1;
    for (int d = t->u.tensor.ndim - 1; d >= 0; d--) {
        if (t->u.tensor.shape[d] != 1 && t->u.tensor.stride[d] != st) return 0;
        st *= t->u.tensor.shape[d];
    }
    return 1;
}

const void *cy_pt_tensor_data(const cy_pt_value *t) {
    if (!cy_pt_tensor_is_contiguous(t) || !t->u.tensor.storage->data) return NULL;
    return t->u.tensor.storage->data + (size_t)t->u.tensor.offset * dtype_sizes[t->u.tensor.dtype];
}

/* Calls fn for each element's byte offset in row-major order. */
typedef void (*elem_fn)(const uint8_t *src, size_t i, void *ctx);
static void for_each_elem(const cy_pt_value *t, elem_fn fn, void *ctx) {
    int nd = t->u.tensor.ndim;
    int64_t n = cy_pt_tensor_numel(t);
    size_t es = dtype_sizes[t->u.tensor.dtype];
    const uint8_t *base = t->u.tensor.storage->data;
    int64_t idx[CY_PT_MAX_DIMS] = {0};
    for (int64_t i = 0; i < n; i++) {
        int64_t off = t->u.tensor.offset;
        for (int d = 0; d < nd; d++) off += idx[d] * t->u.tensor.stride[d];
        fn(base + (size_t)off * es, (size_t)i, ctx);
        for (int d = nd - 1; d >= 0; d--) {
            if (++idx[d] < t->u.tensor.shape[d]) break;
            idx[d] = 0;
        }
    }
}

struct copy_ctx { uint8_t *dst; size_t es; };
static void copy_elem(const uint8_t *src, size_t i, void *c) {
    struct copy_ctx *x = c;
    memcpy(x->dst + i * x->es, src, x->es);
}

cy_status cy_pt_tensor_copy(const cy_pt_value *t, void *dst, size_t dst_bytes, cy_error *err) {
    if (!t || t->kind != CY_PT_TENSOR) return cy_fail(err, CY_ERR_ARG, "tensor copy: not a tensor");
    size_t es = dtype_sizes[t->u.tensor.dtype];
    size_t need = (size_t)cy_pt_tensor_numel(t) * es;
    if (dst_bytes != need)
        return cy_fail(err, CY_ERR_ARG, "tensor copy: %zu bytes given, tensor has %zu", dst_bytes, need);
    const void *p = cy_pt_tensor_data(t);
    if (p) {
        if (need) memcpy(dst, p, need);
        return CY_OK;
    }
    struct copy_ctx c = {dst, es};
    for_each_elem(t, copy_elem, &c);
    return CY_OK;
}

struct f32_ctx { float *dst; cy_pt_dtype dt; };
static void f32_elem(const uint8_t *s, size_t i, void *c) {
    struct f32_ctx *x = c;
    float v = 0;
    switch (x->dt) {
    case CY_PT_DT_F32: memcpy(&v, s, 4); break;
    case CY_PT_DT_F64: { double d; memcpy(&d, s, 8); v = (float)d; } break;
    case CY_PT_DT_F16: { uint16_t h; memcpy(&h, s, 2); v = cy_half_to_f32(h); } break;
    case CY_PT_DT_BF16: { uint16_t h; memcpy(&h, s, 2); uint32_t b = (uint32_t)h << 16; memcpy(&v, &b, 4); } break;
    case CY_PT_DT_I64: { int64_t q; memcpy(&q, s, 8); v = (float)q; } break;
    case CY_PT_DT_I32: { int32_t q; memcpy(&q, s, 4); v = (float)q; } break;
    case CY_PT_DT_I16: { int16_t q; memcpy(&q, s, 2); v = (float)q; } break;
    case CY_PT_DT_I8: v = (float)(int8_t)s[0]; break;
    case CY_PT_DT_U8: v = (float)s[0]; break;
    case CY_PT_DT_BOOL: v = s[0] ? 1.0f : 0.0f; break;
    default: break;
    }
    x->dst[i] = v;
}

cy_status cy_pt_tensor_to_f32(const cy_pt_value *t, float *dst, size_t n, cy_error *err) {
    if (!t || t->kind != CY_PT_TENSOR) return cy_fail(err, CY_ERR_ARG, "tensor to float32: not a tensor");
    if ((int64_t)n != cy_pt_tensor_numel(t))
        return cy_fail(err, CY_ERR_ARG, "tensor to float32: %zu elements given, tensor has %lld",
                       n, (long long)cy_pt_tensor_numel(t));
    struct f32_ctx c = {dst, t->u.tensor.dtype};
    for_each_elem(t, f32_elem, &c);
    return CY_OK;
}

/* ---- linking ---- */

int cy_pt__check_link(const cy_pt_value *parent, const cy_pt_value *child, const char **why) {
    if (child->parent) { *why = "the value already belongs to a container"; return -1; }
    int depth = 0;
    for (const cy_pt_value *p = parent; p; p = p->parent) {
        if (p == child) { *why = "the value would contain itself"; return -1; }
        depth++;
    }
    if (depth + child->height > CY_PT_MAX_DEPTH) { *why = "containers nest too deeply"; return -1; }
    return 0;
}

void cy_pt__link(cy_pt_value *parent, cy_pt_value *child) {
    child->parent = parent;
    int h = child->height + 1;
    for (cy_pt_value *p = parent; p && p->height < h; p = p->parent, h++) p->height = h;
}

int cy_pt__seq_push(cy_pt_value *seq, cy_pt_value *item) {
    if (seq->u.seq.len == seq->u.seq.cap) {
        size_t cap = seq->u.seq.cap ? seq->u.seq.cap * 2 : 4;
        cy_pt_value **n = realloc(seq->u.seq.items, cap * sizeof *n);
        if (!n) return -1;
        seq->u.seq.items = n;
        seq->u.seq.cap = cap;
    }
    seq->u.seq.items[seq->u.seq.len++] = item;
    cy_pt__link(seq, item);
    return 0;
}

int cy_pt__key_ok(const cy_pt_value *k) {
    return k->kind == CY_PT_STR || k->kind == CY_PT_INT || k->kind == CY_PT_BOOL ||
           k->kind == CY_PT_FLOAT || k->kind == CY_PT_NONE;
}

static uint64_t key_hash(const cy_pt_value *k) {
    uint64_t h = 1469598103934665603ull ^ (uint64_t)k->kind;
    const unsigned char *p;
    size_t n;
    switch (k->kind) {
    case CY_PT_STR: p = (const unsigned char *)k->u.str.s; n = k->u.str.len; break;
    case CY_PT_INT: p = (const unsigned char *)&k->u.i; n = 8; break;
    case CY_PT_FLOAT: p = (const unsigned char *)&k->u.f; n = 8; break;
    case CY_PT_BOOL: p = (const unsigned char *)&k->u.b; n = sizeof k->u.b; break;
    default: p = NULL; n = 0; break;
    }
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static int key_eq(const cy_pt_value *a, const cy_pt_value *b) {
    if (a->kind != b->kind) return 0;
    switch (a->kind) {
    case CY_PT_STR: return a->u.str.len == b->u.str.len && !memcmp(a->u.str.s, b->u.str.s, a->u.str.len);
    case CY_PT_INT: return a->u.i == b->u.i;
    case CY_PT_FLOAT: return !memcmp(&a->u.f, &b->u.f, 8);
    case CY_PT_BOOL: return a->u.b == b->u.b;
    case CY_PT_NONE: return 1;
    default: return 0;
    }
}

static void index_put(cy_pt_value *d, size_t entry) {
    size_t mask = d->u.dict.index_cap - 1;
    size_t s = key_hash(d->u.dict.keys[entry]) & mask;
    while (d->u.dict.index[s]) s = (s + 1) & mask;
    d->u.dict.index[s] = (uint32_t)(entry + 1);
}

static int index_rebuild(cy_pt_value *d, size_t cap) {
    uint32_t *ix = calloc(cap, sizeof *ix);
    if (!ix) return -1;
    free(d->u.dict.index);
    d->u.dict.index = ix;
    d->u.dict.index_cap = cap;
    for (size_t i = 0; i < d->u.dict.len; i++) index_put(d, i);
    return 0;
}

/* Entry number of key, or -1. */
static long dict_lookup(const cy_pt_value *d, const cy_pt_value *key) {
    if (d->u.dict.index) {
        size_t mask = d->u.dict.index_cap - 1;
        for (size_t s = key_hash(key) & mask; d->u.dict.index[s]; s = (s + 1) & mask) {
            size_t e = d->u.dict.index[s] - 1;
            if (key_eq(d->u.dict.keys[e], key)) return (long)e;
        }
        return -1;
    }
    for (size_t i = 0; i < d->u.dict.len; i++)
        if (key_eq(d->u.dict.keys[i], key)) return (long)i;
    return -1;
}

int cy_pt__dict_insert(cy_pt_value *d, cy_pt_value *key, cy_pt_value *val,
                       cy_pt_value **old_key, cy_pt_value **old_val) {
    *old_key = *old_val = NULL;
    long e = dict_lookup(d, key);
    if (e >= 0) {
        cy_pt_value *ov = d->u.dict.vals[e];
        ov->parent = NULL;
        d->u.dict.vals[e] = val;
        cy_pt__link(d, val);
        *old_val = ov;
        *old_key = key;
        return 0;
    }
    if (d->u.dict.len >= UINT32_MAX - 1) return -1;
    if (d->u.dict.len == d->u.dict.cap) {
        size_t cap = d->u.dict.cap ? d->u.dict.cap * 2 : 8;
        cy_pt_value **k = realloc(d->u.dict.keys, cap * sizeof *k);
        if (!k) return -1;
        d->u.dict.keys = k;
        cy_pt_value **v = realloc(d->u.dict.vals, cap * sizeof *v);
        if (!v) return -1;
        d->u.dict.vals = v;
        d->u.dict.cap = cap;
    }
    size_t n = d->u.dict.len;
    if (n + 1 > 16 && (n + 1) * 2 > d->u.dict.index_cap) {
        size_t cap = 64;
        while (cap < (n + 1) * 4) cap *= 2;
        if (index_rebuild(d, cap)) return -1;
    }
    d->u.dict.keys[n] = key;
    d->u.dict.vals[n] = val;
    d->u.dict.len = n + 1;
    if (d->u.dict.index) index_put(d, n);
    cy_pt__link(d, key);
    cy_pt__link(d, val);
    return 0;
}

cy_status cy_pt_append(cy_pt_value *seq, cy_pt_value *item, cy_error *err) {
    const char *why;
    if (!seq || !item || (seq->kind != CY_PT_LIST && seq->kind != CY_PT_TUPLE))
        return cy_fail(err, CY_ERR_ARG, "append: not a list or tuple");
    if (cy_pt__check_link(seq, item, &why)) return cy_fail(err, CY_ERR_ARG, "append: %s", why);
    if (cy_pt__seq_push(seq, item)) return oom(err);
    return CY_OK;
}

cy_status cy_pt_dict_set(cy_pt_value *dict, cy_pt_value *key, cy_pt_value *val, cy_error *err) {
    const char *why;
    if (!dict || dict->kind != CY_PT_DICT || !key || !val)
        return cy_fail(err, CY_ERR_ARG, "dict set: not a dict");
    if (!cy_pt__key_ok(key)) return cy_fail(err, CY_ERR_ARG, "dict set: keys must be str, int, bool, float or None");
    if (key == val) return cy_fail(err, CY_ERR_ARG, "dict set: key and value are one object");
    if (cy_pt__check_link(dict, key, &why) || cy_pt__check_link(dict, val, &why))
        return cy_fail(err, CY_ERR_ARG, "dict set: %s", why);
    cy_pt_value *ok, *ov;
    if (cy_pt__dict_insert(dict, key, val, &ok, &ov)) return oom(err);
    value_free(ok);
    value_free(ov);
    return CY_OK;
}

cy_status cy_pt_dict_set_str(cy_pt_value *dict, const char *key, cy_pt_value *val, cy_error *err) {
    cy_pt_value *k;
    CY_TRY(cy_pt_str_new(&k, key, err));
    cy_status s = cy_pt_dict_set(dict, k, val, err);
    if (s) value_free(k);
    return s;
}

cy_status cy_pt_dict_set_intkey(cy_pt_value *dict, int64_t key, cy_pt_value *val, cy_error *err) {
    cy_pt_value *k;
    CY_TRY(cy_pt_int_new(&k, key, err));
    cy_status s = cy_pt_dict_set(dict, k, val, err);
    if (s) value_free(k);
    return s;
}

static cy_status put(cy_pt_value *dict, const char *key, cy_pt_value *v, cy_status made, cy_error *err) {
    if (made) return made;
    cy_status s = cy_pt_dict_set_str(dict, key, v, err);
    if (s) value_free(v);
    return s;
}
cy_status cy_pt_dict_put_int(cy_pt_value *d, const char *key, int64_t i, cy_error *err) {
    cy_pt_value *v = NULL;
    cy_status s = cy_pt_int_new(&v, i, err);
    return put(d, key, v, s, err);
}
cy_status cy_pt_dict_put_float(cy_pt_value *d, const char *key, double f, cy_error *err) {
    cy_pt_value *v = NULL;
    cy_status s = cy_pt_float_new(&v, f, err);
    return put(d, key, v, s, err);
}
cy_status cy_pt_dict_put_str(cy_pt_value *d, const char *key, const char *str, cy_error *err) {
    cy_pt_value *v = NULL;
    cy_status s = cy_pt_str_new(&v, str, err);
    return put(d, key, v, s, err);
}
cy_status cy_pt_dict_put_bool(cy_pt_value *d, const char *key, int b, cy_error *err) {
    cy_pt_value *v = NULL;
    cy_status s = cy_pt_bool_new(&v, b, err);
    return put(d, key, v, s, err);
}
cy_status cy_pt_dict_put_none(cy_pt_value *d, const char *key, cy_error *err) {
    cy_pt_value *v = NULL;
    cy_status s = cy_pt_none_new(&v, err);
    return put(d, key, v, s, err);
}

/* ---- lookup ---- */

const cy_pt_value *cy_pt_dict_find(const cy_pt_value *d, const char *key) {
    if (!d || d->kind != CY_PT_DICT || !key) return NULL;
    cy_pt_value k = {.kind = CY_PT_STR};
    k.u.str.s = (char *)key;
    k.u.str.len = strlen(key);
    long e = dict_lookup(d, &k);
    return e < 0 ? NULL : d->u.dict.vals[e];
}

const cy_pt_value *cy_pt_dict_find_int(const cy_pt_value *d, int64_t key) {
    if (!d || d->kind != CY_PT_DICT) return NULL;
    cy_pt_value k = {.kind = CY_PT_INT};
    k.u.i = key;
    long e = dict_lookup(d, &k);
    return e < 0 ? NULL : d->u.dict.vals[e];
}

static const char *const kind_names[] = {"None", "bool", "int", "float", "str", "list", "tuple",
                                         "dict", "tensor", "object", "bytes", "internal"};

const char *cy_pt_kind_name(cy_pt_kind k) {
    return (unsigned)k <= CY_PT_INTERNAL_ ? kind_names[k] : "?";
}

cy_status cy_pt_get(const cy_pt_value *d, const char *key, cy_pt_kind kind,
                    const cy_pt_value **out, cy_error *err) {
    *out = NULL;
    if (!d || d->kind != CY_PT_DICT)
        return cy_fail(err, CY_ERR_FORMAT, "checkpoint: looking up '%s' in something that is not a dict", key);
    const cy_pt_value *v = cy_pt_dict_find(d, key);
    if (!v) return cy_fail(err, CY_ERR_FORMAT, "checkpoint: no key '%s'", key);
    int fine = v->kind == kind || (kind == CY_PT_FLOAT && v->kind == CY_PT_INT) ||
               (kind == CY_PT_INT && v->kind == CY_PT_BOOL);
    if (!fine)
        return cy_fail(err, CY_ERR_FORMAT, "checkpoint: '%s' is a %s, expected a %s", key,
                       cy_pt_kind_name(v->kind), cy_pt_kind_name(kind));
    *out = v;
    return CY_OK;
}

cy_status cy_pt_get_int(const cy_pt_value *d, const char *key, int64_t *out, cy_error *err) {
    const cy_pt_value *v;
    CY_TRY(cy_pt_get(d, key, CY_PT_INT, &v, err));
    *out = v->kind == CY_PT_BOOL ? v->u.b : v->u.i;
    return CY_OK;
}
cy_status cy_pt_get_float(const cy_pt_value *d, const char *key, double *out, cy_error *err) {
    const cy_pt_value *v;
    CY_TRY(cy_pt_get(d, key, CY_PT_FLOAT, &v, err));
    *out = v->kind == CY_PT_INT ? (double)v->u.i : v->u.f;
    return CY_OK;
}
cy_status cy_pt_get_str(const cy_pt_value *d, const char *key, const char **out, cy_error *err) {
    const cy_pt_value *v;
    CY_TRY(cy_pt_get(d, key, CY_PT_STR, &v, err));
    *out = v->u.str.s;
    return CY_OK;
}

/* ---- clone and equality ---- */

/* A NUL-terminated copy of len bytes, counted against the reader's budget. */
static char *clone_bytes(const char *s, size_t len, cy_pt_vec *reg) {
    if (reg && reg->bytes_limit) {
        if (len > reg->bytes_limit - reg->bytes) return NULL;
        reg->bytes += len;
    }
    char *c = malloc(len + 1);
    if (c) {
        memcpy(c, s, len);
        c[len] = 0;
    }
    return c;
}

cy_status cy_pt__clone_reg(cy_pt_value **out, const cy_pt_value *v, cy_pt_vec *reg, cy_error *err) {
    *out = NULL;
    cy_pt_value *c = cy_pt__alloc(v->kind, reg);
    if (!c) return oom(err);
    c->u = v->u;
    c->height = 0;
    switch (v->kind) {
    case CY_PT_STR:
    case CY_PT_BYTES:
        c->u.str.s = clone_bytes(v->u.str.s, v->u.str.len, reg);
        if (!c->u.str.s) { if (!reg) free(c); return oom(err); }
        break;
    case CY_PT_OBJECT: {
        c->u.obj.cls = NULL;
        c->u.obj.args = c->u.obj.state = NULL;
        cy_pt_value *a = NULL, *st = NULL;
        cy_status s = CY_OK;
        c->u.obj.cls = clone_bytes(v->u.obj.cls, strlen(v->u.obj.cls), reg);
        if (!c->u.obj.cls) s = oom(err);
        if (!s && v->u.obj.args) s = cy_pt__clone_reg(&a, v->u.obj.args, reg, err);
        if (a) { c->u.obj.args = a; cy_pt__link(c, a); }
        if (!s && v->u.obj.state) s = cy_pt__clone_reg(&st, v->u.obj.state, reg, err);
        if (st) { c->u.obj.state = st; cy_pt__link(c, st); }
        if (s) { if (!reg) value_free(c); return s; }
        break;
    }
    case CY_PT_LIST:
    case CY_PT_TUPLE:
        c->u.seq.items = NULL;
        c->u.seq.len = c->u.seq.cap = 0;
        for (size_t i = 0; i < v->u.seq.len; i++) {
            cy_pt_value *x;
            cy_status s = cy_pt__clone_reg(&x, v->u.seq.items[i], reg, err);
            if (!s && cy_pt__seq_push(c, x)) {
                if (!reg) value_free(x);
                s = oom(err);
            }
            if (s) { if (!reg) value_free(c); return s; }
        }
        break;
    case CY_PT_DICT:
        c->u.dict.keys = c->u.dict.vals = NULL;
        c->u.dict.len = c->u.dict.cap = 0;
        c->u.dict.index = NULL;
        c->u.dict.index_cap = 0;
        for (size_t i = 0; i < v->u.dict.len; i++) {
            cy_pt_value *k = NULL, *x = NULL, *ok, *ov;
            cy_status s = cy_pt__clone_reg(&k, v->u.dict.keys[i], reg, err);
            if (!s) s = cy_pt__clone_reg(&x, v->u.dict.vals[i], reg, err);
            if (!s && cy_pt__dict_insert(c, k, x, &ok, &ov)) s = oom(err);
            if (s) {
                if (!reg) { value_free(k); value_free(x); value_free(c); }
                return s;
            }
        }
        break;
    case CY_PT_TENSOR: c->u.tensor.storage->refs++; break;
    case CY_PT_INTERNAL_:
        c->u.internal.name = NULL;
        if (v->u.internal.name) {
            c->u.internal.name = clone_bytes(v->u.internal.name, strlen(v->u.internal.name), reg);
            if (!c->u.internal.name) { if (!reg) free(c); return oom(err); }
        }
        if (c->u.internal.storage) c->u.internal.storage->refs++;
        break;
    default: break;
    }
    *out = c;
    return CY_OK;
}

cy_status cy_pt_clone(cy_pt_value **out, const cy_pt_value *v, cy_error *err) {
    if (!v) return cy_fail(err, CY_ERR_ARG, "clone: NULL value");
    return cy_pt__clone_reg(out, v, NULL, err);
}

int cy_pt_equal(const cy_pt_value *a, const cy_pt_value *b) {
    if (!a || !b) return a == b;
    if (a->kind != b->kind) return 0;
    switch (a->kind) {
    case CY_PT_NONE: return 1;
    case CY_PT_BOOL: return a->u.b == b->u.b;
    case CY_PT_INT: return a->u.i == b->u.i;
    case CY_PT_FLOAT: return !memcmp(&a->u.f, &b->u.f, sizeof(double));
    case CY_PT_STR: return key_eq(a, b);
    case CY_PT_BYTES: return a->u.str.len == b->u.str.len && !memcmp(a->u.str.s, b->u.str.s, a->u.str.len);
    case CY_PT_OBJECT:
        return !strcmp(a->u.obj.cls, b->u.obj.cls) && a->u.obj.reduce == b->u.obj.reduce &&
               cy_pt_equal(a->u.obj.args, b->u.obj.args) &&
               cy_pt_equal(a->u.obj.state, b->u.obj.state);
    case CY_PT_LIST:
    case CY_PT_TUPLE:
        if (a->u.seq.len != b->u.seq.len || a->u.seq.py != b->u.seq.py) return 0;
        for (size_t i = 0; i < a->u.seq.len; i++)
            if (!cy_pt_equal(a->u.seq.items[i], b->u.seq.items[i])) return 0;
        return 1;
    case CY_PT_DICT:
        if (a->u.dict.len != b->u.dict.len || a->u.dict.ordered != b->u.dict.ordered) return 0;
        for (size_t i = 0; i < a->u.dict.len; i++)
            if (!cy_pt_equal(a->u.dict.keys[i], b->u.dict.keys[i]) ||
                !cy_pt_equal(a->u.dict.vals[i], b->u.dict.vals[i]))
                return 0;
        return 1;
    case CY_PT_TENSOR: {
        if (a->u.tensor.dtype != b->u.tensor.dtype || a->u.tensor.ndim != b->u.tensor.ndim ||
            a->u.tensor.param != b->u.tensor.param)
            return 0;
        int same_view = a->u.tensor.storage == b->u.tensor.storage && a->u.tensor.offset == b->u.tensor.offset;
        for (int d = 0; d < a->u.tensor.ndim; d++) {
            if (a->u.tensor.shape[d] != b->u.tensor.shape[d]) return 0;
            same_view &= a->u.tensor.stride[d] == b->u.tensor.stride[d];
        }
        /* one view of one storage (a clone): equal without reading it */
        if (same_view) return 1;
        size_t nb = (size_t)cy_pt_tensor_numel(a) * dtype_sizes[a->u.tensor.dtype];
        uint8_t *x = malloc(nb ? nb : 1), *y = malloc(nb ? nb : 1);
        int eq = x && y && !cy_pt_tensor_copy(a, x, nb, NULL) &&
                 !cy_pt_tensor_copy(b, y, nb, NULL) && !memcmp(x, y, nb);
        free(x);
        free(y);
        return eq;
    }
    default: return 0;
    }
}

/* ---- inert objects ---- */

const char *cy_pt_object_class(const cy_pt_value *v) {
    return v && v->kind == CY_PT_OBJECT ? v->u.obj.cls : NULL;
}

cy_status cy_pt_object_new(cy_pt_value **out, const char *cls, int reduce, cy_pt_value *args,
                           cy_pt_value *state, cy_error *err) {
    *out = NULL;
    const char *why = "";
    if (!cls || !strchr(cls, '.') || (args && args->kind != CY_PT_TUPLE))
        return cy_fail(err, CY_ERR_ARG, "object: needs a dotted class name and a tuple of arguments");
    cy_pt_value *o = cy_pt__alloc(CY_PT_OBJECT, NULL);
    if (!o || !(o->u.obj.cls = strdup(cls))) {
        free(o);
        return oom(err);
    }
    o->u.obj.reduce = reduce != 0;
    if ((args && cy_pt__check_link(o, args, &why)) || (state && cy_pt__check_link(o, state, &why)) ||
        (args && args == state)) {
        value_free(o);
        return cy_fail(err, CY_ERR_ARG, "object: %s", args && args == state ? "args and state are one value" : why);
    }
    if (args) {
        o->u.obj.args = args;
        cy_pt__link(o, args);
    }
    if (state) {
        o->u.obj.state = state;
        cy_pt__link(o, state);
    }
    *out = o;
    return CY_OK;
}

cy_status cy_pt_set_new(cy_pt_value **out, cy_error *err) {
    CY_TRY(cy_pt_list_new(out, err));
    (*out)->u.seq.py = CY_PT_SEQ_SET;
    return CY_OK;
}

const cy_pt_value *cy_pt_object_attr(const cy_pt_value *obj, const char *name) {
    if (!obj || obj->kind != CY_PT_OBJECT || !obj->u.obj.state) return NULL;
    const cy_pt_value *st = obj->u.obj.state;
    /* objects with __slots__ pickle (dict or None, slots dict) */
    if (st->kind == CY_PT_TUPLE && st->u.seq.len == 2) {
        const cy_pt_value *v = cy_pt_dict_find(st->u.seq.items[0], name);
        return v ? v : cy_pt_dict_find(st->u.seq.items[1], name);
    }
    return cy_pt_dict_find(st, name);
}
