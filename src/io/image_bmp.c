/* BMP, by hand (no library in the dependency set reads it): uncompressed
 * 24- and 32-bit, bottom-up or top-down, and 8-bit paletted. Every size in
 * the header is checked against the file's length before anything is
 * allocated or read, so a hostile header cannot cause a huge allocation or
 * an out-of-bounds read. */
#include "io/image.h"
#include <stdlib.h>
#include <string.h>

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

typedef struct {
    int w, h, bpp, bottom_up;
    uint64_t pixel_off, stride;
    uint64_t pal_off;
    uint32_t ncolors;
} bmp_info;

/* Parses and validates the header; `head` holds `len` bytes of a file of
 * `file_len` bytes. */
static cy_status bmp_parse(const char *name, const uint8_t *head, size_t len, size_t file_len,
                           bmp_info *bi, cy_error *err) {
    memset(bi, 0, sizeof *bi);
    if (len < 18 || file_len < 18)
        return cy_fail(err, CY_ERR_FORMAT, "%s: truncated BMP data: incomplete header", name);
    const uint32_t hsize = le32(head + 14);
    if (hsize == 12 || hsize == 64)
        return cy_fail(err, CY_ERR_UNSUPPORTED, "%s: OS/2 BMP (header of %u bytes) is not supported",
                       name, hsize);
    if (hsize != 40 && hsize != 52 && hsize != 56 && hsize != 108 && hsize != 124)
        return cy_fail(err, CY_ERR_FORMAT, "%s: corrupt BMP data: unknown header size %u", name, hsize);
    if (len < 14 + (size_t)hsize || file_len < 14 + (size_t)hsize)
        return cy_fail(err, CY_ERR_FORMAT, "%s: truncated BMP data: incomplete header", name);
    const int32_t w = (int32_t)le32(head + 18), h = (int32_t)le32(head + 22);
    const int bpp = le16(head + 28);
    const uint32_t comp = le32(head + 30), clr_used = le32(head + 46);
    if (w <= 0 || h == 0 || h == INT32_MIN)
        return cy_fail(err, CY_ERR_FORMAT, "%s: corrupt BMP data: invalid size %dx%d", name, w, h);
    if (bpp != 8 && bpp != 24 && bpp != 32)
        return cy_fail(err, CY_ERR_UNSUPPORTED,
                       "%s: BMP with %d bits per pixel is not supported (only 8, 24 and 32)", name, bpp);
    uint64_t pal_off = 14 + (uint64_t)hsize;
    if (comp == 3 && bpp == 32) {
        /* BI_BITFIELDS: fine when the masks are the plain BGRX layout. */
        const uint64_t moff = 54; /* right after the 40-byte header, or inside a larger one */
        if (hsize == 40) pal_off += 12;
        if (file_len < moff + 12 || len < moff + 12)
            return cy_fail(err, CY_ERR_FORMAT, "%s: truncated BMP data: incomplete colour masks", name);
        if (le32(head + moff) != 0xFF0000u || le32(head + moff + 4) != 0xFF00u ||
            le32(head + moff + 8) != 0xFFu)
            return cy_fail(err, CY_ERR_UNSUPPORTED,
                           "%s: BMP with non-standard colour masks is not supported", name);
    } else if (comp != 0) {
        return cy_fail(err, CY_ERR_UNSUPPORTED,
                       "%s: compressed BMP (compression type %u) is not supported", name, comp);
    }
    const long long ah = h < 0 ? -(long long)h : h;
    CY_TRY(cy_image_check_size(name, ah, w, err));
    bi->w = w;
    bi->h = (int)ah;
    bi->bpp = bpp;
    bi->bottom_up = h > 0;
    bi->stride = ((uint64_t)w * bpp + 31) / 32 * 4;
    bi->pixel_off = le32(head + 10);
    if (bpp == 8) {
        if (clr_used > 256)
            return cy_fail(err, CY_ERR_FORMAT, "%s: corrupt BMP data: %u palette colours", name, clr_used);
        bi->ncolors = clr_used ? clr_used : 256;
        bi->pal_off = pal_off;
        if (pal_off + 4ull * bi->ncolors > file_len)
            return cy_fail(err, CY_ERR_FORMAT, "%s: truncated BMP data: palette past the end of the file",
                           name);
    }
    if (bi->pixel_off < 14 + (uint64_t)hsize)
        return cy_fail(err, CY_ERR_FORMAT, "%s: corrupt BMP data: pixel offset %llu inside the header",
                       name, (unsigned long long)bi->pixel_off);
    /* The last row need not carry its padding. */
    const uint64_t need = bi->pixel_off + bi->stride * (uint64_t)(bi->h - 1) +
                          ((uint64_t)w * bpp + 7) / 8;
    if (need > file_len)
        return cy_fail(err, CY_ERR_FORMAT,
                       "%s: truncated BMP data: a %dx%d image at %d bits needs %llu bytes, the file has %zu",
                       name, w, bi->h, bpp, (unsigned long long)need, file_len);
    return CY_OK;
}

cy_status cy_image_probe_bmp(const char *name, const uint8_t *head, size_t len,
                             size_t file_len, int *h, int *w, cy_error *err) {
    *h = *w = 0;
    bmp_info bi;
    CY_TRY(bmp_parse(name, head, len, file_len, &bi, err));
    *h = bi.h;
    *w = bi.w;
    return CY_OK;
}

cy_status cy_image_decode_bmp(const char *name, const uint8_t *data, size_t len,
                              cy_image *im, cy_error *err) {
    memset(im, 0, sizeof *im);
    bmp_info bi;
    CY_TRY(bmp_parse(name, data, len, len, &bi, err));
    uint8_t pal[256][3];
    memset(pal, 0, sizeof pal); /* indices past the palette read black */
    for (uint32_t i = 0; i < bi.ncolors; i++) {
        const uint8_t *q = data + bi.pal_off + 4 * i; /* B G R 0 */
        pal[i][0] = q[2];
        pal[i][1] = q[1];
        pal[i][2] = q[0];
    }
    cy_image out;
    if (cy_image_alloc(&out, bi.h, bi.w, 3, err) != CY_OK)
        return cy_fail(err, CY_ERR_MEMORY, "%s: out of memory for a %dx%d image", name, bi.w, bi.h);
    const int bytes = bi.bpp / 8;
    for (int y = 0; y < bi.h; y++) {
        const int sy = bi.bottom_up ? bi.h - 1 - y : y;
        const uint8_t *s = data + bi.pixel_off + bi.stride * (uint64_t)sy;
        uint8_t *d = out.data + (size_t)y * bi.w * 3;
        if (bytes == 1) {
            for (int x = 0; x < bi.w; x++, d += 3) memcpy(d, pal[s[x]], 3);
        } else {
            for (int x = 0; x < bi.w; x++, s += bytes, d += 3) {
                d[0] = s[2];
                d[1] = s[1];
                d[2] = s[0];
            }
        }
    }
    *im = out;
    return CY_OK;
}
