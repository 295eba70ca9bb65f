/*
 * Copyright (C) the ngx_tiktok authors.
 * tiktok-fetch: download one media URL into a spool file, and say how it
 * went; the protocol is in sched_fetch.h.
 *
 * The daemon runs this as a child so that a download's bytes (reads
 * from the socket, writes to the spool) never take turns with the
 * uploads in its event loop: curl reads a fast download again and again
 * while its socket stays readable, and a loop that does so moves 5 MB of
 * it for every 64 KB of a chunk.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <curl/curl.h>

#include "tt_addr.h"
#include "tt_json.h"
#include "sched_fetch.h"


#define FETCH_SYNC      ((int64_t) 8 * 1024 * 1024)
#define FETCH_MSG_MAX   256


typedef struct {
    CURL           *easy;
    int             fd;
    int             guard;
    int64_t         max;
    int64_t         len;
    int64_t         next_report;
    int64_t         reported;           /* the last "got" */
    int64_t         synced;             /* writeback started up to here */
    int64_t         waited;             /* and written up to here */
    int             write_errno;
    unsigned        announced:1;
    unsigned        too_big:1;
    char            refused[FETCH_MSG_MAX];
    char            errbuf[CURL_ERROR_SIZE];
} fetch_t;


static int
fetch_line(const char *what, int64_t n)
{
    if (printf("%s %lld\n", what, (long long) n) < 0 || fflush(stdout) != 0) {
        return -1;
    }

    return 0;
}


static size_t
fetch_write(char *p, size_t size, size_t n, void *data)
{
    fetch_t  *f = data;
    size_t       len;
    ssize_t      w;
    curl_off_t   cl;

    len = size * n;

    if (!f->announced) {
        f->announced = 1;
        cl = -1;

        if (curl_easy_getinfo(f->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
                              &cl) == CURLE_OK
            && cl >= 0 && fetch_line("length", cl) != 0)
        {
            return 0;
        }
    }

    /* the cap stops the download before a byte past it is kept, whether
     * or not a Content-Length announced the size */
    if (f->len + (int64_t) len > f->max) {
        f->too_big = 1;
        return 0;
    }

    while (len > 0) {
        w = write(f->fd, p, len);

        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }

            f->write_errno = errno;
            return 0;
        }

        p += w;
        len -= w;
        f->len += w;
    }

    if (f->len >= f->next_report) {
        if (fetch_line("got", f->len) != 0) {
            return 0;
        }

        f->reported = f->len;

        f->next_report = (f->len / SCHED_FETCH_BLOCK + 1) * SCHED_FETCH_BLOCK;
    }

    /*
     * Write back as it goes, and wait for the window before the last: no
     * more than two windows are ever dirty, so the daemon's fdatasync of
     * the store, on the same disk, never waits behind a gigabyte of a
     * download's pages (a journal commit writes them out first).  The
     * download goes at the disk's pace.
     */
    if (f->len - f->synced >= FETCH_SYNC) {
        if (f->synced > 0) {
            (void) sync_file_range(f->fd, f->waited, f->synced - f->waited,
                                   SYNC_FILE_RANGE_WAIT_BEFORE
                                   | SYNC_FILE_RANGE_WRITE
                                   | SYNC_FILE_RANGE_WAIT_AFTER);
            f->waited = f->synced;
        }

        (void) sync_file_range(f->fd, f->synced, f->len - f->synced,
                               SYNC_FILE_RANGE_WRITE);
        f->synced = f->len;
    }

    return size * n;
}


/*
 * Called by curl with the address it is about to connect to, for every
 * connection of the transfer, redirects included: the one place where a
 * name that resolves (or is rebound) to a non-public address is seen.  A
 * refused socket fails the connect (CURLE_COULDNT_CONNECT after every
 * address was tried).
 */
static curl_socket_t
fetch_open_socket(void *data, curlsocktype purpose,
    struct curl_sockaddr *a)
{
    fetch_t  *f = data;
    long         redirects;
    char         msg[FETCH_MSG_MAX];

