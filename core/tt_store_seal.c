/*
 * Copyright (C) the ngx_tiktok authors.
 * Profile tokens sealed with AES-256-GCM, under the key ring of
 * tiktok_token_key_file: the first key seals, any key opens.
 */


#include "tt_store_int.h"

#include <openssl/evp.h>

#define TT_SEAL_NONCE       12
#define TT_SEAL_TAG         16


static int tt_token_open_with(const tt_token_key_t *k, const char *id,
    const char *field, const char *hex, size_t hexlen, char *p);


/*
 * [key id ":"] hex(nonce | ciphertext | tag); a key without an id (a file
 * of one bare key) writes no prefix, as the single-key format always did
 */
int
tt_token_seal(const tt_store_t *st, const char *id, const char *field,
    const char *plain, tt_buf_t *out)
{
    int                    n, ok;
    size_t                 len, idlen, hexlen;
    uint8_t               *raw;
    EVP_CIPHER_CTX        *ctx;
    const tt_token_key_t  *k;

    if (!st->has_key || st->keys.n == 0) {
        return TT_ERR;
    }

    k = &st->keys.keys[0];
    idlen = strlen(k->id);
    len = strlen(plain);
    hexlen = 2 * (TT_SEAL_NONCE + len + TT_SEAL_TAG);
    raw = malloc(TT_SEAL_NONCE + len + TT_SEAL_TAG);
    ctx = EVP_CIPHER_CTX_new();

    /* the profile id and field are bound in as AAD: no swapping */
    ok = raw != NULL && ctx != NULL && len <= INT_MAX
         && tt_random(raw, TT_SEAL_NONCE) == TT_OK
         && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, k->key, raw)
         && EVP_EncryptUpdate(ctx, NULL, &n, (const uint8_t *) id,
                              (int) strlen(id))
         && EVP_EncryptUpdate(ctx, NULL, &n, (const uint8_t *) field,
                              (int) strlen(field))
         && EVP_EncryptUpdate(ctx, raw + TT_SEAL_NONCE, &n,
                              (const uint8_t *) plain, (int) len)
         && EVP_EncryptFinal_ex(ctx, raw + TT_SEAL_NONCE + n, &n)
         && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TT_SEAL_TAG,
                                raw + TT_SEAL_NONCE + len)
         && tt_buf_reserve(out, idlen + 1 + hexlen + 1) == TT_OK;

    if (ok) {
        out->len = 0;

        if (idlen) {
            memcpy(out->data, k->id, idlen);
            out->data[idlen] = ':';
            out->len = idlen + 1;
        }

        tt_hex(raw, TT_SEAL_NONCE + len + TT_SEAL_TAG, out->data + out->len);
        out->len += hexlen;
    }

    EVP_CIPHER_CTX_free(ctx);
    free(raw);

    return ok ? TT_OK : TT_ERR;
}


/*
 * A prefixed value opens with its key only; one without a prefix with
 * the bare key, else with each key in turn (a key file whose single key
 * was given an id): GCM's tag tells which.
 */
int
tt_token_open(const tt_store_t *st, const char *id, const char *field,
    const char *hex, tt_arena_t *a, const char **plain)
{
    char                  *p;
    size_t                 i, len, hexlen;
    const char            *colon;
    const tt_token_key_t  *k;

    colon = strchr(hex, ':');
    k = NULL;

    if (colon != NULL) {
        k = tt_keyring_find(&st->keys, hex, (size_t) (colon - hex));
        if (k == NULL) {
            return TT_ERR;
        }

        hex = colon + 1;
    }

    hexlen = strlen(hex);
    len = hexlen / 2;

    if (hexlen % 2 || len < TT_SEAL_NONCE + TT_SEAL_TAG
        || len - TT_SEAL_NONCE > INT_MAX)
    {
        return TT_ERR;
    }

    len -= TT_SEAL_NONCE + TT_SEAL_TAG;

    p = tt_arena_alloc(a, len + 1);
    if (p == NULL) {
        return TT_ERR;
    }

    if (k == NULL) {
        k = tt_keyring_find(&st->keys, "", 0);
    }

    if (k != NULL) {
        if (tt_token_open_with(k, id, field, hex, hexlen, p) != TT_OK) {
            return TT_ERR;
        }

    } else {
        for (i = 0; i < st->keys.n; i++) {
            if (tt_token_open_with(&st->keys.keys[i], id, field, hex, hexlen,
                                   p)
                == TT_OK)
            {
                break;
            }
        }

        if (i == st->keys.n) {
            return TT_ERR;
        }
    }

    p[len] = '\0';
    *plain = p;

    return TT_OK;
}


/* p has room for the plain text; TT_ERR when the tag does not match */
static int
tt_token_open_with(const tt_token_key_t *k, const char *id,
    const char *field, const char *hex, size_t hexlen, char *p)
{
    int              n, ok;
    size_t           len;
    uint8_t         *raw;
    EVP_CIPHER_CTX  *ctx;

    len = hexlen / 2 - TT_SEAL_NONCE - TT_SEAL_TAG;
    raw = malloc(hexlen / 2);
    ctx = EVP_CIPHER_CTX_new();

    ok = raw != NULL && ctx != NULL
         && tt_hex_decode(hex, hexlen, raw) == TT_OK
         && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, k->key, raw)
         && EVP_DecryptUpdate(ctx, NULL, &n, (const uint8_t *) id,
                              (int) strlen(id))
         && EVP_DecryptUpdate(ctx, NULL, &n, (const uint8_t *) field,
                              (int) strlen(field))
         && EVP_DecryptUpdate(ctx, (uint8_t *) p, &n,
                              raw + TT_SEAL_NONCE, (int) len)
         && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TT_SEAL_TAG,
                                raw + TT_SEAL_NONCE + len)
         && EVP_DecryptFinal_ex(ctx, (uint8_t *) p + n, &n) > 0;

    EVP_CIPHER_CTX_free(ctx);
    free(raw);

    return ok ? TT_OK : TT_ERR;
}
