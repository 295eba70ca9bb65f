/*
 * Copyright (C) the ngx_tiktok authors.
 * The post's client input: the shape of a create or PATCH body and its rules.
 */


#include <inttypes.h>
#include <stdio.h>
#include <strings.h>

#include "tt_post_int.h"
#include "tt_time.h"


#define TT_PROFILES_MAX     10
#define TT_KEY_SHOW         64      /* bytes of an unknown key in a message */


/* which parts of the body parsed cleanly: rules across fields skip others */
typedef struct {
    int             body;
    int             media;
    int             queue;
} tt_input_ok_t;


static int tt_post_key_show(const char *key, size_t len);
static int tt_post_enum(const tt_json_t *v, const char *const *names,
    size_t n);
static int tt_post_url_ok(const char *s, size_t len);
static size_t tt_post_url_host(const char *p, size_t host, size_t end);
static int tt_post_url_port(const char *p, size_t port, size_t end);
static int tt_post_id_ok(const char *s, size_t len);
static int tt_post_has_ctl(const char *s, size_t len);
static void tt_post_parse_members(tt_post_ctx_t *c, const tt_json_t *root,
    tt_post_input_t *in, tt_tiktok_in_t *tk, tt_input_ok_t *ok);
static void tt_post_check_keys(tt_post_ctx_t *c, const tt_json_t *root,
    int patch, const tt_post_input_t *in, const tt_tiktok_in_t *tk,
    const tt_input_ok_t *ok);
static void tt_post_check_rules(tt_post_ctx_t *c, int patch,
    const tt_post_input_t *in, const tt_tiktok_in_t *tk,
    const tt_input_ok_t *ok);
static void tt_post_parse_post(tt_post_ctx_t *c, const tt_json_t *o,
    tt_post_input_t *in, int *body_ok);
static void tt_post_parse_body(tt_post_ctx_t *c, const tt_json_t *v,
    tt_post_input_t *in, int *body_ok);
static void tt_post_parse_scheduled(tt_post_ctx_t *c, const tt_json_t *v,
    tt_post_input_t *in);
static int tt_post_strings_ok(tt_post_ctx_t *c, const tt_json_t *v,
    const char *name);
static tt_str_t *tt_post_strings(tt_post_ctx_t *c, const tt_json_t *v);
static void tt_post_parse_profiles(tt_post_ctx_t *c, const tt_json_t *v,
    tt_post_input_t *in);
static void tt_post_parse_media(tt_post_ctx_t *c, const tt_json_t *v,
    tt_post_input_t *in, int *ok);
static int tt_post_check_url(tt_post_ctx_t *c, size_t i, const tt_str_t *s);
static void tt_post_parse_platforms(tt_post_ctx_t *c, const tt_json_t *o,
    tt_post_input_t *in, tt_tiktok_in_t *tk);
static int tt_post_tiktok_enum(tt_post_ctx_t *c, const tt_json_t *v,
    const char *const *names, size_t n, const char *msg);
static void tt_post_tiktok_cover(tt_post_ctx_t *c, const tt_json_t *v,
    tt_tiktok_in_t *tk);
static void tt_post_tiktok_cover_ts(tt_post_ctx_t *c, const tt_json_t *v,
    tt_tiktok_in_t *tk);
static void tt_post_tiktok_bool(tt_post_ctx_t *c, const tt_json_member_t *m,
    tt_tiktok_in_t *tk);
static void tt_post_parse_queue(tt_post_ctx_t *c, const tt_json_member_t *m,
    tt_post_input_t *in);


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


/* the arguments of "%.*s%s" that quote member m's key, cut if long */
#define tt_post_key_args(m)                                                  \
    tt_post_key_show((m)->key, (m)->key_len), (m)->key,                      \
    (m)->key_len > TT_KEY_SHOW ? "..." : ""

#define tt_post_unknown(c, path, m)                                          \
    tt_post_error(c, "%s%.*s%s is not a known field", path,                  \
                  tt_post_key_args(m))


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
    size_t       end, at, host, port;
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

    /* the authority ends at the path, the query or the fragment */
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

    port = tt_post_url_host(p, host, end);
    if (port == 0) {
        return 0;
    }

    return tt_post_url_port(p, port, end);
}


