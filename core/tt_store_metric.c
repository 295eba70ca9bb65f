/*
 * Copyright (C) the ngx_tiktok authors.
 * Metrics kept in the store: counters the scheduler adds to in the
 * transactions that make the changes they count, so that nginx reads
 * them from the store like everything else, and the store's own use.
 */


#include <unistd.h>

#include "tt_store_int.h"


/*
 * metrics   name, 0, order BE16, labels   -> value BE64, scale byte
 *
 * order sorts the samples of one name (a histogram's buckets go in
 * increasing le); labels are the Prometheus text between the braces,
 * already escaped by the caller (values are codes, never client text).
 * scale: the value is v / 10^scale (3: milliseconds kept, seconds shown).
 */
#define TT_METRIC_VAL   9


static int
tt_metric_key(tt_skey_t *k, const char *name, const char *labels,
    unsigned order)
{
    size_t   n, l;
    uint8_t  ord[2];

    n = strlen(name);
    l = labels ? strlen(labels) : 0;

    if (n == 0 || n > TT_METRIC_NAME_MAX || l > TT_METRIC_LABELS_MAX) {
        return TT_INVALID;
    }

    ord[0] = (uint8_t) (order >> 8);
    ord[1] = (uint8_t) order;

    return tt_store_key(k, "bcbb", name, n, 0, ord, (size_t) 2,
                        labels ? labels : "", l);
}


int
tt_metric_add(tt_txn_t *t, const char *name, const char *labels,
    unsigned order, int64_t delta, unsigned scale)
{
    int        rc;
    size_t     i;
    uint64_t   v;
    MDB_val    old;
    uint8_t    val[TT_METRIC_VAL];
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_metric_key(&k, name, labels, order) != TT_OK) {
        return TT_INVALID;
    }

    rc = tt_db_get(t, TT_DB_METRICS, &k, &old);

    if (rc == TT_OK && old.mv_size == TT_METRIC_VAL) {
        v = tt_store_be64(old.mv_data);

    } else if (rc == TT_OK || rc == TT_NOTFOUND) {
        v = 0;

    } else {
        return rc;
    }

    v += (uint64_t) delta;

    for (i = 0; i < 8; i++) {
        val[i] = (uint8_t) (v >> (56 - 8 * i));
    }

    val[8] = (uint8_t) scale;

    return tt_db_put(t, TT_DB_METRICS, &k, val, sizeof(val));
}


/*
 * A histogram of ms values shown in seconds: cumulative _bucket samples
 * for each bound (ms) and +Inf, _sum and _count.
 */
int
tt_metric_observe(tt_txn_t *t, const char *name, const int64_t *bounds,
    size_t n, int64_t v)
{
    int     rc;
    size_t  i;
    char    key[TT_METRIC_NAME_MAX + 1], le[32];

    if (strlen(name) + sizeof("_bucket") > sizeof(key)) {
        return TT_INVALID;
    }

    rc = TT_OK;
    snprintf(key, sizeof(key), "%s_bucket", name);

    for (i = 0; rc == TT_OK && i <= n; i++) {
        if (i < n && v > bounds[i]) {
            continue;
        }

        if (i < n) {
            snprintf(le, sizeof(le), "le=\"%lld.%03lld\"",
                     (long long) (bounds[i] / 1000),
                     (long long) (bounds[i] % 1000));
        } else {
            snprintf(le, sizeof(le), "le=\"+Inf\"");
        }

        rc = tt_metric_add(t, key, le, (unsigned) i, 1, 0);
    }

    snprintf(key, sizeof(key), "%s_count", name);

    if (rc == TT_OK) {
        rc = tt_metric_add(t, key, NULL, 0, 1, 0);
    }

    snprintf(key, sizeof(key), "%s_sum", name);

    return rc == TT_OK ? tt_metric_add(t, key, NULL, 0, v, 3) : rc;
}