    if (f->guard) {
        redirects = 0;
        (void) curl_easy_getinfo(f->easy, CURLINFO_REDIRECT_COUNT,
                                 &redirects);

        if (tt_addr_refusal(&a->addr, a->addrlen, redirects > 0, msg,
                            sizeof(msg)))
        {
            memcpy(f->refused, msg, sizeof(msg));
            fprintf(stderr, "tiktok-fetch: %s\n", msg);
            return CURL_SOCKET_BAD;
        }
    }

    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}


static int
fetch_setup(fetch_t *f, const char *url)
{
    CURL  *e;

    e = f->easy;

    if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK) {
        return -1;
    }

    (void) curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->errbuf);
    (void) curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fetch_write);
    (void) curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
    (void) curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION,
                            fetch_open_socket);
    (void) curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, f);
    (void) curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    (void) curl_easy_setopt(e, CURLOPT_USERAGENT, "tiktok-scheduler");
    (void) curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    (void) curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    (void) curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    (void) curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long) SCHED_FETCH_REDIRS);
    (void) curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                            (curl_off_t) f->max);
    (void) curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L);
    (void) curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    (void) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                            (long) SCHED_FETCH_TIMEOUT_MS);
    (void) curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    (void) curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
                            (long) SCHED_FETCH_STALL_S);

    if (f->guard) {
        /* a proxy would resolve the name itself, past the guard */
        (void) curl_easy_setopt(e, CURLOPT_PROXY, "");
    }

    return 0;
}


/*
 * What a server sent (its Content-Type) or curl said of it goes into the
 * report as printable ASCII: anything else would make the JSON writer
 * refuse the whole report.  NULL stays NULL.
 */
static const char *
fetch_ascii(const char *s, char *buf, size_t size)
{
    size_t  i;

    if (s == NULL || size == 0) {
        return NULL;
    }

    for (i = 0; s[i] != '\0' && i + 1 < size; i++) {
        buf[i] = ((unsigned char) s[i] >= 0x20 && (unsigned char) s[i] < 0x7f)
                 ? s[i] : '?';
    }

    buf[i] = '\0';

    return buf;
}


/* what failed, in words: the spool file's write, else curl's; NULL: none */
static const char *
fetch_error(fetch_t *f, CURLcode rc, char *msg, size_t size)
{
    if (f->write_errno) {
        (void) snprintf(msg, size, "the spool file could not be "
                        "written: %s", strerror(f->write_errno));
        return msg;
    }

    if (rc != CURLE_OK) {
        return f->errbuf[0] ? f->errbuf : curl_easy_strerror(rc);
    }

    return NULL;
}


static int
fetch_report(fetch_t *f, CURLcode rc)
{
    tt_buf_t     out;
    tt_jw_t      w;
    long         status;
    char        *ct, msg[FETCH_MSG_MAX], ctype[FETCH_MSG_MAX],
                 why[CURL_ERROR_SIZE + FETCH_MSG_MAX];
    const char  *error;
    curl_off_t   total, pre;
    int          ok;

    status = 0;
    ct = NULL;
    total = 0;
    pre = 0;

    (void) curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &status);
    (void) curl_easy_getinfo(f->easy, CURLINFO_TOTAL_TIME_T, &total);
    (void) curl_easy_getinfo(f->easy, CURLINFO_PRETRANSFER_TIME_T, &pre);

    if (rc != CURLE_OK
        || curl_easy_getinfo(f->easy, CURLINFO_CONTENT_TYPE, &ct) != CURLE_OK)
    {
        ct = NULL;
    }

    error = fetch_error(f, rc, msg, sizeof(msg));

    /* the last bytes count for the quota too */
    if (f->len != f->reported && fetch_line("got", f->len) != 0) {
        return -1;
    }

    tt_buf_init(&out);

    if (tt_jw_init(&w, &out) != TT_OK) {
        return -1;
    }

    tt_jw_obj_open(&w);
    tt_jw_key(&w, "result");
    tt_jw_int(&w, rc);
    tt_jw_key(&w, "status");
    tt_jw_int(&w, status);
    tt_jw_key(&w, "bytes");
    tt_jw_int(&w, f->len);
    tt_jw_key(&w, "too_big");
    tt_jw_bool(&w, f->too_big || rc == CURLE_FILESIZE_EXCEEDED);
    tt_jw_key(&w, "write_error");
    tt_jw_bool(&w, f->write_errno != 0);
    tt_jw_key(&w, "content_type");
    tt_jw_cstr(&w, fetch_ascii(ct, ctype, sizeof(ctype)));
    tt_jw_key(&w, "refused");
    tt_jw_cstr(&w, f->refused[0] ? f->refused : NULL);
    tt_jw_key(&w, "error");
    tt_jw_cstr(&w, fetch_ascii(error, why, sizeof(why)));
    tt_jw_key(&w, "total_ms");
    tt_jw_int(&w, total / 1000);
    tt_jw_key(&w, "connected");
    tt_jw_bool(&w, pre > 0);
    tt_jw_obj_close(&w);

    ok = (tt_jw_finish(&w) == TT_OK
          && tt_buf_append(&out, "\n", 1) == TT_OK
          && tt_buf_ok(&out) && out.len <= SCHED_FETCH_REPORT_MAX
          && fwrite(out.data, 1, out.len, stdout) == out.len
          && fflush(stdout) == 0);

    tt_buf_free(&out);

    return ok ? 0 : -1;
}


