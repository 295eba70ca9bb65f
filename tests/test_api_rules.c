/*
 * Copyright (C) the ngx_tiktok authors.
 * The accounts' and the connect flow's rules over a real store, each
 * with its number written here (not the constant under test): a group's
 * name up to 200 bytes and no control character, a redirect_url up to
 * 2,048 bytes, a state up to 256 bytes and alive 10 minutes, a code up to
 * 1,024 bytes.  The store is fuzz/fuzz_api.h's: a group with a profile, a
 * key, a queue and a connection waiting for TikTok's callback; every
 * request runs in a transaction that is aborted.
 */

#include "tt_test.h"
#include "../fuzz/fuzz_api.h"


static int
req(tt_method_e m, const char *path, const char *args, const char *body,
    fuzz_answer_t *ans)
{
    tt_route_t  r;
    tt_str_t    a;

    a.data = args;
    a.len = strlen(args);

    if (path == NULL) {
        assert_int_equal(tt_api_callback_route(m, &a, &r), TT_OK);

    } else {
        assert_int_equal(tt_api_route(m, path, strlen(path), &r), TT_OK);
    }

    fuzz_api_exec(&r, args, strlen(args), body, body ? strlen(body) : 0,
                  ans);
    tt_buf_free(&ans->body);

    return ans->status;
}


static char *
repeat(int ch, size_t n)
{
    char  *s;

    s = malloc(n + 1);
    assert_non_null(s);
    memset(s, ch, n);
    s[n] = '\0';

    return s;
}


static void
test_group_name(void **state)
{
    char           *name, body[512];
    fuzz_answer_t   ans;

    name = repeat('n', 200);
    snprintf(body, sizeof(body), "{\"profile_group\":{\"name\":\"%s\"}}",
             name);
    assert_int_equal(req(TT_METHOD_POST, "/api/profile_groups", "", body,
                         &ans), 201);

    snprintf(body, sizeof(body), "{\"profile_group\":{\"name\":\"%sn\"}}",
             name);
    assert_int_equal(req(TT_METHOD_POST, "/api/profile_groups", "", body,
                         &ans), 422);
    free(name);

    /* 0x1f is a control character, a space is not */
    assert_int_equal(req(TT_METHOD_POST, "/api/profile_groups", "",
                         "{\"profile_group\":{\"name\":\"a\\u001fb\"}}",
                         &ans), 422);
    assert_int_equal(req(TT_METHOD_POST, "/api/profile_groups", "",
                         "{\"profile_group\":{\"name\":\"a b\"}}",
                         &ans), 201);
}


static void
test_redirect_url(void **state)
{
    char           *pad, path[128], body[4096];
    size_t          n;
    fuzz_answer_t   ans;

    snprintf(path, sizeof(path), "/api/profile_groups/%s/"
             "initialize_connection", fuzz_api.group);

    /* 2,048 bytes pass, 2,049 do not */
    n = 2048 - strlen("https://a.example/");
    pad = repeat('p', n);
    snprintf(body, sizeof(body), "{\"platform\":\"tiktok\","
             "\"redirect_url\":\"https://a.example/%s\"}", pad);
    assert_int_equal(req(TT_METHOD_POST, path, "", body, &ans), 200);

    snprintf(body, sizeof(body), "{\"platform\":\"tiktok\","
             "\"redirect_url\":\"https://a.example/%sp\"}", pad);
    assert_int_equal(req(TT_METHOD_POST, path, "", body, &ans), 422);
    free(pad);
}


static void
test_state(void **state)
{
    char           *s, args[2048];
    fuzz_answer_t   ans;

    /* the real state goes through: a 303 to the page that waits */
    snprintf(args, sizeof(args), "state=%s&code=c", fuzz_api.state);
    assert_int_equal(req(TT_METHOD_GET, NULL, args, NULL, &ans), 303);
    assert_null(strstr(ans.location, "status=error"));

    /* 256 bytes is a state that could be (unknown here), 257 is none */
    s = repeat('s', 256);
    snprintf(args, sizeof(args), "state=%s&code=c", s);
    assert_int_equal(req(TT_METHOD_GET, NULL, args, NULL, &ans), 400);
    free(s);

    s = repeat('s', 257);
    snprintf(args, sizeof(args), "state=%s&code=c", s);
    assert_int_equal(req(TT_METHOD_GET, NULL, args, NULL, &ans), 400);
    free(s);
}


static void
test_state_length_message(void **state)
{
    char           *s, args[2048];
    tt_route_t      r;
    tt_str_t        a;
    fuzz_answer_t   ans;

    /* the two 400s say different things: unknown, or no state at all */
    s = repeat('s', 256);
    snprintf(args, sizeof(args), "state=%s", s);
    free(s);
    a.data = args;
    a.len = strlen(args);
    assert_int_equal(tt_api_callback_route(TT_METHOD_GET, &a, &r), TT_OK);
    fuzz_api_exec(&r, args, strlen(args), NULL, 0, &ans);
    assert_int_equal(ans.status, 400);
    assert_non_null(memmem(ans.body.data, ans.body.len, "unknown", 7));
    tt_buf_free(&ans.body);

    s = repeat('s', 257);
    snprintf(args, sizeof(args), "state=%s", s);
    free(s);
    a.len = strlen(args);
    fuzz_api_exec(&r, args, strlen(args), NULL, 0, &ans);
    assert_int_equal(ans.status, 400);
    assert_non_null(memmem(ans.body.data, ans.body.len, "no valid state",
                           14));
    tt_buf_free(&ans.body);
}


