/*
 * Copyright (C) the ngx_tiktok authors.
 * The lists' counts cell by cell: a count moved, and the counts below its
 * cell built when it grows past TT_LIST_LEAF_MAX or dropped when it falls
 * to TT_LIST_LEAF_LOW (tt_store_list_int.h); every count made again from
 * the entries (schemas 8 and 9); and a check of every count against the
 * entries.
 */


#include "tt_store_int.h"
#include "tt_store_list_int.h"


/* a cell of the counts: its list, level and keys (both ends in) */
typedef struct {
    tt_skey_t       prefix;
    int             level;
    int             kind;
    uint64_t        from;
    uint64_t        to;
    uint8_t         id[TT_LIST_IDPART];     /* the id levels; zeros past */
} tt_list_span_t;


/* the id bytes of a cell of no id, or the start of a cell's */
const uint8_t  tt_list_id0[TT_LIST_IDPART];


static int tt_list_span_of(const uint8_t *key, size_t len,
    tt_list_span_t *s);
static int tt_list_span_parent(const tt_list_span_t *s);
static int tt_list_count_val(const MDB_val *v, uint64_t *n, int *leaf);
static int tt_list_cell_put(tt_txn_t *t, MDB_cursor *c, const tt_skey_t *k,
    uint64_t n);
static int tt_list_build(tt_txn_t *t, MDB_cursor *c,
    const tt_list_span_t *cell, uint64_t *total);
static int tt_list_drop_below(tt_txn_t *t, MDB_cursor *c,
    const tt_list_span_t *cell);
static int tt_list_span_entries(tt_txn_t *t, MDB_cursor *l,
    const tt_list_span_t *s, uint64_t *n);
static int tt_list_corrupt(tt_txn_t *t, const char *what);


static int
tt_list_span_of(const uint8_t *key, size_t len, tt_list_span_t *s)
{
    uint64_t  bucket;

    if (len < TT_LIST_COUNT_KEY) {
        return TT_INVALID;
    }

    s->level = key[TT_LIST_PREFIX];
    s->kind = key[TT_LIST_SCOPE];

    if ((s->kind != TT_LIST_CREATED && s->kind != TT_LIST_SCHED)
        || s->level > TT_LIST_LAST
        || (s->kind == TT_LIST_SCHED && s->level == 0)
        || len != (size_t) tt_list_count_len(s->level))
    {
        return TT_INVALID;
    }

    memcpy(s->prefix.data, key, TT_LIST_PREFIX);
    s->prefix.val.mv_data = s->prefix.data;
    s->prefix.val.mv_size = TT_LIST_PREFIX;

    bucket = tt_store_be64(key + TT_LIST_PREFIX + 1);
    memset(s->id, 0, TT_LIST_IDPART);
    memcpy(s->id, key + TT_LIST_COUNT_KEY, tt_list_idpart(s->level));

    if (s->level == 0) {
        s->from = 0;
        s->to = UINT64_MAX;

    } else {
        s->from = bucket << tt_list_shifts[s->level];
        s->to = s->from | ((((uint64_t) 1) << tt_list_shifts[s->level]) - 1);
    }

    return TT_OK;
}


/* whether the cell may have cells below it (levels 1 to the last but one) */
static int
tt_list_span_parent(const tt_list_span_t *s)
{
    return s->level >= 1 && s->level < TT_LIST_LAST;
}


/* whether a key's id bytes (as held) are those of the cell */
static int
tt_list_span_id(const tt_list_span_t *s, const uint8_t *id)
{
    return memcmp(id, s->id, tt_list_idpart(s->level)) == 0;
}


static int
tt_list_count_val(const MDB_val *v, uint64_t *n, int *leaf)
{
    uint64_t  raw;

    if (v->mv_size != 8) {
        return TT_INVALID;
    }

    raw = tt_store_be64(v->mv_data);
    *n = raw & ~TT_LIST_LEAF;
    *leaf = (raw & TT_LIST_LEAF) != 0;

    return TT_OK;
}


static int
tt_list_corrupt(tt_txn_t *t, const char *what)
{
    t->st->last_error = what;
    return tt_txn_fail(t, TT_ERR);
}


