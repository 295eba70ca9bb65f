/*
 * Copyright (C) the ngx_tiktok authors.
 * The configuration nginx recorded in the store (meta "config"), read at
 * start and followed while running: nginx writes the record at start and
 * at each reload, and the scheduler looks at it every second (and at each
 * wake-up), so that a reloaded directive is used for new work within a
 * second, without a restart.  Who must hear of a change registers
 * (sched_conf_on_change).
 */

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "sched.h"


#define SCHED_CONF_CHECK_MS  1000


static int sched_conf_read(sched_t *s, tt_arena_t *a, tt_conf_t *c,
    uint8_t hash[32], int *same);
static int sched_conf_secret(sched_t *s, const char *path, tt_arena_t *a,
    tt_str_t *out);
static void sched_conf_note(const char *path, struct stat *st);
static void sched_conf_apply(sched_t *s, tt_conf_t *c, tt_arena_t *a);
static void sched_conf_kept(const char *name, const char *old,
    const char *new);


/*
 * The record, decoded into a; *same when its bytes are the ones last
 * applied (s->conf_hash), and then nothing is decoded.
 */
static int
sched_conf_read(sched_t *s, tt_arena_t *a, tt_conf_t *c, uint8_t hash[32],
    int *same)
{
    tt_txn_t   t, *use;
    tt_str_t   v;
    int        rc;

    *same = 0;

    if (sched_read_begin(s, &t, &use) != SCHED_OK) {
        return SCHED_ERR;
    }

    rc = tt_meta_get(use, "config", &v);

    if (rc == TT_NOTFOUND) {
        sched_read_end(s, &t, use);
        sched_log(SCHED_LOG_ERR, "no configuration in the store: start "
                  "nginx with the tiktok module first");
        return SCHED_ERR;
    }

    if (rc == TT_OK) {
        rc = tt_sha256(v.data, v.len, hash);
    }

    if (rc == TT_OK && memcmp(hash, s->conf_hash, 32) == 0) {
        sched_read_end(s, &t, use);
        *same = 1;
        return SCHED_OK;
    }

    if (rc == TT_OK) {
        rc = tt_conf_decode(v.data, v.len, a, c);
    }

    sched_read_end(s, &t, use);

    if (rc != TT_OK) {
        sched_log(SCHED_LOG_ERR, "the configuration in the store is "
                  "unreadable (%d)", rc);
        return SCHED_ERR;
    }

    if (c->api_base == NULL || c->client_key == NULL) {
        sched_log(SCHED_LOG_ERR, "the configuration lacks "
                  "tiktok_api_base or tiktok_client_key");
        return SCHED_ERR;
    }

    /* the module records what nginx.conf says; unset is its default */
    if (c->max_uploads <= 0) {
        c->max_uploads = TT_MAX_UPLOADS_DEFAULT;
    }

    if (c->stats_interval_ms <= 0) {
        c->stats_interval_ms = TT_STATS_INTERVAL_DEFAULT;
    }

    if (c->refresh_margin_ms <= 0) {
        c->refresh_margin_ms = TT_REFRESH_MARGIN_DEFAULT;
    }

    return SCHED_OK;
}


static int
sched_conf_secret(sched_t *s, const char *path, tt_arena_t *a, tt_str_t *out)
{
    if (path == NULL || tt_read_secret(path, a, out) != TT_OK) {
        sched_log(SCHED_LOG_ERR, "cannot read the client secret file "
                  "\"%s\": %s", path ? path : "(unset)", strerror(errno));
        return SCHED_ERR;
    }

    return SCHED_OK;
}


/* the secret file's identity, to see it replaced or rewritten */
static void
sched_conf_note(const char *path, struct stat *st)
{
    if (path == NULL || stat(path, st) == -1) {
        memset(st, 0, sizeof(struct stat));
    }
}


