/*
 * Copyright (C) the ngx_tiktok authors.
 * The API's queues: /api/post_queues create, list, get, PATCH, DELETE and
 * next_slot.  The slot arithmetic is tt_queue.c's, the records and the
 * moves of posts tt_store_queue.c's.
 */


#include <stdio.h>
#include <stdlib.h>

#include "tt_api_int.h"


#define TT_API_QNAME_MAX   255
#define TT_API_QDESC_MAX   2000
#define TT_API_QSLOTS      "post_queue.queue_timeslots_attributes"


/* what a create or PATCH body said */
typedef struct {
    unsigned            has_name:1;
    unsigned            has_description:1;
    unsigned            has_timezone:1;
    unsigned            has_jitter:1;
    unsigned            has_enabled:1;
    unsigned            has_slots:1;
    tt_str_t            name;
    const char         *description;        /* NULL: null */
    tt_str_t            timezone;
    int64_t             jitter;
    int                 enabled;
    const tt_json_t    *slots;
} tt_api_qin_t;


static int tt_api_queue_get(tt_api_ctx_t *c);
static int tt_api_queue_load(tt_api_ctx_t *c, tt_queue_t *q);
static int tt_api_queue_answer(tt_api_ctx_t *c, int status,
    const tt_queue_t *q);
static void tt_api_qin_parse(const tt_json_t *body, int patch,
    tt_api_qin_t *in, tt_errors_t *errs);
static void tt_api_qin_member(const tt_json_member_t *m, int patch,
    tt_api_qin_t *in, tt_errors_t *errs);
static int tt_api_qin_apply(tt_api_ctx_t *c, const tt_api_qin_t *in,
    int patch, tt_queue_t *q, tt_errors_t *errs, unsigned *changed);
static int tt_api_qslots(tt_api_ctx_t *c, const tt_json_t *list, int patch,
    tt_queue_t *q, tt_errors_t *errs);
static int tt_api_qslot_remove(tt_queue_t *q, const tt_json_t *item,
    size_t i, tt_errors_t *errs);
static int tt_api_qslot_add(tt_api_ctx_t *c, tt_queue_t *q,
    const tt_json_t *item, size_t i, size_t cap, tt_errors_t *errs);
static int tt_api_qslot_cmp(const void *a, const void *b);
static int tt_api_queues_create(tt_api_ctx_t *c);
static int tt_api_queues_list(tt_api_ctx_t *c);
static int tt_api_queue_patch(tt_api_ctx_t *c);
static int tt_api_queue_moves(tt_api_ctx_t *c, const tt_queue_t *q,
    unsigned changed, int was_enabled);
static int tt_api_queue_delete(tt_api_ctx_t *c);
static int tt_api_queue_next(tt_api_ctx_t *c);
static int tt_api_queue_group(tt_api_ctx_t *c, const tt_json_t *body,
    const char **group, tt_errors_t *errs);


/* what a PATCH changed, for the moves it needs */
#define TT_QCH_ARRANGE   0x1    /* timeslots, timezone or jitter */
#define TT_QCH_ENABLED   0x2


int64_t
tt_api_queue_now(const tt_api_ctx_t *c)
{
    return c->req->queue_now_ms > 0 ? c->req->queue_now_ms : c->req->now_ms;
}


int
tt_api_queues(tt_api_ctx_t *c)
{
    switch (c->req->route.id) {

    case TT_ROUTE_QUEUES_LIST:
        return tt_api_queues_list(c);

    case TT_ROUTE_QUEUES_CREATE:
        return tt_api_queues_create(c);

    case TT_ROUTE_QUEUE_PATCH:
        return tt_api_queue_patch(c);

    case TT_ROUTE_QUEUE_DELETE:
        return tt_api_queue_delete(c);

    case TT_ROUTE_QUEUE_NEXT_SLOT:
        return tt_api_queue_next(c);

    default:
        return tt_api_queue_get(c);
    }
}


