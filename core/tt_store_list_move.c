/*
 * Copyright (C) the ngx_tiktok authors.
 * The lists' scope digests, remembered; and a queue's re-arrangement's
 * moves in one go: the posts whose scheduled_at alone changed have their
 * lists by scheduled_at moved at the end, list by list, each list's
 * entries and counts walked in key order with one cursor (LMDB then
 * searches one leaf page, not the tree), and each count changed once
 * however many of the moves fall in its bucket.
 */


#include "tt_store_int.h"
#include "tt_store_list_int.h"


/* scope digests remembered, per thread (a queue's posts share theirs) */
#define TT_LIST_DIGESTS     8


/* a post whose lists by scheduled_at move: its old terms, its new time */
typedef struct {
    tt_terms_t      tm;
    int64_t         to;
    char            id[TT_ID_SIZE];     /* as the entries hold it */
} tt_list_move_t;


/*
 * The moves of one transaction, until tt_list_moves_end(), and a table
 * of them by id (open addressing, twice as many slots as moves can be:
 * a slot holds a move's index plus one, 0 when free).
 */
typedef struct {
    tt_txn_t       *t;
    tt_list_move_t *moves;
    size_t          n;
    size_t          cap;
    uint32_t       *slots;
} tt_list_moves_t;


/* one side of a list's moves: the entries out (old times) or in (new) */
typedef struct {
    tt_list_move_t *moves;
    size_t         *idx;            /* in key order */
    uint8_t        *done;           /* the entry went out, or in */
    size_t          n;
    int             out;
} tt_list_side_t;


static __thread tt_list_moves_t  *tt_list_moves;


/*
 * The digests of the last scopes seen, per thread: a post's lists take
 * eight prefixes of four scopes, and a queue's posts share them all.
 */
typedef struct {
    uint8_t         scope[3 * TT_ID_SIZE];
    uint8_t         h[TT_LIST_SCOPE];
    unsigned        valid:1;
} tt_list_digest_t;

static __thread tt_list_digest_t  tt_list_digests[TT_LIST_DIGESTS];
static __thread unsigned          tt_list_digest_next;


int
tt_list_prefix(tt_skey_t *k, const char *ws, const char *group,
    const char *queue, int kind, unsigned cls)
{
    unsigned           i;
    uint8_t            h[32];
    tt_skey_t          scope;
    tt_list_digest_t  *d;

    if (tt_store_key(&scope, "zzz", ws, group, queue) != TT_OK
        || scope.val.mv_size != sizeof(d->scope))
    {
        return TT_INVALID;
    }

    for (i = 0; i < TT_LIST_DIGESTS; i++) {
        d = &tt_list_digests[i];

        if (d->valid && memcmp(d->scope, scope.data, sizeof(d->scope)) == 0) {
            return tt_store_key(k, "bcc", d->h, (size_t) TT_LIST_SCOPE, kind,
                                (int) cls);
        }
    }

    if (tt_sha256(scope.data, scope.val.mv_size, h) != TT_OK) {
        return TT_INVALID;
    }

    d = &tt_list_digests[tt_list_digest_next++ % TT_LIST_DIGESTS];
    memcpy(d->scope, scope.data, sizeof(d->scope));
    memcpy(d->h, h, TT_LIST_SCOPE);
    d->valid = 1;

    return tt_store_key(k, "bcc", h, (size_t) TT_LIST_SCOPE, kind,
                        (int) cls);
}


int
tt_list_moves_begin(tt_txn_t *t)
{
    tt_list_moves_t  *m;

    if (tt_list_moves != NULL) {
        return TT_CONFLICT;
    }

    m = calloc(1, sizeof(tt_list_moves_t));
    if (m == NULL) {
        return TT_NOMEM;
    }

    m->t = t;
    tt_list_moves = m;

    return TT_OK;
}


/* the slot of the move of the held id, or the free one where it would go */
static uint32_t *
tt_list_move_slot(tt_list_moves_t *m, const char *held)
{
    size_t    i, mask;
    uint32_t  h, *slot;

    h = 2166136261u;

    for (i = 0; i < TT_ID_SIZE && held[i] != '\0'; i++) {
        h = (h ^ (uint8_t) held[i]) * 16777619u;
    }

    mask = 2 * m->cap - 1;

    for (i = h & mask; /* void */ ; i = (i + 1) & mask) {
        slot = &m->slots[i];

        if (*slot == 0
            || memcmp(m->moves[*slot - 1].id, held, TT_ID_SIZE) == 0)
        {
            return slot;
        }
    }
}


