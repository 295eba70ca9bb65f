#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# End to end: the moments where a publish could go out twice or not at
# all.  Answers to chunk PUTs lost in flight (the chunk landed, the
# answer did not), on a middle chunk, on the last one, and after two 5xx
# answers; a retry that is visible on the post while it waits; a token
# that expires within the refresh margin, refreshed before each publish
# with the rotated refresh token; the cap on concurrent uploads; the
# creator's limit on a video's duration.

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

my $CHUNK = 5242880;
my $media = tempdir('tt-faults-media-XXXXXX', TMPDIR => 1, CLEANUP => 1);

# about 25 MB: four or five chunks of 5 MiB
system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
       'testsrc2=size=720x1280:rate=30', '-t', '10', '-c:v', 'libx264',
       '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-b:v', '20M',
       '-minrate', '20M', '-maxrate', '20M', '-bufsize', '4M',
       "$media/big.mp4") == 0 or die 'ffmpeg failed';
system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
       'testsrc=size=720x1280:rate=30', '-t', '4', '-c:v', 'libx264',
       '-pix_fmt', 'yuv420p', "$media/small.mp4") == 0 or die 'ffmpeg failed';

my $sha = do {
    open my $fh, '<:raw', "$media/big.mp4" or die $!;
    local $/;
    sha256_hex(scalar <$fh>);
};
my $size = -s "$media/big.mp4";
my $chunks = int($size / $CHUNK);
ok($chunks >= 3, "big.mp4: $size bytes, $chunks chunks");

my $sim = Sim->start(media_dir => $media, client_key => 'sim-client',
                     client_secret => 'sim-secret');
