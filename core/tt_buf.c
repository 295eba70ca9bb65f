/*
 * Copyright (C) the ngx_tiktok authors.
 * A growable byte buffer with a sticky error, and an arena allocator.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "tt_buf.h"


#define TT_BUF_MIN         64
#define TT_ARENA_ALIGN     16
#define TT_ARENA_DEFAULT   4096


typedef struct tt_arena_block_s  tt_arena_block_t;

struct tt_arena_block_s {
    tt_arena_block_t  *next;
    size_t             size;        /* usable bytes after the header */
    size_t             used;
};

struct tt_arena_s {
    tt_arena_block_t  *head;        /* the block small allocations use */
    size_t             block_size;
    size_t             used;
};


/* the header is padded so that block data starts 16-aligned */
#define TT_ARENA_HDR                                                         \
    ((sizeof(tt_arena_block_t) + TT_ARENA_ALIGN - 1)                         \
     & ~(size_t) (TT_ARENA_ALIGN - 1))

#define tt_arena_data(blk)  ((unsigned char *) (blk) + TT_ARENA_HDR)


void
tt_buf_init(tt_buf_t *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->failed = 0;
}


void
tt_buf_free(tt_buf_t *b)
{
    free(b->data);
    tt_buf_init(b);
}


void
tt_buf_reset(tt_buf_t *b)
{
    /* a reset starts a new use of the buffer, so the old error goes too */
    b->len = 0;
    b->failed = 0;

    if (b->data != NULL) {
        b->data[0] = '\0';
    }
}


int
tt_buf_reserve(tt_buf_t *b, size_t more)
{
    char    *p;
    size_t   need, cap;

    if (b->failed) {
        return TT_NOMEM;
    }

    /* one more byte for the NUL that always follows the data */
    if (more > SIZE_MAX - b->len - 1) {
        b->failed = 1;
        return TT_NOMEM;
    }

    need = b->len + more + 1;

    if (need <= b->cap) {
        return TT_OK;
    }

    cap = b->cap ? b->cap : TT_BUF_MIN;

    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }

        cap *= 2;
    }

    p = realloc(b->data, cap);
    if (p == NULL) {
        b->failed = 1;
        return TT_NOMEM;
    }

    b->data = p;
    b->cap = cap;

    return TT_OK;
}


int
tt_buf_append(tt_buf_t *b, const void *p, size_t n)
{
    if (tt_buf_reserve(b, n) != TT_OK) {
        return TT_NOMEM;
    }

    if (n) {
        memcpy(b->data + b->len, p, n);
    }

    b->len += n;
    b->data[b->len] = '\0';

    return TT_OK;
}


int
tt_buf_append_str(tt_buf_t *b, const char *s)
{
    return tt_buf_append(b, s, strlen(s));
}


int
tt_buf_printf(tt_buf_t *b, const char *fmt, ...)
{
    int      n;
    size_t   room;
    va_list  args;

    if (tt_buf_reserve(b, 0) != TT_OK) {
        return TT_NOMEM;
    }

    room = b->cap - b->len;

    va_start(args, fmt);
    n = vsnprintf(b->data + b->len, room, fmt, args);
    va_end(args);

    if (n < 0) {
        b->data[b->len] = '\0';
        b->failed = 1;
        return TT_ERR;
    }

    if ((size_t) n >= room) {
        /* it did not fit: grow to the exact size and format again */
        if (tt_buf_reserve(b, (size_t) n) != TT_OK) {
            return TT_NOMEM;
        }

        va_start(args, fmt);
        n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, args);
        va_end(args);

        if (n < 0) {
            b->data[b->len] = '\0';
            b->failed = 1;
            return TT_ERR;
        }
    }

    b->len += (size_t) n;

    return TT_OK;
}


char *
tt_buf_detach(tt_buf_t *b, size_t *len)
{
    char  *p;

    if (b->failed) {
        tt_buf_free(b);
        return NULL;
    }

    /* an untouched buffer still detaches as a real, empty string */
    if (b->data == NULL && tt_buf_reserve(b, 0) != TT_OK) {
        tt_buf_free(b);
        return NULL;
    }

    b->data[b->len] = '\0';

    p = b->data;

    if (len != NULL) {
        *len = b->len;
    }

    tt_buf_init(b);

    return p;
}


