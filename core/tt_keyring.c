/*
 * Copyright (C) the ngx_tiktok authors.
 * The token key file: one key or several, each with an id.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tt_buf.h"
#include "tt_secret.h"
#include "tt_keyring.h"


static int tt_keyring_line(const char *s, size_t len, tt_keyring_t *ring,
    unsigned line, char *err, size_t size);
static int tt_keyring_id_ok(const char *s, size_t len);


int
tt_keyring_read(const char *path, tt_keyring_t *ring, char *err, size_t size)
{
    int          rc;
    tt_str_t     s;
    tt_arena_t  *a;

    tt_keyring_clear(ring);

    a = tt_arena_create(256);
    if (a == NULL) {
        (void) snprintf(err, size, "out of memory");
        return TT_ERR;
    }

    if (tt_read_secret(path, a, &s) != TT_OK) {
        (void) snprintf(err, size, "cannot read the token key file \"%s\": "
                        "%s", path, errno == ENODATA ? "it is empty"
                                                     : strerror(errno));
        tt_arena_destroy(a);
        return TT_ERR;
    }

    rc = tt_keyring_parse(s.data, s.len, ring, err, size);

    explicit_bzero((char *) s.data, s.len);
    tt_arena_destroy(a);

    if (rc != TT_OK) {
        /* the parser's reason, with the file named */
        char  why[192];

        (void) snprintf(why, sizeof(why), "%s", err);
        (void) snprintf(err, size, "the token key file \"%s\": %s", path, why);
    }

    return rc;
}


int
tt_keyring_parse(const char *data, size_t len, tt_keyring_t *ring,
    char *err, size_t size)
{
    size_t    i, n;
    unsigned  line;

    tt_keyring_clear(ring);
    line = 0;
    i = 0;

    while (i < len) {
        line++;

        for (n = 0; i + n < len && data[i + n] != '\n'; n++) {
            /* void */
        }

        if (tt_keyring_line(data + i, n, ring, line, err, size) != TT_OK) {
            tt_keyring_clear(ring);
            return TT_ERR;
        }

        i += n + 1;
    }

    if (ring->n == 0) {
        (void) snprintf(err, size, "no key: a line of 64 hex characters "
                        "(32 random bytes), or \"ID HEX\", is expected");
        return TT_ERR;
    }

    return TT_OK;
}


static int
tt_keyring_line(const char *s, size_t len, tt_keyring_t *ring, unsigned line,
    char *err, size_t size)
{
    size_t           idlen;
    const char      *hex;
    tt_token_key_t  *k;

    while (len && (s[len - 1] == '\r' || s[len - 1] == ' '
                   || s[len - 1] == '\t'))
    {
        len--;
    }

    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }

    if (len == 0 || *s == '#') {
        return TT_OK;
    }

    for (idlen = 0; idlen < len && s[idlen] != ' ' && s[idlen] != '\t';
         idlen++)
    {
        /* void */
    }

    hex = s;

    if (idlen < len) {
        hex = s + idlen;

        while (hex < s + len && (*hex == ' ' || *hex == '\t')) {
            hex++;
        }

        if (!tt_keyring_id_ok(s, idlen)) {
            (void) snprintf(err, size, "line %u: a key id is 1 to %d of "
                            "A-Z a-z 0-9 . _ -", line, TT_KEY_ID_MAX - 1);
            return TT_ERR;
        }

    } else {
        idlen = 0;
    }

    if ((size_t) (s + len - hex) != 64) {
        (void) snprintf(err, size, "line %u must hold 64 hex characters "
                        "(32 random bytes), after an id if any", line);
        return TT_ERR;
    }

    if (tt_keyring_find(ring, s, idlen) != NULL) {
        (void) snprintf(err, size, "line %u: the key id \"%.*s\" is given "
                        "twice", line, (int) idlen, s);
        return TT_ERR;
    }

    if (ring->n == TT_KEYRING_MAX) {
        (void) snprintf(err, size, "more than %d keys", TT_KEYRING_MAX);
        return TT_ERR;
    }

    k = &ring->keys[ring->n];

    if (tt_hex_decode(hex, 64, k->key) != TT_OK) {
        explicit_bzero(k->key, sizeof(k->key));
        (void) snprintf(err, size, "line %u must hold 64 hex characters "
                        "(32 random bytes), after an id if any", line);
        return TT_ERR;
    }

    memcpy(k->id, s, idlen);
    k->id[idlen] = '\0';
    ring->n++;

    return TT_OK;
}


static int
tt_keyring_id_ok(const char *s, size_t len)
{
    size_t  i;

    if (len == 0 || len >= TT_KEY_ID_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_'
              || s[i] == '-'))
        {
            return 0;
        }
    }

    return 1;
}


const tt_token_key_t *
tt_keyring_find(const tt_keyring_t *ring, const char *id, size_t len)
{
    size_t  i;

    for (i = 0; i < ring->n; i++) {
        if (strlen(ring->keys[i].id) == len
            && memcmp(ring->keys[i].id, id, len) == 0)
        {
            return &ring->keys[i];
        }
    }

    return NULL;
}


void
tt_keyring_clear(tt_keyring_t *ring)
{
    explicit_bzero(ring, sizeof(tt_keyring_t));
}
