/* Image buffers, format detection by magic bytes, and the read/probe entry
 * points; the codecs live in image_jpeg.c, image_png.c and image_bmp.c. */
#include "io/image.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A file this large is not an image cyolo will decode (the largest legal one,
 * a 32-bit BMP at the pixel limit, is 1 GiB). */
#define CY_IMAGE_MAX_FILE ((size_t)1 << 31)

cy_status cy_image_check_size(const char *name, long long h, long long w, cy_error *err) {
    if (h <= 0 || w <= 0)
        return cy_fail(err, CY_ERR_FORMAT, "%s: invalid image size %lldx%lld", name, w, h);
    if (h > CY_IMAGE_MAX_SIDE || w > CY_IMAGE_MAX_SIDE || h * w > CY_IMAGE_MAX_PIXELS)
        return cy_fail(err, CY_ERR_UNSUPPORTED,
                       "%s: image too large (%lldx%lld; the limit is %d pixels a side and "
                       "2^28 pixels in all)", name, w, h, CY_IMAGE_MAX_SIDE);
    return CY_OK;
}

cy_status cy_image_alloc(cy_image *im, int h, int w, int c, cy_error *err) {
    memset(im, 0, sizeof *im);
    if (h <= 0 || w <= 0 || c <= 0 || c > 4)
        return cy_fail(err, CY_ERR_ARG, "cy_image_alloc: invalid shape %dx%dx%d", h, w, c);
    CY_TRY(cy_image_check_size("cy_image_alloc", h, w, err));
    size_t n = (size_t)h * (size_t)w * (size_t)c;
    im->data = malloc(n);
    if (!im->data)
        return cy_fail(err, CY_ERR_MEMORY, "cy_image_alloc: out of memory for %dx%dx%d", h, w, c);
    im->h = h;
    im->w = w;
    im->c = c;
    return CY_OK;
}

void cy_image_free(cy_image *im) {
    if (!im) return;
    free(im->data);
    memset(im, 0, sizeof *im);
}

typedef enum { FMT_UNKNOWN, FMT_JPEG, FMT_PNG, FMT_BMP } image_format;

static image_format detect(const uint8_t *p, size_t n) {
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return FMT_JPEG;
    if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) return FMT_PNG;
    if (n >= 2 && p[0] == 'B' && p[1] == 'M') return FMT_BMP;
    return FMT_UNKNOWN;
}

static cy_status unknown_format(const char *name, const uint8_t *p, size_t n, cy_error *err) {
    if (n >= 4 && (memcmp(p, "GIF8", 4) == 0 || memcmp(p, "RIFF", 4) == 0 ||
                   memcmp(p, "II*\0", 4) == 0 || memcmp(p, "MM\0*", 4) == 0))
        return cy_fail(err, CY_ERR_UNSUPPORTED,
                       "%s: image format not supported (only JPEG, PNG and BMP are)", name);
    return cy_fail(err, CY_ERR_FORMAT, "%s: not an image (unknown format)", name);
}

cy_status cy_image_decode(const char *name, const void *data, size_t len, cy_image *im,
                          cy_error *err) {
    memset(im, 0, sizeof *im);
    const uint8_t *p = data;
    if (len == 0) return cy_fail(err, CY_ERR_FORMAT, "%s: empty file", name);
    switch (detect(p, len)) {
    case FMT_JPEG: return cy_image_decode_jpeg(name, p, len, im, err);
    case FMT_PNG: return cy_image_decode_png(name, p, len, im, err);
    case FMT_BMP: return cy_image_decode_bmp(name, p, len, im, err);
    default: return unknown_format(name, p, len, err);
    }
}

