/*
 * Copyright (C) the ngx_tiktok authors.
 * The store on LMDB: environment, schema, transactions and every family.
 */


#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>
#include <openssl/evp.h>

#include "tt_store.h"


/* LMDB's names of the databases of tt_store.h */
static const char  *tt_store_db_names[TT_DB_COUNT] = {
    [TT_DB_META] = "meta",
    [TT_DB_WORKSPACES] = "workspaces",
    [TT_DB_KEYS] = "keys",
    [TT_DB_GROUPS] = "groups",
    [TT_DB_WS_GROUPS] = "ws_groups",
    [TT_DB_PROFILES] = "profiles",
    [TT_DB_POSTS] = "posts",
    [TT_DB_WS_POSTS] = "ws_posts",
    [TT_DB_DUE] = "due",
    [TT_DB_IDEM] = "idem",
    [TT_DB_IDEM_EXP] = "idem_exp"
};


/* room for the families to come (queues, slots, webhooks, ...) */
#define TT_STORE_MAXDBS     32
#define TT_STORE_READERS    126
#define TT_STORE_MAX_DEF    ((size_t) 64 * 1024 * 1024 * 1024)

/* LMDB's compiled-in limit (MDB_MAXKEYSIZE) */
#define TT_STORE_KEY_MAX    511

#define TT_SEAL_NONCE       12
#define TT_SEAL_TAG         16


struct tt_store_s {
    MDB_env        *env;
    MDB_dbi         dbi[TT_DB_COUNT];
    size_t          map_size;
    size_t          map_max;
    const char     *last_error;
    uint8_t         token_key[32];
    unsigned        has_key:1;
};


typedef struct {
    uint8_t         data[TT_STORE_KEY_MAX];
    MDB_val         val;
} tt_skey_t;


typedef int (*tt_store_enc_pt)(tt_txn_t *t, tt_jw_t *w, const void *obj);
typedef int (*tt_store_dec_pt)(tt_store_t *st, const tt_json_t *r,
    tt_arena_t *a, void *obj);
typedef int (*tt_store_keep_pt)(const void *obj, const void *ctx);

/*
 * Schema v1 is the first; a v2 adds { 1, tt_store_migrate_1_2 } here and
 * bumps TT_SCHEMA_VERSION.
 */
static const tt_store_migration_t  tt_store_migrations[] = {
    { 0, NULL }
};


static int tt_store_rc(tt_store_t *st, int rc);
static int tt_txn_fail(tt_txn_t *t, int rc);
static int tt_store_key(tt_skey_t *k, const char *fmt, ...);
static void tt_store_key_id(const uint8_t *p, char id[TT_ID_SIZE]);
static uint64_t tt_store_be64(const uint8_t *p);


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
                                      : TT_STORE_MAX_DEF);
    if (st->map_max < st->map_size) {
        st->map_max = st->map_size;
    }

    if (conf->token_key != NULL) {
        tt_store_set_token_key(st, conf->token_key);
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

    OPENSSL_cleanse(st->token_key, sizeof(st->token_key));
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
    if (key == NULL) {
        OPENSSL_cleanse(st->token_key, sizeof(st->token_key));
        st->has_key = 0;
        return;
    }

    memcpy(st->token_key, key, sizeof(st->token_key));
    st->has_key = 1;
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
static int
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
static int
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


#define tt_txn_check(t)                                                      \
    if ((t)->rc != TT_OK || (t)->txn == NULL) {                              \
        return (t)->rc != TT_OK ? (t)->rc : TT_ERR;                          \
    }


/* keys */

/*
 * Builds a fixed-width key from a format: 'i' an id (const char *) NUL
 * padded to TT_ID_SIZE, 'u' a uint64_t big-endian, 'n' a uint64_t stored
 * inverted (descending order), 'b' bytes (const void *, size_t).
 */
static int
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

        case 'i':
            id = va_arg(ap, const char *);
            n = id ? strnlen(id, TT_ID_SIZE) : 0;
            if (n == 0 || n == TT_ID_SIZE || len + TT_ID_SIZE > sizeof(k->data))
            {
                rc = TT_INVALID;
                break;
            }

            memcpy(k->data + len, id, n);
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


static uint64_t
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


static void
tt_store_key_id(const uint8_t *p, char id[TT_ID_SIZE])
{
    memcpy(id, p, TT_ID_SIZE);
    id[TT_ID_SIZE - 1] = '\0';
}


/* raw access; every LMDB call of the families goes through these */

static int
tt_db_get(tt_txn_t *t, int db, tt_skey_t *k, MDB_val *v)
{
    int  rc;

    rc = mdb_get(t->txn, t->st->dbi[db], &k->val, v);

    return tt_txn_fail(t, tt_store_rc(t->st, rc));
}


static int
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
static int
tt_db_del(tt_txn_t *t, int db, tt_skey_t *k)
{
    int  rc;

    rc = mdb_del(t->txn, t->st->dbi[db], &k->val, NULL);
    if (rc == MDB_NOTFOUND) {
        return TT_OK;
    }

    return tt_txn_fail(t, tt_store_rc(t->st, rc));
}


static int
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
static int
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


/* JSON records */

static int
tt_store_put_json(tt_txn_t *t, int db, tt_skey_t *k, tt_store_enc_pt enc,
    const void *obj)
{
    int       rc;
    tt_jw_t   w;
    tt_buf_t  b;

    tt_buf_init(&b);

    if (tt_jw_init(&w, &b) != TT_OK) {
        tt_buf_free(&b);
        return tt_txn_fail(t, TT_NOMEM);
    }

    rc = enc(t, &w, obj);

    if (tt_jw_finish(&w) != TT_OK && rc == TT_OK) {
        rc = TT_NOMEM;
    }

    if (rc == TT_OK) {
        rc = tt_db_put(t, db, k, b.data, b.len);
    }

    tt_buf_free(&b);

    return tt_txn_fail(t, rc);
}


static int
tt_store_parse(tt_store_t *st, const MDB_val *v, tt_arena_t *a,
    tt_store_dec_pt dec, void *obj)
{
    char        err[128];
    tt_json_t  *root;

    root = tt_json_parse(a, v->mv_data, v->mv_size, err, sizeof(err));
    if (root == NULL || root->type != TT_JSON_OBJECT) {
        st->last_error = "corrupt record in the store";
        return TT_ERR;
    }

    return dec(st, root, a, obj);
}


static int
tt_store_get_json(tt_txn_t *t, int db, tt_skey_t *k, tt_arena_t *a,
    tt_store_dec_pt dec, void *obj)
{
    int      rc;
    MDB_val  v;

    rc = tt_db_get(t, db, k, &v);
    if (rc != TT_OK) {
        return rc;
    }

    return tt_store_parse(t->st, &v, a, dec, obj);
}


/* appends an element to an arena array, doubling it when full */
static void *
tt_store_push(tt_arena_t *a, void **arr, size_t *n, size_t *cap, size_t size)
{
    void  *p;

    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;

        p = tt_arena_alloc(a, *cap * size);
        if (p == NULL) {
            return NULL;
        }

        if (*n) {
            memcpy(p, *arr, *n * size);
        }

        *arr = p;
    }

    p = (char *) *arr + (*n)++ * size;
    memset(p, 0, size);

    return p;
}


