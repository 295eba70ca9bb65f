/*
 * Copyright (C) the ngx_tiktok authors.
 * The post: validation of client input, state, API object and record.
 */


#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "tt_post.h"
#include "tt_time.h"


/*
 * A photo post has two texts at TikTok: a title (90 UTF-16 units) and a
 * description (4000).  Hashtags and mentions are read from the
 * description, and post.body is where users put them, so the caption of
 * a format "image" post is sent as the photo description and limited to
 * 4000 units; a video caption is the video title, limited to 2200.
 */
#define TT_PHOTO_DESC_MAX   4000

#define TT_PROFILES_MAX     10
#define TT_KEY_SHOW         64      /* bytes of an unknown key in a message */
#define TT_ERRORS_MIN       8

/* [u8 version][ws id 32][u8 status][created][scheduled][due][u32 api] */
#define TT_POST_HDR_LEN     (1 + TT_ID_SIZE + 1 + 3 * 8 + 4)


/* which keys of platforms.tiktok were given */
#define TT_TK_PRIVACY       0x01
#define TT_TK_FORMAT        0x02
#define TT_TK_MODE          0x04
#define TT_TK_COVER         0x08
#define TT_TK_COVER_TS      0x10
#define TT_TK_BAD_FORMAT    0x20    /* format given but invalid */
#define TT_TK_SEEN_PRIVACY  0x40    /* privacy_status given, maybe invalid */
#define TT_TK_BOOL(i)       (0x100u << (i))

#define TT_TK_NBOOLS        7
#define TT_TK_BRAND         4       /* index of brand_content_toggle */


typedef struct {
    tt_errors_t    *errs;
    const char     *prefix;
    tt_arena_t     *arena;
    unsigned        nomem:1;
} tt_post_ctx_t;


typedef struct {
    unsigned        given;          /* TT_TK_* */
    unsigned        bools;          /* bit i: value of boolean i */
    tt_privacy_e    privacy;
    tt_format_e     format;
    tt_post_mode_e  post_mode;
    int64_t         cover;
    int64_t         cover_ts;
} tt_tiktok_in_t;


typedef struct {
    tt_arena_t     *arena;
    unsigned        bad:1;
} tt_dec_t;


static void tt_errors_vadd(tt_errors_t *e, const char *prefix,
    const char *fmt, va_list ap);
static void tt_post_error(tt_post_ctx_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int tt_post_key_show(const char *key, size_t len);
static int tt_post_enum(const tt_json_t *v, const char *const *names,
    size_t n);
static int tt_post_url_ok(const char *s, size_t len);
static int tt_post_id_ok(const char *s, size_t len);
static void tt_post_parse_post(tt_post_ctx_t *c, const tt_json_t *o,
    tt_post_input_t *in, int *body_ok);
static void tt_post_parse_strings(tt_post_ctx_t *c, const tt_json_t *v,
    const char *name, tt_str_t **out, size_t *n, int *ok);
static void tt_post_parse_platforms(tt_post_ctx_t *c, const tt_json_t *o,
    tt_post_input_t *in, tt_tiktok_in_t *tk);
static void tt_post_parse_tiktok(tt_post_ctx_t *c, const tt_json_t *o,
    tt_tiktok_in_t *tk);
static void tt_post_parse_queue(tt_post_ctx_t *c, const tt_json_member_t *m,
    tt_post_input_t *in);
static int tt_post_has_ctl(const char *s, size_t len);
static void tt_post_check_body(tt_post_ctx_t *c, const char *body,
    size_t len, tt_format_e format);
static void tt_post_check_media(tt_post_ctx_t *c, tt_format_e format,
    size_t nmedia, int64_t cover);
static void tt_post_check_brand(tt_post_ctx_t *c, int brand,
    tt_privacy_e privacy);
static int tt_post_apply_media(tt_post_t *r, const tt_post_input_t *in,
    tt_arena_t *a);
static void tt_post_apply_tiktok(tt_tiktok_params_t *p,
    const tt_tiktok_in_t *tk);
static void tt_params_set_bool(tt_tiktok_params_t *p, unsigned i,
    unsigned v);
static unsigned tt_params_bool(const tt_tiktok_params_t *p, unsigned i);
static void tt_jw_int_or_null(tt_jw_t *w, int64_t v);
static void tt_post_render_media(tt_jw_t *w, const tt_media_t *m);
static void tt_post_render_platform(tt_jw_t *w, const tt_platform_t *pl);
static void tt_post_internal(tt_jw_t *w, const tt_post_t *p);
static void tt_post_internal_media(tt_jw_t *w, const tt_media_t *m);
static void tt_post_internal_platform(tt_jw_t *w, const tt_platform_t *pl);
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
static void tt_dec_media(tt_dec_t *d, const tt_json_t *o, tt_media_t *m);
static void tt_dec_platform(tt_dec_t *d, const tt_json_t *o,
    tt_platform_t *pl);
static void tt_put_be64(uint8_t *p, int64_t v);
static int64_t tt_get_be64(const uint8_t *p);


static const char *const  tt_privacy_names[] = {
    "PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR",
    "SELF_ONLY"
};

static const char *const  tt_format_names[] = { "video", "image" };

static const char *const  tt_mode_names[] = { "DIRECT_POST", "MEDIA_UPLOAD" };

/* indexed by tt_priority_e */
static const char *const  tt_priority_names[] = { "low", "medium", "high" };

static const char *const  tt_post_status_names[] = {
    "draft", "pending", "scheduled", "processing", "processed",
    "media_processing_failed"
};

static const char *const  tt_plat_status_names[] = {
    "pending", "processing", "published", "failed",
    "failed_waiting_for_retry"
};

static const char *const  tt_media_status_names[] = {
    "pending", "processed", "failed"
};

/* the booleans of platforms.tiktok, in the order the API renders them */
static const char *const  tt_tiktok_bools[TT_TK_NBOOLS] = {
    "auto_add_music", "disable_comment", "disable_duet", "disable_stitch",
    "brand_content_toggle", "brand_organic_toggle", "made_with_ai"
};


void
tt_errors_init(tt_errors_t *e, tt_arena_t *a)
{
    e->msgs = NULL;
    e->n = 0;
    e->cap = 0;
    e->arena = a;
    e->failed = 0;
}


void
tt_errors_add(tt_errors_t *e, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    tt_errors_vadd(e, "", fmt, ap);
    va_end(ap);
}


static void
tt_errors_vadd(tt_errors_t *e, const char *prefix, const char *fmt,
    va_list ap)
{
    int           n;
    char         *msg;
    size_t        plen;
    va_list       aq;
    const char  **msgs;

    if (e->n == e->cap) {
        /* the arena cannot grow in place: a new array, the old is dropped */
        e->cap = e->cap ? e->cap * 2 : TT_ERRORS_MIN;
        msgs = tt_arena_alloc(e->arena, e->cap * sizeof(const char *));
        if (msgs == NULL) {
            e->cap = e->n;
            e->failed = 1;
            return;
        }

        if (e->n) {
            memcpy(msgs, e->msgs, e->n * sizeof(const char *));
        }

        e->msgs = msgs;
    }

    va_copy(aq, ap);
    n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);

    if (n < 0) {
        e->failed = 1;
        return;
    }

    plen = strlen(prefix);

    msg = tt_arena_alloc(e->arena, plen + (size_t) n + 1);
    if (msg == NULL) {
        e->failed = 1;
        return;
    }

    memcpy(msg, prefix, plen);
    vsnprintf(msg + plen, (size_t) n + 1, fmt, ap);

    e->msgs[e->n++] = msg;
}


