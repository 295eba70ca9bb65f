/*
 * Copyright (C) the ngx_tiktok authors.
 * GET /api/posts's lists: each post's terms, its entries in post_list and
 * the counts of post_counts, kept in the transaction that writes the post;
 * a page read from them at a cost that does not grow with the list.
 */


#include "tt_store_int.h"
#include "tt_store_list_int.h"


/* 0 from TT_LIST_KEYED on: one key */
const unsigned  tt_list_shifts[TT_LIST_LEVELS] = {
    64, 32, 24, 16, 8
};


/* one walk of a list: its prefix and its range of keys, both ends in */
typedef struct {
    tt_txn_t       *t;
    tt_skey_t       prefix;
    int             kind;
    uint64_t        lo;
    uint64_t        hi;
    MDB_cursor     *list;
    MDB_cursor     *counts;
} tt_list_walk_t;


/* where a page starts: a cell's first key and id bytes (zeros past its
 * own), and the entries to pass from there */
typedef struct {
    uint64_t        key;
    uint8_t         id[TT_LIST_IDPART];
    uint64_t        skip;
} tt_list_start_t;


/* a cell of the counts as read */
typedef struct {
    uint64_t        from;           /* its keys, both ends in */
    uint64_t        to;
    uint64_t        n;
    uint64_t        bucket;
    uint8_t         id[TT_LIST_IDPART];     /* the id levels; zeros past */
    unsigned        leaf:1;         /* no counts below: its entries read */
} tt_list_cell_t;


static void tt_terms_of(const tt_post_t *p, tt_terms_t *tm);
static void tt_terms_dec(const uint8_t *b, tt_terms_t *tm);
static int tt_terms_get(tt_txn_t *t, tt_skey_t *k, tt_terms_t *tm);
static int tt_terms_store(tt_txn_t *t, tt_skey_t *k, const tt_terms_t *old,
    const tt_terms_t *tm, const char *id);
static int tt_list_entry(tt_txn_t *t, tt_skey_t *prefix, uint64_t key,
    const char *id, int add);
static int tt_list_count_add(tt_txn_t *t, tt_skey_t *prefix, int level,
    uint64_t key, const char *id, int delta, int *below);
static int tt_list_count_get(tt_list_walk_t *w, int level, uint64_t bucket,
    uint64_t *n);
static int tt_list_cell(tt_list_walk_t *w, int level, tt_skey_t *k, int op,
    tt_list_cell_t *c);
static int tt_list_count_range(tt_list_walk_t *w, int level, uint64_t a,
    uint64_t b, uint64_t *n);
static int tt_list_find(tt_list_walk_t *w, int level, uint64_t a,
    uint64_t b, const uint8_t *id, uint64_t *offset, tt_list_start_t *start);
static int tt_list_find_leaf(tt_list_walk_t *w, const tt_list_cell_t *c,
    uint64_t a, uint64_t b, uint64_t *offset, tt_list_start_t *start);
static int tt_list_entries(tt_list_walk_t *w, uint64_t a, uint64_t b,
    uint64_t *n);
static int tt_list_emit(tt_list_walk_t *w, const tt_list_start_t *start,
    uint64_t limit, tt_post_iter_pt cb, void *ctx);
static int tt_list_at(tt_list_walk_t *w, MDB_cursor *c, tt_skey_t *k,
    MDB_val *key, int op);
static int tt_list_open(tt_list_walk_t *w, const tt_post_query_t *q);
static int tt_post_unlist(tt_txn_t *t);


unsigned
tt_post_classes(const tt_post_t *p)
{
    size_t    i;
    unsigned  m;

    m = 1u << TT_LIST_ANY;

    switch (p->status) {

    case TT_POST_DRAFT:
        return m | (1u << TT_LIST_DRAFT);

    case TT_POST_PENDING:
    case TT_POST_SCHEDULED:
        return m | (1u << TT_LIST_SCHEDULED);

    case TT_POST_MEDIA_FAILED:
        return m | (1u << TT_LIST_FAILED);

    default:
        break;
    }

    for (i = 0; i < p->nplatforms; i++) {
        if (p->platforms[i].status == TT_PLAT_FAILED) {
            m |= 1u << TT_LIST_FAILED;

        } else if (p->platforms[i].status == TT_PLAT_PUBLISHED
                   && p->status == TT_POST_PROCESSED)
        {
            m |= 1u << TT_LIST_PUBLISHED;
        }
    }

    return m;
}


