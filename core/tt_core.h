/*
 * Copyright (C) the ngx_tiktok authors.
 * Definitions shared by every file of core/, the module and the scheduler.
 */

#ifndef _TT_CORE_H_INCLUDED_
#define _TT_CORE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <string.h>


/* return codes of core functions; never raw library codes */
#define TT_OK           0
#define TT_ERR         -1       /* unexpected failure; errno may say more */
#define TT_NOTFOUND    -2
#define TT_EXISTS      -3
#define TT_INVALID     -4       /* bad input from outside */
#define TT_FULL        -5       /* store map is full: grow and retry */
#define TT_RESIZED     -6       /* another process grew the map: adopt */
#define TT_NOMEM       -7
#define TT_CONFLICT    -8
#define TT_UNSYNCED    -9       /* committed, but its sync to disk failed */
#define TT_DECLINED    -10      /* a quick way does not apply: take the other */


typedef struct {
    size_t          len;
    const char     *data;
} tt_str_t;


#define tt_string(s)     { sizeof(s) - 1, s }
#define tt_null_string   { 0, NULL }

#define tt_str_eq(s, lit)                                                    \
    ((s)->len == sizeof(lit) - 1 && memcmp((s)->data, lit, (s)->len) == 0)


#define TT_ARRAY_SIZE(a)  (sizeof(a) / sizeof((a)[0]))


#endif /* _TT_CORE_H_INCLUDED_ */
