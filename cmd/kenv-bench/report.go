package main

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/kenv/kenv/adapter"
)

// targetCheck is one target and whether the run met it.
type targetCheck struct {
	name string
	want string
	got  string
	met  bool
}

// reporter builds the markdown report.
type reporter struct {
	r       *results
	b       strings.Builder
	targets []targetCheck
}

// renderReport returns the markdown report of r.
func renderReport(r *results) string {
	rep := &reporter{r: r}
	rep.header()
	rep.operations()
	rep.processCosts()
	rep.fanout()
	rep.latency()
	rep.memory()
	rep.parse()
	rep.targetSummary()
	return rep.b.String()
}

func (rep *reporter) printf(format string, args ...any) {
	fmt.Fprintf(&rep.b, format, args...)
}

// row prints one markdown table row, escaping the cells.
func (rep *reporter) row(cells ...string) {
	for i, c := range cells {
		cells[i] = strings.ReplaceAll(c, "|", `\|`)
	}
	rep.printf("| %s |\n", strings.Join(cells, " | "))
}

// tableHead prints a header row and its separator.
func (rep *reporter) tableHead(cells ...string) {
	rep.row(cells...)
	seps := make([]string, len(cells))
	for i := range seps {
		seps[i] = "---"
	}
	rep.printf("|%s|\n", strings.Join(seps, "|"))
}

// judge records a target and returns the text of the target cell.
func (rep *reporter) judge(name, want, got string, met bool) string {
	if rep.r.cfg.smoke {
		return want + ", not judged in a smoke run"
	}
	rep.targets = append(rep.targets, targetCheck{name: name, want: want, got: got, met: met})
	if met {
		return want + ": met"
	}
	return want + ": missed"
}

func (rep *reporter) header() {
	r := rep.r
	m := r.machine
	rep.printf("# kenv benchmark results\n\n")
	rep.printf("Run %s on %s, %s, with `%s`.\n\n", r.runID, r.started.UTC().Format("2006-01-02 15:04 MST"),
		r.finished.Sub(r.started).Round(time.Second), strings.Join(quoteAll(r.cfg.args), " "))
	if r.cfg.smoke {
		rep.printf("This is a smoke run: too few runs for the numbers to mean anything, and no target is judged.\n\n")
	}
	if r.failure != nil {
		rep.printf("**The run stopped early:** %v\n\n", r.failure)
	}

	rep.tableHead("", "")
	rep.row("machine", fmt.Sprintf("%d cores, %s, %s memory, Linux %s", m.cores, m.cpuModel, formatBytes(m.memory), m.kernel))
	rep.row("load average (1, 5, 15 min)", fmt.Sprintf("%s at the start, %s at the end", m.loadAvg, r.loadAtEnd))
	e := m.engine
	rep.row("engine", fmt.Sprintf("%s client %s (API %s) at %s, server %s (API %s)", e.Kind, e.ClientVersion, e.ClientAPI, e.Path, e.ServerVersion, e.ServerAPI))
	rep.row("Go, kenv", fmt.Sprintf("%s, kenv %s", m.goVersion, adapter.Version))
	rep.row("image", r.cfg.image)
	rep.printf("\n")
}

