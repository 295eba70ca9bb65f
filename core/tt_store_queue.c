/*
 * Copyright (C) the ngx_tiktok authors.
 * Queues: their records, a group's index, the paused flag, slotting and
 * the arrangement, which read each queue's live posts in slot order (the
 * slot arithmetic is tt_queue.c's; a post's own entry among them is
 * tt_store_queue_post.c's).
 */


#include <errno.h>

#include "tt_store_int.h"
#include "tt_time.h"


/* internal flag of tt_queue_rearrange: store every waiting post again */
#define TT_QUEUE_STORE_ALL  0x100


/* a queue's live posts as the arithmetic sees them, and their ids */
typedef struct {
    tt_queue_post_t  *posts;
    char            (*ids)[TT_ID_SIZE];
    size_t            n;
    size_t            cap;
} tt_qp_set_t;


static int tt_queue_enc(tt_txn_t *t, tt_jw_t *w, const void *obj);
static int tt_queue_dec(tt_store_t *st, const tt_json_t *r, tt_arena_t *a,
    void *obj);
static int tt_queue_dec_slots(const tt_json_t *r, tt_arena_t *a,
    tt_queue_t *q);
static int tt_queue_index(tt_txn_t *t, const tt_queue_t *q, int add);
static int tt_qp_push(tt_qp_set_t *s);
static void tt_qp_free(tt_qp_set_t *s);
static int tt_qp_load(tt_txn_t *t, const char *queue, tt_qp_set_t *s);
static int tt_queue_store_moved(tt_txn_t *t, tt_qp_set_t *s, size_t n,
    unsigned flags);
static int tt_queue_join_all(tt_txn_t *t, const char *queue,
    const tt_queue_def_t *def, tt_tz_t *tz, int64_t now,
    tt_queue_post_t *fresh, const char *id, tt_queue_rng_t *rng,
    tt_arena_t *a);
static int tt_queue_join(tt_txn_t *t, tt_post_t *p, int64_t now,
    tt_arena_t *a);
static int tt_queue_rearrange_id(tt_txn_t *t, const char *id, int64_t now);
static void tt_queue_rng_init(tt_queue_rng_t *rng);


/* records */

static int
tt_queue_enc(tt_txn_t *t, tt_jw_t *w, const void *obj)
{
    size_t             i;
    const tt_queue_t  *q = obj;

    (void) t;

    tt_jw_obj_open(w);
    tt_jw_member_int(w, "v", 1);
    tt_jw_member_str(w, "id", q->id);
    tt_jw_member_str(w, "workspace_id", q->workspace_id);
    tt_jw_member_str(w, "profile_group_id", q->profile_group_id);
    tt_jw_member_str(w, "name", q->name ? q->name : "");

    if (q->description != NULL) {
        tt_jw_member_str(w, "description", q->description);
    }

    tt_jw_member_str(w, "timezone", q->timezone);
    tt_jw_member_int(w, "jitter", q->jitter);
    tt_jw_member_int(w, "enabled", q->enabled ? 1 : 0);
    tt_jw_member_int(w, "created_at", q->created_at);
    tt_jw_member_int(w, "updated_at", q->updated_at);

    tt_jw_key(w, "timeslots");
    tt_jw_arr_open(w);

    for (i = 0; i < q->nslots; i++) {
        tt_jw_arr_open(w);
        tt_jw_cstr(w, q->slots[i].id);
        tt_jw_int(w, q->slots[i].day);
        tt_jw_int(w, q->slots[i].minute);
        tt_jw_arr_close(w);
    }

    tt_jw_arr_close(w);
    tt_jw_obj_close(w);

    return TT_OK;
}


static int
tt_queue_dec(tt_store_t *st, const tt_json_t *r, tt_arena_t *a, void *obj)
{
    const char  *tz;
    tt_queue_t  *q = obj;

    (void) st;

    if (tt_jid(r, "id", q->id) != TT_OK
        || tt_jid(r, "workspace_id", q->workspace_id) != TT_OK
        || tt_jid(r, "profile_group_id", q->profile_group_id) != TT_OK)
    {
        return TT_ERR;
    }

    tz = tt_js(r, "timezone");
    if (tz == NULL || strlen(tz) >= TT_TZ_NAME_MAX) {
        return TT_ERR;
    }

    memcpy(q->timezone, tz, strlen(tz) + 1);

    q->name = tt_js(r, "name");
    q->name = q->name ? q->name : "";
    q->description = tt_js(r, "description");
    q->jitter = (unsigned) tt_ji(r, "jitter", 0);
    q->enabled = tt_ji(r, "enabled", 1) != 0;
    q->created_at = tt_ji(r, "created_at", -1);
    q->updated_at = tt_ji(r, "updated_at", q->created_at);

    return tt_queue_dec_slots(r, a, q);
}


