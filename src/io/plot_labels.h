/* labels.jpg, as Ultralytics' plot_labels draws the training labels
 * (1600 x 1600: its 8 x 8 inch figure at 200 dpi), four panels: instances
 * per class (palette colours, counts on the bars, class names when there
 * are fewer than 30), the first 500 boxes drawn centred on a 1000 x 1000
 * canvas (their sizes), and two 50 x 50-bin histograms, white to blue, of
 * the box centres (x, y) and sizes (width, height). */
#ifndef CY_IO_PLOT_LABELS_H
#define CY_IO_PLOT_LABELS_H
#include <stdint.h>
#include "core/status.h"

#define CY_PLOT_LABELS_SIZE 1600

/* cls [n], xywh [n][4] normalised centre and size. names may be NULL. */
cy_status cy_plot_labels(const int *cls, const float *xywh, int64_t n, char *const *names, int nnames,
                         const char *path, cy_error *err);

#endif