/* GET /api/post_queues/:id */
static int
tt_api_queue_get(tt_api_ctx_t *c)
{
    int         rc;
    tt_queue_t  q;

    rc = tt_api_queue_load(c, &q);
    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? tt_api_reply(c, 404) : rc;
    }

    return tt_api_queue_answer(c, 200, &q);
}


/*
 * The queue of the path, if the key may see it: same workspace, and the
 * key's group (or ?profile_group_id).  TT_NOTFOUND for a 404 either way.
 */
static int
tt_api_queue_load(tt_api_ctx_t *c, tt_queue_t *q)
{
    int  rc;

    if (c->id[0] == '\0') {
        return TT_NOTFOUND;
    }

    rc = tt_queue_get(c->t, c->id, c->a, q);
    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? rc : tt_api_fail(rc);
    }

    if (!tt_api_visible(c, q->workspace_id, q->profile_group_id)) {
        return TT_NOTFOUND;
    }

    return TT_OK;
}


/* the queue a post names: of its group, and with a timeslot */
int
tt_api_queue_of_group(tt_api_ctx_t *c, const char *group,
    const tt_str_t *id, const char **why)
{
    int              rc;
    char             qid[TT_ID_SIZE];
    tt_queue_head_t  q;

    *why = NULL;

    if (group == NULL || id->len == 0 || id->len >= TT_ID_SIZE) {
        return TT_NOTFOUND;
    }

    memcpy(qid, id->data, id->len);
    qid[id->len] = '\0';

    /* the queue's head: no JSON to parse on a queued post's way in */
    rc = tt_queue_head(c->t, qid, &q);
    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? rc : tt_api_fail(rc);
    }

    if (strcmp(q.workspace_id, c->ws) != 0
        || strcmp(q.profile_group_id, group) != 0)
    {
        return TT_NOTFOUND;
    }

    if (q.def.nslots == 0) {
        *why = "has no timeslot: add one with PATCH /api/post_queues/:id";
        return TT_INVALID;
    }

    return TT_OK;
}


/* the queue object of api.md */

/* the queue object (GET, and the export's lines: tt_api_export.c) */
int
tt_api_queue_render(tt_api_ctx_t *c, tt_jw_t *w, const tt_queue_t *q)
{
    int       rc;
    char      hhmm[6];
    size_t    i;
    uint64_t  count;

    rc = tt_queue_count(c->t, q->id, &count);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    tt_jw_obj_open(w);
    tt_jw_key(w, "id");
    tt_jw_cstr(w, q->id);
    tt_jw_key(w, "name");
    tt_jw_cstr(w, q->name);
    tt_jw_key(w, "description");
    tt_jw_cstr(w, q->description);
    tt_jw_key(w, "timezone");
    tt_jw_cstr(w, q->timezone);
    tt_jw_key(w, "enabled");
    tt_jw_bool(w, q->enabled);
    tt_jw_key(w, "jitter");
    tt_jw_int(w, q->jitter);
    tt_jw_key(w, "profile_group_id");
    tt_jw_cstr(w, q->profile_group_id);
    tt_jw_key(w, "timeslots");
    tt_jw_arr_open(w);

    for (i = 0; i < q->nslots; i++) {
        tt_queue_format_time(q->slots[i].minute, hhmm);
        tt_jw_obj_open(w);
        tt_jw_key(w, "id");
        tt_jw_cstr(w, q->slots[i].id);
        tt_jw_key(w, "day");
        tt_jw_int(w, q->slots[i].day);
        tt_jw_key(w, "time");
        tt_jw_cstr(w, hhmm);
        tt_jw_obj_close(w);
    }

    tt_jw_arr_close(w);
    tt_jw_key(w, "posts_count");
    tt_jw_int(w, (int64_t) count);
    tt_jw_key(w, "created_at");
    tt_jw_time(w, q->created_at);
    tt_jw_key(w, "updated_at");
    tt_jw_time(w, q->updated_at);
    tt_jw_obj_close(w);

    return TT_OK;
}


