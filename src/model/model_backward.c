/* Backward over the training graph: the forward's nodes in reverse, each
 * op's backward accumulating into the gradient of its inputs (one buffer per
 * value, in the backend's layout) and into the flat parameter gradient
 * buffer m->grads (laid out like m->params). The loss seeds the gradients of
 * the Detect head's outputs first (cy_model_seed_head_grad). */
#include <stdlib.h>
#include <string.h>
#include "model/detect_decode.h"
#include "model/model.h"

/* dL/dvalue buffer of v, allocated zeroed on first use */
static float *value_grad(cy_model *m, int v, cy_error *err) {
    cy_graph *g = &m->graph;
    if (!g->grad) {
        g->grad = calloc(g->nvalues, sizeof *g->grad);
        if (!g->grad) return NULL;
    }
    if (!g->grad[v]) {
        g->grad[v] = calloc(cy_shape_numel(g->values[v].s), sizeof(float));
        if (!g->grad[v]) cy_fail(err, CY_ERR_MEMORY, "out of memory for gradients");
    }
    return g->grad[v];
}

cy_status cy_model_zero_grad(cy_model *m, cy_error *err) {
    if (!m->grads) {
        m->grads = calloc(m->nparams ? m->nparams : 1, sizeof(float));
        if (!m->grads) return cy_fail(err, CY_ERR_MEMORY, "out of memory for gradients");
    } else {
        memset(m->grads, 0, m->nparams * sizeof(float));
    }
    return CY_OK;
}

void cy_model_clear_value_grads(cy_model *m) {
    cy_graph *g = &m->graph;
    for (int v = 0; g->grad && v < g->nvalues; v++)
        if (g->grad[v]) memset(g->grad[v], 0, cy_shape_numel(g->values[v].s) * sizeof(float));
}

cy_status cy_model_seed_value_grad(cy_model *m, int v, const float *src, cy_error *err) {
    cy_graph *g = &m->graph;
    if (!g->training || !g->planned) return cy_fail(err, CY_ERR_ARG, "no training forward has run");
    if (v <= 0 || v >= g->nvalues) return cy_fail(err, CY_ERR_ARG, "internal: no graph value %d", v);
    float *d = value_grad(m, v, err);
    if (!d) return cy_fail(err, CY_ERR_MEMORY, "out of memory for gradients");
    const cy_shape s = g->values[v].s;
    const size_t n = cy_shape_numel(s), HW = (size_t)s.h * s.w;
    if (m->backend->layout != CY_LAYOUT_NHWC) {
        for (size_t i = 0; i < n; i++) d[i] += src[i];
        return CY_OK;
    }
    for (int b = 0; b < s.n; b++)
        for (int c = 0; c < s.c; c++)
            for (size_t p = 0; p < HW; p++)
                d[((size_t)b * HW + p) * s.c + c] += src[((size_t)b * s.c + c) * HW + p];
    return CY_OK;
}

cy_status cy_model_seed_head_grad(cy_model *m, int one2one, int part, const float *src, cy_error *err) {
    cy_graph *g = &m->graph;
    if (!g->training || !g->planned) return cy_fail(err, CY_ERR_ARG, "no training forward has run");
    if (one2one && !m->end2end) return cy_fail(err, CY_ERR_ARG, "the model has no one-to-one branch");
    if (part == CY_HEAD_MASKS && m->task != CY_TASK_SEGMENT)
        return cy_fail(err, CY_ERR_ARG, "the model has no mask coefficients");
    const cy_head_values *hv = one2one ? &g->o2o : &g->o2m;
    int n = g->input.n, A = cy_detect_anchors(m), a0 = 0;
    int nhwc = m->backend->layout == CY_LAYOUT_NHWC;
    for (int l = 0; l < m->nl; l++) {
        int v = cy_head_value(hv, part, l);
        cy_shape s = g->values[v].s;
        int HW = s.h * s.w, C = s.c;
        float *d = value_grad(m, v, err);
        if (!d) return cy_fail(err, CY_ERR_MEMORY, "out of memory for gradients");
        for (int b = 0; b < n; b++)
            for (int c = 0; c < C; c++)
                for (int p = 0; p < HW; p++) {
                    float x = src[((size_t)b * C + c) * A + a0 + p];
                    if (nhwc) d[((size_t)b * HW + p) * C + c] += x;
                    else d[((size_t)b * C + c) * HW + p] += x;
                }
        a0 += HW;
    }
    return CY_OK;
}

static int layer_value(const cy_model *m, int layer) {
    return layer >= 0 && layer < m->nlayers && m->graph.layer_value ? m->graph.layer_value[layer] : -1;
}

float *cy_model_layer_grad_buffer(cy_model *m, int layer, cy_error *err) {
    cy_graph *g = &m->graph;
    int v = layer_value(m, layer);
    if (!g->training || !g->planned || v <= 0) {
        cy_fail(err, CY_ERR_ARG, "layer %d: no training forward to add a gradient to", layer);
        return NULL;
    }
    return value_grad(m, v, err);
}