static void
tt_post_error(tt_post_ctx_t *c, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    tt_errors_vadd(c->errs, c->prefix, fmt, ap);
    va_end(ap);
}


/*
 * How many bytes of a client's key to quote in a message: at most
 * TT_KEY_SHOW, cut on a UTF-8 boundary so that the message stays valid
 * UTF-8 (the JSON writer refuses anything else).
 */
static int
tt_post_key_show(const char *key, size_t len)
{
    if (len <= TT_KEY_SHOW) {
        return (int) len;
    }

    len = TT_KEY_SHOW;

    while (len > 0 && ((unsigned char) key[len] & 0xc0) == 0x80) {
        len--;
    }

    return (int) len;
}


#define tt_post_unknown(c, path, m)                                          \
    tt_post_error(c, "%s%.*s%s is not a known field", path,                  \
                  tt_post_key_show((m)->key, (m)->key_len), (m)->key,        \
                  (m)->key_len > TT_KEY_SHOW ? "..." : "")


static int
tt_post_enum(const tt_json_t *v, const char *const *names, size_t n)
{
    size_t  i;

    if (v->type != TT_JSON_STRING) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        if (strlen(names[i]) == v->len
            && memcmp(names[i], v->str, v->len) == 0)
        {
            return (int) i;
        }
    }

    return -1;
}


/*
 * An absolute http or https URL with a host: "http[s]://[user@]host[:port]"
 * then anything.  The host is a DNS name, an IPv4 address or a bracketed
 * IPv6 address.  Spaces and control characters are checked apart.
 */
static int
tt_post_url_ok(const char *s, size_t len)
{
    size_t       i, end, at, host, port;
    const char  *p;

    if (len >= 7 && strncasecmp(s, "http://", 7) == 0) {
        p = s + 7;
        len -= 7;

    } else if (len >= 8 && strncasecmp(s, "https://", 8) == 0) {
        p = s + 8;
        len -= 8;

    } else {
        return 0;
    }

    for (end = 0; end < len; end++) {
        if (p[end] == '/' || p[end] == '?' || p[end] == '#') {
            break;
        }
    }

    host = 0;

    for (at = 0; at < end; at++) {
        if (p[at] == '@') {
            host = at + 1;
        }
    }

    if (host < end && p[host] == '[') {
        for (i = host + 1; i < end && p[i] != ']'; i++) {
            if (!(p[i] == ':' || p[i] == '.'
                  || (p[i] >= '0' && p[i] <= '9')
                  || (p[i] >= 'a' && p[i] <= 'f')
                  || (p[i] >= 'A' && p[i] <= 'F')))
            {
                return 0;
            }
        }

        if (i == end || i == host + 1) {
            return 0;
        }

        port = i + 1;

    } else {
        for (i = host; i < end && p[i] != ':'; i++) {
            if (!(p[i] == '.' || p[i] == '-' || p[i] == '_'
                  || (p[i] >= '0' && p[i] <= '9')
                  || (p[i] >= 'a' && p[i] <= 'z')
                  || (p[i] >= 'A' && p[i] <= 'Z')))
            {
                return 0;
            }
        }

        if (i == host) {
            return 0;
        }

        port = i;
    }

    if (port == end) {
        return 1;
    }

    if (p[port] != ':' || port + 1 == end || end - port - 1 > 5) {
        return 0;
    }

    for (i = port + 1; i < end; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return 0;
        }
    }

    return 1;
}


/* our ids and Postproxy's ("q1abc") alike: 1-31 of [A-Za-z0-9_-] */
static int
tt_post_id_ok(const char *s, size_t len)
{
    size_t  i;

    if (len == 0 || len >= TT_ID_SIZE) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!(s[i] == '_' || s[i] == '-'
              || (s[i] >= '0' && s[i] <= '9')
              || (s[i] >= 'a' && s[i] <= 'z')
              || (s[i] >= 'A' && s[i] <= 'Z')))
        {
            return 0;
        }
    }

    return 1;
}


int
tt_post_input_parse(const tt_json_t *root, int patch, const char *prefix,
    tt_post_input_t *in, tt_errors_t *errs, tt_arena_t *a)
{
    int                      body_ok, media_ok, queue_ok;
    size_t                   i, nerr, n;
    tt_format_e              format;
    tt_post_ctx_t            c;
    tt_tiktok_in_t           tk;
    const tt_json_member_t  *m;

    memset(in, 0, sizeof(tt_post_input_t));
    in->scheduled_at = -1;
    in->queue_priority = TT_PRIORITY_NONE;

    memset(&tk, 0, sizeof(tt_tiktok_in_t));

    c.errs = errs;
    c.prefix = prefix ? prefix : "";
    c.arena = a;
    c.nomem = 0;

    nerr = errs->n;

    if (root == NULL || root->type != TT_JSON_OBJECT) {
        tt_post_error(&c, "the request body must be a JSON object");
        return errs->failed ? TT_NOMEM : TT_INVALID;
    }

    body_ok = 1;
    media_ok = 1;
    queue_ok = 1;

    for (i = 0; i < root->n; i++) {
        m = &root->members[i];

        if (strcmp(m->key, "post") == 0) {
            if (m->value->type != TT_JSON_OBJECT) {
                tt_post_error(&c, "post must be an object");
                body_ok = 0;
                continue;
            }

            tt_post_parse_post(&c, m->value, in, &body_ok);

        } else if (strcmp(m->key, "profiles") == 0) {
            tt_post_parse_strings(&c, m->value, "profiles", &in->profiles,
                                  &in->nprofiles, NULL);
            in->has_profiles = 1;

        } else if (strcmp(m->key, "media") == 0) {
            tt_post_parse_strings(&c, m->value, "media", &in->media,
                                  &in->nmedia, &media_ok);
            in->has_media = 1;

        } else if (strcmp(m->key, "platforms") == 0) {
            tt_post_parse_platforms(&c, m->value, in, &tk);

        } else if (strcmp(m->key, "queue_id") == 0
                   || strcmp(m->key, "queue_priority") == 0)
        {
            n = errs->n;
            tt_post_parse_queue(&c, m, in);
            queue_ok = queue_ok && errs->n == n;

        } else {
            tt_post_unknown(&c, "", m);
        }
    }

    if (!patch && tt_json_get(root, "post") == NULL) {
        tt_post_error(&c, "post is required");
    }

    if (!patch && !(tk.given & TT_TK_SEEN_PRIVACY)) {
        tt_post_error(&c, "platforms.tiktok.privacy_status is required");
    }

    if (in->has_scheduled_at && in->scheduled_at >= 0
        && in->has_queue_id && in->queue_id.len > 0)
    {
        tt_post_error(&c, "scheduled_at and queue_id cannot both be given");
    }

    if (queue_ok && in->has_queue_priority
        && in->queue_priority != TT_PRIORITY_NONE
        && in->has_queue_id && in->queue_id.len == 0)
    {
        tt_post_error(&c, "queue_priority needs a queue_id");
    }

    /*
     * The rules across fields that the input alone decides.  On create
     * the result is the input plus defaults, so every rule is checked
     * here and the client gets every failing rule in one answer; a PATCH
     * is checked again on its result in tt_post_apply().
     */

    if (tk.given & TT_TK_BAD_FORMAT) {
        body_ok = 0;
        media_ok = 0;
    }

    format = (tk.given & TT_TK_FORMAT) ? tk.format : TT_FORMAT_VIDEO;

    if (in->has_body && body_ok) {
        if (patch && !(tk.given & TT_TK_FORMAT)) {
            /* the format is the old post's: only the larger limit is sure */
            format = TT_FORMAT_IMAGE;
        }

        tt_post_check_body(&c, in->body.data, in->body.len, format);

        format = (tk.given & TT_TK_FORMAT) ? tk.format : TT_FORMAT_VIDEO;
    }

    if (!patch) {
        if (media_ok) {
            tt_post_check_media(&c, format, in->nmedia,
                                (tk.given & TT_TK_COVER) ? tk.cover : 0);
        }

        if ((tk.given & TT_TK_PRIVACY) && (tk.given & TT_TK_BOOL(TT_TK_BRAND))
            && (tk.bools & (1u << TT_TK_BRAND)))
        {
            tt_post_check_brand(&c, 1, tk.privacy);
        }

        if (in->has_queue_priority && in->queue_priority != TT_PRIORITY_NONE
            && !in->has_queue_id)
        {
            tt_post_error(&c, "queue_priority needs a queue_id");
        }
    }

    if (errs->failed || c.nomem) {
        return TT_NOMEM;
    }

    return errs->n > nerr ? TT_INVALID : TT_OK;
}