/* every record of db that keep() accepts, in key order */
static int
tt_store_scan(tt_txn_t *t, int db, tt_arena_t *a, tt_store_dec_pt dec,
    tt_store_keep_pt keep, const void *ctx, size_t size, void **out,
    size_t *n)
{
    int          rc;
    void        *obj;
    size_t       cap;
    MDB_val      key, val;
    MDB_cursor  *c;

    *out = NULL;
    *n = 0;
    cap = 0;

    rc = tt_db_cursor(t, db, &c);
    if (rc != TT_OK) {
        return rc;
    }

    rc = mdb_cursor_get(c, &key, &val, MDB_FIRST);

    while (rc == MDB_SUCCESS) {
        obj = tt_store_push(a, out, n, &cap, size);
        if (obj == NULL) {
            mdb_cursor_close(c);
            return TT_NOMEM;
        }

        rc = tt_store_parse(t->st, &val, a, dec, obj);
        if (rc != TT_OK) {
            mdb_cursor_close(c);
            return rc;
        }

        if (keep != NULL && !keep(obj, ctx)) {
            (*n)--;
        }

        rc = mdb_cursor_get(c, &key, &val, MDB_NEXT);
    }

    mdb_cursor_close(c);

    rc = tt_store_rc(t->st, rc);

    return tt_txn_fail(t, rc == TT_NOTFOUND ? TT_OK : rc);
}


static const char *
tt_js(const tt_json_t *r, const char *key)
{
    tt_json_t  *v;

    v = tt_json_get(r, key);

    return (v != NULL && v->type == TT_JSON_STRING) ? v->str : NULL;
}


static int64_t
tt_ji(const tt_json_t *r, const char *key, int64_t def)
{
    tt_json_t  *v;

    v = tt_json_get(r, key);

    return (v != NULL && v->type == TT_JSON_NUMBER && v->is_int) ? v->i : def;
}


/* an id member into a fixed buffer; absent or null gives "" */
static int
tt_jid(const tt_json_t *r, const char *key, char id[TT_ID_SIZE])
{
    const char  *s;

    s = tt_js(r, key);
    if (s == NULL) {
        id[0] = '\0';
        return TT_OK;
    }

    if (strlen(s) >= TT_ID_SIZE) {
        return TT_ERR;
    }

    memcpy(id, s, strlen(s) + 1);
    return TT_OK;
}


static void
tt_jw_member_str(tt_jw_t *w, const char *key, const char *s)
{
    tt_jw_key(w, key);
    tt_jw_cstr(w, s);
}


static void
tt_jw_member_int(tt_jw_t *w, const char *key, int64_t v)
{
    tt_jw_key(w, key);
    tt_jw_int(w, v);
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


/* workspaces */

static int
tt_ws_enc(tt_txn_t *t, tt_jw_t *w, const void *obj)
{
    const tt_workspace_t  *ws = obj;

    tt_jw_obj_open(w);
    tt_jw_member_int(w, "v", 1);
    tt_jw_member_str(w, "id", ws->id);
    tt_jw_member_str(w, "name", ws->name ? ws->name : "");
    tt_jw_member_int(w, "created_at", ws->created_at);
    tt_jw_obj_close(w);

    return TT_OK;
}


static int
tt_ws_dec(tt_store_t *st, const tt_json_t *r, tt_arena_t *a, void *obj)
{
    tt_workspace_t  *ws = obj;

    if (tt_jid(r, "id", ws->id) != TT_OK) {
        return TT_ERR;
    }

    ws->name = tt_js(r, "name");
    ws->name = ws->name ? ws->name : "";
    ws->created_at = tt_ji(r, "created_at", -1);

    return TT_OK;
}


int
tt_ws_put(tt_txn_t *t, const tt_workspace_t *ws)
{
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", ws->id) != TT_OK) {
        return TT_INVALID;
    }

    return tt_store_put_json(t, TT_DB_WORKSPACES, &k, tt_ws_enc, ws);
}


int
tt_ws_get(tt_txn_t *t, const char *id, tt_arena_t *a, tt_workspace_t *ws)
{
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    memset(ws, 0, sizeof(tt_workspace_t));

    return tt_store_get_json(t, TT_DB_WORKSPACES, &k, a, tt_ws_dec, ws);
}


