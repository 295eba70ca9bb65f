/*
 * Copyright (C) the ngx_tiktok authors.
 * sched_seed: writes a configuration record and posts straight into a
 * store, for trying the scheduler (and benchmarking it) without nginx.
 */

/*
 * sched_seed STORE config KEY=VALUE...
 *     keys: api_base wake_socket spool_dir client_key client_secret_file
 *     token_key_file chunk_size max_uploads max_lateness_ms
 *     refresh_margin_ms spool_quota allow_private_media (1: media URLs
 *     on loopback, e.g. the simulator's /media/)
 * sched_seed STORE post WS_ID PROFILE_ID JSON [FILE]
 *     JSON is the body of POST /api/posts (profiles may be omitted); with
 *     FILE every media is marked processed with FILE as its spool file.
 *     Prints the post id.
 * sched_seed STORE show POST_ID
 *     prints the post as GET /api/posts/:id shows it.
 * sched_seed STORE bulk WS_ID PG_ID DUE_MS FILE USERS [PRIVACY]
 *     USERS has one line per creator: "open_id username access refresh";
 *     makes one profile and one video post due at DUE_MS (epoch ms) per
 *     line, all in one transaction.  Needs TT_TOKEN_KEY_FILE.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tt_store.h"
#include "tt_conf.h"
#include "tt_time.h"


#define SEED_LINE  4096


static tt_store_t  *st;
static tt_arena_t  *arena;


static int
seed_int(const char *v, int64_t *out)
{
    char       *end;
    long long   n;

    errno = 0;
    n = strtoll(v, &end, 10);

    if (errno || end == v || *end) {
        return -1;
    }

    *out = n;
    return 0;
}


static int
seed_config(int argc, char **argv)
{
    tt_conf_t   c;
    tt_buf_t    b;
    tt_txn_t    t;
    char       *eq, *k, *v;
    int         i, rc;

    memset(&c, 0, sizeof(c));
    c.max_uploads = 64;
    c.refresh_margin_ms = 300000;

    for (i = 0; i < argc; i++) {
        k = argv[i];
        eq = strchr(k, '=');
        if (eq == NULL) {
            return 2;
        }

        *eq = '\0';
        v = eq + 1;

        if (strcmp(k, "api_base") == 0) {
            c.api_base = v;
        } else if (strcmp(k, "wake_socket") == 0) {
            c.wake_socket = v;
        } else if (strcmp(k, "spool_dir") == 0) {
            c.spool_dir = v;
        } else if (strcmp(k, "client_key") == 0) {
            c.client_key = v;
        } else if (strcmp(k, "client_secret_file") == 0) {
            c.client_secret_file = v;
        } else if (strcmp(k, "token_key_file") == 0) {
            c.token_key_file = v;
        } else if (strcmp(k, "chunk_size") == 0) {
            rc = seed_int(v, &c.chunk_size);
        } else if (strcmp(k, "max_uploads") == 0) {
            rc = seed_int(v, &c.max_uploads);
        } else if (strcmp(k, "max_lateness_ms") == 0) {
            rc = seed_int(v, &c.max_lateness_ms);
        } else if (strcmp(k, "refresh_margin_ms") == 0) {
            rc = seed_int(v, &c.refresh_margin_ms);
        } else if (strcmp(k, "spool_quota") == 0) {
            rc = seed_int(v, &c.spool_quota);
        } else if (strcmp(k, "allow_private_media") == 0) {
            c.allow_private_media = (strcmp(v, "1") == 0);
        } else {
            fprintf(stderr, "unknown key %s\n", k);
            return 2;
        }
    }

    c.store_path = "";

    tt_buf_init(&b);

    if (tt_conf_encode(&c, &b) != TT_OK || tt_txn_begin(st, &t, 1) != TT_OK)
    {
        return 1;
    }

    (void) tt_meta_put(&t, "config", b.data, b.len);
    rc = tt_txn_commit(&t);
    tt_buf_free(&b);

    return rc == TT_OK ? 0 : 1;
}


static int
seed_post(int argc, char **argv)
{
    tt_post_input_t   in;
    tt_errors_t       errs;
    tt_json_t        *root;
    tt_post_t         p;
    tt_txn_t          t;
    struct stat       sb;
    char              err[256];
    size_t            i;
    int64_t           now;

    if (argc < 3) {
        return 2;
    }

    root = tt_json_parse(arena, argv[2], strlen(argv[2]), err, sizeof(err));
    if (root == NULL) {
        fprintf(stderr, "json: %s\n", err);
        return 1;
    }

    tt_errors_init(&errs, arena);
    memset(&in, 0, sizeof(in));

    now = tt_now_ms();

    if (tt_post_input_parse(root, 0, "", &in, &errs, arena) != TT_OK) {
        goto invalid;
    }

    memcpy(in.profile_id, argv[1], strlen(argv[1]) + 1);

    tt_post_init(&p, now);
    memcpy(p.workspace_id, argv[0], strlen(argv[0]) + 1);
    if (tt_id_new("p_", p.id) != TT_OK) {
        return 1;
    }

    if (tt_post_apply(&p, &in, now, "", &errs, arena) != TT_OK) {
        goto invalid;
    }

    if (argc > 3) {
        if (stat(argv[3], &sb) != 0) {
            perror(argv[3]);
            return 1;
        }

        for (i = 0; i < p.nmedia; i++) {
            p.media[i].status = TT_MEDIA_PROCESSED;
            p.media[i].spool_path = argv[3];
            p.media[i].size = sb.st_size;
            p.media[i].content_type = strstr(argv[3], ".jpg")
                                      ? "image/jpeg" : "video/mp4";
        }

        tt_post_settle(&p, now);
    }

    if (tt_txn_begin(st, &t, 1) != TT_OK) {
        return 1;
    }

    (void) tt_post_put(&t, &p);

    if (tt_txn_commit(&t) != TT_OK) {
        fprintf(stderr, "commit: %s\n", tt_store_last_error(st));
        return 1;
    }

    printf("%s\n", p.id);
    return 0;

invalid:

    for (i = 0; i < errs.n; i++) {
        fprintf(stderr, "%s\n", errs.msgs[i]);
    }

    return 1;
}


static int
seed_bulk_one(tt_txn_t *t, char **argv, char *line, int64_t due,
    int64_t size)
{
    tt_group_t     g;
    tt_profile_t   pr;
    tt_post_t      p;
    tt_platform_t *pl;
    tt_media_t    *m;
    char          *f[4], *q;
    int            i, now;

    q = line;

    /* four words separated by blanks */
    for (i = 0; i < 4; i++) {
        q += strspn(q, " \t\n");
        if (*q == '\0') {
            return 1;
        }

        f[i] = q;
        q += strcspn(q, " \t\n");

        if (*q != '\0') {
            *q++ = '\0';
        }
    }

    now = 0;
    memset(&pr, 0, sizeof(pr));
    if (tt_id_new("prof_", pr.id) != TT_OK) {
        return 1;
    }

    /* one TikTok profile per group (the store's rule): a group each */
    memset(&g, 0, sizeof(g));
    if (tt_id_new("pg_", g.id) != TT_OK) {
        return 1;
    }

    memcpy(g.workspace_id, argv[0], strlen(argv[0]) + 1);
    g.name = f[1];
    g.created_at = tt_now_ms();

    if (tt_group_put(t, &g) != TT_OK) {
        return 1;
    }

    memcpy(pr.workspace_id, argv[0], strlen(argv[0]) + 1);
    memcpy(pr.profile_group_id, g.id, sizeof(g.id));
    pr.platform = "tiktok";
    pr.name = f[1];
    pr.username = f[1];
    pr.open_id = f[0];
    pr.access_token = f[2];
    pr.refresh_token = f[3];
    pr.created_at = tt_now_ms();
    pr.expires_at = pr.created_at + 86400000LL;
    pr.refresh_expires_at = pr.created_at + 86400000LL * 365;
    pr.scope = "video.publish,video.upload";

    tt_post_init(&p, pr.created_at + now);
    if (tt_id_new("p_", p.id) != TT_OK) {
        return 1;
    }

    pl = tt_arena_calloc(arena, sizeof(tt_platform_t));
    m = tt_arena_calloc(arena, sizeof(tt_media_t));
    if (pl == NULL || m == NULL || tt_id_new("m_", m->id) != TT_OK) {
        return 1;
    }

    memcpy(p.workspace_id, argv[0], strlen(argv[0]) + 1);
    memcpy(p.profile_group_id, g.id, sizeof(g.id));
    p.body = "bench";
    p.body_len = 5;
    p.scheduled_at = due;
    p.media = m;
    p.nmedia = 1;
    p.platforms = pl;
    p.nplatforms = 1;

    m->status = TT_MEDIA_PROCESSED;
    m->source_url = "http://127.0.0.1/bench.mp4";
    m->content_type = "video/mp4";
    m->spool_path = argv[3];
    m->size = size;
    m->width = -1;
    m->height = -1;
    m->duration_ms = -1;
    m->frame_rate = -1;

    memcpy(pl->profile_id, pr.id, sizeof(pr.id));
    pl->params.privacy = TT_PRIVACY_SELF;
    pl->params.video_cover_timestamp_ms = -1;
    pl->attempted_at = -1;
    pl->next_attempt_at = -1;
    pl->upload_expires_at = -1;

    tt_post_settle(&p, pr.created_at);

    if (tt_profile_put(t, &pr) != TT_OK || tt_post_put(t, &p) != TT_OK) {
        return 1;
    }

    return 0;
}


