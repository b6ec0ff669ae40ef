/* The ONNX builder: messages are the protobuf-c structs of the generated
 * schema, every byte they point at lives in the builder's pool, and one
 * protobuf_c_message_pack encodes the whole model at save time. */
#include "io/onnx_write.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "io/atomic.h"
#include "onnx_subset.pb-c.h"

struct cy_onnx {
    int opset;
    cy_status st;
    cy_error err;
    void **pool;
    size_t npool, cap_pool;
    char scope[256];
    int counter;
    Onnx__NodeProto **nodes;
    size_t nnodes, cap_nodes;
    Onnx__TensorProto **inits;
    size_t ninits, cap_inits;
    Onnx__ValueInfoProto **inputs, **outputs;
    size_t ninputs, noutputs, cap_inputs, cap_outputs;
    Onnx__StringStringEntryProto **meta;
    size_t nmeta, cap_meta;
};

static void set_error(cy_onnx *o, cy_status s, const char *fmt, const char *a) {
    if (o->st != CY_OK) return;
    o->st = cy_fail(&o->err, s, fmt, a);
}

static void *pool_alloc(cy_onnx *o, size_t size) {
    if (o->st != CY_OK) return NULL;
    if (o->npool == o->cap_pool) {
        size_t cap = o->cap_pool ? 2 * o->cap_pool : 1024;
        void **p = realloc(o->pool, cap * sizeof *p);
        if (!p) {
            set_error(o, CY_ERR_MEMORY, "out of memory building the ONNX graph%s", "");
            return NULL;
        }
        o->pool = p;
        o->cap_pool = cap;
    }
    void *m = calloc(1, size ? size : 1);
    if (!m) {
        set_error(o, CY_ERR_MEMORY, "out of memory building the ONNX graph%s", "");
        return NULL;
    }
    o->pool[o->npool++] = m;
    return m;
}

static char *pool_str(cy_onnx *o, const char *s) {
    size_t n = strlen(s);
    char *c = pool_alloc(o, n + 1);
    if (c) memcpy(c, s, n + 1);
    return c;
}

/* Appends item to a growable pointer array (pool-free: freed in cy_onnx_free). */
static int push(cy_onnx *o, void ***arr, size_t *n, size_t *cap, void *item) {
    if (o->st != CY_OK || !item) return 0;
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 64;
        void **p = realloc(*arr, c * sizeof *p);
        if (!p) {
            set_error(o, CY_ERR_MEMORY, "out of memory building the ONNX graph%s", "");
            return 0;
        }
        *arr = p;
        *cap = c;
    }
    (*arr)[(*n)++] = item;
    return 1;
}
#define PUSH(o, field, item) push((o), (void ***)&(o)->field, &(o)->n##field, &(o)->cap_##field, (item))

cy_status cy_onnx_create(cy_onnx **out, int opset, cy_error *err) {
    *out = NULL;
    if (opset < 7 || opset > 23) return cy_fail(err, CY_ERR_ARG, "ONNX opset %d is outside 7..23", opset);
    cy_onnx *o = calloc(1, sizeof *o);
    if (!o) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    o->opset = opset;
    *out = o;
    return CY_OK;
}

void cy_onnx_free(cy_onnx *o) {
    if (!o) return;
    for (size_t i = 0; i < o->npool; i++) free(o->pool[i]);
    free(o->pool);
    free(o->nodes);
    free(o->inits);
    free(o->inputs);
    free(o->outputs);
    free(o->meta);
    free(o);
}

int cy_onnx_opset(const cy_onnx *o) { return o->opset; }

cy_status cy_onnx_status(const cy_onnx *o, cy_error *err) {
    if (o->st != CY_OK && err) *err = o->err;
    return o->st;
}

void cy_onnx_error(cy_onnx *o, cy_status st, const char *msg) { set_error(o, st, "%s", msg); }

void cy_onnx_scope(cy_onnx *o, const char *scope) {
    snprintf(o->scope, sizeof o->scope, "%s", scope ? scope : "");
}

