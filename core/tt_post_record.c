/*
 * Copyright (C) the ngx_tiktok authors.
 * The post's store record: a fixed header, the API object and every field.
 */


#include <math.h>

#include "tt_post_int.h"


/*
 * The header, at these offsets (integers big-endian, ids NUL padded):
 *
 *   [u8 version][workspace_id 32][profile_group_id 32][u8 status]
 *   [created_at 8][scheduled_at 8][due_at 8][api_len 4]
 *
 * profile_group_id joined the header before any store held a record, so
 * the version stayed 1.
 */
#define TT_HDR_VERSION      0
#define TT_HDR_WORKSPACE    1
#define TT_HDR_GROUP        (TT_HDR_WORKSPACE + TT_ID_SIZE)
#define TT_HDR_STATUS       (TT_HDR_GROUP + TT_ID_SIZE)
#define TT_HDR_CREATED      (TT_HDR_STATUS + 1)
#define TT_HDR_SCHEDULED    (TT_HDR_CREATED + 8)
#define TT_HDR_DUE          (TT_HDR_SCHEDULED + 8)
#define TT_HDR_API_LEN      (TT_HDR_DUE + 8)
#define TT_POST_HDR_LEN     (TT_HDR_API_LEN + 4)


/* the decoder's state: a field that is missing or wrong sets bad */
typedef struct {
    tt_arena_t     *arena;
    unsigned        bad:1;
    unsigned        nomem:1;
} tt_dec_t;


static void tt_post_internal(tt_jw_t *w, const tt_post_t *p);
static void tt_post_internal_media(tt_jw_t *w, const tt_media_t *m);
static void tt_post_internal_platform(tt_jw_t *w, const tt_platform_t *pl);
static void tt_post_internal_params(tt_jw_t *w, const tt_tiktok_params_t *p);
static void tt_post_header_put(uint8_t *h, const tt_post_t *p,
    size_t api_len);
static int tt_post_header_id_ok(const uint8_t *h);
static int tt_post_header_matches(const tt_post_peek_t *peek,
    const tt_post_t *p);
static void tt_put_be64(uint8_t *p, int64_t v);
static int64_t tt_get_be64(const uint8_t *p);
static void tt_put_be32(uint8_t *p, uint32_t v);
static uint32_t tt_get_be32(const uint8_t *p);
static const tt_json_t *tt_dec_get(tt_dec_t *d, const tt_json_t *o,
    const char *key, tt_json_type_e type);
static int64_t tt_dec_int(tt_dec_t *d, const tt_json_t *o, const char *key);
static int tt_dec_enum(tt_dec_t *d, const tt_json_t *o, const char *key,
    int min, int max);
static unsigned tt_dec_bool(tt_dec_t *d, const tt_json_t *o,
    const char *key);
static double tt_dec_double(tt_dec_t *d, const tt_json_t *o,
    const char *key);
static const char *tt_dec_str(tt_dec_t *d, const tt_json_t *o,
    const char *key);
static void tt_dec_id(tt_dec_t *d, const tt_json_t *o, const char *key,
    char out[TT_ID_SIZE]);
static void *tt_dec_array(tt_dec_t *d, const tt_json_t *o, const char *key,
    size_t size, const tt_json_t **items);
static void tt_dec_post(tt_dec_t *d, const tt_json_t *o, tt_post_t *p);
static void tt_dec_media(tt_dec_t *d, const tt_json_t *o, tt_media_t *m);
static void tt_dec_warnings(tt_dec_t *d, const tt_json_t *o, tt_media_t *m);
static void tt_dec_platform(tt_dec_t *d, const tt_json_t *o,
    tt_platform_t *pl);
static void tt_dec_params(tt_dec_t *d, const tt_json_t *o,
    tt_tiktok_params_t *p);


/*
 * The internal JSON: every field of tt_post_t under its C name, enums as
 * numbers, -1 as -1.  Only tt_post_decode() reads it.
 */
