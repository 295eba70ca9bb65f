/*
 * Copyright (C) the ngx_tiktok authors.
 * tiktok-admin: workspaces, groups, API keys and profiles from a shell.
 */


#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "tt_conf.h"
#include "tt_store.h"
#include "tt_time.h"
#include "tiktok_admin.h"


/* a write that keeps meeting a full or resized map gives up after this */
#define ADMIN_RETRIES  8


typedef struct {
    const char     *object;
    const char     *verb;
    admin_cmd_pt    handler;
} admin_cmd_t;


static const char  admin_usage_text[] =
    "usage: tiktok-admin -s STORE_DIR [-k TOKEN_KEY_FILE] COMMAND\n"
    "\n"
    "commands:\n"
    "  workspace create NAME        prints the workspace id; also creates\n"
    "                               the profile group \"Default\"\n"
    "  workspace list               id, name, created\n"
    "  group create WS_ID NAME      prints the profile group id\n"
    "  group list WS_ID             id, name, created\n"
    "  key create WS_ID [--group PG_ID] [--name NAME]\n"
    "                               prints the new API key, once: only its\n"
    "                               SHA-256 is stored\n"
    "  key list [WS_ID]             id, hint, workspace, group or \"full\",\n"
    "                               created, revoked or \"-\", name\n"
    "  key revoke KEY_ID\n"
    "  profile add PG_ID --open-id X --username U --name N\n"
    "        --access-token A --refresh-token R --expires-in SEC\n"
    "        --refresh-expires-in SEC [--scope S]\n"
    "                               needs -k; prints the profile id\n"
    "  profile list [WS_ID]         id, workspace, group, username, name,\n"
    "                               status, expires (never a token)\n"
    "  profile update PROF_ID [--access-token A --refresh-token R\n"
    "        --expires-in SEC --refresh-expires-in SEC] [--scope S]\n"
    "        [--username U] [--name N]\n"
    "                               needs -k; new tokens: active again\n"
    "  profile remove PROF_ID       the profile and its tokens; the access\n"
    "                               token is revoked at TikTok by the\n"
    "                               scheduler\n"
    "  token-keys reseal            needs -k; seals every token and webhook\n"
    "                               secret again with the key file's first\n"
    "                               key\n"
    "  backup DIR                   a hot, compacted copy of the store in\n"
    "                               DIR (new or empty) while it is in use\n"
    "  restore BACKUP_DIR [--force] makes BACKUP_DIR's copy the store;\n"
    "                               refused while any process has the\n"
    "                               store open; --force replaces a store\n"
    "                               (kept as data.mdb.old)\n"
    "\n"
    "TOKEN_KEY_FILE holds 64 hex characters (tiktok_token_key_file), or\n"
    "several lines \"ID HEX\": the first seals, every one opens.\n"
    "Lists are tab-separated.  Exit status: 0 done, 1 failed, 2 usage.\n";


void
admin_usage(void)
{
    fputs(admin_usage_text, stderr);
}