static int
tt_queue_dec_slots(const tt_json_t *r, tt_arena_t *a, tt_queue_t *q)
{
    size_t            i;
    const tt_json_t  *list, *s;

    list = tt_json_get(r, "timeslots");
    q->slots = NULL;
    q->nslots = 0;

    if (list == NULL || list->type != TT_JSON_ARRAY) {
        return TT_ERR;
    }

    if (list->n == 0) {
        return TT_OK;
    }

    q->slots = tt_arena_calloc(a, list->n * sizeof(tt_timeslot_t));
    if (q->slots == NULL) {
        return TT_NOMEM;
    }

    for (i = 0; i < list->n; i++) {
        s = list->items[i];

        if (s->type != TT_JSON_ARRAY || s->n != 3
            || s->items[0]->type != TT_JSON_STRING
            || s->items[0]->len >= TT_ID_SIZE
            || !s->items[1]->is_int || !s->items[2]->is_int
            || s->items[1]->i < 0 || s->items[1]->i > 6
            || s->items[2]->i < 0 || s->items[2]->i >= 1440)
        {
            return TT_ERR;
        }

        memcpy(q->slots[i].id, s->items[0]->str, s->items[0]->len + 1);
        q->slots[i].day = (uint8_t) s->items[1]->i;
        q->slots[i].minute = (uint16_t) s->items[2]->i;
    }

    q->nslots = list->n;

    return TT_OK;
}


/* the group's index entry, the paused flag and the queue's head */
static int
tt_queue_index(tt_txn_t *t, const tt_queue_t *q, int add)
{
    int        rc;
    tt_skey_t  k, off;

    if (tt_store_key(&k, "iui", q->profile_group_id,
                     (uint64_t) q->created_at, q->id) != TT_OK
        || tt_store_key(&off, "i", q->id) != TT_OK)
    {
        return TT_INVALID;
    }

    rc = tt_queue_head_put(t, q, add);
    if (rc != TT_OK) {
        return rc;
    }

    if (!add) {
        rc = tt_db_del(t, TT_DB_PG_QUEUES, &k);
        return rc == TT_OK ? tt_db_del(t, TT_DB_QUEUE_OFF, &off) : rc;
    }

    rc = tt_db_put(t, TT_DB_PG_QUEUES, &k, "", 0);
    if (rc != TT_OK) {
        return rc;
    }

    return q->enabled ? tt_db_del(t, TT_DB_QUEUE_OFF, &off)
                      : tt_db_put(t, TT_DB_QUEUE_OFF, &off, "", 0);
}


int
tt_queue_put(tt_txn_t *t, const tt_queue_t *q)
{
    int        rc;
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", q->id) != TT_OK || q->created_at < 0
        || q->workspace_id[0] == '\0' || q->profile_group_id[0] == '\0')
    {
        return TT_INVALID;
    }

    /* created_at never changes: the group's entry stays where it is */
    rc = tt_store_put_json(t, TT_DB_QUEUES, &k, tt_queue_enc, q);
    if (rc != TT_OK) {
        return rc;
    }

    return tt_queue_index(t, q, 1);
}


int
tt_queue_get(tt_txn_t *t, const char *id, tt_arena_t *a, tt_queue_t *q)
{
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    memset(q, 0, sizeof(tt_queue_t));

    return tt_store_get_json(t, TT_DB_QUEUES, &k, a, tt_queue_dec, q);
}


