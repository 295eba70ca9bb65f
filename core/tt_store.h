/*
 * Copyright (C) the ngx_tiktok authors.
 * The store: one LMDB environment, its named databases, their keys and
 * records.  Only tt_store*.c include lmdb.h (through tt_store_int.h);
 * every LMDB result is mapped to TT_* by one function, tt_store_rc().
 */

#ifndef _TT_STORE_H_INCLUDED_
#define _TT_STORE_H_INCLUDED_


#include "tt_post.h"
#include "tt_keyring.h"
#include "tt_queue.h"


/*
 * Named databases (keys are fixed width; integers are big-endian so that
 * LMDB's order is numeric order; ids are NUL-padded to TT_ID_SIZE):
 *
 *   meta        name                          -> value ("schema", "config":
 *               the effective nginx.conf settings, as JSON, written by the
 *               module at start and reload; the scheduler reads them)
 *   workspaces  ws id                         -> JSON
 *   keys        SHA-256(api key) [32]         -> JSON (tt_apikey_t)
 *   ws_keys     ws id, SHA-256 [32]           -> ""   (a workspace's keys)
 *   key_ids     key id                        -> SHA-256 [32]
 *   groups      pg id                         -> JSON
 *   ws_groups   ws id, created BE64, pg id    -> ""
 *   profiles    prof id                       -> JSON (tokens encrypted)
 *   pg_profiles pg id, prof id                -> ""   (a group's profiles)
 *   ws_profiles ws id, prof id                -> ""
 *   open_ids    ws id, TikTok open_id         -> prof id
 *   posts       post id                       -> post record (tt_post.h)
 *   post_terms  post id                       -> what the lists index it by
 *   post_list   scope digest [16], order, class, key BE64, post id -> ""
 *   post_counts scope digest [16], order, class, level, bucket BE64
 *               [, id part]                   -> count BE64
 *   due         due BE64, post id             -> ""   (the agenda)
 *   queues      q id                          -> JSON (tt_queue_t)
 *   pg_queues   pg id, created BE64, q id     -> ""   (a group's queues)
 *   queue_off   q id                          -> ""   (the queue is paused)
 *   queue_posts q id, slot BE64, post id      -> at BE64, created BE64,
 *               priority, started  (a queue's live posts, in slot order)
 *   post_slot   post id                       -> q id, slot BE64
 *   queue_sum   q id                          -> waiting BE64 x 3 (by
 *               priority), started BE64, latest created BE64 x 3 (a
 *               bound, by priority): a queue's live posts summed up
 *   queue_head  q id                          -> ws id, pg id, enabled,
 *               jitter, timezone [64], n BE16, n x (day, minute BE16)
 *   idem        ws id, key                    -> JSON (replay)
 *   idem_exp    expires BE64, ws id, key      -> ""
 *   oauth       connection id                 -> JSON (tt_conn_t; the
 *               code and PKCE verifier sealed)
 *   oauth_states SHA-256(state) [32]          -> connection id
 *   oauth_work  'x', connection id            -> ""   (codes to exchange)
 *               'r', prof id                  -> JSON (a token to revoke)
 *               'e', purge BE64, connection id -> ""  (records' end)
 *   webhooks    wh id                         -> JSON (secret sealed)
 *   ws_webhooks ws id, created BE64, wh id    -> ""
 *   wh_outbox   dlv id                        -> JSON (a delivery: the
 *               event's body and its tries; tt_webhook.h)
 *   wh_due      next try BE64, dlv id         -> ""   (their agenda)
 *   wh_attempts wh id, ~attempted BE64, dlv id, attempt BE64 -> JSON
 *   post_sig    post id                       -> the statuses the last
 *               put saw (post, platforms, media), for its events
 *   metrics     name, 0, order BE16, labels   -> BE64, scale (counters:
 *               tt_store_metric.c)
 *   stats       post id, recorded_at BE64     -> TikTok's counts of a
 *               published post (tt_store_stats.c)
 *   stats_due   due BE64, post id             -> ""   (when next to ask)
 *
 * A list scope is (ws id, pg id or "", queue id or ""), keyed by the first
 * 16 bytes of its SHA-256 (tt_store_list.c): every post is in
 * the scopes of its workspace, its group and its queue, under the class
 * "any" and each class of GET /api/posts's status filter it belongs to,
 * once newest first (key ~created) and, if it has a time, once by
 * scheduled_at.  post_counts holds each list's total (level 0) and its
 * counts per bucket of 2^32, 2^24, 2^16 and 2^8 ms of the key (levels 1
 * to 4) and, by scheduled_at, per time and id's first bytes (level 5),
 * written in the transaction that writes the post: a page's start and a
 * time range's total are found from the counts, never by counting posts
 * (tt_store_list.c).
 *
 * A queue's live posts are those with its queue_id that are not drafts
 * and have not ended (pending, scheduled or processing): they hold a
 * slot.  queue_posts is all the slotting reads (tt_store_queue.c), and
 * post_slot finds a post's entry when the post changes.  A post of a
 * paused queue (queue_off) that waits for its time is stored with no due
 * time: it is not in the agenda until the queue is enabled again.
 *
 * Each is opened under its name above (tt_store.c) and addressed by its
 * TT_DB_ constant; a new family adds both here, within TT_STORE_MAXDBS.
 */