int
admin_error(const char *fmt, ...)
{
    va_list  ap;

    fputs("tiktok-admin: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);

    return ADMIN_FAIL;
}


const char *
admin_rc_text(admin_t *ad, int rc)
{
    switch (rc) {
    case TT_NOTFOUND:
        return "not found";
    case TT_EXISTS:
        return "already exists";
    case TT_INVALID:
        return "invalid input";
    case TT_NOMEM:
        return "out of memory";
    case TT_FULL:
        return "the store is full (map at its maximum size)";
    default:
        return tt_store_last_error(ad->st);
    }
}


static void
admin_time(int64_t ms, char buf[TT_TIME_LEN + 1])
{
    if (ms < 0) {
        buf[0] = '-';
        buf[1] = '\0';
        return;
    }

    tt_time_format(ms, buf);
}


/* the store */

static int
admin_token_key(admin_t *ad, tt_keyring_t *ring)
{
    char  err[512];

    if (tt_keyring_read(ad->key_file, ring, err, sizeof(err)) != TT_OK) {
        return admin_error("%s", err);
    }

    return ADMIN_OK;
}


/* the map grows no further than tiktok_store_map_size, as nginx said */
static void
admin_map_max(admin_t *ad)
{
    tt_txn_t     t;
    tt_str_t     v;
    tt_conf_t    c;
    tt_arena_t  *a;

    if (tt_txn_begin(ad->st, &t, 0) != TT_OK) {
        return;
    }

    a = tt_arena_create(1024);

    if (a != NULL && tt_meta_get(&t, "config", &v) == TT_OK
        && tt_conf_decode(v.data, v.len, a, &c) == TT_OK && c.map_max > 0)
    {
        tt_store_set_map_max(ad->st, (size_t) c.map_max);
    }

    tt_txn_abort(&t);
    tt_arena_destroy(a);
}


int
admin_open(admin_t *ad, int need_key)
{
    int              rc;
    char             err[512];
    tt_keyring_t     ring;
    tt_store_conf_t  conf;

    /* the map as nginx made it (LMDB's default for a new store) */
    memset(&conf, 0, sizeof(conf));
    conf.path = ad->store_path;

    if (need_key) {
        if (ad->key_file == NULL) {
            return admin_error("this command needs the token key (-k)");
        }

        if (admin_token_key(ad, &ring) != ADMIN_OK) {
            return ADMIN_FAIL;
        }

        conf.token_keys = &ring;
    }

    err[0] = '\0';
    rc = tt_store_open(&conf, &ad->st, err, sizeof(err));
    tt_keyring_clear(&ring);

    if (rc != TT_OK) {
        return admin_error("%s", err);
    }

    admin_map_max(ad);

    return ADMIN_OK;
}


/* a write transaction, retried when the map is full or was resized */
int
admin_write(admin_t *ad, admin_txn_pt fn, void *ctx)
{
    int       rc, i;
    tt_txn_t  t;

    for (i = 0; i < ADMIN_RETRIES; i++) {
        rc = tt_txn_begin(ad->st, &t, 1);
        if (rc == TT_OK) {
            rc = fn(ad, &t, ctx);
            rc = (rc == TT_OK) ? tt_txn_commit(&t) : rc;
            tt_txn_abort(&t);
        }

        if (rc == TT_FULL) {
            rc = tt_store_grow(ad->st);
            if (rc != TT_OK) {
                return rc;
            }

            continue;
        }

        if (rc != TT_RESIZED || tt_store_adopt(ad->st) != TT_OK) {
            return rc;
        }
    }

    return TT_ERR;
}


int
admin_read(admin_t *ad, tt_txn_t *t)
{
    int  rc;

    rc = tt_txn_begin(ad->st, t, 0);

    if (rc == TT_RESIZED && tt_store_adopt(ad->st) == TT_OK) {
        rc = tt_txn_begin(ad->st, t, 0);
    }

    if (rc != TT_OK) {
        return admin_error("cannot read the store: %s", admin_rc_text(ad, rc));
    }

    return ADMIN_OK;
}


/* both a ws and a group of it, checked in the transaction */
static int
admin_check_ws(admin_t *ad, tt_txn_t *t, const char *ws_id)
{
    int             rc;
    tt_workspace_t  ws;

    rc = tt_ws_get(t, ws_id, ad->a, &ws);
    if (rc == TT_NOTFOUND) {
        admin_error("no workspace \"%s\"", ws_id);
    }

    return rc;
}


static int
admin_check_group(admin_t *ad, tt_txn_t *t, const char *pg_id,
    const char *ws_id, tt_group_t *g)
{
    int  rc;

    rc = tt_group_get(t, pg_id, ad->a, g);
    if (rc == TT_NOTFOUND
        || (rc == TT_OK && ws_id != NULL
            && strcmp(g->workspace_id, ws_id) != 0))
    {
        admin_error("no profile group \"%s\"%s%s", pg_id,
                    ws_id ? " in workspace " : "", ws_id ? ws_id : "");
        return TT_NOTFOUND;
    }

    return rc;
}


/* the outcome of a write: a message unless the handler printed one */
int
admin_done(admin_t *ad, int rc, const char *what)
{
    if (rc == TT_OK) {
        return ADMIN_OK;
    }

    if (rc != TT_NOTFOUND) {
        admin_error("%s failed: %s", what, admin_rc_text(ad, rc));
    }

    return ADMIN_FAIL;
}


/* workspaces */

typedef struct {
    tt_workspace_t  ws;
    tt_group_t      group;
} admin_ws_ctx_t;


static int
admin_ws_create_txn(admin_t *ad, tt_txn_t *t, void *ctx)
{
    int              rc;
    admin_ws_ctx_t  *c = ctx;

    rc = tt_ws_put(t, &c->ws);

    return rc == TT_OK ? tt_group_put(t, &c->group) : rc;
}


static int
admin_ws_create(admin_t *ad)
{
    int             rc;
    int64_t         now;
    admin_ws_ctx_t  c;

    if (ad->argc != 2 || ad->argv[1][0] == '\0') {
        admin_usage();
        return ADMIN_USAGE;
    }

    now = tt_now_ms();
    memset(&c, 0, sizeof(c));

    if (tt_id_new("ws_", c.ws.id) != TT_OK
        || tt_id_new("pg_", c.group.id) != TT_OK)
    {
        return admin_error("no randomness for ids");
    }

    c.ws.name = ad->argv[1];
    c.ws.created_at = now;
    memcpy(c.group.workspace_id, c.ws.id, TT_ID_SIZE);
    c.group.name = "Default";
    c.group.created_at = now;

    rc = admin_write(ad, admin_ws_create_txn, &c);
    if (rc != TT_OK) {
        return admin_done(ad, rc, "workspace create");
    }

    printf("%s\n", c.ws.id);
    return ADMIN_OK;
}


static int
admin_ws_list(admin_t *ad)
{
    int              rc;
    char             created[TT_TIME_LEN + 1];
    size_t           i, n;
    tt_txn_t         t;
    tt_workspace_t  *ws;

    if (ad->argc != 1) {
        admin_usage();
        return ADMIN_USAGE;
    }

    if (admin_read(ad, &t) != ADMIN_OK) {
        return ADMIN_FAIL;
    }

    rc = tt_ws_list(&t, ad->a, &ws, &n);

    for (i = 0; rc == TT_OK && i < n; i++) {
        admin_time(ws[i].created_at, created);
        printf("%s\t%s\t%s\n", ws[i].id, ws[i].name, created);
    }

    tt_txn_abort(&t);

    return admin_done(ad, rc, "workspace list");
}


/* groups */

static int
admin_group_create_txn(admin_t *ad, tt_txn_t *t, void *ctx)
{
    int          rc;
    tt_group_t  *g = ctx;

    rc = admin_check_ws(ad, t, g->workspace_id);

    return rc == TT_OK ? tt_group_put(t, g) : rc;
}


static int
admin_group_create(admin_t *ad)
{
    int         rc;
    tt_group_t  g;

    if (ad->argc != 3 || ad->argv[2][0] == '\0') {
        admin_usage();
        return ADMIN_USAGE;
    }

    memset(&g, 0, sizeof(g));

    if (strlen(ad->argv[1]) >= TT_ID_SIZE) {
        return admin_error("no workspace \"%s\"", ad->argv[1]);
    }

    if (tt_id_new("pg_", g.id) != TT_OK) {
        return admin_error("no randomness for ids");
    }

    memcpy(g.workspace_id, ad->argv[1], strlen(ad->argv[1]) + 1);
    g.name = ad->argv[2];
    g.created_at = tt_now_ms();

    rc = admin_write(ad, admin_group_create_txn, &g);
    if (rc != TT_OK) {
        return admin_done(ad, rc, "group create");
    }

    printf("%s\n", g.id);
    return ADMIN_OK;
}


static int
admin_group_list(admin_t *ad)
{
    int          rc;
    char         created[TT_TIME_LEN + 1];
    size_t       i, n;
    tt_txn_t     t;
    tt_group_t  *g;

    if (ad->argc != 2) {
        admin_usage();
        return ADMIN_USAGE;
    }

    if (admin_read(ad, &t) != ADMIN_OK) {
        return ADMIN_FAIL;
    }

    rc = admin_check_ws(ad, &t, ad->argv[1]);
    if (rc == TT_OK) {
        rc = tt_group_list(&t, ad->argv[1], ad->a, &g, &n);
    }

    for (i = 0; rc == TT_OK && i < n; i++) {
        admin_time(g[i].created_at, created);
        printf("%s\t%s\t%s\n", g[i].id, g[i].name, created);
    }

    tt_txn_abort(&t);

    return admin_done(ad, rc, "group list");
}


/* API keys */

typedef struct {
    tt_apikey_t     key;
    uint8_t         hash[32];
} admin_key_ctx_t;


static int
admin_key_create_txn(admin_t *ad, tt_txn_t *t, void *ctx)
{
    int               rc;
    tt_group_t        g;
    admin_key_ctx_t  *c = ctx;

    rc = admin_check_ws(ad, t, c->key.workspace_id);

    if (rc == TT_OK && c->key.profile_group_id[0] != '\0') {
        rc = admin_check_group(ad, t, c->key.profile_group_id,
                               c->key.workspace_id, &g);
    }

    return rc == TT_OK ? tt_apikey_put(t, c->hash, &c->key) : rc;
}


/* parses --group and --name; positional words are left in ad->argv */
static int
admin_key_options(admin_t *ad, const char **group, const char **name)
{
    int                         ch;
    static const struct option  opts[] = {
        { "group", required_argument, NULL, 'g' },
        { "name",  required_argument, NULL, 'n' },
        { NULL, 0, NULL, 0 }
    };

    optind = 0;
    opterr = 0;

    for ( ;; ) {
        ch = getopt_long(ad->argc, ad->argv, "", opts, NULL);
        if (ch == -1) {
            break;
        }

        switch (ch) {
        case 'g':
            *group = optarg;
            break;
        case 'n':
            *name = optarg;
            break;
        default:
            admin_error("bad option \"%s\"", ad->argv[optind - 1]);
            return ADMIN_USAGE;
        }
    }

    return ADMIN_OK;
}


static int
admin_key_create(admin_t *ad)
{
    int               rc;
    char              key[TT_KEY_LEN + 1];
    const char       *group, *name, *ws_id;
    admin_key_ctx_t   c;

    group = NULL;
    name = NULL;

    if (admin_key_options(ad, &group, &name) != ADMIN_OK
        || ad->argc - optind != 1)
    {
        admin_usage();
        return ADMIN_USAGE;
    }

    ws_id = ad->argv[optind];
    memset(&c, 0, sizeof(c));

    if (strlen(ws_id) >= TT_ID_SIZE) {
        return admin_error("no workspace \"%s\"", ws_id);
    }

    if (group != NULL && strlen(group) >= TT_ID_SIZE) {
        return admin_error("no profile group \"%s\"", group);
    }

    if (tt_key_new(key) != TT_OK || tt_id_new("key_", c.key.id) != TT_OK) {
        return admin_error("no randomness for the key");
    }

    if (tt_sha256(key, TT_KEY_LEN, c.hash) != TT_OK) {
        return admin_error("SHA-256 failed");
    }

    memcpy(c.key.workspace_id, ws_id, strlen(ws_id) + 1);
    if (group != NULL) {
        memcpy(c.key.profile_group_id, group, strlen(group) + 1);
    }

    /* "tt_ab12…": enough to tell keys apart, too little to use */
    memcpy(c.key.hint, key, 7);
    memcpy(c.key.hint + 7, "\xe2\x80\xa6", 4);
    c.key.name = name;
    c.key.created_at = tt_now_ms();
    c.key.revoked_at = -1;

    rc = admin_write(ad, admin_key_create_txn, &c);
    if (rc != TT_OK) {
        return admin_done(ad, rc, "key create");
    }

    /* the key alone on stdout, so that scripts can capture it */
    printf("%s\n", key);
    fprintf(stderr, "created %s %s (%s%s)\n", c.key.id, c.key.hint,
            group ? "profile group " : "full access", group ? group : "");
    memset(key, 0, sizeof(key));

    return ADMIN_OK;
}


static int
admin_key_list(admin_t *ad)
{
    int           rc;
    char          created[TT_TIME_LEN + 1], revoked[TT_TIME_LEN + 1];
    size_t        i, n;
    tt_txn_t      t;
    tt_apikey_t  *k;

    if (ad->argc > 2) {
        admin_usage();
        return ADMIN_USAGE;
    }

    if (admin_read(ad, &t) != ADMIN_OK) {
        return ADMIN_FAIL;
    }

    rc = tt_apikey_list(&t, ad->argc == 2 ? ad->argv[1] : NULL, ad->a, &k,
                        &n);

    for (i = 0; rc == TT_OK && i < n; i++) {
        admin_time(k[i].created_at, created);
        admin_time(k[i].revoked_at, revoked);
        printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k[i].id, k[i].hint,
               k[i].workspace_id,
               k[i].profile_group_id[0] ? k[i].profile_group_id : "full",
               created, revoked, k[i].name ? k[i].name : "");
    }

    tt_txn_abort(&t);

    return admin_done(ad, rc, "key list");
}


