/* A small tree of plain values: what a PyTorch checkpoint holds when it is
 * readable with torch.load(weights_only=True). Dicts (insertion-ordered; plain
 * dict or collections.OrderedDict), lists, tuples, str, int64, float64, bool,
 * None and dense CPU tensors; Ultralytics checkpoints add inert objects
 * (pickled module instances, never executed) and bytes.
 *
 * Ownership: every value has at most one parent. Inserting a value into a
 * container moves it there (on success); freeing a root frees its subtree.
 * Tensors share their storage (refcounted) when made with cy_pt_tensor_view,
 * which is how two tensors that view one buffer are saved and read back. */
#ifndef CY_IO_PT_VALUE_H
#define CY_IO_PT_VALUE_H
#include <stddef.h>
#include <stdint.h>
#include "cyolo.h"

typedef enum {
    CY_PT_NONE,
    CY_PT_BOOL,
    CY_PT_INT,
    CY_PT_FLOAT,
    CY_PT_STR,
    CY_PT_LIST,
    CY_PT_TUPLE,
    CY_PT_DICT,
    CY_PT_TENSOR,
    CY_PT_OBJECT,   /* an instance of a pickled class, kept inert (never run) */
    CY_PT_BYTES,    /* bytes or bytearray: u.str holds them (any bytes) */
    CY_PT_INTERNAL_ /* reader's scratch (globals, storages); never in a result */
} cy_pt_kind;

typedef enum {
    CY_PT_DT_F32,  /* torch.FloatStorage */
    CY_PT_DT_F64,  /* torch.DoubleStorage */
    CY_PT_DT_F16,  /* torch.HalfStorage */
    CY_PT_DT_BF16, /* torch.BFloat16Storage */
    CY_PT_DT_I64,  /* torch.LongStorage */
    CY_PT_DT_I32,  /* torch.IntStorage */
    CY_PT_DT_I16,  /* torch.ShortStorage */
    CY_PT_DT_I8,   /* torch.CharStorage */
    CY_PT_DT_U8,   /* torch.ByteStorage */
    CY_PT_DT_BOOL, /* torch.BoolStorage */
    CY_PT_DT_COUNT_
} cy_pt_dtype;

/* What a list or tuple was in Python (u.seq.py): the reader keeps sets and
 * torch.Size as lists and tuples and says so here; the writer pickles each
 * back as that type. */
typedef enum {
    CY_PT_SEQ_PLAIN = 0, /* list or tuple */
    CY_PT_SEQ_SET,       /* a list that was a set (set([...])) */
    CY_PT_SEQ_FROZENSET, /* a list that was a frozenset */
    CY_PT_SEQ_SIZE       /* a tuple of ints that was a torch.Size */
} cy_pt_seq_type;

#define CY_PT_MAX_DIMS 8
/* Deepest nesting of containers accepted (Python's pickle recursion limit is
 * about 1000; real checkpoints nest fewer than 10 levels). */
#define CY_PT_MAX_DEPTH 100

typedef struct cy_pt_storage cy_pt_storage; /* refcounted raw bytes + dtype */
typedef struct cy_pt_value cy_pt_value;

