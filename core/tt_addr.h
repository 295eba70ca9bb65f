/*
 * Copyright (C) the ngx_tiktok authors.
 * What kind of IP address a media download is about to connect to: the
 * scheduler refuses every address that is not public (a media URL must
 * not reach the host's own services or its private network).
 */

#ifndef _TT_ADDR_H_INCLUDED_
#define _TT_ADDR_H_INCLUDED_


#include <sys/socket.h>

#include "tt_core.h"


typedef enum {
    TT_ADDR_PUBLIC = 0,
    TT_ADDR_UNSPECIFIED,        /* 0.0.0.0/8 ("this network"), :: */
    TT_ADDR_LOOPBACK,           /* 127.0.0.0/8, ::1 */
    TT_ADDR_PRIVATE,            /* 10/8, 172.16/12, 192.168/16, fec0::/10,
                                 * 64:ff9b:1::/48 */
    TT_ADDR_SHARED,             /* 100.64.0.0/10, carrier-grade NAT */
    TT_ADDR_LINK_LOCAL,         /* 169.254.0.0/16, fe80::/10 */
    TT_ADDR_UNIQUE_LOCAL,       /* fc00::/7 */
    TT_ADDR_MULTICAST,          /* 224.0.0.0/4, ff00::/8 */
    TT_ADDR_RESERVED,           /* 240.0.0.0/4 and the broadcast address,
                                 * 192.0.0.0/24, 192.88.99.0/24, IPv6
                                 * outside 2000::/3, 2001::/23, ... */
    TT_ADDR_DOCUMENTATION,      /* 192.0.2/24, 198.51.100/24, 203.0.113/24,
                                 * 2001:db8::/32, 3fff::/20 */
    TT_ADDR_BENCHMARK           /* 198.18.0.0/15, 2001:2::/48 */
} tt_addr_class_e;


/*
 * addr holds 4 (AF_INET) or 16 (AF_INET6) bytes in network order.  An
 * IPv6 address that embeds an IPv4 one (mapped ::ffff:0:0/96, NAT64
 * 64:ff9b::/96, 6to4 2002::/16) is what the IPv4 address is.  Any other
 * family is TT_ADDR_RESERVED.
 */
tt_addr_class_e tt_addr_class(int family, const void *addr);

/* the same for a socket address; a short or unknown one is reserved */
tt_addr_class_e tt_addr_class_sa(const struct sockaddr *sa, size_t len);

/* "a loopback address", for messages */
const char *tt_addr_class_name(tt_addr_class_e c);

/*
 * The refusal message for a socket address that is not public, as the
 * media's error_message shows it:
 *
 *   the media URL resolves to 127.0.0.1, a loopback address; downloads
 *   from non-public addresses are refused (tiktok_media_allow_private)
 *
 * ("redirects to a host that resolves to" after a redirect).  Returns 1
 * with the message in buf (cut to size, NUL-terminated) if the address
 * is refused, 0 if it is public.
 */
int tt_addr_refusal(const struct sockaddr *sa, size_t len, int redirected,
    char *buf, size_t size);


#endif /* _TT_ADDR_H_INCLUDED_ */