static int
tt_api_queue_answer(tt_api_ctx_t *c, int status, const tt_queue_t *q)
{
    int      rc;
    tt_jw_t  w;

    if (tt_api_jw_begin(c, &w) != TT_OK) {
        return TT_ERR;
    }

    rc = tt_api_queue_render(c, &w, q);
    if (rc != TT_OK) {
        (void) tt_jw_finish(&w);
        return rc;
    }

    return tt_api_jw_end(c, &w, status);
}


/* the body */

static void
tt_api_qin_parse(const tt_json_t *body, int patch, tt_api_qin_t *in,
    tt_errors_t *errs)
{
    size_t            i;
    const tt_json_t  *pq;

    memset(in, 0, sizeof(tt_api_qin_t));

    for (i = 0; i < body->n; i++) {
        if (strcmp(body->members[i].key, "post_queue") != 0
            && (patch || strcmp(body->members[i].key, "profile_group_id")
                         != 0))
        {
            tt_errors_add(errs, "%.64s is not a known field",
                          body->members[i].key);
        }
    }

    pq = tt_json_get(body, "post_queue");

    if (pq == NULL || pq->type != TT_JSON_OBJECT) {
        tt_errors_add(errs, "post_queue must be an object");
        return;
    }

    for (i = 0; i < pq->n; i++) {
        tt_api_qin_member(&pq->members[i], patch, in, errs);
    }

    if (!patch && !in->has_name) {
        tt_errors_add(errs, "post_queue.name is required");
    }

    if (!patch && !in->has_timezone) {
        tt_errors_add(errs, "post_queue.timezone is required (an IANA time "
                      "zone such as America/Los_Angeles)");
    }
}


static void
tt_api_qin_member(const tt_json_member_t *m, int patch, tt_api_qin_t *in,
    tt_errors_t *errs)
{
    const tt_json_t  *v = m->value;

    if (strcmp(m->key, "name") == 0) {
        in->has_name = 1;
        in->name.data = v->str;
        in->name.len = v->len;

        if (v->type != TT_JSON_STRING || v->len == 0
            || v->len > TT_API_QNAME_MAX)
        {
            tt_errors_add(errs, "post_queue.name must be a string of 1 to "
                          "%d bytes", TT_API_QNAME_MAX);
        }

    } else if (strcmp(m->key, "description") == 0) {
        in->has_description = 1;
        in->description = v->type == TT_JSON_STRING ? v->str : NULL;

        if ((v->type != TT_JSON_STRING && v->type != TT_JSON_NULL)
            || (v->type == TT_JSON_STRING && v->len > TT_API_QDESC_MAX))
        {
            tt_errors_add(errs, "post_queue.description must be a string of "
                          "at most %d bytes, or null", TT_API_QDESC_MAX);
        }

    } else if (strcmp(m->key, "timezone") == 0) {
        in->has_timezone = 1;

        if (v->type != TT_JSON_STRING) {
            tt_errors_add(errs, "post_queue.timezone must be a string");

        } else {
            in->timezone.data = v->str;
            in->timezone.len = v->len;

            if (tt_queue_check_timezone(&in->timezone) != TT_OK) {
                tt_errors_add(errs, "post_queue.timezone %.64s is not a "
                              "known IANA time zone", v->str);
            }
        }

    } else if (strcmp(m->key, "jitter") == 0) {
        in->has_jitter = 1;
        in->jitter = v->is_int ? v->i : -1;

        if (v->type != TT_JSON_NUMBER || !v->is_int
            || tt_queue_check_jitter(v->i) != TT_OK)
        {
            tt_errors_add(errs, "post_queue.jitter must be a number of "
                          "minutes from 0 to %d", TT_QUEUE_JITTER_MAX);
        }

    } else if (strcmp(m->key, "enabled") == 0) {
        in->has_enabled = 1;
        in->enabled = (v->type == TT_JSON_TRUE);

        if (v->type != TT_JSON_TRUE && v->type != TT_JSON_FALSE) {
            tt_errors_add(errs, "post_queue.enabled must be true or false");
        }

    } else if (strcmp(m->key, "queue_timeslots_attributes") == 0) {
        in->has_slots = 1;
        in->slots = v;

        if (v->type != TT_JSON_ARRAY) {
            tt_errors_add(errs, TT_API_QSLOTS " must be an array");
            in->slots = NULL;
        }

    } else {
        tt_errors_add(errs, "post_queue.%.64s is not a known field", m->key);
    }
}


