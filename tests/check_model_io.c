/*
 * check_model_io.c - model files: round trips (trained, folded-in users,
 * big-endian files) and the catalogue of bad files (empty, truncated at
 * every byte, wrong magic, future version, flipped bytes, hostile sizes
 * with a valid checksum, directories, unwritable destinations).
 */
#include "test_util.h"

#include "internal.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <zlib.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REC_TEST_HAS_ASAN 1
#endif
#endif

/* ---- fixtures ---------------------------------------------------------- */

/* A tiny trained model: 6 users, 5 movies with titles, rank 3. */
/* The tiny model: explicit-only with the 0.1 biases (format version 1)
   or, with `hybrid`, the default model (format version 3). */
static rec_model *tiny_model_pref(int hybrid, double weight, double shift)
{
    static const rec_rating rows[] = {
        {1, 10, 5}, {1, 20, 3}, {1, 30, 4},   {2, 10, 4}, {2, 40, 2},
        {3, 20, 1}, {3, 30, 5}, {3, 50, 4.5f}, {4, 10, 2}, {4, 50, 3},
        {5, 40, 5}, {5, 30, 3.5f}, {7, 10, 1}, {7, 20, 2}, {7, 50, 5},
    };
    rec_error err = {0};
    rec_ratings *r = NULL;
    ck_assert_ok(rec_ratings_new(&r, &err), &err);
    ck_assert_ok(rec_ratings_add(r, rows, sizeof rows / sizeof rows[0], &err),
                 &err);
    ck_assert_ok(rec_ratings_set_movie(r, 10, "Toy Story (1995)",
                                       "Animation|Children's|Comedy", &err),
                 &err);
    ck_assert_ok(rec_ratings_set_movie(r, 20, "Am\xc3\xa9lie (2001)",
                                       "Comedy|Romance", &err),
                 &err);
    ck_assert_ok(rec_ratings_set_movie(r, 30, "\"Quoted\", with comma (1999)",
                                       NULL, &err),
                 &err);
    ck_assert_ok(rec_ratings_set_movie(r, 60, "Never Rated", "Drama", &err),
                 &err);
    rec_als_params p;
    rec_als_params_init(&p);
    p.rank = 3;
    p.preference_rank = 0; /* = rank: a small file to read */
    p.iterations = 4;
    p.n_threads = 1;
    if (!hybrid) {
        p.preference = 0;
        p.bias_prior = 0.0;
    }
    p.rating_pref_weight = weight;
    p.rating_pref_shift = shift;
    rec_model *m = NULL;
    ck_assert_ok(rec_train_als(&m, r, &p, &err), &err);
    rec_ratings_free(r);
    return m;
}

static rec_model *tiny_model_kind(int hybrid)
{
    return tiny_model_pref(hybrid, 0.0, 0.0);
}

static rec_model *tiny_model(void)
{
    return tiny_model_kind(0);
}

/* Read a whole file into memory. */
static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void spit(const char *path, const void *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, len, f), len);
    fclose(f);
}

/* The tiny model saved; returns its bytes. */
static unsigned char *tiny_kind_bytes(size_t *len, int hybrid)
{
    rec_error err = {0};
    rec_model *m = tiny_model_kind(hybrid);
    const char *path = tmp_path(hybrid ? "tiny3.bin" : "tiny.bin");
    ck_assert_ok(rec_model_save(m, path, &err), &err);
    rec_model_free(m);
    return slurp(path, len);
}

static unsigned char *tiny_bytes(size_t *len)
{
    return tiny_kind_bytes(len, 0);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le64(unsigned char *p, uint64_t v)
{
    put_le32(p, (uint32_t)v);
    put_le32(p + 4, (uint32_t)(v >> 32));
}

/* Recompute the trailer so the checksum matches (a hostile file). */
static void fix_crc(unsigned char *b, size_t len)
{
    put_le32(b + len - 4, (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), b, len - 4));
}

/* Offset of the body of section `tag` in a little-endian file. */
static size_t section_at(const unsigned char *b, size_t len, const char *tag,
                         size_t *body_len)
{
    size_t off = 32;
    uint32_t n = le32(b + 24);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t bl = le64(b + off + 8);
        if (memcmp(b + off, tag, 4) == 0) {
            if (body_len)
                *body_len = (size_t)bl;
            return off + 16;
        }
        off += 16 + ((bl + 7) & ~(uint64_t)7);
        ck_assert_uint_le(off, len);
    }
    ck_abort_msg("no section %s", tag);
    return 0;
}

/* Load from memory and expect REC_EFORMAT with `needle` in the message. */
static void expect_format(const unsigned char *b, size_t len,
                          const char *needle)
{
    rec_error err = {0};
    rec_model *m = (rec_model *)&err; /* must be reset to NULL */
    rec_status st = rec__model_load_mem(&m, b, len, "bad.bin", &err);
    ck_assert_msg(st == REC_EFORMAT, "len %zu: status %d (%s)", len, st,
                  err.msg);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(err.code, REC_EFORMAT);
    ck_assert_msg(strstr(err.msg, "bad.bin") != NULL, "no name in '%s'",
                  err.msg);
    if (needle)
        ck_assert_msg(strstr(err.msg, needle) != NULL,
                      "'%s' not in '%s'", needle, err.msg);
}

/* Check records every ck_assert (a write to a pipe): count mismatches in
   the big loops and assert once. */
typedef struct tally {
    int bad;
    int first_line;
} tally;

#define SAME(t, cond)                                                        \
    do {                                                                     \
        if (!(cond) && (t)->bad++ == 0)                                      \
            (t)->first_line = __LINE__;                                      \
    } while (0)