static void
tt_post_internal(tt_jw_t *w, const tt_post_t *p)
{
    tt_jw_obj_open(w);

    tt_jw_key(w, "id");
    tt_jw_cstr(w, p->id);
    tt_jw_key(w, "workspace_id");
    tt_jw_cstr(w, p->workspace_id);
    tt_jw_key(w, "profile_group_id");
    tt_jw_cstr(w, p->profile_group_id);
    tt_jw_key(w, "body");
    tt_jw_str(w, p->body ? p->body : "", p->body ? p->body_len : 0);
    tt_jw_key(w, "status");
    tt_jw_int(w, p->status);
    tt_jw_key(w, "draft");
    tt_jw_bool(w, p->draft);
    tt_jw_key(w, "scheduled_at");
    tt_jw_int(w, p->scheduled_at);
    tt_jw_key(w, "created_at");
    tt_jw_int(w, p->created_at);
    tt_jw_key(w, "updated_at");
    tt_jw_int(w, p->updated_at);
    tt_jw_key(w, "queue_id");
    tt_jw_cstr(w, p->queue_id);
    tt_jw_key(w, "queue_priority");
    tt_jw_int(w, p->queue_priority);
    tt_jw_key(w, "due_at");
    tt_jw_int(w, p->due_at);

    tt_post_render_lists(w, p, tt_post_internal_media,
                         tt_post_internal_platform);

    tt_jw_obj_close(w);
}


static void
tt_post_internal_media(tt_jw_t *w, const tt_media_t *m)
{
    tt_jw_obj_open(w);

    tt_jw_key(w, "id");
    tt_jw_cstr(w, m->id);
    tt_jw_key(w, "status");
    tt_jw_int(w, m->status);
    tt_jw_key(w, "source_url");
    tt_jw_cstr(w, m->source_url);
    tt_jw_key(w, "content_type");
    tt_jw_cstr(w, m->content_type);
    tt_jw_key(w, "size");
    tt_jw_int(w, m->size);
    tt_jw_key(w, "width");
    tt_jw_int(w, m->width);
    tt_jw_key(w, "height");
    tt_jw_int(w, m->height);
    tt_jw_key(w, "duration_ms");
    tt_jw_int(w, m->duration_ms);
    tt_jw_key(w, "codec");
    tt_jw_cstr(w, m->codec);

    /* yajl refuses NaN and infinities: they mean "unknown" anyway */
    tt_jw_key(w, "frame_rate");

    if (isfinite(m->frame_rate)) {
        tt_jw_double(w, m->frame_rate);

    } else {
        tt_jw_null(w);
    }

    tt_jw_key(w, "error_message");
    tt_jw_cstr(w, m->error_message);

    tt_post_render_warnings(w, m);

    tt_jw_key(w, "spool_path");
    tt_jw_cstr(w, m->spool_path);

    tt_jw_obj_close(w);
}


static void
tt_post_internal_platform(tt_jw_t *w, const tt_platform_t *pl)
{
    tt_jw_obj_open(w);

    tt_jw_key(w, "profile_id");
    tt_jw_cstr(w, pl->profile_id);
    tt_jw_key(w, "status");
    tt_jw_int(w, pl->status);

    tt_jw_key(w, "params");
    tt_post_internal_params(w, &pl->params);

    tt_jw_key(w, "attempts");
    tt_jw_int(w, pl->attempts);
    tt_jw_key(w, "attempted_at");
    tt_jw_int(w, pl->attempted_at);
    tt_jw_key(w, "next_attempt_at");
    tt_jw_int(w, pl->next_attempt_at);
    tt_jw_key(w, "bytes_sent");
    tt_jw_int(w, pl->bytes_sent);
    tt_jw_key(w, "bytes_total");
    tt_jw_int(w, pl->bytes_total);
    tt_jw_key(w, "publish_id");
    tt_jw_cstr(w, pl->publish_id);
    tt_jw_key(w, "platform_id");
    tt_jw_int(w, pl->platform_id);
    tt_jw_key(w, "url");
    tt_jw_cstr(w, pl->url);
    tt_jw_key(w, "error");
    tt_jw_cstr(w, pl->error);
    tt_jw_key(w, "error_code");
    tt_jw_cstr(w, pl->error_code);
    tt_jw_key(w, "error_message");
    tt_jw_cstr(w, pl->error_message);
    tt_jw_key(w, "error_note");
    tt_jw_cstr(w, pl->error_note);
    tt_jw_key(w, "stage");
    tt_jw_int(w, pl->stage);
    tt_jw_key(w, "upload_url");
    tt_jw_cstr(w, pl->upload_url);
    tt_jw_key(w, "upload_expires_at");
    tt_jw_int(w, pl->upload_expires_at);
    tt_jw_key(w, "chunk_size");
    tt_jw_int(w, pl->chunk_size);
    tt_jw_key(w, "chunk_count");
    tt_jw_int(w, pl->chunk_count);
    tt_jw_key(w, "id_until");
    tt_jw_int(w, pl->id_until);

    tt_jw_obj_close(w);
}


