/*
 * Copyright (C) the ngx_tiktok authors.
 * HTTP exchanges with TikTok on curl easy handles: JSON and form POSTs,
 * and chunk PUTs streamed from the spool file, on one multi handle whose
 * sockets and timer the loop watches (after curl's ephiperfifo.c).
 * Media downloads run in a child process (tiktok-fetch).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "sched.h"


#define SCHED_RESP_MAX       (256 * 1024)
#define SCHED_CONNECT_MS     10000L
#define SCHED_API_TIMEOUT_MS 60000L
#define SCHED_LOW_SPEED      1024L      /* bytes/s ... */
#define SCHED_LOW_TIME       60L        /* ... for this many seconds */
#define SCHED_UPLOAD_BUF     (64 * 1024L)


static size_t
sched_http_write(char *p, size_t size, size_t n, void *data)
{
    sched_http_t  *h = data;
    size_t         len;

    len = size * n;

    if (h->resp.len + len > h->resp_max) {
        /* a body this large is not TikTok's: keep the head for the log */
        return len;
    }

    if (tt_buf_append(&h->resp, p, len) != TT_OK) {
        return 0;
    }

    return len;
}


/* Content-Range: bytes 0-N/T tells how far the upload got */
static size_t
sched_http_header(char *p, size_t size, size_t n, void *data)
{
    sched_http_t  *h = data;
    size_t         len;
    char           buf[128], *end, *dash;
    long long      v;

    len = size * n;

    if (len < 14 || len >= sizeof(buf)
        || strncasecmp(p, "content-range:", 14) != 0)
    {
        return len;
    }

    memcpy(buf, p, len);
    buf[len] = '\0';

    /* "bytes *" "/T": nothing received yet */
    if (strstr(buf, "*/") != NULL) {
        h->range_last = -1;
        return len;
    }

    dash = strchr(buf, '-');
    if (dash == NULL) {
        return len;
    }

    errno = 0;
    v = strtoll(dash + 1, &end, 10);

    if (errno == 0 && end != dash + 1 && *end == '/') {
        h->range_last = v;
    }

    return len;
}


static size_t
sched_http_read(char *p, size_t size, size_t n, void *data)
{
    sched_http_t  *h = data;
    size_t         want;
    ssize_t        r;

    want = size * n;

    if ((int64_t) want > h->in_left) {
        want = (size_t) h->in_left;
    }

    if (want == 0) {
        return 0;
    }

    do {
        r = pread(h->in_fd, p, want, h->in_off);
    } while (r < 0 && errno == EINTR);

    if (r <= 0) {
        /* the spool file shrank or failed: never send short data */
        return CURL_READFUNC_ABORT;
    }

    h->in_off += r;
    h->in_left -= r;

    return (size_t) r;
}


sched_http_t *
sched_http_new(sched_t *s, sched_http_done_pt done, void *data)
{
    sched_http_t  *h;

    h = calloc(1, sizeof(sched_http_t));
    if (h == NULL) {
        return NULL;
    }

    h->easy = curl_easy_init();
    if (h->easy == NULL) {
        free(h);
        return NULL;
    }

    tt_buf_init(&h->resp);
    h->resp_max = SCHED_RESP_MAX;
    h->in_fd = -1;
    h->range_last = -2;
    h->done = done;
    h->data = data;

    (void) curl_easy_setopt(h->easy, CURLOPT_PRIVATE, h);
    (void) curl_easy_setopt(h->easy, CURLOPT_ERRORBUFFER, h->errbuf);
    (void) curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, sched_http_write);
    (void) curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, h);
    (void) curl_easy_setopt(h->easy, CURLOPT_HEADERFUNCTION,
                            sched_http_header);
    (void) curl_easy_setopt(h->easy, CURLOPT_HEADERDATA, h);
    (void) curl_easy_setopt(h->easy, CURLOPT_NOSIGNAL, 1L);
    (void) curl_easy_setopt(h->easy, CURLOPT_CONNECTTIMEOUT_MS,
                            SCHED_CONNECT_MS);
    (void) curl_easy_setopt(h->easy, CURLOPT_LOW_SPEED_LIMIT,
                            SCHED_LOW_SPEED);
    (void) curl_easy_setopt(h->easy, CURLOPT_LOW_SPEED_TIME, SCHED_LOW_TIME);
    (void) curl_easy_setopt(h->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    (void) curl_easy_setopt(h->easy, CURLOPT_USERAGENT, "tiktok-scheduler");

    return h;
}


void
sched_http_free(sched_t *s, sched_http_t *h)
{
    if (h->prev) {
        h->prev->next = h->next;

    } else if (s->https == h) {
        s->https = h->next;
    }

    if (h->next) {
        h->next->prev = h->prev;
    }

    curl_easy_cleanup(h->easy);
    curl_slist_free_all(h->headers);
    free(h->req_body);
    tt_buf_free(&h->resp);
    free(h);
}