int
tt_ws_list(tt_txn_t *t, tt_arena_t *a, tt_workspace_t **out, size_t *n)
{
    tt_txn_check(t);

    return tt_store_scan(t, TT_DB_WORKSPACES, a, tt_ws_dec, NULL, NULL,
                         sizeof(tt_workspace_t), (void **) out, n);
}


/* API keys */

static int
tt_apikey_enc(tt_txn_t *t, tt_jw_t *w, const void *obj)
{
    const tt_apikey_t  *k = obj;

    if (memchr(k->hint, '\0', sizeof(k->hint)) == NULL) {
        return TT_INVALID;
    }

    tt_jw_obj_open(w);
    tt_jw_member_int(w, "v", 1);
    tt_jw_member_str(w, "id", k->id);
    tt_jw_member_str(w, "workspace_id", k->workspace_id);
    tt_jw_member_str(w, "profile_group_id", k->profile_group_id);
    tt_jw_member_str(w, "name", k->name);
    tt_jw_member_str(w, "hint", k->hint);
    tt_jw_member_int(w, "created_at", k->created_at);
    tt_jw_member_int(w, "revoked_at", k->revoked_at);
    tt_jw_obj_close(w);

    return TT_OK;
}


static int
tt_apikey_dec(tt_store_t *st, const tt_json_t *r, tt_arena_t *a, void *obj)
{
    tt_apikey_t  *k = obj;
    const char   *hint;

    if (tt_jid(r, "id", k->id) != TT_OK
        || tt_jid(r, "workspace_id", k->workspace_id) != TT_OK
        || tt_jid(r, "profile_group_id", k->profile_group_id) != TT_OK)
    {
        return TT_ERR;
    }

    hint = tt_js(r, "hint");
    if (hint == NULL || strlen(hint) >= sizeof(k->hint)) {
        return TT_ERR;
    }

    memcpy(k->hint, hint, strlen(hint) + 1);
    k->name = tt_js(r, "name");
    k->created_at = tt_ji(r, "created_at", -1);
    k->revoked_at = tt_ji(r, "revoked_at", -1);

    return TT_OK;
}


int
tt_apikey_put(tt_txn_t *t, const uint8_t hash[32], const tt_apikey_t *k)
{
    tt_skey_t  key;

    tt_txn_check(t);

    if (k->id[0] == '\0' || k->workspace_id[0] == '\0') {
        return TT_INVALID;
    }

    tt_store_key(&key, "b", hash, (size_t) 32);

    return tt_store_put_json(t, TT_DB_KEYS, &key, tt_apikey_enc, k);
}


int
tt_apikey_get(tt_txn_t *t, const uint8_t hash[32], tt_arena_t *a,
    tt_apikey_t *k)
{
    tt_skey_t  key;

    tt_txn_check(t);

    tt_store_key(&key, "b", hash, (size_t) 32);
    memset(k, 0, sizeof(tt_apikey_t));

    return tt_store_get_json(t, TT_DB_KEYS, &key, a, tt_apikey_dec, k);
}


/* the stored record as it is (valid until the transaction ends) */
int
tt_apikey_get_raw(tt_txn_t *t, const uint8_t hash[32], tt_str_t *raw)
{
    int        rc;
    MDB_val    v;
    tt_skey_t  key;

    tt_txn_check(t);

    tt_store_key(&key, "b", hash, (size_t) 32);

    rc = tt_db_get(t, TT_DB_KEYS, &key, &v);
    if (rc != TT_OK) {
        return rc;
    }

    raw->data = v.mv_data;
    raw->len = v.mv_size;

    return TT_OK;
}


static int
tt_apikey_keep(const void *obj, const void *ctx)
{
    const tt_apikey_t  *k = obj;

    return ctx == NULL || strcmp(k->workspace_id, ctx) == 0;
}


int
tt_apikey_list(tt_txn_t *t, const char *ws_id, tt_arena_t *a,
    tt_apikey_t **out, size_t *n)
{
    tt_txn_check(t);

    return tt_store_scan(t, TT_DB_KEYS, a, tt_apikey_dec, tt_apikey_keep,
                         ws_id, sizeof(tt_apikey_t), (void **) out, n);
}


/* a rare admin action: a scan of the keys beats a second index */
int
tt_apikey_revoke(tt_txn_t *t, const char *key_id, int64_t now_ms)
{
    int           rc;
    MDB_val       key, val;
    tt_skey_t     k;
    tt_arena_t   *a;
    tt_apikey_t   rec;
    MDB_cursor   *c;

    tt_txn_check(t);

    a = tt_arena_create(4096);
    if (a == NULL) {
        return TT_NOMEM;
    }

    rc = tt_db_cursor(t, TT_DB_KEYS, &c);
    if (rc != TT_OK) {
        tt_arena_destroy(a);
        return rc;
    }

    rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, &val, MDB_FIRST));

    while (rc == TT_OK) {
        memset(&rec, 0, sizeof(tt_apikey_t));

        rc = tt_store_parse(t->st, &val, a, tt_apikey_dec, &rec);
        if (rc != TT_OK || strcmp(rec.id, key_id) == 0) {
            break;
        }

        rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, &val, MDB_NEXT));
    }

    if (rc == TT_OK) {
        tt_store_key(&k, "b", key.mv_data, key.mv_size);
    }

    mdb_cursor_close(c);

    if (rc == TT_OK && rec.revoked_at < 0) {
        rec.revoked_at = now_ms;
        rc = tt_store_put_json(t, TT_DB_KEYS, &k, tt_apikey_enc, &rec);
    }

    tt_arena_destroy(a);

    return tt_txn_fail(t, rc);
}


/* profile groups */