/* the body's fields onto q (a new one, or the stored one for a PATCH) */
static int
tt_api_qin_apply(tt_api_ctx_t *c, const tt_api_qin_t *in, int patch,
    tt_queue_t *q, tt_errors_t *errs, unsigned *changed)
{
    int  rc;

    *changed = 0;

    if (in->has_name && in->name.data != NULL) {
        q->name = tt_arena_strndup(c->a, in->name.data, in->name.len);
        if (q->name == NULL) {
            return TT_ERR;
        }
    }

    if (in->has_description) {
        q->description = in->description;
    }

    if (in->has_timezone && in->timezone.len > 0
        && in->timezone.len < TT_TZ_NAME_MAX
        && (in->timezone.len != strlen(q->timezone)
            || memcmp(in->timezone.data, q->timezone, in->timezone.len) != 0))
    {
        memcpy(q->timezone, in->timezone.data, in->timezone.len);
        q->timezone[in->timezone.len] = '\0';
        *changed |= TT_QCH_ARRANGE;
    }

    if (in->has_jitter && in->jitter >= 0 && in->jitter <= 60
        && (unsigned) in->jitter != q->jitter)
    {
        q->jitter = (unsigned) in->jitter;
        *changed |= TT_QCH_ARRANGE;
    }

    if (in->has_enabled && (unsigned) in->enabled != q->enabled) {
        q->enabled = (unsigned) in->enabled;
        *changed |= TT_QCH_ENABLED;
    }

    if (in->has_slots && in->slots != NULL && in->slots->n > 0) {
        rc = tt_api_qslots(c, in->slots, patch, q, errs);
        if (rc != TT_OK) {
            return rc;
        }

        *changed |= TT_QCH_ARRANGE;
    }

    return TT_OK;
}


/*
 * queue_timeslots_attributes: {day, time} adds a timeslot; in a PATCH,
 * {id, _destroy: true} removes one.  Each failing item named by its
 * index in the request.
 */
static int
tt_api_qslots(tt_api_ctx_t *c, const tt_json_t *list, int patch,
    tt_queue_t *q, tt_errors_t *errs)
{
    int              rc;
    size_t           i, cap;
    tt_timeslot_t   *slots;
    const tt_json_t  *item;

    cap = q->nslots + list->n;

    slots = tt_arena_alloc(c->a, cap * sizeof(tt_timeslot_t));
    if (slots == NULL) {
        return TT_ERR;
    }

    if (q->nslots) {
        memcpy(slots, q->slots, q->nslots * sizeof(tt_timeslot_t));
    }

    q->slots = slots;

    for (i = 0; i < list->n; i++) {
        item = list->items[i];

        if (item->type != TT_JSON_OBJECT) {
            tt_errors_add(errs, TT_API_QSLOTS "[%zu] must be an object", i);
            continue;
        }

        if (patch && tt_json_get(item, "_destroy") != NULL) {
            rc = tt_api_qslot_remove(q, item, i, errs);

        } else {
            rc = tt_api_qslot_add(c, q, item, i, cap, errs);
        }

        if (rc != TT_OK) {
            return rc;
        }
    }

    if (q->nslots > TT_QUEUE_SLOTS_MAX) {
        tt_errors_add(errs, TT_API_QSLOTS " has more than %d timeslots",
                      TT_QUEUE_SLOTS_MAX);
    }

    qsort(q->slots, q->nslots, sizeof(tt_timeslot_t), tt_api_qslot_cmp);

    return TT_OK;
}