static void same_movies(tally *t, const rec_model *a, const rec_model *b)
{
    int k = rec_model_rank(a);
    float fa[64], fb[64], ba = 0, bb = 0;
    for (size_t i = 0; i < rec_model_n_movies(a); i++) {
        rec_movie_info ia, ib;
        SAME(t, rec_model_movie_at(&ia, a, i, NULL) == REC_OK);
        SAME(t, rec_model_movie_at(&ib, b, i, NULL) == REC_OK);
        SAME(t, ia.movie_id == ib.movie_id && ia.year == ib.year &&
                    strcmp(ia.title, ib.title) == 0 &&
                    strcmp(ia.genres, ib.genres) == 0 &&
                    ia.n_ratings == ib.n_ratings &&
                    ia.mean_rating == ib.mean_rating);
        SAME(t, rec_model_movie_factors(fa, 64, &ba, a, ia.movie_id, NULL) ==
                    REC_OK);
        SAME(t, rec_model_movie_factors(fb, 64, &bb, b, ia.movie_id, NULL) ==
                    REC_OK);
        SAME(t, memcmp(fa, fb, (size_t)k * sizeof *fa) == 0 && ba == bb);

        rec_scored sa[8], sb[8];
        size_t na = 0, nb = 0;
        SAME(t, rec_similar_movies(sa, 8, &na, a, ia.movie_id, NULL) ==
                    REC_OK);
        SAME(t, rec_similar_movies(sb, 8, &nb, b, ia.movie_id, NULL) ==
                    REC_OK);
        SAME(t, na == nb);
        for (size_t j = 0; j < na && j < nb; j++)
            SAME(t, sa[j].movie_id == sb[j].movie_id &&
                        sa[j].score == sb[j].score);
    }
}

static void same_users(tally *t, const rec_model *a, const rec_model *b)
{
    int k = rec_model_rank(a);
    float fa[64], fb[64], ba = 0, bb = 0;
    size_t nm = rec_model_n_movies(a);
    rec_scored *ta = calloc(nm + 1, sizeof *ta);
    rec_scored *tb = calloc(nm + 1, sizeof *tb);
    ck_assert(ta && tb);
    for (size_t u = 0; u < a->n_users; u++) {
        int32_t id = a->user_ids[u];
        SAME(t, rec_model_has_user(b, id));
        SAME(t, rec_model_user_factors(fa, 64, &ba, a, id, NULL) == REC_OK);
        SAME(t, rec_model_user_factors(fb, 64, &bb, b, id, NULL) == REC_OK);
        SAME(t, memcmp(fa, fb, (size_t)k * sizeof *fa) == 0 && ba == bb);

        size_t na = 0, nb = 0;
        SAME(t, rec_top_n(ta, nm + 1, &na, a, id, NULL) == REC_OK);
        SAME(t, rec_top_n(tb, nm + 1, &nb, b, id, NULL) == REC_OK);
        SAME(t, na == nb);
        for (size_t j = 0; j < na && j < nb; j++)
            SAME(t, ta[j].movie_id == tb[j].movie_id &&
                        ta[j].score == tb[j].score);

        /* Rated movies: b's are plain CSR (overrides flattened in). */
        const int32_t *ia, *ib;
        const float *va, *vb;
        size_t ra, rb;
        int32_t ub = rec__idmap_get(&b->user_map, id);
        SAME(t, ub >= 0);
        if (ub < 0)
            continue;
        rec__model_user_rated(a, u, &ia, &va, &ra);
        rec__model_user_rated(b, (size_t)ub, &ib, &vb, &rb);
        SAME(t, ra == rb);
        for (size_t j = 0; j < ra && j < rb; j++)
            SAME(t, ia[j] == ib[j] && va[j] == vb[j]);

        for (size_t i = 0; i < nm; i++) {
            float pa = NAN, pb = NAN;
            SAME(t, rec_predict(&pa, a, id, a->movie_ids[i], NULL) == REC_OK);
            SAME(t, rec_predict(&pb, b, id, a->movie_ids[i], NULL) == REC_OK);
            SAME(t, pa == pb);
        }
    }
    free(ta);
    free(tb);
}

/* Two models serve the same: shapes, factors, predictions, top-n, similar
   movies, metadata, rated sets. */
static void assert_same(const rec_model *a, const rec_model *b)
{
    ck_assert_int_eq(rec_model_rank(a), rec_model_rank(b));
    ck_assert_int_le(rec_model_rank(a), 64);
    ck_assert_uint_eq(rec_model_n_users(a), rec_model_n_users(b));
    ck_assert_uint_eq(rec_model_n_movies(a), rec_model_n_movies(b));
    ck_assert(rec_model_global_mean(a) == rec_model_global_mean(b));
    ck_assert_int_eq(a->has_biases, b->has_biases);
    ck_assert(a->reg == b->reg && a->bias_reg == b->bias_reg);
    ck_assert(a->rating_min == b->rating_min &&
              a->rating_max == b->rating_max);
    /* the ranking part (format version 3) */
    ck_assert(a->bias_prior == b->bias_prior && a->blend == b->blend &&
              a->blend_shrink == b->blend_shrink);
    ck_assert_int_eq(a->pref_rank, b->pref_rank);
    ck_assert(a->pref_reg == b->pref_reg && a->pref_alpha == b->pref_alpha);
    ck_assert(a->rating_pref_weight == b->rating_pref_weight &&
              a->rating_pref_shift == b->rating_pref_shift);
    ck_assert_mem_eq(&a->weighting, &b->weighting, sizeof a->weighting);
    size_t kp = (size_t)a->pref_rank;
    if (kp) {
        ck_assert_mem_eq(a->pref_movie, b->pref_movie,
                         a->n_movies * kp * sizeof(float));
        ck_assert_mem_eq(a->pref_user, b->pref_user,
                         a->n_users * kp * sizeof(float));
    }
    ck_assert_int_eq(!a->interactions, !b->interactions);
    if (a->interactions)
        ck_assert_mem_eq(a->interactions, b->interactions,
                         a->n_movies * sizeof(uint32_t));
    tally t = {0, 0};
    same_movies(&t, a, b);
    same_users(&t, a, b);
    ck_assert_msg(t.bad == 0, "%d mismatches, the first at line %d", t.bad,
                  t.first_line);
}