/* room for twice the moves, their table made again */
static int
tt_list_moves_grow(tt_list_moves_t *m)
{
    size_t           i, cap;
    uint32_t        *slots;
    tt_list_move_t  *mv;

    cap = m->cap ? 2 * m->cap : 256;

    if (cap > UINT32_MAX / 2) {
        return TT_NOMEM;
    }

    mv = realloc(m->moves, cap * sizeof(tt_list_move_t));
    if (mv == NULL) {
        return TT_NOMEM;
    }

    m->moves = mv;

    slots = calloc(2 * cap, sizeof(uint32_t));
    if (slots == NULL) {
        return TT_NOMEM;
    }

    free(m->slots);
    m->slots = slots;
    m->cap = cap;

    for (i = 0; i < m->n; i++) {
        *tt_list_move_slot(m, m->moves[i].id) = (uint32_t) i + 1;
    }

    return TT_OK;
}


/*
 * A post's lists by scheduled_at to move at the batch's end.  A post
 * moved again in the batch moves once: from where its first move found
 * it to where its last one put it (each later move starts where the one
 * before ended, since the terms it read are those stored; the scope is
 * the same, since a move changes the time alone).
 */
int
tt_list_move_defer(tt_txn_t *t, const tt_terms_t *old, const tt_terms_t *tm,
    const char *id)
{
    char              held[TT_ID_SIZE];
    uint32_t         *slot;
    tt_list_move_t   *mv;
    tt_list_moves_t  *m;

    m = tt_list_moves;

    if (m == NULL || m->t != t) {
        return 0;
    }

    tt_list_id_put(held, id);       /* as the entries hold it */

    if (m->cap > 0) {
        slot = tt_list_move_slot(m, held);

        if (*slot != 0) {
            mv = &m->moves[*slot - 1];

            /* dropped (tt_list_move_settle()): from where it is now */
            if (mv->tm.scheduled < 0 && mv->to < 0) {
                mv->tm = *old;
            }

            mv->to = tm->scheduled;
            return 1;
        }
    }

    if (m->n == m->cap && tt_list_moves_grow(m) != TT_OK) {
        return 0;           /* this one moves now */
    }

    *tt_list_move_slot(m, held) = (uint32_t) m->n + 1;

    mv = &m->moves[m->n++];
    mv->tm = *old;
    mv->to = tm->scheduled;
    memcpy(mv->id, held, TT_ID_SIZE);

    return 1;
}


/*
 * A post whose lists t changes other than by a move (its scope, class or
 * creation changed, or it is deleted): when a move of it waits in t's
 * batch, its entries by scheduled_at are still where that move found it,
 * *sched then set to that time, and the move is dropped.  TT_CONFLICT
 * when the move waits in an ancestor's batch: the drop could not be
 * undone if t aborted.
 */
int
tt_list_move_settle(tt_txn_t *t, const char *id, int64_t *sched)
{
    char              held[TT_ID_SIZE];
    uint32_t         *slot;
    tt_txn_t         *a;
    tt_list_move_t   *mv;
    tt_list_moves_t  *m;

    m = tt_list_moves;

    if (m == NULL || m->cap == 0) {
        return TT_OK;
    }

    for (a = t; a != NULL && a != m->t; a = a->parent) { /* void */ }

    if (a == NULL) {
        return TT_OK;       /* another transaction's batch */
    }

    tt_list_id_put(held, id);
    slot = tt_list_move_slot(m, held);

    if (*slot == 0) {
        return TT_OK;
    }

    mv = &m->moves[*slot - 1];

    if (mv->tm.scheduled < 0 && mv->to < 0) {
        return TT_OK;       /* dropped already */
    }

    if (a != t) {
        t->st->last_error = "a post moved in a batch changed in a nested "
                            "transaction";
        return tt_txn_fail(t, TT_CONFLICT);
    }

    *sched = mv->tm.scheduled;
    mv->tm.scheduled = -1;
    mv->to = -1;

    return TT_OK;
}


/* what qsort()'s comparisons read: the moves, and which time they sort by */
static __thread const tt_list_move_t  *tt_list_sorting;
static __thread int                    tt_list_sorting_out;


static int64_t
tt_list_move_at(const tt_list_move_t *mv, int out)
{
    return out ? mv->tm.scheduled : mv->to;
}


/* by scope (ws, group, queue, classes), then time, then id */
static int
tt_list_move_cmp(const void *x, const void *y)
{
    int                    rc;
    int64_t                a, b;
    const tt_list_move_t  *p, *q;

    p = &tt_list_sorting[*(const size_t *) x];
    q = &tt_list_sorting[*(const size_t *) y];

    rc = memcmp(p->tm.ws, q->tm.ws, 3 * TT_ID_SIZE);
    if (rc != 0) {
        return rc;
    }

    if (p->tm.classes != q->tm.classes) {
        return p->tm.classes < q->tm.classes ? -1 : 1;
    }

    a = tt_list_move_at(p, tt_list_sorting_out);
    b = tt_list_move_at(q, tt_list_sorting_out);

    if (a != b) {
        return a < b ? -1 : 1;
    }

    return memcmp(p->id, q->id, TT_ID_SIZE);
}