func (rep *reporter) operations() {
	ops := rep.r.operations
	if len(ops) == 0 {
		return
	}
	rep.printf("## Operations\n\n")
	rep.printf("Each operation ran %d times through kenv's adapter and %d times through the bare client, interleaved (kenv, bare, kenv, bare ...). "+
		"The ratio is kenv's median over the bare client's median; the paired ratio is the median of kenv's time over the bare time of the run next to it. "+
		"Engine processes are the client processes that one run starts. A proposed row runs, with the bare client, the engine calls that kenv would run after a change that BENCHMARKS.md recommends.\n\n",
		rep.r.cfg.iterations, rep.r.cfg.iterations)
	rep.tableHead("operation", "side", "command", "median", "min", "max", "ratio", "paired ratio", "target", "engine processes")
	for _, op := range ops {
		sum := summarizeCalls(op)
		r := ratio(op.kenv, op.bare)
		target := ""
		if op.target > 0 {
			want := fmt.Sprintf("≤ %.2fx", op.target)
			target = rep.judge(op.name, want, formatRatio(r), r <= op.target)
		}
		procs := fmt.Sprint(sum.minProcs)
		if sum.maxProcs != sum.minProcs {
			procs = fmt.Sprintf("%d to %d", sum.minProcs, sum.maxProcs)
		}
		rep.row(op.name, "kenv", "`"+op.kenvCmd+"`", formatDuration(op.kenv.median()), formatDuration(op.kenv.min()), formatDuration(op.kenv.max()),
			formatRatio(r), formatRatio(pairedRatio(op.kenv, op.bare)), target, procs)
		rep.row("", "bare", "`"+op.bareCmd+"`", formatDuration(op.bare.median()), formatDuration(op.bare.min()), formatDuration(op.bare.max()), "", "", "", fmt.Sprint(op.bareProcs))
		if p := op.proposal; p != nil {
			rep.row("", "proposed: "+p.change+" (bare client)", "`"+p.cmd+"`", formatDuration(p.samples.median()), formatDuration(p.samples.min()), formatDuration(p.samples.max()),
				formatRatio(ratio(p.samples, op.bare)), formatRatio(pairedRatio(p.samples, op.bare)), "", fmt.Sprint(p.procs))
		}
	}
	rep.printf("\n")

	rep.printf("### Where kenv's time goes\n\n")
	rep.printf("From the engine calls that kenv's runs made, timed by a counting executor around kenv's own. " +
		"\"Outside the engine\" is the median time of a run with no engine process running: kenv's own work.\n\n")
	rep.tableHead("operation", "engine calls of one kenv run", "median duration of each call", "outside the engine", "kenv minus bare (medians)")
	for _, op := range ops {
		sum := summarizeCalls(op)
		var callDurations []string
		for _, c := range sum.perCall {
			callDurations = append(callDurations, c.name+" "+formatDuration(c.median))
		}
		rep.row(op.name, sum.sequence, strings.Join(callDurations, ", "), formatDuration(sum.outside), formatDuration(op.kenv.median()-op.bare.median()))
	}
	rep.printf("\n")
}

// processCosts prints the wall and CPU time of the bare client's processes.
func (rep *reporter) processCosts() {
	costs := rep.r.costs
	if len(costs) == 0 {
		return
	}
	rep.printf("### Cost of one engine client process\n\n")
	rep.printf("Wall and CPU time (user plus system, from the process's rusage) of the bare client's processes in this run, by subcommand. " +
		"The CPU time is spent on this machine's cores whatever the engine does, so it is what each extra engine call costs when many run at once.\n\n")
	rep.tableHead("subcommand", "processes", "median wall", "median CPU")
	for _, name := range sortedKeys(costs) {
		c := costs[name]
		rep.row(name, fmt.Sprint(len(c.wall)), formatDuration(c.wall.median()), formatDuration(c.cpu.median()))
	}
	rep.printf("\n")
}

