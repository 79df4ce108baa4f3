/*
 * movieme_lua.i - the Lua 5.4 side of the SWIG binding: `require("movieme")`.
 *
 * Idioms: results are tables (arrays are 1-based; ids inside them are the
 * MovieLens ids, unrelated to array positions), failures raise error() with
 * an error table (metatable movieme.Error: code "REC_EFORMAT", status -4,
 * message, and path/line for data errors; tostring() gives the message;
 * catch with pcall and branch on e.code), handles are freed by the garbage
 * collector or at once by :close() / a `local x <close>` variable, #ratings
 * is the number of ratings and tostring() gives a summary. Options go in a
 * table: movieme.train_als(ds, {rank = 10}).
 */
%module movieme

%{
#include <stddef.h>
#include "movieme_bind.h"

#define MM_LUA_ERROR "movieme.Error"

static int mm_lua_error_tostring(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TTABLE)
        lua_getfield(L, 1, "message");
    else
        lua_pushnil(L);
    if (lua_type(L, -1) != LUA_TSTRING) {
        lua_pop(L, 1);
        lua_pushliteral(L, "movieme error");
    }
    return 1;
}

/* Push an error table {code=, status=, message=, path=, line=} with the
   movieme.Error metatable. Data errors (REC_EFORMAT) get path and line from
   their "file:line: what" message; file errors the path of the call. */
static void mm_lua_push_error(lua_State *L, int code, const char *msg,
                              const char *path)
{
    long line = 0;
    size_t plen = code == REC_EFORMAT ? mm_error_location(msg, &line) : 0;
    lua_createtable(L, 0, 5);
    lua_pushstring(L, mm_status_name(code));
    lua_setfield(L, -2, "code");
    lua_pushinteger(L, code);
    lua_setfield(L, -2, "status");
    lua_pushstring(L, msg);
    lua_setfield(L, -2, "message");
    if (plen) {
        lua_pushlstring(L, msg, plen);
        lua_setfield(L, -2, "path");
        lua_pushinteger(L, line);
        lua_setfield(L, -2, "line");
    } else if (path) {
        lua_pushstring(L, path);
        lua_setfield(L, -2, "path");
    }
    luaL_setmetatable(L, MM_LUA_ERROR);
}

/* The message a helper pushed, as an invalid-argument error table. */
static void mm_lua_arg_error(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    mm_lua_push_error(L, REC_EINVAL, msg ? msg : "invalid argument", NULL);
    lua_remove(L, -2);
}

/* A closed handle (h NULL) used by any call but close/closed/tostring:
   pushes an error and returns 1. */
static int mm_lua_closed(lua_State *L, const void *h, const char *what,
                         const char *symname)
{
    static const char *const exempt[] = {"_close", "_closed", "___close",
                                         "___tostring"};
    size_t i, n = strlen(symname);
    char msg[64];
    if (h)
        return 0;
    for (i = 0; i < sizeof exempt / sizeof exempt[0]; i++) {
        size_t k = strlen(exempt[i]);
        if (n >= k && !strcmp(symname + n - k, exempt[i]))
            return 0;
    }
    snprintf(msg, sizeof msg, "%s is closed", what);
    mm_lua_push_error(L, REC_EINVAL, msg, NULL);
    return 1;
}

/* A Lua number that is an integer id in int32 range at stack index idx;
   else pushes an error message and returns -1. */
static int mm_lua_id(lua_State *L, int idx, int32_t *out, const char *what,
                     size_t row)
{
    int isnum = 0;
    lua_Integer v = lua_tointegerx(L, idx, &isnum);
    if (!isnum || v < INT32_MIN || v > INT32_MAX) {
        lua_pushfstring(L, "row %d: %s must be an integer id, got %s",
                        (int)row, what, luaL_typename(L, idx));
        return -1;
    }
    *out = (int32_t)v;
    return 0;
}

static int mm_lua_rating(lua_State *L, int idx, float *out, size_t row)
{
    int isnum = 0;
    lua_Number v = lua_tonumberx(L, idx, &isnum);
    if (!isnum) {
        lua_pushfstring(L, "row %d: rating must be a number, got %s",
                        (int)row, luaL_typename(L, idx));
        return -1;
    }
    *out = (float)v;
    return 0;
}

/* Field `i` (positional) or `name` of the table at idx, pushed. */
static void mm_lua_field(lua_State *L, int idx, lua_Integer i,
                         const char *name)
{
    if (lua_geti(L, idx, i) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_getfield(L, idx, name);
    }
}

/* Rows {{user_id, movie_id, rating}, ...} (or {user_id=, movie_id=,
   rating=} rows). On error pushes a message and returns -1. */
static int mm_lua_rows(lua_State *L, int idx, rec_rating **out, size_t *n_out)
{
    size_t i, n;
    rec_rating *rows;
    if (!lua_istable(L, idx)) {
        lua_pushfstring(L, "ratings rows must be a table, got %s",
                        luaL_typename(L, idx));
        return -1;
    }
    n = (size_t)luaL_len(L, idx);
    /* a userdata in the argument's stack slot: the GC frees it, even after
       an error */
    rows = (rec_rating *)lua_newuserdatauv(L, (n ? n : 1) * sizeof *rows, 0);
    for (i = 0; i < n; i++) {
        int bad, row;
        lua_geti(L, idx, (lua_Integer)i + 1);
        row = lua_gettop(L);
        if (!lua_istable(L, row)) {
            lua_pushfstring(L, "row %d: expected {user_id, movie_id, rating}",
                            (int)i + 1);
            lua_remove(L, row);
            return -1;
        }
        mm_lua_field(L, row, 1, "user_id");
        mm_lua_field(L, row, 2, "movie_id");
        mm_lua_field(L, row, 3, "rating");
        bad = mm_lua_id(L, row + 1, &rows[i].user_id, "user_id", i + 1) < 0 ||
              mm_lua_id(L, row + 2, &rows[i].movie_id, "movie_id", i + 1) < 0 ||
              mm_lua_rating(L, row + 3, &rows[i].rating, i + 1) < 0;
        if (bad) {
            /* keep only the message pushed on top */
            lua_replace(L, row);
            lua_settop(L, row);
            return -1;
        }
        lua_settop(L, row - 1);
    }
    lua_replace(L, idx); /* keep the stack top: SWIG counts arguments by it */
    *out = rows;
    *n_out = n;
    return 0;
}

