/* Image decoding and encoding: round trips, the PNG and BMP variants, EXIF
 * orientation, and every bad-input case returning an error that names the
 * file. Files are written under a fresh mkdtemp folder. */
#define _GNU_SOURCE
#include "test_util.h"
#include "io/image.h"
#include <jpeglib.h>
#include <png.h>
#include <unistd.h>

static char tmpdir[64];
static char made[64][128];
static int nmade;

static const char *tpath(const char *name) {
    static char buf[8][160];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 160, "%s/%s", tmpdir, name);
    int seen = 0;
    for (int i = 0; i < nmade; i++) seen |= strcmp(made[i], name) == 0;
    if (!seen && nmade < 64) snprintf(made[nmade++], sizeof made[0], "%s", name);
    return p;
}

static void write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(2); }
    if (n) fwrite(p, 1, n, f);
    fclose(f);
}

static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(*n ? *n : 1);
    if (fread(p, 1, *n, f) != *n) { perror(path); exit(2); }
    fclose(f);
    return p;
}

static const uint8_t *px(const cy_image *im, int y, int x) {
    return im->data + ((size_t)y * im->w + x) * im->c;
}

static int near(const uint8_t *p, int r, int g, int b, int tol) {
    return abs(p[0] - r) <= tol && abs(p[1] - g) <= tol && abs(p[2] - b) <= tol;
}

/* ---- round trips ------------------------------------------------------ */