/*
 * A count moved by delta, through c.  *below tells whether the cells
 * under it take the same entries' changes: not when it is a leaf, nor
 * when its cells below were just built from the entries (which hold the
 * changes already) or dropped.
 */
int
tt_list_count_change(tt_txn_t *t, MDB_cursor *c, const uint8_t *key,
    size_t len, int64_t delta, int *below)
{
    int             rc, found, leaf, parent, flags;
    MDB_val         k, v;
    uint64_t        n;
    tt_skey_t       val;
    tt_list_span_t  cell;

    *below = 0;

    if (tt_list_span_of(key, len, &cell) != TT_OK) {
        return tt_list_corrupt(t, "corrupt list count key");
    }

    k.mv_data = (void *) key;
    k.mv_size = len;

    rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
    found = (rc == MDB_SUCCESS);

    if (!found && rc != MDB_NOTFOUND) {
        return tt_txn_fail(t, tt_store_rc(t->st, rc));
    }

    n = 0;
    leaf = 1;           /* a new cell has nothing below it */

    if (found && tt_list_count_val(&v, &n, &leaf) != TT_OK) {
        return tt_list_corrupt(t, "corrupt list count in the store");
    }

    if (delta < 0 && n < (uint64_t) -delta) {
        return tt_list_corrupt(t, "list count below zero in the store");
    }

    parent = tt_list_span_parent(&cell);

    if (delta == 0) {
        *below = parent && found && !leaf;
        return TT_OK;
    }

    n += (uint64_t) delta;
    flags = found ? MDB_CURRENT : 0;

    if (parent && !leaf && n <= TT_LIST_LEAF_LOW) {
        rc = tt_list_drop_below(t, c, &cell);
        if (rc != TT_OK) {
            return rc;
        }

        leaf = 1;
        flags = 0;      /* c moved */

    } else if (parent && !leaf) {
        *below = 1;
    }

    k.mv_data = (void *) key;
    k.mv_size = len;

    if (n == 0) {
        rc = (flags == MDB_CURRENT)
             ? mdb_cursor_del(c, 0)
             : mdb_del(t->txn, mdb_cursor_dbi(c), &k, NULL);

        return tt_txn_fail(t, tt_store_rc(t->st, rc));
    }

    if (parent && leaf && n > TT_LIST_LEAF_MAX) {
        leaf = 0;
    }

    tt_store_key(&val, "u", n | ((parent && leaf) ? TT_LIST_LEAF : 0));
    v.mv_data = val.data;
    v.mv_size = 8;

    rc = tt_txn_fail(t, tt_store_rc(t->st,
                                    mdb_cursor_put(c, &k, &v, flags)));

    /* grown past a leaf: the cells below counted from the entries */
    if (rc == TT_OK && parent && !leaf && !*below) {
        rc = tt_list_build(t, c, &cell, NULL);
    }

    return rc;
}


/* the count key of the cell above key's (TT_NOTFOUND at levels 0 and 1) */
int
tt_list_count_up(const uint8_t *key, size_t len, tt_skey_t *up)
{
    tt_list_span_t  cell;

    if (tt_list_span_of(key, len, &cell) != TT_OK) {
        return TT_INVALID;
    }

    if (cell.level <= 1) {
        return TT_NOTFOUND;
    }

    return tt_list_count_key(up, &cell.prefix, cell.level - 1, cell.from,
                             cell.id);
}


/* whether the cell of key is stored with cells below it */
int
tt_list_count_stored(tt_txn_t *t, const uint8_t *key, size_t len, int *below)
{
    int             rc, leaf;
    MDB_val         k, v;
    uint64_t        n;
    tt_list_span_t  cell;

    *below = 0;

    if (tt_list_span_of(key, len, &cell) != TT_OK) {
        return tt_list_corrupt(t, "corrupt list count key");
    }

    if (!tt_list_span_parent(&cell)) {
        return TT_OK;
    }

    k.mv_data = (void *) key;
    k.mv_size = len;

    rc = mdb_get(t->txn, t->st->dbi[TT_DB_POST_COUNTS], &k, &v);

    if (rc == MDB_NOTFOUND) {
        return TT_OK;
    }

    if (rc != MDB_SUCCESS) {
        return tt_txn_fail(t, tt_store_rc(t->st, rc));
    }

    if (tt_list_count_val(&v, &n, &leaf) != TT_OK) {
        return tt_list_corrupt(t, "corrupt list count in the store");
    }

    *below = !leaf;

    return TT_OK;
}


