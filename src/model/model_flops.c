/* GFLOPs as Ultralytics' model.info() reports them: thop's counting rules on
 * the unfused model (both head branches), MACs x 2, scaled to imgsz:
 *   Conv2d       out_numel * (cin / groups) * kh * kw   (bias not counted)
 *   ConvTranspose2d  in_numel * cout * kh * kw          (thop's calculate_conv2d_flops, transpose=True)
 *   BatchNorm2d  4 * numel (normalise 2, affine 2)
 *   DFL (reg_max > 1) its fixed 1x1 conv: 4 * anchors * reg_max
 *   everything else (SiLU, pooling, upsample, concat, add, attention matmuls,
 *   which are functional calls) counts 0. */
#include "model/model.h"

double cy_model_gflops(const cy_model *m, int imgsz) {
    const cy_graph *g = &m->graph;
    if (!g->built) return 0.0;
    double macs = 0;
    for (int k = 0; k < g->nnodes; k++) {
        const cy_node *n = &g->nodes[k];
        cy_shape in = g->values[n->in[0]].s, out = g->values[n->out].s;
        if (n->op == CY_OP_DECONV) /* thop's transposed rule: input volume x out channels x kernel */
            macs += (double)in.c * in.h * in.w * out.c * n->k * n->k;
        if (n->op != CY_OP_CONV) continue;
        double numel = (double)out.c * out.h * out.w; /* batch 1 */
        macs += numel * (in.c / n->cp.groups) * n->cp.kh * n->cp.kw;
        if (n->bn >= 0) macs += 4 * numel;
    }
    if (m->reg_max > 1)
        for (int l = 0; l < m->nl; l++) macs += 4.0 * g->level_h[l] * g->level_w[l] * m->reg_max;
    double hw = (double)g->input.h * g->input.w;
    return macs * 2 / 1e9 * ((double)imgsz * imgsz / hw);
}
