#!/usr/bin/perl

# Tests for bad input: every error is a clear JSON answer, and nothing is
# stored half-way.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use TT;

my $t = TT->new(extra_http => 'tiktok_body_limit 64k;');
$t->add_profile();

my %ok = (
    post => { body => 'hello', scheduled_at => '2030-01-01T00:00:00Z' },
    profiles => ['tiktok'], media => ['https://cdn.example/v.mp4'],
    platforms => { tiktok => { privacy_status => 'SELF_ONLY' } },
);

sub total { return $t->api(GET => '/api/posts')->{json}{total}; }

# authentication
my $r = $t->api(GET => '/api/posts', key => undef);
is($r->{status}, 401, 'no key');
is_deeply($r->{json}, { error => 'Invalid API key' }, '401 shape');
is($t->api(GET => '/api/posts', key => 'tt_nope')->{status}, 401, 'bad key');
is($t->api(GET => '/api/posts', headers => { Authorization => 'Basic x' },
           key => undef)->{status}, 401, 'wrong scheme');

# routing
$r = $t->api(GET => '/api/nothing');
is($r->{status}, 404, 'unknown path');
is_deeply($r->{json}, { error => 'Not found' }, '404 shape');
is($t->api(GET => '/api/posts/p_doesnotexist00000000')->{status}, 404,
   'unknown id');
$r = $t->api(PUT => '/api/posts', {});
is($r->{status}, 405, 'wrong method');
is($r->{headers}{allow}, 'GET, HEAD, POST', '405 says what is allowed');
# no scheduler runs here: 503 (metrics.t), but never a 401
is($t->api(GET => '/api/health', key => undef)->{json}{status},
   'unavailable', 'health needs no key');

# malformed JSON: 400 saying where
$r = $t->api(POST => '/api/posts', raw => '{"post": {"body": "x",}}');
is($r->{status}, 400, 'malformed JSON');
is($r->{json}{error}, 'Bad Request', '400 shape');
like($r->{json}{message}, qr/byte \d+/, 'says where it broke');

$r = $t->api(POST => '/api/posts', raw => '{"post": ');
is($r->{status}, 400, 'truncated JSON');

$r = $t->api(POST => '/api/posts', raw => '[' x 64 . ']' x 64);
is($r->{status}, 400, 'nesting too deep');
like($r->{json}{message}, qr/deep/i, 'says nesting');

$r = $t->api(POST => '/api/posts', raw => "{\"post\": {\"body\": \"\xff\xfe\"}}");
is($r->{status}, 400, 'invalid UTF-8');
like($r->{json}{message}, qr/UTF-8/i, 'says UTF-8');

$r = $t->api(POST => '/api/posts', raw => '');
is($r->{status}, 400, 'empty body');

# not JSON, too large
is($t->api(POST => '/api/posts', \%ok, content_type => 'text/plain')
     ->{status}, 415, 'text/plain is 415');
is($t->api(POST => '/api/posts', \%ok, content_type => undef)->{status},
   415, 'no Content-Type is 415');
is($t->api(POST => '/api/posts', \%ok,
           content_type => 'application/json; charset=utf-8')->{status},
   201, 'charset parameter is fine');

$r = $t->api(POST => '/api/posts', { %ok, post => { body => 'x' x 70000 } });
is($r->{status}, 413, 'body over tiktok_body_limit');
is($r->{json}{status}, 413, '413 shape');

# a chunked body (no Content-Length): within the limit it is read, past it
# the rest is dropped as it arrives, nothing lands in a temporary file,
# and the answer is the same JSON 413
my $spilled = 0;      # the most bytes seen in temporary body files