/* A list of ids {1, 2, ...} -> an int32_t array kept on the stack (as
   mm_lua_pairs) while the call runs. */
static int mm_lua_ids(lua_State *L, int idx, int32_t **out, size_t *n_out,
                      const char *what)
{
    size_t i, n;
    int32_t *v;
    if (!lua_istable(L, idx)) {
        lua_pushfstring(L, "%ss must be a table of ids, got %s", what,
                        luaL_typename(L, idx));
        return -1;
    }
    n = (size_t)luaL_len(L, idx);
    v = (int32_t *)lua_newuserdatauv(L, (n ? n : 1) * sizeof *v, 0);
    for (i = 0; i < n; i++) {
        lua_geti(L, idx, (lua_Integer)i + 1);
        if (mm_lua_id(L, -1, &v[i], what, i + 1) < 0) {
            lua_remove(L, -2); /* the value under the message */
            lua_replace(L, -2); /* the array */
            return -1;
        }
        lua_pop(L, 1);
    }
    lua_replace(L, idx);
    *out = v;
    *n_out = n;
    return 0;
}

/* Rows of recommendations (Model:top_n_many) and many predictions. */
typedef struct mm_rec_rows {
    mm_recs *rows;
    size_t n;
} mm_rec_rows;
typedef struct mm_floats {
    float *v;
    size_t n;
} mm_floats;

static void mm_rec_rows_free(mm_rec_rows *r)
{
    size_t i;
    for (i = 0; r->rows && i < r->n; i++)
        mm_recs_free(&r->rows[i]);
    free(r->rows);
    r->rows = NULL;
    r->n = 0;
}

/* rec_top_n_many for user ids[0..n_ids): row i as top_n(ids[i], n). */
static mm_rec_rows mm_lua_top_n_rows(mm_model *w, const int32_t *ids,
                                       size_t n_ids, long long n,
                                       const rec_top_n_options *opts,
                                       mm_error *err)
{
    mm_rec_rows out = {NULL, 0};
    rec_scored *s = NULL;
    size_t *got = NULL, cap, i;
    if (mm_check_n(n, err) != REC_OK)
        return out;
    MM_RDLOCK(w);
    cap = mm_model_cap(w->h, n);
    s = (rec_scored *)malloc((n_ids ? n_ids : 1) * (cap ? cap : 1) * sizeof *s);
    got = (size_t *)malloc((n_ids ? n_ids : 1) * sizeof *got);
    out.rows = (mm_recs *)calloc(n_ids ? n_ids : 1, sizeof *out.rows);
    if (!s || !got || !out.rows)
        mm_failf(err, REC_ENOMEM, "out of memory");
    else if (mm_check(err, rec_top_n_many(s, cap, got, w->h, ids, n_ids, opts,
                                          &err->e)) == REC_OK)
        for (i = 0; i < n_ids; i++) {
            if (mm_recs_make(&out.rows[i], s + i * cap, got[i], NULL, w->h,
                             err) != REC_OK)
                break;
            out.n = i + 1;
        }
    MM_UNLOCK(w);
    free(s);
    free(got);
    if (err->e.code != REC_OK)
        mm_rec_rows_free(&out);
    return out;
}

/* A user's ratings {{movie_id, rating}, ...} (or {movie_id=, rating=}). */
static int mm_lua_pairs(lua_State *L, int idx, rec_movie_rating **out,
                        size_t *n_out)
{
    size_t i, n;
    rec_movie_rating *v;
    if (!lua_istable(L, idx)) {
        lua_pushfstring(L, "ratings must be a table {{movie_id, rating}, ...}"
                           ", got %s", luaL_typename(L, idx));
        return -1;
    }
    n = (size_t)luaL_len(L, idx);
    v = (rec_movie_rating *)lua_newuserdatauv(L, (n ? n : 1) * sizeof *v, 0);
    for (i = 0; i < n; i++) {
        int bad, row;
        lua_geti(L, idx, (lua_Integer)i + 1);
        row = lua_gettop(L);
        if (!lua_istable(L, row)) {
            lua_pushfstring(L, "rating %d: expected {movie_id, rating}",
                            (int)i + 1);
            lua_remove(L, row);
            return -1;
        }
        mm_lua_field(L, row, 1, "movie_id");
        mm_lua_field(L, row, 2, "rating");
        bad = mm_lua_id(L, row + 1, &v[i].movie_id, "movie_id", i + 1) < 0 ||
              mm_lua_rating(L, row + 2, &v[i].rating, i + 1) < 0;
        if (bad) {
            lua_replace(L, row);
            lua_settop(L, row);
            return -1;
        }
        lua_settop(L, row - 1);
    }
    lua_replace(L, idx); /* keep the stack top: SWIG counts arguments by it */
    *out = v;
    *n_out = n;
    return 0;
}

/* Genres: nil, "A|B" or {"A", "B"} -> a '|'-joined string that stays on
   the stack while the call runs (NULL for nil). */
