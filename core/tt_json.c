/*
 * Copyright (C) the ngx_tiktok authors.
 * Strict incremental JSON parsing into an arena tree, on yajl's parser
 * with the strict scanner of tt_json_scan.c in step (the writer is
 * tt_json_write.c).
 */

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "tt_json_int.h"
#include "tt_time.h"


#define TT_JSON_ERR_LEN    192

/* members of one object compared pairwise as they arrive; beyond this
 * many, the object is checked once more by sorting when it closes */
#define TT_JSON_DUP_SCAN   32

/* bytes of a key quoted in an error message */
#define TT_JSON_KEY_QUOTE  32


typedef struct {
    const char     *key;
    size_t          key_len;
    tt_json_t      *value;
    size_t          off;        /* where the key began, for messages */
} tt_json_entry_t;


typedef struct {
    tt_json_t      *node;
    size_t          start;      /* its first entry on the entry stack */
    const char     *key;        /* object: the key awaiting its value */
    size_t          key_len;
    size_t          key_off;
} tt_json_frame_t;


struct tt_json_parser_s {
    yajl_handle             h;
    tt_arena_t             *arena;
    unsigned                max_depth;
    unsigned                depth;
    size_t                  max_string;

    tt_json_t              *root;

    tt_json_frame_t        *frames;
    size_t                  nframes;
    size_t                  frames_cap;

    tt_json_entry_t        *ents;
    size_t                  nents;
    size_t                  ents_cap;

    /* the chunk yajl is parsing and its absolute offset */
    const unsigned char    *chunk;
    size_t                  chunk_len;
    size_t                  base;
    unsigned                finishing:1;
    unsigned                finished:1;

    tt_json_scan_t          scan;
    unsigned                last_open:1;    /* last callback opened */

    /* bad UTF-8 in a token yajl has not finished yet, see feed() */
    unsigned                pending:1;
    size_t                  pending_at;
    const char             *pending_what;

    int                     rc;
    tt_json_err_e           kind;
    char                    err[TT_JSON_ERR_LEN];
};


