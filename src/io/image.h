/* Images in memory and on disk. Decoding JPEG (libjpeg-turbo, EXIF
 * orientation applied), PNG (libpng) and BMP; encoding JPEG and PNG. The
 * format is taken from the file's magic bytes, not its name. */
#ifndef CY_IO_IMAGE_H
#define CY_IO_IMAGE_H
#include <stdint.h>
#include "core/status.h"

/* 8-bit interleaved pixels, row-major: data[(y * w + x) * c + k], c = 3 (RGB)
 * for everything cyolo decodes. One malloc'd buffer; free with
 * cy_image_free. */
typedef struct {
    uint8_t *data;
    int h, w, c;
} cy_image;

cy_status cy_image_alloc(cy_image *im, int h, int w, int c, cy_error *err);
void cy_image_free(cy_image *im);

/* Decodes any supported file to RGB (gray, palette, 16-bit and alpha
 * converted; EXIF orientation of JPEGs applied, as PIL's exif_transpose).
 * Errors name the file: missing, empty, unknown format, truncated, corrupt,
 * too large (> 2^28 pixels). */
cy_status cy_image_read(const char *path, cy_image *im, cy_error *err);

/* Width and height after EXIF orientation, without decoding the pixels
 * (dataset checks); same errors as cy_image_read for an unreadable header. */
cy_status cy_image_probe(const char *path, int *h, int *w, cy_error *err);

/* quality 1..100 (95 is a good default). */
cy_status cy_image_write_jpeg(const char *path, const cy_image *im, int quality, cy_error *err);
cy_status cy_image_write_png(const char *path, const cy_image *im, cy_error *err);

#endif
