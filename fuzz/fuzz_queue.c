/*
 * Copyright (C) the ngx_tiktok authors.
 * libFuzzer target: queue definitions (POST and PATCH /api/post_queues,
 * tt_queue_define's validation) and queued posts slotted into a queue,
 * through the API over a real store.  The first byte picks the request;
 * "@G" and "@Q" in the rest stand for the group's id and the queue's.
 */

#include "fuzz_api.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int             mode;
    char           *body, path[128];
    size_t          len;
    tt_route_t      r;
    tt_method_e     m;
    fuzz_answer_t   ans;

    if (size < 1) {
        return 0;
    }

    fuzz_api_init();

    mode = data[0] % 3;
    body = fuzz_api_expand(data + 1, size - 1, &len);

    if (mode == 0) {
        m = TT_METHOD_POST;
        snprintf(path, sizeof(path), "/api/post_queues");

    } else if (mode == 1) {
        m = TT_METHOD_PATCH;
        snprintf(path, sizeof(path), "/api/post_queues/%s", fuzz_api.queue);

    } else {
        m = TT_METHOD_POST;
        snprintf(path, sizeof(path), "/api/posts");
    }

    fuzz_check(tt_api_route(m, path, strlen(path), &r) == TT_OK);

    fuzz_api_exec(&r, "", 0, body, len, &ans);

    /* a definition is taken (201, 200) or refused with a 4xx */
    fuzz_check(ans.status < 500);

    tt_buf_free(&ans.body);
    free(body);

    return 0;
}
