#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# End to end: media intake.  Posts name media URLs on the simulator's media
# host; the scheduler downloads each one, probes it (tiktok-probe) and
# records what it found.  Files that pass leave the post scheduled with
# their facts filled in (and warnings where TikTok's advice is not met);
# every broken rule, download failure and limit leaves it
# media_processing_failed with a message that names the rule and the
# value, and such a post never publishes.  The media are made by ffmpeg
# at test time (t/lib/Media.pm); the misbehaving servers (redirects,
# stalls, endless bodies) are in t/sim/README.md.
#
# Environment: TT_MEDIA_STALL_LIMIT (default 30) is how many seconds the
# scheduler may let a download sit without a byte before it hangs up (it
# must do so by that + 10 s: curl's low-speed check averages over a few
# seconds, so a 30 s limit hangs up after about 35 s); TT_MEDIA_STALL_WAIT
# (default the limit + 15) is how long after its creation the stalled
# post must have failed.

use strict;
use warnings;

use File::Temp ();
use JSON::PP;
use POSIX qw(strftime);
use Test::More;
use Time::HiRes qw(sleep time);

use lib 't/lib';
use TT;
use Sim;
use Media;

my $T0 = time;
my $BUILD = $TT::BUILD;

plan skip_all => 'no scheduler built' unless -x "$BUILD/tiktok-scheduler";
plan skip_all => 'no media probe built' unless -x "$BUILD/tiktok-probe";
plan skip_all => 'no tiktok module built'
    unless -f "$BUILD/nginx/objs/ngx_http_tiktok_module.so";
plan skip_all => 'no ffmpeg' if system('ffmpeg -version >/dev/null 2>&1');

my $STALL_LIMIT = $ENV{TT_MEDIA_STALL_LIMIT} // 30;
my $STALL_WAIT = $ENV{TT_MEDIA_STALL_WAIT} // $STALL_LIMIT + 15;


# ---- the media, the simulator, two stacks ----------------------------------

my $media = Media->new;
$media->make;
# the same bytes under other names, so that each case has URLs of its own
$media->alias($_, 'valid.mp4')
    for qw(stalled.mp4 slow.mp4 once.mp4 guarded.mp4);
note(sprintf 'media made in %.1f s', $media->seconds);

my $sim = Sim->start(media_dir => $media->dir, client_key => 'sim-client',
                     client_secret => 'sim-secret');
$sim->config(processing_delay => 0.2);

# one stack as the tests run everything (loopback media allowed, as
# conf/nginx.conf.in says), one with the address guard on
sub stack {
    my (%o) = @_;
    my $run = File::Temp::tempdir('tt-media-run-XXXXXX', TMPDIR => 1,
                                  CLEANUP => !$ENV{TT_KEEP});
    mkdir "$run/spool" or die "$run/spool: $!";
    my $t = TT->new(tiktok_api => $sim->base, %o, extra_http => <<"END");
    tiktok_wake_socket $run/wake.sock;
    tiktok_spool $run/spool;
END
    $t->start_scheduler();
    return $t;
}

my $t = stack();
my $g = stack(media_allow_private => 0);

sub creator {
    my ($tt) = @_;
    my ($prof, $u) = $tt->add_sim_creator($sim);
    return { %$u, prof => $prof, tt => $tt };
}

my $quiet = creator($t);        # posts that must never publish
my $pub = creator($t);          # the posts that publish
my $gquiet = creator($g);

sub iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($_[0])) }

my $LATER = int(time) + 30 * 86400;


