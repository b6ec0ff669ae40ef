/* The distillation loss and its backward, one level at a time, in the
 * backend's own layout: the projector's 1x1 convs are the backend's conv2d
 * and conv2d_backward (oneDNN on cpu), whose input gradient accumulates
 * straight into the student's neck gradient. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "model/distill_internal.h"

enum { S_H, S_Y };

/* *buf holding at least n floats (64-byte aligned), grown on demand */
static float *grow(float **buf, size_t *cap, size_t n, cy_error *err) {
    if (*cap < n) {
        free(*buf);
        *buf = aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64);
        *cap = *buf ? n : 0;
        if (!*buf) cy_fail(err, CY_ERR_MEMORY, "out of memory for distillation buffers");
    }
    return *buf;
}

/* For the images [i0, i0 + g->input.n) of the batch, from the teacher's last
 * forward: w[b, p] = sigmoid(max_c (o2m + o2o) / 2) of every level (or of
 * the only branch), and the hooked features (in the backend's layout, whole
 * images being contiguous in both), into the full-batch buffers. */
static cy_status teacher_chunk(cy_distill *d, int i0, int n, cy_error *err) {
    cy_model *t = d->teacher;
    const cy_graph *g = &t->graph;
    int nhwc = t->backend->layout == CY_LAYOUT_NHWC;
    for (int l = 0; l < d->nl; l++) {
        int vm = g->o2m.cls[l], vo = t->end2end ? g->o2o.cls[l] : -1, vf = g->layer_value[d->t_layer[l]];
        cy_shape s = g->values[vm].s, fs = g->values[vf].s;
        size_t HW = (size_t)s.h * s.w, P = (size_t)n * HW, C = (size_t)s.c, Ct = (size_t)fs.c;
        if (i0 == 0) {
            if (!grow(&d->w[l], &d->w_len[l], P, err) || !grow(&d->tfeat[l], &d->tfeat_len[l], P * Ct, err))
                return CY_ERR_MEMORY;
            d->w_n = n;
            d->w_hw[l] = (int)HW;
        }
        const float *a = g->values[vm].data, *b = vo >= 0 ? g->values[vo].data : NULL, *f = g->values[vf].data;
        float *w = d->w[l] + (size_t)i0 * HW, *tf = d->tfeat[l] + (size_t)i0 * HW * Ct;
        size_t Pc = (size_t)s.n * HW;
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < Pc; i++) {
            size_t img = i / HW, p = i % HW;
            float best = -INFINITY;
            for (size_t c = 0; c < C; c++) {
                size_t k = nhwc ? i * C + c : (img * C + c) * HW + p;
                float x = b ? (a[k] + b[k]) / 2.0f : a[k];
                if (x > best || isnan(x)) best = x;
            }
            /* sigmoid is monotonic: the max of the sigmoids is the sigmoid of the max */
            w[i] = 1.0f / (1.0f + expf(-best));
        }
        memcpy(tf, f, Pc * Ct * sizeof(float));
    }
    return CY_OK;
}

static cy_conv_params pointwise(const float *weight, const float *bias, cy_act act) {
    cy_conv_params cp;
    memset(&cp, 0, sizeof cp);
    cp.kh = cp.kw = cp.sh = cp.sw = cp.dh = cp.dw = cp.groups = 1;
    cp.weight = weight, cp.bias = bias, cp.act = act;
    cp.weights_version = 0; /* the weights change every step: no cached copy */
    return cp;
}

