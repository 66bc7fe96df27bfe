#!/usr/bin/perl
# tests/bench/report.pl RUNDIR: turn the raw data of one `make bench` run
# (tests/bench/in-l1.sh) into RUNDIR/results.json, RUNDIR/results.md and
# RUNDIR/results.png (gnuplot). Runs anywhere (core Perl only, plus gnuplot
# for the chart), so it can be re-run on saved raw data:
#
#   perl tests/bench/report.pl build/bench/runs/<id>
#
# Every figure is the median (with min and max) over the runs of one
# configuration; every ratio is a ratio of two such medians, both taken in
# the same L1 boot, unless that L1 was lost and a second one ran the rest
# of the suite (meta-l1-2.txt; the report then says which boots ran where).
use strict;
use warnings;
use JSON::PP;
use List::Util qw(min max sum);
use File::Basename qw(basename);

my $run = shift or die "usage: $0 RUNDIR\n";
-d $run or die "$0: $run is not a directory\n";
my $GIB = 1024 * 1024 * 1024;

sub read_kv {
	my ($f) = @_;
	my %h;
	open(my $fh, '<', $f) or return \%h;
	while (<$fh>) {
		chomp;
		$h{$1} = $2 if /^([A-Za-z0-9_]+)=(.*)$/;
	}
	return \%h;
}

sub read_json_file {
	my ($f) = @_;
	open(my $fh, '<', $f) or return undef;
	local $/;
	my $t = <$fh>;
	my $j = eval { JSON::PP->new->relaxed->decode($t) };
	return $j;
}

