/* Finds the model inside a checkpoint: cyolo's plain-data layout, or an
 * Ultralytics checkpoint whose `ema`/`model` is a pickled DetectionModel or
 * SegmentationModel.
 * For the latter the module tree is checked against what cyolo can build
 * before anything else, so an unsupported task or module is named rather
 * than failing later as a shape mismatch. */
#include "engine/checkpoint_import.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "io/pt.h"
#include "io/pt_module.h"
#include "core/status.h"

/* torch.nn classes cyolo's graph reproduces (full names). */
static const char *const torch_modules[] = {
    "torch.nn.modules.container.Sequential", "torch.nn.modules.container.ModuleList",
    "torch.nn.modules.conv.Conv2d",          "torch.nn.modules.batchnorm.BatchNorm2d",
    "torch.nn.modules.activation.SiLU",      "torch.nn.modules.linear.Identity",
    "torch.nn.modules.pooling.MaxPool2d",    "torch.nn.modules.upsampling.Upsample",
    "torch.nn.modules.conv.ConvTranspose2d",
};
/* Ultralytics building blocks, by class name: older releases kept them in
 * ultralytics.nn.modules itself, newer ones in its conv/block/head files. */
static const char *const ultralytics_modules[] = {
    "Conv", "DWConv", "Concat", "Bottleneck", "C2f", "C3", "C3k", "C3k2", "SPPF", "C2PSA", "PSABlock", "Attention",
    "DFL",  "Detect", "Segment", "Segment26", "Proto", "Proto26",
};
/* Ultralytics model classes and their tasks, for the message. */
static const char *const model_tasks[][2] = {
    {"SegmentationModel", "segment"}, {"PoseModel", "pose"},         {"OBBModel", "obb"},
    {"ClassificationModel", "classify"}, {"RTDETRDetectionModel", "RT-DETR detect"},
    {"WorldModel", "YOLO-World detect"}, {"YOLOEModel", "YOLOE detect"}, {"YOLOESegModel", "YOLOE segment"},
};
static const char *const DETECTION_MODEL = "ultralytics.nn.tasks.DetectionModel";
static const char *const SEGMENTATION_MODEL = "ultralytics.nn.tasks.SegmentationModel";

static const char *last_part(const char *cls) {
    const char *d = strrchr(cls, '.');
    return d ? d + 1 : cls;
}

static int supported_module(const char *cls) {
    for (size_t i = 0; i < sizeof torch_modules / sizeof *torch_modules; i++)
        if (!strcmp(cls, torch_modules[i])) return 1;
    if (strncmp(cls, "ultralytics.nn.modules.", 23)) return 0;
    for (size_t i = 0; i < sizeof ultralytics_modules / sizeof *ultralytics_modules; i++)
        if (!strcmp(last_part(cls), ultralytics_modules[i])) return 1;
    return 0;
}

static const char *task_of(const char *model_cls) {
    for (size_t i = 0; i < sizeof model_tasks / sizeof *model_tasks; i++)
        if (!strcmp(last_part(model_cls), model_tasks[i][0])) return model_tasks[i][1];
    return NULL;
}

typedef struct {
    const char *path;
    const char *model_cls;
    cy_ckpt_model *out;
    int sppf;                 /* layer index of the SPPF being walked, -1 */
} check_ctx;

static cy_status check_module(const char *mpath, const cy_pt_value *m, void *vctx, cy_error *err) {
    check_ctx *c = vctx;
    const char *cls = cy_pt_object_class(m);
    int layer, end = 0;
    if (sscanf(mpath, "model.%d%n", &layer, &end) == 1 && !mpath[end])
        c->sppf = !strcmp(last_part(cls), "SPPF") ? layer : -1;
    char want[48];
    snprintf(want, sizeof want, "model.%d.cv1.act", c->sppf);
    if (c->sppf >= 0 && !strcmp(mpath, want) && c->out->nsppf < 8) {
        c->out->sppf_layer[c->out->nsppf] = c->sppf;
        c->out->sppf_silu[c->out->nsppf++] = !strcmp(last_part(cls), "SiLU");
    }
    if (!*mpath || supported_module(cls)) return CY_OK;
    const char *task = task_of(c->model_cls);
    char in[160] = "";
    if (task) snprintf(in, sizeof in, " (in a %s, task '%s')", last_part(c->model_cls), task);
    return cy_fail(err, CY_ERR_UNSUPPORTED,
                   "%s: module %s is %s%s, which cyolo does not support yet (detection models of Conv, C2f, "
                   "C3k2, SPPF, C2PSA and Detect blocks)",
                   c->path, mpath, cls, in);
}

