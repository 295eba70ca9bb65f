/*
 * Copyright (C) the ngx_tiktok authors.
 * The keys that seal profile tokens (tiktok_token_key_file): one or more,
 * each with an id; the first seals, every one opens, so that a new key can
 * be put first and the store re-sealed (tiktok-admin token-keys reseal)
 * before the old one is taken out.
 */

#ifndef _TT_KEYRING_H_INCLUDED_
#define _TT_KEYRING_H_INCLUDED_


#include "tt_core.h"


#define TT_KEYRING_MAX   8
#define TT_KEY_ID_MAX    16             /* an id's bytes, with its NUL */


typedef struct {
    char            id[TT_KEY_ID_MAX];  /* "" for a bare key */
    uint8_t         key[32];
} tt_token_key_t;

typedef struct {
    size_t          n;
    tt_token_key_t  keys[TT_KEYRING_MAX];
} tt_keyring_t;


/*
 * The file: one key a line, "ID HEX64" or a bare "HEX64" (the format of
 * a single key); empty lines and lines starting with '#' are skipped.
 * An id is 1 to 15 of [A-Za-z0-9._-]; ids are distinct, one bare key at
 * most.  TT_ERR with why in err (never a key's bytes).
 */
int tt_keyring_read(const char *path, tt_keyring_t *ring, char *err,
    size_t size);
int tt_keyring_parse(const char *data, size_t len, tt_keyring_t *ring,
    char *err, size_t size);
void tt_keyring_clear(tt_keyring_t *ring);

/* the key named id, NULL if the ring has none */
const tt_token_key_t *tt_keyring_find(const tt_keyring_t *ring,
    const char *id, size_t len);


#endif /* _TT_KEYRING_H_INCLUDED_ */