sub chunked {
    my ($total, $piece) = @_;
    my $json = JSON::PP->new->canonical->encode(
        { %ok, post => { body => 'x' x ($total - 200) } });
    my @parts = unpack('(a' . ($piece // 16384) . ')*', $json);
    my $n = 0;
    my $http = HTTP::Tiny->new(timeout => 30, keep_alive => 0);
    return $http->request(POST => $t->url('/api/posts'), {
        headers => { Authorization => "Bearer $t->{key}",
                     'Content-Type' => 'application/json' },
        content => sub {
            if (!$piece && ++$n % 64 == 0) {
                select(undef, undef, undef, 0.1);
                my $sum = 0;
                # nginx unlinks its body files at once: find them open
                for my $fd (glob('/proc/[0-9]*/fd/*')) {
                    my $to = readlink($fd) // next;
                    $sum += -s $fd // 0
                        if index($to, "$t->{dir}/tmp/body/") == 0;
                }
                $spilled = $sum if $sum > $spilled;
            }
            return shift @parts;
        } });
}

$r = chunked(60000);
is($r->{status}, 422, 'chunked within the limit: read and checked')
    or diag($r->{content});
$r = chunked(60000, 32);
is($r->{status}, 422, 'chunked within the limit, in 32-byte chunks')
    or diag($r->{content});
$r = chunked(8 * 1024 * 1024);
is($r->{status}, 413, 'chunked over the limit: 413');
like($r->{content}, qr/"status":413/, 'chunked over the limit: JSON');
ok($spilled <= 65536, "at most the limit in a temporary file ($spilled)");
is(scalar(my @left = grep { -f } glob("$t->{dir}/tmp/body/*")), 0,
   'no temporary body file left');

# validation: every failing rule at once
$r = $t->api(POST => '/api/posts', {
    post => { body => 'x' x 2201, scheduled_at => 'tomorrow', draft => 'no' },
    profiles => ['tiktok'], media => ['ftp://x/y.mp4'],
    platforms => { tiktok => { privacy_status => 'EVERYONE' } } });
is($r->{status}, 422, 'validation 422');
my @e = @{ $r->{json}{errors} || [] };
ok(scalar(grep { /post\.body/ } @e), 'caption too long named');
ok(scalar(grep { /post\.scheduled_at/ } @e), 'bad time named');
ok(scalar(grep { /post\.draft/ } @e), 'bad boolean named');
ok(scalar(grep { /media\[0\]/ } @e), 'bad URL named');
ok(scalar(grep { /privacy_status/ } @e), 'bad enum named');
cmp_ok(scalar @e, '>=', 5, 'all rules at once');

$r = $t->api(POST => '/api/posts', { %ok, platforms => { tiktok => {} } });
is($r->{status}, 422, 'privacy_status missing');
like("@{$r->{json}{errors}}", qr/privacy_status is required/, 'required');

# 2,200 UTF-16 units: an emoji counts two
my $emoji = "\x{1F600}";
$r = $t->api(POST => '/api/posts',
             { %ok, post => { body => $emoji x 1100 } });
is($r->{status}, 201, '1,100 emoji are 2,200 units');
$r = $t->api(POST => '/api/posts',
             { %ok, post => { body => $emoji x 1100 . 'x' } });
is($r->{status}, 422, '2,201 units refused');

$r = $t->api(POST => '/api/posts', { %ok,
    platforms => { tiktok => { privacy_status => 'SELF_ONLY',
                               format => 'image', photo_cover_index => 1 } } });
is($r->{status}, 422, 'cover index out of range');

$r = $t->api(POST => '/api/posts', { %ok,
    media => [map { "https://c.example/$_.jpg" } 1 .. 36],
    platforms => { tiktok => { privacy_status => 'SELF_ONLY',
                               format => 'image' } } });
is($r->{status}, 422, '36 images refused');

$r = $t->api(POST => '/api/posts', { %ok,
    media => ['https://c.example/a.mp4', 'https://c.example/b.mp4'] });
is($r->{status}, 422, 'two videos refused');

$r = $t->api(POST => '/api/posts', { %ok, queue_id => 'q_x' });
is($r->{status}, 422, 'scheduled_at with queue_id');

$r = $t->api(POST => '/api/posts', { %ok, profiles => ['prof_notmine'] });
is($r->{status}, 422, 'unknown profile');

my $before = total();
is($before, 2, 'only the valid posts were stored');

# idempotency
my %h = (headers => { 'Idempotency-Key' => 'abc-1' });
$r = $t->api(POST => '/api/posts', \%ok, %h);
is($r->{status}, 201, 'first with a key');
my $again = $t->api(POST => '/api/posts', \%ok, %h);
is($again->{status}, 201, 'replay status');
is($again->{json}{id}, $r->{json}{id}, 'replay body');
is($again->{headers}{'idempotent-replayed'}, 'true', 'marked as a replay');
is(total(), $before + 1, 'stored once');

$r = $t->api(POST => '/api/posts', { %ok, post => { body => 'other' } }, %h);
is($r->{status}, 422, 'same key, other body');

$r = $t->api(POST => '/api/posts', { %ok, platforms => {} },
             headers => { 'Idempotency-Key' => 'abc-2' });
is($r->{status}, 422, 'an error');
$r = $t->api(POST => '/api/posts', \%ok,
             headers => { 'Idempotency-Key' => 'abc-2' });
is($r->{status}, 201, 'errors are not stored: the retry runs');

is($t->api(POST => '/api/posts', \%ok,
           headers => { 'Idempotency-Key' => 'k' x 256 })->{status},
   400, 'key over 255 characters');

# the same key from many clients at once: one runs, the others get the
# 409 of a request still in flight or, once it committed, its replay
{
    my $n = 24;
    my $body = { %ok, post => { body => 'concurrent' } };
    my @kids;
    for my $i (1 .. $n) {
        pipe(my $rd, my $wr) or die "pipe: $!";
        my $pid = fork() // die "fork: $!";
        if ($pid == 0) {
            close $rd;
            my $res = $t->api(POST => '/api/posts', $body,
                              headers => { 'Idempotency-Key' => 'race-1' });
            print $wr join("\t", $res->{status}, $res->{json}{id} // '',
                           $res->{json}{error} // '',
                           $res->{headers}{'x-request-id'} // ''), "\n";
            close $wr;
            POSIX::_exit(0);
        }
        close $wr;
        push @kids, [$pid, $rd];
    }
    my (%status, %ids, $conflict);
    for my $k (@kids) {
        my $fh = $k->[1];
        my ($st, $id, $err, $rid) = split /\t/, scalar(<$fh>) // '', -1;
        waitpid $k->[0], 0;
        $status{$st // 'none'}++;
        $ids{$id}++ if $st && $st == 201;
        $conflict = $err if $st && $st == 409;
    }
    is(join(',', grep { $_ ne '201' && $_ ne '409' } keys %status), '',
       'concurrent same key: only 201s and 409s')
        or diag(explain(\%status));
    is(scalar keys %ids, 1, 'concurrent same key: every 201 is the one post');
    is(scalar(grep { $_->{body} eq 'concurrent' }
              @{ $t->api(GET => '/api/posts?per_page=100')->{json}{data} }),
       1, 'concurrent same key: stored once');
    diag("concurrent same key: " . join(' ', map { "$_ x$status{$_}" }
                                        sort keys %status));
    # whether any came depends on timing: when one did, it is the API's
    ok(!defined $conflict || $conflict eq 'Conflict',
       'every 409 that came has the error shape');
}

# every answer carries X-Request-Id, nginx's own errors too, and those
# are JSON in the API's shapes
{
    my %seen;
    for my $r ($t->api(GET => '/api/posts', key => undef),
               $t->api(GET => '/api/nothing'),
               $t->api(PUT => '/api/posts', {}),
               $t->api(POST => '/api/posts', raw => '{'),
               $t->api(POST => '/api/posts', raw => 'x' x 70000),
               $t->api(POST => '/api/posts', raw => '{}',
                       content_type => 'text/plain'),
               $t->api(POST => '/api/posts', {}),
               $t->api(GET => '/api/health', key => undef))
    {
        like($r->{headers}{'x-request-id'} // '', qr/^[0-9a-f]{32}$/,
             "X-Request-Id on a $r->{status}");
        $seen{ $r->{headers}{'x-request-id'} // '' }++;
    }
    is(scalar keys %seen, 8, 'a new id each time');

    my $last = (sort keys %seen)[0];
    like(TT::read_file("$t->{dir}/access.log"), qr/\Q$last\E/,
         'the access log names the id');

    # the module makes the ids (not nginx's RAND_bytes): none twice over
    # both workers and a reload, whose new workers draw new keys
    my %ids;
    my $n = 0;
    for my $round (1, 2) {
        for (1 .. 150) {
            my $id = $t->api(GET => '/api/health', key => undef)
                       ->{headers}{'x-request-id'} // '';
            $ids{$id}++ if $id =~ /^[0-9a-f]{32}$/;
            $n++;
        }
        next if $round == 2;
        my $master = TT::read_file("$t->{dir}/nginx.pid");
        chomp $master;
        my $before = () = $t->error_log() =~ /gracefully shutting down/g;
        kill 'HUP', $master;
        for (my $end = time + 10; time < $end; sleep 0.05) {
            my $now = () = $t->error_log() =~ /gracefully shutting down/g;
            last if $now >= $before + 2;
        }
    }
    is(scalar keys %ids, $n, "$n ids, each well formed and unique");

    # made by more than one worker: the access log names each id's
    my %pids;
    for (split /\n/, TT::read_file("$t->{dir}/access.log")) {
        $pids{$1}++ if / (\d+) ([0-9a-f]{32})$/ && $ids{$2};
    }
    cmp_ok(scalar keys %pids, '>=', 2,
           'the ids came from ' . (scalar keys %pids) . ' workers');

    my @raw = (
        [ "TRACE /api/posts HTTP/1.1\r\nHost: t\r\n\r\n", 405 ],
        [ "POST /api/posts HTTP/1.1\r\nHost: t\r\nContent-Type: "
          . "application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
          400 ],
        [ "GET /api/" . ('a' x 9000) . " HTTP/1.1\r\nHost: t\r\n\r\n", 414 ],
        [ "GET /api/posts HTTP/1.1\r\nHost: t\r\nX-Big: " . ('b' x 20000)
          . "\r\n\r\n", 400 ],
    );
    for my $case (@raw) {
        my ($req, $want) = @$case;
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$t->{port}",
                                      Timeout => 10) or die "connect: $!";
        $req =~ s/\r\n\r\n/\r\nConnection: close\r\n\r\n/;
        print $s $req;
        local $/;
        my $a = <$s> // '';
        close $s;
        my ($head, $body) = split /\r\n\r\n/, $a, 2;
        my ($st) = $head =~ m{^HTTP/1\.1 (\d+)};
        my $what = substr($req, 0, index($req, ' ') + 12);
        is($st, $want, "nginx's own $want ($what...)");
        like($head, qr/^X-Request-Id: [0-9a-f]{32}\r?$/mi,
             "nginx's own $want has X-Request-Id");
        like($head, qr{^Content-Type: application/json}mi,
             "nginx's own $want is JSON");
        my $j = eval { JSON::PP->new->decode($body // '') };
        is($j && $j->{status}, $want, "nginx's own $want in the API's shape")
            or diag($body);
    }
}

# the HTTP edges, each with a clear JSON error
{
    sub exchange {
        my ($req) = @_;
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$t->{port}",
                                      Timeout => 10) or die "connect: $!";
        print $s $req;
        local $/;
        my $a = <$s> // '';
        close $s;
        return $a;
    }

    # Expect: 100-continue for a body over the limit: 413 at once
    my $a = exchange("POST /api/posts HTTP/1.1\r\nHost: t\r\n"
                     . "Authorization: Bearer $t->{key}\r\n"
                     . "Content-Type: application/json\r\n"
                     . "Content-Length: 100000\r\n"
                     . "Expect: 100-continue\r\n\r\n");
    like($a, qr{^HTTP/1\.1 413 }, 'Expect: 100-continue over the limit: '
                                  . '413, no 100 Continue first')
        or diag(substr($a, 0, 200));
    like($a, qr/65536 bytes \(tiktok_body_limit\)/,
         'the 413 names the limit and tiktok_body_limit');

    # within the limit, the client is told to go on
    $a = exchange("POST /api/posts HTTP/1.1\r\nHost: t\r\n"
                  . "Authorization: Bearer $t->{key}\r\n"
                  . "Content-Type: application/json\r\n"
                  . "Connection: close\r\nContent-Length: 2\r\n"
                  . "Expect: 100-continue\r\n\r\n{}");
    like($a, qr{^HTTP/1\.1 100 Continue\r\n\r\nHTTP/1\.1 422 },
         'Expect: 100-continue within the limit: 100, then the answer');

    $r = $t->api(POST => '/api/posts', { %ok, post => { body => 'x' x 70000 } });
    is($r->{status}, 413, 'over tiktok_body_limit');
    like($r->{json}{message}, qr/65536 bytes \(tiktok_body_limit\)/,
         'a 413 names the limit and the directive');
    $r = chunked(8 * 1024 * 1024);
    like($r->{content}, qr/65536 bytes \(tiktok_body_limit\)/,
         'a chunked 413 too');

    # two Idempotency-Key headers, as two Authorization
    my $before = total();
    $r = $t->api(POST => '/api/posts', \%ok,
                 headers => { 'Idempotency-Key' => ['a-1', 'a-2'] });
    is($r->{status}, 400, 'two Idempotency-Key headers: 400');
    like($r->{json}{message} // '', qr/two Idempotency-Key/,
         'the 400 says why');
    is(total(), $before, 'nothing stored');

    # a query parameter given twice, and a + that arrived as a space
    $r = $t->api(GET => '/api/posts?per_page=10&per_page=abc');
    is($r->{status}, 400, 'per_page twice: 400');
    like($r->{json}{message} // '', qr/per_page is given more than once/,
         'the 400 names the parameter');
    $r = $t->api(GET => '/api/posts?status=draft&st%61tus=failed');
    is($r->{status}, 400, 'a repeat however it is encoded');
    is($t->api(GET => '/api/posts?per_page=10&page=0')->{status}, 200,
       'distinct parameters are fine');

    $r = $t->api(GET => '/api/posts?scheduled_after=2026-05-12T09:00:00+02:00');
    is($r->{status}, 422, 'an offset whose + arrived as a space: 422');
    like(($r->{json}{errors} || [])->[0] // '', qr/send it as %2B/,
         'the 422 says to send %2B');
    is($t->api(GET => '/api/posts?scheduled_after=2026-05-12T09:00:00%2B02:00')
           ->{status}, 200, 'with %2B it is read');

    # headers too large say so
    $a = exchange("GET /api/posts HTTP/1.1\r\nHost: t\r\nX-Big: "
                  . ('b' x 20000) . "\r\nConnection: close\r\n\r\n");
    like($a, qr{^HTTP/1\.1 400 }, 'headers too large: 400');
    like($a, qr/headers are too large/, 'and the message says so');
    $a = exchange("GET /api/posts HTTP/1.1\r\nHost: t\r\nX-Bad: a\0b\r\n"
                  . "Connection: close\r\n\r\n");
    like($a, qr/the request is malformed/, 'a malformed header is not that');
}

$t->stop();
done_testing();
