/* The images a detect training run writes when plots=True (Ultralytics'
 * DetectionTrainer.plot_training_labels / plot_training_samples):
 * labels.jpg before the first epoch, and train_batch<ni>.jpg for the
 * iterations in plot_idx: 0, 1, 2 and, with close_mosaic, the first three
 * iterations after mosaic closes. */
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

#endif
