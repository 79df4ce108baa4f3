/*
 * movieme_python.i - the Python 3 side of the SWIG binding.
 *
 * Builds movieme/_movieme.py + movieme/_movieme_c*.so, the low-level layer.
 * The package's __init__.py wraps it in the documented API (named tuples,
 * keyword arguments, properties); applications never import _movieme.
 *
 * Built with -threads: every call releases the GIL around the C work, and
 * the progress trampoline takes it back to call Python.
 */
%module(package="movieme",
        docstring="Low-level SWIG layer of movieme; use the movieme package.") _movieme

%feature("autodoc", "1");

%{
#define SWIG_FILE_WITH_INIT
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <numpy/arrayobject.h>
#include "movieme_bind.h"

/* Raise the movieme.Error subclass for a C status. The classes live in
   movieme/_errors.py, so the whole hierarchy is ordinary Python. */
static void mm_py_raise_code(int code, const char *msg, const char *path)
{
    PyObject *mod, *fn, *pmsg, *ppath, *exc;
    mod = PyImport_ImportModule("movieme._errors");
    if (!mod)
        return;
    fn = PyObject_GetAttrString(mod, "_from_status");
    Py_DECREF(mod);
    if (!fn)
        return;
    pmsg = PyUnicode_DecodeUTF8(msg, (Py_ssize_t)strlen(msg), "replace");
    if (path)
        ppath = PyUnicode_DecodeFSDefault(path);
    else {
        ppath = Py_None;
        Py_INCREF(ppath);
    }
    exc = (pmsg && ppath)
              ? PyObject_CallFunction(fn, "iOO", code, pmsg, ppath)
              : NULL;
    Py_XDECREF(pmsg);
    Py_XDECREF(ppath);
    Py_DECREF(fn);
    if (!exc)
        return;
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
}

static void mm_py_raise(const mm_error *err)
{
    mm_py_raise_code(err->e.code, mm_error_message(err), err->path);
}

/* An int32 id from a Python integer (or anything with __index__). */
static int mm_py_id(int32_t *out, PyObject *o, const char *what)
{
    long long v;
    PyObject *i = PyNumber_Index(o);
    if (!i)
        return -1;
    v = PyLong_AsLongLong(i);
    Py_DECREF(i);
    if (v == -1 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError))
            return -1;
        PyErr_Clear();
        v = LLONG_MAX;
    }
    if (v < INT32_MIN || v > INT32_MAX) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s %lld is out of range", what, v);
        mm_py_raise_code(REC_EINVAL, msg, NULL);
        return -1;
    }
    *out = (int32_t)v;
    return 0;
}

static int mm_py_float(float *out, PyObject *o)
{
    double d = PyFloat_AsDouble(o);
    if (d == -1.0 && PyErr_Occurred())
        return -1;
    *out = (float)d;
    return 0;
}

/* Rows (user_id, movie_id, rating) from any iterable of 3-sequences. */
static int mm_py_rows(rec_rating **out, size_t *n_out, PyObject *obj)
{
    PyObject *seq = PySequence_Fast(obj, "rows must be an iterable of "
                                         "(user_id, movie_id, rating)");
    Py_ssize_t i, n;
    rec_rating *rows;
    if (!seq)
        return -1;
    n = PySequence_Fast_GET_SIZE(seq);
    rows = (rec_rating *)malloc((size_t)(n ? n : 1) * sizeof *rows);
    if (!rows) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (i = 0; i < n; i++) {
        PyObject *row = PySequence_Fast(PySequence_Fast_GET_ITEM(seq, i),
                                        "each row must be a sequence "
                                        "(user_id, movie_id, rating)");
        int bad;
        if (!row)
            goto fail;
        if (PySequence_Fast_GET_SIZE(row) != 3) {
            Py_DECREF(row);
            PyErr_Format(PyExc_TypeError,
                         "row %zd: expected (user_id, movie_id, rating)", i);
            goto fail;
        }
        bad = mm_py_id(&rows[i].user_id, PySequence_Fast_GET_ITEM(row, 0),
                       "user id") < 0 ||
              mm_py_id(&rows[i].movie_id, PySequence_Fast_GET_ITEM(row, 1),
                       "movie id") < 0 ||
              mm_py_float(&rows[i].rating, PySequence_Fast_GET_ITEM(row, 2)) < 0;
        Py_DECREF(row);
        if (bad)
            goto fail;
    }
    Py_DECREF(seq);
    *out = rows;
    *n_out = (size_t)n;
    return 0;
fail:
    Py_DECREF(seq);
    free(rows);
    return -1;
}