static int
tt_group_enc(tt_txn_t *t, tt_jw_t *w, const void *obj)
{
    const tt_group_t  *g = obj;

    tt_jw_obj_open(w);
    tt_jw_member_int(w, "v", 1);
    tt_jw_member_str(w, "id", g->id);
    tt_jw_member_str(w, "workspace_id", g->workspace_id);
    tt_jw_member_str(w, "name", g->name ? g->name : "");
    tt_jw_member_int(w, "created_at", g->created_at);
    tt_jw_obj_close(w);

    return TT_OK;
}


static int
tt_group_dec(tt_store_t *st, const tt_json_t *r, tt_arena_t *a, void *obj)
{
    tt_group_t  *g = obj;

    if (tt_jid(r, "id", g->id) != TT_OK
        || tt_jid(r, "workspace_id", g->workspace_id) != TT_OK)
    {
        return TT_ERR;
    }

    g->name = tt_js(r, "name");
    g->name = g->name ? g->name : "";
    g->created_at = tt_ji(r, "created_at", -1);

    return TT_OK;
}


static int
tt_group_index(tt_txn_t *t, const tt_group_t *g, int add)
{
    tt_skey_t  k;

    if (tt_store_key(&k, "iui", g->workspace_id, (uint64_t) g->created_at,
                     g->id)
        != TT_OK)
    {
        return TT_INVALID;
    }

    return add ? tt_db_put(t, TT_DB_WS_GROUPS, &k, "", 0)
               : tt_db_del(t, TT_DB_WS_GROUPS, &k);
}


/* the old record, if any, so that a replace moves its index entry */
static int
tt_group_old(tt_txn_t *t, const char *id, tt_group_t *old)
{
    int          rc;
    tt_arena_t  *a;

    a = tt_arena_create(1024);
    if (a == NULL) {
        return TT_NOMEM;
    }

    rc = tt_group_get(t, id, a, old);
    old->name = NULL;

    tt_arena_destroy(a);

    return rc;
}


int
tt_group_put(tt_txn_t *t, const tt_group_t *g)
{
    int         rc;
    tt_group_t  old;
    tt_skey_t   k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", g->id) != TT_OK || g->created_at < 0
        || g->workspace_id[0] == '\0')
    {
        return TT_INVALID;
    }

    rc = tt_group_old(t, g->id, &old);
    if (rc == TT_OK) {
        rc = tt_group_index(t, &old, 0);
    }

    if (rc != TT_OK && rc != TT_NOTFOUND) {
        return rc;
    }

    rc = tt_store_put_json(t, TT_DB_GROUPS, &k, tt_group_enc, g);
    if (rc != TT_OK) {
        return rc;
    }

    return tt_group_index(t, g, 1);
}


int
tt_group_get(tt_txn_t *t, const char *id, tt_arena_t *a, tt_group_t *g)
{
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    memset(g, 0, sizeof(tt_group_t));

    return tt_store_get_json(t, TT_DB_GROUPS, &k, a, tt_group_dec, g);
}


int
tt_group_list(tt_txn_t *t, const char *ws_id, tt_arena_t *a,
    tt_group_t **out, size_t *n)
{
    int          rc;
    char         id[TT_ID_SIZE];
    size_t       cap;
    MDB_val      key;
    tt_skey_t    k;
    tt_group_t  *g;
    MDB_cursor  *c;

    tt_txn_check(t);

    *out = NULL;
    *n = 0;
    cap = 0;

    if (tt_store_key(&k, "i", ws_id) != TT_OK) {
        return TT_OK;
    }

    rc = tt_db_cursor(t, TT_DB_WS_GROUPS, &c);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_db_seek(t, c, &k, 0, &key);

    while (rc == TT_OK && key.mv_size == 2 * TT_ID_SIZE + 8
           && memcmp(key.mv_data, k.data, TT_ID_SIZE) == 0)
    {
        tt_store_key_id((uint8_t *) key.mv_data + TT_ID_SIZE + 8, id);

        g = tt_store_push(a, (void **) out, n, &cap, sizeof(tt_group_t));
        if (g == NULL) {
            rc = TT_NOMEM;
            break;
        }

        rc = tt_group_get(t, id, a, g);
        if (rc == TT_NOTFOUND) {
            (*n)--;
            rc = TT_OK;

        } else if (rc != TT_OK) {
            break;
        }

        rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, NULL, MDB_NEXT));
    }

    mdb_cursor_close(c);

    return tt_txn_fail(t, rc == TT_NOTFOUND ? TT_OK : rc);
}


int
tt_group_del(tt_txn_t *t, const char *id)
{
    int         rc;
    tt_group_t  old;
    tt_skey_t   k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    rc = tt_group_old(t, id, &old);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_group_index(t, &old, 0);
    if (rc != TT_OK) {
        return rc;
    }

    return tt_db_del(t, TT_DB_GROUPS, &k);
}


/* profile tokens: AES-256-GCM, hex(nonce | ciphertext | tag) */

static int
tt_token_seal(const tt_store_t *st, const char *id, const char *field,
    const char *plain, tt_buf_t *out)
{
    int              n, ok;
    size_t           len;
    uint8_t         *raw;
    EVP_CIPHER_CTX  *ctx;

    len = strlen(plain);
    raw = malloc(TT_SEAL_NONCE + len + TT_SEAL_TAG);
    ctx = EVP_CIPHER_CTX_new();

    /* the profile id and field are bound in as AAD: no swapping */
    ok = raw != NULL && ctx != NULL && len <= INT_MAX
         && tt_random(raw, TT_SEAL_NONCE) == TT_OK
         && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, st->token_key,
                               raw)
         && EVP_EncryptUpdate(ctx, NULL, &n, (const uint8_t *) id,
                              (int) strlen(id))
         && EVP_EncryptUpdate(ctx, NULL, &n, (const uint8_t *) field,
                              (int) strlen(field))
         && EVP_EncryptUpdate(ctx, raw + TT_SEAL_NONCE, &n,
                              (const uint8_t *) plain, (int) len)
         && EVP_EncryptFinal_ex(ctx, raw + TT_SEAL_NONCE + n, &n)
         && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TT_SEAL_TAG,
                                raw + TT_SEAL_NONCE + len)
         && tt_buf_reserve(out, 2 * (TT_SEAL_NONCE + len + TT_SEAL_TAG) + 1)
            == TT_OK;

    if (ok) {
        tt_hex(raw, TT_SEAL_NONCE + len + TT_SEAL_TAG, out->data);
        out->len = 2 * (TT_SEAL_NONCE + len + TT_SEAL_TAG);
    }

    EVP_CIPHER_CTX_free(ctx);
    free(raw);

    return ok ? TT_OK : TT_ERR;
}