static void
tt_terms_of(const tt_post_t *p, tt_terms_t *tm)
{
    memset(tm, 0, sizeof(tt_terms_t));

    memcpy(tm->ws, p->workspace_id, strnlen(p->workspace_id, TT_ID_SIZE - 1));
    memcpy(tm->group, p->profile_group_id,
           strnlen(p->profile_group_id, TT_ID_SIZE - 1));
    memcpy(tm->queue, p->queue_id, strnlen(p->queue_id, TT_ID_SIZE - 1));

    tm->classes = tt_post_classes(p);
    tm->created = p->created_at;
    tm->scheduled = p->scheduled_at < 0 ? -1 : p->scheduled_at;
}


static void
tt_terms_dec(const uint8_t *b, tt_terms_t *tm)
{
    /* compared whole with memcmp(): the padding and the bytes past each
     * id's NUL must be zeros, as tt_terms_of() leaves them */
    memset(tm, 0, sizeof(tt_terms_t));

    tt_store_key_id(b, tm->ws);
    tt_store_key_id(b + TT_ID_SIZE, tm->group);
    tt_store_key_id(b + 2 * TT_ID_SIZE, tm->queue);
    tm->classes = b[3 * TT_ID_SIZE];
    tm->created = (int64_t) tt_store_be64(b + 3 * TT_ID_SIZE + 1);
    tm->scheduled = (int64_t) tt_store_be64(b + 3 * TT_ID_SIZE + 9);
}


static int
tt_terms_get(tt_txn_t *t, tt_skey_t *k, tt_terms_t *tm)
{
    int      rc;
    MDB_val  v;

    rc = tt_db_get(t, TT_DB_POST_TERMS, k, &v);
    if (rc != TT_OK) {
        return rc;
    }

    if (v.mv_size != TT_TERMS_SIZE) {
        t->st->last_error = "corrupt post terms in the store";
        return tt_txn_fail(t, TT_ERR);
    }

    tt_terms_dec(v.mv_data, tm);

    return TT_OK;
}


/* the lists of a post being stored: moved only when its terms changed */
int
tt_post_terms_set(tt_txn_t *t, const tt_post_t *p)
{
    int         rc;
    tt_skey_t   k;
    tt_terms_t  old, tm;

    tt_terms_of(p, &tm);

    if (tt_store_key(&k, "i", p->id) != TT_OK) {
        return TT_INVALID;
    }

    rc = tt_terms_get(t, &k, &old);
    if (rc != TT_OK && rc != TT_NOTFOUND) {
        return rc;
    }

    return tt_terms_store(t, &k, rc == TT_OK ? &old : NULL, &tm, p->id);
}


/*
 * The lists of a stored post of queue whose scheduled_at alone changes,
 * to at.  TT_DECLINED, before any write, if it is not listed in queue.
 */
int
tt_post_terms_retime(tt_txn_t *t, const char *id, const char *queue,
    int64_t at)
{
    int         rc;
    tt_skey_t   k;
    tt_terms_t  old, tm;

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_DECLINED;
    }

    rc = tt_terms_get(t, &k, &old);
    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? TT_DECLINED : rc;
    }

    if (strncmp(old.queue, queue, TT_ID_SIZE) != 0) {
        return TT_DECLINED;
    }

    tm = old;
    tm.scheduled = at;

    return tt_terms_store(t, &k, &old, &tm, id);
}


