/* Training checkpoints (last.pt, best.pt, epochN.pt): a PyTorch .pt file of
 * plain data only, so torch.load(path, weights_only=True) reads it:
 *   epoch, best_fitness, model (state_dict, Ultralytics names), ema
 *   (state_dict) and updates, optimizer {name, lr and momentum per group,
 *   state tensors}, yaml {file, text, scale, nc}, names {id: name},
 *   train_args {key: value}, train_results (results.csv text), date,
 *   version. Written atomically. */
#ifndef CY_ENGINE_CHECKPOINT_H
#define CY_ENGINE_CHECKPOINT_H
#include "engine/args.h"
#include "engine/optim.h"
#include "model/distill.h"
#include "model/model.h"

typedef struct {
    const cy_model *model;
    const cy_ema *ema;         /* may be NULL */
    cy_optim *opt;             /* may be NULL */
    int epoch;                 /* 0-based epoch just finished */
    double best_fitness;
    const cy_args *args;       /* may be NULL */
    char *const *names;        /* nc class names, may be NULL */
    int nc;
    const char *results_csv;   /* path of results.csv, may be NULL */
    int pending;               /* batches whose gradients are accumulated, not yet stepped */
    const cy_distill *distill; /* may be NULL: the projectors ("projector", as Ultralytics names them) */
    cy_optim *distill_opt;     /* their optimizer state ("projector_optimizer") */
} cy_checkpoint;

cy_status cy_checkpoint_save(const char *path, const cy_checkpoint *c, cy_error *err);

/* A path that names a checkpoint (ends in ".pt") rather than a model YAML. */
int cy_is_checkpoint_path(const char *path);

/* Resume: loads a checkpoint's raw model weights into m, the optimizer
 * state into opt, the EMA weights and updates into ema, and the gradients
 * of a partly accumulated step into m->grads; returns the finished epoch,
 * best fitness and pending batch count. m, opt and ema must be built for
 * the checkpoint's model. */
cy_status cy_checkpoint_resume(const char *path, cy_model *m, cy_optim *opt, cy_ema *ema, int *epoch,
                               double *best_fitness, int *pending, cy_error *err);
/* Resume of a distillation run: the projectors, their optimizer state and
 * (pending > 0) their accumulated gradients. *found = 0 when the checkpoint
 * has no projectors (d is left as it is). */
cy_status cy_checkpoint_resume_distill(const char *path, cy_distill *d, cy_optim *opt, int pending, int *found,
                                       cy_error *err);
/* The train_args of a checkpoint applied to args (resume). */
cy_status cy_checkpoint_load_args(const char *path, cy_args *args, cy_error *err);

/* nc class names: a checkpoint's names, else class0, class1, ... (malloc'd
 * array of malloc'd strings). */
cy_status cy_checkpoint_load_names(const char *model_path, int nc, char ***out, cy_error *err);

/* The model a checkpoint holds, cyolo's or Ultralytics' (a pickled
 * DetectionModel, read without running anything): built from the
 * checkpoint's YAML and nc, every tensor loaded (fp16/bf16/f64 to fp32),
 * shapes checked; with use_ema the EMA weights when present. */
cy_status cy_checkpoint_load_model(const char *path, const cy_model_params *p, int use_ema, cy_model **out,
                                   cy_error *err);

/* The model a checkpoint's YAML describes (cyolo's or Ultralytics'), built
 * with p and p->nc when > 0 (e.g. the dataset's), else the checkpoint's nc;
 * weights as p->init makes them (training from x.pt then transfers what fits
 * from cy_checkpoint_load_model). */
cy_status cy_checkpoint_create_model(const char *path, const cy_model_params *p, cy_model **out, cy_error *err);

#endif
