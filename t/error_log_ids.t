#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# Every error-log line nginx writes while serving a request of the API's
# server ends with ", request_id: <id>", the id its answer's X-Request-Id
# (and the access log's $request_id) carries: the module's own lines (a
# body over tiktok_body_limit, Content-Length or chunked; an export's
# start and end) and nginx's (client_max_body_size, a static file that is
# not there, limit_req, a client gone before its body ended, a bad
# chunked body), each request of a keep-alive connection its own id; the
# OAuth callback's lines leave its query string (TikTok's code) out; no
# API key or code in the log.

use strict;
use warnings;

use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(sleep time);

use lib 't/lib';
use TT;

my $BUILD = $TT::BUILD;

plan skip_all => 'no tiktok module built'
    unless -f "$BUILD/nginx/objs/ngx_http_tiktok_module.so";

# info: nginx logs a client gone or a bad chunked body at info
my $t = TT->new(log_level => 'info', extra_http => <<'END',
    tiktok_body_limit 4k;
    limit_req_zone $http_x_limit_me zone=tt_lim:1m rate=1r/m;
END
    extra_api => "limit_req zone=tt_lim burst=1 nodelay;\n"
               . "            limit_req_status 429;");

$SIG{PIPE} = 'IGNORE';
my $key = $t->{key};
my $host = "127.0.0.1:$t->{port}";

# sends $req on a new connection (half-closed after it unless $keep),
# returns every answer it reads: [{status, id, head}]
sub raw {
    my ($req, %o) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => $host, Proto => 'tcp')
        or die "connect: $!";
    syswrite($s, $req);
    shutdown($s, 1) unless $o{keep};
    my $buf = '';
    my $end = time + 10;
    while (time < $end) {
        my $rin = '';
        vec($rin, fileno($s), 1) = 1;
        next unless select(my $rout = $rin, undef, undef, 0.2);
        my $n = sysread($s, $buf, 65536, length $buf);
        last unless $n;
        last if $o{answers} && answers_done($buf, $o{answers});
    }
    close $s;
    my @a;
    while ($buf =~ m{(HTTP/1\.1 (\d{3}) .*?\r\n\r\n)}sg) {
        my ($head, $status) = ($1, $2);
        my ($id) = $head =~ /^X-Request-Id: (\S+)\r$/mi;
        push @a, { status => $status, id => $id, head => $head };
    }
    return @a;
}

# whether $n answers with Content-Length have all their bodies in $buf
sub answers_done {
    my ($buf, $n) = @_;
    my $count = 0;
    while ($buf =~ m{HTTP/1\.1 \d{3} .*?\r\n\r\n}sg) {
        my ($from, $to) = ($-[0], $+[0]);
        my ($len) = substr($buf, $from, $to - $from)
                    =~ /^Content-Length: (\d+)\r$/mi;
        return 0 unless defined $len && length($buf) >= $to + $len;
        pos($buf) = $to + $len;
        $count++;
    }
    return $count >= $n;
}

# the error-log lines matching $re, once one is there (nginx writes
# some when the connection closes)
sub lines {
    my ($re) = @_;
    my @l;
    for (1 .. 50) {
        @l = grep { /$re/ } split /\n/, $t->error_log();
        return @l if @l;
        sleep 0.1;
    }
    return @l;
}

sub id_of { my ($line) = @_; return ($line =~ /, request_id: ([0-9a-f]{32})$/)[0]; }

