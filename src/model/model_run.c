/* Runs the graph: marks the nodes the requested outputs need, plans value
 * memory (a dead value's block is reused by a later one of no larger size),
 * then executes the live nodes in order on the model's backend. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "model/model.h"
#include "backend/conv_lowp.h"

static void mark_outputs(cy_model *m) {
    cy_graph *g = &m->graph;
    for (int i = 0; i < g->nvalues; i++) g->values[i].keep = 0;
    int boxes = g->training || !m->skip_boxes;
    for (int l = 0; l < m->nl; l++) {
        if (!m->end2end || m->want_o2m) {
            g->values[g->o2m.box[l]].keep = boxes;
            g->values[g->o2m.cls[l]].keep = 1;
        }
        if (m->end2end) {
            g->values[g->o2o.box[l]].keep = boxes;
            g->values[g->o2o.cls[l]].keep = 1;
        }
        if (m->task == CY_TASK_SEGMENT) { /* masks go with the boxes they belong to */
            if (!m->end2end || m->want_o2m) g->values[g->o2m.mask[l]].keep = boxes;
            if (m->end2end) g->values[g->o2o.mask[l]].keep = boxes;
        }
    }
    if (g->proto > 0) g->values[g->proto].keep = boxes;
    if (g->semseg > 0) g->values[g->semseg].keep = 1;
    for (int i = 0; i < m->nhooks; i++)
        if (g->layer_value[m->hook_layers[i]] > 0) g->values[g->layer_value[m->hook_layers[i]]].keep = 1;
    if (m->keep_layers)
        for (int i = 0; i < m->nlayers; i++)
            if (g->layer_value[i] > 0) g->values[g->layer_value[i]].keep = 1;
    /* backward reads the forward's values: keep them all (o2m branch too) */
    if (g->training)
        for (int i = 0; i < g->nvalues; i++) g->values[i].keep = 1;
}

static cy_status plan(cy_model *m, cy_error *err) {
    cy_graph *g = &m->graph;
    for (int i = 0; i < g->nblocks; i++) free(g->blocks[i].data);
    free(g->blocks);
    g->blocks = NULL;
    g->nblocks = 0;
    mark_outputs(m);
    /* liveness, backwards */
    int *needed = calloc(g->nvalues, sizeof *needed);
    if (!needed) return cy_fail(err, CY_ERR_MEMORY, "out of memory planning the graph");
    for (int i = 0; i < g->nvalues; i++) {
        needed[i] = g->values[i].keep;
        g->values[i].last_use = -1;
        g->values[i].data = NULL;
    }
    for (int k = g->nnodes - 1; k >= 0; k--) {
        cy_node *n = &g->nodes[k];
        n->live = needed[n->out];
        if (!n->live) continue;
        for (int j = 0; j < n->nin; j++) {
            needed[n->in[j]] = 1;
            if (g->values[n->in[j]].last_use < k) g->values[n->in[j]].last_use = k;
        }
    }
    free(needed);
    g->values[0].last_use = g->values[0].last_use < 0 ? 0 : g->values[0].last_use;
    g->blocks = calloc(g->nvalues, sizeof *g->blocks);
    int *block_of = malloc(g->nvalues * sizeof *block_of);
    if (!g->blocks || !block_of) {
        free(block_of);
        return cy_fail(err, CY_ERR_MEMORY, "out of memory planning the graph");
    }
    /* value 0 (the input) first, then each live node's output */
    for (int k = -1; k < g->nnodes; k++) {
        int v = k < 0 ? 0 : g->nodes[k].out;
        if (k >= 0 && !g->nodes[k].live) continue;
        cy_value *val = &g->values[v];
        size_t need = cy_shape_numel(val->s);
        int best = -1;
        for (int i = 0; i < g->nblocks; i++)
            if (g->blocks[i].free_after < k && g->blocks[i].size >= need &&
                (best < 0 || g->blocks[i].size < g->blocks[best].size))
                best = i;
        if (best < 0) {
            best = g->nblocks++;
            g->blocks[best].size = need;
            g->blocks[best].data = aligned_alloc(64, ((need * sizeof(float) + 63) / 64) * 64);
            if (!g->blocks[best].data) {
                free(block_of);
                return cy_fail(err, CY_ERR_MEMORY, "out of memory: %zu MB of activations",
                               need * sizeof(float) >> 20);
            }
        }
        cy_block *bl = &g->blocks[best];
        /* a kept value holds its block for good; otherwise until its last reader */
        bl->free_after = val->keep ? g->nnodes + 1 : (val->last_use < k ? k : val->last_use);
        val->data = bl->data;
        block_of[v] = best;
    }
    free(block_of);
    for (int k = 0; k < g->nnodes; k++) {
        cy_node *n = &g->nodes[k];
        if (n->op != CY_OP_BN || !n->live || n->bn_save) continue;
        n->bn_save = malloc(2 * (size_t)g->values[n->out].s.c * sizeof(float));
        if (!n->bn_save) return cy_fail(err, CY_ERR_MEMORY, "out of memory planning the graph");
    }
    g->planned = 1;
    return CY_OK;
}

cy_tensor cy_graph_tensor(const cy_graph *g, int v) {
    cy_tensor t = {g->values[v].data, g->values[v].s};
    return t;
}