static int
admin_key_revoke_txn(admin_t *ad, tt_txn_t *t, void *ctx)
{
    return tt_apikey_revoke(t, ctx, tt_now_ms());
}


static int
admin_key_revoke(admin_t *ad)
{
    int  rc;

    if (ad->argc != 2) {
        admin_usage();
        return ADMIN_USAGE;
    }

    rc = admin_write(ad, admin_key_revoke_txn, ad->argv[1]);
    if (rc == TT_NOTFOUND) {
        return admin_error("no key \"%s\"", ad->argv[1]);
    }

    return admin_done(ad, rc, "key revoke");
}


/* profiles */

static int
admin_seconds(const char *opt, const char *s, int64_t *ms)
{
    char       *end;
    long long   v;

    errno = 0;
    v = strtoll(s, &end, 10);

    if (errno != 0 || end == s || *end != '\0' || v <= 0
        || v > INT64_MAX / 1000 / 2)
    {
        admin_error("--%s must be a positive number of seconds", opt);
        return ADMIN_USAGE;
    }

    *ms = (int64_t) v * 1000;
    return ADMIN_OK;
}


int
admin_profile_options(admin_t *ad, tt_profile_t *p, int64_t *exp,
    int64_t *rexp)
{
    int                         ch, rc;
    static const struct option  opts[] = {
        { "open-id",            required_argument, NULL, 'o' },
        { "username",           required_argument, NULL, 'u' },
        { "name",               required_argument, NULL, 'n' },
        { "access-token",       required_argument, NULL, 'a' },
        { "refresh-token",      required_argument, NULL, 'r' },
        { "expires-in",         required_argument, NULL, 'e' },
        { "refresh-expires-in", required_argument, NULL, 'E' },
        { "scope",              required_argument, NULL, 's' },
        { NULL, 0, NULL, 0 }
    };

    optind = 0;
    opterr = 0;
    rc = ADMIN_OK;

    while (rc == ADMIN_OK) {
        ch = getopt_long(ad->argc, ad->argv, "", opts, NULL);

        switch (ch) {
        case -1:
            return ADMIN_OK;
        case 'o':
            p->open_id = optarg;
            break;
        case 'u':
            p->username = optarg;
            break;
        case 'n':
            p->name = optarg;
            break;
        case 'a':
            p->access_token = optarg;
            break;
        case 'r':
            p->refresh_token = optarg;
            break;
        case 'e':
            rc = admin_seconds("expires-in", optarg, exp);
            break;
        case 'E':
            rc = admin_seconds("refresh-expires-in", optarg, rexp);
            break;
        case 's':
            p->scope = optarg;
            break;
        default:
            admin_error("bad option \"%s\"", ad->argv[optind - 1]);
            rc = ADMIN_USAGE;
            break;
        }
    }

    return rc;
}


