#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# GET /api/health's store.writable is a write that commits, not a guess
# from the file's permissions or the map's size:
#
# 1. every sync of nginx's workers fails with EIO (strace injects it):
#    a write fails, health turns 503 saying why at once (the batch's
#    result); 5 s later health's own write (meta's health_probe, through
#    the thread pool) fails too: 503; strace gone, 200 again.
# 2. a full disk (the store on a 2 MB tmpfs, its map free to grow to
#    64 MB: only a write finds out): 503 after a failed write, saying
#    why; 200 again once the disk has room.
# 3. a map full at tiktok_store_map_size's maximum: 503 saying so; a
#    reload with a larger maximum, 200 again.
# 1 and 2 need root (ptrace, mount) and are skipped otherwise.  One
# nginx worker: each keeps its own last result.

use strict;
use warnings;

use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);

use lib 't/lib';
use TT;

my $BUILD = $TT::BUILD;

plan skip_all => 'no tiktok module built'
    unless -f "$BUILD/nginx/objs/ngx_http_tiktok_module.so";
plan skip_all => 'no scheduler built' unless -x "$BUILD/tiktok-scheduler";
plan skip_all => 'no mdb_dump (lmdb-utils)'
    if system('mdb_dump -V >/dev/null 2>&1');

my $n = 0;

sub post {
    return { post => { body => 'health ' . $n++ . ' ' . ('x' x 1500),
                       draft => JSON::PP::true },
             profiles => ['tiktok'], media => ['https://cdn.example/v.mp4'],
             platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } };
}

# writes batches until one is refused; returns that answer
sub fill {
    my ($t) = @_;
    for (1 .. 200) {
        my $r = $t->api(POST => '/api/posts/batch',
                        { posts => [ map { post() } 1 .. 50 ] });
        return $r if $r->{status} >= 500;
    }
    return undef;
}

sub health { return $_[0]->api(GET => '/api/health', key => undef); }

# health's answer once $cond holds for it, or the last after $secs
sub health_until {
    my ($t, $cond, $secs) = @_;
    my $r;
    for (my $end = time + $secs; ; sleep 0.2) {
        $r = health($t);
        return $r if $cond->($r) || time > $end;
    }
}

sub scheduler_alive {
    my ($t) = @_;
    health_until($t, sub { $_[0]{json}{scheduler}{alive} }, 20);
}

# nginx's alerts and the like, but those the test caused
sub check_log {
    my ($t, $expected) = @_;
    my @bad = grep { /\[(alert|emerg|crit)\]|AddressSanitizer|runtime error:/
                     && !/$expected/ } split /\n/, $t->error_log();
    is(scalar @bad, 0, 'no other alert in error.log') or diag(join("\n", @bad));
}


# 1. every sync fails: strace injects EIO into nginx's workers
SKIP: {
    skip 'no strace', 1 if system('strace -V >/dev/null 2>&1');
    skip 'ptrace needs root here', 1 unless $> == 0;

    # one worker: its last write's result is the one health reads
    my $t = TT->new(workers => 1);
    $t->add_profile();
    $t->start_scheduler();
    scheduler_alive($t);

    my $r = health($t);
    is($r->{status}, 200, 'EIO: health 200 at first') or diag($r->{raw});
    is($r->{json}{store}{writable}, JSON::PP::true, 'EIO: writable');
    like(`mdb_dump -p -s meta $t->{store} 2>&1`, qr/health_probe/,
         "EIO: health's own write is in the store");

    my @workers = split ' ', `ps -o pid= --ppid $t->{nginx_pid}`;
    is(scalar @workers, 1, 'EIO: one worker');
    my $strace = fork() // die "fork: $!";
    if ($strace == 0) {
        exec('strace', '-f', '-qq', '-o', '/dev/null',
             '-e', 'trace=fsync,fdatasync,msync',
             '-e', 'inject=fsync,fdatasync,msync:error=EIO',
             map { ('-p', $_) } @workers) or POSIX::_exit(127);
    }
    # every thread of the workers traced (the writes run in a pool's)
    my $traced = 0;
    for (my $end = time + 10; !$traced && time < $end; sleep 0.1) {
        my @tasks = map { glob("/proc/$_/task/*") } @workers;
        $traced = @tasks && !grep {
            TT::read_file("$_/status") !~ /^TracerPid:\s*[1-9]/m } @tasks;
    }
    unless ($traced) {
        # a container may deny ptrace to root (no CAP_SYS_PTRACE)
        kill 'TERM', $strace;
        waitpid($strace, 0);
        $t->stop();
        skip 'strace cannot attach to the workers here', 1;
    }
    ok($traced, 'EIO: strace has every thread of the workers');

    my $w = $t->api(POST => '/api/posts', post());
    is($w->{status}, 500, 'EIO: a write fails: 500');
    $r = health($t);
    is($r->{status}, 503, 'EIO: health 503 at once (that write)');
    is($r->{json}{store}{writable}, JSON::PP::false, 'EIO: not writable');
    like(join(' ', @{ $r->{json}{problems} || [] }),
         qr/a write to the store did not commit: Input\/output error/,
         'EIO: saying why') or diag($r->{raw});

    # past that result's age, health writes itself: that fails too
    sleep 5.5;
    $r = health($t);
    is($r->{status}, 503, "EIO: health's own write fails: 503")
        or diag($r->{raw});
    like(join(' ', @{ $r->{json}{problems} || [] }),
         qr/a write to the store did not commit: Input\/output error/,
         'EIO: saying why');

    kill 'TERM', $strace;
    waitpid($strace, 0);
    scheduler_alive($t);
    $r = health_until($t, sub { $_[0]{status} == 200 }, 20);
    is($r->{status}, 200, 'EIO: 200 again once syncs work') or diag($r->{raw});
    is($t->api(POST => '/api/posts', post())->{status}, 201,
       'EIO: and a post is stored');

    $t->stop_scheduler();
    $t->stop_nginx();
    check_log($t, qr/tiktok store write failed: Input\/output error/);
    $t->{stopped} = 1;
}


