#
# Copyright (C) the ngx_tiktok authors.
# A webhook receiver on a free loopback port, for the end-to-end tests:
# a process per connection answers 200 (or /fail: 500), and records each
# request as a JSON line with whether its X-Webhook-Signature checks out
# with the secret given for its path (the HMAC-SHA256 of "<t>.<raw body>"
# keyed with the whole whsec_ string, as README's receiver does it).
#
#   use lib 't/lib';
#   use Hook;
#   my $h = Hook->start();
#   my $wh = $t->api(POST => '/api/webhooks',
#                    { url => $h->url('/all'), events => ['*'] })->{json};
#   $h->secret('/all', $wh->{secret});
#   my @ev = $h->wait(sub { $_->{type} eq 'media.failed' }, 20);
#
# Each request: {path, method, sig_ok, t, at, event, delivery, ctype,
# body (the raw bytes), json (the body decoded, undef if it is not)}.
# The receiver is stopped when the object goes away (in the process that
# started it only).

package Hook;

use strict;
use warnings;

use Carp qw(croak);
use Digest::SHA qw(hmac_sha256_hex);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;


sub _read {
    my ($path) = @_;
    open my $fh, '<:raw', $path or return '';
    local $/;
    my $data = <$fh>;
    close $fh;
    return $data;
}


sub _write {
    my ($path, $data) = @_;
    open my $fh, '>:raw', "$path.tmp" or croak "$path: $!";
    print $fh $data;
    close $fh or croak "$path: $!";
    rename "$path.tmp", $path or croak "$path: $!";
}


sub start {
    my ($class) = @_;
    my $dir = tempdir('tt-hook-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    _write("$dir/secrets.json", '{}');

    my $srv = IO::Socket::INET->new(Listen => 64, LocalAddr => '127.0.0.1',
                                    LocalPort => 0, Proto => 'tcp',
                                    ReuseAddr => 1)
        or croak "listen: $!";
    my $pid = fork() // croak "fork: $!";

    if ($pid == 0) {
        $SIG{CHLD} = 'IGNORE';
        while (my $c = $srv->accept) {
            my $kid = fork();
            if (defined $kid && $kid == 0) {
                _serve($dir, $c);
                POSIX::_exit(0);
            }
            close $c;
        }
        POSIX::_exit(0);
    }

    my $self = bless { pid => $pid, owner => $$, dir => $dir,
                       port => $srv->sockport, secrets => {} }, $class;
    close $srv;
    return $self;
}


sub _serve {
    my ($dir, $c) = @_;
    my $head = '';
    while ($head !~ /\r\n\r\n/) {
        sysread($c, $head, 4096, length $head) or return;
    }
    my ($hdr, $body) = split /\r\n\r\n/, $head, 2;
    my ($line, @lines) = split /\r\n/, $hdr;
    my %h = map { my ($k, $v) = split /:\s*/, $_, 2; (lc $k => $v) } @lines;
    while (length($body) < ($h{'content-length'} // 0)) {
        sysread($c, $body, 65536, length $body) or last;
    }
    my ($method, $path) = split / /, $line;
    (my $route = $path) =~ s/\?.*//;

    my $secrets = eval { $JSON->decode(_read("$dir/secrets.json")) } || {};
    my $secret = $secrets->{$route} // '';
    my ($ts, $v1) = ($h{'x-webhook-signature'} // '')
                    =~ /^t=(\d+),v1=([0-9a-f]{64})$/;
    my $ok = defined $ts && $secret ne ''
             && hmac_sha256_hex("$ts.$body", $secret) eq $v1 ? 1 : 0;

    my $rec = $JSON->encode({ path => $path, method => $method,
        sig_ok => $ok, t => $ts, at => time,
        event => $h{'x-webhook-event'}, delivery => $h{'x-webhook-delivery'},
        ctype => $h{'content-type'}, body => $body });
    open my $fh, '>>', "$dir/requests.jsonl" or return;
    syswrite($fh, "$rec\n");
    close $fh;

    my $status = $route eq '/fail' ? '500 Internal Server Error' : '200 OK';
    print $c "HTTP/1.1 $status\r\nContent-Length: 2\r\n"
             . "Connection: close\r\n\r\nok";
    close $c;
}


sub port { $_[0]{port} }

sub url { my ($self, $path) = @_; return "http://127.0.0.1:$self->{port}$path"; }


# the secret a path's signatures are checked with
sub secret {
    my ($self, $path, $secret) = @_;
    $self->{secrets}{$path} = $secret;
    _write("$self->{dir}/secrets.json", $JSON->encode($self->{secrets}));
}


# every request so far, oldest first
sub requests {
    my ($self) = @_;
    my @r;
    for my $l (split /\n/, _read("$self->{dir}/requests.jsonl")) {
        my $r = $JSON->decode($l);
        $r->{json} = eval { $JSON->decode($r->{body}) };
        push @r, $r;
    }
    return @r;
}


# the requests for which $match->() holds ($_ is the request), once there
# is at least one or after $secs
sub wait {
    my ($self, $match, $secs) = @_;
    my $end = time + ($secs // 20);
    my @got;
    while (1) {
        @got = grep { $match->() } $self->requests();
        return @got if @got || time > $end;
        sleep 0.2;
    }
}


sub stop {
    my ($self) = @_;
    return unless $self->{pid} && $self->{owner} == $$;
    kill 'TERM', $self->{pid};
    waitpid($self->{pid}, 0);
    delete $self->{pid};
}


sub DESTROY {
    my ($self) = @_;
    local ($?, $!, $@);
    $self->stop;
}


1;