cy_status cy_model_layer_grad(const cy_model *m, int layer, cy_array *out, cy_error *err) {
    memset(out, 0, sizeof *out);
    const cy_graph *g = &m->graph;
    int v = layer_value(m, layer);
    if (!g->training || !g->planned || v <= 0)
        return cy_fail(err, CY_ERR_ARG, "layer %d: no training forward and backward to read a gradient from", layer);
    cy_shape s = g->values[v].s;
    size_t n = cy_shape_numel(s);
    out->data = calloc(n ? n : 1, sizeof(float));
    if (!out->data) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    if (g->grad && g->grad[v]) {
        if (m->backend->layout == CY_LAYOUT_NHWC) cy_nhwc_to_nchw(out->data, g->grad[v], s);
        else memcpy(out->data, g->grad[v], n * sizeof(float));
    }
    out->ndim = 4;
    out->shape[0] = s.n, out->shape[1] = s.c, out->shape[2] = s.h, out->shape[3] = s.w;
    return CY_OK;
}

static cy_status backward_node(cy_model *m, cy_node *n, cy_error *err) {
    cy_backend *be = m->backend;
    cy_graph *g = &m->graph;
    cy_tensor dout = {g->grad[n->out], g->values[n->out].s};
    cy_tensor in0 = cy_graph_tensor(g, n->in[0]);
    /* value 0 is the image: no gradient wanted; a detached read stops here */
    int want0 = n->in[0] != 0 && !n->detach_input;
    cy_tensor din0 = {want0 ? value_grad(m, n->in[0], err) : NULL, in0.s};
    if (want0 && !din0.data) return CY_ERR_MEMORY;
    cy_tensor *pdin0 = want0 ? &din0 : NULL;
    switch (n->op) {
    case CY_OP_CONV: {
        cy_conv_params cp = cy_node_conv_params(m, n); /* training convs carry no BN */
        return be->conv2d_backward(be, &n->slot, &in0, &dout, pdin0, m->grads + m->entries[n->w].offset,
                                   n->b >= 0 ? m->grads + m->entries[n->b].offset : NULL, &cp, err);
    }
    case CY_OP_BN: {
        cy_bn_params bp = cy_node_bn_params(m, n);
        return be->batchnorm_backward(be, &n->slot, &in0, &dout, pdin0, &bp,
                                      m->grads + m->entries[n->bn].offset,
                                      m->grads + m->entries[n->bn + 1].offset, err);
    }
    case CY_OP_ACT:
        return pdin0 ? be->activation_backward(be, &in0, &dout, pdin0, n->act, err) : CY_OK;
    case CY_OP_ADD:
        for (int j = 0; j < 2; j++) {
            if (n->in[j] == 0) continue;
            cy_tensor d = {value_grad(m, n->in[j], err), g->values[n->in[j]].s};
            if (!d.data) return CY_ERR_MEMORY;
            CY_TRY(be->accumulate(be, &dout, &d, err));
        }
        return CY_OK;
    case CY_OP_MAXPOOL:
        return pdin0 ? be->maxpool2d_backward(be, &n->slot, &in0, &dout, pdin0, n->k, n->stride, n->pad, err)
                     : CY_OK;
    case CY_OP_UPSAMPLE:
        return pdin0 ? be->upsample_nearest_backward(be, &dout, pdin0, n->scale, err) : CY_OK;
    case CY_OP_SLICE:
        return pdin0 ? be->slice_channels_backward(be, &dout, pdin0, n->groups, n->group_stride, n->offset,
                                                   n->len, err)
                     : CY_OK;
    case CY_OP_ATTN:
        return pdin0 ? be->attention_backward(be, &in0, &dout, pdin0, n->heads, n->kd, n->hd, n->attn_scale, err)
                     : CY_OK;
    case CY_OP_DECONV:
        return be->conv_transpose_backward(be, &in0, &dout, pdin0, m->params + m->entries[n->w].offset,
                                           m->grads + m->entries[n->w].offset,
                                           m->grads + m->entries[n->b].offset, n->k, err);
    case CY_OP_CONCAT: {
        /* din_j += dout[channels of input j], through one scratch slice */
        int off = 0;
        for (int j = 0; j < n->nin; j++) {
            cy_shape s = g->values[n->in[j]].s;
            if (n->in[j] != 0) {
                float *tmp = malloc(cy_shape_numel(s) * sizeof(float));
                cy_tensor t = {tmp, s}, d = {value_grad(m, n->in[j], err), s};
                cy_status st = !tmp || !d.data ? cy_fail(err, CY_ERR_MEMORY, "out of memory for gradients")
                                               : be->slice_channels(be, &dout, &t, 1, 0, off, s.c, err);
                if (st == CY_OK) st = be->accumulate(be, &t, &d, err);
                free(tmp);
                CY_TRY(st);
            }
            off += s.c;
        }
        return CY_OK;
    }
    }
    return cy_fail(err, CY_ERR_ARG, "internal: no backward for op %d", (int)n->op);
}

cy_status cy_model_backward(cy_model *m, cy_error *err) {
    cy_graph *g = &m->graph;
    if (!g->training || !g->planned) return cy_fail(err, CY_ERR_ARG, "no training forward has run");
    if (!m->grads) CY_TRY(cy_model_zero_grad(m, err));
    for (int k = g->nnodes - 1; k >= 0; k--) {
        cy_node *n = &g->nodes[k];
        if (!n->live || !g->grad || !g->grad[n->out]) continue; /* no gradient reached it */
        double t0 = m->profile ? cy_now_ms() : 0;
        CY_TRY(backward_node(m, n, err));
        if (m->profile) n->bwd_ms += cy_now_ms() - t0;
    }
    return CY_OK; /* value gradients stay readable until the next training forward clears them */
}
