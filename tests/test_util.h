/* Minimal test harness: CHECK records a failure and goes on; main returns
 * test_summary(), which prints "N passed, N failed". */
#ifndef CY_TEST_UTIL_H
#define CY_TEST_UTIL_H
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_passed_, test_failed_;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (cond) {                                                       \
            test_passed_++;                                               \
        } else {                                                          \
            test_failed_++;                                               \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                 \
            fputc('\n', stderr);                                          \
        }                                                                 \
    } while (0)

static inline int test_summary(void) {
    printf("%d passed, %d failed\n", test_passed_, test_failed_);
    return test_failed_ ? 1 : 0;
}

/* Deterministic xorshift for random test data. */
static inline uint32_t test_rand_u32(uint64_t *s) {
    *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17;
    return (uint32_t)(*s >> 11);
}
static inline float test_rand_uniform(uint64_t *s, float lo, float hi) {
    return lo + (hi - lo) * (float)(test_rand_u32(s) & 0xffffff) / 16777216.0f;
}
static inline void test_fill(float *x, size_t n, uint64_t *s, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = test_rand_uniform(s, lo, hi);
}
/* max |a-b| / max(1, max|b|) */
static inline double test_max_rel(const float *a, const float *b, size_t n) {
    double d = 0, m = 1;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (!(e <= d)) d = e;  /* NaN propagates as failure */
        if (fabs(b[i]) > m) m = fabs(b[i]);
    }
    return d / m;
}
/* A malloc'd double copy of x (for double-precision reference checks). */
static inline double *test_to_double(const float *x, size_t n) {
    double *d = malloc((n ? n : 1) * sizeof *d);
    for (size_t i = 0; i < n; i++) d[i] = x[i];
    return d;
}
/* max |a-b| / max(1, max|b|), b in double */
static inline double test_max_rel_d(const float *a, const double *b, size_t n) {
    double e = 0, m = 1;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs(a[i] - b[i]);
        if (!(d <= e)) e = d;
        if (fabs(b[i]) > m) m = fabs(b[i]);
    }
    return e / m;
}
#endif
