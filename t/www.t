#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# The calendar page (www/) in a real browser: Debian's chromium, headless,
# driven by playwright-core (scripts/www-deps.sh) from t/www/calendar.js,
# against the real stack (nginx with the module, the store, the scheduler,
# the TikTok simulator).  This file seeds a week of posts through the API,
# a queue, a draft and a post TikTok refused; the browser script signs in,
# looks, creates, drags, publishes, deletes, and reports each check as a
# line "ok - ..." or "not ok - ...", taken here as this test's own.
# Screenshots land in $TT_WWW_SHOTS (default: the test's directory,
# removed at the end unless TT_KEEP=1).

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
my $CHROMIUM = $ENV{TT_CHROMIUM} || '/usr/bin/chromium';
my $PW = "$BUILD/node/node_modules/playwright-core";

plan skip_all => 'no tiktok module built'
    unless -f "$BUILD/nginx/objs/ngx_http_tiktok_module.so";
plan skip_all => 'no scheduler built' unless -x "$BUILD/tiktok-scheduler";
plan skip_all => 'no ffmpeg' if system('ffmpeg -version >/dev/null 2>&1');
plan skip_all => "no chromium at $CHROMIUM (apt-get install chromium)"
    unless -x $CHROMIUM;
plan skip_all => 'no node (apt-get install nodejs npm)'
    if system('node --version >/dev/null 2>&1');
plan skip_all => "no playwright-core in $PW (sh scripts/www-deps.sh)"
    unless -f "$PW/package.json";

my $media = tempdir('tt-www-media-XXXXXX', TMPDIR => 1, CLEANUP => 1);
system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
       'testsrc=size=720x1280:rate=30', '-t', '4', '-c:v', 'libx264',
       '-pix_fmt', 'yuv420p', "$media/clip.mp4") == 0 or die 'ffmpeg';
for my $n (1 .. 2) {
    system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
           "testsrc=size=1080x1350", '-frames:v', '1',
           "$media/photo$n.jpg") == 0 or die 'ffmpeg';
}

my $sim = Sim->start(media_dir => $media, client_key => 'sim-client',
                     client_secret => 'sim-secret');
my $run = tempdir('tt-www-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$run/spool";

my $t = TT->new(tiktok_api => $sim->base, extra_http => <<"END");
    tiktok_wake_socket $run/wake.sock;
    tiktok_spool $run/spool;
END
$t->start_scheduler();

my ($prof, $user) = $t->add_sim_creator($sim,
    user => { username => 'calendar.maker', nickname => 'Calendar Maker' });
my $video = $sim->media_url('clip.mp4');
my $photo = $sim->media_url('photo1.jpg');

sub iso { return strftime('%Y-%m-%dT%H:%M:00Z', gmtime($_[0])); }

sub post {
    my (%o) = @_;
    my $tk = { privacy_status => 'PUBLIC_TO_EVERYONE',
               %{ $o{tiktok} || {} } };
    my $b = { post => { body => $o{body},
                        defined $o{at} ? (scheduled_at => iso($o{at})) : (),
                        $o{draft} ? (draft => JSON::PP::true()) : () },
              profiles => [$prof], media => $o{media} || [$video],
              platforms => { tiktok => $tk },
              $o{queue} ? (queue_id => $o{queue}) : () };
    my $r = $t->api(POST => '/api/posts', $b);
    is($r->{status}, 201, "seeded: $o{body}") or diag($r->{raw});
    return $r->{json}{id};
}

sub settle {
    my ($id, $want) = @_;
    my $until = time() + 60;
    my $p;
    while (time() < $until) {
        $p = $t->api(GET => "/api/posts/$id")->{json};
        my $st = $p->{platforms}[0]{status} // '';
        return $p if $st eq $want;
        sleep 0.2;
    }
    return $p;
}

# a post TikTok refuses, first, alone: the fault is for the next init
$sim->faults({ endpoint => 'video_init', action => 'status',
               http_status => 403, code => 'spam_risk_too_many_posts',
               message => 'too many posts today' });
my $failed = post(body => 'Refused by TikTok: too many posts');
is(settle($failed, 'failed')->{platforms}[0]{status}, 'failed',
   'seeded: a post TikTok refused');
$sim->clear_faults();

my $published = post(body => 'Already live: behind the scenes');
is(settle($published, 'published')->{platforms}[0]{status}, 'published',
   'seeded: a published post');

# a week ahead: a post every 26 hours from two hours on, a photo among them
my $now = time();
my @week;
for my $i (0 .. 5) {
    push @week, post(body => "Week post $i: tips and tricks #" . ($i + 1),
                     at => $now + 7200 + $i * 26 * 3600,
                     $i == 1 ? (media => [$photo, $sim->media_url(
                                    'photo2.jpg')],
                                tiktok => { format => 'image' }) : ());
}
my $draft = post(body => 'Draft: summer launch idea', draft => 1);

# a queue with a slot every day at 18:00 UTC and one post in it
my $q = $t->api(POST => '/api/post_queues', {
    profile_group_id => $t->{group},
    post_queue => { name => 'Evening queue', timezone => 'UTC',
                    queue_timeslots_attributes => [
                        map { { day => $_, time => '18:00' } } 0 .. 6 ] } });
is($q->{status}, 201, 'seeded: a queue') or diag($q->{raw});
my $qid = $q->{json}{id} // '';
my $queued = post(body => 'Queued: evergreen clip', queue => $qid);

# wait until the seeded posts' media is checked (scheduled)
for my $id (@week, $queued) {
    my $until = time() + 60;
    while (time() < $until) {
        my $s = $t->api(GET => "/api/posts/$id")->{json}{status} // '';
        last if $s ne 'pending';
        sleep 0.2;
    }
}

my $shots = $ENV{TT_WWW_SHOTS} || "$t->{dir}/shots";
mkdir $shots;

local $ENV{WWW_BASE} = $t->url('/');
local $ENV{WWW_KEY} = $t->{key};
local $ENV{WWW_SIM} = $sim->base;
local $ENV{WWW_VIDEO} = $video;
local $ENV{WWW_PHOTO} = $photo;
local $ENV{WWW_QUEUE} = $qid;
local $ENV{WWW_GROUP} = $t->{group};
local $ENV{WWW_FAILED} = $failed;
local $ENV{WWW_PUBLISHED} = $published;
local $ENV{WWW_DRAFT} = $draft;
local $ENV{WWW_WEEK} = join(',', @week);
local $ENV{WWW_SHOTS} = $shots;
local $ENV{WWW_CHROMIUM} = $CHROMIUM;
local $ENV{NODE_PATH} = "$BUILD/node/node_modules";

open my $fh, '-|', 'node', "$TT::TOP/t/www/calendar.js"
    or die "node: $!";
while (my $line = <$fh>) {
    chomp $line;
    if ($line =~ /^(not )?ok - (.*)$/) {
        ok(!$1, $2);
    } else {
        diag($line);
    }
}
close $fh;
is($?, 0, 'the browser script ran to its end');
diag("screenshots in $shots") if $ENV{TT_KEEP} || $ENV{TT_WWW_SHOTS};

# what the browser did, as the store has it
my $r = $t->api(GET => "/api/posts/$draft");
is($r->{status}, 404, 'the draft the browser deleted is gone');

$t->stop();
done_testing();
