/* error.c - status codes, their static text, and filling rec_error. */
#include "internal.h"

#include <stdio.h>

rec_status rec__fail(rec_error *err, rec_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        if (vsnprintf(err->msg, sizeof err->msg, fmt, ap) < 0)
            err->msg[0] = '\0';
        va_end(ap);
    }
    return code;
}

const char *rec_strerror(rec_status code)
{
    switch (code) {
    case REC_OK: return "success";
    case REC_EINVAL: return "invalid argument";
    case REC_ENOMEM: return "out of memory";
    case REC_EIO: return "input/output error";
    case REC_EFORMAT: return "bad data format";
    case REC_ENOTFOUND: return "not found";
    case REC_ELAPACK: return "dense solve failed";
    case REC_ECANCELED: return "canceled";
    default: return "unknown error";
    }
}
