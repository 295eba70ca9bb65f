/*
 * Copyright (C) the ngx_tiktok authors.
 * What the files of the post model share, and nothing outside them uses.
 */

#ifndef _TT_POST_INT_H_INCLUDED_
#define _TT_POST_INT_H_INCLUDED_


#include "tt_post.h"


/*
 * The post model, in layers (a file calls only the ones below it):
 *
 *   tt_post.c          the model: init, apply, settle, retry
 *   tt_post_state.c    when a post may still change
 *   tt_post_record.c   the store record: header, encode, peek, decode
 *   tt_post_input.c    tt_post_input_parse() and the rules it checks
 *   tt_post_fields.c   the fields, listed once: the API object
 *                      (tt_post_render), the record's JSON and its decoder
 *   tt_post_rules.c    the API's names, validation messages, and the rules
 *                      across fields (tt_post_check_*)
 *
 * The rules across fields take values, not JSON: the input check runs
 * them on a create, tt_post_apply() on every result.
 */


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


/* where validation messages go */
typedef struct {
    tt_errors_t    *errs;
    const char     *prefix;
    tt_arena_t     *arena;
    unsigned        nomem:1;
} tt_post_ctx_t;


/* what platforms.tiktok said; given tells which keys it had */
typedef struct {
    unsigned        given;          /* TT_TK_* */
    unsigned        bools;          /* bit i: value of boolean i */
    tt_privacy_e    privacy;
    tt_format_e     format;
    tt_post_mode_e  post_mode;
    int64_t         cover;
    int64_t         cover_ts;
} tt_tiktok_in_t;


/* tt_post_rules.c: the API's names, indexed by the enums */
extern const char *const  tt_privacy_names[4];
extern const char *const  tt_format_names[2];
extern const char *const  tt_mode_names[2];
extern const char *const  tt_priority_names[3];
extern const char *const  tt_post_status_names[6];
extern const char *const  tt_plat_status_names[5];
extern const char *const  tt_media_status_names[3];

/* the booleans of platforms.tiktok, in the order the API renders them */
extern const char *const  tt_tiktok_bools[TT_TK_NBOOLS];

void tt_post_ctx_init(tt_post_ctx_t *c, tt_errors_t *errs,
    const char *prefix, tt_arena_t *a);
void tt_post_error(tt_post_ctx_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tt_post_check_body(tt_post_ctx_t *c, const char *body, size_t len,
    tt_format_e format);
void tt_post_check_cover(tt_post_ctx_t *c);
void tt_post_check_media(tt_post_ctx_t *c, tt_format_e format,
    size_t nmedia, int64_t cover);
void tt_post_check_brand(tt_post_ctx_t *c, int brand, tt_privacy_e privacy);
void tt_post_check_audit(tt_post_ctx_t *c, const tt_tiktok_params_t *params);
void tt_post_check_schedule(tt_post_ctx_t *c, const tt_post_input_t *in);
void tt_params_set_bool(tt_tiktok_params_t *p, unsigned i, unsigned v);
unsigned tt_params_bool(const tt_tiktok_params_t *p, unsigned i);

/* tt_post_fields.c: the record's internal JSON, every field */
void tt_post_fields_encode(tt_jw_t *w, const tt_post_t *p);
int tt_post_fields_decode(const tt_json_t *root, tt_arena_t *a,
    tt_post_t *p);

/* tt_post_input.c: platforms.tiktok, for tt_post_apply() too */
void tt_post_parse_tiktok(tt_post_ctx_t *c, const tt_json_t *o,
    tt_tiktok_in_t *tk);


#endif /* _TT_POST_INT_H_INCLUDED_ */
