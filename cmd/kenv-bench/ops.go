package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kenv/kenv/adapter"
	"github.com/kenv/kenv/dockercli"
)

// execOutputCap is the per-stream output cap of the capped exec in the
// memory test, and the size of the output of the "exec of 1 MiB" operation.
const execOutputCap = 1 << 20

// benchVolume is the one named volume of each environment in the per-operation
// tests, mounted at /data.
const (
	benchVolume       = "data"
	benchVolumeTarget = "/data"
)

// sleepCommand keeps a container running. It is kenv's default main process,
// given explicitly so that the bare side runs the same one.
var sleepCommand = []string{"sleep", "infinity"}

// opResult is one operation measured through kenv and through the bare
// client, run for run interleaved.
type opResult struct {
	name      string
	kenvCmd   string // the adapter call
	bareCmd   string // the client commands
	kenv      samples
	bare      samples
	kenvCalls [][]engineCall // the engine calls of each kenv run, in the order of kenv
	bareProcs int
	target    float64 // the highest acceptable ratio; 0 for none

	// proposal, when set, is the bare client running the engine calls that
	// kenv would run after a change recommended in the report.
	proposal *proposalResult
}

// proposalResult is a measured simulation of a proposed adapter change.
type proposalResult struct {
	change  string
	cmd     string
	samples samples
	procs   int
}

