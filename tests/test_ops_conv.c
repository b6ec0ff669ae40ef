/* conv2d: the reference against hand-computed cases, then the cpu backend
 * (NHWC, oneDNN) against the reference (NCHW) over many shapes and options,
 * plus its weight and primitive caching. */
#include "test_util.h"
#include "backend/backend.h"

static cy_backend *ref, *cpu;

static cy_conv_params conv_p(int k, int s, int pad, int d, int g, const float *w) {
    cy_conv_params p = {0};
    p.kh = p.kw = k;
    p.sh = p.sw = s;
    p.ph = p.pw = pad;
    p.dh = p.dw = d;
    p.groups = g;
    p.weight = w;
    p.bn_eps = 1e-3f;
    p.weights_version = 1;
    return p;
}

static void hand_cases(void) {
    cy_error err = {0};
    cy_slot slot = NULL;
    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, y[16];
    cy_tensor in = {x, {1, 1, 3, 3}};

    /* cross-correlation, not convolution: a top-left tap picks x[oy][ox] */
    float w_tl[4] = {1, 0, 0, 0};
    cy_conv_params p = conv_p(2, 1, 0, 1, 1, w_tl);
    cy_tensor out = {y, {1, 1, 2, 2}};
    CHECK(ref->conv2d(ref, &slot, &in, &out, &p, &err) == CY_OK, "%s", err.msg);
    CHECK(y[0] == 1 && y[1] == 2 && y[2] == 4 && y[3] == 5, "tl %g %g %g %g", y[0], y[1],
          y[2], y[3]);

    /* 3x3 ones, stride 2, pad 1, bias 1: padded windows sum 4 pixels */
    float w1[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, b1 = 1;
    p = conv_p(3, 2, 1, 1, 1, w1);
    p.bias = &b1;
    CHECK(ref->conv2d(ref, &slot, &in, &out, &p, &err) == CY_OK, "%s", err.msg);
    CHECK(y[0] == 13 && y[1] == 17 && y[2] == 25 && y[3] == 29, "s2p1 %g %g %g %g", y[0],
          y[1], y[2], y[3]);

    /* dilation 2 on 5x5 (x = 0..24): taps (0,0) (0,2) (2,0) (2,2) */
    float x5[25];
    for (int i = 0; i < 25; i++) x5[i] = (float)i;
    cy_tensor in5 = {x5, {1, 1, 5, 5}};
    float w4[4] = {1, 10, 100, 1000};
    p = conv_p(2, 1, 0, 2, 1, w4);
    out.s = (cy_shape){1, 1, 3, 3};
    CHECK(ref->conv2d(ref, &slot, &in5, &out, &p, &err) == CY_OK, "%s", err.msg);
    CHECK(y[0] == 0 + 10 * 2 + 100 * 10 + 1000 * 12, "dil %g", y[0]);
    CHECK(y[8] == 12 + 10 * 14 + 100 * 22 + 1000 * 24, "dil %g", y[8]);

    /* groups 2, 1x1: channel o sees only input channel o */
    float x2[8] = {1, 2, 3, 4, 10, 20, 30, 40}, wg[2] = {2, -1};
    cy_tensor in2 = {x2, {1, 2, 2, 2}};
    p = conv_p(1, 1, 0, 1, 2, wg);
    out.s = (cy_shape){1, 2, 2, 2};
    CHECK(ref->conv2d(ref, &slot, &in2, &out, &p, &err) == CY_OK, "%s", err.msg);
    CHECK(y[0] == 2 && y[3] == 8 && y[4] == -10 && y[7] == -40, "groups %g %g %g %g",
          y[0], y[3], y[4], y[7]);

    /* bias, BN, SiLU in order: (2 + 0.5 - 0.5) / sqrt(3 + 1) * 2 - 1 = 1 */
    float one = 1, xv = 2, bias = 0.5f, g = 2, be = -1, mu = 0.5f, var = 3;
    cy_tensor in1 = {&xv, {1, 1, 1, 1}};
    p = conv_p(1, 1, 0, 1, 1, &one);
    p.bias = &bias;
    p.bn_gamma = &g, p.bn_beta = &be, p.bn_mean = &mu, p.bn_var = &var, p.bn_eps = 1;
    p.act = CY_ACT_SILU;
    out.s = (cy_shape){1, 1, 1, 1};
    CHECK(ref->conv2d(ref, &slot, &in1, &out, &p, &err) == CY_OK, "%s", err.msg);
    CHECK(fabsf(y[0] - 0.7310585786f) < 1e-7f, "bn silu %.9g", y[0]);
    p.act = CY_ACT_SIGMOID;
    CHECK(ref->conv2d(ref, &slot, &in1, &out, &p, &err) == CY_OK, "%s", err.msg);
    CHECK(fabsf(y[0] - 0.7310585786f) < 1e-7f, "bn sigmoid %.9g", y[0]);
    p.act = CY_ACT_RELU;
    xv = -2;
    CHECK(ref->conv2d(ref, &slot, &in1, &out, &p, &err) == CY_OK, "%s", err.msg);
    CHECK(y[0] == 0, "bn relu %g", y[0]);

    /* a wrong output shape is an argument error on both backends */
    out.s = (cy_shape){1, 1, 2, 2};
    p.act = CY_ACT_NONE;
    CHECK(ref->conv2d(ref, &slot, &in1, &out, &p, &err) == CY_ERR_ARG, "ref bad shape");
    CHECK(cpu->conv2d(cpu, &slot, &in1, &out, &p, &err) == CY_ERR_ARG, "cpu bad shape");
    CHECK(strstr(err.msg, "conv2d") != NULL, "message names the op: %s", err.msg);
    cpu->slot_free(cpu, slot);
}

typedef struct {
    int n, c, h, w, o, k, s, pad, d, g, bias, bn;
    cy_act act;
} conv_case;

typedef struct {
    float *x, *xh, *w, *b, *bn, *yr, *yc, *ych;
    cy_shape is, os;
} conv_bufs;

static void bufs_free(conv_bufs *B) {
    free(B->x), free(B->xh), free(B->w), free(B->b), free(B->bn);
    free(B->yr), free(B->yc), free(B->ych);
}

static cy_conv_params case_params(const conv_case *t, conv_bufs *B, uint64_t *rng) {
    cy_conv_params p = conv_p(t->k, t->s, t->pad, t->d, t->g, NULL);
    B->is = (cy_shape){t->n, t->c, t->h, t->w};
    size_t nw = (size_t)t->o * (t->c / t->g) * t->k * t->k;
    B->x = malloc(cy_shape_numel(B->is) * sizeof(float));
    B->xh = malloc(cy_shape_numel(B->is) * sizeof(float));
    B->w = malloc(nw * sizeof(float));
    B->b = malloc(t->o * sizeof(float));
    B->bn = malloc(4 * t->o * sizeof(float));
    test_fill(B->x, cy_shape_numel(B->is), rng, -1, 1);
    test_fill(B->w, nw, rng, -0.5f, 0.5f);
    test_fill(B->b, t->o, rng, -0.5f, 0.5f);
    test_fill(B->bn, t->o, rng, 0.5f, 1.5f);              /* gamma */
    test_fill(B->bn + t->o, t->o, rng, -0.5f, 0.5f);      /* beta */
    test_fill(B->bn + 2 * t->o, t->o, rng, -0.5f, 0.5f);  /* mean */
    test_fill(B->bn + 3 * t->o, t->o, rng, 0.05f, 2.0f);  /* var */
    cy_nchw_to_nhwc(B->xh, B->x, B->is);
    p.weight = B->w;
    p.bias = t->bias ? B->b : NULL;
    if (t->bn) {
        p.bn_gamma = B->bn, p.bn_beta = B->bn + t->o;
        p.bn_mean = B->bn + 2 * t->o, p.bn_var = B->bn + 3 * t->o;
    }
    p.act = t->act;
    B->os = cy_conv_out_shape(B->is, t->o, &p);
    size_t no = cy_shape_numel(B->os);
    B->yr = malloc(no * sizeof(float));
    B->yc = malloc(no * sizeof(float));
    B->ych = malloc(no * sizeof(float));
    return p;
}

/* cpu on NHWC == ref on NCHW, through one slot (fresh or reused) */
static double compare(const conv_case *t, cy_conv_params *p, conv_bufs *B, cy_slot *cslot) {
    cy_error err = {0};
    cy_slot rslot = NULL;
    cy_tensor in = {B->x, B->is}, inh = {B->xh, B->is};
    cy_tensor yr = {B->yr, B->os}, yc = {B->ych, B->os};
    cy_status sr = ref->conv2d(ref, &rslot, &in, &yr, p, &err);
    CHECK(sr == CY_OK, "ref: %s", err.msg);
    cy_status sc = cpu->conv2d(cpu, cslot, &inh, &yc, p, &err);
    CHECK(sc == CY_OK, "cpu: %s", err.msg);
    if (sr != CY_OK || sc != CY_OK) return 1;
    cy_nhwc_to_nchw(B->yc, B->ych, B->os);
    return test_max_rel(B->yc, B->yr, cy_shape_numel(B->os));
}

static void random_cases(void) {
    static const conv_case cases[] = {
        /* n  c   h   w   o  k  s pad d  g bias bn act */
        {1, 3, 16, 16, 16, 3, 2, 1, 1, 1, 0, 1, CY_ACT_SILU},   /* stem */
        {2, 8, 7, 5, 12, 3, 1, 1, 1, 1, 1, 0, CY_ACT_NONE},     /* odd sizes */
        {3, 16, 13, 9, 16, 1, 1, 0, 1, 1, 0, 1, CY_ACT_SILU},   /* 1x1 */
        {2, 16, 13, 9, 24, 3, 2, 1, 1, 1, 0, 1, CY_ACT_SILU},   /* stride 2, odd */
        {2, 32, 10, 14, 32, 3, 1, 1, 1, 32, 0, 1, CY_ACT_SILU}, /* depthwise */
        {1, 24, 9, 11, 24, 5, 2, 2, 1, 24, 1, 0, CY_ACT_RELU},  /* depthwise k5 s2 */
        {2, 8, 12, 7, 6, 3, 1, 1, 1, 2, 1, 1, CY_ACT_SIGMOID},  /* grouped g=2 */
        {1, 8, 15, 13, 8, 3, 1, 2, 2, 1, 1, 0, CY_ACT_SILU},    /* dilation 2 */
        {2, 12, 11, 11, 4, 5, 1, 2, 1, 1, 0, 0, CY_ACT_RELU},   /* k5 */
        {1, 5, 9, 6, 7, 5, 3, 0, 1, 1, 1, 1, CY_ACT_NONE},      /* no pad, s3 */
        {2, 16, 8, 8, 16, 1, 2, 0, 1, 1, 1, 1, CY_ACT_SILU},    /* 1x1 s2, pad_r < 0 */
        {1, 64, 20, 20, 64, 3, 1, 1, 1, 1, 0, 1, CY_ACT_SILU},  /* wide */
        {4, 16, 6, 10, 32, 3, 2, 1, 1, 4, 1, 1, CY_ACT_RELU},   /* g=4 stride 2 */
        {1, 6, 7, 9, 6, 3, 1, 2, 2, 3, 1, 0, CY_ACT_SIGMOID},   /* grouped + dilated */
    };
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const conv_case *t = &cases[i];
        conv_bufs B = {0};
        cy_conv_params p = case_params(t, &B, &rng);
        cy_slot slot = NULL;
        double e = compare(t, &p, &B, &slot);
        CHECK(e < 1e-5, "case %zu (n%d c%d %dx%d o%d k%d s%d p%d d%d g%d bias%d bn%d act%d): "
              "rel err %.3g", i, t->n, t->c, t->h, t->w, t->o, t->k, t->s, t->pad, t->d,
              t->g, t->bias, t->bn, (int)t->act, e);
        cpu->slot_free(cpu, slot);
        bufs_free(&B);
    }
}

