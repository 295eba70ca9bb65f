/*
 * Copyright (C) the ngx_tiktok authors.
 * tiktok-admin's parts shared by its files: tiktok_admin.c (the commands
 * on records) and tiktok_admin_backup.c (backup and restore).
 */

#ifndef _TIKTOK_ADMIN_H_INCLUDED_
#define _TIKTOK_ADMIN_H_INCLUDED_


#include "tt_store.h"


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


void admin_usage(void);
int admin_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int admin_open(admin_t *ad, int need_key);

int admin_backup(admin_t *ad);
int admin_restore(admin_t *ad);


#endif /* _TIKTOK_ADMIN_H_INCLUDED_ */
