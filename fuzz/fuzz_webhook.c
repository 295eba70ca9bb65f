/*
 * Copyright (C) the ngx_tiktok authors.
 * libFuzzer target: webhook configuration (POST /api/webhooks and PATCH
 * of one: the URL's rules, events, secret, description) through the API
 * over a real store.  The first byte picks create or PATCH of the
 * harness's webhook; "@G" and "@H" stand for the group's and its ids.
 */

#include "fuzz_api.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char           *body, path[128];
    size_t          len;
    tt_route_t      r;
    fuzz_answer_t   ans;

    if (size < 1) {
        return 0;
    }

    fuzz_api_init();

    body = fuzz_api_expand(data + 1, size - 1, &len);

    if (data[0] & 1) {
        snprintf(path, sizeof(path), "/api/webhooks/%s", fuzz_api.hook);
        fuzz_check(tt_api_route(TT_METHOD_PATCH, path, strlen(path), &r)
                   == TT_OK);

    } else {
        fuzz_check(tt_api_route(TT_METHOD_POST, "/api/webhooks",
                                strlen("/api/webhooks"), &r) == TT_OK);
    }

    fuzz_api_exec(&r, "", 0, body, len, &ans);
    fuzz_check(ans.status < 500);

    tt_buf_free(&ans.body);
    free(body);

    return 0;
}
