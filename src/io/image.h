/* Images in memory and on disk. Decoding JPEG (libjpeg-turbo, EXIF
 * orientation applied), PNG (libpng) and BMP; encoding JPEG and PNG. The
 * format is taken from the file's magic bytes, not its name. */
#ifndef CY_IO_IMAGE_H
#define CY_IO_IMAGE_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* ---- additions (beyond the original API) ----------------------------- */

/* The size limits every decoder enforces: sides up to 65535, at most 2^28
 * pixels. Larger images are refused with CY_ERR_UNSUPPORTED. */
#define CY_IMAGE_MAX_SIDE 65535
#define CY_IMAGE_MAX_PIXELS (1LL << 28)

/* Decodes an in-memory file, as cy_image_read does a file on disk; `name`
 * only labels the error messages. */
cy_status cy_image_decode(const char *name, const void *data, size_t len,
                          cy_image *im, cy_error *err);

/* Rearranges im in place by an EXIF orientation 1..8, as PIL's
 * ImageOps.exif_transpose (6 = rotate 90 degrees clockwise, 8 = counter-
 * clockwise; 5..8 swap h and w). Other values leave im unchanged. */
cy_status cy_image_orient(cy_image *im, int orientation, cy_error *err);

/* ---- per-format pieces, used by image.c (errors name `name`) ---------- */

/* CY_OK when h x w is within the limits above, else the error. */
cy_status cy_image_check_size(const char *name, long long h, long long w, cy_error *err);

/* JPEG: corrupt or truncated data is an error (CY_ERR_FORMAT), not a grey
 * patch; harmless libjpeg warnings (extraneous bytes, unknown JFIF revision)
 * are ignored. Grayscale and CMYK/YCCK come out as RGB. */
cy_status cy_image_decode_jpeg(const char *name, const uint8_t *data, size_t len,
                               cy_image *im, cy_error *err);
/* Reads only the header (and EXIF orientation) from fp. */
cy_status cy_image_probe_jpeg(const char *name, FILE *fp, int *h, int *w, cy_error *err);

/* PNG: gray, gray+alpha, palette, 16-bit, RGBA -> RGB (alpha dropped, 16-bit
 * truncated to its high byte, as OpenCV and PIL's convert('RGB') do). */
cy_status cy_image_decode_png(const char *name, const uint8_t *data, size_t len,
                              cy_image *im, cy_error *err);
/* `head` holds at least the first 33 bytes of the file. */
cy_status cy_image_probe_png(const char *name, const uint8_t *head, size_t len,
                             int *h, int *w, cy_error *err);

/* BMP: uncompressed 24/32-bit (bottom-up or top-down) and 8-bit paletted;
 * anything else is CY_ERR_UNSUPPORTED. `file_len` is the file's full size
 * (the header's sizes are checked against it); `data` holds `len` bytes of
 * it (probe passes only the header). */
cy_status cy_image_decode_bmp(const char *name, const uint8_t *data, size_t len,
                              cy_image *im, cy_error *err);
cy_status cy_image_probe_bmp(const char *name, const uint8_t *head, size_t len,
                             size_t file_len, int *h, int *w, cy_error *err);

#endif
