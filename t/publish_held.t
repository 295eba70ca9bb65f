#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# End to end: a post the scheduler holds back before TikTok got anything
# of it (waiting for a retry after a 429, waiting for an upload slot)
# is still the user's: DELETE answers 200 and it is never published,
# PATCH and publish answer 200 and the post follows the change.  A post
# whose init was sent answers 409 and says why.

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

my $media = tempdir('tt-held-media-XXXXXX', TMPDIR => 1, CLEANUP => 1);

system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
       'testsrc=size=720x1280:rate=30', '-t', '4', '-c:v', 'libx264',
       '-pix_fmt', 'yuv420p', "$media/small.mp4") == 0 or die 'ffmpeg failed';

my $sim = Sim->start(media_dir => $media, client_key => 'sim-client',
                     client_secret => 'sim-secret');
my $run = tempdir('tt-held-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$run/spool";

my $t = TT->new(tiktok_api => $sim->base, extra_http => <<"END");
    tiktok_wake_socket $run/wake.sock;
    tiktok_spool $run/spool;
    tiktok_max_uploads 1;
END

$t->start_scheduler();

sub create {
    my ($prof, $body, %o) = @_;
    my $r = $t->api(POST => '/api/posts', {
        post => { body => $body, %o },
        profiles => [$prof],
        media => [$sim->media_url('small.mp4')],
        platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } });
    is($r->{status}, 201, "created ($body)") or diag($r->{raw});
    return $r->{json}{id};
}

sub platform {
    my ($id) = @_;
    my $r = $t->api(GET => "/api/posts/$id");
    return $r->{status} == 200 ? $r->{json}{platforms}[0] : undef;
}

# waits until the platform entry satisfies $cond; returns it (or the last)
sub wait_for {
    my ($id, $timeout, $cond) = @_;
    my $end = time + $timeout;
    my $pl;
    while (time < $end) {
        $pl = platform($id);
        return $pl if $pl && $cond->($pl);
        sleep 0.1;
    }
    return $pl;
}