cy_conv_params cy_node_conv_params(const cy_model *m, const cy_node *n) {
    cy_conv_params cp = n->cp;
    cp.weight = m->params + m->entries[n->w].offset;
    cp.bias = n->b >= 0 ? m->params + m->entries[n->b].offset : NULL;
    if (n->bn >= 0) { /* eval: BN folded into the conv */
        cp.bn_gamma = m->params + m->entries[n->bn].offset;
        cp.bn_beta = m->params + m->entries[n->bn + 1].offset;
        cp.bn_mean = m->buffers + m->entries[n->bn + 2].offset;
        cp.bn_var = m->buffers + m->entries[n->bn + 3].offset;
    }
    cp.weights_version = m->weights_version;
    cp.precision = m->training ? CY_PREC_F32 : m->precision;
    return cp;
}

/* Ultralytics' BatchNorm2d: eps 1e-3, momentum 0.03 (initialize_weights) */
cy_bn_params cy_node_bn_params(const cy_model *m, const cy_node *n) {
    int C = m->graph.values[n->out].s.c;
    cy_bn_params bp = {.gamma = m->params + m->entries[n->bn].offset,
                       .beta = m->params + m->entries[n->bn + 1].offset,
                       .running_mean = m->buffers + m->entries[n->bn + 2].offset,
                       .running_var = m->buffers + m->entries[n->bn + 3].offset,
                       .eps = 1e-3f, .momentum = 0.03f, .training = 1,
                       .save_mean = n->bn_save, .save_invstd = n->bn_save + C};
    return bp;
}

static cy_status run_node(cy_model *m, cy_node *n, cy_error *err) {
    cy_backend *be = m->backend;
    cy_graph *g = &m->graph;
    cy_tensor out = cy_graph_tensor(g, n->out);
    cy_tensor in0 = cy_graph_tensor(g, n->in[0]);
    switch (n->op) {
    case CY_OP_CONV: {
        cy_conv_params cp = cy_node_conv_params(m, n);
        if (cp.precision == CY_PREC_INT8) { /* calibrated once, on the first input this conv sees */
            if (!m->int8_step && !(m->int8_step = calloc(m->nentries, sizeof *m->int8_step)))
                return cy_fail(err, CY_ERR_MEMORY, "out of memory");
            if (!(m->int8_step[n->w] > 0)) {
                const float mx = cy_abs_max(in0.data, cy_shape_numel(in0.s));
                m->int8_step[n->w] = mx > 0 && isfinite(mx) ? mx / 127.0f : 1.0f;
            }
            cp.in_scale = m->int8_step[n->w];
        }
        return be->conv2d(be, &n->slot, &in0, &out, &cp, err);
    }
    case CY_OP_ACT: return be->activation(be, &in0, &out, n->act, err);
    case CY_OP_BN: {
        cy_bn_params bp = cy_node_bn_params(m, n);
        CY_TRY(be->batchnorm(be, &n->slot, &in0, &out, &bp, err));
        m->counters[m->entries[n->bn + 4].offset] += 1; /* num_batches_tracked */
        return CY_OK;
    }
    case CY_OP_ADD: {
        cy_tensor in1 = cy_graph_tensor(g, n->in[1]);
        return be->add(be, &in0, &in1, &out, err);
    }
    case CY_OP_MAXPOOL: return be->maxpool2d(be, &n->slot, &in0, &out, n->k, n->stride, n->pad, err);
    case CY_OP_UPSAMPLE: return be->upsample_nearest(be, &in0, &out, n->scale, err);
    case CY_OP_CONCAT: {
        cy_tensor ts[CY_MAX_FROM];
        const cy_tensor *ps[CY_MAX_FROM];
        for (int j = 0; j < n->nin; j++) {
            ts[j] = cy_graph_tensor(g, n->in[j]);
            ps[j] = &ts[j];
        }
        return be->concat(be, ps, n->nin, &out, err);
    }
    case CY_OP_SLICE:
        return be->slice_channels(be, &in0, &out, n->groups, n->group_stride, n->offset, n->len, err);
    case CY_OP_ATTN:
        return be->attention(be, &in0, &out, n->heads, n->kd, n->hd, n->attn_scale, err);
    case CY_OP_DECONV:
        return be->conv_transpose(be, &in0, &out, m->params + m->entries[n->w].offset,
                                  m->params + m->entries[n->b].offset, n->k, err);
    }
    return cy_fail(err, CY_ERR_ARG, "internal: unknown op");
}

double cy_now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

cy_status cy_model_run_node(cy_model *m, int k, cy_error *err) {
    return run_node(m, &m->graph.nodes[k], err);
}

cy_status cy_model_run_graph(cy_model *m, const float *input, cy_shape s, cy_error *err) {
    cy_graph *g = &m->graph;
    if (!g->built || memcmp(&g->input, &s, sizeof s)) CY_TRY(cy_model_build_graph(m, s, err));
    if (!g->planned) CY_TRY(plan(m, err));
    if (g->training) cy_model_clear_value_grads(m);
    float *x = g->values[0].data;
    if (m->backend->layout == CY_LAYOUT_NHWC) cy_nchw_to_nhwc(x, input, s);
    else memcpy(x, input, cy_shape_numel(s) * sizeof(float));
    for (int k = 0; k < g->nnodes; k++) {
        if (!g->nodes[k].live) continue;
        double t0 = m->profile ? cy_now_ms() : 0;
        CY_TRY(run_node(m, &g->nodes[k], err));
        if (m->profile) g->nodes[k].fwd_ms += cy_now_ms() - t0;
    }
    return CY_OK;
}

void cy_model_value_nchw(const cy_model *m, int v, float *dst) {
    const cy_value *val = &m->graph.values[v];
    if (m->backend->layout == CY_LAYOUT_NHWC) cy_nhwc_to_nchw(dst, val->data, val->s);
    else memcpy(dst, val->data, cy_shape_numel(val->s) * sizeof(float));
}
