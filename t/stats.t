#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# End to end: the scheduler reads published posts' counts from the
# simulator's video/query (at most 20 ids a call, one profile's token,
# video.list) and records a series per post that GET /api/posts/stats
# answers; the counts grow between readings; a creator without video.list
# is not asked again at once.  tiktok_stats_interval 2s stands for an hour.

use strict;
use warnings;

use File::Temp qw(tempdir);
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);

use lib 't/lib';
use TT;
use Sim;

my $BUILD = $TT::BUILD;

plan skip_all => 'no scheduler built' unless -x "$BUILD/tiktok-scheduler";
plan skip_all => 'no tiktok module built'
    unless -f "$BUILD/nginx/objs/ngx_http_tiktok_module.so";
plan skip_all => 'no ffmpeg' if system('ffmpeg -version >/dev/null 2>&1');

my $media = tempdir('tt-stats-media-XXXXXX', TMPDIR => 1, CLEANUP => 1);
system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
       'testsrc=size=720x1280:rate=30', '-t', '4', '-c:v', 'libx264',
       '-pix_fmt', 'yuv420p', "$media/v.mp4") == 0 or die 'ffmpeg';

my $sim = Sim->start(media_dir => $media, client_key => 'sim-client',
                     client_secret => 'sim-secret');
my $run = tempdir('tt-stats-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$run/spool";

my $t = TT->new(tiktok_api => $sim->base, extra_http => <<"END",
    tiktok_wake_socket $run/wake.sock;
    tiktok_spool $run/spool;
    tiktok_stats_interval 2s;
END
    extra_server => <<'END');
        location = /metrics { tiktok_metrics; }
END
$t->start_scheduler;

sub post {
    my ($prof, $at) = @_;
    my $r = $t->api(POST => '/api/posts', {
        post => { body => 'stats', $at ? (scheduled_at => $at) : () },
        profiles => [$prof],
        media => [$sim->media_url('v.mp4')],
        platforms => { tiktok => { privacy_status => 'PUBLIC_TO_EVERYONE' } }
    });
    is($r->{status}, 201, 'created') or diag($r->{raw});
    return $r->{json}{id};
}

sub published {
    my ($id) = @_;
    my $end = time + 40;
    while (time < $end) {
        my $pl = $t->api(GET => "/api/posts/$id")->{json}{platforms}[0];
        return $pl if ($pl->{status} // '') eq 'published'
                      && $pl->{platform_id};
        return $pl if ($pl->{status} // '') eq 'failed';
        sleep 0.2;
    }
    return {};
}

sub stats {
    my ($q, %o) = @_;
    return $t->api(GET => "/api/posts/stats?$q", %o);
}

# two posts of one creator at the same time (asked in one call), one of
# another
my ($p1) = $t->add_sim_creator($sim);
my ($p2) = $t->add_sim_creator($sim);
my $at = POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime(int(time) + 3));
my @ids = (post($p1, $at), post($p1, $at), post($p2));
my @pl = map { published($_) } @ids;
ok($_->{platform_id}, "published with TikTok's id $_->{platform_id}")
    for @pl;

# at least three readings of each: at once, then every 2 s
my $end = time + 40;
my $r;
while (time < $end) {
    $r = stats('post_ids=' . join(',', @ids));
    last if $r->{status} == 200
            && !grep { @{ $_->{stats} } < 3 } @{ $r->{json}{data} };
    sleep 0.5;
}
is($r->{status}, 200, 'stats: 200') or diag($r->{raw});
my @data = @{ $r->{json}{data} || [] };
is_deeply([map { $_->{post_id} } @data], \@ids, 'one entry per post, in order');
for my $d (@data) {
    my @s = @{ $d->{stats} };
    ok(@s >= 3, "$d->{post_id}: " . scalar(@s) . ' readings');
    my @at = map { $_->{recorded_at} } @s;
    is_deeply(\@at, [sort @at], 'oldest first');
    like($at[0], qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'UTC times');
    ok($s[-1]{views} > $s[0]{views},
       "views grew: $s[0]{views} -> $s[-1]{views}");
    ok(!grep({ $s[$_]{views} < $s[$_ - 1]{views} } 1 .. $#s),
       'never shrank');
    ok(defined $s[0]{$_}, "$_ recorded") for qw(likes comments shares);
}

# what the scheduler sent TikTok
my $q = $sim->requests(endpoint => 'video_query')->{requests};
ok(@$q >= 3, scalar(@$q) . ' video/query calls');
ok(!grep({ @{ $_->{detail}{video_ids} || [] } > 20 } @$q),
   'never more than 20 ids a call');
ok(!grep({ $_->{status} != 200 } @$q), 'every call answered 200')
    or diag(join ' ', map { $_->{status} } @$q);
ok(grep({ @{ $_->{detail}{video_ids} || [] } == 2 } @$q),
   'a creator\'s two posts in one call');

# from and to narrow the series
my @s = @{ $data[0]{stats} };
$r = stats("post_ids=$ids[0]&from=$s[1]{recorded_at}"
           . "&to=$s[1]{recorded_at}");
is(scalar @{ $r->{json}{data}[0]{stats} }, 1, 'from and to, both in');
is($r->{json}{data}[0]{stats}[0]{recorded_at}, $s[1]{recorded_at},
   'the reading asked for');

# the API's rules
is(stats('')->{status}, 422, 'post_ids is required');
like(stats('')->{raw}, qr/post_ids is required/, 'says so');
is(stats("post_ids=$ids[0],$ids[0]")->{status}, 422, 'an id twice');
is(stats('post_ids=' . join(',', map { "p_$_" } 1 .. 51))->{status}, 422,
   'at most 50 ids');
is(stats("post_ids=$ids[0]&from=yesterday")->{status}, 422, 'a bad time');
is(stats('post_ids=p_doesnotexist00000000')->{status}, 404, 'unknown id');
my $ws2 = $t->admin(qw(workspace create other));
my $key2 = $t->admin('key', 'create', $ws2);
is(stats("post_ids=$ids[0]", key => $key2)->{status}, 404,
   'another workspace\'s post: 404');
is(stats("post_ids=$ids[0]", key => undef)->{status}, 401, 'a key');

# a creator who did not grant video.list: asked, refused, not asked again
# at once; its post has no readings
my ($p3, $u3) = $t->add_sim_creator($sim, user => {
    scopes => 'user.info.basic,video.upload,video.publish' });
my $id3 = post($p3);
ok(published($id3)->{platform_id}, 'published without video.list');
$end = time + 20;
my $refused = 0;
while (time < $end && !$refused) {
    $refused = grep { ($_->{open_id} // '') eq $u3->{open_id} }
               @{ $sim->requests(endpoint => 'video_query')->{requests} };
    sleep 0.3;
}
ok($refused, 'asked once');
sleep 5;        # two intervals and more
is(scalar(grep { ($_->{open_id} // '') eq $u3->{open_id} }
           @{ $sim->requests(endpoint => 'video_query')->{requests} }), 1,
   'not asked again for a day');
is(scalar @{ stats("post_ids=$id3")->{json}{data}[0]{stats} }, 0,
   'no readings');
my $m = HTTP::Tiny->new->get($t->url('/metrics'))->{content};
like($m, qr/^tiktok_stats_queries_total\{result="ok"\} [1-9]/m,
     'metrics: calls answered');
like($m, qr/^tiktok_stats_queries_total\{result="scope_not_authorized"\} 1$/m,
     'metrics: the refused one');

$t->stop;
done_testing();