/* (movie_id, rating) pairs from a dict / mapping or an iterable of pairs. */
static int mm_py_pairs(rec_movie_rating **out, size_t *n_out, PyObject *obj)
{
    PyObject *items = NULL, *seq;
    Py_ssize_t i, n;
    rec_movie_rating *v;
    if (PyDict_Check(obj)) {
        items = PyDict_Items(obj);
    } else if (!PyList_Check(obj) && !PyTuple_Check(obj) &&
               PyObject_HasAttrString(obj, "items")) {
        items = PyObject_CallMethod(obj, "items", NULL);
    } else {
        items = obj;
        Py_INCREF(items);
    }
    if (!items)
        return -1;
    seq = PySequence_Fast(items, "ratings must be a dict {movie_id: rating} "
                                 "or an iterable of (movie_id, rating)");
    Py_DECREF(items);
    if (!seq)
        return -1;
    n = PySequence_Fast_GET_SIZE(seq);
    v = (rec_movie_rating *)malloc((size_t)(n ? n : 1) * sizeof *v);
    if (!v) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (i = 0; i < n; i++) {
        PyObject *pair = PySequence_Fast(PySequence_Fast_GET_ITEM(seq, i),
                                         "each rating must be a pair "
                                         "(movie_id, rating)");
        int bad;
        if (!pair)
            goto fail;
        if (PySequence_Fast_GET_SIZE(pair) != 2) {
            Py_DECREF(pair);
            PyErr_Format(PyExc_TypeError,
                         "rating %zd: expected (movie_id, rating)", i);
            goto fail;
        }
        bad = mm_py_id(&v[i].movie_id, PySequence_Fast_GET_ITEM(pair, 0),
                       "movie id") < 0 ||
              mm_py_float(&v[i].rating, PySequence_Fast_GET_ITEM(pair, 1)) < 0;
        Py_DECREF(pair);
        if (bad)
            goto fail;
    }
    Py_DECREF(seq);
    *out = v;
    *n_out = (size_t)n;
    return 0;
fail:
    Py_DECREF(seq);
    free(v);
    return -1;
}

/* Genres: None, "A|B" or an iterable of str -> a new bytes object (or
   None) whose buffer is the '|'-joined UTF-8 string. */
static PyObject *mm_py_genres(PyObject *obj)
{
    PyObject *joined, *bytes, *sep, *seq;
    if (obj == Py_None) {
        Py_INCREF(Py_None);
        return Py_None;
    }
    if (PyUnicode_Check(obj))
        return PyUnicode_AsUTF8String(obj);
    seq = PySequence_Fast(obj, "genres must be a str, a list of str or None");
    if (!seq)
        return NULL;
    sep = PyUnicode_FromString("|");
    joined = sep ? PyUnicode_Join(sep, seq) : NULL;
    Py_XDECREF(sep);
    Py_DECREF(seq);
    if (!joined)
        return NULL;
    bytes = PyUnicode_AsUTF8String(joined);
    Py_DECREF(joined);
    return bytes;
}

static PyObject *mm_py_str(const char *s)
{
    s = s ? s : "";
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

/* Recommendations -> list of (movie_id, score, title, rating); frees r. */
static PyObject *mm_py_recs(mm_recs *r)
{
    PyObject *list = PyList_New((Py_ssize_t)r->n);
    size_t i;
    for (i = 0; list && i < r->n; i++) {
        PyObject *t = Py_BuildValue("(idNd)", (int)r->v[i].movie_id,
                                    (double)r->v[i].score,
                                    mm_py_str(r->v[i].title),
                                    (double)r->v[i].rating);
        if (!t) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, t);
    }
    mm_recs_free(r);
    return list;
}

/* A movie -> (movie_id, title, genres, year, n_ratings, mean_rating). */
static PyObject *mm_py_movie(const mm_movie *m)
{
    return Py_BuildValue("(iNNiId)", (int)m->movie_id, mm_py_str(m->title),
                         mm_py_str(m->genres), (int)m->year,
                         (unsigned int)m->n_ratings, (double)m->mean_rating);
}

static PyObject *mm_py_movies(mm_movies *ms)
{
    PyObject *list = PyList_New((Py_ssize_t)ms->n);
    size_t i;
    for (i = 0; list && i < ms->n; i++) {
        PyObject *t = mm_py_movie(&ms->v[i]);
        if (!t) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, t);
    }
    mm_movies_free(ms);
    return list;
}

/* ---- progress callback --------------------------------------------- */

typedef struct mm_py_progress {
    PyObject *fn; /* borrowed from the options dict, or NULL */
    PyObject *exc_type, *exc_value, *exc_tb; /* raised by fn */
} mm_py_progress;

/* Called by rec_train_als on the calling thread, GIL released: take the
   GIL, call fn(iteration, iterations, train_rmse, loss, seconds). A false
   return value (not None) cancels; an exception cancels and is kept to be
   re-raised once training has stopped. Without fn, only pending signals
   (Ctrl-C) are checked, so a long training stays interruptible. */
static int mm_py_progress_cb(void *userdata, const rec_progress *p)
{
    mm_py_progress *st = (mm_py_progress *)userdata;
    PyGILState_STATE g = PyGILState_Ensure();
    int stop = 0;
    if (st->fn) {
        PyObject *res = PyObject_CallFunction(st->fn, "((iiddd))", p->iteration,
                                              p->iterations, p->train_rmse,
                                              p->loss, p->seconds);
        if (!res) {
            stop = 1;
        } else {
            if (res != Py_None) {
                int t = PyObject_IsTrue(res);
                if (t <= 0)
                    stop = 1;
            }
            Py_DECREF(res);
        }
    }
    if (!stop && PyErr_CheckSignals() < 0)
        stop = 1;
    if (stop && PyErr_Occurred())
        PyErr_Fetch(&st->exc_type, &st->exc_value, &st->exc_tb);
    PyGILState_Release(g);
    return stop;
}