enum {
    TT_DB_META = 0,
    TT_DB_WORKSPACES,
    TT_DB_KEYS,
    TT_DB_WS_KEYS,
    TT_DB_KEY_IDS,
    TT_DB_GROUPS,
    TT_DB_WS_GROUPS,
    TT_DB_PROFILES,
    TT_DB_PG_PROFILES,
    TT_DB_WS_PROFILES,
    TT_DB_OPEN_IDS,
    TT_DB_POSTS,
    TT_DB_POST_TERMS,
    TT_DB_POST_LIST,
    TT_DB_POST_COUNTS,
    TT_DB_DUE,
    TT_DB_IDEM,
    TT_DB_IDEM_EXP,
    TT_DB_OAUTH,
    TT_DB_OAUTH_STATES,
    TT_DB_OAUTH_WORK,
    TT_DB_QUEUES,
    TT_DB_PG_QUEUES,
    TT_DB_QUEUE_OFF,
    TT_DB_QUEUE_POSTS,
    TT_DB_POST_SLOT,
    TT_DB_WEBHOOKS,
    TT_DB_WS_WEBHOOKS,
    TT_DB_WH_OUTBOX,
    TT_DB_WH_DUE,
    TT_DB_WH_ATTEMPTS,
    TT_DB_POST_SIG,
    TT_DB_METRICS,
    TT_DB_STATS,
    TT_DB_STATS_DUE,
    TT_DB_QUEUE_SUM,
    TT_DB_QUEUE_HEAD,
    TT_DB_COUNT
};

#define TT_SCHEMA_VERSION  10


typedef struct tt_store_s  tt_store_t;

typedef struct {
    const char     *path;           /* directory holding data.mdb */
    size_t          map_size;       /* initial, bytes; 0: the store's
                                     * own (LMDB's default when new) */
    size_t          map_max;        /* growth stops here; 0: map_size,
                                     * or 64g with no map_size */
    unsigned        max_readers;
    unsigned        nosync:1;       /* tests only: MDB_NOSYNC */
    unsigned        sync_later:1;   /* a commit syncs its pages, not the
                                     * meta page that makes them the
                                     * store's: tt_store_sync() does, out
                                     * of the writers' lock */
    const uint8_t  *token_key;      /* 32 bytes to seal tokens, or NULL */
    const tt_keyring_t *token_keys; /* or these (the first seals) */
} tt_store_conf_t;

int tt_store_open(const tt_store_conf_t *conf, tt_store_t **out,
    char *err, size_t err_len);
void tt_store_close(tt_store_t *st);

/*
 * Every commit so far on disk.  With sync_later, a commit is durable
 * only once this returns TT_OK: it needs no lock, so another writer's
 * transaction runs meanwhile.
 */
