#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# nginx.conf: `nginx -t` refuses a bad value of every directive with a
# message naming it, and accepts the good ones.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TT;

plan skip_all => 'no tiktok module built'
    unless -f "$TT::BUILD/nginx/objs/ngx_http_tiktok_module.so";

my $t = TT->new();

# nginx -t on the stack's configuration with `extra` in the http block
sub check {
    my ($extra, $server) = @_;
    $t->{extra_http} = $extra;
    $t->{extra_server} = $server // '';
    $t->write_conf();
    my $out = `nginx -t -p $t->{dir} -c $t->{dir}/nginx.conf -e $t->{dir}/t.log 2>&1`;
    return ($? == 0, $out);
}

my @bad = (
    [ 'tiktok_body_limit 0;', qr/"tiktok_body_limit" must be at least/ ],
    [ 'tiktok_body_limit 100;', qr/tiktok_body_limit/ ],
    [ 'tiktok_body_limit lots;', qr/tiktok_body_limit/ ],
    [ 'tiktok_store_map_size 1k;', qr/tiktok_store_map_size/ ],
    [ 'tiktok_store_map_size 1g 64m;', qr/tiktok_store_map_size/ ],
    [ 'tiktok_store_nosync maybe;', qr/tiktok_store_nosync/ ],
    [ 'tiktok_max_lateness soon;', qr/tiktok_max_lateness/ ],
    [ 'tiktok_max_uploads 0;', qr/tiktok_max_uploads/ ],
    [ 'tiktok_max_uploads many;', qr/tiktok_max_uploads/ ],
    [ 'tiktok_chunk_size 1m;', qr/tiktok_chunk_size/ ],
    [ 'tiktok_chunk_size 100m;', qr/tiktok_chunk_size/ ],
    [ 'tiktok_refresh_margin later;', qr/tiktok_refresh_margin/ ],
    [ 'tiktok_spool_retention sometime;', qr/tiktok_spool_retention/ ],
    [ 'tiktok_spool_quota big;', qr/tiktok_spool_quota/ ],
);

for my $case (@bad) {
    my ($ok, $out) = check($case->[0]);
    ok(!$ok, "refused: $case->[0]");
    like($out, $case->[1], "the message names it: $case->[0]")
        or diag($out);
}

# values in the server block's location
my ($ok, $out) = check('', 'location /x/ { tiktok_api; tiktok_body_limit -1; }');
ok(!$ok, 'refused: a negative body limit in a location');

# and a configuration with every directive set to a sane value passes
($ok, $out) = check(<<'END');
    tiktok_body_limit 256k;
    tiktok_store_map_size 32m 1g;
    tiktok_store_nosync off;
    tiktok_max_lateness 30m;
    tiktok_max_uploads 16;
    tiktok_chunk_size 8m;
    tiktok_refresh_margin 10m;
    tiktok_spool_retention 0;
    tiktok_spool_quota 1g;
END
ok($ok, 'every directive with a good value passes') or diag($out);

# what the scheduler reads later is checked now: the files, the key
sub check_edit {
    my ($from, $to) = @_;
    $t->{extra_http} = '';
    $t->{extra_server} = '';
    $t->write_conf();
    my $conf = TT::read_file("$t->{dir}/nginx.conf");
    $conf =~ s/$from/$to/ or die "no $from in nginx.conf";
    # what nginx -t logs goes with its output, not to the running log
    $conf =~ s{^error_log \S+}{error_log $t->{dir}/t.log}m;
    TT::write_file("$t->{dir}/nginx-edit.conf", $conf);
    my $out = `nginx -t -p $t->{dir} -c $t->{dir}/nginx-edit.conf -e $t->{dir}/t.log 2>&1`;
    return ($? == 0, $out);
}

my $key = TT::read_file("$t->{dir}/token-key");
my @files = (
    [ 'a token key that is not hex', sub {
          TT::write_file("$t->{dir}/token-key", "deadbeef\n") },
      qr/tiktok_token_key_file.*64 hex/ ],
    [ 'no token key file', sub { unlink "$t->{dir}/token-key" },
      qr/tiktok_token_key_file.*cannot read/ ],
    [ 'an empty client secret', sub {
          TT::write_file("$t->{dir}/client-secret", "") },
      qr/tiktok_client_secret_file.*empty/ ],
);
for my $case (@files) {
    my ($what, $break, $re) = @$case;
    $break->();
    my ($ok, $out) = check('');
    ok(!$ok, "refused: $what");
    like($out, $re, "the message says so: $what") or diag($out);
    TT::write_file("$t->{dir}/token-key", $key);
    TT::write_file("$t->{dir}/client-secret", "sim-secret\n");
}

# the app's credentials are the scheduler's: unset, nginx warns and runs
for my $case (
    [ qr/tiktok_client_key\s+sim-client;/, 'tiktok_client_key "";',
      qr/\[warn\].*tiktok_client_key is not set/ ],
    [ qr/tiktok_token_key_file\s+\S+;/, '',
      qr/\[warn\].*tiktok_token_key_file is not set/ ],
) {
    my ($ok, $out) = check_edit($case->[0], $case->[1]);
    my $what = $case->[1] || 'no tiktok_token_key_file';
    ok($ok, "passes with a warning: $what") or diag($out);
    like($out, $case->[2], "the warning says so: $what") or diag($out);
}

for my $case (
    [ qr/tiktok_store\s+\S+;/, "tiktok_store $t->{dir}/client-secret/store;",
      qr/tiktok_store .*cannot reach/ ],
    [ qr/tiktok_thread_pool\s+tiktok;/,
      "tiktok_thread_pool tiktok;\ntiktok_wake_socket /tmp/" . ('w' x 120)
      . ';', qr/tiktok_wake_socket .*too long/ ],
) {
    my ($ok, $out) = check_edit($case->[0], $case->[1]);
    my $what = $case->[1] || 'no tiktok_token_key_file';
    ok(!$ok, "refused: $what");
    like($out, $case->[2], "the message says so: $what") or diag($out);
}

# nginx -t leaves the running configuration alone: the record the
# scheduler reads is the running nginx's, not the tested one's
{
    my ($ok, $out) = check_edit(qr/tiktok_api_base\s+\S+;/,
                                'tiktok_api_base http://127.0.0.1:1;');
    ok($ok, 'a changed configuration passes nginx -t') or diag($out);
    my $rec = `mdb_dump -s meta -p $t->{store} 2>/dev/null`;
    like($rec, qr/api_base/, 'the record is there');
    unlike($rec, qr/127\.0\.0\.1:1\b/, 'and is not recorded for the scheduler');
}

$t->{extra_http} = '';
$t->{extra_server} = '';
$t->write_conf();
$t->stop();

done_testing();
