/*
 * Copyright (C) the ngx_tiktok authors.
 * The store's insides, shared by its files: the environment, fixed-width
 * keys, raw LMDB access and the JSON record helpers.  Only tt_store*.c
 * include this (and so lmdb.h).
 */

#ifndef _TT_STORE_INT_H_INCLUDED_
#define _TT_STORE_INT_H_INCLUDED_


#include <stdio.h>
#include <stdlib.h>

#include <lmdb.h>

#include "tt_store.h"


/* LMDB's compiled-in limit (MDB_MAXKEYSIZE) */
#define TT_STORE_KEY_MAX    511


struct tt_store_s {
    MDB_env        *env;
    MDB_dbi         dbi[TT_DB_COUNT];
    size_t          map_size;
    size_t          map_max;
    const char     *last_error;
    tt_keyring_t    keys;               /* the first seals */
    uint64_t        list_reads;     /* what tt_post_list() read, counted */
    uint64_t        synced_txnid;   /* the last commit tt_store_sync() saw */
    unsigned        has_key:1;          /* keys to seal with */
    unsigned        open_tokens:1;      /* records' tokens are opened */
};


typedef struct {
    uint8_t         data[TT_STORE_KEY_MAX];
    MDB_val         val;
} tt_skey_t;


typedef int (*tt_store_enc_pt)(tt_txn_t *t, tt_jw_t *w, const void *obj);
typedef int (*tt_store_dec_pt)(tt_store_t *st, const tt_json_t *r,
    tt_arena_t *a, void *obj);
typedef int (*tt_store_keep_pt)(const void *obj, const void *ctx);


#define tt_txn_check(t)                                                      \
    if ((t)->rc != TT_OK || (t)->txn == NULL) {                              \
        return (t)->rc != TT_OK ? (t)->rc : TT_ERR;                          \
    }


/* tt_store_env.c: codes, transactions' sticky error, keys, raw access */
size_t tt_store_page_align(size_t n);
void tt_store_refresh_size(tt_store_t *st);
int tt_store_rc(tt_store_t *st, int rc);
int tt_txn_fail(tt_txn_t *t, int rc);
int tt_store_key(tt_skey_t *k, const char *fmt, ...);
void tt_store_key_id(const uint8_t *p, char id[TT_ID_SIZE]);
uint64_t tt_store_be64(const uint8_t *p);

/* tt_store_counts.c: the lists' counts, written once per transaction */
int tt_counts_add(tt_txn_t *t, const void *key, size_t len, int64_t delta,
    int *below);
int tt_counts_spill(tt_txn_t *t);
int tt_counts_flush(tt_txn_t *t);
int tt_counts_commit(tt_txn_t *t);
int tt_counts_pending(const tt_txn_t *t);
void tt_counts_free(tt_txn_t *t);
/* the calling thread's spare table of sums freed */
void tt_counts_release(void);

int tt_db_get(tt_txn_t *t, int db, tt_skey_t *k, MDB_val *v);
int tt_db_put(tt_txn_t *t, int db, tt_skey_t *k, const void *data,
    size_t len);
int tt_db_del(tt_txn_t *t, int db, tt_skey_t *k);
int tt_db_cursor(tt_txn_t *t, int db, MDB_cursor **c);
int tt_db_seek(tt_txn_t *t, MDB_cursor *c, tt_skey_t *k, int after,
    MDB_val *key);


/* tt_store_json.c: records kept as JSON */
int tt_store_put_json(tt_txn_t *t, int db, tt_skey_t *k, tt_store_enc_pt enc,
    const void *obj);
int tt_store_parse(tt_store_t *st, const MDB_val *v, tt_arena_t *a,
    tt_store_dec_pt dec, void *obj);
int tt_store_get_json(tt_txn_t *t, int db, tt_skey_t *k, tt_arena_t *a,
    tt_store_dec_pt dec, void *obj);
void *tt_store_push(tt_arena_t *a, void **arr, size_t *n, size_t *cap,
    size_t size);
int tt_store_scan(tt_txn_t *t, int db, tt_arena_t *a, tt_store_dec_pt dec,
    tt_store_keep_pt keep, const void *ctx, size_t size, void **out,
    size_t *n);
const char *tt_js(const tt_json_t *r, const char *key);
int64_t tt_ji(const tt_json_t *r, const char *key, int64_t def);
int tt_jid(const tt_json_t *r, const char *key, char id[TT_ID_SIZE]);
void tt_jw_member_str(tt_jw_t *w, const char *key, const char *s);
void tt_jw_member_int(tt_jw_t *w, const char *key, int64_t v);


