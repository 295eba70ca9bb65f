/*
 * Copyright (C) the ngx_tiktok authors.
 * The JSON parser's insides shared by tt_json.c and tt_json_scan.c.
 */

#ifndef _TT_JSON_INT_H_INCLUDED_
#define _TT_JSON_INT_H_INCLUDED_


#include "tt_json.h"


/*
 * yajl validates UTF-8 loosely: it accepts overlong forms (C0 80),
 * UTF-16 surrogates encoded in UTF-8 (ED A0 80) and code points above
 * U+10FFFF (F4 90 80 80), decodes a lone "\ud83d" to "?" and pairs
 * "\ud800\u0041" into a wrong code point.  So a scanner checks the raw
 * bytes of every string strictly (RFC 3629) and pairs \u surrogates, in
 * step with yajl: the parser advances it up to yajl's position in every
 * callback and at the end of every chunk.  It also remembers where the
 * last token began, which gives error messages their byte offsets.
 *
 * States: OUT (between tokens) -> STR on '"'; STR -> ESC on '\',
 * -> UTF8 on a lead byte, -> OUT on '"'; ESC -> HEX on 'u', else STR;
 * HEX -> STR after four digits; UTF8 -> STR after the last continuation.
 *
 * yajl's own offset cannot place a structural error: it is past the bad
 * token in most states, rewound by the token's length in one, and clamped
 * to 0 when the token began in an earlier chunk.  So the scanner records
 * where the first two tokens after the last callback begin: the bad token
 * is the first of them, or the second when yajl accepted a ',' or ':' in
 * between.
 */
enum {
    TT_SCAN_OUT = 0,
    TT_SCAN_STR,
    TT_SCAN_ESC,
    TT_SCAN_HEX,
    TT_SCAN_UTF8
};


typedef struct {
    size_t          pos;        /* absolute offset of the next byte */
    size_t          tok;        /* where the last token began */
    size_t          mark;       /* start of the sequence being checked */
    size_t          hi_mark;    /* start of the pending high surrogate */
    size_t          after[2];   /* tokens begun since the last callback */
    uint32_t        hex;
    unsigned char   after_c[2];
    unsigned char   nafter;
    unsigned char   tok_c;      /* first byte of the last token */
    unsigned char   state;
    unsigned char   need;       /* UTF-8 continuation bytes still due */
    unsigned char   lo;         /* allowed range of the next one */
    unsigned char   hi;
    unsigned char   hex_left;
    unsigned char   pending_hi;
    unsigned char   in_word;    /* inside a number or a literal */
} tt_json_scan_t;


/*
 * Scans n bytes; TT_OK, or TT_INVALID with *bad the offset of the bad
 * sequence and *what what is wrong with it
 */
int tt_json_scan(tt_json_scan_t *s, const unsigned char *p, size_t n,
    size_t *bad, const char **what);


#endif /* _TT_JSON_INT_H_INCLUDED_ */
