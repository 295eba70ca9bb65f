/*
 * Copyright (C) the ngx_tiktok authors.
 * The store on LMDB, opened: the environment's creation, the databases,
 * the schema and its migrations.  The migrations call up into the record
 * families (tt_store_*.c), which call down into tt_store_env.c, never
 * back into this file.
 */


#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "tt_conf.h"
#include "tt_store_int.h"
#include "tt_webhook.h"


/* LMDB's names of the databases of tt_store.h */
static const char  *tt_store_db_names[TT_DB_COUNT] = {
    [TT_DB_META] = "meta",
    [TT_DB_WORKSPACES] = "workspaces",
    [TT_DB_KEYS] = "keys",
    [TT_DB_WS_KEYS] = "ws_keys",
    [TT_DB_KEY_IDS] = "key_ids",
    [TT_DB_GROUPS] = "groups",
    [TT_DB_WS_GROUPS] = "ws_groups",
    [TT_DB_PROFILES] = "profiles",
    [TT_DB_PG_PROFILES] = "pg_profiles",
    [TT_DB_WS_PROFILES] = "ws_profiles",
    [TT_DB_OPEN_IDS] = "open_ids",
    [TT_DB_POSTS] = "posts",
    [TT_DB_POST_TERMS] = "post_terms",
    [TT_DB_POST_LIST] = "post_list",
    [TT_DB_POST_COUNTS] = "post_counts",
    [TT_DB_DUE] = "due",
    [TT_DB_IDEM] = "idem",
    [TT_DB_IDEM_EXP] = "idem_exp",
    [TT_DB_OAUTH] = "oauth",
    [TT_DB_OAUTH_STATES] = "oauth_states",
    [TT_DB_OAUTH_WORK] = "oauth_work",
    [TT_DB_QUEUES] = "queues",
    [TT_DB_PG_QUEUES] = "pg_queues",
    [TT_DB_QUEUE_OFF] = "queue_off",
    [TT_DB_QUEUE_POSTS] = "queue_posts",
    [TT_DB_POST_SLOT] = "post_slot",
    [TT_DB_WEBHOOKS] = "webhooks",
    [TT_DB_WS_WEBHOOKS] = "ws_webhooks",
    [TT_DB_WH_OUTBOX] = "wh_outbox",
    [TT_DB_WH_DUE] = "wh_due",
    [TT_DB_WH_ATTEMPTS] = "wh_attempts",
    [TT_DB_POST_SIG] = "post_sig",
    [TT_DB_METRICS] = "metrics",
    [TT_DB_STATS] = "stats",
    [TT_DB_STATS_DUE] = "stats_due",
    [TT_DB_QUEUE_SUM] = "queue_sum",
    [TT_DB_QUEUE_HEAD] = "queue_head"
};


/* room for the families to come (queues, slots, webhooks, ...) */
#define TT_STORE_MAXDBS     64
#define TT_STORE_READERS    126

static int tt_store_migrate_1_2(tt_txn_t *t);
static int tt_store_migrate_2_3(tt_txn_t *t);
static int tt_store_migrate_3_4(tt_txn_t *t);


/*
 * Each step takes a store from schema `from` to from + 1; a new one is
 * added here with TT_SCHEMA_VERSION bumped.
 */
static const tt_store_migration_t  tt_store_migrations[] = {
    { 1, tt_store_migrate_1_2 },
    { 2, tt_store_migrate_2_3 },
    { 3, tt_store_migrate_3_4 },
    { 4, tt_event_post_reindex },   /* webhooks: each post's statuses */
    { TT_SCHEMA_OPS_FROM, tt_store_migrate_ops },
    { 6, tt_qsum_reindex },         /* each queue's summary and head */
    { 7, tt_list_recount },         /* counts only under cells that need them */
    { 8, tt_list_recount },         /* a level of one key above the ids' */
    { 9, tt_post_relist }           /* ids held as they are, by time */
};


/* opening */

static int
tt_store_mkdirs(const char *path, char *err, size_t err_len)
{
    size_t  i, len;
    char    dir[PATH_MAX];

    len = strlen(path);
    if (len == 0 || len >= sizeof(dir)) {
        snprintf(err, err_len, "store path \"%s\" is empty or too long",
                 path);
        return TT_ERR;
    }

    memcpy(dir, path, len + 1);

    for (i = 1; i <= len; i++) {
        if (dir[i] != '/' && dir[i] != '\0') {
            continue;
        }

        dir[i] = '\0';

        if (mkdir(dir, 0770) != 0 && errno != EEXIST) {
            snprintf(err, err_len, "mkdir(\"%s\") failed: %s", dir,
                     strerror(errno));
            return TT_ERR;
        }

        dir[i] = path[i];
    }

    return TT_OK;
}