static int mm_py_get_int(int *out, PyObject *v, const char *key)
{
    long x = PyLong_AsLong(v);
    if (x == -1 && PyErr_Occurred())
        return -1;
    if (x < INT_MIN || x > INT_MAX) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s %ld is out of range", key, x);
        mm_py_raise_code(REC_EINVAL, msg, NULL);
        return -1;
    }
    *out = (int)x;
    return 0;
}

/* A version 3 (hybrid model) parameter `k`: sets it and *r (0, or -1 with
   an exception) and returns 1; 0 when `k` is not one of them. */
static int mm_py_als_v3(rec_als_params *p, const char *k, PyObject *val,
                        int *r)
{
    static const struct {
        const char *name;
        size_t off;
    } doubles[] = {
        {"preference_reg", offsetof(rec_als_params, preference_reg)},
        {"preference_alpha", offsetof(rec_als_params, preference_alpha)},
        {"bm25_k1", offsetof(rec_als_params, bm25_k1)},
        {"bm25_b", offsetof(rec_als_params, bm25_b)},
        {"blend", offsetof(rec_als_params, blend)},
        {"blend_shrink", offsetof(rec_als_params, blend_shrink)},
        {"bias_prior", offsetof(rec_als_params, bias_prior)},
        {"rating_pref_weight", offsetof(rec_als_params, rating_pref_weight)},
        {"rating_pref_shift", offsetof(rec_als_params, rating_pref_shift)},
    };
    size_t i;
    *r = 0;
    for (i = 0; i < sizeof doubles / sizeof doubles[0]; i++)
        if (!strcmp(k, doubles[i].name)) {
            double d = PyFloat_AsDouble(val);
            if (d == -1.0 && PyErr_Occurred())
                *r = -1;
            else
                *(double *)((char *)p + doubles[i].off) = d;
            return 1;
        }
    if (!strcmp(k, "preference")) {
        int t = PyObject_IsTrue(val);
        *r = t < 0 ? -1 : 0;
        p->preference = t > 0;
    } else if (!strcmp(k, "preference_rank"))
        *r = mm_py_get_int(&p->preference_rank, val, k);
    else if (!strcmp(k, "preference_iterations"))
        *r = mm_py_get_int(&p->preference_iterations, val, k);
    else if (!strcmp(k, "preference_weighting") ||
             !strcmp(k, "implicit_weighting")) {
        const char *sv = PyUnicode_Check(val) ? PyUnicode_AsUTF8(val) : NULL;
        int *slot = k[0] == 'p' ? &p->preference_weighting
                                : &p->implicit_weighting;
        if (sv && !strcmp(sv, "bm25"))
            *slot = REC_WEIGHT_BM25;
        else if (sv && !strcmp(sv, "none"))
            *slot = REC_WEIGHT_NONE;
        else {
            mm_py_raise_code(REC_EINVAL, "weighting must be 'bm25' or 'none'",
                             NULL);
            *r = -1;
        }
    } else if (!strcmp(k, "preference_confidence")) {
        const char *sv = PyUnicode_Check(val) ? PyUnicode_AsUTF8(val) : NULL;
        if (sv && !strcmp(sv, "linear"))
            p->preference_confidence = REC_CONFIDENCE_LINEAR;
        else if (sv && !strcmp(sv, "scaled"))
            p->preference_confidence = REC_CONFIDENCE_SCALED;
        else {
            mm_py_raise_code(REC_EINVAL,
                             "preference_confidence must be 'linear' or "
                             "'scaled'", NULL);
            *r = -1;
        }
    } else
        return 0;
    return 1;
}

/* Top-N options from a dict (None: the defaults, *out NULL): min_count,
   include_rated, allow, deny (iterables of ids), genre (str or None). */
