/* confusion_matrix.png / confusion_matrix_normalized.png as Ultralytics'
 * ConfusionMatrix.plot draws them (3000 x 2250: 12 x 9 inches at 250 dpi):
 * rows predicted, columns true, the last of each "background"; normalised,
 * each column divided by its sum (+1e-9); cells below 0.005 left blank;
 * "Blues" colour map; values written in the cells below 30 classes. */
#ifndef CY_IO_PLOT_CONFUSION_H
#define CY_IO_PLOT_CONFUSION_H
#include <stdint.h>
#include "core/status.h"

#define CY_PLOT_CONFUSION_W 3000
#define CY_PLOT_CONFUSION_H 2250

/* matrix [(nc + 1) * (nc + 1)]; names [nc] (may be NULL). */
cy_status cy_plot_confusion(const int64_t *matrix, int nc, char *const *names, int normalize, const char *path,
                            cy_error *err);

#endif
