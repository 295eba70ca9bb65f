/*
 * Copyright (C) the ngx_tiktok authors.
 * The JSON parser's strict scanner: strict UTF-8 (RFC 3629) and paired
 * \u surrogates in every string, and where each token began (see
 * tt_json_int.h).
 */


#include "tt_json_int.h"


static int tt_utf8_lead(unsigned c, unsigned char *need, unsigned char *lo,
    unsigned char *hi);


/*
 * The well-formed UTF-8 byte sequences of RFC 3629 (table 3-7 of the
 * Unicode standard): only the second byte has a range other than 80-BF.
 */
static int
tt_utf8_lead(unsigned c, unsigned char *need, unsigned char *lo,
    unsigned char *hi)
{
    *lo = 0x80;
    *hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf) {
        *need = 1;

    } else if (c == 0xe0) {
        *need = 2;
        *lo = 0xa0;                     /* no overlong forms */

    } else if (c == 0xed) {
        *need = 2;
        *hi = 0x9f;                     /* no surrogates */

    } else if (c >= 0xe1 && c <= 0xef) {
        *need = 2;

    } else if (c == 0xf0) {
        *need = 3;
        *lo = 0x90;                     /* no overlong forms */

    } else if (c >= 0xf1 && c <= 0xf3) {
        *need = 3;

    } else if (c == 0xf4) {
        *need = 3;
        *hi = 0x8f;                     /* nothing above U+10FFFF */

    } else {
        return TT_INVALID;
    }

    return TT_OK;
}


/* the length of the valid UTF-8 character at p (len bytes left), or 0 */
static size_t
tt_utf8_char(const unsigned char *p, size_t len)
{
    size_t         i;
    unsigned char  need, lo, hi;

    if (p[0] < 0x80) {
        return 1;
    }

    if (tt_utf8_lead(p[0], &need, &lo, &hi) != TT_OK
        || len - 1 < need
        || p[1] < lo || p[1] > hi)
    {
        return 0;
    }

    for (i = 2; i <= need; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return 0;
        }
    }

    return (size_t) need + 1;
}


int
tt_utf8_valid(const char *s, size_t len)
{
    size_t               i, n;
    const unsigned char *p;

    p = (const unsigned char *) s;

    for (i = 0; i < len; i += n) {
        n = tt_utf8_char(p + i, len - i);
        if (n == 0) {
            return 0;
        }
    }

    return 1;
}


/*
 * Makes s valid UTF-8 in place: each byte that starts no valid character
 * (a character cut by "%.40s", a stray byte) becomes '?'.
 */
void
tt_utf8_scrub(char *s, size_t len)
{
    size_t          i, n;
    unsigned char  *p;

    p = (unsigned char *) s;

    for (i = 0; i < len; i += n) {
        n = tt_utf8_char(p + i, len - i);
        if (n == 0) {
            p[i] = '?';
            n = 1;
        }
    }
}


static int
tt_json_hex(unsigned c)
{
    if (c >= '0' && c <= '9') {
        return (int) (c - '0');
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return (int) (c - 'a' + 10);
    }

    return -1;
}


/*
 * The scanner's steps, one per state.  Each takes the next byte and
 * answers TT_OK, or which check failed: TT_SCAN_BAD_UTF8 (reported at
 * s->mark) or TT_SCAN_UNPAIRED (at s->hi_mark).
 */
enum {
    TT_SCAN_BAD_UTF8 = 1,
    TT_SCAN_UNPAIRED
};


static void
tt_json_scan_out(tt_json_scan_t *s, unsigned c)
{
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        s->in_word = 0;
        return;
    }

    if (c == '"') {
        s->state = TT_SCAN_STR;
        s->in_word = 0;

    } else if (c == '[' || c == ']' || c == '{' || c == '}'
               || c == ',' || c == ':')
    {
        s->in_word = 0;

    } else if (s->in_word) {
        return;

    } else {
        s->in_word = 1;
    }

    s->tok = s->pos;
    s->tok_c = (unsigned char) c;

    if (s->nafter < 2) {
        s->after[s->nafter] = s->pos;
        s->after_c[s->nafter] = (unsigned char) c;
        s->nafter++;
    }
}


