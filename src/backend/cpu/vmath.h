/* exp, sigmoid and SiLU written so that GCC vectorises loops that call them
 * (glibc's expf is a scalar call without -ffast-math). Cephes' expf
 * polynomial: about 1 ulp over the clamped range [-87.3, 88]. */
#ifndef CY_BACKEND_CPU_VMATH_H
#define CY_BACKEND_CPU_VMATH_H
#include <stdint.h>
#include <string.h>

static inline float cpu_expf(float x) {
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.0f ? 88.0f : x;
    /* n = round(x / ln2) by the 1.5 * 2^23 trick */
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t e = ((int32_t)n + 127) << 23;
    float s;
    memcpy(&s, &e, sizeof s);
    return p * s;
}

static inline float cpu_sigmoid(float x) { return 1.0f / (1.0f + cpu_expf(-x)); }
static inline float cpu_silu(float x) { return x / (1.0f + cpu_expf(-x)); }
#endif