/* a post's terms stored at k in place of old (NULL: none), its lists moved */
static int
tt_terms_store(tt_txn_t *t, tt_skey_t *k, const tt_terms_t *old,
    const tt_terms_t *tm, const char *id)
{
    int         rc;
    unsigned    kinds;
    tt_skey_t   v;
    tt_terms_t  was, out;

    if (tt_store_key(&v, "zzzcuu", tm->ws, tm->group, tm->queue,
                     (int) tm->classes, (uint64_t) tm->created,
                     (uint64_t) tm->scheduled) != TT_OK)
    {
        return TT_INVALID;
    }

    if (old != NULL && memcmp(old, tm, sizeof(tt_terms_t)) == 0) {
        return TT_OK;
    }

    /* only its time changed (a queue's post moved): its lists by
     * creation stay as they are */
    kinds = TT_TERMS_BY_CREATED | TT_TERMS_BY_SCHED;

    if (old != NULL) {
        was = *old;
        was.scheduled = tm->scheduled;

        if (memcmp(&was, tm, sizeof(tt_terms_t)) == 0) {
            kinds = TT_TERMS_BY_SCHED;
        }
    }

    /* one of a batch of moves: its lists move with the others' */
    if (kinds == TT_TERMS_BY_SCHED && tt_list_move_defer(t, old, tm, id)) {
        return tt_db_put(t, TT_DB_POST_TERMS, k, v.data, v.val.mv_size);
    }

    if (old != NULL) {
        /* its entries where a move waiting in a batch found them */
        out = *old;

        rc = tt_list_move_settle(t, id, &out.scheduled);
        if (rc == TT_OK) {
            rc = tt_terms_apply(t, &out, id, TT_LIST_OUT, kinds);
        }

        if (rc != TT_OK) {
            return rc;
        }
    }

    rc = tt_db_put(t, TT_DB_POST_TERMS, k, v.data, v.val.mv_size);
    if (rc != TT_OK) {
        return rc;
    }

    return tt_terms_apply(t, tm, id, TT_LIST_IN, kinds);
}


int
tt_post_terms_drop(tt_txn_t *t, const char *id)
{
    int         rc;
    tt_skey_t   k;
    tt_terms_t  old;

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    rc = tt_terms_get(t, &k, &old);
    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? TT_OK : rc;
    }

    rc = tt_list_move_settle(t, id, &old.scheduled);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_terms_apply(t, &old, id, TT_LIST_OUT,
                        TT_TERMS_BY_CREATED | TT_TERMS_BY_SCHED);
    if (rc != TT_OK) {
        return rc;
    }

    return tt_db_del(t, TT_DB_POST_TERMS, &k);
}


/* the list entries of the terms, in or out (add: tt_list_entry()):
 * 2 x 2 scopes x classes, those by creation, by scheduled_at or both
 * (kinds) */
int
tt_terms_apply(tt_txn_t *t, const tt_terms_t *tm, const char *id, int add,
    unsigned kinds)
{
    int        rc;
    unsigned   s, cls;
    tt_skey_t  k;

    for (s = 0; s < 4; s++) {
        if (((s & 1) && tm->group[0] == '\0')
            || ((s & 2) && tm->queue[0] == '\0'))
        {
            continue;
        }

        /* the scope's digest once; its lists differ by their last two
         * bytes, order and class */
        if (tt_list_prefix(&k, tm->ws, (s & 1) ? tm->group : "",
                           (s & 2) ? tm->queue : "", TT_LIST_CREATED, 0)
            != TT_OK)
        {
            t->st->last_error = "a post's list terms are invalid";
            return tt_txn_fail(t, TT_ERR);
        }

        for (cls = 0; cls < TT_LIST_CLASSES; cls++) {
            if (!(tm->classes & (1u << cls))) {
                continue;
            }

            k.data[TT_LIST_SCOPE] = TT_LIST_CREATED;
            k.data[TT_LIST_SCOPE + 1] = (uint8_t) cls;

            if (kinds & TT_TERMS_BY_CREATED) {
                rc = tt_list_entry(t, &k, ~(uint64_t) tm->created, id, add);
                if (rc != TT_OK) {
                    return rc;
                }
            }

            if (tm->scheduled < 0 || !(kinds & TT_TERMS_BY_SCHED)) {
                continue;
            }

            /* the same scope's list by scheduled_at */
            k.data[TT_LIST_SCOPE] = TT_LIST_SCHED;

            rc = tt_list_entry(t, &k, (uint64_t) tm->scheduled, id, add);
            if (rc != TT_OK) {
                return rc;
            }
        }
    }

    return TT_OK;
}


/*
 * One entry in or out (TT_LIST_IN, TT_LIST_OUT), and its counts with it.
 * An entry already there (or already gone) leaves the counts alone, so
 * that they always equal the entries.
 */