static int
tt_json_scan_str(tt_json_scan_t *s, unsigned c)
{
    if (s->pending_hi && c != '\\') {
        return TT_SCAN_UNPAIRED;
    }

    if (c == '"') {
        s->state = TT_SCAN_OUT;

    } else if (c == '\\') {
        s->state = TT_SCAN_ESC;
        s->mark = s->pos;

    } else if (c >= 0x80) {
        s->mark = s->pos;

        if (tt_utf8_lead(c, &s->need, &s->lo, &s->hi) != TT_OK) {
            return TT_SCAN_BAD_UTF8;
        }

        s->state = TT_SCAN_UTF8;
    }

    return TT_OK;
}


static int
tt_json_scan_utf8(tt_json_scan_t *s, unsigned c)
{
    if (c < s->lo || c > s->hi) {
        return TT_SCAN_BAD_UTF8;
    }

    s->lo = 0x80;
    s->hi = 0xbf;

    if (--s->need == 0) {
        s->state = TT_SCAN_STR;
    }

    return TT_OK;
}


static int
tt_json_scan_esc(tt_json_scan_t *s, unsigned c)
{
    if (c == 'u') {
        s->state = TT_SCAN_HEX;
        s->hex_left = 4;
        s->hex = 0;
        return TT_OK;
    }

    if (s->pending_hi) {
        return TT_SCAN_UNPAIRED;
    }

    s->state = TT_SCAN_STR;

    return TT_OK;
}


/* a \uXXXX escape: a high surrogate must be followed by a low one */
static int
tt_json_scan_hex(tt_json_scan_t *s, unsigned c)
{
    int  d;

    d = tt_json_hex(c);

    if (d < 0) {
        /* yajl reports the bad escape itself */
        s->state = TT_SCAN_STR;
        s->pending_hi = 0;
        return TT_OK;
    }

    s->hex = (s->hex << 4) | (uint32_t) d;

    if (--s->hex_left) {
        return TT_OK;
    }

    s->state = TT_SCAN_STR;

    if (s->hex >= 0xd800 && s->hex <= 0xdbff) {
        if (s->pending_hi) {
            return TT_SCAN_UNPAIRED;
        }

        s->pending_hi = 1;
        s->hi_mark = s->mark;
        return TT_OK;
    }

    if (s->hex >= 0xdc00 && s->hex <= 0xdfff) {
        if (!s->pending_hi) {
            s->hi_mark = s->mark;
            return TT_SCAN_UNPAIRED;
        }

        s->pending_hi = 0;
        return TT_OK;
    }

    return s->pending_hi ? TT_SCAN_UNPAIRED : TT_OK;
}


int
tt_json_scan(tt_json_scan_t *s, const unsigned char *p, size_t n,
    size_t *bad, const char **what)
{
    int     rc;
    size_t  i;

    for (i = 0; i < n; i++, s->pos++) {

        switch (s->state) {

        case TT_SCAN_OUT:
            tt_json_scan_out(s, p[i]);
            rc = TT_OK;
            break;

        case TT_SCAN_STR:
            rc = tt_json_scan_str(s, p[i]);
            break;

        case TT_SCAN_UTF8:
            rc = tt_json_scan_utf8(s, p[i]);
            break;

        case TT_SCAN_ESC:
            rc = tt_json_scan_esc(s, p[i]);
            break;

        default: /* TT_SCAN_HEX */
            rc = tt_json_scan_hex(s, p[i]);
            break;
        }

        if (rc == TT_SCAN_BAD_UTF8) {
            *bad = s->mark;
            *what = "invalid UTF-8 in string";
            return TT_INVALID;
        }

        if (rc == TT_SCAN_UNPAIRED) {
            *bad = s->hi_mark;
            *what = "unpaired UTF-16 surrogate escape in string";
            return TT_INVALID;
        }
    }

    return TT_OK;
}
