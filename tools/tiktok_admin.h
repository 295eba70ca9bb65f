/*
 * Copyright (C) the ngx_tiktok authors.
 * tiktok-admin's parts shared by its files: tiktok_admin.c (the commands
 * on records), tiktok_admin_backup.c (backup and restore) and
 * tiktok_admin_profile.c (profile update and remove, tokens resealed).
 */

#ifndef _TIKTOK_ADMIN_H_INCLUDED_
#define _TIKTOK_ADMIN_H_INCLUDED_


#include "tt_conf.h"
#include "tt_store.h"
#include "tt_time.h"


#define ADMIN_OK       0
#define ADMIN_FAIL     1
#define ADMIN_USAGE    2


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


void admin_usage(void);
int admin_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int admin_open(admin_t *ad, int need_key);
const char *admin_rc_text(admin_t *ad, int rc);
int admin_write(admin_t *ad, admin_txn_pt fn, void *ctx);
int admin_read(admin_t *ad, tt_txn_t *t);
int admin_done(admin_t *ad, int rc, const char *what);
int admin_profile_options(admin_t *ad, tt_profile_t *p, int64_t *exp,
    int64_t *rexp);

int admin_backup(admin_t *ad);
int admin_restore(admin_t *ad);

/* tiktok_admin_profile.c */
int admin_profile_update(admin_t *ad);
int admin_profile_remove(admin_t *ad);
int admin_keys_reseal(admin_t *ad);


#endif /* _TIKTOK_ADMIN_H_INCLUDED_ */
