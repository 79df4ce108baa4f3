/* check_movielens.c - rec_load_movielens on every layout, awkward but
   valid files, and the catalogue of bad inputs. */
#include "internal.h"
#include "test_util.h"

#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static rec_ratings *load_ok(const char *path)
{
    rec_error e = {0};
    rec_ratings *r = NULL;
    ck_assert_ok(rec_load_movielens(&r, path, &e), &e);
    ck_assert_ptr_nonnull(r);
    return r;
}

static void expect_movie(const rec_ratings *r, int32_t id, const char *title,
                         const char *genres, int32_t year, uint32_t count)
{
    rec_error e = {0};
    rec_movie_info mi;
    ck_assert_ok(rec_ratings_movie(&mi, r, id, &e), &e);
    ck_assert_str_eq(mi.title, title);
    ck_assert_str_eq(mi.genres, genres);
    ck_assert_int_eq(mi.year, year);
    ck_assert_uint_eq(mi.n_ratings, count);
}

static void expect_rating(const rec_ratings *r, int32_t user, int32_t movie,
                          float rating)
{
    rec_error e = {0};
    rec_rating out[16];
    size_t n = 0;
    ck_assert_ok(rec_ratings_user(out, 16, &n, r, user, &e), &e);
    for (size_t i = 0; i < n && i < 16; i++)
        if (out[i].movie_id == movie) {
            ck_assert_float_eq(out[i].rating, rating);
            return;
        }
    ck_abort_msg("user %d has no rating of movie %d", user, movie);
}

static void expect_shape(const rec_ratings *r, size_t users, size_t movies,
                         size_t ratings)
{
    ck_assert_uint_eq(rec_ratings_n_users(r), users);
    ck_assert_uint_eq(rec_ratings_n_movies(r), movies);
    ck_assert_uint_eq(rec_ratings_n_ratings(r), ratings);
}

START_TEST(test_ml_latest_small)
{
    rec_ratings *r = load_ok(repo_data("ml-latest-small"));
    expect_shape(r, 610, 9742, 100836);
    expect_movie(r, 1, "Toy Story (1995)", "Adventure|Animation|Children|Comedy|Fantasy",
                 1995, 215);
    expect_movie(r, 11, "American President, The (1995)", "Comedy|Drama|Romance", 1995, 70);
    expect_rating(r, 1, 1, 4.0f);
    /* ascending ids from movie_at */
    rec_error e = {0};
    rec_movie_info a, b;
    ck_assert_ok(rec_ratings_movie_at(&a, r, 0, &e), &e);
    ck_assert_ok(rec_ratings_movie_at(&b, r, 9741, &e), &e);
    ck_assert_int_eq(a.movie_id, 1);
    ck_assert_int_eq(b.movie_id, 193609);
    ck_assert_float_eq(r->rating_min, 0.5f);
    ck_assert_float_eq(r->rating_max, 5.0f);
    rec_ratings_free(r);
    /* the ratings file itself, movies.csv found beside it */
    r = load_ok(repo_data("ml-latest-small/ratings.csv"));
    expect_shape(r, 610, 9742, 100836);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_ml_100k_sample)
{
    rec_ratings *r = load_ok(fixture("ml-100k-sample"));
    expect_shape(r, 338, 1682, 5000);
    expect_movie(r, 1, "Toy Story (1995)", "Animation|Children's|Comedy", 1995, 20);
    rec_ratings_free(r);
    if (access("/work/shared/data/movielens/ml-100k-sample/u.data", R_OK) == 0) {
        r = load_ok("/work/shared/data/movielens/ml-100k-sample/u.data");
        expect_shape(r, 338, 1682, 5000);
        rec_ratings_free(r);
    }
}
END_TEST

