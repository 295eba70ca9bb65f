#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# End to end: nginx -s reload reaches the running scheduler.  A changed
# tiktok_chunk_size and tiktok_max_uploads are used for the next posts
# within a second of the reload, without restarting the scheduler; a
# rewritten client secret file is read again.

use strict;
use warnings;

use File::Temp qw(tempdir);
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

my $media = tempdir('tt-reload-media-XXXXXX', TMPDIR => 1, CLEANUP => 1);

# about 12 MB: 2 chunks of 5,242,880, 1 of 10,000,000
system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
       'testsrc2=size=720x1280:rate=30', '-t', '5', '-c:v', 'libx264',
       '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-b:v', '20M',
       '-minrate', '20M', '-maxrate', '20M', '-bufsize', '4M',
       "$media/big.mp4") == 0 or die 'ffmpeg failed';
system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
       'testsrc=size=720x1280:rate=30', '-t', '4', '-c:v', 'libx264',
       '-pix_fmt', 'yuv420p', "$media/small.mp4") == 0 or die 'ffmpeg failed';
my $size = -s "$media/big.mp4";
ok($size > 10_000_000 && $size < 15_000_000, "big.mp4: $size bytes");

my $sim = Sim->start(media_dir => $media, client_key => 'sim-client',
                     client_secret => 'sim-secret');
my $run = tempdir('tt-reload-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$run/spool";

sub http_conf {
    my ($chunk, $uploads) = @_;
    return <<"END";
    tiktok_wake_socket $run/wake.sock;
    tiktok_spool $run/spool;
    tiktok_chunk_size $chunk;
    tiktok_max_uploads $uploads;
END
}

my $t = TT->new(tiktok_api => $sim->base,
                extra_http => http_conf(5242880, 1));
$t->start_scheduler();

my ($prof, $user) = $t->add_sim_creator($sim);

sub create {
    my ($file, $body) = @_;
    my $r = $t->api(POST => '/api/posts', {
        post => { body => $body },
        profiles => [$prof],
        media => [$sim->media_url($file)],
        platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } });
    is($r->{status}, 201, "created ($body)") or diag($r->{raw});
    return $r->{json}{id};
}

sub settle {
    my ($id) = @_;
    my $end = time + 60;
    my $pl;
    while (time < $end) {
        $pl = $t->api(GET => "/api/posts/$id")->{json}{platforms}[0];
        return $pl if $pl->{status} =~ /^(published|failed)$/;
        sleep 0.1;
    }
    return $pl;
}

sub task {
    my ($publish_id) = @_;
    my ($p) = grep { $_->{publish_id} eq ($publish_id // '') }
              @{ $sim->ledger->{publishes} };
    return $p;
}

# two posts due together with slow chunks: did their uploads overlap?
sub overlap {
    my ($what) = @_;
    $sim->faults({ endpoint => 'upload', action => 'delay', ms => 2000,
                   count => 2, open_id => $user->{open_id} });
    my @ids = map { create('small.mp4', "$what $_") } 1 .. 2;
    my @pl = map { settle($_) } @ids;
    is($_->{status}, 'published', "$what: published") for @pl;
    my @t = sort { $a->{chunk_times}[0]{head} <=> $b->{chunk_times}[0]{head} }
            map { task($_->{publish_id}) } @pl;
    return $t[1]{chunk_times}[0]{head} < $t[0]{chunk_times}[-1]{answered};
}

# nginx -s reload with new directives; returns how long the scheduler
# took to apply them (from its log), or undef
sub reload {
    my (%o) = @_;
    my $log = "$t->{dir}/scheduler.log";
    my $before = () = TT::read_file($log) =~ /configuration applied/g;
    $t->{extra_http} = http_conf($o{chunk}, $o{uploads});
    $t->write_conf();
    my $t0 = time;
    kill 'HUP', $t->{nginx_pid};
    while (time < $t0 + 10) {
        my $n = () = TT::read_file($log) =~ /configuration applied/g;
        return time - $t0 if $n > $before;
        sleep 0.05;
    }
    return undef;
}

# before: chunks of 5,242,880, one upload at a time
my $pl = settle(create('big.mp4', 'before the reload'));
is($pl->{status}, 'published', 'before: published');
is(task($pl->{publish_id})->{chunk_size}, 5242880, 'before: 5,242,880');
is(task($pl->{publish_id})->{total_chunk_count}, 2, 'before: 2 chunks');
ok(!overlap('one upload at a time'), 'before: the uploads one at a time');

my $pid = $t->{sched_pid};
my $took = reload(chunk => 10000000, uploads => 2);
ok(defined $took, 'the scheduler applied the reloaded configuration');
ok(defined $took && $took < 2.5,
   sprintf('within a second or so (%.2f s)', $took // -1));

$pl = settle(create('big.mp4', 'after the reload'));
is($pl->{status}, 'published', 'after: published');
my $task = task($pl->{publish_id});
# floor(size / 10,000,000) = 1 chunk, which TikTok wants whole
is($task->{total_chunk_count}, 1,
   'after: the new tiktok_chunk_size, one chunk of 10,000,000 and the rest');
is($task->{chunk_size}, $size, 'after: sent whole');
ok(overlap('two uploads at a time'),
   'after: tiktok_max_uploads 2 lets two uploads run together');
is($t->{sched_pid}, $pid, 'the same scheduler process');
ok(kill(0, $pid), 'the scheduler still runs');

$t->stop_scheduler();
$t->stop();
$sim->stop();

done_testing();
