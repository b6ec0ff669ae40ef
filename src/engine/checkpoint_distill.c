/* The projectors of a distillation run in last.pt: what resuming needs and
 * nothing an inference model reads (best.pt and exported weights hold the
 * student alone). The teacher is never saved: resume rebuilds it from the
 * distill_model path in train_args. An int8 teacher's calibrated input
 * steps are (teacher_int8_step), so a resumed run quantizes as the
 * uninterrupted one did. */
#include <stdlib.h>
#include <string.h>
#include "engine/checkpoint_internal.h"
#include "io/pt.h"

cy_status cy_checkpoint_put_distill(cy_pt_value *root, const cy_distill *dc, cy_optim *opt, int pending,
                                    cy_error *err) {
    cy_distill *d = (cy_distill *)dc; /* read only: the accessors are not const */
    const cy_entry *e;
    int n = cy_distill_entries(d, &e);
    cy_pt_value *sd = NULL, *v = NULL;
    cy_status st = cy_pt_dict_new(&sd, 1, err);
    for (int i = 0; st == CY_OK && i < n; i++) {
        v = NULL;
        st = cy_pt_tensor_new(&v, CY_PT_DT_F32, e[i].ndim, e[i].shape, cy_distill_params(d) + e[i].offset, err);
        if (st == CY_OK) st = cy_pt_dict_set_str(sd, e[i].name, v, err);
        if (st != CY_OK) cy_pt_value_free(v);
    }
    if (st == CY_OK && (st = cy_pt_dict_set_str(root, "projector", sd, err)) == CY_OK) sd = NULL;
    cy_pt_value_free(sd);
    if (st == CY_OK && opt) {
        v = NULL;
        st = cy_checkpoint_optimizer_state(opt, &v, err);
        if (st == CY_OK) st = cy_pt_dict_set_str(root, "projector_optimizer", v, err);
        if (st != CY_OK) cy_pt_value_free(v);
    }
    const cy_model *t = cy_distill_teacher(d);
    if (st == CY_OK && t->precision == CY_PREC_INT8 && t->int8_step) {
        int64_t ne = t->nentries;
        v = NULL;
        st = cy_pt_tensor_new(&v, CY_PT_DT_F32, 1, &ne, t->int8_step, err);
        if (st == CY_OK) st = cy_pt_dict_set_str(root, "teacher_int8_step", v, err);
        if (st != CY_OK) cy_pt_value_free(v);
    }
    if (st == CY_OK && pending > 0) {
        int64_t np = (int64_t)cy_distill_nparams(d);
        v = NULL;
        st = cy_pt_tensor_new(&v, CY_PT_DT_F32, 1, &np, cy_distill_grads(d), err);
        if (st == CY_OK) st = cy_pt_dict_set_str(root, "projector_grads", v, err);
        if (st != CY_OK) cy_pt_value_free(v);
    }
    return st;
}

cy_status cy_checkpoint_resume_distill(const char *path, cy_distill *d, cy_optim *opt, int pending, int *found,
                                       cy_error *err) {
    *found = 0;
    cy_pt_value *root = NULL;
    CY_TRY(cy_pt_read(path, &root, err));
    const cy_pt_value *sd = cy_pt_dict_find(root, "projector"), *o = cy_pt_dict_find(root, "projector_optimizer");
    cy_status st = CY_OK;
    if (!sd) goto done;
    const cy_entry *e;
    int n = cy_distill_entries(d, &e);
    for (int i = 0; st == CY_OK && i < n; i++) {
        const cy_pt_value *t = cy_pt_dict_find(sd, e[i].name);
        if (!t || cy_pt_tensor_numel(t) != (int64_t)e[i].numel)
            st = cy_fail(err, CY_ERR_FORMAT,
                         "%s: projector '%s' is missing or of another size: was the run distilled from another "
                         "teacher?",
                         path, e[i].name);
        else
            st = cy_pt_tensor_to_f32(t, cy_distill_params(d) + e[i].offset, e[i].numel, err);
    }
    if (st == CY_OK && opt) {
        if (!o) {
            st = cy_fail(err, CY_ERR_FORMAT, "%s: the checkpoint has projectors but no projector_optimizer", path);
            goto done;
        }
        st = cy_checkpoint_load_optimizer_state(o, opt, path, err);
    }
    cy_model *t = cy_distill_teacher(d);
    const cy_pt_value *steps = cy_pt_dict_find(root, "teacher_int8_step");
    if (st == CY_OK && steps && t->precision == CY_PREC_INT8 && cy_pt_tensor_numel(steps) == t->nentries) {
        if (!t->int8_step && !(t->int8_step = calloc(t->nentries, sizeof *t->int8_step)))
            st = cy_fail(err, CY_ERR_MEMORY, "out of memory");
        else
            st = cy_pt_tensor_to_f32(steps, t->int8_step, t->nentries, err);
    } /* otherwise (another teacher or precision on resume) the teacher calibrates afresh */
    cy_distill_zero_grad(d);
    if (st == CY_OK && pending > 0)
        st = cy_checkpoint_tensor_into(root, "projector_grads", cy_distill_grads(d),
                                       cy_distill_nparams(d) * sizeof(float), path, err);
    if (st == CY_OK) *found = 1;
done:
    cy_pt_value_free(root);
    return st;
}
