/*
 * Copyright (C) the ngx_tiktok authors.
 * The lists' counts (post_counts) changed at the end of a transaction.
 *
 * A post written moves one up or down at each level of each of its lists:
 * some forty counts, most of them the same few keys for every post a
 * batch writes (the totals, the buckets of now, of its scheduled_at).
 * Rather than a read and a write of each, a transaction keeps the sum of
 * its changes by key, and writes each key once: when it commits, or
 * before anything reads a count.  A nested transaction keeps its own
 * sums; its commit adds them to its parent's, its abort drops them.
 *
 * A read of the counts in a nested transaction applies its ancestors'
 * sums too, into itself (they are then "absorbed"): when it commits they
 * are written in its pages, and its ancestors' sums are emptied; when it
 * aborts they are still there.  A count below zero is a corrupt store.
 *
 * The sums are applied level by level, so that a cell's change is known
 * before those below it: a leaf's cells below are not kept, and a cell
 * whose cells below were just built or dropped (tt_store_list_count.c)
 * takes none of their sums.  So only a cell stored with cells below it
 * passes sums down: a post's change is summed level by level down to
 * the first cell that is not (read from the store once per sum, and
 * known until the sums are written), and at all those levels before the
 * sums may be written (tt_counts_spill()), so that the cell above any
 * summed one is summed too.
 */


#include "tt_store_int.h"
#include "tt_store_list_int.h"


#define TT_COUNTS_KEY       tt_list_count_len(TT_LIST_LAST)
#define TT_COUNTS_INIT      512
#define TT_COUNTS_FLUSH     8192


typedef struct {
    uint8_t         len;            /* 0: a free slot */
    uint8_t         key[TT_COUNTS_KEY];
    uint8_t         below;          /* applied: the cells below take sums */
    uint8_t         stored;         /* as stored: cells below it, or not */
    int64_t         delta;
} tt_count_t;

#define TT_COUNTS_UNREAD    0xff    /* stored not read yet */


/* the sums by key (open addressing), and the slots used, in order */
struct tt_counts_s {
    tt_count_t     *slots;
    size_t          size;           /* a power of two */
    size_t          n;
    uint32_t       *used;           /* size / 2 of them */
};


/* a table emptied by a transaction's end, for this thread's next one */
static __thread tt_counts_t  *tt_counts_spare;


static uint64_t tt_counts_hash(const uint8_t *key, size_t len);
static tt_count_t *tt_counts_slot(tt_counts_t *m, const uint8_t *key,
    size_t len);
static int tt_counts_grow(tt_counts_t *m);
static int tt_counts_sum(tt_counts_t **dst, const uint8_t *key, size_t len,
    int64_t delta, tt_count_t **slot);
static int tt_counts_join(tt_counts_t **dst, const tt_counts_t *m);
static int tt_counts_apply(tt_txn_t *t, tt_counts_t *m);
static int tt_counts_write(tt_txn_t *t, MDB_cursor *c, tt_counts_t *m,
    tt_count_t *e);
static void tt_counts_clear(tt_counts_t *m);
static void tt_counts_destroy(tt_counts_t *m);


/*
 * Keys start with a digest (random bytes) and end with big-endian
 * numbers: their 8-byte words, mixed, spread them well
 */
static uint64_t
tt_counts_hash(const uint8_t *key, size_t len)
{
    size_t    i;
    uint64_t  h, word;

    h = len;

    for (i = 0; i < len; i += 8) {
        word = 0;
        memcpy(&word, key + i, len - i < 8 ? len - i : 8);
        h = (h ^ word) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 29;
    }

    return h;
}


/* the slot of key, or the free one where it goes */
static tt_count_t *
tt_counts_slot(tt_counts_t *m, const uint8_t *key, size_t len)
{
    size_t       i, mask;
    tt_count_t  *e;

    mask = m->size - 1;
    i = (size_t) tt_counts_hash(key, len) & mask;

    for ( ;; ) {
        e = &m->slots[i];

        if (e->len == 0
            || (e->len == len && memcmp(e->key, key, len) == 0))
        {
            return e;
        }

        i = (i + 1) & mask;
    }
}


