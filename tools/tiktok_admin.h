/*
 * Copyright (C) the ngx_tiktok authors.
 * tiktok-admin's parts: the command table's types and the helpers its
 * files share (tiktok_admin.c, tiktok_admin_profile.c).
 */

#ifndef _TIKTOK_ADMIN_H_INCLUDED_
#define _TIKTOK_ADMIN_H_INCLUDED_


#include "tt_conf.h"
#include "tt_store.h"
#include "tt_time.h"


#define ADMIN_OK       0
#define ADMIN_FAIL     1
#define ADMIN_USAGE    2


/* a write that keeps meeting a full or resized map gives up after this */
#define ADMIN_RETRIES  8


typedef struct {
    tt_store_t     *st;
    tt_arena_t     *a;
    const char     *store_path;
    const char     *key_file;
    int             argc;           /* the command's words, verb first */
    char          **argv;
} admin_t;

typedef int (*admin_cmd_pt)(admin_t *ad);
typedef int (*admin_txn_pt)(admin_t *ad, tt_txn_t *t, void *ctx);

typedef struct {
    const char     *object;
    const char     *verb;
    admin_cmd_pt    handler;
} admin_cmd_t;


void admin_usage(void);
int admin_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *admin_rc_text(admin_t *ad, int rc);
int admin_open(admin_t *ad, int need_key);
int admin_write(admin_t *ad, admin_txn_pt fn, void *ctx);
int admin_read(admin_t *ad, tt_txn_t *t);
int admin_done(admin_t *ad, int rc, const char *what);
int admin_profile_options(admin_t *ad, tt_profile_t *p, int64_t *exp,
    int64_t *rexp);

/* tiktok_admin_profile.c */
int admin_profile_update(admin_t *ad);
int admin_profile_remove(admin_t *ad);
int admin_keys_reseal(admin_t *ad);


#endif /* _TIKTOK_ADMIN_H_INCLUDED_ */
