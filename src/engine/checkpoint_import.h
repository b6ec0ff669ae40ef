/* What a .pt checkpoint says about its model, whichever program wrote it:
 * cyolo's own (plain data: a YAML copy and state_dicts) or Ultralytics'
 * (a pickled DetectionModel, read as inert objects: its `yaml` dict, its
 * module tree's state_dict, names, stride). The loaders in checkpoint.c
 * build the model from this. */
#ifndef CY_ENGINE_CHECKPOINT_IMPORT_H
#define CY_ENGINE_CHECKPOINT_IMPORT_H
#include "io/pt_value.h"

typedef struct {
    cy_pt_value *root;        /* the whole checkpoint */
    int own_root;             /* close frees root */
    int ultralytics;          /* 1 when written by Ultralytics */
    char *yaml_text;          /* model YAML (malloc'd) */
    char name[64];            /* "yolo26n": from the YAML file name */
    char scale;               /* scale letter, 0 when none */
    int nc;                   /* 0 when the checkpoint does not say */
    const cy_pt_value *weights; /* state_dict: name -> tensor */
    cy_pt_value *own_weights; /* the Ultralytics state_dict, collected here */
    const cy_pt_value *names; /* class id -> name dict, or NULL */
    int nstride;
    double stride[8];         /* Ultralytics: model.stride (0 entries when absent) */
    /* Ultralytics: each SPPF's cv1 activation as pickled (releases differ
     * on it for YOLOv8/11 rows; the weights were trained with that one) */
    int nsppf;
    int sppf_layer[8], sppf_silu[8];
} cy_ckpt_model;

/* Reads path and finds its model: with use_ema the EMA weights when there
 * are any (what inference uses), else the raw model weights. Errors name
 * path and the problem: not a zip, no data.pkl, a refused global, a missing
 * storage record, a model class, task or module cyolo does not support. */
cy_status cy_ckpt_model_open(const char *path, int use_ema, cy_ckpt_model *out, cy_error *err);
void cy_ckpt_model_close(cy_ckpt_model *c);

/* The same for a checkpoint already in memory (root is borrowed: close
 * does not free it). For the fuzz harness and tests. */
cy_status cy_ckpt_model_from_root(const char *path, cy_pt_value *root, int use_ema, cy_ckpt_model *out,
                                  cy_error *err);

#endif