static int
tt_token_open(const tt_store_t *st, const char *id, const char *field,
    const char *hex, tt_arena_t *a, const char **plain)
{
    int              n, ok;
    char            *p;
    size_t           len;
    uint8_t         *raw;
    EVP_CIPHER_CTX  *ctx;

    len = strlen(hex) / 2;
    if (len < TT_SEAL_NONCE + TT_SEAL_TAG || len - TT_SEAL_NONCE > INT_MAX) {
        return TT_ERR;
    }

    len -= TT_SEAL_NONCE + TT_SEAL_TAG;

    raw = malloc(TT_SEAL_NONCE + len + TT_SEAL_TAG);
    p = tt_arena_alloc(a, len + 1);
    ctx = EVP_CIPHER_CTX_new();

    ok = raw != NULL && p != NULL && ctx != NULL
         && tt_hex_decode(hex, strlen(hex), raw) == TT_OK
         && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, st->token_key,
                               raw)
         && EVP_DecryptUpdate(ctx, NULL, &n, (const uint8_t *) id,
                              (int) strlen(id))
         && EVP_DecryptUpdate(ctx, NULL, &n, (const uint8_t *) field,
                              (int) strlen(field))
         && EVP_DecryptUpdate(ctx, (uint8_t *) p, &n,
                              raw + TT_SEAL_NONCE, (int) len)
         && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TT_SEAL_TAG,
                                raw + TT_SEAL_NONCE + len)
         && EVP_DecryptFinal_ex(ctx, (uint8_t *) p + n, &n) > 0;

    EVP_CIPHER_CTX_free(ctx);
    free(raw);

    if (!ok) {
        return TT_ERR;
    }

    p[len] = '\0';
    *plain = p;

    return TT_OK;
}


/* profiles */

static const char  *tt_profile_status_names[] = {
    "active", "expired", "revoked"
};


const char *
tt_profile_status_name(tt_profile_status_e s)
{
    if ((size_t) s >= TT_ARRAY_SIZE(tt_profile_status_names)) {
        return "unknown";
    }

    return tt_profile_status_names[s];
}


static int
tt_profile_enc_token(tt_txn_t *t, tt_jw_t *w, const char *id,
    const char *field, const char *plain)
{
    int       rc;
    tt_buf_t  b;

    if (plain == NULL) {
        return TT_OK;
    }

    tt_buf_init(&b);

    rc = tt_token_seal(t->st, id, field, plain, &b);
    if (rc == TT_OK) {
        tt_jw_key(w, field);
        tt_jw_str(w, b.data, b.len);
    }

    tt_buf_free(&b);

    return rc;
}


static int
tt_profile_enc(tt_txn_t *t, tt_jw_t *w, const void *obj)
{
    const tt_profile_t  *p = obj;

    tt_jw_obj_open(w);
    tt_jw_member_int(w, "v", 1);
    tt_jw_member_str(w, "id", p->id);
    tt_jw_member_str(w, "workspace_id", p->workspace_id);
    tt_jw_member_str(w, "profile_group_id", p->profile_group_id);
    tt_jw_member_str(w, "platform", p->platform ? p->platform : "tiktok");
    tt_jw_member_str(w, "name", p->name);
    tt_jw_member_str(w, "username", p->username);
    tt_jw_member_str(w, "avatar_url", p->avatar_url);
    tt_jw_member_str(w, "open_id", p->open_id);
    tt_jw_member_str(w, "status", tt_profile_status_name(p->status));
    tt_jw_member_int(w, "created_at", p->created_at);
    tt_jw_member_int(w, "expires_at", p->expires_at);
    tt_jw_member_int(w, "refresh_expires_at", p->refresh_expires_at);
    tt_jw_member_str(w, "scope", p->scope);

    if (tt_profile_enc_token(t, w, p->id, "access_token", p->access_token)
        != TT_OK
        || tt_profile_enc_token(t, w, p->id, "refresh_token",
                                p->refresh_token)
           != TT_OK)
    {
        return TT_ERR;
    }

    tt_jw_obj_close(w);

    return TT_OK;
}


static int
tt_profile_dec_token(tt_store_t *st, const tt_json_t *r, const char *id,
    const char *field, tt_arena_t *a, const char **plain)
{
    const char  *hex;

    *plain = NULL;

    hex = tt_js(r, field);
    if (hex == NULL || !st->has_key) {
        return TT_OK;
    }

    if (tt_token_open(st, id, field, hex, a, plain) != TT_OK) {
        st->last_error = "profile token does not open with the token key";
        return TT_ERR;
    }

    return TT_OK;
}


