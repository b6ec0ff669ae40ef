/* `cyolo export model=best.pt format=onnx|ultralytics ...`: Ultralytics'
 * export arguments (imgsz, batch, dynamic, half, opset, simplify, nms,
 * end2end, max_det); the file lands beside the model (best.onnx,
 * best_ultralytics.pt), or in the working folder for a YAML model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "cli/commands.h"
#include "engine/checkpoint.h"
#include "engine/args.h"
#include "engine/export.h"
#include "engine/export_ultralytics.h"
#include "model/model.h"

/* What Ultralytics exports to that cyolo leaves to Ultralytics' exporters. */
static const char *const ULTRALYTICS_ONLY[] = {"torchscript", "openvino", "engine", "coreml", "saved_model", "pb",
                                               "tflite", "edgetpu", "tfjs", "paddle", "mnn", "ncnn", "imx", "rknn",
                                               "executorch", "axelera", NULL};

static int get_bool(cli_args *a, const char *key, int def, int *out) {
    const char *v = cli_get(a, key, NULL);
    if (!v) {
        *out = def;
        return 0;
    }
    if (!strcmp(v, "True") || !strcmp(v, "true") || !strcmp(v, "1") || !*v) *out = 1;
    else if (!strcmp(v, "False") || !strcmp(v, "false") || !strcmp(v, "0")) *out = 0;
    else {
        fprintf(stderr, "error: %s=%s: expected True or False\n", key, v);
        return -1;
    }
    return 0;
}

/* imgsz=640 or imgsz=480,640 / [480, 640] (h, w) */
static int get_imgsz(cli_args *a, int *h, int *w) {
    const char *v = cli_get(a, "imgsz", "640");
    long x, y;
    char tail;
    const char *p = v + (*v == '[' || *v == '(');
    int n = sscanf(p, "%ld , %ld %c", &x, &y, &tail);
    if (n == 1 && strchr(p, ',') == NULL) y = x;
    else if (!(n == 2 || (n == 3 && (tail == ']' || tail == ')')))) {
        fprintf(stderr, "error: imgsz=%s: expected a size like 640 or 480,640 (height, width)\n", v);
        return -1;
    }
    if (x < 1 || y < 1 || x > 16384 || y > 16384) {
        fprintf(stderr, "error: imgsz=%s: sizes must be in 1..16384\n", v);
        return -1;
    }
    *h = (int)x;
    *w = (int)y;
    return 0;
}

/* out = model path with its suffix replaced (.pt) or its stem in the cwd (.yaml) */
static void output_path(const char *model, int checkpoint, const char *suffix, char *out, size_t cap) {
    const char *base = strrchr(model, '/');
    const char *from = checkpoint ? model : base ? base + 1 : model;
    const char *dot = strrchr(from, '.');
    if (dot && strchr(dot, '/')) dot = NULL;
    int stem = dot ? (int)(dot - from) : (int)strlen(from);
    snprintf(out, cap, "%.*s%s", stem, from, suffix);
}

static void iso_now(char *buf, size_t cap) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    char d[40], z[8];
    strftime(d, sizeof d, "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(z, sizeof z, "%z", &tm); /* +0100 -> +01:00 */
    snprintf(buf, cap, "%s.%06ld%.3s:%s", d, ts.tv_nsec / 1000, z, z + 3);
}

static double file_mb(const char *path) {
    struct stat st;
    return stat(path, &st) ? 0 : st.st_size / 1e6;
}

