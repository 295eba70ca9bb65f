#!/usr/bin/perl

# The API's own rate limit: nginx's limit_req keyed by $tiktok_api_key_id,
# as README.md configures it.  A burst over the limit is answered 429 in
# the API's JSON shape with Retry-After; the limit is per key (another key
# goes on); the id is a hash prefix, never the key.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Digest::SHA qw(sha256_hex);
use Test::More;
use TT;

# one request a minute and a burst of 2, without delay: the 4th request
# of a key within the test is refused, whatever the machine's speed
my $t = TT->new(
    extra_http => "limit_req_zone \$tiktok_api_key_id zone=tt_api:1m "
                . "rate=1r/m;\n"
                . "    log_format tt_keyid '\$tiktok_api_key_id \$status';",
    extra_api => "limit_req zone=tt_api burst=2 nodelay;\n"
               . "            limit_req_status 429;\n"
               . "            tiktok_api_retry_after 60s;\n"
               . "            access_log keyid.log tt_keyid;");

my $dir = $t->{dir};
my $key2 = $t->admin('key', 'create', $t->{ws});

my @st = map { $t->api(GET => '/api/posts')->{status} } 1 .. 3;
is("@st", '200 200 200', 'the first key: the rate and its burst pass');

my $r = $t->api(GET => '/api/posts');
is($r->{status}, 429, 'the next request of the burst is refused');
is_deeply($r->{json}, {
    status => 429, error => 'Too Many Requests',
    message => 'too many requests with this API key: retry after '
             . 'Retry-After seconds' }, 'in the API\'s JSON error shape');
like($r->{headers}{'content-type'}, qr{^application/json}, 'as JSON');
is($r->{headers}{'retry-after'}, '60', 'with Retry-After');
like($r->{headers}{'x-request-id'}, qr/^[0-9a-f]{32}$/,
     'and the request id, as every answer');

$r = $t->api(POST => '/api/posts', { post => { body => 'x' } });
is($r->{status}, 429, 'a write of that key too, before its body is read');

$r = $t->api(GET => '/api/posts', key => $key2);
is($r->{status}, 200, 'another key of the same workspace is not limited');

# no key is no bucket: it is the API's 401, as before
$r = $t->api(GET => '/api/posts', key => undef) for 1 .. 4;
is($r->{status}, 401, 'no key: 401, not counted against any key');

# the id in a log: 16 hex digits of the key's SHA-256, never the key
my $log = '';
for (1 .. 50) {
    $log = TT::read_file("$dir/keyid.log");
    last if ($log =~ tr/\n//) >= 10;
    select(undef, undef, undef, 0.1);
}
my $id1 = substr(sha256_hex($t->{key}), 0, 16);
my $id2 = substr(sha256_hex($key2), 0, 16);
like($log, qr/^$id1 200$/m, 'the first key\'s id is logged with its 200s');
like($log, qr/^$id1 429$/m, 'and its 429s');
like($log, qr/^$id2 200$/m, 'the other key has its own id');
like($log, qr/^- 401$/m, 'no key, no id');
unlike($log, qr/\Q$t->{key}\E|\Q$key2\E/, 'no key in the log');

$t->stop;
done_testing();
