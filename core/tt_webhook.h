/*
 * Copyright (C) the ngx_tiktok authors.
 * Webhooks: the subscriptions, the events, the outbox the scheduler
 * delivers from, the attempts a user sees, and the signature.
 *
 * An event is written to the outbox in the transaction of the change
 * that caused it: tt_post_put() and tt_profile_put() compare what they
 * store with what was stored and call tt_event_post() and
 * tt_event_profile(), so no caller can forget one.  The outbox holds one
 * delivery per (event, subscribed webhook), keyed by its own id, and an
 * agenda of deliveries by their next try (wh_due); the scheduler sends
 * what is due and records each attempt with tt_delivery_done().
 */

#ifndef _TT_WEBHOOK_H_INCLUDED_
#define _TT_WEBHOOK_H_INCLUDED_


#include "tt_store.h"


typedef enum {
    TT_EVT_POST_PROCESSED = 0,      /* post.processed */
    TT_EVT_PLAT_PUBLISHED,          /* platform_post.published */
    TT_EVT_PLAT_FAILED,             /* platform_post.failed */
    TT_EVT_PLAT_RETRY,              /* platform_post.failed_waiting_for_retry */
    TT_EVT_MEDIA_FAILED,            /* media.failed */
    TT_EVT_PROFILE_CONNECTED,       /* profile.connected */
    TT_EVT_PROFILE_DISCONNECTED,    /* profile.disconnected */
    TT_EVT_PROFILE_EXPIRED,         /* profile.expired */
    TT_EVT_TEST,                    /* webhook.test: on demand, to one */
    TT_EVT_COUNT
} tt_event_e;

#define TT_EVT_ALL          ((1u << TT_EVT_TEST) - 1)   /* "*" */

#define TT_WEBHOOK_URL_MAX      2048
#define TT_WEBHOOK_DESC_MAX     1000
#define TT_WEBHOOK_MAX          32      /* per workspace */
#define TT_WEBHOOK_SECRET_LEN   70      /* "whsec_" + 64 hex */
#define TT_WEBHOOK_ATTEMPTS_MAX 1000    /* kept per webhook, newest */
#define TT_WEBHOOK_RETRY_MS     (24 * 3600 * 1000LL)    /* then it fails */

const char *tt_event_name(tt_event_e e);
int tt_event_by_name(const char *s, size_t len);    /* -1 if unknown */


typedef struct {
    char            id[TT_ID_SIZE];             /* wh_... */
    char            workspace_id[TT_ID_SIZE];
    const char     *url;
    const char     *description;                /* NULL none */
    unsigned        events;                     /* 1 << tt_event_e */
    unsigned        all:1;                      /* "*" */
    unsigned        enabled:1;
    int64_t         created_at;
    int64_t         updated_at;

    /*
     * secret: the plain whsec_ to seal on put (a new webhook), NULL to
     * keep sealed, the sealed one as read (hex, opened only by
     * tt_webhook_secret with the store's token key)
     */
    const char     *secret;
    const char     *sealed;
} tt_webhook_t;

/* the API's webhook object (tt_api_webhooks.c); secret NULL: none */
void tt_api_wh_render(tt_jw_t *w, const tt_webhook_t *wh, const char *secret);

/* a new secret: "whsec_" and 64 hex digits, NUL-terminated */
int tt_webhook_secret_new(char out[TT_WEBHOOK_SECRET_LEN + 1]);

int tt_webhook_put(tt_txn_t *t, const tt_webhook_t *wh);
int tt_webhook_get(tt_txn_t *t, const char *id, tt_arena_t *a,
    tt_webhook_t *wh);
int tt_webhook_list(tt_txn_t *t, const char *ws_id, tt_arena_t *a,
    tt_webhook_t **out, size_t *n);             /* oldest first */
/* the record, its index, its attempts; its deliveries die when due */
int tt_webhook_del(tt_txn_t *t, const char *id);
/* every secret sealed again under the ring's first key (tt_store_reseal) */
int tt_webhook_reseal(tt_txn_t *t, tt_arena_t *a, size_t *n);
/* the plain secret (into a): TT_ERR without the store's token key */
int tt_webhook_secret(tt_store_t *st, const tt_webhook_t *wh, tt_arena_t *a,
    const char **plain);
/* whether wh takes events of type e */
int tt_webhook_wants(const tt_webhook_t *wh, tt_event_e e);