typedef struct {
    tt_profile_t    prof;
    const char     *group_id;
} admin_prof_ctx_t;


static int
admin_profile_add_txn(admin_t *ad, tt_txn_t *t, void *ctx)
{
    int                rc;
    const char        *why;
    tt_group_t         g;
    tt_profile_t       other;
    admin_prof_ctx_t  *c = ctx;

    rc = admin_check_group(ad, t, c->group_id, NULL, &g);
    if (rc != TT_OK) {
        return rc;
    }

    memcpy(c->prof.workspace_id, g.workspace_id, TT_ID_SIZE);
    memcpy(c->prof.profile_group_id, g.id, TT_ID_SIZE);

    /* a group holds one TikTok profile; an account is one profile */
    rc = tt_profile_check(t, &c->prof, ad->a, &other, &why);

    if (rc == TT_EXISTS) {
        admin_error("%s: profile %s (open id \"%s\")", why, other.id,
                    other.open_id ? other.open_id : "");
        return TT_NOTFOUND;
    }

    return rc == TT_OK ? tt_profile_put(t, &c->prof) : rc;
}


static int
admin_profile_add(admin_t *ad)
{
    int                rc;
    int64_t            now, exp, rexp;
    admin_prof_ctx_t   c;

    memset(&c, 0, sizeof(c));
    exp = -1;
    rexp = -1;

    rc = admin_profile_options(ad, &c.prof, &exp, &rexp);
    if (rc != ADMIN_OK || ad->argc - optind != 1) {
        admin_usage();
        return ADMIN_USAGE;
    }

    if (c.prof.open_id == NULL || c.prof.username == NULL
        || c.prof.name == NULL || c.prof.access_token == NULL
        || c.prof.refresh_token == NULL || exp < 0 || rexp < 0)
    {
        admin_error("profile add needs --open-id, --username, --name, "
                    "--access-token, --refresh-token, --expires-in and "
                    "--refresh-expires-in");
        return ADMIN_USAGE;
    }

    if (admin_open(ad, 1) != ADMIN_OK) {
        return ADMIN_FAIL;
    }

    c.group_id = ad->argv[optind];
    now = tt_now_ms();

    if (tt_id_new("prof_", c.prof.id) != TT_OK) {
        return admin_error("no randomness for ids");
    }

    c.prof.platform = "tiktok";
    c.prof.status = TT_PROFILE_ACTIVE;
    c.prof.created_at = now;
    c.prof.expires_at = now + exp;
    c.prof.refresh_expires_at = now + rexp;

    rc = admin_write(ad, admin_profile_add_txn, &c);
    if (rc != TT_OK) {
        return admin_done(ad, rc, "profile add");
    }

    printf("%s\n", c.prof.id);
    return ADMIN_OK;
}


