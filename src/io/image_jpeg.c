/* JPEG through libjpeg-turbo. libjpeg reports errors by calling error_exit,
 * which by default prints and exit()s; every call here installs its own
 * error manager that records the message and longjmps back, so a corrupt or
 * truncated file becomes a CY_ERR_FORMAT naming the file. */
#include "io/image.h"
#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>
#include <libexif/exif-data.h>

/* Far more scans than any encoder writes (progressive JPEGs use ~10); a file
 * with more is a decompression bomb, not an image. */
#define MAX_SCANS 1000

typedef struct {
    struct jpeg_error_mgr pub;
    struct jpeg_progress_mgr progress;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
    int truncated; /* the data ended early */
    int unsupported; /* valid JPEG, but a kind libjpeg-turbo was not built for */
} jerr_ctx;

static void jerr_exit(j_common_ptr c) {
    jerr_ctx *e = (jerr_ctx *)c->err;
    c->err->format_message(c, e->msg);
    int code = c->err->msg_code;
    e->unsupported = code == JERR_BAD_PRECISION || code == JERR_NOT_COMPILED;
    longjmp(e->jb, 1);
}

static void jerr_silent(j_common_ptr c) { (void)c; }

/* Warnings that mean the pixels are wrong are errors; the harmless ones
 * (extraneous bytes between markers, unknown JFIF revision, bad ICC
 * profile, ...) are ignored as PIL and OpenCV ignore them. */
static void jerr_emit(j_common_ptr c, int level) {
    if (level >= 0) return; /* trace messages */
    switch (c->err->msg_code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION: {
        jerr_ctx *e = (jerr_ctx *)c->err;
        if (c->err->msg_code == JWRN_JPEG_EOF) e->truncated = 1;
        c->err->format_message(c, e->msg);
        longjmp(e->jb, 1);
    }
    default: c->err->num_warnings++; return;
    }
}

static void jerr_progress(j_common_ptr c) {
    if (!c->is_decompressor) return;
    j_decompress_ptr d = (j_decompress_ptr)c;
    if (d->input_scan_number > MAX_SCANS) {
        jerr_ctx *e = (jerr_ctx *)c->err;
        snprintf(e->msg, sizeof e->msg, "more than %d scans", MAX_SCANS);
        longjmp(e->jb, 1);
    }
}

static void jerr_init(jerr_ctx *e, j_common_ptr c) {
    memset(e, 0, sizeof *e);
    c->err = jpeg_std_error(&e->pub);
    e->pub.error_exit = jerr_exit;
    e->pub.emit_message = jerr_emit;
    e->pub.output_message = jerr_silent;
    e->progress.progress_monitor = jerr_progress;
}

/* EXIF orientation (1..8) of the first Exif APP1 segment, 1 when absent or
 * unreadable; IFD0 tag 0x0112, as PIL's getexif() reads it. */
static int exif_orientation(j_decompress_ptr d) {
    for (jpeg_saved_marker_ptr m = d->marker_list; m; m = m->next) {
        if (m->marker != JPEG_APP0 + 1 || m->data_length < 6 ||
            memcmp(m->data, "Exif\0\0", 6) != 0)
            continue;
        ExifData *ed = exif_data_new();
        if (!ed) return 1;
        /* Do not "fix" the data: that would add default entries. */
        exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
        exif_data_load_data(ed, m->data, m->data_length);
        int v = 1;
        ExifEntry *e = exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
        if (e && e->data && e->components >= 1) {
            ExifByteOrder bo = exif_data_get_byte_order(ed);
            if (e->format == EXIF_FORMAT_SHORT && e->size >= 2) v = exif_get_short(e->data, bo);
            else if (e->format == EXIF_FORMAT_LONG && e->size >= 4) v = (int)exif_get_long(e->data, bo);
        }
        exif_data_unref(ed);
        return v >= 1 && v <= 8 ? v : 1;
    }
    return 1;
}

