#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# End to end: the failure and profile events reach a receiver on
# loopback that checks every signature, once each, with the body README
# and api.md describe ({id, type, created_at, data}, the X-Webhook-*
# headers, data's post or profile as GET answers it):
#
# - profile.connected: an account connected through the OAuth flow
#   (TikTok's consent page, the callback, the scheduler's code exchange);
# - platform_post.failed: TikTok refuses the video's init (a policy
#   error, the simulator's fault), and the post's post.processed;
# - media.failed: a media URL that answers 404;
# - profile.expired: a refresh token TikTok refuses near its expiry;
# - profile.disconnected: a grant revoked at TikTok (the profile is
#   revoked), and DELETE /api/profiles/:id;
# - a webhook that takes one event type gets that one only.

use strict;
use warnings;

use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);

use lib 't/lib';
use TT;
use Sim;
use Hook;

my $BUILD = $TT::BUILD;

plan skip_all => 'no scheduler built' unless -x "$BUILD/tiktok-scheduler";
plan skip_all => 'no tiktok module built'
    unless -f "$BUILD/nginx/objs/ngx_http_tiktok_module.so";
plan skip_all => 'no ffmpeg' if system('ffmpeg -version >/dev/null 2>&1');

my $media = tempdir('tt-whev-media-XXXXXX', TMPDIR => 1, CLEANUP => 1);
system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
       'testsrc=size=720x1280:rate=30', '-t', '4', '-c:v', 'libx264',
       '-pix_fmt', 'yuv420p', "$media/v.mp4") == 0 or die 'ffmpeg failed';

my $sim = Sim->start(media_dir => $media, client_key => 'sim-client',
                     client_secret => 'sim-secret');