static void test_jpeg_roundtrip(void) {
    cy_error err = {0};
    cy_image im;
    CHECK(cy_image_alloc(&im, 48, 64, 3, &err) == CY_OK, "%s", err.msg);
    for (int y = 0; y < 48; y++)
        for (int x = 0; x < 64; x++) {
            uint8_t *p = im.data + (y * 64 + x) * 3;
            p[0] = (uint8_t)(x * 4);
            p[1] = (uint8_t)(y * 5);
            p[2] = (uint8_t)(128 + 100 * sin(x * 0.1 + y * 0.07));
        }
    const char *path = tpath("rt.jpg");
    CHECK(cy_image_write_jpeg(path, &im, 95, &err) == CY_OK, "%s", err.msg);
    cy_image back;
    CHECK(cy_image_read(path, &back, &err) == CY_OK, "%s", err.msg);
    CHECK(back.h == 48 && back.w == 64 && back.c == 3, "size %dx%dx%d", back.h, back.w, back.c);
    if (back.data && back.h == 48 && back.w == 64) {
        double sum = 0;
        for (size_t i = 0; i < (size_t)48 * 64 * 3; i++) sum += abs(back.data[i] - im.data[i]);
        double mad = sum / (48.0 * 64 * 3);
        CHECK(mad < 3.0, "JPEG q95 mean abs diff %.3f", mad);
    }
    int h, w;
    CHECK(cy_image_probe(path, &h, &w, &err) == CY_OK && h == 48 && w == 64, "probe %dx%d %s", h, w, err.msg);
    cy_image_free(&back);

    /* decoding from memory gives the same pixels */
    size_t n;
    uint8_t *bytes = slurp(path, &n);
    cy_image mem;
    CHECK(cy_image_decode("mem.jpg", bytes, n, &mem, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_image_read(path, &back, &err) == CY_OK, "%s", err.msg);
    CHECK(mem.data && back.data && memcmp(mem.data, back.data, (size_t)48 * 64 * 3) == 0,
          "memory decode differs");
    cy_image_free(&mem);
    cy_image_free(&back);
    free(bytes);

    /* quality out of range is an argument error */
    CHECK(cy_image_write_jpeg(tpath("q.jpg"), &im, 0, &err) == CY_ERR_ARG, "quality 0 accepted");
    cy_image_free(&im);

    /* grayscale in, RGB out with equal channels */
    cy_image g;
    cy_image_alloc(&g, 16, 24, 1, &err);
    for (int i = 0; i < 16 * 24; i++) g.data[i] = (uint8_t)(i % 24 * 10);
    path = tpath("gray.jpg");
    CHECK(cy_image_write_jpeg(path, &g, 95, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_image_read(path, &back, &err) == CY_OK, "%s", err.msg);
    CHECK(back.c == 3 && back.h == 16 && back.w == 24, "gray jpeg size");
    int same = 1;
    for (int i = 0; back.data && i < 16 * 24; i++)
        same &= back.data[3 * i] == back.data[3 * i + 1] && back.data[3 * i] == back.data[3 * i + 2];
    CHECK(same, "gray JPEG channels differ");
    cy_image_free(&back);
    cy_image_free(&g);
}

/* A CMYK JPEG (Adobe, inverted): R = C*K/255 as PIL and OpenCV give it. */
static void test_jpeg_cmyk(void) {
    const char *path = tpath("cmyk.jpg");
    FILE *f = fopen(path, "wb");
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr je;
    c.err = jpeg_std_error(&je);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = 16;
    c.image_height = 16;
    c.input_components = 4;
    c.in_color_space = JCS_CMYK;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 100, TRUE);
    jpeg_start_compress(&c, TRUE);
    uint8_t row[16 * 4];
    for (int x = 0; x < 16; x++) {
        row[4 * x] = 200;
        row[4 * x + 1] = 100;
        row[4 * x + 2] = 50;
        row[4 * x + 3] = 128;
    }
    for (int y = 0; y < 16; y++) {
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(f);
    cy_error err = {0};
    cy_image im;
    CHECK(cy_image_read(path, &im, &err) == CY_OK, "%s", err.msg);
    if (im.data) {
        const uint8_t *p = px(&im, 8, 8);
        CHECK(near(p, 100, 50, 25, 3), "CMYK pixel %d %d %d", p[0], p[1], p[2]);
    }
    cy_image_free(&im);
}

static void test_png_roundtrip(void) {
    cy_error err = {0};
    cy_image im;
    cy_image_alloc(&im, 23, 37, 3, &err);
    uint64_t s = 12345;
    for (size_t i = 0; i < (size_t)23 * 37 * 3; i++) im.data[i] = (uint8_t)test_rand_u32(&s);
    const char *path = tpath("rt.png");
    CHECK(cy_image_write_png(path, &im, &err) == CY_OK, "%s", err.msg);
    cy_image back;
    CHECK(cy_image_read(path, &back, &err) == CY_OK, "%s", err.msg);
    CHECK(back.h == 23 && back.w == 37 && back.c == 3, "png size");
    CHECK(back.data && memcmp(back.data, im.data, (size_t)23 * 37 * 3) == 0, "PNG round trip not exact");
    int h, w;
    CHECK(cy_image_probe(path, &h, &w, &err) == CY_OK && h == 23 && w == 37, "probe %dx%d", h, w);
    cy_image_free(&back);
    cy_image_free(&im);
}

/* ---- PNG variants written with libpng -------------------------------- */

static void write_png_raw(const char *path, int w, int h, int depth, int ctype,
                          const uint8_t *rows, size_t stride, const png_color *pal, int npal,
                          const uint8_t *trns, int ntrns, int interlace) {
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) { fprintf(stderr, "libpng write failed\n"); exit(2); }
    png_init_io(png, f);
    png_set_IHDR(png, info, w, h, depth, ctype, interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (pal) png_set_PLTE(png, info, pal, npal);
    if (trns) png_set_tRNS(png, info, trns, ntrns, NULL);
    png_write_info(png, info);
    int passes = png_set_interlace_handling(png);
    for (int p = 0; p < passes; p++)
        for (int y = 0; y < h; y++) png_write_row(png, (png_bytep)(rows + (size_t)y * stride));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

static void check_png(const char *name, int w, int h, const uint8_t *expect_rgb) {
    cy_error err = {0};
    cy_image im;
    cy_status st = cy_image_read(tpath(name), &im, &err);
    CHECK(st == CY_OK, "%s: %s", name, err.msg);
    if (st != CY_OK) return;
    CHECK(im.h == h && im.w == w && im.c == 3, "%s: size %dx%dx%d", name, im.h, im.w, im.c);
    CHECK(memcmp(im.data, expect_rgb, (size_t)w * h * 3) == 0, "%s: pixels differ (got %d %d %d)",
          name, im.data[0], im.data[1], im.data[2]);
    cy_image_free(&im);
}

static void test_png_variants(void) {
    enum { W = 5, H = 3 };
    uint8_t rows[H * W * 8], expect[H * W * 3];
    /* 8-bit gray */
    for (int i = 0; i < W * H; i++) {
        rows[i] = (uint8_t)(i * 17);
        memset(expect + 3 * i, i * 17, 3);
    }
    write_png_raw(tpath("gray8.png"), W, H, 8, PNG_COLOR_TYPE_GRAY, rows, W, NULL, 0, NULL, 0, 0);
    check_png("gray8.png", W, H, expect);
    /* interlaced gray gives the same */
    write_png_raw(tpath("gray8i.png"), W, H, 8, PNG_COLOR_TYPE_GRAY, rows, W, NULL, 0, NULL, 0, 1);
    check_png("gray8i.png", W, H, expect);
    /* 1-bit gray: 0 -> 0, 1 -> 255 */
    for (int y = 0; y < H; y++) rows[y] = y == 1 ? 0xA8 : 0x00; /* 10101 */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) memset(expect + 3 * (y * W + x), y == 1 && x % 2 == 0 ? 255 : 0, 3);
    write_png_raw(tpath("gray1.png"), W, H, 1, PNG_COLOR_TYPE_GRAY, rows, 1, NULL, 0, NULL, 0, 0);
    check_png("gray1.png", W, H, expect);
    /* gray + alpha: alpha dropped */
    for (int i = 0; i < W * H; i++) {
        rows[2 * i] = (uint8_t)(200 - i);
        rows[2 * i + 1] = (uint8_t)(i * 10);
        memset(expect + 3 * i, 200 - i, 3);
    }
    write_png_raw(tpath("graya.png"), W, H, 8, PNG_COLOR_TYPE_GRAY_ALPHA, rows, 2 * W, NULL, 0, NULL, 0, 0);
    check_png("graya.png", W, H, expect);
    /* 16-bit gray: the high byte */
    for (int i = 0; i < W * H; i++) {
        rows[2 * i] = (uint8_t)(i * 16);
        rows[2 * i + 1] = 0xFF;
        memset(expect + 3 * i, i * 16, 3);
    }
    write_png_raw(tpath("gray16.png"), W, H, 16, PNG_COLOR_TYPE_GRAY, rows, 2 * W, NULL, 0, NULL, 0, 0);
    check_png("gray16.png", W, H, expect);
    /* palette with transparency: colours kept, transparency dropped */
    png_color pal[4] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}};
    uint8_t trns[4] = {0, 128, 255, 255};
    for (int i = 0; i < W * H; i++) {
        rows[i] = (uint8_t)(i % 4);
        expect[3 * i] = pal[i % 4].red;
        expect[3 * i + 1] = pal[i % 4].green;
        expect[3 * i + 2] = pal[i % 4].blue;
    }
    write_png_raw(tpath("pal.png"), W, H, 8, PNG_COLOR_TYPE_PALETTE, rows, W, pal, 4, trns, 4, 0);
    check_png("pal.png", W, H, expect);
    /* 16-bit RGB */
    for (int i = 0; i < W * H * 3; i++) {
        rows[2 * i] = (uint8_t)(i * 5);
        rows[2 * i + 1] = 0x80;
        expect[i] = (uint8_t)(i * 5);
    }
    write_png_raw(tpath("rgb16.png"), W, H, 16, PNG_COLOR_TYPE_RGB, rows, 6 * W, NULL, 0, NULL, 0, 0);
    check_png("rgb16.png", W, H, expect);
    /* RGBA: alpha dropped, not composited */
    for (int i = 0; i < W * H; i++) {
        for (int k = 0; k < 3; k++) rows[4 * i + k] = expect[3 * i + k] = (uint8_t)(i * 7 + k * 50);
        rows[4 * i + 3] = (uint8_t)(i * 3);
    }
    write_png_raw(tpath("rgba.png"), W, H, 8, PNG_COLOR_TYPE_RGB_ALPHA, rows, 4 * W, NULL, 0, NULL, 0, 0);
    check_png("rgba.png", W, H, expect);
    /* 16-bit RGBA */
    for (int i = 0; i < W * H * 4; i++) {
        rows[2 * i] = (uint8_t)(i * 3);
        rows[2 * i + 1] = 0x11;
    }
    for (int i = 0; i < W * H; i++)
        for (int k = 0; k < 3; k++) expect[3 * i + k] = (uint8_t)((4 * i + k) * 3);
    write_png_raw(tpath("rgba16.png"), W, H, 16, PNG_COLOR_TYPE_RGB_ALPHA, rows, 8 * W, NULL, 0, NULL, 0, 0);
    check_png("rgba16.png", W, H, expect);
}

