/*
 * Copyright (C) the ngx_tiktok authors.
 * A binary min-heap of timer nodes: the jobs' wake-ups and due times.
 */

#include <stdlib.h>

#include "sched.h"


/*
 * The loop asks for the earliest timer on every iteration, and a due time
 * wakes a thousand jobs at once: with the nodes in a heap that costs O(1)
 * and O(k log n), where a walk over every job cost O(n) per iteration.
 * Nodes live in their owners; the heap holds pointers, and each node
 * knows its place (index), so a job that is kicked or freed leaves the
 * heap without a search.
 */


static int
sched_heap_less(const sched_hnode_t *a, const sched_hnode_t *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}


static void
sched_heap_put(sched_heap_t *h, size_t i, sched_hnode_t *node)
{
    h->nodes[i] = node;
    node->index = i + 1;
}


static void
sched_heap_up(sched_heap_t *h, size_t i)
{
    sched_hnode_t  *node;
    size_t          p;

    node = h->nodes[i];

    while (i > 0) {
        p = (i - 1) / 2;

        if (!sched_heap_less(node, h->nodes[p])) {
            break;
        }

        sched_heap_put(h, i, h->nodes[p]);
        i = p;
    }

    sched_heap_put(h, i, node);
}


static void
sched_heap_down(sched_heap_t *h, size_t i)
{
    sched_hnode_t  *node;
    size_t          c;

    node = h->nodes[i];

    for ( ;; ) {
        c = 2 * i + 1;

        if (c >= h->n) {
            break;
        }

        if (c + 1 < h->n && sched_heap_less(h->nodes[c + 1], h->nodes[c])) {
            c++;
        }

        if (!sched_heap_less(h->nodes[c], node)) {
            break;
        }

        sched_heap_put(h, i, h->nodes[c]);
        i = c;
    }

    sched_heap_put(h, i, node);
}


/* room for n nodes: reserved ahead, adding a node never fails */
int
sched_heap_reserve(sched_heap_t *h, size_t n)
{
    sched_hnode_t  **a;
    size_t           cap;

    if (n <= h->cap) {
        return SCHED_OK;
    }

    cap = h->cap ? h->cap : 64;

    while (cap < n) {
        cap *= 2;
    }

    a = realloc(h->nodes, cap * sizeof(sched_hnode_t *));
    if (a == NULL) {
        return SCHED_ERR;
    }

    h->nodes = a;
    h->cap = cap;

    return SCHED_OK;
}


/* queues the node at at, or moves it there if it is queued already */
int
sched_heap_add(sched_heap_t *h, sched_hnode_t *node, int64_t at)
{
    sched_heap_remove(h, node);

    if (sched_heap_reserve(h, h->n + 1) != SCHED_OK) {
        return SCHED_ERR;
    }

    node->at = at;
    node->seq = h->seq++;

    h->n++;
    sched_heap_put(h, h->n - 1, node);
    sched_heap_up(h, h->n - 1);

    return SCHED_OK;
}


/* a node that is not queued is left alone */
void
sched_heap_remove(sched_heap_t *h, sched_hnode_t *node)
{
    sched_hnode_t  *last;
    size_t          i;

    if (node->index == 0) {
        return;
    }

    i = node->index - 1;
    node->index = 0;

    h->n--;
    last = h->nodes[h->n];

    if (i == h->n) {
        return;
    }

    /* the last node fills the hole, then goes up or down to its place */
    sched_heap_put(h, i, last);
    sched_heap_up(h, i);
    sched_heap_down(h, last->index - 1);
}


sched_hnode_t *
sched_heap_min(sched_heap_t *h)
{
    return h->n ? h->nodes[0] : NULL;
}


void
sched_heap_free(sched_heap_t *h)
{
    free(h->nodes);
    h->nodes = NULL;
    h->n = 0;
    h->cap = 0;
}
