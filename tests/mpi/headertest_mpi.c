/* movieme_mpi.h must stand alone, pedantic and warning-free. */
#include "movieme_mpi.h"

int rec_headertest_mpi(void);
int rec_headertest_mpi(void)
{
    rec_mpi_options o;
    rec_mpi_options_init(&o);
    return o.version == REC_MPI_OPTIONS_VERSION ? 0 : 1;
}