int tt_store_sync(tt_store_t *st);

/* after a full map: the size another process grew it to, if larger, or
 * double (up to map_max); no transaction may be active in this process.
 * TT_FULL when already at map_max. */
int tt_store_grow(tt_store_t *st);

/* adopts a map grown by another process; no transaction may be active */
int tt_store_adopt(tt_store_t *st);

/*
 * Backups (tt_store_copy.c).  tt_store_copy() writes DIR/data.mdb, a
 * compacted copy of one snapshot (every transaction committed before it
 * began), while other processes go on writing; DIR must hold no
 * data.mdb.  tt_store_restore() puts BACKUP/data.mdb in place as the
 * store STORE: TT_CONFLICT while any process has STORE open (err names
 * one), TT_EXISTS if STORE holds a store and force is 0 (with force the
 * old file is kept as data.mdb.old).  Both check the copy opens, and say
 * its schema and the bytes of its pages in use.
 */
typedef struct {
    uint64_t        size;           /* bytes of pages in use */
    unsigned        schema;
} tt_store_copy_t;

int tt_store_copy(tt_store_t *st, const char *dir, tt_store_copy_t *info,
    char *err, size_t err_len);
int tt_store_restore(const char *backup, const char *store, int force,
    tt_store_copy_t *info, char *err, size_t err_len);

size_t tt_store_map_size(tt_store_t *st);

/* entries and counts the lists read so far in this process (tests, bench) */
uint64_t tt_store_list_reads(tt_store_t *st);
void tt_store_set_map_max(tt_store_t *st, size_t max);

/* sets the 32-byte key that seals profile tokens (the scheduler reads it
 * from the file named in the stored configuration) */
void tt_store_set_token_key(tt_store_t *st, const uint8_t key[32]);

/* the ring that seals and opens tokens; open 0: tokens are sealed (an
 * OAuth code the module records) but the records' tokens never opened,
 * so that a process which never needs them never holds them in clear */
void tt_store_set_token_keys(tt_store_t *st, const tt_keyring_t *ring,
    int open);
int tt_store_can_seal(const tt_store_t *st);
const char *tt_store_last_error(tt_store_t *st);   /* mdb_strerror text */


/*
 * A transaction with a sticky error: after the first failure every call
 * returns it, and commit aborts instead.  Read transactions are always
 * aborted (tt_txn_abort); nothing returned from one outlives it.
 * Answers are not failures: TT_NOTFOUND, TT_EXISTS and TT_INVALID (bad
 * input, nothing written) leave the transaction usable.  tt_txn_abort is
 * a no-op on an ended transaction, so cleanup paths may always call it.
 */
typedef struct tt_counts_s  tt_counts_t;

typedef struct tt_txn_s  tt_txn_t;

struct tt_txn_s {
    tt_store_t     *st;
    void           *txn;            /* MDB_txn */
    int             rc;
    unsigned        write:1;
    unsigned        absorbed:1;     /* its ancestors' counts are in it */
    tt_txn_t       *parent;         /* a nested one's */
    tt_counts_t    *counts;         /* the lists' counts it will write
                                     * (tt_store_counts.c) */
};

int tt_txn_begin(tt_store_t *st, tt_txn_t *t, int write);
int tt_txn_begin_nested(tt_txn_t *parent, tt_txn_t *child);
int tt_txn_commit(tt_txn_t *t);
void tt_txn_abort(tt_txn_t *t);


/* meta */
int tt_meta_get(tt_txn_t *t, const char *name, tt_str_t *val);
int tt_meta_put(tt_txn_t *t, const char *name, const void *val, size_t len);


/*
 * Schema migrations: a step from schema `from` to from + 1, run in the
 * write transaction that opens the store, so that a store is migrated
 * whole or not at all.  tt_store_open runs the table in tt_store.c up to
 * TT_SCHEMA_VERSION; tt_store_migrate_steps runs any table (its tests
 * give their own) from version up to `to` and records `to`.
 */
