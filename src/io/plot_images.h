/* Ultralytics' plot_images (train_batchN.jpg, val_batchN_labels.jpg,
 * val_batchN_pred.jpg): the first 16 images of a batch in a ceil(sqrt(n))
 * square grid, filled column by column, scaled down so the grid is at most
 * 1920 px a side, each cell with a white border, its file name and its
 * boxes labelled by class name (and confidence for predictions, drawn from
 * conf > 0.25), and with cy_plot_images_masks their instance masks
 * (io/plot_masks.h). */
#ifndef CY_IO_PLOT_IMAGES_H
#define CY_IO_PLOT_IMAGES_H
#include "core/status.h"
#include "io/plot_masks.h"

typedef struct {
    int img, cls;
    float cx, cy, w, h; /* normalised to the image */
    float conf;         /* < 0: a label (no confidence) */
} cy_plot_box;

/* x: [n][3][h][w] RGB in [0, 1]. paths (may be NULL): n file names; names
 * (may be NULL): nc class names. */
cy_status cy_plot_images(const float *x, int n, int h, int w, const cy_plot_box *boxes, int nboxes,
                         const char *const *paths, char *const *names, int nc, const char *path, cy_error *err);
/* The same with instance masks (NULL: none, cy_plot_images' pixels),
 * whose rows follow `boxes` (io/plot_masks.h): train_batchN.jpg and
 * val_batchN_labels.jpg from the loader's masks, val_batchN_pred.jpg from
 * per-detection masks at the batch's image size (overlap = 0). */
cy_status cy_plot_images_masks(const float *x, int n, int h, int w, const cy_plot_box *boxes, int nboxes,
                               const cy_plot_masks *masks, const char *const *paths, char *const *names, int nc,
                               const char *path, cy_error *err);
/* The grid's pixel size for n images of h x w. */
void cy_plot_images_size(int n, int h, int w, int *out_w, int *out_h);

#endif