static int mm_lua_genres(lua_State *L, int idx, const char **out)
{
    luaL_Buffer b;
    size_t i, n;
    *out = NULL;
    if (lua_isnoneornil(L, idx))
        return 0;
    if (lua_type(L, idx) == LUA_TSTRING) {
        *out = lua_tostring(L, idx);
        return 0;
    }
    if (!lua_istable(L, idx)) {
        lua_pushfstring(L, "genres must be a string or a table of strings, "
                           "got %s", luaL_typename(L, idx));
        return -1;
    }
    n = (size_t)luaL_len(L, idx);
    luaL_buffinit(L, &b);
    for (i = 1; i <= n; i++) {
        if (lua_geti(L, idx, (lua_Integer)i) != LUA_TSTRING) {
            lua_pushstring(L, "genres must be strings");
            return -1;
        }
        if (i > 1)
            luaL_addchar(&b, '|');
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    lua_replace(L, idx); /* the argument slot keeps the string alive */
    *out = lua_tostring(L, idx);
    return 0;
}

static void mm_lua_setnum(lua_State *L, const char *k, lua_Number v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

static void mm_lua_setint(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

/* {movie_id=, score=, rating=, title=} for each; frees r. */
static void mm_lua_recs(lua_State *L, mm_recs *r)
{
    size_t i;
    lua_createtable(L, (int)r->n, 0);
    for (i = 0; i < r->n; i++) {
        lua_createtable(L, 0, 4);
        mm_lua_setint(L, "movie_id", r->v[i].movie_id);
        mm_lua_setnum(L, "score", r->v[i].score);
        mm_lua_setnum(L, "rating", r->v[i].rating);
        lua_pushstring(L, r->v[i].title ? r->v[i].title : "");
        lua_setfield(L, -2, "title");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    mm_recs_free(r);
}

/* {score=, base=, reasons={{movie_id=, title=, weight=, share=}, ...}};
   frees x. */
static void mm_lua_explanation(lua_State *L, mm_explanation *x)
{
    size_t i;
    lua_createtable(L, 0, 3);
    mm_lua_setnum(L, "score", x->score);
    mm_lua_setnum(L, "base", x->base);
    lua_createtable(L, (int)x->n, 0);
    for (i = 0; i < x->n; i++) {
        lua_createtable(L, 0, 4);
        mm_lua_setint(L, "movie_id", x->v[i].movie_id);
        lua_pushstring(L, x->v[i].title ? x->v[i].title : "");
        lua_setfield(L, -2, "title");
        mm_lua_setnum(L, "weight", x->v[i].weight);
        mm_lua_setnum(L, "share", x->v[i].share);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "reasons");
    mm_explanation_free(x);
}

/* The length of list field `k` of the options table at idx (0 when nil);
   -1 with a message pushed when it is not a table. */
static lua_Integer mm_lua_opt_len(lua_State *L, int idx, const char *k)
{
    lua_Integer n = 0;
    int t = lua_getfield(L, idx, k);
    if (t == LUA_TTABLE)
        n = luaL_len(L, -1);
    else if (t != LUA_TNIL) {
        lua_pop(L, 1);
        lua_pushfstring(L, "option %s must be a table of movie ids", k);
        return -1;
    }
    lua_pop(L, 1);
    return n;
}

/* Top-N options from a table {min_count=, genre=, allow={...}, deny={...},
   include_rated=} (nil: *out NULL, the defaults). The struct, its id lists
   and the genre live in one userdata that replaces the argument (freed by
   the GC, so nothing leaks when the call fails later). On error pushes a
   message and returns -1. */
static int mm_lua_top_opts(lua_State *L, int idx, rec_top_n_options **out)
{
    static const char *const known[] = {"min_count", "genre", "allow",
                                        "deny", "include_rated"};
    lua_Integer n_allow, n_deny, i;
    size_t glen = 0, size;
    const char *genre = NULL;
    rec_top_n_options *o;
    *out = NULL;
    if (lua_isnoneornil(L, idx))
        return 0;
    if (!lua_istable(L, idx)) {
        lua_pushfstring(L, "top-N options must be a table, got %s",
                        luaL_typename(L, idx));
        return -1;
    }
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                        : NULL;
        size_t j;
        for (j = 0; k && j < sizeof known / sizeof known[0]; j++)
            if (!strcmp(k, known[j]))
                break;
        if (!k || j == sizeof known / sizeof known[0]) {
            lua_pushfstring(L, "unknown top-N option '%s'", k ? k : "?");
            lua_replace(L, -3);
            lua_pop(L, 1);
            return -1;
        }
        lua_pop(L, 1);
    }
    if ((n_allow = mm_lua_opt_len(L, idx, "allow")) < 0 ||
        (n_deny = mm_lua_opt_len(L, idx, "deny")) < 0)
        return -1;
    lua_getfield(L, idx, "genre");
    if (lua_type(L, -1) == LUA_TSTRING)
        genre = lua_tolstring(L, -1, &glen);
    else if (!lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushstring(L, "option genre must be a string");
        return -1;
    }
    size = sizeof *o + ((size_t)n_allow + (size_t)n_deny) * sizeof(int32_t) +
           glen + 1;
    o = (rec_top_n_options *)lua_newuserdatauv(L, size, 0);
    rec_top_n_options_init(o);
    o->allow = n_allow ? (const int32_t *)(o + 1) : NULL;
    o->n_allow = (size_t)n_allow;
    o->deny = n_deny ? (const int32_t *)(o + 1) + n_allow : NULL;
    o->n_deny = (size_t)n_deny;
    if (genre) {
        char *g = (char *)((int32_t *)(o + 1) + n_allow + n_deny);
        memcpy(g, genre, glen + 1);
        o->genre = g;
    }
    lua_replace(L, -2); /* the genre string: copied */
    for (i = 0; i < n_allow + n_deny; i++) {
        int in_allow = i < n_allow;
        lua_getfield(L, idx, in_allow ? "allow" : "deny");
        lua_geti(L, -1, in_allow ? i + 1 : i - n_allow + 1);
        if (mm_lua_id(L, -1, (int32_t *)(o + 1) + i,
                      in_allow ? "allow" : "deny", (size_t)(in_allow ? i + 1
                                                         : i - n_allow + 1)) <
            0) {
            lua_replace(L, -4);
            lua_pop(L, 2);
            return -1;
        }
        lua_pop(L, 2);
    }
    {
        int isnum = 1;
        lua_Integer v = 0;
        if (lua_getfield(L, idx, "min_count") != LUA_TNIL)
            v = lua_tointegerx(L, -1, &isnum);
        lua_pop(L, 1);
        if (!isnum || v < 0 || v > (lua_Integer)UINT32_MAX) {
            lua_pop(L, 1);
            lua_pushstring(L, "option min_count must be an integer in "
                              "[0, 2^32)");
            return -1;
        }
        o->min_count = (uint32_t)v;
    }
    lua_getfield(L, idx, "include_rated");
    o->include_rated = lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_replace(L, idx); /* keep the stack top: SWIG counts arguments by it */
    *out = o;
    return 0;
}

/* {movie_id=, title=, genres={...}, year=, n_ratings=, mean_rating=} */
static void mm_lua_movie(lua_State *L, const mm_movie *m)
{
    const char *g = m->genres ? m->genres : "";
    lua_Integer k = 0;
    lua_createtable(L, 0, 6);
    mm_lua_setint(L, "movie_id", m->movie_id);
    lua_pushstring(L, m->title ? m->title : "");
    lua_setfield(L, -2, "title");
    lua_newtable(L);
    while (*g) {
        const char *bar = strchr(g, '|');
        size_t len = bar ? (size_t)(bar - g) : strlen(g);
        lua_pushlstring(L, g, len);
        lua_rawseti(L, -2, ++k);
        g += len + (bar ? 1 : 0);
    }
    lua_setfield(L, -2, "genres");
    mm_lua_setint(L, "year", m->year);
    mm_lua_setint(L, "n_ratings", m->n_ratings);
    mm_lua_setnum(L, "mean_rating", m->mean_rating);
}

/* ---- progress callback --------------------------------------------- */

typedef struct mm_lua_progress {
    lua_State *L;
    int fn_ref;  /* LUA_NOREF: none */
    int err_ref; /* the error the callback raised, or LUA_NOREF */
} mm_lua_progress;

/* Calls fn({iteration=, iterations=, train_rmse=, loss=, seconds=}) in
   protected mode: `false` cancels, an error cancels and is re-raised by
   train_als once training has stopped (never a longjmp through C). */
static int mm_lua_progress_cb(void *userdata, const rec_progress *p)
{
    mm_lua_progress *st = (mm_lua_progress *)userdata;
    lua_State *L = st->L;
    int stop;
    if (st->fn_ref == LUA_NOREF)
        return 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->fn_ref);
    lua_createtable(L, 0, 5);
    mm_lua_setint(L, "iteration", p->iteration);
    mm_lua_setint(L, "iterations", p->iterations);
    mm_lua_setnum(L, "train_rmse", p->train_rmse);
    mm_lua_setnum(L, "loss", p->loss);
    mm_lua_setnum(L, "seconds", p->seconds);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        st->err_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        return 1;
    }
    stop = lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1);
    lua_pop(L, 1);
    return stop;
}