static int
tt_counts_grow(tt_counts_t *m)
{
    size_t       i, size;
    uint32_t    *used;
    tt_count_t  *old, *e;

    size = m->size ? m->size * 2 : TT_COUNTS_INIT;

    if (size / 2 > UINT32_MAX) {
        return TT_NOMEM;
    }

    used = malloc(size / 2 * sizeof(uint32_t));
    if (used == NULL) {
        return TT_NOMEM;
    }

    old = m->slots;

    m->slots = calloc(size, sizeof(tt_count_t));
    if (m->slots == NULL) {
        m->slots = old;
        free(used);
        return TT_NOMEM;
    }

    m->size = size;

    for (i = 0; i < m->n; i++) {
        e = tt_counts_slot(m, old[m->used[i]].key, old[m->used[i]].len);
        *e = old[m->used[i]];
        used[i] = (uint32_t) (e - m->slots);
    }

    free(old);
    free(m->used);
    m->used = used;

    return TT_OK;
}


/* *dst's sum of key moves by delta (*slot: it); *dst is made when NULL */
static int
tt_counts_sum(tt_counts_t **dst, const uint8_t *key, size_t len,
    int64_t delta, tt_count_t **slot)
{
    tt_count_t   *e;
    tt_counts_t  *m;

    if (len == 0 || len > TT_COUNTS_KEY) {
        return TT_INVALID;
    }

    m = *dst;

    if (m == NULL) {
        m = tt_counts_spare;
        tt_counts_spare = NULL;

        if (m == NULL) {
            m = calloc(1, sizeof(tt_counts_t));
            if (m == NULL) {
                return TT_NOMEM;
            }
        }

        *dst = m;
    }

    /* at most half full, so that a probe ends soon */
    if (2 * (m->n + 1) > m->size && tt_counts_grow(m) != TT_OK) {
        return TT_NOMEM;
    }

    e = tt_counts_slot(m, key, len);

    if (e->len == 0) {
        e->len = (uint8_t) len;
        memcpy(e->key, key, len);
        e->delta = 0;
        e->stored = TT_COUNTS_UNREAD;
        m->used[m->n++] = (uint32_t) (e - m->slots);
    }

    e->delta += delta;
    *slot = e;

    return TT_OK;
}


/*
 * The count of key (a post_counts key) moves by delta when t commits.
 * *below: whether its cell is stored with cells below it, which then
 * take the same change.
 */
int
tt_counts_add(tt_txn_t *t, const void *key, size_t len, int64_t delta,
    int *below)
{
    int          rc, b;
    tt_count_t  *e;

    tt_txn_check(t);

    rc = tt_counts_sum(&t->counts, key, len, delta, &e);
    if (rc != TT_OK) {
        t->st->last_error = "a list count could not be kept";
        return tt_txn_fail(t, rc == TT_NOMEM ? TT_NOMEM : TT_ERR);
    }

    if (e->stored == TT_COUNTS_UNREAD) {
        rc = tt_list_count_stored(t, key, len, &b);
        if (rc != TT_OK) {
            return rc;
        }

        e->stored = (uint8_t) b;
    }

    *below = e->stored;

    return TT_OK;
}


/*
 * A transaction that writes many posts (a migration) writes its counts
 * as it goes, so that its sums stay small: between two posts' changes.
 */
int
tt_counts_spill(tt_txn_t *t)
{
    if (t->counts != NULL && t->counts->n >= TT_COUNTS_FLUSH) {
        return tt_counts_flush(t);
    }

    return TT_OK;
}


/*
 * Every sum t's counts wait for, its ancestors' included, written in t:
 * before a read of the counts, and by the commit of t
 */
int
tt_counts_flush(tt_txn_t *t)
{
    int        rc;
    tt_txn_t  *a;

    tt_txn_check(t);

    /* the ancestors' sums join t's own, to be applied with them */
    if (!t->absorbed) {
        for (a = t->parent; a != NULL; a = a->parent) {
            rc = tt_counts_join(&t->counts, a->counts);
            if (rc != TT_OK) {
                t->st->last_error = "a list count could not be kept";
                return tt_txn_fail(t, rc);
            }
        }

        t->absorbed = (t->parent != NULL);
    }

    rc = tt_counts_apply(t, t->counts);
    tt_counts_clear(t->counts);

    return rc;
}


/* t commits: an absorbed flush empties the ancestors' sums; t's own
 * sums go to its parent's */
