package adapter

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kenv/kenv/dockercli"
	"github.com/kenv/kenv/parse"
)

// The recorded scenarios. TestRecordGolden runs each one against a real
// engine through a dockercli.RecordingExecutor and saves the engine calls.
// TestContract runs it again against every saved recording through
// fakedocker, with the same assertions. A scenario must therefore make the
// same engine calls on every run. It runs its operations one after another
// and takes its ids from scenarioRun.ids. Calls that one operation makes in
// parallel, such as Destroy's two listings, are fine, because fakedocker
// matches argv and not order. A scenario compares engine timestamps with
// scenarioRun.start, never with the current time.

// goldenImage is the test image that `make testimage` builds in both engines.
const goldenImage = "kenv-test/busybox:latest"

// Every environment of a scenario runs with NoInternet, so a recording needs
// no working bridge network on the host and its argv does not depend on one.

// scenario is one recorded sequence of adapter operations.
type scenario struct {
	name string
	// dockerOnly limits the scenario to the docker client, for example
	// because only it reads DOCKER_HOST.
	dockerOnly bool
	// unreachable runs the recording against a docker daemon socket that
	// does not exist.
	unreachable bool
	run         func(tb testing.TB, s *scenarioRun)
}

var scenarios = []scenario{
	{name: "lifecycle", run: lifecycleScenario},
	{name: "failures", run: failuresScenario},
	{name: "unreachable", dockerOnly: true, unreachable: true, run: unreachableScenario},
}

// scenarioRun is the adapter, engine and ids that a scenario uses, the same
// while recording and replaying.
type scenarioRun struct {
	d *Docker
	// engine runs engine commands that are no adapter operation, such as
	// pause and image rm. They are recorded and replayed like the adapter's.
	engine dockercli.Executor
	ids    *sequentialIDs
	kind   string    // parse.EngineDocker or parse.EnginePodman
	start  time.Time // when the recording started
}

// sequentialIDs generates the ids "rec000000001", "rec000000002" and so on,
// for both environments and exec markers, so that a replay builds the same
// argv as its recording. Random ids use the base32 alphabet, which lacks the
// digits 0, 1, 8 and 9, so they never collide with these.
type sequentialIDs struct {
	mu sync.Mutex
	n  int
}

func (s *sequentialIDs) next() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return fmt.Sprintf("rec%09d", s.n)
}

// last returns the id that next returned most recently.
func (s *sequentialIDs) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("rec%09d", s.n)
}

// engineRun runs an engine command through s.engine and returns its result.
func (s *scenarioRun) engineRun(tb testing.TB, args ...string) dockercli.Result {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := s.engine.Run(ctx, dockercli.Command{Args: args})
	if err != nil {
		tb.Fatalf("engine %q: %v", args, err)
	}
	return res
}

// engineOK runs an engine command that must succeed and returns its stdout.
func (s *scenarioRun) engineOK(tb testing.TB, args ...string) string {
	tb.Helper()
	res := s.engineRun(tb, args...)
	if res.ExitCode != 0 {
		tb.Fatalf("engine %q exited %d: %s", args, res.ExitCode, res.Stderr)
	}
	return strings.TrimSpace(string(res.Stdout))
}

// checkNearStart fails unless t lies within ten minutes after the start of
// the recording, which shows that the engine's timestamp parsed to the right
// instant.
func (s *scenarioRun) checkNearStart(tb testing.TB, field string, t time.Time) {
	tb.Helper()
	if t.Before(s.start.Add(-time.Minute)) || t.After(s.start.Add(10*time.Minute)) {
		tb.Errorf("%s = %v, want within 10 minutes after the recording's start %v", field, t, s.start)
	}
}

// checkNothingLeft fails when a container or volume of envID exists.
func (s *scenarioRun) checkNothingLeft(tb testing.TB, envID string) {
	tb.Helper()
	filter := "label=" + LabelEnv + "=" + envID
	if got := s.engineOK(tb, "ps", "--all", "--quiet", "--filter", filter); got != "" {
		tb.Errorf("containers of %s = %q, want none", envID, got)
	}
	if got := s.engineOK(tb, "volume", "ls", "--quiet", "--filter", filter); got != "" {
		tb.Errorf("volumes of %s = %q, want none", envID, got)
	}
}