static int
tt_store_env(tt_store_t *st, const tt_store_conf_t *conf, char *err,
    size_t err_len)
{
    int           rc;
    unsigned      flags;
    const char   *what;

    what = "mdb_env_create";
    rc = mdb_env_create(&st->env);
    if (rc != MDB_SUCCESS) {
        st->env = NULL;
        goto failed;
    }

    what = "mdb_env_set_maxdbs";
    rc = mdb_env_set_maxdbs(st->env, TT_STORE_MAXDBS);
    if (rc != MDB_SUCCESS) {
        goto failed;
    }

    what = "mdb_env_set_maxreaders";
    rc = mdb_env_set_maxreaders(st->env, conf->max_readers
                                         ? conf->max_readers
                                         : TT_STORE_READERS);
    if (rc != MDB_SUCCESS) {
        goto failed;
    }

    /* none asked for: an existing store's own size, or LMDB's default */
    if (st->map_size) {
        what = "mdb_env_set_mapsize";
        rc = mdb_env_set_mapsize(st->env, st->map_size);
        if (rc != MDB_SUCCESS) {
            goto failed;
        }
    }

    /* transactions run on nginx thread-pool threads: no TLS reader slot */
    flags = MDB_NOTLS | (conf->nosync ? MDB_NOSYNC : 0)
            | (conf->sync_later ? MDB_NOMETASYNC : 0);

    what = "mdb_env_open";
    rc = mdb_env_open(st->env, conf->path, flags, 0660);
    if (rc != MDB_SUCCESS) {
        goto failed;
    }

    /* another process may have grown the map: never map less than it */
    what = "mdb_env_set_mapsize";
    rc = mdb_env_set_mapsize(st->env, 0);
    if (rc != MDB_SUCCESS) {
        goto failed;
    }

    tt_store_refresh_size(st);

    if (st->map_size < conf->map_size) {
        rc = mdb_env_set_mapsize(st->env, tt_store_page_align(conf->map_size));
        if (rc != MDB_SUCCESS) {
            goto failed;
        }

        tt_store_refresh_size(st);
    }

    return TT_OK;

failed:

    snprintf(err, err_len, "%s(\"%s\") failed: %s", what, conf->path,
             mdb_strerror(rc));
    return TT_ERR;
}


static int
tt_store_schema_parse(const tt_str_t *v, unsigned *version)
{
    size_t  i;

    if (v->len == 0 || v->len > 6) {
        return TT_ERR;
    }

    *version = 0;

    for (i = 0; i < v->len; i++) {
        if (v->data[i] < '0' || v->data[i] > '9') {
            return TT_ERR;
        }

        *version = *version * 10 + (unsigned) (v->data[i] - '0');
    }

    return TT_OK;
}


static int
tt_store_schema_write(tt_txn_t *t, unsigned version)
{
    int   n;
    char  buf[16];

    n = snprintf(buf, sizeof(buf), "%u", version);

    return tt_meta_put(t, "schema", buf, (size_t) n);
}


int
tt_store_migrate_steps(tt_txn_t *t, unsigned version, unsigned to,
    const tt_store_migration_t *steps, size_t n, char *err, size_t err_len)
{
    size_t  i;

    while (version < to) {

        for (i = 0; i < n; i++) {
            if (steps[i].run != NULL && steps[i].from == version) {
                break;
            }
        }

        if (i == n) {
            snprintf(err, err_len, "no migration from store schema %u",
                     version);
            return TT_ERR;
        }

        if (steps[i].run(t) != TT_OK) {
            snprintf(err, err_len, "migration of store schema %u failed",
                     version);
            return TT_ERR;
        }

        version++;
    }

    return tt_store_schema_write(t, version);
}


/*
 * Schema 2: the lists of GET /api/posts with their counts, and the
 * profiles' group, workspace and open_id indexes, built from the records;
 * ws_posts (schema 1's list of a workspace's posts) is dropped.
 */
static int
tt_store_migrate_1_2(tt_txn_t *t)
{
    int      rc;
    MDB_dbi  dbi;

    rc = tt_profile_reindex(t);
    if (rc == TT_OK) {
        rc = tt_post_reindex(t);
    }

    if (rc != TT_OK) {
        return rc;
    }

    rc = mdb_dbi_open(t->txn, "ws_posts", 0, &dbi);
    if (rc == MDB_NOTFOUND) {
        return TT_OK;
    }

    if (rc == MDB_SUCCESS) {
        rc = mdb_drop(t->txn, dbi, 1);
    }

    return tt_txn_fail(t, tt_store_rc(t->st, rc));
}


/*
 * Schema 3: the lists' counts at finer levels (every list rebuilt from
 * the records), and the API keys' indexes by workspace and by id.
 */
