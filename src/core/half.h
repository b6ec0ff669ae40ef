/* IEEE 754 binary16 <-> float32, as torch's .half() / .float() convert:
 * round to nearest even, subnormals kept, overflow to infinity, NaN stays NaN. */
#ifndef CY_CORE_HALF_H
#define CY_CORE_HALF_H
#include <stdint.h>

uint16_t cy_f32_to_half(float f);
float cy_half_to_f32(uint16_t h);

#endif
