/*
 * Copyright (C) the ngx_tiktok authors.
 * Unit tests of the spool: file names, which files the sweep keeps and
 * removes (needed by a post, retention, orphans), quota eviction order
 * and its messages.  The file under test has no libcurl call; it is
 * included here, with the few scheduler functions it calls stubbed, and
 * runs against a real store and a scratch spool directory.
 */

#include "tt_test.h"
#include "../scheduler/sched_spool.c"
#include "../scheduler/sched_spool_sweep.c"


/* stubs of what sched_log.c, sched_loop.c and sched_txn.c define, and the
 * downloads' answer to "is this part being written?" (sched_fetch.c's) */

int  sched_log_level = SCHED_LOG_ERR;

static const char  *fetching_name;


void
sched_log(int level, const char *fmt, ...)
{
}


int
sched_read_begin(sched_t *s, tt_txn_t *t, tt_txn_t **use)
{
    if (tt_txn_begin(s->store, t, 0) != TT_OK) {
        return SCHED_ERR;
    }

    *use = t;
    return SCHED_OK;
}


void
sched_read_end(sched_t *s, tt_txn_t *t, tt_txn_t *use)
{
    tt_txn_abort(t);
}


int
sched_loop_hook(sched_t *s, const sched_hook_t *h)
{
    return SCHED_OK;
}


static int
fetching(sched_t *s, const char *name)
{
    return fetching_name != NULL && strcmp(name, fetching_name) == 0;
}


/* the fixture: a store, a spool directory, a scheduler around them */

typedef struct {
    char           *dir;
    char            spool[512];
    tt_arena_t     *arena;
    sched_t         s;
} env_t;


static int
setup(void **state)
{
    env_t            *e;
    char              store[512], err[256];
    tt_store_conf_t   sc;

    e = calloc(1, sizeof(env_t));
    assert_non_null(e);

    e->dir = tt_test_mkdtemp();
    e->arena = tt_arena_create(4096);
    assert_non_null(e->arena);

    snprintf(store, sizeof(store), "%s/store", e->dir);
    snprintf(e->spool, sizeof(e->spool), "%s/spool", e->dir);

    memset(&sc, 0, sizeof(sc));
    sc.path = store;
    sc.map_size = 64 * 1024 * 1024;
    sc.map_max = 64 * 1024 * 1024;
    sc.max_readers = 16;

    assert_int_equal(tt_store_open(&sc, &e->s.store, err, sizeof(err)),
                     TT_OK);

    e->s.conf.spool_dir = e->spool;
    e->s.conf.spool_retention_ms = 0;
    e->s.conf.spool_quota = 0;

    assert_int_equal(sched_spool_init(&e->s), SCHED_OK);
    sched_spool_on_busy(&e->s, fetching);

    fetching_name = NULL;
    *state = e;

    return 0;
}


static int
teardown(void **state)
{
    env_t  *e = *state;

    sched_spool_done(&e->s);
    tt_store_close(e->s.store);
    tt_arena_destroy(e->arena);
    tt_test_rmdir(e->dir);
    free(e);

    return 0;
}


static char *
path_of(env_t *e, const char *name)
{
    static char  path[4][600];
    static int   i;

    i = (i + 1) % 4;
    snprintf(path[i], sizeof(path[i]), "%s/%s", e->spool, name);
    return path[i];
}


/* a file of size bytes, last modified age_s seconds ago */
static void
file_make(env_t *e, const char *name, size_t size, int64_t age_s)
{
    FILE            *fp;
    struct timespec  ts[2];
    int64_t          at;

    fp = fopen(path_of(e, name), "w");
    assert_non_null(fp);

    while (size--) {
        assert_int_equal(fputc('x', fp), 'x');
    }

    assert_int_equal(fclose(fp), 0);

    at = tt_now_ms() - age_s * 1000;
    ts[0].tv_sec = at / 1000;
    ts[0].tv_nsec = (at % 1000) * 1000000;
    ts[1] = ts[0];
    assert_int_equal(utimensat(AT_FDCWD, path_of(e, name), ts, 0), 0);
}


static int
file_there(env_t *e, const char *name)
{
    struct stat  st;

    return stat(path_of(e, name), &st) == 0;
}