/* tt_store_list.c: a post's lists, moved when what they key on changed */
int tt_post_terms_set(tt_txn_t *t, const tt_post_t *p);
int tt_post_terms_drop(tt_txn_t *t, const char *id);
int tt_post_terms_retime(tt_txn_t *t, const char *id, const char *queue,
    int64_t at);

/*
 * tt_store_list_move.c: between begin and end, the posts of t whose
 * scheduled_at alone changes have their lists by scheduled_at moved at
 * the end, all in one go (a queue re-arranged).  Nothing may read the
 * lists in between.  A post moved again moves once; one changed
 * otherwise, or deleted, leaves from where its move found it; a nested
 * transaction may not change a post that waits (TT_CONFLICT).
 */
int tt_list_moves_begin(tt_txn_t *t);
int tt_list_moves_end(tt_txn_t *t, int apply);

/* schema 2's migration: indexes built from the records; schemas 3 and
 * 10: every list and count dropped, then built from the records */
int tt_post_reindex(tt_txn_t *t);
int tt_post_relist(tt_txn_t *t);
/* schemas 8, 9: the lists' counts made again (tt_store_list_count.c); and a
 * check of every count against the entries, TT_ERR with err if one is off */
int tt_list_recount(tt_txn_t *t);
int tt_list_check(tt_txn_t *t, char *err, size_t err_len);
int tt_apikey_reindex(tt_txn_t *t);
int tt_profile_reindex(tt_txn_t *t);


/* tt_store_post_put.c: a post stored, its queue's slot given */
int tt_post_put_slot(tt_txn_t *t, const tt_post_t *p, int64_t slot);
int tt_post_put_retime(tt_txn_t *t, const char *id, int64_t slot, int64_t at,
    int64_t now);

/* tt_store_queue_post.c: a post's entry among its queue's live posts */

/* a queue_posts value: at, created, priority, started */
#define TT_QP_VAL_LEN   18
#define TT_QP_KEY_LEN   (2 * TT_ID_SIZE + 8)

int tt_queue_post_sync(tt_txn_t *t, const tt_post_t *p, int64_t slot);
int tt_queue_post_drop(tt_txn_t *t, const char *id);
int tt_queue_post_retime(tt_txn_t *t, const char *id, const char *queue,
    int64_t old, int64_t slot, int64_t at);
int tt_queue_paused(tt_txn_t *t, const char *id);
int tt_queue_live(const tt_post_t *p);
uint8_t tt_queue_prio(tt_priority_e p);
int tt_queue_slot_of(tt_txn_t *t, const char *post_id,
    char queue[TT_ID_SIZE], int64_t *slot, int *prio);

/* tt_store_queue_sum.c: a queue's summary, kept with queue_posts */
#define TT_QSUM_LEN     56

typedef struct {
    uint64_t        waiting[3];         /* by priority, not started */
    uint64_t        started;
    int64_t         created_max[3];     /* bounds the waiting ones' */
} tt_qsum_t;

int tt_qsum_get(tt_txn_t *t, const char *queue, tt_qsum_t *s);
int tt_qsum_put(tt_txn_t *t, const char *queue, const tt_qsum_t *s);
int tt_qsum_add(tt_txn_t *t, const char *queue, const uint8_t *val,
    int delta);
int tt_queue_join_last(tt_txn_t *t, const char *queue,
    const tt_queue_def_t *def, tt_tz_t *tz, int64_t now,
    tt_queue_post_t *fresh, tt_queue_rng_t *rng, tt_arena_t *a);
int tt_qsum_reindex(tt_txn_t *t);
/* tt_store_queue.c: a post of a queue stored at its new slot and time */
int tt_queue_move(tt_txn_t *t, const char *id, int64_t slot, int64_t at);
int tt_queue_head_put(tt_txn_t *t, const tt_queue_t *q, int add);

/* tt_store_queue.c: schema 4's migration */
int tt_queue_reindex(tt_txn_t *t);


/* tt_store_seal.c: profile tokens, [key id ":"] hex(nonce | ciphertext |
 * tag), the profile id and the field bound in as AAD */
int tt_token_seal(const tt_store_t *st, const char *id, const char *field,
    const char *plain, tt_buf_t *out);
int tt_token_open(const tt_store_t *st, const char *id, const char *field,
    const char *hex, tt_arena_t *a, const char **plain);

/* tt_store_json.c: a profile's stored status by name */
tt_profile_status_e tt_profile_status_parse(const char *s);


#endif /* _TT_STORE_INT_H_INCLUDED_ */
