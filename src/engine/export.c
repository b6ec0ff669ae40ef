/* The ONNX export driver: options -> the model's graph (model_onnx.c) ->
 * Ultralytics' metadata properties -> an atomic write. */
#include "engine/export.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "io/onnx_write.h"
#include "model/model.h"
#include "model/model_onnx.h"

cy_export_onnx_options cy_export_onnx_defaults(void) {
    cy_export_onnx_options o = {.imgsz_h = 640, .imgsz_w = 640, .batch = 1, .simplify = 1, .end2end = -1,
                                .max_det = 300};
    return o;
}

void cy_export_pyrepr_str(const char *s, char *out, size_t cap) {
    if (!cap) return;
    char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
    size_t k = 0;
#define PUT(c) do { if (k + 1 < cap) out[k++] = (c); } while (0)
    PUT(q);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\\' || *p == q) {
            PUT('\\');
            PUT(*p);
        } else if (*p == '\n') {
            PUT('\\');
            PUT('n');
        } else if (*p == '\t') {
            PUT('\\');
            PUT('t');
        } else if (*p == '\r') {
            PUT('\\');
            PUT('r');
        } else if (*p < 0x20 || *p == 0x7f) {
            char h[5];
            snprintf(h, sizeof h, "\\x%02x", *p);
            for (int i = 0; i < 4; i++) PUT(h[i]);
        } else {
            PUT(*p);
        }
    }
    PUT(q);
#undef PUT
    out[k] = 0;
}

typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} text;

static void add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(text *t, const char *fmt, ...) {
    if (t->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) return;
        if (t->s && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap ? 2 * t->cap : 256) + (size_t)n;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->oom = 1;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
}

/* "YOLO26n" from yolo26n.yaml / runs/.../best.pt with model name yolo26n */
static void pretty_name(const cy_model *m, char *out, size_t cap) {
    const char *n = m->name[0] ? m->name : "yolo";
    if (!strncmp(n, "yolo", 4)) snprintf(out, cap, "YOLO%s", n + 4);
    else snprintf(out, cap, "%s", n);
}

static cy_status metadata(cy_onnx *o, const cy_model *m, const cy_export_onnx_options *opt,
                          const cy_export_meta *meta, int end2end, cy_error *err) {
    char pretty[80], buf[1200];
    pretty_name(m, pretty, sizeof pretty);
    if (meta->data && *meta->data) snprintf(buf, sizeof buf, "cyolo %s model trained on %s", pretty, meta->data);
    else snprintf(buf, sizeof buf, "cyolo %s model ", pretty);
    cy_onnx_meta(o, "description", buf);
    cy_onnx_meta(o, "author", "cyolo");
    cy_onnx_meta(o, "date", meta->date ? meta->date : "");
    cy_onnx_meta(o, "version", CYOLO_VERSION_STRING);
    int stride = 0;
    for (int l = 0; l < m->nl; l++)
        if (m->stride[l] > stride) stride = m->stride[l];
    snprintf(buf, sizeof buf, "%d", stride);
    cy_onnx_meta(o, "stride", buf);
    cy_onnx_meta(o, "task", cy_task_name(m->task));
    const char *head = m->layers[m->detect_layer].type, *dot = head ? strrchr(head, '.') : NULL;
    cy_onnx_meta(o, "head", dot ? dot + 1 : head ? head : "Detect");
    snprintf(buf, sizeof buf, "%d", opt->batch);
    cy_onnx_meta(o, "batch", buf);
    snprintf(buf, sizeof buf, "[%d, %d]", opt->imgsz_h, opt->imgsz_w);
    cy_onnx_meta(o, "imgsz", buf);
    text t = {0};
    add(&t, "{");
    for (int i = 0; i < m->nc; i++) {
        cy_export_pyrepr_str(meta->names[i], buf, sizeof buf);
        add(&t, "%s%d: %s", i ? ", " : "", i, buf);
    }
    add(&t, "}");
    if (t.oom) {
        free(t.s);
        return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    }
    cy_onnx_meta(o, "names", t.s);
    free(t.s);
    /* the export arguments, as Ultralytics records them (default.yaml order) */
    char opset[16] = "None";
    if (opt->opset) snprintf(opset, sizeof opset, "%d", opt->opset);
    snprintf(buf, sizeof buf, "{'batch': %d, 'half': %s, 'dynamic': %s, 'simplify': %s, 'opset': %s, 'nms': False}",
             opt->batch, opt->half ? "True" : "False", opt->dynamic ? "True" : "False",
             opt->simplify ? "True" : "False", opset);
    cy_onnx_meta(o, "args", buf);
    snprintf(buf, sizeof buf, "%d", m->channels);
    cy_onnx_meta(o, "channels", buf);
    cy_onnx_meta(o, "end2end", end2end ? "True" : "False");
    return cy_onnx_status(o, err);
}

cy_status cy_export_onnx(cy_model *m, const cy_export_onnx_options *opt, const cy_export_meta *meta,
                         const char *path, int *used_end2end, cy_error *err) {
    int opset = opt->opset ? opt->opset : CY_EXPORT_DEFAULT_OPSET;
    if (opset < 11 || opset > 22)
        return cy_fail(err, CY_ERR_ARG, "opset=%d: cyolo writes ONNX opsets 11 to 22", opt->opset);
    int end2end = opt->end2end < 0 ? m->end2end : opt->end2end && m->end2end;
    if (used_end2end) *used_end2end = end2end;
    cy_onnx *o;
    CY_TRY(cy_onnx_create(&o, opset, err));
    cy_onnx_model_opts mo = {.batch = opt->batch, .h = opt->imgsz_h, .w = opt->imgsz_w, .dynamic = opt->dynamic,
                             .one2one = end2end, .max_det = opt->max_det, .half = opt->half};
    int was_training = m->training;
    cy_model_set_training(m, 0);
    cy_status st = cy_model_to_onnx(m, &mo, o, err);
    if (st == CY_OK) st = metadata(o, m, opt, meta, end2end, err);
    if (st == CY_OK) st = cy_onnx_save(o, path, "cyolo", CYOLO_VERSION_STRING, err);
    cy_onnx_free(o);
    cy_model_set_training(m, was_training);
    return st;
}
