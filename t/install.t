#!/usr/bin/perl

# make install into a DESTDIR lays the project out as Debian's
# libnginx-mod-* packages do; Debian's nginx binary, started with a main
# configuration shaped like Debian's (modules-enabled, conf.d) and the
# installed example configuration (its paths moved into the DESTDIR, a
# loopback port, the TikTok simulator as API base), loads the installed
# module, and the installed scheduler (finding its installed children)
# publishes a post end to end.  Run as root, the workers and the
# scheduler run as www-data, as on a Debian server.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Cwd qw(abs_path);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use POSIX qw(:sys_wait_h);
use Test::More;
use Time::HiRes qw(sleep time);
use TT;
use Sim;

my $BUILD = $TT::BUILD;
plan skip_all => 'no tiktok module built'
    unless -f "$BUILD/nginx/objs/ngx_http_tiktok_module.so";
plan skip_all => 'no ffmpeg' if system('ffmpeg -version >/dev/null 2>&1');

my $d = tempdir('tt-install-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{TT_KEEP});
chmod 0755, $d;

# 1. make install
my $out = `make -s -C $TT::TOP install DESTDIR=$d PREFIX=/usr BUILD=$BUILD 2>&1`;
is($?, 0, 'make install DESTDIR PREFIX=/usr') or diag($out);

my %files = (
    'usr/lib/nginx/modules/ngx_http_tiktok_module.so' => 0644,
    'usr/share/nginx/modules-available/mod-http-tiktok.conf' => 0644,
    'usr/bin/tiktok-scheduler' => 0755, 'usr/bin/tiktok-admin' => 0755,
    'usr/bin/tiktok-fetch' => 0755, 'usr/bin/tiktok-probe' => 0755,
    'usr/lib/systemd/system/tiktok-scheduler.service' => 0644,
    'usr/share/doc/ngx-tiktok/examples/tiktok.conf' => 0644,
);
for my $f (sort keys %files) {
    my @st = stat("$d/$f");
    ok(@st && ($st[2] & 07777) == $files{$f},
       sprintf('%s installed, mode %o', $f, $files{$f}));
}
# tiktok-admin starts fast: its libraries are linked in, only libc and
# libcrypto (for OpenSSL's security updates) are loaded (a sanitizer's
# build loads its runtime as well)
my @needed = map { /\[(.+)\]/ ? $1 : () }
             grep { /NEEDED/ } `readelf -d $d/usr/bin/tiktok-admin`;
my @extra = grep {
    !/^(libc\.so|ld-linux|libasan|libubsan|libm\.so|libcrypto\.so)/ }
            @needed;
SKIP: {
    # a sanitizer's build (make e2e-asan) links every library shared
    skip 'a sanitizer build', 1 if grep { /^libasan/ } @needed;
    is("@extra", '', 'tiktok-admin loads no shared library but libc, '
                     . 'libcrypto') or diag("@needed");
}

is(TT::read_file("$d/usr/share/nginx/modules-available/mod-http-tiktok.conf"),
   "load_module modules/ngx_http_tiktok_module.so;\n",
   'the snippet is a load_module line relative to nginx\'s prefix');

my $unit = TT::read_file("$d/usr/lib/systemd/system/tiktok-scheduler.service");
like($unit, qr{^ExecStart=/usr/bin/tiktok-scheduler -s /var/lib/tiktok$}m,
     'the unit runs the installed scheduler on the store');
like($unit, qr/^Restart=on-failure$/m, 'restarts on failure');
like($unit, qr/^PartOf=nginx\.service$/m, 'stops and restarts with nginx');
like($unit, qr/^After=nginx\.service/m, 'starts after nginx');
like($unit, qr/^WantedBy=nginx\.service$/m, 'enabled with nginx');
like($unit, qr/^StateDirectory=tiktok$/m, 'its store is its StateDirectory');
like($unit, qr/^User=www-data$/m, 'runs as nginx\'s workers\' user');
SKIP: {
    skip 'no systemd-analyze', 1
        if system('systemd-analyze --version >/dev/null 2>&1');
    # verify wants the ExecStart program to exist: the installed one
    (my $u = $unit) =~ s{=/usr/bin/}{=$d/usr/bin/}g;
    TT::write_file("$d/tiktok-scheduler.service", $u);
    my $v = `systemd-analyze verify $d/tiktok-scheduler.service 2>&1`;
    ok($? == 0 && $v !~ /tiktok-scheduler\.service:\d+:/,
       'systemd-analyze verify accepts the unit') or diag($v);
}

# 2. Debian's layout around it: nginx-common's modules link, the
# modules-enabled link the packages' postinst makes, conf.d
make_path("$d/etc/nginx/modules-enabled", "$d/etc/nginx/conf.d",
          "$d/etc/tiktok", "$d/var/log/nginx", "$d/var/lib", "$d/run",
          "$d/tmp", "$d/media");
symlink('../../lib/nginx/modules', "$d/usr/share/nginx/modules") or die $!;
symlink("$d/usr/share/nginx/modules-available/mod-http-tiktok.conf",
        "$d/etc/nginx/modules-enabled/50-mod-http-tiktok.conf") or die $!;

my $root = $> == 0;
my ($uid, $gid) = $root ? (getpwnam('www-data'))[2, 3] : ($>, $));
($gid) = split ' ', $gid;
plan skip_all => 'no www-data user' unless defined $uid;

