/* A YOLO detection model: the parsed YAML (one cy_layer per row), the state
 * (parameters and buffers in Ultralytics state_dict order, each kind in one
 * flat buffer) and the graph of primitive nodes built for one input shape. */
#ifndef CY_MODEL_H
#define CY_MODEL_H
#include <stdint.h>
#include "backend/backend.h"
#include "core/status.h"
#include "cyolo.h"

#define CY_MAX_FROM 8
#define CY_MAX_LEVELS 3
#define CY_NAME_MAX 96

typedef enum {
    CY_MOD_CONV, CY_MOD_DWCONV, CY_MOD_BOTTLENECK, CY_MOD_C2F, CY_MOD_C3, CY_MOD_C3K,
    CY_MOD_C3K2, CY_MOD_SPPF, CY_MOD_C2PSA, CY_MOD_CONCAT, CY_MOD_UPSAMPLE, CY_MOD_DETECT
} cy_module_kind;

/* One YAML row after parse_model's rewriting of its arguments. */
typedef struct {
    int index;
    int nfrom;
    int from[CY_MAX_FROM];      /* absolute layer indices (-1: the image) */
    int from_raw[CY_MAX_FROM];  /* as written, for the info table */
    int from_is_list;
    int n_print;                /* n after the depth gain, as printed */
    cy_module_kind kind;
    const char *type;           /* Ultralytics' module path, as printed */
    int c1, c2;
    int k, s;                   /* Conv, DWConv */
    int repeats;                /* inner blocks of C2f/C3/C3k2/C2PSA */
    int shortcut, c3k, attn, groups;
    double e;
    int pool_k, pool_n;         /* SPPF */
    int sppf_short_row;         /* SPPF written as [c2] or [c2, k] (YOLOv8/11 rows, not YOLO26's [c2, k, n, shortcut]) */
    int sppf_cv1_act;           /* 0: by the rule in decl_sppf; 1: none; 2: SiLU (what a checkpoint's pickled module has) */
    int scale;                  /* Upsample */
    char args[192];             /* the argument list as Ultralytics prints it */
    int64_t params;
} cy_layer;

typedef enum {
    CY_ENTRY_PARAM,      /* learned float parameter */
    CY_ENTRY_FIXED,      /* float parameter without gradient (DFL arange) */
    CY_ENTRY_BUFFER,     /* float buffer (BN running stats) */
    CY_ENTRY_COUNTER     /* int64 buffer (num_batches_tracked), 0-d */
} cy_entry_kind;

typedef enum {
    CY_ROLE_CONV_W, CY_ROLE_CONV_B, CY_ROLE_BN_W, CY_ROLE_BN_B, CY_ROLE_BN_MEAN,
    CY_ROLE_BN_VAR, CY_ROLE_COUNT, CY_ROLE_DFL
} cy_entry_role;

/* One state_dict entry. `offset` indexes params (PARAM, FIXED), buffers
 * (BUFFER) or counters (COUNTER). */
typedef struct {
    char name[CY_NAME_MAX];
    cy_entry_kind kind;
    cy_entry_role role;
    int ndim;
    int64_t shape[4];
    size_t numel, offset;
} cy_entry;

typedef enum {
    CY_OP_CONV, CY_OP_ACT, CY_OP_ADD, CY_OP_MAXPOOL, CY_OP_UPSAMPLE, CY_OP_CONCAT,
    CY_OP_SLICE, CY_OP_ATTN, CY_OP_BN, CY_OP_DECONV
} cy_op;

typedef struct {
    cy_op op;
    int nin;
    int in[CY_MAX_FROM];
    int out;
    /* conv */
    int w, b, bn;               /* entry indices (bn: the bn.weight entry), -1 none */
    int cout;
    cy_conv_params cp;          /* geometry and act; pointers filled at run time */
    cy_act act;                 /* ACT */
    int k, stride, pad;         /* MAXPOOL; DECONV: k = kernel = stride */
    int scale;                  /* UPSAMPLE */
    int groups, group_stride, offset, len; /* SLICE */
    int heads, kd, hd;          /* ATTN */
    float attn_scale;
    int live;                   /* needed for the requested outputs */
    double fwd_ms, bwd_ms;      /* accumulated when the model profiles */
    int detach_input;           /* backward stops here: no gradient to in[] (o2o head) */
    float *bn_save;             /* BN (training): batch mean then invstd, 2*C floats */
    cy_slot slot;
} cy_node;