static void
tt_post_parse_post(tt_post_ctx_t *c, const tt_json_t *o, tt_post_input_t *in,
    int *body_ok)
{
    size_t                   i;
    const tt_json_t         *v;
    const tt_json_member_t  *m;

    for (i = 0; i < o->n; i++) {
        m = &o->members[i];
        v = m->value;

        if (strcmp(m->key, "body") == 0) {
            in->has_body = 1;

            if (v->type == TT_JSON_NULL) {
                /* null clears the caption */
                in->body.data = "";
                in->body.len = 0;

            } else if (v->type == TT_JSON_STRING) {
                in->body.data = v->str;
                in->body.len = v->len;

            } else {
                tt_post_error(c, "post.body must be a string");
                *body_ok = 0;
            }

        } else if (strcmp(m->key, "scheduled_at") == 0) {
            in->has_scheduled_at = 1;
            in->scheduled_at = -1;

            if (v->type == TT_JSON_STRING) {
                if (tt_time_parse(v->str, v->len, &in->scheduled_at)
                    != TT_OK)
                {
                    in->scheduled_at = -1;
                    tt_post_error(c, "post.scheduled_at is not an ISO 8601 "
                                  "time with an offset");
                }

            } else if (v->type != TT_JSON_NULL) {
                tt_post_error(c, "post.scheduled_at must be a string "
                              "or null");
            }

        } else if (strcmp(m->key, "draft") == 0) {
            in->has_draft = 1;

            if (v->type == TT_JSON_TRUE || v->type == TT_JSON_FALSE) {
                in->draft = (v->type == TT_JSON_TRUE);

            } else {
                tt_post_error(c, "post.draft must be a boolean");
            }

        } else {
            tt_post_unknown(c, "post.", m);
        }
    }
}


/* profiles and media: arrays of strings with their own item rules */
static void
tt_post_parse_strings(tt_post_ctx_t *c, const tt_json_t *v, const char *name,
    tt_str_t **out, size_t *n, int *ok)
{
    int        media;
    size_t     i, max;
    tt_str_t  *s;
    tt_json_t *item;

    media = (strcmp(name, "media") == 0);
    max = media ? TT_IMAGES_MAX : TT_PROFILES_MAX;

    if (v->type != TT_JSON_ARRAY) {
        goto invalid;
    }

    for (i = 0; i < v->n; i++) {
        if (v->items[i]->type != TT_JSON_STRING) {
            goto invalid;
        }
    }

    if (media && v->n > max) {
        tt_post_error(c, "media must have at most %zu URLs", max);
        goto invalid_count;

    } else if (!media && (v->n == 0 || v->n > max)) {
        tt_post_error(c, "profiles must have between 1 and %zu entries", max);
        goto invalid_count;
    }

    s = NULL;

    if (v->n) {
        s = tt_arena_alloc(c->arena, v->n * sizeof(tt_str_t));
        if (s == NULL) {
            c->nomem = 1;
            return;
        }
    }

    for (i = 0; i < v->n; i++) {
        item = v->items[i];
        s[i].data = item->str;
        s[i].len = item->len;

        if (!media) {
            if (item->len == 0) {
                tt_post_error(c, "profiles[%zu] must not be empty", i);
            }

            continue;
        }

        if (item->len > TT_URL_MAX) {
            tt_post_error(c, "media[%zu] is longer than %d characters", i,
                          TT_URL_MAX);
            *ok = 0;
        }

        if (memchr(item->str, ' ', item->len) != NULL
            || tt_post_has_ctl(item->str, item->len))
        {
            tt_post_error(c, "media[%zu] contains spaces or control "
                          "characters", i);
            *ok = 0;
        }

        if (!tt_post_url_ok(item->str, item->len)) {
            tt_post_error(c, "media[%zu] is not an http or https URL", i);
            *ok = 0;
        }
    }

    *out = s;
    *n = v->n;

    return;

invalid:

    tt_post_error(c, "%s must be an array of strings", name);

invalid_count:

    if (ok) {
        *ok = 0;
    }
}


static int
tt_post_has_ctl(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) {
            return 1;
        }
    }

    return 0;
}


static void
tt_post_parse_platforms(tt_post_ctx_t *c, const tt_json_t *o,
    tt_post_input_t *in, tt_tiktok_in_t *tk)
{
    size_t                   i;
    const tt_json_member_t  *m;

    if (o->type != TT_JSON_OBJECT) {
        tt_post_error(c, "platforms must be an object");

        /* the client tried: "privacy_status is required" would mislead */
        tk->given |= TT_TK_SEEN_PRIVACY;
        return;
    }

    for (i = 0; i < o->n; i++) {
        m = &o->members[i];

        if (strcmp(m->key, "tiktok") != 0) {
            tt_post_error(c, "platforms.%.*s%s is not supported",
                          tt_post_key_show(m->key, m->key_len), m->key,
                          m->key_len > TT_KEY_SHOW ? "..." : "");
            continue;
        }

        if (m->value->type != TT_JSON_OBJECT) {
            tt_post_error(c, "platforms.tiktok must be an object");
            tk->given |= TT_TK_SEEN_PRIVACY;
            continue;
        }

        in->has_tiktok = 1;
        in->tiktok = m->value;

        tt_post_parse_tiktok(c, m->value, tk);
    }
}


/*
 * platforms.tiktok, into tk.  Used by the input check (with messages) and
 * by tt_post_apply(), which merges only the keys given.
 */
