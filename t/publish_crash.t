#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# End to end: kill -9 of the scheduler in the middle of a multi-chunk
# upload; after a restart the upload goes on and TikTok's ledger shows one
# publish with the exact bytes.  Also: posts due while the scheduler was
# down are published at start.

use strict;
use warnings;

use Digest::SHA qw(sha256_hex);
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

my $media = tempdir('tt-crash-media-XXXXXX', TMPDIR => 1, CLEANUP => 1);

system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
       'testsrc2=size=720x1280:rate=30', '-t', '10', '-c:v', 'libx264',
       '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-b:v', '20M',
       '-minrate', '20M', '-maxrate', '20M', '-bufsize', '4M',
       "$media/big.mp4") == 0 or die 'ffmpeg failed';

my $sha = do {
    open my $fh, '<:raw', "$media/big.mp4" or die $!;
    local $/;
    sha256_hex(scalar <$fh>);
};
my $size = -s "$media/big.mp4";
ok($size >= 4 * 5242880, "big.mp4 is $size bytes: at least 4 chunks");

my $sim = Sim->start(media_dir => $media, client_key => 'sim-client',
                     client_secret => 'sim-secret');
my $run = tempdir('tt-crash-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$run/spool";

my $t = TT->new(tiktok_api => $sim->base, extra_http => <<"END");
    tiktok_wake_socket $run/wake.sock;
    tiktok_spool $run/spool;
    tiktok_chunk_size 5242880;
END

my ($prof) = $t->add_sim_creator($sim);


sub start_scheduler {
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDERR, '>>', "$t->{dir}/scheduler.log";
        exec("$BUILD/tiktok-scheduler", '-s', $t->{store}, '-v')
            or POSIX::_exit(127);
    }
    return $pid;
}

sub get { $t->api(GET => "/api/posts/$_[0]")->{json} }

sub wait_for {
    my ($id, $cond, $timeout) = @_;
    my $end = time + $timeout;
    my $p;
    while (time < $end) {
        $p = get($id);
        return $p if $cond->($p->{platforms}[0]);
        sleep 0.1;
    }
    return $p;
}


# slow chunks so that the kill lands in the middle
$sim->faults({ endpoint => 'upload', action => 'delay', ms => 700,
               count => 100 });

my $sched = start_scheduler();

my $r = $t->api(POST => '/api/posts', {
    post => { body => 'crash test' },
    profiles => [$prof],
    media => [$sim->media_url('big.mp4')],
    platforms => { tiktok => { privacy_status => 'PUBLIC_TO_EVERYONE' } } });
is($r->{status}, 201, 'created') or diag($r->{raw});
my $id = $r->{json}{id};

my $p = wait_for($id, sub { ($_[0]{upload}{bytes_sent} // 0) >= 5242880 },
                 60);
my $sent = $p->{platforms}[0]{upload}{bytes_sent};
my $kept = $p->{platforms}[0]{publish_id};
ok($sent > 0 && $sent < $size, "mid-upload: $sent of $size bytes");
ok($kept, "the publish_id is on the post before the kill: $kept");

kill 'KILL', $sched;
waitpid $sched, 0;

# a post that comes due while the scheduler is down
my $r2 = $t->api(POST => '/api/posts', {
    post => { body => 'due while down' },
    profiles => [$prof],
    media => [$sim->media_url('big.mp4')],
    platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } });
is($r2->{status}, 201, 'created while the scheduler is down');

$sim->clear_faults();
$sched = start_scheduler();

$p = wait_for($id, sub { $_[0]{status} =~ /^(published|failed)$/ }, 60);
my $pl = $p->{platforms}[0];
is($pl->{status}, 'published', 'published after the restart');
is($pl->{upload}{bytes_sent}, $size, 'every byte');

my @mine = grep { $_->{status} eq 'PUBLISH_COMPLETE'
                  && ($_->{sha256} // '') eq $sha
                  && $_->{publish_id} eq $pl->{publish_id} }
           @{ $sim->ledger->{publishes} };
is(scalar @mine, 1, 'one publish with the exact bytes');

# the upload went on where it was: the same publish, every chunk once
is($pl->{publish_id}, $kept, 'the upload went on under its first init');
my ($entry) = grep { $_->{publish_id} eq $kept }
              @{ $sim->ledger->{publishes} };
is($entry->{chunks_received}, $entry->{total_chunk_count},
   'TikTok got each chunk once');

my $p2 = wait_for($r2->{json}{id},
                  sub { $_[0]{status} =~ /^(published|failed)$/ }, 60);
is($p2->{platforms}[0]{status}, 'published',
   'the post due while down is published at start');

# two posts, two inits: no upload was started again
my @inits = @{ $sim->ledger->{publishes} };
is(scalar @inits, 2, 'two inits in all, one a post')
    or diag(join ' ', map { "$_->{publish_id}:$_->{status}" } @inits);

like(TT::read_file("$t->{dir}/scheduler.log"), qr/TikTok has \d+ of $size bytes/,
     'the upload was resumed from what TikTok had');

kill 'TERM', $sched;
waitpid $sched, 0;
is($? >> 8, 0, 'clean stop');

$t->stop();
$sim->stop();

done_testing();