func (rep *reporter) fanout() {
	f := rep.r.fanout
	if f == nil {
		return
	}
	rep.printf("## Fan-out\n\n")
	rep.printf("%d environments provisioned, exec'd once and destroyed at once; rounds per side: %d, interleaved. "+
		"kenv runs them as goroutines through one adapter with the default MaxConcurrent; the bare client runs under xargs -P %d, "+
		"one sh -c per environment. Times are wall times of a whole round.\n\n", f.fanout, len(f.kenv), f.fanout)
	r := ratio(f.kenv, f.bare)
	target := rep.judge("fan-out", fmt.Sprintf("≤ %.2fx", f.target), formatRatio(r), r <= f.target)
	kenvProcs := "n/a"
	if len(f.kenvProcs) > 0 {
		kenvProcs = fmt.Sprintf("%.1f per environment (%d in the first round)", float64(f.kenvProcs[0])/float64(f.fanout), f.kenvProcs[0])
	}
	rep.tableHead("side", "command", "median", "min", "max", "ratio", "paired ratio", "target", "engine processes")
	rep.row("kenv", fmt.Sprintf("`%d × (Provision, Exec true, Destroy)`", f.fanout), formatDuration(f.kenv.median()), formatDuration(f.kenv.min()), formatDuration(f.kenv.max()),
		formatRatio(r), formatRatio(pairedRatio(f.kenv, f.bare)), target, kenvProcs)
	rep.row("bare", "`"+f.bareCmd+"`", formatDuration(f.bare.median()), formatDuration(f.bare.min()), formatDuration(f.bare.max()), "", "", "", "3 per environment")
	if len(f.proposed) > 0 {
		rep.row("proposed (bare client)", "`run; container inspect; exec; container inspect; rm`, under the same xargs", formatDuration(f.proposed.median()), formatDuration(f.proposed.min()), formatDuration(f.proposed.max()),
			formatRatio(ratio(f.proposed, f.bare)), formatRatio(pairedRatio(f.proposed, f.bare)), "", "5 per environment")
	}
	rep.printf("\n")
}

func (rep *reporter) latency() {
	l := rep.r.latency
	if l == nil {
		return
	}
	rep.printf("## Follow latency\n\n")
	rep.printf("A container printed %d lines about 20 ms apart, each carrying the time it was written (busybox adjtimex, read about 1 ms before the write). "+
		"kenv's StreamLogs with Follow and the bare `logs --follow --timestamps` read the same lines at once. "+
		"The engine's timestamp is the time the daemon received the line; container, daemon and consumers share the host's clock.\n\n", l.lines)
	rep.tableHead("consumer", "from", "to", "median", "p99", "max")
	rows := []struct {
		consumer, from, to string
		s                  samples
	}{
		{"kenv", "write in the container", "LogEntry in the consumer", l.kenv},
		{"bare", "write in the container", "line read from the client", l.bare},
		{"kenv", "engine timestamp", "LogEntry in the consumer", l.kenvEngine},
		{"bare", "engine timestamp", "line read from the client", l.bareEngine},
		{"engine", "write in the container", "engine timestamp", l.toEngine},
	}
	for _, row := range rows {
		rep.row(row.consumer, row.from, row.to, formatDuration(row.s.median()), formatDuration(row.s.percentile(99)), formatDuration(row.s.max()))
	}
	rep.printf("\n")
}

