#!/usr/bin/perl

# Tests for the posts API through a real nginx: create, get, list with
# filters and paging, PATCH, DELETE, publish-now, batch, isolation.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TT;

my $t = TT->new();
my $prof = $t->add_profile(username => 'shop');

my %video = (
    post => { body => 'New product drop. Link in bio.',
              scheduled_at => '2026-05-12T11:00:00+02:00' },
    profiles => ['tiktok'],
    media => ['https://yourcdn.com/launch-9x16.mp4'],
    platforms => { tiktok => { privacy_status => 'PUBLIC_TO_EVERYONE' } },
);

# the seed's first example, as written
my $r = $t->api(POST => '/api/posts', \%video);
is($r->{status}, 201, 'create answers 201');
like($r->{headers}{'x-request-id'}, qr/^[0-9a-f]{32}$/, 'X-Request-Id');
like($r->{headers}{'content-type'}, qr{^application/json}, 'JSON');
my $p = $r->{json};
like($p->{id}, qr/^p_[A-Za-z0-9]{21}$/, 'post id');
is($p->{scheduled_at}, '2026-05-12T09:00:00Z', 'offset stored as UTC');
is($p->{status}, 'pending', 'media pending: post pending');
is($p->{draft}, JSON::PP::false, 'not a draft');
is($p->{media}[0]{status}, 'pending', 'media pending');
is($p->{media}[0]{source_url}, 'https://yourcdn.com/launch-9x16.mp4', 'url');
like($p->{media}[0]{id}, qr/^m_/, 'media id');
is($p->{platforms}[0]{profile_id}, $prof, 'profile resolved from "tiktok"');
is($p->{platforms}[0]{status}, 'pending', 'platform pending');
is($p->{platforms}[0]{params}{privacy_status}, 'PUBLIC_TO_EVERYONE', 'params');
ok(!exists $p->{workspace_id}, 'no internal fields');

$r = $t->api(GET => "/api/posts/$p->{id}");
is($r->{status}, 200, 'get');
is_deeply($r->{json}, $p, 'get answers what create answered');

# a draft by profile id, a photo post
$r = $t->api(POST => '/api/posts', {
    post => { body => 'draft', draft => JSON::PP::true },
    profiles => [$prof], media => ['https://cdn.example/a.mp4'],
    platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } });
is($r->{status}, 201, 'draft created');
is($r->{json}{status}, 'draft', 'status draft');
my $draft = $r->{json}{id};

$r = $t->api(POST => '/api/posts', {
    post => { body => 'Behind the scenes' }, profiles => ['tiktok'],
    media => [map { "https://cdn.example/bts-$_.jpg" } 1 .. 3],
    platforms => { tiktok => { format => 'image', photo_cover_index => 2,
                               privacy_status => 'PUBLIC_TO_EVERYONE' } } });
is($r->{status}, 201, 'photo post created');
is(scalar @{ $r->{json}{media} }, 3, 'three images');
is($r->{json}{platforms}[0]{params}{photo_cover_index}, 2, 'cover index');

# list, filters, paging
$r = $t->api(GET => '/api/posts');
is($r->{status}, 200, 'list');
is($r->{json}{total}, 3, 'total');
is($r->{json}{page}, 0, 'page 0');
is($r->{json}{per_page}, 10, 'per_page default');
is($r->{json}{data}[0]{body}, 'Behind the scenes', 'newest first');

$r = $t->api(GET => '/api/posts?status=draft');
is_deeply([map { $_->{id} } @{ $r->{json}{data} }], [$draft], 'status=draft');

$r = $t->api(GET => '/api/posts?scheduled_after=2026-05-01T00:00:00Z'
                    . '&scheduled_before=2026-05-13T00:00:00Z');
is_deeply([map { $_->{id} } @{ $r->{json}{data} }], [$p->{id}],
          'scheduled window');

$r = $t->api(GET => '/api/posts?per_page=2&page=1');
is($r->{json}{total}, 3, 'paged total');
is(scalar @{ $r->{json}{data} }, 1, 'second page holds the rest');

$r = $t->api(GET => '/api/posts?per_page=101');
is($r->{status}, 422, 'per_page over 100');

# PATCH changes only what is given
$r = $t->api(PATCH => "/api/posts/$p->{id}",
             { post => { body => 'Edited caption' } });
is($r->{status}, 200, 'patch');
is($r->{json}{body}, 'Edited caption', 'caption changed');
is($r->{json}{scheduled_at}, '2026-05-12T09:00:00Z', 'time kept');
is($r->{json}{media}[0]{id}, $p->{media}[0]{id}, 'media kept');

$r = $t->api(PATCH => "/api/posts/$p->{id}",
             { platforms => { tiktok => { disable_comment => JSON::PP::true } } });
is($r->{json}{platforms}[0]{params}{disable_comment}, JSON::PP::true,
   'param changed');
is($r->{json}{platforms}[0]{params}{privacy_status}, 'PUBLIC_TO_EVERYONE',
   'other params kept');

# publish-now of a draft
$r = $t->api(POST => "/api/posts/$draft/publish");
is($r->{status}, 200, 'publish draft');
is($r->{json}{draft}, JSON::PP::false, 'no longer a draft');
isnt($r->{json}{status}, 'draft', 'status moved on');

# batch: all or nothing
$r = $t->api(POST => '/api/posts/batch', { posts => [
    \%video, { %video, post => { body => 'x' x 2201 } } ] });
is($r->{status}, 422, 'batch with a bad post');
like($r->{json}{errors}[0], qr/^posts\[1\]: post\.body/, 'index named');
is($t->api(GET => '/api/posts')->{json}{total}, 3, 'nothing stored');

$r = $t->api(POST => '/api/posts/batch', { posts => [ (\%video) x 3 ] });
is($r->{status}, 201, 'batch created');
is(scalar @{ $r->{json}{data} }, 3, 'three posts');
is($t->api(GET => '/api/posts')->{json}{total}, 6, 'all stored');

# delete
$r = $t->api(DELETE => "/api/posts/$p->{id}");
is($r->{status}, 200, 'delete');
is_deeply($r->{json}, { deleted => JSON::PP::true }, 'deleted true');
is($t->api(GET => "/api/posts/$p->{id}")->{status}, 404, 'gone');

# another workspace sees nothing of ours, and gets 404, not 403
my $ws2 = $t->admin(qw(workspace create other));
my $key2 = $t->admin('key', 'create', $ws2);
$r = $t->api(GET => "/api/posts/$draft", key => $key2);
is($r->{status}, 404, 'other workspace: 404');
is_deeply($r->{json}, { error => 'Not found' }, 'not found shape');
is($t->api(GET => '/api/posts', key => $key2)->{json}{total}, 0,
   'other workspace lists nothing');
is($t->api(DELETE => "/api/posts/$draft", key => $key2)->{status}, 404,
   'other workspace cannot delete');

# a key scoped to another group of the same workspace
my $pg2 = $t->admin('group', 'create', $t->{ws}, 'Second');
my $scoped = $t->admin('key', 'create', $t->{ws}, '--group', $pg2);
is($t->api(GET => "/api/posts/$draft", key => $scoped)->{status}, 404,
   'scoped key: other group hidden');
is($t->api(GET => '/api/posts', key => $scoped)->{json}{total}, 0,
   'scoped key lists its group only');

# revoked key
my @keys = $t->admin('key', 'list', $ws2);
my ($key_id) = $keys[0] =~ /(key_\w+)/;
$t->admin('key', 'revoke', $key_id);
is($t->api(GET => '/api/posts', key => $key2)->{status}, 401, 'revoked key');

$t->stop();
done_testing();
