/*
 * Copyright (C) the ngx_tiktok authors.
 * Profile tokens sealed with AES-256-GCM.
 */


#include "tt_store_int.h"

#include <openssl/evp.h>

#define TT_SEAL_NONCE       12
#define TT_SEAL_TAG         16


/* profile tokens: AES-256-GCM, hex(nonce | ciphertext | tag) */

int
tt_token_seal(const tt_store_t *st, const char *id, const char *field,
    const char *plain, tt_buf_t *out)
{
    int              n, ok;
    size_t           len;
    uint8_t         *raw;
    EVP_CIPHER_CTX  *ctx;

    len = strlen(plain);
    raw = malloc(TT_SEAL_NONCE + len + TT_SEAL_TAG);
    ctx = EVP_CIPHER_CTX_new();

    /* the profile id and field are bound in as AAD: no swapping */
    ok = raw != NULL && ctx != NULL && len <= INT_MAX
         && tt_random(raw, TT_SEAL_NONCE) == TT_OK
         && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, st->token_key,
                               raw)
         && EVP_EncryptUpdate(ctx, NULL, &n, (const uint8_t *) id,
                              (int) strlen(id))
         && EVP_EncryptUpdate(ctx, NULL, &n, (const uint8_t *) field,
                              (int) strlen(field))
         && EVP_EncryptUpdate(ctx, raw + TT_SEAL_NONCE, &n,
                              (const uint8_t *) plain, (int) len)
         && EVP_EncryptFinal_ex(ctx, raw + TT_SEAL_NONCE + n, &n)
         && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TT_SEAL_TAG,
                                raw + TT_SEAL_NONCE + len)
         && tt_buf_reserve(out, 2 * (TT_SEAL_NONCE + len + TT_SEAL_TAG) + 1)
            == TT_OK;

    if (ok) {
        tt_hex(raw, TT_SEAL_NONCE + len + TT_SEAL_TAG, out->data);
        out->len = 2 * (TT_SEAL_NONCE + len + TT_SEAL_TAG);
    }

    EVP_CIPHER_CTX_free(ctx);
    free(raw);

    return ok ? TT_OK : TT_ERR;
}


int
tt_token_open(const tt_store_t *st, const char *id, const char *field,
    const char *hex, tt_arena_t *a, const char **plain)
{
    int              n, ok;
    char            *p;
    size_t           len;
    uint8_t         *raw;
    EVP_CIPHER_CTX  *ctx;

    len = strlen(hex) / 2;
    if (len < TT_SEAL_NONCE + TT_SEAL_TAG || len - TT_SEAL_NONCE > INT_MAX) {
        return TT_ERR;
    }

    len -= TT_SEAL_NONCE + TT_SEAL_TAG;

    raw = malloc(TT_SEAL_NONCE + len + TT_SEAL_TAG);
    p = tt_arena_alloc(a, len + 1);
    ctx = EVP_CIPHER_CTX_new();

    ok = raw != NULL && p != NULL && ctx != NULL
         && tt_hex_decode(hex, strlen(hex), raw) == TT_OK
         && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, st->token_key,
                               raw)
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

    if (!ok) {
        return TT_ERR;
    }

    p[len] = '\0';
    *plain = p;

    return TT_OK;
}
