/*
 * movieme_numpy.i - numpy in and out, and models as bytes, for the Python
 * binding (included by movieme_python.i after the shared interface).
 *
 * Columns cross as whole arrays through the numpy C API: inputs are
 * converted once (any integer or float dtype, any strides) and checked
 * element by element in C, outputs are new arrays that own malloc'd
 * memory (copies: they never point into a model or dataset, so they
 * outlive it). The C work runs with the GIL released; a lock is never
 * awaited while the GIL is held.
 */


%feature("nothread") mm_ratings::from_arrays;
%feature("nothread") mm_ratings::to_arrays;
%feature("nothread") mm_model::predict_many;
%feature("nothread") mm_model::factor_matrix;
%feature("nothread") mm_model::top_n_many;

%extend mm_ratings {
    /** A new dataset from three array-likes (rec_ratings_from_arrays). */
    static PyObject *from_arrays(PyObject *users, PyObject *movies,
                                 PyObject *ratings) {
        mm_error err;
        npy_intp nu = 0, nm = 0, nr = 0;
        int32_t *u = NULL, *m = NULL;
        float *v = NULL;
        rec_ratings *h = NULL;
        mm_ratings *w = NULL;
        rec_status st;
        mm_error_init(&err);
        if (!(u = mm_np_ids(users, "users", 0, &nu)) ||
            !(m = mm_np_ids(movies, "movies", 0, &nm)) ||
            !(v = mm_np_ratings(ratings, "ratings", &nr)))
            goto fail;
        if (nu != nm || nu != nr) {
            char msg[160];
            snprintf(msg, sizeof msg, "users, movies and ratings must have "
                     "the same length, got %ld, %ld and %ld", (long)nu,
                     (long)nm, (long)nr);
            mm_py_raise_code(REC_EINVAL, msg, NULL);
            goto fail;
        }
        Py_BEGIN_ALLOW_THREADS
        st = rec_ratings_from_arrays(&h, u, m, v, (size_t)nu, &err.e);
        if (mm_check(&err, st) == REC_OK)
            w = mm_ratings_wrap(h, &err);
        Py_END_ALLOW_THREADS
        free(u);
        free(m);
        free(v);
        if (!w) {
            mm_py_raise(&err);
            return NULL;
        }
        return SWIG_NewPointerObj(SWIG_as_voidptr(w), SWIGTYPE_p_mm_ratings,
                                  SWIG_POINTER_OWN);
    fail:
        free(u);
        free(m);
        free(v);
        return NULL;
    }

    /** (users, movies, ratings) as new int32/int32/float32 arrays, by user
        id then movie id (rec_ratings_to_arrays). */
    PyObject *to_arrays() {
        mm_error err;
        size_t n = 0;
        int32_t *u = NULL, *m = NULL;
        float *v = NULL;
        npy_intp dims[1];
        PyObject *au, *am, *av;
        rec_status st = REC_OK;
        mm_error_init(&err);
        Py_BEGIN_ALLOW_THREADS
        MM_RDLOCK($self);
        n = rec_ratings_n_ratings($self->h);
        u = (int32_t *)mm_np_malloc(n, sizeof *u);
        m = (int32_t *)mm_np_malloc(n, sizeof *m);
        v = (float *)mm_np_malloc(n, sizeof *v);
        if (!u || !m || !v)
            st = mm_failf(&err, REC_ENOMEM, "out of memory");
        else
            st = mm_check(&err, rec_ratings_to_arrays(u, m, v, n, &n,
                                                      $self->h, &err.e));
        MM_UNLOCK($self);
        Py_END_ALLOW_THREADS
        if (st != REC_OK) {
            free(u);
            free(m);
            free(v);
            mm_py_raise(&err);
            return NULL;
        }
        dims[0] = (npy_intp)n;
        au = mm_np_own(u, 1, dims, NPY_INT32);
        am = mm_np_own(m, 1, dims, NPY_INT32);
        av = mm_np_own(v, 1, dims, NPY_FLOAT32);
        if (!au || !am || !av) {
            Py_XDECREF(au);
            Py_XDECREF(am);
            Py_XDECREF(av);
            return NULL;
        }
        return Py_BuildValue("(NNN)", au, am, av);
    }
}

