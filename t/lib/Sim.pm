#
# Copyright (C) the ngx_tiktok authors.
# Starts the local TikTok simulator (t/sim/tiktok_sim.py) on a free port and
# wraps its control API (see t/sim/README.md).
#
#   use lib 't/lib';
#   use Sim;
#   my $sim = Sim->start(media_dir => $dir);     # dies if it cannot start
#   my $u = $sim->add_user(username => 'alice', nickname => 'Alice');
#   ... $sim->base, $u->{access_token} ...
#   my $p = $sim->wait_status($publish_id, 'PUBLISH_COMPLETE');
#
# The simulator is killed when the object goes away (in the process that
# started it only).

package Sim;

use strict;
use warnings;

use Carp qw(croak);
use File::Basename qw(dirname);
use File::Spec;
use HTTP::Tiny;
use JSON::PP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);


my $SCRIPT = File::Spec->rel2abs(
    File::Spec->catfile(dirname(__FILE__), '..', 'sim', 'tiktok_sim.py'));


sub start {
    my ($class, %opt) = @_;
    my @cmd = ('python3', $opt{script} || $SCRIPT,
               '--port', $opt{port} || 0,
               '--host', $opt{host} || '127.0.0.1', '--die-with-parent');

    push @cmd, '--state-file', $opt{state_file} if $opt{state_file};
    push @cmd, '--client-key', $opt{client_key} if $opt{client_key};
    push @cmd, '--client-secret', $opt{client_secret}
        if $opt{client_secret};
    push @cmd, '--media-dir', $opt{media_dir} if $opt{media_dir};
    push @cmd, '--verbose' if $opt{verbose};

    pipe(my $rd, my $wr) or croak "pipe: $!";
    my $pid = fork();
    croak "fork: $!" unless defined $pid;

    if ($pid == 0) {
        close $rd;
        open STDOUT, '>&', $wr or POSIX::_exit(127);
        if ($opt{log}) {
            open STDERR, '>>', $opt{log} or POSIX::_exit(127);
        }
        exec @cmd or POSIX::_exit(127);
    }

    close $wr;

    # the first line says where it listens; give it 15 s to get there
    my $line;
    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm 15;
        $line = <$rd>;
        alarm 0;
    };
    alarm 0;

    if (!defined $line || $line !~ /^listening on ([\w.:]+):(\d+)/) {
        kill 'TERM', $pid;
        waitpid $pid, 0;
        croak "the simulator did not start (@cmd)";
    }

    my $self = bless {
        pid   => $pid,
        owner => $$,
        host  => $1 eq '0.0.0.0' ? '127.0.0.1' : $1,
        port  => $2,
        out   => $rd,
        http  => HTTP::Tiny->new(timeout => 60, keep_alive => 1),
        json  => JSON::PP->new->utf8->canonical->allow_nonref,
    }, $class;

    $self->{base} = "http://$self->{host}:$self->{port}";

    return $self;
}


sub base { $_[0]{base} }
sub port { $_[0]{port} }
sub pid  { $_[0]{pid} }
sub http { $_[0]{http} }
sub json { $_[0]{json} }


sub media_url {
    my ($self, $name) = @_;
    return "$self->{base}/media/$name";
}


# any path on the simulator, e.g. $sim->url('/media-redirect/loop')
sub url {
    my ($self, $path) = @_;
    return "$self->{base}$path";
}


# how many METHOD (default GET) requests reached PATH (without the query)
sub hits {
    my ($self, $path, $method) = @_;
    my $h = $self->ctl('GET', 'hits?path=' . _esc($path))->{hits};
    return $h->{($method || 'GET') . " $path"} // 0;
}


