/*
 * Copyright (C) the ngx_tiktok authors.
 * Webhook delivery: the outbox's due deliveries (tt_webhook.h) POSTed on
 * the loop's curl multi handle, signed, each attempt recorded, retried
 * with exponential backoff and jitter for TT_WEBHOOK_RETRY_MS.
 *
 * A slow, dead or redirecting receiver never holds anything else up: at
 * most SCHED_WH_FLIGHTS deliveries are in flight, SCHED_WH_PER_HOOK of
 * them to one webhook, each bounded by tiktok_webhook_timeout; no
 * redirect is followed (a 3xx is a failed attempt); and every
 * connection's address goes through the media downloads' guard
 * (tt_addr_refusal) unless tiktok_webhook_allow_private is on.  The
 * secret is opened for the signature and wiped; it is never logged, nor
 * is the URL (its query may hold a receiver's token).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <openssl/crypto.h>

#include "sched.h"
#include "tt_addr.h"
#include "tt_webhook.h"


#define SCHED_WH_FLIGHTS        32
#define SCHED_WH_PER_HOOK       2
#define SCHED_WH_POLL_MS        500
#define SCHED_WH_RESP_MAX       1024
#define SCHED_WH_CONNECT_MS     10000L
#define SCHED_WH_BACKOFF_BASE   5000
#define SCHED_WH_BACKOFF_CAP    (3600 * 1000LL)
#define SCHED_WH_MSG_MAX        256


typedef struct sched_wh_s  sched_wh_t;

typedef struct {
    sched_wh_t     *wh;
    tt_arena_t     *arena;
    tt_delivery_t   d;
    int64_t         started;            /* mono ms */
    int64_t         attempted_at;       /* wall ms */
    unsigned        guard:1;
    unsigned        dropped:1;          /* its webhook is gone or off */
    unsigned        started_http:1;
    const char     *url;
    const char     *secret;             /* wiped once signed */
    char            refused[SCHED_WH_MSG_MAX];
} sched_wh_flight_t;

struct sched_wh_s {
    sched_t            *s;
    sched_wh_flight_t  *flights[SCHED_WH_FLIGHTS];
    size_t              n;
    int64_t             next_poll;      /* mono ms */

    /* one poll's picks, started once its read transaction is over */
    sched_wh_flight_t  *picked[SCHED_WH_FLIGHTS];
    size_t              npicked;
};


static sched_wh_t  *sched_wh;


static void
sched_wh_flight_free(sched_wh_flight_t *f)
{
    if (f->secret != NULL) {
        OPENSSL_cleanse((void *) f->secret, strlen(f->secret));
    }

    tt_arena_destroy(f->arena);
    free(f);
}


static int
sched_wh_busy(sched_wh_t *w, const char *dlv, const char *hook)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i < w->n; i++) {
        if (strcmp(w->flights[i]->d.id, dlv) == 0) {
            return 1;
        }

        n += strcmp(w->flights[i]->d.webhook_id, hook) == 0;
    }

    for (i = 0; i < w->npicked; i++) {
        if (strcmp(w->picked[i]->d.id, dlv) == 0) {
            return 1;
        }

        n += strcmp(w->picked[i]->d.webhook_id, hook) == 0;
    }

    return n >= SCHED_WH_PER_HOOK;
}


typedef struct {
    sched_wh_t     *w;
    tt_txn_t       *t;
} sched_wh_scan_t;


/* a due delivery: picked with what it needs, or dropped */
static int
sched_wh_pick(void *data, int64_t at, const char *id)
{
    int                 rc;
    tt_webhook_t        hook;
    sched_wh_scan_t    *sc = data;
    sched_wh_flight_t  *f;

    if (sc->w->n + sc->w->npicked >= SCHED_WH_FLIGHTS) {
        return 1;
    }

    f = calloc(1, sizeof(sched_wh_flight_t));
    if (f == NULL || (f->arena = tt_arena_create(4096)) == NULL) {
        free(f);
        return 1;
    }

    f->wh = sc->w;

    rc = tt_delivery_get(sc->t, id, f->arena, &f->d);

    if (rc == TT_OK && sched_wh_busy(sc->w, f->d.id, f->d.webhook_id)) {
        sched_wh_flight_free(f);
        return 0;
    }

    if (rc == TT_OK) {
        rc = tt_webhook_get(sc->t, f->d.webhook_id, f->arena, &hook);

        if (rc == TT_NOTFOUND || (rc == TT_OK && !hook.enabled
                                  && f->d.type != TT_EVT_TEST))
        {
            f->dropped = 1;
            rc = TT_OK;

        } else if (rc == TT_OK) {
            f->url = hook.url;

            if (tt_webhook_secret(sc->w->s->store, &hook, f->arena,
                                  &f->secret) != TT_OK)
            {
                f->secret = NULL;
            }
        }
    }

    if (rc != TT_OK) {
        sched_log(SCHED_LOG_ERR, "webhook delivery %s cannot be read: %s",
                  id, tt_store_last_error(sc->w->s->store));
        sched_wh_flight_free(f);
        return 1;
    }

    sc->w->picked[sc->w->npicked++] = f;

    return 0;
}


