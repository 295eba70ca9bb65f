/*
 * Copyright (C) the ngx_tiktok authors.
 * tiktok-probe: probe and check one media file, print one JSON report.
 */

/*
 * Usage: tiktok-probe FILE [video|image] [max_duration_ms]
 *
 * Prints {"ok":..,"info":{..}|null,"errors":[..],"warnings":[..]} and a
 * newline on stdout; tt_media_report_from_json() reads it back.  Exit
 * status: 0 when it could answer (the file may still fail the rules),
 * 1 when it could not write the answer, 2 on a usage error.  A killed
 * probe (CPU or memory limit, alarm) exits on a signal with no output.
 *
 * The daemon runs this as a child so FFmpeg never parses a hostile file
 * inside its event loop; the limits below keep a pathological file from
 * eating the host too.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "tt_media.h"


/*
 * AddressSanitizer reserves terabytes of address space for its shadow:
 * built with it (make e2e-asan), the address space is left unlimited
 */
#if defined(__SANITIZE_ADDRESS__)
#define PROBE_MAX_AS     RLIM_INFINITY
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PROBE_MAX_AS     RLIM_INFINITY
#endif
#endif
#ifndef PROBE_MAX_AS
#define PROBE_MAX_AS     ((rlim_t) 1024 * 1024 * 1024)
#endif
#define PROBE_MAX_CPU    60         /* seconds of CPU */
#define PROBE_MAX_WALL   90         /* seconds, for blocking I/O */


static int probe_limit(int resource, rlim_t value);
static int probe_limits(void);
static void probe_usage(void);
static int probe_print(const tt_media_info_t *info,
    const tt_media_result_t *res);


/* lowers a limit; never asks for more than the hard limit allows */
static int
probe_limit(int resource, rlim_t value)
{
    struct rlimit  rl;

    if (getrlimit(resource, &rl) != 0) {
        return -1;
    }

    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < value) {
        value = rl.rlim_max;
    }

    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < value) {
        return 0;
    }

    rl.rlim_cur = value;
    return setrlimit(resource, &rl);
}


static int
probe_limits(void)
{
    /* RLIMIT_CPU: SIGXCPU at the soft limit kills us (default action) */
    if (probe_limit(RLIMIT_AS, PROBE_MAX_AS) != 0
        || probe_limit(RLIMIT_CPU, PROBE_MAX_CPU) != 0
        || probe_limit(RLIMIT_CORE, 0) != 0)
    {
        fprintf(stderr, "tiktok-probe: setrlimit() failed: %s\n",
                strerror(errno));
        return -1;
    }

    /* a read that blocks costs no CPU: the alarm ends that too */
    (void) alarm(PROBE_MAX_WALL);

    return 0;
}


static void
probe_usage(void)
{
    fprintf(stderr, "usage: tiktok-probe FILE [video|image] "
            "[max_duration_ms]\n");
}


static int
probe_print(const tt_media_info_t *info, const tt_media_result_t *res)
{
    tt_buf_t  out;
    tt_jw_t   w;
    int       rc;

    tt_buf_init(&out);

    if (tt_jw_init(&w, &out) != TT_OK) {
        tt_buf_free(&out);
        return -1;
    }

    tt_media_report_to_json(&w, info, res);

    rc = tt_jw_finish(&w);
    if (rc == TT_OK) {
        rc = tt_buf_append(&out, "\n", 1);
    }

    if (rc != TT_OK || !tt_buf_ok(&out)
        || fwrite(out.data, 1, out.len, stdout) != out.len
        || fflush(stdout) != 0)
    {
        tt_buf_free(&out);
        return -1;
    }

    tt_buf_free(&out);
    return 0;
}


int
main(int argc, char **argv)
{
    int                 rc;
    char               *end, err[TT_MEDIA_MSG_LEN];
    long long           max;
    tt_media_info_t     info;
    tt_media_kind_e     kind;
    tt_media_result_t   res;

    if (argc < 2 || argc > 4 || argv[1][0] == '\0') {
        probe_usage();
        return 2;
    }

    kind = TT_MEDIA_VIDEO;
    max = -1;

    if (argc >= 3) {
        if (strcmp(argv[2], "video") == 0) {
            kind = TT_MEDIA_VIDEO;

        } else if (strcmp(argv[2], "image") == 0) {
            kind = TT_MEDIA_IMAGE;

        } else {
            probe_usage();
            return 2;
        }
    }

    if (argc == 4) {
        errno = 0;
        max = strtoll(argv[3], &end, 10);

        if (errno != 0 || end == argv[3] || *end != '\0' || max < -1) {
            fprintf(stderr, "tiktok-probe: invalid max_duration_ms \"%s\"\n",
                    argv[3]);
            return 2;
        }
    }

    /* gone with the daemon, even after a kill -9 */
    (void) prctl(PR_SET_PDEATHSIG, SIGKILL);

    if (probe_limits() != 0) {
        return 1;
    }

    if (getenv("TT_PROBE_VERBOSE") != NULL) {
        tt_media_set_log_level(AV_LOG_WARNING);
    }

    rc = tt_media_probe(argv[1], &info, err, sizeof(err));

    if (rc != TT_OK) {
        memset(&res, 0, sizeof(tt_media_result_t));
        tt_media_add_error(&res, "%s", err);

        rc = probe_print(NULL, &res);

    } else {
        (void) tt_media_check(&info, kind, max, &res);

        rc = probe_print(&info, &res);
    }

    if (rc != 0) {
        fprintf(stderr, "tiktok-probe: cannot write the report\n");
        return 1;
    }

    return 0;
}