START_TEST(test_ml_100k)
{
    rec_ratings *r = load_ok(fixture("ml-100k"));
    expect_shape(r, 3, 5, 5);
    expect_movie(r, 242, "Kolya (1996)", "Comedy", 1996, 2);
    expect_movie(r, 302, "L.A. Confidential (1997)", "Crime|Film-Noir|Mystery|Thriller",
                 1997, 2);
    expect_movie(r, 1005, "Mis\xc3\xa9rables, Les (1995)", "Drama", 1995, 0); /* latin-1 */
    expect_movie(r, 267, "unknown", "unknown", 0, 0);
    expect_rating(r, 196, 302, 5.0f);
    expect_rating(r, 22, 377, 1.0f);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_ml_1m)
{
    rec_ratings *r = load_ok(fixture("ml-1m"));
    expect_shape(r, 3, 4, 4);
    expect_movie(r, 73, "Mis\xc3\xa9rables, Les (1995)", "Drama|Musical", 1995, 1);
    expect_movie(r, 1193, "One Flew Over the Cuckoo's Nest (1975)", "Drama", 1975, 2);
    expect_movie(r, 3952, "Contender, The (2000)", "Drama|Thriller", 2000, 0);
    expect_rating(r, 6040, 73, 2.0f);
    rec_ratings_free(r);
    r = load_ok(fixture("ml-1m/ratings.dat"));
    expect_shape(r, 3, 4, 4);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_ml_10m)
{
    rec_ratings *r = load_ok(fixture("ml-10m"));
    expect_shape(r, 3, 4, 4);
    /* UTF-8 kept as is, the latin-1 line converted */
    expect_movie(r, 2338, "Am\xc3\xa9lie (Fabuleux destin d'Am\xc3\xa9lie Poulain, Le) (2001)",
                 "Comedy|Romance", 2001, 1);
    expect_movie(r, 4000, "Cit\xc3\xa9 des enfants perdus, La (1995)", "Fantasy", 1995, 0);
    expect_rating(r, 1, 185, 4.5f);
    expect_rating(r, 2, 122, 3.5f);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_ml_latest_quotes)
{
    rec_ratings *r = load_ok(fixture("ml-latest"));
    expect_shape(r, 3, 5, 5);
    expect_movie(r, 2, "American President, The (1995)", "Comedy|Drama|Romance", 1995, 1);
    expect_movie(r, 3, "\"Great Performances\" Cats (1998)", "Musical", 1998, 2);
    expect_movie(r, 4, "Se\xc3\xb1or Spielbergo \xe2\x80\x94 \xe6\x9d\xb1\xe4\xba\xac (2003)",
                 "Comedy", 2003, 0);
    expect_movie(r, 5, "Babylon 5", "(no genres listed)", 0, 0);
    expect_rating(r, 2, 2, 0.5f);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_csv_quote_rules)
{
    /* RFC 4180 quoting, a literal quote inside an unquoted field, a quoted
       field that spans lines, genres quoted too */
    const char *dir = tmp_path("quotes");
    char p[4096];
    mkdir(dir, 0700);
    snprintf(p, sizeof p, "%s/ratings.csv", dir);
    FILE *f = fopen(p, "w");
    fputs("userId,movieId,rating,timestamp\n1,1,4,1\n1,2,4,1\n1,3,4,1\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/movies.csv", dir);
    f = fopen(p, "w");
    fputs("movieId,title,genres\n1,Pete's \"Dragon\" (1977),Children\n"
          "2,\"Two\nLines (2000)\",\"Drama|Comedy\"\n3,\"\",\n", f);
    fclose(f);
    rec_ratings *r = load_ok(dir);
    expect_movie(r, 1, "Pete's \"Dragon\" (1977)", "Children", 1977, 1);
    expect_movie(r, 2, "Two\nLines (2000)", "Drama|Comedy", 2000, 1);
    expect_movie(r, 3, "", "", 0, 1);
    rec_ratings_free(r);
    /* text after a closing quote is an error, on the row's first line */
    f = fopen(p, "w");
    fputs("movieId,title,genres\n1,\"A\nB\"x,Drama\n", f);
    fclose(f);
    rec_error e = {0};
    ck_assert_int_eq(rec_load_movielens(&r, dir, &e), REC_EFORMAT);
    ck_assert_ptr_nonnull(strstr(e.msg, "movies.csv:2: text after a closing quote"));
}
END_TEST

