#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# nginx under load and restart (make nginx-restart): while wrk drives
# durable POST /api/posts (bench/acked.lua logs every id answered 201),
# nginx is reloaded RELOADS times, then every nginx process (master and
# workers) is killed with SIGKILL during the load, and nginx is started
# again.  Then every acknowledged id must be in the store (GET 200, the
# list's total at least the acknowledged count), no worker may have
# crashed (no "exited on signal" in the log), and the store must open and
# list whole.  Prints the figures; exits 1 on a loss or a crash.
# Environment: TT_BUILD, RELOADS (5), CONNS (64), DURATION (30, seconds).

use strict;
use warnings;

use FindBin;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/../t/lib";
use Test::More ();
use TT;

my $RELOADS = $ENV{RELOADS} // 5;
my $CONNS = $ENV{CONNS} || 64;
my $SECS = $ENV{DURATION} || 30;
$| = 1;

my $t = TT->new(workers => 2);
my $prof = $t->add_profile();
my $acked = "$t->{dir}/acked";

sub wrk {
    my ($secs) = @_;
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>>', "$t->{dir}/wrk.out";
        open STDERR, '>>', "$t->{dir}/wrk.out";
        $ENV{TT_KEY} = $t->{key};
        $ENV{TT_PROFILE} = $prof;
        $ENV{TT_ACKED} = $acked;
        exec('wrk', '-t', 2, '-c', $CONNS, '-d', "${secs}s", '--timeout',
             '10s', '-s', "$FindBin::Bin/acked.lua",
             $t->url("/api/posts?profile_group_id=$t->{group}"))
            or POSIX::_exit(127);
    }
    return $pid;
}

sub nginx_pids {
    my $master = TT::read_file("$t->{dir}/nginx.pid");
    chomp $master;
    my @pids = ($master);
    for my $d (glob '/proc/[0-9]*') {
        my $stat = TT::read_file("$d/stat") or next;
        my ($pid, $ppid) = $stat =~ /^(\d+) \(.*\) \S (\d+)/ or next;
        push @pids, $pid if $ppid == $master;
    }
    return grep { $_ } @pids;
}

# load with reloads: one every SECONDS / (RELOADS + 1)
my $w = wrk($SECS);
for my $i (1 .. $RELOADS) {
    sleep($SECS / ($RELOADS + 1));
    kill 'HUP', $t->{nginx_pid};
}
waitpid $w, 0;

# load again, and SIGKILL of every nginx process in the middle of it
$w = wrk(10);
sleep 4;
my @killed = nginx_pids();
kill 'KILL', @killed;
waitpid $t->{nginx_pid}, 0;
delete $t->{nginx_pid};
waitpid $w, 0;
unlink "$t->{dir}/nginx.pid";
$t->start_nginx();

# every acknowledged id in the store
my @ids;
for my $f (glob "$acked.*") {
    open my $fh, '<', $f or die "$f: $!";
    push @ids, map { chomp; $_ } <$fh>;
}
my $noid = grep { $_ eq 'noid' } @ids;
@ids = grep { $_ ne 'noid' } @ids;

my $missing = 0;
for my $id (@ids) {
    my $r = $t->api(GET => "/api/posts/$id");
    next if $r->{status} == 200;
    $missing++;
    print "missing: $id ($r->{status})\n" if $missing <= 20;
}

my $r = $t->api(GET => "/api/posts?profile_group_id=$t->{group}"
                . '&per_page=1');
my $total = $r->{json}{total} // -1;
my $log = $t->error_log();
my $crashes = () = $log =~ /exited on signal/g;
my $wrk = TT::read_file("$t->{dir}/wrk.out");
my @rps = $wrk =~ /Requests\/sec:\s+([\d.]+)/g;
my @non2xx = $wrk =~ /Non-2xx or 3xx responses: (\d+)/g;
my @errs = $wrk =~ /Socket errors: ([^\n]+)/g;

printf "figures: reloads %d, nginx processes killed %d, acknowledged %d, "
     . "in the store %d, missing %d, answers without an id %d, stored in "
     . "all %d, worker crashes %d; wrk %s req/s, non-2xx %s, socket "
     . "errors: %s\n", $RELOADS, scalar @killed, scalar @ids,
       scalar @ids - $missing, $missing, $noid, $total, $crashes,
       join('/', @rps), join('/', @non2xx) || 0,
       join('; ', @errs) || 'none';

my $bad = $missing || $noid || $crashes || $total < @ids;
$t->stop();
Test::More::done_testing();
exit($bad ? 1 : 0);
