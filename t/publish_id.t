#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# End to end: TikTok's post id of a public post comes after moderation.
# With a 40 s moderation delay in the simulator, the post is published
# at once with platform_id and url null, and the scheduler keeps asking
# (across a restart: the next question is on the store's agenda) until
# the id comes, then fills platform_id and the permalink.  A private
# (SELF_ONLY) post and one for friends only never get an id, nothing is
# asked again for them, and the log says why.

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

my $media = tempdir('tt-id-media-XXXXXX', TMPDIR => 1, CLEANUP => 1);

system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
       'testsrc=size=720x1280:rate=30', '-t', '4', '-c:v', 'libx264',
       '-pix_fmt', 'yuv420p', "$media/small.mp4") == 0 or die 'ffmpeg failed';

my $sim = Sim->start(media_dir => $media, client_key => 'sim-client',
                     client_secret => 'sim-secret');
my $run = tempdir('tt-id-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$run/spool";

my $t = TT->new(tiktok_api => $sim->base, extra_http => <<"END");
    tiktok_wake_socket $run/wake.sock;
    tiktok_spool $run/spool;
END

# long enough that the scheduler sees PUBLISH_COMPLETE before the id
# even on a loaded machine
$sim->config(moderation_delay => 40);
$t->start_scheduler();

sub create {
    my ($prof, $privacy) = @_;
    my $r = $t->api(POST => '/api/posts', {
        post => { body => "moderated, $privacy" },
        profiles => [$prof],
        media => [$sim->media_url('small.mp4')],
        platforms => { tiktok => { privacy_status => $privacy } } });
    is($r->{status}, 201, "created ($privacy)") or diag($r->{raw});
    return $r->{json}{id};
}

sub wait_for {
    my ($id, $timeout, $cond) = @_;
    my $end = time + $timeout;
    my $p;
    while (time < $end) {
        $p = $t->api(GET => "/api/posts/$id")->{json};
        return $p if $cond->($p->{platforms}[0]);
        sleep 0.2;
    }
    return $p;
}

my ($prof, $user) = $t->add_sim_creator($sim);
my ($prof2, $user2) = $t->add_sim_creator($sim);
my ($prof3, $user3) = $t->add_sim_creator($sim);

my $id = create($prof, 'PUBLIC_TO_EVERYONE');
my $private = create($prof2, 'SELF_ONLY');
my $friends = create($prof3, 'MUTUAL_FOLLOW_FRIENDS');

my $p = wait_for($id, 60, sub { $_[0]{status} =~ /^(published|failed)$/ });
my $pl = $p->{platforms}[0];
my $published_at = time;
is($pl->{status}, 'published', 'published before moderation ends');
is($p->{status}, 'processed', 'the post is processed');
is($pl->{platform_id}, undef, 'no platform_id yet');
is($pl->{url}, undef, 'no url yet');

# the scheduler stops and starts again while the id is awaited: the next
# question is in the store
$p = $t->api(GET => "/api/posts/$id")->{json};
is($p->{platforms}[0]{platform_id}, undef, 'still no id before the restart');
$t->stop_scheduler();
sleep 1;
$t->start_scheduler();

$p = wait_for($id, 90, sub { defined $_[0]{platform_id} });
$pl = $p->{platforms}[0];
my ($task) = grep { $_->{publish_id} eq ($pl->{publish_id} // '') }
             @{ $sim->ledger->{publishes} };
ok($task && @{ $task->{post_ids} || [] }, 'TikTok has given the id');
like($pl->{platform_id} // '', qr/^\d{15,20}$/,
     'platform_id filled after moderation');
is("" . ($pl->{platform_id} // ''), "" . ($task->{post_ids}[0] // '-'),
   'it is TikTok\'s post id');
is($pl->{url}, "https://www.tiktok.com/\@$user->{username}/video/"
               . ($pl->{platform_id} // ''), 'the permalink with it');
is($pl->{status}, 'published', 'still published');
diag(sprintf('the id arrived %.0f s after the publish', time - $published_at));

# no more questions once the id is there
my $asked = scalar @{ $sim->requests(endpoint => 'status')->{requests} };
sleep 12;
is(scalar @{ $sim->requests(endpoint => 'status')->{requests} }, $asked,
   'no status/fetch after the id came');

# the private post: published, never an id, and the log says why
$p = wait_for($private, 60, sub { $_[0]{status} =~ /^(published|failed)$/ });
is($p->{platforms}[0]{status}, 'published', 'private post published');
is($p->{platforms}[0]{platform_id}, undef, 'private post: no id');
my $log = TT::read_file("$t->{dir}/scheduler.log");
like($log, qr/post \Q$private\E published.*no post id: private \(SELF_ONLY\)/,
     'the log says a private post gets no id');
unlike($log, qr/post id 0\b/, 'never "post id 0"');

# friends only: published long ago by now, never an id, nothing asked
$p = $t->api(GET => "/api/posts/$friends")->{json};
is($p->{platforms}[0]{status}, 'published', 'friends-only post published');
is($p->{platforms}[0]{platform_id}, undef, 'friends-only post: no id');
like($log, qr/post \Q$friends\E published.*no post id: visible to followers/,
     'the log says a friends-only post gets no id');

$t->stop_scheduler();
$t->stop();
$sim->stop();

done_testing();
