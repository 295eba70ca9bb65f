#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# No secret in any log: a post published through the simulator (with a
# token refresh on the way), then the requests nginx itself logs with
# their header line at `info' (a duplicate Authorization, a header line
# over the buffer, a NUL in a header), and every log under the test's
# directory is searched for the API key, the TikTok tokens and the client
# secret.  The logs are at `notice', as make run's and README's are.

use strict;
use warnings;

use File::Find qw(find);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(sleep time);

use lib 't/lib';
use TT;
use Sim;

my $BUILD = $TT::BUILD;

plan skip_all => 'no scheduler built' unless -x "$BUILD/tiktok-scheduler";
plan skip_all => 'no tiktok module built'
    unless -f "$BUILD/nginx/objs/ngx_http_tiktok_module.so";
plan skip_all => 'no ffmpeg' if system('ffmpeg -version >/dev/null 2>&1');

my $media = tempdir('tt-secrets-media-XXXXXX', TMPDIR => 1, CLEANUP => 1);
system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
       'testsrc=size=720x1280:rate=30', '-t', '4', '-c:v', 'libx264',
       '-pix_fmt', 'yuv420p', "$media/v.mp4") == 0
    or die 'ffmpeg failed';

my $sim = Sim->start(media_dir => $media, client_key => 'sim-client',
                     client_secret => 'sim-secret');
my $t = TT->new(tiktok_api => $sim->base);

like(TT::read_file("$t->{dir}/nginx.conf"), qr/error_log \S+ notice;/,
     'the tests log at notice');

# an access token that expires at once: the scheduler refreshes it
my ($prof, $user) = $t->add_sim_creator($sim, expires_in => 1);
my @secrets = ($t->{key}, $user->{access_token}, $user->{refresh_token},
               'sim-secret');

my $sched = $t->start_scheduler();

my $r = $t->api(POST => '/api/posts', {
    post => { body => 'secrets #e2e' }, profiles => [$prof],
    media => [$sim->media_url('v.mp4')],
    platforms => { tiktok => { privacy_status => 'PUBLIC_TO_EVERYONE' } } });
is($r->{status}, 201, 'a post to publish') or diag($r->{raw});

my $pl;
for (my $end = time + 40; time < $end; sleep 0.2) {
    $pl = $t->api(GET => "/api/posts/$r->{json}{id}")->{json}{platforms}[0];
    last if ($pl->{status} // '') =~ /^(published|failed)$/;
}
is($pl->{status}, 'published', 'published, with a token refresh first')
    or diag(explain($pl));


# the requests whose header lines nginx logs at info
sub raw {
    my ($req) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$t->{port}",
                                  Proto => 'tcp', Timeout => 10)
        or die "connect: $!";
    print $s $req;
    local $/;
    my $answer = <$s> // '';
    close $s;
    return $answer;
}

my $auth = "Authorization: Bearer $t->{key}\r\n";
my $get = "GET /api/posts HTTP/1.1\r\nHost: x\r\n";

like(raw("$get$auth$auth\r\n"), qr{^HTTP/1\.1 400 }, 'two Authorization');
like(raw($get . "Authorization: Bearer $user->{access_token}\r\n"
         . "Authorization: Bearer $user->{refresh_token}\r\n\r\n"),
     qr{^HTTP/1\.1 400 }, 'two Authorization with the TikTok tokens');
like(raw($get . "Authorization: Bearer $t->{key}" . ('x' x 9000)
         . "\r\n\r\n"),
     qr{^HTTP/1\.1 (400|494) }, 'a header line over the buffer');
like(raw($get . "Authorization: Bearer $t->{key}\0\r\n\r\n"),
     qr{^HTTP/1\.1 400 }, 'a NUL in a header');
like(raw($get . "X-Key: $t->{key}\0 sim-secret\r\n$auth\r\n"),
     qr{^HTTP/1\.1 400 }, 'a NUL in another header');

$t->stop();
$sim->stop();

my @logs;
find({ no_chdir => 1, wanted => sub {
    return unless -f $_;
    # the store and the files that hold secrets by design
    return if m{/(store|spool)/} || m{/(client-secret|token-key)$};
    push @logs, $_;
} }, $t->{dir});

ok(scalar(grep { /error\.log$/ } @logs), 'the error log is searched');
ok(scalar(grep { /scheduler\.log$/ } @logs), "the scheduler's log too");

for my $log (@logs) {
    my $text = TT::read_file($log);
    my @found = grep { index($text, $_) >= 0 } @secrets;
    ok(!@found, "no secret in $log")
        or diag(join "\n", map { substr($_, 0, 300) }
                           grep { my $l = $_; grep { index($l, $_) >= 0 }
                                                   @secrets }
                           split /\n/, $text);
}

done_testing();