struct cy_pt_value {
    cy_pt_kind kind;
    cy_pt_value *parent; /* container holding this value; NULL for a root */
    int height;          /* container levels below (0 for a leaf) */
    union {
        int b;
        int64_t i;
        double f;
        struct { char *s; size_t len; } str; /* UTF-8, also NUL-terminated */
        struct {
            cy_pt_value **items;
            size_t len, cap;
            int py; /* the Python type a list or tuple stands for (cy_pt_seq_type) */
        } seq; /* list, tuple */
        struct {
            cy_pt_value **keys, **vals;
            size_t len, cap;
            int ordered;     /* 1: collections.OrderedDict, 0: dict */
            uint32_t *index; /* hash index (slot = entry+1), built past 16 keys */
            size_t index_cap;
        } dict;
        struct {
            cy_pt_dtype dtype;
            int ndim;
            int64_t shape[CY_PT_MAX_DIMS], stride[CY_PT_MAX_DIMS]; /* elements */
            int64_t offset; /* elements into the storage */
            cy_pt_storage *storage;
            /* 0: a plain tensor; 1: a torch.nn.Parameter (requires_grad
             * False), 2: one with requires_grad True, as a module's
             * _parameters pickle them (torch._utils._rebuild_parameter) */
            int param;
        } tensor;
        /* What a pickle made by "calling" a class it may name (an Ultralytics
         * or torch.nn module, a namespace): the class's dotted name, the
         * constructor arguments and the state BUILD gave it (for modules the
         * attribute dict: _parameters, _buffers, _modules, ...). */
        struct {
            char *cls;          /* "torch.nn.modules.conv.Conv2d" */
            cy_pt_value *args;  /* a tuple, or NULL when there were none */
            cy_pt_value *state; /* usually a dict, or NULL when never set */
            /* 1: made by calling cls(*args) (REDUCE: set, torch.Size);
             * 0: cls.__new__(cls, *args) then BUILD (NEWOBJ: modules) */
            int reduce;
            /* objects with one nonzero share id are one Python object (all
             * Conv blocks hold the one SiLU, Conv.default_act): the writer
             * pickles the first and refers back to it for the others. The
             * reader clones a shared object instead (share 0). */
            int64_t share;
        } obj;
        struct { int what; int64_t a; cy_pt_storage *storage; char *name; } internal;
    } u;
};

/* ---- construction: each makes a new root (*out) ---- */
cy_status cy_pt_none_new(cy_pt_value **out, cy_error *err);
cy_status cy_pt_bool_new(cy_pt_value **out, int b, cy_error *err);
cy_status cy_pt_int_new(cy_pt_value **out, int64_t i, cy_error *err);
cy_status cy_pt_float_new(cy_pt_value **out, double f, cy_error *err);
/* s must be valid UTF-8 (Python reads it as str); len bytes, may hold NULs. */
cy_status cy_pt_str_newn(cy_pt_value **out, const char *s, size_t len, cy_error *err);
cy_status cy_pt_str_new(cy_pt_value **out, const char *s, cy_error *err);
cy_status cy_pt_list_new(cy_pt_value **out, cy_error *err);
cy_status cy_pt_tuple_new(cy_pt_value **out, cy_error *err);
cy_status cy_pt_dict_new(cy_pt_value **out, int ordered, cy_error *err);
/* A contiguous tensor with its own storage; data (numel * dtype size bytes,
 * little-endian) is copied, or zeros when data is NULL. ndim 0 is a scalar. */
cy_status cy_pt_tensor_new(cy_pt_value **out, cy_pt_dtype dtype, int ndim,
                           const int64_t *shape, const void *data, cy_error *err);
/* A tensor viewing base's storage (strides in elements, may be any layout
 * that stays inside the storage). */
cy_status cy_pt_tensor_view(cy_pt_value **out, const cy_pt_value *base, int ndim,
                            const int64_t *shape, const int64_t *stride,
                            int64_t offset, cy_error *err);
/* A deep copy (tensors share storage with the original). */
cy_status cy_pt_clone(cy_pt_value **out, const cy_pt_value *v, cy_error *err);

/* Frees a root and everything below it. NULL is fine. */
void cy_pt_value_free(cy_pt_value *v);

/* ---- containers: on success the container owns item; on failure the caller
 * still does. CY_ERR_ARG when item already has a parent, would make a cycle or
 * nest deeper than CY_PT_MAX_DEPTH, or a key is not str/int/bool/float/None. */
cy_status cy_pt_append(cy_pt_value *seq, cy_pt_value *item, cy_error *err);
/* Replaces the value of an equal key (freeing the old one), else appends. */
cy_status cy_pt_dict_set(cy_pt_value *dict, cy_pt_value *key, cy_pt_value *val,
                         cy_error *err);
cy_status cy_pt_dict_set_str(cy_pt_value *dict, const char *key, cy_pt_value *val,
                             cy_error *err);
cy_status cy_pt_dict_set_intkey(cy_pt_value *dict, int64_t key, cy_pt_value *val,
                                cy_error *err);
