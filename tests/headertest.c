/* Compiles the public header alone with -pedantic -Werror (as libgit2 does). */
#include "movieme.h"
#include "movieme.h" /* include guard works */

int rec_headertest_dummy(void);
int rec_headertest_dummy(void) { return REC_OK; }
