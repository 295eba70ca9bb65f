/*
 * Copyright (C) the ngx_tiktok authors.
 * store_seed: fills a store straight through the store's functions (no
 * HTTP) for bench/store_bench.sh.
 *
 * store_seed STORE GROUPS POSTS SPARE
 *     one workspace of GROUPS profile groups, each with one TikTok
 *     profile but the last SPARE (left empty for `profile add`), and
 *     POSTS posts spread over the groups: created over the past year,
 *     a fifth drafts, the others scheduled over the next year, some
 *     published or failed, a tenth in a queue.  Prints "WS_ID PG_ID"
 *     (the first group) and the first empty group's id.
 *     Needs TT_TOKEN_KEY_FILE-less profiles: no tokens are stored.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tt_store.h"
#include "tt_time.h"


#define SEED_TXN   20000
#define SEED_DAY   (86400 * 1000LL)


static void
seed_fail(tt_store_t *st, const char *what)
{
    fprintf(stderr, "store_seed: %s: %s\n", what,
            st ? tt_store_last_error(st) : "");
    exit(1);
}


static void
seed_groups(tt_store_t *st, const char *ws, unsigned long n,
    unsigned long spare, int64_t now)
{
    unsigned long  i;
    tt_txn_t       t;
    tt_group_t     g;
    tt_profile_t   p;

    for (i = 0; i < n; i++) {
        if (i % SEED_TXN == 0 && tt_txn_begin(st, &t, 1) != TT_OK) {
            seed_fail(st, "begin");
        }

        memset(&g, 0, sizeof(g));
        snprintf(g.id, TT_ID_SIZE, "pg_b%09lu", i);
        snprintf(g.workspace_id, TT_ID_SIZE, "%s", ws);
        g.name = "client";
        g.created_at = now - SEED_DAY * 400 + (int64_t) i;

        if (tt_group_put(&t, &g) != TT_OK) {
            seed_fail(st, "group");
        }

        if (i < n - spare) {
            memset(&p, 0, sizeof(p));
            snprintf(p.id, TT_ID_SIZE, "prof_b%09lu", i);
            snprintf(p.workspace_id, TT_ID_SIZE, "%s", ws);
            memcpy(p.profile_group_id, g.id, TT_ID_SIZE);
            p.platform = "tiktok";
            p.name = "Client";
            p.username = "client";
            p.open_id = p.id;
            p.created_at = g.created_at;
            p.expires_at = now + SEED_DAY;
            p.refresh_expires_at = now + 365 * SEED_DAY;
            p.scope = "user.info.basic,video.publish,video.upload";

            if (tt_profile_put(&t, &p) != TT_OK) {
                seed_fail(st, "profile");
            }
        }

        if ((i + 1) % SEED_TXN == 0 || i + 1 == n) {
            if (tt_txn_commit(&t) != TT_OK) {
                seed_fail(st, "commit");
            }
        }
    }
}


static void
seed_post(tt_post_t *p, tt_platform_t *pl, tt_media_t *m, const char *ws,
    unsigned long i, unsigned long groups, unsigned long spare, int64_t now)
{
    unsigned long  g;

    g = i % (groups - spare);

    tt_post_init(p, now - 365 * SEED_DAY + (int64_t) i * 7919 % (365
                 * SEED_DAY));
    snprintf(p->id, TT_ID_SIZE, "p_b%012lu", i);
    snprintf(p->workspace_id, TT_ID_SIZE, "%s", ws);
    snprintf(p->profile_group_id, TT_ID_SIZE, "pg_b%09lu", g);
    p->body = "New product drop. Link in bio.";
    p->body_len = strlen(p->body);

    memset(m, 0, sizeof(tt_media_t));
    snprintf(m->id, TT_ID_SIZE, "m_b%012lu", i);
    m->status = TT_MEDIA_PROCESSED;
    m->source_url = "https://yourcdn.com/launch-9x16.mp4";
    m->content_type = "video/mp4";
    m->size = 12345678;
    m->width = 1080;
    m->height = 1920;
    m->duration_ms = 15000;
    m->frame_rate = 30;
    p->media = m;
    p->nmedia = 1;

    memset(pl, 0, sizeof(tt_platform_t));
    snprintf(pl->profile_id, TT_ID_SIZE, "prof_b%09lu", g);
    pl->attempted_at = -1;
    pl->next_attempt_at = -1;
    pl->params.video_cover_timestamp_ms = -1;
    p->platforms = pl;
    p->nplatforms = 1;

    if (i % 10 == 3) {
        snprintf(p->queue_id, TT_ID_SIZE, "q_b%06lu", g % 1000);
        p->queue_priority = TT_PRIORITY_MEDIUM;
    }

    if (i % 5 == 0) {
        p->status = TT_POST_DRAFT;
        p->draft = 1;
        return;
    }

    p->scheduled_at = now + (int64_t) (i * 104729 % (365 * 86400)) * 1000;

    switch (i % 7) {
    case 1:
        p->status = TT_POST_PROCESSED;
        pl->status = TT_PLAT_PUBLISHED;
        break;
    case 2:
        p->status = TT_POST_PROCESSED;
        pl->status = TT_PLAT_FAILED;
        break;
    default:
        p->status = TT_POST_SCHEDULED;
        p->due_at = p->scheduled_at;
    }
}


static void
seed_posts(tt_store_t *st, const char *ws, unsigned long n,
    unsigned long groups, unsigned long spare, int64_t now)
{
    unsigned long  i;
    tt_txn_t       t;
    tt_post_t      p;
    tt_media_t     m;
    tt_platform_t  pl;

    for (i = 0; i < n; i++) {
        if (i % SEED_TXN == 0 && tt_txn_begin(st, &t, 1) != TT_OK) {
            seed_fail(st, "begin");
        }

        seed_post(&p, &pl, &m, ws, i, groups, spare, now);

        if (tt_post_put(&t, &p) != TT_OK) {
            seed_fail(st, "post");
        }

        if ((i + 1) % SEED_TXN == 0 || i + 1 == n) {
            if (tt_txn_commit(&t) != TT_OK) {
                seed_fail(st, "commit");
            }
        }
    }
}


int
main(int argc, char **argv)
{
    char             err[256];
    int64_t          now;
    unsigned long    groups, posts, spare;
    tt_txn_t         t;
    tt_store_t      *st;
    tt_workspace_t   ws;
    tt_store_conf_t  conf;

    if (argc != 5) {
        fprintf(stderr, "usage: store_seed STORE GROUPS POSTS SPARE\n");
        return 2;
    }

    groups = strtoul(argv[2], NULL, 10);
    posts = strtoul(argv[3], NULL, 10);
    spare = strtoul(argv[4], NULL, 10);

    if (groups == 0 || spare >= groups) {
        fprintf(stderr, "store_seed: GROUPS > SPARE >= 0\n");
        return 2;
    }

    memset(&conf, 0, sizeof(conf));
    conf.path = argv[1];
    conf.map_size = (size_t) 16 * 1024 * 1024 * 1024;
    conf.nosync = 1;

    if (tt_store_open(&conf, &st, err, sizeof(err)) != TT_OK) {
        fprintf(stderr, "store_seed: %s\n", err);
        return 1;
    }

    now = tt_now_ms();

    memset(&ws, 0, sizeof(ws));
    snprintf(ws.id, TT_ID_SIZE, "ws_bench");
    ws.name = "bench";
    ws.created_at = now;

    if (tt_txn_begin(st, &t, 1) != TT_OK || tt_ws_put(&t, &ws) != TT_OK
        || tt_txn_commit(&t) != TT_OK)
    {
        seed_fail(st, "workspace");
    }

    seed_groups(st, ws.id, groups, spare, now);
    seed_posts(st, ws.id, posts, groups, spare, now);

    printf("%s pg_b%09lu pg_b%09lu\n", ws.id, 0UL, groups - spare);

    tt_store_close(st);

    return 0;
}