static int mm_py_top_opts(mm_top_opts *t, const rec_top_n_options **out,
                          PyObject *opts)
{
    PyObject *key, *val;
    Py_ssize_t pos = 0;
    mm_error err;
    mm_error_init(&err);
    mm_top_opts_init(t);
    *out = NULL;
    if (opts == Py_None)
        return 0;
    if (!PyDict_Check(opts)) {
        PyErr_SetString(PyExc_TypeError, "top-N options must be a dict");
        return -1;
    }
    while (PyDict_Next(opts, &pos, &key, &val)) {
        const char *k = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
        if (!k) {
            PyErr_SetString(PyExc_TypeError, "option names must be str");
            return -1;
        }
        if (val == Py_None)
            continue;
        if (!strcmp(k, "min_count")) {
            long long v;
            PyObject *i = PyNumber_Index(val);
            if (!i)
                return -1;
            v = PyLong_AsLongLong(i);
            Py_DECREF(i);
            if (v == -1 && PyErr_Occurred()) {
                PyErr_Clear();
                v = LLONG_MAX;
            }
            if (mm_top_opts_min_count(t, v, &err) != REC_OK)
                goto fail;
        } else if (!strcmp(k, "include_rated")) {
            int b = PyObject_IsTrue(val);
            if (b < 0)
                return -1;
            t->o.include_rated = b;
        } else if (!strcmp(k, "genre")) {
            const char *g = PyUnicode_Check(val) ? PyUnicode_AsUTF8(val) : NULL;
            if (!g) {
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_TypeError, "genre must be a str");
                return -1;
            }
            if (mm_top_opts_genre(t, g, &err) != REC_OK)
                goto fail;
        } else if (!strcmp(k, "allow") || !strcmp(k, "deny")) {
            PyObject *seq;
            Py_ssize_t i, n;
            int32_t *ids;
            if (PyUnicode_Check(val) || PyBytes_Check(val)) {
                PyErr_Format(PyExc_TypeError,
                             "%s must be an iterable of movie ids", k);
                return -1;
            }
            seq = PySequence_Fast(val, k[0] == 'a'
                                           ? "allow must be an iterable of "
                                             "movie ids"
                                           : "deny must be an iterable of "
                                             "movie ids");
            if (!seq)
                return -1;
            n = PySequence_Fast_GET_SIZE(seq);
            ids = mm_top_opts_list(t, k[0] == 'a', (size_t)n, &err);
            for (i = 0; ids && i < n; i++)
                if (mm_py_id(&ids[i], PySequence_Fast_GET_ITEM(seq, i),
                             "movie id") < 0) {
                    Py_DECREF(seq);
                    return -1;
                }
            Py_DECREF(seq);
            if (!ids)
                goto fail;
        } else {
            PyErr_Format(PyExc_TypeError, "unknown top-N option '%s'", k);
            return -1;
        }
    }
    *out = &t->o;
    return 0;
fail:
    mm_py_raise(&err);
    return -1;
}

/* rec_als_params from a dict of keyword arguments (None = defaults). */
static int mm_py_als_params(rec_als_params *p, mm_py_progress *prog,
                            PyObject *opts)
{
    PyObject *key, *val;
    Py_ssize_t pos = 0;
    rec_als_params_init(p);
    p->progress = mm_py_progress_cb;
    p->progress_userdata = prog;
    if (opts == Py_None)
        return 0;
    if (!PyDict_Check(opts)) {
        PyErr_SetString(PyExc_TypeError, "training options must be a dict");
        return -1;
    }
    while (PyDict_Next(opts, &pos, &key, &val)) {
        const char *k = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
        int r = 0;
        if (!k) {
            PyErr_SetString(PyExc_TypeError, "option names must be str");
            return -1;
        }
        if (val == Py_None && strcmp(k, "progress") != 0)
            continue; /* None: keep the C default */
        if (!strcmp(k, "rank"))
            r = mm_py_get_int(&p->rank, val, k);
        else if (!strcmp(k, "iterations"))
            r = mm_py_get_int(&p->iterations, val, k);
        else if (!strcmp(k, "n_threads"))
            r = mm_py_get_int(&p->n_threads, val, k);
        else if (!strcmp(k, "reg") || !strcmp(k, "bias_reg")) {
            double d = PyFloat_AsDouble(val);
            if (d == -1.0 && PyErr_Occurred())
                return -1;
            *(k[0] == 'r' ? &p->reg : &p->bias_reg) = d;
        } else if (!strcmp(k, "seed")) {
            unsigned long long s;
            PyObject *i = PyNumber_Index(val);
            if (!i)
                return -1;
            if (PyObject_RichCompareBool(i, Py_False, Py_LT) == 1) {
                Py_DECREF(i);
                mm_py_raise_code(REC_EINVAL, "seed must be >= 0", NULL);
                return -1;
            }
            s = PyLong_AsUnsignedLongLongMask(i);
            Py_DECREF(i);
            if (s == (unsigned long long)-1 && PyErr_Occurred())
                return -1;
            p->seed = (uint64_t)s;
        } else if (!strcmp(k, "nonnegative") || !strcmp(k, "biases")) {
            int t = PyObject_IsTrue(val);
            if (t < 0)
                return -1;
            *(k[0] == 'n' ? &p->nonnegative : &p->biases) = t;
        } else if (!strcmp(k, "implicit") ||
                   !strcmp(k, "implicit_weight_by_value")) {
            int t = PyObject_IsTrue(val);
            if (t < 0)
                return -1;
            *(k[8] ? &p->implicit_weight_by_value : &p->implicit) = t;
        } else if (!strcmp(k, "alpha") || !strcmp(k, "implicit_min_rating")) {
            double d = PyFloat_AsDouble(val);
            if (d == -1.0 && PyErr_Occurred())
                return -1;
            if (k[0] == 'a')
                p->alpha = d;
            else
                p->implicit_min_rating = (float)d;
        } else if (!strcmp(k, "cg_steps")) {
            r = mm_py_get_int(&p->cg_steps, val, k);
        } else if (mm_py_als_v3(p, k, val, &r)) {
            /* a version 3 parameter (hybrid model) */
        } else if (!strcmp(k, "solver")) {
            const char *sv = PyUnicode_Check(val) ? PyUnicode_AsUTF8(val)
                                                  : NULL;
            if (sv && !strcmp(sv, "cg"))
                p->solver = REC_SOLVER_CG;
            else if (sv && !strcmp(sv, "cholesky"))
                p->solver = REC_SOLVER_CHOLESKY;
            else {
                mm_py_raise_code(REC_EINVAL,
                                 "solver must be 'cg' or 'cholesky'", NULL);
                return -1;
            }
        } else if (!strcmp(k, "progress")) {
            if (val != Py_None && !PyCallable_Check(val)) {
                PyErr_SetString(PyExc_TypeError, "progress must be callable");
                return -1;
            }
            prog->fn = val == Py_None ? NULL : val;
        } else {
            PyErr_Format(PyExc_TypeError, "unknown training option '%s'", k);
            return -1;
        }
        if (r < 0)
            return -1;
    }
    return 0;
}
%}

