#!/usr/bin/perl

# openapi.yaml against the live API: every built path, its answers and
# its error shapes (400, 401, 404, 405, 413, 415, 422, replays with
# Idempotent-Replayed), each answer checked by t/lib/openapi_check.py
# (python3-jsonschema, JSON Schema 2020-12): its status documented, its
# body valid, its headers (X-Request-Id on every one, Allow on a 405)
# there.  Then the check must fail on copies of the document broken on
# purpose: a field's type, a required field the server does not send, a
# header's pattern, an undocumented status.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TT;

my $py = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
plan skip_all => 'no python3-jsonschema'
    if system("$py -c 'import jsonschema, yaml' 2>/dev/null");

my $t = TT->new(extra_http => 'tiktok_body_limit 4k;');
my $prof = $t->add_profile(username => 'shop');

my %video = (
    post => { body => 'New product drop. Link in bio.',
              scheduled_at => '2026-05-12T11:00:00+02:00' },
    profiles => ['tiktok'],
    media => ['https://yourcdn.com/launch-9x16.mp4'],
    platforms => { tiktok => { privacy_status => 'PUBLIC_TO_EVERYONE',
                               disable_duet => JSON::PP::true,
                               video_cover_timestamp_ms => 1500 } },
);

sub req {
    my ($want, @args) = @_;
    my $r = $t->api(@args);
    is($r->{status}, $want, "$args[0] $args[1]: $want")
        or diag($r->{raw});
    return $r;
}

# the open route
# (no scheduler runs here: 503, with the same body as a 200)
req(503, GET => '/api/health', key => undef);

# posts
my $p = req(201, POST => '/api/posts', \%video)->{json};
req(201, POST => '/api/posts', {
    post => { body => 'Behind the scenes' }, profiles => [$prof],
    media => [map { "https://cdn.example/bts-$_.jpg" } 1 .. 3],
    platforms => { tiktok => { format => 'image', photo_cover_index => 2,
                               privacy_status => 'SELF_ONLY',
                               post_mode => 'MEDIA_UPLOAD' } } });
my $draft = req(201, POST => '/api/posts', {
    post => { body => 'draft', draft => JSON::PP::true },
    profiles => [$prof], media => ['https://cdn.example/a.mp4'],
    platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } })->{json};

my $idem = { headers => { 'Idempotency-Key' => 'openapi-1' } };
req(201, POST => '/api/posts', \%video, %$idem);
my $replay = req(201, POST => '/api/posts', \%video, %$idem);
is($replay->{headers}{'idempotent-replayed'}, 'true', 'a replay says so');
req(422, POST => '/api/posts', { %video, post => { body => 'other' } },
    %$idem);
req(400, POST => '/api/posts', \%video,
    headers => { 'Idempotency-Key' => 'k' x 256 });

req(200, GET => "/api/posts/$p->{id}");
req(200, GET => '/api/posts');
req(200, GET => '/api/posts?status=scheduled&per_page=2&page=0');
req(200, GET => '/api/posts?scheduled_after=2026-01-01T00:00:00Z'
               . '&scheduled_before=2027-01-01T00:00:00Z');
req(200, GET => '/api/posts?status=draft');
req(422, GET => '/api/posts?per_page=1000');
req(400, GET => '/api/posts?page=1&page=2');

req(200, PATCH => "/api/posts/$p->{id}",
    { post => { body => 'changed', scheduled_at => '2026-06-01T09:00:00Z' } });
req(422, PATCH => "/api/posts/$p->{id}",
    { post => { body => 'x' x 2300 }, platforms => { tiktok => {
        privacy_status => 'NOPE' } } });
req(200, POST => "/api/posts/$draft->{id}/publish");
req(200, DELETE => "/api/posts/$p->{id}");
req(404, GET => "/api/posts/$p->{id}");
req(404, DELETE => "/api/posts/p_doesnotexist0000000");

my $b = req(201, POST => '/api/posts/batch',
            { posts => [ (\%video) x 3 ] });