START_TEST(test_ml_20m)
{
    rec_ratings *r = load_ok(fixture("ml-20m"));
    expect_shape(r, 3, 3, 4);
    expect_movie(r, 29, "City of Lost Children, The (Cit\xc3\xa9 des enfants perdus, La) (1995)",
                 "Adventure|Drama|Fantasy|Mystery|Sci-Fi", 1995, 2);
    expect_movie(r, 131262, "Innocence (2014)", "Adventure|Fantasy|Horror", 2014, 0);
    expect_rating(r, 138493, 2, 4.0f);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_crlf_bom)
{
    rec_ratings *r = load_ok(fixture("ml-25m"));
    expect_shape(r, 2, 2, 3);
    expect_movie(r, 296, "Pulp Fiction (1994)", "Comedy|Crime|Drama|Thriller", 1994, 2);
    expect_movie(r, 306, "Three Colors: Red (Trois couleurs: Rouge) (1994)", "Drama", 1994, 1);
    expect_rating(r, 162541, 296, 4.5f);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_no_final_newline_duplicates)
{
    rec_ratings *r = load_ok(fixture("ml-32m"));
    /* 4 rows, one duplicate (user 1, movie 17): the last one, 2.5, wins */
    expect_shape(r, 2, 3, 3);
    expect_rating(r, 1, 17, 2.5f);
    expect_movie(r, 292757, "Some Title, With Comma (2023)", "Drama", 2023, 0);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_awkward_generated)
{
    /* blank trailing lines, headerless CSV, blank lines between rows */
    rec_ratings *r = load_ok(write_tmp("blank.csv", "userId,movieId,rating,timestamp\n"
                                                   "1,2,3.5,10\n\n3,4,5,11\n\n\n\r\n"));
    expect_shape(r, 2, 2, 2);
    rec_ratings_free(r);
    r = load_ok(write_tmp("quoted.csv", "\"userId\",\"movieId\",\"rating\",\"timestamp\"\n"
                                        "1,2,3.5,10\n"));
    expect_shape(r, 1, 1, 1);
    rec_ratings_free(r);
    r = load_ok(write_tmp("headerless.csv", "1,2,3.5,10\n3,4,5,11"));
    expect_shape(r, 2, 2, 2);
    expect_rating(r, 3, 4, 5.0f);
    rec_ratings_free(r);
    /* a tab-separated file with another name (ml-100k's u1.base etc.) */
    r = load_ok(write_tmp("u1.base", "1\t2\t3\t10\r\n1\t2\t4\t11\r\n"));
    expect_shape(r, 1, 1, 1);
    expect_rating(r, 1, 2, 4.0f);
    rec_ratings_free(r);
    /* ratings with fractions and zero, the largest valid id */
    r = load_ok(write_tmp("edge.csv", "u,m,r,t\n2147483647,0,0,0\n0,2147483647,10.000,1\n"));
    expect_rating(r, 2147483647, 0, 0.0f);
    expect_rating(r, 0, 2147483647, 10.0f);
    rec_ratings_free(r);
}
END_TEST

/* userId,movieId,rating without timestamps (an application's own export):
   the header (or the first row) says three columns, and every row must
   have three. */