static int
seed_bulk(int argc, char **argv)
{
    FILE        *fp;
    tt_txn_t     t;
    tt_str_t     key;
    uint8_t      raw[32];
    struct stat  sb;
    char         line[SEED_LINE], hex[3];
    const char  *kf;
    int64_t      due;
    int          i, n;

    if (argc < 5 || seed_int(argv[2], &due) != 0 || stat(argv[3], &sb) != 0)
    {
        return 2;
    }

    kf = getenv("TT_TOKEN_KEY_FILE");
    if (kf == NULL || tt_read_secret(kf, arena, &key) != TT_OK
        || key.len != 64)
    {
        fprintf(stderr, "TT_TOKEN_KEY_FILE: 64 hex characters needed\n");
        return 1;
    }

    for (i = 0; i < 32; i++) {
        hex[0] = key.data[2 * i];
        hex[1] = key.data[2 * i + 1];
        hex[2] = '\0';
        raw[i] = (uint8_t) strtoul(hex, NULL, 16);
    }

    tt_store_set_token_key(st, raw);

    fp = fopen(argv[4], "r");
    if (fp == NULL || tt_txn_begin(st, &t, 1) != TT_OK) {
        return 1;
    }

    n = 0;

    while (fgets(line, sizeof(line), fp)) {
        if (seed_bulk_one(&t, argv, line, due, sb.st_size) != 0) {
            fprintf(stderr, "line %d failed\n", n + 1);
            tt_txn_abort(&t);
            fclose(fp);
            return 1;
        }
        n++;
    }

    fclose(fp);

    if (tt_txn_commit(&t) != TT_OK) {
        fprintf(stderr, "commit: %s\n", tt_store_last_error(st));
        return 1;
    }

    printf("%d posts\n", n);
    return 0;
}


