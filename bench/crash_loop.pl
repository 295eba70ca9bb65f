#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# The crash loop (make crash-loop): POSTS posts of every kind (videos of
# one chunk and of several, photo posts, inbox posts, queued posts) due
# over SPREAD seconds against the simulator, while the scheduler is
# killed with SIGKILL KILLS times at random moments and started again;
# some creators' access tokens expire during the run, so that kills land
# in refreshes too.  Then, the scheduler left running, every post must
# settle; the simulator's ledger is checked against the posts:
#
#   lost       a post not published (failed, or no completed publish)
#   duplicate  a post TikTok published twice, or a completed publish at
#              TikTok that is no post's (each init is matched to its post
#              by creator and caption)
#   at most once  a photo post failed by design after a kill mid-init
#              (TikTok may have published it, once): not lost, not a
#              duplicate, counted apart with how many TikTok published
#   failed yet published once  a post failed for another reason (its
#              refresh refused) that TikTok published once all the same
#   wrong      a completed publish whose bytes (SHA-256) or photo URLs
#              are not the post's
#   stuck      a post still pending or processing at the deadline
#
# Each kill is aimed at a moment: the scheduler's log is read as it is
# written and SIGKILL sent as soon as it shows a chunk's PUT
# (mid-chunk), a token refresh (mid-refresh: TikTok first expires the
# access tokens of 3 creators with posts due) or a download
# (mid-download) starting; for mid-commit, bench/crash_hold.so (preloaded) holds the
# store's fdatasync() for 300 ms and says so in the log; one kill in 5 is
# at a random time.  TikTok's endpoints answer after 150 ms, as over the
# internet (chunks, tokens, media), and a post in 10 is created during
# the loop with a video URL of its own, so that downloads go on all along.
# What was in flight when each kill landed is then read from the
# simulator's request log (each request's start and end) and the hold's
# log line, and printed as a table of kills by moment.
#
# Prints the figures; exits 1 on any lost, failed yet published once,
# duplicate, wrong or stuck.
# Environment: TT_BUILD, POSTS (1000), KILLS (50), SPREAD (180), SEED,
# AIMS (chunk,refresh,download,commit,random: the moments aimed at).
#
# MODE=soak (make soak): TikTok misbehaving instead of kills: 5xx and
# 429 bursts on every endpoint, connections dropped mid-chunk, latency,
# tokens expired early, upload URLs that expire after 20 s, publishes
# that fail at TikTok.  Then a post may end failed, but with a reason:
# the run fails on a failure without one, a duplicate, wrong bytes or a
# post still pending or processing at the deadline.

use strict;
use warnings;

use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempdir);
use FindBin;
use POSIX qw(strftime WNOHANG);
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/../t/lib";
use Test::More ();
use TT;
use Sim;

