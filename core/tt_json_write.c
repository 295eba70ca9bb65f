/*
 * Copyright (C) the ngx_tiktok authors.
 * The JSON writer: yajl's generator into a tt_buf_t, with a sticky
 * failure flag so that a caller checks once, at tt_jw_finish().  Strings
 * are checked as strict UTF-8 (tt_json.c's scanner rules) before yajl
 * sees them.
 */


#include <math.h>
#include <stdlib.h>
#include <stdio.h>

#include <yajl/yajl_gen.h>

#include "tt_json.h"
#include "tt_time.h"


static void tt_jw_print(void *ctx, const char *s, size_t len);
static void tt_jw_check(tt_jw_t *w, yajl_gen_status st);
static void tt_jw_open(tt_jw_t *w, int object);
static void tt_jw_close(tt_jw_t *w, int object);


static void
tt_jw_print(void *ctx, const char *s, size_t len)
{
    tt_jw_t  *w = ctx;

    if (tt_buf_append(w->out, s, len) != TT_OK) {
        w->failed = 1;
    }
}


static void
tt_jw_check(tt_jw_t *w, yajl_gen_status st)
{
    if (st != yajl_gen_status_ok) {
        w->failed = 1;
    }
}


int
tt_jw_init(tt_jw_t *w, tt_buf_t *out)
{
    yajl_gen  g;

    w->gen = NULL;
    w->out = out;
    w->failed = 0;
    w->depth = 0;
    w->start = out->len;
    w->objects[0] = 0;
    w->objects[1] = 0;

    g = yajl_gen_alloc(NULL);
    if (g == NULL) {
        w->failed = 1;
        return TT_NOMEM;
    }

    /* strings are checked by tt_jw_str(), more strictly than yajl does */
    if (!yajl_gen_config(g, yajl_gen_print_callback, tt_jw_print, w))
    {
        yajl_gen_free(g);
        w->failed = 1;
        return TT_ERR;
    }

    w->gen = g;

    return TT_OK;
}


int
tt_jw_finish(tt_jw_t *w)
{
    int  ok;

    if (w->gen != NULL) {
        yajl_gen_free(w->gen);
        w->gen = NULL;
    }

    /* every container closed and something written */
    ok = !w->failed && w->depth == 0 && tt_buf_ok(w->out)
         && w->out->len > w->start;

    if (!ok) {
        /* no half-written JSON is left for anyone to send */
        if (tt_buf_ok(w->out) && w->out->len > w->start) {
            w->out->len = w->start;
            w->out->data[w->start] = '\0';
        }

        w->failed = 1;
        return TT_ERR;
    }

    return TT_OK;
}


/*
 * yajl_gen closes whatever is open with either call, so the writer keeps
 * one bit per level to refuse "[}".  yajl_gen stops at YAJL_MAX_DEPTH
 * (128) levels itself, which is also what the bits cover.
 */
static void
tt_jw_open(tt_jw_t *w, int object)
{
    unsigned  d;
    uint64_t  bit;

    if (w->failed) {
        return;
    }

    d = w->depth;

    if (d >= 128) {
        w->failed = 1;
        return;
    }

    tt_jw_check(w, object ? yajl_gen_map_open(w->gen)
                          : yajl_gen_array_open(w->gen));

    bit = (uint64_t) 1 << (d % 64);

    if (object) {
        w->objects[d / 64] |= bit;

    } else {
        w->objects[d / 64] &= ~bit;
    }

    w->depth = d + 1;
}


static void
tt_jw_close(tt_jw_t *w, int object)
{
    unsigned  d;
    int       is_object;

    if (w->failed) {
        return;
    }

    if (w->depth == 0) {
        w->failed = 1;
        return;
    }

    d = w->depth - 1;
    is_object = (w->objects[d / 64] >> (d % 64)) & 1;

    if (is_object != object) {
        w->failed = 1;
        return;
    }

    tt_jw_check(w, object ? yajl_gen_map_close(w->gen)
                          : yajl_gen_array_close(w->gen));

    w->depth = d;
}


void
tt_jw_obj_open(tt_jw_t *w)
{
    tt_jw_open(w, 1);
}


void
tt_jw_obj_close(tt_jw_t *w)
{
    tt_jw_close(w, 1);
}