static int
tt_profile_dec(tt_store_t *st, const tt_json_t *r, tt_arena_t *a, void *obj)
{
    size_t         i;
    const char    *s;
    tt_profile_t  *p = obj;

    if (tt_jid(r, "id", p->id) != TT_OK
        || tt_jid(r, "workspace_id", p->workspace_id) != TT_OK
        || tt_jid(r, "profile_group_id", p->profile_group_id) != TT_OK)
    {
        return TT_ERR;
    }

    p->platform = tt_js(r, "platform");
    p->name = tt_js(r, "name");
    p->username = tt_js(r, "username");
    p->avatar_url = tt_js(r, "avatar_url");
    p->open_id = tt_js(r, "open_id");
    p->scope = tt_js(r, "scope");
    p->created_at = tt_ji(r, "created_at", -1);
    p->expires_at = tt_ji(r, "expires_at", -1);
    p->refresh_expires_at = tt_ji(r, "refresh_expires_at", -1);

    s = tt_js(r, "status");
    p->status = TT_PROFILE_ACTIVE;

    for (i = 0; s != NULL && i < TT_ARRAY_SIZE(tt_profile_status_names); i++)
    {
        if (strcmp(s, tt_profile_status_names[i]) == 0) {
            p->status = (tt_profile_status_e) i;
        }
    }

    if (tt_profile_dec_token(st, r, p->id, "access_token", a,
                             &p->access_token)
        != TT_OK)
    {
        return TT_ERR;
    }

    return tt_profile_dec_token(st, r, p->id, "refresh_token", a,
                                &p->refresh_token);
}


int
tt_profile_put(tt_txn_t *t, const tt_profile_t *p)
{
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", p->id) != TT_OK
        || p->workspace_id[0] == '\0')
    {
        return TT_INVALID;
    }

    /* never store a token in the clear */
    if (!t->st->has_key
        && (p->access_token != NULL || p->refresh_token != NULL))
    {
        t->st->last_error = "no token key to seal profile tokens with";
        return TT_INVALID;
    }

    return tt_store_put_json(t, TT_DB_PROFILES, &k, tt_profile_enc, p);
}


int
tt_profile_get(tt_txn_t *t, const char *id, tt_arena_t *a, tt_profile_t *p)
{
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    memset(p, 0, sizeof(tt_profile_t));

    return tt_store_get_json(t, TT_DB_PROFILES, &k, a, tt_profile_dec, p);
}


typedef struct {
    const char     *ws_id;
    const char     *group_id;
} tt_profile_filter_t;


static int
tt_profile_keep(const void *obj, const void *ctx)
{
    const tt_profile_t         *p = obj;
    const tt_profile_filter_t  *f = ctx;

    return (f->ws_id == NULL || strcmp(p->workspace_id, f->ws_id) == 0)
           && (f->group_id == NULL
               || strcmp(p->profile_group_id, f->group_id) == 0);
}


int
tt_profile_list(tt_txn_t *t, const char *ws_id, const char *group_id,
    tt_arena_t *a, tt_profile_t **out, size_t *n)
{
    tt_profile_filter_t  f;

    tt_txn_check(t);

    f.ws_id = ws_id;
    f.group_id = group_id;

    return tt_store_scan(t, TT_DB_PROFILES, a, tt_profile_dec,
                         tt_profile_keep, &f, sizeof(tt_profile_t),
                         (void **) out, n);
}


int
tt_profile_del(tt_txn_t *t, const char *id)
{
    int        rc;
    MDB_val    v;
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    rc = tt_db_get(t, TT_DB_PROFILES, &k, &v);
    if (rc != TT_OK) {
        return rc;
    }

    return tt_db_del(t, TT_DB_PROFILES, &k);
}


/* posts */

static int
tt_post_index(tt_txn_t *t, const char *ws_id, int64_t created_at,
    int64_t due_at, const char *id, int add)
{
    int        rc;
    tt_skey_t  k;

    if (tt_store_key(&k, "ini", ws_id, (uint64_t) created_at, id) != TT_OK) {
        return TT_INVALID;
    }

    rc = add ? tt_db_put(t, TT_DB_WS_POSTS, &k, "", 0)
             : tt_db_del(t, TT_DB_WS_POSTS, &k);

    if (rc != TT_OK || due_at < 0) {
        return rc;
    }

    tt_store_key(&k, "ui", (uint64_t) due_at, id);

    return add ? tt_db_put(t, TT_DB_DUE, &k, "", 0)
               : tt_db_del(t, TT_DB_DUE, &k);
}


/* drops the index entries the stored record of k holds, if any */
static int
tt_post_unindex(tt_txn_t *t, tt_skey_t *k, const char *id)
{
    int             rc;
    MDB_val         v;
    tt_post_peek_t  old;

    rc = tt_db_get(t, TT_DB_POSTS, k, &v);
    if (rc != TT_OK) {
        return rc;
    }

    if (tt_post_peek(v.mv_data, v.mv_size, &old) != TT_OK) {
        t->st->last_error = "corrupt post record in the store";
        return tt_txn_fail(t, TT_ERR);
    }

    return tt_post_index(t, old.workspace_id, old.created_at, old.due_at, id,
                         0);
}


int
tt_post_put(tt_txn_t *t, const tt_post_t *p)
{
    int        rc;
    tt_buf_t   b;
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", p->id) != TT_OK
        || p->workspace_id[0] == '\0' || p->created_at < 0)
    {
        return TT_INVALID;
    }

    tt_buf_init(&b);

    rc = tt_post_encode(p, &b);
    if (rc != TT_OK) {
        tt_buf_free(&b);
        return rc;
    }

    rc = tt_post_unindex(t, &k, p->id);
    if (rc == TT_OK || rc == TT_NOTFOUND) {
        rc = tt_db_put(t, TT_DB_POSTS, &k, b.data, b.len);
    }

    tt_buf_free(&b);

    if (rc != TT_OK) {
        /* old index entries may be gone: the txn must not commit */
        return tt_txn_fail(t, rc == TT_INVALID ? TT_ERR : rc);
    }

    return tt_post_index(t, p->workspace_id, p->created_at, p->due_at, p->id,
                         1);
}


