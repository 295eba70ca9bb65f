#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# Connecting a TikTok account, followed as a browser follows it:
# initialize_connection's URL, TikTok's consent page (the simulator's,
# submitted as a form), the callback, our wait page, the caller's
# redirect_url.  Then: the state used twice, an expired state, a denial,
# a scope left unticked, a profile deleted (its token revoked at
# TikTok), and an expired profile connected again in place, after which
# its waiting post publishes.

use strict;
use warnings;

use File::Find ();
use File::Temp qw(tempdir);
use HTTP::Tiny;
use Test::More;
use Time::HiRes qw(sleep time);

use lib 't/lib';
use TT;
use Sim;

my $BUILD = $TT::BUILD;

plan skip_all => 'no scheduler built' unless -x "$BUILD/tiktok-scheduler";
plan skip_all => 'no ffmpeg' if system('ffmpeg -version >/dev/null 2>&1');

my $media = tempdir('tt-connect-media-XXXXXX', TMPDIR => 1, CLEANUP => 1);
system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
       'testsrc=size=720x1280:rate=30', '-t', '4', '-c:v', 'libx264',
       '-pix_fmt', 'yuv420p', "$media/v.mp4") == 0 or die 'ffmpeg failed';

my $sim = Sim->start(media_dir => $media, client_key => 'sim-client',
                     client_secret => 'sim-secret');
my $run = tempdir('tt-connect-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$run/spool";

my $t = TT->new(tiktok_api => $sim->base, extra_http => <<"END");
    tiktok_wake_socket $run/wake.sock;
    tiktok_spool $run/spool;
    tiktok_oauth_state_ttl 3s;
END
$t->start_scheduler();

my $DONE = 'https://app.example/tiktok/done?from=test';
my (@CODES, @STATES);       # every code TikTok sent back, every state
my $CALLBACK = $t->url('/tiktok/callback');

$sim->config(consent_page => JSON::PP::true());
my $u = $sim->add_user(username => 'maker', nickname => 'The Maker',
                       account_private => JSON::PP::false());
$sim->config(default_open_id => $u->{open_id});

sub uri_unescape {
    my ($s) = @_;
    $s =~ s/%([0-9A-Fa-f]{2})/chr(hex($1))/ge;
    return $s;
}

sub qs {
    my ($url) = @_;
    my ($q) = $url =~ /\?(.*)$/ or return {};
    return { map { my ($k, $v) = split /=/, $_, 2;
                   (uri_unescape($k), uri_unescape($v // '')) }
             split /&/, $q };
}

# a browser: follows redirects, submits the consent form (allow, with the
# ticked scopes), reloads a page with Refresh, until it is sent to $DONE.
# Returns (the final URL, the callback URL TikTok sent it to).
sub browse {
    my ($url, %o) = @_;
    my $http = HTTP::Tiny->new(max_redirect => 0, timeout => 10);
    my ($callback, $res);
    for (1 .. 100) {
        if (index($url, 'https://app.example/') == 0) {
            push @CODES, qs($callback)->{code} if $callback
                                                  && qs($callback)->{code};
            return ($url, $callback);
        }
        $callback = $url if index($url, "$CALLBACK?") == 0 && $url =~ /state=/;
        $res = $http->get($url);
        if ($res->{status} =~ /^30[123]$/) {
            $url = $res->{headers}{location};
        } elsif ($res->{status} == 200 && $res->{content} =~ /name="consent" value="([^"]+)"/) {
            my $consent = $1;
            my @scopes = grep { !$o{untick}{$_} }
                         $res->{content} =~ /name="scope" value="([^"]+)"/g;
            my $form = join '&', "consent=$consent",
                "decision=" . ($o{deny} ? 'deny' : 'allow'),
                map { "scope=$_" } @scopes;
            $res = $http->post($sim->base . '/v2/auth/authorize/', {
                headers => { 'Content-Type' => 'application/x-www-form-urlencoded' },
                content => $form });
            die "consent: $res->{status}" unless $res->{status} == 302;
            $url = $res->{headers}{location};
        } elsif ($res->{status} == 200 && $res->{headers}{refresh}) {
            sleep 0.2;
        } else {
            return ("$res->{status} $res->{content}", $callback);
        }
    }
    return ("no end: $url", $callback);
}

