/*
 * Copyright (C) the ngx_tiktok authors.
 * JSON records: encode, parse, scan, and member helpers.
 */


#include "tt_store_int.h"


/* JSON records */

int
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


int
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


int
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
void *
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
int
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


const char *
tt_js(const tt_json_t *r, const char *key)
{
    tt_json_t  *v;

    v = tt_json_get(r, key);

    return (v != NULL && v->type == TT_JSON_STRING) ? v->str : NULL;
}


int64_t
tt_ji(const tt_json_t *r, const char *key, int64_t def)
{
    tt_json_t  *v;

    v = tt_json_get(r, key);

    return (v != NULL && v->type == TT_JSON_NUMBER && v->is_int) ? v->i : def;
}


/* an id member into a fixed buffer; absent or null gives "" */
int
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


void
tt_jw_member_str(tt_jw_t *w, const char *key, const char *s)
{
    tt_jw_key(w, key);
    tt_jw_cstr(w, s);
}


void
tt_jw_member_int(tt_jw_t *w, const char *key, int64_t v)
{
    tt_jw_key(w, key);
    tt_jw_int(w, v);
}


/*
 * A profile's status by name, both ways: below the profile records and
 * the events that name it, so that neither calls the other for it.
 */
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


/* a stored status; an unknown or missing one reads as active */
tt_profile_status_e
tt_profile_status_parse(const char *s)
{
    size_t  i;

    for (i = 0; s != NULL && i < TT_ARRAY_SIZE(tt_profile_status_names); i++)
    {
        if (strcmp(s, tt_profile_status_names[i]) == 0) {
            return (tt_profile_status_e) i;
        }
    }

    return TT_PROFILE_ACTIVE;
}
