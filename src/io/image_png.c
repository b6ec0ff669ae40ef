/* PNG through libpng. Errors come back through a per-call error function
 * that records libpng's message and longjmps, so nothing prints or exits. */
#include "io/image.h"
#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <png.h>

typedef struct {
    jmp_buf jb;
    char msg[256];
    int truncated;
    const uint8_t *data; /* reading: the file in memory */
    size_t len, pos;
    uint8_t *pixels;     /* reading: h*w*channels, owned until handed over */
    png_bytep *rows;
} png_ctx;

static void png_on_error(png_structp png, png_const_charp msg) {
    png_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    longjmp(c->jb, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

static void png_read_mem(png_structp png, png_bytep out, size_t n) {
    png_ctx *c = png_get_io_ptr(png);
    if (n > c->len - c->pos) {
        c->truncated = 1;
        png_error(png, "unexpected end of file");
    }
    memcpy(out, c->data + c->pos, n);
    c->pos += n;
}

static cy_status png_fail(const char *name, const png_ctx *c, cy_error *err) {
    return cy_fail(err, CY_ERR_FORMAT, "%s: %s PNG data: %s", name,
                   c->truncated ? "truncated" : "corrupt", c->msg);
}

/* Everything that can longjmp; png, info and c belong to the caller. */
static cy_status decode_run(const char *name, png_structp png, png_infop info, png_ctx *c,
                            cy_image *out, cy_error *err) {
    if (setjmp(c->jb)) return png_fail(name, c, err);
    png_set_read_fn(png, c, png_read_mem);
    png_read_info(png, info);
    png_uint_32 w, h;
    int depth, ctype, interlace;
    png_get_IHDR(png, info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
    CY_TRY(cy_image_check_size(name, h, w, err));
    /* To 8-bit RGB(A): palette expanded, low-depth gray widened, 16 bits
     * truncated to the high byte (OpenCV's and PIL's RGB conversion), gray
     * copied to three channels. A 4th channel (alpha, from the file or
     * from tRNS) is dropped below, as convert('RGB') drops it. */
    if (ctype == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) png_set_strip_16(png);
    if (ctype == PNG_COLOR_TYPE_GRAY || ctype == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    const int ch = png_get_channels(png, info);
    const size_t rowbytes = png_get_rowbytes(png, info);
    if ((ch != 3 && ch != 4) || png_get_bit_depth(png, info) != 8 || rowbytes != (size_t)w * ch)
        return cy_fail(err, CY_ERR_UNSUPPORTED, "%s: PNG layout not supported (%d channels)", name, ch);
    c->pixels = malloc((size_t)h * rowbytes);
    c->rows = malloc(sizeof *c->rows * h);
    if (!c->pixels || !c->rows)
        return cy_fail(err, CY_ERR_MEMORY, "%s: out of memory for a %ux%u image", name, w, h);
    for (png_uint_32 y = 0; y < h; y++) c->rows[y] = c->pixels + (size_t)y * rowbytes;
    png_read_image(png, c->rows);
    /* Trailing chunks after the pixels are not read: an image whose IEND
     * is missing still has all its pixels. */
    if (ch == 4) { /* drop alpha in place, front to back */
        const size_t n = (size_t)w * h;
        uint8_t *d = c->pixels;
        for (size_t i = 0; i < n; i++, d += 3) {
            const uint8_t *s = c->pixels + 4 * i;
            d[0] = s[0];
            d[1] = s[1];
            d[2] = s[2];
        }
        uint8_t *p = realloc(c->pixels, n * 3);
        if (p) c->pixels = p;
    }
    out->data = c->pixels;
    c->pixels = NULL;
    out->h = (int)h;
    out->w = (int)w;
    out->c = 3;
    return CY_OK;
}

cy_status cy_image_decode_png(const char *name, const uint8_t *data, size_t len,
                              cy_image *im, cy_error *err) {
    memset(im, 0, sizeof *im);
    png_ctx c;
    memset(&c, 0, sizeof c);
    c.data = data;
    c.len = len;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &c, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return cy_fail(err, CY_ERR_MEMORY, "%s: out of memory starting libpng", name);
    }
    cy_status st = decode_run(name, png, info, &c, im, err);
    png_destroy_read_struct(&png, &info, NULL);
    free(c.pixels);
    free(c.rows);
    if (st != CY_OK) memset(im, 0, sizeof *im);
    return st;
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* IHDR always comes first: signature (8), length (4), "IHDR", width,
 * height, depth, colour type, ... */
cy_status cy_image_probe_png(const char *name, const uint8_t *head, size_t len,
                             int *h, int *w, cy_error *err) {
    *h = *w = 0;
    if (len < 33) return cy_fail(err, CY_ERR_FORMAT, "%s: truncated PNG data: no IHDR", name);
    if (be32(head + 8) != 13 || memcmp(head + 12, "IHDR", 4) != 0)
        return cy_fail(err, CY_ERR_FORMAT, "%s: corrupt PNG data: IHDR missing", name);
    uint32_t pw = be32(head + 16), ph = be32(head + 20);
    int depth = head[24], ctype = head[25];
    int ok;
    switch (ctype) {
    case 0: ok = depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16; break;
    case 3: ok = depth == 1 || depth == 2 || depth == 4 || depth == 8; break;
    case 2: case 4: case 6: ok = depth == 8 || depth == 16; break;
    default: ok = 0;
    }
    if (!ok)
        return cy_fail(err, CY_ERR_FORMAT, "%s: corrupt PNG data: invalid bit depth %d for colour type %d",
                       name, depth, ctype);
    CY_TRY(cy_image_check_size(name, ph, pw, err));
    *h = (int)ph;
    *w = (int)pw;
    return CY_OK;
}

static cy_status write_run(const char *path, const cy_image *im, FILE *fp, png_structp png,
                           png_infop info, png_ctx *c, cy_error *err) {
    if (setjmp(c->jb)) return cy_fail(err, CY_ERR_IO, "%s: cannot write PNG: %s", path, c->msg);
    png_init_io(png, fp);
    static const int types[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    png_set_IHDR(png, info, (png_uint_32)im->w, (png_uint_32)im->h, 8, types[im->c],
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    const size_t stride = (size_t)im->w * im->c;
    for (int y = 0; y < im->h; y++) png_write_row(png, im->data + (size_t)y * stride);
    png_write_end(png, NULL);
    return CY_OK;
}

cy_status cy_image_write_png(const char *path, const cy_image *im, cy_error *err) {
    if (!im || !im->data || im->c < 1 || im->c > 4 || im->h <= 0 || im->w <= 0 ||
        im->h > CY_IMAGE_MAX_SIDE || im->w > CY_IMAGE_MAX_SIDE)
        return cy_fail(err, CY_ERR_ARG, "%s: cannot write PNG: need a 1- to 4-channel image "
                       "with sides 1..%d", path, CY_IMAGE_MAX_SIDE);
    png_ctx c;
    memset(&c, 0, sizeof c);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &c, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return cy_fail(err, CY_ERR_MEMORY, "%s: out of memory starting libpng", path);
    }
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        png_destroy_write_struct(&png, &info);
        return cy_fail(err, CY_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    }
    cy_status st = write_run(path, im, fp, png, info, &c, err);
    png_destroy_write_struct(&png, &info);
    int bad = ferror(fp);
    if ((fclose(fp) != 0 || bad) && st == CY_OK)
        st = cy_fail(err, CY_ERR_IO, "%s: write error: %s", path, strerror(errno));
    if (st != CY_OK) remove(path);
    return st;
}