/*
 * X-Webhook-Signature's v1: hex HMAC-SHA256(secret, "<t>.<body>"), t the
 * unix seconds also sent as t=.  hex gets 64 digits and a NUL.
 */
int tt_webhook_sign(const char *secret, size_t secret_len, int64_t t,
    const void *body, size_t len, char hex[65]);


/* the outbox */

typedef struct {
    char            id[TT_ID_SIZE];             /* dlv_... */
    char            webhook_id[TT_ID_SIZE];
    char            workspace_id[TT_ID_SIZE];
    char            event_id[TT_ID_SIZE];       /* evt_... */
    tt_event_e      type;
    int64_t         created_at;
    int64_t         next_at;                    /* wall ms */
    int64_t         attempts;                   /* made so far */
    tt_str_t        body;                       /* the event, as sent */
} tt_delivery_t;

/*
 * Writes the data member of an event's body: a JSON value.  What the
 * post and profile events write is theirs; tt_event_emit takes any.
 */
typedef void (*tt_event_data_pt)(tt_jw_t *w, const void *ctx);

/*
 * One event of a workspace into the outbox, a delivery for each enabled
 * webhook that takes it (only: that webhook alone, whatever it takes:
 * the test event).  The event's id goes to evt_id when not NULL; with no
 * webhook to deliver to nothing is written (TT_OK, evt_id "").
 */
int tt_event_emit(tt_txn_t *t, const char *ws_id, tt_event_e type,
    const char *only, tt_event_data_pt data, const void *ctx, int64_t now_ms,
    char evt_id[TT_ID_SIZE]);

/*
 * The status changes of a post (post.processed, platform_post.*,
 * media.failed) since it was last put, from the statuses kept in
 * post_sig; called by tt_post_put, and tt_post_del (p NULL, id) drops
 * them.
 */
int tt_event_post(tt_txn_t *t, const tt_post_t *p, const char *id);

/* a profile's: old NULL for a new one, p NULL for a deleted one */
int tt_event_profile(tt_txn_t *t, const tt_profile_t *old,
    const tt_profile_t *p);

/* the schema step that records every post's statuses (no event) */
int tt_event_post_reindex(tt_txn_t *t);

/* the earliest due delivery, TT_NOTFOUND if none */
int tt_delivery_first(tt_txn_t *t, int64_t *at, char id[TT_ID_SIZE]);
/* every delivery due at or before until; cb returns non-zero to stop */
typedef int (*tt_delivery_iter_pt)(void *ctx, int64_t at, const char *id);
int tt_delivery_due(tt_txn_t *t, int64_t until, tt_delivery_iter_pt cb,
    void *ctx);
int tt_delivery_get(tt_txn_t *t, const char *id, tt_arena_t *a,
    tt_delivery_t *d);


/* an attempt, as GET /api/webhooks/:id/deliveries lists it */
typedef enum {
    TT_ATTEMPT_DELIVERED = 0,       /* a 2xx */
    TT_ATTEMPT_RETRYING,            /* failed, next_attempt_at planned */
    TT_ATTEMPT_FAILED,              /* failed, and the last one */
    TT_ATTEMPT_DROPPED              /* the webhook was disabled: none */
} tt_attempt_status_e;

typedef struct {
    char            delivery_id[TT_ID_SIZE];
    char            event_id[TT_ID_SIZE];
    tt_event_e      type;
    int64_t         attempt_number;
    int64_t         attempted_at;
    int64_t         next_attempt_at;            /* -1 none */
    int64_t         duration_ms;
    long            response_status;            /* 0: no answer */
    tt_attempt_status_e status;
    const char     *error;                      /* NULL none */
} tt_attempt_t;

const char *tt_attempt_status_name(tt_attempt_status_e s);

/*
 * The result of an attempt on delivery d: recorded for the webhook, and
 * the delivery is gone (delivered, failed or dropped) or due again at
 * a->next_attempt_at (retrying).
 */
int tt_delivery_done(tt_txn_t *t, const tt_delivery_t *d,
    const tt_attempt_t *at);

/* one attempt more for a webhook (its oldest beyond the max dropped) */
int tt_attempt_add(tt_txn_t *t, const char *wh_id, const tt_attempt_t *at);

/* the attempts of a webhook, newest first, from offset, at most limit */
int tt_attempt_list(tt_txn_t *t, const char *wh_id, uint64_t offset,
    uint64_t limit, tt_arena_t *a, tt_attempt_t **out, size_t *n,
    uint64_t *total);


#endif /* _TT_WEBHOOK_H_INCLUDED_ */