my $POSTS = $ENV{POSTS} || 1000;
my $KILLS = $ENV{KILLS} // 50;
my $SPREAD = $ENV{SPREAD} || 180;
my $SEED = $ENV{SEED} || time;
my $SOAK = ($ENV{MODE} // '') eq 'soak';
my @AIMS = split /[ ,]+/, $ENV{AIMS} || 'chunk,refresh,download,commit,random';
$KILLS = 0 if $SOAK && !defined $ENV{KILLS};
srand($SEED);
$| = 1;

my $media = tempdir('tt-crashloop-media-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my %sha;

sub ffmpeg {
    my ($out, @args) = @_;
    system('ffmpeg', '-loglevel', 'error', '-y', @args, "$media/$out") == 0
        or die "ffmpeg $out failed";
    open my $fh, '<:raw', "$media/$out" or die $!;
    local $/;
    $sha{$out} = sha256_hex(scalar <$fh>);
}

# a video of one chunk, one of three (two of 5 MiB, the last larger), a
# photo
ffmpeg('small.mp4', '-f', 'lavfi', '-i', 'testsrc=size=720x1280:rate=30',
       '-t', '4', '-c:v', 'libx264', '-pix_fmt', 'yuv420p');
ffmpeg('big.mp4', '-f', 'lavfi', '-i', 'testsrc2=size=720x1280:rate=30',
       '-t', '5', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt',
       'yuv420p', '-b:v', '20M', '-minrate', '20M', '-maxrate', '20M',
       '-bufsize', '4M');
ffmpeg('a.jpg', '-f', 'lavfi', '-i', 'testsrc=size=1080x1350',
       '-frames:v', '1');
ffmpeg('b.jpg', '-f', 'lavfi', '-i', 'testsrc=size=1080x1350',
       '-frames:v', '1');
printf "media: small.mp4 %d bytes, big.mp4 %d bytes (%d chunks of 5 MiB)\n",
       -s "$media/small.mp4", -s "$media/big.mp4",
       int((-s "$media/big.mp4") / 5242880);

my $sim = Sim->start(media_dir => $media, client_key => 'sim-client',
                     client_secret => 'sim-secret');
my $run = tempdir('tt-crashloop-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$run/spool";

my $t = TT->new(tiktok_api => $sim->base, extra_http => <<"END");
    tiktok_wake_socket $run/wake.sock;
    tiktok_spool $run/spool;
    tiktok_chunk_size 5242880;
    tiktok_max_lateness 1h;
END

# 5 posts a creator (TikTok's cap is 15 a day, and an upload started
# again after a kill is another init); a creator in 5 has an access token
# that expires in 60 to 120 s: refreshes happen during the run
my $ncreators = int(($POSTS + 4) / 5);
my (@profs, @groups, @users, %open_of, %user_of, %due_of);
for my $i (1 .. $ncreators) {
    my ($prof, $u) = $t->add_sim_creator($sim,
        $i % 5 == 0 ? (expires_in => 60 + int(rand(60))) : ());
    push @profs, $prof;
    push @users, $u;
    $open_of{$prof} = $u->{open_id};
    $user_of{$prof} = $u if $i % 5;
    push @groups, $t->{prof_group}{$prof};
}
printf "creators: %d\n", $ncreators;

sub iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($_[0])) }

# the kinds, in turn: small video, big video, photo, inbox video, queued
my @kinds = qw(small small big photo photo inbox small queued);
my $start = time + 20;
my $last_due = $start + $SPREAD;
my (%post, %queue_of_group, @late);
my ($api_slow, $api_over1) = (0, 0);
my $made = 0;

# with kills, a post in 10 is created while the loop runs (below), its
# media at URLs of their own (the same files: "?copy=N"): downloads then
# happen all through the loop, not only at its start
for my $n (0 .. $POSTS - 1) {
    if ($KILLS && $n % 10 == 9) {
        push @late, $n;
        next;
    }
    create_post($n, $start + rand($SPREAD), 0);
}

sub create_post {
    my ($n, $at, $copy) = @_;
    my $kind = $kinds[$n % @kinds];
    # 5 posts in a row a creator: each gets a mix of the kinds
    my $prof = $profs[int($n / 5) % $ncreators];
    my $group = $t->{prof_group}{$prof};
    my %tk = (privacy_status => 'SELF_ONLY');
    my @media = ('small.mp4');
    my %extra;

    # a queue's slots are minutes away: a late post is a video instead
    $kind = 'small' if $copy && $kind eq 'queued';

    if ($kind eq 'big') {
        @media = ('big.mp4');
    } elsif ($kind eq 'photo') {
        @media = ('a.jpg', 'b.jpg');
        $tk{format} = 'image';
    } elsif ($kind eq 'inbox') {
        $tk{post_mode} = 'MEDIA_UPLOAD';
    } elsif ($kind eq 'queued') {
        # a queue of the group, its slots in the next minutes (UTC)
        my $q = $queue_of_group{$group} //= make_queue($group);
        if ($q) {
            %extra = (queue_id => $q);
        } else {
            $kind = 'small';
        }
    }

    my @urls = map { $sim->media_url($_) . ($copy ? "?copy=$n" : '') }
               @media;
    # an answer later than 30 s is a finding, not a reason to give up on
    # a post that may be stored: the slowest is reported
    my $t1 = time;
    my $r = $t->api(POST => '/api/posts', {
        post => { body => "crash loop $n",
                  %extra ? () : (scheduled_at => iso($at)) },
        profiles => [$prof],
        media => \@urls,
        platforms => { tiktok => \%tk },
        %extra }, timeout => 300);
    my $took = time - $t1;
    if ($copy) {
        $api_slow = $took if $took > $api_slow;
        $api_over1++ if $took > 1;
    }
    if ($r->{status} != 201) {
        die "create $kind: $r->{status} $r->{raw}\n";
    }
    $post{ $r->{json}{id} } = { kind => $kind, media => \@media,
                                urls => \@urls, prof => $prof, n => $n };
    $last_due = $at if !%extra && $at > $last_due;
    push @{ $due_of{$prof} }, $at unless %extra;
    $made++;
}

sub make_queue {
    my ($group) = @_;
    my $now = time;
    # slots in 2 to 4 minutes, whole minutes, on today's day
    my @slots;
    for my $m (2 .. 4) {
        my @g = gmtime($now + $m * 60);
        push @slots, { day => $g[6], time => sprintf('%02d:%02d', @g[2, 1]) };
    }
    my $r = $t->api(POST => '/api/post_queues', {
        profile_group_id => $group,
        post_queue => { name => 'crash loop', timezone => 'UTC',
                        queue_timeslots_attributes => \@slots } });
    return $r->{status} == 201 ? $r->{json}{id} : undef;
}

printf "posts: %d made, %d to make during the loop\n", $made,
       scalar @late;

# the soak's faults, in bursts spread over the run
my $faults = 0;
if ($SOAK) {
    $sim->config(upload_url_ttl => 20);
    my @rules = (
        { endpoint => 'upload', action => 'status', http_status => 500 },
        { endpoint => 'upload', action => 'drop' },
        { endpoint => 'upload', action => 'delay', ms => 400 },
        { endpoint => 'video_init', action => 'status', http_status => 429,
          code => 'rate_limit_exceeded' },
        { endpoint => 'inbox_init', action => 'status', http_status => 503 },
        { endpoint => 'content_init', action => 'status',
          http_status => 500 },
        { endpoint => 'status', action => 'status', http_status => 502 },
        { endpoint => 'status', action => 'drop' },
        { endpoint => 'creator_info', action => 'status',
          http_status => 429, code => 'rate_limit_exceeded' },
        { endpoint => '*', action => 'delay', ms => 1500 },
        { endpoint => 'upload', action => 'fail_publish',
          fail_reason => 'file_format_check_failed' },
    );
    for my $r (@rules) {
        for my $burst (0 .. 3) {
            $sim->faults({ %$r, count => 3 + int(rand(8)),
                           after => int(rand(40 * ($burst + 1))) });
            $faults++;
        }
    }
}

# kills: the hold on commits (bench/crash_hold.c) preloaded into the
# scheduler, armed by a file; TikTok's latency on chunks, tokens, media
my $hold = "$run/hold";
my $logf = "$t->{dir}/scheduler.log";
if ($KILLS) {
    my $so = "$TT::BUILD/crash_hold.so";
    -f $so or die "$so is missing: make crash-loop builds it\n";
    $ENV{TT_SCHED_WRAPPER} = join ' ', "env", "LD_PRELOAD=$so",
        "TT_HOLD_FILE=$hold", "TT_HOLD_MS=300",
        $ENV{TT_SCHED_WRAPPER} || ();
    if (!$SOAK) {
        $sim->faults(map { { endpoint => $_, action => 'delay', ms => 150,
                             count => -1 } } qw(upload token media));
    }
}
open my $touch, '>>', $logf or die "$logf: $!";
close $touch;
open my $logfh, '<', $logf or die "$logf: $!";
sysseek($logfh, 0, 2);
my $logbuf = '';

# the log's lines written since the last call
sub log_new {
    my ($got, @l);
    while (sysread($logfh, $got, 65536)) {
        $logbuf .= $got;
    }
    push @l, $1 while $logbuf =~ s/^([^\n]*)\n//;
    return @l;
}

# the soak: tokens expire early instead, one creator in 10 every 5 s, for
# the spread
my $sched = $t->start_scheduler();
my $expired = 0;
if ($SOAK) {
    my $end = time + $SPREAD;
    while (time < $end) {
        sleep 5;
        for (1 .. int(@users / 10) || 1) {
            my $u = $users[int(rand(@users))];
            eval { $sim->expire_token($u->{access_token}); $expired++; };
        }
    }
    printf "faults: %d rules in bursts, %d tokens expired early, "
         . "upload URLs live 20 s\n", $faults, $expired;
}

# the loop: the scheduler runs 0.5 to 2 s (its start, its recovery), then
# is killed at the moment aimed at (the one aimed at least so far; every
# fifth kill at a random time), or after 8 s if that moment does not come;
# for a refresh, TikTok first expires 3 creators' access tokens whose
# posts are due
my @aims = grep { $_ ne 'random' } @AIMS;
my $random_too = grep { $_ eq 'random' } @AIMS;
my %aim_re = (chunk => qr/: PUT chunk /,
              refresh => qr/: refreshing the access token /,
              download => qr/: fetching /,
              commit => qr/^crash-hold: /);
my (@kill, %aimed);
my $t0 = time;
for my $k (1 .. $KILLS) {
    my $n = int(@late / ($KILLS - $k + 1) + 0.999);
    sleep(0.5 + rand(1.5));
    my $aim = 'random';
    if (@aims && ($k % 5 || !$random_too)) {
        ($aim) = sort { ($aimed{$a} // 0) <=> ($aimed{$b} // 0) } @aims;
    }
    $aimed{$aim}++;
    my $seen = 0;
    my @life = log_new();
    # this round's late posts: their downloads start now
    create_post($_, time + 10 + rand(30), 1) for splice(@late, 0, $n);
    if ($aim eq 'refresh') {
        # TikTok expires the access tokens of 3 creators with a post due
        # in the next seconds: that post's first call refreshes
        my $now = time;
        my @due = grep { $user_of{$_}
                         && grep { $_ > $now - 2 && $_ < $now + 6 }
                                 @{ $due_of{$_} || [] } } keys %user_of;
        for my $prof (@due[0 .. ($#due < 2 ? $#due : 2)]) {
            my $u = delete $user_of{$prof};
            eval { $sim->expire_token($u->{access_token}) };
        }
    }
    if ($aim eq 'random') {
        sleep(rand(5));
    } else {
        if ($aim eq 'commit') {
            open my $h, '>', $hold or die "$hold: $!";
            close $h;
        }
        my $until = time + 8;
        while (!$seen && time < $until) {
            my @l = log_new();
            push @life, @l;
            $seen = grep { $_ =~ $aim_re{$aim} } @l;
            sleep 0.002 unless $seen;
        }
    }
    my $at = time;
    kill 'KILL', $sched;
    waitpid $sched, 0;
    unlink $hold;
    # the holds this scheduler said it was in: when, how long
    my @holds;
    for (@life, log_new()) {
        push @holds, [$2, $2 + $1 / 1000]
            if /^crash-hold: .* held (\d+) ms from ([\d.]+) \(pid $sched\)/;
    }
    push @kill, { at => $at, aim => $aim, seen => $seen, holds => \@holds,
                  n => $k };
    sleep(rand(0.5));
    $sched = $t->start_scheduler();
}
printf "kills: %d in %.0f s\n", scalar @kill, time - $t0;
printf "posts created during the loop: slowest answer %.2f s, %d over 1 s\n",
       $api_slow, $api_over1 if $KILLS;

my %kinds;
$kinds{ $_->{kind} }++ for values %post;
printf "posts: %d (%s)\n", $made,
       join(', ', map { "$kinds{$_} $_" } sort keys %kinds);

# settle: every post published or failed, within a deadline
my $deadline = $last_due + 600;
my %final;
while (time < $deadline) {
    my $open = 0;
    for my $id (keys %post) {
        next if $final{$id};
        my $p = $t->api(GET => "/api/posts/$id")->{json};
        my $st = $p->{platforms}[0]{status} // '';
        if ($st eq 'published' || $st eq 'failed') {
            $final{$id} = $p;
        } else {
            $open++;
        }
    }
    last if $open == 0;
    sleep 2;
}
printf "settled in %.0f s after the last due time\n", time - $last_due;

# what each kill interrupted: the requests the simulator had in flight
# (begun, not yet answered) at that instant, and the commit held
my %moment_of = (upload => 'chunk', token => 'refresh', media => 'download',
                 video_init => 'init', inbox_init => 'init',
                 content_init => 'init', creator_info => 'creator_info',
                 status => 'status');
my @order = qw(commit chunk refresh download init creator_info status
               other idle);
my (%primary, %inflight, %aim_of, %refresh_cut);
sub label { return $_[0] eq 'idle' ? 'idle' : "mid-$_[0]" }
my $reqs = @kill ? $sim->requests()->{requests} : [];
for my $kl (@kill) {
    my %in;
    for my $r (@$reqs) {
        next if $r->{time} > $kl->{at}
                || $r->{time} + $r->{duration} < $kl->{at};
        $in{ $moment_of{ $r->{endpoint} } // 'other' } = 1;
        $refresh_cut{ $r->{open_id} } = $kl->{n}
            if $r->{endpoint} eq 'token' && $r->{open_id};
    }
    for my $h (@{ $kl->{holds} }) {
        $in{commit} = 1 if $h->[0] <= $kl->{at} && $kl->{at} <= $h->[1];
    }
    $in{idle} = 1 unless %in;
    my ($first) = grep { $in{$_} } @order;
    printf "kill %d at %s: aimed at %s%s, in flight: %s\n", $kl->{n},
           strftime('%H:%M:%S', gmtime($kl->{at})), $kl->{aim},
           $kl->{aim} eq 'random' ? '' : $kl->{seen} ? ' (seen)'
                                                     : ' (not seen)',
           join(', ', grep { $in{$_} } @order);
    $primary{$first}++;
    $inflight{$_}++ for keys %in;
    $aim_of{ $kl->{aim} }{$first}++;
}
if (@kill) {
    print "kills by moment (what was in flight when SIGKILL landed):\n";
    printf "  %-14s %6s %8s %10s\n", 'moment', 'aimed', 'kills',
           'in flight';
    for my $m (@order) {
        next unless $aimed{$m} || $inflight{$m};
        printf "  %-14s %6d %8d %10d\n", label($m), $aimed{$m} // 0,
               $primary{$m} // 0, $inflight{$m} // 0;
    }
    printf "  %-14s %6d\n", 'random time', $aimed{random} // 0;
    for my $a (@aims, 'random') {
        next unless $aim_of{$a};
        printf "  aimed at %s: %s\n", $a,
               join(', ', map { label($_) . " $aim_of{$a}{$_}" }
                          grep { $aim_of{$a}{$_} } @order);
    }
    for my $m (@aims) {
        print "  mid-$m: no kill landed there\n" unless $primary{$m};
    }
}

# the ledger against the posts; each init at TikTok is matched to its
# post by creator and caption ("crash loop N"; an inbox init has none)
my $ledger = $sim->ledger->{publishes};
my (%complete, %post_of_cap, %inits_of);
for my $id (keys %post) {
    my $o = $open_of{ $post{$id}{prof} };
    $post_of_cap{"$o crash loop $post{$id}{n}"} = $id;
    # an inbox init has no caption: a creator's inbox posts, by order
    push @{ $post_of_cap{"$o inbox"} }, $id if $post{$id}{kind} eq 'inbox';
}

sub post_of {
    my ($e) = @_;
    my $pi = $e->{post_info} || {};
    my $id = $post_of_cap{ "$e->{open_id} "
                           . ($pi->{title} // $pi->{description} // '') };
    return $id if defined $id;
    my $ib = $post_of_cap{"$e->{open_id} inbox"};
    return $e->{flow} eq 'inbox' && $ib && @$ib == 1 ? $ib->[0] : undef;
}

for my $e (@$ledger) {
    my $id = post_of($e);
    push @{ $inits_of{$id} }, $e if defined $id;
    next unless $e->{status} =~ /^(PUBLISH_COMPLETE|SEND_TO_USER_INBOX)$/;
    $complete{ $e->{publish_id} } = $e;
}

# a post's inits at TikTok, for a finding
sub inits_of {
    my ($id) = @_;
    return join '; ', map {
        sprintf '%s %s%s, %d chunks', $_->{publish_id}, $_->{status},
                $_->{fail_reason} ? " ($_->{fail_reason})" : '',
                $_->{chunks_received} // 0
    } @{ $inits_of{$id} || [] };
}

# a failed post is not a duplicate: a photo post failed by design after a
# kill mid-init is "at most once" (TikTok may have published it, once); a
# post failed for another reason that TikTok published once anyway is
# counted apart too (the post says failed, TikTok has it once)
my $MIDINIT = qr/stopped after asking TikTok to publish the photos/;
my ($published, $lost, $dup, $wrong, $stuck, $failed, $lost_refresh)
    = (0) x 7;
my ($atmost, $atmost_pub, $failed_pub, $failed_pub_warned) = (0) x 4;
my %reasons;
my %mine;
for my $id (sort keys %post) {
    my $p = $final{$id};
    if (!$p) {
        $stuck++;
        print "stuck: $id ($post{$id}{kind})\n";
        next;
    }
    my $pl = $p->{platforms}[0];
    if ($pl->{status} ne 'published') {
        my $why = $pl->{error_message} // $pl->{error} // '';
        $why = $why->{message} // '' if ref $why eq 'HASH';
        my @done = grep { $complete{ $_->{publish_id} } }
                   @{ $inits_of{$id} || [] };
        $mine{ $_->{publish_id} }++ for @done;
        if (@done > 1) {
            $dup += @done - 1;
            print "duplicate: $id ($post{$id}{kind}) failed, and TikTok "
                . "published it ", scalar @done, " times: ", inits_of($id),
                "\n";
            next;
        }
        if ($post{$id}{kind} eq 'photo' && $why =~ $MIDINIT) {
            $atmost++;
            $atmost_pub += @done;
            print "at most once: $id (photo): failed after a kill mid-init,"
                . " TikTok published it ", scalar @done, " time(s): ",
                inits_of($id), "\n";
            next;
        }
        if (@done) {
            my $note = ($pl->{error_details} || {})->{note} // '';
            $failed_pub++;
            $failed_pub_warned++ if $note =~ /may publish it/;
            print "failed, published once: $id ($post{$id}{kind}): $why; "
                . "its note: ", ($note || 'none'), "; its inits at TikTok: ",
                inits_of($id), "\n";
            next;
        }
        if ($SOAK && $why ne '') {
            $failed++;
            $reasons{$why}++;
            next;
        }
        $lost++;
        my $cut = $refresh_cut{ $open_of{ $post{$id}{prof} } };
        if ($cut) {
            $lost_refresh++;
            $why .= " (kill $cut cut its profile's token refresh: TikTok"
                  . " had rotated the refresh token, the new one died with"
                  . " the scheduler)";
        }
        print "lost: $id ($post{$id}{kind}): ", ($why || 'no reason'), "\n";
        next;
    }
    my $e = $complete{ $pl->{publish_id} // '' };
    if (!$e) {
        $lost++;
        print "lost: $id: published, but TikTok has no completed publish "
            . ($pl->{publish_id} // '(none)') . "\n";
        next;
    }
    if ($mine{ $e->{publish_id} }++) {
        $dup++;
        print "duplicate: $e->{publish_id} is two posts'\n";
    }
    if ($post{$id}{kind} eq 'photo') {
        my $urls = join ' ', @{ $e->{photo_images} || [] };
        my $want = join ' ', @{ $post{$id}{urls} };
        if ($urls ne $want) {
            $wrong++;
            print "wrong: $id: photos $urls\n";
        }
    } elsif (($e->{sha256} // '') ne $sha{ $post{$id}{media}[0] }) {
        $wrong++;
        print "wrong: $id: bytes $e->{sha256}\n";
    }
    $published++;
}

# a completed publish at TikTok that no post has: sent twice
for my $pid (sort keys %complete) {
    next if $mine{$pid};
    $dup++;
    my $e = $complete{$pid};
    my $id = post_of($e);
    if (!defined $id) {
        print "duplicate: $pid ($e->{open_id}, $e->{flow}) is no post's\n";
        next;
    }
    my $pl = $final{$id} ? $final{$id}{platforms}[0] : {};
    printf "duplicate: %s is no post's: post %s (%s), %s%s, holds %s; "
         . "its inits at TikTok: %s\n", $pid, $id, $post{$id}{kind},
           $pl->{status} // '?', $pl->{error} ? " ($pl->{error})" : '',
           $pl->{publish_id} // '(none)', inits_of($id);
}

my $inits = scalar @$ledger;
if ($SOAK) {
    printf "failed with a reason: %d\n", $failed;
    printf "  %4d %s\n", $reasons{$_}, $_
        for sort { $reasons{$b} <=> $reasons{$a} } keys %reasons;
    my $fired = $sim->ledger->{counters}{faults_fired} || {};
    printf "faults fired: %s\n",
           join(', ', map { "$_ $fired->{$_}" } sort keys %$fired);
}
printf "figures: posts %d, published %d, kills %d (%s), inits at TikTok "
     . "%d, lost %d (%d to a refresh cut by a kill), at most once %d "
     . "(photo posts failed after a kill mid-init; %d of them published "
     . "once at TikTok), failed yet published once at TikTok %d (%d "
     . "with a note that TikTok may publish it), "
     . "duplicates %d, wrong bytes %d, stuck %d (seed %s)\n",
       $made, $published, scalar @kill,
       join(', ', map { label($_) . " $primary{$_}" }
                  grep { $primary{$_} } @order) || 'none',
       $inits, $lost, $lost_refresh, $atmost, $atmost_pub, $failed_pub,
       $failed_pub_warned, $dup,
       $wrong,
       $stuck, $SEED;

$t->stop_scheduler();
$t->stop();             # checks error.log as a test of its own
$sim->stop();
Test::More::done_testing();

exit($lost || $failed_pub || $dup || $wrong || $stuck ? 1 : 0);