static int
tt_list_entry(tt_txn_t *t, tt_skey_t *prefix, uint64_t key, const char *post,
    int add)
{
    int          rc, kind, level, below;
    char         id[TT_ID_SIZE];
    MDB_val      v;
    tt_skey_t    k;

    tt_list_id_put(id, post);

    if (tt_store_key(&k, "bui", prefix->data, prefix->val.mv_size, key, id)
        != TT_OK)
    {
        return TT_INVALID;
    }

    v.mv_data = "";
    v.mv_size = 0;

    rc = add ? mdb_put(t->txn, t->st->dbi[TT_DB_POST_LIST], &k.val, &v,
                       MDB_NOOVERWRITE)
             : mdb_del(t->txn, t->st->dbi[TT_DB_POST_LIST], &k.val, NULL);

    if (rc == MDB_KEYEXIST || rc == MDB_NOTFOUND) {
        return TT_OK;
    }

    rc = tt_txn_fail(t, tt_store_rc(t->st, rc));
    if (rc != TT_OK) {
        return rc;
    }

    kind = prefix->data[TT_LIST_SCOPE];

    /*
     * A time range's total is counted from the buckets: no level 0.
     * Down the levels while the cell has cells below it: under a leaf
     * (or a new cell) there are none to change, and those of a leaf
     * that grows past TT_LIST_LEAF_MAX are built from its entries.
     */
    for (level = (kind == TT_LIST_CREATED) ? 0 : 1;
         rc == TT_OK && level <= TT_LIST_LAST;
         level++)
    {
        rc = tt_list_count_add(t, prefix, level, key, id,
                               add == TT_LIST_IN ? 1 : -1, &below);

        if (level > 0 && !below) {
            break;
        }
    }

    return rc == TT_OK ? tt_counts_spill(t) : rc;
}


/*
 * The count key of the cell of the level holding key, and the entry id
 * as held (the id levels take its first bytes).  Made for every level of
 * every list a post changes, and for the cell above each count written:
 * built here rather than by tt_store_key()'s format.
 */
int
tt_list_count_key(tt_skey_t *k, const tt_skey_t *prefix, int level,
    uint64_t key, const void *id)
{
    int     i;
    size_t  len, part;

    len = prefix->val.mv_size;
    part = tt_list_idpart(level);

    if (len + 1 + 8 + part > sizeof(k->data)) {
        return TT_INVALID;
    }

    memcpy(k->data, prefix->data, len);
    k->data[len++] = (uint8_t) level;
    key = (level == 0) ? 0 : key >> tt_list_shifts[level];

    for (i = 56; i >= 0; i -= 8) {
        k->data[len++] = (uint8_t) (key >> i);
    }

    if (part > 0) {
        memcpy(k->data + len, id, part);
        len += part;
    }

    k->val.mv_data = k->data;
    k->val.mv_size = len;

    return TT_OK;
}


void
tt_list_id_put(char out[TT_ID_SIZE], const char *id)
{
    memset(out, 0, TT_ID_SIZE);
    memcpy(out, id, strnlen(id, TT_ID_SIZE - 1));
}


/* one count up or down, written when the transaction commits; *below:
 * whether its cell has cells below it to change too */
static int
tt_list_count_add(tt_txn_t *t, tt_skey_t *prefix, int level, uint64_t key,
    const char *id, int delta, int *below)
{
    char       part[TT_LIST_IDPART];
    tt_skey_t  k;

    memset(part, 0, sizeof(part));
    memcpy(part, id, strnlen(id, sizeof(part)));

    if (tt_list_count_key(&k, prefix, level, key, part) != TT_OK) {
        return TT_INVALID;
    }

    return tt_counts_add(t, k.data, k.val.mv_size, delta, below);
}


/* reading */

