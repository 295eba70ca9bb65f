#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# End to end: posts made through the API are published by the scheduler to
# the TikTok simulator, at their time, once, with the exact bytes; inbox
# mode, photos, chunking, token refresh, 429, 5xx on a chunk, a policy
# error.  The crash case is in publish_crash.t.

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


# media the simulator serves (and the scheduler downloads and probes)
my $media = tempdir('tt-publish-media-XXXXXX', TMPDIR => 1, CLEANUP => 1);

sub ffmpeg {
    my ($out, @args) = @_;
    system('ffmpeg', '-loglevel', 'error', '-y', @args, "$media/$out") == 0
        or die "ffmpeg $out failed";
    open my $fh, '<:raw', "$media/$out" or die $!;
    local $/;
    return sha256_hex(scalar <$fh>);
}

# about 12 MB: three chunks of 5 MiB would be 2 chunks + remainder
my %sha;
$sha{big} = ffmpeg('big.mp4', '-f', 'lavfi', '-i',
    'testsrc2=size=720x1280:rate=30', '-t', '5', '-c:v', 'libx264',
    '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-b:v', '20M',
    '-minrate', '20M', '-maxrate', '20M', '-bufsize', '4M');
$sha{small} = ffmpeg('small.mp4', '-f', 'lavfi', '-i',
    'testsrc=size=720x1280:rate=30', '-t', '4', '-c:v', 'libx264',
    '-pix_fmt', 'yuv420p');
ffmpeg('a.jpg', '-f', 'lavfi', '-i', 'testsrc=size=1080x1350',
       '-frames:v', '1');
ffmpeg('b.jpg', '-f', 'lavfi', '-i', 'testsrc=size=1080x1350',
       '-frames:v', '1');

my $size_big = -s "$media/big.mp4";
ok($size_big > 2 * 5242880, "big.mp4 is $size_big bytes: several chunks");


my $sim = Sim->start(media_dir => $media, client_key => 'sim-client',
                     client_secret => 'sim-secret');
my $run = tempdir('tt-publish-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$run/spool";

my $t = TT->new(tiktok_api => $sim->base, extra_http => <<"END");
    tiktok_wake_socket $run/wake.sock;
    tiktok_spool $run/spool;
    tiktok_chunk_size 5242880;
END

# one creator per case: TikTok's per-token minute windows (6 inits) would
# otherwise make the later cases wait for the earlier ones
my ($user, $prof);
my @secrets;

sub new_creator {
    ($prof, $user) = $t->add_sim_creator($sim);
    push @secrets, $user->{access_token}, $user->{refresh_token};
}

my $sched = start_scheduler($t);


sub start_scheduler {
    my ($tt) = @_;
    return $tt->start_scheduler() if $tt->can('start_scheduler');

    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDERR, '>>', "$tt->{dir}/scheduler.log";
        exec("$BUILD/tiktok-scheduler", '-s', $tt->{store}, '-v')
            or POSIX::_exit(127);
    }
    return $pid;
}

sub iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($_[0])) }

sub create {
    my (%o) = @_;
    new_creator() unless $o{same};
    my $r = $t->api(POST => '/api/posts', {
        post => { body => $o{body} // 'hello #e2e',
                  $o{at} ? (scheduled_at => iso($o{at})) : () },
        profiles => [$prof],
        media => [map { $sim->media_url($_) } @{ $o{media} }],
        platforms => { tiktok => { privacy_status => 'PUBLIC_TO_EVERYONE',
                                   %{ $o{tiktok} || {} } } } });
    is($r->{status}, 201, "created $o{what}") or diag($r->{raw});
    return $r->{json}{id};
}

# waits until the post's platform leaves pending/processing/retry
sub settle {
    my ($id, $timeout) = @_;
    my $end = time + ($timeout || 30);
    my $p;
    while (time < $end) {
        my $r = $t->api(GET => "/api/posts/$id");
        $p = $r->{json};
        my $st = $p->{platforms}[0]{status} // '';
        return $p if $st eq 'published' || $st eq 'failed';
        sleep 0.2;
    }
    return $p;
}