/* ---- BMP written by hand --------------------------------------------- */

static void put16(uint8_t *p, unsigned v) { p[0] = v & 255; p[1] = v >> 8 & 255; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v & 0xFFFF); put16(p + 2, v >> 16); }

/* A W x H BMP with pixel (x, y) = (x*40, y*60, 100+x+y); bpp 8, 24, 32. */
static size_t make_bmp(uint8_t *buf, int W, int H, int bpp, int top_down) {
    const int npal = bpp == 8 ? 256 : 0;
    const uint32_t stride = ((uint32_t)W * bpp + 31) / 32 * 4;
    const uint32_t off = 14 + 40 + 4 * npal;
    const size_t total = off + (size_t)stride * H;
    memset(buf, 0, total);
    buf[0] = 'B';
    buf[1] = 'M';
    put32(buf + 2, (uint32_t)total);
    put32(buf + 10, off);
    put32(buf + 14, 40);
    put32(buf + 18, (uint32_t)W);
    put32(buf + 22, (uint32_t)(top_down ? -H : H));
    put16(buf + 26, 1);
    put16(buf + 28, (unsigned)bpp);
    put32(buf + 30, 0);
    put32(buf + 34, stride * H);
    if (bpp == 8) /* palette entry i = (i, 255-i, i/2) in BGR0 */
        for (int i = 0; i < 256; i++) {
            buf[54 + 4 * i] = (uint8_t)(i / 2);
            buf[54 + 4 * i + 1] = (uint8_t)(255 - i);
            buf[54 + 4 * i + 2] = (uint8_t)i;
        }
    for (int y = 0; y < H; y++) {
        const int fy = top_down ? y : H - 1 - y;
        uint8_t *row = buf + off + (size_t)stride * fy;
        for (int x = 0; x < W; x++) {
            if (bpp == 8) {
                row[x] = (uint8_t)(x * 16 + y);
                continue;
            }
            uint8_t *p = row + x * (bpp / 8);
            p[0] = (uint8_t)(100 + x + y);
            p[1] = (uint8_t)(y * 60);
            p[2] = (uint8_t)(x * 40);
            if (bpp == 32) p[3] = 0x77;
        }
    }
    return total;
}