my $run = tempdir('tt-faults-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$run/spool";

my $t = TT->new(tiktok_api => $sim->base, extra_http => <<"END");
    tiktok_wake_socket $run/wake.sock;
    tiktok_spool $run/spool;
    tiktok_chunk_size $CHUNK;
    tiktok_max_uploads 1;
END

$t->start_scheduler();

my $user;

sub creator {
    my $prof;
    ($prof, $user) = $t->add_sim_creator($sim, @_);
    return $prof;
}

sub create {
    my ($prof, $file, $body) = @_;
    my $r = $t->api(POST => '/api/posts', {
        post => { body => $body // "faults: $file" },
        profiles => [$prof],
        media => [$sim->media_url($file)],
        platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } });
    is($r->{status}, 201, "created ($file)") or diag($r->{raw});
    return $r->{json}{id};
}

# polls until the platform is published or failed; $seen collects the
# platform entry last seen in each status
sub settle {
    my ($id, $timeout, $seen) = @_;
    my $end = time + $timeout;
    my $p;
    while (time < $end) {
        $p = $t->api(GET => "/api/posts/$id")->{json};
        my $pl = $p->{platforms}[0];
        $seen->{ $pl->{status} } = $pl if $seen;
        return $p if $pl->{status} =~ /^(published|failed)$/;
        sleep 0.1;
    }
    return $p;
}

sub tasks_of {
    my ($open_id) = @_;
    return grep { $_->{open_id} eq $open_id }
           @{ $sim->ledger->{publishes} };
}

# the user's chunk PUTs that got this HTTP status (0: the answer lost)
sub puts {
    my ($status) = @_;
    return scalar grep { ($_->{open_id} // '') eq $user->{open_id}
                         && $_->{status} == $status }
                  @{ $sim->requests(endpoint => 'upload')->{requests} };
}

# one init, every chunk once, the exact bytes, published once
sub once {
    my ($what, $p) = @_;
    my $pl = $p->{platforms}[0];
    is($pl->{status}, 'published', "$what: published")
        or diag(explain($pl));
    my @tasks = tasks_of($user->{open_id});
    is(scalar @tasks, 1, "$what: one init")
        or diag(join ' ', map { "$_->{publish_id}:$_->{status}" } @tasks);
    is($tasks[0]{publish_id}, $pl->{publish_id}, "$what: the post's publish");
    is($tasks[0]{status}, 'PUBLISH_COMPLETE', "$what: complete at TikTok");
    is($tasks[0]{chunks_received}, $chunks, "$what: each chunk once");
    is($tasks[0]{sha256}, $sha, "$what: the exact bytes");
}


# 1. the answer to a middle chunk is lost, the chunk landed
{
    my $prof = creator();
    $sim->faults({ endpoint => 'upload', action => 'drop',
                   apply => JSON::PP::true, after => 1,
                   open_id => $user->{open_id} });
    once('lost answer, middle chunk', settle(create($prof, 'big.mp4'), 90));
    is(puts(0), 1, 'lost answer, middle chunk: one answer was lost');
}

# 2. the answer to the last chunk is lost: the upload is complete, and
# nothing may be sent again
{
    my $prof = creator();
    $sim->faults({ endpoint => 'upload', action => 'drop',
                   apply => JSON::PP::true, after => $chunks - 1,
                   open_id => $user->{open_id} });
    once('lost answer, last chunk', settle(create($prof, 'big.mp4'), 90));
    is(puts(0), 1, 'lost answer, last chunk: one answer was lost');
}

# 3. two 502s on the last chunk, then its answer lost: the attempt ends,
# and the next one asks TikTok before it would init again
{
    my $prof = creator();
    $sim->faults({ endpoint => 'upload', action => 'status',
                   http_status => 502, count => 2, after => $chunks - 1,
                   open_id => $user->{open_id} },
                 { endpoint => 'upload', action => 'drop',
                   apply => JSON::PP::true, after => $chunks - 1,
                   open_id => $user->{open_id} });
    my %seen;
    my $p = settle(create($prof, 'big.mp4'), 120, \%seen);
    ok($seen{failed_waiting_for_retry},
       '502, 502, lost: the attempt ended in a retry');
    once('502, 502, lost answer, last chunk', $p);
    is(puts(502), 2, '502, 502, lost: two 502s');
    is(puts(0), 1, '502, 502, lost: one answer lost');
}

# 4. a 429 on the init: the post says when it tries again
{
    my $prof = creator();
    $sim->faults({ endpoint => 'video_init', action => 'status',
                   http_status => 429, code => 'rate_limit_exceeded',
                   open_id => $user->{open_id} });
    my %seen;
    my $p = settle(create($prof, 'small.mp4'), 60, \%seen);
    my $w = $seen{failed_waiting_for_retry};
    ok($w, '429: failed_waiting_for_retry while it waits');
    like($w && $w->{next_attempt_at} // '', qr/^\d{4}-\d\d-\d\dT.*Z$/,
         '429: next_attempt_at is shown');
    like($w && $w->{error_details}{platform_error_code} // '',
         qr/rate_limit_exceeded/, '429: with TikTok\'s code');
    is($p->{platforms}[0]{status}, 'published', '429: published after it');
}

# 5. a token within the refresh margin is refreshed before each publish,
# with the refresh token TikTok rotated the time before
{
    $sim->config(access_ttl => 120);
    my $prof = creator(expires_in => 60);
    my $before = scalar @{ $sim->requests(endpoint => 'token')->{requests} };

    my $p1 = settle(create($prof, 'small.mp4', 'refresh 1'), 60);
    my $p2 = settle(create($prof, 'small.mp4', 'refresh 2'), 60);

    is($p1->{platforms}[0]{status}, 'published', 'refreshed: first post');
    is($p2->{platforms}[0]{status}, 'published',
       'refreshed again with the rotated token: second post');

    my @tokens = @{ $sim->requests(endpoint => 'token')->{requests} };
    is(scalar @tokens - $before, 2, 'two refreshes, one a publish');
    is(scalar(grep { ($_->{status} // 0) != 200 } @tokens[$before .. $#tokens]),
       0, 'no refresh was refused');
    $sim->config(access_ttl => 86400);
}

# 6. tiktok_max_uploads 1: two videos due together upload one after the
# other, never at the same time
{
    my $prof = creator();
    $sim->faults({ endpoint => 'upload', action => 'delay', ms => 200,
                   count => -1, open_id => $user->{open_id} });
    my @ids = map { create($prof, 'big.mp4', "cap $_") } 1 .. 2;
    my @p = map { settle($_, 120) } @ids;
    is($_->{platforms}[0]{status}, 'published', 'cap: published')
        for @p;
    $sim->clear_faults();

    my @tasks = sort { $a->{chunk_times}[0]{head} <=> $b->{chunk_times}[0]{head} }
                tasks_of($user->{open_id});
    is(scalar @tasks, 2, 'cap: two uploads');
    ok($tasks[1]{chunk_times}[0]{head} >= $tasks[0]{chunk_times}[-1]{answered},
       'cap: the second upload began after the first one ended');
}

# 7. the creator's max_video_post_duration_sec, from creator_info: a
# longer video fails before any upload, saying why
{
    my $prof = creator(user => { max_video_post_duration_sec => 3 });
    my $p = settle(create($prof, 'small.mp4', 'too long for this creator'),
                   60);
    my $pl = $p->{platforms}[0];
    is($pl->{status}, 'failed', 'too long for the creator: failed');
    like($pl->{error} // '', qr/4 s long; this creator can post at most 3 s/,
         'too long for the creator: says so');
    is(scalar(tasks_of($user->{open_id})), 0,
       'too long for the creator: nothing sent to TikTok');
}

$t->stop_scheduler();
$t->stop();
$sim->stop();

done_testing();