/* a cell's count written as it is now: a leaf unless it has cells below */
static int
tt_list_cell_put(tt_txn_t *t, MDB_cursor *c, const tt_skey_t *k, uint64_t n)
{
    int             rc, grow;
    MDB_val         key, v;
    tt_skey_t       val;
    tt_list_span_t  cell;

    if (tt_list_span_of(k->data, k->val.mv_size, &cell) != TT_OK) {
        return tt_list_corrupt(t, "corrupt list count key");
    }

    grow = tt_list_span_parent(&cell) && n > TT_LIST_LEAF_MAX;

    tt_store_key(&val, "u",
                 n | ((tt_list_span_parent(&cell) && !grow) ? TT_LIST_LEAF
                                                            : 0));
    key = k->val;
    v.mv_data = val.data;
    v.mv_size = 8;

    rc = tt_txn_fail(t, tt_store_rc(t->st, mdb_cursor_put(c, &key, &v, 0)));

    return (rc == TT_OK && grow) ? tt_list_build(t, c, &cell, NULL) : rc;
}


/*
 * The cells below a cell, counted from its entries (read in key order,
 * so that each cell below is one run of them); one that holds more than
 * TT_LIST_LEAF_MAX gets its own below it in turn.  *total, if asked,
 * the entries read.
 */
static int
tt_list_build(tt_txn_t *t, MDB_cursor *c, const tt_list_span_t *cell,
    uint64_t *total)
{
    int          rc, op, end;
    MDB_val      key;
    uint64_t     n, at, all;
    tt_skey_t    k, run;
    MDB_cursor  *l;

    rc = tt_db_cursor(t, TT_DB_POST_LIST, &l);
    if (rc != TT_OK) {
        return rc;
    }

    tt_store_key(&k, "bub", cell->prefix.data, (size_t) TT_LIST_PREFIX,
                 cell->from, cell->id, (size_t) TT_LIST_IDPART);
    key = k.val;
    n = 0;
    all = 0;
    run.val.mv_size = 0;

    for (op = MDB_SET_RANGE; /* void */ ; op = MDB_NEXT) {
        rc = mdb_cursor_get(l, &key, NULL, op);

        if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
            rc = tt_txn_fail(t, tt_store_rc(t->st, rc));
            break;
        }

        at = 0;
        end = (rc == MDB_NOTFOUND || key.mv_size != TT_LIST_KEY
               || memcmp(key.mv_data, cell->prefix.data, TT_LIST_PREFIX)
                  != 0
               || (at = tt_store_be64((uint8_t *) key.mv_data
                                      + TT_LIST_PREFIX)) > cell->to
               || !tt_list_span_id(cell, (uint8_t *) key.mv_data
                                         + TT_LIST_PREFIX + 8));

        if (!end) {
            tt_list_count_key(&k, &cell->prefix, cell->level + 1, at,
                              (uint8_t *) key.mv_data + TT_LIST_PREFIX + 8);
        }

        /* a run of one cell below ends */
        if (n > 0
            && (end || memcmp(k.data, run.data, run.val.mv_size) != 0))
        {
            rc = tt_list_cell_put(t, c, &run, n);
            if (rc != TT_OK) {
                break;
            }

            n = 0;
        }

        if (end) {
            rc = TT_OK;
            break;
        }

        if (n++ == 0) {
            run = k;
            run.val.mv_data = run.data;
        }

        all++;
    }

    mdb_cursor_close(l);

    if (total != NULL) {
        *total = all;
    }

    return rc;
}


