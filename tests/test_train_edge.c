/* Training steps on awkward targets through the whole model (yolo26n and
 * yolov8n, cpu backend): an image without labels, a batch without any
 * label, a zero-width box, boxes on the image border, two labels on the same
 * anchor, and a class id >= nc. None may crash or give a non-finite loss or
 * gradient; the bad class id is a clear error naming the row. A step with
 * an optimizer changes the parameters and keeps them finite. */
#include "cyolo.h"
#include "engine/train_step.h"
#include "test_ref.h"

static int all_finite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

static void step(cy_model *m, const char *what, const float *rows, int nrows, int expect_ok) {
    cy_error err = {0};
    cy_targets t;
    cy_status st = cy_targets_from_rows(&t, rows, nrows, 2, 80, &err);
    if (!expect_ok) {
        CHECK(st == CY_ERR_ARG && strstr(err.msg, "row 1") && strstr(err.msg, "class 80"),
              "%s: expected a clear error naming row 1 and class 80, got '%s'", what, err.msg);
        return;
    }
    CHECK(st == CY_OK, "%s: targets: %s", what, err.msg);
    cy_det_loss_ws *ws;
    cy_det_loss_ws_create(&ws, &err);
    cy_optim *opt;
    cy_optim_params op = {.kind = CY_OPTIM_SGD, .lr = 0.01, .momentum = 0.937, .weight_decay = 0.0005};
    cy_optim_create_for_model(&opt, m, &op, &err);
    cy_train_ctx ctx = {.ws = ws, .opt = opt, .clip = 10.0, .e2e = cy_e2e_weights_at(0, 100)};
    float *x = formula_input(2, 64, 96);
    float before = m->params[0];
    cy_model_loss_out lo;
    st = cy_train_step(m, &ctx, x, 2, 64, 96, &t, &lo, &err);
    CHECK(st == CY_OK, "%s: step: %s", what, err.msg);
    CHECK(isfinite(lo.loss[0]) && isfinite(lo.loss[1]) && isfinite(lo.loss[2]), "%s: loss %g %g %g", what,
          lo.loss[0], lo.loss[1], lo.loss[2]);
    CHECK(lo.loss[1] > 0, "%s: the class loss is always positive", what);
    CHECK(all_finite(m->grads, m->nparams), "%s: non-finite gradient", what);
    CHECK(all_finite(m->params, m->nparams), "%s: non-finite parameter after the step", what);
    CHECK(m->params[0] != before, "%s: the optimizer step changed nothing", what);
    if (nrows == 0) CHECK(lo.loss[0] == 0 && lo.loss[2] == 0, "%s: no labels: box and dfl terms are 0", what);
    free(x);
    cy_optim_free(opt);
    cy_det_loss_ws_free(ws);
    cy_targets_free(&t);
}

static void run(const char *yaml) {
    cy_model_params p = cy_model_default_params();
    p.init = CY_INIT_FORMULA;
    cy_model *m;
    cy_error err = {0};
    if (cy_model_create(&m, yaml, &p, &err) != CY_OK) {
        CHECK(0, "%s: %s", yaml, err.msg);
        return;
    }
    static const float one_image[] = {1, 3, 0.5f, 0.5f, 0.3f, 0.4f, 1, 7, 0.2f, 0.3f, 0.1f, 0.1f};
    step(m, "image 0 without labels", one_image, 2, 1);
    step(m, "no labels at all", NULL, 0, 1);
    static const float zero_w[] = {0, 1, 0.5f, 0.5f, 0.0f, 0.3f, 1, 2, 0.4f, 0.4f, 0.2f, 0.0f};
    step(m, "zero-width and zero-height boxes", zero_w, 2, 1);
    static const float border[] = {0, 1, 0.1f, 0.5f, 0.2f, 1.0f, 0, 2, 0.9f, 0.9f, 0.2f, 0.2f,
                                   1, 3, 0.5f, 0.5f, 1.0f, 1.0f, 1, 4, 0.0f, 0.0f, 0.1f, 0.1f};
    step(m, "boxes touching the border", border, 4, 1);
    static const float same[] = {0, 1, 0.5f, 0.5f, 0.2f, 0.2f, 0, 2, 0.5f, 0.5f, 0.2f, 0.2f,
                                 0, 1, 0.5f, 0.5f, 0.21f, 0.19f};
    step(m, "labels on the same anchor", same, 3, 1);
    static const float bad[] = {0, 1, 0.5f, 0.5f, 0.2f, 0.2f, 1, 80, 0.5f, 0.5f, 0.2f, 0.2f};
    step(m, "class id >= nc", bad, 2, 0);
    cy_model_free(m);
}

