/*
 * Copyright (C) the ngx_tiktok authors.
 * GET /api/posts's lists: each post's terms, its entries in post_list and
 * the counts of post_counts, kept in the transaction that writes the post;
 * a page read from them at a cost that does not grow with the list.
 */


#include "tt_store_int.h"


/* a bucket of the counts: 2^24 ms (4.7 hours) of a list's key */
#define TT_LIST_SHIFT       24
#define TT_LIST_MASK        ((((uint64_t) 1) << TT_LIST_SHIFT) - 1)

#define TT_LIST_CREATED     'c'     /* key ~created_at: newest first */
#define TT_LIST_SCHED       's'     /* key scheduled_at: earliest first */

#define TT_LIST_PREFIX      (3 * TT_ID_SIZE + 2)
#define TT_LIST_KEY         (TT_LIST_PREFIX + 8 + TT_ID_SIZE)
#define TT_LIST_COUNT_KEY   (TT_LIST_PREFIX + 1 + 8)
#define TT_TERMS_SIZE       (3 * TT_ID_SIZE + 1 + 16)


/* what a post is listed by; equal terms need no index work */
typedef struct {
    char            ws[TT_ID_SIZE];
    char            group[TT_ID_SIZE];
    char            queue[TT_ID_SIZE];
    unsigned        classes;
    int64_t         created;
    int64_t         scheduled;
} tt_terms_t;


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


static void tt_terms_of(const tt_post_t *p, tt_terms_t *tm);
static void tt_terms_dec(const uint8_t *b, tt_terms_t *tm);
static int tt_terms_get(tt_txn_t *t, tt_skey_t *k, tt_terms_t *tm);
static int tt_terms_apply(tt_txn_t *t, const tt_terms_t *tm, const char *id,
    int add);
static int tt_list_prefix(tt_skey_t *k, const char *ws, const char *group,
    const char *queue, int kind, unsigned cls);
static int tt_list_entry(tt_txn_t *t, tt_skey_t *prefix, uint64_t key,
    const char *id, int add);
static int tt_list_count_add(tt_txn_t *t, tt_skey_t *prefix, int level,
    uint64_t bucket, int delta);
static int tt_list_count_get(tt_list_walk_t *w, int level, uint64_t bucket,
    uint64_t *n);
static int tt_list_range(tt_list_walk_t *w, uint64_t from, uint64_t to,
    uint64_t *n);
static int tt_list_locate(tt_list_walk_t *w, uint64_t offset, int all,
    uint64_t *total, int *found, uint64_t *start, uint64_t *skip);
static int tt_list_emit(tt_list_walk_t *w, uint64_t start, uint64_t skip,
    uint64_t limit, tt_post_iter_pt cb, void *ctx);
static int tt_list_at(tt_list_walk_t *w, MDB_cursor *c, tt_skey_t *k,
    MDB_val *key, int op);
static int tt_list_open(tt_list_walk_t *w, const tt_post_query_t *q);


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
    int         rc, had;
    tt_skey_t   k, v;
    tt_terms_t  old, tm;

    tt_terms_of(p, &tm);

    if (tt_store_key(&k, "i", p->id) != TT_OK
        || tt_store_key(&v, "zzzcuu", tm.ws, tm.group, tm.queue,
                        (int) tm.classes, (uint64_t) tm.created,
                        (uint64_t) tm.scheduled) != TT_OK)
    {
        return TT_INVALID;
    }

    rc = tt_terms_get(t, &k, &old);
    if (rc != TT_OK && rc != TT_NOTFOUND) {
        return rc;
    }

    had = (rc == TT_OK);

    if (had && memcmp(&old, &tm, sizeof(tt_terms_t)) == 0) {
        return TT_OK;
    }

    if (had) {
        rc = tt_terms_apply(t, &old, p->id, 0);
        if (rc != TT_OK) {
            return rc;
        }
    }

    rc = tt_db_put(t, TT_DB_POST_TERMS, &k, v.data, v.val.mv_size);
    if (rc != TT_OK) {
        return rc;
    }

    return tt_terms_apply(t, &tm, p->id, 1);
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

    rc = tt_terms_apply(t, &old, id, 0);
    if (rc != TT_OK) {
        return rc;
    }

    return tt_db_del(t, TT_DB_POST_TERMS, &k);
}


