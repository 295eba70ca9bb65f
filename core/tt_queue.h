/*
 * Copyright (C) the ngx_tiktok authors.
 * Queues: weekly timeslots in a time zone, jitter and priority; the slot
 * arithmetic, without the store.
 */

#ifndef _TT_QUEUE_H_INCLUDED_
#define _TT_QUEUE_H_INCLUDED_


#include "tt_core.h"
#include "tt_buf.h"
#include "tt_tz.h"


#define TT_QUEUE_SLOTS_MAX   336    /* a timeslot every half hour */
#define TT_QUEUE_JITTER_MAX  60     /* minutes */
#define TT_QUEUE_ERRS_MAX    16
#define TT_QUEUE_FIELD_LEN   48

#define TT_QUEUE_NO_SLOT     INT64_MIN

#define TT_QUEUE_HIGH        0
#define TT_QUEUE_MEDIUM      1
#define TT_QUEUE_LOW         2


/* a weekly timeslot: a day of the week and a minute of that day */
typedef struct {
    uint8_t         day;            /* 0 Sunday .. 6 Saturday */
    uint16_t        minute;         /* 0 .. 1439, in the queue's zone */
} tt_queue_slot_t;


/* a queue's definition, validated: slots sorted by (day, minute) */
typedef struct {
    char            timezone[TT_TZ_NAME_MAX];
    unsigned        jitter;         /* minutes, 0 .. 60 */
    unsigned        enabled;
    unsigned        nslots;
    tt_queue_slot_t slots[TT_QUEUE_SLOTS_MAX];
} tt_queue_def_t;


/* the fields as they came in, for tt_queue_define() */
typedef struct {
    int64_t         day;
    tt_str_t        time;           /* "HH:MM" */
} tt_queue_slot_in_t;

typedef struct {
    tt_str_t                   timezone;
    int64_t                    jitter;
    unsigned                   enabled;
    const tt_queue_slot_in_t  *slots;
    size_t                     nslots;
} tt_queue_in_t;


/*
 * Validation errors, each naming its field as the API's request does:
 * "timezone", "jitter", "queue_timeslots_attributes[2].day",
 * "queue_timeslots_attributes[2].time", "queue_timeslots_attributes[3]"
 * (a duplicate), "queue_timeslots_attributes" (too many).  Past
 * TT_QUEUE_ERRS_MAX errors, the rest are counted in more.
 */
typedef struct {
    char            field[TT_QUEUE_FIELD_LEN];
    const char     *message;
} tt_queue_err_t;

typedef struct {
    unsigned        n;
    unsigned        more;
    tt_queue_err_t  errs[TT_QUEUE_ERRS_MAX];
} tt_queue_errs_t;


/* the parts, for a PATCH that changes one field */
int tt_queue_check_timezone(const tt_str_t *tz);
int tt_queue_check_jitter(int64_t jitter);
int tt_queue_check_day(int64_t day);
int tt_queue_parse_time(const tt_str_t *s, unsigned *minute);  /* HH:MM */

/*
 * The whole definition: TT_OK, or TT_INVALID with every failing field in
 * errs (errs->n > 0).  def is filled, slots sorted, only on TT_OK.
 */
int tt_queue_define(const tt_queue_in_t *in, tt_queue_def_t *def,
    tt_queue_errs_t *errs);

/* "HH:MM" of a slot, NUL-terminated */
void tt_queue_format_time(unsigned minute, char buf[6]);


/*
 * The queue's slot instants after a time, in order: each timeslot's wall
 * time on each day in the queue's zone, a time in a spring-forward gap
 * moved to the gap's end, a repeated time at its first occurrence, and
 * instants that two timeslots share on such a day given once.
 */
typedef struct {
    const tt_queue_def_t *def;
    tt_tz_t              *tz;
    int64_t               week;     /* local ms of the week's Sunday */
    unsigned              next;     /* index in def->slots */
    int64_t               last;     /* the last instant given, or after */
} tt_queue_iter_t;

/* tz: opened on def->timezone by the caller, in the calling thread */
int tt_queue_iter_init(tt_queue_iter_t *it, const tt_queue_def_t *def,
    tt_tz_t *tz, int64_t after);

/* TT_OK; TT_NOTFOUND when the queue has no slot (or past year 9999) */
int tt_queue_iter_next(tt_queue_iter_t *it, int64_t *slot);

