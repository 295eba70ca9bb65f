/*
 * Copyright (C) the ngx_tiktok authors.
 * The effective configuration as a JSON record, and secret files.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tt_conf.h"
#include "tt_keyring.h"


typedef struct {
    const char     *name;
    size_t          off;
} tt_conf_field_t;


static int tt_conf_str(const tt_json_t *v, const char **out);
static int tt_conf_int(const tt_json_t *v, int64_t *out);


/* one table for both directions, so encode and decode cannot drift */
static const tt_conf_field_t  tt_conf_strs[] = {
    { "store_path", offsetof(tt_conf_t, store_path) },
    { "wake_socket", offsetof(tt_conf_t, wake_socket) },
    { "spool_dir", offsetof(tt_conf_t, spool_dir) },
    { "api_base", offsetof(tt_conf_t, api_base) },
    { "auth_url", offsetof(tt_conf_t, auth_url) },
    { "client_key", offsetof(tt_conf_t, client_key) },
    { "client_secret_file", offsetof(tt_conf_t, client_secret_file) },
    { "token_key_file", offsetof(tt_conf_t, token_key_file) }
};

static const tt_conf_field_t  tt_conf_ints[] = {
    { "max_lateness_ms", offsetof(tt_conf_t, max_lateness_ms) },
    { "max_uploads", offsetof(tt_conf_t, max_uploads) },
    { "chunk_size", offsetof(tt_conf_t, chunk_size) },
    { "refresh_margin_ms", offsetof(tt_conf_t, refresh_margin_ms) },
    { "stats_interval_ms", offsetof(tt_conf_t, stats_interval_ms) },
    { "spool_retention_ms", offsetof(tt_conf_t, spool_retention_ms) },
    { "spool_quota", offsetof(tt_conf_t, spool_quota) },
    { "map_max", offsetof(tt_conf_t, map_max) },
    { "webhook_timeout_ms", offsetof(tt_conf_t, webhook_timeout_ms) },
    { "webhook_private", offsetof(tt_conf_t, webhook_private) }
};


#define tt_conf_str_at(c, f)                                                 \
    ((const char **) ((char *) (c) + (f)->off))

#define tt_conf_int_at(c, f)                                                 \
    ((int64_t *) ((char *) (c) + (f)->off))


int
tt_conf_encode(const tt_conf_t *c, tt_buf_t *out)
{
    size_t   i;
    tt_jw_t  w;

    if (tt_jw_init(&w, out) != TT_OK) {
        tt_jw_finish(&w);
        return TT_ERR;
    }

    tt_jw_obj_open(&w);

    for (i = 0; i < TT_ARRAY_SIZE(tt_conf_strs); i++) {
        tt_jw_key(&w, tt_conf_strs[i].name);
        tt_jw_cstr(&w, *tt_conf_str_at(c, &tt_conf_strs[i]));
    }

    for (i = 0; i < TT_ARRAY_SIZE(tt_conf_ints); i++) {
        tt_jw_key(&w, tt_conf_ints[i].name);
        tt_jw_int(&w, *tt_conf_int_at(c, &tt_conf_ints[i]));
    }

    tt_jw_key(&w, "allow_private_media");
    tt_jw_bool(&w, c->allow_private_media);

    tt_jw_obj_close(&w);

    return tt_jw_finish(&w);
}


static int
tt_conf_str(const tt_json_t *v, const char **out)
{
    if (v->type == TT_JSON_NULL) {
        *out = NULL;
        return TT_OK;
    }

    /* an embedded NUL would silently cut a path short */
    if (v->type != TT_JSON_STRING || strlen(v->str) != v->len) {
        return TT_INVALID;
    }

    *out = v->str;

    return TT_OK;
}


static int
tt_conf_int(const tt_json_t *v, int64_t *out)
{
    if (v->type != TT_JSON_NUMBER || !v->is_int) {
        return TT_INVALID;
    }

    *out = v->i;

    return TT_OK;
}


int
tt_conf_decode(const void *data, size_t len, tt_arena_t *a, tt_conf_t *c)
{
    size_t      i;
    tt_json_t  *root, *v;
    char        err[128];

    memset(c, 0, sizeof(tt_conf_t));

    /* 0 is a setting of its own here ("remove at once", "no quota") */
    c->spool_retention_ms = TT_SPOOL_RETENTION_DEFAULT;
    c->spool_quota = TT_SPOOL_QUOTA_DEFAULT;
    c->webhook_timeout_ms = TT_WEBHOOK_TIMEOUT_DEFAULT;

    root = tt_json_parse(a, data, len, err, sizeof(err));
    if (root == NULL || root->type != TT_JSON_OBJECT) {
        return TT_INVALID;
    }

    /* the strings stay in the arena, as the tree does */
    for (i = 0; i < TT_ARRAY_SIZE(tt_conf_strs); i++) {
        v = tt_json_get(root, tt_conf_strs[i].name);

        if (v != NULL
            && tt_conf_str(v, tt_conf_str_at(c, &tt_conf_strs[i])) != TT_OK)
        {
            return TT_INVALID;
        }
    }

    for (i = 0; i < TT_ARRAY_SIZE(tt_conf_ints); i++) {
        v = tt_json_get(root, tt_conf_ints[i].name);

        if (v != NULL
            && tt_conf_int(v, tt_conf_int_at(c, &tt_conf_ints[i])) != TT_OK)
        {
            return TT_INVALID;
        }
    }

    v = tt_json_get(root, "allow_private_media");

    if (v != NULL) {
        if (v->type != TT_JSON_TRUE && v->type != TT_JSON_FALSE) {
            return TT_INVALID;
        }

        c->allow_private_media = (v->type == TT_JSON_TRUE);
    }

    return TT_OK;
}


int
tt_read_token_key(const char *path, uint8_t key[32], char *err, size_t size)
{
    tt_keyring_t  ring;

    /* the key that seals: the file's first */
    if (tt_keyring_read(path, &ring, err, size) != TT_OK) {
        explicit_bzero(key, 32);
        return TT_ERR;
    }

    memcpy(key, ring.keys[0].key, 32);
    tt_keyring_clear(&ring);

    return TT_OK;
}
