/*
 * Copyright (C) the ngx_tiktok authors.
 * tiktok-admin: a profile's tokens replaced or the profile removed, and
 * the store's tokens sealed again after a new key was put first in the
 * token key file.
 */


#include <stdio.h>
#include <string.h>
#include <getopt.h>

#include "tiktok_admin.h"


typedef struct {
    const char     *id;
    tt_profile_t    in;             /* what the options give */
    int64_t         exp;
    int64_t         rexp;
    tt_profile_t    prof;
} admin_update_ctx_t;


static int
admin_profile_update_txn(admin_t *ad, tt_txn_t *t, void *ctx)
{
    int                  rc;
    int64_t              now;
    tt_profile_t        *p;
    admin_update_ctx_t  *c = ctx;

    p = &c->prof;

    rc = tt_profile_get(t, c->id, ad->a, p);
    if (rc == TT_NOTFOUND) {
        admin_error("no profile \"%s\"", c->id);
        return TT_NOTFOUND;
    }

    if (rc != TT_OK) {
        return rc;
    }

    now = tt_now_ms();

    if (c->in.access_token != NULL) {
        p->access_token = c->in.access_token;
        p->refresh_token = c->in.refresh_token;
        p->expires_at = now + c->exp;
        p->refresh_expires_at = now + c->rexp;
        p->status = TT_PROFILE_ACTIVE;
    }

    p->scope = c->in.scope ? c->in.scope : p->scope;
    p->username = c->in.username ? c->in.username : p->username;
    p->name = c->in.name ? c->in.name : p->name;

    return tt_profile_put(t, p);
}


/* profile update PROF_ID: new tokens (all four together), or names */
int
admin_profile_update(admin_t *ad)
{
    int                 rc, tokens;
    admin_update_ctx_t  c;

    memset(&c, 0, sizeof(c));
    c.exp = -1;
    c.rexp = -1;

    rc = admin_profile_options(ad, &c.in, &c.exp, &c.rexp);
    if (rc != ADMIN_OK || ad->argc - optind != 1 || c.in.open_id != NULL) {
        admin_usage();
        return ADMIN_USAGE;
    }

    tokens = (c.in.access_token != NULL) + (c.in.refresh_token != NULL)
             + (c.exp >= 0) + (c.rexp >= 0);

    if (tokens != 0 && tokens != 4) {
        admin_error("new tokens need --access-token, --refresh-token, "
                    "--expires-in and --refresh-expires-in together");
        return ADMIN_USAGE;
    }

    if (admin_open(ad, 1) != ADMIN_OK) {
        return ADMIN_FAIL;
    }

    c.id = ad->argv[optind];

    rc = admin_write(ad, admin_profile_update_txn, &c);
    if (rc != TT_OK) {
        return admin_done(ad, rc, "profile update");
    }

    printf("%s\t%s\n", c.id, tt_profile_status_name(c.prof.status));

    return ADMIN_OK;
}


static int
admin_profile_remove_txn(admin_t *ad, tt_txn_t *t, void *ctx)
{
    int  rc;

    rc = tt_profile_forget(t, ctx, tt_now_ms());

    if (rc == TT_NOTFOUND) {
        admin_error("no profile \"%s\"", (const char *) ctx);
    }

    return rc;
}


/* profile remove PROF_ID: no key needed, the token moves sealed */
int
admin_profile_remove(admin_t *ad)
{
    int  rc;

    if (ad->argc != 2) {
        admin_usage();
        return ADMIN_USAGE;
    }

    rc = admin_write(ad, admin_profile_remove_txn, ad->argv[1]);

    return admin_done(ad, rc, "profile remove");
}


static int
admin_keys_reseal_txn(admin_t *ad, tt_txn_t *t, void *ctx)
{
    int  rc;

    rc = tt_store_reseal(t, ctx);

    if (rc == TT_ERR) {
        admin_error("a sealed value does not open with any key of the "
                    "key file: %s", tt_store_last_error(ad->st));
        return TT_NOTFOUND;
    }

    return rc;
}


/* token-keys reseal: every token under the key file's first key */
int
admin_keys_reseal(admin_t *ad)
{
    int     rc;
    size_t  n;

    if (ad->argc != 1) {
        admin_usage();
        return ADMIN_USAGE;
    }

    if (admin_open(ad, 1) != ADMIN_OK) {
        return ADMIN_FAIL;
    }

    n = 0;

    rc = admin_write(ad, admin_keys_reseal_txn, &n);
    if (rc != TT_OK) {
        return admin_done(ad, rc, "token-keys reseal");
    }

    printf("%zu sealed again\n", n);

    return ADMIN_OK;
}
