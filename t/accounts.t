#!/usr/bin/perl

# Profile groups created, listed and deleted through the API, profiles
# deleted; a group-scoped key cannot create or delete groups; another
# workspace's key or another group's key sees 404, never data or 403.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TT;

my $t = TT->new();

# create
my $r = $t->api(POST => '/api/profile_groups',
                { profile_group => { name => 'Client A' } });
is($r->{status}, 201, 'group created');
my $pg = $r->{json}{id};
like($pg, qr/^pg_\w+$/, 'with a pg_ id');
is($r->{json}{name}, 'Client A', 'and its name');
is($r->{json}{profiles_count}, 0, 'and no profile');

$r = $t->api(GET => "/api/profile_groups/$pg");
is($r->{status}, 200, 'it is read back');
is($r->{json}{name}, 'Client A', 'by name');

$r = $t->api(GET => '/api/profile_groups');
is(scalar @{ $r->{json}{data} }, 2, 'listed beside the first group');

for my $bad ({ profile_group => {} },
             { profile_group => { name => '' } },
             { profile_group => { name => 'x', colour => 'red' } },
             { group => { name => 'x' } },
             { profile_group => { name => 'x' x 201 } },
             { profile_group => { name => "a\x01b" } })
{
    $r = $t->api(POST => '/api/profile_groups', $bad);
    is($r->{status}, 422, 'a bad group body is a 422');
    ok($r->{json}{errors}[0], "saying why: $r->{json}{errors}[0]");
}

# a group-scoped key: no create, no delete, even of its own group
my $gkey = $t->admin('key', 'create', $t->{ws}, '--group', $pg);
$r = $t->api(POST => '/api/profile_groups',
             { profile_group => { name => 'mine' } }, key => $gkey);
is($r->{status}, 403, 'a group key cannot create a group');
like($r->{json}{message}, qr/scoped to a profile group/, 'and is told why');
$r = $t->api(DELETE => "/api/profile_groups/$pg", key => $gkey);
is($r->{status}, 403, 'nor delete its own group');
$r = $t->api(DELETE => "/api/profile_groups/$t->{first_group}",
             key => $gkey);
is($r->{status}, 404, 'another group is a 404 to it');

# another workspace: 404 on everything of this one
my $ws2 = $t->admin(qw(workspace create), 'other');
my $key2 = $t->admin('key', 'create', $ws2);
my $prof = $t->add_profile(group => $pg, open_id => 'acct-a');
for my $call ([GET => "/api/profile_groups/$pg"],
              [DELETE => "/api/profile_groups/$pg"],
              [POST => "/api/profile_groups/$pg/initialize_connection",
               { platform => 'tiktok', redirect_url => 'https://app.example/done' }],
              [GET => "/api/profiles/$prof"],
              [DELETE => "/api/profiles/$prof"])
{
    my ($m, $p, $b) = @$call;
    $r = $t->api($m, $p, defined $b ? ($b) : (), key => $key2);
    is($r->{status}, 404, "$m $p with another workspace's key: 404");
    unlike($r->{raw}, qr/\Q$pg\E|\Q$prof\E|Client A/, 'and no data');
}
$r = $t->api(GET => '/api/profiles', key => $key2);
is_deeply($r->{json}{data}, [], "another workspace lists no profile");

# a group with a profile, posts or keys is not deleted: 409 naming them
$r = $t->api(DELETE => "/api/profile_groups/$pg");
is($r->{status}, 409, 'a group holding a profile is not deleted');
like($r->{json}{message}, qr/\Q$prof\E/, 'the 409 names the profile');

$r = $t->api(GET => "/api/profiles/$prof");
is($r->{json}{status}, 'active', 'the profile is active');
ok(!grep({ /token/ } keys %{ $r->{json} }), 'and shows no token');
is_deeply($r->{json}{scopes}, [], 'and its scopes');

my $post = $t->api(POST => "/api/posts?profile_group_id=$pg", {
    post => { body => 'held', scheduled_at => '2030-01-01T00:00:00Z' },
    profiles => ['tiktok'], media => ['https://cdn.example/v.mp4'],
    platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } });
is($post->{status}, 201, 'a post for the profile');
my $pid = $post->{json}{id};

# deleting the profile fails its posts and forgets it
$r = $t->api(DELETE => "/api/profiles/$prof", key => $gkey);
is($r->{status}, 200, 'the group key deletes its profile');
is_deeply($r->{json}, { deleted => JSON::PP::true() }, '{"deleted": true}');
$r = $t->api(GET => "/api/profiles/$prof");
is($r->{status}, 404, 'the profile is gone');
$r = $t->api(GET => "/api/posts/$pid");
is($r->{json}{platforms}[0]{status}, 'failed', 'its post failed');
like($r->{json}{platforms}[0]{error}, qr/profile of this post was deleted/,
     'saying the profile was deleted');

$r = $t->api(DELETE => "/api/profile_groups/$pg");
is($r->{status}, 409, 'a group with posts is not deleted');
like($r->{json}{message}, qr/1 post \(\Q$pid\E\)/, 'the 409 names the post');

$r = $t->api(DELETE => "/api/posts/$pid");
is($r->{status}, 200, 'the post deleted');
$r = $t->api(DELETE => "/api/profile_groups/$pg");
is($r->{status}, 409, 'a group with a key scoped to it is not deleted');
like($r->{json}{message}, qr/1 API key scoped to it \(key_\w+\)/, 'the 409 names the key');

my ($kid) = grep { /\Q$pg\E/ } $t->admin('key', 'list');
($kid) = ($kid // '') =~ /(key_\w+)/;
$t->admin('key', 'revoke', $kid);
$r = $t->api(DELETE => "/api/profile_groups/$pg");
is($r->{status}, 200, 'the empty group is deleted');
$r = $t->api(GET => "/api/profile_groups/$pg");
is($r->{status}, 404, 'and gone');
$r = $t->api(DELETE => "/api/profile_groups/$pg");
is($r->{status}, 404, 'a second delete is a 404');

$t->stop();
done_testing();
