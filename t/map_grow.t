#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# Reads never fail while the map grows.  wrk sends half writes, half reads
# to two workers on a store that starts at a 1 MB map (tiktok_store_map_size
# 1m 256m) until the map has doubled at least three times.  A worker that
# finds the map grown by the other one while its own write batch runs
# cannot adopt the new size at once: its reads wait for the batch, then
# read on.  Every answer is a 2xx.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time);
use TT;

plan skip_all => 'no tiktok module built'
    unless -f "$TT::BUILD/nginx/objs/ngx_http_tiktok_module.so";
plan skip_all => 'no wrk' if system('wrk -v >/dev/null 2>&1') == -1;
plan skip_all => 'no mdb_stat (lmdb-utils)'
    if system('mdb_stat -V >/dev/null 2>&1');

my $MIB = 1024 * 1024;

my $t = TT->new(extra_http => 'tiktok_store_map_size 1m 256m;');
$t->add_profile();

sub map_size {
    my $out = `mdb_stat -e $t->{store} 2>&1`;
    return $out =~ /Map size: (\d+)/ ? $1 : -1;
}

my $r = $t->api(POST => '/api/posts', {
    post => { body => 'read me' }, profiles => ['tiktok'],
    media => ['https://cdn.example/v.mp4'],
    platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } });
is($r->{status}, 201, 'a post to read') or diag($r->{raw});

my $start = map_size();
ok($start > 0 && $start <= 2 * $MIB, "the map starts small: $start");

local $ENV{TT_KEY} = $t->{key};
local $ENV{TT_ID} = $r->{json}{id};

my ($requests, $bad, $errors, $runs) = (0, 0, 0, 0);
my $end = time + 120;

while (map_size() < 8 * $start && time < $end) {
    my $out = `wrk -t 2 -c 32 -d 3s -s $FindBin::Bin/lib/mixed.lua @{[
                 $t->url('/') ]} 2>&1`;
    $runs++;
    my ($n) = $out =~ /(\d+) requests in/
        or diag($out), last;
    $requests += $n;
    $bad += $1 if $out =~ /Non-2xx or 3xx responses: (\d+)/;
    $errors += $1 + $2 + $3 + $4
        if $out =~ /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/;
}

my $grown = () = $t->error_log() =~ /tiktok store map is now/g;
my $size = map_size();

ok($size >= 8 * $start, "the map grew from $start to $size bytes "
                        . "($grown growths) under $requests requests "
                        . "in $runs runs");
is($bad, 0, 'no answer but 2xx while the map grew');
is($errors, 0, 'no socket errors');
unlike($t->error_log(), qr/store read failed/, 'no read failed');

$t->stop();

done_testing();
