/* cyolo - YOLO detection training and inference, with knowledge distillation,
 * in C.
 *
 *   cy_error err = {0};
 *   cy_model_params p = cy_model_default_params();
 *   p.init = CY_INIT_FORMULA;
 *   cy_model *m;
 *   if (cy_model_create(&m, "cfg/models/26/yolo26n.yaml", &p, &err) != CY_OK)
 *       fprintf(stderr, "%s\n", err.msg);
 *
 * Every function returns a cy_status; on failure a caller-supplied cy_error
 * (may be NULL) holds a message naming the file and the problem. Objects are
 * opaque, each freed by its own *_free. No global state: two models in one
 * process never interfere. Enums only grow at the end. */
#ifndef CYOLO_H
#define CYOLO_H
#include <stddef.h>
#include <stdint.h>

/* The library version (`cyolo version`, the ONNX producer_version). */
#define CYOLO_VERSION_STRING "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(CYOLO_SHARED) && defined(CYOLO_BUILD)
#define CY_API __attribute__((visibility("default")))
#else
#define CY_API
#endif

typedef enum {
    CY_OK = 0,
    CY_ERR_ARG,         /* a bad argument or option */
    CY_ERR_IO,          /* a file could not be opened, read or written */
    CY_ERR_FORMAT,      /* a file's content is malformed */
    CY_ERR_MEMORY,      /* allocation failed */
    CY_ERR_UNSUPPORTED, /* valid, but not something cyolo does */
    CY_ERR_BACKEND      /* the compute library reported an error */
} cy_status;

typedef struct {
    cy_status status;
    char msg[1024];
} cy_error;

CY_API const char *cy_status_name(cy_status s);

/* ---- models ----------------------------------------------------------- */

typedef struct cy_model cy_model;

typedef enum {
    CY_INIT_DEFAULT = 0, /* Ultralytics-like initialisation */
    CY_INIT_FORMULA      /* the deterministic formula of shared/reference/manifest.json */
} cy_init;

typedef enum { CY_BACKEND_CPU = 0, CY_BACKEND_REF } cy_backend_kind;

typedef struct {
    cy_init init;
    int nc;                  /* > 0 overrides the YAML's nc */
    int channels;            /* > 0 overrides the YAML's input channels (default 3) */
    uint64_t seed;           /* CY_INIT_DEFAULT: the weights' random stream (train: seed=) */
    cy_backend_kind backend; /* CPU (oneDNN, fast) or REF (plain C reference) */
    int threads;             /* <= 0: all cores */
    int verbose;             /* reserved */
} cy_model_params;

CY_API cy_model_params cy_model_default_params(void);

/* Builds a model from an Ultralytics model YAML. A file named like
 * "yolo26n.yaml" that does not exist resolves to "yolo26.yaml" with scale n,
 * in the same folder or in the built-in cfg/models tree. */
CY_API cy_status cy_model_create(cy_model **out, const char *yaml_path,
                                 const cy_model_params *params, cy_error *err);
CY_API void cy_model_free(cy_model *m);

/* Re-initialises every parameter and buffer (CY_INIT_DEFAULT from the
 * params.seed the model was created with). head_bias_init = 0 skips
 * Detect.bias_init() (the manifest's "pure formula" variant). */
CY_API cy_status cy_model_reinit(cy_model *m, cy_init init, int head_bias_init,
                                 cy_error *err);

/* What a model's head predicts (Ultralytics' task names: "detect", "segment"). */
typedef enum { CY_TASK_DETECT = 0, CY_TASK_SEGMENT = 1 } cy_task;
CY_API const char *cy_task_name(cy_task t);

typedef struct {
    int layers;          /* number of YAML layers */
    int nc;
    int channels;        /* input channels (YAML `channels`, default 3) */
    int reg_max;
    int end2end;
    int64_t params;      /* parameters (learned and fixed, as model.info()) */
    int64_t gradients;   /* parameters that require gradients */
    int modules;         /* torch module count, as model.info() "layers" */
    double gflops_640;   /* at imgsz 640, as model.info() */
    int stride[3];
    cy_task task;        /* from the head: Detect -> detect, Segment/Segment26 -> segment */
    int nm;              /* segment: mask coefficients per anchor (prototype masks); else 0 */
} cy_model_summary;

CY_API cy_status cy_model_summarize(const cy_model *m, cy_model_summary *out);

/* Writes the per-layer table and summary line of `cyolo info` to `f` (FILE*). */
CY_API cy_status cy_model_print_info(const cy_model *m, void *file, cy_error *err);

/* Eval-mode forward on a float32 NCHW input in [0,1] with the model's
 * input channels (cy_model_summary.channels); h and w must be multiples of
 * the model's max stride.
 * end2end models: out is [n, k, 6] rows (x1, y1, x2, y2, score, class),
 * k = min(max_det, anchors), best first; others: the decoded [n, 4+nc, anchors]
 * tensor (xywh boxes in pixels, sigmoid scores), to be passed to cy_nms.
 * Segment models append their nm raw mask coefficients as Ultralytics does:
 * rows of 6 + nm, or 4 + nc + nm decoded channels (cy_model_proto gives the
 * prototypes they weight).
 * Free out with cy_array_free. */
typedef struct {
    int max_det;   /* 300 */
} cy_predict_params;

typedef struct {
    float *data;
    int ndim;
    int64_t shape[4];
} cy_array;