static void test_bmp(void) {
    static uint8_t buf[8192];
    const int W = 5, H = 3; /* odd width: rows are padded */
    for (int bpp = 8; bpp <= 32; bpp += 8) {
        if (bpp == 16) continue;
        for (int td = 0; td < 2; td++) {
            char name[32];
            snprintf(name, sizeof name, "b%d%s.bmp", bpp, td ? "td" : "bu");
            size_t n = make_bmp(buf, W, H, bpp, td);
            write_bytes(tpath(name), buf, n);
            cy_error err = {0};
            cy_image im;
            cy_status st = cy_image_read(tpath(name), &im, &err);
            CHECK(st == CY_OK, "%s: %s", name, err.msg);
            if (st != CY_OK) continue;
            CHECK(im.h == H && im.w == W && im.c == 3, "%s size", name);
            int ok = 1;
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    const uint8_t *p = px(&im, y, x);
                    if (bpp == 8) {
                        int i = x * 16 + y;
                        ok &= p[0] == i && p[1] == 255 - i && p[2] == i / 2;
                    } else {
                        ok &= p[0] == x * 40 && p[1] == y * 60 && p[2] == 100 + x + y;
                    }
                }
            CHECK(ok, "%s: pixels wrong", name);
            int h, w;
            CHECK(cy_image_probe(tpath(name), &h, &w, &err) == CY_OK && h == H && w == W,
                  "%s probe %dx%d %s", name, h, w, err.msg);
            cy_image_free(&im);
        }
    }
    /* RLE8 is refused as unsupported */
    size_t n = make_bmp(buf, W, H, 8, 0);
    put32(buf + 30, 1);
    write_bytes(tpath("rle.bmp"), buf, n);
    cy_error err = {0};
    cy_image im;
    CHECK(cy_image_read(tpath("rle.bmp"), &im, &err) == CY_ERR_UNSUPPORTED && strstr(err.msg, tpath("rle.bmp")),
          "RLE BMP: %s", err.msg);
    /* 16-bit is refused as unsupported */
    n = make_bmp(buf, W, H, 24, 0);
    put16(buf + 28, 16);
    write_bytes(tpath("b16.bmp"), buf, n);
    CHECK(cy_image_read(tpath("b16.bmp"), &im, &err) == CY_ERR_UNSUPPORTED, "16-bit BMP: %s", err.msg);
}

