/*
 * Copyright (C) the ngx_tiktok authors.
 * TikTok's Content Posting API as the scheduler speaks it: request bodies,
 * the answer's outcome and the human sentences for TikTok's codes.
 */

#ifndef _SCHED_TIKTOK_H_INCLUDED_
#define _SCHED_TIKTOK_H_INCLUDED_


#include "sched.h"


typedef enum {
    SCHED_R_OK = 0,
    SCHED_R_RETRY,          /* transient: back off and try again */
    SCHED_R_FAIL,           /* permanent: policy, validation, banned */
    SCHED_R_AUTH            /* 401 access_token_invalid: refresh once */
} sched_result_e;

struct sched_answer_s {
    sched_result_e  result;
    const char     *code;           /* TikTok's error.code, or NULL */
    const char     *message;        /* TikTok's error.message, or NULL */
    const char     *human;          /* a sentence for the user */
    const char     *note;           /* what to do, or NULL */
    tt_json_t      *root;
    tt_json_t      *data;           /* "data" of the envelope */
};


/* classifies a v2 envelope answer; strings are allocated in a */
void sched_tt_answer(sched_http_t *h, tt_arena_t *a, sched_answer_t *ans);

/* the sentence, the note and whether a fail_reason is retryable */
void sched_tt_fail_reason(const char *reason, sched_answer_t *ans);

/* request bodies */
int sched_tt_video_init(const tt_post_t *p, const tt_platform_t *pl,
    const tt_chunk_plan_t *plan, tt_buf_t *out);
int sched_tt_photo_init(const tt_post_t *p, const tt_platform_t *pl,
    tt_buf_t *out);
int sched_tt_status_body(const char *publish_id, tt_buf_t *out);

/* a URL: api_base + path, in a */
char *sched_tt_url(sched_t *s, tt_arena_t *a, const char *path);

/* an int64 from a JSON number's text or a string of digits; never via
 * a double */
int sched_tt_int64(const tt_json_t *v, int64_t *out);

const char *sched_tt_str(const tt_json_t *obj, const char *key);


#endif /* _SCHED_TIKTOK_H_INCLUDED_ */