is(scalar @{ $b->{json}{data} || [] }, 3, 'the batch answers 3 posts');
req(422, POST => '/api/posts/batch',
    { posts => [ \%video, { %video, profiles => ['nobody'] } ] });

# groups and profiles
my $groups = req(200, GET => '/api/profile_groups')->{json};
req(200, GET => "/api/profile_groups/$groups->{data}[0]{id}");
req(404, GET => '/api/profile_groups/pg_unknown');
req(200, GET => '/api/profiles');
req(200, GET => "/api/profiles/$prof");
req(404, GET => '/api/profiles/prof_unknown');
req(200, GET => "/api/profiles?profile_group_id=$t->{group}");

# webhooks
my $wh = req(201, POST => '/api/webhooks',
             { url => 'https://hooks.example/in', events => ['*'] })->{json};
req(200, GET => '/api/webhooks');
req(200, GET => "/api/webhooks/$wh->{id}");
req(200, PATCH => "/api/webhooks/$wh->{id}",
    { events => ['post.processed'], description => 'processed' });
req(202, POST => "/api/webhooks/$wh->{id}/test");
req(200, GET => "/api/webhooks/$wh->{id}/deliveries");
req(422, POST => '/api/webhooks', { url => 'ftp://x', events => [] });
req(200, DELETE => "/api/webhooks/$wh->{id}");
req(404, GET => "/api/webhooks/$wh->{id}");

# errors
req(401, GET => '/api/posts', key => undef);
req(401, GET => '/api/posts', key => 'tt_not_a_key');
req(400, POST => '/api/posts', raw => '{"post": ');
req(400, POST => '/api/posts', raw => '[1, 2]');
req(415, POST => '/api/posts', raw => 'body=1', content_type => 'text/plain');
req(413, POST => '/api/posts', raw => '{"post": {"body": "' . ('x' x 8000)
                                      . '"}}');
my $r = req(405, GET => '/api/posts/batch');
like($r->{headers}{allow} // '', qr/POST/, '405 says Allow: POST');
req(405, PUT => "/api/posts/$draft->{id}", {});
req(404, GET => '/api/nothing-here');

# every answer above, as the document describes it
my ($rc, $out) = $t->check_openapi();
my @lines = grep { /^(not )?ok - / } split /\n/, $out;
ok(@lines >= 35, scalar(@lines) . ' answers checked against openapi.yaml')
    or diag($out);
for my $l (@lines) {
    my ($bad, $what) = $l =~ /^(not )?ok - (.*)$/;
    ok(!$bad, "openapi: $what");
}
is($rc, 0, 'the checker passes them all') or diag($out);

# the check is real: broken copies of the document fail it
my $spec = TT::read_file("$TT::TOP/openapi.yaml");
my %broken = (
    'a field of another type' => sub {
        $_[0] =~ s/^(        draft: \{type: )boolean\}/${1}string}/m },
    'a required field the server does not send' => sub {
        $_[0] =~ s/(required: \[id, body, status, draft,)/$1 colour,/ },
    'a header pattern the answers do not match' => sub {
        my $from = '"^[0-9a-f]{32}$"';
        my $i = index($_[0], $from);
        return 0 if $i < 0;
        substr($_[0], $i, length $from) = '"^[0-9A-F]{40}$"';
        return 1 },
    'an undocumented status' => sub {
        $_[0] =~ s/^  "405": \{\$ref: "#\/components\/responses\/MethodNotAllowed"\}\n//m },
    'a field the answers carry but the schema forbids' => sub {
        $_[0] =~ s/^(        profiles_count: \{type: integer, minimum: 0\}\n)//m },
);
for my $name (sort keys %broken) {
    my $s = $spec;
    ok($broken{$name}->($s), "broken: $name");
    TT::write_file("$t->{dir}/broken.yaml", $s);
    my ($brc, $bout) = $t->check_openapi("$t->{dir}/broken.yaml");
    is($brc, 1, "the check fails with $name")
        or diag(join("\n", (split /\n/, $bout)[0 .. 3]));
}

$t->stop;
done_testing();
