#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# A reload answers every request in flight.  Clients on many connections
# post without pause, each post with a body of its own, while nginx is
# reloaded five times.  Afterwards every post in the store was answered
# 201 to its client, every 201 is in the store, and the error log has no
# alert (an old worker that left with a batch in flight logs "open socket
# left in connection" for the connections it never answered).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use HTTP::Tiny;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use TT;

plan skip_all => 'no tiktok module built'
    unless -f "$TT::BUILD/nginx/objs/ngx_http_tiktok_module.so";

my $CLIENTS = 24;
my $RELOADS = 5;

my $t = TT->new();
$t->add_profile();

my $master = TT::read_file("$t->{dir}/nginx.pid");
chomp $master;
my $stop = "$t->{dir}/clients.stop";

# a client: posts until told to stop; one line per answer (or failure)
sub client {
    my ($n) = @_;
    my $http = HTTP::Tiny->new(timeout => 30, keep_alive => 1);
    open my $out, '>', "$t->{dir}/client.$n" or POSIX::_exit(1);
    $out->autoflush(1);

    for (my $i = 0; !-e $stop; $i++) {
        my $body = "reload c$n n$i";
        my $r = $http->request('POST', $t->url('/api/posts'), {
            headers => { Authorization => "Bearer $t->{key}",
                         'Content-Type' => 'application/json' },
            content => $TT::JSON->encode({
                post => { body => $body, draft => JSON::PP::true },
                profiles => ['tiktok'],
                media => ['https://cdn.example/v.mp4'],
                platforms => { tiktok => {
                    privacy_status => 'SELF_ONLY' } } }) });
        my $id = eval { $TT::JSON->decode($r->{content})->{id} } // '-';
        print $out "$body\t$r->{status}\t$id\n";
    }

    close $out;
    POSIX::_exit(0);
}

my @kids;
for my $n (1 .. $CLIENTS) {
    my $pid = fork() // die "fork: $!";
    client($n) if $pid == 0;
    push @kids, $pid;
}

sub answered {
    my $n = 0;
    for my $c (1 .. $CLIENTS) {
        my $text = TT::read_file("$t->{dir}/client.$c");
        $n += () = $text =~ /\t201\t/g;
    }
    return $n;
}

# writes flow before the first reload and between reloads
sub wait_answers {
    my ($more) = @_;
    my $want = answered() + $more;
    for (my $end = time + 30; time < $end && answered() < $want; ) {
        sleep 0.05;
    }
}

for my $i (1 .. $RELOADS) {
    wait_answers(200);
    kill 'HUP', $master;
    # the old workers start shutting down with the clients' writes queued
    for (my $end = time + 10; time < $end; sleep 0.05) {
        my $log = $t->error_log();
        my $n = () = $log =~ /gracefully shutting down/g;
        last if $n >= 2 * $i;
    }
}
wait_answers(200);

TT::write_file($stop, '');
waitpid($_, 0) for @kids;

my $shut = () = $t->error_log() =~ /gracefully shutting down/g;
ok($shut >= 2 * $RELOADS, "$RELOADS reloads: $shut old workers shut down");

# what the clients were told
my (%told, %ids, %other);
for my $c (1 .. $CLIENTS) {
    for my $line (split /\n/, TT::read_file("$t->{dir}/client.$c")) {
        my ($body, $status, $id) = split /\t/, $line;
        if ($status == 201) {
            $told{$body} = $id;
            $ids{$id} = 1;
        } else {
            $other{$status}++;
        }
    }
}
my $answered = keys %told;
ok($answered > 1000, "$answered posts answered 201");
diag('other answers: '
     . join(', ', map { "$_ x$other{$_}" } sort keys %other)) if %other;

# what the store holds
my %stored;
for (my $page = 0; ; $page++) {
    my $r = $t->api(GET => "/api/posts?per_page=100&page=$page");
    is($r->{status}, 200, "list page $page") or last
        unless $r->{status} == 200;
    my $data = $r->{json}{data};
    $stored{$_->{body}} = $_->{id} for @$data;
    last if @$data < 100;
}

my @untold = grep { !exists $told{$_} } sort keys %stored;
is(scalar @untold, 0, 'every stored post was answered 201 to its client')
    or diag(scalar(@untold) . ' stored but never answered, such as '
            . join(', ', @untold[0 .. ($#untold < 4 ? $#untold : 4)]));

my @lost = grep { ($stored{$_} // '') ne $told{$_} } sort keys %told;
is(scalar @lost, 0, 'every 201 is stored, under the id it was told')
    or diag(join(', ', @lost[0 .. ($#lost < 4 ? $#lost : 4)]));

unlike($t->error_log(), qr/open socket .* left in connection/,
       'no connection left unanswered by an exiting worker');

$t->stop();

done_testing();
