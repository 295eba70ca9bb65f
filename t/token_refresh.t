#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# A profile's tokens over its life, against the simulator (which rotates
# refresh tokens and refuses a used one, as TikTok's newest pages say):
#
# 1. rotation over several refreshes: four publishes in a row, each with
#    an access token near its expiry, each refreshed with the refresh
#    token the previous refresh gave; none refused.
# 2. a revoked grant (the user disconnected the app): TikTok refuses the
#    refresh with invalid_grant well before the refresh token's expiry;
#    the profile is `revoked`, not `expired`, its due post fails saying
#    the authorization was revoked and to reconnect, and its next post
#    fails the same at once, without asking TikTok again.
# 3. a refresh token past its expiry: the profile is `expired`, and its
#    due post says so and to reconnect.
# 4. the refresh token lost while TikTok processes a whole upload (as
#    when the scheduler was killed before saving a rotated one): the post
#    fails, and its note says that TikTok had it, with its publish_id, and
#    may publish it all the same, which TikTok then does.  Once the
#    account is connected again, publishing the post again follows that
#    publish (TikTok's status) and publishes nothing twice.

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

my $media = tempdir('tt-refresh-media-XXXXXX', TMPDIR => 1, CLEANUP => 1);
system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
       'testsrc=size=720x1280:rate=30', '-t', '4', '-c:v', 'libx264',
       '-pix_fmt', 'yuv420p', "$media/small.mp4") == 0 or die 'ffmpeg failed';

my $sim = Sim->start(media_dir => $media, client_key => 'sim-client',
                     client_secret => 'sim-secret');
$sim->config(rotate_refresh => JSON::PP::true);
my $run = tempdir('tt-refresh-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$run/spool";

my $t = TT->new(tiktok_api => $sim->base, extra_http => <<"END");
    tiktok_wake_socket $run/wake.sock;
    tiktok_spool $run/spool;
END
$t->start_scheduler();

sub create {
    my ($prof, $body) = @_;
    my $r = $t->api(POST => '/api/posts', {
        post => { body => $body }, profiles => [$prof],
        media => [$sim->media_url('small.mp4')],
        platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } });
    is($r->{status}, 201, "created ($body)") or diag($r->{raw});
    return $r->{json}{id};
}

sub settle {
    my ($id) = @_;
    my $pl;
    for (my $end = time + 60; time < $end; sleep 0.1) {
        $pl = $t->api(GET => "/api/posts/$id")->{json}{platforms}[0];
        last if $pl && $pl->{status} =~ /^(published|failed)$/;
    }
    return $pl;
}