/* Shorthands that make the value too (and free it on failure). */
cy_status cy_pt_dict_put_int(cy_pt_value *dict, const char *key, int64_t i, cy_error *err);
cy_status cy_pt_dict_put_float(cy_pt_value *dict, const char *key, double f, cy_error *err);
cy_status cy_pt_dict_put_str(cy_pt_value *dict, const char *key, const char *s, cy_error *err);
cy_status cy_pt_dict_put_bool(cy_pt_value *dict, const char *key, int b, cy_error *err);
cy_status cy_pt_dict_put_none(cy_pt_value *dict, const char *key, cy_error *err);

/* ---- lookup ---- */
/* The value under a str (or int) key, or NULL when dict is no dict or lacks it. */
const cy_pt_value *cy_pt_dict_find(const cy_pt_value *dict, const char *key);
const cy_pt_value *cy_pt_dict_find_int(const cy_pt_value *dict, int64_t key);
/* Typed getters: CY_ERR_FORMAT naming the key when it is missing or has
 * another kind. get_float accepts ints; get_int accepts bools. */
cy_status cy_pt_get(const cy_pt_value *dict, const char *key, cy_pt_kind kind,
                    const cy_pt_value **out, cy_error *err);
cy_status cy_pt_get_int(const cy_pt_value *dict, const char *key, int64_t *out, cy_error *err);
cy_status cy_pt_get_float(const cy_pt_value *dict, const char *key, double *out, cy_error *err);
cy_status cy_pt_get_str(const cy_pt_value *dict, const char *key, const char **out, cy_error *err);

/* ---- tensors ---- */
size_t cy_pt_dtype_size(cy_pt_dtype dt);
const char *cy_pt_dtype_name(cy_pt_dtype dt); /* "float32", ... */
int64_t cy_pt_tensor_numel(const cy_pt_value *t);
int cy_pt_tensor_is_contiguous(const cy_pt_value *t);
/* Pointer to the first element, or NULL when not contiguous. */
const void *cy_pt_tensor_data(const cy_pt_value *t);
/* Gathers the elements in row-major order into dst (dst_bytes must equal
 * numel * dtype size). */
cy_status cy_pt_tensor_copy(const cy_pt_value *t, void *dst, size_t dst_bytes,
                            cy_error *err);
/* Gathers and converts any floating or integer dtype to float32 (n = numel). */
cy_status cy_pt_tensor_to_f32(const cy_pt_value *t, float *dst, size_t n,
                              cy_error *err);

/* ---- inert objects (Ultralytics checkpoints) ---- */
/* A new object of the dotted class cls ("torch.nn.modules.conv.Conv2d"):
 * args (a tuple, or NULL for none) and state (or NULL) move into it on
 * success; on failure the caller still owns them. reduce as in u.obj. The
 * writer pickles it as torch does: GLOBAL, the arguments, NEWOBJ (or
 * REDUCE), then the state and BUILD. */
cy_status cy_pt_object_new(cy_pt_value **out, const char *cls, int reduce, cy_pt_value *args,
                           cy_pt_value *state, cy_error *err);
/* An empty Python set (a list with py CY_PT_SEQ_SET), as a module's
 * _non_persistent_buffers_set pickles. */
cy_status cy_pt_set_new(cy_pt_value **out, cy_error *err);
/* The dotted class name of an object, or NULL when v is no object. */
const char *cy_pt_object_class(const cy_pt_value *v);
/* An attribute of an object: the value under name in its state dict (or in
 * the dict part of a (dict, slots) state), or NULL. */
const cy_pt_value *cy_pt_object_attr(const cy_pt_value *obj, const char *name);
/* A name for a value's kind in messages ("dict", "tensor", ...). */
const char *cy_pt_kind_name(cy_pt_kind k);

/* ---- comparison (tests) ---- */
/* 1 when a and b are equal: same kinds (and Python types of lists and
 * tuples), keys in the same order, bitwise-equal floats, tensors with equal
 * dtype, shape, Parameter flag and elements (layout may differ), objects of
 * one class made the same way. */
int cy_pt_equal(const cy_pt_value *a, const cy_pt_value *b);

#endif
