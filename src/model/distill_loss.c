/* The distillation loss and its backward, one level at a time, on features
 * as [P = n*h*w, C] rows (the cpu backend's NHWC values are already that;
 * NCHW values are transposed into scratch). The projector's 1x1 convs are
 * GEMMs on the backend's matmul. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "model/distill_internal.h"

enum { S_X, S_H, S_Y, S_DH, S_DX, S_ONES };

static float *scratch(cy_distill *d, int i, size_t n, cy_error *err) {
    if (d->scratch_cap[i] < n) {
        free(d->scratch[i]);
        d->scratch[i] = aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64);
        d->scratch_cap[i] = d->scratch[i] ? n : 0;
        if (!d->scratch[i]) cy_fail(err, CY_ERR_MEMORY, "out of memory for distillation buffers");
    }
    return d->scratch[i];
}

/* value v as [P, C] rows: the value itself (NHWC) or a transposed copy */
static const float *rows_of(cy_distill *d, const cy_model *m, int v, int slot, cy_error *err) {
    const cy_value *val = &m->graph.values[v];
    if (m->backend->layout == CY_LAYOUT_NHWC) return val->data;
    cy_shape s = val->s;
    size_t HW = (size_t)s.h * s.w, C = (size_t)s.c;
    float *r = scratch(d, slot, (size_t)s.n * HW * C, err);
    if (!r) return NULL;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < s.n; b++)
        for (size_t c = 0; c < C; c++)
            for (size_t p = 0; p < HW; p++) r[((size_t)b * HW + p) * C + c] = val->data[((size_t)b * C + c) * HW + p];
    return r;
}

/* For the images [i0, i0 + g->input.n) of the batch, from the teacher's last
 * forward: w[b, p] = sigmoid(max_c (o2m + o2o) / 2) of every level (or of
 * the only branch), and the hooked features as [P, C] rows, into the
 * full-batch buffers. */
static cy_status teacher_chunk(cy_distill *d, int i0, int n, cy_error *err) {
    cy_model *t = d->teacher;
    const cy_graph *g = &t->graph;
    int nhwc = t->backend->layout == CY_LAYOUT_NHWC;
    for (int l = 0; l < d->nl; l++) {
        int vm = g->o2m.cls[l], vo = t->end2end ? g->o2o.cls[l] : -1, vf = g->layer_value[d->t_layer[l]];
        cy_shape s = g->values[vm].s, fs = g->values[vf].s;
        size_t HW = (size_t)s.h * s.w, P = (size_t)n * HW, C = (size_t)s.c, Ct = (size_t)fs.c;
        if (i0 == 0) {
            if (d->w_len[l] < P) {
                free(d->w[l]);
                d->w[l] = malloc(P * sizeof(float));
                d->w_len[l] = d->w[l] ? P : 0;
            }
            if (d->tfeat_len[l] < P * Ct) {
                free(d->tfeat[l]);
                d->tfeat[l] = aligned_alloc(64, ((P * Ct * sizeof(float) + 63) / 64) * 64);
                d->tfeat_len[l] = d->tfeat[l] ? P * Ct : 0;
            }
            if (!d->w[l] || !d->tfeat[l]) return cy_fail(err, CY_ERR_MEMORY, "out of memory for the teacher's outputs");
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
            if (nhwc) memcpy(tf + i * Ct, f + i * Ct, Ct * sizeof(float));
            else
                for (size_t c = 0; c < Ct; c++) tf[i * Ct + c] = f[(img * Ct + c) * HW + p];
        }
    }
    return CY_OK;
}