static int export_ultralytics(cli_args *a, const char *model) {
    if (!cy_is_checkpoint_path(model)) {
        fprintf(stderr, "error: format=ultralytics needs a checkpoint (model=best.pt), not %s\n", model);
        return 2;
    }
    if (cli_check_unused(a, "export")) return 2;
    char out[4096];
    output_path(model, 1, "_ultralytics.pt", out, sizeof out);
    double t0 = cy_now_ms();
    cy_error err = {0};
    if (cy_export_ultralytics_pt(model, out, &err) != CY_OK) return cli_report(&err);
    printf("Ultralytics: export success, %.1fs, saved as '%s' (%.1f MB)\n", (cy_now_ms() - t0) / 1e3, out, file_mb(out));
    printf("Predict:         yolo predict model=%s\n", out);
    printf("Export further:  yolo export model=%s format=engine|openvino|tflite|coreml ...\n", out);
    return 0;
}

int cmd_export(cli_args *a) {
    const char *model = cli_get(a, "model", NULL);
    const char *format = cli_get(a, "format", "onnx");
    if (!model) {
        fprintf(stderr, "error: model=<best.pt|yaml> is required\n");
        return 2;
    }
    for (const char *const *f = ULTRALYTICS_ONLY; *f; f++)
        if (!strcmp(format, *f)) {
            fprintf(stderr,
                    "error: format=%s: cyolo writes format=onnx and format=ultralytics; for %s, export an "
                    "Ultralytics checkpoint (cyolo export model=%s format=ultralytics) and run Ultralytics' own "
                    "exporter on it: yolo export model=<that .pt> format=%s\n",
                    format, format, model, format);
            return 2;
        }
    if (!strcmp(format, "ultralytics") || !strcmp(format, "pt")) return export_ultralytics(a, model);
    if (strcmp(format, "onnx")) {
        fprintf(stderr, "error: format=%s: unknown export format; known formats: onnx, ultralytics (cyolo), and "
                        "through format=ultralytics Ultralytics' torchscript, openvino, engine, coreml, saved_model, "
                        "pb, tflite, edgetpu, tfjs, paddle, mnn, ncnn, imx, rknn, executorch\n",
                format);
        return 2;
    }
    cy_export_onnx_options o = cy_export_onnx_defaults();
    long batch, opset, max_det, quantize = 0;
    int nms;
    const char *e2e = cli_get(a, "end2end", NULL), *q = cli_get(a, "quantize", NULL);
    if (get_imgsz(a, &o.imgsz_h, &o.imgsz_w) || cli_get_int(a, "batch", 1, 1, 1024, &batch) ||
        cli_get_int(a, "opset", 0, 0, 1000, &opset) || cli_get_int(a, "max_det", 300, 1, 100000, &max_det) ||
        get_bool(a, "dynamic", 0, &o.dynamic) || get_bool(a, "half", 0, &o.half) ||
        get_bool(a, "simplify", 1, &o.simplify) || get_bool(a, "nms", 0, &nms))
        return 2;
    if (e2e && *e2e && strcmp(e2e, "None") && get_bool(a, "end2end", 0, &o.end2end)) return 2;
    if (q && *q && strcmp(q, "None")) { /* Ultralytics' newer spelling of half= */
        if (cli_get_int(a, "quantize", 32, 8, 32, &quantize)) return 2;
        if (quantize == 16) o.half = 1;
        else if (quantize != 32) {
            fprintf(stderr, "error: quantize=%ld: cyolo's ONNX export writes float32 (quantize=32) or float16 "
                            "weights (quantize=16 / half=True); int8 is not supported\n", quantize);
            return 2;
        }
    }
    if (opset && (opset < 11 || opset > 22)) {
        fprintf(stderr, "error: opset=%ld: cyolo writes ONNX opsets 11 to 22 (default %d)\n", opset,
                CY_EXPORT_DEFAULT_OPSET);
        return 2;
    }
    o.batch = (int)batch;
    o.opset = (int)opset;
    o.max_det = (int)max_det;
    cli_get(a, "device", NULL); /* cpu: the only export device */
    cy_model *m;
    int rc = cli_open_model(a, &m, 0);
    if (rc) return rc;
    if (cli_check_unused(a, "export")) {
        cy_model_free(m);
        return 2;
    }
    cy_model_summary s;
    cy_model_summarize(m, &s);
    if (nms) {
        if (s.end2end && o.end2end != 0) {
            fprintf(stderr, "WARNING: 'nms=True' is not available for end2end models. Forcing 'nms=False'.\n");
        } else {
            fprintf(stderr, "error: nms=True: cyolo's ONNX export does not embed NMS; export without it and run "
                            "NMS on output0 (as `yolo predict model=best.onnx` does)\n");
            cy_model_free(m);
            return 2;
        }
    }
    if (o.end2end == 1 && !s.end2end)
        fprintf(stderr, "WARNING: This model has no one-to-one head; using one-to-many outputs.\n");
    int stride = 0;
    for (int i = 0; i < 3; i++)
        if (s.stride[i] > stride) stride = s.stride[i];
    int h = (o.imgsz_h + stride - 1) / stride * stride, w = (o.imgsz_w + stride - 1) / stride * stride;
    if (h < 2 * stride) h = 2 * stride; /* check_imgsz: at least 2 cells */
    if (w < 2 * stride) w = 2 * stride;
    if (h != o.imgsz_h || w != o.imgsz_w)
        fprintf(stderr, "WARNING: imgsz=[%d, %d] must be multiple of max stride %d, updating to [%d, %d]\n",
                o.imgsz_h, o.imgsz_w, stride, h, w);
    o.imgsz_h = h;
    o.imgsz_w = w;

    int checkpoint = cy_is_checkpoint_path(model);
    char out[4096], date[64];
    output_path(model, checkpoint, ".onnx", out, sizeof out);
    iso_now(date, sizeof date);
    cy_error err = {0};
    char **names = NULL;
    const char *data = NULL;
    cy_args *targs = NULL;
    if (checkpoint) {
        if (cy_checkpoint_load_names(model, s.nc, &names, &err) != CY_OK) {
            rc = cli_report(&err);
            goto done;
        }
        if (cy_args_create(&targs, &err) == CY_OK && cy_checkpoint_load_args(model, targs, &err) == CY_OK)
            cy_args_get_str(targs, "data", &data, &err);
    } else { /* a YAML model's names, as DetectionModel gives them: "0", "1", ... */
        names = calloc(s.nc, sizeof *names);
        for (int i = 0; names && i < s.nc; i++)
            if ((names[i] = malloc(16))) snprintf(names[i], 16, "%d", i);
    }
    if (!names) {
        fprintf(stderr, "error: out of memory\n");
        rc = 1;
        goto done;
    }
    for (int i = 0; i < s.nc; i++)
        if (!names[i]) {
            fprintf(stderr, "error: out of memory\n");
            rc = 1;
            goto done;
        }
    cy_export_meta meta = {.data = data, .names = names, .date = date};
    printf("cyolo: starting from '%s' with input shape (%d, %d, %d, %d) BCHW (%.1f MB)\n", model, o.batch,
           s.channels, o.imgsz_h, o.imgsz_w, checkpoint ? file_mb(model) : 0.0);
    printf("ONNX: starting export with opset %d...\n", o.opset ? o.opset : CY_EXPORT_DEFAULT_OPSET);
    double t0 = cy_now_ms();
    int used_e2e;
    if (cy_export_onnx(m, &o, &meta, out, &used_e2e, &err) != CY_OK) {
        rc = cli_report(&err);
        goto done;
    }
    printf("ONNX: export success, %.1fs, saved as '%s' (%.1f MB)\n", (cy_now_ms() - t0) / 1e3, out, file_mb(out));
    printf("Predict:         yolo predict task=%s model=%s imgsz=%d\n", cy_task_name(s.task), out, o.imgsz_h);
    rc = 0;
done:
    if (names)
        for (int i = 0; i < s.nc; i++) free(names[i]);
    free(names);
    cy_args_free(targs);
    cy_model_free(m);
    return rc;
}