int
sched_conf_load(sched_t *s)
{
    uint8_t       hash[32];
    char          err[512];
    int           same;
    tt_keyring_t  ring;

    s->conf_arena = tt_arena_create(4096);
    if (s->conf_arena == NULL) {
        sched_log(SCHED_LOG_ERR, "out of memory");
        return SCHED_ERR;
    }

    if (sched_conf_read(s, s->conf_arena, &s->conf, hash, &same)
        != SCHED_OK)
    {
        return SCHED_ERR;
    }

    memcpy(s->conf_hash, hash, sizeof(hash));

    if (s->conf.token_key_file == NULL) {
        sched_log(SCHED_LOG_ERR, "no tiktok_token_key_file in nginx.conf");
        return SCHED_ERR;
    }

    /* every key of the file opens, the first seals */
    if (tt_keyring_read(s->conf.token_key_file, &ring, err, sizeof(err))
        != TT_OK)
    {
        sched_log(SCHED_LOG_ERR, "%s", err);
        return SCHED_ERR;
    }

    tt_store_set_token_keys(s->store, &ring, 1);
    tt_keyring_clear(&ring);

    sched_conf_note(s->conf.client_secret_file, &s->secret_st);

    return sched_conf_secret(s, s->conf.client_secret_file, s->conf_arena,
                             &s->client_secret);
}


/*
 * Every second and at each wake-up: a new record (nginx -s reload) is
 * applied; a rewritten client secret file is read again.  The loop's
 * tick, before the agenda's scan that may start new work.
 */
static void
sched_conf_check(sched_t *s, int64_t now, void *data)
{
    tt_conf_t    c;
    tt_arena_t  *a;
    uint8_t      hash[32];
    int          same;
    struct stat  st;

    if (now < s->next_conf_check && !s->scan_wanted) {
        return;
    }

    s->next_conf_check = now + SCHED_CONF_CHECK_MS;

    a = tt_arena_create(4096);
    if (a == NULL) {
        return;
    }

    memset(&c, 0, sizeof(c));

    if (sched_conf_read(s, a, &c, hash, &same) != SCHED_OK) {
        tt_arena_destroy(a);
        return;
    }

    if (same) {
        sched_conf_note(s->conf.client_secret_file, &st);

        /* to the nanosecond, and ctime too: a rewrite in place of the
         * same length within a second still shows */
        if (st.st_ino == s->secret_st.st_ino
            && st.st_size == s->secret_st.st_size
            && st.st_mtim.tv_sec == s->secret_st.st_mtim.tv_sec
            && st.st_mtim.tv_nsec == s->secret_st.st_mtim.tv_nsec
            && st.st_ctim.tv_sec == s->secret_st.st_ctim.tv_sec
            && st.st_ctim.tv_nsec == s->secret_st.st_ctim.tv_nsec)
        {
            tt_arena_destroy(a);
            return;
        }

        /* the same settings: the secret file changed under them */
        c = s->conf;
    }

    memcpy(s->conf_hash, hash, sizeof(hash));
    sched_conf_apply(s, &c, a);
}


/* a setting only a restart changes: said once, when it changes */
static void
sched_conf_kept(const char *name, const char *old, const char *new)
{
    if (old == NULL || new == NULL || strcmp(old, new) == 0) {
        return;
    }

    sched_log(SCHED_LOG_WARN, "%s changed to \"%s\": the scheduler keeps "
              "\"%s\" until it is restarted", name, new, old);
}