static rec_model *save_load(const rec_model *m, const char *name)
{
    rec_error err = {0};
    const char *path = tmp_path(name);
    ck_assert_ok(rec_model_save(m, path, &err), &err);
    rec_model *back = NULL;
    ck_assert_ok(rec_model_load(&back, path, &err), &err);
    ck_assert_ptr_nonnull(back);
    return back;
}

/* ---- core -------------------------------------------------------------- */

START_TEST(roundtrip_tiny)
{
    rec_model *m = tiny_model();
    rec_model *back = save_load(m, "rt.bin");
    assert_same(m, back);
    rec_movie_info mi;
    ck_assert_ok(rec_model_movie(&mi, back, 20, NULL), (rec_error *)NULL);
    ck_assert_str_eq(mi.title, "Am\xc3\xa9lie (2001)");
    ck_assert_int_eq(mi.year, 2001);
    ck_assert_ok(rec_model_movie(&mi, back, 60, NULL), (rec_error *)NULL);
    ck_assert_str_eq(mi.title, "Never Rated");
    ck_assert_uint_eq(mi.n_ratings, 0);
    /* The loaded model saves to the very same bytes. */
    size_t la, lb;
    ck_assert_ok(rec_model_save(back, tmp_path("rt2.bin"), NULL),
                 (rec_error *)NULL);
    unsigned char *a = slurp(tmp_path("rt.bin"), &la);
    unsigned char *b = slurp(tmp_path("rt2.bin"), &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert(memcmp(a, b, la) == 0);
    free(a);
    free(b);
    rec_model_free(back);
    rec_model_free(m);
}
END_TEST

START_TEST(roundtrip_added_users)
{
    rec_error err = {0};
    rec_model *m = tiny_model();
    const rec_movie_rating fresh[] = {{10, 5}, {30, 1}, {999, 4}};
    const rec_movie_rating rerate[] = {{10, 1}, {40, 4}};
    int32_t id_new = 0, id_set = 0, id_old = 0;
    ck_assert_ok(rec_add_user(&id_new, m, REC_NEW_USER, fresh, 3, &err),
                 &err);
    ck_assert_ok(rec_add_user(&id_set, m, 100, fresh, 2, &err), &err);
    ck_assert_ok(rec_add_user(&id_old, m, 1, rerate, 2, &err), &err);
    ck_assert_int_eq(id_new, 8);
    ck_assert_int_eq(id_set, 100);
    ck_assert_int_eq(id_old, 1);

    rec_model *back = save_load(m, "added.bin");
    ck_assert_uint_eq(rec_model_n_users(back), 8);
    ck_assert(rec_model_has_user(back, 8) && rec_model_has_user(back, 100));
    assert_same(m, back);
    /* User 1's re-rating survived: movie 10 is rated 1 now, 40 added. */
    size_t u = (size_t)rec__idmap_get(&back->user_map, 1);
    const int32_t *items;
    const float *vals;
    size_t n;
    rec__model_user_rated(back, u, &items, &vals, &n);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(back->movie_ids[items[0]], 10);
    ck_assert(vals[0] == 1.0f);
    /* A loaded model takes more users. */
    int32_t id_more;
    ck_assert_ok(rec_add_user(&id_more, back, REC_NEW_USER, rerate, 2, &err),
                 &err);
    ck_assert_int_eq(id_more, 101);
    rec_model_free(back);
    rec_model_free(m);
}
END_TEST

START_TEST(roundtrip_movielens)
{
    rec_error err = {0};
    rec_ratings *r = NULL;
    ck_assert_ok(rec_load_movielens(&r, fixture("ml-100k-sample"), &err),
                 &err);
    rec_als_params p;
    rec_als_params_init(&p);
    p.rank = 8;
    p.iterations = 3;
    p.n_threads = 2;
    rec_model *m = NULL;
    ck_assert_ok(rec_train_als(&m, r, &p, &err), &err);
    rec_model *back = save_load(m, "ml100k.bin");
    assert_same(m, back);
    rec_movie_info mi;
    ck_assert_ok(rec_model_movie(&mi, back, 1, &err), &err);
    ck_assert_str_eq(mi.title, "Toy Story (1995)");
    rec_model_free(back);
    rec_model_free(m);
    rec_ratings_free(r);
}
END_TEST

START_TEST(big_endian_file_is_converted)
{
    rec_error err = {0};
    rec_model *m = tiny_model();
    const char *path = tmp_path("be.bin");
    ck_assert_ok(rec__model_save_order(m, path, 1, &err), &err);
    size_t len, lle;
    unsigned char *b = slurp(path, &len);
    ck_assert(memcmp(b, "MOVIEME\0", 8) == 0);
    ck_assert(b[12] == 1 && b[13] == 2 && b[14] == 3 && b[15] == 4);
    rec_model *back = NULL;
    ck_assert_ok(rec_model_load(&back, path, &err), &err);
    assert_same(m, back);
    /* Same content, other byte order: same length, different bytes. */
    ck_assert_ok(rec_model_save(m, tmp_path("le.bin"), &err), &err);
    unsigned char *le = slurp(tmp_path("le.bin"), &lle);
    ck_assert_uint_eq(len, lle);
    ck_assert(le[12] == 4 && le[15] == 1);
    ck_assert(memcmp(b, le, len) != 0);
    free(le);
    free(b);
    rec_model_free(back);
    rec_model_free(m);
}
END_TEST

START_TEST(header_layout)
{
    size_t len;
    unsigned char *b = tiny_bytes(&len);
    ck_assert(memcmp(b, "MOVIEME\0", 8) == 0);
    ck_assert_uint_eq(le32(b + 8), 1);
    ck_assert_uint_eq(le32(b + 12), 0x01020304u);
    ck_assert_uint_eq(le64(b + 16), len);
    ck_assert_uint_eq(le32(b + 24), 16);
    ck_assert_uint_eq(le32(b + len - 4),
                      (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), b, len - 4));
    size_t bl;
    size_t o = section_at(b, len, "SHAP", &bl);
    ck_assert_uint_eq(o, 48);
    ck_assert_uint_eq(le32(b + o), 3);        /* rank */
    ck_assert_uint_eq(le64(b + o + 8), 6);    /* users */
    ck_assert_uint_eq(le64(b + o + 16), 6);   /* movies, 60 unrated */
    ck_assert_uint_eq(le64(b + o + 24), 15);  /* rated movies */
    /* Sections are 8-byte aligned. */
    ck_assert_uint_eq(section_at(b, len, "MFAC", NULL) % 8, 0);
    ck_assert_uint_eq(section_at(b, len, "ROFF", NULL) % 8, 0);
    free(b);
}
END_TEST

