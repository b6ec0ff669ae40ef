/* Status codes and per-call error messages. The library never prints or exits:
 * a failing function fills a caller-owned cy_error and returns its status. */
#ifndef CY_CORE_STATUS_H
#define CY_CORE_STATUS_H
#include "cyolo.h"

/* Formats msg into err (when err is not NULL) and returns status. */
cy_status cy_fail(cy_error *err, cy_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define CY_TRY(expr)                      \
    do {                                  \
        cy_status cy_try_s_ = (expr);     \
        if (cy_try_s_ != CY_OK) return cy_try_s_; \
    } while (0)

#endif