static int
tt_api_qslot_remove(tt_queue_t *q, const tt_json_t *item, size_t i,
    tt_errors_t *errs)
{
    size_t            j;
    const tt_json_t  *id, *d;

    id = tt_json_get(item, "id");
    d = tt_json_get(item, "_destroy");

    if (item->n != 2 || id == NULL || id->type != TT_JSON_STRING
        || d->type != TT_JSON_TRUE)
    {
        tt_errors_add(errs, TT_API_QSLOTS "[%zu] removes a timeslot with "
                      "{\"id\": \"ts_...\", \"_destroy\": true} and nothing "
                      "else", i);
        return TT_OK;
    }

    for (j = 0; j < q->nslots; j++) {
        if (strcmp(q->slots[j].id, id->str) == 0) {
            q->slots[j] = q->slots[--q->nslots];
            return TT_OK;
        }
    }

    tt_errors_add(errs, TT_API_QSLOTS "[%zu].id %.40s is not a timeslot of "
                  "this queue", i, id->str);

    return TT_OK;
}


static int
tt_api_qslot_add(tt_api_ctx_t *c, tt_queue_t *q, const tt_json_t *item,
    size_t i, size_t cap, tt_errors_t *errs)
{
    int               ok;
    size_t            j;
    unsigned          minute;
    tt_str_t          s;
    const tt_json_t  *day, *time;

    day = tt_json_get(item, "day");
    time = tt_json_get(item, "time");
    ok = 1;

    for (j = 0; j < item->n; j++) {
        if (strcmp(item->members[j].key, "day") != 0
            && strcmp(item->members[j].key, "time") != 0)
        {
            tt_errors_add(errs, TT_API_QSLOTS "[%zu].%.64s is not a known "
                          "field", i, item->members[j].key);
            ok = 0;
        }
    }

    if (day == NULL || !day->is_int || tt_queue_check_day(day->i) != TT_OK) {
        tt_errors_add(errs, TT_API_QSLOTS "[%zu].day must be 0 (Sunday) to "
                      "6 (Saturday)", i);
        ok = 0;
    }

    minute = 0;

    if (time != NULL && time->type == TT_JSON_STRING) {
        s.data = time->str;
        s.len = time->len;
    }

    if (time == NULL || time->type != TT_JSON_STRING
        || tt_queue_parse_time(&s, &minute) != TT_OK)
    {
        tt_errors_add(errs, TT_API_QSLOTS "[%zu].time must be \"HH:MM\", "
                      "00:00 to 23:59", i);
        ok = 0;
    }

    if (!ok || q->nslots >= cap) {
        return TT_OK;
    }

    for (j = 0; j < q->nslots; j++) {
        if (q->slots[j].day == day->i && q->slots[j].minute == minute) {
            tt_errors_add(errs, TT_API_QSLOTS "[%zu] repeats the day and "
                          "time of another timeslot", i);
            return TT_OK;
        }
    }

    if (tt_id_new("ts_", q->slots[q->nslots].id) != TT_OK) {
        return TT_ERR;
    }

    q->slots[q->nslots].day = (uint8_t) day->i;
    q->slots[q->nslots].minute = (uint16_t) minute;
    q->nslots++;

    (void) c;

    return TT_OK;
}


static int
tt_api_qslot_cmp(const void *a, const void *b)
{
    const tt_timeslot_t  *x = a, *y = b;

    if (x->day != y->day) {
        return x->day < y->day ? -1 : 1;
    }

    return (x->minute > y->minute) - (x->minute < y->minute);
}


/*
 * The group of a new queue: the body's profile_group_id, which must be a
 * group the key may act on, else the call's acting group.
 */
