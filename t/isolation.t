#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# The isolation matrix, generated from the API's route table
# (core/tt_api.c), so a new route is covered the day it is added: every
# keyed route, with
#   - another workspace's full key,
#   - another workspace's group-scoped key,
#   - a key of the same workspace scoped to another group,
# against workspace A's resources: a route with an :id of A's answers 404
# with {"error": "Not found"}, byte for byte what an id that exists
# nowhere gets (no existence leak); a collection route with
# ?profile_group_id= of A's group answers 404; without it, a list shows
# nothing of A's, and nothing answers 403 but a group key creating a
# group (api.md) or a webhook (it would receive every group's events).  After the whole matrix, A's data is as it was.
# A route whose resource has no fixture here fails the test, naming it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TT;

my $t = TT->new();

# the route table, as the C source lists it
my $src = TT::read_file("$TT::TOP/core/tt_api.c");
my @routes;
while ($src =~ /\{\s*TT_METHOD_(\w+),\s*"(\/api\/[^"]*)",\s*TT_ROUTE_\w+,
                \s*([01]),\s*([01]),\s*([01])\s*\}/gx)
{
    push @routes, { method => $1, pattern => $2, body => $4, open => $5 };
}
ok(@routes >= 16, scalar(@routes) . ' routes read from core/tt_api.c');
my @keyed = grep { !$_->{open} } @routes;

# workspace A: a group with a profile and a draft, and another group
my $g1 = $t->{first_group};
my $p1 = $t->add_profile(group => $g1, open_id => 'acct-a1');
my $r = $t->api(POST => '/api/posts', {
    post => { body => 'A secret caption', draft => JSON::PP::true },
    profiles => [$p1], media => ['https://cdn.example/a.mp4'],
    platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } });
is($r->{status}, 201, 'A has a post') or diag($r->{raw});
my $x1 = $r->{json}{id};
$r = $t->api(POST => '/api/profile_groups',
             { profile_group => { name => 'A second' } });
my $g2 = $r->{json}{id};
my $p2 = $t->add_profile(group => $g2, open_id => 'acct-a2');

my %id = (posts => $x1, profile_groups => $g1, profiles => $p1);
my %missing = (posts => 'p_' . 'x' x 22, profile_groups => 'pg_' . 'x' x 22,
               profiles => 'prof_' . 'x' x 22, post_queues => 'q_' . 'x' x 22,
               webhooks => 'wh_' . 'x' x 22);

# resources of routes merged later, made when the table has them
my %make = (
    post_queues => sub {
        my $r = $t->api(POST => '/api/post_queues', {
            profile_group_id => $g1,
            post_queue => { name => 'A queue', timezone => 'UTC',
                            queue_timeslots_attributes =>
                                [{ day => 1, time => '09:00' }] } });
        return $r->{json}{id};
    },
    webhooks => sub {
        my $r = $t->api(POST => '/api/webhooks', {
            url => 'https://hooks.example/a', events => ['*'] });
        return $r->{json}{id};
    },
    # GET /api/export has no id of its own: what it would leak is A's
    # post (and every id above), which no other key's export may hold
    export => sub { return $x1; },
);

sub collection { my ($p) = @_; return (split m{/}, $p)[2]; }

for my $c (sort { $a cmp $b } map { collection($_->{pattern}) } @keyed) {
    next if exists $id{$c};
    $id{$c} = $make{$c} ? $make{$c}->() : undef;
    ok($id{$c}, "a resource of /api/$c in workspace A")
        or diag("route /api/$c has no fixture in t/isolation.t: add one");
}

# a body each route takes (what a client would send); {} for the others
my %body = (
    'POST /api/posts' => {
        post => { body => 'intruder' }, profiles => [$p1],
        media => ['https://cdn.example/b.mp4'],
        platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } },
    'PATCH /api/posts/:id' => { post => { body => 'hijacked' } },
    'POST /api/profile_groups' => { profile_group => { name => 'mine' } },
    'POST /api/profile_groups/:id/initialize_connection' => {
        platform => 'tiktok', redirect_url => 'https://app.example/done' },
    'PATCH /api/post_queues/:id' => { post_queue => { name => 'hijacked' } },
    'PATCH /api/webhooks/:id' => { description => 'hijacked' },
);
$body{'POST /api/posts/batch'} = { posts => [ $body{'POST /api/posts'} ] };

