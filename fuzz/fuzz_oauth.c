/*
 * Copyright (C) the ngx_tiktok authors.
 * libFuzzer target: TikTok's redirect back to tiktok_oauth_callback and
 * the browser's wait (?connection=): the callback's route, the state and
 * code arguments, the connection's lookup, over a real store with a
 * connection waiting ("@S" in the input stands for its state).  Also the
 * body of initialize_connection (redirect_url) when the first byte says.
 */

#include "fuzz_api.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int             rc;
    char           *in, path[128];
    size_t          len;
    tt_str_t        args;
    tt_route_t      r;
    fuzz_answer_t   ans;

    if (size < 1) {
        return 0;
    }

    fuzz_api_init();

    in = fuzz_api_expand(data + 1, size - 1, &len);

    if (data[0] % 4 == 3) {
        snprintf(path, sizeof(path), "/api/profile_groups/%s/"
                 "initialize_connection", fuzz_api.group);
        fuzz_check(tt_api_route(TT_METHOD_POST, path, strlen(path), &r)
                   == TT_OK);
        fuzz_api_exec(&r, "", 0, in, len, &ans);
        fuzz_check(ans.status == 200 || ans.status == 400
                   || ans.status == 422);
        tt_buf_free(&ans.body);
        free(in);
        return 0;
    }

    args.data = in;
    args.len = len;

    rc = tt_api_callback_route(data[0] % 4 == 2 ? TT_METHOD_POST
                               : TT_METHOD_GET, &args, &r);
    fuzz_check(rc == TT_OK || rc == TT_INVALID);

    if (rc == TT_OK) {
        fuzz_api_exec(&r, in, len, NULL, 0, &ans);
        fuzz_check(ans.status < 500 || ans.status == 503);

        /* a page never echoes what it was given unescaped */
        if (ans.html && ans.body.len > 0) {
            fuzz_check(memmem(ans.body.data, ans.body.len, "<script",
                              7) == NULL
                       || memmem(in, len, "<script", 7) == NULL);
        }

        tt_buf_free(&ans.body);
    }

    free(in);

    return 0;
}
