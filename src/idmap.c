/* idmap.c - open-addressing hash map from external int32 ids (>= 0) to
   dense indices. Linear probing, load factor at most 1/2. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static inline size_t slot_of(int32_t key, size_t cap)
{
    uint32_t h = (uint32_t)key * 0x9E3779B1u;
    h ^= h >> 15;
    return (size_t)h & (cap - 1);
}

void rec__idmap_init(rec_idmap *m)
{
    m->keys = NULL;
    m->vals = NULL;
    m->cap = 0;
    m->size = 0;
}

void rec__idmap_free(rec_idmap *m)
{
    if (!m)
        return;
    free(m->keys);
    free(m->vals);
    rec__idmap_init(m);
}

static rec_status rehash(rec_idmap *m, size_t cap)
{
    int32_t *keys = malloc(cap * sizeof *keys);
    int32_t *vals = malloc(cap * sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return REC_ENOMEM;
    }
    memset(keys, 0xff, cap * sizeof *keys); /* -1 everywhere */
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] < 0)
            continue;
        size_t s = slot_of(m->keys[i], cap);
        while (keys[s] >= 0)
            s = (s + 1) & (cap - 1);
        keys[s] = m->keys[i];
        vals[s] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return REC_OK;
}

rec_status rec__idmap_reserve(rec_idmap *m, size_t n)
{
    size_t cap = m->cap ? m->cap : 16;
    while (cap < 2 * n + 2) {
        if (cap > SIZE_MAX / 4)
            return REC_ENOMEM;
        cap *= 2;
    }
    return cap == m->cap ? REC_OK : rehash(m, cap);
}

int32_t rec__idmap_get(const rec_idmap *m, int32_t key)
{
    if (m->cap == 0 || key < 0)
        return -1;
    size_t s = slot_of(key, m->cap);
    for (;;) {
        int32_t k = m->keys[s];
        if (k == key)
            return m->vals[s];
        if (k < 0)
            return -1;
        s = (s + 1) & (m->cap - 1);
    }
}

rec_status rec__idmap_put(rec_idmap *m, int32_t key, int32_t val)
{
    if (key < 0)
        return REC_EINVAL;
    if (2 * (m->size + 1) + 2 > m->cap) {
        rec_status st = rec__idmap_reserve(m, m->size + 1 > 8 ? 2 * m->size : 8);
        if (st != REC_OK)
            return st;
    }
    size_t s = slot_of(key, m->cap);
    while (m->keys[s] >= 0 && m->keys[s] != key)
        s = (s + 1) & (m->cap - 1);
    if (m->keys[s] < 0)
        m->size++;
    m->keys[s] = key;
    m->vals[s] = val;
    return REC_OK;
}

void rec__idmap_remove(rec_idmap *m, int32_t key)
{
    if (m->cap == 0 || key < 0)
        return;
    size_t mask = m->cap - 1, hole = slot_of(key, m->cap);
    while (m->keys[hole] != key) {
        if (m->keys[hole] < 0)
            return;
        hole = (hole + 1) & mask;
    }
    /* Backward-shift deletion: an entry further along the cluster moves
       into the hole when the hole lies between its home slot and it, so
       every key stays reachable from its home without tombstones. */
    for (size_t j = (hole + 1) & mask; m->keys[j] >= 0; j = (j + 1) & mask) {
        size_t home = slot_of(m->keys[j], m->cap);
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            m->keys[hole] = m->keys[j];
            m->vals[hole] = m->vals[j];
            hole = j;
        }
    }
    m->keys[hole] = -1;
    m->size--;
}

rec_status rec__idmap_copy(rec_idmap *dst, const rec_idmap *src)
{
    rec__idmap_init(dst);
    if (src->cap == 0)
        return REC_OK;
    dst->keys = malloc(src->cap * sizeof *dst->keys);
    dst->vals = malloc(src->cap * sizeof *dst->vals);
    if (!dst->keys || !dst->vals) {
        rec__idmap_free(dst);
        return REC_ENOMEM;
    }
    memcpy(dst->keys, src->keys, src->cap * sizeof *dst->keys);
    memcpy(dst->vals, src->vals, src->cap * sizeof *dst->vals);
    dst->cap = src->cap;
    dst->size = src->size;
    return REC_OK;
}
