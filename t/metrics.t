#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# End to end: GET /api/health (503 until the scheduler runs, 503 again
# when it stops making progress) and tiktok_metrics: posts by status,
# publishes, failures by TikTok's code, upload bytes and the dispatch lag
# counted by the scheduler in the store and shown by nginx; allow/deny.

use strict;
use warnings;

use File::Temp qw(tempdir);
use POSIX qw(strftime);
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

my $media = tempdir('tt-metrics-media-XXXXXX', TMPDIR => 1, CLEANUP => 1);
system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
       'testsrc=size=720x1280:rate=30', '-t', '4', '-c:v', 'libx264',
       '-pix_fmt', 'yuv420p', "$media/v.mp4") == 0 or die 'ffmpeg';
my $size = -s "$media/v.mp4";

my $sim = Sim->start(media_dir => $media, client_key => 'sim-client',
                     client_secret => 'sim-secret');
my $run = tempdir('tt-metrics-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$run/spool";

my $t = TT->new(tiktok_api => $sim->base, extra_http => <<"END",
    tiktok_wake_socket $run/wake.sock;
    tiktok_spool $run/spool;
    tiktok_webhook_allow_private on;
END
    extra_server => <<'END');
        location = /metrics {
            tiktok_metrics;
            allow 127.0.0.1;
            deny all;
        }
        location = /metrics-closed {
            tiktok_metrics;
            deny all;
        }
END

my $http = HTTP::Tiny->new(timeout => 10);

sub metrics {
    my $r = $http->get($t->url('/metrics'));
    is($r->{status}, 200, 'metrics answer') or diag($r->{content});
    return $r;
}

sub sample {
    my ($text, $re) = @_;
    return $text =~ /^$re (\S+)$/m ? $1 + 0 : undef;
}

sub health { return $t->api(GET => '/api/health', key => undef); }

# no scheduler yet: the store is fine, publishing is not
my $h = health();
is($h->{status}, 503, 'health: 503 with no scheduler');
is($h->{json}{status}, 'unavailable', 'unavailable');
like(join(' ', @{ $h->{json}{problems} }), qr/never run/, 'says why');
ok($h->{json}{store}{writable}, 'the store is writable');
ok($h->{json}{store}{used} > 0, 'the store\'s use');

my $r = metrics();
like($r->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4},
     'Prometheus text format');
is(sample($r->{content}, 'tiktok_scheduler_heartbeat_age_seconds'), -1,
   'no heartbeat yet');
like($r->{content}, qr/^# TYPE tiktok_publishes_total counter$/m,
     'counters typed');
like($r->{content}, qr/^# TYPE tiktok_webhook_deliveries_total counter$/m,
     'a place for the webhooks\' deliveries');
ok(sample($r->{content}, 'tiktok_store_used_bytes') > 0, 'store use');
ok(sample($r->{content}, 'tiktok_store_map_max_bytes')
   >= sample($r->{content}, 'tiktok_store_map_bytes'), 'map and its max');
is($http->get($t->url('/metrics-closed'))->{status}, 403,
   'deny all: 403');
is($http->request('POST', $t->url('/metrics'))->{status}, 405,
   'GET only');

my $sched = $t->start_scheduler;
my $end = time + 15;
$h = health();
while ($h->{status} != 200 && time < $end) { sleep 0.2; $h = health(); }
is($h->{status}, 200, 'health: 200 once the scheduler beats');
ok($h->{json}{scheduler}{alive}, 'alive');
like($h->{json}{scheduler}{last_seen} // '', qr/Z$/, 'last seen');

sub iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($_[0])) }

sub post {
    my ($prof, %o) = @_;
    my $r = $t->api(POST => '/api/posts', {
        post => { body => 'metrics', %{ $o{post} || {} } },
        profiles => [$prof], media => [$sim->media_url('v.mp4')],
        platforms => { tiktok => { privacy_status => 'PUBLIC_TO_EVERYONE' }
        } });
    is($r->{status}, 201, 'created') or diag($r->{raw});
    return $r->{json}{id};
}

sub settle {
    my ($id) = @_;
    my $end = time + 40;
    while (time < $end) {
        my $p = $t->api(GET => "/api/posts/$id")->{json};
        my $st = $p->{platforms}[0]{status} // '';
        return $p if $st eq 'published' || $st eq 'failed';
        sleep 0.2;
    }
    return { platforms => [{ status => 'not settled' }] };
}

# one published at its time (its lag is measured), one refused by policy
my ($p1) = $t->add_sim_creator($sim);
my $ok = post($p1, post => { scheduled_at => iso(int(time) + 3) });
is(settle($ok)->{platforms}[0]{status}, 'published', 'published');