int
tt_counts_commit(tt_txn_t *t)
{
    tt_txn_t  *a;

    if (t->absorbed) {
        for (a = t->parent; a != NULL; a = a->parent) {
            tt_counts_clear(a->counts);
        }
    }

    return tt_counts_join(&t->parent->counts, t->counts);
}


/* every sum of m added to *dst's */
static int
tt_counts_join(tt_counts_t **dst, const tt_counts_t *m)
{
    size_t             i;
    tt_count_t        *to;
    const tt_count_t  *e;

    for (i = 0; m != NULL && i < m->n; i++) {
        e = &m->slots[m->used[i]];

        if (tt_counts_sum(dst, e->key, e->len, e->delta, &to) != TT_OK) {
            return TT_NOMEM;
        }

        /* both read the same store: nothing wrote the counts between */
        if (to->stored == TT_COUNTS_UNREAD) {
            to->stored = e->stored;
        }
    }

    return TT_OK;
}


/* the transaction's table emptied, kept for the thread's next one */
void
tt_counts_free(tt_txn_t *t)
{
    tt_counts_t  *m;

    m = t->counts;
    t->counts = NULL;

    if (m == NULL) {
        return;
    }

    tt_counts_clear(m);

    if (tt_counts_spare == NULL && m->size <= TT_COUNTS_INIT) {
        tt_counts_spare = m;
        return;
    }

    tt_counts_destroy(m);
}


void
tt_counts_release(void)
{
    if (tt_counts_spare != NULL) {
        tt_counts_destroy(tt_counts_spare);
        tt_counts_spare = NULL;
    }
}


static void
tt_counts_destroy(tt_counts_t *m)
{
    free(m->slots);
    free(m->used);
    free(m);
}


/* whether t or an ancestor has counts to write */
int
tt_counts_pending(const tt_txn_t *t)
{
    const tt_txn_t  *a;

    for (a = t; a != NULL; a = (a == t && t->absorbed) ? NULL : a->parent) {
        if (a->counts != NULL && a->counts->n != 0) {
            return 1;
        }
    }

    return 0;
}


/* the sums written, a level at a time (levels 0 and 1 first) */
static int
tt_counts_apply(tt_txn_t *t, tt_counts_t *m)
{
    int          rc, level;
    size_t       i;
    tt_count_t  *e;
    MDB_cursor  *c;

    if (m == NULL || m->n == 0) {
        return TT_OK;
    }

    rc = tt_db_cursor(t, TT_DB_POST_COUNTS, &c);
    if (rc != TT_OK) {
        return rc;
    }

    for (level = 0; rc == TT_OK && level < TT_LIST_LEVELS; level++) {
        for (i = 0; rc == TT_OK && i < m->n; i++) {
            e = &m->slots[m->used[i]];

            if (e->len > TT_LIST_PREFIX && e->key[TT_LIST_PREFIX] == level) {
                rc = tt_counts_write(t, c, m, e);
            }
        }
    }

    mdb_cursor_close(c);

    return rc;
}


/* one count moved by its sum, if the cell above it keeps cells below */
static int
tt_counts_write(tt_txn_t *t, MDB_cursor *c, tt_counts_t *m, tt_count_t *e)
{
    int          rc, below;
    tt_skey_t    up;
    tt_count_t  *u;

    e->below = 0;

    rc = tt_list_count_up(e->key, e->len, &up);

    if (rc == TT_OK) {
        u = tt_counts_slot(m, up.data, up.val.mv_size);

        if (u->len != 0) {
            below = u->below;

        } else {
            /* not summed in this transaction: as it is stored */
            rc = tt_list_count_stored(t, up.data, up.val.mv_size, &below);
            if (rc != TT_OK) {
                return rc;
            }
        }

        if (!below) {
            return TT_OK;
        }

    } else if (rc != TT_NOTFOUND) {
        t->st->last_error = "corrupt list count key";
        return tt_txn_fail(t, TT_ERR);
    }

    rc = tt_list_count_change(t, c, e->key, e->len, e->delta, &below);
    e->below = (uint8_t) below;

    return rc;
}


/* the used slots freed: a table is mostly empty */
static void
tt_counts_clear(tt_counts_t *m)
{
    size_t  i;

    for (i = 0; m != NULL && i < m->n; i++) {
        m->slots[m->used[i]].len = 0;
    }

    if (m != NULL) {
        m->n = 0;
    }
}