static cy_status level(cy_distill *d, cy_model *student, int l, int n, int backward, double *loss, cy_error *err) {
    cy_backend *be = student->backend;
    int vs = student->graph.layer_value[d->s_layer[l]], vt = d->teacher->graph.layer_value[d->t_layer[l]];
    cy_shape ss = student->graph.values[vs].s, ts = d->teacher->graph.values[vt].s;
    if (ss.h != ts.h || ss.w != ts.w || ss.c != d->cs[l] || ts.c != d->ct[l] || ss.h * ss.w != d->w_hw[l])
        return cy_fail(err, CY_ERR_ARG, "distillation level %d: student feature %dx%dx%dx%d, teacher %dx%dx%dx%d", l,
                       ss.n, ss.c, ss.h, ss.w, ts.n, ts.c, ts.h, ts.w);
    const int Cs = d->cs[l], Ct = d->ct[l];
    const size_t P = (size_t)n * ss.h * ss.w;
    const float *X = rows_of(d, student, vs, S_X, err), *T = d->tfeat[l];
    float *H = scratch(d, S_H, P * Ct, err), *Y = scratch(d, S_Y, P * Ct, err);
    if (!X || !T || !H || !Y) return CY_ERR_MEMORY;
    const cy_entry *e = &d->entries[4 * l];
    const float *W1 = d->params + e[0].offset, *b1 = d->params + e[1].offset;
    const float *W2 = d->params + e[2].offset, *b2 = d->params + e[3].offset;
    /* H = relu(X W1^T + b1), Y = H W2^T + b2 */
    CY_TRY(be->matmul(be, 1, (int)P, Ct, Cs, 0, 1, 1.0f, X, Cs, 0, W1, Cs, 0, 0.0f, H, Ct, 0, err));
#pragma omp parallel for schedule(static)
    for (size_t p = 0; p < P; p++)
        for (int c = 0; c < Ct; c++) {
            float v = H[p * Ct + c] + b1[c];
            H[p * Ct + c] = v > 0 ? v : 0;
        }
    CY_TRY(be->matmul(be, 1, (int)P, Ct, Ct, 0, 1, 1.0f, H, Ct, 0, W2, Ct, 0, 0.0f, Y, Ct, 0, err));
    const float *w = d->w[l];
    double num = 0, wsum = 0;
#pragma omp parallel for schedule(static) reduction(+ : num, wsum)
    for (size_t p = 0; p < P; p++) {
        double s = 0;
        for (int c = 0; c < Ct; c++) {
            float y = Y[p * Ct + c] + b2[c], diff = y - T[p * Ct + c];
            Y[p * Ct + c] = diff; /* keep y - t for the backward */
            s += (double)diff * diff;
        }
        num += s * w[p];
        wsum += w[p];
    }
    float den = (float)wsum * (float)Ct + 1e-9f;
    *loss = num / den;
    if (!backward) return CY_OK;

    /* d(dis * L * n)/dY = n * dis * 2 (y - t) w / den, in place of y - t */
    const float coef = (float)(n * d->dis * 2.0 / den);
    float *dY = Y, *dH = scratch(d, S_DH, P * Ct, err), *dX = scratch(d, S_DX, P * Cs, err);
    if (!dH || !dX) return CY_ERR_MEMORY;
#pragma omp parallel for schedule(static)
    for (size_t p = 0; p < P; p++)
        for (int c = 0; c < Ct; c++) dY[p * Ct + c] *= coef * w[p];
    float *gW1 = d->grads + e[0].offset, *gb1 = d->grads + e[1].offset;
    float *gW2 = d->grads + e[2].offset, *gb2 = d->grads + e[3].offset;
    /* dW2 += dY^T H, db2 += colsum dY, dH = dY W2 masked by relu */
    CY_TRY(be->matmul(be, 1, Ct, Ct, (int)P, 1, 0, 1.0f, dY, Ct, 0, H, Ct, 0, 1.0f, gW2, Ct, 0, err));
    CY_TRY(be->matmul(be, 1, (int)P, Ct, Ct, 0, 0, 1.0f, dY, Ct, 0, W2, Ct, 0, 0.0f, dH, Ct, 0, err));
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < P * Ct; i++)
        if (H[i] <= 0) dH[i] = 0;
    /* bias gradients: column sums, as a [1, P] x [P, Ct] product with ones */
    float *ones = scratch(d, S_ONES, P, err);
    if (!ones) return CY_ERR_MEMORY;
    for (size_t p = 0; p < P; p++) ones[p] = 1.0f;
    CY_TRY(be->matmul(be, 1, 1, Ct, (int)P, 0, 0, 1.0f, ones, (int64_t)P, 0, dY, Ct, 0, 1.0f, gb2, Ct, 0, err));
    CY_TRY(be->matmul(be, 1, 1, Ct, (int)P, 0, 0, 1.0f, ones, (int64_t)P, 0, dH, Ct, 0, 1.0f, gb1, Ct, 0, err));
    /* dW1 += dH^T X, dX = dH W1 */
    CY_TRY(be->matmul(be, 1, Ct, Cs, (int)P, 1, 0, 1.0f, dH, Ct, 0, X, Cs, 0, 1.0f, gW1, Cs, 0, err));
    CY_TRY(be->matmul(be, 1, (int)P, Cs, Ct, 0, 0, 1.0f, dH, Ct, 0, W1, Cs, 0, 0.0f, dX, Cs, 0, err));
    return cy_model_add_layer_grad(student, d->s_layer[l], dX, err);
}

cy_status cy_distill_forward(cy_distill *d, cy_model *student, const float *x, int n, int h, int w, int backward,
                             cy_distill_out *out, cy_error *err) {
    memset(out, 0, sizeof *out);
    if (!student->graph.training || !student->graph.planned || student->graph.input.n != n ||
        student->graph.input.h != h || student->graph.input.w != w)
        return cy_fail(err, CY_ERR_ARG, "distillation needs the student's training forward on the same batch first");
    /* the teacher in chunks of images: its activations stay a fraction of
     * the batch's, only the outputs the loss reads are kept for all */
    int chunk = d->teacher_chunk > 0 && d->teacher_chunk < n ? d->teacher_chunk : n;
    while (n % chunk) chunk--; /* equal chunks: one teacher graph for the whole batch */
    const size_t per_image = (size_t)3 * h * w;
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