START_TEST(test_csv_without_timestamps)
{
    rec_ratings *r = load_ok(fixture("ml-3col"));
    ck_assert_uint_eq(rec_ratings_n_ratings(r), 5);
    ck_assert_uint_eq(rec_ratings_n_users(r), 3);
    expect_rating(r, 1, 2, 3.5f);
    expect_rating(r, 3, 2, 4.5f);
    expect_movie(r, 3, "Heat (1995)", "Action|Crime", 1995, 1);
    rec_ratings_free(r);
    /* no header, CRLF, a BOM, blank lines, no final newline */
    r = load_ok(write_tmp("3col_nohead.csv",
                          "\xEF\xBB\xBF\r\n1,10,1.5\r\n\r\n2,10,2\r\n2,11,0.5"));
    ck_assert_uint_eq(rec_ratings_n_ratings(r), 3);
    expect_rating(r, 2, 11, 0.5f);
    rec_ratings_free(r);
    r = load_ok(write_tmp("3col_quoted.csv",
                          "\"userId\",\"movieId\",\"rating\"\n7,8,9\n"));
    expect_rating(r, 7, 8, 9.0f);
    rec_ratings_free(r);
    /* a big one, through the parallel parse */
    size_t rows = 200000;
    char *text = malloc(rows * 32 + 64), *p = text;
    p += sprintf(p, "userId,movieId,rating\n");
    for (size_t i = 0; i < rows; i++)
        p += sprintf(p, "%zu,%zu,%zu\n", i / 40, i % 40, i % 5 + 1);
    r = load_ok(write_tmp("3col_big.csv", text));
    free(text);
    ck_assert_uint_eq(rec_ratings_n_ratings(r), rows);
    expect_rating(r, 4999, 3, (float)((4999 * 40 + 3) % 5 + 1)); /* first 16 */
    rec_ratings_free(r);

    /* mixed column counts stay errors, both ways; other layouts keep four */
    static const struct {
        const char *name, *text, *msg;
    } bad[] = {
        {"3then4.csv", "1,2,3\n1,3,4,1112486027\n",
         "3then4.csv:2: extra columns: expected 3"},
        {"4then3.csv", "u,m,r,t\n1,2,3,4\n1,3,4\n",
         "4then3.csv:3: missing column (timestamp)"},
        {"2col.csv", "userId,movieId\n1,2\n", "2col.csv:2: missing column (rating)"},
        {"3col.dat", "1::2::3\n", "3col.dat:1: missing column (timestamp)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rec_error e = {0};
        r = NULL;
        ck_assert_int_eq(rec_load_movielens(&r, write_tmp(bad[i].name, bad[i].text), &e),
                         REC_EFORMAT);
        ck_assert_msg(strstr(e.msg, bad[i].msg), "%s", e.msg);
    }
    ck_assert_ptr_null(r);
}
END_TEST

/* Rows with 64 bytes or more after them go through the fast row parser,
   the last rows of a buffer through the careful one: both read every row
   alike, the same values to the bit or the same error on the same line
   (ids of 9 and 10 digits, leading zeros, the largest id, ratings with
   and without decimals, 9 and 10 decimals, 3 integer digits, ".5", the
   largest rating, long timestamps, CRLF, and bad rows of every kind). */
START_TEST(test_fast_rows_agree)
{
    static const char *const rows[] = {
        "1,2,3.5,1112486027", "123456789,987654321,5,1",
        "1234567890,2,4,1", "0000000001,2,4,1", "2147483647,3,4,1",
        "2147483648,3,4,1", "1,2,5.,1", "1,2,0.123456789,1",
        "1,2,0.1234567891,1", "1,2,10,1", "1,2,10.0000001,1", "1,2,010,1",
        "1,2,.5,1", "1,2,3.5,12345678901234567890",
        "1,2,3.5,123456789012345678901", "1,2,3.5,1\r", "1,2,3.5",
        "1,2,3.5,1,9", "1,2,,1", "1,2,-1,1", "1,,3,1", "1,2,3.5,1 ",
        "1,2,3.5e1,1", "1,2,3.5,", "12,34,4.5,x", "1,2,3.5,1\rx",
    };
    const char *pad = "999999,1,1,1\n999999,2,1,1\n999999,3,1,1\n"
                      "999999,4,1,1\n999999,5,1,1\n999999,6,1,1\n";
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        char a[512], b[256];
        snprintf(a, sizeof a, "userId,movieId,rating,timestamp\n%s\n%s",
                 rows[i], pad);
        snprintf(b, sizeof b, "userId,movieId,rating,timestamp\n%s\n",
                 rows[i]);
        rec_error ea = {0}, eb = {0};
        rec_ratings *ra = NULL, *rb = NULL;
        rec_status sa = rec_load_movielens(&ra, write_tmp("rowa.csv", a), &ea);
        rec_status sb = rec_load_movielens(&rb, write_tmp("rowb.csv", b), &eb);
        ck_assert_msg(sa == sb, "row '%s': %d vs %d (%s / %s)", rows[i],
                      sa, sb, ea.msg, eb.msg);
        if (sa != REC_OK) {
            ck_assert_ptr_nonnull(strstr(ea.msg, ".csv:2: "));
            ck_assert_str_eq(strstr(ea.msg, ".csv:"), strstr(eb.msg, ".csv:"));
            continue;
        }
        int32_t u, m;
        float v;
        size_t n = 0;
        ck_assert_ok(rec_ratings_to_arrays(&u, &m, &v, 1, &n, rb, &eb), &eb);
        ck_assert_uint_eq(n, 1);
        rec_rating out[8];
        ck_assert_ok(rec_ratings_user(out, 8, &n, ra, u, &ea), &ea);
        int found = 0;
        for (size_t j = 0; j < n && j < 8; j++)
            if (out[j].movie_id == m) {
                ck_assert_msg(memcmp(&out[j].rating, &v, sizeof v) == 0,
                              "row '%s': %.9g vs %.9g", rows[i],
                              out[j].rating, v);
                found = 1;
            }
        ck_assert_msg(found, "row '%s': not in the longer file", rows[i]);
        rec_ratings_free(ra);
        rec_ratings_free(rb);
    }
}
END_TEST