static void
tt_post_internal_params(tt_jw_t *w, const tt_tiktok_params_t *p)
{
    tt_jw_obj_open(w);

    tt_jw_key(w, "privacy");
    tt_jw_int(w, p->privacy);
    tt_jw_key(w, "format");
    tt_jw_int(w, p->format);
    tt_jw_key(w, "post_mode");
    tt_jw_int(w, p->post_mode);
    tt_jw_key(w, "photo_cover_index");
    tt_jw_int(w, p->photo_cover_index);
    tt_jw_key(w, "video_cover_timestamp_ms");
    tt_jw_int(w, p->video_cover_timestamp_ms);

    tt_post_render_bools(w, p);

    tt_jw_obj_close(w);
}


/*
 * Appends the record to out: the header, the api JSON (tt_post_render())
 * and the internal JSON (everything).  On failure out is left as it was.
 */
int
tt_post_encode(const tt_post_t *p, tt_buf_t *out)
{
    int      rc;
    size_t   start, api_len;
    tt_jw_t  w;

    start = out->len;

    if (tt_buf_reserve(out, TT_POST_HDR_LEN) != TT_OK
        || tt_buf_append(out, "", 0) != TT_OK)
    {
        return TT_NOMEM;
    }

    /* the header is written last, once api_len is known */
    memset(out->data + start, 0, TT_POST_HDR_LEN);
    out->len += TT_POST_HDR_LEN;

    rc = TT_ERR;

    if (tt_jw_init(&w, out) != TT_OK) {
        goto failed;
    }

    tt_post_render(&w, p);

    if (tt_jw_finish(&w) != TT_OK) {
        goto failed;
    }

    api_len = out->len - start - TT_POST_HDR_LEN;

    if (api_len > UINT32_MAX) {
        goto failed;
    }

    if (tt_jw_init(&w, out) != TT_OK) {
        goto failed;
    }

    tt_post_internal(&w, p);

    if (tt_jw_finish(&w) != TT_OK || !tt_buf_ok(out)) {
        goto failed;
    }

    tt_post_header_put((uint8_t *) out->data + start, p, api_len);

    return TT_OK;

failed:

    if (!tt_buf_ok(out)) {
        rc = TT_NOMEM;
    }

    out->len = start;

    return rc;
}


static void
tt_post_header_put(uint8_t *h, const tt_post_t *p, size_t api_len)
{
    h[TT_HDR_VERSION] = TT_POST_RECORD_V1;

    memcpy(h + TT_HDR_WORKSPACE, p->workspace_id, TT_ID_SIZE);
    h[TT_HDR_WORKSPACE + TT_ID_SIZE - 1] = '\0';

    memcpy(h + TT_HDR_GROUP, p->profile_group_id, TT_ID_SIZE);
    h[TT_HDR_GROUP + TT_ID_SIZE - 1] = '\0';

    h[TT_HDR_STATUS] = (uint8_t) p->status;
    tt_put_be64(h + TT_HDR_CREATED, p->created_at);
    tt_put_be64(h + TT_HDR_SCHEDULED, p->scheduled_at);
    tt_put_be64(h + TT_HDR_DUE, p->due_at);
    tt_put_be32(h + TT_HDR_API_LEN, (uint32_t) api_len);
}


/*
 * The header, and where the api JSON lies.  The api JSON is an object, so
 * it must start with "{" and end with "}": with the version unchanged, that
 * is what rejects a header of another size (the old one had no group).
 */
int
tt_post_peek(const void *rec, size_t len, tt_post_peek_t *peek)
{
    size_t          api_len;
    const uint8_t  *h;

    h = rec;

    if (h == NULL || len < TT_POST_HDR_LEN
        || h[TT_HDR_VERSION] != TT_POST_RECORD_V1)
    {
        return TT_INVALID;
    }

    if (!tt_post_header_id_ok(h + TT_HDR_WORKSPACE)
        || !tt_post_header_id_ok(h + TT_HDR_GROUP)
        || h[TT_HDR_STATUS] > TT_POST_MEDIA_FAILED)
    {
        return TT_INVALID;
    }

    api_len = tt_get_be32(h + TT_HDR_API_LEN);

    if (api_len == 0 || api_len > len - TT_POST_HDR_LEN
        || h[TT_POST_HDR_LEN] != '{'
        || h[TT_POST_HDR_LEN + api_len - 1] != '}')
    {
        return TT_INVALID;
    }

    memcpy(peek->workspace_id, h + TT_HDR_WORKSPACE, TT_ID_SIZE);
    memcpy(peek->profile_group_id, h + TT_HDR_GROUP, TT_ID_SIZE);
    peek->status = (tt_post_status_e) h[TT_HDR_STATUS];
    peek->created_at = tt_get_be64(h + TT_HDR_CREATED);
    peek->scheduled_at = tt_get_be64(h + TT_HDR_SCHEDULED);
    peek->due_at = tt_get_be64(h + TT_HDR_DUE);
    peek->api.data = (const char *) h + TT_POST_HDR_LEN;
    peek->api.len = api_len;

    return TT_OK;
}


