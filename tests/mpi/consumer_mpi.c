/* A program built against the installed libmovieme with mpicc alone:
   distributed training through movieme_mpi.h, the model saved by rank 0.
   consumer_mpi DATA MODEL */
#include <movieme_mpi.h>

#include <stdio.h>

int main(int argc, char **argv)
{
    int provided, rank;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    rec_als_params p;
    rec_als_params_init(&p);
    p.rank = 8;
    p.preference = 0; /* the hybrid model is not distributed yet */
    rec_model *m = NULL;
    rec_error e;
    int rc = 0;
    if (argc != 3 ||
        rec_train_als_mpi(&m, MPI_COMM_WORLD, argv[1], &p, NULL, &e) != REC_OK ||
        (m && rec_model_save(m, argv[2], &e) != REC_OK)) {
        fprintf(stderr, "rank %d: %s\n", rank, argc == 3 ? e.msg : "usage");
        rc = 1;
    } else if (rank == 0) {
        printf("rank 0: %zu users, %zu movies, saved %s\n",
               rec_model_n_users(m), rec_model_n_movies(m), argv[2]);
    }
    rec_model_free(m);
    MPI_Finalize();
    return rc;
}
