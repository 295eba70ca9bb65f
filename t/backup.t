#!/usr/bin/perl

# tiktok-admin backup and restore: a hot copy taken while a client keeps
# posting holds every post acknowledged before the copy began, and none
# sent after it ended; restore refuses a store that nginx has open and
# names the process; a copy restored into a new directory is served by
# nginx with the same key, and an unused store is replaced only with
# --force.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use File::Temp qw(tempdir);
use POSIX qw(:sys_wait_h);
use Test::More;
use Time::HiRes qw(sleep time);
use TT;

my $t = TT->new();
my $prof = $t->add_profile(username => 'shop');

sub post_body {
    my ($n) = @_;
    return { post => { body => "backup post $n", draft => JSON::PP::true },
             profiles => [$prof],
             media => ["https://cdn.example/$n.mp4"],
             platforms => { tiktok => {
                 privacy_status => 'PUBLIC_TO_EVERYONE' } } };
}

# a store of some size, so that the copy takes a while: 3,000 posts
my %before;
for my $b (1 .. 30) {
    my $r = $t->api(POST => '/api/posts/batch',
                    { posts => [map { post_body("$b-$_") } 1 .. 100] });
    die "seed batch $b: $r->{status} $r->{raw}" if $r->{status} != 201;
    $before{ $_->{id} } = 1 for @{ $r->{json}{data} };
}
is(scalar(keys %before), 3000, '3,000 posts before the writer starts');

# the writer: one post at a time, each line "id sent acked" once answered
my $dir = tempdir('tt-backup-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{TT_KEEP});
my $log = "$dir/writer.log";
my $stop = "$dir/stop";
my $writer = fork() // die "fork: $!";
if ($writer == 0) {
    open my $fh, '>', $log or POSIX::_exit(1);
    $fh->autoflush(1);
    my $end = time() + 120;
    for (my $n = 0; !-e $stop && time() < $end; $n++) {
        my $sent = time();
        my $r = $t->api(POST => '/api/posts', post_body("w$n"));
        next unless $r->{status} == 201;
        printf $fh "%s %.6f %.6f\n", $r->{json}{id}, $sent, time();
    }
    close $fh;
    POSIX::_exit(0);
}

sub writer_lines {
    open my $fh, '<', $log or return ();
    my @l = grep { /^p_\w+ [\d.]+ [\d.]+$/ } <$fh>;
    close $fh;
    return map { [split] } @l;
}

sub wait_lines {
    my ($what, $cond) = @_;
    my $until = time() + 60;
    while (time() < $until) {
        return 1 if $cond->(writer_lines());
        sleep 0.05;
    }
    fail("the writer: $what");
    return 0;
}

wait_lines('posts before the copy', sub { @_ >= 20 });

my $bdir = "$dir/backup";
my $t0 = time();
my @out = `$TT::BUILD/tiktok-admin -s $t->{store} backup $bdir 2>>$dir/admin.err`;
my $rc = $?;
my $t1 = time();
is($rc, 0, 'backup succeeds while the API takes writes')
    or diag(@out, TT::read_file("$dir/admin.err"));
like($out[0] // '', qr{^backup \Q$bdir\E/data\.mdb: \d+ bytes in use, store schema \d+$},
     'backup says what it wrote') or diag(@out);
diag(sprintf('backup took %.0f ms', ($t1 - $t0) * 1000));

wait_lines('posts after the copy', sub { grep { $_->[1] > $t1 } @_ });
open my $sfh, '>', $stop or die $!;
close $sfh;
waitpid($writer, 0);
is($?, 0, 'the writer ended');

my @w = writer_lines();
my @acked_before = grep { $_->[2] < $t0 } @w;
my @during = grep { $_->[2] >= $t0 && $_->[1] <= $t1 } @w;
my @sent_after = grep { $_->[1] > $t1 } @w;
ok(@acked_before >= 20, scalar(@acked_before) . ' posts acknowledged before'
   . ' the copy began');
ok(@sent_after >= 1, scalar(@sent_after) . ' posts sent after it ended');
diag(scalar(@during) . ' posts in flight or answered during the copy');
$before{ $_->[0] } = 1 for @acked_before;

# nginx has the store open: restore says so, names a process, changes
# nothing
my $ino = (stat "$t->{store}/data.mdb")[1];
@out = `$TT::BUILD/tiktok-admin -s $t->{store} restore $bdir --force 2>&1`;
is($? >> 8, 1, 'restore over a store in use fails');
like("@out", qr/is in use \(process [1-9]\d* has it open.*stop nginx/s,
     'restore says which process has it open and what to do')
    or diag(@out);
is((stat "$t->{store}/data.mdb")[1], $ino, 'the store in use is untouched');
ok(!-e "$t->{store}/data.mdb.old", 'nothing set aside');
my $r = $t->api(GET => "/api/posts/$acked_before[0][0]");
is($r->{status}, 200, 'the running nginx still serves its store');

# restored into a new directory and served by another nginx, same key
my $t2 = TT->new(no_workspace => 1, before_start => sub {
    my ($n) = @_;
    my @o = `$TT::BUILD/tiktok-admin -s $n->{store} restore $bdir 2>&1`;
    is($?, 0, 'restore into a new directory') or diag(@o);
    like($o[0] // '', qr/^restored \Q$n->{store}\E\/data\.mdb: /,
         'restore says what it restored') or diag(@o);
});
$t2->{key} = $t->{key};

my %copy;
my $total;
for (my $page = 0; ; $page++) {
    $r = $t2->api(GET => "/api/posts?per_page=100&page=$page");
    is($r->{status}, 200, 'list the restored store') or last if $page == 0;
    last if $r->{status} != 200;
    $total = $r->{json}{total};
    last if !@{ $r->{json}{data} };
    $copy{ $_->{id} } = 1 for @{ $r->{json}{data} };
    last if $page > 100;
}
is($total, scalar(keys %copy), "the restored store lists $total posts");

my @missing = grep { !$copy{$_} } sort keys %before;
is(scalar(@missing), 0, 'every post acknowledged before the copy began is'
   . ' in it (' . scalar(keys %before) . ')') or diag("missing: @missing[0 .. 4]");
my @late = grep { $copy{ $_->[0] } } @sent_after;
is(scalar(@late), 0, 'no post sent after the copy ended is in it');

$r = $t2->api(GET => "/api/posts/$acked_before[-1][0]");
is($r->{status}, 200, 'a post of the copy by id');
like($r->{json}{body}, qr/^backup post w\d+$/, 'with its body');
$r = $t2->api(POST => '/api/posts', post_body('after-restore'));
is($r->{status}, 201, 'the restored store takes writes') or diag($r->{raw});
$t2->stop;

# once nginx is stopped the store is free: replaced with --force only
$t->stop_nginx;
@out = `$TT::BUILD/tiktok-admin -s $t->{store} restore $bdir 2>&1`;
is($? >> 8, 1, 'restore over an unused store without --force fails');
like("@out", qr/holds a store already.*--force/s, 'and says --force')
    or diag(@out);
@out = `$TT::BUILD/tiktok-admin -s $t->{store} restore $bdir --force 2>&1`;
is($?, 0, 'restore --force over an unused store') or diag(@out);
ok(-s "$t->{store}/data.mdb.old", 'the old store kept as data.mdb.old');
isnt((stat "$t->{store}/data.mdb")[1], $ino, 'data.mdb replaced');

$t->stop;
done_testing();