/* The slot keeps weights while weights_version stays, reloads them when it
 * changes (or is 0), and rebuilds the primitive when the input shape does. */
static void caching(void) {
    uint64_t rng = 42;
    conv_case t = {2, 8, 9, 7, 8, 3, 1, 1, 1, 1, 1, 1, CY_ACT_SILU};
    conv_bufs B = {0};
    cy_conv_params p = case_params(&t, &B, &rng);
    cy_slot slot = NULL;
    CHECK(compare(&t, &p, &B, &slot) < 1e-5, "first call");
    size_t nw = (size_t)8 * 8 * 9;
    for (size_t i = 0; i < nw; i++) B.w[i] *= -0.5f;
    B.bn[3 * 8] = 3.0f; /* a running variance */
    p.weights_version = 2;
    CHECK(compare(&t, &p, &B, &slot) < 1e-5, "new weights_version reloads");
    for (size_t i = 0; i < nw; i++) B.w[i] += 0.25f;
    p.weights_version = 0;
    CHECK(compare(&t, &p, &B, &slot) < 1e-5, "weights_version 0 reloads every call");
    for (size_t i = 0; i < nw; i++) B.w[i] -= 0.125f;
    CHECK(compare(&t, &p, &B, &slot) < 1e-5, "weights_version 0 reloads every call");
    bufs_free(&B);

    /* same slot, other input shapes, same parameters */
    p.weights_version = 3;
    conv_case t2 = {3, 8, 5, 11, 8, 3, 1, 1, 1, 1, 1, 1, CY_ACT_SILU};
    conv_bufs B2 = {0};
    cy_conv_params p2 = case_params(&t2, &B2, &rng);
    p2.weights_version = 3;
    CHECK(compare(&t2, &p2, &B2, &slot) < 1e-5, "new shape rebuilds");
    conv_case t3 = {1, 8, 12, 12, 8, 3, 1, 1, 1, 1, 1, 1, CY_ACT_RELU};
    conv_bufs B3 = {0};
    cy_conv_params p3 = case_params(&t3, &B3, &rng);
    p3.weights_version = 3;
    CHECK(compare(&t3, &p3, &B3, &slot) < 1e-5, "new activation rebuilds");
    cpu->slot_free(cpu, slot);
    bufs_free(&B2);
    bufs_free(&B3);
}

