/*
 * tsan_canary.c - breaks the header's rule on purpose: rec_add_user() on a
 * model while another thread calls rec_top_n() on it, without a lock.
 * scripts/test-sanitizers.sh builds it against the TSan library and expects
 * ThreadSanitizer to report the race: proof that the TSan run (with libomp
 * and Archer, no suppressions) is live and that the exclusive-access rule
 * is real. Not a CTest test. Usage: tsan_canary DATASET_DIR
 */
#include <pthread.h>
#include <stdio.h>
#include "movieme.h"
static rec_model *m;
static volatile int stop, calls;
/* Plain volatile flags (no happens-before for TSan): the writer keeps
   adding users until the reader has run for a while, so that the two
   overlap however the threads are scheduled on a loaded machine. */
static void *reader(void *a) { (void)a; rec_scored o[10]; size_t n; rec_error e;
  while (!stop) { rec_top_n(o, 10, &n, m, 1, &e); calls = calls + 1; } return NULL; }
int main(int argc, char **argv) {
  rec_ratings *r; rec_error e; rec_als_params p; rec_als_params_init(&p); p.rank=4; p.iterations=2;
  if (rec_load_movielens(&r, argv[1], &e)) { puts(e.msg); return 1; }
  if (rec_train_als(&m, r, &p, &e)) { puts(e.msg); return 1; }
  pthread_t t; pthread_create(&t, NULL, reader, NULL);
  for (int i = 0; i < 200 || (calls < 20 && i < 20000); i++) { int32_t id; rec_movie_rating mr[1] = {{1, 4.0f}};
    rec_add_user(&id, m, REC_NEW_USER, mr, 1, &e); }
  stop = 1; pthread_join(t, NULL);
  rec_model_free(m); rec_ratings_free(r); puts("done"); return 0; }