/* ---- EXIF orientation ------------------------------------------------- */

/* 64x32 JPEG, quadrants TL red, TR green, BL blue, BR white, with an EXIF
 * APP1 holding orientation `o` (big- or little-endian TIFF). */
static void write_oriented_jpeg(const char *path, int o, int little) {
    enum { W = 64, H = 32 };
    uint8_t img[W * H * 3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = img + (y * W + x) * 3;
            int q = (y >= H / 2) * 2 + (x >= W / 2);
            static const uint8_t col[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}};
            memcpy(p, col[q], 3);
        }
    uint8_t app1[6 + 8 + 2 + 12 + 4];
    memcpy(app1, "Exif\0\0", 6);
    uint8_t *t = app1 + 6;
    if (little) {
        memcpy(t, "II*\0\x08\0\0\0", 8);
        memcpy(t + 8, "\x01\0" "\x12\x01" "\x03\0" "\x01\0\0\0", 10);
        t[18] = (uint8_t)o; t[19] = 0; t[20] = 0; t[21] = 0;
    } else {
        memcpy(t, "MM\0*\0\0\0\x08", 8);
        memcpy(t + 8, "\0\x01" "\x01\x12" "\0\x03" "\0\0\0\x01", 10);
        t[18] = 0; t[19] = (uint8_t)o; t[20] = 0; t[21] = 0;
    }
    memset(t + 22, 0, 4); /* no next IFD */
    FILE *f = fopen(path, "wb");
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr je;
    c.err = jpeg_std_error(&je);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = W;
    c.image_height = H;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 95, TRUE);
    c.write_JFIF_header = FALSE;
    jpeg_start_compress(&c, TRUE);
    jpeg_write_marker(&c, JPEG_APP0 + 1, app1, sizeof app1);
    for (int y = 0; y < H; y++) {
        JSAMPROW r = img + y * W * 3;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(f);
}

static void test_exif(void) {
    struct { int o, little, h, w, r, g, b; } cases[] = {
        {1, 0, 32, 64, 255, 0, 0},     /* TL red */
        {3, 0, 32, 64, 255, 255, 255}, /* 180: TL was BR (white) */
        {6, 0, 64, 32, 0, 0, 255},     /* 90 CW: TL was BL (blue) */
        {8, 0, 64, 32, 0, 255, 0},     /* 90 CCW: TL was TR (green) */
        {6, 1, 64, 32, 0, 0, 255},     /* little-endian TIFF */
        {2, 1, 32, 64, 0, 255, 0},     /* mirror: TL was TR */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "exif%d%s.jpg", cases[i].o, cases[i].little ? "le" : "");
        write_oriented_jpeg(tpath(name), cases[i].o, cases[i].little);
        cy_error err = {0};
        cy_image im;
        cy_status st = cy_image_read(tpath(name), &im, &err);
        CHECK(st == CY_OK, "%s: %s", name, err.msg);
        if (st != CY_OK) continue;
        CHECK(im.h == cases[i].h && im.w == cases[i].w, "%s: size %dx%d, want %dx%d", name, im.h,
              im.w, cases[i].h, cases[i].w);
        const uint8_t *p = px(&im, 0, 0);
        CHECK(near(p, cases[i].r, cases[i].g, cases[i].b, 40), "%s: corner %d %d %d", name, p[0], p[1], p[2]);
        /* the opposite corner, too: 6 puts TR (green) at BR, 8 puts BL (blue) there */
        if (cases[i].o == 6 || cases[i].o == 8) {
            const uint8_t *q = px(&im, im.h - 1, im.w - 1);
            int want_g = cases[i].o == 6;
            CHECK(near(q, 0, want_g ? 255 : 0, want_g ? 0 : 255, 40), "%s: far corner %d %d %d", name,
                  q[0], q[1], q[2]);
        }
        int h, w;
        CHECK(cy_image_probe(tpath(name), &h, &w, &err) == CY_OK && h == cases[i].h && w == cases[i].w,
              "%s: probe %dx%d %s", name, h, w, err.msg);
        cy_image_free(&im);
    }
}

