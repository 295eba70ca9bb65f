#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# Tests the local TikTok simulator itself: it must be as strict as TikTok.
#

use strict;
use warnings;

use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempdir);
use FindBin;
use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/lib";
use Sim;

my $media = tempdir(CLEANUP => 1);
my $sim = Sim->start(media_dir => $media);
my $base = $sim->base;
my $json = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 30, max_redirect => 0);

ok($sim->port > 0, "listening on port " . $sim->port);

$sim->config(processing_delay => 0.2);


# ---- OAuth -----------------------------------------------------------------

my $alice = $sim->add_user(open_id => 'alice-1', username => 'alice',
                           nickname => 'Alice A.');
like($alice->{access_token}, qr/^act\./, 'control API mints an access token');
$sim->config(default_open_id => 'alice-1');

my $ru = 'http://127.0.0.1:9/callback/';

sub authorize {
    my (%q) = @_;
    my %p = (client_key => 'sim_client_key', response_type => 'code',
             scope => 'user.info.basic,video.publish,video.upload',
             redirect_uri => $ru, state => 'st-1', %q);
    my $r = $http->get("$base/v2/auth/authorize/?"
                       . $http->www_form_urlencode(\%p));
    return $r;
}

sub token {
    my (%f) = @_;
    my $r = $http->post_form("$base/v2/oauth/token/",
                             {client_key => 'sim_client_key',
                              client_secret => 'sim_client_secret', %f});
    return ($r->{status}, $json->decode($r->{content}));
}

sub query_of {
    my ($loc) = @_;
    my ($q) = $loc =~ /\?(.*)$/;
    my %h;
    for my $kv (split /&/, $q) {
        my ($k, $v) = split /=/, $kv, 2;
        $v =~ s/\+/ /g;
        $v =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
        $h{$k} = $v;
    }
    return \%h;
}

my $r = authorize();
is($r->{status}, 302, 'authorize redirects');
my $cb = query_of($r->{headers}{location});
ok($cb->{code}, 'callback has a code');
is($cb->{state}, 'st-1', 'callback echoes state');
is($cb->{scopes}, 'user.info.basic,video.publish,video.upload',
   'callback lists the scopes');

my ($st, $t) = token(grant_type => 'authorization_code', code => $cb->{code},
                     redirect_uri => $ru);
is($st, 200, 'token exchange 200');
like($t->{access_token}, qr/^act\./, 'access token');
like($t->{refresh_token}, qr/^rft\./, 'refresh token');
is($t->{open_id}, 'alice-1', 'open_id of the default user');
is($t->{expires_in}, 86400, 'expires_in');
is($t->{refresh_expires_in}, 31536000, 'refresh_expires_in');
is($t->{token_type}, 'Bearer', 'token_type');
is($t->{scope}, 'user.info.basic,video.upload,video.publish', 'scope');

($st, my $e) = token(grant_type => 'authorization_code', code => $cb->{code},
                     redirect_uri => $ru);
is($st, 200, 'token errors are HTTP 200 by default');
is($e->{error}, 'invalid_grant', 'a code works once');
ok($e->{log_id}, 'error has a log_id');

$r = authorize();
$cb = query_of($r->{headers}{location});
($st, $e) = token(grant_type => 'authorization_code', code => $cb->{code},
                  redirect_uri => 'http://127.0.0.1:9/other/');
is($e->{error}, 'invalid_grant', 'redirect_uri must match');

($st, $e) = token(grant_type => 'authorization_code', code => 'x',
                  redirect_uri => $ru, client_secret => 'wrong');
is($e->{error}, 'invalid_client', 'wrong secret: invalid_client');

$r = authorize(scope => 'user.info.basic video.publish');
like($r->{headers}{location}, qr/error=invalid_scope/,
     'space-separated scopes rejected');

$r = authorize(client_key => 'nope');
is($r->{status}, 400, 'unknown client_key: no redirect');

$sim->config(deny_authorize => JSON::PP::true);
$r = authorize();
like($r->{headers}{location}, qr/error=access_denied.*state=st-1/,
     'deny switch: access_denied');
$sim->config(deny_authorize => JSON::PP::false);

# refresh rotation: the old refresh token dies at once
my ($st2, $t2) = token(grant_type => 'refresh_token',
                       refresh_token => $t->{refresh_token});
ok($t2->{access_token}, 'refresh gives a new access token');
isnt($t2->{refresh_token}, $t->{refresh_token}, 'refresh token rotated');
($st, $e) = token(grant_type => 'refresh_token',
                  refresh_token => $t->{refresh_token});
