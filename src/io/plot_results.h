/* results.png: the results.csv of a run as Ultralytics' plot_results draws
 * it, a 2 x 5 grid of the loss and metric columns against the epoch. */
#ifndef CY_IO_PLOT_RESULTS_H
#define CY_IO_PLOT_RESULTS_H
#include "core/status.h"

cy_status cy_plot_results(const char *csv_path, const char *png_path, cy_error *err);

#endif