static int
tt_store_migrate_2_3(tt_txn_t *t)
{
    int  rc;

    rc = tt_post_relist(t);

    return rc == TT_OK ? tt_apikey_reindex(t) : rc;
}


/*
 * Schema 4: queues.  Their databases are new (created empty at open);
 * the posts that name a stored queue join its live posts, at the slot of
 * their scheduled_at.
 */
static int
tt_store_migrate_3_4(tt_txn_t *t)
{
    return tt_queue_reindex(t);
}


static int
tt_store_migrate(tt_txn_t *t, unsigned version, char *err, size_t err_len)
{
    return tt_store_migrate_steps(t, version, TT_SCHEMA_VERSION,
                                  tt_store_migrations,
                                  TT_ARRAY_SIZE(tt_store_migrations), err,
                                  err_len);
}


static int
tt_store_schema(tt_txn_t *t, char *err, size_t err_len)
{
    int       rc;
    unsigned  version;
    tt_str_t  v;

    rc = tt_meta_get(t, "schema", &v);
    if (rc == TT_NOTFOUND) {
        return tt_store_schema_write(t, TT_SCHEMA_VERSION);
    }

    if (rc != TT_OK) {
        snprintf(err, err_len, "reading store schema failed: %s",
                 tt_store_last_error(t->st));
        return rc;
    }

    if (tt_store_schema_parse(&v, &version) != TT_OK || version == 0) {
        snprintf(err, err_len, "store schema \"%.*s\" is invalid",
                 (int) (v.len > 16 ? 16 : v.len), v.data);
        return TT_ERR;
    }

    if (version > TT_SCHEMA_VERSION) {
        snprintf(err, err_len,
                 "store schema %u is newer than this build (%d)",
                 version, TT_SCHEMA_VERSION);
        return TT_ERR;
    }

    if (version < TT_SCHEMA_VERSION) {
        return tt_store_migrate(t, version, err, err_len);
    }

    return TT_OK;
}


static int
tt_store_init_dbs(tt_store_t *st, const char *path, char *err,
    size_t err_len)
{
    int       rc;
    size_t    i;
    tt_txn_t  t;

    rc = tt_txn_begin(st, &t, 1);
    if (rc != TT_OK) {
        snprintf(err, err_len, "mdb_txn_begin(\"%s\") failed: %s", path,
                 tt_store_last_error(st));
        return rc;
    }

    for (i = 0; i < TT_DB_COUNT; i++) {
        rc = mdb_dbi_open(t.txn, tt_store_db_names[i], MDB_CREATE,
                          &st->dbi[i]);
        if (rc != MDB_SUCCESS) {
            snprintf(err, err_len, "mdb_dbi_open(\"%s\", \"%s\") failed: %s",
                     path, tt_store_db_names[i], mdb_strerror(rc));
            tt_txn_abort(&t);
            return tt_store_rc(st, rc);
        }
    }

    rc = tt_store_schema(&t, err, err_len);
    if (rc != TT_OK) {
        tt_txn_abort(&t);
        return rc;
    }

    rc = tt_txn_commit(&t);
    if (rc != TT_OK) {
        snprintf(err, err_len, "mdb_txn_commit(\"%s\") failed: %s", path,
                 tt_store_last_error(st));
    }

    return rc;
}


int
tt_store_open(const tt_store_conf_t *conf, tt_store_t **out, char *err,
    size_t err_len)
{
    int          rc;
    tt_store_t  *st;

    *out = NULL;

    if (conf->path == NULL) {
        snprintf(err, err_len, "no store path");
        return TT_INVALID;
    }

    if (tt_store_mkdirs(conf->path, err, err_len) != TT_OK) {
        return TT_ERR;
    }

    st = calloc(1, sizeof(tt_store_t));
    if (st == NULL) {
        snprintf(err, err_len, "out of memory opening \"%s\"", conf->path);
        return TT_NOMEM;
    }

    st->last_error = "no error";
    st->map_size = conf->map_size ? tt_store_page_align(conf->map_size) : 0;
    st->map_max = tt_store_page_align(conf->map_max ? conf->map_max
                                      : conf->map_size ? conf->map_size
                                      : TT_MAP_MAX_DEFAULT);
    if (st->map_max < st->map_size) {
        st->map_max = st->map_size;
    }

    if (conf->token_key != NULL) {
        tt_store_set_token_key(st, conf->token_key);
    }

    if (conf->token_keys != NULL) {
        tt_store_set_token_keys(st, conf->token_keys, 1);
    }

    rc = tt_store_env(st, conf, err, err_len);
    if (rc == TT_OK) {
        rc = tt_store_init_dbs(st, conf->path, err, err_len);
    }

    if (rc != TT_OK) {
        tt_store_close(st);
        return rc;
    }

    *out = st;
    return TT_OK;
}
