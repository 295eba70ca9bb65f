#!/usr/bin/perl
#
# Copyright (C) the ngx_tiktok authors.
# End to end: /api/webhooks (create with the secret once, list, get,
# PATCH, DELETE, another workspace's 404, a scoped key's empty view and
# 403 to create, URL and event checks), and delivery by the scheduler to
# a receiver on loopback that checks every signature and counts
# duplicates: a post published through the simulator gives
# post.processed and platform_post.published
# once each; a receiver answering 500, too slow or redirecting is retried
# with growing intervals, visible in /deliveries, while a post publishes
# on time beside it; a loopback URL is refused without
# tiktok_webhook_allow_private; no secret in any log or later answer.

use strict;
use warnings;

use Digest::SHA qw(hmac_sha256_hex);
use File::Find;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(:sys_wait_h);
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

my $JSON = JSON::PP->new->utf8->canonical;

my $media = tempdir('tt-wh-media-XXXXXX', TMPDIR => 1, CLEANUP => 1);
system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
       'testsrc=size=720x1280:rate=30', '-t', '3', '-c:v', 'libx264',
       '-pix_fmt', 'yuv420p', "$media/small.mp4") == 0 or die 'ffmpeg';


# the receiver: a process per connection; /ok 200, /fail 500, /slow
# answers after 3 s, /redirect 302 to /ok?followed.  Each request is a
# JSON line in requests.jsonl, with whether its signature checks out with
# the secret secrets.json gives its path.
my $rdir = tempdir('tt-wh-recv-XXXXXX', TMPDIR => 1, CLEANUP => 1);
TT::write_file("$rdir/secrets.json", '{}');

sub receiver {
    my $srv = IO::Socket::INET->new(Listen => 64, LocalAddr => '127.0.0.1',
                                    LocalPort => 0, Proto => 'tcp',
                                    ReuseAddr => 1) or die "listen: $!";
    my $pid = fork() // die "fork: $!";
    if ($pid) {
        my $port = $srv->sockport;
        close $srv;
        return ($pid, $port);
    }
    $SIG{CHLD} = 'IGNORE';
    while (my $c = $srv->accept) {
        my $kid = fork();
        if (defined $kid && $kid == 0) {
            serve($c);
            POSIX::_exit(0);
        }
        close $c;
    }
    POSIX::_exit(0);
}