int
tt_queue_list(tt_txn_t *t, const char *group_id, tt_arena_t *a,
    tt_queue_t **out, size_t *n)
{
    int          rc;
    char         id[TT_ID_SIZE];
    size_t       cap;
    MDB_val      key;
    tt_skey_t    k;
    tt_queue_t  *q;
    MDB_cursor  *c;

    tt_txn_check(t);

    *out = NULL;
    *n = 0;
    cap = 0;

    if (tt_store_key(&k, "i", group_id) != TT_OK) {
        return TT_OK;
    }

    rc = tt_db_cursor(t, TT_DB_PG_QUEUES, &c);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_db_seek(t, c, &k, 0, &key);

    while (rc == TT_OK && key.mv_size == 2 * TT_ID_SIZE + 8
           && memcmp(key.mv_data, k.data, TT_ID_SIZE) == 0)
    {
        tt_store_key_id((uint8_t *) key.mv_data + TT_ID_SIZE + 8, id);

        q = tt_store_push(a, (void **) out, n, &cap, sizeof(tt_queue_t));
        if (q == NULL) {
            rc = TT_NOMEM;
            break;
        }

        rc = tt_queue_get(t, id, a, q);
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


void
tt_queue_to_def(const tt_queue_t *q, tt_queue_def_t *def)
{
    size_t  i, n;

    memset(def, 0, sizeof(tt_queue_def_t));
    memcpy(def->timezone, q->timezone, TT_TZ_NAME_MAX);
    def->jitter = q->jitter;
    def->enabled = q->enabled;

    n = q->nslots < TT_QUEUE_SLOTS_MAX ? q->nslots : TT_QUEUE_SLOTS_MAX;

    for (i = 0; i < n; i++) {
        def->slots[i].day = q->slots[i].day;
        def->slots[i].minute = q->slots[i].minute;
    }

    def->nslots = (unsigned) n;
}


/* a queue's live posts, read from queue_posts alone */

static int
tt_qp_push(tt_qp_set_t *s)
{
    size_t             cap;
    void              *ids;
    tt_queue_post_t   *posts;

    if (s->n < s->cap) {
        return TT_OK;
    }

    cap = s->cap ? s->cap * 2 : 64;

    posts = realloc(s->posts, cap * sizeof(tt_queue_post_t));
    if (posts == NULL) {
        return TT_NOMEM;
    }

    s->posts = posts;

    ids = realloc(s->ids, cap * TT_ID_SIZE);
    if (ids == NULL) {
        return TT_NOMEM;
    }

    s->ids = ids;
    s->cap = cap;

    return TT_OK;
}


static void
tt_qp_free(tt_qp_set_t *s)
{
    free(s->posts);
    free(s->ids);
    s->posts = NULL;
    s->ids = NULL;
}


static int
tt_qp_load(tt_txn_t *t, const char *queue, tt_qp_set_t *s)
{
    int               rc;
    MDB_val           key, val;
    tt_skey_t         k;
    MDB_cursor       *c;
    const uint8_t    *v;
    tt_queue_post_t  *qp;

    memset(s, 0, sizeof(tt_qp_set_t));

    if (tt_store_key(&k, "i", queue) != TT_OK) {
        return TT_OK;
    }

    rc = tt_db_cursor(t, TT_DB_QUEUE_POSTS, &c);
    if (rc != TT_OK) {
        return rc;
    }

    key = k.val;
    rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);

    while (rc == MDB_SUCCESS && key.mv_size == TT_QP_KEY_LEN
           && memcmp(key.mv_data, k.data, TT_ID_SIZE) == 0)
    {
        if (val.mv_size != TT_QP_VAL_LEN || tt_qp_push(s) != TT_OK) {
            rc = (val.mv_size != TT_QP_VAL_LEN) ? MDB_CORRUPTED : ENOMEM;
            break;
        }

        v = val.mv_data;
        qp = &s->posts[s->n];
        qp->key = s->n;
        qp->slot = (int64_t) tt_store_be64((uint8_t *) key.mv_data
                                           + TT_ID_SIZE);
        qp->at = (int64_t) tt_store_be64(v);
        qp->created = (int64_t) tt_store_be64(v + 8);
        qp->priority = v[16];
        qp->started = v[17];
        qp->moved = 0;
        tt_store_key_id((uint8_t *) key.mv_data + TT_ID_SIZE + 8,
                        s->ids[s->n]);
        s->n++;

        rc = mdb_cursor_get(c, &key, &val, MDB_NEXT);
    }

    mdb_cursor_close(c);

    if (rc == MDB_NOTFOUND || rc == MDB_SUCCESS) {
        return TT_OK;
    }

    tt_qp_free(s);

    return rc == ENOMEM ? TT_NOMEM : tt_txn_fail(t, tt_store_rc(t->st, rc));
}


/* a post stored at its new time (or again, slot unchanged) */
int
tt_queue_move(tt_txn_t *t, const char *id, int64_t slot, int64_t at)
{
    int          rc;
    int64_t      now;
    tt_post_t    p;
    tt_arena_t  *a;

    /* most moved posts just wait for their time: their records patched */
    rc = tt_post_put_retime(t, id, slot, at, tt_now_ms());
    if (rc != TT_DECLINED) {
        return rc;
    }

    a = tt_arena_create(4096);
    if (a == NULL) {
        return tt_txn_fail(t, TT_NOMEM);
    }

    rc = tt_post_get(t, id, a, &p);

    if (rc == TT_OK) {
        now = tt_now_ms();

        if (p.scheduled_at != at) {
            p.scheduled_at = at;
            p.updated_at = now;
        }

        tt_post_settle(&p, now);
        rc = tt_post_put_slot(t, &p, slot);
    }

    tt_arena_destroy(a);

    return rc == TT_NOTFOUND ? TT_OK : rc;
}


/* the posts among the first n that moved (or all waiting ones) stored */
static int
tt_queue_store_moved(tt_txn_t *t, tt_qp_set_t *s, size_t n, unsigned flags)
{
    int               rc, batch, end;
    size_t            i;
    tt_queue_post_t  *qp;

    /* their lists by scheduled_at move in one go, after them */
    batch = (tt_list_moves_begin(t) == TT_OK);
    rc = TT_OK;

    for (i = 0; i < n && rc == TT_OK; i++) {
        qp = &s->posts[i];

        if (!qp->moved && !((flags & TT_QUEUE_STORE_ALL) && !qp->started)) {
            continue;
        }

        rc = tt_queue_move(t, s->ids[qp->key], qp->slot, qp->at);
    }

    if (batch) {
        end = tt_list_moves_end(t, rc == TT_OK);
        rc = (rc == TT_OK) ? end : rc;
    }

    return rc;
}


static void
tt_queue_rng_init(tt_queue_rng_t *rng)
{
    if (tt_random(&rng->state, sizeof(rng->state)) != TT_OK) {
        rng->state = (uint64_t) tt_now_ms();
    }
}


/* slotting */

/* fresh joins all of the queue's live posts; those it moves are stored */
static int
tt_queue_join_all(tt_txn_t *t, const char *queue, const tt_queue_def_t *def,
    tt_tz_t *tz, int64_t now, tt_queue_post_t *fresh, const char *id,
    tt_queue_rng_t *rng, tt_arena_t *a)
{
    int          rc;
    size_t       moved;
    tt_qp_set_t  s;

    rc = tt_qp_load(t, queue, &s);

    if (rc == TT_OK) {
        rc = tt_qp_push(&s);
    }

    if (rc == TT_OK) {
        s.posts[s.n] = *fresh;
        s.posts[s.n].key = s.n;
        memcpy(s.ids[s.n], id, TT_ID_SIZE);
        s.n++;

        rc = tt_queue_add(def, tz, now, s.posts, s.n, 0, rng, a, &moved);
    }

    if (rc == TT_OK) {
        rc = tt_queue_store_moved(t, &s, s.n - 1, 0);
        *fresh = s.posts[s.n - 1];
    }

    tt_qp_free(&s);

    return rc;
}


/*
 * p joins its queue's live posts: its slot, and the posts it moves.  A
 * post that goes last reads the queue's summary and last entries only.
 */
static int
tt_queue_join(tt_txn_t *t, tt_post_t *p, int64_t now, tt_arena_t *a)
{
    int               rc;
    tt_tz_t          *tz;
    tt_queue_rng_t    rng;
    tt_queue_head_t   h;
    tt_queue_post_t   fresh;

    rc = tt_queue_head(t, p->queue_id, &h);
    if (rc != TT_OK) {
        return rc;
    }

    if (tt_tz_open(h.def.timezone, strlen(h.def.timezone), &tz) != TT_OK) {
        return tt_txn_fail(t, TT_ERR);
    }

    memset(&fresh, 0, sizeof(tt_queue_post_t));
    fresh.created = p->created_at;
    fresh.slot = TT_QUEUE_NO_SLOT;
    fresh.at = -1;
    fresh.priority = tt_queue_prio(p->queue_priority);

    tt_queue_rng_init(&rng);

    rc = tt_queue_join_last(t, p->queue_id, &h.def, tz, now, &fresh, &rng,
                            a);
    if (rc == TT_CONFLICT) {
        rc = tt_queue_join_all(t, p->queue_id, &h.def, tz, now, &fresh,
                               p->id, &rng, a);
    }

    tt_tz_close(tz);

    if (rc != TT_OK) {
        return rc;
    }

    p->scheduled_at = fresh.at;
    tt_post_settle(p, p->updated_at);

    return tt_post_put_slot(t, p, fresh.slot);
}


int
tt_queue_post_save(tt_txn_t *t, tt_post_t *p, int64_t now, tt_arena_t *a)
{
    int      rc, prio, found, same, live;
    char     left[TT_ID_SIZE];
    int64_t  slot;

    tt_txn_check(t);

    rc = tt_queue_slot_of(t, p->id, left, &slot, &prio);
    if (rc != TT_OK && rc != TT_NOTFOUND) {
        return rc;
    }

    found = (rc == TT_OK);
    same = found && strcmp(left, p->queue_id) == 0;
    live = tt_queue_live(p);

    if (live && !same) {
        rc = tt_queue_join(t, p, now, a);

    } else {
        rc = tt_post_put(t, p);

        if (rc == TT_OK && live
            && prio != (int) tt_queue_prio(p->queue_priority))
        {
            /* its order changed: the queue again, p read back */
            rc = tt_queue_rearrange_id(t, p->queue_id, now);
            if (rc == TT_OK) {
                rc = tt_post_get(t, p->id, a, p);
            }
        }
    }

    if (rc != TT_OK || !found || (same && live)) {
        return rc;
    }

    /* the queue it left (or holds no slot of any more) closes up */
    return tt_queue_rearrange_id(t, left, now);
}


int
tt_queue_post_delete(tt_txn_t *t, const char *id, int64_t now)
{
    int      rc;
    char     left[TT_ID_SIZE];
    int64_t  slot;

    tt_txn_check(t);

    rc = tt_queue_slot_of(t, id, left, &slot, NULL);
    if (rc != TT_OK && rc != TT_NOTFOUND) {
        return rc;
    }

    if (rc == TT_NOTFOUND) {
        return tt_post_del(t, id);
    }

    rc = tt_post_del(t, id);
    if (rc != TT_OK) {
        return rc;
    }

    return tt_queue_rearrange_id(t, left, now);
}


static int
tt_queue_rearrange_id(tt_txn_t *t, const char *id, int64_t now)
{
    int          rc;
    size_t       moved;
    tt_queue_t   q;
    tt_arena_t  *a;

    a = tt_arena_create(4096);
    if (a == NULL) {
        return tt_txn_fail(t, TT_NOMEM);
    }

    rc = tt_queue_get(t, id, a, &q);

    if (rc == TT_OK) {
        rc = tt_queue_rearrange(t, &q, now, 0, &moved);
    }

    tt_arena_destroy(a);

    /* a deleted queue's started posts have nothing to arrange */
    return rc == TT_NOTFOUND ? TT_OK : rc;
}


int
tt_queue_rearrange(tt_txn_t *t, const tt_queue_t *q, int64_t now,
    unsigned flags, size_t *moved)
{
    int              rc;
    tt_tz_t         *tz;
    tt_arena_t      *a;
    tt_qp_set_t      s;
    tt_queue_rng_t   rng;
    tt_queue_def_t   def;

    tt_txn_check(t);

    *moved = 0;
    tt_queue_to_def(q, &def);

    rc = tt_qp_load(t, q->id, &s);
    if (rc != TT_OK || s.n == 0) {
        return rc;
    }

    a = tt_arena_create(16384);
    if (a == NULL) {
        tt_qp_free(&s);
        return tt_txn_fail(t, TT_NOMEM);
    }

    rc = tt_tz_open(def.timezone, strlen(def.timezone), &tz);

    if (rc == TT_OK) {
        tt_queue_rng_init(&rng);
        rc = tt_queue_arrange(&def, tz, now, s.posts, s.n,
                              flags & TT_QUEUE_RESLOT_DUE, &rng, a, moved);
        tt_tz_close(tz);

        if (rc == TT_OK) {
            rc = tt_queue_store_moved(t, &s, s.n, flags);
        }

    } else {
        rc = tt_txn_fail(t, TT_ERR);
    }

    tt_arena_destroy(a);
    tt_qp_free(&s);

    return rc;
}


int
tt_queue_pause(tt_txn_t *t, const tt_queue_t *q)
{
    int          rc;
    size_t       i;
    tt_qp_set_t  s;

    tt_txn_check(t);

    rc = tt_qp_load(t, q->id, &s);
    if (rc != TT_OK) {
        return rc;
    }

    for (i = 0; i < s.n && rc == TT_OK; i++) {
        if (!s.posts[i].started) {
            rc = tt_queue_move(t, s.ids[i], s.posts[i].slot, s.posts[i].at);
        }
    }

    tt_qp_free(&s);

    return rc;
}


int
tt_queue_enable(tt_txn_t *t, const tt_queue_t *q, int64_t now,
    size_t *moved)
{
    return tt_queue_rearrange(t, q, now,
                              TT_QUEUE_RESLOT_DUE | TT_QUEUE_STORE_ALL, moved);
}


/*
 * The slot after the last live post: the one a post that goes last
 * takes (an arranged queue's posts hold the first free slots).  One seek.
 */
int
tt_queue_next_slot(tt_txn_t *t, const tt_queue_t *q, int64_t now,
    int64_t *slot)
{
    int              rc;
    int64_t          after, last;
    MDB_val          key;
    tt_skey_t        k;
    tt_tz_t         *tz;
    MDB_cursor      *c;
    tt_queue_def_t   def;

    tt_txn_check(t);

    if (tt_store_key(&k, "iu", q->id, UINT64_MAX) != TT_OK) {
        return TT_NOTFOUND;
    }

    rc = tt_db_cursor(t, TT_DB_QUEUE_POSTS, &c);
    if (rc != TT_OK) {
        return rc;
    }

    after = now;
    key = k.val;
    rc = mdb_cursor_get(c, &key, NULL, MDB_SET_RANGE);
    rc = mdb_cursor_get(c, &key, NULL,
                        rc == MDB_SUCCESS ? MDB_PREV : MDB_LAST);

    if (rc == MDB_SUCCESS && key.mv_size == TT_QP_KEY_LEN
        && memcmp(key.mv_data, k.data, TT_ID_SIZE) == 0)
    {
        last = (int64_t) tt_store_be64((uint8_t *) key.mv_data + TT_ID_SIZE);
        after = last > now ? last : now;
    }

    mdb_cursor_close(c);

    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
        return tt_txn_fail(t, tt_store_rc(t->st, rc));
    }

    tt_queue_to_def(q, &def);

    if (tt_tz_open(def.timezone, strlen(def.timezone), &tz) != TT_OK) {
        return TT_ERR;
    }

    rc = tt_queue_next_free(&def, tz, after, NULL, 0, slot);
    tt_tz_close(tz);

    return rc;
}


