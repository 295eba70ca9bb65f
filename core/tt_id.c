/*
 * Copyright (C) the ngx_tiktok authors.
 * Random identifiers and API keys, SHA-256 and hex.
 */

#include <errno.h>
#include <pthread.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "tt_id.h"
#include "tt_time.h"


#define TT_KEY_PREFIX  "tt_"
#define TT_KEY_RAND    40


static int tt_base62_fill(char *out, size_t n);


static const char  tt_base62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";


int
tt_random(void *buf, size_t n)
{
    ssize_t   r;
    uint8_t  *p;

    p = buf;

    /* getrandom() may return less than asked, or be interrupted */
    while (n) {
        r = getrandom(p, n, 0);

        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }

            return TT_ERR;
        }

        p += r;
        n -= (size_t) r;
    }

    return TT_OK;
}


static int
tt_base62_fill(char *out, size_t n)
{
    size_t   i, k;
    uint8_t  rnd[64];

    i = 0;

    while (i < n) {
        if (tt_random(rnd, sizeof(rnd)) != TT_OK) {
            return TT_ERR;
        }

        for (k = 0; k < sizeof(rnd) && i < n; k++) {
            /*
             * 248 is the largest multiple of 62 that fits a byte: taking
             * only bytes below it keeps every character equally likely.
             */
            if (rnd[k] >= 248) {
                continue;
            }

            out[i++] = tt_base62[rnd[k] % 62];
        }
    }

    return TT_OK;
}


int
tt_id_new(const char *prefix, char out[TT_ID_SIZE])
{
    return tt_id_new_at(prefix, tt_now_ms(), out);
}


int
tt_id_new_at(const char *prefix, int64_t ms, char out[TT_ID_SIZE])
{
    int       i;
    size_t    plen;
    uint64_t  v;

    plen = strlen(prefix);

    if (plen + TT_ID_CHARS + 1 > TT_ID_SIZE) {
        return TT_INVALID;
    }

    memcpy(out, prefix, plen);

    /* 62^8 ms is about 6,900 years: a clock before 1970 counts as 1970 */
    v = (ms > 0) ? (uint64_t) ms : 0;

    for (i = TT_ID_TIME - 1; i >= 0; i--) {
        out[plen + i] = tt_base62[v % 62];
        v /= 62;
    }

    if (tt_base62_fill(out + plen + TT_ID_TIME, TT_ID_RAND) != TT_OK) {
        out[0] = '\0';
        return TT_ERR;
    }

    out[plen + TT_ID_CHARS] = '\0';

    return TT_OK;
}


int
tt_id_valid(const char *prefix, const char *s, size_t len)
{
    size_t  plen, i;
    char    c;

    if (prefix == NULL || s == NULL) {
        return 0;
    }

    plen = strlen(prefix);

    if ((len != plen + TT_ID_CHARS && len != plen + TT_ID_CHARS_V1)
        || memcmp(s, prefix, plen) != 0)
    {
        return 0;
    }

    for (i = plen; i < len; i++) {
        c = s[i];

        if (!((c >= '0' && c <= '9')
              || (c >= 'A' && c <= 'Z')
              || (c >= 'a' && c <= 'z')))
        {
            return 0;
        }
    }

    return 1;
}


int
tt_key_new(char out[TT_KEY_LEN + 1])
{
    memcpy(out, TT_KEY_PREFIX, sizeof(TT_KEY_PREFIX) - 1);

    if (tt_base62_fill(out + sizeof(TT_KEY_PREFIX) - 1, TT_KEY_RAND)
        != TT_OK)
    {
        out[0] = '\0';
        return TT_ERR;
    }

    out[TT_KEY_LEN] = '\0';

    return TT_OK;
}


/*
 * SHA-256 fetched from its provider once: EVP_sha256()'s fetch at each
 * digest costs more than the digest of a key or an id (0.30 against
 * 0.12 us); it stays for the process's life
 */
static pthread_once_t  tt_sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD         *tt_sha256_md;


static void
tt_sha256_fetch(void)
{
    tt_sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}


int
tt_sha256(const void *data, size_t len, uint8_t out[32])
{
    unsigned int   n;
    const EVP_MD  *md;

    n = 0;
    md = NULL;

    if (pthread_once(&tt_sha256_once, tt_sha256_fetch) == 0) {
        md = tt_sha256_md;
    }

    if (EVP_Digest(data, len, out, &n, md ? md : EVP_sha256(), NULL) != 1
        || n != 32)
    {
        /* never leave a stale digest that could match something */
        memset(out, 0, 32);
        return TT_ERR;
    }

    return TT_OK;
}


void
tt_hex(const uint8_t *in, size_t len, char *out)
{
    size_t             i;
    static const char  hex[] = "0123456789abcdef";

    for (i = 0; i < len; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 0x0f];
    }

    out[2 * len] = '\0';
}
