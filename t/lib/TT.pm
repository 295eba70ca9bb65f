package TT;

# The end-to-end harness: a real nginx with the module on a free loopback
# port, a fresh store, a workspace and an API key made with tiktok-admin,
# and optionally the TikTok simulator and the scheduler.
#
#   my $t = TT->new(extra_http => 'tiktok_body_limit 4k;');
#   (extra_server: in the server block; extra_api: in location /api/)
#   my $r = $t->api(POST => '/api/posts', { post => {...} });
#   is($r->{status}, 201); is($r->{json}{status}, 'pending');
#   my $pid = $t->start_scheduler;     # logs to $t->{dir}/scheduler.log
#
# Every answer api() gets is kept in $t->{dir}/answers.jsonl; with
# TT_OPENAPI=1 in the environment, stop() checks them against
# openapi.yaml (t/lib/openapi_check.py).
#
# TT->new(media_allow_private => 0) turns the media address guard on
# (conf/nginx.conf.in allows loopback media, for the simulator).
# TT->new(app_audited => 0): the TikTok app is not audited (nginx.conf.in
# says it is, as the simulator's default).
#
# TT->new(before_start => sub { my ($t) = @_; ... }, no_workspace => 1)
# lets a test lay $t->{store} down itself (a restored backup) before
# nginx starts, and makes no workspace or key in it.
#
# $t->stop stops what it started and fails the test if nginx logged an
# alert, an emergency or a sanitizer report.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Test::More;
use Time::HiRes qw(sleep time);

our $TOP = abs_path(dirname(__FILE__) . '/../..');
our $BUILD = $ENV{TT_BUILD} || "$TOP/build";
our $JSON = JSON::PP->new->utf8->canonical->allow_nonref;

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, Proto => 'tcp')
        or die "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub new {
    my ($class, %o) = @_;
    my $self = bless { %o }, $class;

    $self->{dir} = tempdir('tt-e2e-XXXXXX', TMPDIR => 1,
                           CLEANUP => !$ENV{TT_KEEP});
    $self->{port} = free_port();
    $self->{store} = "$self->{dir}/store";
    make_path("$self->{dir}/tmp");

    write_file("$self->{dir}/client-secret", "sim-secret\n");
    write_file("$self->{dir}/token-key", unpack('H*', random_bytes(32)) . "\n");

    $self->{tiktok_api} = $o{tiktok_api} || 'http://127.0.0.1:9';
    $self->write_conf();
    $o{before_start}->($self) if $o{before_start};
    $self->start_nginx();

    return $self if $o{no_workspace};

    $self->{ws} = $self->admin(qw(workspace create), 'e2e');
    $self->{group} = $self->first_group();
    $self->{first_group} = $self->{group};
    $self->{key} = $self->admin('key', 'create', $self->{ws});

    return $self;
}

sub random_bytes {
    my ($n) = @_;
    open my $fh, '<:raw', '/dev/urandom' or die $!;
    read($fh, my $buf, $n) == $n or die "urandom: $!";
    close $fh;
    return $buf;
}

# written beside and renamed into place, as an operator rotates a key
# file: a process that opens the path meanwhile reads the old content or
# the new, never a truncated file
sub write_file {
    my ($path, $data) = @_;
    my $tmp = "$path.tmp$$";
    open my $fh, '>:raw', $tmp or die "$tmp: $!";
    print $fh $data;
    close $fh or die "$tmp: $!";
    rename $tmp, $path or die "$path: $!";
}

sub read_file {
    my ($path) = @_;
    open my $fh, '<:raw', $path or return '';
    local $/;
    my $data = <$fh>;
    close $fh;
    return $data;
}

sub write_conf {
    my ($self) = @_;
    my $conf = read_file("$TOP/conf/nginx.conf.in");
    my %v = (
        MODULE => "$BUILD/nginx/objs/ngx_http_tiktok_module.so",
        WORKERS => $self->{workers} || 2,
        USER => $> == 0 ? 'user root;' : '',
        DIR => $self->{dir},
        LOG_LEVEL => $self->{log_level} || 'notice',
        ACCESS_LOG => "$self->{dir}/access.log tiktok",
        TIKTOK_API => $self->{tiktok_api},
        CLIENT_KEY => 'sim-client',
        PORT => $self->{port},
        EXTRA_HTTP => $self->{extra_http} || '',
        EXTRA_SERVER => $self->{extra_server} || '',
        EXTRA_API => $self->{extra_api} || '',
        WWW => "$TOP/www",
    );
    $conf =~ s/\@(\w+)\@/exists $v{$1} ? $v{$1} : die "no value for $1"/ge;
    if (defined $self->{media_allow_private}) {
        my $on = $self->{media_allow_private} ? 'on' : 'off';
        $conf =~ s/^(\s*tiktok_media_allow_private)\s+\w+;/$1 $on;/m
            or die "no tiktok_media_allow_private in nginx.conf.in";
    }
    if (defined $self->{app_audited}) {
        my $on = $self->{app_audited} ? 'on' : 'off';
        $conf =~ s/^(\s*tiktok_app_audited)\s+\w+;/$1 $on;/m
            or die "no tiktok_app_audited in nginx.conf.in";
    }
    write_file("$self->{dir}/nginx.conf", $conf);
}