%extend mm_model {
    /** Predictions for pairs (rec_predict_many): a new float32 array. */
    PyObject *predict_many(PyObject *users, PyObject *movies) {
        mm_error err;
        npy_intp nu = 0, nm = 0;
        int32_t *u = NULL, *m = NULL;
        float *out = NULL;
        rec_status st = REC_OK;
        mm_error_init(&err);
        if (!(u = mm_np_ids(users, "users", INT32_MIN, &nu)) ||
            !(m = mm_np_ids(movies, "movies", INT32_MIN, &nm))) {
            free(u);
            return NULL;
        }
        if (nu != nm) {
            char msg[120];
            free(u);
            free(m);
            snprintf(msg, sizeof msg, "users and movies must have the same "
                     "length, got %ld and %ld", (long)nu, (long)nm);
            mm_py_raise_code(REC_EINVAL, msg, NULL);
            return NULL;
        }
        out = (float *)mm_np_malloc((size_t)nu, sizeof *out);
        Py_BEGIN_ALLOW_THREADS
        if (!out) {
            st = mm_failf(&err, REC_ENOMEM, "out of memory");
        } else {
            MM_RDLOCK($self);
            st = mm_check(&err, rec_predict_many(out, $self->h, u, m,
                                                 (size_t)nu, &err.e));
            MM_UNLOCK($self);
        }
        Py_END_ALLOW_THREADS
        free(u);
        free(m);
        if (st != REC_OK) {
            free(out);
            mm_py_raise(&err);
            return NULL;
        }
        return mm_np_own(out, 1, &nu, NPY_FLOAT32);
    }

    /** Top n of many users (rec_top_n_many): (movie_ids, scores,
        ratings), new int32, float32 and float32 arrays of shape (users, n);
        a row with fewer than n candidates is padded with id -1 and NaN. */
    PyObject *top_n_many(PyObject *users, long long n, PyObject *topts) {
        mm_error err;
        mm_top_opts to;
        const rec_top_n_options *opts = NULL;
        npy_intp nu = 0, i, j, dims[2];
        int32_t *u, *ids = NULL;
        float *scores = NULL, *ratings = NULL;
        rec_scored *out = NULL;
        size_t *n_out = NULL, cells;
        rec_status st = REC_OK;
        mm_error_init(&err);
        if (mm_check_n(n, &err) != REC_OK) {
            mm_py_raise(&err);
            return NULL;
        }
        if (mm_py_top_opts(&to, &opts, topts) < 0) {
            mm_top_opts_free(&to);
            return NULL;
        }
        if (!(u = mm_np_ids(users, "user_ids", INT32_MIN, &nu))) {
            mm_top_opts_free(&to);
            return NULL;
        }
        if (n > 0 && (unsigned long long)nu > SIZE_MAX / (size_t)n / 8) {
            free(u);
            mm_top_opts_free(&to);
            return PyErr_NoMemory();
        }
        cells = (size_t)nu * (size_t)n;
        Py_BEGIN_ALLOW_THREADS
        out = (rec_scored *)mm_np_malloc(cells, sizeof *out);
        n_out = (size_t *)mm_np_malloc((size_t)nu, sizeof *n_out);
        ids = (int32_t *)mm_np_malloc(cells, sizeof *ids);
        scores = (float *)mm_np_malloc(cells, sizeof *scores);
        ratings = (float *)mm_np_malloc(cells, sizeof *ratings);
        if (!out || !n_out || !ids || !scores || !ratings) {
            st = mm_failf(&err, REC_ENOMEM, "out of memory");
        } else {
            MM_RDLOCK($self);
            st = mm_check(&err, rec_top_n_many(out, (size_t)n, n_out,
                                               $self->h, u, (size_t)nu, opts,
                                               &err.e));
            MM_UNLOCK($self);
        }
        if (st == REC_OK)
            for (i = 0; i < nu; i++)
                for (j = 0; j < (npy_intp)n; j++) {
                    size_t c = (size_t)i * (size_t)n + (size_t)j;
                    int have = (size_t)j < n_out[i];
                    ids[c] = have ? out[c].movie_id : -1;
                    scores[c] = have ? out[c].score : NAN;
                    ratings[c] = have ? out[c].rating : NAN;
                }
        Py_END_ALLOW_THREADS
        free(u);
        free(out);
        free(n_out);
        mm_top_opts_free(&to);
        if (st != REC_OK) {
            free(ids);
            free(scores);
            free(ratings);
            mm_py_raise(&err);
            return NULL;
        }
        dims[0] = nu;
        dims[1] = (npy_intp)n;
        {
            PyObject *ai = mm_np_own(ids, 2, dims, NPY_INT32);
            PyObject *as = mm_np_own(scores, 2, dims, NPY_FLOAT32);
            PyObject *ar = mm_np_own(ratings, 2, dims, NPY_FLOAT32);
            if (!ai || !as || !ar) {
                Py_XDECREF(ai);
                Py_XDECREF(as);
                Py_XDECREF(ar);
                return NULL;
            }
            return Py_BuildValue("(NNN)", ai, as, ar);
        }
    }

    /** (ids, factors, biases) of every user (users true) or movie, rows by
        ascending id: new int32 (n,), float32 (n, rank), float32 (n,). */
    PyObject *factor_matrix(bool users) {
        mm_error err;
        size_t n = 0, k;
        int32_t *ids = NULL;
        float *f = NULL, *b = NULL;
        npy_intp dims[2];
        PyObject *ai, *af, *ab;
        rec_status st = REC_OK;
        mm_error_init(&err);
        Py_BEGIN_ALLOW_THREADS
        MM_RDLOCK($self);
        k = (size_t)rec_model_rank($self->h);
        n = users ? rec_model_n_users($self->h) : rec_model_n_movies($self->h);
        ids = (int32_t *)mm_np_malloc(n, sizeof *ids);
        f = (float *)mm_np_malloc(n, k * sizeof *f);
        b = (float *)mm_np_malloc(n, sizeof *b);
        if (!ids || !f || !b)
            st = mm_failf(&err, REC_ENOMEM, "out of memory");
        else if (users)
            st = mm_check(&err, rec_model_user_matrix(f, b, ids, n, &n,
                                                      $self->h, &err.e));
        else
            st = mm_check(&err, rec_model_movie_matrix(f, b, ids, n, &n,
                                                       $self->h, &err.e));
        MM_UNLOCK($self);
        Py_END_ALLOW_THREADS
        if (st != REC_OK) {
            free(ids);
            free(f);
            free(b);
            mm_py_raise(&err);
            return NULL;
        }
        dims[0] = (npy_intp)n;
        dims[1] = (npy_intp)k;
        ai = mm_np_own(ids, 1, dims, NPY_INT32);
        af = mm_np_own(f, 2, dims, NPY_FLOAT32);
        ab = mm_np_own(b, 1, dims, NPY_FLOAT32);
        if (!ai || !af || !ab) {
            Py_XDECREF(ai);
            Py_XDECREF(af);
            Py_XDECREF(ab);
            return NULL;
        }
        return Py_BuildValue("(NNN)", ai, af, ab);
    }
}

