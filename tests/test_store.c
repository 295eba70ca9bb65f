/*
 * Copyright (C) the ngx_tiktok authors.
 * Unit tests of the store on real LMDB files.
 */


#include "tt_test.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <lmdb.h>

#include "tt_store.h"


#define T_KIB  1024
#define T_MIB  (1024 * 1024)


typedef struct {
    char           *dir;
    tt_store_t     *st;
    tt_arena_t     *a;
} t_env_t;


static const uint8_t  t_key1[32] = "0123456789abcdef0123456789abcdef";
static const uint8_t  t_key2[32] = "fedcba9876543210fedcba9876543210";


static int
t_open(t_env_t *e, const uint8_t *key, size_t map, size_t max)
{
    char             err[256];
    tt_store_conf_t  conf;

    memset(&conf, 0, sizeof(conf));
    conf.path = e->dir;
    conf.map_size = map;
    conf.map_max = max;
    conf.max_readers = 16;
    conf.nosync = 1;
    conf.token_key = key;

    err[0] = '\0';
    return tt_store_open(&conf, &e->st, err, sizeof(err));
}


/* a new, empty store directory in place of the fixture's */
static void
t_fresh(t_env_t *e)
{
    tt_store_close(e->st);
    e->st = NULL;
    tt_test_rmdir(e->dir);
    e->dir = tt_test_mkdtemp();
}


/* the forked "other process" ended with 0 */
static void
t_child_ok(pid_t pid)
{
    int  status;

    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}


static void
t_reopen(t_env_t *e, const uint8_t *key)
{
    tt_store_close(e->st);
    e->st = NULL;
    assert_int_equal(t_open(e, key, 1 * T_MIB, 64 * T_MIB), TT_OK);
}


static int
t_setup(void **state)
{
    t_env_t  *e;

    e = calloc(1, sizeof(t_env_t));
    assert_non_null(e);

    e->dir = tt_test_mkdtemp();
    e->a = tt_arena_create(4096);
    assert_non_null(e->a);
    assert_int_equal(t_open(e, t_key1, 1 * T_MIB, 64 * T_MIB), TT_OK);

    *state = e;
    return 0;
}


static int
t_teardown(void **state)
{
    t_env_t  *e = *state;

    tt_store_close(e->st);
    tt_arena_destroy(e->a);
    tt_test_rmdir(e->dir);
    free(e);

    return 0;
}


