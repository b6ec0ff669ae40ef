/* Shared by the backends' reduced-precision convolutions, so that the fast
 * kernel and its reference round the same numbers the same way. */
#ifndef CY_BACKEND_CONV_LOWP_H
#define CY_BACKEND_CONV_LOWP_H
#include <stdint.h>
#include <string.h>
#include "backend/backend.h"

/* float -> bfloat16 bits as AVX512-BF16's VCVTNEPS2BF16 converts: round to
 * nearest even, denormals to signed zero, NaN kept quiet */
static inline uint16_t cy_bf16_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    if (!(u & 0x7f800000u)) return (uint16_t)((u >> 16) & 0x8000);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float cy_bf16_to_float(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static inline float cy_bf16_round(float x) { return cy_bf16_to_float(cy_bf16_bits(x)); }

/* n floats -> bfloat16 bits, as cy_bf16_bits (vectorised where the
 * compiler targets AVX512-BF16; OpenMP over the elements) */
void cy_bf16_convert(const float *src, uint16_t *dst, size_t n);

/* INT8: n floats -> int8 as round(clamp(x * inv_scale, -127, 127)),
 * nearest even (vectorised where the compiler targets AVX-512) */
void cy_s8_quantize(const float *src, int8_t *dst, size_t n, float inv_scale);
/* max |x| over n floats (OpenMP) */
float cy_abs_max(const float *x, size_t n);
/* INT8 weights: p's weights, BN folded (cy_conv_fold_bn), quantized per
 * output channel with step w_scale[o] = max|w_o| / 127 (1 where all are 0);
 * qw: O x per_o int8; scale[o] = in_scale * w_scale[o] (the output scale);
 * bias[o] = folded bias / scale[o] (added to the integer sum before
 * scaling). 0, or -1 when out of memory. */
int cy_conv_quantize_s8(const cy_conv_params *p, int O, size_t per_o, int8_t *qw, float *scale, float *bias);

/* Eval BatchNorm folded into p's weights and bias, as the cpu backend's fused
 * convolution computes them (scale in double from sqrtf(var + eps), each
 * value rounded once to float). w_out: O x per_o floats; b_out: O floats
 * (the conv's bias, folded, or 0). Without BN: a copy. */
void cy_conv_fold_bn(const cy_conv_params *p, int O, size_t per_o, float *w_out, float *b_out);

#endif
