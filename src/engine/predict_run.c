#include "engine/predict_run.h"
#include <cairo.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "data/augment.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "engine/checkpoint.h"
#include "engine/predict_run_masks.h"
#include "engine/run_dir.h"
#include "io/atomic.h"
#include "io/image.h"
#include "io/plot_pred_masks.h"

/* Ultralytics' Colors palette (hex), cycled by class id */
static const uint32_t PALETTE[20] = {0x042AFF, 0x0BDBEB, 0xF3F3F3, 0x00DFB7, 0x111F68, 0xFF6FDD, 0xFF444F,
                                     0xCCED00, 0x00F344, 0xBD00FF, 0x00B4FF, 0xDD00BA, 0x00FFFF, 0x26C000,
                                     0x01FFB3, 0x7D24FF, 0x7B0068, 0xFF1B6C, 0xFC6D2F, 0xA2FF0B};

static cy_status annotate(const char *path, const cy_image *im, const float *det, int n, char *const *names,
                          int nc, cy_error *err) {
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, im->w, im->h);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return cy_fail(err, CY_ERR_MEMORY, "%s: cannot draw", path);
    }
    unsigned char *px = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < im->h; y++)
        for (int x = 0; x < im->w; x++) {
            const uint8_t *p = im->data + ((size_t)y * im->w + x) * 3;
            uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
            memcpy(px + (size_t)y * stride + (size_t)x * 4, &v, 4);
        }
    cairo_surface_mark_dirty(s);
    cairo_t *cr = cairo_create(s);
    double lw = fmax(round((im->h + im->w) / 2 * 0.003), 2); /* Ultralytics' default line width */
    cairo_set_line_width(cr, lw);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, fmax(lw * 5, 10));
    for (int i = 0; i < n; i++) {
        const float *d = det + 6 * i;
        int c = (int)d[5];
        uint32_t col = PALETTE[c % 20];
        double r = (col >> 16 & 255) / 255.0, g = (col >> 8 & 255) / 255.0, b = (col & 255) / 255.0;
        cairo_set_source_rgb(cr, r, g, b);
        cairo_rectangle(cr, d[0], d[1], d[2] - d[0], d[3] - d[1]);
        cairo_stroke(cr);
        char label[160];
        snprintf(label, sizeof label, "%s %.2f", names && c < nc ? names[c] : "?", d[4]);
        cairo_text_extents_t te;
        cairo_text_extents(cr, label, &te);
        double ty = d[1] - te.height - 3 >= 0 ? d[1] - te.height - 3 : d[1];
        cairo_rectangle(cr, d[0], ty, te.x_advance + 4, te.height + 3);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_move_to(cr, d[0] + 2, ty + te.height + 1);
        cairo_show_text(cr, label);
    }
    cairo_surface_flush(s);
    cy_image out;
    cy_status st = cy_image_alloc(&out, im->h, im->w, 3, err);
    for (int y = 0; st == CY_OK && y < im->h; y++)
        for (int x = 0; x < im->w; x++) {
            uint32_t v;
            memcpy(&v, px + (size_t)y * stride + (size_t)x * 4, 4);
            uint8_t *o = out.data + ((size_t)y * im->w + x) * 3;
            o[0] = (uint8_t)(v >> 16), o[1] = (uint8_t)(v >> 8), o[2] = (uint8_t)v;
        }
    cairo_destroy(cr);
    cairo_surface_destroy(s);
    if (st == CY_OK) st = cy_image_write_jpeg(path, &out, 95, err);
    cy_image_free(&out);
    return st;
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

