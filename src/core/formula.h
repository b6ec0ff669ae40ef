/* The deterministic "formula" initialisation of shared/reference/manifest.json:
 * every tensor element is a pure function of the tensor's state_dict name and
 * its flat index, so C and Python rebuild identical weights without files. */
#ifndef CY_CORE_FORMULA_H
#define CY_CORE_FORMULA_H
#include <stddef.h>
#include <stdint.h>

uint32_t cy_formula_hash(uint32_t x);
uint32_t cy_formula_seed(const char *name);            /* FNV-1a, 32 bit */
double cy_formula_u(uint32_t seed, uint32_t i);        /* in [0, 1) */

typedef enum {
    CY_FORMULA_WEIGHT,      /* ndim >= 2: (u-0.5)*2*sqrt(3/fan_in) */
    CY_FORMULA_BN_WEIGHT,   /* 0.8 + 0.4u */
    CY_FORMULA_BN_BIAS,     /* 0.2(u-0.5) */
    CY_FORMULA_BN_MEAN,     /* 0.2(u-0.5) */
    CY_FORMULA_BN_VAR,      /* 0.5 + u */
    CY_FORMULA_BIAS,        /* other 1-D float tensors: 0.2(u-0.5) */
    CY_FORMULA_INPUT        /* plain u (the reference input tensor) */
} cy_formula_rule;

/* Fills x[0..n) by `rule` for tensor `name`; fan_in is used by WEIGHT only. */
void cy_formula_fill(float *x, size_t n, const char *name, cy_formula_rule rule,
                     size_t fan_in);

#endif