sub connect_url {
    my ($pg) = @_;
    my $r = $t->api(POST => "/api/profile_groups/$pg/initialize_connection",
                    { platform => 'tiktok', redirect_url => $DONE });
    is($r->{status}, 200, 'initialize_connection answers 200');
    is($r->{json}{success}, JSON::PP::true(), 'with success: true');
    push @STATES, qs($r->{json}{url} // '')->{state} // ();
    return $r->{json}{url};
}

# the whole flow
my $pg = $t->{first_group};
my $url = connect_url($pg);
my $q = qs($url);
like($url, qr{^\Q${\ $sim->base }\E/v2/auth/authorize/\?}, "TikTok's authorize URL");
is($q->{client_key}, 'sim-client', 'with the client key');
is($q->{scope}, 'user.info.basic,video.publish,video.upload,video.list',
   'the four scopes, comma-separated');
like($url, qr/scope=user\.info\.basic,video\.publish,video\.upload,video\.list&/,
     'the commas as they are');
is($q->{response_type}, 'code', 'response_type=code');
is($q->{redirect_uri}, $CALLBACK, 'our callback as redirect URI');
like($q->{state}, qr/^[0-9a-f]{64}$/, 'a random state');
is($q->{code_challenge_method}, 'S256', 'and PKCE');

my ($final, $cb) = browse($url);
my $f = qs($final);
like($final, qr{^\Qhttps://app.example/tiktok/done?from=test&\E}, 'the browser ends at redirect_url');
is($f->{status}, 'connected', 'status=connected');
like($f->{profile_id}, qr/^prof_\w+$/, 'with the profile id');
my $prof = $f->{profile_id};

my $r = $t->api(GET => "/api/profiles/$prof");
is($r->{status}, 200, 'the profile is there');
is($r->{json}{status}, 'active', 'active');
is($r->{json}{name}, 'The Maker', "TikTok's display name");
is($r->{json}{username}, 'maker', "and username (creator_info)");
like($r->{json}{avatar_url}, qr/tiktokcdn/, 'and avatar');
is($r->{json}{profile_group_id}, $pg, 'in the group');
is_deeply([sort @{ $r->{json}{scopes} }],
          [qw(user.info.basic video.list video.publish video.upload)],
          'the granted scopes');
ok($r->{json}{expires_at}, 'and when its token expires');
unlike($r->{raw}, qr/act\.|rft\.|token/, 'never a token');

my $reqs = $sim->requests(endpoint => 'token');
my @tok = grep { $_->{status} == 200 } @{ $reqs->{requests} || $reqs || [] };
ok(@tok >= 1, 'the code was exchanged at /v2/oauth/token/');

# the same callback again: the state is used up
my $http = HTTP::Tiny->new(max_redirect => 0);
my $res = $http->get($cb);
is($res->{status}, 303, 'a reused state is redirected');
is(qs($res->{headers}{location})->{reason}, 'state_used', 'with reason=state_used');
is($res->{headers}{'cache-control'}, 'no-store', 'never cached');
is($res->{headers}{'referrer-policy'}, 'no-referrer', 'never a referrer');
$r = $t->api(GET => "/api/profiles/$prof");
is($r->{json}{status}, 'active', 'and the profile stays');

# an unknown state: no redirect, a page
$res = $http->get("$CALLBACK?code=x&state=" . ('0' x 64));
is($res->{status}, 400, 'an unknown state is a 400 page');

# denial, in a second group
my $pg2 = $t->api(POST => '/api/profile_groups',
                  { profile_group => { name => 'second' } })->{json}{id};
($final) = browse(connect_url($pg2), deny => 1);
is(qs($final)->{status}, 'error', 'a denial ends with status=error');
is(qs($final)->{reason}, 'access_denied', 'reason=access_denied');

# a scope left unticked on the consent page
($final) = browse(connect_url($pg2), untick => { 'video.publish' => 1 });
is(qs($final)->{reason}, 'missing_scope', 'a missing scope: reason=missing_scope');

# an expired state (tiktok_oauth_state_ttl 3s here)
$url = connect_url($pg2);
sleep 3.5;
($final) = browse($url);
is(qs($final)->{reason}, 'state_expired', 'an expired state: reason=state_expired');

# the account is one profile of the workspace: connecting it from another
# group updates the same profile
($final) = browse(connect_url($pg2));
is(qs($final)->{profile_id}, $prof, 'connecting the account again keeps its profile');
$r = $t->api(GET => "/api/profiles?profile_group_id=$pg2");
is_deeply($r->{json}{data}, [], 'and makes none in the other group');

# deleting the profile revokes its token at TikTok
$r = $t->api(DELETE => "/api/profiles/$prof");
is($r->{status}, 200, 'the profile is deleted');
my $revoked;
for (1 .. 100) {
    my $rr = $sim->requests(endpoint => 'revoke');
    $revoked = grep { $_->{status} == 200 } @{ $rr->{requests} || $rr || [] };
    last if $revoked;
    sleep 0.1;
}
ok($revoked, 'and its token is revoked at /v2/oauth/revoke/');

# an expired profile, connected again: its waiting post publishes
my $u2 = $sim->add_user(username => 'second', nickname => 'Second',
                        account_private => JSON::PP::false());
my $p2 = $t->add_profile(group => $pg2, open_id => $u2->{open_id},
                         access_token => 'act.dead', refresh_token => 'rft.dead',
                         expires_in => 1, refresh_expires_in => 1);
my $media_url = $sim->media_url('v.mp4');
my $a = $t->api(POST => "/api/posts?profile_group_id=$pg2", {
    post => { body => 'now' }, profiles => ['tiktok'], media => [$media_url],
    platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } });
is($a->{status}, 201, 'a post due now on the dead profile');
my $later = time() + 25;
my @tm = gmtime($later);
my $at = sprintf('%04d-%02d-%02dT%02d:%02d:%02dZ', $tm[5] + 1900, $tm[4] + 1,
                 @tm[3, 2, 1, 0]);
my $b = $t->api(POST => "/api/posts?profile_group_id=$pg2", {
    post => { body => 'later', scheduled_at => $at }, profiles => ['tiktok'],
    media => [$media_url],
    platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } });
is($b->{status}, 201, 'and one due later');

my $pa;
for (1 .. 150) {
    $pa = $t->api(GET => "/api/posts/$a->{json}{id}")->{json};
    last if $pa->{platforms}[0]{status} eq 'failed';
    sleep 0.1;
}
is($pa->{platforms}[0]{status}, 'failed', 'the due post fails');
like(($pa->{platforms}[0]{error_details} || {})->{note} // '', qr/Reconnect/i,
     'saying to reconnect the account');
is($t->api(GET => "/api/profiles/$p2")->{json}{status}, 'expired',
   'the profile is expired');

$sim->config(default_open_id => $u2->{open_id});
($final) = browse(connect_url($pg2));
is(qs($final)->{profile_id}, $p2, 'connecting it again keeps the profile id');
is($t->api(GET => "/api/profiles/$p2")->{json}{status}, 'active',
   'and it is active');

my $pb;
for (1 .. 600) {
    $pb = $t->api(GET => "/api/posts/$b->{json}{id}")->{json};
    last if $pb->{status} eq 'processed';
    sleep 0.1;
}
is($pb->{platforms}[0]{status}, 'published', 'the waiting post publishes');

# no code, state or token in the logs
my $logs = TT::read_file("$t->{dir}/access.log") . $t->error_log()
           . TT::read_file("$t->{dir}/scheduler.log");
unlike($logs, qr/code=|act\.|rft\.|state=[0-9a-f]{8}/,
       'no code, state or token in the logs');

# after the whole flow (connect, publish, reconnect, delete with a
# revocation), every file of the store and every log, byte for byte:
# TikTok's tokens (the simulator's shape: act./rft. and 32 hex digits,
# and the ones given by hand), the codes TikTok sent back, the states,
# the API key, the client secret and the token key are nowhere; the
# tokens are only sealed in the store
ok(@CODES >= 3 && @STATES >= 5, scalar(@CODES) . ' codes and '
   . scalar(@STATES) . ' states to look for');
my $token_key = TT::read_file("$t->{dir}/token-key");
$token_key =~ s/\s+//g;
my %secret = (
    'the API key' => $t->{key}, 'the client secret' => 'sim-secret',
    'the token key' => $token_key, 'a token given by hand' => 'act.dead',
    'a refresh token given by hand' => 'rft.dead',
    (map { ("code $_" => $CODES[$_]) } 0 .. $#CODES),
    (map { ("state $_" => $STATES[$_]) } 0 .. $#STATES));
my @files;
File::Find::find({ no_chdir => 1, wanted => sub { push @files, $_ if -f } },
                 $t->{dir}, $run);
ok((grep { m{/store/data\.mdb$} } @files), 'the store file is searched, '
   . 'among ' . scalar(@files) . ' files');
my @found;
for my $file (@files) {
    # where they belong, and the test's own record of the answers
    next if $file =~ m{/(token-key|client-secret|answers\.jsonl)$};
    my $data = TT::read_file($file);
    push @found, "$file: a TikTok token"
        if $data =~ /\b(act|rft)\.[0-9a-f]{32}/;
    for my $what (sort keys %secret) {
        push @found, "$file: $what"
            if index($data, $secret{$what}) >= 0;
        # a code as it travels in a URL, percent-encoded
        (my $enc = $secret{$what}) =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord $1)/ge;
        push @found, "$file: $what (encoded)"
            if $enc ne $secret{$what} && index($data, $enc) >= 0;
    }
}
is("@found", '', 'no token, code, state or key in the store or any log');

$t->stop();
$sim->stop();
done_testing();
