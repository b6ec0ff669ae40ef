/* `cyolo train`: Ultralytics' detection training loop on CPU. Reads the run
 * arguments (engine/args.h), builds the model and the dataset (the built-in
 * synthetic set when data= is empty or "synth.yaml"), trains with warmup,
 * gradient accumulation, the LR schedule, close_mosaic and the EMA,
 * validates the EMA weights every epoch and writes runs/detect/<name>/
 * (args.yaml, results.csv). */
#ifndef CY_ENGINE_TRAINER_H
#define CY_ENGINE_TRAINER_H
#include <stdio.h>
#include "engine/args.h"
#include "engine/builtin_data.h"

/* log: progress lines (stdout). save_dir (may be NULL) receives the run folder. */
cy_status cy_train_run(const cy_args *args, FILE *log, char *save_dir, size_t save_dir_cap, cy_error *err);

/* The dataset YAML a data= argument means for task=detect:
 * cy_resolve_data_task(data, "detect", ...) (engine/builtin_data.h). */
cy_status cy_resolve_data(const char *data, char *out, size_t cap, cy_error *err);

#endif
