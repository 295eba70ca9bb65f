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
use Test::More;
use TT;

plan skip_all => 'no tiktok module built'
    unless -f "$TT::BUILD/nginx/objs/ngx_http_tiktok_module.so";

my $CLIENTS = 24;
my $RELOADS = 5;

my $t = TT->new();
$t->add_profile();

# a client posts until told to stop; one line per answer (or failure)
$t->start_clients($CLIENTS, sub {
    my ($n, $i, $http, $out) = @_;
    my $body = "reload c$n n$i";
    my $r = $http->request('POST', $t->url('/api/posts'), {
        headers => { Authorization => "Bearer $t->{key}",
                     'Content-Type' => 'application/json' },
        content => TT::draft_json($body) });
    my $id = eval { $TT::JSON->decode($r->{content})->{id} } // '-';
    print $out "$body\t$r->{status}\t$id\n";
});

# writes flow before the first reload, between reloads and after
$t->reload_under_load(reloads => $RELOADS, between => 200,
                      answered => qr/\t201\t/);
$t->stop_clients();

my $shut = () = $t->error_log() =~ /gracefully shutting down/g;
ok($shut >= 2 * $RELOADS, "$RELOADS reloads: $shut old workers shut down");

# what the clients were told
my (%told, %other);
for my $line ($t->client_lines()) {
    my ($body, $status, $id) = split /\t/, $line;
    if ($status == 201) {
        $told{$body} = $id;
    } else {
        $other{$status}++;
    }
}
my $answered = keys %told;
ok($answered > 1000, "$answered posts answered 201");
diag('other answers: '
     . join(', ', map { "$_ x$other{$_}" } sort keys %other)) if %other;

# what the store holds
my %stored = %{ $t->stored_posts() };

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