typedef struct {
    cy_shape s;
    float *data;
    int last_use;               /* index of the last node reading it */
    int keep;                   /* never reused: a graph output or a hooked layer */
} cy_value;

typedef struct {
    float *data;
    size_t size;                /* floats */
    int free_after;             /* node index after which it can be reused */
} cy_block;

/* Outputs of the Detect head for one branch: per level raw box and class
 * maps, and for Segment heads the mask coefficient maps. */
typedef struct {
    int box[CY_MAX_LEVELS], cls[CY_MAX_LEVELS], mask[CY_MAX_LEVELS];
} cy_head_values;

/* The value of one head part (cy_head_part) at level l. */
static inline int cy_head_value(const cy_head_values *hv, int part, int l) {
    return part == CY_HEAD_BOXES ? hv->box[l] : part == CY_HEAD_MASKS ? hv->mask[l] : hv->cls[l];
}

typedef struct {
    cy_shape input;
    cy_node *nodes;
    int nnodes, cap_nodes;
    cy_value *values;           /* value 0 is the input image */
    int nvalues, cap_values;
    int *layer_value;           /* output value of each YAML layer */
    cy_head_values o2m, o2o;    /* o2o only for end2end models */
    int proto;                  /* segment: Proto's output value (0: none) */
    int semseg;                 /* YOLO26-seg training graphs: Proto26's semantic logits (0: none) */
    int level_h[CY_MAX_LEVELS], level_w[CY_MAX_LEVELS];
    cy_block *blocks;           /* value memory, reused once a value is dead */
    int nblocks;
    int planned;                /* memory planned for the current outputs */
    int training;               /* built as conv -> batchnorm(batch stats) -> act */
    float **grad;               /* per value: dL/dvalue (training), or NULL */
    int built;
} cy_graph;

struct cy_model {
    char yaml_path[512];
    char *yaml_text;             /* the YAML the model was built from (checkpoints store it) */
    char name[64];               /* e.g. "yolo26n", for the summary line */
    char scale;                  /* 0 if the YAML has no scales */
    int nc, reg_max, end2end, end2end_given, legacy;
    double depth, width;
    int max_channels;
    int channels;                /* input channels (YAML `channels`, default 3) */
    uint64_t init_seed;          /* CY_INIT_DEFAULT's random stream (cy_model_params.seed) */
    cy_layer *layers;
    int nlayers;
    int detect_layer;
    int nl;                      /* detection levels */
    int stride[CY_MAX_LEVELS];
    int c2_box, c3_cls;          /* Detect branch widths */
    cy_task task;                /* from the head module */
    int nm, npr;                 /* segment: mask coefficients, Proto's hidden channels (scaled) */
    int proto26;                 /* Segment26: Proto26 (P3-P5 fused, semantic branch in training) */

    cy_entry *entries;
    int nentries, cap_entries;
    float *params, *buffers;
    int64_t *counters;
    size_t nparams, nbuffers, ncounters;
    uint64_t weights_version;
    int modules;                 /* torch module count, as model.info() */
    double gflops_640;           /* measured on the stride probe graph */

    cy_backend *backend;
    cy_graph graph;
    int keep_layers;             /* keep every layer output (dump, hooks) */
    int training;                /* next graph is a training graph */
    int profile;                 /* accumulate per-node times (bench/profile_*) */
    double loss_gain[3];         /* box, cls, dfl: 7.5, 0.5, 1.5 (the box/cls/dfl arguments) */
    float *grads;                /* dL/dparam, laid out like params (training) */
    int want_o2m;                /* run the one-to-many branch in eval too */
    cy_precision precision;      /* eval convolutions (a distillation teacher: bf16, int8) */
    float *int8_step;            /* INT8: per conv weight entry, its input's quantization step,
                                    max |input| / 127 over the first forward (0: not yet) */
    int skip_boxes;              /* eval: leave the box branches out (a distillation
                                    teacher reads only class logits and features) */
    int nhooks;                  /* layers whose outputs stay readable after a forward */
    int hook_layers[CY_MAX_FROM];
};