static Onnx__ValueInfoProto *value_info(cy_onnx *o, const char *name, cy_onnx_dtype dt, int ndim,
                                        const int64_t *dims, const char *const *dim_names) {
    Onnx__ValueInfoProto *vi = pool_alloc(o, sizeof *vi);
    Onnx__TypeProto *tp = pool_alloc(o, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = pool_alloc(o, sizeof *tt);
    Onnx__TensorShapeProto *sh = pool_alloc(o, sizeof *sh);
    Onnx__TensorShapeProto__Dimension **d = pool_alloc(o, (ndim ? ndim : 1) * sizeof *d);
    if (!vi || !tp || !tt || !sh || !d) return NULL;
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh);
    for (int i = 0; i < ndim; i++) {
        if (!(d[i] = pool_alloc(o, sizeof *d[i]))) return NULL;
        onnx__tensor_shape_proto__dimension__init(d[i]);
        if (dims[i] >= 0) {
            d[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d[i]->dim_value = dims[i];
        } else {
            d[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            if (!(d[i]->dim_param = pool_str(o, dim_names && dim_names[i] ? dim_names[i] : "?"))) return NULL;
        }
    }
    sh->n_dim = ndim;
    sh->dim = d;
    tt->has_elem_type = 1;
    tt->elem_type = dt;
    tt->shape = sh;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    vi->type = tp;
    vi->name = pool_str(o, name);
    return vi->name ? vi : NULL;
}

const char *cy_onnx_input(cy_onnx *o, const char *name, cy_onnx_dtype dt, int ndim, const int64_t *dims,
                          const char *const *dim_names) {
    Onnx__ValueInfoProto *vi = value_info(o, name, dt, ndim, dims, dim_names);
    return PUSH(o, inputs, vi) ? vi->name : NULL;
}

void cy_onnx_output(cy_onnx *o, const char *value, cy_onnx_dtype dt, int ndim, const int64_t *dims,
                    const char *const *dim_names) {
    if (!value) {
        set_error(o, CY_ERR_ARG, "internal: ONNX output of a failed node%s", "");
        return;
    }
    PUSH(o, outputs, value_info(o, value, dt, ndim, dims, dim_names));
}

static size_t dtype_size(cy_onnx_dtype dt) { return dt == CY_ONNX_INT64 ? 8 : dt == CY_ONNX_FLOAT16 ? 2 : 4; }

static char *fresh_name(cy_onnx *o, const char *what) {
    char buf[400];
    snprintf(buf, sizeof buf, "%s%s_%d", o->scope, what, o->counter++);
    return pool_str(o, buf);
}

const char *cy_onnx_initializer(cy_onnx *o, const char *name, cy_onnx_dtype dt, int ndim, const int64_t *dims,
                                const void *data) {
    if (o->st != CY_OK) return NULL;
    size_t numel = 1;
    for (int i = 0; i < ndim; i++) numel *= (size_t)dims[i];
    Onnx__TensorProto *t = pool_alloc(o, sizeof *t);
    int64_t *d = pool_alloc(o, (ndim ? ndim : 1) * sizeof *d);
    uint8_t *raw = pool_alloc(o, numel * dtype_size(dt));
    if (!t || !d || !raw) return NULL;
    onnx__tensor_proto__init(t);
    memcpy(d, dims, ndim * sizeof *d);
    memcpy(raw, data, numel * dtype_size(dt));
    t->n_dims = ndim;
    t->dims = d;
    t->has_data_type = 1;
    t->data_type = dt;
    t->has_raw_data = 1;
    t->raw_data.len = numel * dtype_size(dt);
    t->raw_data.data = raw;
    t->name = name ? pool_str(o, name) : fresh_name(o, "Constant");
    return PUSH(o, inits, t) ? t->name : NULL;
}

const char *cy_onnx_const_i64(cy_onnx *o, int n, const int64_t *v) {
    int64_t dims[1] = {n};
    return cy_onnx_initializer(o, NULL, CY_ONNX_INT64, 1, dims, v);
}

const char *cy_onnx_const_f32(cy_onnx *o, float v) {
    return cy_onnx_initializer(o, NULL, CY_ONNX_FLOAT, 0, NULL, &v);
}

static Onnx__AttributeProto *attribute(cy_onnx *o, const cy_onnx_attr *a) {
    Onnx__AttributeProto *p = pool_alloc(o, sizeof *p);
    if (!p) return NULL;
    onnx__attribute_proto__init(p);
    p->name = pool_str(o, a->name);
    p->has_type = 1;
    switch (a->type) {
    case CY_ONNX_A_INT:
        p->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
        p->has_i = 1;
        p->i = a->i;
        break;
    case CY_ONNX_A_FLOAT:
        p->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
        p->has_f = 1;
        p->f = a->f;
        break;
    case CY_ONNX_A_STRING: {
        p->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
        char *s = pool_str(o, a->s);
        if (!s) return NULL;
        p->has_s = 1;
        p->s.data = (uint8_t *)s;
        p->s.len = strlen(s);
        break;
    }
    case CY_ONNX_A_INTS: {
        p->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
        int64_t *v = pool_alloc(o, (a->n ? a->n : 1) * sizeof *v);
        if (!v) return NULL;
        memcpy(v, a->ints, a->n * sizeof *v);
        p->n_ints = a->n;
        p->ints = v;
        break;
    }
    }
    return p->name ? p : NULL;
}

void cy_onnx_node_n(cy_onnx *o, const char *op, const char *const *in, int nin, const cy_onnx_attr *attrs,
                    int nattr, int nout, const char **outs) {
    for (int i = 0; i < nout; i++) outs[i] = NULL;
    if (o->st != CY_OK) return;
    for (int i = 0; i < nin; i++)
        if (!in[i]) {
            set_error(o, CY_ERR_ARG, "internal: %s node reads the value of a failed node", op);
            return;
        }
    Onnx__NodeProto *n = pool_alloc(o, sizeof *n);
    char **ins = pool_alloc(o, (nin ? nin : 1) * sizeof *ins);
    char **os = pool_alloc(o, nout * sizeof *os);
    Onnx__AttributeProto **as = pool_alloc(o, (nattr ? nattr : 1) * sizeof *as);
    if (!n || !ins || !os || !as) return;
    onnx__node_proto__init(n);
    for (int i = 0; i < nin; i++) ins[i] = (char *)in[i]; /* builder-owned names */
    for (int i = 0; i < nattr; i++)
        if (!(as[i] = attribute(o, &attrs[i]))) return;
    char name[400];
    snprintf(name, sizeof name, "%s%s_%d", o->scope, op, o->counter++);
    n->name = pool_str(o, name);
    n->op_type = pool_str(o, op);
    for (int i = 0; i < nout; i++) {
        char b[440];
        snprintf(b, sizeof b, "%s_output_%d", name, i);
        if (!(os[i] = pool_str(o, b))) return;
    }
    n->n_input = nin;
    n->input = ins;
    n->n_output = nout;
    n->output = os;
    n->n_attribute = nattr;
    n->attribute = as;
    if (!PUSH(o, nodes, n)) return;
    for (int i = 0; i < nout; i++) outs[i] = os[i];
}

const char *cy_onnx_node(cy_onnx *o, const char *op, const char *const *in, int nin, const cy_onnx_attr *attrs,
                         int nattr, const char *out_name) {
    const char *out;
    cy_onnx_node_n(o, op, in, nin, attrs, nattr, 1, &out);
    if (out && out_name) {
        char *s = pool_str(o, out_name);
        if (!s) return NULL;
        o->nodes[o->nnodes - 1]->output[0] = s;
        out = s;
    }
    return out;
}

void cy_onnx_meta(cy_onnx *o, const char *key, const char *value) {
    Onnx__StringStringEntryProto *e = pool_alloc(o, sizeof *e);
    if (!e) return;
    onnx__string_string_entry_proto__init(e);
    e->key = pool_str(o, key);
    e->value = pool_str(o, value);
    if (e->key && e->value) PUSH(o, meta, e);
}

/* The IR version that goes with an opset (onnx.helper.VERSION_TABLE). */
static int64_t ir_version(int opset) {
    if (opset <= 10) return 5;
    if (opset == 11) return 6;
    if (opset <= 14) return 7;
    if (opset <= 18) return 8;
    if (opset <= 20) return 9;
    if (opset <= 22) return 10;
    return 11;
}

cy_status cy_onnx_encode(cy_onnx *o, const char *producer, const char *producer_version, uint8_t **buf,
                         size_t *len, cy_error *err) {
    *buf = NULL;
    *len = 0;
    CY_TRY(cy_onnx_status(o, err));
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    Onnx__OperatorSetIdProto opset, *opsets[1] = {&opset};
    onnx__model_proto__init(&model);
    onnx__graph_proto__init(&graph);
    onnx__operator_set_id_proto__init(&opset);
    opset.domain = "";
    opset.has_version = 1;
    opset.version = o->opset;
    graph.name = "main_graph";
    graph.n_node = o->nnodes;
    graph.node = o->nodes;
    graph.n_initializer = o->ninits;
    graph.initializer = o->inits;
    graph.n_input = o->ninputs;
    graph.input = o->inputs;
    graph.n_output = o->noutputs;
    graph.output = o->outputs;
    model.has_ir_version = 1;
    model.ir_version = ir_version(o->opset);
    model.producer_name = (char *)producer;
    model.producer_version = (char *)producer_version;
    model.graph = &graph;
    model.n_opset_import = 1;
    model.opset_import = opsets;
    model.n_metadata_props = o->nmeta;
    model.metadata_props = o->meta;
    size_t n = onnx__model_proto__get_packed_size(&model);
    if (n > ((size_t)2 << 30) - 1)
        return cy_fail(err, CY_ERR_UNSUPPORTED, "the ONNX model is %zu MB, over protobuf's 2 GB limit", n >> 20);
    uint8_t *b = malloc(n ? n : 1);
    if (!b) return cy_fail(err, CY_ERR_MEMORY, "out of memory encoding the ONNX model (%zu MB)", n >> 20);
    onnx__model_proto__pack(&model, b);
    *buf = b;
    *len = n;
    return CY_OK;
}

cy_status cy_onnx_save(cy_onnx *o, const char *path, const char *producer, const char *producer_version,
                       cy_error *err) {
    uint8_t *buf;
    size_t len;
    CY_TRY(cy_onnx_encode(o, producer, producer_version, &buf, &len, err));
    cy_atomic_file f;
    cy_status st = cy_atomic_open(&f, path, err);
    if (st == CY_OK) {
        if (fwrite(buf, 1, len, f.f) != len) {
            cy_atomic_abort(&f);
            st = cy_fail(err, CY_ERR_IO, "%s: write failed (disk full?)", path);
        } else {
            st = cy_atomic_commit(&f, err);
        }
    }
    free(buf);
    return st;
}
