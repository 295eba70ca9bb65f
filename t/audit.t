#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# tiktok_app_audited: until TikTok has audited the app it takes SELF_ONLY
# posts only (tiktok-api.md section 10).  With the directive off (its
# default), a post TikTok would refuse for that reason is refused at
# create, batch and PATCH with a 422 that says so, never at its due time;
# a SELF_ONLY post to a private account publishes through an unaudited
# app (the simulator playing one); an inbox draft, which sends TikTok no
# privacy, is not refused.  Turned on by a reload, other levels pass.

use strict;
use warnings;

use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);

use lib 't/lib';
use TT;
use Sim;

my $BUILD = $TT::BUILD;

plan skip_all => 'no scheduler built' unless -x "$BUILD/tiktok-scheduler";
plan skip_all => 'no ffmpeg' if system('ffmpeg -version >/dev/null 2>&1');

my $media = tempdir('tt-audit-media-XXXXXX', TMPDIR => 1, CLEANUP => 1);

system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
       'testsrc=size=720x1280:rate=30', '-t', '4', '-c:v', 'libx264',
       '-pix_fmt', 'yuv420p', "$media/small.mp4") == 0 or die 'ffmpeg failed';

my $sim = Sim->start(media_dir => $media, client_key => 'sim-client',
                     client_secret => 'sim-secret');
$sim->config(audited => JSON::PP::false);

my $run = tempdir('tt-audit-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$run/spool";
my $http = <<"END";
    tiktok_wake_socket $run/wake.sock;
    tiktok_spool $run/spool;
END

my $t = TT->new(tiktok_api => $sim->base, app_audited => 0,
                extra_http => $http);
my ($prof) = $t->add_sim_creator($sim,
                                 user => { account_private => JSON::PP::true });

my $RULE = qr/^platforms\.tiktok\.privacy_status must be SELF_ONLY while /
         . qr/the TikTok app is not audited: TikTok refuses (\w+) from an /
         . qr/unaudited app \(tiktok_app_audited off/;
$RULE = qr/$RULE/;

sub body {
    my ($privacy, %o) = @_;
    return { post => { body => $o{body} // 'audit',
                       $o{at} ? (scheduled_at => $o{at}) : () },
             profiles => [$prof],
             media => [$sim->media_url('small.mp4')],
             platforms => { tiktok => { privacy_status => $privacy,
                                        %{ $o{tiktok} || {} } } } };
}

sub total { return $t->api(GET => '/api/posts')->{json}{total}; }

# create: every level but SELF_ONLY is refused at once
for my $privacy (qw(PUBLIC_TO_EVERYONE MUTUAL_FOLLOW_FRIENDS
                    FOLLOWER_OF_CREATOR))
{
    my $r = $t->api(POST => '/api/posts', body($privacy));
    is($r->{status}, 422, "$privacy refused at create");
    my ($named) = ($r->{json}{errors}[0] // '') =~ $RULE;
    is($named, $privacy, 'by a 422 that says why and names the level')
        or diag($r->{raw});
}
is(total(), 0, 'nothing stored');

# batch: the failing post is named, nothing is stored
my $r = $t->api(POST => '/api/posts/batch',
             { posts => [body('SELF_ONLY'), body('PUBLIC_TO_EVERYONE')] });
is($r->{status}, 422, 'a batch with a public post is refused');
like($r->{json}{errors}[0] // '', qr/^posts\[1\]: platforms\.tiktok\.privacy_status must be SELF_ONLY/,
     'naming its index');
is(total(), 0, 'and none of it is stored');

# an inbox draft sends no privacy to TikTok: not refused
$r = $t->api(POST => '/api/posts',
             body('PUBLIC_TO_EVERYONE', at => '2030-01-01T00:00:00Z',
                  tiktok => { post_mode => 'MEDIA_UPLOAD' }));
is($r->{status}, 201, 'MEDIA_UPLOAD is not refused (the creator picks '
                    . 'the privacy in the app)') or diag($r->{raw});
is($t->api(DELETE => "/api/posts/$r->{json}{id}")->{status}, 200,
   '(deleted again)');

# PATCH: a scheduled SELF_ONLY post cannot become public
$r = $t->api(POST => '/api/posts',
             body('SELF_ONLY', at => '2030-01-01T00:00:00Z'));
is($r->{status}, 201, 'a scheduled SELF_ONLY post is accepted');
my $later = $r->{json}{id};
$r = $t->api(PATCH => "/api/posts/$later", { platforms => { tiktok => {
    privacy_status => 'PUBLIC_TO_EVERYONE' } } });
is($r->{status}, 422, 'a PATCH to PUBLIC_TO_EVERYONE is refused');
like($r->{json}{errors}[0] // '', $RULE, 'saying why');
is($t->api(GET => "/api/posts/$later")->{json}{platforms}[0]{params}
     {privacy_status}, 'SELF_ONLY', 'the post is as it was');

# SELF_ONLY to a private account publishes through the unaudited app
$t->start_scheduler();
$r = $t->api(POST => '/api/posts', body('SELF_ONLY', body => 'now'));
is($r->{status}, 201, 'a SELF_ONLY post to publish now');
my $id = $r->{json}{id};
my $pl;
for (my $end = time + 60; time < $end; sleep 0.2) {
    $pl = $t->api(GET => "/api/posts/$id")->{json}{platforms}[0];
    last if $pl && $pl->{status} =~ /^(published|failed)$/;
}
is($pl->{status}, 'published', 'it is published by the unaudited app')
    or diag(explain($pl));
my @pub = grep { ($_->{publish_id} // '') eq ($pl->{publish_id} // '-') }
          @{ $sim->ledger->{publishes} };
is($pub[0]{post_info}{privacy_level}, 'SELF_ONLY',
   'TikTok got SELF_ONLY');

# audited: a reload lets the other levels through
sub reload {
    my ($audited) = @_;
    $t->{app_audited} = $audited;
    $t->write_conf();
    kill 'HUP', $t->{nginx_pid};
}

reload(1);
my $ok;
for (my $end = time + 10; time < $end; sleep 0.1) {
    $r = $t->api(POST => '/api/posts',
                 body('PUBLIC_TO_EVERYONE', at => '2030-01-01T00:00:00Z'));
    last if ($ok = $r->{status} == 201);
}
ok($ok, 'audited (after a reload): PUBLIC_TO_EVERYONE is accepted')
    or diag($r->{raw});
my $public = $r->{json}{id};

# off again: the public post would be refused when due, so any change to
# it says so now
reload(0);
for (my $end = time + 10; time < $end; sleep 0.1) {
    $r = $t->api(PATCH => "/api/posts/$public",
                 { post => { body => 'a new caption' } });
    last if $r->{status} != 200;
}
is($r->{status}, 422, 'not audited again: a PATCH of the public post is '
                    . 'refused');
like($r->{json}{errors}[0] // '', $RULE, 'saying why');

$t->stop;
done_testing();