/* A model from YAML text, e.g. a checkpoint's copy (label names it in
 * errors, name is the run name like "yolo26n", scale its letter or 0). */
cy_status cy_model_create_from_text(cy_model **out, const char *label, const char *name, const char *yaml_text,
                                    char scale, const cy_model_params *p, cy_error *err);

/* model_yaml.c: YAML -> layers, as Ultralytics' parse_model. */
cy_status cy_model_parse_yaml(cy_model *m, const char *path, int nc_override, cy_error *err);
/* The same from YAML text (a checkpoint's copy); scale as the name gave it. */
cy_status cy_model_parse_yaml_text(cy_model *m, const char *label, const char *name, const char *text, char scale,
                                   int nc_override, cy_error *err);
/* model_build.c: state registration and graph construction for one shape. */
cy_status cy_model_build_graph(cy_model *m, cy_shape input, cy_error *err);
void cy_graph_free(cy_model *m);
/* model_init.c */
void cy_model_head_bias_init(cy_model *m);
/* model_run.c */
cy_status cy_model_run_graph(cy_model *m, const float *input_nchw, cy_shape s, cy_error *err);
/* The backend arguments of a conv / training-BN node, pointing into the
 * model's parameter and buffer arrays. */
cy_conv_params cy_node_conv_params(const cy_model *m, const cy_node *n);
cy_bn_params cy_node_bn_params(const cy_model *m, const cy_node *n);
/* Value v of the graph as a tensor (in the backend's layout). */
cy_tensor cy_graph_tensor(const cy_graph *g, int v);
/* Runs node k alone on the values of the last forward (profiling). */
cy_status cy_model_run_node(cy_model *m, int k, cy_error *err);
double cy_now_ms(void);
/* Copies a graph value out as NCHW float32. */
void cy_model_value_nchw(const cy_model *m, int value, float *dst);
/* model_backward.c: zero the gradients, seed the head gradients, walk the
 * graph backwards accumulating into m->grads. */
cy_status cy_model_backward(cy_model *m, cy_error *err);
/* Allocates (first call) or clears m->grads. */
cy_status cy_model_zero_grad(cy_model *m, cy_error *err);
/* Adds src, an NCHW gradient of graph value v (Proto's output, the semantic
 * logits), to that value's gradient. */
cy_status cy_model_seed_value_grad(cy_model *m, int v, const float *src, cy_error *err);
/* Adds src, a head gradient in the [n, C, A] layout of cy_model_raw_head, to
 * the gradient of that head output. */
cy_status cy_model_seed_head_grad(cy_model *m, int one2one, int part, const float *src, cy_error *err);
/* The gradient buffer of layer's output in the last training forward (the
 * backend's layout, zeroed at each training forward), to add a gradient
 * into before cy_model_backward (distillation seeds its neck features this
 * way); NULL with err set when there is none. */
float *cy_model_layer_grad_buffer(cy_model *m, int layer, cy_error *err);
/* The gradient that reached layer's output in the last backward, as NCHW
 * (tests): valid until the next training forward. */
cy_status cy_model_layer_grad(const cy_model *m, int layer, cy_array *out, cy_error *err);
/* Clears the per-value gradients (each training forward starts with this). */
void cy_model_clear_value_grads(cy_model *m);
/* Keeps the outputs of these layers readable after each forward (n <= CY_MAX_FROM). */
cy_status cy_model_set_hooks(cy_model *m, const int *layers, int n, cy_error *err);
/* model_flops.c */
double cy_model_gflops(const cy_model *m, int imgsz);

int cy_model_find_entry(const cy_model *m, const char *name);
/* 1 when the SPPF row L's cv1 carries SiLU in this model (the rule of
 * decl_sppf, or what a checkpoint's module tree said), 0 for none. */
int cy_model_sppf_cv1_silu(const cy_model *m, const cy_layer *L);
/* Gives the SPPF at `layer` the cv1 activation a checkpoint's module tree
 * holds (silu 1: SiLU, 0: none), whatever the YAML rule says; the graph is
 * rebuilt on the next forward. */
cy_status cy_model_set_sppf_act(cy_model *m, int layer, int silu, cy_error *err);

#endif