static int
admin_profile_list(admin_t *ad)
{
    int            rc;
    char           expires[TT_TIME_LEN + 1];
    size_t         i, n;
    tt_txn_t       t;
    tt_profile_t  *p;

    if (ad->argc > 2) {
        admin_usage();
        return ADMIN_USAGE;
    }

    if (admin_read(ad, &t) != ADMIN_OK) {
        return ADMIN_FAIL;
    }

    rc = tt_profile_list(&t, ad->argc == 2 ? ad->argv[1] : NULL, NULL, ad->a,
                         &p, &n);

    for (i = 0; rc == TT_OK && i < n; i++) {
        admin_time(p[i].expires_at, expires);
        printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p[i].id, p[i].workspace_id,
               p[i].profile_group_id, p[i].username ? p[i].username : "",
               p[i].name ? p[i].name : "",
               tt_profile_status_name(p[i].status), expires);
    }

    tt_txn_abort(&t);

    return admin_done(ad, rc, "profile list");
}


static const admin_cmd_t  admin_cmds[] = {
    { "workspace", "create", admin_ws_create },
    { "workspace", "list",   admin_ws_list },
    { "group",     "create", admin_group_create },
    { "group",     "list",   admin_group_list },
    { "key",       "create", admin_key_create },
    { "key",       "list",   admin_key_list },
    { "key",       "revoke", admin_key_revoke },
    { "profile",   "add",    admin_profile_add },
    { "profile",   "list",   admin_profile_list },
    { "profile",   "update", admin_profile_update },
    { "profile",   "remove", admin_profile_remove },
    { "token-keys", "reseal", admin_keys_reseal },
    { "backup",    NULL,     admin_backup },
    { "restore",   NULL,     admin_restore },
};