static cy_status level(cy_distill *d, cy_model *student, int l, int n, int backward, double *loss, cy_error *err) {
    cy_backend *be = d->teacher->backend; /* the same kind as the student's; lives as long as d */
    int vs = student->graph.layer_value[d->s_layer[l]], vt = d->teacher->graph.layer_value[d->t_layer[l]];
    cy_shape ss = student->graph.values[vs].s, ts = d->teacher->graph.values[vt].s;
    if (ss.h != ts.h || ss.w != ts.w || ss.c != d->cs[l] || ts.c != d->ct[l] || ss.h * ss.w != d->w_hw[l])
        return cy_fail(err, CY_ERR_ARG, "distillation level %d: student feature %dx%dx%dx%d, teacher %dx%dx%dx%d", l,
                       ss.n, ss.c, ss.h, ss.w, ts.n, ts.c, ts.h, ts.w);
    const int Ct = d->ct[l];
    const size_t HW = (size_t)ss.h * ss.w, N = (size_t)n * HW * Ct;
    const cy_shape hs = {n, Ct, ss.h, ss.w};
    cy_tensor X = cy_graph_tensor(&student->graph, vs);
    cy_tensor H = {grow(&d->scratch[S_H], &d->scratch_cap[S_H], N, err), hs};
    cy_tensor Y = {grow(&d->scratch[S_Y], &d->scratch_cap[S_Y], N, err), hs};
    const float *T = d->tfeat[l], *w = d->w[l];
    if (!H.data || !Y.data) return CY_ERR_MEMORY;
    const cy_entry *e = &d->entries[4 * l];
    cy_conv_params c1 = pointwise(d->params + e[0].offset, d->params + e[1].offset, CY_ACT_RELU);
    cy_conv_params c2 = pointwise(d->params + e[2].offset, d->params + e[3].offset, CY_ACT_NONE);
    CY_TRY(be->conv2d(be, &d->slots[l][0], &X, &H, &c1, err));
    CY_TRY(be->conv2d(be, &d->slots[l][1], &H, &Y, &c2, err));
    /* element i's anchor: NHWC rows are anchors; NCHW planes are channels */
    const int nhwc = be->layout == CY_LAYOUT_NHWC;
    double num = 0, wsum = 0;
#pragma omp parallel for schedule(static) reduction(+ : num)
    for (size_t i = 0; i < N; i++) {
        size_t a = nhwc ? i / Ct : (i / (HW * Ct)) * HW + i % HW;
        float diff = Y.data[i] - T[i];
        Y.data[i] = diff; /* kept for the backward */
        num += (double)diff * diff * w[a];
    }
    for (size_t a = 0; a < (size_t)n * HW; a++) wsum += w[a];
    float den = (float)wsum * (float)Ct + 1e-9f;
    *loss = num / den;
    if (!backward) return CY_OK;

    /* d(dis * L * n)/dY = n * dis * 2 (y - t) w / den, in place of y - t */
    const float coef = (float)(n * d->dis * 2.0 / den);
    cy_tensor dH = {d->tfeat[l], hs}; /* the teacher's features are spent: their buffer holds dH */
    float *dX = cy_model_layer_grad_buffer(student, d->s_layer[l], err);
    if (!dH.data || !dX) return CY_ERR_MEMORY;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < N; i++) {
        size_t a = nhwc ? i / Ct : (i / (HW * Ct)) * HW + i % HW;
        Y.data[i] *= coef * w[a];
        dH.data[i] = 0;
    }
    c1.act = CY_ACT_NONE; /* the ReLU's backward is the mask below */
    float *g = d->grads;
    CY_TRY(be->conv2d_backward(be, &d->slots[l][2], &H, &Y, &dH, g + e[2].offset, g + e[3].offset, &c2, err));
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < N; i++)
        if (H.data[i] <= 0) dH.data[i] = 0;
    cy_tensor dXt = {dX, ss};
    return be->conv2d_backward(be, &d->slots[l][3], &X, &dH, &dXt, g + e[0].offset, g + e[1].offset, &c1, err);
}

cy_status cy_distill_forward(cy_distill *d, cy_model *student, const float *x, int n, int h, int w, int backward,
                             cy_distill_out *out, cy_error *err) {
    memset(out, 0, sizeof *out);
    if (!student->graph.training || !student->graph.planned || student->graph.input.n != n ||
        student->graph.input.h != h || student->graph.input.w != w)
        return cy_fail(err, CY_ERR_ARG, "distillation needs the student's training forward on the same batch first");
    /* the teacher in chunks of images: its activations stay a fraction of
     * the batch's, only the outputs the loss reads are kept for all */
    int chunk = d->teacher_chunk;
    if (chunk <= 0) /* auto: about two 320x320 images' worth of activations per forward */
        chunk = (int)((2L * 320 * 320 + (long)h * w - 1) / ((long)h * w));
    if (chunk > n) chunk = n;
    while (n % chunk) chunk--; /* equal chunks: one teacher graph for the whole batch */
    const size_t per_image = (size_t)student->graph.input.c * h * w; /* the teacher has the student's channels */
    for (int i0 = 0; i0 < n; i0 += chunk) {
        CY_TRY(cy_model_run(d->teacher, x + (size_t)i0 * per_image, chunk, h, w, err));
        CY_TRY(teacher_chunk(d, i0, n, err));
    }
    double total = 0;
    for (int l = 0; l < d->nl; l++) {
        CY_TRY(level(d, student, l, n, backward, &out->level_loss[l], err));
        total += (float)(out->level_loss[l] * d->dis);
    }
    out->dis_loss = total;
    return CY_OK;
}

cy_status cy_distill_teacher_weights(const cy_distill *d, int l, cy_array *out, cy_error *err) {
    memset(out, 0, sizeof *out);
    if (l < 0 || l >= d->nl || !d->w[l] || !d->w_hw[l])
        return cy_fail(err, CY_ERR_ARG, "no teacher weights for level %d", l);
    size_t P = (size_t)d->w_n * d->w_hw[l];
    out->data = malloc(P * sizeof(float));
    if (!out->data) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    memcpy(out->data, d->w[l], P * sizeof(float));
    out->ndim = 3;
    out->shape[0] = d->w_n, out->shape[1] = 1, out->shape[2] = d->w_hw[l];
    return CY_OK;
}