static int
sched_http_header_add(sched_http_t *h, const char *line)
{
    struct curl_slist  *l;

    l = curl_slist_append(h->headers, line);
    if (l == NULL) {
        return SCHED_ERR;
    }

    h->headers = l;
    return SCHED_OK;
}


static int
sched_http_post(sched_http_t *h, const char *url, const char *body,
    size_t len)
{
    h->req_body = malloc(len + 1);
    if (h->req_body == NULL) {
        return SCHED_ERR;
    }

    memcpy(h->req_body, body, len);
    h->req_body[len] = '\0';

    (void) curl_easy_setopt(h->easy, CURLOPT_URL, url);
    (void) curl_easy_setopt(h->easy, CURLOPT_POST, 1L);
    (void) curl_easy_setopt(h->easy, CURLOPT_POSTFIELDS, h->req_body);
    (void) curl_easy_setopt(h->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                            (curl_off_t) len);
    (void) curl_easy_setopt(h->easy, CURLOPT_TIMEOUT_MS,
                            SCHED_API_TIMEOUT_MS);
    (void) curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, h->headers);

    return SCHED_OK;
}


int
sched_http_json(sched_http_t *h, const char *url, const char *bearer,
    const char *body, size_t len)
{
    char  auth[2048];
    int   n;

    n = snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
    if (n < 0 || (size_t) n >= sizeof(auth)) {
        return SCHED_ERR;
    }

    if (sched_http_header_add(h, auth) != SCHED_OK
        || sched_http_header_add(h, "Content-Type: application/json; "
                                    "charset=UTF-8") != SCHED_OK
        || sched_http_header_add(h, "Expect:") != SCHED_OK)
    {
        memset(auth, 0, sizeof(auth));
        return SCHED_ERR;
    }

    memset(auth, 0, sizeof(auth));

    return sched_http_post(h, url, body, len);
}


/* a GET with the user's token (TikTok's display API) */
int
sched_http_get(sched_http_t *h, const char *url, const char *bearer)
{
    char  auth[2048];
    int   n, rc;

    n = snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
    if (n < 0 || (size_t) n >= sizeof(auth)) {
        return SCHED_ERR;
    }

    rc = sched_http_header_add(h, auth);
    memset(auth, 0, sizeof(auth));

    if (rc != SCHED_OK) {
        return SCHED_ERR;
    }

    (void) curl_easy_setopt(h->easy, CURLOPT_URL, url);
    (void) curl_easy_setopt(h->easy, CURLOPT_HTTPGET, 1L);
    (void) curl_easy_setopt(h->easy, CURLOPT_TIMEOUT_MS,
                            SCHED_API_TIMEOUT_MS);
    (void) curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, h->headers);

    return SCHED_OK;
}


int
sched_http_form(sched_http_t *h, const char *url, const char *body,
    size_t len)
{
    if (sched_http_header_add(h, "Content-Type: "
                              "application/x-www-form-urlencoded") != SCHED_OK
        || sched_http_header_add(h, "Cache-Control: no-cache") != SCHED_OK
        || sched_http_header_add(h, "Expect:") != SCHED_OK)
    {
        return SCHED_ERR;
    }

    return sched_http_post(h, url, body, len);
}


int
sched_http_put(sched_http_t *h, const char *url, const char *ctype,
    int fd, int64_t off, int64_t len, int64_t total)
{
    char  line[128];
    int   n;

    n = snprintf(line, sizeof(line), "Content-Type: %s", ctype);
    if (n < 0 || (size_t) n >= sizeof(line)
        || sched_http_header_add(h, line) != SCHED_OK)
    {
        return SCHED_ERR;
    }

    n = snprintf(line, sizeof(line), "Content-Range: bytes %lld-%lld/%lld",
                 (long long) off, (long long) (off + len - 1),
                 (long long) total);
    if (n < 0 || (size_t) n >= sizeof(line)
        || sched_http_header_add(h, line) != SCHED_OK
        || sched_http_header_add(h, "Expect:") != SCHED_OK)
    {
        return SCHED_ERR;
    }

    h->in_fd = fd;
    h->in_off = off;
    h->in_left = len;

    /* INFILESIZE makes curl send Content-Length, never chunked */
    (void) curl_easy_setopt(h->easy, CURLOPT_URL, url);
    (void) curl_easy_setopt(h->easy, CURLOPT_UPLOAD, 1L);
    (void) curl_easy_setopt(h->easy, CURLOPT_READFUNCTION, sched_http_read);
    (void) curl_easy_setopt(h->easy, CURLOPT_READDATA, h);
    (void) curl_easy_setopt(h->easy, CURLOPT_INFILESIZE_LARGE,
                            (curl_off_t) len);
    (void) curl_easy_setopt(h->easy, CURLOPT_UPLOAD_BUFFERSIZE,
                            SCHED_UPLOAD_BUF);
    (void) curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, h->headers);

    return SCHED_OK;
}


