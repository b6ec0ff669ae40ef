/* The built-in dataset: a deterministic synthetic detection set, generated
 * on first use so that `cyolo train` works with no download. Filled shapes
 * (one class per shape) of varied size, colour, rotation and overlap on
 * textured backgrounds, written as JPEG images + YOLO txt labels + a dataset
 * YAML in Ultralytics' layout:
 *   <root>/images/{train,val}/NNNNNN.jpg, <root>/labels/{train,val}/NNNNNN.txt,
 *   <root>/synth.yaml */
#ifndef CY_DATA_SYNTH_H
#define CY_DATA_SYNTH_H
#include <stdint.h>
#include "core/status.h"

#define CY_SYNTH_CLASSES 6

typedef struct {
    int n_train, n_val;     /* 320, 80 */
    int imgsz;              /* 320 */
    int max_objects;        /* per image, 1..max: 6 */
    uint64_t seed;          /* 0 */
} cy_synth_params;

cy_synth_params cy_synth_default_params(void);

/* The class names, in class-id order. */
extern const char *const cy_synth_names[CY_SYNTH_CLASSES];

/* Writes the dataset under root (created). An existing complete dataset with
 * the same parameters (recorded in <root>/synth.yaml) is left as it is. */
cy_status cy_synth_generate(const char *root, const cy_synth_params *p, cy_error *err);

#endif