/* c's strings copied into a, with what only a restart changes: old's */
static int
sched_conf_copy(tt_conf_t *c, const tt_conf_t *o, tt_arena_t *a)
{
    tt_conf_t  old;

    old = *o;

    /* what only a restart changes: the socket, the spool, the store */
    c->store_path = old.store_path
                    ? tt_arena_strndup(a, old.store_path,
                                       strlen(old.store_path))
                    : NULL;
    c->wake_socket = old.wake_socket
                     ? tt_arena_strndup(a, old.wake_socket,
                                        strlen(old.wake_socket))
                     : NULL;
    c->spool_dir = old.spool_dir
                   ? tt_arena_strndup(a, old.spool_dir, strlen(old.spool_dir))
                   : NULL;
    c->token_key_file = old.token_key_file
                        ? tt_arena_strndup(a, old.token_key_file,
                                           strlen(old.token_key_file))
                        : NULL;
    c->api_base = tt_arena_strndup(a, c->api_base, strlen(c->api_base));
    c->client_key = tt_arena_strndup(a, c->client_key, strlen(c->client_key));
    c->auth_url = c->auth_url ? tt_arena_strndup(a, c->auth_url,
                                                 strlen(c->auth_url))
                              : NULL;
    c->client_secret_file = c->client_secret_file
                            ? tt_arena_strndup(a, c->client_secret_file,
                                               strlen(c->client_secret_file))
                            : NULL;

    if (c->api_base == NULL || c->client_key == NULL
        || (old.store_path && c->store_path == NULL)
        || (old.wake_socket && c->wake_socket == NULL)
        || (old.spool_dir && c->spool_dir == NULL)
        || (old.token_key_file && c->token_key_file == NULL))
    {
        return SCHED_ERR;
    }

    return SCHED_OK;
}


/*
 * c, decoded in a, replaces s->conf; a becomes s->conf_arena.  The
 * listener hears of it with the old settings (their numbers: the old
 * arena is gone).
 */
static void
sched_conf_apply(sched_t *s, tt_conf_t *c, tt_arena_t *a)
{
    tt_str_t   secret;
    tt_conf_t  old;

    old = s->conf;

    sched_conf_kept("tiktok_wake_socket", old.wake_socket, c->wake_socket);
    sched_conf_kept("tiktok_spool", old.spool_dir, c->spool_dir);
    sched_conf_kept("tiktok_token_key_file", old.token_key_file,
                    c->token_key_file);

    if (sched_conf_copy(c, &old, a) != SCHED_OK) {
        sched_log(SCHED_LOG_ERR, "out of memory: the new configuration "
                  "waits for the next check");
        memset(s->conf_hash, 0, sizeof(s->conf_hash));
        tt_arena_destroy(a);
        return;
    }

    sched_conf_note(c->client_secret_file, &s->secret_st);

    if (sched_conf_secret(s, c->client_secret_file, a, &secret) != SCHED_OK) {
        /* the old secret goes on: the refreshes it signs may still work */
        secret.data = tt_arena_strndup(a, s->client_secret.data,
                                       s->client_secret.len);
        secret.len = s->client_secret.len;
    }

    if (s->client_secret.data) {
        memset((char *) s->client_secret.data, 0, s->client_secret.len);
    }

    s->conf = *c;
    s->client_secret = secret;
    tt_arena_destroy(s->conf_arena);
    s->conf_arena = a;

    if (s->conf.map_max > 0) {
        tt_store_set_map_max(s->store, (size_t) s->conf.map_max);
    }

    sched_log(SCHED_LOG_INFO, "configuration applied: api \"%s\", chunk "
              "size %lld, %lld uploads at most, refresh margin %lld s, "
              "lateness %lld s", s->conf.api_base,
              (long long) s->conf.chunk_size, (long long) s->conf.max_uploads,
              (long long) (s->conf.refresh_margin_ms / 1000),
              (long long) (s->conf.max_lateness_ms / 1000));

    /* more upload slots may let waiting uploads in, for one */
    if (s->conf_change) {
        s->conf_change(s, &old, s->conf_change_data);
    }
}


static int64_t
sched_conf_next(sched_t *s, void *data)
{
    return s->next_conf_check;
}


int
sched_conf_init(sched_t *s)
{
    sched_hook_t  h = { "conf", sched_conf_check, sched_conf_next, NULL,
                        NULL };

    return sched_loop_hook(s, &h);
}


void
sched_conf_on_change(sched_t *s, sched_conf_change_pt h, void *data)
{
    s->conf_change = h;
    s->conf_change_data = data;
}


void
sched_conf_free(sched_t *s)
{
    if (s->client_secret.data) {
        memset((char *) s->client_secret.data, 0, s->client_secret.len);
        s->client_secret.data = NULL;
    }

    if (s->conf_arena) {
        tt_arena_destroy(s->conf_arena);
        s->conf_arena = NULL;
    }
}
