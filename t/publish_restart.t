#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# End to end: the scheduler stopped and started again.
#   - SIGTERM in the middle of a multi-chunk upload: a clean, quick exit;
#     the next start resumes the upload; one publish with the exact bytes.
#   - tiktok_max_lateness: a post whose time passed more than the limit
#     before the scheduler started fails with a clear reason (and can be
#     published again by hand); one within the limit, or not yet due,
#     publishes at its time, not before.

use strict;
use warnings;

use Digest::SHA qw(sha256_hex);
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

my $media = tempdir('tt-restart-media-XXXXXX', TMPDIR => 1, CLEANUP => 1);

sub ffmpeg {
    my ($out, $secs, @rate) = @_;
    system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
           "testsrc2=size=720x1280:rate=30", '-t', $secs, '-c:v', 'libx264',
           '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', @rate,
           "$media/$out") == 0 or die 'ffmpeg failed';
}

# about 25 MB: five chunks of 5 MiB
ffmpeg('big.mp4', 10, '-b:v', '20M', '-minrate', '20M', '-maxrate', '20M',
       '-bufsize', '4M');
ffmpeg('small.mp4', 4);

sub sha_of {
    open my $fh, '<:raw', $_[0] or die "$_[0]: $!";
    local $/;
    return sha256_hex(scalar <$fh>);
}

my $big_sha = sha_of("$media/big.mp4");
my $big_size = -s "$media/big.mp4";
ok($big_size >= 3 * 5242880, "big.mp4 is $big_size bytes: several chunks");

my $sim = Sim->start(media_dir => $media, client_key => 'sim-client',
                     client_secret => 'sim-secret');
my $run = tempdir('tt-restart-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$run/spool";

my $t = TT->new(tiktok_api => $sim->base, extra_http => <<"END");
    tiktok_wake_socket $run/wake.sock;
    tiktok_spool $run/spool;
    tiktok_chunk_size 5242880;
    tiktok_max_lateness 3s;
END

# one creator per case: TikTok's per-token minute windows stay apart
sub new_creator {
    my ($prof) = $t->add_sim_creator($sim);
    return $prof;
}

sub start_scheduler {
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDERR, '>>', "$t->{dir}/scheduler.log";
        exec("$BUILD/tiktok-scheduler", '-s', $t->{store}, '-v')
            or POSIX::_exit(127);
    }
    return $pid;
}

# SIGTERM, then the exit status; undef if it did not exit within $secs
sub stop_scheduler {
    my ($pid, $secs) = @_;
    kill 'TERM', $pid;
    my $end = time + $secs;
    while (time < $end) {
        return $? >> 8 if waitpid($pid, POSIX::WNOHANG()) == $pid;
        sleep 0.05;
    }
    kill 'KILL', $pid;
    waitpid $pid, 0;
    return undef;
}

sub iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($_[0])) }

sub create {
    my ($prof, $file, %post) = @_;
    my $r = $t->api(POST => '/api/posts', {
        post => { body => "restart $file", %post },
        profiles => [$prof],
        media => [$sim->media_url($file)],
        platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } });
    is($r->{status}, 201, "created ($file)") or diag($r->{raw});
    return $r->{json}{id};
}

sub get { $t->api(GET => "/api/posts/$_[0]")->{json} }

sub wait_for {
    my ($id, $cond, $timeout) = @_;
    my $end = time + $timeout;
    my $p;
    while (time < $end) {
        $p = get($id);
        return $p if $cond->($p);
        sleep 0.1;
    }
    diag(explain($p));
    return $p;
}

sub ended { ($_[0]{platforms}[0]{status} // '') =~ /^(published|failed)$/ }

sub ledger_of {
    my ($publish_id) = @_;
    return grep { $_->{publish_id} eq $publish_id }
           @{ $sim->ledger->{publishes} };
}


# 1. SIGTERM mid-upload: parked, then resumed by the next start

$sim->faults({ endpoint => 'upload', action => 'delay', ms => 700,
               count => 100 });

my $sched = start_scheduler();
my $id = create(new_creator(), 'big.mp4');

my $p = wait_for($id,
                 sub { ($_[0]{platforms}[0]{upload}{bytes_sent} // 0) > 0 },
                 60);
my $sent = $p->{platforms}[0]{upload}{bytes_sent};
ok($sent > 0 && $sent < $big_size, "mid-upload: $sent of $big_size bytes");
is($p->{platforms}[0]{upload}{bytes_total}, $big_size,
   'bytes_total is the file size');

my $t0 = time;
is(stop_scheduler($sched, 10), 0, 'SIGTERM: a clean exit');
my $took = time - $t0;
ok($took < 5, sprintf('SIGTERM: exit in %.1f s, not after the upload',
                      $took));

$p = get($id);
is($p->{platforms}[0]{status}, 'processing', 'parked as processing');
ok($p->{platforms}[0]{publish_id}, 'publish_id kept');

$sim->clear_faults();
$sched = start_scheduler();

$p = wait_for($id, \&ended, 60);
my $pl = $p->{platforms}[0];
is($pl->{status}, 'published', 'published after the restart');
is($pl->{upload}{bytes_sent}, $big_size, 'every byte sent');
my @l = ledger_of($pl->{publish_id});
is(scalar @l, 1, 'one task in the ledger');
is($l[0]{sha256}, $big_sha, 'the exact bytes');
is(scalar(grep { ($_->{sha256} // '') eq $big_sha
                 && $_->{status} eq 'PUBLISH_COMPLETE' }
          @{ $sim->ledger->{publishes} }), 1, 'published once');
like(TT::read_file("$t->{dir}/scheduler.log"), qr/resum/,
     'the upload was resumed, not started again');


# 2. the maximum lateness, judged when the scheduler starts

my $now = int(time);
my $late = create(new_creator(), 'small.mp4', scheduled_at => iso($now + 5));
my $later = create(new_creator(), 'small.mp4',
                   scheduled_at => iso($now + 14));

for my $x ($late, $later) {
    $p = wait_for($x, sub { $_[0]{status} ne 'pending' }, 30);
    is($p->{status}, 'scheduled', 'media processed before the stop');
}

is(stop_scheduler($sched, 10), 0, 'stopped before either is due');

# the first is due at +5 and 3 s is the limit: start after +9
sleep(($now + 10) - time) if time < $now + 10;
$sched = start_scheduler();

$p = wait_for($late, \&ended, 30);
$pl = $p->{platforms}[0];
is($pl->{status}, 'failed', 'too late: failed');
like($pl->{error} // '', qr/more than 3 s ago when the scheduler started/,
     'too late: the reason');
like($pl->{error_details}{note} // '', qr{/publish}, 'too late: what to do');
is($pl->{publish_id}, undef, 'too late: TikTok was never called');

$p = wait_for($later, \&ended, 30);
$pl = $p->{platforms}[0];
is($pl->{status}, 'published', 'not yet due at start: published');
my @mine = ledger_of($pl->{publish_id});
is(scalar @mine, 1, 'one task');
ok($mine[0]{created_at} >= $now + 14,
   sprintf('not before its time (init %.2f s after due)',
           $mine[0]{created_at} - ($now + 14)))
    or diag(explain($mine[0]));

# published again by hand
my $r = $t->api(POST => "/api/posts/$late/publish");
is($r->{status}, 200, 'the late post published by hand')
    or diag($r->{raw});
$p = wait_for($late, \&ended, 30);
is($p->{platforms}[0]{status}, 'published', 'and it is published');

is(stop_scheduler($sched, 10), 0, 'clean stop');

$t->stop();
$sim->stop();

done_testing();