TT::write_file("$d/etc/tiktok/client-secret", "sim-secret\n");
TT::write_file("$d/etc/tiktok/token-key",
               unpack('H*', TT::random_bytes(32)) . "\n");
for my $f ("$d/etc/tiktok/client-secret", "$d/etc/tiktok/token-key") {
    chown(0, $gid, $f) if $root;
    chmod(0640, $f);
}
chmod 0755, "$d/etc", "$d/etc/tiktok";

# the example, its paths moved into the DESTDIR
my $sim = Sim->start(media_dir => "$d/media", client_key => 'your-client-key',
                     client_secret => 'sim-secret');
my $port = TT::free_port();
my $conf = TT::read_file("$d/usr/share/doc/ngx-tiktok/examples/tiktok.conf");
my $n = 0;
$n += $conf =~ s{/var/lib/tiktok}{$d/var/lib/tiktok}g;
$n += $conf =~ s{/etc/tiktok/}{$d/etc/tiktok/}g;
$n += $conf =~ s{/var/log/nginx/}{$d/var/log/nginx/}g;
$n += $conf =~ s{/usr/share/ngx-tiktok/}{$d/usr/share/ngx-tiktok/}g;
$n += $conf =~ s{^(\s*)listen\s+8080;}{$1listen 127.0.0.1:$port;}m;
$n += $conf =~ s{^# (tiktok_api_base\s+)\S+;}{$1 . $sim->base . ';'}me;
$n += $conf =~ s{^# (tiktok_authorize_url\s+)\S+;}
                {$1 . $sim->base . '/v2/auth/authorize/;'}me;
like($conf, qr{^tiktok_store\s+\Q$d\E/var/lib/tiktok;$}m,
     'the example\'s store moved into the DESTDIR');
like($conf, qr{^\s*listen\s+127\.0\.0\.1:$port;$}m, 'its port');
like($conf, qr{^tiktok_api_base\s+\Q@{[ $sim->base ]}\E;$}m,
     'its API base the simulator');
my @outside = grep { !/^\s*#/ && m{\s/(etc|var|usr)/} } split /\n/, $conf;
is("@outside", '', 'no path of the example left outside the DESTDIR');
$conf .= "tiktok_media_allow_private on;   # the simulator is on loopback\n";
# the simulator plays an audited app; the example says a new one is not
$conf =~ s{^(tiktok_app_audited\s+)off;}{${1}on;}m
    or die 'no "tiktok_app_audited off;" in the example';
TT::write_file("$d/etc/nginx/conf.d/tiktok.conf", $conf);

# a main configuration shaped like Debian's /etc/nginx/nginx.conf
TT::write_file("$d/etc/nginx/nginx.conf", <<"END");
user www-data;
worker_processes 2;
pid $d/run/nginx.pid;
daemon off;
error_log $d/var/log/nginx/error.log notice;
include $d/etc/nginx/modules-enabled/*.conf;

events {
    worker_connections 768;
}

http {
    access_log $d/var/log/nginx/access.log;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path       $d/tmp/proxy;
    fastcgi_temp_path     $d/tmp/fastcgi;
    uwsgi_temp_path       $d/tmp/uwsgi;
    scgi_temp_path        $d/tmp/scgi;

    include $d/etc/nginx/conf.d/*.conf;
}
END

# 3. Debian's nginx, its prefix the DESTDIR's /usr/share/nginx
my @nginx = ('nginx', '-p', "$d/usr/share/nginx/", '-c',
             "$d/etc/nginx/nginx.conf", '-e', "$d/var/log/nginx/error.log");
$out = `@nginx -t 2>&1`;
is($?, 0, 'nginx -t accepts the installed module and the example')
    or diag($out);

my $nginx = fork() // die "fork: $!";
if ($nginx == 0) {
    open STDOUT, '>>', "$d/nginx.out";
    open STDERR, '>>', "$d/nginx.out";
    exec(@nginx) or POSIX::_exit(127);
}
wait_port($port);

my $store = "$d/var/lib/tiktok";
if ($root) {
    is((stat $store)[4], $uid, 'the store made by the master belongs to'
       . ' www-data');
    is((stat "$store/data.mdb")[4], $uid, 'and its data.mdb');
    is((stat "$store/lock.mdb")[4], $uid, 'and its lock.mdb');
}

sub admin {
    my @cmd = ("$d/usr/bin/tiktok-admin", '-s', $store, '-k',
               "$d/etc/tiktok/token-key", @_);
    my $o = `@{[ map { quotemeta } @cmd ]} 2>>$d/admin.log`;
    die "@cmd: $?" if $?;
    chomp $o;
    return (split /\n/, $o)[0];
}

my $ws = admin(qw(workspace create installed));
my ($group) = admin('group', 'list', $ws) =~ /^(pg_\w+)/;
my $key = admin('key', 'create', $ws);
my $u = $sim->add_user(account_private => JSON::PP::false);
my $prof = admin('profile', 'add', $group, '--open-id', $u->{open_id},
                 '--username', $u->{username}, '--name', 'Installed',
                 '--access-token', $u->{access_token},
                 '--refresh-token', $u->{refresh_token},
                 '--expires-in', $u->{expires_in},
                 '--refresh-expires-in', $u->{refresh_expires_in});
like($prof, qr/^prof_/, 'a creator connected with the installed admin');

# 4. the installed scheduler, as the unit runs it
my $sched = fork() // die "fork: $!";
if ($sched == 0) {
    open STDERR, '>>', "$d/scheduler.log";
    if ($root) {
        POSIX::setgid($gid) or POSIX::_exit(126);
        $) = "$gid $gid";
        POSIX::setuid($uid) or POSIX::_exit(126);
    }
    exec("$d/usr/bin/tiktok-scheduler", '-s', $store, '-v')
        or POSIX::_exit(127);
}

system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
       'testsrc=size=720x1280:rate=30', '-t', '4', '-c:v', 'libx264',
       '-pix_fmt', 'yuv420p', "$d/media/clip.mp4") == 0 or die 'ffmpeg';
chmod 0644, "$d/media/clip.mp4";

my $http = HTTP::Tiny->new(timeout => 30);
my %h = (Authorization => "Bearer $key",
         'Content-Type' => 'application/json');
my $r = $http->post("http://127.0.0.1:$port/api/posts", { headers => \%h,
    content => $TT::JSON->encode({
        post => { body => 'installed like a module' },
        profiles => ['tiktok'], media => [$sim->media_url('clip.mp4')],
        platforms => { tiktok => {
            privacy_status => 'PUBLIC_TO_EVERYONE' } } }) });
is($r->{status}, 201, 'POST /api/posts through the installed module')
    or diag($r->{content});
like($r->{headers}{'x-request-id'} // '', qr/^[0-9a-f]{32}$/,
     'X-Request-Id');
my $id = ($TT::JSON->decode($r->{content}) // {})->{id} // '';

# the calendar page, from the installed files
$r = $http->get("http://127.0.0.1:$port/");
like("$r->{status} $r->{content}", qr{^200 .*<title>TikTok calendar</title>}s,
     'the installed example serves the calendar page');
is($http->get("http://127.0.0.1:$port/vendor/fullcalendar.min.js")
        ->{status}, 200, 'and its library');

my $p;
my $until = time() + 60;
while (time() < $until) {
    $r = $http->get("http://127.0.0.1:$port/api/posts/$id",
                    { headers => \%h });
    $p = eval { $TT::JSON->decode($r->{content}) } || {};
    my $st = $p->{platforms}[0]{status} // '';
    last if $st eq 'published' || $st eq 'failed';
    sleep 0.2;
}
is($p->{platforms}[0]{status}, 'published', 'the post is published')
    or diag($r->{content}, TT::read_file("$d/scheduler.log"));
is($p->{status}, 'processed', 'and processed');
my @pub = grep { ($_->{publish_id} // '') eq
                 ($p->{platforms}[0]{publish_id} // '-') }
          @{ $sim->ledger->{publishes} };
is(scalar(@pub), 1, 'TikTok (the simulator) got it once');
my $slog = TT::read_file("$d/scheduler.log");
unlike($slog, qr/is not next to this program/,
       'the installed scheduler found tiktok-fetch and tiktok-probe');
if ($root) {
    is((stat "$store/spool")[4], $uid, 'the spool belongs to www-data');
}

# 5. stop, and nothing alarming in the log
kill 'TERM', $sched;
waitpid($sched, 0);
undef $sched;
is($? >> 8, 0, 'the scheduler exits cleanly on SIGTERM');
kill 'QUIT', $nginx;
waitpid($nginx, 0);
undef $nginx;
my @bad = grep { /\[(alert|emerg|crit)\]/ }
          split /\n/, TT::read_file("$d/var/log/nginx/error.log");
ok(!@bad, 'no alerts in nginx\'s error log') or diag(join("\n", @bad));

done_testing();

# an answer, not a connection: nginx listens before its master has run
# the module's start (which makes the store), and its workers answer after
sub wait_port {
    my ($pt) = @_;
    my $end = time() + 15;
    my $ua = HTTP::Tiny->new(timeout => 2);
    while (time() < $end) {
        my $res = $ua->get("http://127.0.0.1:$pt/api/health");
        return if $res->{status} != 599;
        if (waitpid($nginx, WNOHANG) == $nginx) {
            die "nginx exited:\n" . TT::read_file("$d/nginx.out")
                . TT::read_file("$d/var/log/nginx/error.log");
        }
        sleep 0.05;
    }
    die "nginx did not listen on $pt\n"
        . TT::read_file("$d/var/log/nginx/error.log");
}

END {
    kill 'TERM', $sched if $sched;
    kill 'QUIT', $nginx if $nginx;
}
