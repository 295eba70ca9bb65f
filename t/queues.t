#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# End to end: /api/post_queues (the seed's examples as written), field
# validation, visibility, slotting in the post's own transaction, batch,
# priority and re-arrangement, jitter, deleting a queue, next_slot, a DST
# change (the queue clock fixed by tiktok_test_queue_clock), and, with the
# real clock, the scheduler publishing a queued post at its slot and a
# paused queue publishing nothing until it is enabled again.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use File::Temp qw(tempdir);
use POSIX qw(strftime);
use Test::More;
use Time::HiRes qw(sleep time);
use TT;

my $BUILD = $TT::BUILD;

plan skip_all => 'no tiktok module built'
    unless -f "$BUILD/nginx/objs/ngx_http_tiktok_module.so";

my $TRUE = JSON::PP::true;
my $FALSE = JSON::PP::false;

# Wednesday 2027-03-10 12:00 UTC for the queues of this server
my $t = TT->new(extra_http =>
                "tiktok_test_queue_clock 2027-03-10T12:00:00Z;\n");
my $prof = $t->add_profile(username => 'shop');
my $pg = $t->{group};

sub post_in {
    my ($tt, $q, %o) = @_;
    return $tt->api(POST => '/api/posts', {
        post => { body => $o{body} // 'queued', %{ $o{post} || {} } },
        profiles => ['tiktok'],
        media => [$o{media} // 'https://yourcdn.com/bts.mp4'],
        queue_id => $q,
        $o{priority} ? (queue_priority => $o{priority}) : (),
        platforms => { tiktok => { privacy_status => 'PUBLIC_TO_EVERYONE' } },
    }, %{ $o{opts} || {} });
}

sub at_of { my ($tt, $id) = @_;
            return $tt->api(GET => "/api/posts/$id")->{json}{scheduled_at}; }

# 1. the seed's queue, as written (with this server's group id)
my $r = $t->api(POST => '/api/post_queues', {
    profile_group_id => $pg,
    post_queue => {
        name => 'TikTok evergreen', timezone => 'America/Los_Angeles',
        jitter => 10,
        queue_timeslots_attributes => [
            { day => 1, time => '09:00' }, { day => 3, time => '13:00' },
            { day => 5, time => '18:00' } ] } });
is($r->{status}, 201, 'the seed\'s queue is created') or diag($r->{raw});
my $seedq = $r->{json};
like($seedq->{id}, qr/^q_[A-Za-z0-9]+$/, 'queue id q_...');
is($seedq->{name}, 'TikTok evergreen', 'name');
is($seedq->{timezone}, 'America/Los_Angeles', 'timezone');
is($seedq->{jitter}, 10, 'jitter');
is($seedq->{enabled}, $TRUE, 'enabled by default');
is($seedq->{profile_group_id}, $pg, 'its group');
is($seedq->{description}, undef, 'no description');
is($seedq->{posts_count}, 0, 'posts_count 0');
is_deeply([map { [$_->{day}, $_->{time}] } @{ $seedq->{timeslots} }],
          [[1, '09:00'], [3, '13:00'], [5, '18:00']], 'timeslots');
like($_->{id}, qr/^ts_/, 'timeslot id') for @{ $seedq->{timeslots} };

# the seed's post, as written: the answer carries the assigned time
$r = $t->api(POST => '/api/posts', {
    post => { body => 'How we shoot this stuff.' },
    profiles => ['tiktok'],
    media => ['https://yourcdn.com/bts.mp4'],
    queue_id => $seedq->{id},
    queue_priority => 'medium',
    platforms => { tiktok => { privacy_status => 'PUBLIC_TO_EVERYONE' } } });
is($r->{status}, 201, 'the seed\'s queued post') or diag($r->{raw});
my $seedp = $r->{json};
is($seedp->{queue_id}, $seedq->{id}, 'queue_id');
is($seedp->{queue_priority}, 'medium', 'queue_priority');
# Wednesday 13:00 PST (DST starts on the 14th) is 21:00Z; jitter within
# 10 minutes, in whole minutes
my ($min) = ($seedp->{scheduled_at} // '') =~ /^2027-03-10T(\d\d:\d\d):00Z$/;
ok(defined $min && $min ge '20:50' && $min le '21:10',
   "assigned scheduled_at $seedp->{scheduled_at} is Wednesday 13:00 PST "
   . '+/- 10 min');
is(at_of($t, $seedp->{id}), $seedp->{scheduled_at}, 'stored as answered');

$r = $t->api(GET => "/api/post_queues/$seedq->{id}");
is($r->{status}, 200, 'get');
is($r->{json}{posts_count}, 1, 'posts_count 1');
$r = $t->api(GET => '/api/post_queues');
is($r->{status}, 200, 'list');
is_deeply([map { $_->{id} } @{ $r->{json}{data} }], [$seedq->{id}],
          'list: the group\'s queue');

# 2. every failing field named at once
$r = $t->api(POST => '/api/post_queues', { post_queue => {
    name => 'bad', timezone => 'Mars/Olympus', jitter => 61, colour => 1,
    queue_timeslots_attributes => [
        { day => 7, time => '09:00' }, { day => 1, time => '9:00' },
        { day => 2, time => '24:00' }, { day => 3, time => '10:00' },
        { day => 3, time => '10:00' } ] } });
is($r->{status}, 422, 'invalid queue: 422');
my $errs = join("\n", @{ $r->{json}{errors} || [] });
like($errs, qr/post_queue\.timezone Mars\/Olympus is not a known IANA/,
     'unknown timezone named');
like($errs, qr/post_queue\.jitter must be .* 0 to 60/, 'jitter named');
like($errs, qr/post_queue\.colour is not a known field/, 'unknown field');
like($errs, qr/queue_timeslots_attributes\[0\]\.day must be 0/,
     'day 7 named');
like($errs, qr/queue_timeslots_attributes\[1\]\.time must be "HH:MM"/,
     'time 9:00 named');
like($errs, qr/queue_timeslots_attributes\[2\]\.time/, 'time 24:00 named');
like($errs, qr/queue_timeslots_attributes\[4\] repeats/, 'duplicate named');
unlike($errs, qr/attributes\[3\]/, 'the valid timeslot is not named');
$r = $t->api(POST => '/api/post_queues', { post_queue => { jitter => -1 } });
like(join("\n", @{ $r->{json}{errors} || [] }),
     qr/post_queue\.name is required.*post_queue\.timezone is required/s,
     'name and timezone required');

# 3. a UTC queue: Wednesday 13:00 and Friday 09:00, no jitter
$r = $t->api(POST => '/api/post_queues', { post_queue => {
    name => 'utc', timezone => 'UTC', description => 'weekday cadence',
    queue_timeslots_attributes => [ { day => 5, time => '09:00' },
                                     { day => 3, time => '13:00' } ] } });
is($r->{status}, 201, 'UTC queue') or diag($r->{raw});
my $q = $r->{json}{id};
is($r->{json}{description}, 'weekday cadence', 'description');
is_deeply([map { $_->{day} } @{ $r->{json}{timeslots} }], [3, 5],
          'timeslots in week order');

$r = $t->api(GET => "/api/post_queues/$q/next_slot");
is_deeply($r->{json}, { next_slot => '2027-03-10T13:00:00Z' },
          'next_slot of an empty queue');

my @ids;
for my $i (1 .. 3) {
    $r = post_in($t, $q, body => "medium $i");
    is($r->{status}, 201, "medium post $i") or diag($r->{raw});
    push @ids, $r->{json}{id};
}
is_deeply([map { at_of($t, $_) } @ids],
          ['2027-03-10T13:00:00Z', '2027-03-12T09:00:00Z',
           '2027-03-17T13:00:00Z'], 'posts take the next free slots');
is($t->api(GET => "/api/post_queues/$q/next_slot")->{json}{next_slot},
   '2027-03-19T09:00:00Z', 'next_slot: after the last post');

# two at once in a batch: never the same slot
$r = $t->api(POST => '/api/posts/batch', { posts => [
    map { { post => { body => "batch $_" }, profiles => ['tiktok'],
            media => ['https://yourcdn.com/b.mp4'], queue_id => $q,
            platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } } }
    1 .. 2 ] });
is($r->{status}, 201, 'batch of two queued posts') or diag($r->{raw});
is_deeply([map { $_->{scheduled_at} } @{ $r->{json}{data} || [] }],
          ['2027-03-19T09:00:00Z', '2027-03-24T13:00:00Z'],
          'the batch answer carries two different slots');
push @ids, map { $_->{id} } @{ $r->{json}{data} || [] };

# a high-priority post takes the first slot; the others move later
$r = post_in($t, $q, body => 'urgent', priority => 'high');
is($r->{json}{scheduled_at}, '2027-03-10T13:00:00Z',
   'high priority: the first slot');
my $high = $r->{json}{id};
is_deeply([map { at_of($t, $_) } @ids],
          ['2027-03-12T09:00:00Z', '2027-03-17T13:00:00Z',
           '2027-03-19T09:00:00Z', '2027-03-24T13:00:00Z',
           '2027-03-26T09:00:00Z'], 'lower ones moved one slot later');

# a low one goes last; raising it to high by PATCH moves it first
$r = post_in($t, $q, body => 'later', priority => 'low');
is($r->{json}{scheduled_at}, '2027-03-31T13:00:00Z', 'low: last');
my $low = $r->{json}{id};
$r = $t->api(PATCH => "/api/posts/$low", { queue_priority => 'high' });
is($r->{status}, 200, 'priority changed');
is($r->{json}{scheduled_at}, '2027-03-12T09:00:00Z',
   'the answer carries the new slot: after the older high post');
is(at_of($t, $ids[0]), '2027-03-17T13:00:00Z', 'a medium one moved');

# deleting a post closes the gap
is($t->api(DELETE => "/api/posts/$low")->{status}, 200, 'post deleted');
is(at_of($t, $ids[0]), '2027-03-12T09:00:00Z', 'gap closed');
is(at_of($t, $ids[4]), '2027-03-26T09:00:00Z', 'the last one too');

# scheduled_at and queue_id: never both; an exact time needs queue_id null
$r = post_in($t, $q, post => { scheduled_at => '2027-05-01T10:00:00Z' });
is($r->{status}, 422, 'scheduled_at with queue_id: 422');
like(join(' ', @{ $r->{json}{errors} }),
     qr/scheduled_at and queue_id cannot both be given/, 'says why');
$r = $t->api(PATCH => "/api/posts/$ids[4]",
             { post => { scheduled_at => '2027-05-01T10:00:00Z' } });
is($r->{status}, 422, 'exact time on a queued post: 422');
$r = $t->api(PATCH => "/api/posts/$ids[4]",
             { post => { scheduled_at => '2027-05-01T10:00:00Z' },
               queue_id => undef });
is($r->{status}, 200, 'out of the queue with an exact time');
is($r->{json}{scheduled_at}, '2027-05-01T10:00:00Z', 'its own time');
is($r->{json}{queue_id}, undef, 'no queue');
is($t->api(GET => "/api/post_queues/$q")->{json}{posts_count}, 5,
   'posts_count follows');

# back into the queue by PATCH: the next free slot
$r = $t->api(PATCH => "/api/posts/$ids[4]", { queue_id => $q });
is($r->{json}{scheduled_at}, '2027-03-26T09:00:00Z', 'rejoined: last');

# a timeslot added: re-arranged into it
$r = $t->api(PATCH => "/api/post_queues/$q", { post_queue => {
    queue_timeslots_attributes => [ { day => 4, time => '08:00' } ] } });
is($r->{status}, 200, 'timeslot added') or diag($r->{raw});
is(scalar @{ $r->{json}{timeslots} }, 3, 'three timeslots');
is_deeply([map { at_of($t, $_) } $high, @ids],
          ['2027-03-10T13:00:00Z', '2027-03-11T08:00:00Z',
           '2027-03-12T09:00:00Z', '2027-03-17T13:00:00Z',
           '2027-03-18T08:00:00Z', '2027-03-19T09:00:00Z'],
          'the queue re-arranged into the new slot');

# removed again with {id, _destroy}; unknown ids are named
my ($thu) = grep { $_->{day} == 4 } @{ $r->{json}{timeslots} };
$r = $t->api(PATCH => "/api/post_queues/$q", { post_queue => {
    queue_timeslots_attributes => [ { id => 'ts_nope', _destroy => $TRUE } ]
    } });
is($r->{status}, 422, 'unknown timeslot id: 422');
like($r->{json}{errors}[0], qr/\[0\]\.id ts_nope is not a timeslot/,
     'named');
$r = $t->api(PATCH => "/api/post_queues/$q", { post_queue => {
    queue_timeslots_attributes => [ { id => $thu->{id}, _destroy => $TRUE } ]
    } });
is($r->{status}, 200, 'timeslot removed');
is_deeply([map { at_of($t, $_) } $high, @ids],
          ['2027-03-10T13:00:00Z', '2027-03-12T09:00:00Z',
           '2027-03-17T13:00:00Z', '2027-03-19T09:00:00Z',
           '2027-03-24T13:00:00Z', '2027-03-26T09:00:00Z'],
          'back where they were');

# the timezone changes: the same wall times in Tokyo (UTC+9)
$r = $t->api(PATCH => "/api/post_queues/$q", { post_queue => {
    timezone => 'Asia/Tokyo', name => 'tokyo' } });
is($r->{status}, 200, 'timezone changed');
is($r->{json}{name}, 'tokyo', 'name changed');
is(at_of($t, $high), '2027-03-12T00:00:00Z',
   'Friday 09:00 JST (00:00Z): Wednesday 13:00 JST has passed');
is(at_of($t, $ids[0]), '2027-03-17T04:00:00Z', 'then Wednesday 13:00 JST');

# a queue with posts keeps at least one timeslot
my @all = @{ $r->{json}{timeslots} };
$r = $t->api(PATCH => "/api/post_queues/$q", { post_queue => {
    queue_timeslots_attributes => [
        map { { id => $_->{id}, _destroy => $TRUE } } @all ] } });
is($r->{status}, 422, 'the last timeslot of a queue with posts: 422');
like($r->{json}{errors}[0], qr/queue_timeslots_attributes: a queue with posts needs at least one timeslot/, 'says why');

# 4. jitter: within +/- jitter, whole minutes, kept when the slot stays
$r = $t->api(POST => '/api/post_queues', { post_queue => {
    name => 'jitter', timezone => 'UTC', jitter => 30,
    queue_timeslots_attributes => [ { day => 4, time => '12:00' } ] } });
my $jq = $r->{json}{id};
my @j;
for my $i (1 .. 6) {
    $r = post_in($t, $jq, body => "j$i");
    push @j, [$r->{json}{id}, $r->{json}{scheduled_at}];
}
my $i = 0;
for my $p (@j) {
    my $slot = 1804766400 + 7 * 86400 * $i++;    # 2027-03-11T12:00Z
    my ($h, $m, $s) = $p->[1] =~ /T(\d\d):(\d\d):(\d\d)Z$/;
    my $at = $slot - ($slot % 86400) + $h * 3600 + $m * 60 + $s;
    ok(abs($at - $slot) <= 1800 && $s == 0,
       "jittered $p->[1] within 30 min of its slot, whole minutes");
}
$r = post_in($t, $jq, body => 'j-high', priority => 'high');
ok(abs(strtime($r->{json}{scheduled_at}) - 1804766400) <= 1800,
   'a high post takes the first slot');
# every medium post moved one slot: each drew a new jitter around it
$i = 1;
for my $p (@j) {
    my $slot = 1804766400 + 7 * 86400 * $i++;
    ok(abs(strtime(at_of($t, $p->[0])) - $slot) <= 1800, 'moved, jittered');
}
# the name changes, the slots do not: every time is kept
my %before = map { $_->[0] => at_of($t, $_->[0]) } @j;
$t->api(PATCH => "/api/post_queues/$jq", { post_queue => { name => 'x' } });
is_deeply({ map { $_->[0] => at_of($t, $_->[0]) } @j }, \%before,
          'times kept when nothing that slots changes');
$t->api(PATCH => "/api/post_queues/$jq", { post_queue => { jitter => 45 } });
is_deeply({ map { $_->[0] => at_of($t, $_->[0]) } @j }, \%before,
          'times kept when the queue is re-arranged and they keep slots');

sub strtime {
    my ($s) = @_;
    my ($y, $mo, $d, $h, $mi, $se) =
        ($s // '') =~ /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)Z$/ or return 0;
    require Time::Local;
    return Time::Local::timegm($se, $mi, $h, $d, $mo - 1, $y);
}

# 5. visibility: another group's queue is 404 to a scoped key, and to a
# post of another group; another workspace's queue is 404
my $pg2 = ($t->admin('group', 'create', $t->{ws}, 'second') =~ /(pg_\w+)/)[0];
my $scoped = $t->admin('key', 'create', $t->{ws}, '--group', $pg2);
$r = $t->api(GET => "/api/post_queues/$q", key => $scoped);
is($r->{status}, 404, 'scoped key: another group\'s queue is 404');
$r = $t->api(GET => '/api/post_queues', key => $scoped);
is_deeply($r->{json}{data}, [], 'scoped key lists its group\'s queues only');
$r = $t->api(POST => '/api/post_queues', { post_queue => {
    name => 'mine', timezone => 'UTC' } }, key => $scoped);
is($r->{status}, 201, 'scoped key creates in its group');
is($r->{json}{profile_group_id}, $pg2, 'in its group');
my $q2 = $r->{json}{id};
$r = $t->api(POST => '/api/post_queues', { profile_group_id => $pg,
    post_queue => { name => 'theirs', timezone => 'UTC' } }, key => $scoped);
is($r->{status}, 422, 'scoped key cannot name another group');
$r = $t->api(PATCH => "/api/post_queues/$q", { post_queue => {
    name => 'hijack' } }, key => $scoped);
is($r->{status}, 404, 'nor change another group\'s queue');
is($t->api(DELETE => "/api/post_queues/$q", key => $scoped)->{status}, 404,
   'nor delete it');
is($t->api(GET => "/api/post_queues/$q/next_slot", key => $scoped)->{status},
   404, 'nor ask its next slot');
$r = post_in($t, $q2);
is($r->{status}, 422, 'a post of group 1 cannot join group 2\'s queue');
like(join(' ', @{ $r->{json}{errors} }), qr/is not a queue of profile group/,
     'named');
$r = $t->api(GET => "/api/post_queues/$q?profile_group_id=$pg2");
is($r->{status}, 404, '?profile_group_id of another group: 404');

my $ws2 = $t->admin(qw(workspace create), 'other');
my $key2 = $t->admin('key', 'create', $ws2);
is($t->api(GET => "/api/post_queues/$q", key => $key2)->{status}, 404,
   'another workspace: 404');

# a queue with no timeslot takes no post
$r = $t->api(POST => '/api/post_queues', { post_queue => {
    name => 'empty', timezone => 'UTC' } });
$r = post_in($t, $r->{json}{id});
is($r->{status}, 422, 'a queue with no timeslot: 422');
like(join(' ', @{ $r->{json}{errors} }), qr/has no timeslot/, 'says why');

# 6. deleting a queue: its posts become drafts that keep their content
$r = $t->api(DELETE => "/api/post_queues/$jq");
is_deeply($r->{json}, { deleted => $TRUE }, 'queue deleted');
is($t->api(GET => "/api/post_queues/$jq")->{status}, 404, 'gone');
$r = $t->api(GET => "/api/posts/$j[0][0]");
is($r->{json}{status}, 'draft', 'its post is a draft');
is($r->{json}{body}, 'j1', 'caption kept');
is($r->{json}{media}[0]{source_url}, 'https://yourcdn.com/bts.mp4',
   'media kept');
is($r->{json}{queue_id}, undef, 'out of the queue');
is($r->{json}{scheduled_at}, undef, 'unscheduled');

$t->stop;


# 7. across a DST change (America/Los_Angeles, 14 March and 7 November
# 2027), with the queue clock fixed before each
for my $case (
    [ '2027-03-10T12:00:00Z', 0, '02:30',
      [ '2027-03-14T10:00:00Z', '2027-03-21T09:30:00Z' ],
      'spring forward: 02:30 does not exist, 03:00 PDT; then 02:30 PDT' ],
    [ '2027-11-03T12:00:00Z', 0, '01:30',
      [ '2027-11-07T08:30:00Z', '2027-11-14T09:30:00Z' ],
      'fall back: 01:30 once, PDT; then 01:30 PST' ],
    [ '2027-10-30T12:00:00Z', 0, '01:30',
      [ '2027-10-31T08:30:00Z', '2027-11-07T08:30:00Z',
        '2027-11-14T09:30:00Z' ],
      'through the change: the repeated hour used once' ])
{
    my ($now, $day, $time, $want, $what) = @$case;
    my $d = TT->new(extra_http => "tiktok_test_queue_clock $now;\n");
    $d->add_profile();
    my $r = $d->api(POST => '/api/post_queues', { post_queue => {
        name => 'la', timezone => 'America/Los_Angeles',
        queue_timeslots_attributes => [ { day => $day, time => $time } ]
        } });
    my $dq = $r->{json}{id};
    is($d->api(GET => "/api/post_queues/$dq/next_slot")->{json}{next_slot},
       $want->[0], "$what: next_slot");
    my @got = map { post_in($d, $dq)->{json}{scheduled_at} } @$want;
    is_deeply(\@got, $want, $what);
    $d->stop;
}


# 8. with the real clock: the scheduler publishes a queued post at its
# slot, and a paused queue publishes nothing until it is enabled again,
# when its past-due post takes a future slot
SKIP: {
    skip 'no scheduler built', 1 unless -x "$BUILD/tiktok-scheduler";
    skip 'no ffmpeg', 1 if system('ffmpeg -version >/dev/null 2>&1');
    publish_at_slots();
}

done_testing();


sub iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($_[0])) }

sub publish_at_slots {
    require Sim;

    my $media = tempdir('tt-queue-media-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
           'testsrc=size=720x1280:rate=30', '-t', '4', '-c:v', 'libx264',
           '-pix_fmt', 'yuv420p', "$media/q.mp4") == 0 or die 'ffmpeg';

    my $sim = Sim->start(media_dir => $media, client_key => 'sim-client',
                         client_secret => 'sim-secret');
    my $run = tempdir('tt-queue-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    mkdir "$run/spool";
    my $p = TT->new(tiktok_api => $sim->base, extra_http => <<"END");
    tiktok_wake_socket $run/wake.sock;
    tiktok_spool $run/spool;
END
    my ($prof) = $p->add_sim_creator($sim);
    $p->start_scheduler();

    # the next whole minute at least 15 s away, and the one after it
    my $slot1 = (int(time / 60) + 1) * 60;
    $slot1 += 60 if $slot1 - time < 15;
    my $slot2 = $slot1 + 60;
    my @ts = map { my @g = gmtime($_);
                   { day => $g[6], time => sprintf('%02d:%02d', @g[2, 1]) } }
             $slot1, $slot2;

    my $r = $p->api(POST => '/api/post_queues', { post_queue => {
        name => 'now', timezone => 'UTC',
        queue_timeslots_attributes => [ $ts[0] ] } });
    my $qa = $r->{json}{id};
    $r = $p->api(POST => '/api/post_queues', { post_queue => {
        name => 'paused', timezone => 'UTC',
        queue_timeslots_attributes => \@ts } });
    my $qb = $r->{json}{id};

    my $a = post_in($p, $qa, body => 'queued A',
                    media => $sim->media_url('q.mp4'));
    is($a->{json}{scheduled_at}, iso($slot1), 'A: the next slot, '
       . iso($slot1)) or diag($a->{raw});
    my $b = post_in($p, $qb, body => 'queued B',
                    media => $sim->media_url('q.mp4'));
    is($b->{json}{scheduled_at}, iso($slot1), 'B: the same minute, '
       . 'in its own queue');

    $r = $p->api(PATCH => "/api/post_queues/$qb",
                 { post_queue => { enabled => $FALSE } });
    is($r->{json}{enabled}, $FALSE, 'B\'s queue paused');

    my $pa = wait_platform($p, $a->{json}{id}, $slot1 + 30);
    is($pa->{platforms}[0]{status}, 'published', 'A published at its slot');
    my ($l) = grep { ($_->{publish_id} // '') eq
                     ($pa->{platforms}[0]{publish_id} // 'none') }
              @{ $sim->ledger->{publishes} };
    ok($l && $l->{created_at} >= $slot1 && $l->{created_at} < $slot1 + 5,
       'TikTok was called at the slot, not before')
        or diag(explain($l));

    sleep 2;
    my $pb = $p->api(GET => "/api/posts/$b->{json}{id}")->{json};
    is($pb->{platforms}[0]{status}, 'pending',
       'B, due in a paused queue, is not published');
    is($pb->{scheduled_at}, iso($slot1), 'B keeps its slot while paused');
    is(scalar @{ $sim->ledger->{publishes} }, 1, 'TikTok got A only');

    $r = $p->api(PATCH => "/api/post_queues/$qb",
                 { post_queue => { enabled => $TRUE } });
    is($r->{json}{enabled}, $TRUE, 'B\'s queue enabled again');
    $pb = $p->api(GET => "/api/posts/$b->{json}{id}")->{json};
    is($pb->{scheduled_at}, iso($slot2),
       'B, past due, takes the next future slot');

    $pb = wait_platform($p, $b->{json}{id}, $slot2 + 30);
    is($pb->{platforms}[0]{status}, 'published',
       'B published at its new slot, seen by the scheduler with no restart');
    ($l) = grep { ($_->{publish_id} // '') eq
                  ($pb->{platforms}[0]{publish_id} // 'none') }
           @{ $sim->ledger->{publishes} };
    ok($l && $l->{created_at} >= $slot2 && $l->{created_at} < $slot2 + 5,
       'at the new slot') or diag(explain($l));

    $p->stop;
    $sim->stop;
}

sub wait_platform {
    my ($tt, $id, $until) = @_;
    my $post;
    while (time < $until) {
        $post = $tt->api(GET => "/api/posts/$id")->{json};
        my $st = $post->{platforms}[0]{status} // '';
        return $post if $st eq 'published' || $st eq 'failed';
        sleep 0.5;
    }
    return $post;
}
