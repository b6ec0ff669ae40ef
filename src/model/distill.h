/* Knowledge distillation (DESIGN.md "Knowledge distillation"): a frozen
 * teacher runs in eval mode (BN folded, no tape, no box branches) on the
 * student's batch; per detection level a projector Conv1x1(Cs->Ct, bias) ->
 * ReLU -> Conv1x1(Ct->Ct, bias) maps the student's neck feature (an input of
 * its Detect head) to the teacher's; the loss is the score-weighted L2
 *
 *   w     = max over classes of sigmoid((one2many + one2one logits) / 2)
 *   L_l   = sum(w * (proj(s) - t)^2) / (sum(w) * Ct + 1e-9)
 *   dis_loss = dis * sum_l L_l            (the logged, per-sample value)
 *
 * and dis_loss * batch is what is backpropagated, into the projector's
 * gradients and into the student's neck outputs (before the student's own
 * backward walk). The teacher scores are split by each level's real H*W, so
 * any input shape works.
 *
 *   cy_distill_create(&d, student, teacher, 6.0, &err);   teacher owned by d
 *   per batch: student training forward (cy_model_run), then
 *   cy_distill_forward(d, student, x, n, h, w, 1, &out, &err);
 *   then cy_model_loss(student, ..., backward=1) walks the graph back. */
#ifndef CY_MODEL_DISTILL_H
#define CY_MODEL_DISTILL_H
#include "model/model.h"

typedef struct cy_distill cy_distill;

typedef struct {
    double dis_loss;                 /* dis * sum of the level losses (per sample, logged) */
    double level_loss[CY_MAX_LEVELS]; /* L_l, before dis */
} cy_distill_out;

/* Checks that teacher and student can be paired (same family: modules, head
 * kind, levels; same class count) and builds the projectors, initialised as
 * PyTorch's Conv2d does (uniform +-1/sqrt(fan_in)) from seed. The teacher
 * moves into d (freed with it) and is switched to eval mode. On failure the
 * caller still owns the teacher. */
cy_status cy_distill_create(cy_distill **out, const cy_model *student, cy_model *teacher, double dis, uint64_t seed,
                            cy_error *err);
void cy_distill_free(cy_distill *d);

/* The reference's formula weights for the projectors (tests, dump). */
void cy_distill_init_formula(cy_distill *d);

/* Projector parameters and their gradients: flat buffers of nparams floats
 * described by an entry table in state order, named as Ultralytics'
 * DistillationModel names them (projector.<level>.<0|2>.<weight|bias>), so
 * an optimizer builds its groups from it as from a model's. */
int cy_distill_entries(const cy_distill *d, const cy_entry **entries);
float *cy_distill_params(cy_distill *d);
float *cy_distill_grads(cy_distill *d);
size_t cy_distill_nparams(const cy_distill *d);
cy_model *cy_distill_teacher(cy_distill *d);
int cy_distill_levels(const cy_distill *d);
double cy_distill_gain(const cy_distill *d);
void cy_distill_zero_grad(cy_distill *d);
/* Images per teacher forward: 0 (the default) picks about two 320x320
 * images' worth (2 at 320, 8 at 160, 1 at 640), so the teacher's activation
 * memory stays small while small images still make batches the kernels run
 * well; a batch runs in equal chunks (the largest divisor of the batch not
 * above it); a value >= the batch runs the batch at once. */
void cy_distill_set_teacher_chunk(cy_distill *d, int images);
/* What the teacher's convolutions multiply in (CY_PREC_F32 by default).
 * BF16/INT8 are refused where the backend cannot run them at all; warn_slow
 * is set when they run emulated (no AVX512-BF16 / AVX512-VNNI). INT8
 * calibrates each conv's input step on the teacher's next forward (its
 * first chunk of images) and keeps it. */
cy_status cy_distill_set_teacher_precision(cy_distill *d, cy_precision p, int *warn_slow, cy_error *err);

/* After the student's training forward on x: the teacher forward on x, the
 * projectors and the loss. backward: the projector gradients accumulate and
 * d(dis_loss * n) reaches the student's neck outputs (the student's backward
 * walk, e.g. in cy_model_loss, must follow). */
cy_status cy_distill_forward(cy_distill *d, cy_model *student, const float *x, int n, int h, int w, int backward,
                             cy_distill_out *out, cy_error *err);

/* The teacher weights w of level l of the last forward, [n, 1, h*w]. */
cy_status cy_distill_teacher_weights(const cy_distill *d, int level, cy_array *out, cy_error *err);

#endif
