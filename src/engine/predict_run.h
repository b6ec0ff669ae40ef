/* `cyolo predict model=... source=...`: detections on images (a file, a
 * folder, or a .txt list), printed per image, drawn on copies of the images
 * (cairo) under runs/<task>/predict*, and with save_txt written as YOLO
 * label lines (cls cx cy w h [conf], normalised to the original image).
 * Segment models also get their masks (blended under the boxes) and
 * save_txt writes polygons (cls x1 y1 ... [conf]), see predict_run_masks.h. */
#ifndef CY_ENGINE_PREDICT_RUN_H
#define CY_ENGINE_PREDICT_RUN_H
#include <stdio.h>
#include "engine/args.h"

cy_status cy_predict_run(const cy_args *args, FILE *log, char *save_dir, size_t cap, cy_error *err);

#endif