# 2. a full disk
SKIP: {
    my $probe = ($ENV{TMPDIR} // "/tmp") . "/tt-health-mnt-$$";
    mkdir $probe;
    my $can = $> == 0
              && system("mount -t tmpfs -o size=1m tt-probe $probe "
                        . '2>/dev/null') == 0;
    system('umount', $probe) if $can;
    rmdir $probe;
    skip 'mounting a tmpfs needs root', 1 unless $can;

    my $mounted;
    END { system('umount', '-l', $mounted) if $mounted; }

    my $t = TT->new(workers => 1,
                    extra_http => 'tiktok_store_map_size 1m 64m;',
                    before_start => sub {
        my ($tt) = @_;
        mkdir $tt->{store};
        system('mount', '-t', 'tmpfs', '-o', 'size=2m', 'tt-health',
               $tt->{store}) == 0 or die "mount: $?";
        $mounted = $tt->{store};
    });
    $t->add_profile();
    $t->start_scheduler();
    scheduler_alive($t);

    my $r = health($t);
    is($r->{status}, 200, 'disk: health 200 at first') or diag($r->{raw});
    is($r->{json}{store}{writable}, JSON::PP::true, 'disk: writable');
    like(`mdb_dump -p -s meta $t->{store} 2>&1`, qr/health_probe/,
         "disk: health's own write is in the store");

    my $full = fill($t);
    ok($full, 'disk: a write fails once the disk is full');
    is($full && $full->{status}, 500, 'disk: answered 500')
        or diag($full && $full->{raw});

    $r = health($t);
    is($r->{status}, 503, 'disk: health 503 after the failed write');
    is($r->{json}{store}{writable}, JSON::PP::false, 'disk: not writable');
    like(join(' ', @{ $r->{json}{problems} || [] }),
         qr/a write to the store did not commit: (Input\/output error|No space left on device)/,
         'disk: saying why') or diag($r->{raw});
    ok($r->{json}{store}{used} + 65536 < $r->{json}{store}{map_max},
       'disk: while the map has room: only a write could tell');

    system('mount', '-o', 'remount,size=64m', $t->{store}) == 0
        or die "remount: $?";
    scheduler_alive($t);
    $r = health_until($t, sub { $_[0]{status} == 200 }, 20);
    is($r->{status}, 200, 'disk: 200 again once the disk has room')
        or diag($r->{raw});
    is($r->{json}{store}{writable}, JSON::PP::true, 'disk: writable again');
    is($t->api(POST => '/api/posts', post())->{status}, 201,
       'disk: and a post is stored');

    $t->stop_scheduler();
    $t->stop_nginx();
    check_log($t, qr/tiktok store write failed: (Input\/output error|No space left on device)/);
    $t->{stopped} = 1;
    system('umount', $t->{store}) == 0 and undef $mounted;
}


# 3. a full map
{
    my $t = TT->new(workers => 1,
                    extra_http => 'tiktok_store_map_size 1m 2m;');
    $t->add_profile();
    $t->start_scheduler();
    scheduler_alive($t);
    is(health($t)->{status}, 200, 'map: health 200 at first');

    my $full = fill($t);
    is($full && $full->{status}, 507, 'map: a write fails: 507');

    my $r = health($t);
    is($r->{status}, 503, 'map: health 503');
    is($r->{json}{store}{writable}, JSON::PP::false, 'map: not writable');
    like(join(' ', @{ $r->{json}{problems} || [] }),
         qr/the store is full at its map's maximum \(tiktok_store_map_size\)/,
         'map: saying why') or diag($r->{raw});

    # a reload with a larger maximum
    my $conf = TT::read_file("$t->{dir}/nginx.conf");
    $conf =~ s/tiktok_store_map_size 1m 2m;/tiktok_store_map_size 1m 16m;/
        or die 'no map size in nginx.conf';
    TT::write_file("$t->{dir}/nginx.conf", $conf);
    kill 'HUP', $t->{nginx_pid};

    $r = health_until($t, sub { $_[0]{status} == 200 }, 30);
    is($r->{status}, 200, 'map: 200 again after a reload with a larger map')
        or diag($r->{raw});
    is($t->api(POST => '/api/posts', post())->{status}, 201,
       'map: and a post is stored');

    $t->stop_scheduler();
    $t->stop_nginx();
    check_log($t, qr/^\b$/);
    $t->{stopped} = 1;
}

done_testing();