/* What each kind of model writes: 0.1-style models keep format version 1
   byte for byte (older readers read them), the hybrid default writes
   version 3 with its ranking sections, and each loads back the same. */
START_TEST(format_versions)
{
    size_t l1, l3, bl;
    unsigned char *b1 = tiny_kind_bytes(&l1, 0);
    unsigned char *b3 = tiny_kind_bytes(&l3, 1);
    ck_assert_uint_eq(le32(b1 + 8), 1);
    ck_assert_uint_eq(le32(b3 + 8), 3);
    ck_assert_uint_eq(le32(b3 + 24), 16 + 4); /* RANK PMFA PUFA ICNT */
    ck_assert_uint_eq(le32(b3 + section_at(b3, l3, "RANK", &bl) + 12), 3);
    ck_assert_uint_eq(bl, 88);
    section_at(b3, l3, "PMFA", &bl);
    ck_assert_uint_eq(bl, 4 * 6 * 3); /* 6 movies, preference rank 3 */
    section_at(b3, l3, "PUFA", &bl);
    ck_assert_uint_eq(bl, 4 * 6 * 3); /* 6 users */
    section_at(b3, l3, "ICNT", &bl);
    ck_assert_uint_eq(bl, 4 * 6);
    rec_model *m = tiny_model_kind(1), *back = save_load(m, "v3.bin");
    assert_same(m, back);
    ck_assert(rec_model_hybrid(back));
    rec_model *old = tiny_model_kind(0);
    ck_assert(!rec_model_hybrid(old));
    rec_model_free(old);
    rec_scored x[8], y[8];
    size_t nx, ny;
    ck_assert_ok(rec_top_n(x, 8, &nx, m, 3, NULL), (rec_error *)NULL);
    ck_assert_ok(rec_top_n(y, 8, &ny, back, 3, NULL), (rec_error *)NULL);
    ck_assert_uint_eq(nx, ny);
    ck_assert_mem_eq(x, y, nx * sizeof *x);
    /* a fold-in uses the saved weighting: same results after loading */
    const rec_movie_rating mine[] = {{10, 5.0f}, {40, 2.0f}};
    ck_assert_ok(rec_recommend_for_ratings(x, 8, &nx, m, mine, 2, NULL),
                 (rec_error *)NULL);
    ck_assert_ok(rec_recommend_for_ratings(y, 8, &ny, back, mine, 2, NULL),
                 (rec_error *)NULL);
    ck_assert_uint_eq(nx, ny);
    ck_assert_mem_eq(x, y, nx * sizeof *x);
    rec_model_free(back);
    rec_model_free(m);
    free(b1);
    free(b3);
}
END_TEST

/* Every user and movie of the tiny model, plus a user added by
   rec_add_user: rec_predict is the clamped sum of the rating model's
   prediction and weight * preference score + shift, for `m` and for its
   round trip through a file. */
static void check_pref_term(const rec_model *m, double w, double b)
{
    static const int32_t users[] = {1, 2, 3, 4, 5, 7, 8};
    static const int32_t movies[] = {10, 20, 30, 40, 50};
    int moved = 0;
    for (size_t i = 0; i < sizeof users / sizeof *users; i++)
        for (size_t j = 0; j < sizeof movies / sizeof *movies; j++) {
            float got, ps;
            ck_assert_ok(rec_predict(&got, m, users[i], movies[j], NULL),
                         (rec_error *)NULL);
            float raw = rec__predict_parts(m, users[i], movies[j], &ps);
            ck_assert(!isnan(ps));
            float want = rec__clamp_rating(m, raw + (float)(w * ps + b));
            ck_assert_msg(got == want, "user %d movie %d: %g, want %g",
                          users[i], movies[j], got, want);
            moved += rec__clamp_rating(m, raw) != got;
        }
    ck_assert_int_gt(moved, 20); /* the term changes the predictions */
}