# "k=v k=v ... msg=free text" from a guest END line.
sub parse_result {
	my ($s) = @_;
	my %h;
	$s //= '';
	if ($s =~ s/\s*\bmsg=(.*)$//) { $h{msg} = $1; }
	for my $kv (split ' ', $s) { $h{$1} = $2 if $kv =~ /^([^=]+)=(.*)$/; }
	return \%h;
}

sub num { my ($v) = @_; return (defined $v && $v =~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/i) ? $v + 0 : undef; }

# median/min/max/n of the defined values, or undef.
sub stat3 {
	my @v = sort { $a <=> $b } grep { defined } @_;
	return undef unless @v;
	my $n = @v;
	my $med = $n % 2 ? $v[($n - 1) / 2] : ($v[$n / 2 - 1] + $v[$n / 2]) / 2;
	return { median => $med, min => $v[0], max => $v[-1], n => $n };
}

# One kind of vhost message's write() times over a boot (vmm --stats:
# count, sum, log2 histogram): median (upper bound of its bucket), mean,
# and the writes of 65.5 µs (2^16 ns) or more (bucket 16 on): their share of the
# count, and of the time, estimated at 1.5 x each bucket's lower bound.
my $TAIL_BUCKET = 16;
sub write_time {
	my ($w) = @_;
	my $n = num($w->{n}) or return undef;
	my @h = @{ $w->{ns_log2_hist} || [] };
	my ($tail_n, $tail_ns) = (0, 0);
	for my $i ($TAIL_BUCKET .. $#h) {
		$tail_n += $h[$i];
		$tail_ns += $h[$i] * 1.5 * 2**$i;
	}
	my $sum = num($w->{ns_sum}) || 0;
	return {
		n => $n, median_le_us => num($w->{ns_median_le}) / 1000, mean_us => $sum / $n / 1000,
		max_us => num($w->{ns_max}) / 1000, tail_count_share => $tail_n / $n,
		tail_time_share => $sum ? ($tail_ns > $sum ? 1 : $tail_ns / $sum) : undef,
	};
}

my $meta = read_kv("$run/meta.txt");
# The second L1 boot of a suite whose first L1 was lost (run.sh, in-l1.sh
# BENCH_RESUME), if there was one.
my $meta2 = -e "$run/meta-l1-2.txt" ? read_kv("$run/meta-l1-2.txt") : undef;
my $host = read_kv("$run/host.txt");
my @configs = split ' ', ($meta->{configs} // '');
my @boot_configs = split ' ', ($meta->{boot_configs} // '');
my @tests = split /:/, ($meta->{tests} // 'rr:tx1:rx1:tx4:rx4');
my @iperf_tests = grep { $_ ne 'rr' } @tests;
my $reps = $meta->{reps} // 1;
my $tck = $meta->{clk_tck} || 100;
my $ram_kib = ($meta->{guest_mem_mib} // 512) * 1024;
my $kp_ok = ($meta->{kprobes} // 0) eq '1';
my $kp_na = $kp_ok ? undef : "n/a: kprobes unavailable (" . ($meta->{kprobes_reason} || 'unknown') . ")";

# Boots that the test bed itself killed, which in-l1.sh booted once more
# in their place (rerun_if_testbed_lost): listed, never counted.
my @lost;
if (open(my $fh, '<', "$run/testbed-lost.tsv")) {
	while (<$fh>) {
		chomp;
		# The fourth column, where the boot's data went, is new with the
		# second L1 (testbed-lost/CONFIG-REP.l1); older lines have three.
		my ($c, $r, $why, $data) = split /\t/, $_, 4;
		next unless defined $why && $r =~ /^[0-9]+$/;
		$data = "testbed-lost/$c-$r" unless defined $data && $data =~ m{^testbed-lost/[^/]+$};
		my @ended;
		if (open(my $ev, '<', "$run/$data/events.tsv")) {
			while (my $l = <$ev>) {
				my @f = split /\t/, $l;
				push @ended, $f[2] if ($f[1] // '') eq 'end';
			}
		}
		push @lost, { config => $c, rep => $r + 0, why => $why, tests_ended => \@ended,
			data => $data, l1_lost => ($why =~ /^L1 lost: / ? JSON::PP::true : JSON::PP::false) };
	}
}

my %label = (
	'vmm-plain' => 'vmm, no vIOMMU', 'vmm-lazy' => 'vmm, vIOMMU lazy', 'vmm-strict' => 'vmm, vIOMMU strict',
	'vmm-cm' => 'vmm, vIOMMU strict + caching mode',
	'qemu-plain' => 'QEMU, no vIOMMU', 'qemu-lazy' => 'QEMU, vIOMMU lazy', 'qemu-strict' => 'QEMU, vIOMMU strict',
	'qemu-devtlb' => 'QEMU, vIOMMU lazy + device-iotlb/ATS',
	'vmm-vmlinux' => 'vmm, ELF vmlinux, no NIC', 'qemu-vmlinux' => 'QEMU, ELF vmlinux (PVH), no NIC',
);
my %short = (
	'vmm-plain' => 'vmm plain', 'vmm-lazy' => 'vmm lazy', 'vmm-strict' => 'vmm strict', 'vmm-cm' => 'vmm CM',
	'qemu-plain' => 'QEMU plain', 'qemu-lazy' => 'QEMU lazy', 'qemu-strict' => 'QEMU strict',
	'qemu-devtlb' => 'QEMU ATS',
	'vmm-vmlinux' => 'vmm ELF', 'qemu-vmlinux' => 'QEMU PVH',
);
my %tlabel = (rr => 'tcprr', tx1 => 'guest→host P=1', rx1 => 'host→guest P=1',
	tx4 => 'guest→host P=4', rx4 => 'host→guest P=4');
sub L { return $label{$_[0]} // $_[0]; }

# ---- per boot, per test
my (@boots, @runs);
for my $cfg (@configs) {
	for my $rep (1 .. $reps) {
		my $dir = "$run/$cfg-$rep";
		next unless -d $dir;
		my $b = read_kv("$dir/boot.txt");
		$b->{killed} ||= ($meta2 ? 'the first L1 was lost during this boot' : 'the suite ended during this boot') unless -e "$dir/boot.txt";
		my (@ev, %begin, %end, %stall, $kill);
		if (open(my $fh, '<', "$dir/events.tsv")) {
			my $hdr = <$fh>;
			chomp $hdr;
			my @cols = split /\t/, $hdr;
			while (my $l = <$fh>) {
				chomp $l;
				my @f = split /\t/, $l, -1;
				my %r;
				@r{@cols} = @f;
				push @ev, \%r;
				$begin{$r{test}} //= \%r if $r{event} eq 'begin';
				$end{$r{test}} //= \%r if $r{event} eq 'end';
				$stall{$r{test}} //= \%r if $r{event} eq 'stall';
				$kill //= \%r if $r{event} eq 'kill';
				$b->{killed} ||= 'guest network dead after a failed test' if $r{event} eq 'netdead';
			}
		}
		my $stats = read_json_file("$dir/stats.json");
		my @rss = map { (num($_->{rss_kib}) // 0) - (num($_->{rss_guest_kib}) // 0) }
			grep { $_->{event} eq 'end' && defined num($_->{rss_kib}) } @ev;
		my $boot = {
			config => $cfg, rep => $rep + 0, exit_status => num($b->{status}),
			boot_to_init_s => num($b->{boot_s}), guest_uptime_at_init_s => num($b->{guest_uptime_s}),
			network => $b->{net} || undef, tests_done => ($b->{done} // 0) eq '1' ? JSON::PP::true : JSON::PP::false,
			killed => $b->{killed} || undef, wall_s => num($b->{wall_s}),
			guest_was_at => $b->{guest_was_at} || undef,
			rss_beyond_guest_ram_kib => @rss ? max(@rss) : undef,
		};
		if ($stats) {
			$boot->{vmm_stats} = {
				exit_status => $stats->{exit_status}, startup_us => $stats->{startup_us},
				rss_outside_guest_kib => $stats->{rss_outside_guest_kib},
				exits => $stats->{exits},
			};
			if (my $io = $stats->{iommu} && $stats->{iommu}{iotlb}) {
				$boot->{vmm_stats}{iotlb} = { map { $_ => $io->{$_} } grep { exists $io->{$_} }
					qw(misses updates invalidates faults bytes_mapped miss_ns_sum miss_ns_max miss_ns_median_le) };
				for my $k (qw(write_update write_invalidate)) {
					$boot->{vmm_stats}{$k} = write_time($io->{$k}) if ref $io->{$k} eq 'HASH';
				}
			}
		}
		# kprobe totals over the whole boot (first and last rows with counts).
		my @kpr = grep { defined num($_->{kp_miss}) } @ev;
		if (@kpr >= 2) {
			$boot->{kprobe_totals} = { map { my $k = $_; ($k =~ s/^kp_//r) => num($kpr[-1]{$k}) - num($kpr[0]{$k}) }
				qw(kp_miss kp_update kp_inval) };
		}
		my $boot_bytes = 0;
		my $seq = 0;
		for my $t (@tests) {
			$seq++;
			my ($bg, $en) = ($begin{$t}, $end{$t});
			my $res = parse_result($en ? $en->{note} : undef);
			my $r = { config => $cfg, rep => $rep + 0, test => $t, order => $seq };
			my $guest_status = $res->{status} // '';
			my $timeout_msg = ($res->{msg} // '') =~ /time ?out|timed out/i;
			if ($stall{$t} || $guest_status eq 'stall' || ($guest_status ne 'ok' && $timeout_msg)) {
				$r->{status} = 'stall';
			} elsif ($en && $guest_status eq 'ok') {
				$r->{status} = 'ok';
			} elsif ($en) {
				$r->{status} = 'failed';
			} elsif ($bg) {
				$r->{status} = 'failed';
				$res->{msg} = "monitor ended during the test (exit status " . ($b->{status} // '?') . ")"
					. ($b->{killed} ? ": $b->{killed}" : '')
					. ($b->{triple_fault} ? "; the guest triple-faulted, CPU state: $b->{triple_fault}" : '');
			} else {
				$r->{status} = 'not_run';
			}
			$r->{reason} = $res->{msg} if $r->{status} ne 'ok' && defined $res->{msg};
			$r->{reason} //= "no data for $meta->{stall_s} s" if $stall{$t};
			if ($bg && $en) {
				my $dt = num($en->{t_s}) - num($bg->{t_s});
				$r->{wall_s} = $dt;
				my $d = sub { my ($k) = @_; my ($x, $y) = (num($bg->{$k}), num($en->{$k}));
					return (defined $x && defined $y) ? $y - $x : undef; };
				$r->{tap_bytes} = ($d->('tap_rx') // 0) + ($d->('tap_tx') // 0);
				my ($u, $s, $g) = ($d->('utime'), $d->('stime'), $d->('gtime'));
				$r->{monitor_cpu_s} = (defined $u && defined $s) ? ($u + $s) / $tck : undef;
				$r->{monitor_cpu_outside_guest_s} = (defined $u && defined $s && defined $g) ? ($u + $s - $g) / $tck : undef;
				$r->{vhost_cpu_s} = defined $d->('vhost_ticks') ? $d->('vhost_ticks') / $tck : undef;
				# Runnable but without a CPU (schedstat; absent in runs before 2026-11-29 11:30).
				for my $w (qw(monitor vhost)) {
					my $ns = $d->("${w}_runq_ns");
					$r->{"${w}_runq_s"} = defined $ns ? $ns / 1e9 : undef;
				}
				$r->{$_ =~ s/^kp_/iotlb_/r} = $d->($_) for qw(kp_miss kp_update kp_inval);
			}
			if ($r->{status} eq 'ok') {
				if ($t eq 'rr') {
					$r->{$_} = num($res->{$_}) for qw(n median_us p99_us min_us max_us mean_us);
				} else {
					$r->{$_} = num($res->{$_}) for qw(mbps bytes secs retrans zero_intervals);
					if ($r->{bytes} && $r->{bytes} > 0) {
						my $gib = $r->{bytes} / $GIB;
						$r->{per_gib} = {
							iotlb_misses => defined $r->{iotlb_miss} ? $r->{iotlb_miss} / $gib : undef,
							iotlb_updates => defined $r->{iotlb_update} ? $r->{iotlb_update} / $gib : undef,
							iotlb_invalidations => defined $r->{iotlb_inval} ? $r->{iotlb_inval} / $gib : undef,
							monitor_cpu_s => defined $r->{monitor_cpu_s} ? $r->{monitor_cpu_s} / $gib : undef,
							monitor_cpu_outside_guest_s => defined $r->{monitor_cpu_outside_guest_s} ? $r->{monitor_cpu_outside_guest_s} / $gib : undef,
							monitor_guest_mode_s => (defined $r->{monitor_cpu_s} && defined $r->{monitor_cpu_outside_guest_s})
								? ($r->{monitor_cpu_s} - $r->{monitor_cpu_outside_guest_s}) / $gib : undef,
							vhost_cpu_s => defined $r->{vhost_cpu_s} ? $r->{vhost_cpu_s} / $gib : undef,
							monitor_runq_s => defined $r->{monitor_runq_s} ? $r->{monitor_runq_s} / $gib : undef,
							vhost_runq_s => defined $r->{vhost_runq_s} ? $r->{vhost_runq_s} / $gib : undef,
						};
						$boot_bytes += $r->{bytes};
					}
				}
			}
			push @runs, $r;
		}
		# vmm's own counters over the boot, per GiB of everything iperf3 moved in it.
		if ($boot->{vmm_stats} && $boot->{vmm_stats}{iotlb} && $boot_bytes > 0) {
			my $io = $boot->{vmm_stats}{iotlb};
			$boot->{vmm_stats_per_gib} = { map { $_ => $io->{$_} / ($boot_bytes / $GIB) } grep { defined $io->{$_} } qw(misses updates invalidates) };
		}
		push @boots, $boot;
	}
}

# ---- per configuration
my %sum;
for my $cfg (@configs) {
	my @cb = grep { $_->{config} eq $cfg } @boots;
	my @cr = grep { $_->{config} eq $cfg } @runs;
	if (!@cb) {
		# Never booted (the suite ended early): every run of it is "not run".
		for my $rep (1 .. $reps) {
			my $seq = 0;
			push @cr, map { { config => $cfg, rep => $rep, test => $_, order => ++$seq, status => 'not_run',
				reason => 'configuration never booted (the suite ended early)' } } @tests;
		}
		push @runs, @cr;
	}
	my $s = { label => L($cfg), boots => scalar(@cb) };
	$s->{boot_to_init_s} = stat3(map { $_->{boot_to_init_s} } @cb);
	$s->{rss_beyond_guest_ram_kib} = stat3(map { $_->{rss_beyond_guest_ram_kib} } @cb);
	$s->{vmm_startup_us} = stat3(map { $_->{vmm_stats} ? $_->{vmm_stats}{startup_us} : undef } @cb) if $cfg =~ /^vmm/;
	$s->{vmm_stats_rss_outside_guest_kib} = stat3(map { $_->{vmm_stats} ? $_->{vmm_stats}{rss_outside_guest_kib} : undef } @cb) if $cfg =~ /^vmm/;
	for my $t (@tests) {
		my @ok = grep { $_->{test} eq $t && $_->{status} eq 'ok' } @cr;
		my $ts = {};
		if ($t eq 'rr') {
			$ts->{median_us} = stat3(map { $_->{median_us} } @ok);
			$ts->{p99_us} = stat3(map { $_->{p99_us} } @ok);
		} else {
			$ts->{mbps} = stat3(map { $_->{mbps} } @ok);
			for my $k (qw(iotlb_misses iotlb_updates iotlb_invalidations monitor_cpu_s monitor_cpu_outside_guest_s monitor_guest_mode_s vhost_cpu_s monitor_runq_s vhost_runq_s)) {
				$ts->{per_gib}{$k} = stat3(map { $_->{per_gib}{$k} } @ok);
			}
		}
		$ts->{runs} = { map { my $st = $_; ($st => scalar(grep { $_->{test} eq $t && $_->{status} eq $st } @cr)) } qw(ok stall failed not_run) };
		$s->{tests}{$t} = $ts;
	}
	# Over every successful iperf3 run of the configuration.
	my @okip = grep { $_->{test} ne 'rr' && $_->{status} eq 'ok' } @cr;
	for my $k (qw(iotlb_misses iotlb_updates iotlb_invalidations monitor_cpu_s monitor_cpu_outside_guest_s vhost_cpu_s monitor_runq_s vhost_runq_s)) {
		$s->{per_gib_all_iperf3}{$k} = stat3(map { $_->{per_gib}{$k} } @okip);
	}
	$s->{vmm_stats_per_gib} = { map { my $k = $_; ($k => stat3(map { $_->{vmm_stats_per_gib} ? $_->{vmm_stats_per_gib}{$k} : undef } @cb)) } qw(misses updates invalidates) }
		if $cfg =~ /^vmm/;
	for my $k (qw(write_update write_invalidate)) {
		my @w = grep { defined } map { $_->{vmm_stats} ? $_->{vmm_stats}{$k} : undef } @cb;
		$s->{$k} = { map { my $f = $_; ($f => stat3(map { $_->{$f} } @w)) }
			qw(n median_le_us mean_us max_us tail_count_share tail_time_share) } if @w;
	}
	# Stalls: every network run (tcprr and iperf3) that was attempted.
	my @att = grep { $_->{status} ne 'not_run' } @cr;
	$s->{stalls} = {
		attempted => scalar(@att), stalled => scalar(grep { $_->{status} eq 'stall' } @att),
		failed => scalar(grep { $_->{status} eq 'failed' } @att),
		not_run => scalar(grep { $_->{status} eq 'not_run' } @cr),
	};
	# Longest streak of consecutive iperf3 runs that completed without a stall
	# (a run that did not happen breaks the streak too).
	my ($streak, $best) = (0, 0);
	for my $r (sort { $a->{rep} <=> $b->{rep} || $a->{order} <=> $b->{order} } grep { $_->{test} ne 'rr' } @cr) {
		$streak = $r->{status} eq 'ok' ? $streak + 1 : 0;
		$best = $streak if $streak > $best;
	}
	$s->{iperf3_runs} = scalar(grep { $_->{test} ne 'rr' } @cr);
	$s->{boots_lost_to_testbed} = scalar(grep { $_->{config} eq $cfg } @lost);
	$s->{longest_ok_iperf3_streak} = $best;
	$sum{$cfg} = $s;
}

# ---- the micro-benchmark hook
my $mb;
if (open(my $fh, '<', "$run/iotlb-miss-bench.out")) {
	my @l = grep { /^\s*\{/ } <$fh>;
	$mb = eval { decode_json($l[-1]) } if @l;
	$mb //= { error => "build/iotlb-miss-bench --json printed no JSON object" };
}

# ---- unit costs (tests/testbed-cost): in L1 (in-l1.sh) and on this machine (run.sh)
sub read_cost {
	my ($f) = @_;
	open(my $fh, '<', $f) or return undef;
	my @l = grep { /^\s*\{/ } <$fh>;
	my $c = @l ? eval { decode_json($l[-1]) } : undef;
	return $c // { error => "$f holds no JSON object" };
}
my %unit_cost = map { my $c = read_cost("$run/$_->[1]"); $c ? ($_->[0] => $c) : () }
	(['l1', 'testbed-cost.out'], ['host', 'testbed-cost-host.out']);

# ---- goals
my @goals;
sub med { my ($st) = @_; return $st ? $st->{median} : undef; }
sub tput { my ($c, $t) = @_; return $sum{$c} ? med($sum{$c}{tests}{$t}{mbps}) : undef; }
sub fmt {
	my ($v) = @_;
	return 'n/a' unless defined $v;
	my $a = abs($v);
	return sprintf('%d', $v) if $v == int($v) && $a < 1e6;
	return sprintf('%.0f', $v) if $a >= 100;
	return sprintf('%.1f', $v) if $a >= 10;
	return sprintf('%.2f', $v) if $a >= 0.1;
	return sprintf('%.3f', $v);
}
sub fmt_int {
	my ($v) = @_;
	return 'n/a' unless defined $v;
	my $s = sprintf('%.0f', $v);
	1 while $s =~ s/^(-?\d+)(\d{3})/$1,$2/;
	return $s;
}
sub why_missing {
	my ($c) = @_;
	return "$c not run" unless $sum{$c};
	my $st = $sum{$c}{stalls};
	return L($c) . ": no successful run ($st->{stalled} stalled, $st->{failed} failed, $st->{not_run} not run)";
}
# goal(ID, TEXT, VALUE, OP, TARGET, NA_REASON, DETAIL)
sub goal {
	my ($id, $what, $v, $op, $target, $na, $detail) = @_;
	my $g = { id => $id, goal => $what, target => "$op $target", value => $v };
	$g->{detail} = $detail if defined $detail;
	if (!defined $v) {
		$g->{verdict} = 'n/a';
		$g->{reason} = $na // 'no data';
	} else {
		my $met = $op eq '>=' ? $v >= $target : $v <= $target;
		$g->{verdict} = $met ? 'met' : 'not met';
	}
	push @goals, $g;
}
sub ratio_goal {
	my ($id, $what, $ca, $cb, $t, $op, $target) = @_;
	my $group = $what;
	my ($a, $b) = (tput($ca, $t), tput($cb, $t));
	my $na;
	$na = why_missing($ca) unless defined $a;
	$na //= why_missing($cb) unless defined $b && $b > 0;
	goal($id, "$what, $tlabel{$t}", (defined $a && defined $b && $b > 0) ? $a / $b : undef, $op, $target, $na,
		sprintf('%s / %s Mbit/s', fmt($a), fmt($b)));
	$goals[-1]{group} = $group;
	$goals[-1]{test} = $t;
}
# Boot-only configurations (in-l1.sh boot_only): the time to init only.
my @boot_only;
for my $cfg (@boot_configs) {
	my @t;
	for my $rep (1 .. $reps) {
		my $b = read_kv("$run/boot-only/$cfg-$rep/boot.txt");
		next unless $b && defined $b->{status} && $b->{status} ne 'skipped';
		push @boot_only, { config => $cfg, rep => $rep + 0, exit_status => num($b->{status}),
			boot_to_init_s => num($b->{boot_s}) };
		push @t, num($b->{boot_s});
	}
	$sum{$cfg} = { label => L($cfg), boots => scalar(@t), boot_only => JSON::PP::true,
		boot_to_init_s => stat3(@t) } if @t;
}
for my $mode (qw(lazy strict cm)) {
	next unless grep { $_ eq "vmm-$mode" } @configs;
	for my $t (@iperf_tests) {
		ratio_goal('viommu_vs_plain', "vmm vIOMMU $mode / vmm no vIOMMU", "vmm-$mode", 'vmm-plain', $t, '>=', 0.9);
	}
}
for my $p (['vmm-lazy', 'qemu-lazy'], ['vmm-strict', 'qemu-strict'], ['vmm-cm', 'qemu-strict'],
	['vmm-lazy', 'qemu-devtlb']) {
	next unless grep { $_ eq $p->[1] } @configs and grep { $_ eq $p->[0] } @configs;
	for my $t (@iperf_tests) {
		ratio_goal('viommu_vs_qemu', L($p->[0]) . ' / ' . L($p->[1]), @$p, $t, '>=', 2.5);
	}
}
for my $t (@iperf_tests) {
	ratio_goal('plain_vs_qemu', "vmm / QEMU, no vIOMMU (issue 3)", 'vmm-plain', 'qemu-plain', $t, '>=', 1);
}
# Boot: like for like, the same kernel file for both monitors.
for my $p (['vmm-plain', 'qemu-plain', 'bzImage (no vIOMMU)'],
	['vmm-vmlinux', 'qemu-vmlinux', 'ELF vmlinux (QEMU: PVH)']) {
	my ($ca, $cb, $what) = @$p;
	next unless grep({ $_ eq $ca } @configs, @boot_configs) && grep({ $_ eq $cb } @configs, @boot_configs);
	my ($a, $b) = map { $sum{$_} ? med($sum{$_}{boot_to_init_s}) : undef } ($ca, $cb);
	goal('boot_vs_qemu', "boot to init, vmm / QEMU, $what", (defined $a && $b) ? $a / $b : undef, '<=', 0.5,
		'no boot reached init', sprintf('%s / %s s', fmt($a), fmt($b)));
}
for my $c (grep { /^vmm/ } @configs) {
	my $v = $sum{$c} ? med($sum{$c}{rss_beyond_guest_ram_kib}) : undef;
	goal('rss', "RSS beyond guest RAM, " . L($c) . " [MiB]", defined $v ? $v / 1024 : undef, '<=', 5, 'no RSS sample');
}
for my $p (['vmm-lazy', 'qemu-lazy'], ['vmm-strict', 'qemu-strict'], ['vmm-cm', 'qemu-strict'],
	['vmm-lazy', 'qemu-devtlb']) {
	next unless grep { $_ eq $p->[1] } @configs and grep { $_ eq $p->[0] } @configs;
	my ($a, $b) = map { $sum{$_} ? med($sum{$_}{per_gib_all_iperf3}{iotlb_misses}) : undef } @$p;
	my $na = $kp_na;
	$na //= why_missing($p->[0]) unless defined $a;
	$na //= why_missing($p->[1]) unless defined $b && $b > 0;
	goal('misses_vs_qemu', "IOTLB misses per GiB, " . L($p->[0]) . ' / ' . L($p->[1]),
		(defined $a && defined $b && $b > 0) ? $a / $b : undef, '<=', 0.01, $na,
		sprintf('%s / %s per GiB', fmt_int($a), fmt_int($b)));
}
if ($mb) {
	my $v = num($mb->{median_ns});
	goal('miss_service', 'IOTLB miss service time, median (build/iotlb-miss-bench) [µs]',
		defined $v ? $v / 1000 : undef, '<=', 2, $mb->{error} // 'no median_ns',
		defined $mb->{p99_ns} ? sprintf('p99 %s µs', fmt($mb->{p99_ns} / 1000)) : undef);
}
for my $c (qw(vmm-lazy vmm-strict vmm-cm)) {
	next unless $sum{$c};
	my $s = $sum{$c};
	my $na = $s->{iperf3_runs} < 10 ? "only $s->{iperf3_runs} iperf3 runs in this mode (full mode has 12)" : undef;
	goal('no_stall_streak', "consecutive iperf3 runs without a stall, " . L($c) . " (issue 4)",
		defined $na ? undef : $s->{longest_ok_iperf3_streak}, '>=', 10, $na,
		"longest streak $s->{longest_ok_iperf3_streak} of $s->{iperf3_runs} runs"
		. ($s->{boots_lost_to_testbed} ? "; $s->{boots_lost_to_testbed} boot(s) killed by the test bed booted again" : ''));
}

# What lazy mode can reach on this L1 at all. Its two CPUs are saturated
# in every iperf3 test, so throughput goes as the inverse of the CPU time
# one GiB costs the monitor process and the vhost worker together: the
# "predicted" ratio (no vIOMMU / lazy) checks that model against the
# measured one. The ceiling counts only lazy's guest-mode time and its
# vhost worker, i.e. what remains if everything the monitor does outside
# guest mode (exits, walks, ring scans, messages) cost nothing.
my %cpu_bound;
if ($sum{'vmm-plain'} && $sum{'vmm-lazy'}) {
	for my $t (@iperf_tests) {
		my %m = map { my $c = $_; ($c => { map { ($_ => med($sum{$c}{tests}{$t}{per_gib}{$_})) }
			qw(monitor_cpu_s monitor_cpu_outside_guest_s monitor_guest_mode_s vhost_cpu_s) }) } qw(vmm-plain vmm-lazy);
		next if grep { !defined } map { values %$_ } values %m;
		my $plain = $m{'vmm-plain'}{monitor_cpu_s} + $m{'vmm-plain'}{vhost_cpu_s};
		my $lz = $m{'vmm-lazy'};
		my $guest = $lz->{monitor_guest_mode_s};
		next unless $plain > 0 && $guest + $lz->{vhost_cpu_s} > 0;
		my ($tl, $tp) = (tput('vmm-lazy', $t), tput('vmm-plain', $t));
		$cpu_bound{$t} = {
			plain_cpu_s_per_gib => $plain, lazy_cpu_s_per_gib => $lz->{monitor_cpu_s} + $lz->{vhost_cpu_s},
			lazy_outside_guest_s_per_gib => $lz->{monitor_cpu_outside_guest_s},
			lazy_guest_s_per_gib => $guest, lazy_vhost_s_per_gib => $lz->{vhost_cpu_s},
			predicted => $plain / ($lz->{monitor_cpu_s} + $lz->{vhost_cpu_s}),
			measured => ($tl && $tp) ? $tl / $tp : undef,
			ceiling => $plain / ($guest + $lz->{vhost_cpu_s}),
		};
	}
}

my $results = {
	suite => 'make bench', run => basename($run), mode => $host->{mode} // 'unknown',
	date => $meta->{date}, host => $host, l1 => {
		map { $_ => $meta->{$_} } grep { exists $meta->{$_} } qw(in_testbed kernel cpus cpu_model mem_total_kib qemu iperf3 total_wall_s l1_scrub)
	},
	parameters => {
		configs => \@configs, boot_configs => \@boot_configs, reps => $reps + 0, iperf3_seconds => num($meta->{secs}), tcprr_round_trips => num($meta->{rr_n}),
		tests => \@tests, stall_seconds => num($meta->{stall_s}), guest_mem_mib => num($meta->{guest_mem_mib}),
		guest_cpus => num($meta->{guest_cpus}),
		iotlb_counters => $kp_ok ? "kprobes in L1: $meta->{kprobes_list}" : $kp_na,
	},
	summary => \%sum, goals => \@goals, boots => \@boots, runs => \@runs, boot_only => \@boot_only,
	boots_lost_to_testbed => \@lost,
	l1_boots => $meta2 ? 2 : 1,
	$meta2 ? (l1_resume => {
		first_status => $host->{l1_1_status}, first_lost => $meta2->{resumed_after},
		resumed_from => $meta2->{resumed_from}, second_total_wall_s => $meta2->{total_wall_s},
	}) : (),
	iotlb_miss_bench => $mb,
	unit_costs => \%unit_cost,
	lazy_cpu_bound => \%cpu_bound,
};
open(my $jf, '>', "$run/results.json") or die "$0: $run/results.json: $!\n";
print $jf JSON::PP->new->pretty->canonical->encode($results);
close $jf;

# ---- Markdown
sub mmm {
	my ($st, $f, $scale) = @_;
	return '–' unless $st;
	$f //= \&fmt;
	$scale //= 1;
	my ($m, $lo, $hi) = map { $st->{$_} * $scale } qw(median min max);
	return $f->($m) if $st->{n} == 1;
	return sprintf('%s (%s–%s)', $f->($m), $f->($lo), $f->($hi));
}
my @md;
my $when = $meta->{date} // '?';
push @md, "# `make bench` results", '';
push @md, sprintf('Run `%s`, %s mode, %s. Host: %s, %s cores, kernel %s; commit %s%s. '
		. 'L1: %s, %s vCPUs, %s MiB, kernel %s. Guest: %s vCPU, %s MiB. '
		. '%s boot(s) per configuration; iperf3 %s s per test; tcprr %s round trips. '
		. 'Every figure: median (min–max) over the runs; ratios of medians, %s. '
		. 'Test-bed time %s s%s.',
	basename($run), $host->{mode} // '?', $when, $host->{host_cpu_model} // '?', $host->{host_cpus} // '?',
	$host->{host_kernel} // '?', $host->{git_commit} // '?', ($host->{git_dirty} // '') eq 'yes' ? ' (with uncommitted changes)' : '',
	($meta->{in_testbed} // '0') eq '1' ? 'QEMU-TCG test bed' : 'this host', $meta->{cpus} // '?',
	int(($meta->{mem_total_kib} // 0) / 1024), $meta->{kernel} // '?', $meta->{guest_cpus} // '?',
	$meta->{guest_mem_mib} // '?', $reps, $meta->{secs} // '?', $meta->{rr_n} // '?',
	$meta2 ? 'from two L1 boots (see below)' : 'all from one L1 boot',
	defined $host->{measuring_wall_s} ? $host->{measuring_wall_s} : $host->{suite_wall_s} // '?',
	$host->{waited_for_testbed_s} ? " (plus $host->{waited_for_testbed_s} s waiting for another test-bed run)" : '');
# The last L1's in-l1.sh writes total_wall_s when every boot has run; an
# L1 that hangs after that (seen: a soft lockup while the suite removed
# its kprobes) ends with a bad status but lost nothing.
my $last_meta = $meta2 // $meta;
if (($host->{measure_status} // '0') ne '0') {
	my $how = $host->{measure_status} eq '124' ? 'the test bed timed out'
		: $host->{measure_status} eq '125' ? 'L1 ended without reporting, e.g. stopped after going silent' : 'see the L1 log';
	if (defined $last_meta->{total_wall_s} && !defined $last_meta->{aborted}) {
		push @md, '', sprintf('L1 ended with status %s (%s) after every boot of the suite had run; nothing was lost.',
			$host->{measure_status}, $how);
	} else {
		push @md, '', sprintf('**Incomplete run:** the measuring part ended with status %s (%s); '
			. 'configurations and tests after that point are reported as not run.', $host->{measure_status}, $how);
	}
}
if ($meta2) {
	my $from = $meta2->{resumed_from} // '';
	$from = $from =~ m{^(?:boot-only/)?(.+)-([0-9]+)$} ? sprintf('%s rep %s', L($1), $2) : 'nothing (all had run)';
	# Set aside only if it had no stall or failed test (in-l1.sh resume_keep).
	my $aside = (grep { $_->{l1_lost} } @lost)
		? ' the one it was lost in is listed with the boots the test bed killed, and was booted again;' : '';
	push @md, '', sprintf('**Two L1 boots:** the first L1 was lost (%s); a second L1 boot ran the rest '
		. 'of the suite, from %s on. The boots the first L1 finished are kept as measured;%s ratios between '
		. 'configurations may mix the two L1 boots.', $meta2->{resumed_after} // '?', $from, $aside);
}
for my $m ([$meta, 'first '], [$meta2, 'second ']) {
	next unless $m->[0] && defined $m->[0]{aborted};
	push @md, '', sprintf('**Ended early%s:** %s; the boots after it did not run%s, and the '
		. 'monitor\'s thread stacks are in that boot\'s `stacks-wedged.txt`.', $meta2 ? " in the $m->[1]L1" : '',
		$m->[0]{aborted}, $meta2 && $m->[0] == $meta ? ' in that L1' : '');
}
if (defined $host->{load_before}) {
	my ($l1) = split ' ', $host->{load_before};
	push @md, '', sprintf('Load average of the host when the run started: %s%s.', $host->{load_before},
		$l1 >= 0.5 ? ' — other work was running on this 2-core machine, so every figure is disturbed by it' : '');
}
push @md, '';
my $op = sub { return $_[0] =~ s/^>=/≥/r =~ s/^<=/≤/r; };
push @md, '## Goals', '';
push @md, 'Throughput ratios (ratio of the two medians; verdict per test):', '';
push @md, '| goal | target | ' . join(' | ', map { $tlabel{$_} } @iperf_tests) . ' |';
push @md, '|---|---|' . ('---|' x @iperf_tests);
my (@groups, %gseen, %nas);
for my $g (grep { defined $_->{group} } @goals) { push @groups, $g->{group} unless $gseen{$g->{group}}++; }
for my $grp (@groups) {
	my @gg = grep { ($_->{group} // '') eq $grp } @goals;
	my @cells;
	for my $t (@iperf_tests) {
		my ($g) = grep { $_->{test} eq $t } @gg;
		if (!$g) { push @cells, '–'; next; }
		if ($g->{verdict} eq 'n/a') {
			my $next = 1 + keys %nas;
			$nas{$g->{reason}} //= $next;
			push @cells, "n/a [$nas{$g->{reason}}]";
		} else {
			push @cells, fmt($g->{value}) . " $g->{verdict}";
		}
	}
	push @md, "| $grp | " . $op->($gg[0]{target}) . ' | ' . join(' | ', @cells) . ' |';
}
if (%nas) {
	push @md, '';
	push @md, "[$nas{$_}] n/a: $_" . '  ' for sort { $nas{$a} <=> $nas{$b} } keys %nas;
}
push @md, '', 'Other goals:', '', '| goal | measured | target | verdict |', '|---|---|---|---|';
for my $g (grep { !defined $_->{group} } @goals) {
	my $v = defined $g->{value} ? fmt($g->{value}) : 'n/a';
	$v .= " ($g->{detail})" if defined $g->{detail};
	my $verdict = $g->{verdict} eq 'n/a' ? "n/a: $g->{reason}" : $g->{verdict};
	push @md, "| $g->{goal} | $v | " . $op->($g->{target}) . " | $verdict |";
}
push @md, '';
push @md, '## Throughput, iperf3 TCP [Mbit/s]', '';
push @md, '| configuration | ' . join(' | ', map { $tlabel{$_} } @iperf_tests) . ' | runs ok / stalled / failed / not run |';
push @md, '|---|' . ('---|' x @iperf_tests) . '---|';
for my $c (@configs) {
	next unless $sum{$c};
	my @cells = map { mmm($sum{$c}{tests}{$_}{mbps}) } @iperf_tests;
	my %n = (ok => 0, stall => 0, failed => 0, not_run => 0);
	for my $t (@iperf_tests) { $n{$_} += $sum{$c}{tests}{$t}{runs}{$_} for keys %n; }
	push @md, '| ' . L($c) . ' | ' . join(' | ', @cells) . " | $n{ok} / $n{stall} / $n{failed} / $n{not_run} |";
}
push @md, '';
push @md, '## Latency, boot and memory', '';
push @md, '| configuration | boot to init [s] | tcprr median [µs] | tcprr p99 [µs] | RSS beyond guest RAM [MiB] | vmm startup to first KVM_RUN [ms] |';
push @md, '|---|---|---|---|---|---|';
for my $c (@configs) {
	next unless $sum{$c};
	my $s = $sum{$c};
	push @md, sprintf('| %s | %s | %s | %s | %s | %s |', L($c), mmm($s->{boot_to_init_s}),
		mmm($s->{tests}{rr} ? $s->{tests}{rr}{median_us} : undef), mmm($s->{tests}{rr} ? $s->{tests}{rr}{p99_us} : undef),
		mmm($s->{rss_beyond_guest_ram_kib}, \&fmt, 1 / 1024), mmm($s->{vmm_startup_us}, \&fmt, 1 / 1000));
}
for my $c (grep { $sum{$_} } @boot_configs) {
	push @md, sprintf('| %s [boot only] | %s | – | – | – | – |', L($c), mmm($sum{$c}{boot_to_init_s}));
}
if (grep { $sum{$_} } @boot_configs) {
	push @md, '', '"Boot only": the ELF vmlinux unpacked from the same vmlinuz (tests/testbed/extract-vmlinux.sh), '
		. 'booted with no NIC and no tests; vmm enters it directly, QEMU through its PVH entry. '
		. 'Neither guest runs the kernel\'s decompressor, which the bzImage rows above do.';
}
if (defined $meta->{l1_scrub}) {
	push @md, '', $meta->{l1_scrub} =~ /^off/
		? "L1's memory was not scrubbed between boots ($meta->{l1_scrub}): each boot's time includes what the test bed charges the first writer of the last guest's memory (tests/bench/l1-scrub.c)."
		: "Before each boot, L1 wrote once to as much memory as the last guest had ($meta->{l1_scrub}; tests/bench/l1-scrub.c), "
		. 'so that the test bed\'s invalidation of that guest\'s translated code (TCG) is not charged to the next boot; '
		. 'its seconds are `scrub_s` in each boot.txt.';
}
push @md, '';
push @md, '## IOTLB traffic and CPU time per GiB moved (all successful iperf3 runs)', '';
push @md, $kp_ok
	? 'IOTLB counts are taken in the L1 kernel with kprobes on vhost (`vhost_iotlb_miss`: a miss sent to the monitor; `vhost_iotlb_add_range`: an update; `vhost_iotlb_del_range`: an invalidation), the same way for both monitors (before 2026-11-28 09:00 the miss probe sat on `vhost_enqueue_msg`, which runs twice per miss, so older miss counts are double; their ratios stand). CPU: utime + stime of the monitor process (all its threads, vCPUs included), the part outside guest mode (minus guest_time), and the vhost worker kernel thread. Waiting for a CPU: the time the same threads were runnable but not running (the second field of each thread\'s `schedstat`); on the test bed\'s two CPUs a busy guest, its vhost worker and the monitor\'s other threads take turns.'
	: "IOTLB counts: $kp_na.";
push @md, '';
push @md, '| configuration | misses / GiB | updates / GiB | invalidations / GiB | monitor CPU [s/GiB] | … outside guest mode [s/GiB] | vhost worker CPU [s/GiB] | monitor waiting for a CPU [s/GiB] | vhost worker waiting for a CPU [s/GiB] |';
push @md, '|---|---|---|---|---|---|---|---|---|';
for my $c (@configs) {
	next unless $sum{$c};
	my $p = $sum{$c}{per_gib_all_iperf3};
	push @md, sprintf('| %s | %s | %s | %s | %s | %s | %s | %s | %s |', L($c), mmm($p->{iotlb_misses}, \&fmt_int),
		mmm($p->{iotlb_updates}, \&fmt_int), mmm($p->{iotlb_invalidations}, \&fmt_int), mmm($p->{monitor_cpu_s}),
		mmm($p->{monitor_cpu_outside_guest_s}), mmm($p->{vhost_cpu_s}), mmm($p->{monitor_runq_s}), mmm($p->{vhost_runq_s}));
}
my @vs = grep { $sum{$_} && $sum{$_}{vmm_stats_per_gib} && $sum{$_}{vmm_stats_per_gib}{misses} } @configs;
if (@vs) {
	push @md, '', "vmm's own `--stats` counters over each whole boot (boot and all tests), per GiB that iperf3 moved in it, as a cross-check:", '';
	push @md, '| configuration | misses / GiB | updates / GiB | invalidations / GiB |', '|---|---|---|---|';
	for my $c (@vs) {
		my $p = $sum{$c}{vmm_stats_per_gib};
		push @md, sprintf('| %s | %s | %s | %s |', L($c), mmm($p->{misses}, \&fmt_int), mmm($p->{updates}, \&fmt_int), mmm($p->{invalidates}, \&fmt_int));
	}
}
if (%cpu_bound) {
	push @md, '', '### What lazy mode can reach on this L1', '',
		'L1\'s two CPUs are saturated in every iperf3 test, so a configuration\'s throughput goes as the inverse of the CPU time '
		. 'one GiB costs the monitor process and the vhost worker together (medians per GiB, as above). '
		. '"Predicted" is no vIOMMU\'s CPU time per GiB over lazy\'s, a check of that model against the measured ratio. '
		. 'The ceiling counts only lazy\'s time in guest mode (the guest\'s own work, its DMA mapping included) and its vhost worker: '
		. 'the ratio lazy would reach if everything the monitor does outside guest mode cost nothing. '
		. 'A ceiling below 0.9 means that no saving in the monitor\'s own work reaches that goal in this test bed; '
		. 'only less work in the guest or in vhost could. L1\'s iperf3 and its network stack are not counted; '
		. 'the predicted column shows how little that changes.', '',
		'| test | no vIOMMU [s/GiB] | lazy [s/GiB]: outside guest mode / guest mode / vhost worker | lazy / no vIOMMU: measured | predicted | ceiling |',
		'|---|---|---|---|---|---|';
	for my $t (grep { $cpu_bound{$_} } @iperf_tests) {
		my $b = $cpu_bound{$t};
		push @md, sprintf('| %s | %s | %s / %s / %s | %s | %.2f | %.2f |', $tlabel{$t}, fmt($b->{plain_cpu_s_per_gib}),
			fmt($b->{lazy_outside_guest_s_per_gib}), fmt($b->{lazy_guest_s_per_gib}), fmt($b->{lazy_vhost_s_per_gib}),
			defined $b->{measured} ? sprintf('%.2f', $b->{measured}) : '–', $b->{predicted}, $b->{ceiling});
	}
}
push @md, '';
push @md, '## Stalls and failures', '';
push @md, sprintf('A run (tcprr or one iperf3 test) that moves less than %s KiB (tcprr: %s KiB) through the TAP in %s s, or that the guest ended with a timeout, is a stall; a run whose guest or monitor failed otherwise is failed; the rest of a boot after a crash or a dead network is not run.',
	($meta->{stall_bytes} // 1048576) / 1024, ($meta->{stall_bytes_rr} // 1024) / 1024, $meta->{stall_s} // 5), '';
push @md, '| configuration | runs attempted | stalled | failed | not run | longest streak of ok iperf3 runs | boots killed by the test bed, booted again |', '|---|---|---|---|---|---|---|';
for my $c (@configs) {
	next unless $sum{$c};
	my $st = $sum{$c}{stalls};
	push @md, sprintf('| %s | %d | %d | %d | %d | %d of %d | %d |', L($c), $st->{attempted}, $st->{stalled}, $st->{failed}, $st->{not_run},
		$sum{$c}{longest_ok_iperf3_streak}, $sum{$c}{iperf3_runs}, $sum{$c}{boots_lost_to_testbed});
}
if (@lost) {
	push @md, '', 'Boots that the test bed itself killed (`tests/testbed/failures.sh`, docs/STRICT-CRASH.md), each booted once more in its place; a boot with a stall or a failed test before it died is never replaced. Their figures are not used; their data is in `testbed-lost/`:', '';
	for my $l (@lost) {
		my $what = $l->{why} =~ /^L1 lost: (.*)/ ? "the first L1 was lost during this boot ($1)" : "the guest died of $l->{why}";
		push @md, sprintf('- %s, rep %d: %s; tests it had completed, all ok: %s', L($l->{config}), $l->{rep}, $what,
			@{$l->{tests_ended}} ? join(', ', map { $tlabel{$_} // $_ } @{$l->{tests_ended}}) : 'none');
	}
}
my @bad = grep { $_->{status} ne 'ok' } @runs;
if (@bad) {
	push @md, '', 'Runs that did not succeed, per boot:', '';
	my (%by, @order);
	for my $r (@bad) {
		my $k = "$r->{config}\t$r->{rep}";
		push @order, $k unless $by{$k};
		push @{$by{$k}}, $r;
	}
	for my $k (@order) {
		my @rs = @{$by{$k}};
		my @parts = map { sprintf('%s: %s%s', $tlabel{$_->{test}} // $_->{test}, $_->{status},
			defined $_->{reason} ? " ($_->{reason})" : '') } grep { $_->{status} ne 'not_run' } @rs;
		my @nr = grep { $_->{status} eq 'not_run' } @rs;
		my $b = (grep { $_->{config} eq $rs[0]{config} && $_->{rep} == $rs[0]{rep} } @boots)[0];
		if (@nr) {
			my $why = $nr[0]{reason} // ($b && $b->{killed} ? $b->{killed} : 'the boot ended before them');
			push @parts, join(', ', map { $tlabel{$_->{test}} // $_->{test} } @nr) . ": not run ($why)";
		}
		push @md, sprintf('- %s, rep %d: %s', L($rs[0]{config}), $rs[0]{rep}, join('; ', @parts));
		push @md, "  - the guest was at $b->{guest_was_at} (crash-dump-check, in this boot's folder)"
			if $b && $b->{guest_was_at};
	}
}
if ($mb) {
	push @md, '', '## IOTLB miss micro-benchmark', '';
	if (defined $mb->{median_ns}) {
		push @md, sprintf('`build/iotlb-miss-bench --json`, on the host (no KVM needed): median %s ns, p99 %s ns (goal: median ≤ 2000 ns).',
			$mb->{median_ns}, $mb->{p99_ns} // '?');
	} else {
		push @md, "`build/iotlb-miss-bench --json`: $mb->{error}";
	}
}
if (%unit_cost) {
	my @units = (
		[syscall => 'a system call (`getppid`)'],
		[update => 'an UPDATE to vhost-net, 4 KiB, new IOVA'],
		[invalidate => 'an INVALIDATE of one such entry'],
		['exit-kernel' => 'a guest port write finished in the kernel (ioeventfd)'],
		['exit-user' => 'a guest port write handed to user space'],
		['exit-mmio' => 'a guest MMIO write handed to user space (decoded by KVM)'],
		['update-after-exit' => 'an UPDATE right after a guest exit (the exit not counted)'],
		['update-after-switch' => 'an UPDATE right after a switch to another thread and back (the switches not counted)'],
	);
	my $cell = sub {
		my ($c, $u) = @_;
		return '–' unless $c;
		return $c->{error} if $c->{error};
		my $x = $c->{$u} or return '–';
		return $x->{absent} ? "– ($x->{absent})" : sprintf('%.2f (%.2f–%.2f)', $x->{median_us}, $x->{min_us}, $x->{max_us});
	};
	push @md, '', '## What one unit of vIOMMU work costs', '',
		'`build/testbed-cost`, alone, before any guest: median (min–max) over 15 rounds, µs per unit. Uncontended, so a lower bound of the same unit under load.', '',
		'| unit | test bed (L1) [µs] | this machine [µs] |', '|---|---|---|';
	push @md, sprintf('| %s | %s | %s |', $_->[1], $cell->($unit_cost{l1}, $_->[0]), $cell->($unit_cost{host}, $_->[0])) for @units;
}
my @wt = grep { $sum{$_} && ($sum{$_}{write_update} || $sum{$_}{write_invalidate}) } @configs;
if (@wt) {
	push @md, '', '## What the messages cost in the running guests', '',
		"vmm's `--stats`: the time each UPDATE and INVALIDATE spent in `write()` on the vhost fd, over each whole boot; "
		. 'UPDATEs are written mostly by the event loop, INVALIDATEs by the vCPU during the guest\'s flush. '
		. 'Median per boot (an upper bound: its log2 bucket\'s), mean, and the writes of 65.5 µs (2^16 ns) or more: '
		. 'their share of the writes and, estimated from the buckets, of the time in writes. Median (min–max) over the boots.', '',
		'| configuration | message | writes per boot | median [µs] | mean [µs] | ≥ 65.5 µs: share of writes | … share of the time |',
		'|---|---|---|---|---|---|---|';
	my $pct = sub { sprintf('%.1f%%', 100 * $_[0]) };
	for my $c (@wt) {
		for my $k (qw(write_update write_invalidate)) {
			my $w = $sum{$c}{$k} or next;
			next unless $w->{n} && $w->{n}{median} > 0;
			push @md, sprintf('| %s | %s | %s | %s | %s | %s | %s |', L($c), $k eq 'write_update' ? 'UPDATE' : 'INVALIDATE',
				mmm($w->{n}, \&fmt_int), mmm($w->{median_le_us}), mmm($w->{mean_us}),
				mmm($w->{tail_count_share}, $pct), mmm($w->{tail_time_share}, $pct));
		}
	}
}
push @md, '', 'Chart: `results.png`. Raw data: `' . $run . '/`.', '';
open(my $mf, '>', "$run/results.md") or die "$0: $run/results.md: $!\n";
print $mf join("\n", @md);
close $mf;

# ---- chart (gnuplot)
my $pd = "$run/plot";
mkdir $pd;
sub dat {
	my ($name, @rows) = @_;
	open(my $f, '>', "$pd/$name.dat") or die;
	print $f join("\n", @rows), "\n";
	close $f;
}
sub triple {
	my ($st, $scale) = @_;
	$scale //= 1;
	return ('NaN', 'NaN', 'NaN') unless $st;
	return map { $st->{$_} * $scale } qw(median min max);
}
my @pc = grep { $sum{$_} } @configs;
dat('tput', map { my $c = $_; join("\t", "\"$short{$c}\"", map { triple($sum{$c}{tests}{$_}{mbps}) } @iperf_tests) } @pc);
dat('rr', map { my $c = $_; my $r = $sum{$c}{tests}{rr} // {}; join("\t", "\"$short{$c}\"", triple($r->{median_us}), triple($r->{p99_us})) } @pc);
my @pb = (@pc, grep { $sum{$_} } @boot_configs);
dat('boot', map { join("\t", "\"$short{$_}\"", triple($sum{$_}{boot_to_init_s})) } @pb);
dat('rss', map { join("\t", "\"$short{$_}\"", triple($sum{$_}{rss_beyond_guest_ram_kib}, 1 / 1024)) } @pc);
my @vi = grep { !/plain/ } @pc;
dat('iotlb', map { my $p = $sum{$_}{per_gib_all_iperf3}; join("\t", "\"$short{$_}\"", triple($p->{iotlb_misses}), triple($p->{iotlb_invalidations})) } @vi);
dat('cpu', map { my $p = $sum{$_}{per_gib_all_iperf3}; join("\t", "\"$short{$_}\"", triple($p->{monitor_cpu_s}), triple($p->{monitor_cpu_outside_guest_s}), triple($p->{vhost_cpu_s})) } @pc);
# gnuplot labels over the empty slots of a panel (histogram row i is at x = i).
sub nodata_labels {
	my ($list, $has) = @_;
	my $g = "unset label\n";
	for my $i (0 .. $#$list) {
		my $c = $list->[$i];
		next if $has->($c);
		my $why = !$sum{$c} ? 'not run' : $sum{$c}{stalls}{stalled} ? 'stalled' : 'failed';
		$g .= "set label \"no data\\n($why)\" at $i, graph 0.1 center textcolor rgb '#cc3311'\n";
	}
	return $g;
}
my $ncol = scalar @iperf_tests;
my $tp_plot = join(", \\\n     ", map {
	my $i = $_;
	my $c = 2 + 3 * $i;
	sprintf("'%s/tput.dat' using %d:%d:%d%s title '%s'", $pd, $c, $c + 1, $c + 2, $i == 0 ? ':xtic(1)' : '', $tlabel{$iperf_tests[$i]})
} 0 .. $ncol - 1);
my $title = sprintf('make bench (%s mode, %s): vmm vs QEMU in one nested test-bed boot; bars: median, whiskers: min-max over %s boot(s)',
	$host->{mode} // '?', substr($when, 0, 10), $reps);
# One histogram panel over the configurations in LIST; HAS says whether a
# configuration has data. A panel without any data says so instead of
# letting gnuplot fail on it.
sub panel {
	my (%o) = @_;
	my @list = @{$o{list}};
	my $g = "set title '$o{title}'\nset ylabel '$o{ylabel}'\n";
	$g .= sprintf("set xrange [-0.5:%s]\n", @list ? $#list + 0.5 : 0.5);
	$g .= $o{log} ? "set logscale y\nset format y '$o{log}'\n" : "unset logscale y\nset format y '%g'\n";
	$g .= "set yrange $o{yrange}\n";
	if (!grep { $o{has}->($_) } @list) {
		$g .= "unset label\nunset logscale y\nset yrange [0:1]\n"
			. "set label 'no data in this run' at graph 0.5, graph 0.5 center textcolor rgb '#cc3311'\n"
			. "plot NaN notitle\nunset label\n";
		return $g;
	}
	return $g . nodata_labels(\@list, $o{has}) . "plot $o{plot}\nunset label\n";
}
my $gp = <<"GP";
set terminal pngcairo size 1600,1500 font 'sans,11'
set output '$run/results.png'
set datafile missing 'NaN'
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set key top right
set offsets 0, 0, graph 0.25, 0
set xtics scale 0
set multiplot layout 3,2 title '$title' font 'sans,13'
GP
$gp .= panel(title => 'iperf3 TCP throughput (higher is better)', ylabel => 'throughput [Mbit/s]',
	list => \@pc, yrange => '[0:*]', has => sub { grep { $sum{$_[0]}{tests}{$_}{mbps} } @iperf_tests },
	plot => $tp_plot);
$gp .= panel(title => 'tcprr request/response round trip (lower is better)', ylabel => 'round-trip time [µs]',
	list => \@pc, yrange => '[0:*]', has => sub { $sum{$_[0]}{tests}{rr} && $sum{$_[0]}{tests}{rr}{median_us} },
	plot => "'$pd/rr.dat' using 2:3:4:xtic(1) title 'median', '' using 5:6:7 title '99th percentile'");
$gp .= panel(title => 'boot to guest init (lower is better)', ylabel => 'time [s]',
	list => \@pb, yrange => '[0:*]', has => sub { $sum{$_[0]}{boot_to_init_s} },
	plot => "'$pd/boot.dat' using 2:3:4:xtic(1) title 'boot to init' lc rgb '#4477aa'");
$gp .= panel(title => 'vhost IOTLB traffic per GiB moved, vIOMMU configurations (lower is better)',
	ylabel => 'events per GiB (log scale)', list => \@vi, yrange => '[*:*]', log => '%.0f',
	has => sub { $sum{$_[0]}{per_gib_all_iperf3}{iotlb_misses} },
	plot => "'$pd/iotlb.dat' using 2:3:4:xtic(1) title 'misses', '' using 5:6:7 title 'invalidations'");
$gp .= panel(title => 'CPU time per GiB moved (lower is better)', ylabel => 'CPU time [s/GiB] (log scale)',
	list => \@pc, yrange => '[*:*]', log => '%g', has => sub { $sum{$_[0]}{per_gib_all_iperf3}{monitor_cpu_s} },
	plot => "'$pd/cpu.dat' using 2:3:4:xtic(1) title 'monitor process, all threads', '' using 5:6:7 title 'monitor, outside guest mode', '' using 8:9:10 title 'vhost worker thread'");
$gp .= panel(title => 'monitor RSS beyond guest RAM (lower is better; goal for vmm: 5 MiB)', ylabel => 'RSS [MiB] (log scale)',
	list => \@pc, yrange => '[0.1:1000]', log => '%g', has => sub { $sum{$_[0]}{rss_beyond_guest_ram_kib} },
	plot => "'$pd/rss.dat' using 2:3:4:xtic(1) title 'RSS beyond guest RAM' lc rgb '#228833', 5 with lines dt 2 lw 2 lc rgb '#cc3311' title 'goal for vmm: 5 MiB'");
$gp .= "unset multiplot\n";
open(my $gf, '>', "$pd/results.gp") or die;
print $gf $gp;
close $gf;
if (system('gnuplot', "$pd/results.gp") != 0) {
	warn "$0: gnuplot failed; the chart is missing (script: $pd/results.gp)\n";
}
print STDERR "report.pl: wrote $run/results.json, results.md, results.png\n";
