/* Starting a training from weights (Ultralytics' BaseTrainer.setup_model
 * and Model.load):
 *  - model=<x.yaml> pretrained=<w.pt>: a fresh model from the YAML, then
 *    every state_dict item of w.pt (its EMA weights when it has them) whose
 *    name and shape match is copied in (intersect_dicts);
 *  - model=<x.pt> (no resume): the model is rebuilt from the checkpoint's
 *    own YAML with the dataset's class count, and its weights transferred
 *    the same way (pretrained= is then not read).
 * Both log "Transferred N/M items from pretrained weights". */
#ifndef CY_ENGINE_PRETRAINED_H
#define CY_ENGINE_PRETRAINED_H
#include <stdio.h>
#include "model/model.h"

/* Copies src's items into dst where name and shape agree; model.0.conv.weight
 * with another channel count but the same kernel gets its overlapping block
 * (Model.load's multi-channel rule). *transferred counts the items. */
void cy_model_transfer(cy_model *dst, const cy_model *src, int *transferred);

/* The training model and its validation twin for model_arg (a YAML or a .pt)
 * and pretrained ("" / "True" / "False", or a .pt path). log may be NULL. */
cy_status cy_train_models_create(const char *model_arg, const char *pretrained, const cy_model_params *mp,
                                 FILE *log, cy_model **train, cy_model **val, cy_error *err);

#endif
