/*
 * movieme_numpy.h - numpy conversions of the Python binding: array-likes in
 * (checked element by element, any dtype or strides), new arrays out that
 * own malloc'd memory. Included by movieme_python.i's wrapper code only,
 * after mm_py_raise_code.
 */
#ifndef MOVIEME_NUMPY_H
#define MOVIEME_NUMPY_H
/* The repr of an array's dtype, for messages. */
static void mm_np_dtype_name(PyArrayObject *a, char *buf, size_t cap)
{
    PyObject *s = PyObject_Str((PyObject *)PyArray_DESCR(a));
    const char *t = s ? PyUnicode_AsUTF8(s) : NULL;
    snprintf(buf, cap, "%s", t ? t : "?");
    Py_XDECREF(s);
    PyErr_Clear();
}

/* obj as a 1-D array of a numeric kind; NULL with an exception otherwise. */
static PyArrayObject *mm_np_vector(PyObject *obj, const char *what,
                                   const char *want)
{
    char kind, dt[64], msg[200];
    PyArrayObject *a =
        (PyArrayObject *)PyArray_FromAny(obj, NULL, 0, 0, 0, NULL);
    if (!a)
        return NULL;
    if (PyArray_NDIM(a) != 1) {
        snprintf(msg, sizeof msg, "%s must be one-dimensional, got %d "
                 "dimensions", what, PyArray_NDIM(a));
        Py_DECREF(a);
        mm_py_raise_code(REC_EINVAL, msg, NULL);
        return NULL;
    }
    kind = PyArray_DESCR(a)->kind;
    if (kind != 'i' && kind != 'u' && kind != 'f') {
        mm_np_dtype_name(a, dt, sizeof dt);
        PyErr_Format(PyExc_TypeError, "%s must hold %s, got dtype %s", what,
                     want, dt);
        Py_DECREF(a);
        return NULL;
    }
    return a;
}

/* obj's elements as float64 or int64, contiguous (a new reference). */
static PyArrayObject *mm_np_cast(PyArrayObject *a, int type)
{
    return (PyArrayObject *)PyArray_FROM_OTF(
        (PyObject *)a, type, NPY_ARRAY_IN_ARRAY | NPY_ARRAY_FORCECAST);
}

/* Ids from an array-like of integers (or floats with integral values) as
   a new malloc'd int32 array of *n_out elements. Ids below min_id or above
   INT32_MAX are rejected, naming the element. */
static int32_t *mm_np_ids(PyObject *obj, const char *what, long long min_id,
                          npy_intp *n_out)
{
    char msg[200];
    npy_intp i, n, bad = -1;
    int32_t *out;
    int as_float;
    PyArrayObject *c, *a = mm_np_vector(obj, what, "integer ids");
    if (!a)
        return NULL;
    /* uint64 beyond int64 would wrap: check those as doubles */
    as_float = PyArray_DESCR(a)->kind == 'f' ||
               (PyArray_DESCR(a)->kind == 'u' && PyArray_ITEMSIZE(a) == 8);
    c = mm_np_cast(a, as_float ? NPY_FLOAT64 : NPY_INT64);
    Py_DECREF(a);
    if (!c)
        return NULL;
    n = PyArray_SIZE(c);
    out = (int32_t *)malloc((size_t)(n ? n : 1) * sizeof *out);
    if (!out) {
        Py_DECREF(c);
        PyErr_NoMemory();
        return NULL;
    }
    if (as_float) {
        const double *d = (const double *)PyArray_DATA(c);
        for (i = 0; i < n; i++) {
            double v = d[i];
            if (!(v >= (double)min_id && v <= (double)INT32_MAX) ||
                v != floor(v)) {
                bad = i;
                snprintf(msg, sizeof msg, "%s[%ld] = %.17g is not an integer "
                         "id in [%lld, %ld]", what, (long)i, v, min_id,
                         (long)INT32_MAX);
                break;
            }
            out[i] = (int32_t)v;
        }
    } else {
        const int64_t *d = (const int64_t *)PyArray_DATA(c);
        for (i = 0; i < n; i++) {
            int64_t v = d[i];
            if (v < min_id || v > INT32_MAX) {
                bad = i;
                snprintf(msg, sizeof msg, "%s[%ld] = %lld is out of range: "
                         "ids must be in [%lld, %ld]", what, (long)i,
                         (long long)v, min_id, (long)INT32_MAX);
                break;
            }
            out[i] = (int32_t)v;
        }
    }
    Py_DECREF(c);
    if (bad >= 0) {
        free(out);
        mm_py_raise_code(REC_EINVAL, msg, NULL);
        return NULL;
    }
    *n_out = n;
    return out;
}

/* Ratings from an array-like of numbers as a new malloc'd float array;
   NaN, infinities and values beyond float32 are rejected. */
static float *mm_np_ratings(PyObject *obj, const char *what, npy_intp *n_out)
{
    char msg[200];
    npy_intp i, n;
    const double *d;
    float *out;
    PyArrayObject *c, *a = mm_np_vector(obj, what, "numbers");
    if (!a)
        return NULL;
    c = mm_np_cast(a, NPY_FLOAT64);
    Py_DECREF(a);
    if (!c)
        return NULL;
    n = PyArray_SIZE(c);
    d = (const double *)PyArray_DATA(c);
    out = (float *)malloc((size_t)(n ? n : 1) * sizeof *out);
    if (!out) {
        Py_DECREF(c);
        PyErr_NoMemory();
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if (!(fabs(d[i]) <= (double)FLT_MAX)) {
            snprintf(msg, sizeof msg, "%s[%ld] = %g is not a finite rating",
                     what, (long)i, d[i]);
            Py_DECREF(c);
            free(out);
            mm_py_raise_code(REC_EINVAL, msg, NULL);
            return NULL;
        }
        out[i] = (float)d[i];
    }
    Py_DECREF(c);
    *n_out = n;
    return out;
}

static void mm_np_free_capsule(PyObject *cap)
{
    free(PyCapsule_GetPointer(cap, "movieme.buffer"));
}

/* A new array over malloc'd `data`, which it frees when collected (data is
   freed here on failure). */
static PyObject *mm_np_own(void *data, int nd, npy_intp *dims, int type)
{
    PyObject *arr, *cap;
    arr = PyArray_SimpleNewFromData(nd, dims, type, data);
    if (!arr) {
        free(data);
        return NULL;
    }
    cap = PyCapsule_New(data, "movieme.buffer", mm_np_free_capsule);
    if (!cap) {
        Py_DECREF(arr);
        free(data);
        return NULL;
    }
    if (PyArray_SetBaseObject((PyArrayObject *)arr, cap) < 0) {
        Py_DECREF(arr); /* the capsule, stolen even on failure, frees data */
        return NULL;
    }
    return arr;
}

static void *mm_np_malloc(size_t n, size_t es)
{
    return malloc((n ? n : 1) * es);
}

#endif /* MOVIEME_NUMPY_H */