# a post of one media URL (a path on the sim), by default scheduled in a
# month so that it waits; returns the case
sub create {
    my ($who, %c) = @_;
    my $at = exists $c{at} ? $c{at} : $LATER;
    my $r = $who->{tt}->api(POST => '/api/posts', {
        post => { body => "media e2e: $c{what}",
                  defined $at ? (scheduled_at => iso($at)) : () },
        profiles => [$who->{prof}],
        media => [$sim->url($c{path})],
        platforms => { tiktok => {
            privacy_status => 'PUBLIC_TO_EVERYONE',
            $c{image} ? (format => 'image') : () } } });
    is($r->{status}, 201, "$c{what}: created") or diag($r->{raw});
    is($r->{json}{status}, 'pending', "$c{what}: pending at first");
    return { %c, id => $r->{json}{id}, tt => $who->{tt}, created => time };
}

sub get_post {
    my ($c) = @_;
    return $c->{tt}->api(GET => "/api/posts/$c->{id}")->{json};
}

# polls the cases until done->(post) holds for each, or the deadline;
# leaves the last answer in $case->{post}
sub wait_for {
    my ($done, $deadline, @cases) = @_;
    my @left = grep { $_->{id} } @cases;
    while (@left) {
        my @still;
        for my $c (@left) {
            $c->{post} = get_post($c);
            push @still, $c unless $c->{post} && $done->($c->{post});
        }
        @left = @still;
        last if !@left || time > $deadline;
        sleep 0.2;
    }
    return !@left;
}

