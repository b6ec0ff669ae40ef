#include "backend/conv_lowp.h"
#include <math.h>
#if defined(__AVX512BF16__)
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
