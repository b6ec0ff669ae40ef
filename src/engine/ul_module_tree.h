/* The torch.nn.Module tree Ultralytics pickles for a model (a DetectionModel
 * or SegmentationModel over an nn.Sequential of its real module classes),
 * as inert objects of the value tree, made from a cy_model's layer table.
 * Each object's state is the __dict__ torch and Ultralytics give it
 * (training, _parameters with fp16 Parameters, _buffers, the hook dicts,
 * _modules, then the class's own attributes in __init__ order, parse_model's
 * np/i/f/type, and what training and validation leave on a model: nc, args,
 * criterion, the head's max_det, _end2end and anchor cache), in eval mode
 * and fp16 as Ultralytics' save_model writes its EMA.
 *
 * Every state entry of the model is placed exactly once, in state_dict
 * order, so the tree's state_dict is the model's (checked while building). */
#ifndef CY_ENGINE_UL_MODULE_TREE_H
#define CY_ENGINE_UL_MODULE_TREE_H
#include "io/pt_value.h"
#include "model/model.h"

typedef struct {
    cy_pt_value *yaml;       /* the model's yaml dict (moved into the tree on success) */
    cy_pt_value *names;      /* {id: name} (moved) */
    cy_pt_value *args;       /* train_args dict (moved), or NULL for {} */
    int imgsz;               /* the square input the head's anchor cache is for (0: none) */
    int max_det;             /* the head's max_det (300) */
} cy_ul_tree_meta;

/* *out: the model object. On failure the meta values not yet moved are
 * still the caller's (each pointer left non-NULL is). */
cy_status cy_ul_module_tree(const cy_model *m, cy_ul_tree_meta *meta, cy_pt_value **out, cy_error *err);

#endif