/* every count below a cell deleted, level by level */
static int
tt_list_drop_below(tt_txn_t *t, MDB_cursor *c, const tt_list_span_t *cell)
{
    int             rc, level;
    MDB_val         key;
    uint64_t        hi;
    tt_skey_t       k;
    const uint8_t  *p;

    for (level = cell->level + 1; level <= TT_LIST_LAST; level++) {
        hi = cell->to >> tt_list_shifts[level];

        tt_list_count_key(&k, &cell->prefix, level, cell->from, cell->id);

        for ( ;; ) {
            key = k.val;
            rc = mdb_cursor_get(c, &key, NULL, MDB_SET_RANGE);

            if (rc == MDB_NOTFOUND) {
                break;
            }

            if (rc != MDB_SUCCESS) {
                return tt_txn_fail(t, tt_store_rc(t->st, rc));
            }

            p = key.mv_data;

            if (key.mv_size != (size_t) tt_list_count_len(level)
                || memcmp(p, cell->prefix.data, TT_LIST_PREFIX) != 0
                || p[TT_LIST_PREFIX] != level
                || tt_store_be64(p + TT_LIST_PREFIX + 1) > hi
                || !tt_list_span_id(cell, p + TT_LIST_COUNT_KEY))
            {
                break;
            }

            rc = mdb_cursor_del(c, 0);
            if (rc != MDB_SUCCESS) {
                return tt_txn_fail(t, tt_store_rc(t->st, rc));
            }
        }
    }

    return TT_OK;
}


/*
 * Every count made again from the entries, each list's cells of level 1
 * built as those below a cell would be, and its total.  Schema 8: counts
 * kept only under cells of more than TT_LIST_LEAF_MAX (the stores before
 * kept them all); schema 9: a level of one key above the id's (both
 * orders go down to it, creation stopped at 256 ms).
 */
int
tt_list_recount(tt_txn_t *t)
{
    int             rc;
    MDB_val         key;
    uint64_t        total;
    tt_skey_t       k;
    MDB_cursor     *l, *c;
    tt_list_span_t  list;

    rc = tt_counts_flush(t);
    if (rc != TT_OK) {
        return rc;
    }

    rc = mdb_drop(t->txn, t->st->dbi[TT_DB_POST_COUNTS], 0);
    if (rc != MDB_SUCCESS) {
        return tt_txn_fail(t, tt_store_rc(t->st, rc));
    }

    rc = tt_db_cursor(t, TT_DB_POST_LIST, &l);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_db_cursor(t, TT_DB_POST_COUNTS, &c);
    if (rc != TT_OK) {
        mdb_cursor_close(l);
        return rc;
    }

    /* list by list: the first entry past the last list's keys */
    rc = tt_store_rc(t->st, mdb_cursor_get(l, &key, NULL, MDB_FIRST));

    while (rc == TT_OK) {
        memset(&list, 0, sizeof(list));

        if (key.mv_size != TT_LIST_KEY) {
            rc = tt_list_corrupt(t, "corrupt list entry in the store");
            break;
        }

        tt_store_key(&list.prefix, "b", key.mv_data, (size_t) TT_LIST_PREFIX);
        list.kind = list.prefix.data[TT_LIST_SCOPE];
        list.to = UINT64_MAX;

        rc = tt_list_build(t, c, &list, &total);

        if (rc == TT_OK && list.kind == TT_LIST_CREATED) {
            tt_list_count_key(&k, &list.prefix, 0, 0, NULL);
            rc = tt_list_cell_put(t, c, &k, total);
        }

        if (rc != TT_OK) {
            break;
        }

        tt_store_key(&k, "bub", list.prefix.data, (size_t) TT_LIST_PREFIX,
                     UINT64_MAX, "\xff", (size_t) 1);
        key = k.val;
        rc = tt_store_rc(t->st, mdb_cursor_get(l, &key, NULL,
                                               MDB_SET_RANGE));
    }

    mdb_cursor_close(l);
    mdb_cursor_close(c);

    return rc == TT_NOTFOUND ? TT_OK : tt_txn_fail(t, rc);
}


