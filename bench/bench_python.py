"""Python binding benchmarks (issue 12): the numpy paths against the row-by-row
ones, and pickling against Model.save. Prints what it measured.

    PYTHONPATH=build/bindings/python /usr/bin/python3 bench/bench_python.py \
        [--rows 500000] [--pairs 2000000] [--rank 50] [--repeat 3]

The data are synthetic (users, movies and ratings drawn at random), built in
memory, so the loader's parsing is not part of any number.
"""
import argparse
import ctypes
import os
import pickle
import statistics
import tempfile
import time

import numpy as np

import movieme


def _linked_library():
    with open("/proc/self/maps") as f:
        for line in f:
            if "/libmovieme.so" in line:
                return line.split()[-1]
    raise RuntimeError("libmovieme is not mapped")


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=500_000)
    ap.add_argument("--pairs", type=int, default=2_000_000)
    ap.add_argument("--scalar-pairs", type=int, default=200_000)
    ap.add_argument("--rank", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()

    rng = np.random.default_rng(1)
    n_users, n_movies = max(a.rows // 150, 10), max(a.rows // 40, 10)
    users = rng.integers(1, n_users + 1, a.rows)
    movies = rng.integers(1, n_movies + 1, a.rows)
    ratings = rng.integers(1, 11, a.rows) / 2.0
    print("rows %d (%d users, %d movies)" % (a.rows, n_users, n_movies))

    t_arr = best_of(lambda: movieme.Ratings.from_arrays(users, movies,
                                                        ratings), a.repeat)
    # The C call alone on the same data held in memory as int32/float32
    # (what the loader builds from a file), through ctypes.
    lib = ctypes.CDLL(_linked_library())
    lib.rec_ratings_from_arrays.restype = ctypes.c_int
    lib.rec_ratings_free.argtypes = [ctypes.c_void_p]
    u32, m32 = users.astype(np.int32), movies.astype(np.int32)
    r32 = ratings.astype(np.float32)

    def c_build():
        h = ctypes.c_void_p()
        st = lib.rec_ratings_from_arrays(
            ctypes.byref(h), u32.ctypes.data_as(ctypes.c_void_p),
            m32.ctypes.data_as(ctypes.c_void_p),
            r32.ctypes.data_as(ctypes.c_void_p), ctypes.c_size_t(a.rows),
            None)
        assert st == 0
        lib.rec_ratings_free(h)
    t_c = best_of(c_build, a.repeat)
    ul, ml, rl = users.tolist(), movies.tolist(), ratings.tolist()

    def zip_path():
        r = movieme.Ratings()
        r.add(zip(ul, ml, rl))
    t_zip = best_of(zip_path, a.repeat)
    print("rec_ratings_from_arrays (C, int32/float32) %8.3f s" % t_c)
    print("Ratings.from_arrays (int64/float64 arrays) %8.3f s  (%.2fx the C call)"
          % (t_arr, t_arr / t_c))
    print("Ratings().add(zip(...))                    %8.3f s  (%.1fx slower)"
          % (t_zip, t_zip / t_arr))

    r = movieme.Ratings.from_arrays(users, movies, ratings)
    t = time.perf_counter()
    model = movieme.train_als(r, rank=a.rank, iterations=2)
    print("train rank %d, 2 iterations %8.3f s" % (a.rank,
                                                  time.perf_counter() - t))

    pu = rng.integers(1, n_users + 1, a.pairs)
    pm = rng.integers(1, n_movies + 1, a.pairs)
    t_vec = best_of(lambda: model.predict(pu, pm), a.repeat)
    su, sm = pu[:a.scalar_pairs].tolist(), pm[:a.scalar_pairs].tolist()
    predict = model.predict

    def scalar_loop():
        for x, y in zip(su, sm):
            predict(x, y)
    t_sc = best_of(scalar_loop, 1) / len(su)
    print("predict(arrays) %d pairs %8.3f s  = %.1f ns/pair"
          % (a.pairs, t_vec, t_vec / a.pairs * 1e9))
    print("predict(int, int) loop    %8.1f ns/pair  (%.0fx slower)"
          % (t_sc * 1e9, t_sc / (t_vec / a.pairs)))

    d = tempfile.mkdtemp()
    path = os.path.join(d, "m.bin")
    t_save = best_of(lambda: model.save(path), a.repeat)
    t_pickle = best_of(lambda: pickle.dumps(model, protocol=5), a.repeat)
    blob = pickle.dumps(model, protocol=5)
    t_unpickle = best_of(lambda: pickle.loads(blob), a.repeat)
    t_load = best_of(lambda: movieme.load_model(path), a.repeat)
    print("model file %d bytes" % os.path.getsize(path))
    print("Model.save %8.3f s   pickle.dumps %8.3f s (%.2fx)"
          % (t_save, t_pickle, t_pickle / t_save))
    print("load_model %8.3f s   pickle.loads %8.3f s (%.2fx)"
          % (t_load, t_unpickle, t_unpickle / t_load))
    os.remove(path)
    os.rmdir(d)


if __name__ == "__main__":
    main()