/*
 * The host in p[host, end): where it ends (at ":port" or at end), or 0
 * if it is not a host.  A host is never empty, so 0 is never its end.
 */
static size_t
tt_post_url_host(const char *p, size_t host, size_t end)
{
    size_t  i;

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

        return i + 1;
    }

    for (i = host; i < end && p[i] != ':'; i++) {
        if (!(p[i] == '.' || p[i] == '-' || p[i] == '_'
              || (p[i] >= '0' && p[i] <= '9')
              || (p[i] >= 'a' && p[i] <= 'z')
              || (p[i] >= 'A' && p[i] <= 'Z')))
        {
            return 0;
        }
    }

    return i == host ? 0 : i;
}


/* p[port, end): nothing, or ":" and 1-5 digits */
static int
tt_post_url_port(const char *p, size_t port, size_t end)
{
    size_t  i;

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


int
tt_post_input_parse(const tt_json_t *root, int patch, const char *prefix,
    tt_post_input_t *in, tt_errors_t *errs, tt_arena_t *a)
{
    size_t          nerr;
    tt_post_ctx_t   c;
    tt_input_ok_t   ok;
    tt_tiktok_in_t  tk;

    memset(in, 0, sizeof(tt_post_input_t));
    in->scheduled_at = -1;
    in->queue_priority = TT_PRIORITY_NONE;

    memset(&tk, 0, sizeof(tt_tiktok_in_t));

    tt_post_ctx_init(&c, errs, prefix, a);

    nerr = errs->n;

    if (root == NULL || root->type != TT_JSON_OBJECT) {
        tt_post_error(&c, "the request body must be a JSON object");
        return errs->failed ? TT_NOMEM : TT_INVALID;
    }

    ok.body = 1;
    ok.media = 1;
    ok.queue = 1;

    tt_post_parse_members(&c, root, in, &tk, &ok);
    tt_post_check_keys(&c, root, patch, in, &tk, &ok);
    tt_post_check_rules(&c, patch, in, &tk, &ok);

    if (errs->failed || c.nomem) {
        return TT_NOMEM;
    }

    return errs->n > nerr ? TT_INVALID : TT_OK;
}


/* the top-level keys of the body, each with its own parser */
static void
tt_post_parse_members(tt_post_ctx_t *c, const tt_json_t *root,
    tt_post_input_t *in, tt_tiktok_in_t *tk, tt_input_ok_t *ok)
{
    size_t                   i, n;
    const tt_json_member_t  *m;

    for (i = 0; i < root->n; i++) {
        m = &root->members[i];

        if (strcmp(m->key, "post") == 0) {
            if (m->value->type != TT_JSON_OBJECT) {
                tt_post_error(c, "post must be an object");
                ok->body = 0;
                continue;
            }

            tt_post_parse_post(c, m->value, in, &ok->body);

        } else if (strcmp(m->key, "profiles") == 0) {
            tt_post_parse_profiles(c, m->value, in);
            in->has_profiles = 1;

        } else if (strcmp(m->key, "media") == 0) {
            tt_post_parse_media(c, m->value, in, &ok->media);
            in->has_media = 1;

        } else if (strcmp(m->key, "platforms") == 0) {
            tt_post_parse_platforms(c, m->value, in, tk);

        } else if (strcmp(m->key, "queue_id") == 0
                   || strcmp(m->key, "queue_priority") == 0)
        {
            n = c->errs->n;
            tt_post_parse_queue(c, m, in);
            ok->queue = ok->queue && c->errs->n == n;

        } else {
            tt_post_unknown(c, "", m);
        }
    }
}


/* what a create must have, and keys that cannot go together */
static void
tt_post_check_keys(tt_post_ctx_t *c, const tt_json_t *root, int patch,
    const tt_post_input_t *in, const tt_tiktok_in_t *tk,
    const tt_input_ok_t *ok)
{
    if (!patch && tt_json_get(root, "post") == NULL) {
        tt_post_error(c, "post is required");
    }

    if (!patch && !(tk->given & TT_TK_SEEN_PRIVACY)) {
        tt_post_error(c, "platforms.tiktok.privacy_status is required");
    }

    tt_post_check_schedule(c, in);

    if (ok->queue && in->has_queue_priority
        && in->queue_priority != TT_PRIORITY_NONE
        && in->has_queue_id && in->queue_id.len == 0)
    {
        tt_post_error(c, "queue_priority needs a queue_id");
    }
}


/*
 * The rules across fields that the input alone decides.  On create the
 * result is the input plus defaults, so every rule is checked here and
 * the client gets every failing rule in one answer; a PATCH is checked
 * again on its result in tt_post_apply().
 */
static void
tt_post_check_rules(tt_post_ctx_t *c, int patch, const tt_post_input_t *in,
    const tt_tiktok_in_t *tk, const tt_input_ok_t *ok)
{
    int          body_ok, media_ok;
    tt_format_e  format;

    /* with no valid format the length and count limits are unknown */
    body_ok = ok->body && !(tk->given & TT_TK_BAD_FORMAT);
    media_ok = ok->media && !(tk->given & TT_TK_BAD_FORMAT);

    if (in->has_body && body_ok) {
        if (tk->given & TT_TK_FORMAT) {
            format = tk->format;

        } else {
            /* a PATCH keeps the old format: only the larger limit is sure */
            format = patch ? TT_FORMAT_IMAGE : TT_FORMAT_VIDEO;
        }

        tt_post_check_body(c, in->body.data, in->body.len, format);
    }

    if (patch) {
        return;
    }

    format = (tk->given & TT_TK_FORMAT) ? tk->format : TT_FORMAT_VIDEO;

    if (media_ok) {
        tt_post_check_media(c, format, in->nmedia,
                            (tk->given & TT_TK_COVER) ? tk->cover : 0);
    }

    if ((tk->given & TT_TK_COVER) && format == TT_FORMAT_VIDEO
        && !(tk->given & TT_TK_BAD_FORMAT))
    {
        tt_post_check_cover(c);
    }

    if ((tk->given & TT_TK_PRIVACY) && (tk->given & TT_TK_BOOL(TT_TK_BRAND))
        && (tk->bools & (1u << TT_TK_BRAND)))
    {
        tt_post_check_brand(c, 1, tk->privacy);
    }

    if (in->has_queue_priority && in->queue_priority != TT_PRIORITY_NONE
        && !in->has_queue_id)
    {
        tt_post_error(c, "queue_priority needs a queue_id");
    }
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
            tt_post_parse_body(c, v, in, body_ok);

        } else if (strcmp(m->key, "scheduled_at") == 0) {
            tt_post_parse_scheduled(c, v, in);

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


static void
tt_post_parse_body(tt_post_ctx_t *c, const tt_json_t *v, tt_post_input_t *in,
    int *body_ok)
{
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
}


static void
tt_post_parse_scheduled(tt_post_ctx_t *c, const tt_json_t *v,
    tt_post_input_t *in)
{
    in->has_scheduled_at = 1;
    in->scheduled_at = -1;

    if (v->type == TT_JSON_STRING) {
        if (tt_time_parse(v->str, v->len, &in->scheduled_at) != TT_OK) {
            in->scheduled_at = -1;

            if (v->len >= 19 && memcmp(v->str + 16, ":60", 3) == 0) {
                tt_post_error(c, "post.scheduled_at is a leap second "
                              "(:60), which TikTok does not take");

            } else {
                tt_post_error(c, "post.scheduled_at is not an ISO 8601 "
                              "time with an offset");
            }
        }

    } else if (v->type != TT_JSON_NULL) {
        tt_post_error(c, "post.scheduled_at must be a string or null");
    }
}


/* profiles and media are arrays of strings */
static int
tt_post_strings_ok(tt_post_ctx_t *c, const tt_json_t *v, const char *name)
{
    size_t  i;

    if (v->type == TT_JSON_ARRAY) {
        for (i = 0; i < v->n; i++) {
            if (v->items[i]->type != TT_JSON_STRING) {
                break;
            }
        }

        if (i == v->n) {
            return 1;
        }
    }

    tt_post_error(c, "%s must be an array of strings", name);

    return 0;
}


/* the strings of a non-empty array, pointing into the tree */
static tt_str_t *
tt_post_strings(tt_post_ctx_t *c, const tt_json_t *v)
{
    size_t     i;
    tt_str_t  *s;

    s = tt_arena_alloc(c->arena, v->n * sizeof(tt_str_t));
    if (s == NULL) {
        c->nomem = 1;
        return NULL;
    }

    for (i = 0; i < v->n; i++) {
        s[i].data = v->items[i]->str;
        s[i].len = v->items[i]->len;
    }

    return s;
}


static void
tt_post_parse_profiles(tt_post_ctx_t *c, const tt_json_t *v,
    tt_post_input_t *in)
{
    size_t     i;
    tt_str_t  *s;

    if (!tt_post_strings_ok(c, v, "profiles")) {
        return;
    }

    if (v->n == 0 || v->n > TT_PROFILES_MAX) {
        tt_post_error(c, "profiles must have between 1 and %d entries",
                      TT_PROFILES_MAX);
        return;
    }

    s = tt_post_strings(c, v);
    if (s == NULL) {
        return;
    }

    for (i = 0; i < v->n; i++) {
        if (s[i].len == 0) {
            tt_post_error(c, "profiles[%zu] must not be empty", i);
        }
    }

    in->profiles = s;
    in->nprofiles = v->n;
}


/* *ok = 0 if the list cannot be counted on for the rules across fields */
static void
tt_post_parse_media(tt_post_ctx_t *c, const tt_json_t *v,
    tt_post_input_t *in, int *ok)
{
    size_t     i;
    tt_str_t  *s;

    if (!tt_post_strings_ok(c, v, "media")) {
        *ok = 0;
        return;
    }

    if (v->n > TT_IMAGES_MAX) {
        tt_post_error(c, "media must have at most %d URLs", TT_IMAGES_MAX);
        *ok = 0;
        return;
    }

    s = NULL;

    if (v->n) {
        s = tt_post_strings(c, v);
        if (s == NULL) {
            return;
        }
    }

    for (i = 0; i < v->n; i++) {
        if (!tt_post_check_url(c, i, &s[i])) {
            *ok = 0;
        }
    }

    in->media = s;
    in->nmedia = v->n;
}


/* media[i]: every rule it breaks gets its message */
static int
tt_post_check_url(tt_post_ctx_t *c, size_t i, const tt_str_t *s)
{
    int  ok;

    ok = 1;

    if (s->len > TT_URL_MAX) {
        tt_post_error(c, "media[%zu] is longer than %d characters", i,
                      TT_URL_MAX);
        ok = 0;
    }

    if (memchr(s->data, ' ', s->len) != NULL
        || tt_post_has_ctl(s->data, s->len))
    {
        tt_post_error(c, "media[%zu] contains spaces or control "
                      "characters", i);
        ok = 0;
    }

    if (!tt_post_url_ok(s->data, s->len)) {
        tt_post_error(c, "media[%zu] is not an http or https URL", i);
        ok = 0;
    }

    return ok;
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
                          tt_post_key_args(m));
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
void
tt_post_parse_tiktok(tt_post_ctx_t *c, const tt_json_t *o, tt_tiktok_in_t *tk)
{
    int                      k;
    size_t                   i;
    const tt_json_t         *v;
    const tt_json_member_t  *m;

    for (i = 0; i < o->n; i++) {
        m = &o->members[i];
        v = m->value;

        if (strcmp(m->key, "privacy_status") == 0) {
            tk->given |= TT_TK_SEEN_PRIVACY;

            k = tt_post_tiktok_enum(c, v, tt_privacy_names,
                                    TT_ARRAY_SIZE(tt_privacy_names),
                                    "privacy_status must be one of "
                                    "PUBLIC_TO_EVERYONE, "
                                    "MUTUAL_FOLLOW_FRIENDS, "
                                    "FOLLOWER_OF_CREATOR, SELF_ONLY");
            if (k >= 0) {
                tk->given |= TT_TK_PRIVACY;
                tk->privacy = (tt_privacy_e) k;
            }

        } else if (strcmp(m->key, "format") == 0) {
            k = tt_post_tiktok_enum(c, v, tt_format_names,
                                    TT_ARRAY_SIZE(tt_format_names),
                                    "format must be one of video, image");
            if (k >= 0) {
                tk->given |= TT_TK_FORMAT;
                tk->format = (tt_format_e) k;

            } else {
                tk->given |= TT_TK_BAD_FORMAT;
            }

        } else if (strcmp(m->key, "post_mode") == 0) {
            k = tt_post_tiktok_enum(c, v, tt_mode_names,
                                    TT_ARRAY_SIZE(tt_mode_names),
                                    "post_mode must be one of DIRECT_POST, "
                                    "MEDIA_UPLOAD");
            if (k >= 0) {
                tk->given |= TT_TK_MODE;
                tk->post_mode = (tt_post_mode_e) k;
            }

        } else if (strcmp(m->key, "photo_cover_index") == 0) {
            tt_post_tiktok_cover(c, v, tk);

        } else if (strcmp(m->key, "video_cover_timestamp_ms") == 0) {
            tt_post_tiktok_cover_ts(c, v, tk);

        } else {
            tt_post_tiktok_bool(c, m, tk);
        }
    }
}


/* an enum of platforms.tiktok: its index, or -1 and "platforms.tiktok.msg" */
static int
tt_post_tiktok_enum(tt_post_ctx_t *c, const tt_json_t *v,
    const char *const *names, size_t n, const char *msg)
{
    int  k;

    k = tt_post_enum(v, names, n);
    if (k < 0) {
        tt_post_error(c, "platforms.tiktok.%s", msg);
    }

    return k;
}


static void
tt_post_tiktok_cover(tt_post_ctx_t *c, const tt_json_t *v,
    tt_tiktok_in_t *tk)
{
    if (v->type != TT_JSON_NUMBER || !v->is_int) {
        tt_post_error(c, "platforms.tiktok.photo_cover_index must be an "
                      "integer");

    } else if (v->i < 0) {
        tt_post_error(c, "platforms.tiktok.photo_cover_index must not be "
                      "negative");

    } else {
        tk->given |= TT_TK_COVER;
        tk->cover = v->i;
    }
}


static void
tt_post_tiktok_cover_ts(tt_post_ctx_t *c, const tt_json_t *v,
    tt_tiktok_in_t *tk)
{
    if (v->type == TT_JSON_NULL) {
        tk->given |= TT_TK_COVER_TS;
        tk->cover_ts = -1;

    } else if (v->type != TT_JSON_NUMBER || !v->is_int) {
        tt_post_error(c, "platforms.tiktok.video_cover_timestamp_ms must be "
                      "an integer or null");

    } else if (v->i < 0 || v->i > INT32_MAX) {
        /* TikTok takes an int32 */
        tt_post_error(c, "platforms.tiktok.video_cover_timestamp_ms must be "
                      "between 0 and %" PRId32, INT32_MAX);

    } else {
        tk->given |= TT_TK_COVER_TS;
        tk->cover_ts = v->i;
    }
}


/* one of tt_tiktok_bools, or a key platforms.tiktok does not have */
static void
tt_post_tiktok_bool(tt_post_ctx_t *c, const tt_json_member_t *m,
    tt_tiktok_in_t *tk)
{
    size_t  b;

    for (b = 0; b < TT_TK_NBOOLS; b++) {
        if (strcmp(m->key, tt_tiktok_bools[b]) == 0) {
            break;
        }
    }

    if (b == TT_TK_NBOOLS) {
        tt_post_unknown(c, "platforms.tiktok.", m);
        return;
    }

    if (m->value->type != TT_JSON_TRUE && m->value->type != TT_JSON_FALSE) {
        tt_post_error(c, "platforms.tiktok.%s must be a boolean",
                      tt_tiktok_bools[b]);
        return;
    }

    tk->given |= TT_TK_BOOL(b);

    if (m->value->type == TT_JSON_TRUE) {
        tk->bools |= 1u << b;
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