/* Opens path and finds its size; the messages are those of every reader. */
static cy_status open_sized(const char *path, FILE **fp, size_t *size, cy_error *err) {
    *fp = fopen(path, "rb");
    if (!*fp) return cy_fail(err, CY_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(*fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(*fp);
        *fp = NULL;
        return cy_fail(err, CY_ERR_IO, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        fclose(*fp);
        *fp = NULL;
        return cy_fail(err, CY_ERR_FORMAT, "%s: empty file", path);
    }
    if ((unsigned long long)st.st_size > CY_IMAGE_MAX_FILE) {
        fclose(*fp);
        *fp = NULL;
        return cy_fail(err, CY_ERR_UNSUPPORTED, "%s: file too large for an image (%lld bytes)",
                       path, (long long)st.st_size);
    }
    *size = (size_t)st.st_size;
    return CY_OK;
}

cy_status cy_image_read(const char *path, cy_image *im, cy_error *err) {
    memset(im, 0, sizeof *im);
    FILE *fp;
    size_t size;
    CY_TRY(open_sized(path, &fp, &size, err));
    uint8_t *buf = malloc(size);
    if (!buf) {
        fclose(fp);
        return cy_fail(err, CY_ERR_MEMORY, "%s: out of memory reading %zu bytes", path, size);
    }
    size_t got = fread(buf, 1, size, fp);
    int rerr = ferror(fp);
    fclose(fp);
    cy_status st;
    if (rerr)
        st = cy_fail(err, CY_ERR_IO, "%s: read error", path);
    else
        st = cy_image_decode(path, buf, got, im, err);
    free(buf);
    return st;
}

cy_status cy_image_probe(const char *path, int *h, int *w, cy_error *err) {
    *h = *w = 0;
    FILE *fp;
    size_t size;
    CY_TRY(open_sized(path, &fp, &size, err));
    /* BMP and PNG keep their size in the first bytes; JPEG is read marker
     * by marker up to the frame header (EXIF comes before it). */
    uint8_t head[256];
    size_t n = fread(head, 1, sizeof head, fp);
    cy_status st;
    switch (detect(head, n)) {
    case FMT_JPEG:
        if (fseek(fp, 0, SEEK_SET) != 0) {
            st = cy_fail(err, CY_ERR_IO, "%s: cannot seek: %s", path, strerror(errno));
            break;
        }
        st = cy_image_probe_jpeg(path, fp, h, w, err);
        break;
    case FMT_PNG: st = cy_image_probe_png(path, head, n, h, w, err); break;
    case FMT_BMP: st = cy_image_probe_bmp(path, head, n, size, h, w, err); break;
    default: st = unknown_format(path, head, n, err); break;
    }
    fclose(fp);
    return st;
}

cy_status cy_image_orient(cy_image *im, int orientation, cy_error *err) {
    if (orientation < 2 || orientation > 8 || !im->data) return CY_OK;
    const int H = im->h, W = im->w, C = im->c;
    const int swap = orientation >= 5;
    const int Ho = swap ? W : H, Wo = swap ? H : W;
    uint8_t *out = malloc((size_t)H * W * C);
    if (!out) return cy_fail(err, CY_ERR_MEMORY, "out of memory applying EXIF orientation");
    for (int y = 0; y < Ho; y++) {
        uint8_t *o = out + (size_t)y * Wo * C;
        for (int x = 0; x < Wo; x++, o += C) {
            int sy, sx; /* the source pixel of output (y, x) */
            switch (orientation) {
            case 2: sy = y; sx = W - 1 - x; break;              /* mirror */
            case 3: sy = H - 1 - y; sx = W - 1 - x; break;      /* rotate 180 */
            case 4: sy = H - 1 - y; sx = x; break;              /* flip */
            case 5: sy = x; sx = y; break;                      /* transpose */
            case 6: sy = H - 1 - x; sx = y; break;              /* rotate 90 CW */
            case 7: sy = H - 1 - x; sx = W - 1 - y; break;      /* transverse */
            default: sy = x; sx = W - 1 - y; break;             /* 8: 90 CCW */
            }
            memcpy(o, im->data + ((size_t)sy * W + sx) * C, (size_t)C);
        }
    }
    free(im->data);
    im->data = out;
    im->h = Ho;
    im->w = Wo;
    return CY_OK;
}
