/*
 * Copyright (C) the ngx_tiktok authors.
 * What `tiktok-admin profile add` does inside its process, timed apart
 * from the process: the store's open, then for each empty group given,
 * the lookups and the write (tt_group_get, tt_profile_check with the
 * indexes, tt_profile_put) and the commit with its fsync.  Prints the
 * open and the averages in ms.  Used by bench/store_bench.sh.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tt_store.h"
#include "tt_time.h"


static double
admin_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}


static int
admin_add(tt_txn_t *t, const char *group, tt_arena_t *a)
{
    const char    *why;
    tt_group_t     g;
    tt_profile_t   p, other;

    if (tt_group_get(t, group, a, &g) != TT_OK) {
        return TT_ERR;
    }

    memset(&p, 0, sizeof(p));

    if (tt_id_new("prof_", p.id) != TT_OK) {
        return TT_ERR;
    }

    memcpy(p.workspace_id, g.workspace_id, TT_ID_SIZE);
    memcpy(p.profile_group_id, g.id, TT_ID_SIZE);
    p.platform = "tiktok";
    p.open_id = p.id;
    p.username = "u";
    p.name = "N";
    p.access_token = "act.bench";
    p.refresh_token = "rft.bench";
    p.created_at = tt_now_ms();
    p.expires_at = p.created_at + 86400000;
    p.refresh_expires_at = p.created_at + 31536000000LL;

    if (tt_profile_check(t, &p, a, &other, &why) != TT_OK) {
        return TT_ERR;
    }

    return tt_profile_put(t, &p);
}


int
main(int argc, char **argv)
{
    int              i;
    char             err[256];
    double           t0, t1, t2, open_ms, work_ms, commit_ms;
    uint8_t          key[32];
    tt_txn_t         t;
    tt_arena_t      *a;
    tt_store_t      *st;
    tt_store_conf_t  conf;

    if (argc < 3) {
        fprintf(stderr, "usage: store_admin STORE GROUP...\n");
        return 2;
    }

    memset(key, 7, sizeof(key));
    memset(&conf, 0, sizeof(conf));
    conf.path = argv[1];
    conf.token_key = key;

    t0 = admin_ms();

    if (tt_store_open(&conf, &st, err, sizeof(err)) != TT_OK) {
        fprintf(stderr, "store_admin: %s\n", err);
        return 1;
    }

    open_ms = admin_ms() - t0;
    work_ms = 0;
    commit_ms = 0;

    a = tt_arena_create(4096);
    if (a == NULL) {
        return 1;
    }

    for (i = 2; i < argc; i++) {
        t0 = admin_ms();

        if (tt_txn_begin(st, &t, 1) != TT_OK
            || admin_add(&t, argv[i], a) != TT_OK)
        {
            fprintf(stderr, "store_admin: %s: %s\n", argv[i],
                    tt_store_last_error(st));
            return 1;
        }

        t1 = admin_ms();

        if (tt_txn_commit(&t) != TT_OK) {
            fprintf(stderr, "store_admin: %s\n", tt_store_last_error(st));
            return 1;
        }

        t2 = admin_ms();
        work_ms += t1 - t0;
        commit_ms += t2 - t1;
    }

    printf("%.2f %.3f %.2f\n", open_ms, work_ms / (argc - 2),
           commit_ms / (argc - 2));

    tt_arena_destroy(a);
    tt_store_close(st);

    return 0;
}