static int
tt_list_same_scope(const tt_list_move_t *a, const tt_list_move_t *b)
{
    return memcmp(a->tm.ws, b->tm.ws, 3 * TT_ID_SIZE) == 0
           && a->tm.classes == b->tm.classes;
}


/* the entries of one list out (or in), in key order, through c */
static int
tt_list_side_entries(tt_txn_t *t, MDB_cursor *c, const tt_skey_t *prefix,
    tt_list_side_t *s)
{
    int                    rc;
    size_t                 i;
    MDB_val                key, v;
    tt_skey_t              k;
    const tt_list_move_t  *mv;

    for (i = 0; i < s->n; i++) {
        mv = &s->moves[s->idx[i]];
        s->done[i] = 0;

        if (tt_store_key(&k, "bui", prefix->data, prefix->val.mv_size,
                         (uint64_t) tt_list_move_at(mv, s->out), mv->id)
            != TT_OK)
        {
            return tt_txn_fail(t, TT_ERR);
        }

        key = k.val;
        v.mv_data = "";
        v.mv_size = 0;

        if (s->out) {
            rc = mdb_cursor_get(c, &key, &v, MDB_SET);
            if (rc == MDB_SUCCESS) {
                rc = mdb_cursor_del(c, 0);
            }

        } else {
            rc = mdb_cursor_put(c, &key, &v, MDB_NOOVERWRITE);
        }

        if (rc == MDB_NOTFOUND || rc == MDB_KEYEXIST) {
            continue;
        }

        if (rc != MDB_SUCCESS) {
            return tt_txn_fail(t, tt_store_rc(t->st, rc));
        }

        s->done[i] = 1;
    }

    return TT_OK;
}


/* the next entry of a side that went out or in, from *i; NULL at its end */
static const tt_list_move_t *
tt_list_side_next(const tt_list_side_t *s, size_t *i)
{
    while (*i < s->n && !s->done[*i]) {
        (*i)++;
    }

    return *i < s->n ? &s->moves[s->idx[*i]] : NULL;
}


/* the count key of a side's move at the level, in k */
static void
tt_list_side_key(const tt_list_side_t *s, const tt_list_move_t *mv,
    const tt_skey_t *prefix, int level, tt_skey_t *k)
{
    tt_list_count_key(k, prefix, level, (uint64_t) tt_list_move_at(mv, s->out),
                      mv->id);
}


/*
 * A level's counts of one list: the entries that went out (-1) and in
 * (+1) merged in key order, each count changed once by its sum.  The
 * moves of a cell whose cells below take no sums (a leaf, or one just
 * built or dropped) are passed over at the levels below.
 */
static int
tt_list_level_counts(tt_txn_t *t, MDB_cursor *c, const tt_skey_t *prefix,
    int level, tt_list_side_t *out, tt_list_side_t *in)
{
    int                    rc, below;
    size_t                 i, j, i0, j0;
    int64_t                delta;
    tt_skey_t              cell, k;
    const tt_list_move_t  *o, *n;

    i = j = 0;

    for ( ;; ) {
        o = tt_list_side_next(out, &i);
        n = tt_list_side_next(in, &j);

        if (o == NULL && n == NULL) {
            return TT_OK;
        }

        /* the first cell in key order of either side */
        if (o != NULL) {
            tt_list_side_key(out, o, prefix, level, &cell);
        }

        if (n != NULL) {
            tt_list_side_key(in, n, prefix, level, &k);

            if (o == NULL || memcmp(k.data, cell.data, k.val.mv_size) < 0) {
                cell = k;
                cell.val.mv_data = cell.data;
            }
        }

        /* every move of both sides in it */
        delta = 0;

        for (i0 = i; o != NULL; o = tt_list_side_next(out, &i)) {
            tt_list_side_key(out, o, prefix, level, &k);
            if (memcmp(k.data, cell.data, k.val.mv_size) != 0) {
                break;
            }

            delta--;
            i++;
        }

        for (j0 = j; n != NULL; n = tt_list_side_next(in, &j)) {
            tt_list_side_key(in, n, prefix, level, &k);
            if (memcmp(k.data, cell.data, k.val.mv_size) != 0) {
                break;
            }

            delta++;
            j++;
        }

        rc = tt_list_count_change(t, c, cell.data, cell.val.mv_size, delta,
                                  &below);
        if (rc != TT_OK) {
            return rc;
        }

        if (!below) {
            memset(out->done + i0, 0, i - i0);
            memset(in->done + j0, 0, j - j0);
        }
    }
}


