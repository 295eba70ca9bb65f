#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# A worker that leaves with worker_shutdown_timeout closes every connection
# it has, with writes queued in its batch or running in the thread pool:
# nginx frees those requests at once, the batch goes on, and nothing it
# does afterwards may touch them.  A write that committed is kept; its
# client, gone, is simply not answered.
#
# glibc.malloc.perturb fills freed memory with a pattern, so that a use of
# a freed request or op crashes the worker ("exited on signal 11", an
# alert) instead of passing unseen.  Clients post (each with its own
# Idempotency-Key) and delete on many connections while nginx is reloaded
# with a 1ms worker_shutdown_timeout.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use TT;

plan skip_all => 'no tiktok module built'
    unless -f "$TT::BUILD/nginx/objs/ngx_http_tiktok_module.so";

my $CLIENTS = 16;
my $RELOADS = 4;

# nginx, its workers and tiktok-admin all run with the perturbation
local $ENV{GLIBC_TUNABLES} = 'glibc.malloc.perturb=165';

my $t = TT->new(before_start => sub {
    my ($t) = @_;
    my $conf = TT::read_file("$t->{dir}/nginx.conf");
    $conf =~ s/^(worker_processes .*)$/$1\nworker_shutdown_timeout 1ms;/m
        or die 'no worker_processes in nginx.conf';
    TT::write_file("$t->{dir}/nginx.conf", $conf);
});
$t->add_profile();

# a client posts, and deletes every third post, until told to stop; one
# line per request: what, its status, the post's id
$t->start_clients($CLIENTS, sub {
    my ($n, $i, $http, $out) = @_;
    my %auth = (Authorization => "Bearer $t->{key}");
    my $body = "shutdown c$n n$i";
    my $r = $http->request('POST', $t->url('/api/posts'), {
        headers => { %auth, 'Content-Type' => 'application/json',
                     'Idempotency-Key' => "k-$n-$i" },
        content => TT::draft_json($body) });
    my $id = eval { $TT::JSON->decode($r->{content})->{id} } // '-';
    print $out "post\t$body\t$r->{status}\t$id\n";

    return unless $r->{status} == 201 && $i % 3 == 0;

    # a write without a body: the handler holds the request's count
    $r = $http->request('DELETE', $t->url("/api/posts/$id"),
                        { headers => \%auth });
    print $out "delete\t$body\t$r->{status}\t$id\n";
});

# each reload: the old workers close their connections 1ms after
$t->reload_under_load(reloads => $RELOADS, between => 100,
                      answered => qr/^post\t[^\t]*\t201\t/);
$t->stop_clients();

# let the last old workers leave
for (my $end = time + 10; time < $end; sleep 0.05) {
    my $log = $t->error_log();
    my $shut = () = $log =~ /gracefully shutting down/g;
    my $gone = () = $log =~ /exited with code|exited on signal/g;
    last if $gone >= $shut;
}

my $log = $t->error_log();
my $crashed = () = $log =~ /exited on signal/g;
is($crashed, 0, 'no worker crashed') or diag(join("\n",
    grep { /exited on signal/ } split /\n/, $log));

# what the clients were told.  HTTP::Tiny sends a DELETE cut on a kept
# connection once more: a 404 then says the first one committed, unanswered
my (%told, %deleted, %unsure, %other);
for my $line ($t->client_lines()) {
    my ($what, $body, $status, $id) = split /\t/, $line;
    if ($what eq 'post' && $status == 201) {
        $told{$body} = $id;
    } elsif ($what eq 'delete' && $status == 200) {
        $deleted{$body} = 1;
    } elsif ($what eq 'delete' && $status == 404) {
        $deleted{$body} = 1;
        $other{"$what $status"}++;
    } else {
        $other{"$what $status"}++;
        $unsure{$body} = 1 if $what eq 'delete';
    }
}
ok(keys(%told) > 300, keys(%told) . ' posts answered 201, '
                      . keys(%deleted) . ' deleted');
my $cut = ($other{'post 599'} // 0) + ($other{'delete 599'} // 0)
          + ($other{'delete 404'} // 0);
ok($cut > 0, "$cut requests were cut by the shutdown")
    or diag('other answers: '
            . join(', ', map { "$_ x$other{$_}" } sort keys %other));

# what the store holds: each answer told the truth
my %stored = %{ $t->stored_posts() };

my @lost = grep { !$deleted{$_} && !$unsure{$_}
                  && ($stored{$_} // '') ne $told{$_} } sort keys %told;
is(scalar @lost, 0, 'every 201 is stored, under the id it was told')
    or diag(join(', ', @lost[0 .. ($#lost < 4 ? $#lost : 4)]));

my @kept = grep { exists $stored{$_} } sort keys %deleted;
is(scalar @kept, 0, 'every post deleted is gone')
    or diag(join(', ', @kept[0 .. ($#kept < 4 ? $#kept : 4)]));

$t->stop();

done_testing();
