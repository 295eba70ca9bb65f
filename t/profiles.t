#!/usr/bin/perl

# A profile group holds one TikTok profile, and a TikTok account is one
# profile of a workspace: tiktok-admin says so, names the profile in the
# way, and stores nothing; posts then go to each client's own group.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TT;

my $t = TT->new();
my $BUILD = $ENV{TT_BUILD} or die "TT_BUILD is not set";

my $first = $t->add_profile(open_id => 'acct-1');

# runs tiktok-admin; answers (exit status, stdout and stderr)
sub admin_raw {
    my @cmd = ("$BUILD/tiktok-admin", '-s', $t->{store},
               '-k', "$t->{dir}/token-key", @_);
    my $cmd = join(' ', map { quotemeta } @cmd) . " 2>&1";
    my $out = `$cmd`;
    return ($? >> 8, $out);
}

my @add = ('--username', 'u', '--name', 'N', '--access-token', 'act.x',
           '--refresh-token', 'rft.x', '--expires-in', 86400,
           '--refresh-expires-in', 31536000);

my ($rc, $out) = admin_raw('profile', 'add', $t->{first_group},
                           '--open-id', 'acct-2', @add);
is($rc, 1, 'a second profile in a group fails');
like($out, qr/the profile group already holds a TikTok profile: profile \Q$first\E/,
     'and names the profile in the way');

my $pg = $t->admin('group', 'create', $t->{ws}, 'client two');
($rc, $out) = admin_raw('profile', 'add', $pg, '--open-id', 'acct-1', @add);
is($rc, 1, 'the same account in another group fails');
like($out, qr/already a profile of the workspace: profile \Q$first\E/,
     'and names the profile');

($rc, $out) = admin_raw('profile', 'add', $pg, '--open-id', 'acct-2', @add);
is($rc, 0, 'another account in another group is added');
my ($second) = $out =~ /(prof_\w+)/;

my @list = $t->admin('profile', 'list', $t->{ws});
is(scalar @list, 2, 'two profiles stored, none half-way');

# each client's posts go to its group; a group key sees only its own
my $r = $t->api(POST => "/api/posts?profile_group_id=$pg", {
    post => { body => 'client two', scheduled_at => '2030-01-01T00:00:00Z' },
    profiles => ['tiktok'], media => ['https://cdn.example/v.mp4'],
    platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } });
is($r->{status}, 201, 'post in the second group');
is($r->{json}{platforms}[0]{profile_id}, $second, 'to its profile');

my $gkey = $t->admin('key', 'create', $t->{ws}, '--group', $pg);
$r = $t->api(GET => '/api/posts', key => $gkey);
is($r->{json}{total}, 1, 'the group key lists its group');
$r = $t->api(GET => '/api/posts');
is($r->{json}{total}, 1, 'the full key the workspace');

$t->stop();
done_testing();