/* both from the queue's summary: one read */
int
tt_queue_count(tt_txn_t *t, const char *id, uint64_t *n)
{
    int        rc;
    tt_qsum_t  s;

    tt_txn_check(t);

    *n = 0;

    rc = tt_qsum_get(t, id, &s);
    if (rc == TT_OK) {
        *n = s.waiting[0] + s.waiting[1] + s.waiting[2] + s.started;
    }

    return rc;
}


int
tt_queue_has_waiting(tt_txn_t *t, const char *id)
{
    tt_qsum_t  s;

    if (tt_qsum_get(t, id, &s) != TT_OK) {
        return 0;
    }

    return s.waiting[0] + s.waiting[1] + s.waiting[2] != 0;
}


/* the queue deleted: its waiting posts become drafts, content kept */
int
tt_queue_del(tt_txn_t *t, const char *id, int64_t now)
{
    int          rc;
    size_t       i;
    tt_post_t    p;
    tt_queue_t   q;
    tt_skey_t    k;
    tt_arena_t  *a;
    tt_qp_set_t  s;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    a = tt_arena_create(4096);
    if (a == NULL) {
        return tt_txn_fail(t, TT_NOMEM);
    }

    rc = tt_queue_get(t, id, a, &q);

    if (rc == TT_OK) {
        rc = tt_queue_index(t, &q, 0);
    }

    if (rc == TT_OK) {
        rc = tt_db_del(t, TT_DB_QUEUES, &k);
    }

    tt_arena_destroy(a);

    if (rc == TT_OK) {
        rc = tt_qp_load(t, id, &s);
    }

    if (rc != TT_OK) {
        return rc;
    }

    for (i = 0; i < s.n && rc == TT_OK; i++) {
        if (s.posts[i].started) {
            continue;
        }

        a = tt_arena_create(4096);
        if (a == NULL) {
            rc = tt_txn_fail(t, TT_NOMEM);
            break;
        }

        rc = tt_post_get(t, s.ids[i], a, &p);

        if (rc == TT_OK) {
            p.draft = 1;
            memset(p.queue_id, 0, TT_ID_SIZE);
            p.queue_priority = TT_PRIORITY_NONE;
            p.scheduled_at = -1;
            p.updated_at = now;
            tt_post_settle(&p, now);
            rc = tt_post_put(t, &p);
        }

        tt_arena_destroy(a);
    }

    tt_qp_free(&s);

    return rc;
}
