/*
 * Copyright (C) the ngx_tiktok authors.
 * Tests of the address classification behind the media downloads'
 * refusal of non-public addresses.
 */

#include "tt_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "tt_addr.h"


typedef struct {
    const char       *text;
    tt_addr_class_e   cls;
} addr_case_t;


static tt_addr_class_e
class_of(const char *text)
{
    uint8_t  a[16];

    if (strchr(text, ':') != NULL) {
        assert_int_equal(inet_pton(AF_INET6, text, a), 1);
        return tt_addr_class(AF_INET6, a);
    }

    assert_int_equal(inet_pton(AF_INET, text, a), 1);
    return tt_addr_class(AF_INET, a);
}


static void
check_cases(const addr_case_t *cases, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (class_of(cases[i].text) != cases[i].cls) {
            fail_msg("%s: class %d, expected %d", cases[i].text,
                     (int) class_of(cases[i].text), (int) cases[i].cls);
        }
    }
}


static void
test_v4(void **state)
{
    static const addr_case_t  cases[] = {
        { "0.0.0.0", TT_ADDR_UNSPECIFIED },
        { "0.255.255.255", TT_ADDR_UNSPECIFIED },
        { "1.0.0.0", TT_ADDR_PUBLIC },
        { "8.8.8.8", TT_ADDR_PUBLIC },
        { "9.255.255.255", TT_ADDR_PUBLIC },
        { "10.0.0.0", TT_ADDR_PRIVATE },
        { "10.255.255.255", TT_ADDR_PRIVATE },
        { "11.0.0.0", TT_ADDR_PUBLIC },
        { "100.63.255.255", TT_ADDR_PUBLIC },
        { "100.64.0.0", TT_ADDR_SHARED },
        { "100.127.255.255", TT_ADDR_SHARED },
        { "100.128.0.0", TT_ADDR_PUBLIC },
        { "126.255.255.255", TT_ADDR_PUBLIC },
        { "127.0.0.1", TT_ADDR_LOOPBACK },
        { "127.255.255.254", TT_ADDR_LOOPBACK },
        { "128.0.0.0", TT_ADDR_PUBLIC },
        { "169.253.255.255", TT_ADDR_PUBLIC },
        { "169.254.169.254", TT_ADDR_LINK_LOCAL },
        { "169.255.0.0", TT_ADDR_PUBLIC },
        { "172.15.255.255", TT_ADDR_PUBLIC },
        { "172.16.0.0", TT_ADDR_PRIVATE },
        { "172.31.255.255", TT_ADDR_PRIVATE },
        { "172.32.0.0", TT_ADDR_PUBLIC },
        { "192.0.0.8", TT_ADDR_RESERVED },
        { "192.0.1.1", TT_ADDR_PUBLIC },
        { "192.0.2.1", TT_ADDR_DOCUMENTATION },
        { "192.88.99.1", TT_ADDR_RESERVED },
        { "192.167.255.255", TT_ADDR_PUBLIC },
        { "192.168.0.1", TT_ADDR_PRIVATE },
        { "192.168.255.255", TT_ADDR_PRIVATE },
        { "192.169.0.0", TT_ADDR_PUBLIC },
        { "198.17.255.255", TT_ADDR_PUBLIC },
        { "198.18.0.0", TT_ADDR_BENCHMARK },
        { "198.19.255.255", TT_ADDR_BENCHMARK },
        { "198.20.0.0", TT_ADDR_PUBLIC },
        { "198.51.100.7", TT_ADDR_DOCUMENTATION },
        { "203.0.113.255", TT_ADDR_DOCUMENTATION },
        { "203.0.114.0", TT_ADDR_PUBLIC },
        { "223.255.255.255", TT_ADDR_PUBLIC },
        { "224.0.0.1", TT_ADDR_MULTICAST },
        { "239.255.255.255", TT_ADDR_MULTICAST },
        { "240.0.0.0", TT_ADDR_RESERVED },
        { "255.255.255.255", TT_ADDR_RESERVED }
    };

    check_cases(cases, TT_ARRAY_SIZE(cases));
}


static void
test_v6(void **state)
{
    static const addr_case_t  cases[] = {
        { "::", TT_ADDR_UNSPECIFIED },
        { "::1", TT_ADDR_LOOPBACK },
        { "::2", TT_ADDR_RESERVED },
        { "::127.0.0.1", TT_ADDR_RESERVED },
        { "2606:4700::1111", TT_ADDR_PUBLIC },
        { "2a00:1450:4001:82b::200e", TT_ADDR_PUBLIC },
        { "2001:4860:4860::8888", TT_ADDR_PUBLIC },
        { "2001::1", TT_ADDR_RESERVED },
        { "2001:1ff::1", TT_ADDR_RESERVED },
        { "2001:200::1", TT_ADDR_PUBLIC },
        { "2001:2::1", TT_ADDR_BENCHMARK },
        { "2001:db8::1", TT_ADDR_DOCUMENTATION },
        { "2001:db9::1", TT_ADDR_PUBLIC },
        { "3fff:fff::1", TT_ADDR_DOCUMENTATION },
        { "3fff:1000::1", TT_ADDR_PUBLIC },
        { "100::1", TT_ADDR_RESERVED },
        { "4000::1", TT_ADDR_RESERVED },
        { "fc00::1", TT_ADDR_UNIQUE_LOCAL },
        { "fd12:3456::1", TT_ADDR_UNIQUE_LOCAL },
        { "fe80::1", TT_ADDR_LINK_LOCAL },
        { "febf:ffff::1", TT_ADDR_LINK_LOCAL },
        { "fec0::1", TT_ADDR_PRIVATE },
        { "ff02::1", TT_ADDR_MULTICAST },
        { "64:ff9b:1::1", TT_ADDR_PRIVATE }
    };

    check_cases(cases, TT_ARRAY_SIZE(cases));
}


