#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# End to end: the store under nginx.  A 201 survives kill -9 of every
# nginx process; the map grows as posts arrive and stops at the maximum of
# tiktok_store_map_size, in nginx and in the tools that open the store
# too, and a full store is a 507 that names the directive, never a 500.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use POSIX ();
use Time::HiRes qw(sleep);
use TT;

plan skip_all => 'no tiktok module built'
    unless -f "$TT::BUILD/nginx/objs/ngx_http_tiktok_module.so";
plan skip_all => 'no mdb_stat (lmdb-utils)'
    if system('mdb_stat -V >/dev/null 2>&1');

my $MIB = 1024 * 1024;

my $t = TT->new(extra_http => 'tiktok_store_map_size 1m 4m;');
$t->add_profile();

sub map_size {
    my $out = `mdb_stat -e $t->{store} 2>&1`;
    return $out =~ /Map size: (\d+)/ ? $1 : -1;
}

sub post {
    my ($n) = @_;
    return { post => { body => "store test $n " . ('x' x 1500) },
             profiles => ['tiktok'], media => ['https://cdn.example/v.mp4'],
             platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } };
}

# the tools open the store as nginx made it: no larger map of their own
ok(map_size() <= 4 * $MIB, 'after tiktok-admin, the map is within 4m: '
                           . map_size());

# durable: an answered write is there after kill -9 of every process
my $r = $t->api(POST => '/api/posts', post(0));
is($r->{status}, 201, 'created');
my $id = $r->{json}{id};
# the 201 answers the bytes stored for the post, which a GET answers
is($t->api(GET => "/api/posts/$id")->{raw}, $r->{raw},
   'the 201 is byte for byte what GET answers');

my $master = TT::read_file("$t->{dir}/nginx.pid");
chomp $master;
my @pids = ($master, grep { /^\d+$/ } split /\s+/, `pgrep -P $master`);
is(scalar @pids, 3, 'the master and its two workers');
kill 'KILL', @pids;
waitpid($master, 0);
# gone, or a zombie not reaped yet: nothing that holds the store or port
sub alive {
    my $st = eval { TT::read_file("/proc/$_[0]/stat") } // '';
    return $st =~ /^\d+ \(.*\) [^Z]/;
}
for (1 .. 100) {
    last unless grep { alive($_) } @pids;
    sleep 0.05;
}
ok(!(grep { alive($_) } @pids), 'all gone');
unlink "$t->{dir}/nginx.pid";
$t->start_nginx();

# the first connections may still meet the dying processes' sockets
for (1 .. 50) {
    $r = $t->api(GET => "/api/posts/$id");
    last if $r->{status} != 599;
    sleep 0.1;
}
is($r->{status}, 200, 'the post is there after kill -9 of nginx')
    or diag($r->{raw});
is($r->{json}{body}, post(0)->{post}{body}, 'with its body');

# group commit: writes that arrive together share one transaction (and
# one fsync); LMDB's transaction id counts the commits
sub txnid {
    my $out = `mdb_stat -e $t->{store} 2>&1`;
    return $out =~ /Last transaction ID: (\d+)/ ? $1 : -1;
}

{
    my $n = 64;
    my $txn = txnid();
    pipe(my $go_r, my $go_w) or die "pipe: $!";
    pipe(my $out_r, my $out_w) or die "pipe: $!";
    my @kids;
    for my $i (1 .. $n) {
        my $pid = fork() // die "fork: $!";
        if ($pid == 0) {
            close $go_w;
            close $out_r;
            my $go = <$go_r>;         # every client starts at once
            my $res = $t->api(POST => '/api/posts', post("together $i"));
            syswrite $out_w, "$res->{status}\n";
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }
    close $go_r;
    close $out_w;
    close $go_w;
    my @status = <$out_r>;
    waitpid $_, 0 for @kids;
    chomp @status;

    is(scalar(grep { $_ eq '201' } @status), $n, "$n writes at once, all 201");
    my $commits = txnid() - $txn;
    ok($commits > 0 && $commits < $n, "in fewer commits than writes: $commits")
        or diag("transaction id before $txn, after " . txnid());
}

# a batch whose requests do not all succeed: each 4xx leaves no trace and
# every 201 is stored once, with what it was answered; the writer runs such
# a batch again with a nested transaction per request
my $mixed = 0;
for my $round (1 .. 2) {
    my $n = 64;
    my $txn = txnid();
    pipe(my $go_r, my $go_w) or die "pipe: $!";
    pipe(my $out_r, my $out_w) or die "pipe: $!";
    my @kids;
    for my $i (1 .. $n) {
        my $pid = fork() // die "fork: $!";
        if ($pid == 0) {
            close $go_w;
            close $out_r;
            my $p = post("mixed $round $i");
            $p->{platforms}{tiktok}{privacy_status} = 'NOT_A_PRIVACY'
                if $i % 4 == 0;
            my $go = <$go_r>;
            my $res = $t->api(POST => '/api/posts', $p);
            syswrite $out_w, join(' ', $i, $res->{status},
                                  $res->{json}{id} // '-',
                                  $res->{json} ? 'json' : 'raw') . "\n";
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }
    close $go_r;
    close $out_w;
    close $go_w;
    my @lines = <$out_r>;
    waitpid $_, 0 for @kids;

    my ($good, $bad, $wrong) = (0, 0, 0);
    for (@lines) {
        my ($i, $status, $id, $kind) = split;
        if ($i % 4 == 0) {
            $status == 422 && $kind eq 'json' ? $bad++ : $wrong++;
            next;
        }
        if ($status != 201) {
            $wrong++;
            next;
        }
        my $got = $t->api(GET => "/api/posts/$id");
        $got->{status} == 200 && $got->{json}{body} eq
            post("mixed $round $i")->{post}{body} ? $good++ : $wrong++;
    }
    is("$good $bad $wrong", '48 16 0',
       "round $round: 48 writes stored as answered, 16 refused, none wrong");
    ok(txnid() - $txn < $n, 'in fewer commits than writes: '
                            . (txnid() - $txn));
    $mixed += $good;
}
my $listed = $t->api(GET => '/api/posts?per_page=1')->{json}{total};
is($listed, 1 + 64 + $mixed, "no refused write left a post: $listed listed");

# fill: the map grows from 1m, then the store is full at 4m
my (%status, $full);
for my $batch (1 .. 60) {
    $r = $t->api(POST => '/api/posts/batch',
                 { posts => [ map { post($batch * 100 + $_) } 1 .. 50 ] });
    $status{ $r->{status} }++;
    if ($r->{status} == 507) {
        $full = $r;
        last;
    }
}

ok($status{201} && $status{201} > 1, 'batches stored while the map grew');
ok(!$status{500}, 'never a 500') or diag(explain(\%status));
ok($full, 'a full store answers 507') or diag(explain(\%status));
like($full && $full->{json}{message} // '', qr/tiktok_store_map_size/,
     'the 507 names the directive');
like($full && $full->{headers}{'x-request-id'} // '', qr/^[0-9a-f]{32}$/,
     'the 507 has X-Request-Id');
my $size = map_size();
ok($size > 1 * $MIB && $size <= 4 * $MIB, "the map grew, to 4m at most: $size");

# what was answered 201 is all there
my $total = $t->api(GET => '/api/posts')->{json}{total};
is($total, 1 + 64 + $mixed + 50 * ($status{201} // 0),
   "every stored post is listed: $total");

# the admin tool does not grow it past the maximum either
$t->admin(qw(workspace create), 'second');
ok(map_size() <= 4 * $MIB, 'tiktok-admin kept within 4m: ' . map_size());

$t->stop();
done_testing();
