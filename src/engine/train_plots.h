/* The images a detect training run writes when plots=True (Ultralytics'
 * DetectionTrainer.plot_training_labels / plot_training_samples):
 * labels.jpg before the first epoch, and train_batch<ni>.jpg for the
 * iterations in plot_idx: 0, 1, 2 and, with close_mosaic, the first three
 * iterations after mosaic closes. The validator's batch images too. */
#ifndef CY_ENGINE_TRAIN_PLOTS_H
#define CY_ENGINE_TRAIN_PLOTS_H
#include <stdint.h>
#include "data/dataset.h"
#include "data/loader.h"

/* <dir>/labels.jpg from every label of the split. */
cy_status cy_train_plot_labels(const cy_split *split, char *const *names, int nc, const char *dir, cy_error *err);

/* 1 when global iteration ni is one Ultralytics plots (nb batches an epoch). */
int cy_train_plot_iteration(int64_t ni, int nb, int epochs, int close_mosaic);

/* <dir>/<stem>.jpg: the batch (what the model sees) with its targets. */
cy_status cy_plot_batch_labels(const cy_batch *b, const cy_split *split, char *const *names, int nc,
                               const char *dir, const char *stem, cy_error *err);

/* <dir>/<stem>.jpg: the batch with predictions, rows (x1, y1, x2, y2, conf,
 * cls) in the batch's pixels, counts[i] of them for image i at
 * dets + i * stride * 6 (Ultralytics' plot_predictions). */
cy_status cy_plot_batch_preds(const cy_batch *b, const cy_split *split, const float *dets, const int *counts,
                              int stride, char *const *names, int nc, const char *dir, const char *stem,
                              cy_error *err);

#endif