static void
tt_post_parse_tiktok(tt_post_ctx_t *c, const tt_json_t *o, tt_tiktok_in_t *tk)
{
    int                      k;
    size_t                   i, b;
    const tt_json_t         *v;
    const tt_json_member_t  *m;

    for (i = 0; i < o->n; i++) {
        m = &o->members[i];
        v = m->value;

        if (strcmp(m->key, "privacy_status") == 0) {
            tk->given |= TT_TK_SEEN_PRIVACY;

            k = tt_post_enum(v, tt_privacy_names,
                             TT_ARRAY_SIZE(tt_privacy_names));
            if (k < 0) {
                tt_post_error(c, "platforms.tiktok.privacy_status must be "
                              "one of PUBLIC_TO_EVERYONE, "
                              "MUTUAL_FOLLOW_FRIENDS, FOLLOWER_OF_CREATOR, "
                              "SELF_ONLY");
                continue;
            }

            tk->given |= TT_TK_PRIVACY;
            tk->privacy = (tt_privacy_e) k;

        } else if (strcmp(m->key, "format") == 0) {
            k = tt_post_enum(v, tt_format_names,
                             TT_ARRAY_SIZE(tt_format_names));
            if (k < 0) {
                tt_post_error(c, "platforms.tiktok.format must be one of "
                              "video, image");
                tk->given |= TT_TK_BAD_FORMAT;
                continue;
            }

            tk->given |= TT_TK_FORMAT;
            tk->format = (tt_format_e) k;

        } else if (strcmp(m->key, "post_mode") == 0) {
            k = tt_post_enum(v, tt_mode_names, TT_ARRAY_SIZE(tt_mode_names));
            if (k < 0) {
                tt_post_error(c, "platforms.tiktok.post_mode must be one of "
                              "DIRECT_POST, MEDIA_UPLOAD");
                continue;
            }

            tk->given |= TT_TK_MODE;
            tk->post_mode = (tt_post_mode_e) k;

        } else if (strcmp(m->key, "photo_cover_index") == 0) {
            if (v->type != TT_JSON_NUMBER || !v->is_int) {
                tt_post_error(c, "platforms.tiktok.photo_cover_index must "
                              "be an integer");

            } else if (v->i < 0) {
                tt_post_error(c, "platforms.tiktok.photo_cover_index must "
                              "not be negative");

            } else {
                tk->given |= TT_TK_COVER;
                tk->cover = v->i;
            }

        } else if (strcmp(m->key, "video_cover_timestamp_ms") == 0) {
            if (v->type == TT_JSON_NULL) {
                tk->given |= TT_TK_COVER_TS;
                tk->cover_ts = -1;

            } else if (v->type != TT_JSON_NUMBER || !v->is_int) {
                tt_post_error(c, "platforms.tiktok.video_cover_timestamp_ms "
                              "must be an integer or null");

            } else if (v->i < 0 || v->i > INT32_MAX) {
                /* TikTok takes an int32 */
                tt_post_error(c, "platforms.tiktok.video_cover_timestamp_ms "
                              "must be between 0 and %" PRId32, INT32_MAX);

            } else {
                tk->given |= TT_TK_COVER_TS;
                tk->cover_ts = v->i;
            }

        } else {
            for (b = 0; b < TT_TK_NBOOLS; b++) {
                if (strcmp(m->key, tt_tiktok_bools[b]) == 0) {
                    break;
                }
            }

            if (b == TT_TK_NBOOLS) {
                tt_post_unknown(c, "platforms.tiktok.", m);
                continue;
            }

            if (v->type != TT_JSON_TRUE && v->type != TT_JSON_FALSE) {
                tt_post_error(c, "platforms.tiktok.%s must be a boolean",
                              tt_tiktok_bools[b]);
                continue;
            }

            tk->given |= TT_TK_BOOL(b);

            if (v->type == TT_JSON_TRUE) {
                tk->bools |= 1u << b;
            }
        }
    }
}


static void
tt_post_parse_queue(tt_post_ctx_t *c, const tt_json_member_t *m,
    tt_post_input_t *in)
{
    int              k;
    const tt_json_t *v;

    v = m->value;

    if (strcmp(m->key, "queue_id") == 0) {
        in->has_queue_id = 1;

        if (v->type == TT_JSON_NULL) {
            in->queue_id.data = "";
            in->queue_id.len = 0;

        } else if (v->type != TT_JSON_STRING) {
            tt_post_error(c, "queue_id must be a string or null");

        } else if (v->len == 0) {
            tt_post_error(c, "queue_id must not be empty");

        } else if (!tt_post_id_ok(v->str, v->len)) {
            tt_post_error(c, "queue_id is not a valid queue id");

        } else {
            in->queue_id.data = v->str;
            in->queue_id.len = v->len;
        }

        return;
    }

    in->has_queue_priority = 1;

    if (v->type == TT_JSON_NULL) {
        /* the default: medium once queued */
        in->queue_priority = TT_PRIORITY_NONE;
        return;
    }

    k = tt_post_enum(v, tt_priority_names, TT_ARRAY_SIZE(tt_priority_names));
    if (k < 0) {
        tt_post_error(c, "queue_priority must be one of high, medium, low");
        return;
    }

    in->queue_priority = (tt_priority_e) k;
}


static void
tt_post_check_body(tt_post_ctx_t *c, const char *body, size_t len,
    tt_format_e format)
{
    size_t  max;

    max = (format == TT_FORMAT_IMAGE) ? TT_PHOTO_DESC_MAX : TT_CAPTION_MAX;

    if (tt_utf16_len(body, len) > max) {
        tt_post_error(c, "post.body is longer than %zu characters", max);
    }
}


static void
tt_post_check_media(tt_post_ctx_t *c, tt_format_e format, size_t nmedia,
    int64_t cover)
{
    if (nmedia == 0) {
        tt_post_error(c, "media is required");
        return;
    }

    if (format == TT_FORMAT_VIDEO) {
        if (nmedia != 1) {
            tt_post_error(c, "media must have exactly 1 URL for format video "
                          "(%zu given)", nmedia);
        }

        return;
    }

    if (nmedia > TT_IMAGES_MAX) {
        tt_post_error(c, "media must have at most %d URLs", TT_IMAGES_MAX);
    }

    if (cover >= 0 && (uint64_t) cover >= nmedia) {
        tt_post_error(c, "platforms.tiktok.photo_cover_index must be less "
                      "than the number of media (%zu)", nmedia);
    }
}


static void
tt_post_check_brand(tt_post_ctx_t *c, int brand, tt_privacy_e privacy)
{
    if (brand && privacy == TT_PRIVACY_SELF) {
        tt_post_error(c, "platforms.tiktok.brand_content_toggle cannot be "
                      "true with privacy_status SELF_ONLY: branded content "
                      "cannot be private");
    }
}


void
tt_post_init(tt_post_t *p, int64_t now_ms)
{
    memset(p, 0, sizeof(tt_post_t));

    p->body = "";
    p->status = TT_POST_PENDING;
    p->scheduled_at = -1;
    p->created_at = now_ms;
    p->updated_at = now_ms;
    p->queue_priority = TT_PRIORITY_NONE;
    p->due_at = -1;
}


/*
 * The result is built in a copy: on TT_INVALID the caller's post is
 * untouched (arrays that change are copied, never edited in place, since
 * a decoded post may share them with other readers of the same arena).
 */