%{
#include "movieme_numpy.h"
%}

/* ---- typemaps ------------------------------------------------------------ */

/* Errors: the one place a C status becomes an exception. */
%typemap(in, numinputs=0) mm_error *err (mm_error temp) {
    mm_error_init(&temp);
    $1 = &temp;
}
%typemap(argout) mm_error *err {
    if ($1->e.code != REC_OK) {
        Py_XDECREF($result);
        mm_py_raise($1);
        SWIG_fail;
    }
}

/* Ids and counts from anything with __index__ (numpy integers too); an id
   outside int32 is an InvalidArgumentError, not an OverflowError. */
%typemap(in) int32_t {
    if (mm_py_id(&$1, $input, "id") < 0)
        SWIG_fail;
}
%typemap(in) long long {
    PyObject *i = PyNumber_Index($input);
    if (!i)
        SWIG_fail;
    $1 = PyLong_AsLongLong(i);
    Py_DECREF(i);
    if ($1 == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        mm_py_raise_code(REC_EINVAL, "count out of range", NULL);
        SWIG_fail;
    }
}

/* New datasets from split(): owned by Python. */
%typemap(in, numinputs=0) mm_ratings **train_out (mm_ratings *tmp = NULL),
                          mm_ratings **test_out (mm_ratings *tmp = NULL) {
    $1 = &tmp;
}
%typemap(argout) mm_ratings **train_out, mm_ratings **test_out {
    $result = SWIG_Python_AppendOutput($result,
        SWIG_NewPointerObj(SWIG_as_voidptr(*$1), $*1_descriptor, SWIG_POINTER_OWN));
}

%typemap(in) (const rec_rating *rows, size_t n) {
    if (mm_py_rows(&$1, &$2, $input) < 0)
        SWIG_fail;
}
%typemap(freearg) (const rec_rating *rows, size_t n) {
    free((void *)$1);
}

%typemap(in) (const rec_movie_rating *ratings, size_t n_ratings) {
    if (mm_py_pairs(&$1, &$2, $input) < 0)
        SWIG_fail;
}
%typemap(freearg) (const rec_movie_rating *ratings, size_t n_ratings) {
    free((void *)$1);
}

%typemap(in) const char *GENRES (PyObject *bytes = NULL) {
    bytes = mm_py_genres($input);
    if (!bytes)
        SWIG_fail;
    $1 = bytes == Py_None ? NULL : PyBytes_AS_STRING(bytes);
}
%typemap(freearg) const char *GENRES {
    Py_XDECREF(bytes$argnum);
}

%typemap(in) rec_als_params *opts (rec_als_params temp, mm_py_progress prog) {
    prog.fn = NULL;
    prog.exc_type = prog.exc_value = prog.exc_tb = NULL;
    if (mm_py_als_params(&temp, &prog, $input) < 0)
        SWIG_fail;
    $1 = &temp;
}
%typemap(argout) rec_als_params *opts {
    if (prog$argnum.exc_type) {
        /* the callback raised (or Ctrl-C): training stopped; re-raise it */
        Py_XDECREF($result);
        PyErr_Restore(prog$argnum.exc_type, prog$argnum.exc_value,
                      prog$argnum.exc_tb);
        prog$argnum.exc_type = NULL;
        SWIG_fail;
    }
}

%typemap(in) const rec_top_n_options *TOPTS (mm_top_opts temp) {
    if (mm_py_top_opts(&temp, (const rec_top_n_options **)&$1, $input) < 0) {
        mm_top_opts_free(&temp);
        SWIG_fail;
    }
}
%typemap(freearg) const rec_top_n_options *TOPTS {
    if ($1) /* NULL: defaults, nothing was allocated */
        mm_top_opts_free(&temp$argnum);
}

/* (score, base, [(movie_id, title, weight, share), ...]) */
%typemap(out) mm_explanation {
    size_t i;
    PyObject *list = PyList_New((Py_ssize_t)$1.n);
    for (i = 0; list && i < $1.n; i++) {
        PyObject *t = Py_BuildValue("(iNdd)", (int)$1.v[i].movie_id,
                                    mm_py_str($1.v[i].title),
                                    (double)$1.v[i].weight,
                                    (double)$1.v[i].share);
        if (!t) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, t);
    }
    $result = list ? Py_BuildValue("(ddN)", (double)$1.score,
                                   (double)$1.base, list)
                   : NULL;
    mm_explanation_free(&$1);
    if (!$result)
        SWIG_fail;
}

