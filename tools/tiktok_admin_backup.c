/*
 * Copyright (C) the ngx_tiktok authors.
 * tiktok-admin backup and restore (core/tt_store_copy.c does the work).
 */


#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tt_time.h"
#include "tiktok_admin.h"


static void
admin_copy_report(const char *what, const char *dir,
    const tt_store_copy_t *info)
{
    printf("%s %s/data.mdb: %" PRIu64 " bytes in use, store schema %u\n",
           what, dir, info->size, info->schema);
}


/* tiktok-admin -s STORE backup DIR: the store is open (admin_run) */
int
admin_backup(admin_t *ad)
{
    int              rc;
    char             err[1024];
    int64_t          start;
    tt_store_copy_t  info;

    if (ad->argc != 2 || ad->argv[1][0] == '\0') {
        admin_usage();
        return ADMIN_USAGE;
    }

    start = tt_now_ms();
    err[0] = '\0';

    rc = tt_store_copy(ad->st, ad->argv[1], &info, err, sizeof(err));
    if (rc != TT_OK) {
        return admin_error("backup failed: %s", err);
    }

    admin_copy_report("backup", ad->argv[1], &info);
    fprintf(stderr, "tiktok-admin: backup of \"%s\" took %" PRId64 " ms\n",
            ad->store_path, tt_now_ms() - start);

    return ADMIN_OK;
}


/* tiktok-admin -s STORE restore BACKUP_DIR [--force]: the store is not
 * opened here; tt_store_restore() checks that no process has it open */
int
admin_restore(admin_t *ad)
{
    int              rc, force;
    char             err[1024];
    const char      *from;
    tt_store_copy_t  info;

    force = 0;
    from = NULL;

    if (ad->argc == 3 && strcmp(ad->argv[2], "--force") == 0) {
        force = 1;

    } else if (ad->argc != 2) {
        admin_usage();
        return ADMIN_USAGE;
    }

    from = ad->argv[1];
    err[0] = '\0';

    rc = tt_store_restore(from, ad->store_path, force, &info, err,
                          sizeof(err));
    if (rc != TT_OK) {
        return admin_error("restore failed: %s", err);
    }

    admin_copy_report("restored", ad->store_path, &info);

    return ADMIN_OK;
}
