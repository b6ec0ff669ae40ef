#include "backend/conv_lowp.h"
#include <math.h>
#include <stdlib.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

void cy_bf16_convert(const float *src, uint16_t *dst, size_t n) {
    size_t done = 0;
#if defined(__AVX512BF16__)
    const long blocks = (long)(n / 16);
#pragma omp parallel for schedule(static) if (blocks > 4096)
    for (long b = 0; b < blocks; b++) {
        __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(src + 16 * b));
        _mm256_storeu_si256((__m256i *)(dst + 16 * b), (__m256i)h);
    }
    done = (size_t)blocks * 16;
#endif
    for (size_t i = done; i < n; i++) dst[i] = cy_bf16_bits(src[i]);
}

void cy_conv_fold_bn(const cy_conv_params *p, int O, size_t per_o, float *w_out, float *b_out) {
    for (int o = 0; o < O; o++) {
        const float *w = p->weight + (size_t)o * per_o;
        float *wo = w_out + (size_t)o * per_o;
        const double b = p->bias ? p->bias[o] : 0.0;
        if (!p->bn_gamma) {
            memcpy(wo, w, per_o * sizeof *wo);
            b_out[o] = (float)b;
            continue;
        }
        /* the unfused path divides by sqrtf(var + eps) in float */
        const double sc = (double)p->bn_gamma[o] / sqrtf(p->bn_var[o] + p->bn_eps);
        for (size_t i = 0; i < per_o; i++) wo[i] = (float)(w[i] * sc);
        b_out[o] = (float)((b - p->bn_mean[o]) * sc + p->bn_beta[o]);
    }
}

static inline float clamp127(float v) { return v < -127.0f ? -127.0f : v > 127.0f ? 127.0f : v; }

void cy_s8_quantize(const float *src, int8_t *dst, size_t n, float inv_scale) {
    size_t done = 0;
#if defined(__AVX512F__)
    const long blocks = (long)(n / 16);
#pragma omp parallel for schedule(static) if (blocks > 4096)
    for (long b = 0; b < blocks; b++) {
        __m512 v = _mm512_mul_ps(_mm512_loadu_ps(src + 16 * b), _mm512_set1_ps(inv_scale));
        v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-127.0f)), _mm512_set1_ps(127.0f));
        __m512i q = _mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i *)(dst + 16 * b), _mm512_cvtsepi32_epi8(q));
    }
    done = (size_t)blocks * 16;
#endif
    for (size_t i = done; i < n; i++) dst[i] = (int8_t)nearbyintf(clamp127(src[i] * inv_scale));
}

float cy_abs_max(const float *x, size_t n) {
    float m = 0;
    const long k = (long)n;
#pragma omp parallel for simd reduction(max : m) schedule(static) if (k > 65536)
    for (long i = 0; i < k; i++) m = fmaxf(m, fabsf(x[i]));
    return m;
}

int cy_conv_quantize_s8(const cy_conv_params *p, int O, size_t per_o, int8_t *qw, float *scale, float *bias) {
    float *w = malloc((size_t)O * per_o * sizeof *w);
    if (!w) return -1;
    cy_conv_fold_bn(p, O, per_o, w, bias);
    for (int o = 0; o < O; o++) {
        const float *wo = w + (size_t)o * per_o;
        float m = 0;
        for (size_t i = 0; i < per_o; i++) m = fmaxf(m, fabsf(wo[i]));
        const float ws = m > 0 ? m / 127.0f : 1.0f;
        for (size_t i = 0; i < per_o; i++) qw[(size_t)o * per_o + i] = (int8_t)nearbyintf(clamp127(wo[i] / ws));
        scale[o] = p->in_scale * ws;
        bias[o] = bias[o] / scale[o];
    }
    free(w);
    return 0;
}
