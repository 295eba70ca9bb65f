package Media;

# Copyright (C) the ngx_tiktok authors.
# Test media made at test time by ffmpeg (lavfi testsrc/sine/color: no
# files in the repository), small and quick to encode, each with what a
# probe must find in it.
#
#   use lib 't/lib';
#   use Media;
#   my $m = Media->new;                 # a temp dir, removed at exit
#   $m->make;                           # every file (or ->make(@names))
#   my $f = $m->file('valid.mp4');      # made on first use
#   $f->{path}, $f->{size}, $f->{sha256}
#   $f->{expect}{width}, ...{error} (a regex for the rule it breaks)
#   $m->alias('once.mp4', 'valid.mp4'); # the same bytes under a new name
#
# The files are made once per Media object, a few at a time.  TT_KEEP=1
# keeps the directory.

use strict;
use warnings;

use Carp qw(croak);
use Digest::SHA;
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use POSIX qw(_exit WNOHANG);
use Time::HiRes qw(sleep time);


my @LAVFI = ('-f', 'lavfi', '-i');
my @X264 = ('-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt',
            'yuv420p');
my @AAC = ('-c:a', 'aac', '-b:a', '64k');


# name => { args => ffmpeg arguments before the output, or make => code
# given (self, path); expect => what the probe reports; error => regex of
# the error_message when the file breaks a rule; warnings => regexes of
# the warnings expected (none others), for the files that pass }
my %SPEC = (

    # 9:16, 720x1280, H.264 + AAC: passes with no warning at all
    'valid.mp4' => {
        args => [@LAVFI, 'testsrc=size=720x1280:rate=30', @LAVFI,
                 'sine=frequency=440:sample_rate=44100', '-t', '4', @X264,
                 @AAC, '-shortest'],
        expect => { content_type => 'video/mp4', width => 720,
                    height => 1280, duration_ms => 4000, codec => 'h264',
                    frame_rate => 30 },
        warnings => [],
    },

    # MOV, landscape, no audio: passes with three warnings
    'landscape.mov' => {
        args => [@LAVFI, 'testsrc=size=640x360:rate=25', '-t', '4', @X264],
        expect => { content_type => 'video/quicktime', width => 640,
                    height => 360, duration_ms => 4000, codec => 'h264',
                    frame_rate => 25 },
        warnings => [qr/aspect ratio 16:9 is not 9:16/,
                     qr/resolution 640x360 .*720x1280/,
                     qr/no audio/],
    },

    # WebM, VP9 + Opus, 9:16 but small: passes with two warnings
    'valid.webm' => {
        args => [@LAVFI, 'testsrc=size=360x640:rate=30', @LAVFI,
                 'sine=frequency=440:sample_rate=48000', '-t', '4',
                 '-c:v', 'libvpx-vp9', '-deadline', 'realtime',
                 '-cpu-used', '8', '-b:v', '200k', '-c:a', 'libopus',
                 '-shortest'],
        expect => { content_type => 'video/webm', width => 360,
                    height => 640, duration_ms => 4000, codec => 'vp9',
                    frame_rate => 30 },
        warnings => [qr/resolution 360x640 .*720x1280/,
                     qr/audio codec opus is not AAC/],
    },

    'short.mp4' => {
        args => [@LAVFI, 'testsrc=size=720x1280:rate=30', '-t', '2', @X264],
        expect => { duration_ms => 2000 },
        error => qr/duration 2 s .*under .*3 s/,
    },

    # 10 min 1 s at 24 fps: a 2 s still segment looped by stream copy, so
    # it costs a fraction of a second to make
    'long.mp4' => {
        make => sub {
            my ($self, $path) = @_;
            my $seg = "$self->{dir}/.long-segment.mp4";
            ffmpeg($seg, @LAVFI, 'color=c=blue:size=360x640:rate=24', '-t',
                   '2', @X264, '-tune', 'stillimage', '-crf', '51',
                   '-g', '240');
            ffmpeg($path, '-stream_loop', '-1', '-i', $seg, '-t', '601',
                   '-c', 'copy');
            unlink $seg;
        },
        expect => { duration_ms => 601000, frame_rate => 24 },
        error => qr/duration 601 s .*over .*10 min/,
    },

    'small.mp4' => {
        args => [@LAVFI, 'testsrc=size=320x240:rate=30', '-t', '4', @X264],
        expect => { width => 320, height => 240 },
        error => qr/width 320 px .*under .*360 px/,
    },

    # MPEG-4 Part 2 in MP4: a container TikTok takes, a codec it does not
    'mpeg4.mp4' => {
        args => [@LAVFI, 'testsrc=size=720x1280:rate=30', '-t', '4',
                 '-c:v', 'mpeg4', '-q:v', '10'],
        expect => { codec => 'mpeg4' },
        error => qr/codec mpeg4 .*not one of .*H\.264/,
    },

    'fps10.mp4' => {
        args => [@LAVFI, 'testsrc=size=720x1280:rate=10', '-t', '4', @X264],
        expect => { frame_rate => 10 },
        error => qr/frame rate 10 fps .*outside 23-60/,
    },

    'photo.jpg' => {
        args => [@LAVFI, 'testsrc=size=1080x1350', '-frames:v', '1'],
        expect => { content_type => 'image/jpeg', width => 1080,
                    height => 1350, codec => 'mjpeg' },
        warnings => [],
    },

    'photo.webp' => {
        args => [@LAVFI, 'testsrc=size=1080x1350', '-frames:v', '1',
                 '-c:v', 'libwebp'],
        expect => { content_type => 'image/webp', width => 1080,
                    height => 1350, codec => 'webp' },
        warnings => [],
    },

    'photo.png' => {
        args => [@LAVFI, 'testsrc=size=1080x1350', '-frames:v', '1'],
        expect => { content_type => 'image/png' },
        error => qr/PNG/,
    },

    # over 1080p on the shorter side
    'big.jpg' => {
        args => [@LAVFI, 'testsrc=size=1920x1440', '-frames:v', '1'],
        expect => { width => 1920, height => 1440 },
        error => qr/over 1080p/,
    },

    # the first half of an MP4 whose index (moov) comes first
    'truncated.mp4' => {
        make => sub {
            my ($self, $path) = @_;
            my $whole = "$self->{dir}/.truncated-whole.mp4";
            ffmpeg($whole, @LAVFI, 'testsrc=size=720x1280:rate=30', '-t',
                   '4', @X264, '-movflags', '+faststart');
            cut_half($whole, $path);
            unlink $whole;
        },
        error => qr/truncated/,
    },

    # the first half of an MP4 whose index comes last: no index at all
    'truncated-tail.mp4' => {
        make => sub {
            my ($self, $path) = @_;
            my $whole = "$self->{dir}/.truncated-tail-whole.mp4";
            ffmpeg($whole, @LAVFI, 'testsrc=size=720x1280:rate=30', '-t',
                   '4', @X264);
            cut_half($whole, $path);
            unlink $whole;
        },
        error => qr/truncated|corrupt|not a recognised/,
    },

    'text.mp4' => {
        make => sub {
            my ($self, $path) = @_;
            write_file($path, "This is a text file, not a video.\n" x 20);
        },
        error => qr/not a recognised media file/,
    },
);