int
tt_post_list(tt_txn_t *t, const tt_post_query_t *q, uint64_t *total,
    tt_post_iter_pt cb, void *ctx)
{
    int              rc;
    uint64_t         offset;
    tt_list_walk_t   w;
    tt_list_start_t  start;

    tt_txn_check(t);

    *total = 0;
    w.t = t;

    rc = tt_list_open(&w, q);
    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? TT_OK : rc;
    }

    if (w.kind == TT_LIST_CREATED) {
        rc = tt_list_count_get(&w, 0, 0, total);

    } else {
        rc = tt_list_count_range(&w, 1, w.lo, w.hi, total);
    }

    if (rc == TT_OK && q->offset < *total && q->limit > 0) {
        offset = q->offset;
        rc = tt_list_find(&w, 1, w.lo, w.hi, tt_list_id0, &offset, &start);

        if (rc == TT_OK) {
            rc = tt_list_emit(&w, &start, q->limit, cb, ctx);

        } else if (rc == TT_NOTFOUND) {
            w.t->st->last_error = "list counts above their entries";
            rc = tt_txn_fail(w.t, TT_ERR);
        }
    }

    mdb_cursor_close(w.list);
    mdb_cursor_close(w.counts);

    return rc;
}


/* the walk's prefix, range and cursors; TT_NOTFOUND: an empty range */
static int
tt_list_open(tt_list_walk_t *w, const tt_post_query_t *q)
{
    int  rc;

    w->kind = (q->after >= 0 || q->before >= 0) ? TT_LIST_SCHED
                                                : TT_LIST_CREATED;
    w->lo = 0;
    w->hi = UINT64_MAX;

    if (w->kind == TT_LIST_SCHED) {
        w->lo = q->after >= 0 ? (uint64_t) q->after : 0;
        w->hi = q->before >= 0 ? (uint64_t) q->before : (uint64_t) INT64_MAX;

        if (w->hi == 0 || w->lo > --w->hi) {
            return TT_NOTFOUND;
        }
    }

    if ((unsigned) q->cls >= TT_LIST_CLASSES
        || tt_list_prefix(&w->prefix, q->ws_id, q->group_id, q->queue_id,
                          w->kind, q->cls) != TT_OK)
    {
        return TT_NOTFOUND;
    }

    /* the counts this transaction changed are written before a read */
    if (tt_counts_pending(w->t)) {
        rc = tt_counts_flush(w->t);
        if (rc != TT_OK) {
            return rc;
        }
    }

    rc = tt_db_cursor(w->t, TT_DB_POST_LIST, &w->list);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_db_cursor(w->t, TT_DB_POST_COUNTS, &w->counts);
    if (rc != TT_OK) {
        mdb_cursor_close(w->list);
        return rc;
    }

    return TT_OK;
}


static int
tt_list_count_get(tt_list_walk_t *w, int level, uint64_t bucket,
    uint64_t *n)
{
    int        rc;
    MDB_val    v;
    tt_skey_t  k;

    tt_store_key(&k, "bcu", w->prefix.data, w->prefix.val.mv_size, level,
                 bucket);

    rc = tt_db_get(w->t, TT_DB_POST_COUNTS, &k, &v);

    *n = (rc == TT_OK && v.mv_size == 8)
         ? tt_store_be64(v.mv_data) & ~TT_LIST_LEAF : 0;

    return rc == TT_NOTFOUND ? TT_OK : rc;
}


/*
 * Positions c at the first key >= k (op MDB_SET_RANGE) or the next one
 * (MDB_NEXT); TT_NOTFOUND past the end or outside the walk's prefix.
 */
static int
tt_list_at(tt_list_walk_t *w, MDB_cursor *c, tt_skey_t *k, MDB_val *key,
    int op)
{
    int  rc;

    if (op == MDB_SET_RANGE) {
        *key = k->val;
    }

    w->t->st->list_reads++;

    rc = tt_txn_fail(w->t, tt_store_rc(w->t->st,
                                       mdb_cursor_get(c, key, NULL, op)));
    if (rc != TT_OK) {
        return rc;
    }

    if (key->mv_size < TT_LIST_PREFIX + 9
        || memcmp(key->mv_data, w->prefix.data, TT_LIST_PREFIX) != 0)
    {
        return TT_NOTFOUND;
    }

    return TT_OK;
}


/*
 * The cell of the level at k (op MDB_SET_RANGE) or after the last one
 * read (MDB_NEXT): its keys and its count.  TT_NOTFOUND past the level.
 */