START_TEST(rating_pref_term)
{
    const double w = 0.7, b = -0.2;
    rec_model *m = tiny_model_pref(1, w, b), *plain = tiny_model_kind(1);
    double gw, gb;
    rec_model_rating_pref(m, &gw, &gb);
    ck_assert(gw == w && gb == b);
    rec_model_rating_pref(plain, &gw, &gb);
    ck_assert(gw == 0.0 && gb == 0.0);
    /* the term changes no factor and no ranking */
    ck_assert_mem_eq(m->user_factors, plain->user_factors,
                     m->n_users * (size_t)m->rank * sizeof(float));
    ck_assert_mem_eq(m->pref_user, plain->pref_user,
                     m->n_users * (size_t)m->pref_rank * sizeof(float));
    rec_scored x[8], y[8];
    size_t nx, ny;
    ck_assert_ok(rec_top_n(x, 8, &nx, m, 3, NULL), (rec_error *)NULL);
    ck_assert_ok(rec_top_n(y, 8, &ny, plain, 3, NULL), (rec_error *)NULL);
    ck_assert_uint_eq(nx, ny);
    for (size_t i = 0; i < nx; i++) {
        float want;
        ck_assert_int_eq(x[i].movie_id, y[i].movie_id);
        ck_assert(x[i].score == y[i].score);
        ck_assert_ok(rec_predict(&want, m, 3, x[i].movie_id, NULL),
                     (rec_error *)NULL);
        ck_assert(x[i].rating == want); /* the rating shown is rec_predict's */
    }
    const rec_movie_rating mine[] = {{10, 5.0f}, {40, 2.0f}, {50, 4.0f}};
    int32_t added = 0;
    ck_assert_ok(rec_add_user(&added, m, 8, mine, 3, NULL), (rec_error *)NULL);
    check_pref_term(m, w, b);

    /* files: section RPRF, only in the models that have the term */
    rec_model *back = save_load(m, "rprf.bin");
    assert_same(m, back);
    check_pref_term(back, w, b);
    size_t len, bl;
    unsigned char *bytes = slurp(tmp_path("rprf.bin"), &len);
    size_t at = section_at(bytes, len, "RPRF", &bl);
    ck_assert_uint_eq(bl, 16);
    unsigned char *plain_bytes = tiny_kind_bytes(&bl, 1);
    for (size_t i = 0; i + 4 <= bl; i++)
        ck_assert(memcmp(plain_bytes + i, "RPRF", 4) != 0);
    free(plain_bytes);
    put_le64(bytes + at, 0x7ff8000000000000ull); /* NaN weight */
    fix_crc(bytes, len);
    expect_format(bytes, len, "RPRF");
    free(bytes);
    rec_model *copy = NULL;
    ck_assert_ok(rec_model_copy(&copy, back, NULL), (rec_error *)NULL);
    check_pref_term(copy, w, b);
    rec_model_free(copy);
    rec_model_free(back);
    rec_model_free(plain);
    rec_model_free(m);
}
END_TEST

/* The term needs the hybrid model and finite values. */
START_TEST(rating_pref_bad_params)
{
    static const rec_rating rows[] = {{1, 10, 5}, {1, 20, 3}, {2, 10, 4}};
    rec_ratings *r = NULL;
    rec_error err = {0};
    ck_assert_ok(rec_ratings_new(&r, &err), &err);
    ck_assert_ok(rec_ratings_add(r, rows, 3, &err), &err);
    rec_als_params p;
    rec_als_params_init(&p);
    p.rank = 2;
    p.preference = 0;
    p.rating_pref_weight = 0.5;
    rec_model *m = NULL;
    ck_assert_int_eq(rec_train_als(&m, r, &p, &err), REC_EINVAL);
    ck_assert_msg(strstr(err.msg, "hybrid") != NULL, "%s", err.msg);
    p.preference = 1;
    p.rating_pref_weight = 0.0;
    p.rating_pref_shift = NAN;
    ck_assert_int_eq(rec_train_als(&m, r, &p, &err), REC_EINVAL);
    ck_assert_msg(strstr(err.msg, "finite") != NULL, "%s", err.msg);
    rec_ratings_free(r);
}
END_TEST

START_TEST(save_replaces_atomically)
{
    rec_error err = {0};
    rec_model *m = tiny_model();
    const char *path = tmp_path("atomic/model.bin");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    spit(path, "old content", 11);
    ck_assert_ok(rec_model_save(m, path, &err), &err);
    ck_assert_ok(rec_model_save(m, path, &err), &err);
    /* Only the model is left: no temporary files. */
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            files++;
            ck_assert_str_eq(e->d_name, "model.bin");
        }
    closedir(d);
    ck_assert_int_eq(files, 1);
    rec_model *back = NULL;
    ck_assert_ok(rec_model_load(&back, path, &err), &err);
    rec_model_free(back);
    rec_model_free(m);
}
END_TEST

/* ---- errors: files ----------------------------------------------------- */

START_TEST(missing_file)
{
    rec_error err = {0};
    rec_model *m = NULL;
    ck_assert_int_eq(rec_model_load(&m, tmp_path("nope.bin"), &err),
                     REC_ENOTFOUND);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(err.msg, "nope.bin"));
    ck_assert_int_eq(rec_model_load(&m, "/nonexistent-dir/x/m.bin", &err),
                     REC_ENOTFOUND);
}
END_TEST

START_TEST(directory_as_path)
{
    rec_error err = {0};
    rec_model *m = tiny_model(), *back = NULL;
    ck_assert_int_eq(rec_model_load(&back, REC_TEST_DATA, &err), REC_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "directory"));
    ck_assert_ptr_null(back);
    /* Saving onto a directory fails and leaves it alone. */
    const char *dir = tmp_path("adir");
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    ck_assert_int_eq(rec_model_save(m, dir, &err), REC_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "adir"));
    struct stat sb;
    ck_assert_int_eq(stat(dir, &sb), 0);
    ck_assert(S_ISDIR(sb.st_mode));
    rec_model_free(m);
}
END_TEST