sub inits_of {
    my ($open_id) = @_;
    return scalar grep { ($_->{open_id} // '') eq $open_id }
                  @{ $sim->requests(endpoint => 'video_init')->{requests} };
}

sub tasks_of {
    my ($open_id) = @_;
    return grep { $_->{open_id} eq $open_id } @{ $sim->ledger->{publishes} };
}

# until next_attempt_at is at least 3 s away: a retry that the test can
# act on before the scheduler tries again
sub held_in_retry {
    my ($id) = @_;
    return wait_for($id, 90, sub {
        my $pl = shift;
        return 0 unless $pl->{status} eq 'failed_waiting_for_retry';
        my ($h, $m, $s) = ($pl->{next_attempt_at} // '')
            =~ /T(\d\d):(\d\d):(\d\d(?:\.\d+)?)Z$/ or return 0;
        my @now = gmtime(time);
        my $left = ($h * 3600 + $m * 60 + $s)
                   - ($now[2] * 3600 + $now[1] * 60 + $now[0]
                      + (time - int(time)));
        $left += 86400 if $left < -43200;
        return $left >= 3;
    });
}


# 1. waiting for a retry after a 429 on the init: DELETE, never published
{
    my ($prof, $user) = $t->add_sim_creator($sim);
    $sim->faults({ endpoint => 'video_init', action => 'status',
                   http_status => 429, code => 'rate_limit_exceeded',
                   count => -1, open_id => $user->{open_id} });

    my $id = create($prof, 'held by a 429, then deleted');
    my $pl = held_in_retry($id);
    is($pl->{status}, 'failed_waiting_for_retry', '429: waiting for a retry')
        or diag(explain($pl));
    is($pl->{publish_id}, undef, '429: TikTok has no publish of it');

    my $r = $t->api(DELETE => "/api/posts/$id");
    is($r->{status}, 200, '429: DELETE of a post waiting for a retry: 200')
        or diag($r->{raw});
    is_deeply($r->{json}, { deleted => JSON::PP::true }, '429: deleted');
    is($t->api(GET => "/api/posts/$id")->{status}, 404, '429: gone');

    # TikTok answers again: the scheduler must not try the deleted post
    my $before = inits_of($user->{open_id});
    $sim->clear_faults();
    sleep 12;
    is(inits_of($user->{open_id}), $before,
       '429: no init after the DELETE, past its retry time');
    is(scalar(tasks_of($user->{open_id})), 0, '429: never published');
}

# 2. waiting for a retry: PATCH takes it back (a later time), publish
# sends it now
{
    my ($prof, $user) = $t->add_sim_creator($sim);
    $sim->faults({ endpoint => 'video_init', action => 'status',
                   http_status => 429, code => 'rate_limit_exceeded',
                   count => -1, open_id => $user->{open_id} });

    my $id = create($prof, 'held by a 429, then changed');
    held_in_retry($id);

    my $r = $t->api(PATCH => "/api/posts/$id", {
        post => { body => 'changed while held',
                  scheduled_at => '2099-01-01T00:00:00Z' } });
    is($r->{status}, 200, 'PATCH of a post waiting for a retry: 200')
        or diag($r->{raw});
    is($r->{json}{status}, 'scheduled', 'PATCH: scheduled again');
    is($r->{json}{body}, 'changed while held', 'PATCH: the new caption');
    is($r->{json}{platforms}[0]{status}, 'pending', 'PATCH: platform pending');
    is($r->{json}{platforms}[0]{next_attempt_at}, undef,
       'PATCH: no retry time any more');

    my $before = inits_of($user->{open_id});
    $sim->clear_faults();
    sleep 12;
    is(inits_of($user->{open_id}), $before,
       'PATCH: no init before the new time');

    $r = $t->api(POST => "/api/posts/$id/publish");
    is($r->{status}, 200, 'publish of the changed post: 200')
        or diag($r->{raw});
    my $pl = wait_for($id, 60, sub { $_[0]{status} =~ /^(published|failed)$/ });
    is($pl->{status}, 'published', 'publish: published now');
    my @tasks = tasks_of($user->{open_id});
    is(scalar @tasks, 1, 'publish: one publish at TikTok');
    is($tasks[0]{post_info}{title}, 'changed while held',
       'publish: with the caption of the PATCH');
}

# 3. publish of a post waiting for a retry: 200, it goes at once
{
    my ($prof, $user) = $t->add_sim_creator($sim);
    $sim->faults({ endpoint => 'video_init', action => 'status',
                   http_status => 429, code => 'rate_limit_exceeded',
                   count => 2, open_id => $user->{open_id} });

    my $id = create($prof, 'held by a 429, then published now');
    held_in_retry($id);

    my $r = $t->api(POST => "/api/posts/$id/publish");
    is($r->{status}, 200, 'publish of a post waiting for a retry: 200')
        or diag($r->{raw});
    my $pl = wait_for($id, 60,
                      sub { $_[0]{status} =~ /^(published|failed)$/ });
    is($pl->{status}, 'published', 'publish now: published');
    is(scalar(tasks_of($user->{open_id})), 1, 'publish now: once');
}

# 4. tiktok_max_uploads 1: the second post waits for the upload slot
# (processing, nothing sent); DELETE answers 200 and it never goes,
# while the first one, uploading, answers 409 and says why
{
    my ($prof, $user) = $t->add_sim_creator($sim);
    $sim->faults({ endpoint => 'upload', action => 'delay', ms => 15000,
                   count => 1, open_id => $user->{open_id} });

    my $first = create($prof, 'uploading');
    my $pl = wait_for($first, 60, sub { defined $_[0]{publish_id} });
    ok(defined $pl->{publish_id}, 'slot: the first post is uploading');

    my $second = create($prof, 'waiting for the slot');
    my $third = create($prof, 'waiting for the slot, then changed');
    for my $id ($second, $third) {
        $pl = wait_for($id, 30, sub { $_[0]{status} eq 'processing' });
        is($pl->{status}, 'processing', 'slot: claimed, waiting');
        is($pl->{publish_id}, undef, 'slot: nothing sent to TikTok');
    }

    my $r = $t->api(DELETE => "/api/posts/$first");
    is($r->{status}, 409, 'slot: DELETE of the uploading post: 409');
    like($r->{json}{message} // '', qr/init was sent/,
         'slot: the 409 says why') or diag($r->{raw});
    $r = $t->api(PATCH => "/api/posts/$first", { post => { body => 'x' } });
    is($r->{status}, 409, 'slot: PATCH of the uploading post: 409');
    like($r->{json}{message} // '', qr/TikTok was already asked/,
         'slot: the PATCH 409 says why');

    $r = $t->api(DELETE => "/api/posts/$second");
    is($r->{status}, 200, 'slot: DELETE of the waiting post: 200')
        or diag($r->{raw});
    $r = $t->api(PATCH => "/api/posts/$third", {
        post => { body => 'changed while waiting for the slot',
                  scheduled_at => '2099-01-01T00:00:00Z' } });
    is($r->{status}, 200, 'slot: PATCH of the waiting post: 200')
        or diag($r->{raw});
    is($r->{json}{status}, 'scheduled', 'slot: PATCH: scheduled again');

    $pl = wait_for($first, 60, sub { $_[0]{status} =~ /^(published|failed)$/ });
    is($pl->{status}, 'published', 'slot: the first one published');
    sleep 8;
    my @tasks = tasks_of($user->{open_id});
    is(scalar @tasks, 1, 'slot: the deleted and the changed posts never went')
        or diag(explain([ map { $_->{post_info}{title} } @tasks ]));
    is(inits_of($user->{open_id}), 1, 'slot: one init in all');
    is(platform($third)->{status}, 'pending',
       'slot: the changed post waits for its new time');
}

$t->stop_scheduler();
$t->stop();
$sim->stop();

done_testing();