/* a post whose one media is the URL (pending) or the spool file */
static void
post_put(env_t *e, tt_post_status_e status, const char *url,
    const char *spool_name)
{
    tt_txn_t     t;
    tt_post_t    p;
    tt_media_t  *m;

    tt_post_init(&p, tt_now_ms());
    assert_int_equal(tt_id_new("p_", p.id), TT_OK);
    memcpy(p.workspace_id, "ws_test", sizeof("ws_test"));
    p.status = status;

    m = tt_arena_calloc(e->arena, sizeof(tt_media_t));
    assert_non_null(m);
    assert_int_equal(tt_id_new("m_", m->id), TT_OK);
    m->source_url = url;
    m->size = -1;
    m->frame_rate = -1;
    m->status = spool_name ? TT_MEDIA_PROCESSED : TT_MEDIA_PENDING;
    m->spool_path = spool_name ? path_of(e, spool_name) : NULL;
    m->spool_path = m->spool_path ? tt_arena_strndup(e->arena, m->spool_path,
                                                     strlen(m->spool_path))
                                  : NULL;

    p.media = m;
    p.nmedia = 1;

    assert_int_equal(tt_txn_begin(e->s.store, &t, 1), TT_OK);
    assert_int_equal(tt_post_put(&t, &p), TT_OK);
    assert_int_equal(tt_txn_commit(&t), TT_OK);
}


/* one whole pass of the sweep, slice by slice */
static void
sweep(env_t *e)
{
    int64_t  passes;
    int      n;

    passes = e->s.spool->passes;
    e->s.spool->next_pass = 0;

    for (n = 0; e->s.spool->passes == passes; n++) {
        assert_true(n < 10000);
        sched_sweep_tick(&e->s, tt_mono_ms(), NULL);
    }
}


static void
name_of(const char *url, char name[SCHED_SPOOL_NAME])
{
    assert_int_equal(sched_spool_name(url, name), SCHED_OK);
}


static const char *
hex_name(char c)
{
    static char  name[4][SCHED_SPOOL_NAME];
    static int   i;

    i = (i + 1) % 4;
    memset(name[i], c, SCHED_SPOOL_NAME - 1);
    name[i][SCHED_SPOOL_NAME - 1] = '\0';
    return name[i];
}


static void
test_names(void **state)
{
    char  name[SCHED_SPOOL_NAME];

    assert_int_equal(sched_spool_name("https://example.com/a.mp4", name),
                     SCHED_OK);
    assert_string_equal(name, "0e06dca0234da29358bb3b0f700b1473"
                              "b459642abac60b6542eacee7feb1521f");

    assert_int_equal(sched_spool_ours(name), 1);
    assert_int_equal(sched_spool_ours("0e06dca0234da29358bb3b0f700b1473"
                                      "b459642abac60b6542eacee7feb1521f"
                                      ".part"), 2);
    assert_int_equal(sched_spool_ours("m_abcdefghijABCDEFGHIJ"), 1);

    /* what is not ours is never touched */
    assert_int_equal(sched_spool_ours("m_short"), 0);
    assert_int_equal(sched_spool_ours("0E06dca0234da29358bb3b0f700b1473"
                                      "b459642abac60b6542eacee7feb1521f"),
                     0);
    assert_int_equal(sched_spool_ours("0e06dca0234da29358bb3b0f700b1473"
                                      "b459642abac60b6542eacee7feb1521"),
                     0);
    assert_int_equal(sched_spool_ours("0e06dca0234da29358bb3b0f700b1473"
                                      "b459642abac60b6542eacee7feb1521f"
                                      ".tmp"), 0);
    assert_int_equal(sched_spool_ours("notes.txt"), 0);
    assert_int_equal(sched_spool_ours(""), 0);
}


static void
test_full_message(void **state)
{
    env_t  *e = *state;
    char    buf[256];

    e->s.conf.spool_quota = 10LL * 1024 * 1024 * 1024;
    assert_string_equal(sched_spool_full(&e->s, 0, buf, sizeof(buf)),
                        "the spool is full: tiktok_spool_quota (10g) is "
                        "taken up by media that posts not yet published "
                        "need");

    e->s.conf.spool_quota = 1024 * 1024;
    assert_string_equal(sched_spool_full(&e->s, 1, buf, sizeof(buf)),
                        "the media file is larger than tiktok_spool_quota "
                        "(1m)");

    e->s.conf.spool_quota = 70 * 1024;
    (void) sched_spool_full(&e->s, 1, buf, sizeof(buf));
    assert_non_null(strstr(buf, "(70k)"));

    e->s.conf.spool_quota = 1000;
    (void) sched_spool_full(&e->s, 1, buf, sizeof(buf));
    assert_non_null(strstr(buf, "(1000)"));
}


/*
 * Needed files stay whatever their age: by a pending media's URL, by a
 * processed media's spool_path, also of a draft; a finished post's do
 * not, nor do orphans; foreign names and a download in flight stay.
 */