/* A file big enough for the parallel parse (several chunks). */
static char *big_csv(size_t rows, size_t bad_row)
{
    char *buf = malloc(rows * 40 + 64), *p = buf;
    p += sprintf(p, "userId,movieId,rating,timestamp\n");
    for (size_t i = 0; i < rows; i++) {
        if (i == bad_row)
            p += sprintf(p, "%zu,%zu,oops,1112486027\n", i % 5000, i % 997);
        else
            p += sprintf(p, "%zu,%zu,%zu.5,1112486027\n", i % 5000, (i * 7) % 997, i % 5);
    }
    return buf;
}

START_TEST(test_big_parallel)
{
    char *text = big_csv(300000, (size_t)-1);
    rec_ratings *r = load_ok(write_tmp("big.csv", text));
    free(text);
    /* rows i and j share (user, movie) only if 4985000 divides i - j */
    ck_assert_uint_eq(rec_ratings_n_users(r), 5000);
    ck_assert_uint_eq(rec_ratings_n_movies(r), 997);
    ck_assert_uint_eq(rec_ratings_n_ratings(r), 300000); /* no duplicates */
    expect_rating(r, 1, (7 * 1) % 997, 1.5f);
    expect_rating(r, 4999, (7 * 4999) % 997, 4.5f);
    rec_ratings_free(r);
}
END_TEST

/* ---- errors ---- */

typedef struct bad_case {
    const char *file;
    rec_status code;
    const char *where; /* expected "file:line" fragment */
    const char *what;  /* expected words in the message */
} bad_case;

static const bad_case bad_cases[] = {
    {"bad/empty.csv", REC_EFORMAT, "empty.csv:1:", "no ratings"},
    {"bad/header_only.csv", REC_EFORMAT, "header_only.csv:2:", "no ratings"},
    {"bad/missing_column.csv", REC_EFORMAT, "missing_column.csv:3:", "missing column"},
    {"bad/extra_column.csv", REC_EFORMAT, "extra_column.csv:3:", "extra column"},
    {"bad/user_not_number.csv", REC_EFORMAT, "user_not_number.csv:3:", "user id 'abc' is not a number"},
    {"bad/movie_not_number.csv", REC_EFORMAT, "movie_not_number.csv:3:", "movie id '3x'"},
    {"bad/rating_not_number.csv", REC_EFORMAT, "rating_not_number.csv:3:", "rating 'four' is not a number"},
    {"bad/timestamp_not_number.csv", REC_EFORMAT, "timestamp_not_number.csv:3:", "timestamp"},
    {"bad/rating_nan.csv", REC_EFORMAT, "rating_nan.csv:3:", "rating 'nan'"},
    {"bad/rating_inf.csv", REC_EFORMAT, "rating_inf.csv:3:", "rating 'inf'"},
    {"bad/rating_negative.csv", REC_EFORMAT, "rating_negative.csv:3:", "negative"},
    {"bad/rating_out_of_scale.csv", REC_EFORMAT, "rating_out_of_scale.csv:3:", "out of range"},
    {"bad/rating_exponent.csv", REC_EFORMAT, "rating_exponent.csv:3:", "not a number"},
    {"bad/user_negative.csv", REC_EFORMAT, "user_negative.csv:3:", "user id '-7' is negative"},
    {"bad/movie_negative.csv", REC_EFORMAT, "movie_negative.csv:3:", "movie id '-3' is negative"},
    {"bad/user_past_2_31.csv", REC_EFORMAT, "user_past_2_31.csv:3:", "out of range"},
    {"bad/movie_past_2_63.csv", REC_EFORMAT, "movie_past_2_63.csv:3:", "out of range"},
    {"bad/3col_extra_column.csv", REC_EFORMAT, "3col_extra_column.csv:3:", "extra columns: expected 3"},
    {"bad/3col_missing_column.csv", REC_EFORMAT, "3col_missing_column.csv:3:", "missing column (rating)"},
    {"bad/cut_last_line.csv", REC_EFORMAT, "cut_last_line.csv:3:", "missing column"},
    {"bad/empty_field.csv", REC_EFORMAT, "empty_field.csv:3:", "movie id"},
    {"bad/bad_row.dat", REC_EFORMAT, "bad_row.dat:3:", "movie id"},
    {"bad/bad_rating.dat", REC_EFORMAT, "bad_rating.dat:2:", "rating 'x'"},
    {"bad/bad_row.data", REC_EFORMAT, "bad_row.data:2:", "missing column"},
    {"bad/movies_bad_utf8", REC_EFORMAT, "movies.csv:3:", "invalid UTF-8"},
    {"bad/movies_unterminated_quote", REC_EFORMAT, "movies.csv:2:", "unterminated quote"},
    {"bad/movies_bad_id", REC_EFORMAT, "movies.csv:3:", "movie id"},
    {"bad/movies_missing_column", REC_EFORMAT, "movies.dat:2:", "expected"},
    {"bad/no_ratings", REC_ENOTFOUND, "no_ratings", "no ratings file"},
    {"bad/does_not_exist", REC_ENOTFOUND, "does_not_exist", "no such file"},
};

