#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# Hostile HTTP on raw sockets: malformed request lines and headers, huge
# headers, slow headers and bodies (slowloris, bounded in time), bodies
# longer or shorter than Content-Length, bad chunked framing, pipelined
# requests.  Each is answered or closed cleanly; meanwhile the API keeps
# answering other clients; no worker dies, nothing is logged at alert or
# above, and every post acknowledged is in the store.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Select;
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(sleep time);
use TT;

plan skip_all => 'no tiktok module built'
    unless -f "$TT::BUILD/nginx/objs/ngx_http_tiktok_module.so";

my $t = TT->new();
my $prof = $t->add_profile();
my $auth = "Authorization: Bearer $t->{key}\r\n";
my $post = qq({"post":{"body":"raw","draft":true},"profiles":["$prof"],)
         . qq("media":["https://cdn.example/a.mp4"],)
         . qq("platforms":{"tiktok":{"privacy_status":"SELF_ONLY"}}});
my $path = "/api/posts?profile_group_id=$t->{group}";
my $created = 0;

sub conn {
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$t->{port}",
                                  Timeout => 10) or die "connect: $!";
    $s->autoflush(1);
    return $s;
}

# everything the server sends until it closes or $secs pass quiet
sub read_all {
    my ($s, $secs) = @_;
    my $sel = IO::Select->new($s);
    my $got = '';
    my $end = time + ($secs || 5);
    while (time < $end) {
        last unless $sel->can_read(0.2) || time < $end - ($secs || 5) + 1
                                        || length $got == 0;
        next unless $sel->can_read(0);
        my $n = sysread($s, $got, 65536, length $got);
        last unless $n;
    }
    return $got;
}

# sends $req (pieces with pauses if an array), returns what came back
sub exchange {
    my ($req, $secs) = @_;
    my $s = conn();
    for my $piece (ref $req ? @$req : ($req)) {
        if ($piece =~ /^SLEEP (\S+)$/) {
            sleep($1);
            next;
        }
        local $SIG{PIPE} = 'IGNORE';
        syswrite($s, $piece) or last;
    }
    my $got = read_all($s, $secs);
    close $s;
    return $got;
}

sub statuses { return [ $_[0] =~ m{HTTP/1\.1 (\d{3}) }g ]; }

# the API answers: /api/health is a 503 here (no scheduler runs), but a
# JSON one from the module, not a dead worker
sub health_ok {
    my $r = $t->api(GET => '/api/health', key => undef);
    return ($r->{status} == 200 || $r->{status} == 503)
           && ref $r->{json} eq 'HASH' && exists $r->{json}{store};
}

sub answered_or_closed {
    my ($got, $want, $name) = @_;
    my $st = statuses($got);
    ok(!@$st || $st->[0] =~ $want, "$name: answered " .
       (@$st ? $st->[0] : 'nothing (closed)'));
    ok(health_ok(), "$name: the API still answers");
}

# 1. malformed request lines and headers
answered_or_closed(exchange("GARBAGE\r\n\r\n"), qr/^400$/,
                   'a request line of one word');
answered_or_closed(exchange("GET /api/health HTTP/9.9\r\nHost: a\r\n\r\n"),
                   qr/^(400|505)$/, 'HTTP/9.9');
answered_or_closed(exchange("GET /api/\0health HTTP/1.1\r\nHost: a\r\n\r\n"),
                   qr/^400$/, 'a NUL in the path');
answered_or_closed(exchange("GET /api/health HTTP/1.1\r\nHost: a\r\n"
                            . "Bad Header\r\n\r\n"), qr/^(200|400)$/,
                   'a header without a colon');
answered_or_closed(exchange("POST $path HTTP/1.1\r\nHost: a\r\n$auth"
                            . "Content-Type: application/json\r\n"
                            . "Content-Length: -5\r\n\r\n{}"), qr/^400$/,
                   'a negative Content-Length');
answered_or_closed(exchange("POST $path HTTP/1.1\r\nHost: a\r\n$auth"
                            . "Content-Type: application/json\r\n"
                            . "Content-Length: 12abc\r\n\r\n{}"), qr/^400$/,
                   'a Content-Length with letters');
answered_or_closed(exchange("POST $path HTTP/1.1\r\nHost: a\r\n$auth"
                            . "Content-Type: application/json\r\n"
                            . "Content-Length: 2\r\n"
                            . "Transfer-Encoding: chunked\r\n\r\n"
                            . "2\r\n{}\r\n0\r\n\r\n"), qr/^(400|422)$/,
                   'both Content-Length and chunked');

# 2. huge headers: one of 64 KB, and 2,000 small ones
answered_or_closed(exchange("GET /api/health HTTP/1.1\r\nHost: a\r\nX-Big: "
                            . ('x' x 65536) . "\r\n\r\n"), qr/^(400|431)$/,
                   'a 64 KB header');
answered_or_closed(exchange("GET /api/health HTTP/1.1\r\nHost: a\r\n"
                            . join('', map { "X-H$_: v\r\n" } 1 .. 2000)
                            . "\r\n"), qr/^(200|400|431)$/,
                   '2,000 headers');
answered_or_closed(exchange("GET /api/posts?" . ('a=1&' x 4000)
                            . " HTTP/1.1\r\nHost: a\r\n$auth\r\n"),
                   qr/^(400|414)$/, 'a 16 KB query string');

