#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# Clients that leave while their write waits in the batch.  nginx frees a
# request it gives up on at once (here: a DELETE whose chunked body, being
# discarded, turns out malformed), even with its write queued or running
# in the thread pool.  The write of a request freed while queued never
# runs; one freed while running commits and is not answered; a client
# that merely closed its socket is written to in vain.  None of it touches
# freed memory: glibc.malloc.perturb fills freed memory with a pattern,
# so that a use of it crashes the worker ("exited on signal 11").
#
# The batch is made to wait by another process holding LMDB's write lock:
# mdb_load (lmdb-utils) begins its transaction once it has read a header,
# and ends it when its input ends.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(sleep);
use TT;

plan skip_all => 'no tiktok module built'
    unless -f "$TT::BUILD/nginx/objs/ngx_http_tiktok_module.so";
plan skip_all => 'no mdb_load (lmdb-utils)'
    unless grep { -x "$_/mdb_load" } split /:/, $ENV{PATH};

local $ENV{GLIBC_TUNABLES} = 'glibc.malloc.perturb=165';

# one worker: every request below meets the same batch
my $t = TT->new(workers => 1);
$t->add_profile();

my %post = (post => { body => 'x', draft => JSON::PP::true },
            profiles => ['tiktok'], media => ['https://cdn.example/v.mp4'],
            platforms => { tiktok => { privacy_status => 'SELF_ONLY' } });

my @ids = map { $t->api(POST => '/api/posts',
                        { %post, post => { body => "victim $_",
                                           draft => JSON::PP::true } })
                   ->{json}{id} } 1 .. 3;
is(scalar(grep { defined } @ids), 3, 'three posts to delete');

sub connect_nginx {
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$t->{port}",
                                  Timeout => 10) or die "connect: $!";
    return $s;
}

# a DELETE with a chunked body, its end yet to come
sub delete_chunked {
    my ($id) = @_;
    my $s = connect_nginx();
    $s->autoflush(1);
    print $s "DELETE /api/posts/$id HTTP/1.1\r\nHost: t\r\n"
             . "Authorization: Bearer $t->{key}\r\n"
             . "Transfer-Encoding: chunked\r\n\r\n";
    return $s;
}

sub answer {
    my ($s) = @_;
    local $/;
    my $a = <$s> // '';
    close $s;
    return $a;
}

# the write lock, held
open(my $lock, '|-', 'mdb_load', '-s', 'meta', $t->{store})
    or die "mdb_load: $!";
$lock->autoflush(1);
print $lock "VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n";
sleep 0.5;

# A runs in the thread (blocked on the lock), B and C wait for the next
# batch, D posts and closes its socket at once, E posts and waits
my $a = delete_chunked($ids[0]);
sleep 0.3;
my $b = delete_chunked($ids[1]);

my $json = $TT::JSON->encode({ %post, post => { body => 'gone',
                                                draft => JSON::PP::true } });
my $d = connect_nginx();
print $d "POST /api/posts HTTP/1.1\r\nHost: t\r\n"
         . "Authorization: Bearer $t->{key}\r\n"
         . "Content-Type: application/json\r\n"
         . "Content-Length: " . length($json) . "\r\n\r\n$json";
my $e = connect_nginx();
$json = $TT::JSON->encode({ %post, post => { body => 'waits',
                                             draft => JSON::PP::true } });
print $e "POST /api/posts HTTP/1.1\r\nHost: t\r\n"
         . "Authorization: Bearer $t->{key}\r\n"
         . "Content-Type: application/json\r\nConnection: close\r\n"
         . "Content-Length: " . length($json) . "\r\n\r\n$json";
sleep 0.3;
close $d;

# A's and B's bodies go bad: nginx frees both requests
print $a "zz\r\n";
print $b "zz\r\n";
is(answer($a), '', 'A (running) is closed unanswered');
is(answer($b), '', 'B (queued) is closed unanswered');

# the lock goes, the batch runs
close $lock;

my $reply = answer($e);
like($reply, qr{^HTTP/1\.1 201 }, 'E, still there, is answered 201')
    or diag(substr($reply, 0, 300));

# (no scheduler runs here: health's 503 body, still an answer)
is($t->api(GET => '/api/health')->{json}{store}{writable}, 1,
   'the worker answers');
is($t->api(GET => "/api/posts/$ids[0]")->{status}, 404,
   "A's delete, running when its client left, committed");
is($t->api(GET => "/api/posts/$ids[1]")->{status}, 200,
   "B's delete, queued when its client left, never ran");
is($t->api(GET => "/api/posts/$ids[2]")->{status}, 200, 'the third stays');

my $list = $t->api(GET => '/api/posts?per_page=100')->{json}{data} || [];
is(scalar(grep { ($_->{body} // '') eq 'gone' } @$list), 1,
   "D's post, whose client closed, committed once");

my $log = $t->error_log();
unlike($log, qr/exited on signal/, 'no worker crashed');

$t->stop();

done_testing();
