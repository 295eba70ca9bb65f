/*
 * Copyright (C) the ngx_tiktok authors.
 * What the files of the post model share, and nothing outside them uses.
 */

#ifndef _TT_POST_INT_H_INCLUDED_
#define _TT_POST_INT_H_INCLUDED_


#include "tt_post.h"


/*
 * The post model is three files:
 *
 *   tt_post.c          the model: init, apply, settle, names, render
 *   tt_post_input.c    tt_post_input_parse() and the rules it checks
 *   tt_post_record.c   the store record: encode, peek, decode
 *   tt_post_state.c    when a post may still change
 *
 * The rules across fields (tt_post_check_*) take values, not JSON: the
 * input check runs them on a create, tt_post_apply() on every result, with
 * the validation context and messages of tt_post_input.c.
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


/* writers of a list item: the API object's, or the record's */
typedef void (*tt_post_media_writer_pt)(tt_jw_t *w, const tt_media_t *m);
typedef void (*tt_post_platform_writer_pt)(tt_jw_t *w,
    const tt_platform_t *pl);


/* the API's names, indexed by the enums (tt_post.c) */
extern const char *const  tt_privacy_names[4];
extern const char *const  tt_format_names[2];
extern const char *const  tt_mode_names[2];
extern const char *const  tt_priority_names[3];

/* the booleans of platforms.tiktok, in the order the API renders them */
extern const char *const  tt_tiktok_bools[TT_TK_NBOOLS];


/* tt_post_input.c */
void tt_post_ctx_init(tt_post_ctx_t *c, tt_errors_t *errs,
    const char *prefix, tt_arena_t *a);
void tt_post_error(tt_post_ctx_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tt_post_parse_tiktok(tt_post_ctx_t *c, const tt_json_t *o,
    tt_tiktok_in_t *tk);

/* tt_post.c */
void tt_post_check_body(tt_post_ctx_t *c, const char *body, size_t len,
    tt_format_e format);
void tt_post_check_cover(tt_post_ctx_t *c);
void tt_post_check_media(tt_post_ctx_t *c, tt_format_e format,
    size_t nmedia, int64_t cover);
void tt_post_check_brand(tt_post_ctx_t *c, int brand, tt_privacy_e privacy);
void tt_params_set_bool(tt_tiktok_params_t *p, unsigned i, unsigned v);
unsigned tt_params_bool(const tt_tiktok_params_t *p, unsigned i);
void tt_post_render_bools(tt_jw_t *w, const tt_tiktok_params_t *p);
void tt_post_render_warnings(tt_jw_t *w, const tt_media_t *m);
void tt_post_render_lists(tt_jw_t *w, const tt_post_t *p,
    tt_post_media_writer_pt media, tt_post_platform_writer_pt platform);


#endif /* _TT_POST_INT_H_INCLUDED_ */