static int
tt_list_cell(tt_list_walk_t *w, int level, tt_skey_t *k, int op,
    tt_list_cell_t *c)
{
    int             rc;
    MDB_val         key, val;
    const uint8_t  *p;

    rc = tt_list_at(w, w->counts, k, &key, op);
    if (rc != TT_OK) {
        return rc;
    }

    p = key.mv_data;

    if (p[TT_LIST_PREFIX] != level
        || key.mv_size != (size_t) tt_list_count_len(level))
    {
        return TT_NOTFOUND;
    }

    rc = tt_txn_fail(w->t, tt_store_rc(w->t->st,
                     mdb_cursor_get(w->counts, &key, &val,
                                    MDB_GET_CURRENT)));
    if (rc != TT_OK) {
        return rc;
    }

    c->n = (val.mv_size == 8) ? tt_store_be64(val.mv_data) : 0;
    c->leaf = (c->n & TT_LIST_LEAF) != 0;
    c->n &= ~TT_LIST_LEAF;
    c->bucket = tt_store_be64(p + TT_LIST_PREFIX + 1);

    memset(c->id, 0, TT_LIST_IDPART);
    memcpy(c->id, p + TT_LIST_COUNT_KEY, tt_list_idpart(level));

    c->from = c->bucket << tt_list_shifts[level];
    c->to = c->from | ((((uint64_t) 1) << tt_list_shifts[level]) - 1);

    return TT_OK;
}


/*
 * The entries with a key in [a, b], from the cells of the level: a cell
 * inside the range by its count, one across an end (at most two) by the
 * level below.  The cursor is placed again after a descent.
 */
static int
tt_list_count_range(tt_list_walk_t *w, int level, uint64_t a, uint64_t b,
    uint64_t *n)
{
    int             rc, op;
    uint64_t        sub;
    tt_skey_t       k;
    tt_list_cell_t  c;

    *n = 0;
    tt_list_count_key(&k, &w->prefix, level, a, tt_list_id0);

    for (op = MDB_SET_RANGE; /* void */ ; /* void */) {
        rc = tt_list_cell(w, level, &k, op, &c);
        if (rc != TT_OK || c.from > b) {
            break;
        }

        op = MDB_NEXT;

        if (c.from >= a && c.to <= b) {
            *n += c.n;
            continue;
        }

        rc = c.leaf ? tt_list_entries(w, c.from < a ? a : c.from,
                                      c.to > b ? b : c.to, &sub)
                    : tt_list_count_range(w, level + 1, c.from < a ? a : c.from,
                                          c.to > b ? b : c.to, &sub);
        if (rc != TT_OK || c.to >= b) {
            *n += sub;
            break;
        }

        *n += sub;
        tt_list_count_key(&k, &w->prefix, level, c.to + 1, tt_list_id0);
        op = MDB_SET_RANGE;
    }

    return rc == TT_NOTFOUND ? TT_OK : rc;
}


/*
 * The leaf or last level's cell holding the *offset-th entry with a key
 * in [a, b] under the cell entered (id: its id bytes, zeros past them):
 * the cells of each level are passed by their counts, and the one holding
 * it is entered; a cell across an end of the range is entered at once,
 * for the level below to pass what it holds.  TT_NOTFOUND when the range
 * holds fewer, *offset then less what it holds.
 */
static int
tt_list_find(tt_list_walk_t *w, int level, uint64_t a, uint64_t b,
    const uint8_t *id, uint64_t *offset, tt_list_start_t *start)
{
    int             rc, op;
    size_t          part;
    tt_skey_t       k;
    tt_list_cell_t  c;

    /* the cells under the one entered share its id bytes */
    part = tt_list_idpart(level - 1);
    tt_list_count_key(&k, &w->prefix, level, a, id);

    for (op = MDB_SET_RANGE; /* void */ ; /* void */) {
        rc = tt_list_cell(w, level, &k, op, &c);
        if (rc != TT_OK || c.from > b || memcmp(c.id, id, part) != 0) {
            return rc == TT_OK ? TT_NOTFOUND : rc;
        }

        op = MDB_NEXT;

        /* past a leaf: the range ends with it, unless cells of the
         * level after it share its keys (those of one key's ids) */
        if (c.leaf) {
            rc = tt_list_find_leaf(w, &c, a, b, offset, start);
            if (rc != TT_NOTFOUND
                || (c.to >= b && tt_list_idpart(level) == 0))
            {
                return rc;
            }

            continue;
        }

        if (c.from < a || c.to > b) {
            rc = tt_list_find(w, level + 1, c.from < a ? a : c.from,
                              c.to > b ? b : c.to, c.id, offset, start);
            if (rc != TT_NOTFOUND || c.to >= b) {
                return rc;
            }

            tt_list_count_key(&k, &w->prefix, level, c.to + 1, id);
            op = MDB_SET_RANGE;
            continue;
        }

        if (*offset >= c.n) {
            *offset -= c.n;
            continue;
        }

        if (level < TT_LIST_LAST) {
            return tt_list_find(w, level + 1, c.from, c.to, c.id, offset,
                                start);
        }

        start->key = c.from;
        memcpy(start->id, c.id, TT_LIST_IDPART);
        start->skip = *offset;

        return TT_OK;
    }
}


