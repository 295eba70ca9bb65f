/*
 * Copyright (C) the ngx_tiktok authors.
 * libFuzzer target: query strings (core/tt_api_args.c: validation,
 * repeats, unescaping, every list's filters and pages) and paths
 * (tt_api_route, tt_api_allowed).  The first byte picks a route; the
 * rest is its query string ("@G", "@Q" stand for the group and queue
 * ids), or, for the last choice, a path with a method.
 */

#include "fuzz_api.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static const char  *fuzz_paths[] = {
    "/api/posts",
    "/api/posts/stats",
    "/api/profiles",
    "/api/profile_groups",
    "/api/post_queues",
    NULL,                                   /* the queue's next_slot */
    NULL,                                   /* a fuzzed path */
};


static void
fuzz_path(const char *s, size_t len)
{
    int          rc, m;
    char         allow[128];
    tt_route_t   r;

    for (m = TT_METHOD_GET; m <= TT_METHOD_OTHER; m++) {
        rc = tt_api_route((tt_method_e) m, s, len, &r);
        fuzz_check(rc == TT_OK || rc == TT_NOTFOUND || rc == TT_INVALID);

        if (rc == TT_OK && r.param.len > 0) {
            fuzz_check(r.param.data >= s
                       && r.param.data + r.param.len <= s + len);
        }
    }

    tt_api_allowed(s, len, allow, sizeof(allow));
    fuzz_check(memchr(allow, '\0', sizeof(allow)) != NULL);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned        mode;
    char           *args, path[128];
    size_t          len;
    tt_route_t      r;
    fuzz_answer_t   ans;

    if (size < 1) {
        return 0;
    }

    fuzz_api_init();

    mode = data[0] % TT_ARRAY_SIZE(fuzz_paths);
    args = fuzz_api_expand(data + 1, size - 1, &len);

    if (mode == TT_ARRAY_SIZE(fuzz_paths) - 1) {
        fuzz_path(args, len);
        free(args);
        return 0;
    }

    if (fuzz_paths[mode] != NULL) {
        snprintf(path, sizeof(path), "%s", fuzz_paths[mode]);

    } else {
        snprintf(path, sizeof(path), "/api/post_queues/%s/next_slot",
                 fuzz_api.queue);
    }

    fuzz_check(tt_api_route(TT_METHOD_GET, path, strlen(path), &r)
               == TT_OK);

    fuzz_api_exec(&r, args, len, NULL, 0, &ans);
    fuzz_check(ans.status == 200 || ans.status == 400 || ans.status == 404
               || ans.status == 422);

    tt_buf_free(&ans.body);
    free(args);

    return 0;
}