sub refreshes {
    my ($open_id) = @_;
    return grep { ($_->{open_id} // '') eq $open_id }
           @{ $sim->requests(endpoint => 'token')->{requests} };
}

sub tokens { return @{ $sim->requests(endpoint => 'token')->{requests} }; }

sub profile { return $t->api(GET => "/api/profiles/$_[0]")->{json}; }

# 1. rotation: access tokens of 2 minutes are within the 5-minute refresh
# margin, so every publish refreshes first
{
    $sim->config(access_ttl => 120);
    my ($prof, $u) = $t->add_sim_creator($sim, expires_in => 60);
    for my $i (1 .. 4) {
        my $pl = settle(create($prof, "rotation $i"));
        is($pl->{status}, 'published', "publish $i after a refresh")
            or diag(explain($pl));
    }
    my @r = refreshes($u->{open_id});
    is(scalar @r, 4, 'four refreshes');
    is(join(' ', map { $_->{status} } @r), '200 200 200 200',
       'each with the refresh token the one before gave (a used one '
       . 'is refused)');
    is(profile($prof)->{status}, 'active', 'the profile is active');
    $sim->config(access_ttl => 86400);
}

# 2. a revoked grant
{
    my ($prof, $u) = $t->add_sim_creator($sim);
    is(settle(create($prof, 'before'))->{status}, 'published',
       'a post before the revocation is published');

    $sim->ctl('POST', "users/$u->{open_id}/revoke", { reason => 1 });
    my $n0 = scalar(tokens());

    my $pl = settle(create($prof, 'after'));
    is($pl->{status}, 'failed', 'after it, a due post fails');
    like($pl->{error} // '', qr/authorization was revoked/,
         'saying the authorization was revoked') or diag(explain($pl));
    like(($pl->{error_details} || {})->{note} // '', qr/^Reconnect this TikTok account/,
         'and to reconnect the account');
    my @r = (tokens())[$n0 .. scalar(tokens()) - 1];
    is(scalar @r, 1, 'TikTok was asked for a refresh once');
    like($r[0]{detail} // '', qr/^invalid_grant/, 'and refused it: invalid_grant');
    is(profile($prof)->{status}, 'revoked', 'the profile is revoked, not '
                                          . 'expired');

    $pl = settle(create($prof, 'later'));
    is($pl->{status}, 'failed', 'the next post fails too');
    like($pl->{error} // '', qr/authorization was revoked/, 'the same way');
    is(scalar(tokens()), $n0 + 1, 'without asking TikTok again');
    like(TT::read_file("$t->{dir}/scheduler.log"),
         qr/profile \Q$prof\E: TikTok refused its refresh token before its expiry: the authorization was revoked, or a refresh's new token was lost before it was saved, the profile is revoked/,
         'the scheduler logs why');
}

# 3. a refresh token past its expiry
{
    my ($prof, $u) = $t->add_sim_creator($sim, expires_in => 1);
    $t->admin('profile', 'update', $prof, '--access-token', 'act.old',
              '--refresh-token', 'rft.old', '--expires-in', 1,
              '--refresh-expires-in', 1);
    sleep 1.2;
    my $n0 = scalar(tokens());
    my $pl = settle(create($prof, 'expired'));
    is($pl->{status}, 'failed', 'a due post of an expired profile fails');
    like($pl->{error} // '', qr/authorization expired/, 'saying it expired')
        or diag(explain($pl));
    like(($pl->{error_details} || {})->{note} // '', qr/^Reconnect this TikTok account/,
         'and to reconnect the account');
    is(profile($prof)->{status}, 'expired', 'the profile is expired');
    is(scalar(tokens()), $n0, 'TikTok was not asked');
}

# 4. the refresh token lost while TikTok processes the upload
{
    $sim->config(processing_delay => 4);
    my ($prof, $u) = $t->add_sim_creator($sim);
    my $id = create($prof, 'lost refresh');
    my $e;
    for (my $end = time + 60; time < $end; sleep 0.05) {
        ($e) = grep { $_->{open_id} eq $u->{open_id}
                      && $_->{chunks_received} >= 1 }
               @{ $sim->ledger->{publishes} };
        last if $e;
    }
    ok($e, 'the upload is whole at TikTok') or diag(explain($e));
    # someone else used the refresh token (TikTok rotated it), and the
    # access token expires: the scheduler's next question needs a refresh
    my $r = $sim->http->post_form($sim->base . '/v2/oauth/token/', {
        client_key => 'sim-client', client_secret => 'sim-secret',
        grant_type => 'refresh_token', refresh_token => $u->{refresh_token} });
    is($r->{status}, 200, 'the refresh token was used elsewhere');
    $sim->expire_token($u->{access_token});

    my $pl = settle($id);
    is($pl->{status}, 'failed', 'the post fails: its refresh is refused');
    like(($pl->{error_details} || {})->{note} // '',
         qr/TikTok had this post \(publish_id \Q$e->{publish_id}\E\) and may publish it all the same: check the TikTok profile before publishing this post again\.$/,
         'its note says TikTok had it and may publish it')
        or diag(explain($pl));
    my $p = $sim->wait_status($e->{publish_id}, 'PUBLISH_COMPLETE', 30);
    is($p && $p->{status}, 'PUBLISH_COMPLETE', 'which TikTok does');

    # connected again (the tokens of the refresh made elsewhere), the
    # post is published again: TikTok is asked about the publish it holds
    my $tok = decode_json($r->{content});
    $t->admin('profile', 'update', $prof, '--access-token',
              $tok->{access_token}, '--refresh-token', $tok->{refresh_token},
              '--expires-in', 86400, '--refresh-expires-in', 31536000);
    my $a = $t->api(POST => "/api/posts/$id/publish");
    is($a->{status}, 200, 'publishing it again is taken') or diag($a->{raw});
    is($a->{json}{status}, 'processing', 'it follows what TikTok holds');
    $pl = settle($id);
    is($pl->{status}, 'published', 'it is published') or diag(explain($pl));
    my @mine = grep { $_->{open_id} eq $u->{open_id} }
               @{ $sim->ledger->{publishes} };
    is(scalar @mine, 1, 'by the one publish TikTok had: none twice')
        or diag(explain(\@mine));
    $sim->config(processing_delay => 1);
}

$t->stop();
$sim->stop();
done_testing();
