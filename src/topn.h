/*
 * topn.h - top-n selection shared by single-user and batch ranking
 * (recommend.c, recommend_batch.c): a min-heap of the best so far inside
 * the caller's buffer. Order: score descending, then dense index (= movie
 * id) ascending; NaN ranks last. Header-only so the hot loops inline it.
 */
#ifndef MOVIEME_TOPN_H
#define MOVIEME_TOPN_H

#include "movieme.h"

#include <math.h>
#include <stddef.h>

/* ---- top-n selection: a min-heap of the best so far, worst at the root;
 *      movie_id holds the dense index until rec__heap_finish ---- */

static inline int rec__worse(float sa, int32_t ia, float sb, int32_t ib)
{
    return sa < sb || (sa == sb && ia > ib);
}

static inline void rec__sift_down(rec_scored *h, size_t n, size_t i)
{
    rec_scored v = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && rec__worse(h[c + 1].score, h[c + 1].movie_id, h[c].score,
                               h[c].movie_id))
            c++;
        if (!rec__worse(h[c].score, h[c].movie_id, v.score, v.movie_id))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = v;
}

static inline void rec__heap_offer(rec_scored *h, size_t *size, size_t cap,
                              int32_t idx, float score)
{
    if (score != score)
        score = -INFINITY; /* NaN ranks last */
    if (*size < cap) {
        size_t i = (*size)++;
        while (i > 0) {
            size_t p = (i - 1) / 2;
            if (!rec__worse(score, idx, h[p].score, h[p].movie_id))
                break;
            h[i] = h[p];
            i = p;
        }
        h[i].movie_id = idx;
        h[i].score = score;
    } else if (cap > 0 && rec__worse(h[0].score, h[0].movie_id, score, idx)) {
        h[0].movie_id = idx;
        h[0].score = score;
        rec__sift_down(h, *size, 0);
    }
}

/* Sort the heap best first and turn dense indices into movie ids (ids
   NULL: keep the dense indices). */
static inline void rec__heap_finish(rec_scored *h, size_t size,
                                    const int32_t *ids)
{
    for (size_t end = size; end > 1; end--) {
        rec_scored t = h[0];
        h[0] = h[end - 1];
        h[end - 1] = t;
        rec__sift_down(h, end - 1, 0);
    }
    if (ids)
        for (size_t i = 0; i < size; i++)
            h[i].movie_id = ids[h[i].movie_id];
}

#endif
