/*
 * fuzz_model_load.c - libFuzzer target for rec_model_load().
 *
 * The bytes are written to a model file and loaded. A file that loads must
 * then be safe to serve from: every read call of the API is exercised on it
 * (top-n, predict, similar, fold-in, metadata), a copy takes rec_add_user,
 * and a save/load round trip must give the same shape. A file that does not
 * load must give a known status with a message.
 *
 * Model files carry a length field and a CRC-32 trailer (src/model_io.c),
 * so random mutations would mostly stop there. For inputs of even size the
 * target first rewrites the length field (offset 16) and the CRC (last 4
 * bytes) to match, so the mutations reach the section parsers behind them;
 * inputs of odd size (a model file never has one) are loaded unchanged and
 * exercise the length and checksum checks themselves.
 */
#include "fuzz_common.h"
#include "internal.h"

#include <math.h>
#include <zlib.h>

static void serve(const rec_model *m)
{
    rec_error err;
    int rank = rec_model_rank(m);
    size_t nu = rec_model_n_users(m), nm = rec_model_n_movies(m);
    FZ_CHECK(rank > 0);

    for (size_t i = 0; i < nm && i < 4096; i++) {
        rec_movie_info mi;
        FZ_CHECK(rec_model_movie_at(&mi, m, i, &err) == REC_OK);
        fz_check_info(&mi);
    }
    rec_movie_info mi;
    rec_status st = rec_model_movie_at(&mi, m, nm, &err);
    FZ_CHECK(st != REC_OK);
    fz_check_error(st, &err);

    rec_scored out[16];
    size_t n_out;
    float *vec = calloc((size_t)rank, sizeof *vec);
    FZ_CHECK(vec != NULL);
    for (size_t u = 0; u < nu && u < 16; u++) {
        int32_t uid = m->user_ids[u];
        FZ_CHECK(rec_model_has_user(m, uid));
        n_out = 99;
        st = rec_top_n(out, 16, &n_out, m, uid, &err);
        fz_check_error(st, &err);
        if (st == REC_OK)
            FZ_CHECK(n_out <= 16 && n_out <= nm);
        float bias;
        st = rec_model_user_factors(vec, (size_t)rank, &bias, m, uid, &err);
        fz_check_error(st, &err);
        for (size_t i = 0; i < nm && i < 4; i++) {
            float pred;
            st = rec_predict(&pred, m, uid, m->movie_ids[i], &err);
            fz_check_error(st, &err);
        }
    }
    for (size_t i = 0; i < nm && i < 4; i++) {
        int32_t mid = m->movie_ids[i];
        st = rec_similar_movies(out, 16, &n_out, m, mid, &err);
        fz_check_error(st, &err);
        if (st == REC_OK)
            FZ_CHECK(n_out <= 16 && n_out < nm + 1);
        float bias;
        st = rec_model_movie_factors(vec, (size_t)rank, &bias, m, mid, &err);
        fz_check_error(st, &err);
    }
    float pred;
    st = rec_predict(&pred, m, -7, 12345, &err); /* unknown both: bias path */
    fz_check_error(st, &err);

    rec_movie_rating mr[3];
    size_t n_mr = 0;
    for (size_t i = 0; i < nm && n_mr < 3; i++, n_mr++) {
        mr[n_mr].movie_id = m->movie_ids[i];
        mr[n_mr].rating = (float)(1 + i % 5);
    }
    st = rec_recommend_for_ratings(out, 16, &n_out, m, mr, n_mr, &err);
    fz_check_error(st, &err);

    /* copy-on-write: rec_add_user on a copy */
    rec_model *c = NULL;
    st = rec_model_copy(&c, m, &err);
    fz_check_error(st, &err);
    if (st == REC_OK) {
        int32_t nid = -1;
        st = rec_add_user(&nid, c, REC_NEW_USER, mr, n_mr, &err);
        fz_check_error(st, &err);
        if (st == REC_OK) {
            FZ_CHECK(rec_model_has_user(c, nid));
            st = rec_top_n(out, 16, &n_out, c, nid, &err);
            fz_check_error(st, &err);
        }
        /* forget the first trained user and the new one */
        size_t before = rec_model_n_users(c);
        if (nu > 0) {
            int32_t first = m->user_ids[0];
            st = rec_remove_user(c, first, &err);
            fz_check_error(st, &err);
            if (st == REC_OK) {
                FZ_CHECK(!rec_model_has_user(c, first));
                FZ_CHECK(rec_model_has_user(m, first));
                FZ_CHECK(rec_model_n_users(c) == before - 1);
                st = rec_top_n(out, 16, &n_out, c, first, &err);
                FZ_CHECK(st == REC_ENOTFOUND);
            }
        }
        st = rec_model_save(c, fz_path("model2.bin"), &err);
        fz_check_error(st, &err);
        if (st == REC_OK) {
            rec_model *c2 = NULL;
            st = rec_model_load(&c2, fz_path("model2.bin"), &err);
            if (st != REC_OK)
                fprintf(stderr, "round trip of the changed copy: %s\n", err.msg);
            FZ_CHECK(st == REC_OK);
            FZ_CHECK(rec_model_n_users(c2) == rec_model_n_users(c));
            rec_model_free(c2);
        }
        rec_model_free(c);
    }
    free(vec);

    /* save / load round trip */
    st = rec_model_save(m, fz_path("model2.bin"), &err);
    fz_check_error(st, &err);
    if (st == REC_OK) {
        rec_model *m2 = NULL;
        st = rec_model_load(&m2, fz_path("model2.bin"), &err);
        if (st != REC_OK)
            fprintf(stderr, "round trip: %s\n", err.msg);
        FZ_CHECK(st == REC_OK);
        FZ_CHECK(rec_model_rank(m2) == rank);
        FZ_CHECK(rec_model_n_users(m2) == nu);
        FZ_CHECK(rec_model_n_movies(m2) == nm);
        rec_model_free(m2);
    }
}

/* Also used by tests/check_fuzz_regressions.c. */
int fz_model_one(const uint8_t *data, size_t size)
{
    static uint8_t *buf;
    static size_t buf_cap;
    if (size % 2 == 0 && size >= 36) {
        if (size > buf_cap) {
            free(buf);
            buf = malloc(size);
            FZ_CHECK(buf != NULL);
            buf_cap = size;
        }
        memcpy(buf, data, size);
        int big = buf[12] == 0x01; /* byte-order mark 0x01020304 as BE */
        uint64_t len = size;
        for (int i = 0; i < 8; i++)
            buf[16 + i] = (uint8_t)(len >> (big ? 8 * (7 - i) : 8 * i));
        uint32_t crc = (uint32_t)crc32(0L, buf, (uInt)(size - 4));
        for (int i = 0; i < 4; i++)
            buf[size - 4 + i] = (uint8_t)(crc >> (big ? 8 * (3 - i) : 8 * i));
        fz_write("model.bin", buf, size);
    } else {
        fz_write("model.bin", data, size);
    }
    rec_model *m = NULL;
    rec_error err;
    memset(&err, 0, sizeof err);
    rec_status st = rec_model_load(&m, fz_path("model.bin"), &err);
    fz_check_error(st, &err);
    if (st == REC_OK) {
        FZ_CHECK(m != NULL);
        serve(m);
    } else {
        FZ_CHECK(m == NULL);
    }
    rec_model_free(m);
    return 0;
}

#ifndef REC_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_model_one(data, size);
}
#endif