/*
 * A leaf's part of tt_list_find(): the page starts in it when *offset is
 * below the entries it holds in [a, b] (counted one by one when it is
 * across an end), then past the entries before its first key in range.
 * Only the list's cursor moves: the counts' one stays on the cell.
 */
static int
tt_list_find_leaf(tt_list_walk_t *w, const tt_list_cell_t *c, uint64_t a,
    uint64_t b, uint64_t *offset, tt_list_start_t *start)
{
    int        rc;
    uint64_t   n, from;

    from = c->from < a ? a : c->from;
    n = c->n;

    if (c->from < a || c->to > b) {
        rc = tt_list_entries(w, from, c->to > b ? b : c->to, &n);
        if (rc != TT_OK) {
            return rc;
        }
    }

    if (*offset < n) {
        start->key = from;
        memcpy(start->id, c->id, TT_LIST_IDPART);
        start->skip = *offset;

        return TT_OK;
    }

    *offset -= n;

    return TT_NOTFOUND;
}


/* the entries with a key in [a, b], stepped through one by one */
static int
tt_list_entries(tt_list_walk_t *w, uint64_t a, uint64_t b, uint64_t *n)
{
    int        rc, op;
    MDB_val    key;
    tt_skey_t  k;

    *n = 0;
    tt_store_key(&k, "bu", w->prefix.data, w->prefix.val.mv_size, a);

    for (op = MDB_SET_RANGE; /* void */ ; op = MDB_NEXT) {
        rc = tt_list_at(w, w->list, &k, &key, op);

        if (rc != TT_OK || key.mv_size != TT_LIST_KEY
            || tt_store_be64((uint8_t *) key.mv_data + TT_LIST_PREFIX) > b)
        {
            return rc == TT_NOTFOUND ? TT_OK : rc;
        }

        (*n)++;
    }
}


/* up to limit posts from the start's cell, past its skip entries */
static int
tt_list_emit(tt_list_walk_t *w, const tt_list_start_t *start,
    uint64_t limit, tt_post_iter_pt cb, void *ctx)
{
    int        rc, op;
    char       id[TT_ID_SIZE];
    MDB_val    key;
    uint64_t   skip;
    tt_str_t   rec;
    tt_skey_t  k;

    tt_store_key(&k, "bub", w->prefix.data, w->prefix.val.mv_size,
                 start->key, start->id, (size_t) TT_LIST_IDPART);
    skip = start->skip;

    for (op = MDB_SET_RANGE; limit > 0; op = MDB_NEXT) {
        rc = tt_list_at(w, w->list, &k, &key, op);

        if (rc != TT_OK || key.mv_size != TT_LIST_KEY
            || tt_store_be64((uint8_t *) key.mv_data + TT_LIST_PREFIX)
               > w->hi)
        {
            return rc == TT_NOTFOUND ? TT_OK : rc;
        }

        if (skip > 0) {
            skip--;
            continue;
        }

        tt_store_key_id((uint8_t *) key.mv_data + TT_LIST_PREFIX + 8, id);

        rc = tt_post_get_raw(w->t, id, &rec);
        if (rc != TT_OK) {
            w->t->st->last_error = "a list entry without its post";
            return tt_txn_fail(w->t, TT_ERR);
        }

        limit--;

        if (cb(ctx, id, &rec) != 0) {
            break;
        }
    }

    return TT_OK;
}


uint64_t
tt_store_list_reads(tt_store_t *st)
{
    return st->list_reads;
}