START_TEST(unwritable_destination)
{
    rec_error err = {0};
    rec_model *m = tiny_model();
    /* Missing directory, and a file system nobody may create files in
       (root included): both REC_EIO, and nothing is left behind. */
    ck_assert_int_eq(rec_model_save(m, tmp_path("no/such/dir/m.bin"), &err),
                     REC_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "m.bin"));
    ck_assert_int_eq(rec_model_save(m, "/proc/movieme-model.bin", &err),
                     REC_EIO);
    ck_assert_int_eq(err.code, REC_EIO);
    /* A file where a directory should be. */
    const char *f = write_tmp("plainfile", "x");
    char path[4200];
    snprintf(path, sizeof path, "%s/m.bin", f);
    ck_assert_int_eq(rec_model_save(m, path, &err), REC_EIO);
    rec_model_free(m);
}
END_TEST

START_TEST(null_arguments)
{
    rec_error err = {0};
    rec_model *m = NULL;
    ck_assert_int_eq(rec_model_load(NULL, "x", &err), REC_EINVAL);
    ck_assert_int_eq(rec_model_load(&m, NULL, &err), REC_EINVAL);
    ck_assert_int_eq(rec_model_save(NULL, "x", &err), REC_EINVAL);
    rec_model *t = tiny_model();
    ck_assert_int_eq(rec_model_save(t, NULL, NULL), REC_EINVAL);
    ck_assert_int_eq(rec_model_save(t, "", &err), REC_EINVAL);
    rec_model_free(t);
}
END_TEST

START_TEST(empty_file)
{
    rec_error err = {0};
    rec_model *m = NULL;
    const char *path = write_tmp("empty.bin", "");
    ck_assert_int_eq(rec_model_load(&m, path, &err), REC_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "empty"));
    ck_assert_ptr_nonnull(strstr(err.msg, "empty.bin"));
    ck_assert_ptr_null(m);
}
END_TEST

START_TEST(not_a_model)
{
    rec_error err = {0};
    rec_model *m = NULL;
    ck_assert_int_eq(rec_model_load(&m, repo_data("ml-latest-small/movies.csv"),
                                    &err),
                     REC_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "magic"));
}
END_TEST

/* ---- errors: damaged images -------------------------------------------- */

START_TEST(truncated_every_byte)
{
    size_t len;
    unsigned char *b = tiny_kind_bytes(&len, _i); /* format 1, then 3 */
    for (size_t cut = 0; cut < len; cut++) {
        unsigned char *p = malloc(cut ? cut : 1); /* exact size: ASan */
        memcpy(p, b, cut);
        expect_format(p, cut, cut == 0 ? "empty" : "truncated");
        free(p);
    }
    /* Through a real file too, at a few places. */
    for (size_t cut = 1; cut < len; cut += len / 7) {
        const char *path = tmp_path("cut.bin");
        spit(path, b, cut);
        rec_error err = {0};
        rec_model *m = NULL;
        ck_assert_int_eq(rec_model_load(&m, path, &err), REC_EFORMAT);
        ck_assert_ptr_nonnull(strstr(err.msg, "truncated"));
    }
    free(b);
}
END_TEST

START_TEST(truncated_names_section)
{
    static const char *tags[] = {"SHAP", "MIDS", "UIDS", "MFAC", "UFAC",
                                 "MBIA", "UBIA", "MCNT", "MMEA", "ROFF",
                                 "RITM", "RVAL", "MYEA", "MTIT", "MGEN",
                                 "POOL"};
    size_t len;
    unsigned char *b = tiny_bytes(&len);
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        size_t bl;
        size_t o = section_at(b, len, tags[i], &bl);
        /* At the section's first byte, in its middle, at its last byte. */
        size_t cuts[] = {o, o + bl / 2, o + (bl ? bl - 1 : 0)};
        for (int c = 0; c < 3; c++) {
            if (cuts[c] >= o + bl && bl)
                continue;
            char want[32];
            snprintf(want, sizeof want, "section %s", tags[i]);
            expect_format(b, cuts[c], bl ? want : "truncated");
        }
        /* Cut at the boundary before the section's head. */
        expect_format(b, o - 16, "truncated");
    }
    expect_format(b, len - 1, "checksum trailer");
    expect_format(b, len - 4, "checksum trailer");
    free(b);
}
END_TEST

START_TEST(wrong_magic)
{
    size_t len;
    unsigned char *b = tiny_bytes(&len);
    b[0] = 'm';
    expect_format(b, len, "bad magic");
    memcpy(b, "GGUF\0\0\0\0", 8);
    expect_format(b, len, "bad magic");
    expect_format((const unsigned char *)"MOVIE", 5, "truncated");
    expect_format((const unsigned char *)"hello", 5, "bad magic");
    free(b);
}
END_TEST

START_TEST(future_version)
{
    size_t len;
    unsigned char *b = tiny_bytes(&len);
    put_le32(b + 8, 2); /* version 2 needs section IMPL */
    fix_crc(b, len);
    expect_format(b, len, "section IMPL");
    put_le32(b + 8, 3); /* version 3 needs section RANK */
    fix_crc(b, len);
    expect_format(b, len, "section RANK");
    put_le32(b + 8, 4);
    fix_crc(b, len);
    expect_format(b, len, "unsupported format version 4");
    expect_format(b, len, "upgrade");
    put_le32(b + 8, 0);
    expect_format(b, len, "unsupported format version 0");
    free(b);
}
END_TEST

START_TEST(flipped_bytes_caught)
{
    size_t len;
    unsigned char *b = tiny_bytes(&len);
    static const unsigned char masks[] = {0x01, 0x80, 0xFF};
    int caught = 0;
    for (size_t i = 0; i < len; i++)
        for (size_t k = 0; k < sizeof masks; k++) {
            b[i] ^= masks[k];
            expect_format(b, len, NULL);
            b[i] ^= masks[k];
            caught++;
        }
    ck_assert_int_eq(caught, (int)(3 * len));
    /* A flip in the data (past the header) is a checksum mismatch. */
    size_t o = section_at(b, len, "MFAC", NULL);
    b[o + 5] ^= 0x10;
    expect_format(b, len, "checksum mismatch");
    free(b);
}
END_TEST