int
tt_post_apply(tt_post_t *p, const tt_post_input_t *in, int64_t now_ms,
    const char *prefix, tt_errors_t *errs, tt_arena_t *a)
{
    int             fresh, same;
    char           *s;
    size_t          nerr;
    tt_post_t       r;
    tt_platform_t  *pl;
    tt_post_ctx_t   c;
    tt_tiktok_in_t  tk;

    c.errs = errs;
    c.prefix = prefix ? prefix : "";
    c.arena = a;
    c.nomem = 0;

    nerr = errs->n;
    r = *p;
    fresh = (p->nplatforms == 0);

    memset(&tk, 0, sizeof(tt_tiktok_in_t));

    if (in->has_tiktok && in->tiktok != NULL) {
        tt_post_parse_tiktok(&c, in->tiktok, &tk);
    }

    if (r.id[0] == '\0' && tt_id_new("p_", r.id) != TT_OK) {
        return TT_ERR;
    }

    pl = tt_arena_alloc(a, sizeof(tt_platform_t));
    if (pl == NULL) {
        return TT_NOMEM;
    }

    if (fresh) {
        memset(pl, 0, sizeof(tt_platform_t));
        pl->status = TT_PLAT_PENDING;
        pl->params.video_cover_timestamp_ms = -1;
        pl->attempted_at = -1;
        pl->next_attempt_at = -1;
        pl->upload_expires_at = -1;

        if (!(tk.given & TT_TK_PRIVACY)) {
            tt_post_error(&c, "platforms.tiktok.privacy_status is required");
        }

    } else {
        *pl = p->platforms[0];
    }

    r.platforms = pl;
    r.nplatforms = 1;

    if (in->profile_id[0] != '\0') {
        memcpy(pl->profile_id, in->profile_id, TT_ID_SIZE);
        pl->profile_id[TT_ID_SIZE - 1] = '\0';
    }

    tt_post_apply_tiktok(&pl->params, &tk);

    if (in->has_body) {
        s = tt_arena_strndup(a, in->body.data, in->body.len);
        if (s == NULL) {
            return TT_NOMEM;
        }

        r.body = s;
        r.body_len = in->body.len;
    }

    if (r.body == NULL) {
        r.body = "";
        r.body_len = 0;
    }

    if (in->has_draft) {
        r.draft = in->draft ? 1 : 0;
    }

    if (in->has_scheduled_at) {
        r.scheduled_at = in->scheduled_at;
    }

    if (in->has_queue_id) {
        same = (in->queue_id.len == strlen(p->queue_id)
                && memcmp(in->queue_id.data, p->queue_id, in->queue_id.len)
                   == 0);

        memset(r.queue_id, 0, TT_ID_SIZE);

        if (in->queue_id.len > 0 && in->queue_id.len < TT_ID_SIZE) {
            memcpy(r.queue_id, in->queue_id.data, in->queue_id.len);

            /* joining a queue: the queue assigns the time */
            if (!same && !in->has_scheduled_at) {
                r.scheduled_at = -1;
            }
        }
    }

    if (in->has_queue_priority) {
        r.queue_priority = in->queue_priority;
    }

    if (r.queue_id[0] == '\0') {
        if (in->has_queue_priority && in->queue_priority != TT_PRIORITY_NONE)
        {
            tt_post_error(&c, "queue_priority needs a queue_id");
        }

        r.queue_priority = TT_PRIORITY_NONE;

    } else if (r.queue_priority == TT_PRIORITY_NONE) {
        r.queue_priority = TT_PRIORITY_MEDIUM;
    }

    if (in->has_scheduled_at && in->scheduled_at >= 0 && r.queue_id[0]) {
        if (in->has_queue_id) {
            tt_post_error(&c, "scheduled_at and queue_id cannot both be "
                          "given");

        } else {
            tt_post_error(&c, "post.scheduled_at cannot be set on a post "
                          "in a queue: set queue_id to null to take it out");
        }
    }

    if (in->has_media) {
        if (tt_post_apply_media(&r, in, a) != TT_OK) {
            return TT_NOMEM;
        }
    }

    /* the rules across fields, on the result */

    tt_post_check_body(&c, r.body, r.body_len, pl->params.format);
    tt_post_check_media(&c, pl->params.format, r.nmedia,
                        pl->params.photo_cover_index);
    tt_post_check_brand(&c, pl->params.brand_content_toggle,
                        pl->params.privacy);

    if (errs->failed) {
        return TT_NOMEM;
    }

    if (errs->n > nerr) {
        return TT_INVALID;
    }

    r.updated_at = now_ms;

    tt_post_settle(&r, now_ms);

    *p = r;

    return TT_OK;
}


static int
tt_post_apply_media(tt_post_t *r, const tt_post_input_t *in, tt_arena_t *a)
{
    size_t       i;
    tt_media_t  *m;

    /*
     * The same list keeps what was fetched and probed, unless something
     * failed: sending the list again is then how a client asks for a new
     * try (the file behind the URL may have been fixed).
     */
    if (in->nmedia == r->nmedia) {
        for (i = 0; i < in->nmedia; i++) {
            if (r->media[i].status == TT_MEDIA_FAILED
                || r->media[i].source_url == NULL
                || strlen(r->media[i].source_url) != in->media[i].len
                || memcmp(r->media[i].source_url, in->media[i].data,
                          in->media[i].len) != 0)
            {
                break;
            }
        }

        if (i == in->nmedia) {
            return TT_OK;
        }
    }

    m = NULL;

    if (in->nmedia) {
        m = tt_arena_calloc(a, in->nmedia * sizeof(tt_media_t));
        if (m == NULL) {
            return TT_NOMEM;
        }
    }

    for (i = 0; i < in->nmedia; i++) {
        if (tt_id_new("m_", m[i].id) != TT_OK) {
            return TT_ERR;
        }

        m[i].status = TT_MEDIA_PENDING;
        m[i].source_url = tt_arena_strndup(a, in->media[i].data,
                                           in->media[i].len);
        if (m[i].source_url == NULL) {
            return TT_NOMEM;
        }

        m[i].size = -1;
        m[i].width = -1;
        m[i].height = -1;
        m[i].duration_ms = -1;
        m[i].frame_rate = -1;
    }

    r->media = m;
    r->nmedia = in->nmedia;

    return TT_OK;
}


static void
tt_post_apply_tiktok(tt_tiktok_params_t *p, const tt_tiktok_in_t *tk)
{
    unsigned  b;

    if (tk->given & TT_TK_PRIVACY) {
        p->privacy = tk->privacy;
    }

    if (tk->given & TT_TK_FORMAT) {
        p->format = tk->format;
    }

    if (tk->given & TT_TK_MODE) {
        p->post_mode = tk->post_mode;
    }

    if (tk->given & TT_TK_COVER) {
        p->photo_cover_index = tk->cover;
    }

    if (tk->given & TT_TK_COVER_TS) {
        p->video_cover_timestamp_ms = tk->cover_ts;
    }

    for (b = 0; b < TT_TK_NBOOLS; b++) {
        if (tk->given & TT_TK_BOOL(b)) {
            tt_params_set_bool(p, b, (tk->bools >> b) & 1);
        }
    }
}