/*
 * The first slot instant after "after" that is not in taken (sorted
 * ascending, duplicates allowed).  TT_NOTFOUND when the queue has no slot.
 */
int tt_queue_next_free(const tt_queue_def_t *def, tt_tz_t *tz,
    int64_t after, const int64_t *taken, size_t ntaken, int64_t *slot);


/* a random stream for jitter (splitmix64); seed it from tt_random() */
typedef struct {
    uint64_t        state;
} tt_queue_rng_t;


/*
 * A post of a queue, as the arrangement sees it.  slot is the slot the
 * post holds (TT_QUEUE_NO_SLOT if none) and at its time: the slot shifted
 * by the post's jitter, the post's scheduled_at.  The arrangement updates
 * slot, at and moved.
 */
typedef struct {
    uint64_t        key;            /* the caller's: breaks creation ties */
    int64_t         created;        /* ms */
    int64_t         slot;
    int64_t         at;
    uint8_t         priority;       /* TT_QUEUE_HIGH .. TT_QUEUE_LOW */
    uint8_t         started;        /* publishing started: never moves */
    uint8_t         moved;          /* out: slot or at changed */
} tt_queue_post_t;


/*
 * flags of tt_queue_arrange() and tt_queue_add():
 * TT_QUEUE_RESLOT_DUE: posts whose time has come (at <= now) and that
 * have not started take future slots, as when a paused queue is enabled
 * again.  Without it such posts keep their slot: the scheduler is about
 * to claim them.
 */
#define TT_QUEUE_RESLOT_DUE  0x1

/*
 * A post that stays where it is whatever comes: publishing started; or
 * its slot has passed and its time has not; or, without
 * TT_QUEUE_RESLOT_DUE, its time has come (the scheduler claims it).
 */
int tt_queue_pinned(const tt_queue_post_t *p, int64_t now, unsigned flags);

/*
 * Arranges the queue: posts that never move (started, or due without
 * TT_QUEUE_RESLOT_DUE) keep their slots, which stay taken; the others
 * take the free slots after now in order of priority, then creation,
 * then key.  A post whose slot is unchanged keeps its jitter unless the
 * time it gives is now past or outside the queue's jitter; one with a new
 * slot draws a jitter in +/- def->jitter minutes, never earlier than now.
 * Two allocations from the arena (n indices and n instants).  *moved
 * counts the posts whose slot or at changed.  TT_NOTFOUND when posts need
 * slots and the queue has none.
 */
int tt_queue_arrange(const tt_queue_def_t *def, tt_tz_t *tz, int64_t now,
    tt_queue_post_t *posts, size_t n, unsigned flags, tt_queue_rng_t *rng,
    tt_arena_t *arena, size_t *moved);

/*
 * The same for the posts of an arranged queue that come after a post
 * that may move and keeps its slot, from (the caller's): they and any new
 * one take the free slots after from, as tt_queue_arrange() on the whole
 * queue would give them.
 */
int tt_queue_arrange_from(const tt_queue_def_t *def, tt_tz_t *tz,
    int64_t now, int64_t from, tt_queue_post_t *posts, size_t n,
    unsigned flags, tt_queue_rng_t *rng, tt_arena_t *arena, size_t *moved);

/*
 * A new post, posts[n - 1], joins an arranged queue (posts[0 .. n - 2]
 * as tt_queue_arrange() left them).  When it goes after every post that
 * may move, it takes the first free slot after them and nothing else
 * moves; otherwise the queue is arranged again.  Same result as
 * tt_queue_arrange() on the same posts.
 */
int tt_queue_add(const tt_queue_def_t *def, tt_tz_t *tz, int64_t now,
    tt_queue_post_t *posts, size_t n, unsigned flags, tt_queue_rng_t *rng,
    tt_arena_t *arena, size_t *moved);

/*
 * tt_queue_add()'s first case alone: TT_CONFLICT, posts untouched but
 * their moved flags, when the new post does not go after every post that
 * may move (the caller then arranges the queue).
 */
int tt_queue_append(const tt_queue_def_t *def, tt_tz_t *tz, int64_t now,
    tt_queue_post_t *posts, size_t n, unsigned flags, tt_queue_rng_t *rng,
    tt_arena_t *arena, size_t *moved);


#endif /* _TT_QUEUE_H_INCLUDED_ */
