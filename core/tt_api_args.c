/*
 * Copyright (C) the ngx_tiktok authors.
 * The HTTP API's query string (checked, decoded, each parameter once) and
 * what a key may see: its workspace, its group, ?profile_group_id=.
 */


#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tt_api_int.h"
#include "tt_time.h"


static int tt_api_hexval(int ch);
static size_t tt_api_unescape(const char *s, size_t len, char *out);


static int
tt_api_hexval(int ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }

    ch |= 0x20;

    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }

    return -1;
}


/* every %XX complete and hexadecimal; %00 refused: values become C strings */
int
tt_api_args_valid(const tt_str_t *args)
{
    size_t  i;

    for (i = 0; i < args->len; i++) {
        if (args->data[i] != '%') {
            continue;
        }

        if (i + 2 >= args->len
            || tt_api_hexval((unsigned char) args->data[i + 1]) < 0
            || tt_api_hexval((unsigned char) args->data[i + 2]) < 0
            || (args->data[i + 1] == '0' && args->data[i + 2] == '0'))
        {
            return 0;
        }

        i += 2;
    }

    return 1;
}


/* the first of the API's query parameters given twice, or NULL */
const char *
tt_api_args_repeated(const tt_str_t *args)
{
    char         buf[32];
    size_t       i, n, nlen;
    const char  *p, *end, *amp, *eq;

    static const char *const  names[] = {
        "status", "scheduled_after", "scheduled_before", "queue_id", "page",
        "per_page", "profile_group_id"
    };

    for (i = 0; i < TT_ARRAY_SIZE(names); i++) {
        n = 0;
        p = args->data;
        end = p + args->len;

        while (p != NULL && p < end) {
            amp = memchr(p, '&', (size_t) (end - p));
            if (amp == NULL) {
                amp = end;
            }

            eq = memchr(p, '=', (size_t) (amp - p));
            nlen = (size_t) ((eq ? eq : amp) - p);

            if (nlen < sizeof(buf)
                && tt_api_unescape(p, nlen, buf) == strlen(names[i])
                && strcmp(buf, names[i]) == 0
                && ++n > 1)
            {
                return names[i];
            }

            p = amp + 1;
        }
    }

    return NULL;
}


/* out has room for len + 1 bytes; the input was checked by args_valid */
static size_t
tt_api_unescape(const char *s, size_t len, char *out)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == '+') {
            out[n++] = ' ';

        } else if (s[i] == '%' && i + 2 < len) {
            out[n++] = (char) (tt_api_hexval((unsigned char) s[i + 1]) * 16
                               + tt_api_hexval((unsigned char) s[i + 2]));
            i += 2;

        } else {
            out[n++] = s[i];
        }
    }

    out[n] = '\0';

    return n;
}


/* the first value of name, decoded and NUL-terminated, or TT_NOTFOUND */
int
tt_api_arg(tt_api_ctx_t *c, const char *name, tt_str_t *val)
{
    char        *v, buf[32];
    size_t       nlen, vlen;
    const char  *p, *end, *amp, *eq;

    p = c->req->args.data;
    end = p + c->req->args.len;

    while (p != NULL && p < end) {
        amp = memchr(p, '&', (size_t) (end - p));
        if (amp == NULL) {
            amp = end;
        }

        eq = memchr(p, '=', (size_t) (amp - p));
        if (eq == NULL) {
            eq = amp;
        }

        nlen = (size_t) (eq - p);

        /* our names are short: a longer one is someone else's */
        if (nlen < sizeof(buf)
            && tt_api_unescape(p, nlen, buf) == strlen(name)
            && strcmp(buf, name) == 0)
        {
            vlen = eq < amp ? (size_t) (amp - eq - 1) : 0;

            v = tt_arena_alloc(c->a, vlen + 1);
            if (v == NULL) {
                return TT_NOMEM;
            }

            val->len = tt_api_unescape(eq < amp ? eq + 1 : eq, vlen, v);
            val->data = v;

            return TT_OK;
        }

        p = amp + 1;
    }

    return TT_NOTFOUND;
}


/* groups */

/* group is the key's own, if scoped, and the explicit one, if given */
int
tt_api_in_scope(const tt_api_ctx_t *c, const char *group)
{
    return (c->scope == NULL || strcmp(c->scope, group) == 0)
           && (c->pg == NULL || strcmp(c->pg, group) == 0);
}


/* the key may see what is of workspace ws and group */
int
tt_api_visible(const tt_api_ctx_t *c, const char *ws, const char *group)
{
    return strcmp(ws, c->ws) == 0 && tt_api_in_scope(c, group);
}


/*
 * ?profile_group_id=: a group of the key's workspace, and the key's own
 * group for a scoped key.  TT_NOTFOUND for a 404.  An empty value counts
 * as not given (form tools send empty fields).
 */
int
tt_api_explicit_group(tt_api_ctx_t *c)
{
    int         rc;
    tt_str_t    v;
    tt_group_t  g;

    c->pg = NULL;

    rc = tt_api_arg(c, "profile_group_id", &v);

    if (rc == TT_NOTFOUND || (rc == TT_OK && v.len == 0)) {
        return TT_OK;
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    if (v.len >= TT_ID_SIZE) {
        return TT_NOTFOUND;
    }

    rc = tt_group_get(c->t, v.data, c->a, &g);

    if (rc == TT_NOTFOUND) {
        return TT_NOTFOUND;
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    /* c->pg is still NULL: this checks the workspace and the scope */
    if (!tt_api_visible(c, g.workspace_id, g.id)) {
        return TT_NOTFOUND;
    }

    memcpy(c->pg_buf, g.id, TT_ID_SIZE);
    c->pg_buf[TT_ID_SIZE - 1] = '\0';
    c->pg = c->pg_buf;

    return TT_OK;
}


/* the group a call acts on; NULL when the workspace has none */
int
tt_api_acting_group(tt_api_ctx_t *c, const char **group)
{
    int          rc;
    tt_group_t  *g;

    if (c->pg != NULL) {
        *group = c->pg;
        return TT_OK;
    }

    if (c->scope != NULL) {
        *group = c->scope;
        return TT_OK;
    }

    g = tt_arena_alloc(c->a, sizeof(tt_group_t));
    if (g == NULL) {
        return TT_ERR;
    }

    rc = tt_group_first(c->t, c->ws, c->a, g);
    if (rc != TT_OK && rc != TT_NOTFOUND) {
        return tt_api_fail(rc);
    }

    *group = (rc == TT_OK) ? g->id : NULL;

    return TT_OK;
}


/* an ISO 8601 time; absent or bad leaves *out -1 */
int
tt_api_arg_time(tt_api_ctx_t *c, const char *name, int64_t *out,
    tt_errors_t *errs)
{
    int       rc;
    tt_str_t  v;

    rc = tt_api_arg(c, name, &v);

    if (rc == TT_NOTFOUND) {
        return TT_OK;
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    if (tt_time_parse(v.data, v.len, out) != TT_OK) {
        *out = -1;

        if (v.len > 19 && strchr(v.data + 19, ' ') != NULL) {
            /* "+02:00" unescaped: a query string's + is a space */
            tt_errors_add(errs, "%s has a space where its offset's + "
                          "should be: a + in a query string means a "
                          "space, send it as %%2B", name);

        } else {
            tt_errors_add(errs, "%s is not an ISO 8601 time with an "
                          "offset", name);
        }
    }

    return TT_OK;
}
