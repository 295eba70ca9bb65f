#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# HTTP edges of the API's own refusals and of the errors nginx answers
# itself, on raw sockets.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Select;
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(time);
use TT;

plan skip_all => 'no tiktok module built'
    unless -f "$TT::BUILD/nginx/objs/ngx_http_tiktok_module.so";

my $t = TT->new();

# sends $req; returns what came back: the first answer whole (its head and
# Content-Length bytes of body), or what came within 5 seconds
sub first_answer {
    my ($req) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$t->{port}",
                                  Timeout => 10) or die "connect: $!";
    $s->autoflush(1);
    print $s $req;
    my $sel = IO::Select->new($s);
    my $got = '';
    for (my $end = time + 5; time < $end; ) {
        last unless $sel->can_read(0.2) || length $got == 0;
        my $n = sysread($s, $got, 65536, length $got);
        last unless $n;
        # a "100 Continue" is an answer of its own, then the final one
        my $final = $got;
        $final =~ s{^HTTP/1\.1 100 Continue\r\n\r\n}{};
        my ($head, $body) = split /\r\n\r\n/, $final, 2;
        next unless defined $body;
        my ($len) = $head =~ /^Content-Length: (\d+)/mi;
        last if defined $len && length($body) >= $len;
    }
    close $s;
    return $got;
}

my $head = "Host: t\r\nAuthorization: Bearer $t->{key}\r\n"
           . "Expect: 100-continue\r\nContent-Length: 2\r\n";

# refused before the body: the answer at once, no "100 Continue" first
my $a = first_answer("POST /api/posts HTTP/1.1\r\n$head"
                     . "Content-Type: text/plain\r\n\r\n");
like($a, qr{^HTTP/1\.1 415 }, 'Expect with a wrong Content-Type: 415 at '
                              . 'once, no 100 Continue first')
    or diag(substr($a, 0, 200));
like($a, qr/must be application\/json/, 'the 415 says why');

$a = first_answer("POST /api/posts HTTP/1.1\r\n$head"
                  . "Content-Type: application/json\r\n"
                  . "Idempotency-Key: k-1\r\nIdempotency-Key: k-2\r\n\r\n");
like($a, qr{^HTTP/1\.1 400 }, 'Expect with two Idempotency-Key headers: '
                              . '400 at once, no 100 Continue first')
    or diag(substr($a, 0, 200));
like($a, qr/two Idempotency-Key/, 'the 400 says why');

# a body that is read: the client is told to go on
$a = first_answer("POST /api/posts HTTP/1.1\r\n$head"
                  . "Content-Type: application/json\r\n\r\n");
like($a, qr{^HTTP/1\.1 100 Continue\r\n\r\n},
     'Expect with a body that is read: 100 Continue');

# headers too large (nginx's 494, sent as a 400) say so
$a = first_answer("GET /api/posts HTTP/1.1\r\nHost: t\r\nX-Big: "
                  . ('b' x 20000) . "\r\nConnection: close\r\n\r\n");
like($a, qr{^HTTP/1\.1 400 }, 'headers too large: 400');
like($a, qr/headers are too large/, 'and the message says so');

# a chunked body whose start fills the 1k header buffer to the byte,
# every byte of it parsed, and that goes bad in the next read: a 400 that
# leaves the buffer as full as a 494 does, and is not one
my $req = "POST /api/posts HTTP/1.1\r\nHost: t\r\n"
          . "Authorization: Bearer $t->{key}\r\n"
          . "Content-Type: application/json\r\n"
          . "Transfer-Encoding: chunked\r\nConnection: close\r\nX-Pad: ";
my $chunk = "\r\n\r\n5\r\n{\"a\":\r\n";
$req .= 'p' x (1024 - length($req) - length($chunk)) . $chunk;
is(length $req, 1024, 'the first part is 1024 bytes');
{
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$t->{port}",
                                  Timeout => 10) or die "connect: $!";
    $s->autoflush(1);
    print $s $req;
    # nginx has read and parsed all of it (the answer waits for more)
    my $sel = IO::Select->new($s);
    ok(!$sel->can_read(0.5), 'no answer before the rest');
    print $s "zz\r\n";
    local $/;
    $a = <$s> // '';
    close $s;
}
like($a, qr{^HTTP/1\.1 400 }, 'a malformed chunked body: 400')
    or diag(substr($a, 0, 200));
like($a, qr/the request is malformed/, 'which says malformed, not too large');

$t->stop();

done_testing();