/* the guard: every address a delivery connects to */
static curl_socket_t
sched_wh_socket(void *data, curlsocktype purpose, struct curl_sockaddr *a)
{
    char                     ip[INET6_ADDRSTRLEN];
    const void              *in;
    tt_addr_class_e          c;
    sched_wh_flight_t       *f = data;

    c = tt_addr_class_sa(&a->addr, a->addrlen);

    if (f->guard && c != TT_ADDR_PUBLIC) {
        in = a->family == AF_INET6
             ? (const void *) &((struct sockaddr_in6 *) &a->addr)->sin6_addr
             : (const void *) &((struct sockaddr_in *) &a->addr)->sin_addr;

        if (inet_ntop(a->family, in, ip, sizeof(ip)) == NULL) {
            (void) snprintf(ip, sizeof(ip), "an address");
        }

        (void) snprintf(f->refused, sizeof(f->refused),
                        "the webhook URL resolves to %s, %s; webhooks to "
                        "non-public addresses are refused "
                        "(tiktok_webhook_allow_private)", ip,
                        tt_addr_class_name(c));
        return CURL_SOCKET_BAD;
    }

    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}


static int
sched_wh_header(sched_http_t *h, const char *fmt, const char *a,
    const char *b)
{
    char                line[256];
    int                 n;
    struct curl_slist  *l;

    n = snprintf(line, sizeof(line), fmt, a, b);
    if (n < 0 || (size_t) n >= sizeof(line)) {
        return SCHED_ERR;
    }

    l = curl_slist_append(h->headers, line);
    OPENSSL_cleanse(line, sizeof(line));

    if (l == NULL) {
        return SCHED_ERR;
    }

    h->headers = l;

    return SCHED_OK;
}


/* the body and headers of api.md, signed: t=<unix s>,v1=<hex> */
static int
sched_wh_request(sched_t *s, sched_wh_flight_t *f, sched_http_t *h)
{
    int      rc;
    char     ts[24], v1[65];
    int64_t  t;

    t = f->attempted_at / 1000;
    (void) snprintf(ts, sizeof(ts), "%lld", (long long) t);

    rc = tt_webhook_sign(f->secret, strlen(f->secret), t, f->d.body.data,
                         f->d.body.len, v1);

    OPENSSL_cleanse((void *) f->secret, strlen(f->secret));
    f->secret = NULL;

    if (rc != TT_OK
        || sched_wh_header(h, "Content-Type: application/json%s%s", "", "")
           != SCHED_OK
        || sched_wh_header(h, "X-Webhook-Event: %s%s",
                           tt_event_name(f->d.type), "") != SCHED_OK
        || sched_wh_header(h, "X-Webhook-Delivery: %s%s", f->d.id, "")
           != SCHED_OK
        || sched_wh_header(h, "X-Webhook-Signature: t=%s,v1=%s", ts, v1)
           != SCHED_OK
        || sched_wh_header(h, "Expect:%s%s", "", "") != SCHED_OK)
    {
        return SCHED_ERR;
    }

    h->req_body = malloc(f->d.body.len + 1);
    if (h->req_body == NULL) {
        return SCHED_ERR;
    }

    memcpy(h->req_body, f->d.body.data, f->d.body.len);
    h->req_body[f->d.body.len] = '\0';
    h->resp_max = SCHED_WH_RESP_MAX;
    f->guard = s->conf.webhook_private ? 0 : 1;

    (void) curl_easy_setopt(h->easy, CURLOPT_URL, f->url);
    (void) curl_easy_setopt(h->easy, CURLOPT_POST, 1L);
    (void) curl_easy_setopt(h->easy, CURLOPT_POSTFIELDS, h->req_body);
    (void) curl_easy_setopt(h->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                            (curl_off_t) f->d.body.len);
    (void) curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, h->headers);
    (void) curl_easy_setopt(h->easy, CURLOPT_FOLLOWLOCATION, 0L);
    (void) curl_easy_setopt(h->easy, CURLOPT_TIMEOUT_MS,
                            (long) s->conf.webhook_timeout_ms);
    (void) curl_easy_setopt(h->easy, CURLOPT_CONNECTTIMEOUT_MS,
                            s->conf.webhook_timeout_ms < SCHED_WH_CONNECT_MS
                            ? (long) s->conf.webhook_timeout_ms
                            : SCHED_WH_CONNECT_MS);
    (void) curl_easy_setopt(h->easy, CURLOPT_OPENSOCKETFUNCTION,
                            sched_wh_socket);
    (void) curl_easy_setopt(h->easy, CURLOPT_OPENSOCKETDATA, f);
    (void) curl_easy_setopt(h->easy, CURLOPT_USERAGENT,
                            "tiktok-scheduler-webhooks");

    if (f->guard) {
        /* a proxy would resolve the name itself, past the guard */
        (void) curl_easy_setopt(h->easy, CURLOPT_PROXY, "");
    }

    return SCHED_OK;
}