// provisionOK provisions cfg and fails the test on error.
func provisionOK(tb testing.TB, d *Docker, cfg EnvConfig) Environment {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env, err := d.Provision(ctx, cfg)
	if err != nil {
		tb.Fatalf("Provision(%s): %v", cfg.Image, err)
	}
	return env
}

// execOK runs req and fails the test when Exec returns an error.
func execOK(tb testing.TB, d *Docker, envID string, req ExecRequest) ExecResult {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := d.Exec(ctx, envID, req)
	if err != nil {
		tb.Fatalf("Exec(%q %q): %v", req.Argv, req.Shell, err)
	}
	return res
}

// errorCode returns the code of an *Error, or "" for any other error.
func errorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// lifecycleScenario provisions an environment, runs commands in it, reads
// its logs, snapshots it, restores the snapshot and destroys everything.
func lifecycleScenario(tb testing.TB, s *scenarioRun) {
	ctx := context.Background()
	d := s.d

	// The main process prints "three" a few seconds after the others, so a
	// followed log stream shows whether entries come out as they arrive.
	env := provisionOK(tb, d, EnvConfig{
		Image:      goldenImage,
		NoInternet: true,
		CPUs:       "0.5",
		Memory:     "64m",
		Env:        map[string]string{"GREETING": "hello world"},
		Volumes:    []VolumeMount{{Name: "data", Target: "/data"}},
		Labels:     map[string]string{"suite": "golden,lifecycle=1"},
		Command:    []string{"sh", "-c", "echo one; echo two >&2; sleep 3; echo three; sleep infinity"},
	})
	if env.ID != s.ids.last() {
		tb.Errorf("environment id = %q, want %q from NewID", env.ID, s.ids.last())
	}
	if env.State != StateRunning {
		tb.Errorf("state = %s, want running", env.State)
	}
	s.checkNearStart(tb, "CreatedAt", env.CreatedAt)
	if env.Labels["suite"] != "golden,lifecycle=1" || env.Labels[LabelManaged] != "true" || env.Labels[LabelEnv] != env.ID {
		tb.Errorf("labels = %v, want suite=golden,lifecycle=1 and kenv's own", env.Labels)
	}
	if want := []string{volumeName(env.ID, "data")}; !slices.Equal(env.Volumes, want) {
		tb.Errorf("volumes = %q, want %q", env.Volumes, want)
	}

	checkFollowedLogs(tb, s, env.ID)

	logs := map[string]LogSource{}
	for e, err := range d.StreamLogs(ctx, env.ID, LogOptions{}) {
		if err != nil {
			tb.Fatalf("StreamLogs: %v", err)
		}
		logs[e.Message] = e.Source
	}
	wantLogs := map[string]LogSource{"one": SourceStdout, "two": SourceStderr, "three": SourceStdout}
	if fmt.Sprint(logs) != fmt.Sprint(wantLogs) {
		tb.Errorf("log entries = %v, want %v", logs, wantLogs)
	}

	// The labels and limits as the engine stored them, read through inspect:
	// a label value with ',' and '=' survives only in inspect's map.
	inspected, err := parse.ContainerInspect([]byte(s.engineOK(tb, dockercli.ContainerInspectArgs(containerName(env.ID))...)))
	if err != nil || len(inspected) != 1 {
		tb.Fatalf("inspect of %s: %d containers, %v", env.ID, len(inspected), err)
	}
	if got := inspected[0]; got.NanoCPUs != 500_000_000 || got.Memory != 64<<20 || got.Labels["suite"] != "golden,lifecycle=1" {
		tb.Errorf("inspect: NanoCPUs %d, Memory %d, suite label %q; want 500000000, %d, %q",
			got.NanoCPUs, got.Memory, got.Labels["suite"], 64<<20, "golden,lifecycle=1")
	}

	res := execOK(tb, d, env.ID, ExecRequest{Shell: "echo out; echo err >&2; exit 7"})
	if res.ExitCode != 7 || string(res.Stdout) != "out\n" || string(res.Stderr) != "err\n" {
		tb.Errorf("exit %d stdout %q stderr %q, want 7, %q, %q", res.ExitCode, res.Stdout, res.Stderr, "out\n", "err\n")
	}

	args := []string{" a b", "it's", "$HOME", "line1\nline2", "--"}
	res = execOK(tb, d, env.ID, ExecRequest{Argv: append([]string{"printf", "%s|"}, args...)})
	if want := strings.Join(args, "|") + "|"; string(res.Stdout) != want {
		tb.Errorf("printf of verbatim argv printed %q, want %q", res.Stdout, want)
	}

	const input = "first line\nsecond line with 'quotes' and $VARS\n"
	res = execOK(tb, d, env.ID, ExecRequest{Argv: []string{"cat"}, Stdin: strings.NewReader(input)})
	if string(res.Stdout) != input {
		tb.Errorf("cat of stdin printed %q, want %q", res.Stdout, input)
	}

	res = execOK(tb, d, env.ID, ExecRequest{
		Shell:   `printf '%s|%s|%s|%s' "$GREETING" "$EXTRA" "$(pwd)" "$(id -u)"`,
		WorkDir: "/tmp",
		User:    "65534",
		Env:     map[string]string{"EXTRA": "x y"},
	})
	if want := "hello world|x y|/tmp|65534"; string(res.Stdout) != want {
		tb.Errorf("env, workdir and user printed %q, want %q", res.Stdout, want)
	}

	res = execOK(tb, d, env.ID, ExecRequest{Shell: "echo kept > /data/f && cat /data/f && echo from-snapshot > /root/state"})
	if string(res.Stdout) != "kept\n" {
		tb.Errorf("volume file = %q, want %q", res.Stdout, "kept\n")
	}

	snap, err := d.Snapshot(ctx, env.ID, SnapshotOptions{Name: "Run-1"})
	if err != nil {
		tb.Fatalf("Snapshot: %v", err)
	}
	if want := SnapshotRef(env.ID, "Run-1"); snap.Ref != want || snap.Ref != strings.ToLower(snap.Ref) {
		tb.Errorf("snapshot ref = %q, want %q in lowercase", snap.Ref, want)
	}
	if !strings.HasPrefix(snap.ImageID, "sha256:") || len(snap.ImageID) != len("sha256:")+64 {
		tb.Errorf("snapshot image id = %q, want sha256: and 64 hex digits", snap.ImageID)
	}
	s.checkNearStart(tb, "snapshot CreatedAt", snap.CreatedAt)

	restored := provisionOK(tb, d, EnvConfig{Image: snap.Ref, PullPolicy: PullNever, NoInternet: true})
	if restored.Labels[LabelEnv] != restored.ID {
		tb.Errorf("restored environment carries env label %q, want its own id %s", restored.Labels[LabelEnv], restored.ID)
	}
	res = execOK(tb, d, restored.ID, ExecRequest{Argv: []string{"cat", "/root/state"}})
	if string(res.Stdout) != "from-snapshot\n" {
		tb.Errorf("restored file = %q, want %q", res.Stdout, "from-snapshot\n")
	}

	got, err := d.Get(ctx, env.ID)
	if err != nil || got.ContainerID != env.ContainerID {
		tb.Errorf("Get = container %q, %v; want %q", got.ContainerID, err, env.ContainerID)
	}

	for _, id := range []string{env.ID, restored.ID, env.ID} {
		if err := d.Destroy(ctx, id); err != nil {
			tb.Errorf("Destroy(%s): %v", id, err)
		}
	}
	s.checkNothingLeft(tb, env.ID)
	s.checkNothingLeft(tb, restored.ID)

	if _, err := d.Exec(ctx, env.ID, ExecRequest{Argv: []string{"true"}}); !errors.Is(err, ErrEnvNotFound) {
		tb.Errorf("Exec after Destroy: %v, want ENV_NOT_FOUND", err)
	}
	if _, err := d.Get(ctx, env.ID); !errors.Is(err, ErrEnvNotFound) {
		tb.Errorf("Get after Destroy: %v, want ENV_NOT_FOUND", err)
	}
	if _, err := d.Snapshot(ctx, env.ID, SnapshotOptions{}); !errors.Is(err, ErrEnvNotFound) {
		tb.Errorf("Snapshot after Destroy: %v, want ENV_NOT_FOUND", err)
	}
	for _, err := range d.StreamLogs(ctx, env.ID, LogOptions{}) {
		if !errors.Is(err, ErrEnvNotFound) {
			tb.Errorf("StreamLogs after Destroy: %v, want ENV_NOT_FOUND", err)
		}
	}

	// Snapshot images outlive Destroy, so the scenario removes its own.
	s.engineOK(tb, dockercli.RemoveImagesArgs(snap.Ref)...)
}