static void
tt_params_set_bool(tt_tiktok_params_t *p, unsigned i, unsigned v)
{
    switch (i) {
    case 0: p->auto_add_music = v; break;
    case 1: p->disable_comment = v; break;
    case 2: p->disable_duet = v; break;
    case 3: p->disable_stitch = v; break;
    case 4: p->brand_content_toggle = v; break;
    case 5: p->brand_organic_toggle = v; break;
    default: p->made_with_ai = v; break;
    }
}


static unsigned
tt_params_bool(const tt_tiktok_params_t *p, unsigned i)
{
    switch (i) {
    case 0: return p->auto_add_music;
    case 1: return p->disable_comment;
    case 2: return p->disable_duet;
    case 3: return p->disable_stitch;
    case 4: return p->brand_content_toggle;
    case 5: return p->brand_organic_toggle;
    default: return p->made_with_ai;
    }
}


/*
 * The post's status and due time, from its parts:
 *
 *   draft flag                      -> draft, never due
 *   any media failed                -> media_processing_failed, never due
 *   any media pending               -> pending, due now (media intake)
 *   a platform processing or retry  -> processing
 *   a platform pending              -> scheduled, due at scheduled_at/now
 *   every platform at an end        -> processed, never due
 *
 * While processing, due_at belongs to the scheduler (the next poll, or
 * next_attempt_at for a retry) and is kept.
 */
void
tt_post_settle(tt_post_t *p, int64_t now_ms)
{
    int     pending, busy;
    size_t  i;

    if (p->draft) {
        p->status = TT_POST_DRAFT;
        p->due_at = -1;
        return;
    }

    pending = 0;

    for (i = 0; i < p->nmedia; i++) {
        if (p->media[i].status == TT_MEDIA_FAILED) {
            p->status = TT_POST_MEDIA_FAILED;
            p->due_at = -1;
            return;
        }

        if (p->media[i].status == TT_MEDIA_PENDING) {
            pending = 1;
        }
    }

    if (pending) {
        p->status = TT_POST_PENDING;
        p->due_at = now_ms;
        return;
    }

    pending = (p->nplatforms == 0);
    busy = 0;

    for (i = 0; i < p->nplatforms; i++) {
        switch (p->platforms[i].status) {
        case TT_PLAT_PENDING:
            pending = 1;
            break;
        case TT_PLAT_PROCESSING:
        case TT_PLAT_RETRY:
            busy = 1;
            break;
        default:
            break;
        }
    }

    if (busy) {
        p->status = TT_POST_PROCESSING;

        for (i = 0; i < p->nplatforms; i++) {
            if (p->platforms[i].status == TT_PLAT_PROCESSING) {
                /* the scheduler owns due_at while it works */
                return;
            }
        }

        /* every busy platform waits for a retry: the earliest one */
        p->due_at = -1;

        for (i = 0; i < p->nplatforms; i++) {
            if (p->platforms[i].status == TT_PLAT_RETRY
                && (p->due_at < 0
                    || p->platforms[i].next_attempt_at < p->due_at))
            {
                p->due_at = p->platforms[i].next_attempt_at;
            }
        }

        return;
    }

    if (pending) {
        p->status = TT_POST_SCHEDULED;
        p->due_at = p->scheduled_at >= 0 ? p->scheduled_at : now_ms;
        return;
    }

    p->status = TT_POST_PROCESSED;
    p->due_at = -1;
}


const char *
tt_post_status_name(tt_post_status_e s)
{
    if ((unsigned) s >= TT_ARRAY_SIZE(tt_post_status_names)) {
        return "unknown";
    }

    return tt_post_status_names[s];
}


const char *
tt_plat_status_name(tt_plat_status_e s)
{
    if ((unsigned) s >= TT_ARRAY_SIZE(tt_plat_status_names)) {
        return "unknown";
    }

    return tt_plat_status_names[s];
}


const char *
tt_media_status_name(tt_media_status_e s)
{
    if ((unsigned) s >= TT_ARRAY_SIZE(tt_media_status_names)) {
        return "unknown";
    }

    return tt_media_status_names[s];
}


const char *
tt_privacy_name(tt_privacy_e p)
{
    if ((unsigned) p >= TT_ARRAY_SIZE(tt_privacy_names)) {
        return "unknown";
    }

    return tt_privacy_names[p];
}


const char *
tt_format_name(tt_format_e f)
{
    if ((unsigned) f >= TT_ARRAY_SIZE(tt_format_names)) {
        return "unknown";
    }

    return tt_format_names[f];
}


const char *
tt_post_mode_name(tt_post_mode_e m)
{
    if ((unsigned) m >= TT_ARRAY_SIZE(tt_mode_names)) {
        return "unknown";
    }

    return tt_mode_names[m];
}


const char *
tt_priority_name(tt_priority_e p)
{
    /* NULL for TT_PRIORITY_NONE: the API renders it as null */
    if (p < TT_PRIORITY_LOW || p > TT_PRIORITY_HIGH) {
        return NULL;
    }

    return tt_priority_names[p];
}


static void
tt_jw_int_or_null(tt_jw_t *w, int64_t v)
{
    if (v < 0) {
        tt_jw_null(w);

    } else {
        tt_jw_int(w, v);
    }
}


void
tt_post_render(tt_jw_t *w, const tt_post_t *p)
{
    size_t  i;

    tt_jw_obj_open(w);

    tt_jw_key(w, "id");
    tt_jw_cstr(w, p->id);
    tt_jw_key(w, "body");
    tt_jw_str(w, p->body ? p->body : "", p->body ? p->body_len : 0);
    tt_jw_key(w, "status");
    tt_jw_cstr(w, tt_post_status_name(p->status));
    tt_jw_key(w, "draft");
    tt_jw_bool(w, p->draft);
    tt_jw_key(w, "scheduled_at");
    tt_jw_time(w, p->scheduled_at);
    tt_jw_key(w, "created_at");
    tt_jw_time(w, p->created_at);
    tt_jw_key(w, "updated_at");
    tt_jw_time(w, p->updated_at);
    tt_jw_key(w, "queue_id");
    tt_jw_cstr(w, p->queue_id[0] ? p->queue_id : NULL);
    tt_jw_key(w, "queue_priority");
    tt_jw_cstr(w, tt_priority_name(p->queue_priority));

    tt_jw_key(w, "media");
    tt_jw_arr_open(w);

    for (i = 0; i < p->nmedia; i++) {
        tt_post_render_media(w, &p->media[i]);
    }

    tt_jw_arr_close(w);

    tt_jw_key(w, "platforms");
    tt_jw_arr_open(w);

    for (i = 0; i < p->nplatforms; i++) {
        tt_post_render_platform(w, &p->platforms[i]);
    }

    tt_jw_arr_close(w);

    tt_jw_obj_close(w);
}


