/*
 * Copyright (C) the ngx_tiktok authors.
 * libFuzzer target: TikTok's answers as the scheduler reads them
 * (scheduler/sched_tiktok.c: the answer's class, code and message, the
 * fail reasons, int64 ids), and the fields the publish, status, token and
 * creator_info steps take from them.  The first byte picks the HTTP
 * status and the transport's outcome; the rest is the body.
 */

#include "../scheduler/sched_tiktok.c"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#define fuzz_check(cond)                                                     \
    if (!(cond)) {                                                           \
        fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);           \
        abort();                                                             \
    }


static const long  fuzz_status[] = {
    200, 200, 200, 200, 400, 401, 403, 404, 413, 416, 429, 500, 502, 503,
    504, 0, 201, 206, 301, 308
};


static void
fuzz_int(const tt_json_t *v)
{
    char     buf[32];
    int64_t  n, back;

    if (sched_tt_int64(v, &n) != SCHED_OK) {
        return;
    }

    /* an id taken is one that prints and reads back the same */
    snprintf(buf, sizeof(buf), "%lld", (long long) n);
    back = strtoll(buf, NULL, 10);
    fuzz_check(back == n);
}


static void
fuzz_str(const tt_json_t *o, const char *key)
{
    const char  *s;

    s = sched_tt_str(o, key);
    if (s != NULL) {
        fuzz_check(strlen(s) < 1024 * 1024 * 64);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t           i;
    tt_arena_t      *a;
    sched_http_t     h;
    sched_answer_t   ans;
    const tt_json_t *ids, *user, *opts;

    if (size < 1) {
        return 0;
    }

    a = tt_arena_create(4096);
    fuzz_check(a != NULL);

    memset(&h, 0, sizeof(h));
    tt_buf_init(&h.resp);
    h.status = fuzz_status[data[0] % TT_ARRAY_SIZE(fuzz_status)];
    h.result = data[0] >= 0xf0 ? CURLE_OPERATION_TIMEDOUT : CURLE_OK;

    if (data[0] >= 0xf8) {
        memcpy(h.errbuf, data + 1, size - 1 < 64 ? size - 1 : 64);
        h.errbuf[63] = '\0';
    }

    fuzz_check(tt_buf_append(&h.resp, data + 1, size - 1) == TT_OK);

    sched_tt_answer(&h, a, &ans);

    fuzz_check(ans.result == SCHED_R_OK || ans.result == SCHED_R_RETRY
               || ans.result == SCHED_R_FAIL || ans.result == SCHED_R_AUTH);

    /* a failure always has something to tell the user */
    if (ans.result != SCHED_R_OK) {
        fuzz_check(ans.human != NULL || ans.code != NULL);
    }

    /* what the steps read: init, status/fetch, creator_info, tokens */
    fuzz_str(ans.data, "publish_id");
    fuzz_str(ans.data, "upload_url");
    fuzz_str(ans.data, "status");
    fuzz_str(ans.data, "creator_username");
    fuzz_str(ans.root, "access_token");
    fuzz_str(ans.root, "refresh_token");
    fuzz_str(ans.root, "open_id");
    fuzz_str(ans.root, "scope");
    fuzz_str(ans.root, "error");
    fuzz_int(tt_json_get(ans.data, "uploaded_bytes"));
    fuzz_int(tt_json_get(ans.data, "max_video_post_duration_sec"));
    fuzz_int(tt_json_get(ans.root, "expires_in"));
    fuzz_int(tt_json_get(ans.root, "refresh_expires_in"));

    ids = tt_json_get(ans.data, "publicaly_available_post_id");
    if (ids != NULL && ids->type == TT_JSON_ARRAY) {
        for (i = 0; i < ids->n; i++) {
            fuzz_int(ids->items[i]);
        }
    }

    opts = tt_json_get(ans.data, "privacy_level_options");
    if (opts != NULL && opts->type == TT_JSON_ARRAY) {
        for (i = 0; i < opts->n; i++) {
            (void) (opts->items[i]->type == TT_JSON_STRING);
        }
    }

    user = tt_json_get(ans.data, "user");
    fuzz_str(user, "display_name");
    fuzz_str(user, "avatar_url");

    sched_tt_fail_reason(sched_tt_str(ans.data, "fail_reason"), &ans);
    fuzz_check(ans.human != NULL || ans.code != NULL
               || ans.result == SCHED_R_OK);

    tt_buf_free(&h.resp);
    tt_arena_destroy(a);

    return 0;
}