/* cy_image_orient against PIL's transposes of [[1,2,3],[4,5,6]]. */
static void test_orient_table(void) {
    static const uint8_t want[9][6] = {
        {0}, {1, 2, 3, 4, 5, 6}, {3, 2, 1, 6, 5, 4}, {6, 5, 4, 3, 2, 1}, {4, 5, 6, 1, 2, 3},
        {1, 4, 2, 5, 3, 6}, {4, 1, 5, 2, 6, 3}, {6, 3, 5, 2, 4, 1}, {3, 6, 2, 5, 1, 4},
    };
    for (int o = 1; o <= 8; o++) {
        cy_error err = {0};
        cy_image im;
        cy_image_alloc(&im, 2, 3, 1, &err);
        for (int i = 0; i < 6; i++) im.data[i] = (uint8_t)(i + 1);
        CHECK(cy_image_orient(&im, o, &err) == CY_OK, "%s", err.msg);
        int swap = o >= 5;
        CHECK(im.h == (swap ? 3 : 2) && im.w == (swap ? 2 : 3), "orient %d size %dx%d", o, im.h, im.w);
        CHECK(memcmp(im.data, want[o], 6) == 0, "orient %d: %d %d %d %d %d %d", o, im.data[0],
              im.data[1], im.data[2], im.data[3], im.data[4], im.data[5]);
        cy_image_free(&im);
    }
}

/* ---- errors ----------------------------------------------------------- */

static void expect_error(const char *what, const char *path, cy_status want) {
    cy_error err = {0};
    cy_image im = {(uint8_t *)1, 1, 1, 1};
    cy_status st = cy_image_read(path, &im, &err);
    CHECK(st != CY_OK, "%s: read succeeded", what);
    if (want != CY_OK) CHECK(st == want, "%s: status %d, want %d (%s)", what, st, want, err.msg);
    CHECK(strstr(err.msg, path) != NULL, "%s: message does not name the file: %s", what, err.msg);
    CHECK(im.data == NULL && im.h == 0, "%s: image not cleared", what);
    int h = 7, w = 7;
    cy_error perr = {0};
    st = cy_image_probe(path, &h, &w, &perr);
    /* the probe reads only the header, so data errors may pass it */
    if (st != CY_OK) CHECK(strstr(perr.msg, path) != NULL, "%s: probe message: %s", what, perr.msg);
    if (getenv("TEST_IMAGE_VERBOSE")) fprintf(stderr, "%-22s %s\n", what, err.msg);
}