int
tt_post_get_raw(tt_txn_t *t, const char *id, tt_str_t *rec)
{
    int        rc;
    MDB_val    v;
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    rc = tt_db_get(t, TT_DB_POSTS, &k, &v);
    if (rc != TT_OK) {
        return rc;
    }

    rec->data = v.mv_data;
    rec->len = v.mv_size;

    return TT_OK;
}


int
tt_post_get(tt_txn_t *t, const char *id, tt_arena_t *a, tt_post_t *p)
{
    int       rc;
    tt_str_t  rec;

    rc = tt_post_get_raw(t, id, &rec);
    if (rc != TT_OK) {
        return rc;
    }

    if (tt_post_decode(rec.data, rec.len, a, p) != TT_OK) {
        t->st->last_error = "corrupt post record in the store";
        return TT_ERR;
    }

    return TT_OK;
}


int
tt_post_del(tt_txn_t *t, const char *id)
{
    int        rc;
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    rc = tt_post_unindex(t, &k, id);
    if (rc != TT_OK) {
        return rc;
    }

    return tt_db_del(t, TT_DB_POSTS, &k);
}


int
tt_post_iter(tt_txn_t *t, const char *ws_id, tt_post_iter_pt cb, void *ctx)
{
    int          rc, after;
    char         id[TT_ID_SIZE];
    MDB_val      key;
    tt_str_t     rec;
    tt_skey_t    k;
    MDB_cursor  *c;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", ws_id) != TT_OK) {
        return TT_OK;
    }

    c = NULL;
    rc = tt_db_cursor(t, TT_DB_WS_POSTS, &c);
    after = 0;

    while (rc == TT_OK) {
        rc = tt_db_seek(t, c, &k, after, &key);

        if (rc != TT_OK || key.mv_size != 2 * TT_ID_SIZE + 8
            || memcmp(key.mv_data, k.data, TT_ID_SIZE) != 0)
        {
            break;
        }

        /* the callback may write: keep the position, not the cursor */
        tt_store_key(&k, "b", key.mv_data, key.mv_size);
        tt_store_key_id(k.data + TT_ID_SIZE + 8, id);
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

    if (c != NULL) {
        mdb_cursor_close(c);
    }

    return rc == TT_NOTFOUND ? TT_OK : rc;
}

/*
 * Every post in id order, from the one after pos ("": from the first),
 * at most max of them; pos gets the last id handed to cb, or "" when the
 * walk reached the end.  Lets the scheduler walk a large store in short
 * transactions.  cb returns non-zero to stop (pos is then its post).
 */
int
tt_post_scan(tt_txn_t *t, char pos[TT_ID_SIZE], size_t max,
    tt_post_iter_pt cb, void *ctx)
{
    int          rc, after;
    size_t       n;
    char         id[TT_ID_SIZE];
    MDB_val      key;
    tt_str_t     rec;
    tt_skey_t    k;
    MDB_cursor  *c;

    static const uint8_t  first[TT_ID_SIZE];

    tt_txn_check(t);

    after = (pos[0] != '\0');

    if (!after || tt_store_key(&k, "i", pos) != TT_OK) {
        tt_store_key(&k, "b", first, sizeof(first));
        after = 0;
    }

    c = NULL;
    rc = tt_db_cursor(t, TT_DB_POSTS, &c);

    for (n = 0; rc == TT_OK && n < max; n++) {
        rc = tt_db_seek(t, c, &k, after, &key);

        if (rc != TT_OK) {
            break;
        }

        if (key.mv_size != TT_ID_SIZE) {
            /* not a post's key: nothing sane can follow */
            rc = TT_NOTFOUND;
            break;
        }

        /* the callback may write: keep the position, not the cursor */
        tt_store_key(&k, "b", key.mv_data, key.mv_size);
        tt_store_key_id(k.data, id);
        after = 1;
        memcpy(pos, id, TT_ID_SIZE);

        rc = tt_post_get_raw(t, id, &rec);

        if (rc == TT_NOTFOUND) {
            rc = TT_OK;
            continue;
        }

        if (rc == TT_OK && cb(ctx, id, &rec) != 0) {
            break;
        }
    }

    if (c != NULL) {
        mdb_cursor_close(c);
    }

    if (rc == TT_NOTFOUND) {
        pos[0] = '\0';
        return TT_OK;
    }

    if (rc != TT_OK) {
        pos[0] = '\0';
    }

    return rc;
}



int
tt_due_first(tt_txn_t *t, int64_t *at, char id[TT_ID_SIZE])
{
    int          rc;
    MDB_val      key;
    MDB_cursor  *c;

    tt_txn_check(t);

    rc = tt_db_cursor(t, TT_DB_DUE, &c);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, NULL, MDB_FIRST));

    if (rc == TT_OK && key.mv_size == 8 + TT_ID_SIZE) {
        *at = (int64_t) tt_store_be64(key.mv_data);
        tt_store_key_id((uint8_t *) key.mv_data + 8, id);
    }

    mdb_cursor_close(c);

    return tt_txn_fail(t, rc);
}


int
tt_due_iter(tt_txn_t *t, int64_t until, tt_due_iter_pt cb, void *ctx)
{
    int          rc, after;
    char         id[TT_ID_SIZE];
    int64_t      at;
    MDB_val      key;
    tt_skey_t    k;
    MDB_cursor  *c;

    tt_txn_check(t);

    rc = tt_db_cursor(t, TT_DB_DUE, &c);
    if (rc != TT_OK) {
        return rc;
    }

    tt_store_key(&k, "u", (uint64_t) 0);
    after = 0;

    while (rc == TT_OK) {
        rc = tt_db_seek(t, c, &k, after, &key);
        if (rc != TT_OK || key.mv_size != 8 + TT_ID_SIZE) {
            break;
        }

        at = (int64_t) tt_store_be64(key.mv_data);
        if (at > until) {
            break;
        }

        /* the callback may claim the post and so move this very key */
        tt_store_key(&k, "b", key.mv_data, key.mv_size);
        tt_store_key_id(k.data + 8, id);
        after = 1;

        if (cb(ctx, at, id) != 0) {
            break;
        }
    }

    mdb_cursor_close(c);

    return rc == TT_NOTFOUND ? TT_OK : rc;
}


