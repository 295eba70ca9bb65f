/*
 * Copyright (C) the ngx_tiktok authors.
 * The post's store record: a fixed header, the API object and every field.
 */


#include <stdio.h>

#include "tt_post_int.h"
#include "tt_time.h"


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


static void tt_post_header_put(uint8_t *h, const tt_post_t *p,
    size_t api_len);
static int tt_post_header_id_ok(const uint8_t *h);
static int tt_post_header_matches(const tt_post_peek_t *peek,
    const tt_post_t *p);
static void tt_put_be64(uint8_t *p, int64_t v);
static int64_t tt_get_be64(const uint8_t *p);
static void tt_put_be32(uint8_t *p, uint32_t v);
static uint32_t tt_get_be32(const uint8_t *p);

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

    tt_post_fields_encode(&w, p);

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


/* one member's value replaced: where it lies in the record, the new text */
typedef struct {
    size_t          off;
    size_t          len;
    const char     *text;
    size_t          n;
} tt_post_edit_t;


/* the edit of a member of the JSON object at rec + base (len bytes) */
static int
tt_post_edit(const char *rec, size_t base, size_t len, const char *key,
    const char *text, tt_post_edit_t *e)
{
    size_t  off, vlen;

    if (tt_json_member(rec + base, len, key, &off, &vlen) != TT_OK) {
        return TT_DECLINED;
    }

    e->off = base + off;
    e->len = vlen;
    e->text = text;
    e->n = strlen(text);

    return TT_OK;
}


/*
 * The record of a post that waits for its time (scheduled, due then),
 * moved to at by a queue at now: what tt_post_encode() writes for it
 * once decoded, given that time and updated_at now, and settled.  Its
 * times are replaced in a copy (the header's, the api JSON's strings and
 * the internal JSON's numbers) rather than the whole post decoded and
 * encoded again.  TT_DECLINED when that does not apply: another status,
 * or no time.
 */
int
tt_post_retime(const void *rec, size_t len, int64_t at, int64_t now,
    tt_buf_t *out)
{
    int             rc;
    char            at_s[TT_TIME_LEN + 3], now_s[TT_TIME_LEN + 3];
    char            at_n[24], now_n[24];
    size_t          i, k, start, api_len, pos;
    uint8_t        *h;
    const char     *r;
    tt_post_edit_t  e[5], x;
    tt_post_peek_t  peek;

    if (tt_post_peek(rec, len, &peek) != TT_OK) {
        return TT_INVALID;
    }

    if (peek.status != TT_POST_SCHEDULED || peek.scheduled_at < 0
        || peek.due_at != peek.scheduled_at || at < 0 || now < 0
        || at == peek.scheduled_at)
    {
        return TT_DECLINED;
    }

    /* the times as both JSON objects write them */
    at_s[0] = '"';
    now_s[0] = '"';
    k = tt_time_format(at, at_s + 1);
    i = tt_time_format(now, now_s + 1);

    if (k == 0 || i == 0) {
        return TT_DECLINED;
    }

    memcpy(at_s + 1 + k, "\"", 2);
    memcpy(now_s + 1 + i, "\"", 2);
    snprintf(at_n, sizeof(at_n), "%lld", (long long) at);
    snprintf(now_n, sizeof(now_n), "%lld", (long long) now);

    r = rec;
    api_len = peek.api.len;
    pos = TT_POST_HDR_LEN + api_len;

    if (tt_post_edit(r, TT_POST_HDR_LEN, api_len, "scheduled_at", at_s,
                     &e[0]) != TT_OK
        || tt_post_edit(r, TT_POST_HDR_LEN, api_len, "updated_at", now_s,
                        &e[1]) != TT_OK
        || tt_post_edit(r, pos, len - pos, "scheduled_at", at_n, &e[2])
           != TT_OK
        || tt_post_edit(r, pos, len - pos, "due_at", at_n, &e[3]) != TT_OK
        || tt_post_edit(r, pos, len - pos, "updated_at", now_n, &e[4])
           != TT_OK)
    {
        return TT_DECLINED;
    }

    /* in the order they lie, each object's two or three */
    for (i = 1; i < 5; i++) {
        for (k = i; k > 0 && e[k - 1].off > e[k].off; k--) {
            x = e[k];
            e[k] = e[k - 1];
            e[k - 1] = x;
        }
    }

    start = out->len;
    rc = TT_OK;

    for (i = 0, pos = 0; i < 5; i++) {
        if (e[i].off < pos) {
            rc = TT_DECLINED;
            break;
        }

        if (e[i].off < TT_POST_HDR_LEN + peek.api.len) {
            api_len = api_len - e[i].len + e[i].n;
        }

        tt_buf_append(out, r + pos, e[i].off - pos);
        tt_buf_append(out, e[i].text, e[i].n);
        pos = e[i].off + e[i].len;
    }

    if (rc == TT_OK) {
        tt_buf_append(out, r + pos, len - pos);
        rc = tt_buf_ok(out) ? TT_OK : TT_NOMEM;
    }

    if (rc != TT_OK || api_len > UINT32_MAX) {
        out->len = start;
        return rc != TT_OK ? rc : TT_DECLINED;
    }

    h = (uint8_t *) out->data + start;
    tt_put_be64(h + TT_HDR_SCHEDULED, at);
    tt_put_be64(h + TT_HDR_DUE, at);
    tt_put_be32(h + TT_HDR_API_LEN, (uint32_t) api_len);

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
    int             rc;
    char            err[128];
    size_t          off;
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
    if (root == NULL) {
        return TT_INVALID;
    }

    rc = tt_post_fields_decode(root, a, p);
    if (rc != TT_OK) {
        return rc;
    }

    if (!tt_post_header_matches(&peek, p)) {
        return TT_INVALID;
    }

    return TT_OK;
}