START_TEST(test_bad_catalogue)
{
    const bad_case *c = &bad_cases[_i];
    rec_error e = {0};
    rec_ratings *r = (rec_ratings *)&e; /* must be left alone on failure */
    rec_status st = rec_load_movielens(&r, fixture(c->file), &e);
    ck_assert_msg(st == c->code, "%s: got %d (%s), want %d", c->file, st, e.msg, c->code);
    ck_assert_int_eq(e.code, c->code);
    ck_assert_msg(strstr(e.msg, c->where) != NULL, "%s: message '%s' lacks '%s'", c->file,
                  e.msg, c->where);
    ck_assert_msg(strstr(e.msg, c->what) != NULL, "%s: message '%s' lacks '%s'", c->file,
                  e.msg, c->what);
    ck_assert_ptr_eq(r, (rec_ratings *)&e);
    /* and without an error struct */
    ck_assert_int_eq(rec_load_movielens(&r, fixture(c->file), NULL), c->code);
}
END_TEST

START_TEST(test_bad_line_deep_in_big_file)
{
    /* line numbers stay right across parallel chunks */
    char *text = big_csv(300000, 271828);
    const char *path = write_tmp("bigbad.csv", text);
    free(text);
    rec_error e = {0};
    rec_ratings *r = NULL;
    ck_assert_int_eq(rec_load_movielens(&r, path, &e), REC_EFORMAT);
    ck_assert_msg(strstr(e.msg, "bigbad.csv:271830: rating 'oops'") != NULL, "%s", e.msg);
}
END_TEST

/* ---- a file truncated by another process while it loads ---- */

typedef struct truncator {
    const char *path; /* resolved */
    off_t to;
    long delay_us;    /* < 0: as soon as the loader has the file open */
    volatile int stop;
    int done;
} truncator;

/* Non-zero when this process has `path` open (the loader's descriptor). */
static int file_is_open(const char *path)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 0;
    int found = 0;
    struct dirent *de;
    while (!found && (de = readdir(d)) != NULL) {
        char link[300], target[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%s", de->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n > 0) {
            target[n] = '\0';
            found = strcmp(target, path) == 0;
        }
    }
    closedir(d);
    return found;
}

static void *truncate_soon(void *arg)
{
    truncator *t = arg;
    if (t->delay_us >= 0)
        usleep((useconds_t)t->delay_us);
    else
        while (!t->stop && !file_is_open(t->path))
            ;
    if (!t->stop)
        t->done = truncate(t->path, t->to) == 0;
    return NULL;
}