/* The shapes the reduced-precision kernels are held to the reference on */
static const conv_case LOWP_CASES[] = {
    /* n  c   h   w   o  k  s pad d  g bias bn act */
    {1, 3, 16, 16, 16, 3, 2, 1, 1, 1, 0, 1, CY_ACT_SILU},   /* stem */
    {3, 16, 13, 9, 16, 1, 1, 0, 1, 1, 0, 1, CY_ACT_SILU},   /* 1x1 */
    {2, 32, 10, 14, 32, 3, 1, 1, 1, 32, 0, 1, CY_ACT_SILU}, /* depthwise */
    {2, 8, 12, 7, 6, 3, 1, 1, 1, 2, 1, 1, CY_ACT_SIGMOID},  /* grouped g=2 */
    {1, 64, 20, 20, 96, 3, 1, 1, 1, 1, 1, 0, CY_ACT_NONE},  /* wide, bias */
    {2, 16, 8, 8, 16, 1, 2, 0, 1, 1, 1, 1, CY_ACT_RELU},    /* 1x1 s2 */
    {2, 16, 8, 8, 16, 1, 2, 0, 1, 1, 0, 0, CY_ACT_RELU},    /* 1x1 s2, no bias, no BN */
};

/* CY_PREC_BF16: the cpu kernel (AVX512-BF16 dot products) equals the
 * reference's rounding + float loop; the rounding is really there (a tie
 * goes to even; random results move by bf16's ~2^-8 relative step); the
 * backward refuses it. */