static void
fetch_usage(void)
{
    fprintf(stderr, "usage: tiktok-fetch URL FILE MAX_BYTES guard|open "
            "[PARENT_PID]\n");
}


int
main(int argc, char **argv)
{
    fetch_t     f;
    CURLcode       rc;
    char          *end;
    long long      max;
    struct rlimit  rl;

    if (argc < 5 || argc > 6 || argv[1][0] == '\0'
        || (strcmp(argv[4], "guard") != 0 && strcmp(argv[4], "open") != 0))
    {
        fetch_usage();
        return 2;
    }

    errno = 0;
    max = strtoll(argv[3], &end, 10);

    if (errno != 0 || end == argv[3] || *end != '\0' || max < 0) {
        fprintf(stderr, "tiktok-fetch: invalid MAX_BYTES \"%s\"\n", argv[3]);
        return 2;
    }

    memset(&f, 0, sizeof(fetch_t));
    f.max = max;
    f.guard = (strcmp(argv[4], "guard") == 0);

    /*
     * Gone with the daemon, even after a kill -9 (its restart removes the
     * part); no core files of downloads; curl's own time limit ends the
     * download first, the daemon's deadline next, this alarm last.
     */
    (void) prctl(PR_SET_PDEATHSIG, SIGKILL);

    /* the daemon died before the line above: nobody to report to */
    if (argc == 6 && (long) getppid() != strtol(argv[5], NULL, 10)) {
        return 1;
    }

    rl.rlim_cur = 0;
    rl.rlim_max = 0;
    (void) setrlimit(RLIMIT_CORE, &rl);
    (void) alarm(SCHED_FETCH_TIMEOUT_MS / 1000 + 120);

    f.fd = open(argv[2], O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (f.fd == -1) {
        fprintf(stderr, "tiktok-fetch: open(\"%s\") failed: %s\n", argv[2],
                strerror(errno));
        return 1;
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "tiktok-fetch: curl_global_init() failed\n");
        return 1;
    }

    f.easy = curl_easy_init();

    if (f.easy == NULL || fetch_setup(&f, argv[1]) != 0) {
        fprintf(stderr, "tiktok-fetch: cannot set up curl\n");
        return 1;
    }

    rc = curl_easy_perform(f.easy);

    if (close(f.fd) == -1 && rc == CURLE_OK) {
        f.write_errno = errno;
        rc = CURLE_WRITE_ERROR;
    }

    if (fetch_report(&f, rc) != 0) {
        fprintf(stderr, "tiktok-fetch: cannot write the report\n");
        return 1;
    }

    curl_easy_cleanup(f.easy);
    curl_global_cleanup();

    return 0;
}