/* a workspace's posts, newest first, for callbacks that may write */
int
tt_post_iter(tt_txn_t *t, const char *ws_id, tt_post_iter_pt cb, void *ctx)
{
    int             rc, after;
    char            id[TT_ID_SIZE];
    MDB_val         key;
    tt_str_t        rec;
    tt_skey_t       k;
    tt_list_walk_t  w;

    tt_txn_check(t);

    w.t = t;
    w.list = NULL;

    if (tt_list_prefix(&w.prefix, ws_id, "", "", TT_LIST_CREATED,
                       TT_LIST_ANY) != TT_OK || ws_id[0] == '\0')
    {
        return TT_OK;
    }

    rc = tt_db_cursor(t, TT_DB_POST_LIST, &w.list);
    k = w.prefix;
    after = 0;

    while (rc == TT_OK) {
        rc = tt_db_seek(t, w.list, &k, after, &key);

        if (rc != TT_OK || key.mv_size != TT_LIST_KEY
            || memcmp(key.mv_data, w.prefix.data, TT_LIST_PREFIX) != 0)
        {
            break;
        }

        /* the callback may write: keep the position, not the cursor */
        tt_store_key(&k, "b", key.mv_data, key.mv_size);
        tt_store_key_id(k.data + TT_LIST_PREFIX + 8, id);
        after = 1;

        rc = tt_post_get_raw(t, id, &rec);
        if (rc == TT_NOTFOUND) {
            rc = TT_OK;
            continue;
        }

        if (rc == TT_OK && cb(ctx, id, &rec) != 0) {
            break;
        }
    }

    if (w.list != NULL) {
        mdb_cursor_close(w.list);
    }

    return rc == TT_NOTFOUND ? TT_OK : rc;
}


/*
 * Every list and count built again from the records: schema 3 (counts at
 * finer levels), schema 10 (the entries hold a post's id as it is, and
 * the id levels follow its characters: tt_store_list_int.h).
 */
int
tt_post_relist(tt_txn_t *t)
{
    int  rc;

    rc = tt_post_unlist(t);

    return rc == TT_OK ? tt_post_reindex(t) : rc;
}


/* the lists and their counts emptied, for tt_post_reindex() */
static int
tt_post_unlist(tt_txn_t *t)
{
    int  rc;

    /* counts still to write go with the others */
    rc = tt_counts_flush(t);
    if (rc != TT_OK) {
        return rc;
    }

    rc = mdb_drop(t->txn, t->st->dbi[TT_DB_POST_TERMS], 0);

    if (rc == MDB_SUCCESS) {
        rc = mdb_drop(t->txn, t->st->dbi[TT_DB_POST_LIST], 0);
    }

    if (rc == MDB_SUCCESS) {
        rc = mdb_drop(t->txn, t->st->dbi[TT_DB_POST_COUNTS], 0);
    }

    return tt_txn_fail(t, tt_store_rc(t->st, rc));
}


/* schema 2: every stored post into its lists, in one transaction */
int
tt_post_reindex(tt_txn_t *t)
{
    int          rc;
    MDB_val      key, val;
    tt_post_t    p;
    tt_arena_t  *a;
    MDB_cursor  *c;

    rc = tt_db_cursor(t, TT_DB_POSTS, &c);
    if (rc != TT_OK) {
        return rc;
    }

    a = NULL;
    rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, &val, MDB_FIRST));

    while (rc == TT_OK) {
        if (a == NULL || tt_arena_used(a) > 1024 * 1024) {
            if (a != NULL) {
                tt_arena_destroy(a);
            }

            a = tt_arena_create(65536);
            if (a == NULL) {
                rc = TT_NOMEM;
                break;
            }
        }

        if (tt_post_decode(val.mv_data, val.mv_size, a, &p) != TT_OK) {
            t->st->last_error = "corrupt post record in the store";
            rc = TT_ERR;
            break;
        }

        rc = tt_post_terms_set(t, &p);
        if (rc == TT_OK) {
            rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, &val, MDB_NEXT));
        }
    }

    mdb_cursor_close(c);

    if (a != NULL) {
        tt_arena_destroy(a);
    }

    return tt_txn_fail(t, rc == TT_NOTFOUND ? TT_OK : rc);
}