/* name=value, percent-encoded, appended with '&' */
int
sched_http_form_field(tt_buf_t *out, const char *name, const char *v,
    size_t len)
{
    char  *e;

    e = curl_easy_escape(NULL, v, (int) len);
    if (e == NULL) {
        return SCHED_ERR;
    }

    (void) tt_buf_printf(out, "%s%s=%s", out->len ? "&" : "", name, e);

    /* the secret and the token must not linger in freed memory */
    memset(e, 0, strlen(e));
    curl_free(e);

    return tt_buf_ok(out) ? SCHED_OK : SCHED_ERR;
}


/* the multi handle in the loop, after curl's ephiperfifo example */

static void sched_curl_check(sched_t *s);


static void
sched_curl_io(sched_t *s, int fd, uint32_t events, void *data)
{
    int  flags;

    flags = 0;

    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        flags |= CURL_CSELECT_IN;
    }

    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
        flags |= CURL_CSELECT_OUT;
    }

    (void) curl_multi_socket_action(s->multi, fd, flags, &s->running);
    sched_curl_check(s);
}


static void
sched_curl_timer(sched_t *s, sched_clock_t *c, void *data)
{
    s->curl_now = 0;
    (void) curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0,
                                    &s->running);
    sched_curl_check(s);
}


static int
sched_curl_sock_cb(CURL *e, curl_socket_t fd, int what, void *userp,
    void *sockp)
{
    sched_t   *s = userp;
    uint32_t   events;

    if (what == CURL_POLL_REMOVE) {
        (void) sched_loop_del(s, fd);
        return 0;
    }

    events = 0;

    if (what & CURL_POLL_IN) {
        events |= EPOLLIN;
    }

    if (what & CURL_POLL_OUT) {
        events |= EPOLLOUT;
    }

    if (sched_loop_add(s, fd, events, sched_curl_io, NULL) != SCHED_OK) {
        return -1;
    }

    return 0;
}


/*
 * Never calls libcurl: only arms the clock.  curl asks for "at once" on
 * every curl_multi_add_handle: while the clock is armed for that and has
 * not fired, asking again changes nothing, and 1,000 calls added at the
 * due time skip 1,000 timerfd_settime()s.
 */
static int
sched_curl_timer_cb(CURLM *multi, long ms, void *userp)
{
    sched_t  *s = userp;

    if (ms == 0 && s->curl_now) {
        return 0;
    }

    s->curl_now = 0;

    if (sched_clock_after(s->curl_clock, ms) != SCHED_OK) {
        return -1;
    }

    if (ms == 0) {
        s->curl_now = 1;
    }

    return 0;
}


/* the only place that frees a transfer */
static void
sched_curl_check(sched_t *s)
{
    CURLMsg       *msg;
    int            left;
    sched_http_t  *h;
    char          *priv;

    while ((msg = curl_multi_info_read(s->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }

        priv = NULL;
        (void) curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        h = (sched_http_t *) priv;

        h->result = msg->data.result;
        (void) curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &h->status);

        (void) curl_multi_remove_handle(s->multi, h->easy);

        if (h->done) {
            h->done(s, h);
        }

        sched_http_free(s, h);
    }
}


int
sched_http_start(sched_t *s, sched_http_t *h)
{
    if (curl_multi_add_handle(s->multi, h->easy) != CURLM_OK) {
        return SCHED_ERR;
    }

    h->next = s->https;
    h->prev = NULL;
    if (s->https) {
        s->https->prev = h;
    }
    s->https = h;

    return SCHED_OK;
}


void
sched_http_abort_all(sched_t *s)
{
    sched_http_t  *h;

    while (s->https) {
        h = s->https;
        (void) curl_multi_remove_handle(s->multi, h->easy);
        sched_http_free(s, h);
    }
}


int
sched_http_init(sched_t *s)
{
    s->curl_clock = sched_clock_new(s, CLOCK_MONOTONIC, sched_curl_timer,
                                    NULL);
    if (s->curl_clock == NULL) {
        return SCHED_ERR;
    }

    s->multi = curl_multi_init();
    if (s->multi == NULL) {
        return SCHED_ERR;
    }

    (void) curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION,
                             sched_curl_sock_cb);
    (void) curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
    (void) curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION,
                             sched_curl_timer_cb);
    (void) curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
    (void) curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);

    return SCHED_OK;
}


/* at exit, once the jobs let go of their transfers */
void
sched_http_done(sched_t *s)
{
    if (s->multi) {
        sched_http_abort_all(s);
        (void) curl_multi_cleanup(s->multi);
        s->multi = NULL;
    }
}
