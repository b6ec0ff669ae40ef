#include "core/formula.h"
#include <math.h>

uint32_t cy_formula_hash(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

uint32_t cy_formula_seed(const char *name) {
    uint32_t h = 2166136261U;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= 16777619U;
    }
    return h;
}

double cy_formula_u(uint32_t seed, uint32_t i) {
    return (double)cy_formula_hash(seed ^ cy_formula_hash(i)) / 4294967296.0;
}

void cy_formula_fill(float *x, size_t n, const char *name, cy_formula_rule rule,
                     size_t fan_in) {
    uint32_t seed = cy_formula_seed(name);
    double bound = fan_in ? 2.0 * sqrt(3.0 / (double)fan_in) : 0.0;
    for (size_t i = 0; i < n; i++) {
        double u = cy_formula_u(seed, (uint32_t)i), v;
        switch (rule) {
        case CY_FORMULA_WEIGHT: v = (u - 0.5) * bound; break;
        case CY_FORMULA_BN_WEIGHT: v = 0.8 + 0.4 * u; break;
        case CY_FORMULA_BN_VAR: v = 0.5 + u; break;
        case CY_FORMULA_INPUT: v = u; break;
        default: v = 0.2 * (u - 0.5); break;
        }
        x[i] = (float)v; /* the one rounding to float32, to nearest even */
    }
}