# 3. bodies longer or shorter than declared
{
    # shorter, then the client goes: no answer is owed, nothing is stored
    my $got = exchange(["POST $path HTTP/1.1\r\nHost: a\r\n$auth"
                        . "Content-Type: application/json\r\n"
                        . "Content-Length: " . (length($post) + 50)
                        . "\r\n\r\n$post"], 2);
    is_deeply(statuses($got), [], 'a body shorter than declared and the '
              . 'client gone: no answer');
    ok(health_ok(), 'the API still answers');

    # longer: the declared bytes are the request, the rest the next one
    $got = exchange("POST $path HTTP/1.1\r\nHost: a\r\n$auth"
                    . "Content-Type: application/json\r\n"
                    . "Content-Length: " . length($post) . "\r\n\r\n$post"
                    . "XYZ garbage\r\n\r\n");
    my $st = statuses($got);
    is($st->[0], 201, 'a body longer than declared: the declared part is '
       . 'the request (201)');
    $created++ if ($st->[0] || 0) == 201;
    ok(!defined $st->[1] || $st->[1] eq '400',
       'and the rest is a bad request or the connection closes');
}

# 4. bad chunked framing
for my $case (["ZZ\r\n{}\r\n0\r\n\r\n", 'a chunk size that is not hex'],
              ["ffffffffffffffffffff\r\n{}", 'a chunk size of 80 bits'],
              ["2\r\n{}XX0\r\n\r\n", 'a chunk without its CRLF'],
              ["-2\r\n{}\r\n0\r\n\r\n", 'a negative chunk size'])
{
    my ($body, $name) = @$case;
    answered_or_closed(exchange("POST $path HTTP/1.1\r\nHost: a\r\n$auth"
                                . "Content-Type: application/json\r\n"
                                . "Transfer-Encoding: chunked\r\n\r\n"
                                . $body), qr/^(400|413)$/, $name);
}

{
    # a good chunked body, in pieces of 7 bytes
    my $chunked = join('', map { sprintf("%x\r\n%s\r\n", length $_, $_) }
                       unpack('(a7)*', $post)) . "0\r\n\r\n";
    my $got = exchange("POST $path HTTP/1.1\r\nHost: a\r\n$auth"
                       . "Content-Type: application/json\r\n"
                       . "Transfer-Encoding: chunked\r\n\r\n$chunked");
    is(statuses($got)->[0], 201, 'a well-formed chunked body: 201');
    $created++ if (statuses($got)->[0] || 0) == 201;
}

# 5. slow clients (slowloris): headers a byte at a time, a body in
# trickles; the API answers others meanwhile, each within a second
{
    my @slow;
    for (1 .. 20) {
        my $s = conn();
        syswrite($s, "POST $path HTTP/1.1\r\nHost: a\r\n");
        push @slow, $s;
    }
    my ($worst, $ok) = (0, 1);
    for my $i (1 .. 10) {
        local $SIG{PIPE} = 'IGNORE';
        syswrite($_, "X-S$i: v\r\n") for @slow;
        my $t0 = time;
        $ok &&= health_ok();
        $worst = time - $t0 if time - $t0 > $worst;
        sleep(0.3);
    }
    ok($ok, 'with 20 clients sending headers slowly, the API answers');
    cmp_ok($worst, '<', 1, sprintf('each answer within a second (worst '
                                   . '%.3f s)', $worst));
    close $_ for @slow;

    # a body in trickles, then complete: it is taken
    my @pieces = ("POST $path HTTP/1.1\r\nHost: a\r\n$auth"
                  . "Content-Type: application/json\r\n"
                  . "Content-Length: " . length($post) . "\r\n\r\n");
    push @pieces, "SLEEP 0.05", $_ for unpack('(a16)*', $post);
    my $got = exchange(\@pieces);
    is(statuses($got)->[0], 201, 'a body sent 16 bytes at a time: 201');
    $created++ if (statuses($got)->[0] || 0) == 201;
}

# 6. pipelined requests: answered in order, on one connection
{
    # a keyed read (health is a 503 without a scheduler, after a while)
    my $one = "GET /api/posts?per_page=1&profile_group_id=$t->{group} "
            . "HTTP/1.1\r\nHost: a\r\n$auth\r\n";
    my $p = "POST $path HTTP/1.1\r\nHost: a\r\n$auth"
          . "Content-Type: application/json\r\n"
          . "Content-Length: " . length($post) . "\r\n\r\n$post";
    my $got = exchange($one . $p . $one . $p
                       . "GET /api/posts?per_page=1&profile_group_id="
                       . "$t->{group} HTTP/1.1\r\nHost: a\r\n$auth"
                       . "Connection: close\r\n\r\n");
    # health is the module's 503 here (no scheduler runs): either way an
    # answer of its own, in its place
    my @st = map { $_ == 503 ? 200 : $_ } @{ statuses($got) };
    is_deeply(\@st, [200, 201, 200, 201, 200],
              'five pipelined requests, answered in order');
    $created += grep { $_ == 201 } @{ statuses($got) };
}

# 7. every post acknowledged is in the store; nothing crashed
my $r = $t->api(GET => "/api/posts?profile_group_id=$t->{group}"
                . "&per_page=100");
is($r->{json}{total}, $created, "the $created posts acknowledged are "
   . 'stored, and no other');

my $log = $t->error_log();
unlike($log, qr/\[(alert|emerg|crit)\]/, 'no alert, crit or emerg in the '
       . 'error log');
unlike($log, qr/exited on signal|worker process \d+ exited/,
       'no worker exited');

done_testing();