sub intake_done { ($_[0]{status} // 'pending') ne 'pending' }

sub published_or_failed {
    my $st = $_[0]{platforms}[0]{status} // '';
    return $st eq 'published' || $st eq 'failed';
}


# ---- the cases -------------------------------------------------------------

# first, the one that takes longest: a server that stalls after 1 KiB
my $stall = create($quiet, what => 'a download that stalls',
                   path => '/media-stall/stalled.mp4?after=1024&sec=3600');

my @valid = (
    create($quiet, what => 'MP4 9:16 H.264/AAC', path => '/media/valid.mp4',
           file => 'valid.mp4'),
    create($quiet, what => 'MOV landscape, no audio',
           path => '/media/landscape.mov', file => 'landscape.mov'),
    create($quiet, what => 'WebM VP9/Opus', path => '/media/valid.webm',
           file => 'valid.webm'),
    create($quiet, what => 'JPEG photo', path => '/media/photo.jpg',
           file => 'photo.jpg', image => 1),
    create($quiet, what => 'WebP photo', path => '/media/photo.webp',
           file => 'photo.webp', image => 1),
    create($quiet, what => 'MP4 behind 3 redirects',
           path => '/media-redirect/3/valid.mp4', file => 'valid.mp4'),
);

my @bad = (
    (map { create($quiet, what => "bad file $_", path => "/media/$_",
                  file => $_, error => Media->spec($_)->{error},
                  image => (/\.(?:jpg|png|webp)$/ ? 1 : 0)) }
     qw(short.mp4 long.mp4 small.mp4 mpeg4.mp4 fps10.mp4 photo.png
        big.jpg truncated.mp4 truncated-tail.mp4 text.mp4)),
    create($quiet, what => 'a JPEG as a video', path => '/media/photo.jpg',
           error => qr/expected a video .*image \(jpeg\)/),
    create($quiet, what => 'an MP4 as a photo', path => '/media/valid.mp4',
           image => 1, error => qr/expected an image .*video \(mp4\)/),
    create($quiet, what => 'a 404', path => '/media/missing.mp4',
           error => qr/\b404\b/),
    create($quiet, what => 'a redirect loop', path => '/media-redirect/loop',
           error => qr/redirect/i),
    create($quiet, what => 'six redirects',
           path => '/media-redirect/6/valid.mp4', error => qr/redirect/i),
    create($quiet, what => 'an endless photo without Content-Length',
           path => '/media-endless?type=image/jpeg', image => 1,
           error => qr/20 MB/),
    create($quiet, what => 'a video announcing 5 GB',
           path => '/media-endless?type=video/mp4&length=5000000000',
           error => qr/4 GB/),
);

# the same URL in two posts at once
my @once = map { create($quiet, what => "shared URL, post $_",
                        path => '/media/once.mp4', file => 'valid.mp4') }
           1 .. 2;

# the guard on: a loopback URL is refused
my $guarded = create($gquiet, what => 'loopback media, guard on',
                     path => '/media/guarded.mp4');

# publishing: due in 2 s while its download takes 4 s; and one with no
# time, due as soon as its media is ready
my $at_near = int(time) + 2;
my $near = create($pub, what => 'due in 2 s, media ready in 4 s',
                  path => '/media-stall/slow.mp4?after=4096&sec=4',
                  at => $at_near, file => 'slow.mp4');
my $now = create($pub, what => 'no scheduled_at', path => '/media/valid.webm',
                 at => undef, file => 'valid.webm');


# ---- intake ----------------------------------------------------------------

ok(wait_for(\&intake_done, time + 40, @valid, @bad, @once),
   'every quick case left pending within 40 s')
    or diag(explain([map { "$_->{what}: " . ($_->{post}{status} // '?') }
                     grep { !intake_done($_->{post} || {}) }
                     @valid, @bad, @once]));

sub media_of { $_[0]{post}{media}[0] || {} }

for my $c (@valid, @once) {
    my $m = media_of($c);
    my $f = $media->file($c->{file});
    my $e = $f->{expect};
    my $w = $c->{what};

    is($c->{post}{status}, 'scheduled', "$w: post scheduled");
    is($m->{status}, 'processed', "$w: media processed")
        or diag("error_message: " . ($m->{error_message} // 'null'));
    is($m->{error_message}, undef, "$w: no error_message");

    for my $k (qw(content_type size width height codec)) {
        is($m->{$k}, $e->{$k}, "$w: $k $e->{$k}") if exists $e->{$k};
    }
    if (exists $e->{duration_ms}) {
        ok(abs(($m->{duration_ms} // -1e9) - $e->{duration_ms}) <= 50,
           "$w: duration_ms about $e->{duration_ms}")
            or diag("duration_ms: " . ($m->{duration_ms} // 'null'));
    }
    if (exists $e->{frame_rate}) {
        ok(abs(($m->{frame_rate} // -1e9) - $e->{frame_rate}) < 0.01,
           "$w: frame_rate $e->{frame_rate}")
            or diag("frame_rate: " . ($m->{frame_rate} // 'null'));
    }

    my @warn = @{ $m->{warnings} || [] };
    is(scalar @warn, scalar @{ $f->{warnings} },
       "$w: " . scalar(@{ $f->{warnings} }) . ' warnings')
        or diag(explain(\@warn));
    for my $re (@{ $f->{warnings} }) {
        ok((grep { $_ =~ $re } @warn), "$w: a warning matches $re");
    }
}

for my $c (@bad) {
    my $m = media_of($c);
    my $w = $c->{what};
    is($c->{post}{status}, 'media_processing_failed',
       "$w: post media_processing_failed");
    is($m->{status}, 'failed', "$w: media failed");
    like($m->{error_message} // '', $c->{error}, "$w: says why");
}

{
    my ($short) = grep { ($_->{file} // '') eq 'short.mp4' } @bad;
    is(media_of($short)->{duration_ms}, 2000,
       'a file that breaks a rule still shows what the probe found');
}

is($sim->hits('/media/once.mp4'), 1,
   'a URL used by two posts at once is downloaded once');


# ---- the guard -------------------------------------------------------------

wait_for(\&intake_done, time + 15, $guarded);

is($guarded->{post}{status}, 'media_processing_failed',
   'guard on: a loopback URL fails the post');
is(media_of($guarded)->{status}, 'failed', 'guard on: media failed');
like(media_of($guarded)->{error_message} // '',
     qr/loopback|non-public|not public|private/i,
     'guard on: the message says the address is not public');
is($sim->hits('/media/guarded.mp4'), 0,
   'guard on: nothing was asked of the loopback host');


# ---- publishing ------------------------------------------------------------

ok(wait_for(\&published_or_failed, time + 30, $near, $now),
   'both publishing posts reached an end');

sub ledger_of {
    my ($who) = @_;
    return grep { $_->{open_id} eq $who->{open_id} }
           @{ $sim->ledger->{publishes} };
}

{
    my @l = ledger_of($pub);
    for my $c ($near, $now) {
        my $p = $c->{post};
        my $pl = $p->{platforms}[0] || {};
        my $sha = $media->file($c->{file})->{sha256};
        is($pl->{status}, 'published', "$c->{what}: published")
            or diag(explain($pl));
        is($p->{status}, 'processed', "$c->{what}: post processed");
        is(media_of($c)->{status}, 'processed',
           "$c->{what}: media processed");
        my @mine = grep { ($_->{sha256} // '') eq $sha } @l;
        is(scalar @mine, 1, "$c->{what}: one publish with its SHA-256");
        $c->{ledger} = $mine[0];
    }

    # the slow download's end, from the sim's request log
    my ($fetch) = grep { $_->{path} eq '/media-stall/slow.mp4'
                         && $_->{status} == 200 }
                  @{ $sim->requests(endpoint => 'media')->{requests} };
    ok($fetch, 'the slow media was served whole');
    my $l = $near->{ledger} || {};
    if ($fetch && $l->{created_at}) {
        my $served = $fetch->{time} + $fetch->{duration};
        ok($served - $fetch->{time} >= 3.9, 'the download took 4 s');
        ok($l->{created_at} >= $served - 0.05,
           'published only after the media arrived')
            or diag("init at $l->{created_at}, media done at $served");
        ok($l->{created_at} >= $at_near, 'and not before its time');
    }
}


# ---- the stall -------------------------------------------------------------

# the daemon must hang up the stalled download after about
# $STALL_LIMIT s without a byte (the sim logs the request, status 0, when
# the client goes away), and the post must fail by $STALL_WAIT s
{
    my $until = $stall->{created} + $STALL_LIMIT + 12;
    my $closed;
    while (1) {
        ($closed) = grep { $_->{path} eq '/media-stall/stalled.mp4' }
                    @{ $sim->requests(endpoint => 'media')->{requests} };
        last if $closed || time > $until;
        sleep 0.5;
    }
    wait_for(\&intake_done, $stall->{created} + $STALL_WAIT, $stall);

    ok($closed && $closed->{status} == 0
       && $closed->{duration} <= $STALL_LIMIT + 10,
       "the stalled download is dropped after about $STALL_LIMIT s")
        or diag($closed ? "dropped after $closed->{duration} s"
                        : "still open after " . int($until
                              - $stall->{created}) . ' s');

    # not tried again: a server silent for that long is given up on
    is($stall->{post}{status}, 'media_processing_failed',
       "the stalled post failed within $STALL_WAIT s");
    like(media_of($stall)->{error_message} // '',
         qr/stall|no data|timed? ?out|too slow/i,
         'the message says it stalled');
}


# ---- nothing failed was published ------------------------------------------

is(scalar(ledger_of($quiet)), 0,
   'no publish from the failed (or not yet due) posts');
is(scalar(ledger_of($gquiet)), 0, 'none from the guarded stack either');
is($_->{post}{platforms}[0]{status}, 'pending',
   "$_->{what}: the platform never started")
    for grep { $_->{post} } @bad;

$g->stop();
$t->stop();
$sim->stop();

for my $tt ($t, $g) {
    my $log = TT::read_file("$tt->{dir}/scheduler.log");
    ok($log !~ /AddressSanitizer|runtime error:|\[(alert|emerg|crit)\]/,
       'no alerts or sanitizer reports in scheduler.log');
}

note(sprintf 'media.t ran in %.1f s', time - $T0);

done_testing();
