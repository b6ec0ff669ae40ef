/* The validator's curves as Ultralytics' plot_pr_curve / plot_mc_curve
 * draw them (2250 x 1500: a 9 x 6 inch figure at 250 dpi): one thin line
 * per class (coloured with a legend below 21 classes, grey otherwise) and
 * a thick blue line for all classes — the mean precision with its mAP@0.5
 * (BoxPR_curve.png), or the mean metric smoothed by a 0.1 box filter with
 * its maximum and where it is reached (BoxF1/P/R_curve.png). */
#ifndef CY_IO_PLOT_CURVES_H
#define CY_IO_PLOT_CURVES_H
#include "core/status.h"

#define CY_PLOT_CURVE_W 2250
#define CY_PLOT_CURVE_H 1500

/* px [npx]; py [ncls][npx]; ap50 [ncls]; names [ncls] (may be NULL). */
cy_status cy_plot_pr_curve(const double *px, const double *py, int npx, int ncls, const double *ap50,
                           const char *const *names, const char *path, cy_error *err);
cy_status cy_plot_mc_curve(const double *px, const double *py, int npx, int ncls, const char *const *names,
                           const char *xlabel, const char *ylabel, const char *path, cy_error *err);

/* Ultralytics' smooth(y, f): a box filter of round(n f 2) // 2 + 1 taps,
 * the ends padded with the first and last values. out has n values. */
void cy_smooth(const double *y, int n, double f, double *out);

#endif