/* A version 3 (hybrid model) option `k` (value on the stack top): sets it
   and returns 1 (*isnum 0 for a bad number, -1 with a message pushed for a
   bad weighting); 0 when `k` is not one of them. `weighting` sets both the
   preference and the implicit weighting (each mode uses its own). */
static int mm_lua_als_v3(lua_State *L, rec_als_params *p, const char *k,
                         int *isnum)
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
    if (!strcmp(k, "preference_reg") && lua_type(L, -1) == LUA_TSTRING &&
        !strcmp(lua_tostring(L, -1), "auto")) {
        p->preference_reg = REC_PREFERENCE_REG_AUTO; /* the default */
        *isnum = 1;
        return 1;
    }
    for (i = 0; i < sizeof doubles / sizeof doubles[0]; i++)
        if (!strcmp(k, doubles[i].name)) {
            *(double *)((char *)p + doubles[i].off) =
                lua_tonumberx(L, -1, isnum);
            return 1;
        }
    if (!strcmp(k, "preference")) {
        p->preference = lua_toboolean(L, -1);
    } else if (!strcmp(k, "preference_rank") ||
               !strcmp(k, "preference_iterations")) {
        lua_Integer v = lua_tointegerx(L, -1, isnum);
        if (*isnum && (v < INT_MIN || v > INT_MAX))
            *isnum = 0;
        *(k[11] == 'r' ? &p->preference_rank : &p->preference_iterations) =
            (int)v;
    } else if (!strcmp(k, "weighting") ||
               !strcmp(k, "preference_weighting") ||
               !strcmp(k, "implicit_weighting")) {
        const char *sv = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                         : "";
        int w = !strcmp(sv, "bm25") ? REC_WEIGHT_BM25
                : !strcmp(sv, "none") ? REC_WEIGHT_NONE : -1;
        if (w < 0) {
            lua_pushfstring(L, "option %s must be 'bm25' or 'none'", k);
            *isnum = -1;
            return 1;
        }
        if (k[0] != 'i')
            p->preference_weighting = w;
        if (k[0] != 'p')
            p->implicit_weighting = w;
    } else if (!strcmp(k, "preference_confidence")) {
        const char *sv = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                         : "";
        int c = !strcmp(sv, "linear") ? REC_CONFIDENCE_LINEAR
                : !strcmp(sv, "scaled") ? REC_CONFIDENCE_SCALED : -1;
        if (c < 0) {
            lua_pushfstring(L, "option %s must be 'linear' or 'scaled'", k);
            *isnum = -1;
            return 1;
        }
        p->preference_confidence = c;
    } else
        return 0;
    return 1;
}

/* rec_als_params from an options table (nil = defaults). */
static int mm_lua_als_params_(lua_State *L, int idx, rec_als_params *p,
                              mm_lua_progress *prog);

/* As below, releasing the callback reference when the options are bad. */
static int mm_lua_als_params(lua_State *L, int idx, rec_als_params *p,
                             mm_lua_progress *prog)
{
    if (mm_lua_als_params_(L, idx, p, prog) == 0)
        return 0;
    luaL_unref(L, LUA_REGISTRYINDEX, prog->fn_ref);
    prog->fn_ref = LUA_NOREF;
    return -1;
}