CY_API cy_status cy_model_forward(cy_model *m, const float *input, int n, int h,
                                  int w, const cy_predict_params *pp,
                                  cy_array *out, cy_error *err);

/* Keep every layer's output of the next forwards readable (uses more
 * memory: no activation buffer is reused). */
CY_API void cy_model_set_keep_layers(cy_model *m, int keep);
/* Runs the graph only (no decoding): in training mode this is the train
 * forward whose head outputs cy_model_raw_head reads. */
CY_API cy_status cy_model_run(cy_model *m, const float *input, int n, int h,
                              int w, cy_error *err);
/* The training loss gains (Ultralytics' box, cls, dfl arguments). */
CY_API cy_status cy_model_set_loss_gains(cy_model *m, double box, double cls, double dfl, cy_error *err);
/* Training mode: BatchNorm uses (and updates) batch statistics, every
 * activation is kept for the backward pass. */
CY_API void cy_model_set_training(cy_model *m, int training);
/* Also run the one-to-many head branch in eval (end2end models only run the
 * one-to-one branch by default, as a fused Ultralytics model does). */
CY_API void cy_model_set_want_one2many(cy_model *m, int want);

/* A layer's output of the last forward as NCHW float32 (free with
 * cy_array_free); the layer must have been kept. */
CY_API cy_status cy_model_layer_output(const cy_model *m, int layer,
                                       cy_array *out, cy_error *err);
/* Raw head outputs of the last forward, levels concatenated (part is a
 * cy_head_part): boxes [n, 4*reg_max, A], class logits [n, nc, A] or, for
 * segment models, mask coefficients [n, nm, A]. */
typedef enum { CY_HEAD_SCORES = 0, CY_HEAD_BOXES = 1, CY_HEAD_MASKS = 2 } cy_head_part;
CY_API cy_status cy_model_raw_head(cy_model *m, int one2one, int part,
                                   cy_array *out, cy_error *err);
/* Segment models: the prototype masks of the last forward [n, nm, h/4, w/4]
 * (Proto's output; one for both head branches), and in a training forward of
 * YOLO26-seg the auxiliary semantic logits [n, nc, h/8, w/8] (Proto26's
 * semseg branch, which eval never runs). */
CY_API cy_status cy_model_proto(cy_model *m, cy_array *out, cy_error *err);
CY_API cy_status cy_model_semantic(cy_model *m, cy_array *out, cy_error *err);
/* The decoded [n, 4+nc(+nm), A] prediction of the last forward (before top-k). */
CY_API cy_status cy_model_decoded(cy_model *m, cy_array *out, cy_error *err);

/* Class-aware (or agnostic) non-maximum suppression on a decoded
 * [n, 4+nc, anchors] prediction (xywh). For image i, rows of
 * (x1, y1, x2, y2, score, class) are written to dets + i*max_det*6, their
 * count to counts[i]. Matches Ultralytics non_max_suppression. */
typedef struct {
    float conf;      /* 0.25 */
    float iou;       /* 0.7 */
    int max_det;     /* 300 */
    int agnostic;    /* 0 */
    int max_nms;     /* 30000 */
    int max_wh;      /* 7680 */
    int multi_label; /* 0; 1: every class score above conf is a candidate
                      * (Ultralytics' validators pass multi_label=True) */
} cy_nms_params;

CY_API cy_nms_params cy_nms_default_params(void);
CY_API cy_status cy_nms(const float *pred, int n, int nc, int anchors,
                        const cy_nms_params *p, float *dets, int *counts,
                        cy_error *err);
/* cy_nms on [n, 4+nc+nm, anchors] with nm extra channels after the scores
 * (segment models' mask coefficients): each kept box keeps them, as
 * non_max_suppression(nc=nc) does. Rows of 6 + nm (x1 y1 x2 y2 score class
 * coef...) at dets + i*max_det*(6+nm). nm = 0 is cy_nms. */
CY_API cy_status cy_nms_extra(const float *pred, int n, int nc, int nm, int anchors,
                              const cy_nms_params *p, float *dets, int *counts,
                              cy_error *err);

/* Releases a cy_array's data. */
CY_API void cy_array_free(cy_array *a);

/* ---- training ---------------------------------------------------------- */

/* The options of a training run: every Ultralytics train argument, with the
 * defaults of cfg/default.yaml, set as text exactly as on the command line
 * (cy_train_options_set(o, "epochs", "100")); an unknown key or a value of
 * the wrong type is refused naming it. Knowledge distillation:
 * cy_train_options_set_distill(o, "yolo26s.pt", 6.0); a faster teacher:
 * cy_train_options_set(o, "distill_precision", "int8", &err) (or "bf16"). */
typedef struct cy_train_options cy_train_options;

CY_API cy_status cy_train_options_create(cy_train_options **out, cy_error *err);
CY_API void cy_train_options_free(cy_train_options *o);
CY_API cy_status cy_train_options_set(cy_train_options *o, const char *key, const char *value, cy_error *err);
/* distill_model= (a teacher .pt or model YAML) and dis= (>= 0). */
CY_API cy_status cy_train_options_set_distill(cy_train_options *o, const char *teacher, double dis, cy_error *err);

/* Trains as `cyolo train` does; log is a FILE* for the progress lines (NULL:
 * quiet). save_dir (may be NULL) receives the run folder. resume=True in the
 * options continues model=.../last.pt. */
CY_API cy_status cy_train(const cy_train_options *o, void *log, char *save_dir, size_t save_dir_cap, cy_error *err);

#ifdef __cplusplus
}
#endif
#endif
