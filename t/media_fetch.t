#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# End to end: the download children (tiktok-fetch).  A download that no
# post needs any more (its post deleted) is stopped and its part removed;
# a kill -9 of the scheduler takes its downloads with it, and the next
# start removes what they left; the daemon's loop never holds the bytes.

use strict;
use warnings;

use File::Temp qw(tempdir);
use Test::More;
use Time::HiRes qw(sleep time);

use lib 't/lib';
use TT;
use Sim;
use Media;

my $BUILD = $TT::BUILD;

plan skip_all => 'no scheduler built' unless -x "$BUILD/tiktok-scheduler";
plan skip_all => 'no tiktok-fetch built' unless -x "$BUILD/tiktok-fetch";
plan skip_all => 'no tiktok module built'
    unless -f "$BUILD/nginx/objs/ngx_http_tiktok_module.so";
plan skip_all => 'no ffmpeg' if system('ffmpeg -version >/dev/null 2>&1');

my $media = Media->new;
$media->make;
$media->alias($_, 'valid.mp4') for qw(deleted.mp4 killed.mp4);

my $sim = Sim->start(media_dir => $media->dir, client_key => 'sim-client',
                     client_secret => 'sim-secret');
my $run = tempdir('tt-fetch-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$run/spool" or die "$run/spool: $!";

my $t = TT->new(tiktok_api => $sim->base, extra_http => <<"END");
    tiktok_wake_socket $run/wake.sock;
    tiktok_spool $run/spool;
END

my ($prof) = $t->add_sim_creator($sim);

# the scheduler's tiktok-fetch children
sub fetches {
    my ($sched) = @_;
    my $kids = eval { TT::read_file("/proc/$sched/task/$sched/children") }
               // '';
    return grep {
        (eval { TT::read_file("/proc/$_/comm") } // '') =~ /^tiktok-fetch/
    } split ' ', $kids;
}

sub running {
    my $st = eval { TT::read_file("/proc/$_[0]/stat") } // '';
    return $st =~ /^\d+ \(.*\) [^Z]/;
}

sub parts { return glob("$run/spool/*.part") }

sub wait_for {
    my ($cond, $timeout) = @_;
    my $end = time + $timeout;
    while (time < $end) {
        return 1 if $cond->();
        sleep 0.1;
    }
    return 0;
}

# a post whose media server sends 1 KB and then nothing for a minute
sub stalled_post {
    my ($name) = @_;
    my $r = $t->api(POST => '/api/posts', {
        post => { body => "fetch: $name",
                  scheduled_at => '2030-01-01T00:00:00Z' },
        profiles => [$prof],
        media => [$sim->url("/media-stall/$name?after=1024&sec=60")],
        platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } });
    is($r->{status}, 201, "created ($name)") or diag($r->{raw});
    return $r->{json}{id};
}


my $sched = $t->start_scheduler();

# 1. the post is deleted while its media downloads
{
    my $id = stalled_post('deleted.mp4');
    my @kids;
    ok(wait_for(sub { @kids = fetches($sched); @kids }, 20),
       'the download runs in a tiktok-fetch child: @kids');
    ok(scalar(parts()), 'writing a .part in the spool');

    is($t->api(DELETE => "/api/posts/$id")->{status}, 200, 'deleted');
    ok(wait_for(sub { !grep { running($_) } @kids }, 15),
       'the download no post needs is stopped');
    ok(wait_for(sub { !parts() }, 5), 'and its part removed');
}

# 2. kill -9 of the scheduler mid-download
{
    my $id = stalled_post('killed.mp4');
    my @kids;
    ok(wait_for(sub { @kids = fetches($sched); @kids }, 20),
       'a download runs');

    kill 'KILL', $sched;
    waitpid $sched, 0;
    ok(wait_for(sub { !grep { running($_) } @kids }, 5),
       'the download died with the scheduler');
    ok(scalar(parts()), 'its part is still there');

    $sched = $t->start_scheduler();
    ok(wait_for(sub { my @k = fetches($sched); @k }, 20),
       'the next start downloads it again');
    $t->api(DELETE => "/api/posts/$id");
    ok(wait_for(sub { !parts() }, 20),
       'and, the post deleted, nothing is left in the spool');
}

like(TT::read_file("$t->{dir}/scheduler.log"),
     qr/the download of [0-9a-f]{64} stopped: no post needs it/,
     'the log says why a download stopped');

$t->stop_scheduler();
$t->stop();
$sim->stop();

done_testing();