static int
tt_api_queue_group(tt_api_ctx_t *c, const tt_json_t *body,
    const char **group, tt_errors_t *errs)
{
    int               rc;
    char             *id;
    tt_group_t        g;
    const tt_json_t  *v;

    v = tt_json_get(body, "profile_group_id");

    if (v == NULL || v->type == TT_JSON_NULL) {
        rc = tt_api_acting_group(c, group);
        if (rc == TT_OK && *group == NULL) {
            tt_errors_add(errs, "profile_group_id: the workspace has no "
                          "profile group");
        }

        return rc;
    }

    *group = NULL;

    if (v->type != TT_JSON_STRING || v->len == 0 || v->len >= TT_ID_SIZE) {
        tt_errors_add(errs, "profile_group_id must be a profile group id");
        return TT_OK;
    }

    rc = tt_group_get(c->t, v->str, c->a, &g);
    if (rc != TT_OK && rc != TT_NOTFOUND) {
        return tt_api_fail(rc);
    }

    if (rc == TT_NOTFOUND || !tt_api_visible(c, g.workspace_id, g.id)) {
        /* another workspace's group reads as none: no existence leak */
        tt_errors_add(errs, "profile_group_id %.40s is not a profile group "
                      "of this workspace that this key may use", v->str);
        return TT_OK;
    }

    id = tt_arena_strndup(c->a, g.id, strlen(g.id));
    if (id == NULL) {
        return TT_ERR;
    }

    *group = id;

    return TT_OK;
}


/* the routes */

/* POST /api/post_queues */
static int
tt_api_queues_create(tt_api_ctx_t *c)
{
    int           rc;
    unsigned      changed;
    tt_queue_t    q;
    const char   *group;
    tt_errors_t   errs;
    tt_api_qin_t  in;

    if (c->req->body == NULL || c->req->body->type != TT_JSON_OBJECT) {
        return tt_api_answer(c, 400, "the request body must be a JSON "
                             "object");
    }

    tt_errors_init(&errs, c->a);
    tt_api_qin_parse(c->req->body, 0, &in, &errs);

    rc = tt_api_queue_group(c, c->req->body, &group, &errs);
    if (rc != TT_OK) {
        return rc;
    }

    memset(&q, 0, sizeof(tt_queue_t));
    q.enabled = 1;
    q.name = "";
    q.created_at = c->req->now_ms;
    q.updated_at = c->req->now_ms;

    rc = tt_api_qin_apply(c, &in, 0, &q, &errs, &changed);
    if (rc != TT_OK) {
        return rc;
    }

    if (errs.n > 0 || errs.failed) {
        return tt_api_answer_errors(c, &errs);
    }

    if (tt_id_new("q_", q.id) != TT_OK) {
        return TT_ERR;
    }

    snprintf(q.workspace_id, TT_ID_SIZE, "%s", c->ws);
    snprintf(q.profile_group_id, TT_ID_SIZE, "%s", group);

    rc = tt_queue_put(c->t, &q);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    return tt_api_queue_answer(c, 201, &q);
}


/* GET /api/post_queues: the acting group's queues, oldest first */
static int
tt_api_queues_list(tt_api_ctx_t *c)
{
    int          rc;
    size_t       i, n;
    tt_jw_t      w;
    tt_queue_t  *qs;
    const char  *group;

    rc = tt_api_acting_group(c, &group);
    if (rc != TT_OK) {
        return rc;
    }

    qs = NULL;
    n = 0;

    if (group != NULL) {
        rc = tt_queue_list(c->t, group, c->a, &qs, &n);
        if (rc != TT_OK) {
            return tt_api_fail(rc);
        }
    }

    if (tt_api_data_begin(c, &w, 1) != TT_OK) {
        return TT_ERR;
    }

    for (i = 0; i < n; i++) {
        if (strcmp(qs[i].workspace_id, c->ws) != 0) {
            continue;
        }

        rc = tt_api_queue_render(c, &w, &qs[i]);
        if (rc != TT_OK) {
            (void) tt_jw_finish(&w);
            return rc;
        }
    }

    return tt_api_data_end(c, &w, 1, 200);
}