static void file_stem(const char *path, char *out, size_t cap) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(out, cap, "%s", b);
    char *dot = strrchr(out, '.');
    if (dot && dot != out) *dot = 0;
}

/* A str value under key in a dict, or NULL. */
static const char *str_at(const cy_pt_value *d, const char *key) {
    const cy_pt_value *v = cy_pt_dict_find(d, key);
    return v && v->kind == CY_PT_STR ? v->u.str.s : NULL;
}

static cy_status open_cyolo(const char *path, const cy_pt_value *y, int use_ema, cy_ckpt_model *c, cy_error *err) {
    const char *text = str_at(y, "yaml"), *scale = str_at(y, "scale"), *name = str_at(y, "name");
    if (!(c->yaml_text = strdup(text))) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    snprintf(c->name, sizeof c->name, "%s", name ? name : "");
    c->scale = scale ? scale[0] : 0;
    int64_t nc = 0;
    if (cy_pt_get_int(y, "nc", &nc, NULL) == CY_OK && nc > 0 && nc <= 100000) c->nc = (int)nc;
    const cy_pt_value *w = use_ema ? cy_pt_dict_find(c->root, "ema") : NULL;
    if (!w || w->kind != CY_PT_DICT) w = cy_pt_dict_find(c->root, "model");
    if (!w || w->kind != CY_PT_DICT) return cy_fail(err, CY_ERR_FORMAT, "%s: the checkpoint holds no weights", path);
    c->weights = w;
    const cy_pt_value *names = cy_pt_dict_find(c->root, "names");
    c->names = names && names->kind == CY_PT_DICT ? names : NULL;
    return CY_OK;
}

/* The task train_args (or the model's args) name, when it is not detect. */
static const char *other_task(const cy_pt_value *root, const cy_pt_value *model) {
    const char *t = str_at(cy_pt_dict_find(root, "train_args"), "task");
    if (!t) t = str_at(cy_pt_object_attr(model, "args"), "task");
    return t && strcmp(t, "detect") ? t : NULL;
}

