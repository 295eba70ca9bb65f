#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# A thread pool that refuses the write batch: its queue is full (nginx
# logs "queue overflow").  Here the pool has one thread and max_queue=0,
# and nginx's own file reads (aio threads) keep that thread busy, so that
# some batches are refused.  Each refused write is answered 503 with
# Retry-After from the event loop, after its handler has returned, never
# from inside it: a write without a body (DELETE) would otherwise be
# finalized and freed there, and the handler would then take a count on
# the freed request.  glibc.malloc.perturb makes such a use crash.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use File::Path qw(make_path);
use HTTP::Tiny;
use POSIX ();
use Test::More;
use Time::HiRes qw(time);
use TT;

plan skip_all => 'no tiktok module built'
    unless -f "$TT::BUILD/nginx/objs/ngx_http_tiktok_module.so";

local $ENV{GLIBC_TUNABLES} = 'glibc.malloc.perturb=165';

my $t = TT->new(workers => 1,
    extra_server => "location /big/ { root \@DIR\@; aio threads=tiktok; "
                    . "output_buffers 1 256k; }",
    before_start => sub {
        my ($t) = @_;
        my $conf = TT::read_file("$t->{dir}/nginx.conf");
        $conf =~ s/^thread_pool tiktok .*$/thread_pool tiktok threads=1 max_queue=0;/m
            or die 'no thread_pool tiktok in nginx.conf';
        $conf =~ s/\@DIR\@/$t->{dir}/g;
        TT::write_file("$t->{dir}/nginx.conf", $conf);
        make_path("$t->{dir}/big");
        TT::write_file("$t->{dir}/big/file", 'b' x (16 * 1024 * 1024));
    });
$t->add_profile();

# readers keep the pool's one thread reading the file
my $stop = "$t->{dir}/readers.stop";
my @kids;
for my $n (1 .. 3) {
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        my $http = HTTP::Tiny->new(timeout => 30);
        while (!-e $stop) {
            $http->request('GET', $t->url('/big/file'),
                           { data_callback => sub { } });
        }
        POSIX::_exit(0);
    }
    push @kids, $pid;
}

my (%seen, $bad, $refused);
$refused = 0;
for (my $end = time + 20; time < $end && $refused < 20; ) {
    my $r = $t->api(DELETE => '/api/posts/p_00000000000000000000');
    $seen{"DELETE $r->{status}"}++;
    if ($r->{status} == 503) {
        $refused++;
        $bad++ unless ($r->{headers}{'retry-after'} // '') eq '1'
                      && ($r->{json}{message} // '') =~ /write queue is full/;
    } elsif ($r->{status} != 404) {
        $bad++;
    }

    $r = $t->api(POST => '/api/posts', {
        post => { body => 'refused?', draft => JSON::PP::true },
        profiles => ['tiktok'], media => ['https://cdn.example/v.mp4'],
        platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } });
    $seen{"POST $r->{status}"}++;
    $bad++ unless $r->{status} == 201 || $r->{status} == 503;
}

TT::write_file($stop, '');
waitpid($_, 0) for @kids;

my $seen = join(', ', map { "$_ x$seen{$_}" } sort keys %seen);
ok($refused > 0, "the pool refused writes: $seen");
ok(!$bad, 'each write is answered: done, or 503 with Retry-After');

my $log = $t->error_log();
unlike($log, qr/exited on signal/, 'no worker crashed');
like($log, qr/tiktok write refused: the thread pool's queue is full, client: .*, request_id: [0-9a-f]{32}$/m,
     'the refusal is logged, a line per request with its id');

$t->stop();

done_testing();