%typemap(out) mm_recs {
    $result = mm_py_recs(&$1);
    if (!$result)
        SWIG_fail;
}
%typemap(out) mm_movie {
    $result = mm_py_movie(&$1);
    mm_movie_clear(&$1);
    if (!$result)
        SWIG_fail;
}
%typemap(out) mm_movies {
    $result = mm_py_movies(&$1);
    if (!$result)
        SWIG_fail;
}
%typemap(out) mm_stats {
    size_t i;
    $result = PyList_New((Py_ssize_t)$1.n);
    for (i = 0; $result && i < $1.n; i++) {
        PyObject *t = Py_BuildValue("(iId)", (int)$1.v[i].movie_id,
                                    (unsigned int)$1.v[i].count, $1.v[i].average);
        if (!t) {
            Py_CLEAR($result);
            break;
        }
        PyList_SET_ITEM($result, (Py_ssize_t)i, t);
    }
    free($1.v);
    if (!$result)
        SWIG_fail;
}
%typemap(out) mm_pairs {
    size_t i;
    $result = PyList_New((Py_ssize_t)$1.n);
    for (i = 0; $result && i < $1.n; i++) {
        PyObject *t = Py_BuildValue("(id)", (int)$1.v[i].movie_id,
                                    (double)$1.v[i].rating);
        if (!t) {
            Py_CLEAR($result);
            break;
        }
        PyList_SET_ITEM($result, (Py_ssize_t)i, t);
    }
    free($1.v);
    if (!$result)
        SWIG_fail;
}
%typemap(out) mm_factors {
    size_t i;
    PyObject *list = PyList_New((Py_ssize_t)$1.n);
    for (i = 0; list && i < $1.n; i++) {
        PyObject *f = PyFloat_FromDouble((double)$1.v[i]);
        if (!f) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, f);
    }
    free($1.v);
    $result = list ? Py_BuildValue("(Nd)", list, (double)$1.bias) : NULL;
    if (!$result)
        SWIG_fail;
}
%typemap(out) rec_eval_result {
    $result = Py_BuildValue("(ddniddddnddd)", $1.rmse, $1.mae,
                            (Py_ssize_t)$1.n_predictions, $1.k,
                            $1.precision_at_k, $1.recall_at_k, $1.ndcg_at_k,
                            $1.map_at_k, (Py_ssize_t)$1.n_users_ranked,
                            $1.auc, $1.coverage, $1.median_train_count);
    if (!$result)
        SWIG_fail;
}

/* ---- tuning (tune_als; issue 11) ------------------------------------------ */

%{
typedef struct mm_py_tune {
    PyObject *fn; /* progress, borrowed from the options dict, or NULL */
    PyObject *exc_type, *exc_value, *exc_tb;
    double *lists[MM_TUNE_LISTS]; /* the grid lists (owned) */
    int *ranks;
} mm_py_tune;

static PyObject *mm_py_tune_point(const rec_tune_point *q)
{
    const rec_als_params *p = &q->params;
    /* rank; reg .. rating_pref_shift (10); metric, rmse, ndcg, seconds;
       ... */
    return Py_BuildValue("{s:i,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,"
                         "s:d,s:d,s:d,s:i,s:O,s:O,s:O}",
                         "rank", p->rank, "reg", p->reg, "bias_reg",
                         p->bias_reg, "alpha", p->alpha, "bias_prior",
                         p->bias_prior, "preference_reg", p->preference_reg,
                         "preference_alpha", p->preference_alpha, "blend",
                         p->blend, "blend_shrink", p->blend_shrink,
                         "rating_pref_weight", p->rating_pref_weight,
                         "rating_pref_shift", p->rating_pref_shift, "metric",
                         q->metric, "rmse", q->rmse, "ndcg", q->ndcg,
                         "seconds", q->seconds, "iterations", q->iterations,
                         "warm", q->warm ? Py_True : Py_False,
                         "stopped_early",
                         q->stopped_early ? Py_True : Py_False, "reranked",
                         q->reranked ? Py_True : Py_False);
}

/* Called with the GIL released after every iteration and point: calls
   fn(point_dict) after each point; False cancels, an exception cancels
   and is re-raised; Ctrl-C cancels. */
static int mm_py_tune_cb(void *userdata, const rec_tune_progress *p)
{
    mm_py_tune *st = (mm_py_tune *)userdata;
    PyGILState_STATE g = PyGILState_Ensure();
    int stop = 0;
    if (st->fn && p->point) {
        PyObject *d = mm_py_tune_point(p->point);
        PyObject *res = d ? PyObject_CallFunctionObjArgs(st->fn, d, NULL)
                          : NULL;
        Py_XDECREF(d);
        if (!res)
            stop = 1;
        else {
            if (res != Py_None && PyObject_IsTrue(res) <= 0)
                stop = 1;
            Py_DECREF(res);
        }
    }
    if (!stop && PyErr_CheckSignals() < 0)
        stop = 1;
    if (stop && PyErr_Occurred())
        PyErr_Fetch(&st->exc_type, &st->exc_value, &st->exc_tb);
    PyGILState_Release(g);
    return stop;
}

/* A list of numbers into a malloc'd array (ints when `ints`). */
static int mm_py_num_list(void **out, size_t *n, PyObject *seq,
                          const char *key, int ints)
{
    PyObject *fast = PySequence_Fast(seq, "grid values must be a sequence");
    Py_ssize_t i, len;
    if (!fast)
        return -1;
    len = PySequence_Fast_GET_SIZE(fast);
    *out = malloc((size_t)(len ? len : 1) * (ints ? sizeof(int) : sizeof(double)));
    if (!*out) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return -1;
    }
    for (i = 0; i < len; i++) {
        PyObject *v = PySequence_Fast_GET_ITEM(fast, i);
        if (ints) {
            if (mm_py_get_int(&((int *)*out)[i], v, key) < 0) {
                Py_DECREF(fast);
                return -1;
            }
        } else {
            double d = PyFloat_AsDouble(v);
            if (d == -1.0 && PyErr_Occurred()) {
                Py_DECREF(fast);
                return -1;
            }
            ((double *)*out)[i] = d;
        }
    }
    *n = (size_t)len;
    Py_DECREF(fast);
    return 0;
}