my $run = tempdir('tt-whev-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$run/spool";

my $t = TT->new(tiktok_api => $sim->base, extra_http => <<"END");
    tiktok_wake_socket $run/wake.sock;
    tiktok_spool $run/spool;
    tiktok_webhook_allow_private on;
    tiktok_webhook_timeout 2s;
END
$t->start_scheduler();

my $hook = Hook->start();

my $all = $t->api(POST => '/api/webhooks',
                  { url => $hook->url('/all'), events => ['*'] });
is($all->{status}, 201, 'a webhook for every event') or diag($all->{raw});
$hook->secret('/all', $all->{json}{secret});

my $one = $t->api(POST => '/api/webhooks',
                  { url => $hook->url('/expired'),
                    events => ['profile.expired'] });
is($one->{status}, 201, 'one for profile.expired only');
$hook->secret('/expired', $one->{json}{secret});


# the event of type $type at /all whose data $match->(data) takes: checks
# its shape, its headers and its signature, that it came once, and
# returns its data
sub event {
    my ($type, $match, $what) = @_;
    my $m = sub {
        $_->{path} eq '/all' && ref $_->{json} eq 'HASH'
        && ($_->{json}{type} // '') eq $type
        && $match->($_->{json}{data} || {});
    };
    my @got = $hook->wait($m, 30);
    if (!@got) {
        fail("$what: $type received");
        diag(join("\n", map { $_->{body} } $hook->requests()));
        return {};
    }
    sleep 1;                # a duplicate would be there by now
    @got = grep { $m->() } $hook->requests();
    is(scalar @got, 1, "$what: $type, once");
    my $g = $got[0];
    my $ev = $g->{json};
    is($g->{sig_ok}, 1, "$what: the signature checks out");
    is($g->{method}, 'POST', "$what: a POST");
    like($g->{ctype} // '', qr{^application/json}, "$what: JSON");
    is($g->{event}, $type, "$what: X-Webhook-Event");
    like($g->{delivery} // '', qr/^dlv_\w+$/, "$what: X-Webhook-Delivery");
    is_deeply([sort keys %$ev], [qw(created_at data id type)],
              "$what: {id, type, created_at, data}");
    like($ev->{id}, qr/^evt_\w+$/, "$what: an evt_ id");
    like($ev->{created_at},
         qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/,
         "$what: created_at in UTC");
    ok(abs($g->{t} - $g->{at}) < 60, "$what: t is when it was sent");
    return $ev->{data};
}

sub profile { return $t->api(GET => "/api/profiles/$_[0]")->{json}; }

sub post_of { return $t->api(GET => "/api/posts/$_[0]")->{json}; }

sub create {
    my ($prof, $body, $url) = @_;
    my $r = $t->api(POST => '/api/posts', {
        post => { body => $body }, profiles => [$prof],
        media => [$url // $sim->media_url('v.mp4')],
        platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } });
    is($r->{status}, 201, "created ($body)") or diag($r->{raw});
    return $r->{json}{id};
}

sub settle {
    my ($id, $done) = @_;
    my $p;
    for (my $end = time + 60; time < $end; sleep 0.1) {
        $p = post_of($id);
        last if $done->($p);
    }
    return $p;
}


# 1. profile.connected: the OAuth flow, as a browser follows it
my $DONE = 'https://app.example/done';

sub qs {
    my ($url) = @_;
    my ($q) = ($url // '') =~ /\?(.*)$/ or return {};
    return { map { my ($k, $v) = split /=/, $_, 2;
                   $v //= ''; $v =~ s/%([0-9A-Fa-f]{2})/chr(hex($1))/ge;
                   ($k => $v) } split /&/, $q };
}

sub browse {
    my ($url) = @_;
    my $http = HTTP::Tiny->new(max_redirect => 0, timeout => 10);
    for (1 .. 100) {
        return $url if index($url, $DONE) == 0;
        my $res = $http->get($url);
        if ($res->{status} =~ /^30[123]$/) {
            $url = $res->{headers}{location};
        } elsif ($res->{status} == 200
                 && $res->{content} =~ /name="consent" value="([^"]+)"/) {
            my $form = join '&', "consent=$1", 'decision=allow',
                map { "scope=$_" }
                $res->{content} =~ /name="scope" value="([^"]+)"/g;
            $res = $http->post($sim->base . '/v2/auth/authorize/', {
                headers => { 'Content-Type'
                             => 'application/x-www-form-urlencoded' },
                content => $form });
            $url = $res->{headers}{location} // '';
        } elsif ($res->{status} == 200 && $res->{headers}{refresh}) {
            sleep 0.2;
        } else {
            return "$res->{status} $res->{content}";
        }
    }
    return "no end: $url";
}

$sim->config(consent_page => JSON::PP::true());
my $u = $sim->add_user(username => 'hooked', nickname => 'Hooked',
                       account_private => JSON::PP::false());
$sim->config(default_open_id => $u->{open_id});
my $r = $t->api(POST => "/api/profile_groups/$t->{group}/initialize_connection",
                { platform => 'tiktok', redirect_url => $DONE });
is($r->{status}, 200, 'initialize_connection');
my $final = browse($r->{json}{url});
is(qs($final)->{status}, 'connected', 'connected through OAuth')
    or diag($final);
my $prof = qs($final)->{profile_id} // '';
$t->{profiled}{ $t->{group} } = 1;
$t->{prof_group}{$prof} = $t->{group};

my $d = event('profile.connected', sub { ($_[0]{profile}{id} // '') eq $prof },
              'connected');
is_deeply([sort keys %$d], ['profile'], 'connected: data is {profile}');
is_deeply($d->{profile}, profile($prof),
          'connected: the profile as GET /api/profiles/:id answers it');
is($d->{profile}{status}, 'active', 'connected: active');
is($d->{profile}{username}, 'hooked', "connected: TikTok's username");
unlike($hook->requests() ? join('', map { $_->{body} } $hook->requests()) : '',
       qr/act\.|rft\./, 'no token in any event');


# 2. platform_post.failed: TikTok refuses the init
$sim->faults({ endpoint => 'video_init', action => 'status',
               http_status => 403, code => 'spam_risk_too_many_posts',
               message => 'too many posts' });
my $failed = create($prof, 'refused');
my $fp = settle($failed, sub {
    ($_[0]{platforms}[0]{status} // '') eq 'failed' });
is($fp->{platforms}[0]{status}, 'failed', 'TikTok refused the init: failed');
$d = event('platform_post.failed',
           sub { ($_[0]{post}{id} // '') eq $failed }, 'failed');
is_deeply([sort keys %$d], [qw(platform post profile_id)],
          'failed: data is {platform, profile_id, post}');
is($d->{platform}, 'tiktok', 'failed: the platform');
is($d->{profile_id}, $prof, 'failed: the profile');
is($d->{post}{platforms}[0]{status}, 'failed', 'failed: the post says so');
is($d->{post}{platforms}[0]{error_details}{platform_error_code},
   'spam_risk_too_many_posts', "failed: TikTok's code in the post");
$fp = post_of($failed);
is_deeply($d->{post}, $fp, 'failed: the post as GET /api/posts/:id answers it');
$d = event('post.processed', sub { ($_[0]{post}{id} // '') eq $failed },
           'failed post');
is_deeply($d, { post => $fp }, 'post.processed: {post}, as GET answers it');
is(scalar(grep { ($_->{json}{type} // '') eq 'platform_post.published'
                 && $_->{json}{data}{post}{id} eq $failed }
          $hook->requests()), 0, 'failed: no platform_post.published');
$sim->clear_faults();


# 3. media.failed: a URL that answers 404
my $bad = create($prof, 'no media', $sim->url('/media/missing.mp4'));
my $bp = settle($bad, sub { ($_[0]{status} // '') ne 'pending' });
is($bp->{status}, 'media_processing_failed', 'a 404 fails the media');
$d = event('media.failed', sub { ($_[0]{post}{id} // '') eq $bad },
           'media');
is_deeply([sort keys %$d], [qw(error_message media_id post)],
          'media: data is {media_id, error_message, post}');
is($d->{media_id}, $bp->{media}[0]{id}, 'media: the media id');
like($d->{error_message}, qr/\b404\b/, 'media: the message names the 404');
is($d->{error_message}, $bp->{media}[0]{error_message},
   "media: the media's error_message");
is_deeply($d->{post}, post_of($bad),
          'media: the post as GET /api/posts/:id answers it');


# 4. profile.expired: a refresh token TikTok refuses, 30 s before the
# expiry the store has for it
my ($px, $ux) = $t->add_sim_creator($sim);
$t->admin('profile', 'update', $px, '--access-token', 'act.stale',
          '--refresh-token', 'rft.unknown', '--expires-in', 1,
          '--refresh-expires-in', 30);
my $xp = settle(create($px, 'expired'), sub {
    ($_[0]{platforms}[0]{status} // '') eq 'failed' });
like($xp->{platforms}[0]{error} // '', qr/authorization expired/,
     'a post of a profile whose refresh TikTok refuses fails');
my @tok = grep { ($_->{detail} // '') =~ /^invalid_grant/ }
          @{ $sim->requests(endpoint => 'token')->{requests} || [] };
ok(scalar @tok, 'TikTok refused the refresh: invalid_grant');
is(profile($px)->{status}, 'expired', 'the profile is expired');
$d = event('profile.expired', sub { ($_[0]{profile}{id} // '') eq $px },
           'expired');
is_deeply($d, { profile => profile($px) },
          'expired: {profile}, as GET /api/profiles/:id answers it');
my @only = grep { $_->{path} eq '/expired' } $hook->requests();
is(join(' ', map { $_->{json}{type} } @only), 'profile.expired',
   'the profile.expired webhook got that event only');
is($only[0]{sig_ok}, 1, '... signed with its own secret');
is($only[0]{json}{data}{profile}{id}, $px, '... of that profile');


# 5. profile.disconnected: a grant revoked at TikTok
my ($pr, $ur) = $t->add_sim_creator($sim, expires_in => 1);
$sim->ctl('POST', "users/$ur->{open_id}/revoke", { reason => 1 });
settle(create($pr, 'revoked'), sub {
    ($_[0]{platforms}[0]{status} // '') eq 'failed' });
is(profile($pr)->{status}, 'revoked', 'a revoked grant: the profile is '
                                     . 'revoked');
$d = event('profile.disconnected',
           sub { ($_[0]{profile}{id} // '') eq $pr }, 'revoked');
is_deeply($d, { profile => profile($pr) },
          'revoked: {profile}, as GET /api/profiles/:id answers it');


# 6. profile.disconnected: DELETE /api/profiles/:id
my $before = profile($prof);
$r = $t->api(DELETE => "/api/profiles/$prof");
is($r->{status}, 200, 'the profile is deleted');
$d = event('profile.disconnected',
           sub { ($_[0]{profile}{id} // '') eq $prof }, 'deleted');
is_deeply($d, { profile => { %$before, status => 'revoked' } },
          'deleted: {profile}, as GET answered it, its status revoked');

# none of these twice, none unsigned
my @unsigned = grep { !$_->{sig_ok} } $hook->requests();
is(scalar @unsigned, 0, 'every request signed right');

$t->stop();
$sim->stop();
$hook->stop();
done_testing();