// checkFollowedLogs follows the logs of the lifecycle environment until
// "three" arrives. The engine stamped "three" about three seconds after
// "one", and a replay keeps a shortened pause between them, so an adapter
// that held entries back until the stream ended would fail here.
func checkFollowedLogs(tb testing.TB, s *scenarioRun, envID string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var entries []LogEntry
	var arrived []time.Time
	for e, err := range s.d.StreamLogs(ctx, envID, LogOptions{Follow: true}) {
		if err != nil {
			tb.Fatalf("StreamLogs with Follow: %v", err)
		}
		entries = append(entries, e)
		arrived = append(arrived, time.Now())
		if e.Message == "three" {
			break
		}
	}
	if len(entries) != 3 {
		tb.Fatalf("followed entries = %+v, want one, two and three", entries)
	}
	// "one" and "two" come from two pipes, so their order is not fixed.
	first := map[string]LogSource{entries[0].Message: entries[0].Source, entries[1].Message: entries[1].Source}
	if first["one"] != SourceStdout || first["two"] != SourceStderr || entries[2].Source != SourceStdout {
		tb.Errorf("followed entries = %+v, want one on stdout and two on stderr, then three on stdout", entries)
	}
	for i := 1; i < len(entries); i++ {
		if entries[i].Time.Before(entries[i-1].Time) {
			tb.Errorf("entry %d (%v) is stamped before entry %d (%v)", i, entries[i].Time, i-1, entries[i-1].Time)
		}
	}
	s.checkNearStart(tb, "log time", entries[0].Time)
	if gap := entries[2].Time.Sub(entries[0].Time); gap < 2*time.Second {
		tb.Errorf("engine stamped three %s after one, want the main process's sleep of about 3s", gap)
	}
	if gap := arrived[2].Sub(arrived[0]); gap < 50*time.Millisecond {
		tb.Errorf("three arrived %s after one, want a pause: entries must come out as the engine writes them", gap)
	}
}

