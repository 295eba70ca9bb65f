/*
 * Copyright (C) the ngx_tiktok authors.
 * The effective configuration, as nginx.conf set it.  The module records
 * it in the store (meta "config") at start and reload; the scheduler reads
 * it from there, so nginx.conf is the only configuration file.
 */

#ifndef _TT_CONF_H_INCLUDED_
#define _TT_CONF_H_INCLUDED_


#include "tt_json.h"
#include "tt_secret.h"


typedef struct {
    const char     *store_path;         /* tiktok_store */
    const char     *wake_socket;        /* tiktok_wake_socket */
    const char     *spool_dir;          /* tiktok_spool */
    const char     *api_base;           /* tiktok_api_base, no trailing / */
    const char     *auth_url;           /* tiktok_authorize_url */
    const char     *client_key;         /* tiktok_client_key */
    const char     *client_secret_file; /* tiktok_client_secret_file */
    const char     *token_key_file;     /* tiktok_token_key_file */
    int64_t         max_lateness_ms;    /* tiktok_max_lateness */
    int64_t         max_uploads;        /* tiktok_max_uploads */
    int64_t         chunk_size;         /* tiktok_chunk_size */
    int64_t         refresh_margin_ms;  /* tiktok_refresh_margin */
    int64_t         stats_interval_ms;  /* tiktok_stats_interval */
    int64_t         spool_retention_ms; /* tiktok_spool_retention */
    int64_t         spool_quota;        /* tiktok_spool_quota, 0 none */
    int64_t         map_max;            /* tiktok_store_map_size max, 0
                                         * unknown */
    unsigned        allow_private_media:1;  /* tiktok_media_allow_private */
    int64_t         webhook_timeout_ms; /* tiktok_webhook_timeout */
    int64_t         webhook_private;    /* tiktok_webhook_allow_private */
} tt_conf_t;

/*
 * The defaults the module applies, and the scheduler too when the record
 * was written by a module that did not know the setting yet.
 */
#define TT_SPOOL_RETENTION_DEFAULT  (24 * 3600 * 1000LL)        /* 24h */
#define TT_SPOOL_QUOTA_DEFAULT      (10LL * 1024 * 1024 * 1024) /* 10g */
#define TT_MAX_LATENESS_DEFAULT     (3600 * 1000LL)             /* 1h */
#define TT_MAX_UPLOADS_DEFAULT      64
#define TT_REFRESH_MARGIN_DEFAULT   (300 * 1000LL)              /* 5m */
#define TT_WEBHOOK_TIMEOUT_DEFAULT  (10 * 1000LL)               /* 10s */
#define TT_STATS_INTERVAL_DEFAULT  (3600 * 1000LL)  /* new posts' counts */
#define TT_MAP_SIZE_DEFAULT         ((size_t) 64 * 1024 * 1024)        /* 64m */
#define TT_MAP_MAX_DEFAULT          ((size_t) 64 * 1024 * 1024 * 1024) /* 64g */
#define TT_API_BASE_DEFAULT         "https://open.tiktokapis.com"
#define TT_AUTH_URL_DEFAULT         "https://www.tiktok.com/v2/auth/authorize/"
/* tiktok_chunk_size: TT_CHUNK_DEFAULT within TT_CHUNK_MIN..MAX, tt_chunk.h */

/* JSON object with the keys named as the fields; strings may be null */
int tt_conf_encode(const tt_conf_t *c, tt_buf_t *out);
int tt_conf_decode(const void *data, size_t len, tt_arena_t *a, tt_conf_t *c);


/*
 * tiktok_token_key_file: 64 hex digits, the 32 bytes that seal the
 * profiles' tokens.  TT_ERR with why in err ("cannot read ...: No such
 * file or directory", "... must hold 64 hex characters").
 */
int tt_read_token_key(const char *path, uint8_t key[32], char *err,
    size_t size);


#endif /* _TT_CONF_H_INCLUDED_ */