/* every list entry of the terms, in or out: 2 x 2 scopes x classes */
static int
tt_terms_apply(tt_txn_t *t, const tt_terms_t *tm, const char *id, int add)
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

        for (cls = 0; cls < TT_LIST_CLASSES; cls++) {
            if (!(tm->classes & (1u << cls))) {
                continue;
            }

            tt_list_prefix(&k, tm->ws, (s & 1) ? tm->group : "",
                           (s & 2) ? tm->queue : "", TT_LIST_CREATED, cls);

            rc = tt_list_entry(t, &k, ~(uint64_t) tm->created, id, add);
            if (rc != TT_OK || tm->scheduled < 0) {
                if (rc != TT_OK) {
                    return rc;
                }
                continue;
            }

            tt_list_prefix(&k, tm->ws, (s & 1) ? tm->group : "",
                           (s & 2) ? tm->queue : "", TT_LIST_SCHED, cls);

            rc = tt_list_entry(t, &k, (uint64_t) tm->scheduled, id, add);
            if (rc != TT_OK) {
                return rc;
            }
        }
    }

    return TT_OK;
}


static int
tt_list_prefix(tt_skey_t *k, const char *ws, const char *group,
    const char *queue, int kind, unsigned cls)
{
    return tt_store_key(k, "zzzcc", ws, group, queue, kind, (int) cls);
}


/*
 * One entry in or out, and its counts with it.  An entry already there
 * (or already gone) leaves the counts alone, so that they always equal
 * the entries.
 */
static int
tt_list_entry(tt_txn_t *t, tt_skey_t *prefix, uint64_t key, const char *id,
    int add)
{
    int        rc, kind;
    MDB_val    v;
    tt_skey_t  k;

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

    kind = prefix->data[3 * TT_ID_SIZE];

    rc = tt_list_count_add(t, prefix, 1, key >> TT_LIST_SHIFT, add ? 1 : -1);

    if (rc == TT_OK && kind == TT_LIST_CREATED) {
        rc = tt_list_count_add(t, prefix, 0, 0, add ? 1 : -1);
    }

    return rc;
}


static int
tt_list_count_add(tt_txn_t *t, tt_skey_t *prefix, int level,
    uint64_t bucket, int delta)
{
    int        rc;
    MDB_val    v;
    uint64_t   n;
    tt_skey_t  k, val;

    tt_store_key(&k, "bcu", prefix->data, prefix->val.mv_size, level,
                 bucket);

    rc = tt_db_get(t, TT_DB_POST_COUNTS, &k, &v);

    if (rc == TT_OK && v.mv_size == 8) {
        n = tt_store_be64(v.mv_data);

    } else if (rc == TT_NOTFOUND) {
        n = 0;

    } else {
        t->st->last_error = "corrupt list count in the store";
        return tt_txn_fail(t, TT_ERR);
    }

    if (delta < 0 && n == 0) {
        t->st->last_error = "list count below zero in the store";
        return tt_txn_fail(t, TT_ERR);
    }

    n = delta < 0 ? n - 1 : n + 1;

    if (n == 0) {
        return tt_db_del(t, TT_DB_POST_COUNTS, &k);
    }

    tt_store_key(&val, "u", n);

    return tt_db_put(t, TT_DB_POST_COUNTS, &k, val.data, 8);
}


/* reading */

