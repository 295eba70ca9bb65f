/*
 * Copyright (C) the ngx_tiktok authors.
 * Strict JSON in (yajl callback parser building a tree in an arena) and
 * JSON out (yajl_gen writing into a tt_buf_t).
 */

#ifndef _TT_JSON_H_INCLUDED_
#define _TT_JSON_H_INCLUDED_


#include "tt_buf.h"


typedef enum {
    TT_JSON_NULL = 0,
    TT_JSON_FALSE,
    TT_JSON_TRUE,
    TT_JSON_NUMBER,
    TT_JSON_STRING,
    TT_JSON_ARRAY,
    TT_JSON_OBJECT
} tt_json_type_e;


typedef struct tt_json_s  tt_json_t;

typedef struct {
    const char     *key;        /* NUL-terminated, valid UTF-8 */
    size_t          key_len;
    tt_json_t      *value;
} tt_json_member_t;

struct tt_json_s {
    tt_json_type_e  type;

    /* TT_JSON_STRING: the decoded string; TT_JSON_NUMBER: its text */
    const char     *str;        /* NUL-terminated */
    size_t          len;

    /* TT_JSON_NUMBER */
    unsigned        is_int:1;   /* an integer that fits int64 */
    int64_t         i;
    double          d;

    /* TT_JSON_ARRAY: items; TT_JSON_OBJECT: members, in input order */
    size_t          n;
    tt_json_t     **items;
    tt_json_member_t *members;
};


#define TT_JSON_MAX_DEPTH  16


/*
 * Incremental parser: feed the body buffer by buffer.  No comments, no
 * trailing garbage, no multiple values; strings must be valid UTF-8;
 * nesting deeper than max_depth, duplicate object keys and strings longer
 * than max_string fail.  On failure the error text says what and at which
 * byte ("invalid UTF-8 in string at byte 17"); err_kind tells which.
 *
 * Details: "byte N" is a 0-based offset into the whole input (all chunks).
 * max_depth 0 means TT_JSON_MAX_DEPTH; max_string (decoded bytes of a
 * string or key) 0 means no limit.  UTF-8 is checked strictly (RFC 3629:
 * no overlong forms, no encoded surrogates, nothing above U+10FFFF) and
 * \u escapes must pair surrogates; "\u0000" is valid JSON and kept, so
 * use len, not strlen.  feed and finish return TT_OK, TT_INVALID (bad
 * input) or TT_NOMEM; errors are sticky; error() is NULL until one.  The
 * tree lives in the arena and outlives the parser.
 */
typedef struct tt_json_parser_s  tt_json_parser_t;

typedef enum {
    TT_JSON_ESYNTAX = 1,
    TT_JSON_EDEPTH,
    TT_JSON_EUTF8,
    TT_JSON_ELIMIT,
    TT_JSON_ENOMEM
} tt_json_err_e;

tt_json_parser_t *tt_json_parser_create(tt_arena_t *a, unsigned max_depth,
    size_t max_string);
int tt_json_parser_feed(tt_json_parser_t *p, const void *data, size_t len);
int tt_json_parser_finish(tt_json_parser_t *p, tt_json_t **root);
const char *tt_json_parser_error(tt_json_parser_t *p);
tt_json_err_e tt_json_parser_err_kind(tt_json_parser_t *p);
void tt_json_parser_destroy(tt_json_parser_t *p);

/* one-shot parse; NULL on error with the message in err */
tt_json_t *tt_json_parse(tt_arena_t *a, const void *data, size_t len,
    char *err, size_t err_len);

/* object member by key, or NULL; NULL obj or non-object gives NULL */
tt_json_t *tt_json_get(const tt_json_t *obj, const char *key);

/*
 * Where the value of a member of a JSON object text lies (*off, *vlen),
 * without parsing it: for text this process wrote.  TT_NOTFOUND if the
 * object has no such member, TT_INVALID if the text is not an object.
 */
int tt_json_member(const char *s, size_t len, const char *key, size_t *off,
    size_t *vlen);

/* "null", "boolean" (true and false), "number", "string", "array", "object" */
const char *tt_json_type_name(tt_json_type_e type);


/*
 * Writer: a thin checked wrapper over yajl_gen (validate_utf8 on).  Errors
 * are sticky; tt_jw_finish() returns TT_OK only if every call succeeded.
 */
typedef struct {
    void           *gen;        /* yajl_gen */
    tt_buf_t       *out;
    int             failed;
    unsigned        depth;      /* open containers */
    size_t          start;      /* out->len at init */
    uint64_t        objects[2]; /* bit n: level n is an object, not an
                                   array (yajl_gen does not check closes) */
} tt_jw_t;

/*
 * The output is appended to out.  tt_jw_finish() also fails when a
 * container is left open or nothing was written, and then cuts out back
 * to its length at init.  Strings must be strictly valid UTF-8.
 */
int tt_jw_init(tt_jw_t *w, tt_buf_t *out);
int tt_jw_finish(tt_jw_t *w);           /* frees the generator */
void tt_jw_obj_open(tt_jw_t *w);
void tt_jw_obj_close(tt_jw_t *w);
void tt_jw_arr_open(tt_jw_t *w);
void tt_jw_arr_close(tt_jw_t *w);
void tt_jw_key(tt_jw_t *w, const char *key);
void tt_jw_str(tt_jw_t *w, const char *s, size_t len);
void tt_jw_cstr(tt_jw_t *w, const char *s);     /* NULL writes null */
void tt_jw_int(tt_jw_t *w, int64_t v);
void tt_jw_double(tt_jw_t *w, double v);
void tt_jw_bool(tt_jw_t *w, int v);
void tt_jw_null(tt_jw_t *w);
void tt_jw_time(tt_jw_t *w, int64_t ms);        /* ISO 8601 Z, or null < 0 */
void tt_jw_value(tt_jw_t *w, const tt_json_t *v);   /* copy a parsed tree */


/* UTF-16 code units of a valid UTF-8 string (surrogate pair counts 2) */
size_t tt_utf16_len(const char *s, size_t len);

/* strictly valid UTF-8 (RFC 3629): no overlong form, surrogate, > U+10FFFF */
int tt_utf8_valid(const char *s, size_t len);
void tt_utf8_scrub(char *s, size_t len);


#endif /* _TT_JSON_H_INCLUDED_ */