/* the entries of a cell, counted one by one through l */
static int
tt_list_span_entries(tt_txn_t *t, MDB_cursor *l, const tt_list_span_t *s,
    uint64_t *n)
{
    int             rc, op;
    MDB_val         key;
    tt_skey_t       k;
    const uint8_t  *p;

    *n = 0;
    tt_store_key(&k, "bub", s->prefix.data, (size_t) TT_LIST_PREFIX, s->from,
                 s->id, (size_t) TT_LIST_IDPART);
    key = k.val;

    for (op = MDB_SET_RANGE; /* void */ ; op = MDB_NEXT) {
        rc = mdb_cursor_get(l, &key, NULL, op);
        if (rc == MDB_NOTFOUND) {
            return TT_OK;
        }

        if (rc != MDB_SUCCESS) {
            return tt_txn_fail(t, tt_store_rc(t->st, rc));
        }

        p = key.mv_data;

        if (key.mv_size != TT_LIST_KEY
            || memcmp(p, s->prefix.data, TT_LIST_PREFIX) != 0
            || tt_store_be64(p + TT_LIST_PREFIX) > s->to
            || !tt_list_span_id(s, p + TT_LIST_PREFIX + 8))
        {
            return TT_OK;
        }

        (*n)++;
    }
}


/*
 * Every count against the entries: a cell counts the entries in its
 * keys; a leaf holds at most TT_LIST_LEAF_MAX and has no cells below it;
 * any other holds more than TT_LIST_LEAF_LOW and its cells below add up
 * to it; a cell below level 1 is under one that is not a leaf; and every
 * entry of a list is in its cells of level 1 and, by creation, its total.
 * It reads the whole store: for tests and an operator's check.
 */