/* the samples whose name starts with prefix (NULL: all), in key order */
int
tt_metric_iter(tt_txn_t *t, const char *prefix, tt_metric_pt cb, void *ctx)
{
    int          rc;
    size_t       n, plen;
    MDB_val      key, val;
    MDB_cursor  *c;
    tt_metric_t  m;
    char         name[TT_METRIC_NAME_MAX + 1];
    char         labels[TT_METRIC_LABELS_MAX + 1];

    tt_txn_check(t);

    rc = tt_db_cursor(t, TT_DB_METRICS, &c);
    if (rc != TT_OK) {
        return rc;
    }

    plen = prefix ? strlen(prefix) : 0;
    key.mv_data = (void *) prefix;
    key.mv_size = plen;

    rc = mdb_cursor_get(c, &key, &val, plen ? MDB_SET_RANGE : MDB_FIRST);

    for ( /* void */ ; rc == MDB_SUCCESS;
         rc = mdb_cursor_get(c, &key, &val, MDB_NEXT))
    {
        if (plen > 0 && (key.mv_size < plen
                         || memcmp(key.mv_data, prefix, plen) != 0))
        {
            break;
        }

        n = strnlen(key.mv_data, key.mv_size);

        if (n == 0 || n > TT_METRIC_NAME_MAX || key.mv_size < n + 3
            || key.mv_size - n - 3 > TT_METRIC_LABELS_MAX
            || val.mv_size != TT_METRIC_VAL)
        {
            continue;       /* not ours to show */
        }

        memcpy(name, key.mv_data, n);
        name[n] = '\0';
        memcpy(labels, (uint8_t *) key.mv_data + n + 3, key.mv_size - n - 3);
        labels[key.mv_size - n - 3] = '\0';

        m.name = name;
        m.labels = labels;
        m.value = (int64_t) tt_store_be64(val.mv_data);
        m.scale = ((uint8_t *) val.mv_data)[8];

        if (cb(ctx, &m) != 0) {
            break;
        }
    }

    mdb_cursor_close(c);

    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
        return tt_txn_fail(t, tt_store_rc(t->st, rc));
    }

    return TT_OK;
}


/* the map and the pages in use, with no transaction */
int
tt_store_usage(tt_store_t *st, tt_store_usage_t *u)
{
    int          rc;
    MDB_stat     ms;
    MDB_envinfo  info;

    rc = mdb_env_info(st->env, &info);
    if (rc == MDB_SUCCESS) {
        rc = mdb_env_stat(st->env, &ms);
    }

    if (rc != MDB_SUCCESS) {
        return tt_store_rc(st, rc);
    }

    u->map_size = info.me_mapsize;
    u->map_max = st->map_max;
    u->page_size = ms.ms_psize;
    u->used = (info.me_last_pgno + 1) * (size_t) ms.ms_psize;
    u->readers_max = info.me_maxreaders;
    u->readers_used = info.me_numreaders;

    return TT_OK;
}


typedef struct {
    tt_txn_t       *t;
    tt_arena_t     *a;
} tt_ops_migrate_t;


/* a post published with TikTok's id enters the stats agenda, due now */
static int
tt_ops_migrate_post(void *ctx, const void *key, size_t klen,
    const void *val, size_t vlen)
{
    tt_ops_migrate_t *m = ctx;

    size_t     i;
    tt_post_t  p;

    if (tt_post_decode(val, vlen, m->a, &p) != TT_OK) {
        return 0;                   /* not a record this step reads */
    }

    for (i = 0; i < p.nplatforms; i++) {
        if (p.platforms[i].status == TT_PLAT_PUBLISHED
            && p.platforms[i].platform_id > 0)
        {
            return tt_stats_due_put(m->t, 0, p.id,
                                    p.platforms[i].attempted_at > 0
                                    ? p.platforms[i].attempted_at
                                    : p.updated_at) == TT_OK ? 0 : -1;
        }
    }

    return 0;
}


/*
 * The schema step of the metrics and of the posts' stats: the families
 * are new, opened (created) with the others before any step runs; the
 * posts already published get their counts read from now on.
 */
int
tt_store_migrate_ops(tt_txn_t *t)
{
    int               rc;
    size_t            pos_len;
    uint8_t           pos[TT_STORE_POS_MAX];
    tt_ops_migrate_t  m;

    tt_txn_check(t);

    m.t = t;
    pos_len = 0;

    do {
        m.a = tt_arena_create(16384);
        if (m.a == NULL) {
            return TT_NOMEM;
        }

        rc = tt_store_walk(t, TT_DB_POSTS, NULL, 0, pos, &pos_len, 256,
                           tt_ops_migrate_post, &m);

        tt_arena_destroy(m.a);

    } while (rc == TT_OK);

    return rc == TT_NOTFOUND ? TT_OK : rc;
}


/* the entries of a family, from LMDB's count (no walk) */
int
tt_store_entries(tt_txn_t *t, int db, uint64_t *n)
{
    int       rc;
    MDB_stat  ms;

    tt_txn_check(t);

    rc = mdb_stat(t->txn, t->st->dbi[db], &ms);
    if (rc != MDB_SUCCESS) {
        return tt_txn_fail(t, tt_store_rc(t->st, rc));
    }

    *n = ms.ms_entries;

    return TT_OK;
}


/*
 * Has the map room for more?  NULL, else why not.  Whether a write
 * commits is the caller's to learn by writing (GET /api/health's probe,
 * through nginx's thread pool): a read cannot tell.
 */
const char *
tt_store_unwritable(tt_store_t *st, const tt_store_usage_t *u)
{
    (void) st;

    if (u->used + u->page_size * 16 >= u->map_max) {
        return "the store is full at its map's maximum "
               "(tiktok_store_map_size)";
    }

    return NULL;
}