static int
seed_show(const char *id)
{
    tt_txn_t   t;
    tt_post_t  p;
    tt_buf_t   b;
    tt_jw_t    w;
    int        rc;

    if (tt_txn_begin(st, &t, 0) != TT_OK) {
        return 1;
    }

    rc = tt_post_get(&t, id, arena, &p);
    tt_txn_abort(&t);

    if (rc != TT_OK) {
        fprintf(stderr, "no such post\n");
        return 1;
    }

    tt_buf_init(&b);
    if (tt_jw_init(&w, &b) != TT_OK) {
        return 1;
    }

    tt_post_render(&w, &p);
    if (tt_jw_finish(&w) != TT_OK) {
        return 1;
    }

    printf("%.*s\n", (int) b.len, b.data);
    tt_buf_free(&b);

    return 0;
}


int
main(int argc, char **argv)
{
    tt_store_conf_t  sc;
    char             err[256];
    int              rc;

    if (argc < 3) {
        fprintf(stderr, "usage: sched_seed STORE config|post|show ...\n");
        return 2;
    }

    memset(&sc, 0, sizeof(sc));
    sc.path = argv[1];
    sc.map_size = 64 * 1024 * 1024;
    sc.map_max = (size_t) 4 * 1024 * 1024 * 1024;
    sc.max_readers = 126;

    arena = tt_arena_create(16384);

    if (arena == NULL || tt_store_open(&sc, &st, err, sizeof(err)) != TT_OK)
    {
        fprintf(stderr, "store: %s\n", err);
        return 1;
    }

    if (strcmp(argv[2], "config") == 0) {
        rc = seed_config(argc - 3, argv + 3);

    } else if (strcmp(argv[2], "post") == 0) {
        rc = seed_post(argc - 3, argv + 3);

    } else if (strcmp(argv[2], "bulk") == 0) {
        rc = seed_bulk(argc - 3, argv + 3);

    } else if (strcmp(argv[2], "show") == 0 && argc == 4) {
        rc = seed_show(argv[3]);

    } else {
        rc = 2;
    }

    tt_store_close(st);
    tt_arena_destroy(arena);

    return rc;
}