sub start_nginx {
    my ($self) = @_;
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>>', "$self->{dir}/nginx.out";
        open STDERR, '>>', "$self->{dir}/nginx.out";
        exec('nginx', '-p', $self->{dir}, '-c', "$self->{dir}/nginx.conf",
             '-e', "$self->{dir}/error.log")
            or die "exec nginx: $!";
    }
    $self->{nginx_pid} = $pid;
    $self->wait_port($self->{port}, 'nginx');
}

sub wait_port {
    my ($self, $port, $what) = @_;
    my $until = time() + 15;
    while (time() < $until) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                      Proto => 'tcp');
        if ($s) { close $s; return; }
        if ($self->{nginx_pid}
            && waitpid($self->{nginx_pid}, WNOHANG) == $self->{nginx_pid})
        {
            delete $self->{nginx_pid};
            die "$what exited at start:\n"
                . read_file("$self->{dir}/error.log")
                . read_file("$self->{dir}/nginx.out");
        }
        sleep 0.05;
    }
    die "$what did not listen on $port:\n" . read_file("$self->{dir}/error.log");
}

sub stop_nginx {
    my ($self) = @_;
    my $pid = delete $self->{nginx_pid} or return;
    kill 'QUIT', $pid;
    my $until = time() + 10;
    while (time() < $until) {
        return if waitpid($pid, WNOHANG) == $pid;
        sleep 0.05;
    }
    kill 'KILL', $pid;
    waitpid($pid, 0);
}

# starts tiktok-scheduler on this store (stderr to scheduler.log); returns
# its pid.  stop() stops it, unless the caller reaped it already.
sub start_scheduler {
    my ($self) = @_;
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDERR, '>>', "$self->{dir}/scheduler.log";
        # TT_SCHED_WRAPPER: a command the scheduler runs under (make
        # valgrind: valgrind's memcheck), split on spaces
        my @wrap = split ' ', $ENV{TT_SCHED_WRAPPER} || '';
        exec(@wrap, "$BUILD/tiktok-scheduler", '-s', $self->{store}, '-v')
            or POSIX::_exit(127);
    }
    $self->{sched_pid} = $pid;
    return $pid;
}

sub stop_scheduler {
    my ($self) = @_;
    my $pid = delete $self->{sched_pid} or return;
    # -1: not our child any more (reaped by the caller): leave it alone
    return if waitpid($pid, WNOHANG) != 0;
    kill 'TERM', $pid;
    my $until = time() + 10;
    while (time() < $until) {
        return if waitpid($pid, WNOHANG) != 0;
        sleep 0.05;
    }
    kill 'KILL', $pid;
    waitpid($pid, 0);
}

# runs tiktok-admin against this store; returns the first line of stdout
sub admin {
    my ($self, @args) = @_;
    my @cmd = ("$BUILD/tiktok-admin", '-s', $self->{store},
               '-k', "$self->{dir}/token-key", @args);
    my $cmd = join(' ', map { quotemeta } @cmd) . " 2>>$self->{dir}/admin.log";
    open my $fh, '-|', $cmd or die "@cmd: $!";
    my @out = <$fh>;
    close $fh;
    die "@cmd failed: $?" if $?;
    chomp @out;
    return wantarray ? @out : $out[0];
}

