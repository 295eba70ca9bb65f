/*
 * Copyright (C) the ngx_tiktok authors.
 * The lists' insides shared by tt_store_list.c (entries, counts, pages)
 * and tt_store_list_move.c (scope digests, a queue's moves in one go).
 */

#ifndef _TT_STORE_LIST_INT_H_INCLUDED_
#define _TT_STORE_LIST_INT_H_INCLUDED_


/*
 * The counts of a list, by level: 0 its total; 1 to 4 buckets of 2^32,
 * 2^24, 2^16 and 2^8 of the key (49.7 days, 4.7 hours, 65.5 s, 256 ms);
 * 5 one key; and, below it, TT_LIST_ID_LEVELS levels of one key and the
 * first 3, 4, ... bytes of the id ("p_" and its characters).  A post's id
 * starts with the time it was made (tt_id.h): the id levels split the
 * posts of one key (thousands may share a scheduled_at) by the time they
 * were made, from the 62^7 ms of the first character down to the
 * millisecond of the eighth, then 62 ways by the first random one.  A
 * cell holds at most 256 cells of the level below, 62 at the id levels,
 * so that an entry is found by reading a bounded number of counts, then
 * by stepping through one leaf (below), or one cell of the last level:
 * the posts made in one millisecond with one random character.
 *
 * Made in time order, the posts a batch writes share their cells down to
 * the last few levels, so the counts they change are few and close
 * together.  (The ids made before time-ordered ones are random
 * characters alone: their posts split 62 ways at each id level.)
 */
#define TT_LIST_KEYED       5       /* the level of one key */
#define TT_LIST_ID_LEVELS   (TT_ID_TIME + 1)
#define TT_LIST_LEVELS      (TT_LIST_KEYED + 1 + TT_LIST_ID_LEVELS)
#define TT_LIST_LAST        (TT_LIST_LEVELS - 1)
#define TT_LIST_IDPART      (TT_ID_POST_LEN + TT_LIST_ID_LEVELS)

/* the id bytes the cells of a level are keyed by */
#define tt_list_idpart(level)                                                 \
    ((level) > TT_LIST_KEYED ? (level) - TT_LIST_KEYED + TT_ID_POST_LEN : 0)

/*
 * Counts are kept under a cell only while it holds enough entries to need
 * them: a cell of at most TT_LIST_LEAF_MAX entries is a leaf, stepped
 * through entry by entry, with no counts below it.  A leaf that grows past
 * TT_LIST_LEAF_MAX gets its counts below built from its entries; a cell
 * that falls to TT_LIST_LEAF_LOW entries loses them (the gap between the
 * two keeps a cell at the edge from building and dropping on every post).
 * The count's value holds TT_LIST_LEAF beside the number; the cells of
 * levels 0 and 1 are always kept, those of the last level have nothing
 * below them.  A queue's posts, days apart, are each alone in their cells
 * below level 1 and so need none of them; a list of tens of thousands
 * has cells down to level 4 or 5.
 */
#define TT_LIST_LEAF_MAX    64
#define TT_LIST_LEAF_LOW    16
#define TT_LIST_LEAF        (((uint64_t) 1) << 63)


#define TT_LIST_CREATED     'c'     /* key ~created_at: newest first */
#define TT_LIST_SCHED       's'     /* key scheduled_at: earliest first */

/* an entry out or in (tt_list_entry()) */
#define TT_LIST_OUT         0
#define TT_LIST_IN          1

/* which of a post's lists tt_terms_apply() changes */
#define TT_TERMS_BY_CREATED 0x1
#define TT_TERMS_BY_SCHED   0x2

/*
 * A list's keys start with its scope's digest (the first TT_LIST_SCOPE
 * bytes of the SHA-256 of ws, group and queue ids, 32 bytes each), its
 * order and its class: 18 bytes rather than 98, so that entries and
 * counts take a third of the pages.
 */
#define TT_LIST_SCOPE       16
#define TT_LIST_PREFIX      (TT_LIST_SCOPE + 2)
#define TT_LIST_KEY         (TT_LIST_PREFIX + 8 + TT_ID_SIZE)
#define TT_LIST_COUNT_KEY   (TT_LIST_PREFIX + 1 + 8)
#define tt_list_count_len(level)  (TT_LIST_COUNT_KEY + tt_list_idpart(level))
#define TT_TERMS_SIZE       (3 * TT_ID_SIZE + 1 + 16)


/* a post's id as the lists' entries and counts hold it: NULs past its end */
void tt_list_id_put(char out[TT_ID_SIZE], const char *id);


/* what a post is listed by; equal terms need no index work */
typedef struct {
    char            ws[TT_ID_SIZE];
    char            group[TT_ID_SIZE];
    char            queue[TT_ID_SIZE];
    unsigned        classes;
    int64_t         created;
    int64_t         scheduled;
} tt_terms_t;


/* tt_store_list_move.c */
int tt_list_prefix(tt_skey_t *k, const char *ws, const char *group,
    const char *queue, int kind, unsigned cls);
/* whether the moves of a batch take this one (its terms then stored) */
int tt_list_move_defer(tt_txn_t *t, const tt_terms_t *old,
    const tt_terms_t *tm, const char *id);
/* a post whose lists change otherwise: its entries' time if it waits in
 * the batch (its move then dropped) */
int tt_list_move_settle(tt_txn_t *t, const char *id, int64_t *sched);

/* the bits a key is shifted by for its bucket at each level */
extern const unsigned  tt_list_shifts[TT_LIST_LEVELS];

/* tt_store_list_count.c */
extern const uint8_t   tt_list_id0[TT_LIST_IDPART];

int tt_list_count_change(tt_txn_t *t, MDB_cursor *c, const uint8_t *key,
    size_t len, int64_t delta, int *below);
int tt_list_count_up(const uint8_t *key, size_t len, tt_skey_t *up);
int tt_list_count_stored(tt_txn_t *t, const uint8_t *key, size_t len,
    int *below);

/* tt_store_list.c */
int tt_list_count_key(tt_skey_t *k, const tt_skey_t *prefix, int level,
    uint64_t key, const void *id);
int tt_terms_apply(tt_txn_t *t, const tt_terms_t *tm, const char *id,
    int add, unsigned kinds);


#endif /* _TT_STORE_LIST_INT_H_INCLUDED_ */
