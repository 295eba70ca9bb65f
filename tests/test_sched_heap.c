/*
 * Copyright (C) the ngx_tiktok authors.
 * Unit tests of the scheduler's timer heap (the jobs' wake-ups and due
 * times).  The file under test has no libcurl call; it is included here.
 */

#include "tt_test.h"
#include "../scheduler/sched_heap.c"


#define NODES  1000


/* pops every node: the times come out sorted, ties in queueing order */
static void
heap_drain_sorted(sched_heap_t *h, size_t expect)
{
    sched_hnode_t  *n;
    int64_t         at;
    uint64_t        seq;
    size_t          got;

    at = INT64_MIN;
    seq = 0;
    got = 0;

    while ((n = sched_heap_min(h))) {
        assert_true(n->at >= at);

        if (n->at == at) {
            assert_true(n->seq > seq);
        }

        at = n->at;
        seq = n->seq;

        sched_heap_remove(h, n);
        assert_int_equal(n->index, 0);
        got++;
    }

    assert_int_equal(got, expect);
    assert_int_equal(h->n, 0);
}


static void
test_order(void **state)
{
    sched_heap_t    h;
    sched_hnode_t  *nodes;
    size_t          i;

    memset(&h, 0, sizeof(h));
    nodes = calloc(NODES, sizeof(sched_hnode_t));
    assert_non_null(nodes);

    assert_null(sched_heap_min(&h));

    /* many ties: 1,000 posts due in the same second */
    for (i = 0; i < NODES; i++) {
        nodes[i].data = &nodes[i];
        assert_int_equal(sched_heap_add(&h, &nodes[i],
                                        1000 + (int64_t) (i * 7919 % 13)),
                         SCHED_OK);
    }

    assert_int_equal(h.n, NODES);
    assert_int_equal(sched_heap_min(&h)->at, 1000);

    /* the first queued of the earliest time comes first */
    assert_ptr_equal(sched_heap_min(&h), &nodes[0]);

    heap_drain_sorted(&h, NODES);

    sched_heap_free(&h);
    free(nodes);
}


static void
test_move_remove(void **state)
{
    sched_heap_t    h;
    sched_hnode_t  *nodes;
    size_t          i, left;

    memset(&h, 0, sizeof(h));
    nodes = calloc(NODES, sizeof(sched_hnode_t));
    assert_non_null(nodes);

    assert_int_equal(sched_heap_reserve(&h, NODES), SCHED_OK);
    assert_true(h.cap >= NODES);

    for (i = 0; i < NODES; i++) {
        assert_int_equal(sched_heap_add(&h, &nodes[i],
                                        (int64_t) (i * 104729 % 1009)),
                         SCHED_OK);
    }

    /* a node queued again moves, it is never in twice */
    for (i = 0; i < NODES; i += 3) {
        assert_int_equal(sched_heap_add(&h, &nodes[i],
                                        (int64_t) (i * 31 % 997)),
                         SCHED_OK);
    }

    assert_int_equal(h.n, NODES);

    /* removals from anywhere, twice is harmless */
    left = NODES;

    for (i = 0; i < NODES; i += 5) {
        sched_heap_remove(&h, &nodes[i]);
        sched_heap_remove(&h, &nodes[i]);
        assert_int_equal(nodes[i].index, 0);
        left--;
    }

    assert_int_equal(h.n, left);

    for (i = 0; i < h.n; i++) {
        assert_int_equal(h.nodes[i]->index, i + 1);
    }

    heap_drain_sorted(&h, left);

    /* a node never queued is left alone */
    sched_heap_remove(&h, &nodes[1]);
    assert_int_equal(h.n, 0);

    sched_heap_free(&h);
    assert_null(h.nodes);
    free(nodes);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_move_remove),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