static void
tt_post_render_media(tt_jw_t *w, const tt_media_t *m)
{
    size_t  i;

    tt_jw_obj_open(w);

    tt_jw_key(w, "id");
    tt_jw_cstr(w, m->id);
    tt_jw_key(w, "status");
    tt_jw_cstr(w, tt_media_status_name(m->status));
    tt_jw_key(w, "source_url");
    tt_jw_cstr(w, m->source_url);
    tt_jw_key(w, "content_type");
    tt_jw_cstr(w, m->content_type);
    tt_jw_key(w, "size");
    tt_jw_int_or_null(w, m->size);
    tt_jw_key(w, "width");
    tt_jw_int_or_null(w, m->width);
    tt_jw_key(w, "height");
    tt_jw_int_or_null(w, m->height);
    tt_jw_key(w, "duration_ms");
    tt_jw_int_or_null(w, m->duration_ms);
    tt_jw_key(w, "codec");
    tt_jw_cstr(w, m->codec);
    tt_jw_key(w, "frame_rate");

    if (m->frame_rate >= 0 && isfinite(m->frame_rate)) {
        tt_jw_double(w, m->frame_rate);

    } else {
        tt_jw_null(w);
    }

    tt_jw_key(w, "error_message");
    tt_jw_cstr(w, m->error_message);

    tt_jw_key(w, "warnings");
    tt_jw_arr_open(w);

    for (i = 0; i < m->nwarnings; i++) {
        tt_jw_cstr(w, m->warnings[i]);
    }

    tt_jw_arr_close(w);

    tt_jw_obj_close(w);
}


static void
tt_post_render_platform(tt_jw_t *w, const tt_platform_t *pl)
{
    char      id[24];
    unsigned  b;

    tt_jw_obj_open(w);

    tt_jw_key(w, "platform");
    tt_jw_cstr(w, "tiktok");
    tt_jw_key(w, "profile_id");
    tt_jw_cstr(w, pl->profile_id[0] ? pl->profile_id : NULL);
    tt_jw_key(w, "status");
    tt_jw_cstr(w, tt_plat_status_name(pl->status));

    tt_jw_key(w, "params");
    tt_jw_obj_open(w);
    tt_jw_key(w, "privacy_status");
    tt_jw_cstr(w, tt_privacy_name(pl->params.privacy));
    tt_jw_key(w, "format");
    tt_jw_cstr(w, tt_format_name(pl->params.format));
    tt_jw_key(w, "post_mode");
    tt_jw_cstr(w, tt_post_mode_name(pl->params.post_mode));
    tt_jw_key(w, "photo_cover_index");
    tt_jw_int(w, pl->params.photo_cover_index);
    tt_jw_key(w, "video_cover_timestamp_ms");
    tt_jw_int_or_null(w, pl->params.video_cover_timestamp_ms);

    for (b = 0; b < TT_TK_NBOOLS; b++) {
        tt_jw_key(w, tt_tiktok_bools[b]);
        tt_jw_bool(w, tt_params_bool(&pl->params, b));
    }

    tt_jw_obj_close(w);

    tt_jw_key(w, "attempts");
    tt_jw_int(w, pl->attempts);
    tt_jw_key(w, "attempted_at");
    tt_jw_time(w, pl->attempted_at);
    tt_jw_key(w, "next_attempt_at");
    tt_jw_time(w, pl->next_attempt_at);

    tt_jw_key(w, "upload");
    tt_jw_obj_open(w);
    tt_jw_key(w, "bytes_sent");
    tt_jw_int(w, pl->bytes_sent);
    tt_jw_key(w, "bytes_total");
    tt_jw_int(w, pl->bytes_total);
    tt_jw_obj_close(w);

    tt_jw_key(w, "publish_id");
    tt_jw_cstr(w, pl->publish_id);

    /* a string: 19-digit ids do not survive a JavaScript double */
    tt_jw_key(w, "platform_id");

    if (pl->platform_id != 0) {
        snprintf(id, sizeof(id), "%" PRId64, pl->platform_id);
        tt_jw_cstr(w, id);

    } else {
        tt_jw_null(w);
    }

    tt_jw_key(w, "url");
    tt_jw_cstr(w, pl->url);
    tt_jw_key(w, "error");
    tt_jw_cstr(w, pl->error);

    tt_jw_key(w, "error_details");

    if (pl->error_code || pl->error_message || pl->error_note) {
        tt_jw_obj_open(w);
        tt_jw_key(w, "platform_error_code");
        tt_jw_cstr(w, pl->error_code);
        tt_jw_key(w, "platform_error_message");
        tt_jw_cstr(w, pl->error_message);
        tt_jw_key(w, "note");
        tt_jw_cstr(w, pl->error_note);
        tt_jw_obj_close(w);

    } else {
        tt_jw_null(w);
    }

    tt_jw_obj_close(w);
}


/*
 * The internal JSON: every field of tt_post_t under its C name, enums as
 * numbers, -1 as -1.  Only tt_post_decode() reads it.
 */
static void
tt_post_internal(tt_jw_t *w, const tt_post_t *p)
{
    size_t  i;

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

    tt_jw_key(w, "media");
    tt_jw_arr_open(w);

    for (i = 0; i < p->nmedia; i++) {
        tt_post_internal_media(w, &p->media[i]);
    }

    tt_jw_arr_close(w);

    tt_jw_key(w, "platforms");
    tt_jw_arr_open(w);

    for (i = 0; i < p->nplatforms; i++) {
        tt_post_internal_platform(w, &p->platforms[i]);
    }

    tt_jw_arr_close(w);

    tt_jw_obj_close(w);
}


static void
tt_post_internal_media(tt_jw_t *w, const tt_media_t *m)
{
    size_t  i;

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

    tt_jw_key(w, "warnings");
    tt_jw_arr_open(w);

    for (i = 0; i < m->nwarnings; i++) {
        tt_jw_cstr(w, m->warnings[i]);
    }

    tt_jw_arr_close(w);

    tt_jw_key(w, "spool_path");
    tt_jw_cstr(w, m->spool_path);

    tt_jw_obj_close(w);
}


