#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# A batch commits, then syncs LMDB's meta page with the writers' lock let
# go (ngx_http_tiktok_write.c).  When that second sync fails, the write is
# committed (others may read it already) but not known to be on disk: its
# client gets a 500 that says the write may have been stored and to retry
# with the same Idempotency-Key, and that retry answers the first one's
# post, never a second.  strace fails every second fdatasync of the
# worker (the meta page's; the first is the commit's own).  Needs ptrace:
# skipped where strace cannot attach.

use strict;
use warnings;

use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);

use lib 't/lib';
use TT;

plan skip_all => 'no tiktok module built'
    unless -f "$TT::BUILD/nginx/objs/ngx_http_tiktok_module.so";
plan skip_all => 'no strace' if system('strace -V >/dev/null 2>&1');

my $t = TT->new(workers => 1);
$t->add_profile();

sub post {
    my ($key) = @_;
    return $t->api(POST => '/api/posts', {
        post => { body => "unsynced $key", draft => JSON::PP::true },
        profiles => ['tiktok'], media => ['https://cdn.example/v.mp4'],
        platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } },
        headers => { 'Idempotency-Key' => $key });
}

is(post('warm')->{status}, 201, 'a post before: 201');

my @workers = split ' ', `ps -o pid= --ppid $t->{nginx_pid}`;
my $strace = fork() // die "fork: $!";
if ($strace == 0) {
    exec('strace', '-f', '-qq', '-o', '/dev/null', '-e', 'trace=fdatasync',
         '-e', 'inject=fdatasync:error=EIO:when=2+2',
         map { ('-p', $_) } @workers) or POSIX::_exit(127);
}
my $traced = 0;
for (my $end = time + 10; !$traced && time < $end; sleep 0.1) {
    my @tasks = map { glob("/proc/$_/task/*") } @workers;
    $traced = @tasks && !grep {
        TT::read_file("$_/status") !~ /^TracerPid:\s*[1-9]/m } @tasks;
}

SKIP: {
    skip 'strace cannot attach to the worker here', 4 unless $traced;

    my $r = post('k1');
    is($r->{status}, 500, 'the meta page did not sync: 500');
    like($r->{raw}, qr/may have been stored.*same Idempotency-Key/,
         'saying the write may have been stored') or diag($r->{raw});

    kill 'TERM', $strace;
    waitpid($strace, 0);
    $strace = 0;

    my $again = post('k1');
    is($again->{status}, 201, 'the retry with the same key: 201')
        or diag($again->{raw});
    my $list = $t->api(GET => '/api/posts?per_page=100');
    my @mine = grep { $_->{body} eq 'unsynced k1' } @{ $list->{json}{data} };
    is(scalar @mine, 1, 'one post for the two tries');
}

if ($strace) {
    kill 'TERM', $strace;
    waitpid($strace, 0);
}

like($t->error_log(), qr/committed but not synced to disk/,
     'the log says what happened') if $traced;
$t->{stopped} = 1;
$t->stop_nginx();
done_testing();
