/* version.c - the runtime twin of the REC_VERSION_* macros. */
#include "internal.h"

unsigned rec_version_number(void)
{
    return REC_VERSION_NUMBER;
}

const char *rec_version_string(void)
{
    return REC_VERSION_STRING;
}