// failuresScenario provokes the engine failures that the adapter must
// classify: provisions that fail, engine errors of exec, user exit statuses
// that look like engine errors, a timeout, and environments that do not run.
func failuresScenario(tb testing.TB, s *scenarioRun) {
	ctx := context.Background()
	d := s.d

	failing := []struct {
		name string
		cfg  EnvConfig
	}{
		// Stops at the image check, before anything is created.
		{"missing image with pull never", EnvConfig{Image: "kenv-test/does-not-exist:1", PullPolicy: PullNever, NoInternet: true, Volumes: []VolumeMount{{Name: "v", Target: "/v"}}}},
		// The container is created, and its main process cannot start.
		{"missing entrypoint", EnvConfig{Image: goldenImage, NoInternet: true, Command: []string{"/no/such/binary"}, Volumes: []VolumeMount{{Name: "v", Target: "/v"}}}},
		// run fails before the container exists, so the cleanup removes a
		// container that is not there.
		{"missing bind source", EnvConfig{Image: goldenImage, NoInternet: true, Binds: []BindMount{{Source: "/nonexistent/kenv-golden", Target: "/x"}}, Volumes: []VolumeMount{{Name: "v", Target: "/v"}}}},
	}
	for _, f := range failing {
		_, err := d.Provision(ctx, f.cfg)
		if !errors.Is(err, ErrProvisionFailed) {
			tb.Errorf("Provision with %s: %v, want PROVISION_FAILED", f.name, err)
		}
		s.checkNothingLeft(tb, s.ids.last())
	}

	env := provisionOK(tb, d, EnvConfig{Image: goldenImage, NoInternet: true})

	_, err := d.Exec(ctx, env.ID, ExecRequest{Argv: []string{"no-such-program"}})
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeExecFailed || !strings.Contains(e.Message, "no-such-program") {
		tb.Errorf("Exec of a missing program: %v, want EXEC_FAILED naming it", err)
	}

	// The engines use 125, 126 and 127 for their own failures. The same
	// statuses from the command, with no engine wording, are its exit code.
	userExits := []struct {
		shell      string
		wantCode   int
		wantStderr string
	}{
		{"echo it failed >&2; exit 125", 125, "it failed\n"},
		{"exit 126", 126, ""},
		{"no-such-command", 127, "sh: no-such-command: not found\n"},
	}
	for _, u := range userExits {
		res := execOK(tb, d, env.ID, ExecRequest{Shell: u.shell})
		if res.ExitCode != u.wantCode || string(res.Stderr) != u.wantStderr {
			tb.Errorf("Exec(sh -c %q) = exit %d stderr %q, want %d, %q", u.shell, res.ExitCode, res.Stderr, u.wantCode, u.wantStderr)
		}
	}

	start := time.Now()
	_, err = d.Exec(ctx, env.ID, ExecRequest{Shell: "sleep 1002 & sleep 1003 & wait", Timeout: time.Second})
	if !errors.As(err, &e) || e.Code != CodeExecTimeout {
		tb.Fatalf("Exec past its timeout: %v, want EXEC_TIMEOUT", err)
	}
	if n, _ := strconv.Atoi(e.Meta["killed_processes"]); n < 1 {
		tb.Errorf("killed_processes = %q, want at least 1", e.Meta["killed_processes"])
	}
	if elapsed := time.Since(start); elapsed > 15*time.Second {
		tb.Errorf("Exec returned after %s with a 1s timeout", elapsed)
	}
	res := execOK(tb, d, env.ID, ExecRequest{Argv: []string{"ps", "-o", "args"}})
	if strings.Contains(string(res.Stdout), "sleep 100") {
		tb.Errorf("processes left after the timeout:\n%s", res.Stdout)
	}

	s.engineOK(tb, "pause", containerName(env.ID))
	_, err = d.Exec(ctx, env.ID, ExecRequest{Argv: []string{"true"}})
	if errorCode(err) != CodeEnvNotRunning || !errors.As(err, &e) || e.Meta["state"] != "paused" {
		tb.Errorf("Exec in a paused environment: %v, want ENV_NOT_RUNNING with state paused", err)
	}
	s.engineOK(tb, "unpause", containerName(env.ID))

	// stop returns once the container has stopped, but kill may return
	// before.
	s.engineOK(tb, "stop", "--time", "0", containerName(env.ID))
	_, err = d.Exec(ctx, env.ID, ExecRequest{Argv: []string{"true"}})
	if errorCode(err) != CodeEnvNotRunning || !errors.As(err, &e) || e.Meta["state"] != "exited" {
		tb.Errorf("Exec in a stopped environment: %v, want ENV_NOT_RUNNING with state exited", err)
	}

	if err := d.Destroy(ctx, env.ID); err != nil {
		tb.Errorf("Destroy: %v", err)
	}
	s.checkNothingLeft(tb, env.ID)

	info, err := d.Info(ctx)
	if err != nil {
		tb.Fatalf("Info: %v", err)
	}
	if info.Kind != s.kind || info.ClientVersion == "" || info.ServerVersion == "" || info.ServerAPI == "" {
		tb.Errorf("Info = %+v, want kind %s with client and server versions", info, s.kind)
	}
}