// measureOperations runs the per-operation tests: n provisions on each side,
// then exec, exec of 1 MiB and snapshot on the first kenv environment, then
// the destruction of every environment. With simulate set, a third side
// runs the engine calls of the proposed provision and destroy.
func (s *suite) measureOperations(ctx context.Context, simulate bool) ([]*opResult, error) {
	n := s.cfg.iterations
	provision := &opResult{
		name:      "provision",
		kenvCmd:   "Provision(ctx, EnvConfig{Image, Volumes: [data:/data], Labels: 1})",
		bareCmd:   "volume create --label x4 VOL; run --detach --name NAME --label x4 --mount type=volume,... --init --pull never --entrypoint sleep IMAGE infinity",
		bareProcs: 2,
		target:    1.15,
	}
	destroy := &opResult{
		name:      "destroy",
		kenvCmd:   "Destroy(ctx, id)",
		bareCmd:   "rm --force --volumes NAME; volume rm VOL",
		bareProcs: 2,
		target:    1.10,
	}
	if simulate {
		provision.proposal = &proposalResult{
			change: "no image inspect before run",
			cmd:    "volume create; run; container inspect",
			procs:  3,
		}
		destroy.proposal = &proposalResult{
			change: "container inspect in place of ps, volume ls and volume inspect",
			cmd:    "container inspect NAME; rm --force --volumes NAME; volume rm VOL",
			procs:  3,
		}
	}

	var kenvEnvs []adapter.Environment
	var bareNames, proposedNames []string
	for i := range n {
		s.progress("provision %d/%d", i+1, n)
		var env adapter.Environment
		err := s.measureKenv(provision, func() error {
			var err error
			env, err = s.kenv.Provision(ctx, s.envConfig(true))
			if err == nil {
				s.res.addEnv(env.ID)
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("kenv provision: %w", err)
		}
		kenvEnvs = append(kenvEnvs, env)

		name := s.bareName("p", i)
		if err := s.measureBare(&provision.bare, func() error { return s.bareProvision(ctx, name, false) }); err != nil {
			return nil, fmt.Errorf("bare provision: %w", err)
		}
		bareNames = append(bareNames, name)

		if provision.proposal != nil {
			name := s.bareName("q", i)
			if err := s.measureBare(&provision.proposal.samples, func() error { return s.bareProvision(ctx, name, true) }); err != nil {
				return nil, fmt.Errorf("proposed provision: %w", err)
			}
			proposedNames = append(proposedNames, name)
		}
	}

	target := kenvEnvs[0]
	execTrue, err := s.measureExec(ctx, target, "exec true", []string{"true"}, 0)
	if err != nil {
		return nil, err
	}
	execMiB, err := s.measureExec(ctx, target, "exec 1 MiB", []string{"head", "-c", fmt.Sprint(execOutputCap), "/dev/zero"}, execOutputCap)
	if err != nil {
		return nil, err
	}
	snapshot, err := s.measureSnapshot(ctx, target, bareNames[0])
	if err != nil {
		return nil, err
	}

	for i := range n {
		s.progress("destroy %d/%d", i+1, n)
		id := kenvEnvs[i].ID
		if err := s.measureKenv(destroy, func() error { return s.kenv.Destroy(ctx, id) }); err != nil {
			return nil, fmt.Errorf("kenv destroy: %w", err)
		}
		s.res.removeEnv(id)

		if err := s.measureBare(&destroy.bare, func() error { return s.bareDestroy(ctx, bareNames[i]) }); err != nil {
			return nil, fmt.Errorf("bare destroy: %w", err)
		}
		if destroy.proposal != nil {
			if err := s.measureBare(&destroy.proposal.samples, func() error { return s.proposedDestroy(ctx, proposedNames[i]) }); err != nil {
				return nil, fmt.Errorf("proposed destroy: %w", err)
			}
		}
	}
	return []*opResult{provision, execTrue, execMiB, snapshot, destroy}, nil
}

// measureKenv times one kenv run of op and records its engine calls.
func (s *suite) measureKenv(op *opResult, f func() error) error {
	s.counter.take()
	elapsed, err := timed(f)
	calls := s.counter.take()
	if err != nil {
		return err
	}
	op.kenv = append(op.kenv, elapsed)
	op.kenvCalls = append(op.kenvCalls, calls)
	return nil
}

// measureBare times one bare run and appends its duration to dst.
func (s *suite) measureBare(dst *samples, f func() error) error {
	elapsed, err := timed(f)
	if err != nil {
		return err
	}
	*dst = append(*dst, elapsed)
	return nil
}

// envConfig is the kenv environment of the tests: the test image, kenv's
// default main process, and one named volume when withVolume is set.
func (s *suite) envConfig(withVolume bool) adapter.EnvConfig {
	cfg := adapter.EnvConfig{
		Image:   s.cfg.image,
		Command: sleepCommand,
		Labels:  map[string]string{runLabel: s.runID},
	}
	if withVolume {
		cfg.Volumes = []adapter.VolumeMount{{Name: benchVolume, Target: benchVolumeTarget}}
	}
	return cfg
}

// bareName returns the name of a bare-side container.
func (s *suite) bareName(kind string, i int) string {
	return fmt.Sprintf("kenv-bench-%s-%s%d", s.runID, kind, i)
}

// bareLabels returns the labels of a bare container, volume or image: as
// many as kenv sets on its own (managed, env, version, and volume or
// snapshot), so that both sides send argv of the same shape. kind names the
// fourth label, as kenv's fourth is version, volume or snapshot.
func (s *suite) bareLabels(name, kind, value string) map[string]string {
	return map[string]string{
		runLabel:             s.runID,
		"kenv-bench.name":    name,
		"kenv-bench.side":    "bare",
		"kenv-bench." + kind: value,
	}
}

// bareRunArgs returns the run argv that kenv's Provision builds, with the
// bare side's name, labels and volume.
func (s *suite) bareRunArgs(name string, mounts []dockercli.Mount) []string {
	return dockercli.RunArgs(dockercli.RunSpec{
		Name:    name,
		Image:   s.cfg.image,
		Labels:  s.bareLabels(name, "version", adapter.Version),
		Mounts:  mounts,
		Init:    true,
		Pull:    string(adapter.PullNever),
		Command: sleepCommand,
	})
}

// bareProvision creates the volume and starts the container that kenv's
// Provision would. With inspect set, it also runs the container inspect that
// kenv runs after the start, which is the proposed provision.
func (s *suite) bareProvision(ctx context.Context, name string, inspect bool) error {
	volume := name + "-" + benchVolume
	if _, err := s.bare.run(ctx, dockercli.VolumeCreateArgs(volume, s.bareLabels(name, "volume", benchVolume))...); err != nil {
		return err
	}
	mounts := []dockercli.Mount{{Type: "volume", Source: volume, Target: benchVolumeTarget}}
	if _, err := s.bare.run(ctx, s.bareRunArgs(name, mounts)...); err != nil {
		return err
	}
	if inspect {
		if _, err := s.bare.run(ctx, dockercli.ContainerInspectArgs(name)...); err != nil {
			return err
		}
	}
	return nil
}

// bareDestroy removes a bare container and its volume.
func (s *suite) bareDestroy(ctx context.Context, name string) error {
	if _, err := s.bare.run(ctx, dockercli.RemoveContainersArgs(name)...); err != nil {
		return err
	}
	_, err := s.bare.run(ctx, dockercli.VolumeRemoveArgs(name+"-"+benchVolume)...)
	return err
}

// proposedDestroy runs the engine calls of the proposed Destroy: one
// container inspect, which shows the container's labels and its volume
// mounts, then the removal of the container and of its volumes. It replaces
// kenv's ps, volume ls and volume inspect.
func (s *suite) proposedDestroy(ctx context.Context, name string) error {
	if _, err := s.bare.run(ctx, dockercli.ContainerInspectArgs(name)...); err != nil {
		return err
	}
	return s.bareDestroy(ctx, name)
}

// measureExec runs argv in env through kenv and through `exec` of the
// client with the same flags, and checks that both return wantBytes of
// output.
func (s *suite) measureExec(ctx context.Context, env adapter.Environment, name string, argv []string, wantBytes int) (*opResult, error) {
	op := &opResult{
		name:      name,
		kenvCmd:   fmt.Sprintf("Exec(ctx, id, ExecRequest{Argv: %q})", argv),
		bareCmd:   "exec --env KENV_EXEC_ID=... NAME " + strings.Join(argv, " "),
		bareProcs: 1,
		target:    1.05,
	}
	for i := range s.cfg.iterations {
		if i == 0 {
			s.progress("%s: %d runs per side", name, s.cfg.iterations)
		}
		err := s.measureKenv(op, func() error {
			res, err := s.kenv.Exec(ctx, env.ID, adapter.ExecRequest{Argv: argv})
			if err != nil {
				return err
			}
			return checkOutput(res.ExitCode, len(res.Stdout)+int(res.StdoutDropped), wantBytes)
		})
		if err != nil {
			return nil, fmt.Errorf("kenv %s: %w", name, err)
		}

		args := dockercli.ExecArgs(dockercli.ExecSpec{
			Container: env.Name,
			Argv:      argv,
			Env:       []string{"KENV_EXEC_ID=" + randomHex(6)},
		})
		err = s.measureBare(&op.bare, func() error {
			out, err := s.bare.run(ctx, args...)
			if err != nil {
				return err
			}
			return checkOutput(0, len(out), wantBytes)
		})
		if err != nil {
			return nil, fmt.Errorf("bare %s: %w", name, err)
		}
	}
	return op, nil
}

// checkOutput reports a command that failed or printed the wrong amount.
func checkOutput(exitCode, got, want int) error {
	if exitCode != 0 {
		return fmt.Errorf("the command exited %d, want 0", exitCode)
	}
	if got != want {
		return fmt.Errorf("the command printed %d bytes, want %d", got, want)
	}
	return nil
}

// measureSnapshot commits env through kenv, and the bare container
// bareContainer, which runs the same image and command, through `commit`
// with as many labels. Each run commits to a new reference. The bare side
// commits its own container because a commit copies the container's labels,
// and an image with kenv's labels would look like a kenv snapshot to other
// kenv processes.
func (s *suite) measureSnapshot(ctx context.Context, env adapter.Environment, bareContainer string) (*opResult, error) {
	op := &opResult{
		name:      "snapshot",
		kenvCmd:   "Snapshot(ctx, id, SnapshotOptions{Name})",
		bareCmd:   "commit --pause=true --change LABEL x4 NAME REF",
		bareProcs: 1,
	}
	for i := range s.cfg.iterations {
		if i == 0 {
			s.progress("snapshot: %d runs per side", s.cfg.iterations)
		}
		err := s.measureKenv(op, func() error {
			snap, err := s.kenv.Snapshot(ctx, env.ID, adapter.SnapshotOptions{Name: fmt.Sprintf("bench-%d", i)})
			if err == nil {
				s.res.addImage(snap.Ref)
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("kenv snapshot: %w", err)
		}

		ref := fmt.Sprintf("kenv-bench/%s:bench-%d", s.runID, i)
		s.res.addImage(ref)
		args := dockercli.CommitArgs(bareContainer, ref, s.bareLabels(bareContainer, "snapshot", fmt.Sprintf("bench-%d", i)), nil)
		if err := s.measureBare(&op.bare, func() error { _, err := s.bare.run(ctx, args...); return err }); err != nil {
			return nil, fmt.Errorf("bare snapshot: %w", err)
		}
	}
	return op, nil
}

// callSummary describes the engine calls of an operation's kenv runs.
type callSummary struct {
	sequence  string // the subcommands of the first run, in order
	minProcs  int
	maxProcs  int
	perCall   []namedDuration // the median duration of each subcommand
	outside   time.Duration   // the median time with no engine process running
	engineSum time.Duration   // the median time with an engine process running
}

type namedDuration struct {
	name   string
	median time.Duration
}

// summarizeCalls aggregates op's recorded engine calls.
func summarizeCalls(op *opResult) callSummary {
	var sum callSummary
	if len(op.kenvCalls) == 0 {
		return sum
	}
	first := slices.Clone(op.kenvCalls[0])
	sort.SliceStable(first, func(i, j int) bool { return first[i].start.Before(first[j].start) })
	var names []string
	for _, c := range first {
		names = append(names, c.name)
	}
	sum.sequence = strings.Join(names, ", ")
	sum.minProcs, sum.maxProcs = len(op.kenvCalls[0]), len(op.kenvCalls[0])

	byName := map[string]samples{}
	var order []string
	var outside, busy samples
	for i, calls := range op.kenvCalls {
		sum.minProcs = min(sum.minProcs, len(calls))
		sum.maxProcs = max(sum.maxProcs, len(calls))
		for _, c := range calls {
			if _, ok := byName[c.name]; !ok {
				order = append(order, c.name)
			}
			byName[c.name] = append(byName[c.name], c.end.Sub(c.start))
		}
		b := busyTime(calls)
		busy = append(busy, b)
		outside = append(outside, op.kenv[i]-b)
	}
	for _, name := range order {
		sum.perCall = append(sum.perCall, namedDuration{name: name, median: byName[name].median()})
	}
	sum.outside = outside.median()
	sum.engineSum = busy.median()
	return sum
}
