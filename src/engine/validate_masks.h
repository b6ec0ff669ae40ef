/* Gt masks for validation when the loader gives none (see validate_masks.c). */
#ifndef CY_ENGINE_VALIDATE_MASKS_H
#define CY_ENGINE_VALIDATE_MASKS_H
#include "data/loader.h"

/* Fills b->masks (overlap = 0, (h / 4, w / 4), in *buf, grown with
 * realloc; the caller frees it) from the records' polygons. Rows of image
 * i must be its record's labels in order, one polygon each. */
cy_status cy_val_masks_from_records(cy_batch *b, const cy_split *split, uint8_t **buf, cy_error *err);

#endif