# the control API: returns the decoded answer, dies on anything but 2xx
sub ctl {
    my ($self, $method, $path, $data) = @_;
    my %o = (headers => {'Content-Type' => 'application/json'});

    $o{content} = $self->{json}->encode($data) if defined $data;

    my $r = $self->{http}->request($method, "$self->{base}/__sim/$path", \%o);

    croak "sim $method $path: $r->{status} $r->{content}"
        unless $r->{success};

    return length $r->{content} ? $self->{json}->decode($r->{content})
                                : undef;
}


# a TikTok call the way a client makes it; returns (status, decoded body,
# raw response)
sub api {
    my ($self, $method, $path, $token, $body, $headers) = @_;
    my %h = %{$headers || {}};

    $h{Authorization} = "Bearer $token" if defined $token;

    my %o = (headers => \%h);

    if (defined $body) {
        $h{'Content-Type'} ||= 'application/json; charset=UTF-8';
        $o{content} = ref $body ? $self->{json}->encode($body) : $body;
    }

    my $r = $self->{http}->request($method, "$self->{base}$path", \%o);
    my $d = eval { $self->{json}->decode($r->{content}) };

    return ($r->{status}, $d, $r);
}


sub add_user {
    my ($self, %u) = @_;
    return $self->ctl('POST', 'users', \%u);
}


sub update_user {
    my ($self, $open_id, %u) = @_;
    return $self->ctl('POST', 'users/' . _esc($open_id), \%u);
}


sub mint_tokens {
    my ($self, $open_id, %o) = @_;
    return $self->ctl('POST', 'users/' . _esc($open_id) . '/tokens', \%o);
}


sub config {
    my ($self, %c) = @_;
    return $self->ctl('POST', 'config', \%c);
}


sub faults {
    my ($self, @rules) = @_;
    return $self->ctl('POST', 'faults', \@rules);
}


sub clear_faults {
    my ($self) = @_;
    return $self->ctl('DELETE', 'faults');
}


sub advance_clock {
    my ($self, $sec) = @_;
    return $self->ctl('POST', 'clock', {advance_sec => $sec});
}


sub expire_token {
    my ($self, $token) = @_;
    return $self->ctl('POST', 'tokens/expire', {access_token => $token});
}


sub inbox_post {
    my ($self, $publish_id, %o) = @_;
    return $self->ctl('POST', 'inbox/' . _esc($publish_id) . '/post', \%o);
}


sub ledger {
    my ($self) = @_;
    return $self->ctl('GET', 'ledger');
}


sub requests {
    my ($self, %q) = @_;
    my $qs = join '&', map { "$_=" . _esc($q{$_}) } sort keys %q;
    return $self->ctl('GET', 'requests' . ($qs ? "?$qs" : ''));
}


sub reset {
    my ($self) = @_;
    return $self->ctl('POST', 'reset');
}


# one publish task from the ledger, or undef
sub publish {
    my ($self, $publish_id) = @_;
    my $r = $self->{http}->get(
        "$self->{base}/__sim/ledger/" . _esc($publish_id));

    return undef unless $r->{success};
    return $self->{json}->decode($r->{content});
}


# waits until the publish reaches the status (or FAILED); returns it
sub wait_status {
    my ($self, $publish_id, $status, $timeout) = @_;
    my $end = time + ($timeout || 10);
    my $p;

    while (time < $end) {
        $p = $self->publish($publish_id);
        return $p if $p && ($p->{status} eq $status
                            || $p->{status} eq 'FAILED');
        sleep 0.05;
    }

    return $p;
}


sub stop {
    my ($self) = @_;

    return unless $self->{pid} && $self->{owner} == $$;

    kill 'TERM', $self->{pid};

    my $end = time + 10;
    while (time < $end) {
        last if waitpid($self->{pid}, WNOHANG) != 0;
        sleep 0.05;
    }

    if (kill 0, $self->{pid}) {
        kill 'KILL', $self->{pid};
        waitpid $self->{pid}, 0;
    }

    delete $self->{pid};
}


sub DESTROY {
    my ($self) = @_;
    local ($?, $!, $@);
    $self->stop;
}


sub _esc {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}


1;