typedef struct {
    unsigned        from;
    int           (*run)(tt_txn_t *t);
} tt_store_migration_t;

int tt_store_migrate_steps(tt_txn_t *t, unsigned version, unsigned to,
    const tt_store_migration_t *steps, size_t n, char *err, size_t err_len);

/* the step that adds metrics, stats and stats_due (tt_store_metric.c) */
#define TT_SCHEMA_OPS_FROM  5
int tt_store_migrate_ops(tt_txn_t *t);


/* workspaces */
typedef struct {
    char            id[TT_ID_SIZE];
    const char     *name;
    int64_t         created_at;
} tt_workspace_t;

int tt_ws_put(tt_txn_t *t, const tt_workspace_t *ws);
int tt_ws_get(tt_txn_t *t, const char *id, tt_arena_t *a, tt_workspace_t *ws);
int tt_ws_list(tt_txn_t *t, tt_arena_t *a, tt_workspace_t **out, size_t *n);


/* API keys: stored under SHA-256 of the key; the key itself never */
typedef struct {
    char            id[TT_ID_SIZE];             /* key_... */
    char            workspace_id[TT_ID_SIZE];
    char            profile_group_id[TT_ID_SIZE];   /* "" full access */
    const char     *name;
    char            hint[12];                   /* "tt_ab12…": first 7 */
    int64_t         created_at;
    int64_t         revoked_at;                 /* -1 live */
} tt_apikey_t;

int tt_apikey_put(tt_txn_t *t, const uint8_t hash[32], const tt_apikey_t *k);
int tt_apikey_get(tt_txn_t *t, const uint8_t hash[32], tt_arena_t *a,
    tt_apikey_t *k);
int tt_apikey_get_raw(tt_txn_t *t, const uint8_t hash[32], tt_str_t *raw);
int tt_apikey_list(tt_txn_t *t, const char *ws_id, tt_arena_t *a,
    tt_apikey_t **out, size_t *n);              /* ws_id NULL: all */
int tt_apikey_revoke(tt_txn_t *t, const char *key_id, int64_t now_ms);


/* profile groups */
typedef struct {
    char            id[TT_ID_SIZE];             /* pg_... */
    char            workspace_id[TT_ID_SIZE];
    const char     *name;
    int64_t         created_at;
} tt_group_t;

int tt_group_put(tt_txn_t *t, const tt_group_t *g);
int tt_group_get(tt_txn_t *t, const char *id, tt_arena_t *a, tt_group_t *g);
int tt_group_list(tt_txn_t *t, const char *ws_id, tt_arena_t *a,
    tt_group_t **out, size_t *n);               /* oldest first */
int tt_group_first(tt_txn_t *t, const char *ws_id, tt_arena_t *a,
    tt_group_t *g);                             /* the oldest */
int tt_group_del(tt_txn_t *t, const char *id);


/* connected TikTok accounts */
typedef enum {
    TT_PROFILE_ACTIVE = 0,
    TT_PROFILE_EXPIRED,
    TT_PROFILE_REVOKED
} tt_profile_status_e;

typedef struct {
    char            id[TT_ID_SIZE];             /* prof_... */
    char            workspace_id[TT_ID_SIZE];
    char            profile_group_id[TT_ID_SIZE];
    const char     *platform;                   /* "tiktok" */
    const char     *name;                       /* TikTok nickname */
    const char     *username;
    const char     *avatar_url;
    const char     *open_id;
    tt_profile_status_e status;
    int64_t         created_at;
    int64_t         expires_at;                 /* access token, ms */
    int64_t         refresh_expires_at;
    const char     *scope;

    /* sealed with the store's token_key in the record; NULL when the
     * store has no key (the module never needs them) */
    const char     *access_token;
    const char     *refresh_token;
} tt_profile_t;

int tt_profile_put(tt_txn_t *t, const tt_profile_t *p);
int tt_profile_get(tt_txn_t *t, const char *id, tt_arena_t *a,
    tt_profile_t *p);