/* With a mapped file this ended the process with SIGBUS; now it is
   REC_EIO naming the file (or REC_OK when the load was over first, or
   REC_EFORMAT when the cut came before the loader looked at the size). */
START_TEST(test_truncated_while_loading)
{
    char *text = big_csv(600000, (size_t)-1);
    size_t len = strlen(text);
    const char *name = tmp_path("shrinking.csv");
    char path[PATH_MAX];
    int n_eio = 0, n_ok = 0;
    double load_us = 0; /* of an undisturbed load, measured first */
    for (int attempt = -1; attempt < 10; attempt++) {
        FILE *f = fopen(name, "wb");
        ck_assert_uint_eq(fwrite(text, 1, len, f), len);
        fclose(f);
        ck_assert_ptr_nonnull(realpath(name, path));
        if (attempt < 0) {
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            rec_ratings_free(load_ok(name));
            clock_gettime(CLOCK_MONOTONIC, &t1);
            load_us = (double)(t1.tv_sec - t0.tv_sec) * 1e6 +
                      (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
            continue;
        }
        /* at once, then at 0% .. 40% of the undisturbed load's time */
        truncator t = {path, (off_t)(len / 3), -1, 0, 0};
        if (attempt >= 2)
            t.delay_us = (long)(load_us * (attempt - 2) / 20);
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, truncate_soon, &t), 0);
        rec_ratings *r = NULL;
        rec_error e = {0};
        rec_status st = rec_load_movielens(&r, name, &e);
        t.stop = 1;
        pthread_join(th, NULL);
        if (st == REC_OK) {
            n_ok++;
            ck_assert_uint_le(rec_ratings_n_ratings(r), 600000);
            rec_ratings_free(r);
            continue;
        }
        ck_assert_ptr_null(r);
        ck_assert_msg(strstr(e.msg, "shrinking.csv") != NULL, "%s", e.msg);
        if (st == REC_EIO) {
            n_eio++;
            ck_assert_msg(strstr(e.msg, "changed while it was read") != NULL,
                          "%s", e.msg);
        } else {
            ck_assert_msg(st == REC_EFORMAT, "%d %s", st, e.msg);
        }
    }
    free(text);
    fprintf(stderr, "truncated while loading (%.0f us undisturbed): %d REC_EIO, "
            "%d REC_OK of 10\n", load_us, n_eio, n_ok);
    ck_assert_int_gt(n_eio, 0);
}
END_TEST

START_TEST(test_invalid_args)
{
    rec_error e = {0};
    rec_ratings *r = NULL;
    ck_assert_int_eq(rec_load_movielens(NULL, fixture("ml-1m"), &e), REC_EINVAL);
    ck_assert_int_eq(e.code, REC_EINVAL);
    ck_assert_int_eq(rec_load_movielens(&r, NULL, &e), REC_EINVAL);
}
END_TEST

START_TEST(test_unreadable)
{
    rec_error e = {0};
    rec_ratings *r = NULL;
    /* a symlink loop cannot be opened by anyone, root included */
    const char *loop = tmp_path("loop.csv");
    unlink(loop);
    ck_assert_int_eq(symlink(loop, loop), 0);
    ck_assert_int_eq(rec_load_movielens(&r, loop, &e), REC_EIO);
    ck_assert_ptr_nonnull(strstr(e.msg, "loop.csv"));
    /* a movies file that is a directory */
    const char *dir = tmp_path("dirmovies");
    char sub[4096];
    mkdir(dir, 0700);
    snprintf(sub, sizeof sub, "%s/movies.csv", dir);
    mkdir(sub, 0700);
    snprintf(sub, sizeof sub, "%s/ratings.csv", dir);
    FILE *f = fopen(sub, "w");
    fputs("userId,movieId,rating,timestamp\n1,2,3,4\n", f);
    fclose(f);
    ck_assert_int_eq(rec_load_movielens(&r, dir, &e), REC_EIO);
    ck_assert_ptr_nonnull(strstr(e.msg, "movies.csv"));
    /* a FIFO or a device: an error, never a hang */
    const char *fifo = tmp_path("fifo.csv");
    unlink(fifo);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    ck_assert_int_eq(rec_load_movielens(&r, fifo, &e), REC_EIO);
    ck_assert_ptr_nonnull(strstr(e.msg, "fifo.csv"));
    ck_assert_int_eq(rec_load_movielens(&r, "/dev/zero", &e), REC_EIO);
    snprintf(sub, sizeof sub, "%s/movies.csv", dir);
    rmdir(sub);
    ck_assert_int_eq(mkfifo(sub, 0600), 0);
    ck_assert_int_eq(rec_load_movielens(&r, dir, &e), REC_EIO);
    /* permissions, where they apply (not as root) */
    if (geteuid() != 0) {
        const char *p = write_tmp("secret.csv", "1,2,3,4\n");
        chmod(p, 0);
        ck_assert_int_eq(rec_load_movielens(&r, p, &e), REC_EIO);
    }
}
END_TEST

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define REC_NO_RLIMIT 1 /* sanitizers reserve terabytes of address space */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define REC_NO_RLIMIT 1
#endif
#endif

