/*
 * Copyright (C) the ngx_tiktok authors.
 * The store's ground floor: the environment once open (close, growth,
 * keys to seal with, codes), transactions, keys, raw access and meta.
 * Every record family calls down into this file, and it calls none of
 * them: opening, the schema and its migrations are tt_store.c's.
 */


#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "tt_store_int.h"


size_t
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


void
tt_store_refresh_size(tt_store_t *st)
{
    MDB_envinfo  info;

    if (mdb_env_info(st->env, &info) == MDB_SUCCESS) {
        st->map_size = info.me_mapsize;
    }
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

    tt_counts_release();
}


int
tt_store_sync(tt_store_t *st)
{
    int          rc;
    unsigned     flags;
    MDB_envinfo  info;

    /* tiktok_store_nosync: never */
    if (mdb_env_get_flags(st->env, &flags) == MDB_SUCCESS
        && (flags & MDB_NOSYNC))
    {
        return TT_OK;
    }

    /* no commit since the last sync (a batch of 4xx wrote nothing) */
    if (mdb_env_info(st->env, &info) != MDB_SUCCESS) {
        info.me_last_txnid = 0;

    } else if ((uint64_t) info.me_last_txnid == st->synced_txnid) {
        return TT_OK;
    }

    rc = mdb_env_sync(st->env, 1);
    if (rc != MDB_SUCCESS) {
        return tt_store_rc(st, rc);
    }

    st->synced_txnid = (uint64_t) info.me_last_txnid;

    return TT_OK;
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
    t->absorbed = 0;
    t->parent = NULL;
    t->counts = NULL;
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
    child->absorbed = 0;
    child->parent = parent;
    child->counts = NULL;

    if (parent->rc != TT_OK || parent->txn == NULL) {
        child->rc = parent->rc != TT_OK ? parent->rc : TT_ERR;
        return child->rc;
    }

    /*
     * One level: the counts summed in memory (tt_store_counts.c) go from
     * a child to its parent, and a grandchild's would be applied twice
     */
    if (!parent->write || parent->parent != NULL) {
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
        tt_counts_free(t);
        return t->rc != TT_OK ? t->rc : TT_ERR;
    }

    /* the lists' counts are written last, each once */
    if (t->rc == TT_OK && t->write && t->parent == NULL) {
        (void) tt_counts_flush(t);
    }

    if (t->rc != TT_OK) {
        tt_txn_abort(t);
        return t->rc;
    }

    rc = mdb_txn_commit(t->txn);
    t->txn = NULL;
    t->rc = tt_store_rc(t->st, rc);

    /* a nested one's counts are its parent's to write now */
    if (t->rc == TT_OK && t->parent != NULL && tt_counts_commit(t) != TT_OK) {
        t->st->last_error = "a list count could not be kept";
        (void) tt_txn_fail(t->parent, TT_NOMEM);
    }

    tt_counts_free(t);

    return t->rc;
}


void
tt_txn_abort(tt_txn_t *t)
{
    if (t->txn != NULL) {
        mdb_txn_abort(t->txn);
        t->txn = NULL;
    }

    tt_counts_free(t);
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