/* an IPv6 address that reaches an IPv4 one is what that one is */
static void
test_v6_embedded(void **state)
{
    static const addr_case_t  cases[] = {
        { "::ffff:127.0.0.1", TT_ADDR_LOOPBACK },
        { "::ffff:10.1.2.3", TT_ADDR_PRIVATE },
        { "::ffff:169.254.169.254", TT_ADDR_LINK_LOCAL },
        { "::ffff:0.0.0.0", TT_ADDR_UNSPECIFIED },
        { "::ffff:100.64.0.1", TT_ADDR_SHARED },
        { "::ffff:8.8.8.8", TT_ADDR_PUBLIC },
        { "64:ff9b::7f00:1", TT_ADDR_LOOPBACK },
        { "64:ff9b::808:808", TT_ADDR_PUBLIC },
        { "2002:7f00:1::1", TT_ADDR_LOOPBACK },
        { "2002:c0a8:101::1", TT_ADDR_PRIVATE },
        { "2002:808:808::1", TT_ADDR_PUBLIC }
    };

    check_cases(cases, TT_ARRAY_SIZE(cases));
}


static void
test_sockaddr(void **state)
{
    struct sockaddr_in   sin;
    struct sockaddr_in6  sin6;
    struct sockaddr      sa;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(80);
    assert_int_equal(inet_pton(AF_INET, "192.168.1.1", &sin.sin_addr), 1);

    assert_int_equal(tt_addr_class_sa((struct sockaddr *) &sin, sizeof(sin)),
                     TT_ADDR_PRIVATE);

    /* short or foreign: never taken for public */
    assert_int_equal(tt_addr_class_sa((struct sockaddr *) &sin, 4),
                     TT_ADDR_RESERVED);
    assert_int_equal(tt_addr_class_sa(NULL, 0), TT_ADDR_RESERVED);

    memset(&sa, 0, sizeof(sa));
    sa.sa_family = AF_UNIX;
    assert_int_equal(tt_addr_class_sa(&sa, sizeof(sa)), TT_ADDR_RESERVED);

    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, "2606:4700::1111",
                               &sin6.sin6_addr), 1);
    assert_int_equal(tt_addr_class_sa((struct sockaddr *) &sin6,
                                      sizeof(sin6)), TT_ADDR_PUBLIC);
    assert_int_equal(tt_addr_class_sa((struct sockaddr *) &sin6,
                                      sizeof(sin)), TT_ADDR_RESERVED);

    assert_int_equal(tt_addr_class(AF_UNIX, "x"), TT_ADDR_RESERVED);
}


static void
test_refusal(void **state)
{
    struct sockaddr_in   sin;
    struct sockaddr_in6  sin6;
    char                 msg[256], tiny[8];

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr), 1);

    assert_int_equal(tt_addr_refusal((struct sockaddr *) &sin, sizeof(sin),
                                     0, msg, sizeof(msg)), 1);
    assert_string_equal(msg, "the media URL resolves to 127.0.0.1, a "
                        "loopback address; downloads from non-public "
                        "addresses are refused "
                        "(tiktok_media_allow_private)");

    assert_int_equal(inet_pton(AF_INET, "10.0.0.7", &sin.sin_addr), 1);
    assert_int_equal(tt_addr_refusal((struct sockaddr *) &sin, sizeof(sin),
                                     1, msg, sizeof(msg)), 1);
    assert_string_equal(msg, "the media URL redirects to a host that "
                        "resolves to 10.0.0.7, a private address; downloads "
                        "from non-public addresses are refused "
                        "(tiktok_media_allow_private)");

    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, "::ffff:169.254.169.254",
                               &sin6.sin6_addr), 1);
    assert_int_equal(tt_addr_refusal((struct sockaddr *) &sin6, sizeof(sin6),
                                     0, msg, sizeof(msg)), 1);
    assert_string_equal(msg, "the media URL resolves to "
                        "::ffff:169.254.169.254, a link-local address; "
                        "downloads from non-public addresses are refused "
                        "(tiktok_media_allow_private)");

    /* a cut message still refuses */
    assert_int_equal(tt_addr_refusal((struct sockaddr *) &sin6, sizeof(sin6),
                                     0, tiny, sizeof(tiny)), 1);
    assert_string_equal(tiny, "the med");

    /* public: nothing to say, buf untouched */
    assert_int_equal(inet_pton(AF_INET, "93.184.215.14", &sin.sin_addr), 1);
    memcpy(msg, "same", sizeof("same"));
    assert_int_equal(tt_addr_refusal((struct sockaddr *) &sin, sizeof(sin),
                                     0, msg, sizeof(msg)), 0);
    assert_string_equal(msg, "same");

    assert_string_equal(tt_addr_class_name(TT_ADDR_SHARED),
                        "a carrier-grade NAT address");
    assert_string_equal(tt_addr_class_name((tt_addr_class_e) 99),
                        "an unknown kind of address");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_v4),
        cmocka_unit_test(test_v6),
        cmocka_unit_test(test_v6_embedded),
        cmocka_unit_test(test_sockaddr),
        cmocka_unit_test(test_refusal),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