/* an id of the header is a string NUL-terminated within its 32 bytes */
static int
tt_post_header_id_ok(const uint8_t *h)
{
    return memchr(h, '\0', TT_ID_SIZE) != NULL;
}


/* the header is derived from the same post: a mismatch is corruption */
static int
tt_post_header_matches(const tt_post_peek_t *peek, const tt_post_t *p)
{
    return strcmp(peek->workspace_id, p->workspace_id) == 0
           && strcmp(peek->profile_group_id, p->profile_group_id) == 0
           && peek->status == p->status
           && peek->created_at == p->created_at
           && peek->scheduled_at == p->scheduled_at
           && peek->due_at == p->due_at;
}


static void
tt_put_be64(uint8_t *p, int64_t v)
{
    int       i;
    uint64_t  u;

    u = (uint64_t) v;

    for (i = 7; i >= 0; i--) {
        p[i] = (uint8_t) (u & 0xff);
        u >>= 8;
    }
}


static int64_t
tt_get_be64(const uint8_t *p)
{
    int       i;
    uint64_t  u;

    u = 0;

    for (i = 0; i < 8; i++) {
        u = (u << 8) | p[i];
    }

    return (int64_t) u;
}


static void
tt_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}


static uint32_t
tt_get_be32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | (uint32_t) p[3];
}


int
tt_post_decode(const void *rec, size_t len, tt_arena_t *a, tt_post_t *p)
{
    char            err[128];
    size_t          off;
    tt_dec_t        d;
    tt_json_t      *root;
    tt_post_peek_t  peek;

    if (tt_post_peek(rec, len, &peek) != TT_OK) {
        return TT_INVALID;
    }

    off = TT_POST_HDR_LEN + peek.api.len;

    if (off == len) {
        return TT_INVALID;
    }

    root = tt_json_parse(a, (const char *) rec + off, len - off, err,
                         sizeof(err));
    if (root == NULL || root->type != TT_JSON_OBJECT) {
        return TT_INVALID;
    }

    d.arena = a;
    d.bad = 0;
    d.nomem = 0;

    memset(p, 0, sizeof(tt_post_t));

    tt_dec_post(&d, root, p);

    if (d.nomem) {
        return TT_NOMEM;
    }

    if (d.bad || !tt_post_header_matches(&peek, p)) {
        return TT_INVALID;
    }

    return TT_OK;
}


static const tt_json_t *
tt_dec_get(tt_dec_t *d, const tt_json_t *o, const char *key,
    tt_json_type_e type)
{
    const tt_json_t  *v;

    v = tt_json_get(o, key);

    if (v == NULL || v->type != type) {
        d->bad = 1;
        return NULL;
    }

    return v;
}


static int64_t
tt_dec_int(tt_dec_t *d, const tt_json_t *o, const char *key)
{
    const tt_json_t  *v;

    v = tt_dec_get(d, o, key, TT_JSON_NUMBER);

    if (v == NULL || !v->is_int) {
        d->bad = 1;
        return 0;
    }

    return v->i;
}


static int
tt_dec_enum(tt_dec_t *d, const tt_json_t *o, const char *key, int min,
    int max)
{
    int64_t  v;

    v = tt_dec_int(d, o, key);

    if (v < min || v > max) {
        d->bad = 1;
        return min;
    }

    return (int) v;
}


static unsigned
tt_dec_bool(tt_dec_t *d, const tt_json_t *o, const char *key)
{
    const tt_json_t  *v;

    v = tt_json_get(o, key);

    if (v == NULL || (v->type != TT_JSON_TRUE && v->type != TT_JSON_FALSE)) {
        d->bad = 1;
        return 0;
    }

    return v->type == TT_JSON_TRUE;
}