# the case: an answer with an id, a line of $re carrying that id, once
sub check {
    my ($what, $a, $re) = @_;
    like($a->{id} // '', qr/^[0-9a-f]{32}$/, "$what: X-Request-Id");
    my @l = lines($re);
    ok(scalar @l, "$what: logged") or return;
    my @mine = grep { (id_of($_) // '') eq ($a->{id} // '-') } @l;
    is(scalar @mine, scalar @l, "$what: the line carries the request's id")
        or diag(join("\n", @l));
    like($l[0], qr/, client: 127\.0\.0\.1, server: .*, request: ".*", host: ".*", request_id: /,
         "$what: after nginx's context");
}

my $CL = "Content-Type: application/json\r\nAuthorization: Bearer $key\r\n";

# 1. the module's 413, Content-Length over tiktok_body_limit
my ($a) = raw("POST /api/posts?case=big HTTP/1.1\r\nHost: x\r\n$CL"
              . "Content-Length: 100000\r\n\r\n");
is($a->{status}, 413, 'a body over tiktok_body_limit: 413');
check('413 (Content-Length)', $a,
      qr/client intended to send too large body: 100000 bytes, over tiktok_body_limit's 4096.*case=big/);

# 2. the same, chunked
my $chunk = 'x' x 3000;
($a) = raw("POST /api/posts?case=chunked HTTP/1.1\r\nHost: x\r\n$CL"
           . "Transfer-Encoding: chunked\r\n\r\n"
           . join('', map { sprintf("%x\r\n%s\r\n", length $chunk, $chunk) } 1 .. 3)
           . "0\r\n\r\n");
is($a->{status}, 413, 'a chunked body over the limit: 413');
check('413 (chunked)', $a,
      qr/client sent too large chunked body: 9000 bytes, over tiktok_body_limit's 4096.*case=chunked/);

# 3. nginx's own 413 (client_max_body_size, 1m, in another location)
($a) = raw("POST /index.html?case=nginx413 HTTP/1.1\r\nHost: x\r\n"
           . "Content-Length: 2000000\r\n\r\n");
is($a->{status}, 413, "nginx's own 413");
check("nginx's 413", $a,
      qr/client intended to send too large body: 2000000 bytes.*case=nginx413/);

# 4. a static file that is not there: nginx's open() failed
($a) = raw("GET /no-such-file.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
is($a->{status}, 404, 'a missing file: 404');
check('404', $a, qr{open\(\) ".*/no-such-file\.html" failed});

# 5. limit_req: the third request of a key in a minute is refused
my @st;
for my $i (1 .. 3) {
    ($a) = raw("GET /api/posts?case=limit$i HTTP/1.1\r\nHost: x\r\n"
               . "Authorization: Bearer $key\r\nX-Limit-Me: yes\r\n"
               . "Connection: close\r\n\r\n");
    push @st, $a->{status};
}
is("@st", '200 200 429', 'limit_req refuses the third');
check('limit_req', $a, qr/limiting requests, excess: .*case=limit3/);

# 6. a bad chunked body
($a) = raw("POST /api/posts?case=badchunk HTTP/1.1\r\nHost: x\r\n$CL"
           . "Transfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n");
is($a->{status}, 400, 'a bad chunked body: 400');
check('bad chunked body', $a, qr/client sent invalid chunked body.*case=badchunk/);

# 7. a client gone before its body ended: no answer, the access log has
# its id
raw("POST /api/posts?case=gone HTTP/1.1\r\nHost: x\r\n$CL"
    . "Content-Length: 1000\r\n\r\n{\"post\":");
my ($acc) = grep { /case=gone/ } split /\n/, TT::read_file("$t->{dir}/access.log");
for (1 .. 50) {
    last if $acc;
    sleep 0.1;
    ($acc) = grep { /case=gone/ } split /\n/, TT::read_file("$t->{dir}/access.log");
}
my ($gone_id) = ($acc // '') =~ / ([0-9a-f]{32})$/;
ok($gone_id, 'the access log has the request id of the client gone');
check('client gone', { id => $gone_id },
      qr/client prematurely closed connection.*case=gone/);

# 8. the module's own lines: an export's start and end
($a) = raw("GET /api/export?case=export HTTP/1.1\r\nHost: x\r\n"
           . "Authorization: Bearer $key\r\nConnection: close\r\n\r\n");
is($a->{status}, 200, 'an export');
check('export started', $a, qr/tiktok export of workspace "\w+" started/);
check('export done', $a, qr/tiktok export done/);

# 9. keep-alive: two requests on one connection, each its own id
my @two = raw("GET /gone-one.html HTTP/1.1\r\nHost: x\r\n\r\n"
              . "GET /gone-two.html HTTP/1.1\r\nHost: x\r\n\r\n",
              keep => 1, answers => 2);
is(scalar @two, 2, 'keep-alive: two answers on one connection');
isnt($two[0]{id} // '', $two[1]{id} // '', 'keep-alive: two ids');
check('keep-alive, first', $two[0], qr{open\(\) ".*/gone-one\.html" failed});
check('keep-alive, second', $two[1], qr{open\(\) ".*/gone-two\.html" failed});

# 10. the OAuth callback: its line leaves the query (TikTok's code) out
my $code = 'code-' . unpack('H*', TT::random_bytes(16));
($a) = raw("GET /tiktok/callback?code=$code&state=abc HTTP/1.1\r\nHost: x\r\n"
           . "Content-Length: 2000000\r\n\r\n");
is($a->{status}, 413, 'a callback with a big body: 413');
check('callback', $a,
      qr{too large body: 2000000 bytes.*request: "GET /tiktok/callback HTTP/1\.1"});

# no secret: the API key, the code
my $log = $t->error_log();
ok(index($log, $key) < 0, 'no API key in the error log');
ok(index($log, $code) < 0, "no TikTok code in the error log");
# and no line of a request without its id
my @orphans = grep { /, request: "/ && !/, request_id: [0-9a-f]{32}$/ }
              split /\n/, $log;
is(scalar @orphans, 0, 'every line of a request carries its id')
    or diag(join("\n", @orphans));

$t->stop();
done_testing();
