/* yolo26n train-mode forward (BatchNorm on batch statistics) against the
 * reference case 3: raw one-to-many / one-to-one head outputs and the BN
 * running statistics after that one forward (momentum 0.03, unbiased var). */
#include "cyolo.h"
#include "model/model.h"
#include "test_ref.h"

static void run(cy_backend_kind backend) {
    const char *bname = backend == CY_BACKEND_CPU ? "cpu" : "ref";
    cy_error err = {0};
    cy_model *m = formula_model("yolo26n.yaml", backend);
    if (!m) return;
    cy_model_set_training(m, 1);
    float *x = formula_input(2, 128, 160);
    CHECK(cy_model_run(m, x, 2, 128, 160, &err) == CY_OK, "train forward: %s", err.msg);
    static const char *raw[4] = {"one2many_scores", "one2many_boxes", "one2one_scores", "one2one_boxes"};
    char what[128], ref[128];
    for (int k = 0; k < 4; k++) {
        cy_array t;
        CHECK(cy_model_raw_head(m, k / 2, k % 2, &t, &err) == CY_OK, "raw: %s", err.msg);
        snprintf(what, sizeof what, "%s train %s", bname, raw[k]);
        snprintf(ref, sizeof ref, "c3_n_train_raw_%s.npy", raw[k]);
        check_close(what, &t, ref, 1e-4);
        cy_array_free(&t);
    }
    /* running mean, running var of every BN, in state_dict order */
    cy_array bn = {.data = malloc(m->nbuffers * sizeof(float)), .ndim = 1, .shape = {(int64_t)m->nbuffers}};
    size_t o = 0;
    for (int i = 0; i < m->nentries; i++)
        if (m->entries[i].kind == CY_ENTRY_BUFFER) {
            memcpy(bn.data + o, m->buffers + m->entries[i].offset, m->entries[i].numel * sizeof(float));
            o += m->entries[i].numel;
        }
    snprintf(what, sizeof what, "%s BN running stats after one train forward", bname);
    check_close(what, &bn, "c3_n_bn_running_after_train_forward.npy", 1e-5);
    int k = cy_model_find_entry(m, "model.0.bn.num_batches_tracked");
    CHECK(k >= 0 && m->counters[m->entries[k].offset] == 1, "num_batches_tracked counts the train forward");
    cy_array_free(&bn);
    free(x);
    cy_model_free(m);
}

int main(void) {
    run(CY_BACKEND_CPU);
    run(CY_BACKEND_REF);
    return test_summary();
}
