/*
 * Copyright (C) the ngx_tiktok authors.
 * Secret files: a client secret or a key file read whole, bounded, and
 * wiped from the stack once copied.
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tt_secret.h"


/* a secret is a key or a password, never a document */
#define TT_SECRET_MAX  4096


static int tt_read_small_file(const char *path, char *buf, size_t size,
    size_t *len);


/*
 * Reads a regular file into buf, one byte past the limit to tell a long
 * file from a full one; *len is what was read.  Leaves errno set on
 * failure; the caller wipes buf either way.
 */
static int
tt_read_small_file(const char *path, char *buf, size_t size, size_t *len)
{
    int          fd, err;
    ssize_t      n;
    struct stat  st;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return TT_ERR;
    }

    if (fstat(fd, &st) == -1) {
        goto failed;
    }

    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        goto failed;
    }

    *len = 0;

    while (*len < size) {
        n = read(fd, buf + *len, size - *len);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            goto failed;
        }

        if (n == 0) {
            break;
        }

        *len += (size_t) n;
    }

    close(fd);

    return TT_OK;

failed:

    err = errno;
    close(fd);
    errno = err;

    return TT_ERR;
}


int
tt_read_secret(const char *path, tt_arena_t *a, tt_str_t *out)
{
    char    *p;
    size_t   len;
    char     buf[TT_SECRET_MAX + 1];

    if (tt_read_small_file(path, buf, sizeof(buf), &len) != TT_OK) {
        explicit_bzero(buf, sizeof(buf));
        return TT_ERR;
    }

    if (len > TT_SECRET_MAX) {
        explicit_bzero(buf, sizeof(buf));
        errno = EFBIG;
        return TT_ERR;
    }

    if (len && buf[len - 1] == '\n') {
        len--;

        if (len && buf[len - 1] == '\r') {
            len--;
        }
    }

    /* an empty secret would silently weaken whatever it protects */
    if (len == 0) {
        explicit_bzero(buf, sizeof(buf));
        errno = ENODATA;
        return TT_ERR;
    }

    p = tt_arena_strndup(a, buf, len);
    explicit_bzero(buf, sizeof(buf));

    if (p == NULL) {
        errno = ENOMEM;
        return TT_ERR;
    }

    out->data = p;
    out->len = len;

    return TT_OK;
}