int
tt_list_check(tt_txn_t *t, char *err, size_t err_len)
{
    int             rc, op, got, leaf, below, ok;
    MDB_val         key, v, key2, v2;
    uint64_t        n, in, sum, sub;
    tt_skey_t       k;
    MDB_cursor     *c, *c2, *l;
    tt_list_span_t  cell, s2;

    rc = tt_counts_flush(t);
    if (rc != TT_OK) {
        snprintf(err, err_len, "counts not written");
        return rc;
    }

    c = c2 = l = NULL;
    rc = tt_db_cursor(t, TT_DB_POST_COUNTS, &c);
    if (rc == TT_OK) {
        rc = tt_db_cursor(t, TT_DB_POST_COUNTS, &c2);
    }
    if (rc == TT_OK) {
        rc = tt_db_cursor(t, TT_DB_POST_LIST, &l);
    }

    ok = 1;

    for (op = MDB_FIRST; rc == TT_OK && ok; op = MDB_NEXT) {
        rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, &v, op));
        if (rc != TT_OK) {
            break;
        }

        if (tt_list_span_of(key.mv_data, key.mv_size, &cell) != TT_OK
            || tt_list_count_val(&v, &n, &leaf) != TT_OK)
        {
            snprintf(err, err_len, "a count's key or value is malformed");
            ok = 0;
            break;
        }

        rc = tt_list_span_entries(t, l, &cell, &in);
        if (rc != TT_OK) {
            break;
        }

        if (n != in || n == 0) {
            snprintf(err, err_len, "a level %d count of %llu over %llu "
                     "entries", cell.level, (unsigned long long) n,
                     (unsigned long long) in);
            ok = 0;
            break;
        }

        if (!tt_list_span_parent(&cell) && leaf) {
            snprintf(err, err_len, "a leaf at level %d", cell.level);
            ok = 0;
            break;
        }

        /* the cell above: kept, and no leaf */
        if (cell.level >= 2) {
            if (tt_list_count_up(key.mv_data, key.mv_size, &k) != TT_OK) {
                ok = 0;
                break;
            }

            /* a missing cell has nothing below it either */
            rc = tt_list_count_stored(t, k.data, k.val.mv_size, &below);
            if (rc != TT_OK) {
                break;
            }

            if (!below) {
                snprintf(err, err_len, "a level %d count under no cell or "
                         "a leaf", cell.level);
                ok = 0;
                break;
            }
        }

        if (!tt_list_span_parent(&cell)) {
            continue;
        }

        if (leaf ? n > TT_LIST_LEAF_MAX : n <= TT_LIST_LEAF_LOW) {
            snprintf(err, err_len, "a level %d %s of %llu", cell.level,
                     leaf ? "leaf" : "parent", (unsigned long long) n);
            ok = 0;
            break;
        }

        /* the cells right below it, added up */
        sum = 0;
        tt_list_count_key(&k, &cell.prefix, cell.level + 1, cell.from,
                          cell.id);
        key2 = k.val;

        for (rc = mdb_cursor_get(c2, &key2, &v2, MDB_SET_RANGE);
             rc == MDB_SUCCESS;
             rc = mdb_cursor_get(c2, &key2, &v2, MDB_NEXT))
        {
            if (tt_list_span_of(key2.mv_data, key2.mv_size, &s2) != TT_OK
                || memcmp(key2.mv_data, cell.prefix.data, TT_LIST_PREFIX)
                   != 0
                || s2.level != cell.level + 1 || s2.from > cell.to
                || !tt_list_span_id(&cell, s2.id)
                || tt_list_count_val(&v2, &sub, &below) != TT_OK)
            {
                break;
            }

            sum += sub;
        }

        rc = (rc == MDB_SUCCESS || rc == MDB_NOTFOUND)
             ? TT_OK : tt_store_rc(t->st, rc);

        if (rc == TT_OK && sum != (leaf ? 0 : n)) {
            snprintf(err, err_len, "a level %d %s of %llu over cells of "
                     "%llu", cell.level, leaf ? "leaf" : "parent",
                     (unsigned long long) n, (unsigned long long) sum);
            ok = 0;
        }
    }

    if (rc == TT_NOTFOUND) {
        rc = TT_OK;
    }

    /* every list's entries in its cells of level 1 and its total */
    for (op = MDB_FIRST; rc == TT_OK && ok; op = MDB_SET_RANGE) {
        if (op == MDB_SET_RANGE) {
            key = k.val;
        }

        rc = tt_store_rc(t->st, mdb_cursor_get(l, &key, NULL, op));
        if (rc != TT_OK) {
            rc = (rc == TT_NOTFOUND) ? TT_OK : rc;
            break;
        }

        memset(&cell, 0, sizeof(cell));
        tt_store_key(&cell.prefix, "b", key.mv_data, (size_t) TT_LIST_PREFIX);
        cell.level = 0;
        cell.to = UINT64_MAX;

        rc = tt_list_span_entries(t, l, &cell, &in);

        sum = 0;
        tt_list_count_key(&k, &cell.prefix, 1, 0, NULL);
        key2 = k.val;

        for (got = mdb_cursor_get(c2, &key2, &v2, MDB_SET_RANGE);
             rc == TT_OK && got == MDB_SUCCESS;
             got = mdb_cursor_get(c2, &key2, &v2, MDB_NEXT))
        {
            if (tt_list_span_of(key2.mv_data, key2.mv_size, &s2) != TT_OK
                || memcmp(key2.mv_data, cell.prefix.data, TT_LIST_PREFIX)
                   != 0 || s2.level != 1
                || tt_list_count_val(&v2, &sub, &below) != TT_OK)
            {
                break;
            }

            sum += sub;
        }

        n = in;

        if (rc == TT_OK && cell.prefix.data[TT_LIST_SCOPE] == TT_LIST_CREATED)
        {
            tt_list_count_key(&k, &cell.prefix, 0, 0, NULL);
            key2 = k.val;
            n = (mdb_cursor_get(c2, &key2, &v2, MDB_SET_KEY) == MDB_SUCCESS
                 && tt_list_count_val(&v2, &sub, &below) == TT_OK)
                ? sub : 0;
        }

        if (rc == TT_OK && (sum != in || n != in)) {
            snprintf(err, err_len, "a list of %llu entries with cells of "
                     "%llu and a total of %llu", (unsigned long long) in,
                     (unsigned long long) sum, (unsigned long long) n);
            ok = 0;
        }

        /* the next list: past every key of this one */
        tt_store_key(&k, "bu", cell.prefix.data, (size_t) TT_LIST_PREFIX,
                     UINT64_MAX);
        k.data[k.val.mv_size++] = 0xff;
    }

    if (c != NULL) {
        mdb_cursor_close(c);
    }

    if (c2 != NULL) {
        mdb_cursor_close(c2);
    }

    if (l != NULL) {
        mdb_cursor_close(l);
    }

    if (rc != TT_OK && err[0] == '\0') {
        snprintf(err, err_len, "the store could not be read");
    }

    return rc != TT_OK ? rc : (ok ? TT_OK : TT_ERR);
}