sub first_group {
    my ($self) = @_;
    my @lines = $self->admin('group', 'list', $self->{ws});
    my ($id) = ($lines[0] // '') =~ /(pg_\w+)/ or die "no group: @lines";
    return $id;
}

# adds a TikTok profile to a group (tokens are opaque strings here).  A
# group holds one TikTok profile: once the current group has one, a new
# group is made; a POST /api/posts (or batch) naming the profile by id
# then acts on its group (api() adds the profile_group_id).
sub add_profile {
    my ($self, %p) = @_;
    if (!$p{group} && $self->{profiled}{ $self->{group} }) {
        my $pg = $self->admin('group', 'create', $self->{ws},
                              'creator ' . int(rand(1e9)));
        ($self->{group}) = $pg =~ /(pg_\w+)/ or die "no group: $pg";
    }
    my $group = $p{group} || $self->{group};
    $self->{profiled}{$group} = 1;
    my @out = $self->admin('profile', 'add', $group,
        '--open-id', $p{open_id} || 'open-' . int(rand(1e9)),
        '--username', $p{username} || 'creator',
        '--name', $p{name} || 'Creator',
        '--access-token', $p{access_token} || 'act.test',
        '--refresh-token', $p{refresh_token} || 'rft.test',
        '--expires-in', $p{expires_in} || 86400,
        '--refresh-expires-in', $p{refresh_expires_in} || 31536000);
    my ($id) = join(' ', @out) =~ /(prof_\w+)/ or die "no profile id: @out";
    $self->{prof_group}{$id} = $group;
    return $id;
}

# a creator made in the simulator (a public account unless the fields
# of user => {...} say otherwise), connected as a profile with its tokens
# (expires_in => S says the access token expires sooner): returns
# (profile id, the simulator's user)
sub add_sim_creator {
    my ($self, $sim, %o) = @_;
    my $u = $sim->add_user(account_private => JSON::PP::false,
                           %{ $o{user} || {} });
    my $prof = $self->add_profile(open_id => $u->{open_id},
                                  username => $u->{username},
                                  access_token => $u->{access_token},
                                  refresh_token => $u->{refresh_token},
                                  expires_in => $o{expires_in}
                                                // $u->{expires_in},
                                  refresh_expires_in =>
                                      $u->{refresh_expires_in});
    return ($prof, $u);
}

sub url { my ($self, $path) = @_; return "http://127.0.0.1:$self->{port}$path"; }

# $t->api(METHOD, PATH, [BODY], %opts): BODY is a Perl structure (sent as
# JSON) or, with raw => STRING, bytes as they are.  Options: key (default
# the workspace key; undef sends none), headers, content_type.
# the group of the first profile a create body names by id, if it is not
# the workspace's first group (where calls act by default)
sub group_of_body {
    my ($self, $body) = @_;
    return undef unless ref $body eq 'HASH';
    my @p = ref $body->{posts} eq 'ARRAY' ? @{ $body->{posts} } : ($body);
    for my $one (@p) {
        next unless ref $one eq 'HASH' && ref $one->{profiles} eq 'ARRAY';
        for my $id (@{ $one->{profiles} }) {
            my $g = $self->{prof_group}{$id // ''} or next;
            return $g eq $self->{first_group} ? undef : $g;
        }
    }
    return undef;
}

sub api {
    my ($self, $method, $path, @rest) = @_;
    my $body = @rest % 2 ? shift @rest : undef;
    my %o = @rest;

    my %h = %{ $o{headers} || {} };
    my $key = exists $o{key} ? $o{key} : $self->{key};
    $h{Authorization} = "Bearer $key" if defined $key;

    my $content = $o{raw};
    $content = $JSON->encode($body) if defined $body;
    if (defined $content) {
        $h{'Content-Type'} = exists $o{content_type}
            ? $o{content_type} : 'application/json';
        delete $h{'Content-Type'} unless defined $h{'Content-Type'};
    }

    my $pg = $self->group_of_body($body);
    if (defined $pg && $method eq 'POST'
        && $path =~ m{^/api/posts(/batch)?(\?|$)}
        && $path !~ /profile_group_id=/ && !exists $o{key})
    {
        $path .= ($path =~ /\?/ ? '&' : '?') . "profile_group_id=$pg";
    }

    # timeout => N: seconds to wait for the answer (30)
    my $http = HTTP::Tiny->new(timeout => $o{timeout} || 30,
                               keep_alive => 0);
    my $res = $http->request($method, $self->url($path), {
        headers => \%h, defined $content ? (content => $content) : () });

    my $json = eval { $JSON->decode($res->{content}) };
    $self->record($method, $path, $res);
    return { status => $res->{status}, headers => $res->{headers},
             raw => $res->{content}, json => $json };
}

# every answer api() got, a JSON line each in answers.jsonl, for
# t/lib/openapi_check.py (599: HTTP::Tiny's own, no answer)
sub record {
    my ($self, $method, $path, $res) = @_;
    return if $res->{status} == 599;
    my %h = map { my $v = $res->{headers}{$_};
                  ($_ => ref $v ? join(', ', @$v) : $v) }
            keys %{ $res->{headers} };
    my $line = JSON::PP->new->canonical->encode({
        method => $method, path => $path, status => $res->{status} + 0,
        headers => \%h, body => $res->{content} // '' });
    open my $fh, '>>', "$self->{dir}/answers.jsonl" or return;
    print $fh "$line\n";
    close $fh;
}

# checks the answers so far against openapi.yaml: (exit code, output)
sub check_openapi {
    my ($self, $spec) = @_;
    $spec //= "$TOP/openapi.yaml";
    my $answers = "$self->{dir}/answers.jsonl";
    return (0, '') unless -s $answers;
    # Debian's python3 and its python3-jsonschema (scripts/deps.sh)
    my $py = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
    my $out = `$py $TOP/t/lib/openapi_check.py $spec $answers 2>&1`;
    return ($? >> 8, $out);
}

# Clients on many connections that write while nginx reloads (t/reload.t,
# t/shutdown.t):
#
#   $t->start_clients(16, sub { my ($n, $i, $http, $out) = @_; ... });
#   $t->reload_under_load(reloads => 5, between => 200,
#                         answered => qr/\t201\t/);
#   $t->stop_clients;
#   for my $line ($t->client_lines) { ... }
#
# Client n (1..N, a process of its own) calls the sub with i = 0, 1, ...
# until stop_clients, with its HTTP::Tiny (kept connections) and its log,
# a line per answer, in $t->{dir}/client.n.
sub start_clients {
    my ($self, $n, $each) = @_;
    my $stop = "$self->{dir}/clients.stop";
    for my $c (1 .. $n) {
        my $pid = fork() // die "fork: $!";
        if ($pid == 0) {
            my $http = HTTP::Tiny->new(timeout => 30, keep_alive => 1);
            open my $out, '>', "$self->{dir}/client.$c" or POSIX::_exit(1);
            $out->autoflush(1);
            for (my $i = 0; !-e $stop; $i++) {
                $each->($c, $i, $http, $out);
            }
            close $out;
            POSIX::_exit(0);
        }
        push @{ $self->{clients} }, $pid;
    }
}

sub stop_clients {
    my ($self) = @_;
    write_file("$self->{dir}/clients.stop", '');
    waitpid($_, 0) for @{ $self->{clients} || [] };
}

sub client_lines {
    my ($self) = @_;
    my $n = @{ $self->{clients} || [] };
    return map { split /\n/, read_file("$self->{dir}/client.$_") } 1 .. $n;
}

# nginx reloaded RELOADS times, each after BETWEEN more answers that match
# ANSWERED, and each until its old workers log that they are leaving
sub reload_under_load {
    my ($self, %o) = @_;
    my $master = read_file("$self->{dir}/nginx.pid");
    chomp $master;

    my $answered = sub {
        return scalar grep { $_ =~ $o{answered} } $self->client_lines;
    };
    my $wait = sub {
        my $want = $answered->() + $o{between};
        for (my $end = time + 30; time < $end && $answered->() < $want; ) {
            sleep 0.05;
        }
    };

    for my $i (1 .. $o{reloads}) {
        $wait->();
        kill 'HUP', $master;
        for (my $end = time + 10; time < $end; sleep 0.05) {
            my $n = () = $self->error_log() =~ /gracefully shutting down/g;
            last if $n >= 2 * $i;
        }
    }
    $wait->();
}

# body => id of every post GET /api/posts lists, page by page
sub stored_posts {
    my ($self) = @_;
    my %stored;
    for (my $page = 0; ; $page++) {
        my $r = $self->api(GET => "/api/posts?per_page=100&page=$page");
        if ($r->{status} != 200) {
            Test::More::is($r->{status}, 200, "list page $page");
            last;
        }
        my $data = $r->{json}{data};
        $stored{$_->{body}} = $_->{id} for @$data;
        last if @$data < 100;
    }
    return \%stored;
}

# the body of a draft post (no media fetched, nothing published)
sub draft_json {
    my ($body) = @_;
    return $JSON->encode({
        post => { body => $body, draft => JSON::PP::true },
        profiles => ['tiktok'], media => ['https://cdn.example/v.mp4'],
        platforms => { tiktok => { privacy_status => 'SELF_ONLY' } } });
}

# the error log so far, for assertions
sub error_log { my ($self) = @_; return read_file("$self->{dir}/error.log"); }

# stops everything and checks error.log: call before done_testing()
sub stop {
    my ($self) = @_;
    return if $self->{stopped}++;
    $self->stop_scheduler();
    $self->stop_nginx();
    # a restart on the same port may find it taken for a moment by
    # another program's free_port(): nginx tries again (and a start that
    # never binds dies in wait_port), so that one emerg is not a fault
    my @bad = grep { /\[(alert|emerg|crit)\]|AddressSanitizer|runtime error:/
                     && !/\[emerg\].* bind\(\) to 127\.0\.0\.1:\d+ failed \(98: /
                   } split /\n/, $self->error_log();
    Test::More::ok(!@bad, 'no alerts or sanitizer reports in error.log')
        or Test::More::diag(join("\n", @bad));
    # TT_OPENAPI=1 prove t/: every answer of the suite against openapi.yaml
    if ($ENV{TT_OPENAPI}) {
        my ($rc, $out) = $self->check_openapi();
        Test::More::is($rc, 0, 'every answer as openapi.yaml describes it')
            or Test::More::diag(join("\n", grep { /^not ok/ }
                                               split /\n/, $out));
    }
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $!, $@);
    $self->stop_scheduler();
    $self->stop_nginx();
}

1;