static void tt_json_fail(tt_json_parser_t *p, tt_json_err_e kind,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void tt_json_quote(char *buf, size_t size, const char *s, size_t len);
static int tt_json_sync(tt_json_parser_t *p);
static int tt_json_token(tt_json_parser_t *p, int open);
static void tt_json_unexpected(tt_json_parser_t *p, const char *msg);
static tt_json_t *tt_json_node(tt_json_parser_t *p, tt_json_type_e type);
static int tt_json_add(tt_json_parser_t *p, tt_json_t *v);
static int tt_json_open(tt_json_parser_t *p, tt_json_type_e type);
static int tt_json_close(tt_json_parser_t *p, tt_json_type_e type);
static int tt_json_check_dups(tt_json_parser_t *p, tt_json_frame_t *f);
static int tt_json_entry_cmp(const void *a, const void *b);
static void tt_json_yajl_error(tt_json_parser_t *p, size_t consumed);
static int tt_json_cb_null(void *ctx);
static int tt_json_cb_boolean(void *ctx, int v);
static int tt_json_cb_number(void *ctx, const char *s, size_t len);
static int tt_json_cb_string(void *ctx, const unsigned char *s, size_t len);
static int tt_json_cb_start_map(void *ctx);
static int tt_json_cb_map_key(void *ctx, const unsigned char *s, size_t len);
static int tt_json_cb_end_map(void *ctx);
static int tt_json_cb_start_array(void *ctx);
static int tt_json_cb_end_array(void *ctx);


static const yajl_callbacks  tt_json_callbacks = {
    tt_json_cb_null,
    tt_json_cb_boolean,
    NULL,                       /* integers and doubles arrive as text */
    NULL,
    tt_json_cb_number,
    tt_json_cb_string,
    tt_json_cb_start_map,
    tt_json_cb_map_key,
    tt_json_cb_end_map,
    tt_json_cb_start_array,
    tt_json_cb_end_array
};


static void
tt_json_fail(tt_json_parser_t *p, tt_json_err_e kind, const char *fmt, ...)
{
    va_list  args;

    /* the first error is the one reported */
    if (p->rc != TT_OK) {
        return;
    }

    p->rc = (kind == TT_JSON_ENOMEM) ? TT_NOMEM : TT_INVALID;
    p->kind = kind;

    va_start(args, fmt);
    vsnprintf(p->err, sizeof(p->err), fmt, args);
    va_end(args);
}


/* a short, valid UTF-8 excerpt of a key for an error message */
static void
tt_json_quote(char *buf, size_t size, const char *s, size_t len)
{
    size_t  i, n, cut;

    cut = len;

    if (cut > TT_JSON_KEY_QUOTE) {
        cut = TT_JSON_KEY_QUOTE;

        /* never split a UTF-8 sequence */
        while (cut > 0 && ((unsigned char) s[cut] & 0xc0) == 0x80) {
            cut--;
        }
    }

    for (i = 0, n = 0; i < cut && n + 1 < size; i++) {
        buf[n++] = ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    }

    if (cut < len) {
        for (i = 0; i < 3 && n + 1 < size; i++) {
            buf[n++] = '.';
        }
    }

    buf[n] = '\0';
}


/* advances the scanner up to where yajl is in the current chunk */
static int
tt_json_sync(tt_json_parser_t *p)
{
    size_t        done, upto, bad;
    const char   *what;

    if (p->pending) {
        tt_json_fail(p, TT_JSON_EUTF8, "%s at byte %zu", p->pending_what,
                     p->pending_at);
        return TT_ERR;
    }

    if (p->finishing) {
        return TT_OK;
    }

    upto = yajl_get_bytes_consumed(p->h);
    done = p->scan.pos - p->base;

    if (upto > p->chunk_len || upto <= done) {
        return TT_OK;
    }

    if (tt_json_scan(&p->scan, p->chunk + done, upto - done, &bad, &what)
        != TT_OK)
    {
        tt_json_fail(p, TT_JSON_EUTF8, "%s at byte %zu", what, bad);
        return TT_ERR;
    }

    return TT_OK;
}


/* in a callback: yajl has just taken a whole token, ending here */
static int
tt_json_token(tt_json_parser_t *p, int open)
{
    if (tt_json_sync(p) != TT_OK) {
        return TT_ERR;
    }

    p->scan.nafter = 0;
    p->scan.in_word = 0;
    p->last_open = open;

    return TT_OK;
}


static tt_json_t *
tt_json_node(tt_json_parser_t *p, tt_json_type_e type)
{
    tt_json_t  *v;

    v = tt_arena_calloc(p->arena, sizeof(tt_json_t));
    if (v == NULL) {
        tt_json_fail(p, TT_JSON_ENOMEM, "out of memory");
        return NULL;
    }

    v->type = type;

    return v;
}


static int
tt_json_add(tt_json_parser_t *p, tt_json_t *v)
{
    size_t            cap;
    tt_json_entry_t  *e;
    tt_json_frame_t  *f;

    if (p->nframes == 0) {
        p->root = v;
        return TT_OK;
    }

    if (p->nents == p->ents_cap) {
        cap = p->ents_cap ? p->ents_cap * 2 : 64;

        if (cap > SIZE_MAX / sizeof(tt_json_entry_t)) {
            tt_json_fail(p, TT_JSON_ENOMEM, "out of memory");
            return TT_ERR;
        }

        e = realloc(p->ents, cap * sizeof(tt_json_entry_t));
        if (e == NULL) {
            tt_json_fail(p, TT_JSON_ENOMEM, "out of memory");
            return TT_ERR;
        }

        p->ents = e;
        p->ents_cap = cap;
    }

    f = &p->frames[p->nframes - 1];
    e = &p->ents[p->nents++];

    e->key = f->key;
    e->key_len = f->key_len;
    e->off = f->key_off;
    e->value = v;

    f->key = NULL;
    f->key_len = 0;

    return TT_OK;
}


static int
tt_json_open(tt_json_parser_t *p, tt_json_type_e type)
{
    size_t            cap;
    tt_json_t        *v;
    tt_json_frame_t  *f;

    if (tt_json_token(p, 1) != TT_OK) {
        return 0;
    }

    if (p->depth >= p->max_depth) {
        tt_json_fail(p, TT_JSON_EDEPTH,
                     "JSON nested deeper than %u levels at byte %zu",
                     p->max_depth, p->scan.tok);
        return 0;
    }

    v = tt_json_node(p, type);
    if (v == NULL || tt_json_add(p, v) != TT_OK) {
        return 0;
    }

    if (p->nframes == p->frames_cap) {
        cap = p->frames_cap ? p->frames_cap * 2 : 16;

        f = realloc(p->frames, cap * sizeof(tt_json_frame_t));
        if (f == NULL) {
            tt_json_fail(p, TT_JSON_ENOMEM, "out of memory");
            return 0;
        }

        p->frames = f;
        p->frames_cap = cap;
    }

    f = &p->frames[p->nframes++];

    f->node = v;
    f->start = p->nents;
    f->key = NULL;
    f->key_len = 0;
    f->key_off = 0;

    p->depth++;

    return 1;
}


static int
tt_json_entry_cmp(const void *a, const void *b)
{
    int                     r;
    size_t                  n;
    const tt_json_entry_t  *x, *y;

    x = *(const tt_json_entry_t * const *) a;
    y = *(const tt_json_entry_t * const *) b;

    n = x->key_len < y->key_len ? x->key_len : y->key_len;

    r = memcmp(x->key, y->key, n);
    if (r != 0) {
        return r;
    }

    if (x->key_len != y->key_len) {
        return x->key_len < y->key_len ? -1 : 1;
    }

    /* equal keys in input order, so the later one is the duplicate */
    return x->off < y->off ? -1 : (x->off > y->off);
}


/*
 * Sorting finds duplicates in a big object in n log n; the error names
 * the duplicate that comes first in the input, as the pairwise check of
 * small objects does.
 */
static int
tt_json_check_dups(tt_json_parser_t *p, tt_json_frame_t *f)
{
    size_t             i, n;
    char               quoted[TT_JSON_KEY_QUOTE * 2];
    tt_json_entry_t  **sorted, *dup;

    n = p->nents - f->start;

    sorted = malloc(n * sizeof(tt_json_entry_t *));
    if (sorted == NULL) {
        tt_json_fail(p, TT_JSON_ENOMEM, "out of memory");
        return TT_ERR;
    }

    for (i = 0; i < n; i++) {
        sorted[i] = &p->ents[f->start + i];
    }

    qsort(sorted, n, sizeof(tt_json_entry_t *), tt_json_entry_cmp);

    dup = NULL;

    for (i = 1; i < n; i++) {
        if (sorted[i]->key_len == sorted[i - 1]->key_len
            && memcmp(sorted[i]->key, sorted[i - 1]->key,
                      sorted[i]->key_len) == 0
            && (dup == NULL || sorted[i]->off < dup->off))
        {
            dup = sorted[i];
        }
    }

    free(sorted);

    if (dup != NULL) {
        tt_json_quote(quoted, sizeof(quoted), dup->key, dup->key_len);
        tt_json_fail(p, TT_JSON_ESYNTAX, "duplicate key \"%s\" at byte %zu",
                     quoted, dup->off);
        return TT_ERR;
    }

    return TT_OK;
}


static int
tt_json_close(tt_json_parser_t *p, tt_json_type_e type)
{
    size_t             i, n;
    tt_json_t         *v;
    tt_json_frame_t   *f;
    tt_json_entry_t   *e;
    tt_json_member_t  *members;
    tt_json_t        **items;

    if (tt_json_token(p, 0) != TT_OK) {
        return 0;
    }

    f = &p->frames[p->nframes - 1];
    v = f->node;
    n = p->nents - f->start;

    /* the entry stack is not allocated until the first value */
    e = n ? &p->ents[f->start] : NULL;

    if (type == TT_JSON_OBJECT) {
        if (n > TT_JSON_DUP_SCAN && tt_json_check_dups(p, f) != TT_OK) {
            return 0;
        }

        if (n) {
            members = tt_arena_alloc(p->arena, n * sizeof(tt_json_member_t));
            if (members == NULL) {
                tt_json_fail(p, TT_JSON_ENOMEM, "out of memory");
                return 0;
            }

            for (i = 0; i < n; i++) {
                members[i].key = e[i].key;
                members[i].key_len = e[i].key_len;
                members[i].value = e[i].value;
            }

            v->members = members;
        }

    } else if (n) {
        items = tt_arena_alloc(p->arena, n * sizeof(tt_json_t *));
        if (items == NULL) {
            tt_json_fail(p, TT_JSON_ENOMEM, "out of memory");
            return 0;
        }

        for (i = 0; i < n; i++) {
            items[i] = e[i].value;
        }

        v->items = items;
    }

    v->n = n;

    p->nents = f->start;
    p->nframes--;
    p->depth--;

    return 1;
}


static int
tt_json_cb_null(void *ctx)
{
    tt_json_t         *v;
    tt_json_parser_t  *p = ctx;

    if (tt_json_token(p, 0) != TT_OK) {
        return 0;
    }

    v = tt_json_node(p, TT_JSON_NULL);

    return v != NULL && tt_json_add(p, v) == TT_OK;
}


static int
tt_json_cb_boolean(void *ctx, int b)
{
    tt_json_t         *v;
    tt_json_parser_t  *p = ctx;

    if (tt_json_token(p, 0) != TT_OK) {
        return 0;
    }

    v = tt_json_node(p, b ? TT_JSON_TRUE : TT_JSON_FALSE);

    return v != NULL && tt_json_add(p, v) == TT_OK;
}


static int
tt_json_cb_number(void *ctx, const char *s, size_t len)
{
    char              *end;
    size_t             i;
    long long          n;
    tt_json_t         *v;
    tt_json_parser_t  *p = ctx;

    if (tt_json_token(p, 0) != TT_OK) {
        return 0;
    }

    v = tt_json_node(p, TT_JSON_NUMBER);
    if (v == NULL) {
        return 0;
    }

    /* the text is kept: it is exact, and it is what gets written back */
    v->str = tt_arena_strndup(p->arena, s, len);
    if (v->str == NULL) {
        tt_json_fail(p, TT_JSON_ENOMEM, "out of memory");
        return 0;
    }

    v->len = len;

    /* out of range gives +-HUGE_VAL or 0, which is the best double */
    v->d = strtod(v->str, NULL);

    for (i = 0; i < len; i++) {
        if (s[i] == '.' || s[i] == 'e' || s[i] == 'E') {
            break;
        }
    }

    if (i == len) {
        errno = 0;
        n = strtoll(v->str, &end, 10);

        if (errno == 0 && end == v->str + len) {
            v->is_int = 1;
            v->i = n;
        }
    }

    return tt_json_add(p, v) == TT_OK;
}


static int
tt_json_cb_string(void *ctx, const unsigned char *s, size_t len)
{
    tt_json_t         *v;
    tt_json_parser_t  *p = ctx;

    if (tt_json_token(p, 0) != TT_OK) {
        return 0;
    }

    if (p->max_string && len > p->max_string) {
        tt_json_fail(p, TT_JSON_ELIMIT,
                     "string longer than %zu bytes at byte %zu",
                     p->max_string, p->scan.tok);
        return 0;
    }

    v = tt_json_node(p, TT_JSON_STRING);
    if (v == NULL) {
        return 0;
    }

    v->str = tt_arena_strndup(p->arena, (const char *) s, len);
    if (v->str == NULL) {
        tt_json_fail(p, TT_JSON_ENOMEM, "out of memory");
        return 0;
    }

    v->len = len;

    return tt_json_add(p, v) == TT_OK;
}


static int
tt_json_cb_start_map(void *ctx)
{
    return tt_json_open(ctx, TT_JSON_OBJECT);
}


static int
tt_json_cb_map_key(void *ctx, const unsigned char *s, size_t len)
{
    size_t             i, n;
    char               quoted[TT_JSON_KEY_QUOTE * 2];
    tt_json_entry_t   *e;
    tt_json_frame_t   *f;
    tt_json_parser_t  *p = ctx;

    if (tt_json_token(p, 0) != TT_OK) {
        return 0;
    }

    if (p->max_string && len > p->max_string) {
        tt_json_fail(p, TT_JSON_ELIMIT,
                     "string longer than %zu bytes at byte %zu",
                     p->max_string, p->scan.tok);
        return 0;
    }

    f = &p->frames[p->nframes - 1];
    n = p->nents - f->start;

    if (n > 0 && n < TT_JSON_DUP_SCAN) {
        e = &p->ents[f->start];

        for (i = 0; i < n; i++) {
            if (e[i].key_len == len && memcmp(e[i].key, s, len) == 0) {
                tt_json_quote(quoted, sizeof(quoted), (const char *) s, len);
                tt_json_fail(p, TT_JSON_ESYNTAX,
                             "duplicate key \"%s\" at byte %zu",
                             quoted, p->scan.tok);
                return 0;
            }
        }
    }

    f->key = tt_arena_strndup(p->arena, (const char *) s, len);
    if (f->key == NULL) {
        tt_json_fail(p, TT_JSON_ENOMEM, "out of memory");
        return 0;
    }

    f->key_len = len;
    f->key_off = p->scan.tok;

    return 1;
}


static int
tt_json_cb_end_map(void *ctx)
{
    return tt_json_close(ctx, TT_JSON_OBJECT);
}


static int
tt_json_cb_start_array(void *ctx)
{
    return tt_json_open(ctx, TT_JSON_ARRAY);
}


static int
tt_json_cb_end_array(void *ctx)
{
    return tt_json_close(ctx, TT_JSON_ARRAY);
}


tt_json_parser_t *
tt_json_parser_create(tt_arena_t *a, unsigned max_depth, size_t max_string)
{
    tt_json_parser_t  *p;

    p = calloc(1, sizeof(tt_json_parser_t));
    if (p == NULL) {
        return NULL;
    }

    /* every yajl option stays off: no comments, no trailing garbage, no
     * multiple values, no partial values, strings validated */
    p->h = yajl_alloc(&tt_json_callbacks, NULL, p);
    if (p->h == NULL) {
        free(p);
        return NULL;
    }

    p->arena = a;
    p->max_depth = max_depth ? max_depth : TT_JSON_MAX_DEPTH;
    p->max_string = max_string;
    p->rc = TT_OK;
    p->last_open = 1;

    return p;
}


/*
 * A structural error: yajl took a token it did not expect.  The token is
 * found by the scanner (see above), which runs on over this chunk until it
 * has seen it; invalid UTF-8 inside that token or after it does not count,
 * the syntax error comes first.
 */
static void
tt_json_unexpected(tt_json_parser_t *p, const char *msg)
{
    size_t        i, pos, bad;
    unsigned      c, need;
    const char   *what;

    need = 1;

    if (!p->last_open
        && (strstr(msg, "unallowed token") != NULL
            || strstr(msg, "invalid object key") != NULL))
    {
        need = 2;
    }

    /* after a pending finding the scanner stays where it stopped */
    if (!p->finishing && !p->pending && p->chunk != NULL) {
        for (i = p->scan.pos - p->base;
             i < p->chunk_len && p->scan.nafter < need;
             i++)
        {
            if (tt_json_scan(&p->scan, p->chunk + i, 1, &bad, &what)
                != TT_OK)
            {
                break;
            }
        }
    }

    if (p->scan.nafter >= need) {
        pos = p->scan.after[need - 1];
        c = p->scan.after_c[need - 1];

    } else {
        pos = p->scan.tok;
        c = p->scan.tok_c;
    }

    if (strstr(msg, "trailing garbage") != NULL) {
        tt_json_fail(p, TT_JSON_ESYNTAX,
                     "unexpected data after the JSON value at byte %zu", pos);

    } else if (c == '"') {
        tt_json_fail(p, TT_JSON_ESYNTAX, "unexpected string at byte %zu", pos);

    } else if (c == '-' || (c >= '0' && c <= '9')) {
        tt_json_fail(p, TT_JSON_ESYNTAX, "unexpected number at byte %zu", pos);

    } else if (c == 't' || c == 'f' || c == 'n') {
        tt_json_fail(p, TT_JSON_ESYNTAX, "unexpected literal at byte %zu",
                     pos);

    } else if (c > 0x20 && c < 0x7f) {
        tt_json_fail(p, TT_JSON_ESYNTAX,
                     "unexpected character '%c' at byte %zu", (int) c, pos);

    } else {
        /* yajl's lexer refuses these first; kept for safety */
        tt_json_fail(p, TT_JSON_ESYNTAX, "unexpected byte 0x%02x at byte %zu",
                     c, pos);
    }
}


/*
 * yajl's messages are mapped to short ones with an offset into the whole
 * input.  For lexical errors yajl's offset in this chunk is at or just
 * past the bad byte; the scanner first gets there, as it may know of an
 * earlier bad byte, and it knows where the token began.
 */
static void
tt_json_yajl_error(tt_json_parser_t *p, size_t consumed)
{
    size_t          at;
    unsigned        c;
    const char     *msg;
    unsigned char  *text;

    text = yajl_get_error(p->h, 0, NULL, 0);
    msg = text ? (const char *) text : "";

    at = p->base + consumed;

    if (strstr(msg, "premature EOF") != NULL) {
        tt_json_fail(p, TT_JSON_ESYNTAX, "unexpected end of input");

    } else if (strncmp(msg, "lexical", 7) != 0) {
        tt_json_unexpected(p, msg);

    } else if (tt_json_sync(p) != TT_OK) {
        /* the scanner found bad UTF-8 first */

    } else if (strstr(msg, "UTF8") != NULL) {
        tt_json_fail(p, TT_JSON_EUTF8, "invalid UTF-8 in string at byte %zu",
                     at ? at - 1 : 0);

    } else if (strstr(msg, "comment") != NULL) {
        tt_json_fail(p, TT_JSON_ESYNTAX,
                     "comments are not allowed at byte %zu", at);

    } else if (strstr(msg, "malformed number") != NULL) {
        tt_json_fail(p, TT_JSON_ESYNTAX, "malformed number at byte %zu",
                     p->scan.tok);

    } else if (strstr(msg, "invalid string in json text") != NULL) {
        tt_json_fail(p, TT_JSON_ESYNTAX, "invalid literal at byte %zu",
                     p->scan.tok);

    } else if (strstr(msg, "occurs before a character") != NULL) {
        tt_json_fail(p, TT_JSON_ESYNTAX, "invalid escape in string at byte %zu",
                     at);

    } else if (strstr(msg, "non-hex") != NULL) {
        tt_json_fail(p, TT_JSON_ESYNTAX,
                     "invalid \\u escape in string at byte %zu", at);

    } else if (strstr(msg, "invalid character inside string") != NULL) {
        tt_json_fail(p, TT_JSON_ESYNTAX,
                     "control character in string at byte %zu", at);

    } else if (!p->finishing && consumed > 0 && consumed <= p->chunk_len) {
        /* "invalid char in json text": the lexer is just past it */
        c = p->chunk[consumed - 1];

        if (c > 0x20 && c < 0x7f) {
            tt_json_fail(p, TT_JSON_ESYNTAX,
                         "unexpected character '%c' at byte %zu",
                         (int) c, at - 1);

        } else {
            tt_json_fail(p, TT_JSON_ESYNTAX,
                         "unexpected byte 0x%02x at byte %zu", c, at - 1);
        }

    } else {
        tt_json_fail(p, TT_JSON_ESYNTAX, "invalid JSON at byte %zu", at);
    }

    if (text != NULL) {
        yajl_free_error(p->h, text);
    }
}


int
tt_json_parser_feed(tt_json_parser_t *p, const void *data, size_t len)
{
    size_t        done, consumed, bad;
    const char   *what;
    yajl_status   st;

    if (p->rc != TT_OK) {
        return p->rc;
    }

    if (p->finished) {
        tt_json_fail(p, TT_JSON_ESYNTAX, "input after the end");
        return p->rc;
    }

    if (len == 0) {
        return TT_OK;
    }

    p->chunk = data;
    p->chunk_len = len;

    st = yajl_parse(p->h, data, len);

    if (st == yajl_status_error) {
        consumed = yajl_get_bytes_consumed(p->h);
        tt_json_yajl_error(p, consumed);

    } else if (st == yajl_status_client_canceled) {
        if (p->rc == TT_OK) {
            tt_json_fail(p, TT_JSON_ESYNTAX, "parse cancelled");
        }

    } else if (!p->pending) {
        /*
         * Catch up over the rest of the chunk, the start of a token yajl
         * keeps for the next one.  Bad UTF-8 there is only held: if yajl
         * takes the token, the next callback reports it; if yajl rejects
         * the token, the syntax error at its start is the first error.
         * Either way the outcome does not depend on the chunking.
         */
        done = p->scan.pos - p->base;

        if (done < len
            && tt_json_scan(&p->scan, p->chunk + done, len - done,
                            &bad, &what) != TT_OK)
        {
            p->pending = 1;
            p->pending_at = bad;
            p->pending_what = what;
        }
    }

    p->base += len;
    p->chunk = NULL;
    p->chunk_len = 0;

    return p->rc;
}


int
tt_json_parser_finish(tt_json_parser_t *p, tt_json_t **root)
{
    yajl_status  st;

    *root = NULL;

    if (p->rc != TT_OK) {
        return p->rc;
    }

    if (p->finished) {
        tt_json_fail(p, TT_JSON_ESYNTAX, "parser finished twice");
        return p->rc;
    }

    p->finished = 1;

    /* an unfinished bad string: the bad bytes come before the end */
    if (p->pending) {
        tt_json_fail(p, TT_JSON_EUTF8, "%s at byte %zu", p->pending_what,
                     p->pending_at);
        return p->rc;
    }

    p->finishing = 1;

    st = yajl_complete_parse(p->h);

    if (st == yajl_status_error) {
        tt_json_yajl_error(p, 0);

    } else if (st == yajl_status_client_canceled) {
        if (p->rc == TT_OK) {
            tt_json_fail(p, TT_JSON_ESYNTAX, "parse cancelled");
        }

    } else if (p->root == NULL || p->nframes != 0) {
        tt_json_fail(p, TT_JSON_ESYNTAX, "unexpected end of input");
    }

    p->finishing = 0;

    if (p->rc != TT_OK) {
        return p->rc;
    }

    *root = p->root;

    return TT_OK;
}


const char *
tt_json_parser_error(tt_json_parser_t *p)
{
    return p->rc == TT_OK ? NULL : p->err;
}


tt_json_err_e
tt_json_parser_err_kind(tt_json_parser_t *p)
{
    return p->rc == TT_OK ? 0 : p->kind;
}


void
tt_json_parser_destroy(tt_json_parser_t *p)
{
    if (p == NULL) {
        return;
    }

    yajl_free(p->h);
    free(p->frames);
    free(p->ents);
    free(p);
}


tt_json_t *
tt_json_parse(tt_arena_t *a, const void *data, size_t len, char *err,
    size_t err_len)
{
    tt_json_t         *root;
    tt_json_parser_t  *p;

    root = NULL;

    p = tt_json_parser_create(a, TT_JSON_MAX_DEPTH, 0);
    if (p == NULL) {
        if (err != NULL && err_len) {
            snprintf(err, err_len, "out of memory");
        }

        return NULL;
    }

    if (tt_json_parser_feed(p, data, len) != TT_OK
        || tt_json_parser_finish(p, &root) != TT_OK)
    {
        if (err != NULL && err_len) {
            snprintf(err, err_len, "%s", tt_json_parser_error(p));
        }

        root = NULL;
    }

    tt_json_parser_destroy(p);

    return root;
}


tt_json_t *
tt_json_get(const tt_json_t *obj, const char *key)
{
    size_t  i, len;

    if (obj == NULL || obj->type != TT_JSON_OBJECT || key == NULL) {
        return NULL;
    }

    len = strlen(key);

    for (i = 0; i < obj->n; i++) {
        if (obj->members[i].key_len == len
            && memcmp(obj->members[i].key, key, len) == 0)
        {
            return obj->members[i].value;
        }
    }

    return NULL;
}


const char *
tt_json_type_name(tt_json_type_e type)
{
    switch (type) {
    case TT_JSON_NULL:
        return "null";
    case TT_JSON_FALSE:
    case TT_JSON_TRUE:
        return "boolean";
    case TT_JSON_NUMBER:
        return "number";
    case TT_JSON_STRING:
        return "string";
    case TT_JSON_ARRAY:
        return "array";
    case TT_JSON_OBJECT:
        return "object";
    }

    return "unknown";
}


size_t
tt_utf16_len(const char *s, size_t len)
{
    size_t               i, n;
    const unsigned char *p;

    p = (const unsigned char *) s;
    n = 0;

    /* one unit per code point, two for those beyond the BMP */
    for (i = 0; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            n += (p[i] >= 0xf0) ? 2 : 1;
        }
    }

    return n;
}