func (rep *reporter) memory() {
	mem := rep.r.memory
	if len(mem) == 0 {
		return
	}
	rep.printf("## Memory\n\n")
	rep.printf("Each job ran in a child process of the driver. \"kenv process\" is the child's own peak resident memory (VmHWM in /proc/self/status at its end). "+
		"\"ru_maxrss\" is what wait4 reports for the child: at least the largest peak of the child and of the engine client processes it ran, "+
		"and at least the driver's peak when it started the child, because Linux carries the peak of the address space that execve replaces into it. "+
		"The capped exec keeps %s of output (ExecRequest.MaxOutputBytes). The log job iterates StreamLogs over the finished log of a container "+
		"whose main process printed it and keeps no entry; %s.\n\n", formatBytes(execOutputCap), formatBudget(rep.r.cfg.logBudget))
	rep.tableHead("job", "handled", "kenv process", "ru_maxrss", "elapsed", "target")
	for _, m := range mem {
		handled := "nothing"
		job := "idle: one exec of true"
		switch m.job {
		case jobExec:
			job = "exec of " + formatBytes(m.wantBytes) + ", output capped at " + formatBytes(execOutputCap)
			handled = formatBytes(m.bytes)
		case jobLogs:
			job = "log stream of " + formatBytes(m.wantBytes) + ", no entry kept"
			handled = fmt.Sprintf("%s in %d lines", formatBytes(m.bytes), m.lines)
			if !m.complete {
				handled += fmt.Sprintf(", stopped at the budget (%.1f%% of the log)", 100*float64(m.bytes)/float64(max(m.wantBytes, 1)))
			}
		}
		target := ""
		if m.job != jobIdle {
			want := "< " + formatBytes(memoryLimit)
			target = rep.judge(job, want, formatBytes(m.selfRSS), m.selfRSS < memoryLimit)
		}
		rep.row(job, handled, formatBytes(m.selfRSS), formatBytes(m.familyRSS), formatDuration(m.elapsed), target)
	}
	rep.printf("\n")

	rep.printf("### Log read throughput\n\n")
	rep.printf("The same log read through kenv (the log job above) and by the bare client with the same argv (`logs --timestamps NAME`), one after the other. " +
		"The ratio is the bare client's rate over kenv's, so it is how many times longer kenv takes for the same log.\n\n")
	rep.tableHead("log", "side", "lines read", "elapsed", "lines/s", "ratio")
	for _, m := range mem {
		if m.job != jobLogs || m.bare == nil {
			continue
		}
		kenvRate := float64(m.lines) / m.elapsed.Seconds()
		bareRate := float64(m.bare.lines) / m.bare.elapsed.Seconds()
		rep.row(formatBytes(m.wantBytes), "kenv", readCount(m.lines, m.complete), formatDuration(m.elapsed), fmt.Sprintf("%.0f", kenvRate), formatRatio(bareRate/kenvRate))
		rep.row("", "bare", readCount(m.bare.lines, m.bare.complete), formatDuration(m.bare.elapsed), fmt.Sprintf("%.0f", bareRate), "")
	}
	rep.printf("\n")
}

// readCount describes how many lines a read got.
func readCount(lines int64, complete bool) string {
	if complete {
		return fmt.Sprintf("%d, all", lines)
	}
	return fmt.Sprintf("%d, stopped at the budget", lines)
}

// formatBudget describes a -log-budget value.
func formatBudget(d time.Duration) string {
	if d <= 0 {
		return "each read goes to the end of the log (-log-budget 0)"
	}
	return fmt.Sprintf("each read stops after %s (-log-budget) and reports how far it got", d)
}

func (rep *reporter) parse() {
	p := rep.r.parse
	if p == nil {
		return
	}
	rep.printf("## Parsing\n\n")
	rep.printf("`%s`, on %s. Each benchmark runs on one goroutine, so MB/s is per core.\n\n", p.command, p.cpu)
	rep.tableHead("benchmark", "ns/op", "MB/s", "B/op", "allocs/op", "target")
	for _, b := range p.benchmarks {
		target := ""
		if strings.HasPrefix(b.name, logLineBenchmarkPrefix) {
			want := fmt.Sprintf("≥ %d MB/s, ≤ %d alloc per line", logLineMinMBps, logLineMaxAllocs)
			got := fmt.Sprintf("%.0f MB/s, %d allocs", b.mbPerSec, b.allocsPerOp)
			target = rep.judge(b.name, want, got, b.mbPerSec >= logLineMinMBps && b.allocsPerOp <= logLineMaxAllocs)
		}
		mb := "n/a"
		if b.mbPerSec > 0 {
			mb = fmt.Sprintf("%.1f", b.mbPerSec)
		}
		rep.row(b.name, formatFloat(b.nsPerOp), mb, fmt.Sprint(b.bytesPerOp), fmt.Sprint(b.allocsPerOp), target)
	}
	rep.printf("\n")
}

func (rep *reporter) targetSummary() {
	if len(rep.targets) == 0 {
		return
	}
	rep.printf("## Targets\n\n")
	met := 0
	for _, t := range rep.targets {
		state := "missed"
		if t.met {
			state = "met"
			met++
		}
		rep.printf("- %s: %s, got %s: %s\n", t.name, t.want, t.got, state)
	}
	rep.printf("\n%d of %d targets met.\n", met, len(rep.targets))
}

// formatFloat prints a ns/op value with at most one decimal.
func formatFloat(v float64) string {
	if v >= 100 || v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}