sub names { return sort keys %SPEC }

sub spec {
    my ($class, $name) = @_;
    return $SPEC{$name} || croak "no media spec $name";
}


sub new {
    my ($class, %o) = @_;
    my $dir = $o{dir}
        || tempdir('tt-media-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{TT_KEEP});
    return bless { dir => $dir, files => {}, jobs => $o{jobs} || 2,
                   seconds => 0 }, $class;
}

sub dir { $_[0]{dir} }

# wall-clock seconds spent making files so far
sub seconds { $_[0]{seconds} }


# makes the named files (default: all) that are not made yet, a few
# ffmpeg runs at a time; dies if one fails
sub make {
    my ($self, @names) = @_;
    @names = names() unless @names;
    @names = grep { !$self->{files}{$_} } @names;
    my $t0 = time;
    my (%running, @failed);

    while (@names || %running) {
        while (@names && keys %running < $self->{jobs}) {
            my $name = shift @names;
            my $spec = __PACKAGE__->spec($name);
            my $pid = fork() // croak "fork: $!";
            if ($pid == 0) {
                my $ok = eval { $self->make_one($name, $spec); 1 };
                print STDERR $@ unless $ok;
                _exit($ok ? 0 : 1);
            }
            $running{$pid} = $name;
        }
        # only our own children: the caller may have others (a server)
        my $reaped = 0;
        for my $pid (keys %running) {
            next unless waitpid($pid, WNOHANG) == $pid;
            push @failed, $running{$pid} if $?;
            delete $running{$pid};
            $reaped++;
        }
        sleep 0.02 unless $reaped;
    }

    $self->{seconds} += time - $t0;
    croak "could not make @failed" if @failed;
    return $self;
}

sub make_one {
    my ($self, $name, $spec) = @_;
    my $path = "$self->{dir}/$name";
    if ($spec->{make}) {
        $spec->{make}->($self, $path);
    } else {
        ffmpeg($path, @{ $spec->{args} });
    }
    -s $path or croak "$name: nothing made";
}


# the file's description, making it first if needed
sub file {
    my ($self, $name) = @_;
    return $self->{files}{$name} if $self->{files}{$name};
    my $spec = __PACKAGE__->spec($name);
    my $path = "$self->{dir}/$name";
    $self->make($name) unless -s $path;
    return $self->{files}{$name} = {
        name => $name, path => $path, size => -s $path,
        sha256 => Digest::SHA->new(256)->addfile($path, 'b')->hexdigest,
        expect => { size => -s $path, %{ $spec->{expect} || {} } },
        error => $spec->{error}, warnings => $spec->{warnings},
    };
}


# the bytes of an existing file under another name (another URL)
sub alias {
    my ($self, $new, $old) = @_;
    my $f = $self->file($old);
    copy($f->{path}, "$self->{dir}/$new") or croak "copy $old: $!";
    return $self->{files}{$new} = { %$f, name => $new,
                                    path => "$self->{dir}/$new" };
}


sub ffmpeg {
    my ($out, @args) = @_;
    my @cmd = ('ffmpeg', '-nostdin', '-hide_banner', '-loglevel', 'error',
               '-y', @args, $out);
    system(@cmd) == 0 or croak "@cmd: failed ($?)";
}

sub cut_half {
    my ($from, $to) = @_;
    open my $in, '<:raw', $from or croak "$from: $!";
    my $n = read($in, my $buf, int((-s $from) / 2));
    close $in;
    croak "$from: short read" unless $n;
    write_file($to, $buf);
}

sub write_file {
    my ($path, $data) = @_;
    open my $fh, '>:raw', $path or croak "$path: $!";
    print $fh $data;
    close $fh or croak "$path: $!";
}

1;