static void sched_wh_done(sched_t *s, sched_http_t *h);
static void sched_wh_record(sched_t *s, sched_wh_flight_t *f, long status,
    const char *error);


static void
sched_wh_start(sched_t *s, sched_wh_t *w, sched_wh_flight_t *f)
{
    sched_http_t  *h;

    f->started = tt_mono_ms();
    f->attempted_at = tt_now_ms();

    if (f->dropped) {
        sched_wh_record(s, f, 0, "the webhook was deleted or disabled");
        sched_wh_flight_free(f);
        return;
    }

    if (f->secret == NULL) {
        sched_wh_record(s, f, 0, "the webhook's secret does not open with "
                        "tiktok_token_key_file's key");
        sched_wh_flight_free(f);
        return;
    }

    h = sched_http_new(s, sched_wh_done, f);

    if (h == NULL || sched_wh_request(s, f, h) != SCHED_OK
        || sched_http_start(s, h) != SCHED_OK)
    {
        if (h != NULL) {
            sched_http_free(s, h);
        }

        sched_wh_record(s, f, 0, "the request could not be made (out of "
                        "memory)");
        sched_wh_flight_free(f);
        return;
    }

    w->flights[w->n++] = f;
}


/* the loop's tick: what is due, started */
static void
sched_wh_run(sched_t *s, int64_t now, void *data)
{
    size_t            i;
    tt_txn_t          rt, *use;
    sched_wh_t       *w = data;
    sched_wh_scan_t   sc;

    if (now < w->next_poll) {
        return;
    }

    w->next_poll = now + SCHED_WH_POLL_MS;

    if (w->n >= SCHED_WH_FLIGHTS
        || sched_read_begin(s, &rt, &use) != SCHED_OK)
    {
        return;
    }

    sc.w = w;
    sc.t = use;
    w->npicked = 0;

    (void) tt_delivery_due(use, tt_now_ms(), sched_wh_pick, &sc);

    sched_read_end(s, &rt, use);

    for (i = 0; i < w->npicked; i++) {
        sched_wh_start(s, w, w->picked[i]);
    }

    w->npicked = 0;
}


static int64_t
sched_wh_next(sched_t *s, void *data)
{
    sched_wh_t  *w = data;

    return w->next_poll;
}


/*
 * The attempt, in the iteration's transaction: delivered, or due again
 * after a backoff, or failed for good once TT_WEBHOOK_RETRY_MS passed
 * since the event.  A lost commit leaves the delivery due as it was: it
 * is sent again (at least once).
 */
