/*
 * Copyright (C) the ngx_tiktok authors.
 * The store on LMDB: environment, schema, transactions, keys, raw access
 * and meta.  Each record family has a file of its own (tt_store_*.c).
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
    [TT_DB_POST_SIG] = "post_sig"
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
    { 4, tt_event_post_reindex }    /* webhooks: each post's statuses */
};


/* environment */

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


static size_t
tt_store_page_align(size_t n)
{
    long    ps;
    size_t  page;

    ps = sysconf(_SC_PAGESIZE);
    page = ps > 0 ? (size_t) ps : 4096;

    if (n > SIZE_MAX - page) {
        return SIZE_MAX / page * page;
    }

    return (n + page - 1) / page * page;
}


static void
tt_store_refresh_size(tt_store_t *st)
{
    MDB_envinfo  info;

    if (mdb_env_info(st->env, &info) == MDB_SUCCESS) {
        st->map_size = info.me_mapsize;
    }
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
    flags = MDB_NOTLS | (conf->nosync ? MDB_NOSYNC : 0);

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

    rc = tt_post_unlist(t);

    if (rc == TT_OK) {
        rc = tt_post_reindex(t);
    }

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


void
tt_store_close(tt_store_t *st)
{
    if (st == NULL) {
        return;
    }

    if (st->env != NULL) {
        mdb_env_close(st->env);
    }

    OPENSSL_cleanse(&st->keys, sizeof(st->keys));
    free(st);
}


int
tt_store_grow(tt_store_t *st)
{
    int     rc, err;
    size_t  size, ours;

    /*
     * Another process may have grown it already: that size first.  The
     * store records a size only when a write commits, so what it says
     * may also be less than this process's own growth, not committed
     * yet: that is never given up.
     */
    ours = st->map_size;

    rc = tt_store_adopt(st);
    if (rc != TT_OK) {
        return rc;
    }

    if (st->map_size > ours) {
        return TT_OK;
    }

    if (ours >= st->map_max) {
        size = ours;
        rc = TT_FULL;

    } else {
        size = ours * 2;
        if (size > st->map_max || size < ours) {
            size = st->map_max;
        }

        rc = TT_OK;
    }

    if (size != st->map_size) {
        err = mdb_env_set_mapsize(st->env, size);
        if (err != MDB_SUCCESS) {
            return tt_store_rc(st, err);
        }

        tt_store_refresh_size(st);
    }

    return rc;
}


int
tt_store_adopt(tt_store_t *st)
{
    int  rc;

    /* 0: take the size another process wrote in the meta page */
    rc = mdb_env_set_mapsize(st->env, 0);
    if (rc != MDB_SUCCESS) {
        return tt_store_rc(st, rc);
    }

    tt_store_refresh_size(st);
    return TT_OK;
}


size_t
tt_store_map_size(tt_store_t *st)
{
    return st->map_size;
}


void
tt_store_set_map_max(tt_store_t *st, size_t max)
{
    st->map_max = tt_store_page_align(max);
}


void
tt_store_set_token_key(tt_store_t *st, const uint8_t key[32])
{
    OPENSSL_cleanse(&st->keys, sizeof(st->keys));
    st->has_key = 0;
    st->open_tokens = 0;

    if (key == NULL) {
        return;
    }

    memcpy(st->keys.keys[0].key, key, 32);
    st->keys.n = 1;
    st->has_key = 1;
    st->open_tokens = 1;
}


void
tt_store_set_token_keys(tt_store_t *st, const tt_keyring_t *ring, int open)
{
    OPENSSL_cleanse(&st->keys, sizeof(st->keys));
    st->has_key = 0;
    st->open_tokens = 0;

    if (ring == NULL || ring->n == 0) {
        return;
    }

    st->keys = *ring;
    st->has_key = 1;
    st->open_tokens = open != 0;
}


int
tt_store_can_seal(const tt_store_t *st)
{
    return st->has_key;
}


const char *
tt_store_last_error(tt_store_t *st)
{
    return st->last_error;
}


/*
 * The one place that reads LMDB's codes.  The text is a static string
 * (mdb_strerror's or strerror's), so a pointer store is enough even when
 * threads race on it.
 */
int
tt_store_rc(tt_store_t *st, int rc)
{
    switch (rc) {

    case MDB_SUCCESS:
        return TT_OK;

    case MDB_NOTFOUND:
        return TT_NOTFOUND;

    default:
        break;
    }

    st->last_error = mdb_strerror(rc);

    switch (rc) {

    case MDB_KEYEXIST:
        return TT_EXISTS;

    case MDB_MAP_FULL:
        return TT_FULL;

    case MDB_MAP_RESIZED:
        return TT_RESIZED;

    case ENOMEM:
        return TT_NOMEM;

    default:
        return TT_ERR;
    }
}


/* transactions */

/* answers (not found, exists, bad input) leave the transaction usable */
int
tt_txn_fail(tt_txn_t *t, int rc)
{
    if (rc != TT_OK && rc != TT_NOTFOUND && rc != TT_EXISTS
        && rc != TT_INVALID)
    {
        t->rc = rc;
    }

    return rc;
}


static int
tt_txn_start(tt_store_t *st, MDB_txn *parent, unsigned flags, MDB_txn **txn)
{
    int  rc, dead;

    rc = mdb_txn_begin(st->env, parent, flags, txn);

    if (rc == MDB_READERS_FULL && mdb_reader_check(st->env, &dead) == 0) {
        rc = mdb_txn_begin(st->env, parent, flags, txn);
    }

    if (rc != MDB_SUCCESS) {
        *txn = NULL;
    }

    return tt_store_rc(st, rc);
}


int
tt_txn_begin(tt_store_t *st, tt_txn_t *t, int write)
{
    MDB_txn  *txn;

    t->st = st;
    t->write = write ? 1 : 0;
    t->rc = tt_txn_start(st, NULL, write ? 0 : MDB_RDONLY, &txn);
    t->txn = txn;

    return t->rc;
}


int
tt_txn_begin_nested(tt_txn_t *parent, tt_txn_t *child)
{
    MDB_txn  *txn;

    child->st = parent->st;
    child->write = parent->write;
    child->txn = NULL;

    if (parent->rc != TT_OK || parent->txn == NULL) {
        child->rc = parent->rc != TT_OK ? parent->rc : TT_ERR;
        return child->rc;
    }

    if (!parent->write) {
        child->rc = TT_INVALID;
        return child->rc;
    }

    child->rc = tt_txn_start(parent->st, parent->txn, 0, &txn);
    child->txn = txn;

    return child->rc;
}


int
tt_txn_commit(tt_txn_t *t)
{
    int  rc;

    if (t->txn == NULL) {
        return t->rc != TT_OK ? t->rc : TT_ERR;
    }

    if (t->rc != TT_OK) {
        tt_txn_abort(t);
        return t->rc;
    }

    rc = mdb_txn_commit(t->txn);
    t->txn = NULL;
    t->rc = tt_store_rc(t->st, rc);

    return t->rc;
}


void
tt_txn_abort(tt_txn_t *t)
{
    if (t->txn != NULL) {
        mdb_txn_abort(t->txn);
        t->txn = NULL;
    }
}


/* keys */

/*
 * Builds a fixed-width key from a format: 'i' an id (const char *) NUL
 * padded to TT_ID_SIZE, 'z' the same but "" (or NULL) allowed, 'u' a
 * uint64_t big-endian, 'n' a uint64_t stored inverted (descending
 * order), 'c' one byte (an int), 'b' bytes (const void *, size_t).
 */
int
tt_store_key(tt_skey_t *k, const char *fmt, ...)
{
    int          rc;
    size_t       len, n;
    va_list      ap;
    uint64_t     v;
    const void  *p;
    const char  *id;

    rc = TT_OK;
    len = 0;
    va_start(ap, fmt);

    for ( /* void */ ; *fmt && rc == TT_OK; fmt++) {

        switch (*fmt) {

        case 'c':
            if (len + 1 > sizeof(k->data)) {
                rc = TT_INVALID;
                break;
            }
            k->data[len++] = (uint8_t) va_arg(ap, int);
            break;

        case 'i':
        case 'z':
            id = va_arg(ap, const char *);
            n = id ? strnlen(id, TT_ID_SIZE) : 0;
            if ((n == 0 && *fmt == 'i') || n == TT_ID_SIZE
                || len + TT_ID_SIZE > sizeof(k->data))
            {
                rc = TT_INVALID;
                break;
            }

            if (n > 0) {
                memcpy(k->data + len, id, n);
            }

            memset(k->data + len + n, 0, TT_ID_SIZE - n);
            len += TT_ID_SIZE;
            break;

        case 'u':
        case 'n':
            v = va_arg(ap, uint64_t);
            v = (*fmt == 'n') ? ~v : v;
            for (n = 0; n < 8; n++) {
                k->data[len + n] = (uint8_t) (v >> (56 - 8 * n));
            }
            len += 8;
            break;

        default: /* 'b' */
            p = va_arg(ap, const void *);
            n = va_arg(ap, size_t);
            if (len + n > sizeof(k->data)) {
                rc = TT_INVALID;
                break;
            }
            memcpy(k->data + len, p, n);
            len += n;
            break;
        }
    }

    va_end(ap);

    k->val.mv_data = k->data;
    k->val.mv_size = len;

    return rc;
}


uint64_t
tt_store_be64(const uint8_t *p)
{
    size_t    i;
    uint64_t  v;

    v = 0;
    for (i = 0; i < 8; i++) {
        v = (v << 8) | p[i];
    }

    return v;
}


void
tt_store_key_id(const uint8_t *p, char id[TT_ID_SIZE])
{
    memcpy(id, p, TT_ID_SIZE);
    id[TT_ID_SIZE - 1] = '\0';
}


/* raw access; every LMDB call of the families goes through these */

int
tt_db_get(tt_txn_t *t, int db, tt_skey_t *k, MDB_val *v)
{
    int  rc;

    rc = mdb_get(t->txn, t->st->dbi[db], &k->val, v);

    return tt_txn_fail(t, tt_store_rc(t->st, rc));
}


int
tt_db_put(tt_txn_t *t, int db, tt_skey_t *k, const void *data, size_t len)
{
    int      rc;
    MDB_val  v;

    v.mv_data = (void *) data;
    v.mv_size = len;

    rc = mdb_put(t->txn, t->st->dbi[db], &k->val, &v, 0);

    return tt_txn_fail(t, tt_store_rc(t->st, rc));
}


/* deleting what is already gone is not an error for index upkeep */
int
tt_db_del(tt_txn_t *t, int db, tt_skey_t *k)
{
    int  rc;

    rc = mdb_del(t->txn, t->st->dbi[db], &k->val, NULL);
    if (rc == MDB_NOTFOUND) {
        return TT_OK;
    }

    return tt_txn_fail(t, tt_store_rc(t->st, rc));
}


int
tt_db_cursor(tt_txn_t *t, int db, MDB_cursor **c)
{
    int  rc;

    rc = mdb_cursor_open(t->txn, t->st->dbi[db], c);

    return tt_txn_fail(t, tt_store_rc(t->st, rc));
}


/*
 * Positions c on the first key >= k (MDB_SET_RANGE), or after k when
 * after is set.  Iterators re-seek after each callback so that the
 * callback may change the very database being walked.
 */
int
tt_db_seek(tt_txn_t *t, MDB_cursor *c, tt_skey_t *k, int after, MDB_val *key)
{
    int  rc;

    *key = k->val;
    rc = mdb_cursor_get(c, key, NULL, MDB_SET_RANGE);

    if (rc == MDB_SUCCESS && after && key->mv_size == k->val.mv_size
        && memcmp(key->mv_data, k->val.mv_data, key->mv_size) == 0)
    {
        rc = mdb_cursor_get(c, key, NULL, MDB_NEXT);
    }

    return tt_txn_fail(t, tt_store_rc(t->st, rc));
}


/* meta */

int
tt_meta_get(tt_txn_t *t, const char *name, tt_str_t *val)
{
    int        rc;
    MDB_val    v;
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "b", name, strlen(name)) != TT_OK
        || k.val.mv_size == 0)
    {
        return TT_INVALID;
    }

    rc = tt_db_get(t, TT_DB_META, &k, &v);
    if (rc != TT_OK) {
        return rc;
    }

    val->data = v.mv_data;
    val->len = v.mv_size;

    return TT_OK;
}


int
tt_meta_put(tt_txn_t *t, const char *name, const void *val, size_t len)
{
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "b", name, strlen(name)) != TT_OK
        || k.val.mv_size == 0)
    {
        return TT_INVALID;
    }

    return tt_db_put(t, TT_DB_META, &k, val, len);
}