sub ledger_of {
    my ($publish_id) = @_;
    my @p = grep { $_->{publish_id} eq ($publish_id // '') }
            @{ $sim->ledger->{publishes} };
    return $p[0];
}


# 1. a post a few seconds ahead: at its time, once, the exact bytes, in
# several chunks
{
    my $at = int(time) + 4;
    my $id = create(what => 'video due in 4 s', media => ['big.mp4'],
                    at => $at);
    my $p = settle($id, 40);
    my $pl = $p->{platforms}[0];

    is($pl->{status}, 'published', 'video published');
    is($p->{status}, 'processed', 'post processed');
    like($pl->{platform_id}, qr/^\d{15,20}$/, 'platform_id is an int64');
    is($pl->{url}, "https://www.tiktok.com/\@$user->{username}/video/"
                   . $pl->{platform_id}, 'permalink');
    is($pl->{upload}{bytes_sent}, $size_big, 'bytes_sent');
    is($pl->{upload}{bytes_total}, $size_big, 'bytes_total');

    my $l = ledger_of($pl->{publish_id});
    is($l->{sha256}, $sha{big}, 'TikTok got the exact bytes');
    is("$pl->{platform_id}", "$l->{post_ids}[0]",
       'platform_id is TikTok\'s post id, every digit');
    is($l->{chunk_size}, 5242880, 'chunks of 5 MiB');
    is($l->{total_chunk_count}, int($size_big / 5242880),
       'floor division');
    is($l->{chunks_received}, $l->{total_chunk_count}, 'every chunk');
    ok($l->{created_at} >= $at, 'not before its time');
    ok($l->{created_at} < $at + 3, 'on time');

    my @mine = grep { ($_->{sha256} // '') eq $sha{big} }
               @{ $sim->ledger->{publishes} };
    is(scalar @mine, 1, 'published once');
}

# 2. inbox mode
{
    my $id = create(what => 'inbox video', media => ['small.mp4'],
                    tiktok => { post_mode => 'MEDIA_UPLOAD' });
    my $pl = settle($id)->{platforms}[0];
    is($pl->{status}, 'published', 'inbox video delivered');
    my $l = ledger_of($pl->{publish_id});
    is($l->{flow}, 'inbox', 'through inbox/video/init');
    is($l->{status}, 'SEND_TO_USER_INBOX', 'waits in the inbox');
    is($l->{sha256}, $sha{small}, 'exact bytes');
}

# 3. a photo post
{
    my $id = create(what => 'photo post', media => ['a.jpg', 'b.jpg'],
                    tiktok => { format => 'image', photo_cover_index => 1 });
    my $pl = settle($id)->{platforms}[0];
    is($pl->{status}, 'published', 'photos published');
    like($pl->{platform_id} // '', qr/^\d{15,20}$/, 'photos: platform_id');
    is($pl->{url}, "https://www.tiktok.com/\@$user->{username}/photo/"
                   . ($pl->{platform_id} // ''),
       'photos: the permalink is a /photo/ one');
    my $l = ledger_of($pl->{publish_id});
    is($l->{flow}, 'photo_direct', 'through content/init');
    is(scalar @{ $l->{photo_images} }, 2, 'two images');
    is($l->{photo_cover_index}, 1, 'cover index');
}

# 4. the access token dies mid-way: refreshed once, published
{
    new_creator();
    $sim->expire_token($user->{access_token});
    my $id = create(what => 'video after token expiry', same => 1,
                    media => ['small.mp4']);
    my $pl = settle($id)->{platforms}[0];
    is($pl->{status}, 'published', 'published after a refresh');
    my $tok = $sim->requests(endpoint => 'token')->{requests};
    is(scalar @$tok, 1, 'one refresh');
}

# 5. a 429 on init: retried later, published
{
    $sim->faults({ endpoint => 'video_init', action => 'status',
                   http_status => 429, code => 'rate_limit_exceeded' });
    my $id = create(what => 'video meeting a 429', media => ['small.mp4']);
    my $pl = settle($id, 40)->{platforms}[0];
    is($pl->{status}, 'published', 'published after a 429');
    is($pl->{attempts}, 2, 'on the second attempt');
}

# 6. a 5xx on a chunk: the same chunk again, exact bytes
{
    $sim->faults({ endpoint => 'upload', action => 'status',
                   http_status => 502, after => 1 });
    my $id = create(what => 'video meeting a 502 on a chunk',
                    media => ['big.mp4']);
    my $pl = settle($id, 40)->{platforms}[0];
    is($pl->{status}, 'published', 'published after a 502');
    my $l = ledger_of($pl->{publish_id});
    is($l->{sha256}, $sha{big}, 'exact bytes after the retry');
    is($l->{init_count_for_this_upload} // 1, 1, 'one init');
}

# 7. a policy error: failed at once with TikTok's code
{
    $sim->faults({ endpoint => 'video_init', action => 'status',
                   http_status => 403, code => 'spam_risk_too_many_posts',
                   message => 'too many posts' });
    my $id = create(what => 'video refused by policy',
                    media => ['small.mp4']);
    my $pl = settle($id)->{platforms}[0];
    is($pl->{status}, 'failed', 'failed');
    is($pl->{attempts}, 1, 'no retry');
    is($pl->{error_details}{platform_error_code},
       'spam_risk_too_many_posts', "TikTok's code");
    is($pl->{error_details}{platform_error_message}, 'too many posts',
       "TikTok's message");
    ok(length($pl->{error} // ''), 'a human sentence');
}

# 8. a privacy level the creator does not have
{
    my $id = create(what => 'video with a foreign privacy level',
                    media => ['small.mp4'],
                    tiktok => { privacy_status => 'FOLLOWER_OF_CREATOR' });
    my $pl = settle($id)->{platforms}[0];
    is($pl->{status}, 'failed', 'privacy not among the options');
    like($pl->{error}, qr/privacy level/i, 'says why');
}

# 9. inbox posts a few seconds ahead: the first call is the init, built
# ahead (a video also takes its slot and the INIT mark ahead, a photo
# not), sent at the due time, not before
{
    my $at = int(time) + 4;
    my (%id, %open_id);

    $id{video} = create(what => 'inbox video due in 4 s',
                        media => ['small.mp4'], at => $at,
                        tiktok => { post_mode => 'MEDIA_UPLOAD' });
    $open_id{video} = $user->{open_id};
    $id{photo} = create(what => 'inbox photos due in 4 s',
                        media => ['a.jpg', 'b.jpg'], at => $at,
                        tiktok => { post_mode => 'MEDIA_UPLOAD',
                                    format => 'image' });
    $open_id{photo} = $user->{open_id};

    for my $k (qw(video photo)) {
        my $pl = settle($id{$k}, 40)->{platforms}[0];
        is($pl->{status}, 'published', "inbox $k delivered");

        my $l = ledger_of($pl->{publish_id});
        is($l->{flow}, $k eq 'video' ? 'inbox' : 'photo_upload',
           "inbox $k flow");

        my @calls = sort { $a <=> $b } map { $_->{time} }
                    grep { ($_->{open_id} // '') eq $open_id{$k} }
                    @{ $sim->requests()->{requests} };
        ok(@calls && $calls[0] >= $at, "inbox $k: not before its time");
        ok(@calls && $calls[0] < $at + 3, "inbox $k: on time");
    }
}

kill 'TERM', $sched;
waitpid $sched, 0;
is($? >> 8, 0, 'the scheduler stops cleanly on SIGTERM');

my $log = TT::read_file("$t->{dir}/scheduler.log");
ok(!(grep { index($log, $_) >= 0 } @secrets, 'sim-secret'),
   'no token or secret in the log');

$t->stop();
$sim->stop();

done_testing();