// unreachableScenario runs against a docker client whose daemon socket does
// not exist.
func unreachableScenario(tb testing.TB, s *scenarioRun) {
	ctx := context.Background()
	d := s.d

	info, err := d.Info(ctx)
	if !errors.Is(err, ErrDockerUnavailable) {
		tb.Errorf("Info: %v, want DOCKER_UNAVAILABLE", err)
	}
	if info.Kind != parse.EngineDocker || info.ClientVersion == "" || info.ServerVersion != "" {
		tb.Errorf("Info = %+v, want the docker client's version and no server version", info)
	}

	if _, err := d.Provision(ctx, EnvConfig{Image: goldenImage, NoInternet: true}); !errors.Is(err, ErrDockerUnavailable) {
		tb.Errorf("Provision: %v, want DOCKER_UNAVAILABLE", err)
	}
	envID := s.ids.next()
	if _, err := d.Exec(ctx, envID, ExecRequest{Argv: []string{"true"}}); !errors.Is(err, ErrDockerUnavailable) {
		tb.Errorf("Exec: %v, want DOCKER_UNAVAILABLE", err)
	}
	if _, err := d.Get(ctx, envID); !errors.Is(err, ErrDockerUnavailable) {
		tb.Errorf("Get: %v, want DOCKER_UNAVAILABLE", err)
	}
}