cy_status cy_predict_run(const cy_args *args, FILE *log, char *save_dir, size_t cap, cy_error *err) {
    const char *model_path, *source, *project, *name;
    long imgsz, max_det;
    double conf, iou;
    int conf_null, save, save_txt, save_conf, exist_ok, agnostic;
    CY_TRY(cy_args_get_str(args, "model", &model_path, err));
    CY_TRY(cy_args_get_str(args, "source", &source, err));
    CY_TRY(cy_args_get_str(args, "project", &project, err));
    CY_TRY(cy_args_get_str(args, "name", &name, err));
    CY_TRY(cy_args_get_int(args, "imgsz", &imgsz, NULL, err));
    CY_TRY(cy_args_get_int(args, "max_det", &max_det, NULL, err));
    CY_TRY(cy_args_get_float(args, "conf", &conf, &conf_null, err));
    CY_TRY(cy_args_get_float(args, "iou", &iou, NULL, err));
    CY_TRY(cy_args_get_bool(args, "save", &save, err));
    CY_TRY(cy_args_get_bool(args, "save_txt", &save_txt, err));
    CY_TRY(cy_args_get_bool(args, "save_conf", &save_conf, err));
    CY_TRY(cy_args_get_bool(args, "exist_ok", &exist_ok, err));
    CY_TRY(cy_args_get_bool(args, "agnostic_nms", &agnostic, err));
    if (conf_null) conf = 0.25;
    if (!*model_path) return cy_fail(err, CY_ERR_ARG, "model= is required (a .pt checkpoint or a model YAML)");
    if (!*source) return cy_fail(err, CY_ERR_ARG, "source= is required (an image, a folder or a .txt list)");
    if (imgsz < 32 || imgsz % 32) return cy_fail(err, CY_ERR_ARG, "imgsz=%ld must be a multiple of 32", imgsz);
    cy_strlist files = {0};
    const char *srcs[1] = {source};
    cy_status st;
    if (cy_is_image_suffix(source)) st = cy_strlist_push(&files, source, err);
    else st = cy_image_files(srcs, 1, "source: ", &files, err);
    cy_model *m = NULL;
    char **names = NULL;
    int nc = 0;
    if (st == CY_OK) {
        st = cy_is_checkpoint_path(model_path) ? cy_checkpoint_load_model(model_path, NULL, 1, &m, err)
                                                : cy_model_create(&m, model_path, NULL, err);
    }
    cy_model_summary ms = {0};
    int nm = 0;
    if (st == CY_OK) {
        cy_model_summary s;
        cy_model_summarize(m, &s);
        ms = s;
        nc = s.nc;
        nm = s.task == CY_TASK_SEGMENT ? s.nm : 0;
        st = cy_loader_check_channels(s.channels, model_path, err);
        if (st == CY_OK) st = cy_checkpoint_load_names(model_path, nc, &names, err);
    }
    char dir[4096] = "";
    if (st == CY_OK && save) st = cy_run_dir(project, cy_task_name(ms.task), name, "predict", exist_ok, dir, sizeof dir, err);
    if (st == CY_OK && save && save_txt) {
        char ldir[4200];
        snprintf(ldir, sizeof ldir, "%s/labels", dir);
        st = cy_mkdirs(ldir, err);
    }
    if (save_dir && cap) snprintf(save_dir, cap, "%s", dir);
    size_t slots = (size_t)(max_det > 0 ? max_det : 1);
    float *det = malloc(slots * 6 * sizeof *det), *rows = malloc(slots * (6 + nm) * sizeof *rows);
    if ((!det || !rows) && st == CY_OK) st = cy_fail(err, CY_ERR_MEMORY, "out of memory");
    for (int i = 0; i < files.n && st == CY_OK; i++) {
        cy_aug_sample s = {0};
        cy_image orig = {0};
        const char *f = files.v[i];
        if ((st = cy_image_read(f, &orig, err)) != CY_OK) break;
        if ((st = cy_aug_sample_copy(&s, &(cy_aug_sample){.img = orig}, err)) != CY_OK) {
            cy_image_free(&orig);
            break;
        }
        cy_aug_letterbox_params lp = cy_aug_letterbox_default();
        lp.auto_pad = 1; /* minimum rectangle, as Ultralytics' rectangular inference */
        cy_aug_letterbox_info info;
        cy_array out = {0}, proto = {0};
        uint8_t *masks = NULL, *omasks = NULL; /* segment: [n, H, W] input, [n, h0, w0] original */
        int H = 0, W = 0;
        double t0 = cy_now_ms();
        if ((st = cy_aug_letterbox(&s, (int)imgsz, (int)imgsz, &lp, &info, err)) == CY_OK) {
            H = s.img.h, W = s.img.w;
            float *x = malloc((size_t)3 * H * W * sizeof *x);
            if (!x) st = cy_fail(err, CY_ERR_MEMORY, "out of memory");
            for (int p = 0; st == CY_OK && p < H * W; p++)
                for (int c = 0; c < 3; c++) x[(size_t)c * H * W + p] = s.img.data[(size_t)p * 3 + c] / 255.0f;
            cy_predict_params pp = {.max_det = (int)max_det};
            if (st == CY_OK) st = cy_model_forward(m, x, 1, H, W, &pp, &out, err);
            free(x);
        }
        int n = 0;
        int row = 6 + nm;
        if (st == CY_OK) {
            if (ms.end2end) { /* rows of 6 (+ mask coefficients) */
                for (int r = 0; r < out.shape[1] && n < max_det; r++)
                    if (out.data[r * row + 4] > conf) memcpy(rows + (size_t)row * n++, out.data + r * row, row * sizeof(float));
            } else { /* the predictor's NMS: single label, nc given so the coefficients ride along */
                cy_nms_params np = cy_nms_default_params();
                np.conf = (float)conf, np.iou = (float)iou, np.max_det = (int)max_det, np.agnostic = agnostic;
                st = cy_nms_extra(out.data, 1, nc, nm, (int)out.shape[2], &np, rows, &n, err);
            }
        }
        if (st == CY_OK && nm) { /* masks at the input size from the boxes before they are scaled */
            if ((st = cy_model_proto(m, &proto, err)) == CY_OK)
                st = cy_pred_masks(proto.data, nm, (int)proto.shape[2], (int)proto.shape[3], rows, &n, H, W, det, &masks,
                                   err);
        } else if (st == CY_OK) {
            memcpy(det, rows, (size_t)n * 6 * sizeof *det);
        }
        double ms = cy_now_ms() - t0;
        for (int j = 0; st == CY_OK && j < n; j++) /* back to the original pixels */
            for (int k = 0; k < 4; k++) {
                double v = (det[6 * j + k] - (k % 2 ? info.top : info.left)) / (k % 2 ? info.ratio_h : info.ratio_w);
                double hi = k % 2 ? orig.h : orig.w;
                det[6 * j + k] = (float)(v < 0 ? 0 : v > hi ? hi : v);
            }
        if (st == CY_OK) {
            char counts[1024] = "";
            int o = 0;
            for (int c = 0; c < nc; c++) {
                int k = 0;
                for (int j = 0; j < n; j++) k += (int)det[6 * j + 5] == c;
                if (k) o += snprintf(counts + o, sizeof counts - o, "%d %s, ", k, names[c]);
            }
            if (!n) snprintf(counts, sizeof counts, "(no detections), ");
            fprintf(log, "image %d/%d %s: %dx%d %s%.1fms\n", i + 1, files.n, f, s.img.h, s.img.w, counts, ms);
        }
        if (st == CY_OK && save) {
            char path[4500], stem[1024];
            snprintf(stem, sizeof stem, "%s", base_name(f));
            snprintf(path, sizeof path, "%s/%s", dir, stem);
            char *dot = strrchr(path, '.');
            if (dot) strcpy(dot, ".jpg");
            if (nm) { /* masks first, boxes and labels over them */
                omasks = malloc((size_t)n * orig.h * orig.w + 1);
                uint32_t *cols = malloc(((size_t)n + 1) * sizeof *cols);
                st = !omasks || !cols ? cy_fail(err, CY_ERR_MEMORY, "out of memory") : CY_OK;
                for (int j = 0; st == CY_OK && j < n; j++) cols[j] = PALETTE[(int)det[6 * j + 5] % 20];
                if (st == CY_OK) st = cy_pred_masks_to_image(masks, n, H, W, orig.h, orig.w, omasks, err);
                if (st == CY_OK) st = cy_blend_masks(&orig, omasks, n, cols, 0.5f, err);
                free(cols);
            }
            if (st == CY_OK) st = annotate(path, &orig, det, n, names, nc, err);
            if (st == CY_OK && save_txt) {
                char *d2 = strrchr(stem, '.');
                if (d2) *d2 = 0;
                snprintf(path, sizeof path, "%s/labels/%s.txt", dir, stem);
                cy_atomic_file af;
                if ((st = cy_atomic_open(&af, path, err)) == CY_OK && nm) {
                    if ((st = cy_pred_write_segments(af.f, det, masks, n, H, W, orig.h, orig.w, save_conf, err)) == CY_OK)
                        st = cy_atomic_commit(&af, err);
                    else
                        cy_atomic_abort(&af);
                } else if (st == CY_OK) {
                    for (int j = 0; j < n; j++) {
                        const float *d = det + 6 * j;
                        fprintf(af.f, "%d %g %g %g %g", (int)d[5], (d[0] + d[2]) / 2 / orig.w,
                                (d[1] + d[3]) / 2 / orig.h, (d[2] - d[0]) / orig.w, (d[3] - d[1]) / orig.h);
                        if (save_conf) fprintf(af.f, " %g", d[4]);
                        fputc('\n', af.f);
                    }
                    st = cy_atomic_commit(&af, err);
                }
            }
        }
        cy_array_free(&out);
        cy_array_free(&proto);
        free(masks), free(omasks);
        cy_aug_sample_free(&s);
        cy_image_free(&orig);
    }
    if (st == CY_OK && save) fprintf(log, "Results saved to %s\n", dir);
    free(det), free(rows);
    for (int c = 0; names && c < nc; c++) free(names[c]);
    free(names);
    cy_strlist_free(&files);
    cy_model_free(m);
    return st;
}
