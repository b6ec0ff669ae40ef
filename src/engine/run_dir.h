/* The output folder of a run and its results.csv, as Ultralytics lays them
 * out: runs/<task>/<name>, name defaulting to the mode, "train2", "train3",
 * ... when taken (unless exist_ok). */
#ifndef CY_ENGINE_RUN_DIR_H
#define CY_ENGINE_RUN_DIR_H
#include "core/status.h"

/* project NULL/"" → "runs/<task>"; name NULL/"" → mode. Creates the folder
 * and writes its path to out. */
cy_status cy_run_dir(const char *project, const char *task, const char *name, const char *mode, int exist_ok,
                     char *out, size_t cap, cy_error *err);

/* Appends one row to <dir>/results.csv, writing the header first when the
 * file is new: epoch (1-based), time (s), then the named values, each
 * "%.6g" as Ultralytics' save_metrics does. */
cy_status cy_results_csv_append(const char *dir, int epoch, double time_s, const char *const *names,
                                const double *values, int n, cy_error *err);

#endif
