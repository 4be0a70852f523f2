// Open MPI for Swift. The handles MPI_COMM_WORLD, MPI_DOUBLE, ... are macros that Swift
// cannot import; these inline functions hand them over as values.
#include <mpi.h>

static inline MPI_Comm wgf_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype wgf_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype wgf_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype wgf_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op wgf_mpi_max(void) { return MPI_MAX; }
static inline MPI_Op wgf_mpi_sum(void) { return MPI_SUM; }
static inline void *wgf_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Info wgf_mpi_info_null(void) { return MPI_INFO_NULL; }
