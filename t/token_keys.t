#!/usr/bin/perl

# The token key file holds a new key beside the old one, with ids: the
# first seals, every one opens; tiktok-admin token-keys reseal seals every
# token again with the new key, after which the old one can go.  And
# profile update / profile remove.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TT;

my $t = TT->new();
my $BUILD = $ENV{TT_BUILD} || $TT::BUILD;
my $kf = "$t->{dir}/token-key";
my $old = TT::read_file($kf);
chomp $old;

sub admin_raw {
    my @cmd = ("$BUILD/tiktok-admin", '-s', $t->{store}, '-k', $kf, @_);
    my $out = `@{[ join ' ', map { quotemeta } @cmd ]} 2>&1`;
    return ($? >> 8, $out);
}

sub sealed {
    my ($prof) = @_;
    my $dump = `mdb_dump -p -s profiles $t->{store} 2>/dev/null`;
    my ($rec) = $dump =~ /(\{[^\n]*"id":"\Q$prof\E"[^\n]*)/;
    my ($at) = ($rec // '') =~ /"access_token":"([^"]*)"/;
    return $at // '';
}

my $prof = $t->add_profile(open_id => 'acct-k', access_token => 'act.secret-one',
                           refresh_token => 'rft.secret-one');
unlike(sealed($prof), qr/:/, 'sealed with the bare key: no key id');
unlike(TT::read_file("$t->{store}/data.mdb"), qr/secret-one/,
       'no token in the clear in the store');

# a new key first, the old one kept (bare, as it was)
my $new = unpack('H*', TT::random_bytes(32));
TT::write_file($kf, "# rotated\nk2 $new\n$old\n");
my ($rc, $out) = admin_raw('profile', 'update', $prof, '--name', 'Renamed');
is($rc, 0, 'with both keys, the tokens still open') or diag($out);
like(sealed($prof), qr/^k2:/, 'and a write seals with the new key (k2:)');

($rc, $out) = admin_raw('profile', 'update', $prof, '--access-token',
                        'act.secret-two', '--refresh-token', 'rft.secret-two',
                        '--expires-in', 3600, '--refresh-expires-in', 86400);
is($rc, 0, 'profile update takes new tokens');
like($out, qr/\Q$prof\E\tactive/, 'and the profile is active');

TT::write_file($kf, "$old\n");
my $p2 = $t->add_profile(open_id => 'acct-l', access_token => 'act.x2',
                         refresh_token => 'rft.x2');
unlike(sealed($p2), qr/:/, 'another profile sealed with the old key');
TT::write_file($kf, "k2 $new\n$old\n");

($rc, $out) = admin_raw('token-keys', 'reseal');
is($rc, 0, 'token-keys reseal') or diag($out);
like($out, qr/^4 sealed again/, 'seals both tokens of both profiles again');
like(sealed($p2), qr/^k2:/, 'every token under the new key');

# the old key goes: everything still opens
TT::write_file($kf, "k2 $new\n");
($rc, $out) = admin_raw('profile', 'update', $p2, '--name', 'after');
is($rc, 0, 'without the old key, the tokens open') or diag($out);

# a key file without the key a token was sealed with: said so
TT::write_file($kf, unpack('H*', TT::random_bytes(32)) . "\n");
($rc, $out) = admin_raw('token-keys', 'reseal');
is($rc, 1, 'a token that opens with no key fails the reseal');
like($out, qr/does not open/, 'saying why');
TT::write_file($kf, "k2 $new\n");

for my $bad ("k2 $new\nk2 $new\n", "bad id! $new\n", "k3 abcd\n", "\n") {
    TT::write_file($kf, $bad);
    ($rc, $out) = admin_raw('profile', 'update', $p2, '--name', 'x');
    is($rc, 1, 'a bad key file is refused');
    unlike($out, qr/\Q$new\E/, 'without printing a key');
}
TT::write_file($kf, "k2 $new\n");

# nginx -t takes the new format
my $test = `nginx -t -p $t->{dir} -c $t->{dir}/nginx.conf -e $t->{dir}/error.log 2>&1`;
like($test, qr/test is successful/, 'nginx -t accepts a key file with ids');

# profile remove: gone, its token queued for revocation (still sealed)
($rc, $out) = admin_raw('profile', 'remove', $prof);
is($rc, 0, 'profile remove');
my $r = $t->api(GET => "/api/profiles/$prof");
is($r->{status}, 404, 'the profile is gone');
my $work = `mdb_dump -p -s oauth_work $t->{store}`;
like($work, qr/\Q$prof\E/, 'its revocation is queued');
unlike($work, qr/secret-two/, 'its token sealed');

$t->stop();
done_testing();