int tt_profile_list(tt_txn_t *t, const char *ws_id, const char *group_id,
    tt_arena_t *a, tt_profile_t **out, size_t *n);  /* NULL ids: all */
int tt_profile_del(tt_txn_t *t, const char *id);
int tt_profile_by_open_id(tt_txn_t *t, const char *ws_id, const char *open_id,
    tt_arena_t *a, tt_profile_t *p);

/*
 * A group holds one profile per platform and a TikTok account is one
 * profile of a workspace: TT_EXISTS with *other the profile in the way and
 * *why the rule broken.  tt_profile_put checks the same.
 */
int tt_profile_check(tt_txn_t *t, const tt_profile_t *p, tt_arena_t *a,
    tt_profile_t *other, const char **why);
const char *tt_profile_status_name(tt_profile_status_e s);
/* the object GET /api/profiles/:id answers (never a token) */
void tt_profile_render(tt_jw_t *w, const tt_profile_t *p);


/* posts: the record is tt_post_encode()'s; the store keeps ws_posts and
 * due in step with it (from the old record's header when replacing) */
int tt_post_put(tt_txn_t *t, const tt_post_t *p);
int tt_post_get(tt_txn_t *t, const char *id, tt_arena_t *a, tt_post_t *p);
int tt_post_get_raw(tt_txn_t *t, const char *id, tt_str_t *rec);
int tt_post_del(tt_txn_t *t, const char *id);

/* a workspace's posts, newest first; cb returns non-zero to stop; in a
 * write transaction cb may change posts (the walk re-seeks each step) */
typedef int (*tt_post_iter_pt)(void *ctx, const char *id, const tt_str_t *rec);
int tt_post_iter(tt_txn_t *t, const char *ws_id, tt_post_iter_pt cb,
    void *ctx);

/*
 * GET /api/posts's lists.  The classes are the status filter's; a post
 * may be in several (one platform published, another failed).
 */
typedef enum {
    TT_LIST_ANY = 0,
    TT_LIST_DRAFT,          /* draft */
    TT_LIST_SCHEDULED,      /* pending or scheduled */
    TT_LIST_PUBLISHED,      /* processed, a platform published */
    TT_LIST_FAILED,         /* media failed, or a platform failed */
    TT_LIST_CLASSES
} tt_list_class_e;

typedef struct {
    const char     *ws_id;
    const char     *group_id;       /* NULL or "": every group */
    const char     *queue_id;       /* NULL or "": with or without one */
    tt_list_class_e cls;
    int64_t         after;          /* scheduled_at >= after; -1 none */
    int64_t         before;         /* scheduled_at < before; -1 none */
    uint64_t        offset;
    uint64_t        limit;
} tt_post_query_t;

/*
 * The posts of a list, newest created first; with after or before, only
 * posts with a time in the range, by scheduled_at (earliest first).
 * *total is the list's size, from the counts; cb gets at most limit posts
 * from offset and must not write.  Costs a bounded number of counts (at
 * most 256 per level) and the posts of one cell, never the list's length.
 */
int tt_post_list(tt_txn_t *t, const tt_post_query_t *q, uint64_t *total,
    tt_post_iter_pt cb, void *ctx);

/* the classes (bit 1 << tt_list_class_e) a post is listed under */
unsigned tt_post_classes(const tt_post_t *p);

/* every post in id order, a slice at a time: see tt_store_post.c */
int tt_post_scan(tt_txn_t *t, char pos[TT_ID_SIZE], size_t max,
    tt_post_iter_pt cb, void *ctx);

/* the agenda: the earliest due post, TT_NOTFOUND if none */
int tt_due_first(tt_txn_t *t, int64_t *at, char id[TT_ID_SIZE]);
/* every post due at or before until, in due order; cb may put or delete
 * the post it is handed (claiming it) */
typedef int (*tt_due_iter_pt)(void *ctx, int64_t at, const char *id);
int tt_due_iter(tt_txn_t *t, int64_t until, tt_due_iter_pt cb, void *ctx);