static cy_status open_ultralytics(const char *path, const cy_pt_value *model, cy_ckpt_model *c, cy_error *err) {
    c->ultralytics = 1;
    const char *cls = cy_pt_object_class(model);
    check_ctx cc = {path, cls, c, -1};
    cy_status s = cy_pt_module_walk(model, check_module, &cc, err);
    if (s == CY_ERR_FORMAT) {
        char m[sizeof err->msg];
        snprintf(m, sizeof m, "%s", err->msg);
        return cy_fail(err, CY_ERR_FORMAT, "%s: %s", path, m);
    }
    CY_TRY(s);
    const int seg = !strcmp(cls, SEGMENTATION_MODEL);
    if (strcmp(cls, DETECTION_MODEL) && !seg) {
        const char *task = task_of(cls);
        return cy_fail(err, CY_ERR_UNSUPPORTED, "%s: the checkpoint holds a %s%s%s%s, which cyolo does not support yet "
                       "(detection and segmentation models only)",
                       path, cls, task ? " (task '" : "", task ? task : "", task ? "')" : "");
    }
    const char *task = other_task(c->root, model);
    if (task && !(seg && !strcmp(task, "segment")))
        return cy_fail(err, CY_ERR_UNSUPPORTED,
                       "%s: the checkpoint holds a %s trained for task '%s'; cyolo supports 'detect' and 'segment'",
                       path, last_part(cls), task);
    const cy_pt_value *y = cy_pt_object_attr(model, "yaml");
    char what[600];
    snprintf(what, sizeof what, "%s: the model's yaml", path);
    if (!y) return cy_fail(err, CY_ERR_FORMAT, "%s: the model has no yaml (its architecture)", path);
    CY_TRY(cy_pt_to_yaml_text(y, what, &c->yaml_text, err));
    const char *file = str_at(y, "yaml_file"), *scale = str_at(y, "scale");
    if (file) file_stem(file, c->name, sizeof c->name);
    c->scale = scale && strlen(scale) == 1 ? scale[0] : 0;
    int64_t nc = 0;
    if (cy_pt_get_int(y, "nc", &nc, NULL) == CY_OK && nc > 0 && nc <= 100000) c->nc = (int)nc;
    const cy_pt_value *names = cy_pt_object_attr(model, "names");
    c->names = names && (names->kind == CY_PT_DICT || names->kind == CY_PT_LIST) ? names : NULL;
    const cy_pt_value *stride = cy_pt_object_attr(model, "stride");
    if (stride && stride->kind == CY_PT_TENSOR && cy_pt_tensor_numel(stride) >= 1 &&
        cy_pt_tensor_numel(stride) <= (int64_t)(sizeof c->stride / sizeof *c->stride)) {
        float f[8];
        size_t n = (size_t)cy_pt_tensor_numel(stride);
        if (cy_pt_tensor_to_f32(stride, f, n, NULL) == CY_OK) {
            c->nstride = (int)n;
            for (size_t i = 0; i < n; i++) c->stride[i] = f[i]; /* compared, never cast: may be NaN */
        }
    }
    s = cy_pt_module_state_dict(model, &c->own_weights, err);
    if (s) {
        char m[sizeof err->msg];
        snprintf(m, sizeof m, "%s", err->msg);
        return cy_fail(err, s, "%s: %s", path, m);
    }
    c->weights = c->own_weights;
    return CY_OK;
}

cy_status cy_ckpt_model_from_root(const char *path, cy_pt_value *root, int use_ema, cy_ckpt_model *c,
                                  cy_error *err) {
    memset(c, 0, sizeof *c);
    c->root = root;
    cy_status s;
    const cy_pt_value *y = cy_pt_dict_find(root, "yaml"), *model = NULL;
    if (root->kind == CY_PT_OBJECT) { /* torch.save(model) */
        model = root;
    } else if (root->kind != CY_PT_DICT) {
        return cy_fail(err, CY_ERR_FORMAT, "%s: not a model checkpoint (it holds a %s)", path,
                       cy_pt_kind_name(root->kind));
    } else if (y && y->kind == CY_PT_DICT && str_at(y, "yaml") && *str_at(y, "yaml")) {
        s = open_cyolo(path, y, use_ema, c, err);
        if (s) cy_ckpt_model_close(c);
        return s;
    } else {
        const cy_pt_value *ema = cy_pt_dict_find(root, "ema"), *raw = cy_pt_dict_find(root, "model");
        model = use_ema && ema && ema->kind == CY_PT_OBJECT ? ema : raw;
        if (!model || model->kind != CY_PT_OBJECT) model = ema;
    }
    if (!model || model->kind != CY_PT_OBJECT) {
        c->root = NULL;
        return cy_fail(err, CY_ERR_FORMAT,
                       "%s: no model inside (neither a cyolo checkpoint with its model YAML nor an Ultralytics one with "
                       "a pickled model under 'ema' or 'model')",
                       path);
    }
    s = open_ultralytics(path, model, c, err);
    if (s) cy_ckpt_model_close(c);
    return s;
}

cy_status cy_ckpt_model_open(const char *path, int use_ema, cy_ckpt_model *out, cy_error *err) {
    memset(out, 0, sizeof *out);
    cy_pt_value *root = NULL;
    CY_TRY(cy_pt_read(path, &root, err));
    cy_status s = cy_ckpt_model_from_root(path, root, use_ema, out, err);
    if (s) {
        cy_pt_value_free(root);
        return s;
    }
    out->own_root = 1;
    return CY_OK;
}

void cy_ckpt_model_close(cy_ckpt_model *c) {
    if (!c) return;
    if (c->own_root) cy_pt_value_free(c->root);
    cy_pt_value_free(c->own_weights);
    free(c->yaml_text);
    memset(c, 0, sizeof *c);
}
