/*
 * Copyright (C) the ngx_tiktok authors.
 * Identifiers, randomness and hashing.
 */

#ifndef _TT_ID_H_INCLUDED_
#define _TT_ID_H_INCLUDED_


#include "tt_core.h"


/*
 * An id is a type prefix and 21 base62 characters: "p_", "q_", "pg_",
 * "prof_", "wh_", "m_", "ws_", "key_", "evt_", "req_".  The first 8 are
 * the time it was made (milliseconds since 1970, base62 in the
 * alphabet's ASCII order), the other 13 random (77 bits): ids made later
 * sort after, so that the store's records keyed by id are appended
 * where the last ones went (a batch of new posts writes a few pages of
 * each such index, not one page a post).  Ids made before 2026-12 are
 * 20 random characters (119 bits); both are valid, and the length tells
 * them apart.  Every id fits TT_ID_SIZE with its NUL, and composite
 * store keys pad ids with NULs to TT_ID_SIZE so that keys have a fixed
 * width.
 */
#define TT_ID_TIME      8
#define TT_ID_RAND      13
#define TT_ID_CHARS     (TT_ID_TIME + TT_ID_RAND)
#define TT_ID_CHARS_V1  20
#define TT_ID_SIZE      32

/* a post's prefix, whose length the lists' form of its id relies on */
#define TT_ID_POST      "p_"
#define TT_ID_POST_LEN  (sizeof(TT_ID_POST) - 1)

int tt_random(void *buf, size_t n);                 /* getrandom() */
int tt_id_new(const char *prefix, char out[TT_ID_SIZE]);
int tt_id_new_at(const char *prefix, int64_t ms, char out[TT_ID_SIZE]);
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