/*
 * Queues (tt_store_queue.c).  tt_queue_put keeps the group's index and
 * the paused flag; it never moves posts: the callers below do.
 */
typedef struct {
    char            id[TT_ID_SIZE];             /* ts_... */
    uint8_t         day;                        /* 0 Sunday .. 6 */
    uint16_t        minute;                     /* 0 .. 1439 */
} tt_timeslot_t;

typedef struct {
    char            id[TT_ID_SIZE];             /* q_... */
    char            workspace_id[TT_ID_SIZE];
    char            profile_group_id[TT_ID_SIZE];
    const char     *name;
    const char     *description;                /* NULL: none */
    char            timezone[TT_TZ_NAME_MAX];
    unsigned        jitter;                     /* minutes */
    unsigned        enabled;
    int64_t         created_at;
    int64_t         updated_at;
    tt_timeslot_t  *slots;                      /* by day, then minute */
    size_t          nslots;
} tt_queue_t;

int tt_queue_put(tt_txn_t *t, const tt_queue_t *q);
int tt_queue_get(tt_txn_t *t, const char *id, tt_arena_t *a, tt_queue_t *q);
int tt_queue_list(tt_txn_t *t, const char *group_id, tt_arena_t *a,
    tt_queue_t **out, size_t *n);               /* oldest first */
/* the slot arithmetic's definition of q */
void tt_queue_to_def(const tt_queue_t *q, tt_queue_def_t *def);

/*
 * What slotting reads of a queue: its owners and its definition, from a
 * compact record of its own (queue_head, kept by tt_queue_put), no JSON
 * to parse whatever its timeslots.
 */
typedef struct {
    char            workspace_id[TT_ID_SIZE];
    char            profile_group_id[TT_ID_SIZE];
    tt_queue_def_t  def;
} tt_queue_head_t;

int tt_queue_head(tt_txn_t *t, const char *id, tt_queue_head_t *h);

/* posts_count: the queue's live posts (not ended, not drafts) */
int tt_queue_count(tt_txn_t *t, const char *id, uint64_t *n);
/* whether a live post of the queue waits for a slot (has not started) */
int tt_queue_has_waiting(tt_txn_t *t, const char *id);

/*
 * Stores p, created or changed by a client, and keeps its queues
 * arranged in the same transaction: a post that joins a queue's live
 * posts takes its slot (p->scheduled_at, due_at set; the answer carries
 * them); a queue it left or changed the priority in is re-arranged; each
 * post that moves is stored at its new time.  now is the queue clock.
 */
int tt_queue_post_save(tt_txn_t *t, tt_post_t *p, int64_t now,
    tt_arena_t *a);
/* deletes the post, and re-arranges the queue it leaves */
int tt_queue_post_delete(tt_txn_t *t, const char *id, int64_t now);

/*
 * The queue's live posts re-arranged (a changed definition; flags as
 * tt_queue_arrange's: TT_QUEUE_RESLOT_DUE when it is enabled again) and
 * each stored again, so that the agenda follows the paused flag.
 * *moved counts those whose time changed.  TT_NOTFOUND: posts wait and
 * the queue has no slot.
 */
int tt_queue_rearrange(tt_txn_t *t, const tt_queue_t *q, int64_t now,
    unsigned flags, size_t *moved);

/* paused: its waiting posts leave the agenda (the flag is put's) */
int tt_queue_pause(tt_txn_t *t, const tt_queue_t *q);
/* enabled again: re-arranged with TT_QUEUE_RESLOT_DUE, back in the agenda */
int tt_queue_enable(tt_txn_t *t, const tt_queue_t *q, int64_t now,
    size_t *moved);

/* the first free slot after the last live post and now */
int tt_queue_next_slot(tt_txn_t *t, const tt_queue_t *q, int64_t now,
    int64_t *slot);

/* the queue deleted; its waiting posts become drafts, their content kept */
int tt_queue_del(tt_txn_t *t, const char *id, int64_t now);