# A's data as A sees it, before and after
sub snapshot {
    my @paths = ('/api/posts', '/api/profile_groups', '/api/profiles',
                 map { "/api/$_/$id{$_}" } grep { $id{$_} } sort keys %id);
    return join "\n", map {
        my $r = $t->api(GET => $_);
        my $j = $r->{json};
        delete $j->{last_used_at} if ref $j eq 'HASH';
        "$_ $r->{status} " . $TT::JSON->encode($j);
    } @paths;
}
my $before = snapshot();

# the keys
my $wsb = $t->admin(qw(workspace create), 'B');
my $kb = $t->admin('key', 'create', $wsb);
my ($gb) = join(' ', $t->admin('group', 'list', $wsb)) =~ /(pg_\w+)/;
my $kbg = $t->admin('key', 'create', $wsb, '--group', $gb);
my $kg2 = $t->admin('key', 'create', $t->{ws}, '--group', $g2);
my @keys = ([$kb, "another workspace's key", 0],
            [$kbg, "another workspace's group key", 1],
            [$kg2, "another group's key", 1]);

my @a_ids = ($x1, $g1, $p1, grep { defined } map { $id{$_} } sort keys %id);

sub call {
    my ($key, $rt, $path) = @_;
    my $b = $rt->{body}
        ? ($body{"$rt->{method} $rt->{pattern}"} // {}) : undef;
    return $t->api($rt->{method}, $path, defined $b ? ($b) : (),
                   key => $key);
}

my $n = 0;
for my $k (@keys) {
    my ($key, $who, $scoped) = @$k;
    for my $rt (@keyed) {
        my $what = "$rt->{method} $rt->{pattern} with $who";
        my $c = collection($rt->{pattern});
        if ($rt->{pattern} =~ /:id/) {
            next unless $id{$c};
            (my $path = $rt->{pattern}) =~ s/:id/$id{$c}/;
            (my $none = $rt->{pattern}) =~ s/:id/$missing{$c} \/\/ 'x_none'/e;
            my $r = call($key, $rt, $path);
            my $z = call($key, $rt, $none);
            is($r->{status}, 404, "$what: 404") or diag($r->{raw});
            is_deeply($r->{json}, { error => 'Not found' }, "$what: no data");
            is("$r->{status} $r->{raw}", "$z->{status} $z->{raw}",
               "$what: as for an id that exists nowhere");
            $n++;
            next;
        }

        # a collection: A's group named explicitly is not found
        my $path = "$rt->{pattern}?profile_group_id=$g1";
        my $r = call($key, $rt, $path);
        is($r->{status}, 404, "$what and A's group: 404") or diag($r->{raw});

        # and without it, nothing of A's
        $r = call($key, $rt, $rt->{pattern});
        my $forbidden = $scoped && $rt->{method} eq 'POST'
                        && ($rt->{pattern} eq '/api/profile_groups'
                            || $rt->{pattern} eq '/api/webhooks');
        if ($forbidden) {
            is($r->{status}, 403, "$what: 403, as api.md says");
        } else {
            isnt($r->{status}, 403, "$what: never 403 ($r->{status})");
        }
        if ($rt->{method} eq 'GET') {
            my @seen = grep { index($r->{raw}, $_) >= 0 } @a_ids;
            is("@seen", '', "$what: none of A's ids");
        }
        $n++;
    }
}
ok($n >= 3 * @keyed - 3, "$n calls in the matrix");

is(snapshot(), $before, "A's data is as it was");
is($t->api(GET => "/api/posts/$x1")->{json}{body}, 'A secret caption',
   'its post unchanged');

$t->stop;
done_testing();