/* yolo26n (formula weights), two labels on a batch of two, a loss workspace */
static int two_label_setup(cy_model **m, cy_targets *t, cy_det_loss_ws **ws) {
    static const float rows[] = {0, 3, 0.5f, 0.5f, 0.3f, 0.4f, 1, 7, 0.2f, 0.3f, 0.1f, 0.1f};
    cy_model_params p = cy_model_default_params();
    p.init = CY_INIT_FORMULA;
    cy_error err = {0};
    int ok = cy_model_create(m, "yolo26n.yaml", &p, &err) == CY_OK &&
             cy_targets_from_rows(t, rows, 2, 2, 80, &err) == CY_OK && cy_det_loss_ws_create(ws, &err) == CY_OK;
    CHECK(ok, "setup: %s", err.msg);
    return !ok;
}

/* accumulate = 2: the optimizer runs on every second batch, on the sum of
 * both batches' gradients (the same batch twice gives twice the gradient). */
static void accumulation(void) {
    cy_model *m;
    cy_targets t;
    cy_det_loss_ws *ws;
    cy_error err = {0};
    if (two_label_setup(&m, &t, &ws)) return;
    cy_optim *opt;
    cy_optim_params op = {.kind = CY_OPTIM_SGD, .lr = 0.01, .momentum = 0.937, .weight_decay = 0.0005};
    cy_optim_create_for_model(&opt, m, &op, &err);
    cy_train_ctx ctx = {.ws = ws, .opt = opt, .e2e = cy_e2e_weights_at(0, 100), .accumulate = 2};
    float *x = formula_input(2, 64, 96), before = m->params[0], g1;
    cy_model_loss_out lo;
    CHECK(cy_train_step(m, &ctx, x, 2, 64, 96, &t, &lo, &err) == CY_OK, "%s", err.msg);
    g1 = m->grads[0];
    CHECK(!ctx.stepped && m->params[0] == before, "first of two batches: no optimizer step");
    CHECK(cy_train_step(m, &ctx, x, 2, 64, 96, &t, &lo, &err) == CY_OK, "%s", err.msg);
    CHECK(ctx.stepped && m->params[0] != before, "second batch: optimizer step");
    CHECK(fabsf(m->grads[0] - 2 * g1) <= 1e-4f * fabsf(g1) + 1e-6f, "gradients add up: %g vs 2 x %g",
          m->grads[0], g1);
    free(x);
    cy_optim_free(opt);
    cy_det_loss_ws_free(ws);
    cy_targets_free(&t);
    cy_model_free(m);
}

/* box=, cls=, dfl= scale their loss terms */
static void gains(void) {
    cy_model *m;
    cy_targets t;
    cy_det_loss_ws *ws;
    cy_error err = {0};
    if (two_label_setup(&m, &t, &ws)) return;
    cy_train_ctx ctx = {.ws = ws, .e2e = cy_e2e_weights_at(0, 100)};
    float *x = formula_input(2, 64, 96);
    cy_model_loss_out a, b;
    CHECK(cy_train_step(m, &ctx, x, 2, 64, 96, &t, &a, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_model_set_loss_gains(m, 1.0, 1.0, 3.0, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_train_step(m, &ctx, x, 2, 64, 96, &t, &b, &err) == CY_OK, "%s", err.msg);
    CHECK(fabs(b.loss[0] * 7.5 - a.loss[0]) <= 1e-5 * a.loss[0] && fabs(b.loss[1] * 0.5 - a.loss[1]) <= 1e-5 * a.loss[1] &&
              fabs(b.loss[2] - 2 * a.loss[2]) <= 1e-5 * a.loss[2],
          "gains scale the terms: %g %g %g vs %g %g %g", a.loss[0], a.loss[1], a.loss[2], b.loss[0], b.loss[1], b.loss[2]);
    CHECK(cy_model_set_loss_gains(m, -1, 1, 1, &err) == CY_ERR_ARG, "negative gain refused");
    free(x);
    cy_det_loss_ws_free(ws);
    cy_targets_free(&t);
    cy_model_free(m);
}

int main(void) {
    gains();
    accumulation();
    run("yolo26n.yaml");
    run("yolov8n.yaml");
    return test_summary();
}