/* idempotency records, 24 h */
#define TT_IDEM_KEY_MAX  255
#define TT_IDEM_TTL_MS   (24 * 3600 * 1000LL)

typedef struct {
    uint8_t         hash[32];                   /* SHA-256 of the body */
    int             route;                      /* tt_route_e */
    int             status;
    tt_str_t        body;
    int64_t         expires_at;
} tt_idem_t;

int tt_idem_get(tt_txn_t *t, const char *ws_id, const tt_str_t *key,
    int64_t now_ms, tt_arena_t *a, tt_idem_t *rec);
int tt_idem_put(tt_txn_t *t, const char *ws_id, const tt_str_t *key,
    const tt_idem_t *rec);
int tt_idem_purge(tt_txn_t *t, int64_t now_ms, unsigned max);
/* tt_idem_get answers TT_NOTFOUND for a record expired by now_ms */


/*
 * Connecting a TikTok account (tt_store_oauth.c).  A connection is made by
 * POST .../initialize_connection (WAITING, its state's SHA-256 indexed),
 * takes TikTok's code at the callback (EXCHANGING: sealed, and queued for
 * the scheduler), and ends CONNECTED or FAILED; the record stays
 * TT_CONN_KEEP_MS for the browser's last redirect, then is purged.
 */
#define TT_CONN_STATE_TTL_MS  (10 * 60 * 1000LL)    /* authorize to callback */
#define TT_CONN_KEEP_MS       (60 * 60 * 1000LL)

typedef enum {
    TT_CONN_WAITING = 0,
    TT_CONN_EXCHANGING,
    TT_CONN_CONNECTED,
    TT_CONN_FAILED
} tt_conn_status_e;

typedef struct {
    char            id[TT_ID_SIZE];             /* oc_... */
    char            workspace_id[TT_ID_SIZE];
    char            profile_group_id[TT_ID_SIZE];
    uint8_t         state_hash[32];
    const char     *redirect_url;               /* the API caller's */
    const char     *redirect_uri;               /* our callback, as sent */
    tt_conn_status_e status;
    const char     *reason;                     /* FAILED: a short code */
    const char     *message;                    /* FAILED: a sentence */
    char            profile_id[TT_ID_SIZE];     /* CONNECTED */
    const char     *scopes;                     /* granted, per callback */
    int64_t         created_at;
    int64_t         expires_at;                 /* the state's end */
    int64_t         updated_at;

    /* plain, sealed in the record; a process that does not open tokens
     * reads them NULL and the *_sealed strings, written back as they are */
    const char     *code;
    const char     *verifier;                   /* PKCE */
    const char     *code_sealed;
    const char     *verifier_sealed;
} tt_conn_t;

int tt_conn_put(tt_txn_t *t, const tt_conn_t *c);
int tt_conn_get(tt_txn_t *t, const char *id, tt_arena_t *a, tt_conn_t *c);
int tt_conn_by_state(tt_txn_t *t, const uint8_t hash[32], tt_arena_t *a,
    tt_conn_t *c);
/* the connections whose code waits for the scheduler */
int tt_conn_pending(tt_txn_t *t, tt_arena_t *a, tt_conn_t **out, size_t *n);
/* at most max records past their end, with their state entries */
int tt_conn_purge(tt_txn_t *t, int64_t now_ms, unsigned max);
const char *tt_conn_status_name(tt_conn_status_e s);

/* a deleted profile's access token, kept sealed until TikTok revoked it */
typedef struct {
    char            profile_id[TT_ID_SIZE];
    char            workspace_id[TT_ID_SIZE];
    const char     *open_id;
    const char     *access_token;               /* NULL: not opened */
    const char     *sealed;
    int64_t         created_at;
    int64_t         tries;
} tt_revoke_t;

/*
 * Deletes a profile and queues its access token's revocation: the sealed
 * token moves to oauth_work without being opened; the refresh token is
 * forgotten at once.
 */