static void bf16_cases(void) {
    cy_error err = {0};
    /* 1 + 2^-8 is halfway between 1 and 1 + 2^-7: nearest even is 1;
     * 1 + 3 * 2^-8 goes up to 1 + 2^-6 */
    float x[2] = {1.0f + 0x1p-8f, 1.0f + 0x1p-8f * 3}, w1 = 1.0f, y[2];
    cy_conv_params p = conv_p(1, 1, 0, 1, 1, &w1);
    p.precision = CY_PREC_BF16;
    cy_tensor in = {x, {1, 1, 1, 2}}, out = {y, {1, 1, 1, 2}};
    cy_slot slot = NULL;
    CHECK(ref->conv2d(ref, &slot, &in, &out, &p, &err) == CY_OK, "%s", err.msg);
    CHECK(y[0] == 1.0f && y[1] == 1.0f + 0x1p-6f, "ref bf16 rounding: %.9g %.9g", y[0], y[1]);
    if (cpu->bf16 != CY_LOWP_NONE) {
        cy_tensor inh = {x, {1, 1, 1, 2}}; /* one channel: NHWC == NCHW */
        CHECK(cpu->conv2d(cpu, &slot, &inh, &out, &p, &err) == CY_OK, "%s", err.msg);
        CHECK(y[0] == 1.0f && y[1] == 1.0f + 0x1p-6f, "cpu bf16 rounding: %.9g %.9g", y[0], y[1]);
        cpu->slot_free(cpu, slot);
        slot = NULL;
    } else {
        printf("note: this CPU has no AVX-512: the cpu backend's bf16 kernel is not run\n");
    }
    float dw = 0;
    CHECK(ref->conv2d_backward(ref, &slot, &in, &out, NULL, &dw, NULL, &p, &err) == CY_ERR_ARG &&
              strstr(err.msg, "inference only"), "backward refuses bf16: %s", err.msg);

    uint64_t rng = 0xb16b00b5ull;
    for (size_t i = 0; i < sizeof LOWP_CASES / sizeof *LOWP_CASES; i++) {
        const conv_case *t = &LOWP_CASES[i];
        conv_bufs B = {0};
        cy_conv_params q = case_params(t, &B, &rng);
        cy_slot rs = NULL, cs = NULL;
        cy_tensor xr = {B.x, B.is}, yr = {B.yr, B.os};
        CHECK(ref->conv2d(ref, &rs, &xr, &yr, &q, &err) == CY_OK, "%s", err.msg);
        size_t no = cy_shape_numel(B.os);
        float *y32 = malloc(no * sizeof *y32);
        memcpy(y32, B.yr, no * sizeof *y32);
        q.precision = CY_PREC_BF16;
        cy_slot rs2 = NULL;
        CHECK(ref->conv2d(ref, &rs2, &xr, &yr, &q, &err) == CY_OK, "%s", err.msg);
        double e = cpu->bf16 != CY_LOWP_NONE ? compare(t, &q, &B, &cs) : 0;
        CHECK(e < 1e-5, "bf16 case %zu: cpu vs ref rel err %.3g", i, e);
        double moved = test_max_rel(B.yr, y32, no); /* B.yr now holds the ref's bf16 result */
        CHECK(moved > 1e-4 && moved < 3e-2, "bf16 case %zu: bf16 vs fp32 rel diff %.3g", i, moved);
        free(y32);
        cpu->slot_free(cpu, cs);
        bufs_free(&B);
    }
}

