/* The public model API: create from YAML, initialise, forward, read layers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/detect_decode.h"
#include "model/model.h"
#include "io/text_file.h"

cy_model_params cy_model_default_params(void) {
    cy_model_params p;
    memset(&p, 0, sizeof p);
    p.init = CY_INIT_DEFAULT;
    p.backend = CY_BACKEND_CPU;
    return p;
}

void cy_model_free(cy_model *m) {
    if (!m) return;
    cy_graph_free(m);
    cy_backend_destroy(m->backend);
    free(m->yaml_text);
    free(m->int8_step);
    free(m->layers);
    free(m->entries);
    free(m->params);
    free(m->grads);
    free(m->buffers);
    free(m->counters);
    free(m);
}

/* Strides as DetectionModel.__init__ finds them: a 256x256 forward, stride =
 * 256 / level height. Here the shapes alone give it. */
static cy_status find_strides(cy_model *m, cy_error *err) {
    cy_shape probe = {1, m->channels, 256, 256};
    CY_TRY(cy_model_build_graph(m, probe, err));
    for (int l = 0; l < m->nl; l++) {
        int h = m->graph.level_h[l];
        if (h < 1 || 256 % h)
            return cy_fail(err, CY_ERR_FORMAT, "%s: detection level %d has no integer stride",
                           m->yaml_path, l);
        m->stride[l] = 256 / h;
    }
    return CY_OK;
}

static cy_status create(cy_model **out, const char *yaml_path, const char *text, const char *name, char scale,
                        const cy_model_params *pp, cy_error *err) {
    *out = NULL;
    cy_model_params p = pp ? *pp : cy_model_default_params();
    cy_model *m = calloc(1, sizeof *m);
    if (!m) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    m->loss_gain[0] = 7.5, m->loss_gain[1] = 0.5, m->loss_gain[2] = 1.5;
    m->channels = p.channels > 0 ? p.channels : 0;
    m->init_seed = p.seed;
    cy_status st = text ? cy_model_parse_yaml_text(m, yaml_path, name, text, scale, p.nc, err)
                        : cy_model_parse_yaml(m, yaml_path, p.nc, err);
    size_t len;
    if (st == CY_OK && (text ? !(m->yaml_text = strdup(text))
                             : cy_read_text_file(m->yaml_path, (size_t)16 << 20, &m->yaml_text, &len) != 0))
        st = cy_fail(err, CY_ERR_IO, "%s: cannot read the model YAML again", m->yaml_path);
    if (st == CY_OK) st = find_strides(m, err); /* registers the state too */
    if (st == CY_OK) m->gflops_640 = cy_model_gflops(m, 640);
    if (st == CY_OK) {
        m->params = calloc(m->nparams ? m->nparams : 1, sizeof(float));
        m->buffers = calloc(m->nbuffers ? m->nbuffers : 1, sizeof(float));
        m->counters = calloc(m->ncounters ? m->ncounters : 1, sizeof(int64_t));
        if (!m->params || !m->buffers || !m->counters) st = cy_fail(err, CY_ERR_MEMORY, "out of memory");
    }
    if (st == CY_OK)
        st = cy_model_reinit(m, p.init, 1, err);
    if (st == CY_OK) {
        cy_graph_free(m); /* the probe graph has no backend state yet */
        st = p.backend == CY_BACKEND_REF ? cy_backend_ref_create(&m->backend, err)
                                         : cy_backend_cpu_create(&m->backend, p.threads, err);
    }
    if (st != CY_OK) {
        cy_model_free(m);
        return st;
    }
    *out = m;
    return CY_OK;
}

cy_status cy_model_create(cy_model **out, const char *yaml_path, const cy_model_params *pp, cy_error *err) {
    *out = NULL;
    if (!yaml_path || !*yaml_path) return cy_fail(err, CY_ERR_ARG, "no model YAML given");
    return create(out, yaml_path, NULL, NULL, 0, pp, err);
}

cy_status cy_model_create_from_text(cy_model **out, const char *label, const char *name, const char *yaml_text,
                                    char scale, const cy_model_params *pp, cy_error *err) {
    *out = NULL;
    if (!yaml_text) return cy_fail(err, CY_ERR_ARG, "%s: no model YAML text", label);
    return create(out, label, yaml_text, name ? name : "", scale, pp, err);
}

cy_status cy_model_summarize(const cy_model *m, cy_model_summary *s) {
    memset(s, 0, sizeof *s);
    s->layers = m->nlayers;
    s->nc = m->nc;
    s->channels = m->channels;
    s->reg_max = m->reg_max;
    s->end2end = m->end2end;
    for (int i = 0; i < m->nentries; i++) {
        if (m->entries[i].kind == CY_ENTRY_PARAM) s->gradients += (int64_t)m->entries[i].numel;
        if (m->entries[i].kind == CY_ENTRY_PARAM || m->entries[i].kind == CY_ENTRY_FIXED)
            s->params += (int64_t)m->entries[i].numel;
    }
    s->modules = m->modules;
    s->gflops_640 = m->gflops_640;
    for (int l = 0; l < m->nl && l < 3; l++) s->stride[l] = m->stride[l];
    s->task = m->task;
    s->nm = m->task == CY_TASK_SEGMENT ? m->nm : 0;
    return CY_OK;
}