static void
test_code_and_ttl(void **state)
{
    char           *code, args[4096];
    fuzz_answer_t   ans;

    /* a code of 1,024 bytes is taken, 1,025 is not */
    code = repeat('c', 1024);
    snprintf(args, sizeof(args), "state=%s&code=%s", fuzz_api.state, code);
    assert_int_equal(req(TT_METHOD_GET, NULL, args, NULL, &ans), 303);
    assert_null(strstr(ans.location, "status=error"));

    snprintf(args, sizeof(args), "state=%s&code=%sc", fuzz_api.state, code);
    assert_int_equal(req(TT_METHOD_GET, NULL, args, NULL, &ans), 303);
    assert_non_null(strstr(ans.location, "reason=invalid_callback"));
    free(code);

    /* the state lives 10 minutes from initialize_connection */
    snprintf(args, sizeof(args), "state=%s&code=c", fuzz_api.state);
    fuzz_api.now = FUZZ_NOW + 10 * 60 * 1000 - 1;
    assert_int_equal(req(TT_METHOD_GET, NULL, args, NULL, &ans), 303);
    assert_null(strstr(ans.location, "status=error"));

    fuzz_api.now = FUZZ_NOW + 10 * 60 * 1000;
    assert_int_equal(req(TT_METHOD_GET, NULL, args, NULL, &ans), 303);
    assert_non_null(strstr(ans.location, "reason=state_expired"));
    fuzz_api.now = FUZZ_NOW;
}


/*
 * webhooks: a URL of 2,048 bytes, a description of 1,000 characters, 16
 * events at most, 32 webhooks a workspace
 */
static void
test_webhook_bounds(void **state)
{
    int             i;
    char           *pad, body[4096];
    size_t          n;
    tt_buf_t        out;
    fuzz_answer_t   ans;

    n = 2048 - strlen("https://h.example/");
    pad = repeat('u', n);
    snprintf(body, sizeof(body), "{\"url\":\"https://h.example/%s\","
             "\"events\":[\"*\"]}", pad);
    assert_int_equal(req(TT_METHOD_POST, "/api/webhooks", "", body, &ans),
                     201);
    snprintf(body, sizeof(body), "{\"url\":\"https://h.example/%su\","
             "\"events\":[\"*\"]}", pad);
    assert_int_equal(req(TT_METHOD_POST, "/api/webhooks", "", body, &ans),
                     422);
    free(pad);

    pad = repeat('d', 1000);
    snprintf(body, sizeof(body), "{\"url\":\"https://h.example/\","
             "\"events\":[\"*\"],\"description\":\"%s\"}", pad);
    assert_int_equal(req(TT_METHOD_POST, "/api/webhooks", "", body, &ans),
                     201);
    snprintf(body, sizeof(body), "{\"url\":\"https://h.example/\","
             "\"events\":[\"*\"],\"description\":\"%sd\"}", pad);
    assert_int_equal(req(TT_METHOD_POST, "/api/webhooks", "", body, &ans),
                     422);
    free(pad);

    /* 17 events are refused for their number, whatever they are */
    tt_buf_init(&out);
    assert_int_equal(tt_buf_append_str(&out, "{\"url\":\"https://h.example"
                                       "/\",\"events\":[\"*\""), TT_OK);
    for (i = 1; i < 17; i++) {
        assert_int_equal(tt_buf_append_str(&out, ",\"*\""), TT_OK);
    }
    assert_int_equal(tt_buf_append_str(&out, "]}"), TT_OK);
    assert_int_equal(tt_buf_append(&out, "", 1), TT_OK);
    {
        tt_route_t  r;

        assert_int_equal(tt_api_route(TT_METHOD_POST, "/api/webhooks",
                                      strlen("/api/webhooks"), &r), TT_OK);
        fuzz_api_exec(&r, "", 0, out.data, out.len - 1, &ans);
        assert_int_equal(ans.status, 422);
        assert_non_null(memmem(ans.body.data, ans.body.len, "1 to 16", 7));
        tt_buf_free(&ans.body);
    }
    tt_buf_free(&out);

    /* the harness made one; 31 more are the most, the 33rd is refused */
    tt_buf_init(&out);
    for (i = 0; i < 31; i++) {
        out.len = 0;
        fuzz_api_setup_call(TT_METHOD_POST, "/api/webhooks",
                            "{\"url\":\"https://h.example/n\","
                            "\"events\":[\"*\"]}", &out);
    }
    tt_buf_free(&out);
    assert_int_equal(req(TT_METHOD_POST, "/api/webhooks", "",
                         "{\"url\":\"https://h.example/n\","
                         "\"events\":[\"*\"]}", &ans), 422);
}


static int
setup(void **state)
{
    fuzz_api_init();
    return 0;
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_group_name),
        cmocka_unit_test(test_redirect_url),
        cmocka_unit_test(test_state),
        cmocka_unit_test(test_state_length_message),
        cmocka_unit_test(test_code_and_ttl),
        cmocka_unit_test(test_webhook_bounds),     /* last: it fills */
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