START_TEST(bad_byte_order_mark)
{
    size_t len;
    unsigned char *b = tiny_bytes(&len);
    put_le32(b + 12, 0x01020305);
    expect_format(b, len, "byte-order mark");
    free(b);
}
END_TEST

START_TEST(trailing_bytes)
{
    size_t len;
    unsigned char *b = tiny_bytes(&len);
    unsigned char *p = calloc(len + 8, 1);
    memcpy(p, b, len);
    expect_format(p, len + 8, "header says");
    free(p);
    free(b);
}
END_TEST

/* Hostile files: the checksum is right, the content lies. Each lie puts
   one value at `off` bytes into section `tag` (NULL: the file header; a
   negative offset counts from the end of the section's body). */
typedef struct lie {
    const char *tag;
    long off;
    int width; /* 1, 4 or 8 bytes */
    uint64_t val;
    const char *msg;
} lie;

static const lie lies[] = {
    {"SHAP", 0, 4, 0, "bad rank"},
    {"SHAP", 0, 4, 1u << 30, "bad rank"},
    {"SHAP", 0, 4, 4, "MFAC"}, /* rank 4: the sizes disagree */
    {"SHAP", 4, 4, 0x80, "flags"},
    {"SHAP", 8, 8, (uint64_t)1 << 40, "impossible shape"}, /* 2^40 users */
    {"SHAP", 8, 8, 0x3fffffff, "UIDS"}, /* 1G users: refused, no alloc */
    {"SHAP", 16, 8, 7, "MIDS"},
    {"SHAP", 24, 8, (uint64_t)-1, "impossible shape"},
    {"SHAP", 24, 8, 14, "RITM"},
    {"SHAP", 32, 8, 0, "impossible shape"}, /* no text pool */
    {"SHAP", 32, 8, (uint64_t)1 << 62, "impossible shape"},
    {"SHAP", 44, 4, 0x7fc00000, "rating range"}, /* rating_min NaN */
    {NULL, 24, 4, 15, "stray bytes"},   /* fewer sections than written */
    {"MIDS", 4, 4, 10, "MIDS"},         /* movie ids 10, 10: not ascending */
    {"UIDS", 4, 4, 1, "twice"},         /* user ids 1, 1 */
    {"ROFF", 8, 8, 100, "ROFF"},        /* offsets past nnz */
    {"RITM", 0, 4, 1000, "RITM"},       /* movie index out of range */
    {"MTIT", 0, 8, 1u << 20, "MTIT"},   /* title offset past the text */
    {"POOL", -1, 1, 'x', "POOL"},       /* text not NUL-terminated */
    {"POOL", 1, 1, 0xFF, "UTF-8"},      /* a byte that is never UTF-8 */
    {"UFAC", 0, 4, 0x7fc00000, "not finite"}, /* a NaN factor */
};

START_TEST(hostile_files)
{
    size_t len;
    unsigned char *orig = tiny_bytes(&len);
    unsigned char *b = malloc(len);
    for (size_t i = 0; i < sizeof lies / sizeof lies[0]; i++) {
        const lie *l = &lies[i];
        memcpy(b, orig, len);
        size_t bl = 0, base = l->tag ? section_at(b, len, l->tag, &bl) : 0;
        unsigned char *at = b + base + (l->off < 0 ? bl : 0) + l->off;
        if (l->width == 1)
            *at = (unsigned char)l->val;
        else if (l->width == 4)
            put_le32(at, (uint32_t)l->val);
        else
            put_le64(at, l->val);
        fix_crc(b, len);
        expect_format(b, len, l->msg);
    }
    /* A section length pointing past the end of the file. */
    memcpy(b, orig, len);
    put_le64(b + section_at(b, len, "MFAC", NULL) - 8, (uint64_t)1 << 60);
    fix_crc(b, len);
    expect_format(b, len, "past the end");
    /* An unknown tag is skipped, so the section it replaced is missing. */
    memcpy(b, orig, len);
    memcpy(b + section_at(b, len, "MMEA", NULL) - 16, "ZZZZ", 4);
    fix_crc(b, len);
    expect_format(b, len, "section MMEA (movie means) is missing");
    free(orig);
    free(b);
}
END_TEST

/* The tiny model's file rewritten with another rank: SHAP says `rank`,
   MFAC and UFAC are resized (zero factors), everything else is kept and
   the checksum is right; what a hostile writer could make in 19 KB. */
static unsigned char *with_rank(const unsigned char *b, size_t len,
                                uint32_t rank, size_t *out_len)
{
    size_t shap = section_at(b, len, "SHAP", NULL);
    uint64_t nu = le64(b + shap + 8), nm = le64(b + shap + 16);
    uint32_t n = le32(b + 24);
    size_t cap = len + 8 * (size_t)rank * (size_t)(nu + nm) + 64, w = 32;
    unsigned char *o = calloc(1, cap);
    ck_assert_ptr_nonnull(o);
    memcpy(o, b, 32);
    size_t off = 32;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t bl = le64(b + off + 8), nbl = bl;
        const unsigned char *tag = b + off;
        if (memcmp(tag, "MFAC", 4) == 0)
            nbl = 4 * nm * rank;
        else if (memcmp(tag, "UFAC", 4) == 0)
            nbl = 4 * nu * rank;
        memcpy(o + w, b + off, 8);
        put_le64(o + w + 8, nbl);
        if (nbl == bl)
            memcpy(o + w + 16, b + off + 16, (size_t)bl);
        if (memcmp(tag, "SHAP", 4) == 0)
            put_le32(o + w + 16, rank);
        w += 16 + (size_t)((nbl + 7) & ~(uint64_t)7);
        off += 16 + (size_t)((bl + 7) & ~(uint64_t)7);
    }
    w += 4; /* trailer */
    put_le64(o + 16, w);
    fix_crc(o, w);
    *out_len = w;
    return o;
}