const char *cy_task_name(cy_task t) {
    switch (t) {
    case CY_TASK_DETECT: return "detect";
    case CY_TASK_SEGMENT: return "segment";
    }
    return "unknown";
}

static cy_status check_input(const cy_model *m, int n, int h, int w, cy_error *err) {
    int smax = 1;
    for (int l = 0; l < m->nl; l++) smax = m->stride[l] > smax ? m->stride[l] : smax;
    if (n < 1) return cy_fail(err, CY_ERR_ARG, "batch size must be at least 1, got %d", n);
    if (h < smax || w < smax || h % smax || w % smax)
        return cy_fail(err, CY_ERR_ARG,
                       "input size %dx%d (HxW) is not a multiple of the model's max stride %d", h, w, smax);
    if ((double)n * h * w > 64.0 * 4096 * 4096)
        return cy_fail(err, CY_ERR_ARG, "input %dx%dx%d is too large", n, h, w);
    return CY_OK;
}

static cy_status forward_graph(cy_model *m, const float *input, int n, int h, int w, cy_error *err) {
    CY_TRY(check_input(m, n, h, w, err));
    cy_shape s = {n, m->channels, h, w};
    return cy_model_run_graph(m, input, s, err);
}

cy_status cy_model_run(cy_model *m, const float *input, int n, int h, int w, cy_error *err) {
    return forward_graph(m, input, n, h, w, err);
}

cy_status cy_model_forward(cy_model *m, const float *input, int n, int h, int w,
                           const cy_predict_params *pp, cy_array *out, cy_error *err) {
    memset(out, 0, sizeof *out);
    CY_TRY(forward_graph(m, input, n, h, w, err));
    int A = cy_detect_anchors(m);
    if (!m->end2end) return cy_model_decoded(m, out, err);
    int max_det = pp && pp->max_det > 0 ? pp->max_det : 300;
    int k = max_det < A ? max_det : A, w6 = 6 + cy_detect_extra(m);
    out->data = malloc((size_t)n * k * w6 * sizeof(float));
    if (!out->data) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    cy_status st = cy_detect_topk(m, k, out->data, err);
    if (st != CY_OK) {
        cy_array_free(out);
        return st;
    }
    out->ndim = 3;
    out->shape[0] = n;
    out->shape[1] = k;
    out->shape[2] = w6;
    return CY_OK;
}

/* Graph value v as a new NCHW array [n, c, h, w]. */
static cy_status value_array(const cy_model *m, int v, cy_array *out, cy_error *err) {
    cy_shape s = m->graph.values[v].s;
    out->data = malloc(cy_shape_numel(s) * sizeof(float));
    if (!out->data) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    cy_model_value_nchw(m, v, out->data);
    out->ndim = 4;
    out->shape[0] = s.n, out->shape[1] = s.c, out->shape[2] = s.h, out->shape[3] = s.w;
    return CY_OK;
}

cy_status cy_model_layer_output(const cy_model *m, int layer, cy_array *out, cy_error *err) {
    memset(out, 0, sizeof *out);
    if (!m->graph.planned) return cy_fail(err, CY_ERR_ARG, "no forward pass has run yet");
    if (layer < 0 || layer >= m->nlayers || m->graph.layer_value[layer] <= 0)
        return cy_fail(err, CY_ERR_ARG, "layer %d has no tensor output (the model has %d layers)", layer,
                       m->nlayers);
    int v = m->graph.layer_value[layer];
    if (!m->keep_layers && !m->graph.values[v].keep)
        return cy_fail(err, CY_ERR_ARG, "layer %d was not kept: enable keep_layers before the forward", layer);
    return value_array(m, v, out, err);
}

cy_status cy_model_set_hooks(cy_model *m, const int *layers, int n, cy_error *err) {
    if (n < 0 || n > CY_MAX_FROM) return cy_fail(err, CY_ERR_ARG, "at most %d hooked layers (got %d)", CY_MAX_FROM, n);
    for (int i = 0; i < n; i++)
        if (layers[i] < 0 || layers[i] >= m->nlayers)
            return cy_fail(err, CY_ERR_ARG, "hook on layer %d: the model has %d layers", layers[i], m->nlayers);
    m->nhooks = n;
    memcpy(m->hook_layers, layers, (size_t)n * sizeof *layers);
    m->graph.planned = 0;
    return CY_OK;
}

void cy_model_set_keep_layers(cy_model *m, int keep) {
    if (m->keep_layers != !!keep) m->graph.planned = 0;
    m->keep_layers = !!keep;
}