static int mm_lua_als_params_(lua_State *L, int idx, rec_als_params *p,
                              mm_lua_progress *prog)
{
    rec_als_params_init(p);
    p->progress = mm_lua_progress_cb;
    p->progress_userdata = prog;
    if (lua_isnoneornil(L, idx))
        return 0;
    if (!lua_istable(L, idx)) {
        lua_pushfstring(L, "training options must be a table, got %s",
                        luaL_typename(L, idx));
        return -1;
    }
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                        : "";
        int isnum = 1;
        if (!strcmp(k, "rank") || !strcmp(k, "iterations") ||
            !strcmp(k, "n_threads")) {
            lua_Integer v = lua_tointegerx(L, -1, &isnum);
            if (isnum && (v < INT_MIN || v > INT_MAX))
                isnum = 0;
            *(k[0] == 'r' ? &p->rank
                          : k[0] == 'i' ? &p->iterations : &p->n_threads) =
                (int)v;
        } else if (!strcmp(k, "reg")) {
            p->reg = lua_tonumberx(L, -1, &isnum);
        } else if (!strcmp(k, "bias_reg")) {
            p->bias_reg = lua_tonumberx(L, -1, &isnum);
        } else if (!strcmp(k, "seed")) {
            lua_Integer v = lua_tointegerx(L, -1, &isnum);
            if (isnum && v < 0)
                isnum = 0;
            p->seed = (uint64_t)v;
        } else if (!strcmp(k, "nonnegative")) {
            p->nonnegative = lua_toboolean(L, -1);
        } else if (!strcmp(k, "biases")) {
            p->biases = lua_toboolean(L, -1);
        } else if (!strcmp(k, "implicit")) {
            p->implicit = lua_toboolean(L, -1);
        } else if (!strcmp(k, "implicit_weight_by_value")) {
            p->implicit_weight_by_value = lua_toboolean(L, -1);
        } else if (!strcmp(k, "alpha")) {
            p->alpha = lua_tonumberx(L, -1, &isnum);
        } else if (!strcmp(k, "implicit_min_rating")) {
            p->implicit_min_rating = (float)lua_tonumberx(L, -1, &isnum);
        } else if (!strcmp(k, "cg_steps")) {
            lua_Integer v = lua_tointegerx(L, -1, &isnum);
            if (isnum && (v < INT_MIN || v > INT_MAX))
                isnum = 0;
            p->cg_steps = (int)v;
        } else if (!strcmp(k, "solver")) {
            const char *sv = lua_type(L, -1) == LUA_TSTRING
                                 ? lua_tostring(L, -1)
                                 : "";
            if (!strcmp(sv, "cg"))
                p->solver = REC_SOLVER_CG;
            else if (!strcmp(sv, "cholesky"))
                p->solver = REC_SOLVER_CHOLESKY;
            else {
                lua_pushstring(L, "option solver must be 'cg' or 'cholesky'");
                return -1;
            }
        } else if (mm_lua_als_v3(L, p, k, &isnum)) {
            if (isnum < 0)
                return -1; /* message pushed */
        } else if (!strcmp(k, "progress")) {
            if (!lua_isfunction(L, -1)) {
                lua_pushstring(L, "option progress must be a function");
                return -1;
            }
            lua_pushvalue(L, -1);
            prog->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        } else {
            lua_pushfstring(L, "unknown training option '%s'", k);
            return -1;
        }
        if (!isnum) {
            lua_pushfstring(L, "option %s: bad value (%s)", k,
                            luaL_typename(L, -1));
            return -1;
        }
        lua_pop(L, 1);
    }
    return 0;
}
%}

/* ---- typemaps ------------------------------------------------------------ */

/* Counts and ids are Lua integers (SWIG's default pushes floats). */
%typemap(out) int, unsigned, size_t, int32_t, uint32_t {
    lua_pushinteger(L, (lua_Integer)$1);
    SWIG_arg++;
}

/* Errors: the one place a C status becomes error(message). */
%typemap(in, numinputs=0) mm_error *err (mm_error temp) {
    mm_error_init(&temp);
    $1 = &temp;
}
%typemap(argout) mm_error *err {
    if ($1->e.code != REC_OK) {
        mm_lua_push_error(L, $1->e.code, mm_error_message($1), $1->path);
        SWIG_fail;
    }
}

/* Closed handles: a clear error before the call, never a NULL handle. */
%typemap(check) mm_ratings *, struct mm_ratings * {
    if ($1 && mm_lua_closed(L, $1->h, "Ratings", "$symname"))
        SWIG_fail;
}
%typemap(check) mm_model *, struct mm_model * {
    if ($1 && mm_lua_closed(L, $1->h, "Model", "$symname"))
        SWIG_fail;
}

/* An ignored argument: __close gets the pending error, of any type. */
%typemap(in, checkfn="") int LUA_IGNORED "$1 = 0;";

/* ds:split() returns two datasets, owned by Lua. */
%typemap(in, numinputs=0) mm_ratings **train_out (mm_ratings *tmp = NULL),
                          mm_ratings **test_out (mm_ratings *tmp = NULL) {
    $1 = &tmp;
}
%typemap(argout) mm_ratings **train_out, mm_ratings **test_out {
    SWIG_NewPointerObj(L, *$1, $*1_descriptor, 1);
    SWIG_arg++;
}

%typemap(in, checkfn="lua_istable") (const rec_rating *rows, size_t n) {
    if (mm_lua_rows(L, $input, &$1, &$2) < 0) {
        mm_lua_arg_error(L);
        SWIG_fail;
    }
}

%typemap(in, checkfn="lua_istable") (const rec_movie_rating *ratings, size_t n_ratings) {
    if (mm_lua_pairs(L, $input, &$1, &$2) < 0) {
        mm_lua_arg_error(L);
        SWIG_fail;
    }
}