is($e->{error}, 'invalid_grant', 'old refresh token rejected');
my ($st3, $t3) = token(grant_type => 'refresh_token',
                       refresh_token => $t2->{refresh_token});
ok($t3->{access_token}, 'new refresh token works');

# PKCE, hex encoded as TikTok's desktop flow wants
my $ver = 'v' x 50;
$r = authorize(code_challenge => sha256_hex($ver),
               code_challenge_method => 'S256');
$cb = query_of($r->{headers}{location});
($st, $e) = token(grant_type => 'authorization_code', code => $cb->{code},
                  redirect_uri => $ru, code_verifier => 'w' x 50);
is($e->{error}, 'invalid_request', 'PKCE: wrong verifier rejected');
$r = authorize(code_challenge => sha256_hex($ver),
               code_challenge_method => 'S256');
$cb = query_of($r->{headers}{location});
($st, $t) = token(grant_type => 'authorization_code', code => $cb->{code},
                  redirect_uri => $ru, code_verifier => $ver);
ok($t->{access_token}, 'PKCE: right verifier accepted');


# ---- auth, creator info ----------------------------------------------------

my $at = $t3->{access_token};

($st, my $d) = $sim->api('POST', '/v2/post/publish/creator_info/query/', $at);
is($st, 200, 'creator_info 200');
is($d->{error}{code}, 'ok', 'creator_info ok');
is($d->{data}{creator_nickname}, 'Alice A.', 'nickname');
is($d->{data}{creator_username}, 'alice', 'username');
is_deeply($d->{data}{privacy_level_options},
          [qw(PUBLIC_TO_EVERYONE MUTUAL_FOLLOW_FRIENDS SELF_ONLY)],
          'public account options');
is($d->{data}{max_video_post_duration_sec}, 600, 'max duration');
ok(JSON::PP::is_bool($d->{data}{duet_disabled}), 'duet_disabled is a bool');

($st, $d) = $sim->api('POST', '/v2/post/publish/creator_info/query/', undef);
is($st, 401, 'no token: 401');
is($d->{error}{code}, 'access_token_invalid',
   'no token: access_token_invalid');

$sim->expire_token($at);
($st, $d) = $sim->api('POST', '/v2/post/publish/creator_info/query/', $at);
is($st, 401, 'expired token: 401');
is($d->{error}{code}, 'access_token_invalid', 'expired token code');

my $bob = $sim->add_user(open_id => 'bob-1', username => 'bob',
                         nickname => 'Bob', account_private => JSON::PP::true);
($st, $d) = $sim->api('POST', '/v2/post/publish/creator_info/query/',
                      $bob->{access_token});
is_deeply($d->{data}{privacy_level_options},
          [qw(FOLLOWER_OF_CREATOR MUTUAL_FOLLOW_FRIENDS SELF_ONLY)],
          'private account options');
ok($d->{data}{duet_disabled}, 'private account: duet disabled');

# the clock really expires tokens
$sim->advance_clock(86401);
($st, $d) = $sim->api('POST', '/v2/post/publish/creator_info/query/',
                      $bob->{access_token});
is($st, 401, 'token expired by the clock');

$sim->update_user('bob-1', banned => JSON::PP::true);
$bob = $sim->mint_tokens('bob-1');
($st, $d) = $sim->api('POST', '/v2/post/publish/creator_info/query/',
                      $bob->{access_token});
is($st, 200, 'banned: still HTTP 200');
is($d->{error}{code}, 'spam_risk_user_banned_from_posting', 'banned code');
$sim->update_user('bob-1', banned => JSON::PP::false);

my $carol = $sim->add_user(open_id => 'carol-1', username => 'carol',
                           nickname => 'Carol',
                           scopes => ['user.info.basic', 'video.upload']);
($st, $d) = $sim->api('POST', '/v2/post/publish/creator_info/query/',
                      $carol->{access_token});
is($st, 401, 'missing scope: 401');
is($d->{error}{code}, 'scope_not_authorized', 'scope_not_authorized');


# ---- video init, chunk upload ----------------------------------------------

$alice = $sim->mint_tokens('alice-1');
$at = $alice->{access_token};

sub post_info {
    return {title => "funny #cat \x{1F431}",
            privacy_level => 'PUBLIC_TO_EVERYONE',
            disable_duet => JSON::PP::false,
            disable_comment => JSON::PP::false,
            disable_stitch => JSON::PP::false,
            brand_content_toggle => JSON::PP::false,
            brand_organic_toggle => JSON::PP::false, @_};
}

