/*
 * Copyright (C) the ngx_tiktok authors.
 * What every unit test includes: cmocka and a scratch directory.
 */

#ifndef _TT_TEST_H_INCLUDED_
#define _TT_TEST_H_INCLUDED_


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>


/* a fresh directory under $TMPDIR (or /tmp), removed by tt_test_rmdir */
static inline char *
tt_test_mkdtemp(void)
{
    char        *dir;
    size_t       len;
    const char  *tmp;

    tmp = getenv("TMPDIR");
    if (tmp == NULL) {
        tmp = "/tmp";
    }

    len = strlen(tmp) + sizeof("/tt-test-XXXXXX");
    dir = malloc(len);
    assert_non_null(dir);
    snprintf(dir, len, "%s/tt-test-XXXXXX", tmp);
    assert_non_null(mkdtemp(dir));
    return dir;
}


static inline void
tt_test_rmdir(char *dir)
{
    char  cmd[512];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}


/* a store's meta "schema" (len bytes at data) is version, in decimal */
static inline void
tt_test_schema_is(const void *data, size_t len, int version)
{
    int   n;
    char  want[16];

    n = snprintf(want, sizeof(want), "%d", version);
    assert_int_equal(len, n);
    assert_memory_equal(data, want, len);
}


#endif /* _TT_TEST_H_INCLUDED_ */
