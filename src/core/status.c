#include "core/status.h"
#include <stdarg.h>
#include <stdio.h>

cy_status cy_fail(cy_error *err, cy_status status, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

const char *cy_status_name(cy_status s) {
    switch (s) {
    case CY_OK: return "ok";
    case CY_ERR_ARG: return "invalid argument";
    case CY_ERR_IO: return "i/o error";
    case CY_ERR_FORMAT: return "malformed input";
    case CY_ERR_MEMORY: return "out of memory";
    case CY_ERR_UNSUPPORTED: return "unsupported";
    case CY_ERR_BACKEND: return "backend failure";
    }
    return "unknown status";
}
