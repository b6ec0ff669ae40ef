/* Default initialisation, as a fresh Ultralytics DetectionModel: conv
 * weights and biases within PyTorch's +-1/sqrt(fan_in), BatchNorm weight 1,
 * bias 0, running var 1; the end2end head's one2one branch a copy of the
 * one2many branch (Detect deep-copies cv2/cv3); Detect.bias_init on both
 * (box 2.0, class log(5 / nc / (640 / stride)^2)); the weights follow
 * cy_model_params.seed (the training seed), as torch's init follows
 * init_seeds. */
#include <math.h>
#include "cyolo.h"
#include "model/model.h"
#include "test_util.h"

static const float *param(const cy_model *m, const char *name, const cy_entry **e) {
    int i = cy_model_find_entry(m, name);
    CHECK(i >= 0, "no tensor %s", name);
    if (i < 0) return NULL;
    *e = &m->entries[i];
    return (*e)->kind == CY_ENTRY_BUFFER ? m->buffers + (*e)->offset : m->params + (*e)->offset;
}

int main(void) {
    cy_error err = {0};
    cy_model_params p = cy_model_default_params();
    p.nc = 6;
    cy_model *m = NULL;
    CHECK(cy_model_create(&m, "yolo26n.yaml", &p, &err) == CY_OK, "%s", err.msg);
    if (!m) return test_summary();
    int copies = 0, differ = 0;
    for (int i = 0; i < m->nentries; i++) {
        const cy_entry *e = &m->entries[i];
        const char *at = strstr(e->name, "one2one_");
        if (!at || e->kind == CY_ENTRY_COUNTER) continue; /* num_batches_tracked: 0 on both */
        char twin[256];
        snprintf(twin, sizeof twin, "%.*s%s", (int)(at - e->name), e->name, at + 8);
        const cy_entry *t = NULL, *o = NULL;
        const float *a = param(m, e->name, &o), *b = param(m, twin, &t);
        if (!a || !b) continue;
        copies++;
        if (t->numel != o->numel || memcmp(a, b, o->numel * sizeof *a)) differ++;
    }
    CHECK(copies > 20 && differ == 0, "one2one tensors equal to their one2many twins: %d of %d differ", differ, copies);

    const cy_entry *e = NULL;
    const float *w = param(m, "model.0.conv.weight", &e); /* [16, 3, 3, 3]: fan_in 27 */
    double bound = 1 / sqrt(27.0), mx = 0;
    for (size_t i = 0; w && i < e->numel; i++) mx = fmax(mx, fabs(w[i]));
    CHECK(w && mx <= bound && mx > 0.9 * bound, "model.0 weights within +-%g (max |w| %g)", bound, mx);
    const float *g = param(m, "model.0.bn.weight", &e), *bb = param(m, "model.0.bn.bias", &e);
    const float *rv = param(m, "model.0.bn.running_var", &e);
    CHECK(g && bb && rv && g[0] == 1 && bb[0] == 0 && rv[0] == 1, "BatchNorm 1 / 0 / var 1");
    static const char *box_b[] = {"model.23.cv2.0.2.bias", "model.23.one2one_cv2.0.2.bias"};
    static const char *cls_b[] = {"model.23.cv3.2.2.bias", "model.23.one2one_cv3.2.2.bias"};
    for (int k = 0; k < 2; k++) {
        const float *bx = param(m, box_b[k], &e), *cl = param(m, cls_b[k], &e);
        double want = log(5.0 / 6 / ((640.0 / 32) * (640.0 / 32)));
        CHECK(bx && cl && bx[0] == 2.0f && fabs(cl[0] - want) < 1e-6, "%s %g, %s %g (want 2 and %g)", box_b[k],
              bx ? bx[0] : -1, cls_b[k], cl ? cl[0] : -1, want);
    }
    cy_model *same = NULL, *other = NULL;
    CHECK(cy_model_create(&same, "yolo26n.yaml", &p, &err) == CY_OK, "%s", err.msg);
    p.seed = 1;
    CHECK(cy_model_create(&other, "yolo26n.yaml", &p, &err) == CY_OK, "%s", err.msg);
    if (same && other) {
        CHECK(!memcmp(m->params, same->params, m->nparams * sizeof(float)), "the same seed gives the same weights");
        CHECK(memcmp(m->params, other->params, m->nparams * sizeof(float)), "seed 1 gives other weights");
    }
    cy_model_free(same);
    cy_model_free(other);
    cy_model_free(m);
    return test_summary();
}