/* CY_PREC_INT8: rounding to nearest even and saturation by hand; the cpu
 * kernel (AVX512-VNNI) equals the reference's quantized loop; the result
 * moves from fp32's by about the quantization step and no more. */
static void s8_cases(void) {
    cy_error err = {0};
    float x[5] = {0.5f, 1.5f, 2.5f, 300.0f, -300.0f}, w1 = 1.0f, y[5];
    const float want[5] = {0, 2, 2, 127, -127};
    cy_conv_params p = conv_p(1, 1, 0, 1, 1, &w1);
    p.precision = CY_PREC_INT8;
    p.in_scale = 1.0f;
    cy_tensor in = {x, {1, 1, 1, 5}}, out = {y, {1, 1, 1, 5}};
    cy_slot slot = NULL;
    for (int b = 0; b < 2; b++) {
        cy_backend *be = b ? cpu : ref;
        if (be->int8 == CY_LOWP_NONE) continue;
        CHECK(be->conv2d(be, &slot, &in, &out, &p, &err) == CY_OK, "%s", err.msg);
        for (int i = 0; i < 5; i++)
            CHECK(fabsf(y[i] - want[i]) < 1e-4f, "%s int8 %g -> %g, want %g", be->name, x[i], y[i], want[i]);
        if (b) cpu->slot_free(cpu, slot);
        slot = NULL;
    }
    p.in_scale = 0;
    CHECK(ref->conv2d(ref, &slot, &in, &out, &p, &err) == CY_ERR_ARG && strstr(err.msg, "scale"),
          "int8 without a scale: '%s'", err.msg);

    uint64_t rng = 0x5eed1e8ull;
    for (size_t i = 0; i < sizeof LOWP_CASES / sizeof *LOWP_CASES; i++) {
        const conv_case *t = &LOWP_CASES[i];
        conv_bufs B = {0};
        cy_conv_params q = case_params(t, &B, &rng);
        cy_slot rs = NULL, rs2 = NULL, cs = NULL;
        cy_tensor xr = {B.x, B.is}, yr = {B.yr, B.os};
        CHECK(ref->conv2d(ref, &rs, &xr, &yr, &q, &err) == CY_OK, "%s", err.msg);
        size_t no = cy_shape_numel(B.os), nx = cy_shape_numel(B.is);
        float *y32 = malloc(no * sizeof *y32), mx = 0;
        memcpy(y32, B.yr, no * sizeof *y32);
        for (size_t j = 0; j < nx; j++) mx = fmaxf(mx, fabsf(B.x[j]));
        q.precision = CY_PREC_INT8;
        q.in_scale = mx / 127.0f;
        CHECK(ref->conv2d(ref, &rs2, &xr, &yr, &q, &err) == CY_OK, "%s", err.msg);
        double e = cpu->int8 != CY_LOWP_NONE ? compare(t, &q, &B, &cs) : 0;
        CHECK(e < 1e-5, "int8 case %zu: cpu vs ref rel err %.3g", i, e);
        double moved = test_max_rel(B.yr, y32, no);
        CHECK(moved > 1e-4 && moved < 5e-2, "int8 case %zu: int8 vs fp32 rel diff %.3g", i, moved);
        free(y32);
        cpu->slot_free(cpu, cs);
        bufs_free(&B);
    }
}

int main(void) {
    cy_error err = {0};
    CHECK(cy_backend_ref_create(&ref, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_backend_cpu_create(&cpu, 2, &err) == CY_OK, "%s", err.msg);
    if (!ref || !cpu) return test_summary();
    CHECK(ref->layout == CY_LAYOUT_NCHW && cpu->layout == CY_LAYOUT_NHWC, "layouts");
    hand_cases();
    random_cases();
    caching();
    bf16_cases();
    s8_cases();
    cy_backend_destroy(ref);
    cy_backend_destroy(cpu);
    return test_summary();
}