/* ---- bytes: models to and from memory (pickle) ---- */

%feature("nothread") mm_model::to_bytes;
%feature("nothread") mm_model::from_bytes;

%extend mm_model {
    /** The model file's bytes (rec_model_save_mem), as a new bytes. */
    PyObject *to_bytes() {
        mm_error err;
        size_t need = 0, len = 0;
        rec_status st;
        PyObject *out = NULL;
        mm_error_init(&err);
        Py_BEGIN_ALLOW_THREADS
        MM_RDLOCK($self);
        st = mm_check(&err, rec_model_save_mem(NULL, 0, &need, $self->h,
                                               &err.e));
        Py_END_ALLOW_THREADS /* the read lock stays held: the size holds */
        if (st == REC_OK && (size_t)PY_SSIZE_T_MAX < need)
            st = mm_failf(&err, REC_ENOMEM, "model of %zu bytes", need);
        if (st == REC_OK &&
            !(out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)need)))
            st = mm_failf(&err, REC_ENOMEM, "out of memory");
        Py_BEGIN_ALLOW_THREADS
        if (st == REC_OK)
            st = mm_check(&err, rec_model_save_mem(PyBytes_AS_STRING(out),
                                                   need, &len, $self->h,
                                                   &err.e));
        MM_UNLOCK($self);
        Py_END_ALLOW_THREADS
        if (st != REC_OK) {
            Py_XDECREF(out);
            PyErr_Clear();
            mm_py_raise(&err);
            return NULL;
        }
        return out;
    }

    /** A model from bytes-like data (rec_model_load_mem). */
    static PyObject *from_bytes(PyObject *data) {
        mm_error err;
        Py_buffer view;
        rec_model *h = NULL;
        mm_model *w = NULL;
        rec_status st;
        mm_error_init(&err);
        if (PyObject_GetBuffer(data, &view, PyBUF_C_CONTIGUOUS) < 0)
            return NULL;
        Py_BEGIN_ALLOW_THREADS
        st = rec_model_load_mem(&h, view.buf, (size_t)view.len, &err.e);
        if (mm_check(&err, st) == REC_OK)
            w = mm_model_wrap(h, &err);
        Py_END_ALLOW_THREADS
        PyBuffer_Release(&view);
        if (!w) {
            mm_py_raise(&err);
            return NULL;
        }
        return SWIG_NewPointerObj(SWIG_as_voidptr(w), SWIGTYPE_p_mm_model,
                                  SWIG_POINTER_OWN);
    }
}

%init %{
    import_array();
%}
