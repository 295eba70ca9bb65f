/*
 * Copyright (C) the ngx_tiktok authors.
 * IP address classification for the media downloads' address check.
 */

#include <stdio.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "tt_addr.h"


typedef struct {
    uint8_t          prefix[16];
    unsigned         bits;
    tt_addr_class_e  cls;
} tt_addr_net_t;


/* IANA's IPv4 special-purpose registry, the parts a download must avoid */
static const tt_addr_net_t  tt_addr_v4[] = {
    { { 0 }, 8, TT_ADDR_UNSPECIFIED },
    { { 10 }, 8, TT_ADDR_PRIVATE },
    { { 100, 64 }, 10, TT_ADDR_SHARED },
    { { 127 }, 8, TT_ADDR_LOOPBACK },
    { { 169, 254 }, 16, TT_ADDR_LINK_LOCAL },
    { { 172, 16 }, 12, TT_ADDR_PRIVATE },
    { { 192, 0, 0 }, 24, TT_ADDR_RESERVED },
    { { 192, 0, 2 }, 24, TT_ADDR_DOCUMENTATION },
    { { 192, 88, 99 }, 24, TT_ADDR_RESERVED },
    { { 192, 168 }, 16, TT_ADDR_PRIVATE },
    { { 198, 18 }, 15, TT_ADDR_BENCHMARK },
    { { 198, 51, 100 }, 24, TT_ADDR_DOCUMENTATION },
    { { 203, 0, 113 }, 24, TT_ADDR_DOCUMENTATION },
    { { 224 }, 4, TT_ADDR_MULTICAST },
    { { 240 }, 4, TT_ADDR_RESERVED }
};

/*
 * IPv6: the first match wins, so the narrow entries come before the wide
 * ones that hold them; what embeds IPv4 is handled before this table, and
 * whatever is left outside 2000::/3 after it is reserved.
 */
static const tt_addr_net_t  tt_addr_v6[] = {
    { { 0 }, 128, TT_ADDR_UNSPECIFIED },
    { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 128,
      TT_ADDR_LOOPBACK },
    { { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 }, 48, TT_ADDR_PRIVATE },
    { { 0x20, 0x01, 0x00, 0x02, 0x00, 0x00 }, 48, TT_ADDR_BENCHMARK },
    { { 0x20, 0x01, 0x0d, 0xb8 }, 32, TT_ADDR_DOCUMENTATION },
    { { 0x20, 0x01 }, 23, TT_ADDR_RESERVED },
    { { 0x3f, 0xff }, 20, TT_ADDR_DOCUMENTATION },
    { { 0xfc }, 7, TT_ADDR_UNIQUE_LOCAL },
    { { 0xfe, 0x80 }, 10, TT_ADDR_LINK_LOCAL },
    { { 0xfe, 0xc0 }, 10, TT_ADDR_PRIVATE },
    { { 0xff }, 8, TT_ADDR_MULTICAST }
};


static const char  *tt_addr_names[] = {
    "a public address",
    "an unspecified address",
    "a loopback address",
    "a private address",
    "a carrier-grade NAT address",
    "a link-local address",
    "a unique-local address",
    "a multicast address",
    "a reserved address",
    "a documentation address",
    "a benchmarking address"
};


static int
tt_addr_in(const uint8_t *a, const tt_addr_net_t *n)
{
    unsigned  full, rest;
    uint8_t   mask;

    full = n->bits / 8;
    rest = n->bits % 8;

    if (memcmp(a, n->prefix, full) != 0) {
        return 0;
    }

    if (rest == 0) {
        return 1;
    }

    mask = (uint8_t) (0xff << (8 - rest));

    return (a[full] & mask) == (n->prefix[full] & mask);
}


static tt_addr_class_e
tt_addr_lookup(const uint8_t *a, const tt_addr_net_t *nets, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (tt_addr_in(a, &nets[i])) {
            return nets[i].cls;
        }
    }

    return TT_ADDR_PUBLIC;
}