static double
tt_dec_double(tt_dec_t *d, const tt_json_t *o, const char *key)
{
    const tt_json_t  *v;

    v = tt_json_get(o, key);

    if (v != NULL && v->type == TT_JSON_NULL) {
        return -1;
    }

    if (v == NULL || v->type != TT_JSON_NUMBER) {
        d->bad = 1;
        return -1;
    }

    return v->is_int ? (double) v->i : v->d;
}


/* a string or null (NULL); the tree's own copy, already in the arena */
static const char *
tt_dec_str(tt_dec_t *d, const tt_json_t *o, const char *key)
{
    const tt_json_t  *v;

    v = tt_json_get(o, key);

    if (v != NULL && v->type == TT_JSON_NULL) {
        return NULL;
    }

    if (v == NULL || v->type != TT_JSON_STRING) {
        d->bad = 1;
        return NULL;
    }

    return v->str;
}


static void
tt_dec_id(tt_dec_t *d, const tt_json_t *o, const char *key,
    char out[TT_ID_SIZE])
{
    const tt_json_t  *v;

    memset(out, 0, TT_ID_SIZE);

    v = tt_dec_get(d, o, key, TT_JSON_STRING);

    if (v == NULL || v->len >= TT_ID_SIZE || strlen(v->str) != v->len) {
        d->bad = 1;
        return;
    }

    memcpy(out, v->str, v->len);
}


/*
 * Room for the array o.key: as many zeroed elements of size bytes as
 * *items (the array) has, for the caller to fill.  NULL and *items NULL
 * when it is empty, missing or wrong.
 */
static void *
tt_dec_array(tt_dec_t *d, const tt_json_t *o, const char *key, size_t size,
    const tt_json_t **items)
{
    void             *a;
    const tt_json_t  *v;

    *items = NULL;

    v = tt_dec_get(d, o, key, TT_JSON_ARRAY);

    if (v == NULL || v->n == 0) {
        return NULL;
    }

    a = tt_arena_calloc(d->arena, v->n * size);
    if (a == NULL) {
        d->nomem = 1;
        return NULL;
    }

    *items = v;

    return a;
}


static void
tt_dec_post(tt_dec_t *d, const tt_json_t *o, tt_post_t *p)
{
    size_t            i;
    const tt_json_t  *v, *items;

    tt_dec_id(d, o, "id", p->id);
    tt_dec_id(d, o, "workspace_id", p->workspace_id);
    tt_dec_id(d, o, "profile_group_id", p->profile_group_id);

    v = tt_dec_get(d, o, "body", TT_JSON_STRING);
    if (v != NULL) {
        p->body = v->str;
        p->body_len = v->len;
    }

    p->status = tt_dec_enum(d, o, "status", TT_POST_DRAFT,
                            TT_POST_MEDIA_FAILED);
    p->draft = tt_dec_bool(d, o, "draft");
    p->scheduled_at = tt_dec_int(d, o, "scheduled_at");
    p->created_at = tt_dec_int(d, o, "created_at");
    p->updated_at = tt_dec_int(d, o, "updated_at");
    tt_dec_id(d, o, "queue_id", p->queue_id);
    p->queue_priority = tt_dec_enum(d, o, "queue_priority",
                                    TT_PRIORITY_NONE, TT_PRIORITY_HIGH);
    p->due_at = tt_dec_int(d, o, "due_at");

    p->media = tt_dec_array(d, o, "media", sizeof(tt_media_t), &items);

    if (p->media != NULL) {
        p->nmedia = items->n;

        for (i = 0; i < items->n; i++) {
            tt_dec_media(d, items->items[i], &p->media[i]);
        }
    }

    p->platforms = tt_dec_array(d, o, "platforms", sizeof(tt_platform_t),
                                &items);

    if (p->platforms != NULL) {
        p->nplatforms = items->n;

        for (i = 0; i < items->n; i++) {
            tt_dec_platform(d, items->items[i], &p->platforms[i]);
        }
    }
}