static int mm_py_str_choice(int *out, PyObject *v, const char *key,
                            const char *const *names, const int *codes)
{
    const char *sv = PyUnicode_Check(v) ? PyUnicode_AsUTF8(v) : NULL;
    for (int i = 0; sv && names[i]; i++)
        if (!strcmp(sv, names[i])) {
            *out = codes[i];
            return 0;
        }
    PyErr_Format(PyExc_ValueError, "%s: unknown value %R", key, v);
    return -1;
}

/* rec_tune_options from a dict (None values: the C defaults). */
static int mm_py_tune_options(rec_tune_options *o, mm_py_tune *t,
                              PyObject *opts)
{
    static const char *const metrics[] = {"rmse", "ndcg", NULL};
    static const int metric_codes[] = {REC_METRIC_RMSE, REC_METRIC_NDCG};
    static const char *const splits[] = {"random", "per_user", "folds", NULL};
    static const int split_codes[] = {REC_VALIDATION_RANDOM,
                                      REC_VALIDATION_PER_USER,
                                      REC_VALIDATION_FOLDS};
    PyObject *key, *val;
    Py_ssize_t pos = 0;
    int list;
    rec_tune_options_init(o);
    o->progress = mm_py_tune_cb;
    o->progress_userdata = t;
    if (opts == Py_None)
        return 0;
    if (!PyDict_Check(opts)) {
        PyErr_SetString(PyExc_TypeError, "tuning options must be a dict");
        return -1;
    }
    while (PyDict_Next(opts, &pos, &key, &val)) {
        const char *k = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
        int r = 0;
        if (!k) {
            PyErr_SetString(PyExc_TypeError, "option names must be str");
            return -1;
        }
        if (val == Py_None)
            continue;
        if (!strcmp(k, "base")) {
            mm_py_progress unused = {NULL, NULL, NULL, NULL};
            r = mm_py_als_params(&o->base, &unused, val);
            o->base.progress = NULL;
            o->base.progress_userdata = NULL;
        } else if (!strcmp(k, "metric"))
            r = mm_py_str_choice(&o->metric, val, k, metrics, metric_codes);
        else if (!strcmp(k, "validation"))
            r = mm_py_str_choice(&o->validation, val, k, splits, split_codes);
        else if (!strcmp(k, "k"))
            r = mm_py_get_int(&o->k, val, k);
        else if (!strcmp(k, "leave_out"))
            r = mm_py_get_int(&o->leave_out, val, k);
        else if (!strcmp(k, "folds"))
            r = mm_py_get_int(&o->folds, val, k);
        else if (!strcmp(k, "warm_iterations"))
            r = mm_py_get_int(&o->warm_iterations, val, k);
        else if (!strcmp(k, "path_patience"))
            r = mm_py_get_int(&o->path_patience, val, k);
        else if (!strcmp(k, "warm_start")) {
            o->warm_start = PyObject_IsTrue(val);
            r = o->warm_start < 0 ? -1 : 0;
        } else if (!strcmp(k, "fit_rating_pref")) {
            o->fit_rating_pref = PyObject_IsTrue(val);
            r = o->fit_rating_pref < 0 ? -1 : 0;
        } else if (!strcmp(k, "auto_blend")) {
            o->auto_blend = PyObject_IsTrue(val);
            r = o->auto_blend < 0 ? -1 : 0;
        } else if (!strcmp(k, "fraction") || !strcmp(k, "early_stop") ||
                   !strcmp(k, "relevant_min")) {
            double d = PyFloat_AsDouble(val);
            if (d == -1.0 && PyErr_Occurred())
                return -1;
            if (k[0] == 'f')
                o->fraction = d;
            else if (k[0] == 'e')
                o->early_stop = d;
            else
                o->relevant_min = (float)d;
        } else if (!strcmp(k, "split_seed")) {
            unsigned long long sd = PyLong_AsUnsignedLongLong(val);
            if (sd == (unsigned long long)-1 && PyErr_Occurred())
                return -1;
            o->split_seed = (uint64_t)sd;
        } else if ((list = mm_tune_list_index(k)) >= 0) {
            size_t n = 0;
            r = mm_py_num_list((void **)&t->lists[list], &n, val, k, 0);
            mm_tune_set_list(o, list, t->lists[list], n);
        } else if (!strcmp(k, "ranks")) {
            r = mm_py_num_list((void **)&t->ranks, &o->n_ranks, val, k, 1);
            o->ranks = t->ranks;
        } else if (!strcmp(k, "progress")) {
            if (!PyCallable_Check(val)) {
                PyErr_SetString(PyExc_TypeError, "progress must be callable");
                return -1;
            }
            t->fn = val;
        } else {
            PyErr_Format(PyExc_TypeError, "unknown tuning option '%s'", k);
            return -1;
        }
        if (r < 0)
            return -1;
    }
    return 0;
}
%}