static tt_addr_class_e
tt_addr_class6(const uint8_t *a)
{
    tt_addr_class_e  c;

    static const uint8_t  mapped[12] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
    };
    static const uint8_t  nat64[12] = {
        0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0
    };

    /* ::ffff:a.b.c.d and the well-known NAT64 prefix reach a.b.c.d */
    if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0) {
        return tt_addr_lookup(a + 12, tt_addr_v4,
                              TT_ARRAY_SIZE(tt_addr_v4));
    }

    /* 6to4: 2002:AABB:CCDD::/48 is routed to a.b.c.d */
    if (a[0] == 0x20 && a[1] == 0x02) {
        c = tt_addr_lookup(a + 2, tt_addr_v4, TT_ARRAY_SIZE(tt_addr_v4));
        if (c != TT_ADDR_PUBLIC) {
            return c;
        }
    }

    c = tt_addr_lookup(a, tt_addr_v6, TT_ARRAY_SIZE(tt_addr_v6));
    if (c != TT_ADDR_PUBLIC) {
        return c;
    }

    /* global unicast is 2000::/3; the rest (IPv4-compatible ::a.b.c.d,
     * discard-only 100::/64, ...) is not assigned for this */
    if ((a[0] & 0xe0) != 0x20) {
        return TT_ADDR_RESERVED;
    }

    return TT_ADDR_PUBLIC;
}


tt_addr_class_e
tt_addr_class(int family, const void *addr)
{
    if (family == AF_INET) {
        return tt_addr_lookup(addr, tt_addr_v4, TT_ARRAY_SIZE(tt_addr_v4));
    }

    if (family == AF_INET6) {
        return tt_addr_class6(addr);
    }

    return TT_ADDR_RESERVED;
}


tt_addr_class_e
tt_addr_class_sa(const struct sockaddr *sa, size_t len)
{
    const struct sockaddr_in   *sin;
    const struct sockaddr_in6  *sin6;

    if (sa == NULL || len < sizeof(sa->sa_family)) {
        return TT_ADDR_RESERVED;
    }

    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        sin = (const struct sockaddr_in *) sa;
        return tt_addr_class(AF_INET, &sin->sin_addr);
    }

    if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        sin6 = (const struct sockaddr_in6 *) sa;
        return tt_addr_class(AF_INET6, &sin6->sin6_addr);
    }

    return TT_ADDR_RESERVED;
}


const char *
tt_addr_class_name(tt_addr_class_e c)
{
    if ((unsigned) c >= TT_ARRAY_SIZE(tt_addr_names)) {
        return "an unknown kind of address";
    }

    return tt_addr_names[c];
}


int
tt_addr_refusal(const struct sockaddr *sa, size_t len, int redirected,
    char *buf, size_t size)
{
    tt_addr_class_e  c;
    const void      *bytes;
    char             text[INET6_ADDRSTRLEN];

    c = tt_addr_class_sa(sa, len);
    if (c == TT_ADDR_PUBLIC) {
        return 0;
    }

    bytes = NULL;

    if (sa != NULL && len >= sizeof(struct sockaddr_in)
        && sa->sa_family == AF_INET)
    {
        bytes = &((const struct sockaddr_in *) sa)->sin_addr;

    } else if (sa != NULL && len >= sizeof(struct sockaddr_in6)
               && sa->sa_family == AF_INET6)
    {
        bytes = &((const struct sockaddr_in6 *) sa)->sin6_addr;
    }

    if (bytes == NULL
        || inet_ntop(sa->sa_family, bytes, text, sizeof(text)) == NULL)
    {
        memcpy(text, "an address", sizeof("an address"));
    }

    if (size > 0) {
        /* a cut message is still a refusal: the return value says so */
        (void) snprintf(buf, size, "the media URL %s %s, %s; downloads from "
                        "non-public addresses are refused "
                        "(tiktok_media_allow_private)",
                        redirected ? "redirects to a host that resolves to"
                                   : "resolves to",
                        text, tt_addr_class_name(c));
    }

    return 1;
}