static void
test_sweep_needed(void **state)
{
    env_t  *e = *state;
    char    url_name[SCHED_SPOOL_NAME], part[80];

    name_of("https://example.com/pending.mp4", url_name);

    file_make(e, url_name, 10, 86400);
    file_make(e, hex_name('a'), 10, 86400);         /* a scheduled post's */
    file_make(e, hex_name('b'), 10, 86400);         /* a draft's */
    file_make(e, hex_name('c'), 10, 86400);         /* a published one's */
    file_make(e, hex_name('d'), 10, 86400);         /* nobody's */
    file_make(e, "m_abcdefghijABCDEFGHIJ", 10, 86400);  /* an old name */
    file_make(e, "notes.txt", 10, 86400);

    snprintf(part, sizeof(part), "%s.part", hex_name('e'));
    file_make(e, part, 10, 0);                      /* a crash's */
    snprintf(part, sizeof(part), "%s.part", hex_name('f'));
    file_make(e, part, 10, 0);                      /* downloading now */
    fetching_name = hex_name('f');

    post_put(e, TT_POST_PENDING, "https://example.com/pending.mp4", NULL);
    post_put(e, TT_POST_SCHEDULED, "https://example.com/a", hex_name('a'));
    post_put(e, TT_POST_DRAFT, "https://example.com/b", hex_name('b'));
    post_put(e, TT_POST_PROCESSED, "https://example.com/c", hex_name('c'));
    post_put(e, TT_POST_MEDIA_FAILED, "https://example.com/g",
             "m_abcdefghijABCDEFGHIJ");

    sweep(e);

    assert_true(file_there(e, url_name));
    assert_true(file_there(e, hex_name('a')));
    assert_true(file_there(e, hex_name('b')));
    assert_false(file_there(e, hex_name('c')));
    assert_false(file_there(e, hex_name('d')));
    assert_false(file_there(e, "m_abcdefghijABCDEFGHIJ"));
    assert_true(file_there(e, "notes.txt"));

    snprintf(part, sizeof(part), "%s.part", hex_name('e'));
    assert_false(file_there(e, part));
    snprintf(part, sizeof(part), "%s.part", hex_name('f'));
    assert_true(file_there(e, part));

    /* the table knows what is left: 3 files of 10 bytes */
    assert_int_equal(e->s.spool->nfiles, 3);
    assert_int_equal(e->s.spool->used, 30);
}


/* many posts: the walk takes several slices and still sees them all */
static void
test_sweep_slices(void **state)
{
    env_t  *e = *state;
    int     i;
    char    url[64], name[SCHED_SPOOL_NAME];

    for (i = 0; i < 700; i++) {
        snprintf(url, sizeof(url), "https://example.com/%d.mp4", i);
        post_put(e, TT_POST_PENDING, tt_arena_strndup(e->arena, url,
                                                      strlen(url)), NULL);
    }

    name_of("https://example.com/699.mp4", name);
    file_make(e, name, 5, 3600);
    name_of("https://example.com/0.mp4", name);
    file_make(e, name, 5, 3600);
    file_make(e, hex_name('d'), 5, 3600);

    e->s.spool->next_pass = 0;
    sched_sweep_tick(&e->s, tt_mono_ms(), NULL);    /* the directory */
    sched_sweep_tick(&e->s, tt_mono_ms(), NULL);    /* 256 posts */
    assert_int_equal(e->s.spool->state, SWEEP_POSTS);

    sweep(e);

    assert_true(file_there(e, name));
    name_of("https://example.com/699.mp4", name);
    assert_true(file_there(e, name));
    assert_false(file_there(e, hex_name('d')));
}


/* unneeded files stay for the retention, counted from their mtime */
static void
test_retention(void **state)
{
    env_t  *e = *state;

    e->s.conf.spool_retention_ms = 3600 * 1000;

    file_make(e, hex_name('a'), 10, 7200);
    file_make(e, hex_name('b'), 10, 60);

    sweep(e);

    assert_false(file_there(e, hex_name('a')));
    assert_true(file_there(e, hex_name('b')));
    assert_int_equal(e->s.spool->nfiles, 1);
}


/*
 * Touched after the pass began (a post started using it behind the
 * walk): not removed by that pass, even with no retention.
 */
static void
test_touch_race(void **state)
{
    env_t  *e = *state;

    file_make(e, hex_name('a'), 10, 600);

    e->s.spool->next_pass = 0;
    sched_sweep_tick(&e->s, tt_mono_ms(), NULL);    /* pass begins */

    sleep(1);
    sched_spool_touch(&e->s, path_of(e, hex_name('a')));

    sweep(e);
    assert_true(file_there(e, hex_name('a')));

    /* the next pass finds it unneeded */
    sleep(1);
    sweep(e);
    assert_false(file_there(e, hex_name('a')));
}