/* A model file's rank is bounded by training's (REC_MAX_RANK): a 19 KB
   rank-1536 file used to load, and every fold-in on it allocated rank^2
   scratch and solved a rank^3 system (0.24 s per request). */
START_TEST(rank_above_training_limit)
{
    size_t len, blen;
    unsigned char *orig = tiny_bytes(&len);
    static const uint32_t too_big[] = {REC_MAX_RANK + 1, 1536, 65536};
    for (size_t i = 0; i < sizeof too_big / sizeof too_big[0]; i++) {
        unsigned char *b = with_rank(orig, len, too_big[i], &blen);
        expect_format(b, blen, "bad rank");
        const char *path = tmp_path("rank.bin");
        spit(path, b, blen);
        rec_error err = {0};
        rec_model *m = NULL;
        ck_assert_int_eq(rec_model_load(&m, path, &err), REC_EFORMAT);
        ck_assert_msg(strstr(err.msg, "REC_MAX_RANK") && strstr(err.msg, "rank.bin"),
                      "%s", err.msg);
        free(b);
    }
    /* the limit itself is a model like any other */
    unsigned char *b = with_rank(orig, len, REC_MAX_RANK, &blen);
    rec_error err = {0};
    rec_model *m = NULL;
    ck_assert_ok(rec__model_load_mem(&m, b, blen, "max.bin", &err), &err);
    ck_assert_int_eq(rec_model_rank(m), REC_MAX_RANK);
    const rec_movie_rating mine[] = {{10, 4.0f}, {20, 2.0f}}; /* known */
    rec_scored top[3];
    size_t n_top;
    ck_assert_ok(rec_recommend_for_ratings(top, 3, &n_top, m, mine, 2, &err), &err);
    ck_assert_uint_eq(n_top, 3);
    rec_model_free(m);
    free(b);
    free(orig);
}
END_TEST

/* Memory running out while loading is a clean REC_ENOMEM naming the file
   (issue 6: "a clean error, not a crash, when memory runs out"). The
   address-space limit only binds this forked test. */
START_TEST(out_of_memory_is_clean)
{
#if defined(__SANITIZE_ADDRESS__) || defined(REC_TEST_HAS_ASAN)
    return; /* ASan's shadow memory cannot live under RLIMIT_AS */
#endif
    rec_error err = {0};
    rec_model *m = NULL;
    size_t nm = 400000;
    ck_assert_ok(rec__model_alloc(&m, 4, 1, nm, 1, &err), &err);
    for (size_t i = 0; i < nm; i++)
        m->movie_ids[i] = (int32_t)i;
    m->user_ids[0] = 1;
    m->rated_off[1] = 1;
    m->rated_vals[0] = 4;
    m->rating_min = 0.5f;
    m->rating_max = 5;
    ck_assert_ok(rec__meta_resize(&m->meta, nm), &err);
    const char *path = tmp_path("large.bin");
    ck_assert_ok(rec_model_save(m, path, &err), &err);
    rec_model_free(m);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_gt(sb.st_size, 16 << 20);

    /* Leave 4 MB of address space: far less than the model needs. */
    FILE *f = fopen("/proc/self/statm", "r");
    ck_assert_ptr_nonnull(f);
    unsigned long pages = 0;
    ck_assert_int_eq(fscanf(f, "%lu", &pages), 1);
    fclose(f);
    struct rlimit rl = {.rlim_cur = pages * 4096ul + (4ul << 20),
                        .rlim_max = RLIM_INFINITY};
    ck_assert_int_eq(setrlimit(RLIMIT_AS, &rl), 0);
    rec_model *back = NULL;
    rec_status st = rec_model_load(&back, path, &err);
    ck_assert_msg(st == REC_ENOMEM, "status %d: %s", st, err.msg);
    ck_assert_ptr_null(back);
    ck_assert_ptr_nonnull(strstr(err.msg, "large.bin"));
}
END_TEST

static Suite *model_io_suite(void)
{
    Suite *s = suite_create("model_io");
    TCase *core = tcase_create("core");
    tcase_add_test(core, roundtrip_tiny);
    tcase_add_test(core, roundtrip_added_users);
    tcase_add_test(core, roundtrip_movielens);
    tcase_add_test(core, big_endian_file_is_converted);
    tcase_add_test(core, header_layout);
    tcase_add_test(core, format_versions);
    tcase_add_test(core, save_replaces_atomically);
    tcase_add_test(core, rating_pref_term);
    tcase_add_test(core, rating_pref_bad_params);
    suite_add_tcase(s, core);

    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, missing_file);
    tcase_add_test(errors, directory_as_path);
    tcase_add_test(errors, unwritable_destination);
    tcase_add_test(errors, null_arguments);
    tcase_add_test(errors, empty_file);
    tcase_add_test(errors, not_a_model);
    tcase_add_loop_test(errors, truncated_every_byte, 0, 2);
    tcase_add_test(errors, truncated_names_section);
    tcase_add_test(errors, wrong_magic);
    tcase_add_test(errors, future_version);
    tcase_add_test(errors, flipped_bytes_caught);
    tcase_add_test(errors, bad_byte_order_mark);
    tcase_add_test(errors, trailing_bytes);
    tcase_add_test(errors, hostile_files);
    tcase_add_test(errors, rank_above_training_limit);
    tcase_add_test(errors, out_of_memory_is_clean);
    suite_add_tcase(s, errors);
    return s;
}

int main(void) { return run_suite(model_io_suite()); }