/* one list of one scope: its entries out, in, then its counts by level */
static int
tt_list_moves_list(tt_txn_t *t, const tt_skey_t *prefix, tt_list_side_t *out,
    tt_list_side_t *in)
{
    int          rc, level;
    MDB_cursor  *c;

    rc = tt_db_cursor(t, TT_DB_POST_LIST, &c);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_list_side_entries(t, c, prefix, out);
    if (rc == TT_OK) {
        rc = tt_list_side_entries(t, c, prefix, in);
    }

    mdb_cursor_close(c);

    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_db_cursor(t, TT_DB_POST_COUNTS, &c);
    if (rc != TT_OK) {
        return rc;
    }

    /* a time range's total is counted from the buckets: no level 0 */
    for (level = 1; rc == TT_OK && level <= TT_LIST_LAST; level++) {
        rc = tt_list_level_counts(t, c, prefix, level, out, in);
    }

    mdb_cursor_close(c);

    return rc;
}


/* the moves of one scope: each of its lists by scheduled_at in turn */
static int
tt_list_moves_scope(tt_txn_t *t, const tt_terms_t *tm, tt_list_side_t *out,
    tt_list_side_t *in)
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

            if (tt_list_prefix(&k, tm->ws, (s & 1) ? tm->group : "",
                               (s & 2) ? tm->queue : "", TT_LIST_SCHED, cls)
                != TT_OK)
            {
                t->st->last_error = "a post's list terms are invalid";
                return tt_txn_fail(t, TT_ERR);
            }

            rc = tt_list_moves_list(t, &k, out, in);
            if (rc != TT_OK) {
                return rc;
            }
        }
    }

    return TT_OK;
}


/*
 * The moves applied: sorted by scope and old time (the entries out) and
 * by scope and new time (in); each run of one scope applied list by
 * list.  A move from or to no time has no entry on that side.
 */
static int
tt_list_moves_apply(tt_txn_t *t, tt_list_moves_t *m)
{
    int              rc;
    size_t           i, a, b, ao, ai, *idx[2];
    uint8_t         *done[2];
    tt_list_side_t   out, in;

    idx[0] = malloc(m->n * sizeof(size_t));
    idx[1] = malloc(m->n * sizeof(size_t));
    done[0] = malloc(m->n);
    done[1] = malloc(m->n);

    rc = (idx[0] && idx[1] && done[0] && done[1]) ? TT_OK : TT_NOMEM;

    for (i = 0; rc == TT_OK && i < m->n; i++) {
        idx[0][i] = i;
        idx[1][i] = i;
    }

    if (rc == TT_OK) {
        tt_list_sorting = m->moves;
        tt_list_sorting_out = 1;
        qsort(idx[0], m->n, sizeof(size_t), tt_list_move_cmp);
        tt_list_sorting_out = 0;
        qsort(idx[1], m->n, sizeof(size_t), tt_list_move_cmp);
        tt_list_sorting = NULL;
    }

    /* both orders keep a scope's moves together, the same scopes in turn */
    for (a = 0; rc == TT_OK && a < m->n; a = b) {
        for (b = a + 1; b < m->n
             && tt_list_same_scope(&m->moves[idx[0][a]], &m->moves[idx[0][b]]);
             b++)
        {
            /* the run of one scope */
        }

        out = (tt_list_side_t) { m->moves, idx[0] + a, done[0] + a, 0, 1 };
        in = (tt_list_side_t) { m->moves, idx[1] + a, done[1] + a, 0, 0 };

        /* a side skips the moves with no time there (first, by time) */
        for (ao = 0; ao < b - a && m->moves[idx[0][a + ao]].tm.scheduled < 0;
             ao++) { }
        for (ai = 0; ai < b - a && m->moves[idx[1][a + ai]].to < 0; ai++) { }

        out.idx += ao;
        out.done += ao;
        out.n = b - a - ao;
        in.idx += ai;
        in.done += ai;
        in.n = b - a - ai;

        rc = tt_list_moves_scope(t, &m->moves[idx[0][a]].tm, &out, &in);
    }

    free(idx[0]);
    free(idx[1]);
    free(done[0]);
    free(done[1]);

    return rc == TT_NOMEM ? tt_txn_fail(t, rc) : rc;
}


/* the batch ends: applied (unless the transaction failed), then freed */
int
tt_list_moves_end(tt_txn_t *t, int apply)
{
    int               rc;
    tt_list_moves_t  *m;

    m = tt_list_moves;
    tt_list_moves = NULL;

    if (m == NULL || m->t != t) {
        return TT_ERR;
    }

    rc = TT_OK;

    /* the counts the transaction changed so far are written first: the
     * moves read the counts they change */
    if (apply && m->n > 0) {
        rc = (t->rc != TT_OK) ? t->rc : tt_counts_flush(t);
    }

    if (apply && m->n > 0 && rc == TT_OK) {
        rc = tt_list_moves_apply(t, m);
    }

    free(m->moves);
    free(m->slots);
    free(m);

    return rc;
}