static void
tt_dec_media(tt_dec_t *d, const tt_json_t *o, tt_media_t *m)
{
    if (o->type != TT_JSON_OBJECT) {
        d->bad = 1;
        return;
    }

    tt_dec_id(d, o, "id", m->id);
    m->status = tt_dec_enum(d, o, "status", TT_MEDIA_PENDING,
                            TT_MEDIA_FAILED);
    m->source_url = tt_dec_str(d, o, "source_url");
    m->content_type = tt_dec_str(d, o, "content_type");
    m->size = tt_dec_int(d, o, "size");
    m->width = tt_dec_int(d, o, "width");
    m->height = tt_dec_int(d, o, "height");
    m->duration_ms = tt_dec_int(d, o, "duration_ms");
    m->codec = tt_dec_str(d, o, "codec");
    m->frame_rate = tt_dec_double(d, o, "frame_rate");
    m->error_message = tt_dec_str(d, o, "error_message");
    m->spool_path = tt_dec_str(d, o, "spool_path");

    tt_dec_warnings(d, o, m);
}


static void
tt_dec_warnings(tt_dec_t *d, const tt_json_t *o, tt_media_t *m)
{
    size_t            i;
    const tt_json_t  *w;

    w = tt_dec_get(d, o, "warnings", TT_JSON_ARRAY);

    if (w == NULL || w->n == 0) {
        return;
    }

    m->warnings = tt_arena_alloc(d->arena, w->n * sizeof(const char *));
    if (m->warnings == NULL) {
        d->nomem = 1;
        return;
    }

    for (i = 0; i < w->n; i++) {
        if (w->items[i]->type != TT_JSON_STRING) {
            d->bad = 1;
            return;
        }

        m->warnings[i] = w->items[i]->str;
    }

    m->nwarnings = w->n;
}


static void
tt_dec_platform(tt_dec_t *d, const tt_json_t *o, tt_platform_t *pl)
{
    const tt_json_t  *params;

    if (o->type != TT_JSON_OBJECT) {
        d->bad = 1;
        return;
    }

    tt_dec_id(d, o, "profile_id", pl->profile_id);
    pl->status = tt_dec_enum(d, o, "status", TT_PLAT_PENDING, TT_PLAT_RETRY);

    params = tt_dec_get(d, o, "params", TT_JSON_OBJECT);
    if (params != NULL) {
        tt_dec_params(d, params, &pl->params);
    }

    pl->attempts = tt_dec_int(d, o, "attempts");
    pl->attempted_at = tt_dec_int(d, o, "attempted_at");
    pl->next_attempt_at = tt_dec_int(d, o, "next_attempt_at");
    pl->bytes_sent = tt_dec_int(d, o, "bytes_sent");
    pl->bytes_total = tt_dec_int(d, o, "bytes_total");
    pl->publish_id = tt_dec_str(d, o, "publish_id");
    pl->platform_id = tt_dec_int(d, o, "platform_id");
    pl->url = tt_dec_str(d, o, "url");
    pl->error = tt_dec_str(d, o, "error");
    pl->error_code = tt_dec_str(d, o, "error_code");
    pl->error_message = tt_dec_str(d, o, "error_message");
    pl->error_note = tt_dec_str(d, o, "error_note");
    pl->stage = tt_dec_enum(d, o, "stage", TT_STAGE_NONE, TT_STAGE_POLL);
    pl->upload_url = tt_dec_str(d, o, "upload_url");
    pl->upload_expires_at = tt_dec_int(d, o, "upload_expires_at");
    pl->chunk_size = tt_dec_int(d, o, "chunk_size");
    pl->chunk_count = tt_dec_int(d, o, "chunk_count");

    /* optional: records written before it have none */
    if (tt_json_get(o, "id_until") != NULL) {
        pl->id_until = tt_dec_int(d, o, "id_until");
    }
}


static void
tt_dec_params(tt_dec_t *d, const tt_json_t *o, tt_tiktok_params_t *p)
{
    unsigned  b;

    p->privacy = tt_dec_enum(d, o, "privacy", TT_PRIVACY_PUBLIC,
                             TT_PRIVACY_SELF);
    p->format = tt_dec_enum(d, o, "format", TT_FORMAT_VIDEO,
                            TT_FORMAT_IMAGE);
    p->post_mode = tt_dec_enum(d, o, "post_mode", TT_MODE_DIRECT,
                               TT_MODE_UPLOAD);
    p->photo_cover_index = tt_dec_int(d, o, "photo_cover_index");
    p->video_cover_timestamp_ms = tt_dec_int(d, o,
                                             "video_cover_timestamp_ms");

    for (b = 0; b < TT_TK_NBOOLS; b++) {
        tt_params_set_bool(p, b, tt_dec_bool(d, o, tt_tiktok_bools[b]));
    }
}