/* entries of a named database, read with LMDB itself: the store closed */
static size_t
t_count(t_env_t *e, const char *db)
{
    MDB_env   *env;
    MDB_txn   *txn;
    MDB_dbi    dbi;
    MDB_stat   ms;

    tt_store_close(e->st);
    e->st = NULL;

    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
    assert_int_equal(mdb_env_open(env, e->dir, MDB_RDONLY, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
    assert_int_equal(mdb_stat(txn, dbi, &ms), 0);
    mdb_txn_abort(txn);
    mdb_env_close(env);

    t_reopen(e, t_key1);

    return ms.ms_entries;
}


static void
t_begin(t_env_t *e, tt_txn_t *t, int write)
{
    assert_int_equal(tt_txn_begin(e->st, t, write), TT_OK);
}


static void
t_commit(tt_txn_t *t)
{
    assert_int_equal(tt_txn_commit(t), TT_OK);
}


static void
t_ws(tt_workspace_t *ws, const char *name, int64_t created)
{
    memset(ws, 0, sizeof(tt_workspace_t));
    assert_int_equal(tt_id_new("ws_", ws->id), TT_OK);
    ws->name = name;
    ws->created_at = created;
}


/* open, close, reopen */

static void
test_open_reopen(void **state)
{
    t_env_t         *e = *state;
    tt_txn_t         t;
    tt_str_t         v;
    tt_workspace_t   ws, got;

    assert_true(tt_store_map_size(e->st) >= 1 * T_MIB);

    t_ws(&ws, "Acme", 1000);
    t_begin(e, &t, 1);
    assert_int_equal(tt_ws_put(&t, &ws), TT_OK);
    assert_int_equal(tt_meta_put(&t, "config", "{}", 2), TT_OK);
    t_commit(&t);

    t_reopen(e, NULL);

    t_begin(e, &t, 0);
    assert_int_equal(tt_ws_get(&t, ws.id, e->a, &got), TT_OK);
    assert_string_equal(got.id, ws.id);
    assert_string_equal(got.name, "Acme");
    assert_int_equal(got.created_at, 1000);
    assert_int_equal(tt_meta_get(&t, "schema", &v), TT_OK);
    tt_test_schema_is(v.data, v.len, TT_SCHEMA_VERSION);
    assert_int_equal(tt_meta_get(&t, "config", &v), TT_OK);
    assert_memory_equal(v.data, "{}", 2);
    assert_int_equal(tt_meta_get(&t, "nope", &v), TT_NOTFOUND);
    tt_txn_abort(&t);
}


static void
test_open_mkdir(void **state)
{
    t_env_t          *e = *state;
    char              path[512], err[256];
    tt_store_t       *st;
    tt_store_conf_t   conf;

    snprintf(path, sizeof(path), "%s/a/b/c", e->dir);

    memset(&conf, 0, sizeof(conf));
    conf.path = path;
    conf.map_size = 100 * T_KIB + 1;          /* not page aligned */
    conf.nosync = 1;

    assert_int_equal(tt_store_open(&conf, &st, err, sizeof(err)), TT_OK);
    assert_int_equal(tt_store_map_size(st) % (size_t) sysconf(_SC_PAGESIZE),
                     0);
    assert_true(tt_store_map_size(st) > 100 * T_KIB);
    assert_int_equal(access(path, F_OK), 0);

    /* growth stops at map_max, which defaults to the map size */
    assert_int_equal(tt_store_grow(st), TT_FULL);
    tt_store_close(st);

    /* a file where the directory should be */
    snprintf(path, sizeof(path), "%s/file", e->dir);
    assert_int_equal(close(creat(path, 0600)), 0);
    snprintf(path, sizeof(path), "%s/file/x", e->dir);
    err[0] = '\0';
    assert_int_not_equal(tt_store_open(&conf, &st, err, sizeof(err)), TT_OK);
    assert_null(st);
    assert_non_null(strstr(err, "file"));
}


static void
test_schema(void **state)
{
    t_env_t  *e = *state;
    int       n;
    char      err[256], next[16], want[64];
    tt_txn_t  t;

    /* one newer than this build's */
    n = snprintf(next, sizeof(next), "%d", TT_SCHEMA_VERSION + 1);
    (void) snprintf(want, sizeof(want),
                    "store schema %d is newer than this build (%d)",
                    TT_SCHEMA_VERSION + 1, TT_SCHEMA_VERSION);

    t_begin(e, &t, 1);
    assert_int_equal(tt_meta_put(&t, "schema", next, (size_t) n), TT_OK);
    t_commit(&t);
    tt_store_close(e->st);
    e->st = NULL;

    err[0] = '\0';
    {
        tt_store_conf_t  conf;

        memset(&conf, 0, sizeof(conf));
        conf.path = e->dir;
        conf.nosync = 1;
        assert_int_equal(tt_store_open(&conf, &e->st, err, sizeof(err)),
                         TT_ERR);
        assert_null(e->st);
        assert_string_equal(err, want);
    }

    /* still refused on a second try: the failure changed nothing */
    assert_int_equal(t_open(e, NULL, T_MIB, T_MIB), TT_ERR);
    assert_null(e->st);
}


static void
test_schema_garbage(void **state)
{
    t_env_t  *e = *state;
    tt_txn_t  t;

    t_begin(e, &t, 1);
    assert_int_equal(tt_meta_put(&t, "schema", "x1", 2), TT_OK);
    t_commit(&t);
    tt_store_close(e->st);
    e->st = NULL;

    assert_int_equal(t_open(e, NULL, T_MIB, T_MIB), TT_ERR);
    assert_null(e->st);
}


/* workspaces */

static void
test_workspaces(void **state)
{
    t_env_t         *e = *state;
    size_t           n, i, seen;
    tt_txn_t         t;
    tt_workspace_t   ws[3], got, *list;

    t_ws(&ws[0], "one", 1);
    t_ws(&ws[1], "two \"quoted\" \xc3\xa9", 2);
    t_ws(&ws[2], "three", 3);

    t_begin(e, &t, 1);
    for (i = 0; i < 3; i++) {
        assert_int_equal(tt_ws_put(&t, &ws[i]), TT_OK);
    }
    t_commit(&t);

    t_begin(e, &t, 0);
    assert_int_equal(tt_ws_get(&t, ws[1].id, e->a, &got), TT_OK);
    assert_string_equal(got.name, ws[1].name);
    assert_int_equal(tt_ws_get(&t, "ws_missing", e->a, &got), TT_NOTFOUND);
    assert_int_equal(tt_ws_get(&t, "ws_this_id_is_far_too_long_for_a_key",
                               e->a, &got),
                     TT_NOTFOUND);
    assert_int_equal(tt_ws_get(&t, "", e->a, &got), TT_NOTFOUND);

    assert_int_equal(tt_ws_list(&t, e->a, &list, &n), TT_OK);
    assert_int_equal(n, 3);
    seen = 0;
    for (i = 0; i < n; i++) {
        seen |= (strcmp(list[i].id, ws[0].id) == 0) << 0;
        seen |= (strcmp(list[i].id, ws[1].id) == 0) << 1;
        seen |= (strcmp(list[i].id, ws[2].id) == 0) << 2;
    }
    assert_int_equal(seen, 7);
    tt_txn_abort(&t);
}


/* API keys */

static void
t_apikey(tt_apikey_t *k, const char *ws_id, const char *pg_id,
    uint8_t hash[32])
{
    char  key[TT_KEY_LEN + 1];

    memset(k, 0, sizeof(tt_apikey_t));
    assert_int_equal(tt_key_new(key), TT_OK);
    tt_sha256(key, TT_KEY_LEN, hash);
    assert_int_equal(tt_id_new("key_", k->id), TT_OK);
    memcpy(k->workspace_id, ws_id, strlen(ws_id) + 1);
    memcpy(k->profile_group_id, pg_id, strlen(pg_id) + 1);
    memcpy(k->hint, key, 7);
    memcpy(k->hint + 7, "\xe2\x80\xa6", 4);
    k->name = "ci";
    k->created_at = 5000;
    k->revoked_at = -1;
}


static void
test_apikeys(void **state)
{
    t_env_t      *e = *state;
    size_t        n;
    uint8_t       h[3][32], other[32];
    tt_txn_t      t;
    tt_apikey_t   k[3], got, *list;

    t_apikey(&k[0], "ws_a", "", h[0]);
    t_apikey(&k[1], "ws_a", "pg_1", h[1]);
    t_apikey(&k[2], "ws_b", "", h[2]);
    memset(other, 7, sizeof(other));

    t_begin(e, &t, 1);
    for (n = 0; n < 3; n++) {
        assert_int_equal(tt_apikey_put(&t, h[n], &k[n]), TT_OK);
    }
    t_commit(&t);

    t_begin(e, &t, 0);
    assert_int_equal(tt_apikey_get(&t, h[1], e->a, &got), TT_OK);
    assert_string_equal(got.id, k[1].id);
    assert_string_equal(got.workspace_id, "ws_a");
    assert_string_equal(got.profile_group_id, "pg_1");
    assert_string_equal(got.hint, k[1].hint);
    assert_string_equal(got.name, "ci");
    assert_int_equal(got.created_at, 5000);
    assert_int_equal(got.revoked_at, -1);
    assert_int_equal(tt_apikey_get(&t, other, e->a, &got), TT_NOTFOUND);

    assert_int_equal(tt_apikey_list(&t, NULL, e->a, &list, &n), TT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(tt_apikey_list(&t, "ws_a", e->a, &list, &n), TT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].workspace_id, "ws_a");
    assert_string_equal(list[1].workspace_id, "ws_a");
    assert_int_equal(tt_apikey_list(&t, "ws_c", e->a, &list, &n), TT_OK);
    assert_int_equal(n, 0);
    tt_txn_abort(&t);

    t_begin(e, &t, 1);
    assert_int_equal(tt_apikey_revoke(&t, k[2].id, 9000), TT_OK);
    assert_int_equal(tt_apikey_revoke(&t, "key_nope", 9000), TT_NOTFOUND);
    t_commit(&t);

    /* revoking twice keeps the first time */
    t_begin(e, &t, 1);
    assert_int_equal(tt_apikey_revoke(&t, k[2].id, 9999), TT_OK);
    t_commit(&t);

    t_begin(e, &t, 0);
    assert_int_equal(tt_apikey_get(&t, h[2], e->a, &got), TT_OK);
    assert_int_equal(got.revoked_at, 9000);
    assert_int_equal(tt_apikey_get(&t, h[0], e->a, &got), TT_OK);
    assert_int_equal(got.revoked_at, -1);
    tt_txn_abort(&t);
}


/* profile groups */

static void
t_group(tt_group_t *g, const char *ws_id, const char *name, int64_t created)
{
    memset(g, 0, sizeof(tt_group_t));
    assert_int_equal(tt_id_new("pg_", g->id), TT_OK);
    memcpy(g->workspace_id, ws_id, strlen(ws_id) + 1);
    g->name = name;
    g->created_at = created;
}


static void
test_groups(void **state)
{
    t_env_t     *e = *state;
    size_t       n;
    tt_txn_t     t;
    tt_group_t   g[4], got, *list;

    t_group(&g[0], "ws_a", "late", 300);
    t_group(&g[1], "ws_a", "early", 100);
    t_group(&g[2], "ws_b", "other", 50);
    t_group(&g[3], "ws_a", "middle", 200);

    t_begin(e, &t, 1);
    for (n = 0; n < 4; n++) {
        assert_int_equal(tt_group_put(&t, &g[n]), TT_OK);
    }
    t_commit(&t);

    t_begin(e, &t, 0);
    assert_int_equal(tt_group_get(&t, g[3].id, e->a, &got), TT_OK);
    assert_string_equal(got.name, "middle");
    assert_string_equal(got.workspace_id, "ws_a");
    assert_int_equal(got.created_at, 200);

    assert_int_equal(tt_group_list(&t, "ws_a", e->a, &list, &n), TT_OK);
    assert_int_equal(n, 3);
    assert_string_equal(list[0].name, "early");
    assert_string_equal(list[1].name, "middle");
    assert_string_equal(list[2].name, "late");
    assert_int_equal(tt_group_list(&t, "ws_b", e->a, &list, &n), TT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(tt_group_list(&t, "ws_z", e->a, &list, &n), TT_OK);
    assert_int_equal(n, 0);
    tt_txn_abort(&t);

    /* a replace moves the index entry: no duplicate, new order */
    g[0].created_at = 10;
    g[0].name = "now first";
    t_begin(e, &t, 1);
    assert_int_equal(tt_group_put(&t, &g[0]), TT_OK);
    assert_int_equal(tt_group_del(&t, g[3].id), TT_OK);
    assert_int_equal(tt_group_del(&t, g[3].id), TT_NOTFOUND);
    t_commit(&t);

    t_begin(e, &t, 0);
    assert_int_equal(tt_group_list(&t, "ws_a", e->a, &list, &n), TT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "now first");
    assert_string_equal(list[1].name, "early");
    assert_int_equal(tt_group_get(&t, g[3].id, e->a, &got), TT_NOTFOUND);
    tt_txn_abort(&t);

    assert_int_equal(t_count(e, "ws_groups"), 3);
    assert_int_equal(t_count(e, "groups"), 3);
}


/* profiles and their sealed tokens */

static void
t_profile(tt_profile_t *p, const char *ws_id, const char *pg_id)
{
    memset(p, 0, sizeof(tt_profile_t));
    assert_int_equal(tt_id_new("prof_", p->id), TT_OK);
    memcpy(p->workspace_id, ws_id, strlen(ws_id) + 1);
    memcpy(p->profile_group_id, pg_id, strlen(pg_id) + 1);
    p->platform = "tiktok";
    p->name = "Nick";
    p->username = "nick";
    p->open_id = pg_id;         /* one account is one profile */
    p->status = TT_PROFILE_EXPIRED;
    p->created_at = 10;
    p->expires_at = 20;
    p->refresh_expires_at = 30;
    p->scope = "video.publish";
    p->access_token = "act.SECRET-ACCESS-TOKEN-1234";
    p->refresh_token = "rft.SECRET-REFRESH-TOKEN-5678";
}


/* whether the bytes occur anywhere in data.mdb */
static int
t_file_has(t_env_t *e, const char *s)
{
    int     found;
    char    path[512];
    char   *data;
    long    len;
    FILE   *f;

    snprintf(path, sizeof(path), "%s/data.mdb", e->dir);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    len = ftell(f);
    assert_true(len > 0);
    rewind(f);
    data = malloc(len);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, len, f), (size_t) len);
    fclose(f);

    found = memmem(data, len, s, strlen(s)) != NULL;
    free(data);

    return found;
}


static void
test_profiles(void **state)
{
    t_env_t       *e = *state;
    size_t         n;
    tt_txn_t       t;
    tt_profile_t   p[3], got, *list;

    t_profile(&p[0], "ws_a", "pg_1");
    t_profile(&p[1], "ws_a", "pg_2");
    t_profile(&p[2], "ws_b", "pg_3");
    p[1].access_token = NULL;
    p[1].refresh_token = NULL;
    p[1].avatar_url = "https://example.com/a.jpg";

    t_begin(e, &t, 1);
    for (n = 0; n < 3; n++) {
        assert_int_equal(tt_profile_put(&t, &p[n]), TT_OK);
    }
    t_commit(&t);

    t_begin(e, &t, 0);
    assert_int_equal(tt_profile_get(&t, p[0].id, e->a, &got), TT_OK);
    assert_string_equal(got.id, p[0].id);
    assert_string_equal(got.workspace_id, "ws_a");
    assert_string_equal(got.profile_group_id, "pg_1");
    assert_string_equal(got.platform, "tiktok");
    assert_string_equal(got.name, "Nick");
    assert_string_equal(got.username, "nick");
    assert_string_equal(got.open_id, "pg_1");
    assert_null(got.avatar_url);
    assert_int_equal(got.status, TT_PROFILE_EXPIRED);
    assert_int_equal(got.created_at, 10);
    assert_int_equal(got.expires_at, 20);
    assert_int_equal(got.refresh_expires_at, 30);
    assert_string_equal(got.scope, "video.publish");
    assert_string_equal(got.access_token, p[0].access_token);
    assert_string_equal(got.refresh_token, p[0].refresh_token);

    assert_int_equal(tt_profile_get(&t, p[1].id, e->a, &got), TT_OK);
    assert_null(got.access_token);
    assert_string_equal(got.avatar_url, "https://example.com/a.jpg");

    assert_int_equal(tt_profile_list(&t, "ws_a", NULL, e->a, &list, &n),
                     TT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(tt_profile_list(&t, "ws_a", "pg_2", e->a, &list, &n),
                     TT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id, p[1].id);
    assert_int_equal(tt_profile_list(&t, NULL, NULL, e->a, &list, &n), TT_OK);
    assert_int_equal(n, 3);
    tt_txn_abort(&t);

    /* sealed: the token is nowhere in the file */
    assert_false(t_file_has(e, "SECRET-ACCESS"));
    assert_false(t_file_has(e, "SECRET-REFRESH"));
    assert_true(t_file_has(e, "video.publish"));

    t_begin(e, &t, 1);
    assert_int_equal(tt_profile_del(&t, p[2].id), TT_OK);
    assert_int_equal(tt_profile_del(&t, p[2].id), TT_NOTFOUND);
    t_commit(&t);

    t_begin(e, &t, 0);
    assert_int_equal(tt_profile_get(&t, p[2].id, e->a, &got), TT_NOTFOUND);
    tt_txn_abort(&t);

    assert_string_equal(tt_profile_status_name(TT_PROFILE_ACTIVE), "active");
    assert_string_equal(tt_profile_status_name(TT_PROFILE_REVOKED),
                        "revoked");
}


static void
test_profile_keys(void **state)
{
    t_env_t       *e = *state;
    size_t         n;
    tt_txn_t       t;
    tt_profile_t   p, got, *list;

    t_profile(&p, "ws_a", "pg_1");

    t_begin(e, &t, 1);
    assert_int_equal(tt_profile_put(&t, &p), TT_OK);
    t_commit(&t);

    /* no key: the module's view, tokens absent, everything else there */
    t_reopen(e, NULL);
    t_begin(e, &t, 1);
    assert_int_equal(tt_profile_get(&t, p.id, e->a, &got), TT_OK);
    assert_null(got.access_token);
    assert_null(got.refresh_token);
    assert_string_equal(got.username, "nick");
    assert_int_equal(tt_profile_put(&t, &p), TT_INVALID);
    p.refresh_token = NULL;
    assert_int_equal(tt_profile_put(&t, &p), TT_INVALID);
    tt_txn_abort(&t);

    /* the wrong key does not open them */
    t_reopen(e, t_key2);
    t_begin(e, &t, 0);
    assert_int_equal(tt_profile_get(&t, p.id, e->a, &got), TT_ERR);
    assert_int_equal(tt_profile_list(&t, NULL, NULL, e->a, &list, &n),
                     TT_ERR);
    tt_txn_abort(&t);

    /* the key set later (the scheduler's way) opens them */
    tt_store_set_token_key(e->st, t_key1);
    t_begin(e, &t, 0);
    assert_int_equal(tt_profile_get(&t, p.id, e->a, &got), TT_OK);
    assert_string_equal(got.access_token, p.access_token);
    tt_txn_abort(&t);

    /* a keyless put without tokens forgets them (brief's contract) */
    tt_store_set_token_key(e->st, NULL);
    t_begin(e, &t, 1);
    p.access_token = NULL;
    p.refresh_token = NULL;
    assert_int_equal(tt_profile_put(&t, &p), TT_OK);
    t_commit(&t);

    tt_store_set_token_key(e->st, t_key1);
    t_begin(e, &t, 0);
    assert_int_equal(tt_profile_get(&t, p.id, e->a, &got), TT_OK);
    assert_null(got.access_token);
    tt_txn_abort(&t);
}


/* posts */

static void
t_post(tt_post_t *p, const char *ws_id, int64_t created, int64_t due)
{
    tt_post_init(p, created);
    assert_int_equal(tt_id_new("p_", p->id), TT_OK);
    memcpy(p->workspace_id, ws_id, strlen(ws_id) + 1);
    p->body = "hello";
    p->body_len = 5;
    p->status = due >= 0 ? TT_POST_SCHEDULED : TT_POST_DRAFT;
    p->draft = due < 0;
    p->scheduled_at = due;
    p->due_at = due;
}


typedef struct {
    char            ids[256][TT_ID_SIZE];
    int64_t         at[256];
    size_t          n;
    size_t          stop;       /* stop after this many, 0 never */
    tt_txn_t       *del;        /* delete each post seen */
} t_seen_t;


static int
t_post_cb(void *ctx, const char *id, const tt_str_t *rec)
{
    t_seen_t        *s = ctx;
    tt_post_peek_t   peek;

    assert_true(s->n < 256);
    assert_int_equal(tt_post_peek(rec->data, rec->len, &peek), TT_OK);
    s->at[s->n] = peek.created_at;
    memcpy(s->ids[s->n++], id, TT_ID_SIZE);

    return s->stop && s->n == s->stop;
}


static int
t_due_cb(void *ctx, int64_t at, const char *id)
{
    t_seen_t  *s = ctx;

    assert_true(s->n < 256);
    s->at[s->n] = at;
    memcpy(s->ids[s->n++], id, TT_ID_SIZE);

    if (s->del != NULL) {
        assert_int_equal(tt_post_del(s->del, id), TT_OK);
    }

    return s->stop && s->n == s->stop;
}


static void
t_iter(t_env_t *e, const char *ws_id, t_seen_t *s)
{
    tt_txn_t  t;

    memset(s, 0, sizeof(t_seen_t));
    t_begin(e, &t, 0);
    assert_int_equal(tt_post_iter(&t, ws_id, t_post_cb, s), TT_OK);
    tt_txn_abort(&t);
}


/* every post once, in id order, in slices of 7 that resume from pos */
static void
t_scan(t_env_t *e)
{
    size_t     i, slices;
    tt_txn_t   t;
    t_seen_t   s, one;
    char       pos[TT_ID_SIZE];

    memset(&s, 0, sizeof(s));
    pos[0] = '\0';
    slices = 0;

    do {
        memset(&one, 0, sizeof(one));
        t_begin(e, &t, 0);
        assert_int_equal(tt_post_scan(&t, pos, 7, t_post_cb, &one), TT_OK);
        tt_txn_abort(&t);

        assert_true(one.n <= 7);
        for (i = 0; i < one.n; i++) {
            memcpy(s.ids[s.n++], one.ids[i], TT_ID_SIZE);
        }

        assert_true(++slices < 100);
    } while (pos[0] != '\0');

    assert_int_equal(s.n, 200);
    for (i = 1; i < s.n; i++) {
        assert_true(strcmp(s.ids[i - 1], s.ids[i]) < 0);
    }

    /* a callback that stops: pos is its post, the next slice goes on */
    memset(&one, 0, sizeof(one));
    one.stop = 2;
    pos[0] = '\0';
    t_begin(e, &t, 0);
    assert_int_equal(tt_post_scan(&t, pos, 50, t_post_cb, &one), TT_OK);
    assert_string_equal(pos, s.ids[1]);
    memset(&one, 0, sizeof(one));
    assert_int_equal(tt_post_scan(&t, pos, 1, t_post_cb, &one), TT_OK);
    tt_txn_abort(&t);
    assert_int_equal(one.n, 1);
    assert_string_equal(one.ids[0], s.ids[2]);
}


static void
t_due(t_env_t *e, int64_t until, t_seen_t *s)
{
    tt_txn_t  t;

    memset(s, 0, sizeof(t_seen_t));
    t_begin(e, &t, 0);
    assert_int_equal(tt_due_iter(&t, until, t_due_cb, s), TT_OK);
    tt_txn_abort(&t);
}


static void
test_posts(void **state)
{
    t_env_t    *e = *state;
    char        id[TT_ID_SIZE];
    int64_t     at;
    t_seen_t    s;
    tt_str_t    raw;
    tt_txn_t    t;
    tt_post_t   p, q, got;

    t_post(&p, "ws_a", 1000, 5000);
    t_post(&q, "ws_b", 2000, -1);

    t_begin(e, &t, 1);
    assert_int_equal(tt_due_first(&t, &at, id), TT_NOTFOUND);
    assert_int_equal(tt_post_put(&t, &p), TT_OK);
    assert_int_equal(tt_post_put(&t, &q), TT_OK);
    t_commit(&t);

    t_begin(e, &t, 0);
    assert_int_equal(tt_post_get(&t, p.id, e->a, &got), TT_OK);
    assert_string_equal(got.id, p.id);
    assert_string_equal(got.workspace_id, "ws_a");
    assert_int_equal(got.body_len, 5);
    assert_memory_equal(got.body, "hello", 5);
    assert_int_equal(got.created_at, 1000);
    assert_int_equal(got.due_at, 5000);
    assert_int_equal(tt_post_get_raw(&t, p.id, &raw), TT_OK);
    assert_true(raw.len > 0);
    assert_int_equal(tt_post_get(&t, "p_missing", e->a, &got), TT_NOTFOUND);
    assert_int_equal(tt_due_first(&t, &at, id), TT_OK);
    assert_int_equal(at, 5000);
    assert_string_equal(id, p.id);
    tt_txn_abort(&t);

    t_iter(e, "ws_a", &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.ids[0], p.id);

    /* replacing moves both index entries */
    p.due_at = 7000;
    p.created_at = 1500;
    t_begin(e, &t, 1);
    assert_int_equal(tt_post_put(&t, &p), TT_OK);
    t_commit(&t);

    t_due(e, INT64_MAX, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.at[0], 7000);
    t_iter(e, "ws_a", &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.at[0], 1500);

    /* off the agenda */
    p.due_at = -1;
    t_begin(e, &t, 1);
    assert_int_equal(tt_post_put(&t, &p), TT_OK);
    t_commit(&t);
    t_due(e, INT64_MAX, &s);
    assert_int_equal(s.n, 0);

    p.due_at = 8000;
    t_begin(e, &t, 1);
    assert_int_equal(tt_post_put(&t, &p), TT_OK);
    t_commit(&t);

    assert_int_equal(t_count(e, "post_terms"), 2);
    assert_int_equal(t_count(e, "due"), 1);

    t_begin(e, &t, 1);
    assert_int_equal(tt_post_del(&t, p.id), TT_OK);
    assert_int_equal(tt_post_del(&t, p.id), TT_NOTFOUND);
    assert_int_equal(tt_post_get(&t, p.id, e->a, &got), TT_NOTFOUND);
    t_commit(&t);

    t_iter(e, "ws_a", &s);
    assert_int_equal(s.n, 0);
    t_iter(e, "ws_b", &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(t_count(e, "post_terms"), 1);
    assert_int_equal(t_count(e, "due"), 0);
    assert_int_equal(t_count(e, "posts"), 1);
}


static void
test_post_order(void **state)
{
    t_env_t    *e = *state;
    size_t      i, n, ndue;
    int64_t     due[200];
    uint32_t    r;
    t_seen_t    s;
    tt_txn_t    t;
    tt_post_t   p;

    /* room for the delete-all transaction's copies of the lists' pages */
    t_fresh(e);
    assert_int_equal(t_open(e, t_key1, 4 * T_MIB, 64 * T_MIB), TT_OK);

    t_begin(e, &t, 1);
    ndue = 0;
    for (i = 0; i < 200; i++) {
        assert_int_equal(tt_random(&r, sizeof(r)), TT_OK);
        due[i] = (i % 5 == 0) ? -1 : (int64_t) (r % 100000);
        ndue += due[i] >= 0;
        t_post(&p, (i % 2) ? "ws_a" : "ws_b", 1000 + (int64_t) i, due[i]);
        assert_int_equal(tt_post_put(&t, &p), TT_OK);
    }
    t_commit(&t);

    t_due(e, INT64_MAX, &s);
    assert_int_equal(s.n, ndue);
    for (i = 1; i < s.n; i++) {
        assert_true(s.at[i - 1] <= s.at[i]);
    }

    /* until is inclusive */
    n = 0;
    for (i = 0; i < 200; i++) {
        n += due[i] >= 0 && due[i] <= s.at[10];
    }
    t_due(e, s.at[10], &s);
    assert_int_equal(s.n, n);

    t_iter(e, "ws_a", &s);
    assert_int_equal(s.n, 100);
    for (i = 0; i < s.n; i++) {
        assert_int_equal(s.at[i], 1000 + 199 - 2 * (int64_t) i);
    }

    memset(&s, 0, sizeof(s));
    s.stop = 3;
    t_begin(e, &t, 0);
    assert_int_equal(tt_post_iter(&t, "ws_b", t_post_cb, &s), TT_OK);
    tt_txn_abort(&t);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.at[0], 1198);

    t_scan(e);

    /* a callback that deletes what it is handed: every one still seen */
    memset(&s, 0, sizeof(s));
    t_begin(e, &t, 1);
    s.del = &t;
    assert_int_equal(tt_due_iter(&t, INT64_MAX, t_due_cb, &s), TT_OK);
    t_commit(&t);
    assert_int_equal(s.n, ndue);

    t_due(e, INT64_MAX, &s);
    assert_int_equal(s.n, 0);
    assert_int_equal(t_count(e, "posts"), 200 - ndue);
}


/* idempotency */

static void
t_idem(tt_idem_t *rec, int64_t expires, const char *body)
{
    memset(rec, 0, sizeof(tt_idem_t));
    memset(rec->hash, 0xab, sizeof(rec->hash));
    rec->route = 3;
    rec->status = 201;
    rec->body.data = body;
    rec->body.len = strlen(body);
    rec->expires_at = expires;
}


static void
test_idem(void **state)
{
    t_env_t    *e = *state;
    char        name[16];
    int64_t     now;
    unsigned    i;
    tt_str_t    k1 = tt_string("retry-1"), k2 = tt_string("retry-2");
    tt_str_t    kn;
    tt_txn_t    t;
    tt_idem_t   rec, got;
    char        big[TT_IDEM_KEY_MAX + 1];
    tt_str_t    kbig;

    /* not the real clock: expiry is decided by the caller's now_ms */
    now = 1700000000000LL;
    memset(big, 'k', sizeof(big));
    kbig.data = big;
    kbig.len = sizeof(big);

    t_begin(e, &t, 1);
    t_idem(&rec, now + TT_IDEM_TTL_MS, "{\"id\":\"p_1\"}");
    assert_int_equal(tt_idem_put(&t, "ws_a", &k1, &rec), TT_OK);
    /* the same key, another workspace: separate */
    t_idem(&rec, now - 1, "{}");
    assert_int_equal(tt_idem_put(&t, "ws_b", &k1, &rec), TT_OK);
    assert_int_equal(tt_idem_put(&t, "ws_a", &kbig, &rec), TT_INVALID);
    kbig.len = TT_IDEM_KEY_MAX;
    t_idem(&rec, now + TT_IDEM_TTL_MS, "{}");
    assert_int_equal(tt_idem_put(&t, "ws_a", &kbig, &rec), TT_OK);
    t_commit(&t);

    t_begin(e, &t, 0);
    assert_int_equal(tt_idem_get(&t, "ws_a", &k1, now, e->a, &got), TT_OK);
    assert_int_equal(got.route, 3);
    assert_int_equal(got.status, 201);
    assert_int_equal(got.expires_at, now + TT_IDEM_TTL_MS);
    assert_int_equal(got.body.len, 12);
    assert_memory_equal(got.body.data, "{\"id\":\"p_1\"}", 12);
    assert_memory_equal(got.hash, rec.hash, 32);
    assert_int_equal(tt_idem_get(&t, "ws_b", &k1, now, e->a, &got),
                     TT_NOTFOUND);
    assert_int_equal(tt_idem_get(&t, "ws_a", &k2, now, e->a, &got),
                     TT_NOTFOUND);

    /* expired is by the caller's clock: at expires_at and later */
    assert_int_equal(tt_idem_get(&t, "ws_b", &k1, now - 2, e->a, &got),
                     TT_OK);
    assert_int_equal(got.expires_at, now - 1);
    assert_int_equal(tt_idem_get(&t, "ws_b", &k1, now - 1, e->a, &got),
                     TT_NOTFOUND);
    assert_int_equal(tt_idem_get(&t, "ws_a", &k1,
                                 now + TT_IDEM_TTL_MS - 1, e->a, &got),
                     TT_OK);
    assert_int_equal(tt_idem_get(&t, "ws_a", &k1, now + TT_IDEM_TTL_MS,
                                 e->a, &got),
                     TT_NOTFOUND);
    tt_txn_abort(&t);

    /* a replace leaves one expiry entry */
    t_begin(e, &t, 1);
    t_idem(&rec, now + 2 * TT_IDEM_TTL_MS, "{}");
    assert_int_equal(tt_idem_put(&t, "ws_a", &k1, &rec), TT_OK);
    for (i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "old-%u", i);
        kn.data = name;
        kn.len = strlen(name);
        t_idem(&rec, now - 1000 + i, "{}");
        assert_int_equal(tt_idem_put(&t, "ws_c", &kn, &rec), TT_OK);
    }
    t_commit(&t);

    assert_int_equal(t_count(e, "idem"), 8);
    assert_int_equal(t_count(e, "idem_exp"), 8);

    /* purge: oldest first, at most max, never the live ones */
    t_begin(e, &t, 1);
    assert_int_equal(tt_idem_purge(&t, now, 2), TT_OK);
    t_commit(&t);
    assert_int_equal(t_count(e, "idem"), 6);

    t_begin(e, &t, 1);
    assert_int_equal(tt_idem_purge(&t, now, 100), TT_OK);
    t_commit(&t);
    assert_int_equal(t_count(e, "idem"), 2);
    assert_int_equal(t_count(e, "idem_exp"), 2);

    t_begin(e, &t, 0);
    assert_int_equal(tt_idem_get(&t, "ws_a", &k1, now, e->a, &got), TT_OK);
    assert_int_equal(tt_idem_get(&t, "ws_a", &kbig, now, e->a, &got), TT_OK);
    tt_txn_abort(&t);

    t_begin(e, &t, 1);
    assert_int_equal(tt_idem_purge(&t, now + 3 * TT_IDEM_TTL_MS, 100),
                     TT_OK);
    t_commit(&t);
    assert_int_equal(t_count(e, "idem"), 0);
    assert_int_equal(t_count(e, "idem_exp"), 0);
}


/* map growth */

static int
t_fill(tt_store_t *st, unsigned i)
{
    int       rc;
    char      name[32], val[1024];
    tt_txn_t  t;

    snprintf(name, sizeof(name), "fill-%06u", i);
    memset(val, 'a' + i % 26, sizeof(val));

    rc = tt_txn_begin(st, &t, 1);
    if (rc != TT_OK) {
        return rc;
    }

    tt_meta_put(&t, name, val, sizeof(val));

    return tt_txn_commit(&t);
}


static void
test_grow(void **state)
{
    t_env_t   *e = *state;
    int        rc;
    size_t     size;
    unsigned   i, full;

    t_fresh(e);

    assert_int_equal(t_open(e, NULL, 64 * T_KIB, 64 * T_MIB), TT_OK);
    size = tt_store_map_size(e->st);
    assert_int_equal(size, 64 * T_KIB);

    full = 0;
    for (i = 0; i < 1000; i++) {
        rc = t_fill(e->st, i);
        if (rc == TT_FULL) {
            full++;
            assert_int_equal(tt_store_grow(e->st), TT_OK);
            assert_int_equal(tt_store_map_size(e->st), 2 * size);
            size *= 2;
            rc = t_fill(e->st, i);
        }
        assert_int_equal(rc, TT_OK);
    }

    assert_true(full >= 4);
    assert_true(size >= 1 * T_MIB);
    assert_non_null(tt_store_last_error(e->st));

    /* reopening with the small size keeps the grown map */
    tt_store_close(e->st);
    assert_int_equal(t_open(e, NULL, 64 * T_KIB, 64 * T_MIB), TT_OK);
    assert_true(tt_store_map_size(e->st) >= size);

    /* grows that no write committed yet (the store records a size at a
     * commit) still double, one on another */
    size = tt_store_map_size(e->st);
    assert_int_equal(tt_store_grow(e->st), TT_OK);
    assert_int_equal(tt_store_map_size(e->st), 2 * size);
    assert_int_equal(tt_store_grow(e->st), TT_OK);
    assert_int_equal(tt_store_map_size(e->st), 4 * size);
}


/* migrations: every step in order in one transaction, or none */

static int
t_step_2(tt_txn_t *t)
{
    return tt_meta_put(t, "step-2", "done", 4);
}


static int
t_step_3(tt_txn_t *t)
{
    tt_str_t  v;

    /* steps run in order: 2's work is there for 3 */
    if (tt_meta_get(t, "step-2", &v) != TT_OK) {
        return TT_ERR;
    }

    return tt_meta_put(t, "step-3", "done", 4);
}


static int
t_step_fails(tt_txn_t *t)
{
    (void) tt_meta_put(t, "step-4", "half", 4);
    return TT_ERR;
}


static void
test_migrate(void **state)
{
    t_env_t   *e = *state;
    tt_txn_t   t;
    tt_str_t   v;
    char       err[128];

    static const tt_store_migration_t  steps[] = {
        { 2, t_step_3 }, { 1, t_step_2 }, { 3, t_step_fails }
    };

    /* 1 -> 3: both steps, in order whatever the table's, and the record */
    t_begin(e, &t, 1);
    assert_int_equal(tt_store_migrate_steps(&t, 1, 3, steps, 2, err,
                                            sizeof(err)), TT_OK);
    assert_int_equal(tt_txn_commit(&t), TT_OK);

    t_begin(e, &t, 0);
    assert_int_equal(tt_meta_get(&t, "schema", &v), TT_OK);
    assert_int_equal(v.len, 1);
    assert_memory_equal(v.data, "3", 1);
    assert_int_equal(tt_meta_get(&t, "step-3", &v), TT_OK);
    tt_txn_abort(&t);

    /* a step missing: refused, saying from where */
    t_begin(e, &t, 1);
    assert_int_equal(tt_store_migrate_steps(&t, 3, 4, steps, 2, err,
                                            sizeof(err)), TT_ERR);
    assert_string_equal(err, "no migration from store schema 3");
    tt_txn_abort(&t);

    /* a step that fails: its transaction goes, nothing half-written */
    t_begin(e, &t, 1);
    assert_int_equal(tt_store_migrate_steps(&t, 3, 4, steps, 3, err,
                                            sizeof(err)), TT_ERR);
    assert_string_equal(err, "migration of store schema 3 failed");
    tt_txn_abort(&t);

    t_begin(e, &t, 0);
    assert_int_equal(tt_meta_get(&t, "step-4", &v), TT_NOTFOUND);
    assert_int_equal(tt_meta_get(&t, "schema", &v), TT_OK);
    assert_memory_equal(v.data, "3", 1);
    tt_txn_abort(&t);
}


/*
 * Another process set a larger map (its tiktok_store_map_size, say) and
 * this one's is full at its own maximum: it takes up the larger map
 * rather than failing.  A store opened with no size takes the store's.
 */
static void
test_grow_adopts(void **state)
{
    t_env_t    *e = *state;
    int         rc;
    pid_t       pid;
    unsigned    i;
    tt_store_t *mine;

    t_fresh(e);

    assert_int_equal(t_open(e, NULL, 64 * T_KIB, 64 * T_KIB), TT_OK);
    mine = e->st;
    e->st = NULL;

    pid = fork();
    assert_true(pid >= 0);

    if (pid == 0) {
        if (t_open(e, NULL, 4 * T_MIB, 4 * T_MIB) != TT_OK
            || t_fill(e->st, 0) != TT_OK)
        {
            _exit(2);
        }

        tt_store_close(e->st);
        _exit(0);
    }

    t_child_ok(pid);

    e->st = mine;

    for (i = 1, rc = TT_OK; i < 200 && rc == TT_OK; i++) {
        rc = t_fill(e->st, i);
    }

    assert_int_equal(rc, TT_FULL);
    assert_int_equal(tt_store_grow(e->st), TT_OK);
    assert_int_equal(tt_store_map_size(e->st), 4 * T_MIB);
    assert_int_equal(t_fill(e->st, i - 1), TT_OK);

    /* opened with no size: the store's own, not a default */
    tt_store_close(e->st);
    assert_int_equal(t_open(e, NULL, 0, 0), TT_OK);
    assert_int_equal(tt_store_map_size(e->st), 4 * T_MIB);
}


/* a second process grows the map under this one */
static void
test_resized(void **state)
{
    t_env_t    *e = *state;
    pid_t       pid;
    tt_str_t    v;
    tt_txn_t    t;
    unsigned    i;
    tt_store_t *mine;

    t_fresh(e);

    assert_int_equal(t_open(e, NULL, 64 * T_KIB, 64 * T_MIB), TT_OK);
    mine = e->st;
    e->st = NULL;

    pid = fork();
    assert_true(pid >= 0);

    if (pid == 0) {
        /* the other process: its own env, never the parent's */
        if (t_open(e, NULL, 64 * T_KIB, 64 * T_MIB) != TT_OK) {
            _exit(2);
        }

        for (i = 0; i < 500; i++) {
            if (t_fill(e->st, i) == TT_FULL
                && (tt_store_grow(e->st) != TT_OK
                    || t_fill(e->st, i) != TT_OK))
            {
                _exit(3);
            }
        }

        tt_store_close(e->st);
        _exit(0);
    }

    t_child_ok(pid);

    e->st = mine;

    assert_int_equal(tt_txn_begin(e->st, &t, 0), TT_RESIZED);
    assert_null(t.txn);
    tt_txn_abort(&t);
    assert_int_equal(tt_store_adopt(e->st), TT_OK);
    assert_true(tt_store_map_size(e->st) > 64 * T_KIB);

    t_begin(e, &t, 0);
    assert_int_equal(tt_meta_get(&t, "fill-000499", &v), TT_OK);
    assert_int_equal(v.len, 1024);
    tt_txn_abort(&t);

    /* and it writes at the adopted size */
    assert_int_equal(t_fill(e->st, 500), TT_OK);
}


/* transactions */

static void
test_nested(void **state)
{
    t_env_t         *e = *state;
    tt_txn_t         t, c;
    tt_workspace_t   a, b, d, got;

    t_ws(&a, "a", 1);
    t_ws(&b, "b", 2);
    t_ws(&d, "d", 3);

    t_begin(e, &t, 1);
    assert_int_equal(tt_ws_put(&t, &a), TT_OK);

    assert_int_equal(tt_txn_begin_nested(&t, &c), TT_OK);
    assert_int_equal(tt_ws_put(&c, &b), TT_OK);
    assert_int_equal(tt_ws_get(&c, b.id, e->a, &got), TT_OK);
    tt_txn_abort(&c);

    assert_int_equal(tt_ws_get(&t, b.id, e->a, &got), TT_NOTFOUND);

    assert_int_equal(tt_txn_begin_nested(&t, &c), TT_OK);
    assert_int_equal(tt_ws_put(&c, &d), TT_OK);
    assert_int_equal(tt_txn_commit(&c), TT_OK);
    t_commit(&t);

    t_begin(e, &t, 0);
    assert_int_equal(tt_ws_get(&t, a.id, e->a, &got), TT_OK);
    assert_int_equal(tt_ws_get(&t, b.id, e->a, &got), TT_NOTFOUND);
    assert_int_equal(tt_ws_get(&t, d.id, e->a, &got), TT_OK);

    /* no nesting under a read transaction */
    assert_int_equal(tt_txn_begin_nested(&t, &c), TT_INVALID);
    tt_txn_abort(&t);
}


static void
test_sticky(void **state)
{
    t_env_t         *e = *state;
    tt_txn_t         t;
    tt_workspace_t   a, got;

    t_ws(&a, "a", 1);

    /* a write in a read transaction fails, and so does all that follows */
    t_begin(e, &t, 0);
    assert_int_equal(tt_ws_put(&t, &a), TT_ERR);
    assert_int_equal(tt_ws_get(&t, a.id, e->a, &got), TT_ERR);
    assert_int_equal(tt_txn_commit(&t), TT_ERR);
    assert_null(t.txn);
    tt_txn_abort(&t);

    /* answers are not failures */
    t_begin(e, &t, 1);
    assert_int_equal(tt_ws_get(&t, "ws_nope", e->a, &got), TT_NOTFOUND);
    a.id[0] = '\0';
    assert_int_equal(tt_ws_put(&t, &a), TT_INVALID);
    t_ws(&a, "a", 1);
    assert_int_equal(tt_ws_put(&t, &a), TT_OK);
    t_commit(&t);

    t_begin(e, &t, 0);
    assert_int_equal(tt_ws_get(&t, a.id, e->a, &got), TT_OK);
    tt_txn_abort(&t);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_open_reopen, t_setup,
                                        t_teardown),
        cmocka_unit_test_setup_teardown(test_open_mkdir, t_setup,
                                        t_teardown),
        cmocka_unit_test_setup_teardown(test_schema, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_schema_garbage, t_setup,
                                        t_teardown),
        cmocka_unit_test_setup_teardown(test_workspaces, t_setup,
                                        t_teardown),
        cmocka_unit_test_setup_teardown(test_apikeys, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_groups, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_profiles, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_profile_keys, t_setup,
                                        t_teardown),
        cmocka_unit_test_setup_teardown(test_posts, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_post_order, t_setup,
                                        t_teardown),
        cmocka_unit_test_setup_teardown(test_idem, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_grow, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_migrate, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_grow_adopts, t_setup,
                                        t_teardown),
        cmocka_unit_test_setup_teardown(test_resized, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_nested, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_sticky, t_setup, t_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