/* Out of memory (a small address-space limit, as `ulimit -v`): a clean
   REC_ENOMEM, never a crash. Runs in its own forked process. */
START_TEST(test_out_of_memory)
{
#ifndef REC_NO_RLIMIT
    const char *pre = getenv("LD_PRELOAD");
    if (pre && strstr(pre, "vgpreload")) /* valgrind needs the room itself */
        return;
    char *text = big_csv(1500000, (size_t)-1);
    const char *path = write_tmp("oom.csv", text);
    free(text);
    rec_ratings *r = NULL;
    rec_error e = {0};
    /* warm up: the OpenMP thread pool exists before the limit */
    r = load_ok(path);
    rec_ratings_free(r);
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    ck_assert_int_eq(fscanf(f, "%lu", &pages), 1);
    fclose(f);
    size_t vm = pages * (size_t)sysconf(_SC_PAGESIZE), mb = (size_t)1 << 20;
    int nomem = 0;
    for (size_t extra = 4; extra <= 64; extra += 12) {
        struct rlimit rl;
        ck_assert_int_eq(getrlimit(RLIMIT_AS, &rl), 0);
        rl.rlim_cur = vm + extra * mb; /* soft limit only: it can go back up */
        ck_assert_int_eq(setrlimit(RLIMIT_AS, &rl), 0);
        r = NULL;
        rec_status st = rec_load_movielens(&r, path, &e);
        ck_assert_msg(st == REC_OK || st == REC_ENOMEM, "limit +%zu MB: %d %s", extra, st,
                      e.msg);
        if (st == REC_ENOMEM) {
            nomem++;
            ck_assert_ptr_null(r);
            ck_assert_int_eq(e.code, REC_ENOMEM);
        }
        rec_ratings_free(r);
    }
    ck_assert_int_gt(nomem, 0);
#endif
}
END_TEST

static Suite *movielens_suite(void)
{
    Suite *s = suite_create("movielens");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_ml_latest_small);
    tcase_add_test(core, test_ml_100k_sample);
    tcase_add_test(core, test_ml_100k);
    tcase_add_test(core, test_ml_1m);
    tcase_add_test(core, test_ml_10m);
    tcase_add_test(core, test_ml_latest_quotes);
    tcase_add_test(core, test_csv_quote_rules);
    tcase_add_test(core, test_ml_20m);
    tcase_add_test(core, test_crlf_bom);
    tcase_add_test(core, test_no_final_newline_duplicates);
    tcase_add_test(core, test_awkward_generated);
    tcase_add_test(core, test_big_parallel);
    tcase_add_test(core, test_csv_without_timestamps);
    tcase_add_test(core, test_fast_rows_agree);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_loop_test(errors, test_bad_catalogue, 0,
                        (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(errors, test_bad_line_deep_in_big_file);
    tcase_add_test(errors, test_invalid_args);
    tcase_add_test(errors, test_unreadable);
    tcase_add_test(errors, test_truncated_while_loading);
    tcase_add_test(errors, test_out_of_memory);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return run_suite(movielens_suite());
}