static cy_status jpeg_fail(const char *name, const jerr_ctx *e, cy_error *err) {
    if (e->truncated)
        return cy_fail(err, CY_ERR_FORMAT, "%s: truncated JPEG data: the file ends early", name);
    if (e->unsupported)
        return cy_fail(err, CY_ERR_UNSUPPORTED, "%s: JPEG not supported: %s", name, e->msg);
    const char *m = e->msg;
    static const char prefix[] = "Corrupt JPEG data: ";
    if (strncmp(m, prefix, sizeof prefix - 1) == 0) m += sizeof prefix - 1;
    return cy_fail(err, CY_ERR_FORMAT, "%s: corrupt JPEG data: %s", name, m);
}

/* The output colour space for a file's colour space; 0 if unsupported. */
static int pick_out_space(j_decompress_ptr d) {
    switch (d->jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_YCbCr:
    case JCS_RGB: d->out_color_space = JCS_RGB; return 1;
    case JCS_CMYK:
    case JCS_YCCK: d->out_color_space = JCS_CMYK; return 1;
    default: return 0;
    }
}

/* Everything that can longjmp runs in the *_run functions, whose caller owns
 * the libjpeg state and the output, so nothing the error path needs lives in
 * a local changed after setjmp. */
static cy_status decode_run(const char *name, const uint8_t *data, size_t len,
                            j_decompress_ptr d, jerr_ctx *e, cy_image *out, cy_error *err) {
    if (setjmp(e->jb)) return jpeg_fail(name, e, err);
    jpeg_create_decompress(d);
    d->progress = &e->progress;
    jpeg_mem_src(d, data, (unsigned long)len);
    jpeg_save_markers(d, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(d, TRUE);
    CY_TRY(cy_image_check_size(name, d->image_height, d->image_width, err));
    if (!pick_out_space(d))
        return cy_fail(err, CY_ERR_UNSUPPORTED,
                       "%s: JPEG colour space with %d components is not supported", name,
                       d->num_components);
    int orientation = exif_orientation(d);
    jpeg_start_decompress(d);
    const int cmyk = d->out_color_space == JCS_CMYK;
    if (d->output_components != (cmyk ? 4 : 3))
        return cy_fail(err, CY_ERR_UNSUPPORTED, "%s: unexpected JPEG output with %d components",
                       name, d->output_components);
    if (cy_image_alloc(out, (int)d->output_height, (int)d->output_width, 3, err) != CY_OK)
        return cy_fail(err, CY_ERR_MEMORY, "%s: out of memory for a %ux%u image", name,
                       d->output_width, d->output_height);
    const int W = out->w;
    JSAMPARRAY row = NULL;
    if (cmyk) row = d->mem->alloc_sarray((j_common_ptr)d, JPOOL_IMAGE, (JDIMENSION)W * 4, 1);
    while (d->output_scanline < d->output_height) {
        uint8_t *dst = out->data + (size_t)d->output_scanline * W * 3;
        if (!cmyk) {
            JSAMPROW r = dst;
            jpeg_read_scanlines(d, &r, 1);
            continue;
        }
        jpeg_read_scanlines(d, row, 1);
        /* CMYK JPEGs are stored inverted (Adobe); this is PIL's "CMYK;I"
         * then convert('RGB'), and OpenCV's conversion: R = C * K / 255. */
        const uint8_t *s = row[0];
        for (int x = 0; x < W; x++, s += 4, dst += 3) {
            unsigned k = s[3];
            dst[0] = (uint8_t)((s[0] * k + 127) / 255);
            dst[1] = (uint8_t)((s[1] * k + 127) / 255);
            dst[2] = (uint8_t)((s[2] * k + 127) / 255);
        }
    }
    /* All pixels are in: a missing EOI after the last scan is no reason to
     * refuse the image, so jpeg_finish_decompress (which demands it) is
     * not called. */
    if (cy_image_orient(out, orientation, err) != CY_OK)
        return cy_fail(err, CY_ERR_MEMORY, "%s: out of memory applying EXIF orientation", name);
    return CY_OK;
}

cy_status cy_image_decode_jpeg(const char *name, const uint8_t *data, size_t len,
                               cy_image *im, cy_error *err) {
    memset(im, 0, sizeof *im);
    struct jpeg_decompress_struct d;
    memset(&d, 0, sizeof d);
    jerr_ctx e;
    jerr_init(&e, (j_common_ptr)&d);
    cy_image out = {0};
    cy_status st = decode_run(name, data, len, &d, &e, &out, err);
    jpeg_destroy_decompress(&d);
    if (st == CY_OK) *im = out;
    else cy_image_free(&out);
    return st;
}

static cy_status probe_run(const char *name, FILE *fp, j_decompress_ptr d, jerr_ctx *e,
                           int *h, int *w, cy_error *err) {
    if (setjmp(e->jb)) return jpeg_fail(name, e, err);
    jpeg_create_decompress(d);
    jpeg_stdio_src(d, fp);
    jpeg_save_markers(d, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(d, TRUE);
    CY_TRY(cy_image_check_size(name, d->image_height, d->image_width, err));
    int swap = exif_orientation(d) >= 5;
    *h = (int)(swap ? d->image_width : d->image_height);
    *w = (int)(swap ? d->image_height : d->image_width);
    return CY_OK;
}

cy_status cy_image_probe_jpeg(const char *name, FILE *fp, int *h, int *w, cy_error *err) {
    *h = *w = 0;
    struct jpeg_decompress_struct d;
    memset(&d, 0, sizeof d);
    jerr_ctx e;
    jerr_init(&e, (j_common_ptr)&d);
    cy_status st = probe_run(name, fp, &d, &e, h, w, err);
    jpeg_destroy_decompress(&d);
    if (st != CY_OK) *h = *w = 0;
    return st;
}

static cy_status write_run(const char *path, const cy_image *im, int quality, FILE *fp,
                           j_compress_ptr c, jerr_ctx *e, cy_error *err) {
    if (setjmp(e->jb))
        return cy_fail(err, CY_ERR_IO, "%s: cannot write JPEG: %s", path, e->msg);
    jpeg_create_compress(c);
    jpeg_stdio_dest(c, fp);
    c->image_width = (JDIMENSION)im->w;
    c->image_height = (JDIMENSION)im->h;
    c->input_components = im->c;
    c->in_color_space = im->c == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(c);
    jpeg_set_quality(c, quality, TRUE);
    if (im->c == 3) { /* 4:2:0 chroma subsampling, as PIL and OpenCV write */
        c->comp_info[0].h_samp_factor = c->comp_info[0].v_samp_factor = 2;
        for (int k = 1; k < 3; k++) c->comp_info[k].h_samp_factor = c->comp_info[k].v_samp_factor = 1;
    }
    jpeg_start_compress(c, TRUE);
    const size_t stride = (size_t)im->w * im->c;
    while (c->next_scanline < c->image_height) {
        JSAMPROW r = im->data + (size_t)c->next_scanline * stride;
        jpeg_write_scanlines(c, &r, 1);
    }
    jpeg_finish_compress(c);
    return CY_OK;
}

cy_status cy_image_write_jpeg(const char *path, const cy_image *im, int quality, cy_error *err) {
    if (!im || !im->data || (im->c != 1 && im->c != 3) || im->h <= 0 || im->w <= 0 ||
        im->h > CY_IMAGE_MAX_SIDE || im->w > CY_IMAGE_MAX_SIDE)
        return cy_fail(err, CY_ERR_ARG, "%s: cannot write JPEG: need a 1- or 3-channel image "
                       "with sides 1..%d", path, CY_IMAGE_MAX_SIDE);
    if (quality < 1 || quality > 100)
        return cy_fail(err, CY_ERR_ARG, "%s: JPEG quality %d is not in 1..100", path, quality);
    FILE *fp = fopen(path, "wb");
    if (!fp) return cy_fail(err, CY_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    struct jpeg_compress_struct c;
    memset(&c, 0, sizeof c);
    jerr_ctx e;
    jerr_init(&e, (j_common_ptr)&c);
    cy_status st = write_run(path, im, quality, fp, &c, &e, err);
    jpeg_destroy_compress(&c);
    int bad = ferror(fp);
    if (fclose(fp) != 0 || bad) {
        if (st == CY_OK) st = cy_fail(err, CY_ERR_IO, "%s: write error: %s", path, strerror(errno));
    }
    if (st != CY_OK) remove(path);
    return st;
}