%typemap(in, checkfn="lua_istable") (const int32_t *USER_IDS, size_t N_USERS) {
    if (mm_lua_ids(L, $input, (int32_t **)&$1, &$2, "user id") < 0) {
        mm_lua_arg_error(L);
        SWIG_fail;
    }
}
%typemap(in, checkfn="lua_istable") (const int32_t *MOVIE_IDS, size_t N_MOVIES) {
    if (mm_lua_ids(L, $input, (int32_t **)&$1, &$2, "movie id") < 0) {
        mm_lua_arg_error(L);
        SWIG_fail;
    }
}
%typemap(out) mm_rec_rows {
    size_t i;
    lua_createtable(L, (int)$1.n, 0);
    for (i = 0; i < $1.n; i++) {
        mm_lua_recs(L, &$1.rows[i]); /* frees the row */
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    free($1.rows);
    SWIG_arg++;
}
%typemap(out) mm_floats {
    size_t i;
    lua_createtable(L, (int)$1.n, 0);
    for (i = 0; i < $1.n; i++) {
        lua_pushnumber(L, $1.v[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    free($1.v);
    SWIG_arg++;
}

%typemap(in) const char *GENRES {
    if (mm_lua_genres(L, $input, (const char **)&$1) < 0) {
        mm_lua_arg_error(L);
        SWIG_fail;
    }
}

/* arginit also runs when the options are left out: the locals live here */
%typemap(arginit) rec_als_params *opts (rec_als_params temp, mm_lua_progress prog) {
    prog.L = L;
    prog.fn_ref = prog.err_ref = LUA_NOREF;
}
%typemap(in) rec_als_params *opts {
    if (mm_lua_als_params(L, $input, &temp$argnum, &prog$argnum) < 0) {
        mm_lua_arg_error(L);
        SWIG_fail;
    }
    $1 = &temp$argnum;
}
/* Lua wrappers skip freearg on errors: release the references here, right
   after training (opts is the last input, so nothing can fail before). */
%typemap(argout) rec_als_params *opts {
    luaL_unref(L, LUA_REGISTRYINDEX, prog$argnum.fn_ref);
    prog$argnum.fn_ref = LUA_NOREF;
    if (prog$argnum.err_ref != LUA_NOREF) {
        /* the callback raised: training stopped; re-raise its error */
        lua_rawgeti(L, LUA_REGISTRYINDEX, prog$argnum.err_ref);
        luaL_unref(L, LUA_REGISTRYINDEX, prog$argnum.err_ref);
        prog$argnum.err_ref = LUA_NOREF;
        SWIG_fail;
    }
}

%typemap(out) mm_recs {
    mm_lua_recs(L, &$1);
    SWIG_arg++;
}
%typemap(out) mm_explanation {
    mm_lua_explanation(L, &$1);
    SWIG_arg++;
}
%typemap(in, checkfn="") const rec_top_n_options *TOPTS {
    if (mm_lua_top_opts(L, $input, (rec_top_n_options **)&$1) < 0) {
        mm_lua_arg_error(L);
        SWIG_fail;
    }
}
%typemap(out) mm_movie {
    mm_lua_movie(L, &$1);
    mm_movie_clear(&$1);
    SWIG_arg++;
}
%typemap(out) mm_movies {
    size_t i;
    lua_createtable(L, (int)$1.n, 0);
    for (i = 0; i < $1.n; i++) {
        mm_lua_movie(L, &$1.v[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    mm_movies_free(&$1);
    SWIG_arg++;
}
%typemap(out) mm_stats {
    size_t i;
    lua_createtable(L, (int)$1.n, 0);
    for (i = 0; i < $1.n; i++) {
        lua_createtable(L, 0, 3);
        mm_lua_setint(L, "movie_id", $1.v[i].movie_id);
        mm_lua_setint(L, "count", $1.v[i].count);
        mm_lua_setnum(L, "average", $1.v[i].average);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    free($1.v);
    SWIG_arg++;
}
%typemap(out) mm_pairs {
    size_t i;
    lua_createtable(L, (int)$1.n, 0);
    for (i = 0; i < $1.n; i++) {
        lua_createtable(L, 2, 2);
        mm_lua_setint(L, "movie_id", $1.v[i].movie_id);
        mm_lua_setnum(L, "rating", $1.v[i].rating);
        lua_pushinteger(L, $1.v[i].movie_id);
        lua_rawseti(L, -2, 1);
        lua_pushnumber(L, $1.v[i].rating);
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    free($1.v);
    SWIG_arg++;
}
/* factors (1-based array) and bias: two results */
%typemap(out) mm_factors {
    size_t i;
    lua_createtable(L, (int)$1.n, 0);
    for (i = 0; i < $1.n; i++) {
        lua_pushnumber(L, $1.v[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_pushnumber(L, $1.bias);
    free($1.v);
    SWIG_arg += 2;
}
%typemap(out) rec_eval_result {
    lua_createtable(L, 0, 12);
    mm_lua_setnum(L, "rmse", $1.rmse);
    mm_lua_setnum(L, "mae", $1.mae);
    mm_lua_setint(L, "n_predictions", (lua_Integer)$1.n_predictions);
    mm_lua_setint(L, "k", $1.k);
    mm_lua_setnum(L, "precision_at_k", $1.precision_at_k);
    mm_lua_setnum(L, "recall_at_k", $1.recall_at_k);
    mm_lua_setnum(L, "ndcg_at_k", $1.ndcg_at_k);
    mm_lua_setnum(L, "map_at_k", $1.map_at_k);
    mm_lua_setint(L, "n_users_ranked", (lua_Integer)$1.n_users_ranked);
    mm_lua_setnum(L, "auc", $1.auc);
    mm_lua_setnum(L, "coverage", $1.coverage);
    mm_lua_setnum(L, "median_train_count", $1.median_train_count);
    SWIG_arg++;
}

/* ---- tuning (tune_als; issue 11): options table in, result table out ---- */

%{
typedef struct mm_lua_tune {
    double *lists[MM_TUNE_LISTS]; /* the grid lists (mm_tune_lists) */
    int *ranks;
} mm_lua_tune;

static void mm_lua_tune_free(mm_lua_tune *t)
{
    int i;
    for (i = 0; i < MM_TUNE_LISTS; i++)
        free(t->lists[i]);
    free(t->ranks);
    memset(t, 0, sizeof *t);
}

/* An array of numbers at the top of the stack (malloc'd). */
static int mm_lua_num_array(lua_State *L, void **out, size_t *n, int ints)
{
    size_t len, i;
    if (!lua_istable(L, -1))
        return -1;
    len = (size_t)lua_rawlen(L, -1);
    *out = malloc((len ? len : 1) * (ints ? sizeof(int) : sizeof(double)));
    if (!*out)
        return -1;
    for (i = 0; i < len; i++) {
        int isnum;
        lua_rawgeti(L, -1, (lua_Integer)i + 1);
        if (ints)
            ((int *)*out)[i] = (int)lua_tointegerx(L, -1, &isnum);
        else
            ((double *)*out)[i] = lua_tonumberx(L, -1, &isnum);
        lua_pop(L, 1);
        if (!isnum)
            return -1;
    }
    *n = len;
    return 0;
}

/* rec_tune_options from an options table (nil = defaults); pushes an
   error message and returns -1 on a bad option. */
static int mm_lua_tune_options(lua_State *L, int idx, rec_tune_options *o,
                               mm_lua_tune *t)
{
    rec_tune_options_init(o);
    if (lua_isnoneornil(L, idx))
        return 0;
    if (!lua_istable(L, idx)) {
        lua_pushstring(L, "tuning options must be a table");
        return -1;
    }
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                        : "";
        int isnum = 1, bad = 0, list;
        const char *sv = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                        : "";
        if (!strcmp(k, "base")) {
            mm_lua_progress unused;
            unused.L = L;
            unused.fn_ref = unused.err_ref = LUA_NOREF;
            if (mm_lua_als_params(L, lua_gettop(L), &o->base, &unused) < 0)
                return -1;
            luaL_unref(L, LUA_REGISTRYINDEX, unused.fn_ref);
            o->base.progress = NULL;
            o->base.progress_userdata = NULL;
        } else if (!strcmp(k, "metric")) {
            o->metric = !strcmp(sv, "ndcg") ? REC_METRIC_NDCG : REC_METRIC_RMSE;
            bad = strcmp(sv, "ndcg") && strcmp(sv, "rmse");
        } else if (!strcmp(k, "validation")) {
            o->validation = !strcmp(sv, "folds") ? REC_VALIDATION_FOLDS
                            : !strcmp(sv, "per_user") ? REC_VALIDATION_PER_USER
                                                      : REC_VALIDATION_RANDOM;
            bad = strcmp(sv, "folds") && strcmp(sv, "per_user") &&
                  strcmp(sv, "random");
        } else if (!strcmp(k, "fraction"))
            o->fraction = lua_tonumberx(L, -1, &isnum);
        else if (!strcmp(k, "early_stop"))
            o->early_stop = lua_tonumberx(L, -1, &isnum);
        else if (!strcmp(k, "leave_out"))
            o->leave_out = (int)lua_tointegerx(L, -1, &isnum);
        else if (!strcmp(k, "folds"))
            o->folds = (int)lua_tointegerx(L, -1, &isnum);
        else if (!strcmp(k, "k"))
            o->k = (int)lua_tointegerx(L, -1, &isnum);
        else if (!strcmp(k, "path_patience"))
            o->path_patience = (int)lua_tointegerx(L, -1, &isnum);
        else if (!strcmp(k, "warm_iterations"))
            o->warm_iterations = (int)lua_tointegerx(L, -1, &isnum);
        else if (!strcmp(k, "split_seed"))
            o->split_seed = (uint64_t)lua_tointegerx(L, -1, &isnum);
        else if (!strcmp(k, "warm_start"))
            o->warm_start = lua_toboolean(L, -1);
        else if (!strcmp(k, "fit_rating_pref"))
            o->fit_rating_pref = lua_toboolean(L, -1);
        else if (!strcmp(k, "auto_blend"))
            o->auto_blend = lua_toboolean(L, -1);
        else if ((list = mm_tune_list_index(k)) >= 0) {
            size_t n = 0;
            bad = mm_lua_num_array(L, (void **)&t->lists[list], &n, 0);
            mm_tune_set_list(o, list, t->lists[list], n);
        } else if (!strcmp(k, "ranks")) {
            bad = mm_lua_num_array(L, (void **)&t->ranks, &o->n_ranks, 1);
            o->ranks = t->ranks;
        } else {
            lua_pushfstring(L, "unknown tuning option '%s'", k);
            return -1;
        }
        if (!isnum || bad) {
            lua_pushfstring(L, "option %s: bad value", k);
            return -1;
        }
        lua_pop(L, 1);
    }
    return 0;
}

/* The searched values of a point or of the best (C names, so that
   train_als takes the best as it is). */
static void mm_lua_tune_params(lua_State *L, const rec_als_params *p)
{
    mm_lua_setint(L, "rank", p->rank);
    mm_lua_setnum(L, "reg", p->reg);
    mm_lua_setnum(L, "bias_reg", p->bias_reg);
    mm_lua_setnum(L, "alpha", p->alpha);
    mm_lua_setnum(L, "bias_prior", p->bias_prior);
    mm_lua_setnum(L, "preference_reg", p->preference_reg);
    mm_lua_setnum(L, "preference_alpha", p->preference_alpha);
    mm_lua_setnum(L, "blend", p->blend);
    mm_lua_setnum(L, "blend_shrink", p->blend_shrink);
    mm_lua_setnum(L, "rating_pref_weight", p->rating_pref_weight);
    mm_lua_setnum(L, "rating_pref_shift", p->rating_pref_shift);
}

static void mm_lua_tune_point(lua_State *L, const rec_tune_point *q)
{
    lua_createtable(L, 0, 19);
    mm_lua_tune_params(L, &q->params);
    lua_pushboolean(L, q->reranked);
    lua_setfield(L, -2, "reranked");
    mm_lua_setnum(L, "metric", q->metric);
    mm_lua_setnum(L, "rmse", q->rmse);
    mm_lua_setnum(L, "ndcg", q->ndcg);
    mm_lua_setnum(L, "seconds", q->seconds);
    mm_lua_setint(L, "iterations", q->iterations);
    lua_pushboolean(L, q->warm);
    lua_setfield(L, -2, "warm");
    lua_pushboolean(L, q->stopped_early);
    lua_setfield(L, -2, "stopped_early");
}
%}

%typemap(arginit) rec_tune_options *tune_opts (rec_tune_options temp, mm_lua_tune lists) {
    memset(&lists, 0, sizeof lists);
}
%typemap(in) rec_tune_options *tune_opts {
    if (mm_lua_tune_options(L, $input, &temp$argnum, &lists$argnum) < 0) {
        mm_lua_tune_free(&lists$argnum);
        SWIG_fail;
    }
    $1 = &temp$argnum;
}
/* Lua wrappers skip freearg on errors: free the lists right after tuning */
%typemap(argout) rec_tune_options *tune_opts {
    mm_lua_tune_free(&lists$argnum);
}
%typemap(out) mm_tuned {
    size_t i;
    if ($1.ok) {
        const rec_als_params *b = &$1.result.best;
        lua_createtable(L, 0, 7);
        lua_createtable(L, (int)$1.n, 0);
        for (i = 0; i < $1.n; i++) {
            mm_lua_tune_point(L, &$1.points[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        lua_setfield(L, -2, "points");
        lua_createtable(L, 0, 26);
        mm_lua_tune_params(L, b);
        mm_lua_setint(L, "iterations", b->iterations);
        mm_lua_setint(L, "seed", (lua_Integer)b->seed);
        mm_lua_setint(L, "n_threads", b->n_threads);
        lua_pushboolean(L, b->implicit);
        lua_setfield(L, -2, "implicit");
        lua_pushboolean(L, b->biases);
        lua_setfield(L, -2, "biases");
        lua_pushboolean(L, b->nonnegative);
        lua_setfield(L, -2, "nonnegative");
        lua_pushboolean(L, b->preference);
        lua_setfield(L, -2, "preference");
        mm_lua_setint(L, "preference_rank", b->preference_rank);
        mm_lua_setint(L, "preference_iterations", b->preference_iterations);
        lua_pushstring(L, b->preference_weighting == REC_WEIGHT_BM25 ? "bm25"
                                                                     : "none");
        lua_setfield(L, -2, "preference_weighting");
        lua_pushstring(L, b->implicit_weighting == REC_WEIGHT_BM25 ? "bm25"
                                                                   : "none");
        lua_setfield(L, -2, "implicit_weighting");
        mm_lua_setnum(L, "bm25_k1", b->bm25_k1);
        mm_lua_setnum(L, "bm25_b", b->bm25_b);
        lua_pushstring(L, b->preference_confidence == REC_CONFIDENCE_SCALED
                              ? "scaled"
                              : "linear");
        lua_setfield(L, -2, "preference_confidence");
        lua_pushstring(L, b->solver == REC_SOLVER_CG ? "cg" : "cholesky");
        lua_setfield(L, -2, "solver");
        mm_lua_setint(L, "cg_steps", b->cg_steps);
        mm_lua_setnum(L, "implicit_min_rating", b->implicit_min_rating);
        lua_pushboolean(L, b->implicit_weight_by_value);
        lua_setfield(L, -2, "implicit_weight_by_value");
        lua_setfield(L, -2, "best");
        mm_lua_setnum(L, "metric", $1.result.metric);
        mm_lua_setnum(L, "rmse", $1.result.rmse);
        mm_lua_setnum(L, "ndcg", $1.result.ndcg);
        mm_lua_setint(L, "best_index", (lua_Integer)$1.result.best_index + 1);
        mm_lua_setnum(L, "seconds", $1.result.seconds);
    } else {
        lua_pushnil(L);
    }
    free($1.points);
    SWIG_arg++;
}

%include "../movieme.i"

/* ---- Lua idioms ----------------------------------------------------------- */

%newobject mm_ratings::__tostring;
%newobject mm_model::__tostring;

%extend mm_ratings {
    /** Free the dataset now (the collector would later); calls after it
        raise "Ratings is closed". Idempotent. */
    void close() { mm_ratings_release($self); }
    /** true after close() */
    bool closed() { return $self->h == NULL; }
    /** `local ds <close> = ...`: close when the variable goes out of scope */
    void __close(int LUA_IGNORED = 0) { mm_ratings_release($self); }

    /** #ratings: the number of ratings. */
    size_t __len(void *unused = NULL) { /* Lua passes the object twice */
        size_t n;
        MM_RDLOCK($self);
        n = rec_ratings_n_ratings($self->h);
        MM_UNLOCK($self);
        return n;
    }
    /** tostring(ratings) */
    char *__tostring() {
        char *s = (char *)malloc(96);
        if (s && !$self->h) {
            snprintf(s, 96, "movieme.Ratings (closed)");
        } else if (s) {
            MM_RDLOCK($self);
            snprintf(s, 96, "movieme.Ratings: %zu users, %zu movies, %zu ratings",
                     rec_ratings_n_users($self->h),
                     rec_ratings_n_movies($self->h),
                     rec_ratings_n_ratings($self->h));
            MM_UNLOCK($self);
        }
        return s;
    }
}

%extend mm_model {
    /** Top-n for many users at once (rec_top_n_many): a table whose row i
        equals top_n(user_ids[i], n, opts). */
    mm_rec_rows top_n_many(const int32_t *USER_IDS, size_t N_USERS,
                           long long n = 10,
                           const rec_top_n_options *TOPTS = NULL,
                           mm_error *err) {
        return mm_lua_top_n_rows($self, USER_IDS, N_USERS, n, TOPTS, err);
    }

    /** Predicted ratings of the pairs (users[i], movies[i])
        (rec_predict_many): a table of numbers, as predict() each. */
    mm_floats predict_many(const int32_t *USER_IDS, size_t N_USERS,
                           const int32_t *MOVIE_IDS, size_t N_MOVIES,
                           mm_error *err) {
        mm_floats out = {NULL, 0};
        if (N_USERS != N_MOVIES) {
            mm_failf(err, REC_EINVAL, "predict_many: %zu users but %zu "
                     "movies", N_USERS, N_MOVIES);
            return out;
        }
        out.v = (float *)malloc((N_USERS ? N_USERS : 1) * sizeof *out.v);
        if (!out.v) {
            mm_failf(err, REC_ENOMEM, "out of memory");
            return out;
        }
        MM_RDLOCK($self);
        if (mm_check(err, rec_predict_many(out.v, $self->h, USER_IDS,
                                           MOVIE_IDS, N_USERS, &err->e))
            == REC_OK)
            out.n = N_USERS;
        MM_UNLOCK($self);
        if (out.n != N_USERS) {
            free(out.v);
            out.v = NULL;
        }
        return out;
    }

    /** Free the model now; calls after it raise "Model is closed". */
    void close() { mm_model_release($self); }
    bool closed() { return $self->h == NULL; }
    void __close(int LUA_IGNORED = 0) { mm_model_release($self); }

    /** tostring(model) */
    char *__tostring() {
        char *s = (char *)malloc(96);
        if (s && !$self->h) {
            snprintf(s, 96, "movieme.Model (closed)");
        } else if (s) {
            MM_RDLOCK($self);
            snprintf(s, 96, "movieme.Model: rank %d, %zu users, %zu movies",
                     rec_model_rank($self->h), rec_model_n_users($self->h),
                     rec_model_n_movies($self->h));
            MM_UNLOCK($self);
        }
        return s;
    }
}

%init %{
    /* movieme.Error: the metatable of error tables (the module table is on
       top) */
    if (luaL_newmetatable(L, MM_LUA_ERROR)) {
        lua_pushcfunction(L, mm_lua_error_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_setfield(L, -2, "Error");
    /* movieme._VERSION = "movieme 0.1.0" */
    lua_pushfstring(L, "movieme %s", rec_version_string());
    lua_setfield(L, -2, "_VERSION");
%}