sub init {
    my ($tok, $vs, $cs, $n, %pi) = @_;
    return $sim->api('POST', '/v2/post/publish/video/init/', $tok,
                     {post_info => post_info(%pi),
                      source_info => {source => 'FILE_UPLOAD',
                                      video_size => $vs, chunk_size => $cs,
                                      total_chunk_count => $n}});
}

my $size = 12_000_000;
open my $rnd, '<:raw', '/dev/urandom' or die "urandom: $!";
read($rnd, my $video, $size) == $size or die "urandom: short read";
close $rnd;
is(length $video, $size, '12,000,000 bytes of test video');

($st, $d) = init($at, $size, 6_000_000, 2);
is($st, 200, 'init 200') or diag explain $d;
like($d->{data}{publish_id}, qr/^v_pub_file~v2-1\.\d+$/, 'publish_id shape');
my $url = $d->{data}{upload_url};
like($url, qr{^http://127\.0\.0\.1:\d+/upload/\?upload_id=\d+&upload_token=},
     'upload_url points at the sim');
my $pid = $d->{data}{publish_id};

sub put {
    my ($u, $first, $len, %h) = @_;
    my $last = $first + $len - 1;
    return $http->request('PUT', $u, {
        headers => {'Content-Type' => 'video/mp4',
                    'Content-Range' => "bytes $first-$last/$size", %h},
        content => substr($video, $first, $len)});
}

$r = put($url, 0, 6_000_000, 'Content-Type' => 'application/octet-stream');
is($r->{status}, 400, 'wrong Content-Type: 400');

$r = put($url, 6_000_000, 6_000_000);
is($r->{status}, 416, 'wrong offset: 416');

$r = put($url, 0, 5_000_000);
is($r->{status}, 400, 'short non-last chunk: 400');

$r = $http->request('PUT', $url, {
    headers => {'Content-Type' => 'video/mp4',
                'Content-Range' => "bytes 0-5999999/$size"},
    content => substr($video, 0, 5_999_999)});
is($r->{status}, 400, 'Content-Length != range: 400');

$r = $http->request('PUT', $url, {
    headers => {'Content-Type' => 'video/mp4',
                'Content-Range' => "bytes 0-5999999/12000001"},
    content => substr($video, 0, 6_000_000)});
is($r->{status}, 400, 'range total != video_size: 400');

(my $bad = $url) =~ s/upload_token=[^&]+/upload_token=nope/;
$r = put($bad, 0, 6_000_000);
is($r->{status}, 404, 'wrong upload token: 404');

$r = put($url, 0, 6_000_000);
is($r->{status}, 206, 'chunk 1: 206');
is($r->{headers}{'content-range'}, "bytes 0-5999999/$size",
   'chunk 1: progress header');

$r = put($url, 0, 6_000_000);
is($r->{status}, 416, 'chunk 1 again: 416');

($st, $d) = $sim->api('POST', '/v2/post/publish/status/fetch/', $at,
                      {publish_id => $pid});
is($d->{data}{status}, 'PROCESSING_UPLOAD', 'status: PROCESSING_UPLOAD');
is($d->{data}{uploaded_bytes}, 6_000_000, 'status: uploaded_bytes');

$r = put($url, 6_000_000, 6_000_000);
is($r->{status}, 201, 'chunk 2: 201');
is($r->{headers}{'content-range'}, "bytes 0-11999999/$size",
   'chunk 2: progress header');

my $p = $sim->publish($pid);
is($p->{sha256}, sha256_hex($video), 'ledger sha256 matches the video');
is($p->{chunks_received}, 2, 'ledger: 2 chunks');
is($p->{bytes_received}, $size, 'ledger: all bytes');

$p = $sim->wait_status($pid, 'PUBLISH_COMPLETE', 10);
is($p->{status}, 'PUBLISH_COMPLETE', 'publish completes');

$r = $http->request('POST', "$base/v2/post/publish/status/fetch/", {
    headers => {Authorization => "Bearer $at",
                'Content-Type' => 'application/json'},
    content => $json->encode({publish_id => $pid})});
like($r->{content}, qr/"publicaly_available_post_id":\s*\[\d{19}\]/,
     'post id: a 19-digit JSON number, misspelled key');
$d = $json->decode($r->{content});
is($d->{data}{status}, 'PUBLISH_COMPLETE', 'status/fetch: PUBLISH_COMPLETE');

($st, $d) = $sim->api('POST', '/v2/post/publish/status/fetch/',
                      $carol->{access_token}, {publish_id => $pid});
is($d->{error}{code}, 'token_not_authorized_for_specified_publish_id',
   "another user's publish");
($st, $d) = $sim->api('POST', '/v2/post/publish/status/fetch/', $at,
                      {publish_id => 'v_pub_file~v2-1.1'});
is($st, 400, 'unknown publish id: 400');
is($d->{error}{code}, 'invalid_publish_id', 'invalid_publish_id');

# a whole file under 5 MiB, Content-Range bytes 0-(n-1)/n
my $small = 4_194_304;
($st, $d) = init($at, $small, $small, 1, privacy_level => 'SELF_ONLY');
is($st, 200, 'small file init');
$r = $http->request('PUT', $d->{data}{upload_url}, {
    headers => {'Content-Type' => 'video/webm',
                'Content-Range' => "bytes 0-4194303/4194304"},
    content => substr($video, 0, $small)});
is($r->{status}, 201, 'whole small file: 201');
$p = $sim->wait_status($d->{data}{publish_id}, 'PUBLISH_COMPLETE');
is_deeply($p->{post_ids}, [], 'SELF_ONLY: complete without a post id');


# ---- init validation -------------------------------------------------------

my $tok2 = $sim->mint_tokens('alice-1')->{access_token};

sub init_code {
    my (@a) = @_;
    my ($s, $b) = init($tok2, @a);
    return "$s $b->{error}{code}";
}

is(init_code(12_000_000, 5_000_000, 3), '400 invalid_params',
   'chunk under 5 MiB (ceil plan): invalid_params');
is(init_code(12_000_000, 6_000_000, 3), '400 invalid_params',
   'count != floor(size/chunk): invalid_params');
is(init_code(12_000_000, 5_242_880, 3), '400 invalid_params',
   'ceil count (3) for 12,000,000 / 5,242,880: invalid_params');
is(init_code(12_000_000, 5_242_880, 2), '200 ok',
   'floor count (2) with a 6,757,120-byte last chunk: ok');
is(init_code(4_000_000, 2_000_000, 2), '400 invalid_params',
   'small file in chunks: invalid_params');
($st, $d) = init($tok2, 200_000_000, 70_000_000, 2);
is($d->{error}{message}, 'The chunk size is invalid', 'TikTok message');
$sim->requests;    # the log is readable
$sim->reset;
$alice = $sim->add_user(open_id => 'alice-1', username => 'alice',
                        nickname => 'Alice A.');
$sim->config(processing_delay => 0.2);
$tok2 = $alice->{access_token};

is(init_code(12_000_000, 6_000_000, 2, privacy_level => 'FOLLOWER_OF_CREATOR'),
   '403 privacy_level_option_mismatch', 'privacy not in options: 403');
is(init_code(12_000_000, 6_000_000, 2, title => 'x' x 2201),
   '400 invalid_params', 'title over 2200: invalid_params');
is(init_code(12_000_000, 6_000_000, 2, title => "\x{1F431}" x 1101),
   '400 invalid_params', 'title counted in UTF-16 units');

($st, $d) = $sim->api('POST', '/v2/post/publish/video/init/', $tok2,
                      '{"post_info":{}}',
                      {'Content-Type' => 'text/plain'});
is("$st $d->{error}{code}", '400 invalid_params', 'non-JSON content type');

# rate limit: 6 inits per minute per token (5 left: the 4 above count)
is(init_code(12_000_000, 6_000_000, 2), '200 ok', 'init 5');
is(init_code(12_000_000, 6_000_000, 2), '200 ok', 'init 6');
is(init_code(12_000_000, 6_000_000, 2), '429 rate_limit_exceeded',
   '7th init in a minute: 429');
my $other = $sim->mint_tokens('alice-1')->{access_token};
($st, $d) = init($other, 12_000_000, 6_000_000, 2);
is($st, 200, 'the limit is per token');
$sim->advance_clock(61);
is(init_code(12_000_000, 6_000_000, 2), '200 ok', 'window slides');
is($sim->ledger->{counters}{rate_limited}{video_init}, 1, '429 counted');


# ---- inbox flow ------------------------------------------------------------

($st, $d) = $sim->api('POST', '/v2/post/publish/inbox/video/init/', $tok2,
                      {source_info => {source => 'FILE_UPLOAD',
                                       video_size => $small,
                                       chunk_size => $small,
                                       total_chunk_count => 1}});
is($st, 200, 'inbox init');
like($d->{data}{publish_id}, qr/^v_inbox_file~v2\.\d+$/, 'inbox publish_id');
my $ipid = $d->{data}{publish_id};
$r = $http->request('PUT', $d->{data}{upload_url}, {
    headers => {'Content-Type' => 'video/mp4',
                'Content-Range' => "bytes 0-4194303/4194304"},
    content => substr($video, 0, $small)});
is($r->{status}, 201, 'inbox upload 201');
$p = $sim->wait_status($ipid, 'SEND_TO_USER_INBOX');
is($p->{status}, 'SEND_TO_USER_INBOX', 'inbox: SEND_TO_USER_INBOX');
$p = $sim->inbox_post($ipid);
is($p->{status}, 'PUBLISH_COMPLETE', 'user posts the draft');
$p = $sim->wait_status($ipid, 'PUBLISH_COMPLETE');
is(scalar @{$p->{post_ids}}, 1, 'draft got a post id');


# ---- faults ----------------------------------------------------------------

$sim->advance_clock(61);
$sim->faults({endpoint => 'video_init', action => 'status',
              http_status => 503, code => 'internal_error',
              message => 'try later', after => 1});
is(init_code(12_000_000, 6_000_000, 2), '200 ok', 'fault skips the first');
is(init_code(12_000_000, 6_000_000, 2), '503 internal_error',
   'status fault fires');
is(init_code(12_000_000, 6_000_000, 2), '200 ok', 'fault used up');

$sim->faults({endpoint => 'video_init', action => 'drop'});
($st, $d) = init($tok2, 12_000_000, 6_000_000, 2);
is($st, 599, 'drop fault: no answer');

($st, $d) = init($tok2, $small, $small, 1);
my $fpid = $d->{data}{publish_id};
$sim->faults({endpoint => 'upload', action => 'status', http_status => 500},
             {endpoint => 'upload', action => 'fail_publish',
              fail_reason => 'frame_rate_check_failed'});
my %h = ('Content-Type' => 'video/mp4',
         'Content-Range' => 'bytes 0-4194303/4194304');
$r = $http->request('PUT', $d->{data}{upload_url},
                    {headers => \%h, content => substr($video, 0, $small)});
is($r->{status}, 500, 'upload fault: 500');
is($sim->publish($fpid)->{bytes_received}, 0, 'the 500 chunk is not kept');
$r = $http->request('PUT', $d->{data}{upload_url},
                    {headers => \%h, content => substr($video, 0, $small)});
is($r->{status}, 201, 'retry of the same chunk: 201');
$p = $sim->wait_status($fpid, 'PUBLISH_COMPLETE');
is($p->{status}, 'FAILED', 'fail_publish fault: FAILED');
is($p->{fail_reason}, 'frame_rate_check_failed', 'fail_reason');

# a dropped answer after the chunk landed: 416 tells where we are
$sim->advance_clock(61);
($st, $d) = init($tok2, $small, $small, 1);
$sim->faults({endpoint => 'upload', action => 'drop'});
# by hand: HTTP::Tiny would resend a PUT that got no answer
my ($hp, $path) = $d->{data}{upload_url} =~ m{^http://([^/]+)(/.*)$};
my $sock = IO::Socket::INET->new(PeerAddr => $hp) or die "connect: $!";
print $sock "PUT $path HTTP/1.1\r\nHost: $hp\r\n"
    . "Content-Type: video/mp4\r\nContent-Range: bytes 0-4194303/4194304\r\n"
    . "Content-Length: $small\r\n\r\n" . substr($video, 0, $small);
my $answer = do { local $/; <$sock> };
is($answer, '', 'upload drop: the answer is lost');
close $sock;
is($sim->publish($d->{data}{publish_id})->{bytes_received}, $small,
   'upload drop: the chunk landed');
$r = $http->request('PUT', $d->{data}{upload_url},
                    {headers => \%h, content => substr($video, 0, $small)});
is($r->{status}, 416, 'resent chunk: 416');
is($r->{headers}{'content-range'}, 'bytes 0-4194303/4194304',
   '416 reports the progress');

$sim->faults({endpoint => 'creator_info', action => 'delay', ms => 300});
my $t0 = Time::HiRes::time();
($st, $d) = $sim->api('POST', '/v2/post/publish/creator_info/query/', $tok2);
ok(Time::HiRes::time() - $t0 >= 0.3, 'delay fault delays');
is($st, 200, 'delayed answer is normal');
$sim->clear_faults;


# ---- photos from the media host --------------------------------------------

open my $fh, '>', "$media/a.jpg" or die;
print $fh "\xff\xd8\xff\xe0" . ('j' x 1000);
close $fh;

($st, $d) = $sim->api('POST', '/v2/post/publish/content/init/', $tok2,
    {post_info => {title => 'p', description => 'a #photo',
                   privacy_level => 'PUBLIC_TO_EVERYONE',
                   brand_content_toggle => JSON::PP::false,
                   brand_organic_toggle => JSON::PP::false},
     source_info => {source => 'PULL_FROM_URL', photo_cover_index => 0,
                     photo_images => [$sim->media_url('a.jpg')]},
     post_mode => 'DIRECT_POST', media_type => 'PHOTO'});
is($st, 200, 'photo init') or diag explain $d;
like($d->{data}{publish_id}, qr/^p_pub_url~v2\.\d+$/, 'photo publish_id');
$p = $sim->wait_status($d->{data}{publish_id}, 'PUBLISH_COMPLETE');
is($p->{status}, 'PUBLISH_COMPLETE', 'photo published');
is($p->{downloaded_bytes}, 1004, 'the sim fetched the image');

($st, $d) = $sim->api('POST', '/v2/post/publish/content/init/', $tok2,
    {post_info => {privacy_level => 'PUBLIC_TO_EVERYONE'},
     source_info => {source => 'PULL_FROM_URL', photo_cover_index => 0,
                     photo_images => [$sim->media_url('missing.jpg')]},
     post_mode => 'DIRECT_POST', media_type => 'PHOTO'});
is($st, 400, 'photo without brand toggles: 400');

$r = $http->request('GET', $sim->media_url('a.jpg'),
                    {headers => {Range => 'bytes=1-3'}});
is($r->{status}, 206, 'media host: range 206');
is($r->{content}, "\xd8\xff\xe0", 'media host: range bytes');

# ---- misbehaving media servers ---------------------------------------------

$r = $http->get($sim->media_url('missing.jpg'));
is($r->{status}, 404, 'media host: a missing file is 404');

$r = $http->get($sim->url('/media-redirect/3/a.jpg'));
is("$r->{status} $r->{headers}{location}", '302 /media-redirect/2/a.jpg',
   'redirect chain: one hop down');
$r = $http->get($sim->url('/media-redirect/1/a.jpg'));
is($r->{headers}{location}, '/media/a.jpg', 'redirect chain: then the file');
$r = HTTP::Tiny->new(timeout => 30, max_redirect => 5)
    ->get($sim->url('/media-redirect/3/a.jpg'));
is($r->{status}, 200, 'redirect chain: followed, 200');
is(length $r->{content}, 1004, 'redirect chain: the whole file');
is(scalar @{ $r->{redirects} || [] }, 3, 'redirect chain: 3 hops');
$r = $http->get($sim->url('/media-redirect/loop'));
is("$r->{status} $r->{headers}{location}", '302 /media-redirect/loop',
   'redirect loop: to itself');
is($http->get($sim->url('/media-redirect/0/a.jpg'))->{status}, 404,
   'redirect chain: 0 hops is 404');
is($http->get($sim->url('/media-stall/missing.jpg'))->{status}, 404,
   'stall: a missing file is 404');
is($http->request('POST', $sim->url('/media-endless'))->{status}, 404,
   'misbehaving servers: GET and HEAD only');

# a raw GET: returns the socket, the head and what came after it
sub raw_get {
    my ($path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $sim->port,
                                  Proto => 'tcp', Timeout => 10) or die $!;
    print $s "GET $path HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    my $buf = '';
    while ($buf !~ /\r\n\r\n/) {
        sysread($s, $buf, 65536, length $buf) or last;
    }
    my ($head, $rest) = split /\r\n\r\n/, $buf, 2;
    return ($s, $head, $rest // '');
}

# read until n bytes are there or nothing comes for `wait` seconds
sub read_some {
    my ($s, $buf, $n, $wait) = @_;
    my $sel = IO::Select->new($s);
    while (length $buf < $n && $sel->can_read($wait)) {
        sysread($s, $buf, 65536, length $buf) or last;
    }
    return $buf;
}


{
    my $t0 = time;
    my ($s, $head, $body) = raw_get('/media-stall/a.jpg?after=10&sec=60');
    like($head, qr/^HTTP\/1.1 200/, 'stall: 200');
    like($head, qr/\r\nContent-Length: 1004(?:\r\n|$)/i,
         'stall: the whole Content-Length');
    $body = read_some($s, $body, 1004, 1);
    is(length $body, 10, 'stall: the first 10 bytes, then nothing');

    # another request meanwhile: the sim is not held up
    my $t1 = time;
    is($http->get($sim->media_url('a.jpg'))->{status}, 200,
       'stall: other requests are served meanwhile');
    ok(time - $t1 < 1, 'stall: at once');

    close $s;
    my $rec;
    for (1 .. 50) {
        ($rec) = grep { $_->{path} eq '/media-stall/a.jpg' }
                 @{ $sim->requests(endpoint => 'media')->{requests} };
        last if $rec;
        sleep 0.1;
    }
    ok($rec, 'stall: ends when the client hangs up');
    is($rec && $rec->{status}, 0, 'stall: logged as a lost connection');
    ok($rec && $rec->{duration} < 10, 'stall: well before its 60 s');

    $t0 = time;
    $r = $http->get($sim->url('/media-stall/a.jpg?after=100&sec=0.5'));
    is(length $r->{content}, 1004, 'short stall: then the rest');
    ok(time - $t0 >= 0.5, 'short stall: after the pause');
}

{
    my ($s, $head, $body) = raw_get('/media-endless?type=image/jpeg');
    like($head, qr/\r\nContent-Type: image\/jpeg/i, 'endless: the type');
    unlike($head, qr/Content-Length/i, 'endless: no Content-Length');
    like($head, qr/\r\nConnection: close/i, 'endless: Connection: close');
    $body = read_some($s, $body, 3_000_000, 5);
    ok(length $body >= 3_000_000, 'endless: it keeps going');
    ok($body !~ /[^\0]/, 'endless: zeros');
    close $s;

    $r = $http->request('HEAD',
        $sim->url('/media-endless?type=video/mp4&length=5000000000'));
    is($r->{headers}{'content-length'}, 5000000000,
       'endless with length: the announced size');
    $r = $http->get($sim->url('/media-endless?length=1000'));
    is(length $r->{content}, 1000, 'endless with length: that many');
    is($r->{headers}{'content-type'}, 'application/octet-stream',
       'endless: octet-stream by default');
}

{
    my $n = $sim->hits('/media/a.jpg');
    $http->get($sim->media_url('a.jpg')) for 1 .. 2;
    is($sim->hits('/media/a.jpg'), $n + 2, 'hits: GETs per path');
    $http->request('HEAD', $sim->media_url('a.jpg'));
    is($sim->hits('/media/a.jpg', 'HEAD'), 1, 'hits: by method');
    is($sim->hits('/media/never.jpg'), 0, 'hits: 0 for an unseen path');
}

# ---- caps, audit, revoke, display API --------------------------------------

$sim->reset;
$sim->config(processing_delay => 0);
my $dan = $sim->add_user(open_id => 'dan-1', username => 'dan',
                         nickname => 'Dan', daily_post_cap => 1);
my $dt = $dan->{access_token};
is(join(' ', (init($dt, $small, $small, 1))[0]), '200', 'first post today');
($st, $d) = init($dt, $small, $small, 1);
is("$st $d->{error}{code}", '403 spam_risk_too_many_posts', 'daily cap');
($st, $d) = $sim->api('POST', '/v2/post/publish/creator_info/query/', $dt);
is("$st $d->{error}{code}", '200 spam_risk_too_many_posts',
   'creator_info says so with HTTP 200');

my $inb = {source_info => {source => 'FILE_UPLOAD', video_size => $small,
                           chunk_size => $small, total_chunk_count => 1}};
my @codes;
for (1 .. 6) {
    ($st, $d) = $sim->api('POST', '/v2/post/publish/inbox/video/init/', $dt,
                          $inb);
    push @codes, $st;
}
is("@codes", '200 200 200 200 200 403', 'inbox: 5 pending shares at most');
is($d->{error}{code}, 'spam_risk_too_many_pending_share', 'pending code');

$sim->config(audited => JSON::PP::false);
my $eve = $sim->add_user(open_id => 'eve-1', username => 'eve',
                         nickname => 'Eve');
($st, $d) = $sim->api('POST', '/v2/post/publish/creator_info/query/',
                      $eve->{access_token});
is_deeply($d->{data}{privacy_level_options}, ['SELF_ONLY'],
          'unaudited: SELF_ONLY only');
($st, $d) = init($eve->{access_token}, $small, $small, 1,
                 privacy_level => 'SELF_ONLY');
is("$st $d->{error}{code}",
   '403 unaudited_client_can_only_post_to_private_accounts',
   'unaudited: public account refused');
$sim->update_user('eve-1', account_private => JSON::PP::true);
($st, $d) = init($eve->{access_token}, $small, $small, 1,
                 privacy_level => 'SELF_ONLY');
is($st, 200, 'unaudited: private account, SELF_ONLY accepted');
$sim->config(audited => JSON::PP::true);

# a post that is not public never gets a publicaly_available_post_id
($st, $d) = init($eve->{access_token}, $small, $small, 1,
                 privacy_level => 'FOLLOWER_OF_CREATOR');
$r = $http->request('PUT', $d->{data}{upload_url}, {
    headers => {'Content-Type' => 'video/mp4',
                'Content-Range' => 'bytes 0-4194303/4194304'},
    content => substr($video, 0, $small)});
$p = $sim->wait_status($d->{data}{publish_id}, 'PUBLISH_COMPLETE');
is(scalar @{ $p->{post_ids} || [] }, 0, 'followers only: no post id');

# a public one does, and the Display API finds it
$sim->update_user('eve-1', account_private => JSON::PP::false);
($st, $d) = init($eve->{access_token}, $small, $small, 1,
                 privacy_level => 'PUBLIC_TO_EVERYONE');
$r = $http->request('PUT', $d->{data}{upload_url}, {
    headers => {'Content-Type' => 'video/mp4',
                'Content-Range' => 'bytes 0-4194303/4194304'},
    content => substr($video, 0, $small)});
$p = $sim->wait_status($d->{data}{publish_id}, 'PUBLISH_COMPLETE');
my $end = time + 5;
while (!@{ $p->{post_ids} || [] } && time < $end) {
    sleep 0.1;
    $p = $sim->wait_status($d->{data}{publish_id}, 'PUBLISH_COMPLETE');
}
my $vid = "$p->{post_ids}[0]";
($st, $d) = $sim->api('POST', '/v2/video/query/?fields=id,title,share_url',
                      $eve->{access_token},
                      {filters => {video_ids => [$vid]}});
is($d->{data}{videos}[0]{id}, $vid, 'video/query finds the post');
($st, $d) = $sim->api('POST', '/v2/video/list/?fields=id',
                      $eve->{access_token}, {max_count => 20});
is(scalar @{$d->{data}{videos}}, 1, 'video/list lists it');
($st, $d) = $sim->api('GET', '/v2/user/info/?fields=open_id,username',
                      $eve->{access_token});
is($d->{data}{user}{username}, 'eve', 'user/info');

$r = $http->post_form("$base/v2/oauth/revoke/",
                      {client_key => 'sim_client_key',
                       client_secret => 'sim_client_secret',
                       token => $eve->{access_token}});
is($r->{status}, 200, 'revoke 200');
($st, $d) = $sim->api('POST', '/v2/post/publish/creator_info/query/',
                      $eve->{access_token});
is($st, 401, 'revoked token: 401');
($st, $e) = token(grant_type => 'refresh_token',
                  refresh_token => $eve->{refresh_token});
is($e->{error}, 'invalid_grant', 'revoked refresh token: invalid_grant');

# the upload URL lives one hour of sim time
$sim->update_user('dan-1', daily_post_cap => 100);
($st, $d) = init($dan->{access_token}, $small, $small, 1);
is($st, 200, 'init for the expiry test');
$sim->advance_clock(3601);
$r = $http->request('PUT', $d->{data}{upload_url}, {
    headers => {'Content-Type' => 'video/mp4',
                'Content-Range' => 'bytes 0-4194303/4194304'},
    content => substr($video, 0, $small)});
is($r->{status}, 403, 'expired upload URL: 403');

# a video pulled from the media host
open $fh, '>:raw', "$media/v.mp4" or die;
print $fh substr($video, 0, 100_000);
close $fh;
$dan = $sim->mint_tokens('dan-1');
my $vurl = $sim->media_url('v.mp4');
($st, $d) = $sim->api('POST', '/v2/post/publish/video/init/',
                      $dan->{access_token},
                      {post_info => post_info(),
                       source_info => {source => 'PULL_FROM_URL',
                                       video_url => $vurl}});
like($d->{data}{publish_id}, qr/^v_pub_url~v2\.\d+$/, 'pull init');
ok(!exists $d->{data}{upload_url}, 'no upload_url for a pull');
$p = $sim->wait_status($d->{data}{publish_id}, 'PUBLISH_COMPLETE');
is($p->{status}, 'PUBLISH_COMPLETE', 'pulled video published');
is($p->{downloaded_bytes}, 100_000, 'downloaded_bytes');
($st, $d) = $sim->api('POST', '/v2/post/publish/video/init/',
                      $dan->{access_token},
                      {post_info => post_info(),
                       source_info => {source => 'PULL_FROM_URL',
                                       video_url => 'https://x.example/v'}});
is("$st $d->{error}{code}", '403 url_ownership_unverified',
   'unverified pull domain: 403');

($st, $d) = $sim->api('POST', '/v2/post/publish/video/init', $dt, {});
is($st, 404, 'paths are exact (trailing slash)');

my $log = $sim->requests(endpoint => 'video_init');
ok(scalar @{$log->{requests}} > 0, 'request log');
ok($log->{first_call}{video_init}, 'first call time');

my $pidnum = $sim->pid;
$sim->stop;
ok(!kill(0, $pidnum), 'SIGTERM stops the simulator');

done_testing();