tt_arena_t *
tt_arena_create(size_t block_size)
{
    tt_arena_t  *a;

    a = malloc(sizeof(tt_arena_t));
    if (a == NULL) {
        return NULL;
    }

    a->head = NULL;
    a->block_size = block_size ? block_size : TT_ARENA_DEFAULT;
    a->used = 0;

    return a;
}


void
tt_arena_destroy(tt_arena_t *a)
{
    tt_arena_block_t  *blk, *next;

    if (a == NULL) {
        return;
    }

    for (blk = a->head; blk != NULL; blk = next) {
        next = blk->next;
        free(blk);
    }

    free(a);
}


static tt_arena_block_t *
tt_arena_block_new(size_t size)
{
    void              *p;
    tt_arena_block_t  *blk;

    if (size > SIZE_MAX - TT_ARENA_HDR) {
        return NULL;
    }

    /* malloc() alignment is only alignof(max_align_t), 8 on some ABIs */
    if (posix_memalign(&p, TT_ARENA_ALIGN, TT_ARENA_HDR + size) != 0) {
        return NULL;
    }

    blk = p;

    blk->next = NULL;
    blk->size = size;
    blk->used = 0;

    return blk;
}


void *
tt_arena_alloc(tt_arena_t *a, size_t n)
{
    size_t             off, need;
    tt_arena_block_t  *blk;

    /* every allocation is a distinct pointer, even a zero-sized one */
    if (n == 0) {
        n = 1;
    }

    if (n > SIZE_MAX - TT_ARENA_ALIGN) {
        return NULL;
    }

    need = (n + TT_ARENA_ALIGN - 1) & ~(size_t) (TT_ARENA_ALIGN - 1);

    blk = a->head;

    if (blk != NULL) {
        off = blk->used;

        if (blk->size - off >= need) {
            blk->used = off + need;
            a->used += need;
            return tt_arena_data(blk) + off;
        }
    }

    if (need > a->block_size / 2) {
        /*
         * A big allocation gets a block of its own, linked behind the
         * current block so that the free space left there stays in use.
         */
        blk = tt_arena_block_new(need);
        if (blk == NULL) {
            return NULL;
        }

        blk->used = need;

        if (a->head == NULL) {
            a->head = blk;

        } else {
            blk->next = a->head->next;
            a->head->next = blk;
        }

        a->used += need;

        return tt_arena_data(blk);
    }

    blk = tt_arena_block_new(a->block_size);
    if (blk == NULL) {
        return NULL;
    }

    blk->next = a->head;
    a->head = blk;

    blk->used = need;
    a->used += need;

    return tt_arena_data(blk);
}


void *
tt_arena_calloc(tt_arena_t *a, size_t n)
{
    void  *p;

    p = tt_arena_alloc(a, n);
    if (p != NULL) {
        memset(p, 0, n);
    }

    return p;
}


char *
tt_arena_strndup(tt_arena_t *a, const char *s, size_t n)
{
    char  *p;

    if (n == SIZE_MAX) {
        return NULL;
    }

    p = tt_arena_alloc(a, n + 1);
    if (p == NULL) {
        return NULL;
    }

    if (n) {
        memcpy(p, s, n);
    }

    p[n] = '\0';

    return p;
}


size_t
tt_arena_used(const tt_arena_t *a)
{
    return a->used;
}


static int
tt_hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    return -1;
}


int
tt_hex_decode(const char *s, size_t len, uint8_t *out)
{
    size_t  i;
    int     hi, lo;

    if (len % 2) {
        return TT_ERR;
    }

    for (i = 0; i < len; i += 2) {
        hi = tt_hex_digit(s[i]);
        lo = tt_hex_digit(s[i + 1]);

        if (hi < 0 || lo < 0) {
            return TT_ERR;
        }

        out[i / 2] = (uint8_t) (hi << 4 | lo);
    }

    return TT_OK;
}
