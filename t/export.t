#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# End to end: GET /api/export streams the workspace as NDJSON from one
# read transaction: groups, profiles (no token), posts; a scoped key gets
# its group only.  A large store read by a client that stops reading: the
# worker's memory stays flat, other requests (reads and writes) are
# answered meanwhile, and a post made during the export is not in it.

use strict;
use warnings;

use IO::Select;
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(sleep time);

use lib 't/lib';
use TT;

plan skip_all => 'no tiktok module built'
    unless -f "$TT::BUILD/nginx/objs/ngx_http_tiktok_module.so";

# a small map that grows (doubles) as the posts come: it grows again
# while an export holds its snapshot, below
my $t = TT->new(workers => 1, extra_http => 'tiktok_store_map_size 1m 1g;');
my $prof = $t->add_profile(access_token => 'act.SECRET-export',
                           refresh_token => 'rft.SECRET-export');
my $pg2 = $t->{group};
my $prof2 = $t->add_profile();                  # in a second group
my $pg3 = $t->{group};
isnt($pg2, $pg3, 'two groups');

sub draft {
    my ($p, $body) = @_;
    return { post => { body => $body, draft => JSON::PP::true },
             profiles => [$p], media => ['https://cdn.example.com/v.mp4'],
             platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } };
}

# 6,000 drafts of ~2,000 characters in the first group, 3 in the second
my $caption = 'export ' . ('x' x 1990);
my $n = 0;
my $batches = 60;
for my $b (1 .. $batches) {
    my $r = $t->api(POST => '/api/posts/batch',
                    { posts => [ map { draft($prof, "$caption $_") }
                                 1 .. 100 ] });
    $n += @{ $r->{json}{data} || [] } if $r->{status} == 201;
}
is($n, 6000, '6,000 posts stored');
for (1 .. 3) {
    is($t->api(POST => "/api/posts?profile_group_id=$pg3",
               draft($prof2, "other $_"))->{status}, 201, 'a post');
}

# a queue in each group
my %q;
for my $g ($pg2, $pg3) {
    my $r = $t->api(POST => '/api/post_queues', {
        profile_group_id => $g,
        post_queue => { name => "queue of $g", timezone => 'Europe/Paris',
                        queue_timeslots_attributes => [
                            { day => 1, time => '09:00' } ] } });
    is($r->{status}, 201, 'a queue') or diag($r->{raw});
    $q{$g} = $r->{json}{id};
}

# a webhook: its secret is shown once, never exported
my $wh = $t->api(POST => '/api/webhooks', {
    url => 'https://hooks.example.com/tiktok', events => ['*'] })->{json};