%typemap(in) rec_tune_options *tune_opts (rec_tune_options temp, mm_py_tune tune) {
    memset(&tune, 0, sizeof tune);
    if (mm_py_tune_options(&temp, &tune, $input) < 0)
        SWIG_fail;
    $1 = &temp;
}
%typemap(freearg) rec_tune_options *tune_opts {
    int list_;
    for (list_ = 0; list_ < MM_TUNE_LISTS; list_++)
        free(tune$argnum.lists[list_]);
    free(tune$argnum.ranks);
}
%typemap(argout) rec_tune_options *tune_opts {
    if (tune$argnum.exc_type) {
        Py_XDECREF($result);
        PyErr_Restore(tune$argnum.exc_type, tune$argnum.exc_value,
                      tune$argnum.exc_tb);
        tune$argnum.exc_type = NULL;
        SWIG_fail;
    }
}
/* (points, best params, metric, rmse, ndcg, best_index, seconds) */
%typemap(out) mm_tuned {
    size_t i;
    PyObject *pts = NULL, *best = NULL;
    $result = NULL;
    if ($1.ok) {
        const rec_als_params *b = &$1.result.best;
        pts = PyList_New((Py_ssize_t)$1.n);
        for (i = 0; pts && i < $1.n; i++) {
            PyObject *d = mm_py_tune_point(&$1.points[i]);
            if (!d) {
                Py_CLEAR(pts);
                break;
            }
            PyList_SET_ITEM(pts, (Py_ssize_t)i, d);
        }
        best = Py_BuildValue("{s:i,s:i,s:d,s:d,s:K,s:i,s:O,s:O,s:O,s:d,"
                             "s:O,s:i,s:d,s:d,s:i,s:s,s:d,s:d,s:d,s:d,s:d,"
                             "s:s,s:d,s:d}",
                             "rank", b->rank, "iterations", b->iterations,
                             "reg", b->reg, "bias_reg", b->bias_reg, "seed",
                             (unsigned long long)b->seed, "n_threads",
                             b->n_threads, "biases",
                             b->biases ? Py_True : Py_False, "nonnegative",
                             b->nonnegative ? Py_True : Py_False, "implicit",
                             b->implicit ? Py_True : Py_False, "alpha",
                             b->alpha, "preference",
                             b->preference ? Py_True : Py_False,
                             "preference_rank", b->preference_rank,
                             "preference_reg", b->preference_reg,
                             "preference_alpha", b->preference_alpha,
                             "preference_iterations", b->preference_iterations,
                             "weighting",
                             (b->implicit ? b->implicit_weighting
                                          : b->preference_weighting) ==
                                     REC_WEIGHT_BM25
                                 ? "bm25"
                                 : "none",
                             "bm25_k1", b->bm25_k1, "bm25_b", b->bm25_b,
                             "blend", b->blend, "blend_shrink",
                             b->blend_shrink, "bias_prior", b->bias_prior,
                             "preference_confidence",
                             b->preference_confidence == REC_CONFIDENCE_SCALED
                                 ? "scaled"
                                 : "linear",
                             "rating_pref_weight", b->rating_pref_weight,
                             "rating_pref_shift", b->rating_pref_shift);
        if (pts && best)
            $result = Py_BuildValue("(NNdddnd)", pts, best, $1.result.metric,
                                    $1.result.rmse, $1.result.ndcg,
                                    (Py_ssize_t)$1.result.best_index,
                                    $1.result.seconds);
        else {
            Py_XDECREF(pts);
            Py_XDECREF(best);
        }
    } else {
        $result = Py_None;
        Py_INCREF($result);
    }
    free($1.points);
    if (!$result)
        SWIG_fail;
}

%include "../movieme.i"
%include "movieme_numpy.i"

/* The version of the headers the binding was compiled with (the package's
   __version__), beside rec_version_string(), the library linked at run
   time. */
%rename(header_version) mm_header_version;
%rename(header_version_number) mm_header_version_number;
%inline %{
static const char *mm_header_version(void) { return REC_VERSION_STRING; }
static unsigned mm_header_version_number(void) { return REC_VERSION_NUMBER; }
%}