static int
admin_run(admin_t *ad, const char *object)
{
    size_t  i;

    for (i = 0; i < TT_ARRAY_SIZE(admin_cmds); i++) {
        if (strcmp(admin_cmds[i].object, object) != 0
            || (admin_cmds[i].verb != NULL
                && strcmp(admin_cmds[i].verb, ad->argv[0]) != 0))
        {
            continue;
        }

        /* a command without a verb takes its words from its name on */
        if (admin_cmds[i].verb == NULL) {
            ad->argc++;
            ad->argv--;
        }

        /*
         * these open the store themselves, with the token key; restore
         * must not open it at all (it checks no process has it open)
         */
        if (admin_cmds[i].handler != admin_profile_add
            && admin_cmds[i].handler != admin_profile_update
            && admin_cmds[i].handler != admin_keys_reseal
            && admin_cmds[i].handler != admin_restore
            && admin_open(ad, 0) != ADMIN_OK)
        {
            return ADMIN_FAIL;
        }

        return admin_cmds[i].handler(ad);
    }

    admin_error("unknown command \"%s %s\"", object, ad->argv[0]);
    admin_usage();

    return ADMIN_USAGE;
}


int
main(int argc, char **argv)
{
    int                         ch, rc;
    admin_t                     ad;
    static const struct option  opts[] = {
        { "store",     required_argument, NULL, 's' },
        { "token-key", required_argument, NULL, 'k' },
        { "help",      no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    memset(&ad, 0, sizeof(ad));

    /* "+": stop at the command, whose options are its own */
    while ((ch = getopt_long(argc, argv, "+s:k:h", opts, NULL)) != -1) {
        switch (ch) {
        case 's':
            ad.store_path = optarg;
            break;
        case 'k':
            ad.key_file = optarg;
            break;
        case 'h':
            admin_usage();
            return ADMIN_OK;
        default:
            admin_usage();
            return ADMIN_USAGE;
        }
    }

    if (ad.store_path == NULL || argc - optind < 2) {
        if (ad.store_path == NULL) {
            admin_error("no store directory (-s STORE_DIR)");
        }

        admin_usage();
        return ADMIN_USAGE;
    }

    ad.argc = argc - optind - 1;
    ad.argv = argv + optind + 1;

    ad.a = tt_arena_create(16384);
    if (ad.a == NULL) {
        return admin_error("out of memory");
    }

    rc = admin_run(&ad, argv[optind]);

    tt_store_close(ad.st);
    tt_arena_destroy(ad.a);

    return rc;
}