like($wh->{secret} // '', qr/^whsec_/, 'a webhook');

sub export_lines {
    my (%o) = @_;
    my $r = $t->api(GET => '/api/export' . ($o{query} // ''), %o);
    return ($r, [ map { $TT::JSON->decode($_) } split /\n/, $r->{raw} ])
        if $r->{status} == 200;
    return ($r, []);
}

# the whole workspace
my ($r, $lines) = export_lines();
is($r->{status}, 200, 'export: 200');
like($r->{headers}{'content-type'}, qr{^application/x-ndjson}, 'NDJSON');
is($r->{headers}{'transfer-encoding'}, 'chunked', 'streamed, chunked');
ok($r->{headers}{'x-request-id'}, 'with its request id');
is($lines->[0]{type}, 'export', 'a header line first');
is($lines->[0]{workspace_id}, $t->{ws}, 'of the workspace');
is($lines->[-1]{type}, 'end', 'an end line last');
is($lines->[-1]{lines}, @$lines - 1, 'which counts the lines before it');
my %by;
push @{ $by{ $_->{type} } }, $_ for @$lines;
is(scalar @{ $by{post} }, 6003, 'every post');
is(scalar @{ $by{profile} }, 2, 'every profile');
is(scalar @{ $by{profile_group} }, 2, 'every group');
is(scalar @{ $by{post_queue} || [] }, 2, 'every queue');
is_deeply($by{post_queue}[0]{data},
          $t->api(GET => "/api/post_queues/$by{post_queue}[0]{data}{id}")
              ->{json}, 'a queue as GET /api/post_queues/:id says');
unlike($r->{raw}, qr/SECRET-export/, 'never a token');
is(scalar @{ $by{webhook} || [] }, 1, 'the webhook');
is($by{webhook}[0]{data}{url}, 'https://hooks.example.com/tiktok',
   'its url');
unlike($r->{raw}, qr/whsec_/, 'never a webhook secret');
my $one = $t->api(GET => "/api/posts/$by{post}[0]{data}{id}")->{json};
is_deeply($by{post}[0]{data}, $one, 'a post as GET /api/posts/:id says');

# a key of one group: that group only
my $scoped = $t->admin('key', 'create', $t->{ws}, '--group', $pg3);
($r, $lines) = export_lines(key => $scoped);
%by = ();
push @{ $by{ $_->{type} } }, $_ for @$lines;
is(scalar @{ $by{post} || [] }, 3, 'scoped key: its group\'s posts');
is(scalar @{ $by{profile} || [] }, 1, 'scoped key: its group\'s profile');
is_deeply([map { $_->{data}{id} } @{ $by{post_queue} || [] }], [$q{$pg3}],
          'scoped key: its group\'s queue');
is(scalar @{ $by{webhook} || [] }, 0, 'scoped key: no workspace webhook');
is($lines->[0]{profile_group_id}, $pg3, 'the header names the group');

# another workspace sees nothing of this one
my $ws2 = $t->admin(qw(workspace create other));
my $key2 = $t->admin('key', 'create', $ws2);
($r, $lines) = export_lines(key => $key2);
is(scalar(grep { $_->{type} eq 'post' } @$lines), 0,
   'another workspace: none of these posts');
is($t->api(GET => '/api/export', key => undef)->{status}, 401, 'a key');
is($t->api(POST => '/api/export', {})->{status}, 405, 'GET only');

# a client that reads a little, then stops
my ($worker) = map { /^(\d+)$/ ? $1 : () } split /\s+/,
    `ps -o pid= --ppid $t->{nginx_pid}`;
sub anon_kb {
    my $s = TT::read_file("/proc/$worker/status");
    return $s =~ /^RssAnon:\s+(\d+)/m ? $1 : 0;
}

my $before = anon_kb();
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$t->{port}",
                              Proto => 'tcp') or die $!;
print $s "GET /api/export HTTP/1.1\r\nHost: x\r\n"
       . "Authorization: Bearer $t->{key}\r\nConnection: close\r\n\r\n";
my $got = '';
my $sel = IO::Select->new($s);
while (length($got) < 1 << 20 && $sel->can_read(10)) {
    sysread($s, $got, 65536, length $got) or last;
}
ok(length($got) >= 1 << 20, 'the first MiB came');

# stalled: the worker answers others meanwhile, and writes go on
my $t0 = time;
is($t->api(GET => "/api/posts/$one->{id}")->{status}, 200,
   'a read while the export waits');
my $late = $t->api(POST => '/api/posts', draft($prof, 'made during'));
is($late->{status}, 201, 'a write while the export holds its snapshot');
ok(time - $t0 < 5, 'both at once');
sleep 1;
my $during = anon_kb();
ok($during - $before < 8 * 1024,
   "worker memory flat while the client stalls ($before kB -> $during kB)")
    or diag("grew by " . ($during - $before) . " kB");

# the map grows while the export's transaction is open: this worker's
# write batch remaps the store between two of its slices
my $map0 = $t->api(GET => '/api/health', key => undef)->{json}{store}{map_size};
my ($map1, $more) = ($map0, 0);
while ($map1 == $map0 && $more < 300) {
    $t->api(POST => '/api/posts/batch',
            { posts => [ map { draft($prof, "$caption more $_") } 1 .. 100 ] });
    $more++;
    $map1 = $t->api(GET => '/api/health', key => undef)->{json}{store}{map_size};
}
ok($map1 > $map0, "the map grew during the export ($map0 -> $map1 bytes, "
                  . "$more batches)");

# the rest, read now
while ($sel->can_read(30)) {
    sysread($s, $got, 1 << 20, length $got) or last;
}
close $s;
my ($head, $body) = split /\r\n\r\n/, $got, 2;
like($head, qr/^HTTP\/1.1 200/, 'the slow export: 200');
# undo the chunked framing
my $plain = '';
while ($body =~ s/^([0-9a-f]+)\r\n//i) {
    my $len = hex $1;
    last if $len == 0;
    $plain .= substr($body, 0, $len, '');
    $body =~ s/^\r\n//;
}
my @slow = map { $TT::JSON->decode($_) } split /\n/, $plain;
is($slow[-1]{type}, 'end', 'the slow export is whole');
my @posts = grep { $_->{type} eq 'post' } @slow;
is(scalar @posts, 6003, 'every post of its snapshot');
ok(!grep({ $_->{data}{id} eq $late->{json}{id} } @posts),
   'not the post made after it began: one snapshot');
ok(length($plain) > 12_000_000, length($plain) . ' bytes exported');
like($t->error_log, qr/tiktok store map is now \d+ bytes/,
     'the worker grew the map itself');

$t->stop;
done_testing();
