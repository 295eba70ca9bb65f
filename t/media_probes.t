#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# A scheduler that finds many posts in media intake (a restart, a burst of
# creates) probes a few of their files at a time, not all at once: a
# thousand tiktok-probe children would starve the loop, whose store
# transaction stays open meanwhile, and nginx's writes would wait for it.
# The scheduler runs from a directory of its own where tiktok-probe is a
# wrapper that logs when each probe starts and ends and takes half a
# second more; the log gives how many ran at once.

use strict;
use warnings;

use File::Copy qw(copy);
use File::Temp ();
use POSIX qw(strftime);
use Test::More;
use Time::HiRes qw(sleep time);

use lib 't/lib';
use TT;
use Sim;
use Media;

my $BUILD = $TT::BUILD;
my $POSTS = 12;
my $MAX = 4;            # SCHED_PROBES_MAX, scheduler/sched_media.c

plan skip_all => 'no scheduler built' unless -x "$BUILD/tiktok-scheduler";
plan skip_all => 'no media probe built' unless -x "$BUILD/tiktok-probe";
plan skip_all => 'no tiktok module built'
    unless -f "$BUILD/nginx/objs/ngx_http_tiktok_module.so";
plan skip_all => 'no ffmpeg' if system('ffmpeg -version >/dev/null 2>&1');

my $media = Media->new;
$media->make('valid.mp4');
$media->alias("clip$_.mp4", 'valid.mp4') for 1 .. $POSTS;

my $sim = Sim->start(media_dir => $media->dir);
my $run = File::Temp::tempdir('tt-probes-run-XXXXXX', TMPDIR => 1,
                              CLEANUP => !$ENV{TT_KEEP});
mkdir "$run/spool" or die "$run/spool: $!";
mkdir "$run/bin" or die "$run/bin: $!";

# the scheduler with its helpers: the real tiktok-fetch, a slow probe
copy("$BUILD/tiktok-scheduler", "$run/bin/tiktok-scheduler") or die $!;
chmod 0755, "$run/bin/tiktok-scheduler";
symlink("$BUILD/tiktok-fetch", "$run/bin/tiktok-fetch") or die $!;
TT::write_file("$run/bin/tiktok-probe", <<"END");
#!/bin/sh
echo "start \$\$" >> $run/probes.log
sleep 0.5
"$BUILD/tiktok-probe" "\$@"
rc=\$?
echo "end \$\$" >> $run/probes.log
exit \$rc
END
chmod 0755, "$run/bin/tiktok-probe";

my $t = TT->new(tiktok_api => $sim->base, extra_http => <<"END");
    tiktok_wake_socket $run/wake.sock;
    tiktok_spool $run/spool;
END
my ($prof) = $t->add_sim_creator($sim);

# every post is in intake before the scheduler starts, as after a restart
my $later = strftime('%Y-%m-%dT%H:%M:%SZ', gmtime(time + 30 * 86400));
my @ids;
for my $n (1 .. $POSTS) {
    my $r = $t->api(POST => '/api/posts', {
        post => { body => "probe turn $n", scheduled_at => $later },
        profiles => [$prof], media => [$sim->media_url("clip$n.mp4")],
        platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } });
    is($r->{status}, 201, "post $n created") or diag($r->{raw});
    push @ids, $r->{json}{id};
}

{
    local $TT::BUILD = "$run/bin";
    $t->start_scheduler();
}

my %status;
for (my $end = time + 120; time < $end; sleep 0.2) {
    %status = map { $_ => $t->api(GET => "/api/posts/$_")->{json}{status} }
              @ids;
    last unless grep { $_ eq 'pending' } values %status;
}
is(scalar(grep { $_ eq 'scheduled' } values %status), $POSTS,
   "every post's media checked: scheduled")
    or diag(join ', ', map { "$_ $status{$_}" } sort keys %status);

my ($now, $most, $probes) = (0, 0, 0);
for my $line (split /\n/, TT::read_file("$run/probes.log")) {
    if ($line =~ /^start/) {
        $probes++;
        $most = $now + 1 if ++$now > $most;
    } elsif ($line =~ /^end/) {
        $now--;
    }
}
is($probes, $POSTS, "one probe a post: $probes");
ok($most <= $MAX, "at most $MAX probes at once: $most");
ok($most >= 2, "and more than one at a time: $most");

$t->stop();
done_testing();
