/* distill_model= for the trainer and `cyolo dump`: loads the teacher, checks
 * it against the student and the dataset before anything trains, and builds
 * the distillation object (model/distill.h).
 *
 * The teacher comes from a .pt (a cyolo checkpoint or an Ultralytics one,
 * through cy_checkpoint_load_model; its EMA weights) or from a model YAML
 * (with distill_weights=<.pt> its weights from that checkpoint, every
 * tensor required; or fresh weights: formula ones with init=formula, for
 * checks; otherwise a warning says the teacher is untrained). A teacher
 * whose input channels differ from the student's is rebuilt with the
 * student's and its weights transferred (Ultralytics' DistillationModel
 * and Model.load). Refused, each with a message: a missing file, another
 * model family, another class count, other class names. A teacher with
 * fewer parameters than the student is allowed with a warning.
 * distill_precision=bf16|int8 runs the teacher's convolutions in bfloat16
 * or int8. */
#ifndef CY_ENGINE_DISTILL_SETUP_H
#define CY_ENGINE_DISTILL_SETUP_H
#include <stdio.h>
#include "model/distill.h"

typedef struct {
    const char *teacher;     /* distill_model= */
    const char *weights;     /* distill_weights= (a YAML teacher's weights), NULL or "" for none */
    const char *precision;   /* distill_precision= "fp32" (NULL, ""), "bf16" or "int8" */
    double dis;              /* dis= */
    int formula;             /* YAML teacher and projectors with the reference's formula weights */
    uint64_t seed;           /* projector initialisation */
    char *const *names;      /* the dataset's class names (nc of them), may be NULL */
    int nc;
    cy_backend_kind backend;
} cy_distill_setup;

/* log (may be NULL) receives the teacher line and warnings. */
cy_status cy_distill_setup_create(const cy_distill_setup *s, const cy_model *student, FILE *log, cy_distill **out,
                                  cy_error *err);

#endif