$sim->faults({ endpoint => 'video_init', action => 'status',
               http_status => 403, code => 'spam_risk_too_many_posts',
               message => 'too many posts' });
my ($p2) = $t->add_sim_creator($sim);
my $bad = post($p2);
is(settle($bad)->{platforms}[0]{status}, 'failed', 'failed by policy');
$t->api(POST => '/api/posts', { post => { body => 'a draft', draft => \1 },
        profiles => [$p1], media => [$sim->media_url('v.mp4')],
        platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } });

# a webhook's test event, sent to an endpoint that answers 404: the
# attempt is counted by what became of it
my $hook = $t->api(POST => '/api/webhooks', {
    url => $sim->base . '/no-such-hook', events => ['*'] })->{json};
is($t->api(POST => "/api/webhooks/$hook->{id}/test")->{status}, 202,
   'a test event');
$end = time + 20;
do { sleep 0.3; $r = metrics(); }
    while ($r->{content} !~ /^tiktok_webhook_deliveries_total\{/m
           && time < $end);
my $m = $r->{content};
like($m, qr/^tiktok_webhook_deliveries_total\{result="retrying"\} 1$/m,
     'a webhook delivery counted by its result');
my $ws = $t->{ws};
is(sample($m, 'tiktok_publishes_total'), 1, 'one publish counted');
is(sample($m, 'tiktok_publish_failures_total\{code="spam_risk_too_many_posts"'
              . ',final="true"\}'), 1, 'the failure by its code');
is(sample($m, 'tiktok_upload_bytes_total'), $size, 'upload bytes');
is(sample($m, 'tiktok_dispatch_lag_seconds_count'), 1, 'one lag observed');
is(sample($m, 'tiktok_dispatch_lag_seconds_bucket\{le="\+Inf"\}'), 1,
   'the +Inf bucket');
ok(defined sample($m, 'tiktok_dispatch_lag_seconds_sum'), 'the lag sum');
is(sample($m, "tiktok_posts\\{workspace=\"$ws\",status=\"published\"\\}"),
   1, 'posts: published');
is(sample($m, "tiktok_posts\\{workspace=\"$ws\",status=\"failed\"\\}"),
   1, 'posts: failed');
is(sample($m, "tiktok_posts\\{workspace=\"$ws\",status=\"draft\"\\}"),
   1, 'posts: draft');
is(sample($m, "tiktok_posts\\{workspace=\"$ws\",status=\"all\"\\}"),
   3, 'posts: all');
ok(sample($m, 'tiktok_scheduler_heartbeat_age_seconds') >= 0,
   'heartbeat age');

# buckets in increasing le, cumulative
my @b = $m =~ /^tiktok_dispatch_lag_seconds_bucket\{le="([^"]+)"\} (\d+)$/mg;
my @le = @b[grep { $_ % 2 == 0 } 0 .. $#b];
is($le[-1], '+Inf', '+Inf last');
my @sorted = sort { $a <=> $b } @le[0 .. $#le - 1];
is_deeply([@le[0 .. $#le - 1]], \@sorted, 'buckets in increasing order');

# every line is a comment or a sample
my @bad = grep { !/^(#.*|[a-z_]+(\{[^}]*\})? -?[0-9.]+)$/ }
          split /\n/, $m;
is_deeply(\@bad, [], 'every line parses') or diag(join("\n", @bad));

# one log line per event, with the post's id
my $log = TT::read_file("$t->{dir}/scheduler.log");
like($log, qr/post \Q$ok\E published/, 'the publish logged with its id');
like($log, qr/post \Q$bad\E failed: .*spam_risk_too_many_posts/,
     'the failure logged with its id and code');

# the scheduler's loop stuck (stopped, not dead): 503 once its heartbeat
# is 30 s old, 200 again when it goes on
kill 'STOP', $sched;
$end = time + 45;
$h = health();
while ($h->{status} == 200 && time < $end) { sleep 0.5; $h = health(); }
is($h->{status}, 503, 'health: 503 when the scheduler is stuck');
like(join(' ', @{ $h->{json}{problems} || [] }), qr/no progress/,
     'says it made no progress');
ok(!$h->{json}{scheduler}{alive}, 'not alive');
kill 'CONT', $sched;
$end = time + 15;
while ($h->{status} != 200 && time < $end) { sleep 0.2; $h = health(); }
is($h->{status}, 200, 'health: 200 again');

$t->stop;
done_testing();
