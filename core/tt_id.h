/*
 * Copyright (C) the ngx_tiktok authors.
 * Identifiers, randomness and hashing.
 */

#ifndef _TT_ID_H_INCLUDED_
#define _TT_ID_H_INCLUDED_


#include "tt_core.h"


/*
 * An id is a type prefix and 20 random base62 characters (119 bits):
 * "p_", "q_", "pg_", "prof_", "wh_", "m_", "ws_", "key_", "evt_", "req_".
 * Every id fits TT_ID_SIZE with its NUL, and composite store keys pad
 * ids with NULs to TT_ID_SIZE so that keys have a fixed width.
 */
#define TT_ID_RAND   20
#define TT_ID_SIZE   32

int tt_random(void *buf, size_t n);                 /* getrandom() */
int tt_id_new(const char *prefix, char out[TT_ID_SIZE]);
int tt_id_valid(const char *prefix, const char *s, size_t len);

/* an API key: "tt_" + 40 base62 characters; out gets NUL-terminated */
#define TT_KEY_LEN   43
int tt_key_new(char out[TT_KEY_LEN + 1]);

/*
 * TT_OK, or TT_ERR (out zeroed) when libcrypto fails, which only happens
 * when it cannot allocate; callers that store or compare digests check it.
 */
int tt_sha256(const void *data, size_t len, uint8_t out[32]);
void tt_hex(const uint8_t *in, size_t len, char *out);  /* 2*len + NUL */


#endif /* _TT_ID_H_INCLUDED_ */
