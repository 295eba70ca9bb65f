#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# A rotation of tiktok_token_key_file reaches the webhooks' signing
# secrets: tiktok-admin token-keys reseal seals them again with the new
# key in the same transaction as the tokens, after which the old key
# can go: with the key file holding the new key alone (nginx reloaded,
# the scheduler restarted), a delivery is still signed right, checked by
# a receiver with the secret shown when the webhook was made; a webhook
# made after the reload is sealed with the new key.  A secret that opens
# with no key of the file fails the whole reseal.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep time);

use lib 't/lib';
use TT;
use Hook;

my $BUILD = $TT::BUILD;

plan skip_all => 'no scheduler built' unless -x "$BUILD/tiktok-scheduler";
plan skip_all => 'no tiktok module built'
    unless -f "$BUILD/nginx/objs/ngx_http_tiktok_module.so";
plan skip_all => 'no mdb_dump (lmdb-utils)'
    if system('mdb_dump -V >/dev/null 2>&1');

my $hook = Hook->start();
my $t = TT->new(extra_http => "    tiktok_webhook_allow_private on;\n");
my $kf = "$t->{dir}/token-key";
my $old = TT::read_file($kf);
chomp $old;

sub admin_raw {
    my @cmd = ("$BUILD/tiktok-admin", '-s', $t->{store}, '-k', $kf, @_);
    my $out = `@{[ join ' ', map { quotemeta } @cmd ]} 2>&1`;
    return ($? >> 8, $out);
}

sub sealed {
    my ($id) = @_;
    my $dump = `mdb_dump -p -s webhooks $t->{store} 2>/dev/null`;
    my ($rec) = $dump =~ /(\{[^\n]*"id":"\Q$id\E"[^\n]*)/;
    return (($rec // '') =~ /"secret":"([^"]*)"/)[0] // '';
}

sub reload {
    my $pid = $t->{nginx_pid};
    my $before = () = $t->error_log() =~ /start worker process/g;
    kill 'HUP', $pid;
    for (1 .. 100) {
        my $now = () = $t->error_log() =~ /start worker process/g;
        return 1 if $now >= $before + 2;
        sleep 0.1;
    }
    return 0;
}

sub webhook {
    my ($path) = @_;
    my $r = $t->api(POST => '/api/webhooks',
                    { url => $hook->url($path), events => ['*'] });
    is($r->{status}, 201, "webhook $path") or diag($r->{raw});
    $hook->secret($path, $r->{json}{secret});
    return $r->{json}{id};
}

# a test event to the webhook, as the receiver got it
sub delivered {
    my ($id, $path) = @_;
    my $r = $t->api(POST => "/api/webhooks/$id/test");
    is($r->{status}, 202, "a test event to $path");
    my $evt = $r->{json}{event_id} // '-';
    my ($got) = $hook->wait(sub { ($_->{json}{id} // '') eq $evt }, 20);
    return $got;
}

my $wh = webhook('/before');
unlike(sealed($wh), qr/:/, 'the secret sealed with the bare key');

# the new key first, the old one kept; nginx and the scheduler read it
my $new = unpack('H*', TT::random_bytes(32));
TT::write_file($kf, "k2 $new\n$old\n");
ok(reload(), 'nginx reloaded with both keys');
$t->start_scheduler();

my ($rc, $out) = admin_raw('token-keys', 'reseal');
is($rc, 0, 'token-keys reseal') or diag($out);
like($out, qr/^1 sealed again/, 'the webhook secret sealed again');
like(sealed($wh), qr/^k2:/, 'with the new key (k2:)');

# the old key goes
TT::write_file($kf, "k2 $new\n");
ok(reload(), 'nginx reloaded with the new key alone');
$t->stop_scheduler();
$t->start_scheduler();

my $got = delivered($wh, '/before');
ok($got, 'the webhook made before the rotation is delivered to');
is($got && $got->{sig_ok}, 1, '... signed with its secret, as shown at '
                            . 'its creation');

my $wh2 = webhook('/after');
like(sealed($wh2), qr/^k2:/, 'a webhook made after the reload: k2');
$got = delivered($wh2, '/after');
is($got && $got->{sig_ok}, 1, '... delivered, signed right');
unlike(TT::read_file("$t->{dir}/scheduler.log"),
       qr/does not open|cannot open|token key/i,
       'the scheduler opened every secret');

# a key file without the key the secrets are sealed with
TT::write_file($kf, unpack('H*', TT::random_bytes(32)) . "\n");
($rc, $out) = admin_raw('token-keys', 'reseal');
is($rc, 1, 'a secret that opens with no key fails the reseal');
like($out, qr/webhook's signing secret does not open/, 'saying why');
like(sealed($wh), qr/^k2:/, 'and nothing changed');
TT::write_file($kf, "k2 $new\n");

$t->stop();
$hook->stop();
done_testing();