sub serve {
    my ($c) = @_;
    my $head = '';
    while ($head !~ /\r\n\r\n/) {
        my $n = sysread($c, $head, 4096, length $head) or return;
    }
    my ($hdr, $body) = split /\r\n\r\n/, $head, 2;
    my ($line, @lines) = split /\r\n/, $hdr;
    my %h = map { my ($k, $v) = split /:\s*/, $_, 2; (lc $k => $v) } @lines;
    while (length($body) < ($h{'content-length'} // 0)) {
        sysread($c, $body, 65536, length $body) or last;
    }
    my ($method, $path) = split / /, $line;
    (my $route = $path) =~ s/\?.*//;
    my $secrets = eval { $JSON->decode(TT::read_file("$rdir/secrets.json")) }
                  || {};
    my ($ts, $v1) = ($h{'x-webhook-signature'} // '') =~ /^t=(\d+),v1=([0-9a-f]{64})$/;
    my $secret = $secrets->{$route} // '';
    my $ok = defined $ts && $secret ne ''
             && hmac_sha256_hex("$ts.$body", $secret) eq $v1 ? 1 : 0;
    my $ev = eval { $JSON->decode($body) } || {};
    my $rec = $JSON->encode({ path => $path, method => $method,
        sig_ok => $ok, t => $ts, at => time,
        event => $h{'x-webhook-event'}, delivery => $h{'x-webhook-delivery'},
        ctype => $h{'content-type'}, id => $ev->{id}, type => $ev->{type},
        data => $ev->{data} });
    open my $fh, '>>', "$rdir/requests.jsonl" or die $!;
    syswrite($fh, "$rec\n");
    close $fh;

    my $status = $route eq '/fail' ? '500 Internal Server Error'
               : $route eq '/redirect' ? '302 Found'
               : '200 OK';
    sleep 3 if $route eq '/slow';
    my $loc = $route eq '/redirect' ? "Location: /ok?followed\r\n" : '';
    print $c "HTTP/1.1 $status\r\n${loc}Content-Length: 2\r\n"
             . "Connection: close\r\n\r\nok";
    close $c;
}

sub requests {
    my @r;
    for my $l (split /\n/, TT::read_file("$rdir/requests.jsonl")) {
        push @r, $JSON->decode($l);
    }
    return @r;
}

my ($rpid, $rport) = receiver();
my $R = "http://127.0.0.1:$rport";
my %secret_of;             # path -> secret, as the receiver reads them
my @secrets;

sub remember {
    my ($path, $secret) = @_;
    $secret_of{$path} = $secret;
    push @secrets, $secret;
    TT::write_file("$rdir/secrets.json", $JSON->encode(\%secret_of));
}


my $sim = Sim->start(media_dir => $media, client_key => 'sim-client',
                     client_secret => 'sim-secret');
my $run = tempdir('tt-wh-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$run/spool";

my $t = TT->new(tiktok_api => $sim->base, extra_http => <<"END");
    tiktok_wake_socket $run/wake.sock;
    tiktok_spool $run/spool;
    tiktok_webhook_allow_private on;
    tiktok_webhook_timeout 1s;
END


# 1. the API
my $ok_hook;
{
    my $r = $t->api(POST => '/api/webhooks',
                    { url => 'ftp://example.com/x', events => ['nope'],
                      color => 1 });
    is($r->{status}, 422, 'a bad webhook: 422');
    my $e = join("\n", @{ $r->{json}{errors} || [] });
    like($e, qr/url is not an https URL/, '... names the URL');
    like($e, qr/events\[0\] is not an event/, '... the event');
    like($e, qr/color is not a field of a webhook/, '... the unknown key');

    $r = $t->api(POST => '/api/webhooks',
                 { url => 'https://user:pw@example.com/hook',
                   events => ['*'] });
    like(join(' ', @{ $r->{json}{errors} || [] }),
         qr/url has a user name or password/, 'credentials in a URL: 422');

    $r = $t->api(POST => '/api/webhooks', { url => "$R/ok" });
    like(join(' ', @{ $r->{json}{errors} || [] }), qr/events is required/,
         'events required');

    $r = $t->api(POST => '/api/webhooks',
                 { url => "$R/ok", events => ['*'],
                   description => 'every event' });
    is($r->{status}, 201, 'created') or diag($r->{raw});
    my $wh = $r->{json};
    like($wh->{id}, qr/^wh_\w+$/, 'a wh_ id');
    like($wh->{secret}, qr/^whsec_[0-9a-f]{64}$/, 'the secret, once');
    is_deeply($wh->{events}, ['*'], 'events');
    is($wh->{enabled}, JSON::PP::true, 'enabled by default');
    $ok_hook = $wh->{id};
    remember('/ok', $wh->{secret});

    $r = $t->api(GET => "/api/webhooks/$ok_hook");
    is($r->{status}, 200, 'get');
    ok(!exists $r->{json}{secret}, 'get: no secret');
    is($r->{json}{url}, "$R/ok", 'get: the url');

    $r = $t->api(GET => '/api/webhooks');
    is(scalar @{ $r->{json}{data} }, 1, 'list: one');
    ok(!exists $r->{json}{data}[0]{secret}, 'list: no secret');

    $r = $t->api(PATCH => "/api/webhooks/$ok_hook",
                 { description => 'all of them' });
    is($r->{status}, 200, 'patch');
    is($r->{json}{description}, 'all of them', 'patch: changed');
    is_deeply($r->{json}{events}, ['*'], 'patch: the rest kept');
    ok(!exists $r->{json}{secret}, 'patch: no secret');

    $r = $t->api(PATCH => "/api/webhooks/$ok_hook", { events => [] });
    is($r->{status}, 422, 'patch: no events is 422');

    # another workspace sees none of it
    my $ws2 = $t->admin(qw(workspace create other));
    my $key2 = $t->admin('key', 'create', $ws2);
    for my $req (['GET', "/api/webhooks/$ok_hook"],
                 ['PATCH', "/api/webhooks/$ok_hook", { enabled => JSON::PP::false }],
                 ['DELETE', "/api/webhooks/$ok_hook"],
                 ['POST', "/api/webhooks/$ok_hook/test"],
                 ['GET', "/api/webhooks/$ok_hook/deliveries"]) {
        my ($m, $p, $b) = @$req;
        $r = $t->api($m, $p, $b ? ($b) : (), key => $key2);
        is($r->{status}, 404, "another workspace: $m $p is 404");
    }
    $r = $t->api(GET => '/api/webhooks', key => $key2);
    is_deeply($r->{json}{data}, [], "another workspace's list is empty");

    # a key of one profile group may not see every group's events
    my $scoped = $t->admin('key', 'create', $t->{ws}, '--group',
                           $t->{group});
    $r = $t->api(GET => '/api/webhooks', key => $scoped);
    is_deeply($r->{json}{data}, [], 'a scoped key sees no webhook');
    $r = $t->api(POST => '/api/webhooks',
                 { url => "$R/scoped", events => ['*'] }, key => $scoped);
    is($r->{status}, 403, 'a scoped key cannot create one');

    # plain http needs tiktok_webhook_allow_private (on here)
    $r = $t->api(POST => '/api/webhooks',
                 { url => "$R/only-processed",
                   events => ['post.processed'] });
    is($r->{status}, 201, 'a second webhook, post.processed only');
    remember('/only-processed', $r->{json}{secret});
}


# 2. failing receivers: retried with growing intervals
my %failing;
for my $path ('/fail', '/slow', '/redirect') {
    my $r = $t->api(POST => '/api/webhooks',
                    { url => "$R$path", events => ['webhook.test'] });
    is($r->{status}, 422, 'webhook.test is not an event to subscribe to');
    $r = $t->api(POST => '/api/webhooks',
                 { url => "$R$path", events => ['media.failed'] });
    is($r->{status}, 201, "webhook $path") or diag($r->{raw});
    remember($path, $r->{json}{secret});
    $failing{$path} = $r->{json}{id};
}

my $sched = $t->start_scheduler();

my %test_evt;
for my $path (sort keys %failing) {
    my $r = $t->api(POST => "/api/webhooks/$failing{$path}/test");
    is($r->{status}, 202, "test event to $path");
    like($r->{json}{event_id}, qr/^evt_/, '... its event id');
    $test_evt{$path} = $r->{json}{event_id};
}


# 3. a post published meanwhile: on time, its events once each
my ($prof, $user) = $t->add_sim_creator($sim);
my $t0 = time;
my $r = $t->api(POST => '/api/posts', {
    post => { body => 'webhooks' }, profiles => [$prof],
    media => [$sim->media_url('small.mp4')],
    platforms => { tiktok => { privacy_status => 'PUBLIC_TO_EVERYONE' } } });
is($r->{status}, 201, 'post created') or diag($r->{raw});
my $post_id = $r->{json}{id};

my $post;
for (1 .. 300) {
    $post = $t->api(GET => "/api/posts/$post_id")->{json};
    last if ($post->{status} // '') eq 'processed';
    sleep 0.1;
}
is($post->{status}, 'processed', 'the post is processed');
is($post->{platforms}[0]{status}, 'published', '... and published');
my $took = time - $t0;
ok($took < 20, sprintf('published in %.1f s beside the failing receivers',
                       $took));

sub wait_for {
    my ($cond, $secs) = @_;
    my $end = time + $secs;
    while (time < $end) {
        return 1 if $cond->();
        sleep 0.2;
    }
    return $cond->();
}

sub of_post {
    my ($path, $type) = @_;
    return grep { $_->{path} eq $path && ($_->{type} // '') eq $type
                  && ($_->{data}{post}{id} // '') eq $post_id } requests();
}

ok(wait_for(sub { of_post('/ok', 'post.processed')
                  && of_post('/ok', 'platform_post.published')
                  && of_post('/only-processed', 'post.processed') }, 15),
   'the receivers got the events');
sleep 1.5;      # three polls more: a duplicate would be there by now

for my $type ('post.processed', 'platform_post.published') {
    my @got = of_post('/ok', $type);
    is(scalar @got, 1, "$type once") or diag($JSON->encode(\@got));
    my $g = $got[0];
    is($g->{sig_ok}, 1, "$type: the signature checks out");
    is($g->{event}, $type, "$type: X-Webhook-Event");
    like($g->{delivery}, qr/^dlv_\w+$/, "$type: X-Webhook-Delivery");
    like($g->{id}, qr/^evt_\w+$/, "$type: the event id");
    like($g->{ctype}, qr{^application/json}, "$type: JSON");
    ok(abs($g->{t} - $g->{at}) < 60, "$type: t is the time it was sent");
}
is((of_post('/ok', 'platform_post.published'))[0]{data}{profile_id}, $prof,
   'platform_post.published names the profile');
is((of_post('/ok', 'post.processed'))[0]{data}{post}{platforms}[0]{status},
   'published', 'post.processed carries the post');
is(scalar(of_post('/only-processed', 'platform_post.published')), 0,
   'a webhook gets only the events it takes');
my @conn = grep { $_->{path} eq '/ok' && $_->{type} eq 'profile.connected'
                  && $_->{data}{profile}{id} eq $prof } requests();
is(scalar @conn, 1, 'profile.connected when the creator was added');
ok(!grep({ !$_->{sig_ok} } grep { $_->{path} =~ m{^/(ok|only)} } requests()),
   'every signature checks out');

$r = $t->api(GET => "/api/webhooks/$ok_hook/deliveries");
is($r->{status}, 200, 'deliveries');
my @ok = grep { $_->{event_type} eq 'post.processed' } @{ $r->{json}{data} };
is(scalar @ok, 1, 'deliveries: post.processed once');
is($ok[0]{success}, JSON::PP::true, '... a success');
is($ok[0]{response_status}, 200, '... 200');
is($ok[0]{attempt_number}, 1, '... at the first attempt');
is($ok[0]{status}, 'delivered', '... delivered');

# the failing ones: three attempts each, intervals growing
sub attempts {
    my ($path) = @_;
    my $d = $t->api(GET => "/api/webhooks/$failing{$path}/deliveries")
                ->{json}{data} || [];
    return sort { $a->{attempt_number} <=> $b->{attempt_number} }
           grep { $_->{event_id} eq $test_evt{$path} } @$d;
}

ok(wait_for(sub { (grep { my @a = attempts($_); @a >= 3 } keys %failing)
                  == 3 }, 45),
   'three attempts at each failing receiver');

sub ms { my ($iso) = @_; require Time::Local;
         my @p = $iso =~ /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)(?:\.(\d+))?Z$/
             or return 0;
         return Time::Local::timegm($p[5], $p[4], $p[3], $p[2], $p[1] - 1,
                                    $p[0]) * 1000 + ($p[6] // 0); }

for my $path (sort keys %failing) {
    my @a = attempts($path);
    is_deeply([map { $_->{attempt_number} } @a[0 .. 2]], [1, 2, 3],
              "$path: attempts 1, 2, 3 of the same event");
    ok(!grep({ $_->{success} } @a), "$path: none a success");
    is($a[0]{status}, 'retrying', "$path: retrying");
    ok(defined $a[0]{next_attempt_at}, "$path: the next try is shown");
    my ($d1, $d2) = (ms($a[1]{attempted_at}) - ms($a[0]{attempted_at}),
                     ms($a[2]{attempted_at}) - ms($a[1]{attempted_at}));
    ok($d1 >= 4000 && $d2 > $d1, "$path: intervals grow ($d1 ms, $d2 ms)");
    if ($path eq '/fail') {
        is($a[0]{response_status}, 500, '/fail: its 500 is recorded');
    } elsif ($path eq '/slow') {
        is($a[0]{response_status}, undef, '/slow: no answer');
        like($a[0]{error}, qr/timed out|timeout/i, '/slow: timed out');
    } else {
        is($a[0]{response_status}, 302, '/redirect: its 302');
        like($a[0]{error}, qr/redirects are not followed/,
             '/redirect: not followed');
    }
}
is(scalar(grep { $_->{path} eq '/ok?followed' } requests()), 0,
   'the redirect was never followed');

# deleted: its deliveries stop
for my $path (sort keys %failing) {
    $r = $t->api(DELETE => "/api/webhooks/$failing{$path}");
    is($r->{status}, 200, "delete $path");
    is($t->api(GET => "/api/webhooks/$failing{$path}")->{status}, 404,
       "$path is gone");
}
my $n = () = grep { $_->{path} =~ m{^/(fail|slow|redirect)} } requests();
sleep 12;
my $m = () = grep { $_->{path} =~ m{^/(fail|slow|redirect)} } requests();
ok($m - $n <= 3, "deleted webhooks are not called again ($n, then $m)");


# 4. without tiktok_webhook_allow_private: https only, no loopback
my $t2 = TT->new();
$t2->start_scheduler();
$r = $t2->api(POST => '/api/webhooks', { url => "$R/ok", events => ['*'] });
is($r->{status}, 422, 'plain http refused without the directive');
like(join(' ', @{ $r->{json}{errors} || [] }), qr/is not https/,
     '... saying why');
$r = $t2->api(POST => '/api/webhooks',
              { url => "https://127.0.0.1:$rport/private", events => ['*'] });
is($r->{status}, 201, 'an https URL to loopback is taken');
push @secrets, $r->{json}{secret};
my $priv = $r->{json}{id};
$t2->api(POST => "/api/webhooks/$priv/test");
my @pa;
ok(wait_for(sub {
        @pa = @{ $t2->api(GET => "/api/webhooks/$priv/deliveries")
                     ->{json}{data} || [] };
        scalar @pa }, 15), 'the attempt is recorded');
like($pa[0]{error} // '', qr/resolves to 127\.0\.0\.1, a loopback address/,
     'refused: a loopback address');
is(scalar(grep { $_->{path} eq '/private' } requests()), 0,
   'the receiver never heard of it');


# 5. no secret in a log, an answer after the create one, or the store
$t->stop();
$t2->stop();
$sim->stop();
kill 'TERM', $rpid;
waitpid($rpid, 0);

my @logs;
for my $dir ($t->{dir}, $t2->{dir}) {
    find({ no_chdir => 1, wanted => sub {
        return unless -f $_;
        return if m{/spool/} || m{/(client-secret|token-key)$};
        push @logs, $_;
    } }, $dir);
}
ok(scalar(grep { /scheduler\.log$/ } @logs), "the scheduler's log searched");
ok(scalar(grep { /data\.mdb$/ } @logs), 'the store too');
for my $log (@logs) {
    my $text = TT::read_file($log);
    my @found = grep { index($text, $_) >= 0 } @secrets;
    if ($log =~ /answers\.jsonl$/) {
        # the create answers, once each
        my $times = 0;
        for my $s (@secrets) { $times++ while $text =~ /\Q$s\E/g; }
        is($times, scalar(grep { index($text, $_) >= 0 } @secrets),
           "each secret in one answer only ($log)");
        next;
    }
    ok(!@found, "no secret in $log");
}

done_testing();