/* PATCH /api/post_queues/:id */
static int
tt_api_queue_patch(tt_api_ctx_t *c)
{
    int           rc, was_enabled;
    unsigned      changed;
    tt_queue_t    q;
    tt_errors_t   errs;
    tt_api_qin_t  in;

    if (c->req->body == NULL || c->req->body->type != TT_JSON_OBJECT) {
        return tt_api_answer(c, 400, "the request body must be a JSON "
                             "object");
    }

    rc = tt_api_queue_load(c, &q);
    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? tt_api_reply(c, 404) : rc;
    }

    was_enabled = q.enabled;

    tt_errors_init(&errs, c->a);
    tt_api_qin_parse(c->req->body, 1, &in, &errs);

    rc = tt_api_qin_apply(c, &in, 1, &q, &errs, &changed);
    if (rc != TT_OK) {
        return rc;
    }

    if (q.nslots == 0 && tt_queue_has_waiting(c->t, q.id)) {
        tt_errors_add(&errs, TT_API_QSLOTS ": a queue with posts needs at "
                      "least one timeslot");
    }

    if (errs.n > 0 || errs.failed) {
        return tt_api_answer_errors(c, &errs);
    }

    q.updated_at = c->req->now_ms;

    rc = tt_queue_put(c->t, &q);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    rc = tt_api_queue_moves(c, &q, changed, was_enabled);
    if (rc != TT_OK) {
        return rc;
    }

    return tt_api_queue_answer(c, 200, &q);
}


/* the posts a PATCH moves, in its transaction; the scheduler wakes */
static int
tt_api_queue_moves(tt_api_ctx_t *c, const tt_queue_t *q, unsigned changed,
    int was_enabled)
{
    int      rc;
    size_t   moved;
    int64_t  now;

    now = tt_api_queue_now(c);
    rc = TT_OK;

    if ((changed & TT_QCH_ENABLED) && q->enabled) {
        rc = tt_queue_enable(c->t, q, now, &moved);

    } else if (changed & TT_QCH_ARRANGE) {
        rc = tt_queue_rearrange(c->t, q, now, 0, &moved);
    }

    if (rc == TT_OK && (changed & TT_QCH_ENABLED) && was_enabled) {
        rc = tt_queue_pause(c->t, q);
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    c->resp->wake = (changed != 0);

    return TT_OK;
}


/* DELETE /api/post_queues/:id: its waiting posts become drafts */
static int
tt_api_queue_delete(tt_api_ctx_t *c)
{
    int         rc;
    tt_queue_t  q;

    rc = tt_api_queue_load(c, &q);
    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? tt_api_reply(c, 404) : rc;
    }

    rc = tt_queue_del(c->t, q.id, c->req->now_ms);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    c->resp->wake = 1;

    tt_buf_reset(&c->resp->body);
    tt_buf_append_str(&c->resp->body, "{\"deleted\":true}");

    if (!tt_buf_ok(&c->resp->body)) {
        return TT_ERR;
    }

    c->resp->status = 200;

    return TT_OK;
}


/* GET /api/post_queues/:id/next_slot */
static int
tt_api_queue_next(tt_api_ctx_t *c)
{
    int         rc;
    int64_t     slot;
    tt_jw_t     w;
    tt_queue_t  q;

    rc = tt_api_queue_load(c, &q);
    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? tt_api_reply(c, 404) : rc;
    }

    rc = tt_queue_next_slot(c->t, &q, tt_api_queue_now(c), &slot);

    if (rc != TT_OK && rc != TT_NOTFOUND) {
        return tt_api_fail(rc);
    }

    if (tt_api_jw_begin(c, &w) != TT_OK) {
        return TT_ERR;
    }

    /* a queue with no timeslot has no next slot: null */
    tt_jw_obj_open(&w);
    tt_jw_key(&w, "next_slot");
    tt_jw_time(&w, rc == TT_OK ? slot : -1);
    tt_jw_obj_close(&w);

    return tt_api_jw_end(c, &w, 200);
}