/* the end of the string that starts at s[i] ('"'), past its quote; 0 if
 * it does not end */
static size_t
tt_json_skip_string(const char *s, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        if (s[i] == '\\') {
            i++;

        } else if (s[i] == '"') {
            return i + 1;
        }
    }

    return 0;
}


/* the end of the value that starts at s[i]; 0 if it does not end */
static size_t
tt_json_skip_value(const char *s, size_t len, size_t i)
{
    size_t  depth;

    if (i < len && s[i] == '"') {
        return tt_json_skip_string(s, len, i);
    }

    for (depth = 0; i < len; i++) {
        switch (s[i]) {

        case '"':
            i = tt_json_skip_string(s, len, i);
            if (i == 0) {
                return 0;
            }

            i--;
            break;

        case '{':
        case '[':
            depth++;
            break;

        case '}':
        case ']':
            if (depth == 0) {
                return i;
            }

            if (--depth == 0) {
                return i + 1;
            }

            break;

        case ',':
            if (depth == 0) {
                return i;
            }

            break;

        default:
            break;
        }
    }

    return depth == 0 ? i : 0;
}


int
tt_json_member(const char *s, size_t len, const char *key, size_t *off,
    size_t *vlen)
{
    size_t  i, end, klen;

    klen = strlen(key);

    if (len < 2 || s[0] != '{' || s[len - 1] != '}') {
        return TT_INVALID;
    }

    /* member by member: a key, ':', a value, then ',' or the end */
    for (i = 1; i < len - 1 && s[i] == '"'; i = end + 1) {
        end = tt_json_skip_string(s, len, i);
        if (end == 0 || end >= len || s[end] != ':') {
            return TT_INVALID;
        }

        if (end - i - 2 == klen && memcmp(s + i + 1, key, klen) == 0) {
            *off = end + 1;
            end = tt_json_skip_value(s, len - 1, end + 1);
            if (end == 0) {
                return TT_INVALID;
            }

            *vlen = end - *off;
            return TT_OK;
        }

        end = tt_json_skip_value(s, len - 1, end + 1);
        if (end == 0 || (s[end] != ',' && end != len - 1)) {
            return TT_INVALID;
        }
    }

    return (i == 1 || i == len - 1 || i == len) ? TT_NOTFOUND : TT_INVALID;
}