int tt_profile_forget(tt_txn_t *t, const char *id, int64_t now_ms);
int tt_revoke_list(tt_txn_t *t, tt_arena_t *a, tt_revoke_t **out, size_t *n);
int tt_revoke_put(tt_txn_t *t, const tt_revoke_t *r);
int tt_revoke_del(tt_txn_t *t, const char *profile_id);

/*
 * Seals every token, webhook signing secret, code and verifier of the
 * store again with the ring's first key (after a new key was put first in
 * tiktok_token_key_file), in t: all or none; *n counts the values
 * sealed.  TT_ERR when one opens with no key.
 */
int tt_store_reseal(tt_txn_t *t, size_t *n);


/*
 * A slice of a family in key order (tt_store_export.c): entries whose
 * key starts with prefix, after pos; cb returns 0 to go on, 1 to stop
 * after this entry, -1 on failure.  TT_NOTFOUND when the range is done.
 */
#define TT_STORE_POS_MAX  511

typedef int (*tt_walk_pt)(void *ctx, const void *key, size_t klen,
    const void *val, size_t vlen);
int tt_store_walk(tt_txn_t *t, int db, const void *prefix, size_t plen,
    uint8_t *pos, size_t *pos_len, unsigned max, tt_walk_pt cb, void *ctx);


/*
 * Posts' TikTok counts over time (tt_store_stats.c), and when the
 * scheduler asks next (stats_due: one entry per published post).
 */
typedef struct {
    int64_t         recorded_at;
    int64_t         views;
    int64_t         likes;
    int64_t         comments;
    int64_t         shares;
} tt_stat_t;

typedef struct {
    int64_t         at;
    char            post_id[TT_ID_SIZE];
    int64_t         published_at;
} tt_stats_due_t;

int tt_stats_put(tt_txn_t *t, const char *post_id, const tt_stat_t *s);
int tt_stats_get(tt_txn_t *t, const char *post_id, int64_t from, int64_t to,
    size_t max, tt_arena_t *a, tt_stat_t **out, size_t *n);
int tt_stats_due_put(tt_txn_t *t, int64_t at, const char *post_id,
    int64_t published_at);
int tt_stats_due_del(tt_txn_t *t, int64_t at, const char *post_id);
int tt_stats_due_list(tt_txn_t *t, int64_t until, size_t max,
    tt_stats_due_t *out, size_t *n, int64_t *next);
int64_t tt_stats_next(int64_t published_at, int64_t now, int64_t interval);


/*
 * Metrics (tt_store_metric.c): counters kept in the store, added to in
 * the transaction of the change they count.  labels is the Prometheus
 * text between braces ("code=\"spam_risk\""), NULL for none; order
 * sorts one name's samples; the value is shown as value / 10^scale.
 */
#define TT_METRIC_NAME_MAX    64
#define TT_METRIC_LABELS_MAX  192

typedef struct {
    const char     *name;
    const char     *labels;         /* "" none */
    int64_t         value;
    unsigned        scale;
} tt_metric_t;

typedef int (*tt_metric_pt)(void *ctx, const tt_metric_t *m);

int tt_metric_add(tt_txn_t *t, const char *name, const char *labels,
    unsigned order, int64_t delta, unsigned scale);
/* a histogram of v ms, bounds in ms ascending, shown in seconds */
int tt_metric_observe(tt_txn_t *t, const char *name, const int64_t *bounds,
    size_t n, int64_t v);
int tt_metric_iter(tt_txn_t *t, const char *prefix, tt_metric_pt cb,
    void *ctx);

typedef struct {
    size_t          map_size;       /* mapped now */
    size_t          map_max;        /* growth stops there */
    size_t          used;           /* bytes of pages in use */
    size_t          page_size;
    unsigned        readers_max;
    unsigned        readers_used;   /* slots used so far (high water) */
} tt_store_usage_t;

int tt_store_usage(tt_store_t *st, tt_store_usage_t *u);
const char *tt_store_unwritable(tt_store_t *st, const tt_store_usage_t *u);
int tt_store_entries(tt_txn_t *t, int db, uint64_t *n);


#endif /* _TT_STORE_H_INCLUDED_ */