static void test_errors(void) {
    expect_error("missing file", tpath("nope.jpg"), CY_ERR_IO);
    write_bytes(tpath("empty.jpg"), "", 0);
    expect_error("empty file", tpath("empty.jpg"), CY_ERR_FORMAT);
    {
        cy_error err = {0};
        cy_image im;
        cy_image_read(tpath("empty.jpg"), &im, &err);
        CHECK(strstr(err.msg, "empty file") != NULL, "empty: %s", err.msg);
    }
    const char *text = "this is not an image, just some text\n";
    write_bytes(tpath("text.jpg"), text, strlen(text));
    expect_error("text named .jpg", tpath("text.jpg"), CY_ERR_FORMAT);
    {
        cy_error err = {0};
        cy_image im;
        cy_image_read(tpath("text.jpg"), &im, &err);
        CHECK(strstr(err.msg, "not an image") != NULL, "text: %s", err.msg);
    }

    size_t n;
    uint8_t *jpg = slurp(tpath("rt.jpg"), &n);
    write_bytes(tpath("trunc100.jpg"), jpg, 100);
    expect_error("truncated JPEG (100 B)", tpath("trunc100.jpg"), CY_ERR_FORMAT);
    write_bytes(tpath("trunchalf.jpg"), jpg, n / 2);
    expect_error("truncated JPEG (half)", tpath("trunchalf.jpg"), CY_ERR_FORMAT);
    {
        cy_error err = {0};
        cy_image im;
        cy_image_read(tpath("trunchalf.jpg"), &im, &err);
        CHECK(strstr(err.msg, "truncated JPEG") != NULL, "half JPEG: %s", err.msg);
        int h, w;
        CHECK(cy_image_probe(tpath("trunchalf.jpg"), &h, &w, &err) == CY_OK && h == 48 && w == 64,
              "probe of a JPEG with a complete header: %s", err.msg);
    }
    /* valid header up to the scan, then garbage, then EOI */
    size_t sos = 0;
    for (size_t i = 2; i + 1 < n; i++)
        if (jpg[i] == 0xFF && jpg[i + 1] == 0xDA) { sos = i; break; }
    CHECK(sos > 0, "no SOS in test JPEG");
    if (sos) {
        size_t hdr = sos + 2 + ((size_t)jpg[sos + 2] << 8 | jpg[sos + 3]);
        uint64_t s = 99;
        for (size_t i = hdr; i + 2 < n; i++) jpg[i] = (uint8_t)test_rand_u32(&s);
        jpg[n - 2] = 0xFF;
        jpg[n - 1] = 0xD9;
        write_bytes(tpath("corrupt.jpg"), jpg, n);
        expect_error("corrupt JPEG", tpath("corrupt.jpg"), CY_ERR_FORMAT);
        cy_error err = {0};
        cy_image im;
        cy_image_read(tpath("corrupt.jpg"), &im, &err);
        CHECK(strstr(err.msg, "JPEG data") != NULL, "corrupt JPEG: %s", err.msg);
    }
    free(jpg);

    uint8_t *png = slurp(tpath("rt.png"), &n);
    write_bytes(tpath("trunc.png"), png, n / 2);
    expect_error("truncated PNG", tpath("trunc.png"), CY_ERR_FORMAT);
    write_bytes(tpath("trunc20.png"), png, 20);
    expect_error("truncated PNG (20 B)", tpath("trunc20.png"), CY_ERR_FORMAT);
    png[n / 2] ^= 0x55; /* inside IDAT: CRC mismatch */
    write_bytes(tpath("crc.png"), png, n);
    expect_error("PNG with a bad CRC", tpath("crc.png"), CY_ERR_FORMAT);
    free(png);

    /* BMP headers that lie */
    static uint8_t buf[8192];
    size_t bn = make_bmp(buf, 5, 3, 24, 0);
    put32(buf + 18, 100000);
    put32(buf + 22, 100000);
    write_bytes(tpath("huge.bmp"), buf, bn);
    expect_error("BMP 100000x100000", tpath("huge.bmp"), CY_OK);
    bn = make_bmp(buf, 5, 3, 24, 0);
    put32(buf + 18, 1000);
    put32(buf + 22, (uint32_t)-1000);
    write_bytes(tpath("short.bmp"), buf, bn);
    expect_error("BMP 1000x1000 in 100 B", tpath("short.bmp"), CY_ERR_FORMAT);
    bn = make_bmp(buf, 5, 3, 8, 0);
    write_bytes(tpath("nopal.bmp"), buf, 60);
    expect_error("BMP cut in the palette", tpath("nopal.bmp"), CY_ERR_FORMAT);
    write_bytes(tpath("tiny.bmp"), "BM\0\0", 4);
    expect_error("BMP of 4 bytes", tpath("tiny.bmp"), CY_ERR_FORMAT);

    /* a directory is not an image */
    expect_error("directory", tmpdir, CY_OK);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cyolo_test_image_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    test_orient_table();
    test_jpeg_roundtrip();
    test_jpeg_cmyk();
    test_png_roundtrip();
    test_png_variants();
    test_bmp();
    test_exif();
    test_errors();
    if (getenv("TEST_IMAGE_KEEP")) { printf("kept %s\n", tmpdir); return test_summary(); }
    for (int i = 0; i < nmade; i++) {
        char p[200];
        snprintf(p, sizeof p, "%s/%s", tmpdir, made[i]);
        unlink(p);
    }
    rmdir(tmpdir);
    return test_summary();
}