static void
tt_post_internal_platform(tt_jw_t *w, const tt_platform_t *pl)
{
    unsigned  b;

    tt_jw_obj_open(w);

    tt_jw_key(w, "profile_id");
    tt_jw_cstr(w, pl->profile_id);
    tt_jw_key(w, "status");
    tt_jw_int(w, pl->status);

    tt_jw_key(w, "params");
    tt_jw_obj_open(w);
    tt_jw_key(w, "privacy");
    tt_jw_int(w, pl->params.privacy);
    tt_jw_key(w, "format");
    tt_jw_int(w, pl->params.format);
    tt_jw_key(w, "post_mode");
    tt_jw_int(w, pl->params.post_mode);
    tt_jw_key(w, "photo_cover_index");
    tt_jw_int(w, pl->params.photo_cover_index);
    tt_jw_key(w, "video_cover_timestamp_ms");
    tt_jw_int(w, pl->params.video_cover_timestamp_ms);

    for (b = 0; b < TT_TK_NBOOLS; b++) {
        tt_jw_key(w, tt_tiktok_bools[b]);
        tt_jw_bool(w, tt_params_bool(&pl->params, b));
    }

    tt_jw_obj_close(w);

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

    tt_jw_obj_close(w);
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


/*
 * Appends the record to out:
 *
 *   [u8 version][workspace_id, 32 bytes NUL padded][u8 status]
 *   [created_at BE64][scheduled_at BE64][due_at BE64][api_len BE32]
 *   [api JSON: tt_post_render()][internal JSON: everything]
 *
 * On failure out is left as it was.
 */
int
tt_post_encode(const tt_post_t *p, tt_buf_t *out)
{
    int       rc;
    size_t    start, api_len;
    uint8_t  *h;
    tt_jw_t   w;

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

    h = (uint8_t *) out->data + start;

    h[0] = TT_POST_RECORD_V1;
    memcpy(h + 1, p->workspace_id, TT_ID_SIZE);
    h[1 + TT_ID_SIZE - 1] = '\0';
    h[1 + TT_ID_SIZE] = (uint8_t) p->status;
    tt_put_be64(h + 2 + TT_ID_SIZE, p->created_at);
    tt_put_be64(h + 10 + TT_ID_SIZE, p->scheduled_at);
    tt_put_be64(h + 18 + TT_ID_SIZE, p->due_at);
    h[26 + TT_ID_SIZE] = (uint8_t) (api_len >> 24);
    h[27 + TT_ID_SIZE] = (uint8_t) (api_len >> 16);
    h[28 + TT_ID_SIZE] = (uint8_t) (api_len >> 8);
    h[29 + TT_ID_SIZE] = (uint8_t) api_len;

    return TT_OK;

failed:

    if (!tt_buf_ok(out)) {
        rc = TT_NOMEM;
    }

    out->len = start;

    return rc;
}


int
tt_post_peek(const void *rec, size_t len, tt_post_peek_t *peek)
{
    size_t          api_len;
    const uint8_t  *h;

    h = rec;

    if (h == NULL || len < TT_POST_HDR_LEN || h[0] != TT_POST_RECORD_V1) {
        return TT_INVALID;
    }

    /* the workspace id must be a NUL-terminated string */
    if (memchr(h + 1, '\0', TT_ID_SIZE) == NULL) {
        return TT_INVALID;
    }

    if (h[1 + TT_ID_SIZE] > TT_POST_MEDIA_FAILED) {
        return TT_INVALID;
    }

    api_len = ((size_t) h[26 + TT_ID_SIZE] << 24)
              | ((size_t) h[27 + TT_ID_SIZE] << 16)
              | ((size_t) h[28 + TT_ID_SIZE] << 8)
              | (size_t) h[29 + TT_ID_SIZE];

    if (api_len == 0 || api_len > len - TT_POST_HDR_LEN) {
        return TT_INVALID;
    }

    memcpy(peek->workspace_id, h + 1, TT_ID_SIZE);
    peek->status = (tt_post_status_e) h[1 + TT_ID_SIZE];
    peek->created_at = tt_get_be64(h + 2 + TT_ID_SIZE);
    peek->scheduled_at = tt_get_be64(h + 10 + TT_ID_SIZE);
    peek->due_at = tt_get_be64(h + 18 + TT_ID_SIZE);
    peek->api.data = (const char *) h + TT_POST_HDR_LEN;
    peek->api.len = api_len;

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


int
tt_post_decode(const void *rec, size_t len, tt_arena_t *a, tt_post_t *p)
{
    char              err[128];
    size_t            i, off;
    tt_dec_t          d;
    tt_json_t        *root;
    const tt_json_t  *v, *items;
    tt_post_peek_t    peek;

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

    memset(p, 0, sizeof(tt_post_t));

    tt_dec_id(&d, root, "id", p->id);
    tt_dec_id(&d, root, "workspace_id", p->workspace_id);
    tt_dec_id(&d, root, "profile_group_id", p->profile_group_id);

    v = tt_dec_get(&d, root, "body", TT_JSON_STRING);
    if (v != NULL) {
        p->body = v->str;
        p->body_len = v->len;
    }

    p->status = tt_dec_enum(&d, root, "status", TT_POST_DRAFT,
                            TT_POST_MEDIA_FAILED);
    p->draft = tt_dec_bool(&d, root, "draft");
    p->scheduled_at = tt_dec_int(&d, root, "scheduled_at");
    p->created_at = tt_dec_int(&d, root, "created_at");
    p->updated_at = tt_dec_int(&d, root, "updated_at");
    tt_dec_id(&d, root, "queue_id", p->queue_id);
    p->queue_priority = tt_dec_enum(&d, root, "queue_priority",
                                    TT_PRIORITY_NONE, TT_PRIORITY_HIGH);
    p->due_at = tt_dec_int(&d, root, "due_at");

    items = tt_dec_get(&d, root, "media", TT_JSON_ARRAY);

    if (items != NULL && items->n) {
        p->media = tt_arena_calloc(a, items->n * sizeof(tt_media_t));
        if (p->media == NULL) {
            return TT_NOMEM;
        }

        p->nmedia = items->n;

        for (i = 0; i < items->n; i++) {
            tt_dec_media(&d, items->items[i], &p->media[i]);
        }
    }

    items = tt_dec_get(&d, root, "platforms", TT_JSON_ARRAY);

    if (items != NULL && items->n) {
        p->platforms = tt_arena_calloc(a, items->n * sizeof(tt_platform_t));
        if (p->platforms == NULL) {
            return TT_NOMEM;
        }

        p->nplatforms = items->n;

        for (i = 0; i < items->n; i++) {
            tt_dec_platform(&d, items->items[i], &p->platforms[i]);
        }
    }

    if (d.bad) {
        return TT_INVALID;
    }

    /* the header is derived from the same post: a mismatch is corruption */
    if (strcmp(peek.workspace_id, p->workspace_id) != 0
        || peek.status != p->status
        || peek.created_at != p->created_at
        || peek.scheduled_at != p->scheduled_at
        || peek.due_at != p->due_at)
    {
        return TT_INVALID;
    }

    return TT_OK;
}


static void
tt_dec_media(tt_dec_t *d, const tt_json_t *o, tt_media_t *m)
{
    size_t            i;
    const tt_json_t  *w;

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

    w = tt_dec_get(d, o, "warnings", TT_JSON_ARRAY);

    if (w == NULL || w->n == 0) {
        return;
    }

    m->warnings = tt_arena_alloc(d->arena, w->n * sizeof(const char *));
    if (m->warnings == NULL) {
        d->bad = 1;
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
    unsigned          b;
    const tt_json_t  *pr;

    if (o->type != TT_JSON_OBJECT) {
        d->bad = 1;
        return;
    }

    tt_dec_id(d, o, "profile_id", pl->profile_id);
    pl->status = tt_dec_enum(d, o, "status", TT_PLAT_PENDING, TT_PLAT_RETRY);

    pr = tt_dec_get(d, o, "params", TT_JSON_OBJECT);

    if (pr != NULL) {
        pl->params.privacy = tt_dec_enum(d, pr, "privacy", TT_PRIVACY_PUBLIC,
                                         TT_PRIVACY_SELF);
        pl->params.format = tt_dec_enum(d, pr, "format", TT_FORMAT_VIDEO,
                                        TT_FORMAT_IMAGE);
        pl->params.post_mode = tt_dec_enum(d, pr, "post_mode",
                                           TT_MODE_DIRECT, TT_MODE_UPLOAD);
        pl->params.photo_cover_index = tt_dec_int(d, pr,
                                                  "photo_cover_index");
        pl->params.video_cover_timestamp_ms =
            tt_dec_int(d, pr, "video_cover_timestamp_ms");

        for (b = 0; b < TT_TK_NBOOLS; b++) {
            tt_params_set_bool(&pl->params, b,
                               tt_dec_bool(d, pr, tt_tiktok_bools[b]));
        }
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
}
