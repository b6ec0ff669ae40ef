/* A checkpoint Ultralytics itself loads (YOLO("x.pt"), yolo val/predict/
 * export): the model a cyolo or Ultralytics checkpoint holds (its EMA
 * weights when there are any; the student alone for a distillation run),
 * written as the pickled module tree Ultralytics' load_checkpoint wants:
 * ema = a DetectionModel / SegmentationModel of the real Ultralytics and
 * torch classes in fp16 (see engine/ul_module_tree.h), in a checkpoint dict
 * laid out as Ultralytics' save_model writes it (date, version, license,
 * docs, epoch, best_fitness, model None, ema, updates, optimizer None,
 * train_args, train_metrics, train_results).
 *
 * cyolo's own checkpoints stay plain data; this one is for Ultralytics'
 * tools (cyolo reads it back too: cy_checkpoint_load_model gives the same
 * weights, rounded to fp16). Written atomically (temporary file + rename):
 * on any error out_path is untouched and no partial file is left. Errors
 * name the file at fault. */
#ifndef CY_ENGINE_EXPORT_ULTRALYTICS_H
#define CY_ENGINE_EXPORT_ULTRALYTICS_H
#include "cyolo.h"

cy_status cy_export_ultralytics_pt(const char *checkpoint, const char *out_path, cy_error *err);

#endif