int
tt_post_list(tt_txn_t *t, const tt_post_query_t *q, uint64_t *total,
    tt_post_iter_pt cb, void *ctx)
{
    int             rc, found;
    uint64_t        start, skip;
    tt_list_walk_t  w;

    tt_txn_check(t);

    *total = 0;
    w.t = t;

    rc = tt_list_open(&w, q);
    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? TT_OK : rc;
    }

    found = 0;

    if (w.kind == TT_LIST_CREATED) {
        rc = tt_list_count_get(&w, 0, 0, total);
    }

    if (rc == TT_OK && (w.kind == TT_LIST_SCHED || q->offset < *total)) {
        rc = tt_list_locate(&w, q->offset, w.kind == TT_LIST_SCHED, total,
                            &found, &start, &skip);
    }

    if (rc == TT_OK && found && q->limit > 0) {
        rc = tt_list_emit(&w, start, skip, q->limit, cb, ctx);
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

    *n = (rc == TT_OK && v.mv_size == 8) ? tt_store_be64(v.mv_data) : 0;

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


/* entries with a key in [from, to], counted one by one (one bucket) */
static int
tt_list_range(tt_list_walk_t *w, uint64_t from, uint64_t to, uint64_t *n)
{
    int        rc, op;
    MDB_val    key;
    tt_skey_t  k;

    *n = 0;
    tt_store_key(&k, "bu", w->prefix.data, w->prefix.val.mv_size, from);

    for (op = MDB_SET_RANGE; /* void */ ; op = MDB_NEXT) {
        rc = tt_list_at(w, w->list, &k, &key, op);

        if (rc != TT_OK || key.mv_size != TT_LIST_KEY
            || tt_store_be64((uint8_t *) key.mv_data + TT_LIST_PREFIX) > to)
        {
            break;
        }

        (*n)++;
    }

    return rc == TT_NOTFOUND ? TT_OK : rc;
}


/*
 * The bucket holding the offset-th entry of the range: *start the key to
 * seek and *skip the entries to pass there.  With all, every bucket of
 * the range is summed into *total; without, the walk stops at the start.
 */
static int
tt_list_locate(tt_list_walk_t *w, uint64_t offset, int all, uint64_t *total,
    int *found, uint64_t *start, uint64_t *skip)
{
    int        rc, op;
    MDB_val    key, val;
    uint64_t   acc, n, b, bs, be;
    tt_skey_t  k;

    acc = 0;
    tt_store_key(&k, "bcu", w->prefix.data, w->prefix.val.mv_size, 1,
                 w->lo >> TT_LIST_SHIFT);

    for (op = MDB_SET_RANGE; /* void */ ; op = MDB_NEXT) {
        rc = tt_list_at(w, w->counts, &k, &key, op);

        if (rc != TT_OK || key.mv_size != TT_LIST_COUNT_KEY
            || ((uint8_t *) key.mv_data)[TT_LIST_PREFIX] != 1)
        {
            break;
        }

        b = tt_store_be64((uint8_t *) key.mv_data + TT_LIST_PREFIX + 1);
        bs = b << TT_LIST_SHIFT;
        be = bs | TT_LIST_MASK;

        if (bs > w->hi) {
            break;
        }

        if (bs < w->lo || be > w->hi) {
            bs = bs < w->lo ? w->lo : bs;
            be = be > w->hi ? w->hi : be;
            rc = tt_list_range(w, bs, be, &n);

        } else {
            rc = tt_txn_fail(w->t, tt_store_rc(w->t->st,
                             mdb_cursor_get(w->counts, &key, &val,
                                            MDB_GET_CURRENT)));
            n = (rc == TT_OK && val.mv_size == 8)
                ? tt_store_be64(val.mv_data) : 0;
        }

        if (rc != TT_OK) {
            return rc;
        }

        if (!*found && acc + n > offset) {
            *found = 1;
            *start = bs;
            *skip = offset - acc;

            if (!all) {
                return TT_OK;
            }
        }

        acc += n;
    }

    if (all) {
        *total = acc;
    }

    return rc == TT_NOTFOUND ? TT_OK : rc;
}


/* up to limit posts from the skip-th entry at key start */
static int
tt_list_emit(tt_list_walk_t *w, uint64_t start, uint64_t skip,
    uint64_t limit, tt_post_iter_pt cb, void *ctx)
{
    int        rc, op;
    char       id[TT_ID_SIZE];
    MDB_val    key;
    tt_str_t   rec;
    tt_skey_t  k;

    tt_store_key(&k, "bu", w->prefix.data, w->prefix.val.mv_size, start);

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