/* idempotency */

static int
tt_idem_enc(tt_txn_t *t, tt_jw_t *w, const void *obj)
{
    char              hex[65];
    const tt_idem_t  *rec = obj;

    tt_hex(rec->hash, 32, hex);

    tt_jw_obj_open(w);
    tt_jw_member_int(w, "v", 1);
    tt_jw_member_str(w, "hash", hex);
    tt_jw_member_int(w, "route", rec->route);
    tt_jw_member_int(w, "status", rec->status);
    tt_jw_key(w, "body");
    tt_jw_str(w, rec->body.data ? rec->body.data : "", rec->body.len);
    tt_jw_member_int(w, "expires_at", rec->expires_at);
    tt_jw_obj_close(w);

    return TT_OK;
}


static int
tt_idem_dec(tt_store_t *st, const tt_json_t *r, tt_arena_t *a, void *obj)
{
    tt_idem_t    *rec = obj;
    tt_json_t    *body;
    const char   *hash;

    hash = tt_js(r, "hash");
    body = tt_json_get(r, "body");

    if (hash == NULL || strlen(hash) != 64
        || tt_hex_decode(hash, 64, rec->hash) != TT_OK
        || body == NULL || body->type != TT_JSON_STRING)
    {
        return TT_ERR;
    }

    rec->body.data = body->str;
    rec->body.len = body->len;
    rec->route = (int) tt_ji(r, "route", 0);
    rec->status = (int) tt_ji(r, "status", 0);
    rec->expires_at = tt_ji(r, "expires_at", 0);

    return TT_OK;
}


static int
tt_idem_key(tt_skey_t *k, const char *ws_id, const tt_str_t *key)
{
    if (key->len == 0 || key->len > TT_IDEM_KEY_MAX) {
        return TT_INVALID;
    }

    return tt_store_key(k, "ib", ws_id, key->data, key->len);
}


int
tt_idem_get(tt_txn_t *t, const char *ws_id, const tt_str_t *key,
    int64_t now_ms, tt_arena_t *a, tt_idem_t *rec)
{
    int        rc;
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_idem_key(&k, ws_id, key) != TT_OK) {
        return TT_INVALID;
    }

    memset(rec, 0, sizeof(tt_idem_t));

    rc = tt_store_get_json(t, TT_DB_IDEM, &k, a, tt_idem_dec, rec);

    /*
     * purge runs now and then: until it does, expired is absent, by the
     * caller's clock so that one request sees one time throughout
     */
    if (rc == TT_OK && rec->expires_at <= now_ms) {
        return TT_NOTFOUND;
    }

    return rc;
}


static int
tt_idem_exp_key(tt_skey_t *k, int64_t expires_at, const char *ws_id,
    const tt_str_t *key)
{
    return tt_store_key(k, "uib", (uint64_t) expires_at, ws_id, key->data,
                        key->len);
}


int
tt_idem_put(tt_txn_t *t, const char *ws_id, const tt_str_t *key,
    const tt_idem_t *rec)
{
    int          rc;
    MDB_val      v;
    tt_idem_t    old;
    tt_skey_t    k, e;
    tt_arena_t  *a;

    tt_txn_check(t);

    if (tt_idem_key(&k, ws_id, key) != TT_OK || rec->expires_at < 0) {
        return TT_INVALID;
    }

    rc = tt_db_get(t, TT_DB_IDEM, &k, &v);

    if (rc == TT_OK) {
        a = tt_arena_create(4096);
        if (a == NULL) {
            return TT_NOMEM;
        }

        rc = tt_store_parse(t->st, &v, a, tt_idem_dec, &old);
        tt_arena_destroy(a);

        if (rc == TT_OK) {
            tt_idem_exp_key(&e, old.expires_at, ws_id, key);
            rc = tt_db_del(t, TT_DB_IDEM_EXP, &e);
        }
    }

    if (rc != TT_OK && rc != TT_NOTFOUND) {
        return tt_txn_fail(t, rc);
    }

    rc = tt_store_put_json(t, TT_DB_IDEM, &k, tt_idem_enc, rec);
    if (rc != TT_OK) {
        return rc;
    }

    tt_idem_exp_key(&e, rec->expires_at, ws_id, key);

    return tt_db_put(t, TT_DB_IDEM_EXP, &e, "", 0);
}


int
tt_idem_purge(tt_txn_t *t, int64_t now_ms, unsigned max)
{
    int          rc;
    MDB_val      key;
    unsigned     n;
    tt_skey_t    k, e;
    MDB_cursor  *c;

    tt_txn_check(t);

    rc = tt_db_cursor(t, TT_DB_IDEM_EXP, &c);
    if (rc != TT_OK) {
        return rc;
    }

    for (n = 0; n < max && rc == TT_OK; n++) {
        rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, NULL, MDB_FIRST));
        if (rc != TT_OK || key.mv_size <= 8 + TT_ID_SIZE
            || (int64_t) tt_store_be64(key.mv_data) > now_ms)
        {
            break;
        }

        /* the record's key is this one without the time */
        tt_store_key(&e, "b", key.mv_data, key.mv_size);
        tt_store_key(&k, "b", e.data + 8, e.val.mv_size - 8);

        rc = tt_db_del(t, TT_DB_IDEM, &k);
        if (rc == TT_OK) {
            rc = tt_db_del(t, TT_DB_IDEM_EXP, &e);
        }
    }

    mdb_cursor_close(c);

    return tt_txn_fail(t, rc == TT_NOTFOUND ? TT_OK : rc);
}