void
tt_jw_arr_open(tt_jw_t *w)
{
    tt_jw_open(w, 0);
}


void
tt_jw_arr_close(tt_jw_t *w)
{
    tt_jw_close(w, 0);
}


void
tt_jw_key(tt_jw_t *w, const char *key)
{
    if (key == NULL) {
        w->failed = 1;
        return;
    }

    tt_jw_str(w, key, strlen(key));
}


void
tt_jw_str(tt_jw_t *w, const char *s, size_t len)
{
    if (w->failed) {
        return;
    }

    if (s == NULL) {
        if (len) {
            w->failed = 1;
            return;
        }

        s = "";
    }

    /* yajl's own check lets overlong forms and surrogates through */
    if (!tt_utf8_valid(s, len)) {
        w->failed = 1;
        return;
    }

    tt_jw_check(w, yajl_gen_string(w->gen, (const unsigned char *) s, len));
}


void
tt_jw_cstr(tt_jw_t *w, const char *s)
{
    if (s == NULL) {
        tt_jw_null(w);
        return;
    }

    tt_jw_str(w, s, strlen(s));
}


void
tt_jw_int(tt_jw_t *w, int64_t v)
{
    if (!w->failed) {
        tt_jw_check(w, yajl_gen_integer(w->gen, (long long) v));
    }
}


void
tt_jw_double(tt_jw_t *w, double v)
{
    int   n, prec;
    char  buf[32];

    if (w->failed) {
        return;
    }

    /* JSON has no infinities or NaN */
    if (!isfinite(v)) {
        w->failed = 1;
        return;
    }

    /*
     * The shortest of 15-17 significant digits that reads back as the
     * same double: yajl_gen_double() always prints 20, so that 0.1 comes
     * out as 0.10000000000000000555.
     */
    n = 0;

    for (prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, sizeof(buf), "%.*g", prec, v);

        if (n < 0 || (size_t) n >= sizeof(buf)) {
            w->failed = 1;
            return;
        }

        if (strtod(buf, NULL) == v) {
            break;
        }
    }

    tt_jw_check(w, yajl_gen_number(w->gen, buf, (size_t) n));
}


void
tt_jw_bool(tt_jw_t *w, int v)
{
    if (!w->failed) {
        tt_jw_check(w, yajl_gen_bool(w->gen, v != 0));
    }
}


void
tt_jw_null(tt_jw_t *w)
{
    if (!w->failed) {
        tt_jw_check(w, yajl_gen_null(w->gen));
    }
}


void
tt_jw_time(tt_jw_t *w, int64_t ms)
{
    size_t  n;
    char    buf[TT_TIME_LEN + 1];

    if (ms < 0) {
        tt_jw_null(w);
        return;
    }

    n = tt_time_format(ms, buf);
    if (n == 0) {
        w->failed = 1;
        return;
    }

    tt_jw_str(w, buf, n);
}


void
tt_jw_value(tt_jw_t *w, const tt_json_t *v)
{
    size_t  i;

    if (w->failed) {
        return;
    }

    if (v == NULL) {
        w->failed = 1;
        return;
    }

    switch (v->type) {

    case TT_JSON_NULL:
        tt_jw_null(w);
        break;

    case TT_JSON_FALSE:
    case TT_JSON_TRUE:
        tt_jw_bool(w, v->type == TT_JSON_TRUE);
        break;

    case TT_JSON_NUMBER:
        /* the parsed text, so that no precision is lost on the way */
        if (v->str == NULL || v->len == 0) {
            w->failed = 1;
            break;
        }

        tt_jw_check(w, yajl_gen_number(w->gen, v->str, v->len));
        break;

    case TT_JSON_STRING:
        tt_jw_str(w, v->str, v->len);
        break;

    case TT_JSON_ARRAY:
        tt_jw_arr_open(w);

        for (i = 0; i < v->n && !w->failed; i++) {
            tt_jw_value(w, v->items[i]);
        }

        tt_jw_arr_close(w);
        break;

    case TT_JSON_OBJECT:
        tt_jw_obj_open(w);

        for (i = 0; i < v->n && !w->failed; i++) {
            tt_jw_str(w, v->members[i].key, v->members[i].key_len);
            tt_jw_value(w, v->members[i].value);
        }

        tt_jw_obj_close(w);
        break;

    default:
        w->failed = 1;
        break;
    }
}