static void
sched_wh_record(sched_t *s, sched_wh_flight_t *f, long status,
    const char *error)
{
    int64_t        now, wait;
    tt_txn_t      *t;
    tt_attempt_t   at;
    char           label[64];

    now = tt_now_ms();

    memset(&at, 0, sizeof(tt_attempt_t));
    memcpy(at.delivery_id, f->d.id, TT_ID_SIZE);
    memcpy(at.event_id, f->d.event_id, TT_ID_SIZE);
    at.type = f->d.type;
    at.attempt_number = f->d.attempts + 1;
    at.attempted_at = f->attempted_at;
    at.duration_ms = tt_mono_ms() - f->started;
    at.response_status = status;
    at.error = error;
    at.next_attempt_at = -1;

    if (f->dropped) {
        at.status = TT_ATTEMPT_DROPPED;

    } else if (error == NULL) {
        at.status = TT_ATTEMPT_DELIVERED;

    } else {
        wait = sched_backoff_from(SCHED_WH_BACKOFF_BASE,
                                  SCHED_WH_BACKOFF_CAP, at.attempt_number);

        if (now + wait > f->d.created_at + TT_WEBHOOK_RETRY_MS) {
            at.status = TT_ATTEMPT_FAILED;

        } else {
            at.status = TT_ATTEMPT_RETRYING;
            at.next_attempt_at = now + wait;
        }
    }

    sched_log(at.status == TT_ATTEMPT_DELIVERED ? SCHED_LOG_INFO
                                                : SCHED_LOG_WARN,
              "webhook %s delivery %s of event %s (%s) attempt %lld: %s, "
              "answer %ld, %lld ms%s%s", f->d.webhook_id, f->d.id,
              f->d.event_id, tt_event_name(f->d.type),
              (long long) at.attempt_number,
              tt_attempt_status_name(at.status), status,
              (long long) at.duration_ms, error ? ": " : "",
              error ? error : "");

    t = sched_txn(s);

    if (t == NULL || tt_delivery_done(t, &f->d, &at) != TT_OK) {
        sched_log(SCHED_LOG_ERR, "webhook delivery %s: the attempt cannot "
                  "be recorded: %s", f->d.id, tt_store_last_error(s->store));
        return;
    }

    /* tiktok_metrics: attempts by what became of them */
    (void) snprintf(label, sizeof(label), "result=\"%s\"",
                    tt_attempt_status_name(at.status));
    (void) tt_metric_add(t, "tiktok_webhook_deliveries_total", label, 0, 1,
                         0);
}


static void
sched_wh_done(sched_t *s, sched_http_t *h)
{
    size_t              i;
    char                msg[SCHED_WH_MSG_MAX];
    const char         *error;
    sched_wh_flight_t  *f = h->data;
    sched_wh_t         *w = f->wh;

    error = NULL;

    if (f->refused[0] != '\0') {
        error = f->refused;

    } else if (h->result != CURLE_OK) {
        (void) snprintf(msg, sizeof(msg), "%s",
                        h->errbuf[0] ? h->errbuf
                                     : curl_easy_strerror(h->result));
        error = msg;

    } else if (h->status >= 300 && h->status < 400) {
        (void) snprintf(msg, sizeof(msg), "answered %ld: redirects are not "
                        "followed", h->status);
        error = msg;

    } else if (h->status < 200 || h->status >= 300) {
        (void) snprintf(msg, sizeof(msg), "answered %ld", h->status);
        error = msg;
    }

    sched_wh_record(s, f, h->result == CURLE_OK ? h->status : 0, error);

    for (i = 0; i < w->n; i++) {
        if (w->flights[i] == f) {
            w->flights[i] = w->flights[--w->n];
            break;
        }
    }

    sched_wh_flight_free(f);
}


int
sched_webhook_init(sched_t *s)
{
    sched_hook_t  h = { "webhooks", sched_wh_run, sched_wh_next, NULL, NULL };

    sched_wh = calloc(1, sizeof(sched_wh_t));
    if (sched_wh == NULL) {
        return SCHED_ERR;
    }

    sched_wh->s = s;
    h.data = sched_wh;

    return sched_loop_hook(s, &h);
}


/* at exit, before the transfers are aborted (their done is not called) */
void
sched_webhook_done(sched_t *s)
{
    size_t  i;

    if (sched_wh == NULL) {
        return;
    }

    for (i = 0; i < sched_wh->n; i++) {
        sched_wh_flight_free(sched_wh->flights[i]);
    }

    free(sched_wh);
    sched_wh = NULL;
}