/* over the quota: the files no post needs go, least recently needed first */
static void
test_quota(void **state)
{
    env_t  *e = *state;

    e->s.conf.spool_retention_ms = 86400 * 1000;
    e->s.conf.spool_quota = 1000;

    /* before any pass: nobody knows what may go */
    file_make(e, hex_name('a'), 300, 300);
    file_make(e, hex_name('b'), 300, 100);
    file_make(e, hex_name('c'), 300, 200);
    file_make(e, hex_name('d'), 300, 50);           /* needed */

    post_put(e, TT_POST_SCHEDULED, "https://example.com/d", hex_name('d'));

    sweep(e);
    assert_int_equal(e->s.spool->used, 1200);

    /* room for 100: the oldest unneeded goes, and that is enough */
    assert_int_equal(sched_spool_reserve(&e->s, 100), SCHED_OK);
    assert_false(file_there(e, hex_name('a')));
    assert_true(file_there(e, hex_name('c')));
    assert_true(file_there(e, hex_name('b')));
    assert_int_equal(e->s.spool->used, 900);
    assert_int_equal(e->s.spool->reserved, 100);

    /* room for 600 more: c, then b */
    assert_int_equal(sched_spool_reserve(&e->s, 600), SCHED_OK);
    assert_false(file_there(e, hex_name('c')));
    assert_false(file_there(e, hex_name('b')));
    assert_true(file_there(e, hex_name('d')));
    assert_int_equal(e->s.spool->used, 300);

    /* the needed one never goes */
    assert_int_equal(sched_spool_reserve(&e->s, 1), SCHED_ERR);
    assert_true(file_there(e, hex_name('d')));
    assert_int_equal(e->s.spool->reserved, 700);

    sched_spool_unreserve(&e->s, 700);
    assert_int_equal(e->s.spool->reserved, 0);

    /* no quota: anything goes */
    e->s.conf.spool_quota = 0;
    assert_int_equal(sched_spool_reserve(&e->s, INT64_MAX / 4), SCHED_OK);
}


/* over the quota before the first pass: wait for it */
static void
test_quota_first_pass(void **state)
{
    env_t  *e = *state;

    e->s.conf.spool_quota = 100;
    file_make(e, hex_name('a'), 300, 300);

    /* the first readdir counts it; the walk has not ended */
    e->s.spool->next_pass = 0;
    sched_sweep_tick(&e->s, tt_mono_ms(), NULL);
    assert_int_equal(sched_spool_reserve(&e->s, 0), SCHED_AGAIN);
    sched_spool_unreserve(&e->s, 0);

    sweep(e);
    assert_false(file_there(e, hex_name('a')));
    assert_int_equal(sched_spool_reserve(&e->s, 10), SCHED_OK);
}


/*
 * A post that finishes touches its files; a download the quota refused
 * after that waits for the pass that can know them unneeded.
 */
static void
test_release(void **state)
{
    env_t           *e = *state;
    tt_post_t        p;
    tt_media_t       m;
    struct stat      st;
    int64_t          want;

    e->s.conf.spool_retention_ms = 86400 * 1000;
    file_make(e, hex_name('a'), 10, 7200);

    sweep(e);
    assert_int_equal(sched_spool_fresh(&e->s), 0);

    memset(&p, 0, sizeof(p));
    memset(&m, 0, sizeof(m));
    m.spool_path = path_of(e, hex_name('a'));
    p.media = &m;
    p.nmedia = 1;

    sched_spool_release(&e->s, &p);

    assert_int_equal(stat(path_of(e, hex_name('a')), &st), 0);
    assert_true(st.st_mtime >= time(NULL) - 5);

    want = sched_spool_fresh(&e->s);
    assert_int_equal(want, e->s.spool->passes + 1);
    assert_true(sched_sweep_next(&e->s, NULL) <= tt_mono_ms());

    /* the pass must begin after the release, not in its millisecond */
    usleep(10000);
    sweep(e);
    assert_true(sched_spool_passes(&e->s) >= want);

    /* kept: within the retention, and now known to be unneeded */
    assert_true(file_there(e, hex_name('a')));
    assert_int_equal(sched_spool_fresh(&e->s), 0);
}


/* a file that failed the checks is not kept for the next post */
static void
test_forget(void **state)
{
    env_t  *e = *state;

    /* within the retention, so that the sweep keeps it: forget does not */
    e->s.conf.spool_retention_ms = 3600 * 1000;
    file_make(e, hex_name('a'), 10, 0);
    file_make(e, "notes.txt", 10, 0);

    sweep(e);
    assert_int_equal(e->s.spool->nfiles, 1);

    sched_spool_forget(&e->s, path_of(e, hex_name('a')));
    assert_false(file_there(e, hex_name('a')));
    assert_int_equal(e->s.spool->nfiles, 0);
    assert_int_equal(e->s.spool->used, 0);

    /* outside what is ours: left alone */
    sched_spool_forget(&e->s, path_of(e, "notes.txt"));
    assert_true(file_there(e, "notes.txt"));
    sched_spool_forget(&e->s, "/etc/hostname");
    sched_spool_touch(&e->s, NULL);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_full_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_needed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_slices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_touch_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quota, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quota_first_pass, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forget, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