cy_status cy_model_set_loss_gains(cy_model *m, double box, double cls, double dfl, cy_error *err) {
    if (!(box >= 0) || !(cls >= 0) || !(dfl >= 0))
        return cy_fail(err, CY_ERR_ARG, "loss gains must be >= 0 (box=%g cls=%g dfl=%g)", box, cls, dfl);
    m->loss_gain[0] = box, m->loss_gain[1] = cls, m->loss_gain[2] = dfl;
    return CY_OK;
}

void cy_model_set_training(cy_model *m, int training) {
    if (m->training != !!training) cy_graph_free(m); /* a different graph */
    m->training = !!training;
}

void cy_model_set_want_one2many(cy_model *m, int want) {
    if (m->want_o2m != !!want) m->graph.planned = 0;
    m->want_o2m = !!want;
}

cy_status cy_model_raw_head(cy_model *m, int one2one, int part, cy_array *out, cy_error *err) {
    memset(out, 0, sizeof *out);
    const cy_graph *g = &m->graph;
    if (!g->planned) return cy_fail(err, CY_ERR_ARG, "no forward pass has run yet");
    if (one2one && !m->end2end) return cy_fail(err, CY_ERR_ARG, "the model has no one-to-one branch");
    if (!one2one && m->end2end && !m->want_o2m && !g->training)
        return cy_fail(err, CY_ERR_ARG, "the one-to-many branch was not run");
    if (part < CY_HEAD_SCORES || part > CY_HEAD_MASKS) return cy_fail(err, CY_ERR_ARG, "unknown head part %d", part);
    if (part == CY_HEAD_MASKS && m->task != CY_TASK_SEGMENT)
        return cy_fail(err, CY_ERR_ARG, "a %s model has no mask coefficients", cy_task_name(m->task));
    if (part != CY_HEAD_SCORES && m->skip_boxes && !g->training)
        return cy_fail(err, CY_ERR_ARG, "the box branches were not run");
    const cy_head_values *hv = one2one ? &g->o2o : &g->o2m;
    int n = g->input.n, A = cy_detect_anchors(m);
    int C = part == CY_HEAD_BOXES ? 4 * m->reg_max : part == CY_HEAD_MASKS ? m->nm : m->nc;
    out->data = malloc((size_t)n * C * A * sizeof(float));
    if (!out->data) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    int a0 = 0;
    for (int l = 0; l < m->nl; l++) {
        int v = cy_head_value(hv, part, l);
        cy_shape s = g->values[v].s;
        int HW = s.h * s.w;
        float *tmp = malloc(cy_shape_numel(s) * sizeof(float));
        if (!tmp) {
            cy_array_free(out);
            return cy_fail(err, CY_ERR_MEMORY, "out of memory");
        }
        cy_model_value_nchw(m, v, tmp);
        for (int b = 0; b < n; b++)
            for (int c = 0; c < C; c++)
                memcpy(out->data + ((size_t)b * C + c) * A + a0, tmp + ((size_t)b * C + c) * HW,
                       HW * sizeof(float));
        free(tmp);
        a0 += HW;
    }
    out->ndim = 3;
    out->shape[0] = n;
    out->shape[1] = C;
    out->shape[2] = A;
    return CY_OK;
}

cy_status cy_model_proto(cy_model *m, cy_array *out, cy_error *err) {
    memset(out, 0, sizeof *out);
    const cy_graph *g = &m->graph;
    if (m->task != CY_TASK_SEGMENT) return cy_fail(err, CY_ERR_ARG, "a %s model has no prototype masks", cy_task_name(m->task));
    if (!g->planned || g->proto <= 0 || !g->values[g->proto].data)
        return cy_fail(err, CY_ERR_ARG, "no forward pass has computed the prototype masks");
    return value_array(m, g->proto, out, err);
}

cy_status cy_model_semantic(cy_model *m, cy_array *out, cy_error *err) {
    memset(out, 0, sizeof *out);
    const cy_graph *g = &m->graph;
    if (!m->proto26) return cy_fail(err, CY_ERR_ARG, "only YOLO26-seg (Proto26) has a semantic branch");
    if (!g->planned || !g->training || g->semseg <= 0)
        return cy_fail(err, CY_ERR_ARG, "the semantic branch runs in training forwards only");
    return value_array(m, g->semseg, out, err);
}

cy_status cy_model_decoded(cy_model *m, cy_array *out, cy_error *err) {
    memset(out, 0, sizeof *out);
    if (!m->graph.planned) return cy_fail(err, CY_ERR_ARG, "no forward pass has run yet");
    int n = m->graph.input.n, A = cy_detect_anchors(m), rows = 4 + m->nc + cy_detect_extra(m);
    out->data = malloc((size_t)n * rows * A * sizeof(float));
    if (!out->data) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    cy_status st = cy_detect_decode(m, m->end2end, out->data, err);
    if (st != CY_OK) {
        cy_array_free(out);
        return st;
    }
    out->ndim = 3;
    out->shape[0] = n;
    out->shape[1] = rows;
    out->shape[2] = A;
    return CY_OK;
}

void cy_array_free(cy_array *a) {
    if (!a) return;
    free(a->data);
    a->data = NULL;
}
