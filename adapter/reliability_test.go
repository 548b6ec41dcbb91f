package adapter

// Reliability tests: engine calls that never hang, faults that leave nothing
// behind but labelled resources, failures that report what happened, and guards
// that protect the user. The tests named TestE2E... run against a real engine
// under the conventions of e2e_test.go, and those that freeze, stop or
// restart a daemon start a private dockerd of their own (privatedaemon_test.go).
// RELIABILITY.md lists what each test found.
//
// A check that observes a known adapter defect ends its test with
// knownBug, a t.Skip whose message starts with "TODO:". The checks before it
// still fail on any other outcome, and the test passes once the defect is
// fixed.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kenv/kenv/dockercli"
	"github.com/kenv/kenv/dockercli/dockerclitest"
)

// The variables that turn the test binary into the kenv process that
// TestE2EKilledKenvLeavesOnlyLabelled kills.
const (
	childModeEnv    = "KENV_RELIABILITY_CHILD"    // provision, exec or snapshot
	childTokenEnv   = "KENV_RELIABILITY_TOKEN"    // value of killLabel on what the child creates
	childNoOwnerEnv = "KENV_RELIABILITY_NO_OWNER" // "1" sets Options.NoOwner
)

// killLabel marks the containers that the killed children create.
const killLabel = "kenv-reliability-kill"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childModeEnv); mode != "" {
		os.Exit(runKillChild(mode))
	}
	os.Exit(m.Run())
}

// runKillChild repeats one operation against the engine that DOCKER_HOST
// names until the parent kills the process. It prints "op <mode>" before
// each attempt and, through the adapter's logger, one JSON record after each
// engine call, so the parent can tell which step it interrupted.
func runKillChild(mode string) int {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := New(Options{Engine: e2eEngine(), Logger: logger, NoOwner: os.Getenv(childNoOwnerEnv) == "1"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "New:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := EnvConfig{
		Image:      e2eImage(),
		PullPolicy: PullNever,
		Labels:     map[string]string{killLabel: os.Getenv(childTokenEnv)},
		Volumes:    []VolumeMount{{Name: "a", Target: "/a"}, {Name: "b", Target: "/b"}},
	}
	deadline := time.Now().Add(time.Minute)

	if mode == "provision" {
		for time.Now().Before(deadline) {
			fmt.Println("op provision")
			d.Provision(ctx, cfg)
		}
		return 0
	}

	env, err := d.Provision(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "Provision:", err)
		return 2
	}
	for i := 0; time.Now().Before(deadline); i++ {
		fmt.Println("op " + mode)
		switch mode {
		case "exec":
			d.Exec(ctx, env.ID, ExecRequest{Shell: "echo started; sleep 30"})
		case "snapshot":
			d.Snapshot(ctx, env.ID, SnapshotOptions{Name: fmt.Sprintf("s%d", i)})
		default:
			fmt.Fprintln(os.Stderr, "unknown child mode", mode)
			return 2
		}
	}
	return 0
}

// knownBug ends the test with a skip that names an adapter defect the test
// has just observed.
func knownBug(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Skipf("TODO: "+format, args...)
}

// errorTexts returns every string of err that a user or a log could see:
// the message, each Meta value and each wrapped error's message.
func errorTexts(err error) []string {
	if err == nil {
		return nil
	}
	texts := []string{err.Error()}
	if e := errorsAsAdapter(err); e != nil {
		texts = append(texts, e.Message)
		for _, k := range e.MetaKeys() {
			texts = append(texts, k+"="+e.Meta[k])
		}
	}
	for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
		texts = append(texts, u.Error())
	}
	return texts
}

func TestEngineTimeoutPerCallKind(t *testing.T) {
	t.Parallel()
	// Each kind has its own limit, so the timeout in the error shows which
	// one applied.
	timeouts := Timeouts{
		Inspect: 50 * time.Millisecond,
		Create:  60 * time.Millisecond,
		Remove:  70 * time.Millisecond,
		Commit:  80 * time.Millisecond,
		Pull:    90 * time.Millisecond,
	}
	const hang = time.Hour
	running := containerJSON(testEnvID, "running")

	tests := []struct {
		name        string
		setup       func(f *dockerclitest.Executor)
		call        func(ctx context.Context, d *Docker) error
		wantTimeout time.Duration
		wantCommand string
	}{
		{
			name:        "get",
			setup:       func(f *dockerclitest.Executor) { f.On("container", "inspect").Delays(hang) },
			call:        func(ctx context.Context, d *Docker) error { _, err := d.Get(ctx, testEnvID); return err },
			wantTimeout: timeouts.Inspect,
			wantCommand: "container inspect",
		},
		{
			name:        "list",
			setup:       func(f *dockerclitest.Executor) { f.On("ps").Delays(hang) },
			call:        func(ctx context.Context, d *Docker) error { _, err := d.List(ctx); return err },
			wantTimeout: timeouts.Inspect,
			wantCommand: "ps",
		},
		{
			name:        "info",
			setup:       func(f *dockerclitest.Executor) { f.On("version").Delays(hang) },
			call:        func(ctx context.Context, d *Docker) error { _, err := d.Info(ctx); return err },
			wantTimeout: timeouts.Inspect,
			wantCommand: "version",
		},
		{
			name:        "provision image check",
			setup:       func(f *dockerclitest.Executor) { f.On("image", "inspect").Delays(hang) },
			call:        provisionWithVolume,
			wantTimeout: timeouts.Inspect,
			wantCommand: "image inspect",
		},
		{
			name: "provision volume create",
			setup: func(f *dockerclitest.Executor) {
				f.On("image", "inspect").Returns(imageJSON, "", 0)
				f.On("volume", "create").Delays(hang)
			},
			call:        provisionWithVolume,
			wantTimeout: timeouts.Create,
			wantCommand: "volume create",
		},
		{
			name: "provision run",
			setup: func(f *dockerclitest.Executor) {
				f.On("image", "inspect").Returns(imageJSON, "", 0)
				f.On("volume", "create").Returns("v\n", "", 0)
				f.On("run").Delays(hang)
			},
			call:        provisionWithVolume,
			wantTimeout: timeouts.Create,
			wantCommand: "run",
		},
		{
			name: "provision pull",
			setup: func(f *dockerclitest.Executor) {
				f.On("image", "inspect").Returns("[]", "Error: No such image: busybox:latest\n", 1)
				f.On("pull").Delays(hang)
			},
			call: func(ctx context.Context, d *Docker) error {
				_, err := d.Provision(ctx, EnvConfig{Image: "busybox:latest"})
				return err
			},
			wantTimeout: timeouts.Pull,
			wantCommand: "pull",
		},
		{
			name: "snapshot commit",
			setup: func(f *dockerclitest.Executor) {
				f.On("container", "inspect").Returns(running, "", 0)
				f.On("commit").Delays(hang)
			},
			call: func(ctx context.Context, d *Docker) error {
				_, err := d.Snapshot(ctx, testEnvID, SnapshotOptions{})
				return err
			},
			wantTimeout: timeouts.Commit,
			wantCommand: "commit",
		},
		{
			name: "destroy listing",
			setup: func(f *dockerclitest.Executor) {
				f.On("ps").Delays(hang)
				f.On("volume", "ls").Returns("", "", 0)
			},
			call:        func(ctx context.Context, d *Docker) error { return d.Destroy(ctx, testEnvID) },
			wantTimeout: timeouts.Inspect,
			wantCommand: "ps",
		},
		{
			name: "destroy remove",
			setup: func(f *dockerclitest.Executor) {
				f.On("ps").Returns("c1\n", "", 0)
				f.On("volume", "ls").Returns("", "", 0)
				f.On("rm").Delays(hang)
			},
			call:        func(ctx context.Context, d *Docker) error { return d.Destroy(ctx, testEnvID) },
			wantTimeout: timeouts.Remove,
			wantCommand: "rm",
		},
		{
			name: "gc listing",
			setup: func(f *dockerclitest.Executor) {
				f.On("ps").Returns("", "", 0)
				f.On("volume", "ls").Delays(hang)
			},
			call:        func(ctx context.Context, d *Docker) error { _, err := d.GC(ctx, GCOptions{}); return err },
			wantTimeout: timeouts.Inspect,
			wantCommand: "volume ls",
		},
		{
			name:  "logs without follow",
			setup: func(f *dockerclitest.Executor) { f.On("logs").Delays(hang) },
			call: func(ctx context.Context, d *Docker) error {
				var last error
				for _, err := range d.StreamLogs(ctx, testEnvID, LogOptions{}) {
					last = err
				}
				return last
			},
			wantTimeout: timeouts.Pull,
			wantCommand: "logs",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := dockerclitest.New()
			tt.setup(fake)
			fake.On("rm").Returns("", "", 0)
			fake.On("volume", "rm").Returns("", "", 0)
			// Destroy inspects the container first; without one it lists by
			// label, which the destroy cases delay.
			fake.On("container", "inspect").Returns("[]", "Error: No such object: kenv-"+testEnvID+"\n", 1)
			d, err := New(Options{Executor: fake, Timeouts: timeouts, NoOwner: true})
			if err != nil {
				t.Fatal(err)
			}

			start := time.Now()
			err = tt.call(context.Background(), d)
			elapsed := time.Since(start)

			if !errors.Is(err, ErrEngineTimeout) {
				t.Fatalf("error = %v, want ENGINE_TIMEOUT", err)
			}
			if errors.Is(err, ErrDockerUnavailable) {
				t.Errorf("error %v also matches DOCKER_UNAVAILABLE, which means the engine is down", err)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
			}
			e := errorsAsAdapter(err)
			if got := e.Meta["timeout"]; got != tt.wantTimeout.String() {
				t.Errorf("timeout in the error = %q, want %s", got, tt.wantTimeout)
			}
			if !strings.Contains(e.Message, strconv.Quote(tt.wantCommand)) {
				t.Errorf("message %q does not name the command %q", e.Message, tt.wantCommand)
			}
			if elapsed > tt.wantTimeout+2*time.Second {
				t.Errorf("returned after %s with a %s limit", elapsed, tt.wantTimeout)
			}
		})
	}
}

// provisionWithVolume provisions an environment with one volume.
func provisionWithVolume(ctx context.Context, d *Docker) error {
	_, err := d.Provision(ctx, EnvConfig{Image: "busybox:latest", Volumes: []VolumeMount{{Name: "a", Target: "/a"}}})
	return err
}

func TestEngineTimeoutCallerDeadlineFirst(t *testing.T) {
	t.Parallel()
	fake := dockerclitest.New()
	fake.On("container", "inspect").Delays(time.Hour)
	d, err := New(Options{Executor: fake, Timeouts: Timeouts{Inspect: time.Hour}, NoOwner: true})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = d.Get(ctx, testEnvID)
	if errors.Is(err, ErrEngineTimeout) {
		t.Errorf("error = %v, want the caller's deadline rather than ENGINE_TIMEOUT", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want it to wrap context.DeadlineExceeded", err)
	}
}

func TestExecNotCutByEngineTimeouts(t *testing.T) {
	t.Parallel()
	// Exec is bounded only by ExecRequest.Timeout and ctx: a command may run
	// longer than every engine timeout.
	fake := dockerclitest.New()
	fake.On("exec").Delays(300*time.Millisecond).Returns("done\n", "", 0)
	d, err := New(Options{Executor: fake, Timeouts: Timeouts{Inspect: 20 * time.Millisecond, Create: 20 * time.Millisecond, Remove: 20 * time.Millisecond, Commit: 20 * time.Millisecond, Pull: 20 * time.Millisecond}, NoOwner: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Exec(context.Background(), testEnvID, ExecRequest{Argv: []string{"sleep", "0.3"}})
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	if string(res.Stdout) != "done\n" {
		t.Errorf("stdout = %q, want %q", res.Stdout, "done\n")
	}
}

func TestExecCommandOutputLikeEngineError(t *testing.T) {
	t.Parallel()
	// A command of the user's that fails with one line in the engine's
	// wording, in an environment that runs.
	fake := dockerclitest.New()
	fake.On("exec").Returns("", "Error: the database at db:5432 is not running\n", 1)
	fake.On("container", "inspect").Returns(containerJSON(testEnvID, "running"), "", 0)
	d := newTestAdapter(t, fake)

	res, err := d.Exec(context.Background(), testEnvID, ExecRequest{Argv: []string{"check-db"}})
	if res.ExitCode != 1 {
		t.Errorf("exit code = %d, want the command's 1", res.ExitCode)
	}
	if e := errorsAsAdapter(err); e != nil && e.Code == CodeEnvNotRunning && e.Meta["state"] == "running" {
		knownBug(t, "Exec returns ENV_NOT_RUNNING with state running when a command's only stderr line reads like an engine error (%q); execFailure should return nil when the inspected state is running", e.Message)
	}
	if err != nil {
		t.Errorf("error = %v, want none: the command ran and exited 1", err)
	}
}

func TestExecMissingWorkDirNamed(t *testing.T) {
	t.Parallel()
	// Docker 20.10 prints this on the exec's stdout, exit status 126, when
	// the working directory does not exist.
	const stdout = `OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd ("/nonexistent") set in config.json failed: no such file or directory: unknown` + "\r\n"
	fake := dockerclitest.New()
	fake.On("exec").Returns(stdout, "", 126)
	d := newTestAdapter(t, fake)

	_, err := d.Exec(context.Background(), testEnvID, ExecRequest{Argv: []string{"true"}, WorkDir: "/nonexistent"})
	if !errors.Is(err, ErrExecFailed) {
		t.Fatalf("error = %v, want EXEC_FAILED", err)
	}
	e := errorsAsAdapter(err)
	if !strings.Contains(e.Message, "/nonexistent") {
		knownBug(t, "the message for a missing working directory claims the program is missing: %q; parse.ClassifyFailure should class \"chdir to cwd\" apart from FailureExecNotFound and execFailure name the working directory", e.Message)
	}
}

func TestExecUnknownUserTyped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		stdout string
		stderr string
		exit   int
	}{
		// Docker 20.10 prints this on the exec's stdout.
		{"docker", "unable to find user nosuchuser: no matching entries in passwd file\r\n", "", 126},
		{"podman", "", "Error: unable to find user nosuchuser: no matching entries in passwd file\n", 255},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := dockerclitest.New()
			fake.On("exec").Returns(tt.stdout, tt.stderr, tt.exit)
			d := newTestAdapter(t, fake)

			_, err := d.Exec(context.Background(), testEnvID, ExecRequest{Argv: []string{"true"}, User: "nosuchuser"})
			if err == nil {
				knownBug(t, "Exec with a user missing from the image returns exit code %d and no error; parse.ClassifyFailure should class \"unable to find user\" and Exec return EXEC_FAILED naming the user", tt.exit)
			}
			if !errors.Is(err, ErrExecFailed) || !strings.Contains(err.Error(), "nosuchuser") {
				t.Errorf("error = %v, want EXEC_FAILED naming the user", err)
			}
		})
	}
}

func TestEngineSocketGuardFollowsSymlinks(t *testing.T) {
	t.Parallel()
	link := filepath.Join(t.TempDir(), "engine.sock")
	if err := os.Symlink("/var/run/docker.sock", link); err != nil {
		t.Fatal(err)
	}
	fake := dockerclitest.New()
	d := newTestAdapter(t, fake)

	_, err := d.Provision(context.Background(), EnvConfig{Image: "busybox", Binds: []BindMount{{Source: link, Target: "/var/run/docker.sock"}}})
	if len(fake.Calls()) > 0 {
		knownBug(t, "a bind source that is a symlink to the engine socket passes the guard and reaches the engine (%q); exposesEngineSocket should compare filepath.EvalSymlinks of the source", fake.Commands())
	}
	if !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("error = %v, want INVALID_CONFIG", err)
	}
}

func TestEngineSocketGuardReadsExecutorEnv(t *testing.T) {
	t.Parallel()
	// The client reads DOCKER_HOST from OSExecutor.Env, not from this
	// process. The binary does not exist, so nothing runs either way.
	sock := filepath.Join(t.TempDir(), "engine.sock")
	d, err := New(Options{
		Executor: &dockercli.OSExecutor{Binary: filepath.Join(t.TempDir(), "no-such-docker"), Env: []string{"DOCKER_HOST=unix://" + sock}},
		NoOwner:  true,
	})
	if err != nil {
		t.Fatal(err)
	}

	_, err = d.Provision(context.Background(), EnvConfig{Image: "busybox", Binds: []BindMount{{Source: sock, Target: "/var/run/docker.sock"}}})
	if errors.Is(err, ErrDockerUnavailable) {
		knownBug(t, "a bind of the socket that OSExecutor.Env's DOCKER_HOST names passes the guard; engineSocketPaths should read DOCKER_HOST and CONTAINER_HOST from the executor's environment")
	}
	if !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("error = %v, want INVALID_CONFIG", err)
	}
}

func TestHugeValueInvalidConfig(t *testing.T) {
	t.Parallel()
	// Linux limits one argv string to 128 KiB (MAX_ARG_STRLEN), so the
	// client cannot even start. /bin/true replaces the engine binary: nothing
	// is contacted.
	big := strings.Repeat("v", 200<<10)
	d, err := New(Options{Executor: &dockercli.OSExecutor{Binary: "/bin/true"}, NoOwner: true})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"provision env value", func() error {
			_, err := d.Provision(context.Background(), EnvConfig{Image: "busybox", Env: map[string]string{"BIG": big}})
			return err
		}, "BIG"},
		{"provision label value", func() error {
			_, err := d.Provision(context.Background(), EnvConfig{Image: "busybox", Labels: map[string]string{"big": big}})
			return err
		}, "big"},
		{"exec env value", func() error {
			_, err := d.Exec(context.Background(), testEnvID, ExecRequest{Argv: []string{"true"}, Env: map[string]string{"BIG": big}})
			return err
		}, "BIG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.call()
			for _, s := range errorTexts(err) {
				if strings.Contains(s, big[:64]) {
					t.Errorf("error text %.80q... contains the value", s)
				}
			}
			if errors.Is(err, ErrDockerUnavailable) {
				knownBug(t, "a value over 128 KiB makes the client's execve fail with E2BIG, which run reports as DOCKER_UNAVAILABLE (%v); validation should reject it as INVALID_CONFIG naming %s", err, tt.want)
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want INVALID_CONFIG naming %s", err, tt.want)
			}
		})
	}
}

func TestSecretsRedactedFromEngineOutput(t *testing.T) {
	t.Parallel()
	const provisionSecret = "prov-value-8c1f"
	const execSecret = "exec-value-93ad"
	logs := &syncBuffer{}
	fake := dockerclitest.New()
	fake.On("image", "inspect").Returns(imageJSON, "", 0)
	fake.On("run").Returns("", "docker: Error response from daemon: bad value "+provisionSecret+".\n", 125)
	fake.On("rm").Returns("", "", 0)
	fake.On("exec").Containing("--user", "0").Returns("0\n", "", 0)
	fake.On("exec").Returns("", "OCI runtime exec failed: exec failed: unable to start container process: exec: \""+execSecret+"\": executable file not found in $PATH: unknown\n", 126)
	d, err := New(Options{Executor: fake, NoOwner: true, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	_, provisionErr := d.Provision(ctx, EnvConfig{Image: "busybox", Env: map[string]string{"DB_PASSWORD": provisionSecret}})
	_, execErr := d.Exec(ctx, testEnvID, ExecRequest{Argv: []string{"run"}, Env: map[string]string{"API_KEY": execSecret}})

	for name, err := range map[string]error{"provision": provisionErr, "exec": execErr} {
		if err == nil {
			t.Errorf("%s succeeded, want the engine's failure", name)
		}
		for _, s := range errorTexts(err) {
			if strings.Contains(s, provisionSecret) || strings.Contains(s, execSecret) {
				t.Errorf("%s error text %q contains an env value", name, s)
			}
		}
	}
	out := logs.String()
	if strings.Contains(out, provisionSecret) || strings.Contains(out, execSecret) {
		t.Errorf("log contains an env value:\n%s", out)
	}
	if !strings.Contains(out, "DB_PASSWORD=[redacted]") || !strings.Contains(out, "API_KEY=[redacted]") {
		t.Errorf("log lacks the redacted env arguments, so it may not have recorded the calls:\n%s", out)
	}
}

// engineRun runs the end-to-end engine's client directly and returns its
// trimmed combined output.
func engineRun(args ...string) (string, error) {
	out, err := exec.Command(e2eEngine(), args...).CombinedOutput()
	if err != nil {
		return strings.TrimSpace(string(out)), fmt.Errorf("%s %s: %w: %s", e2eEngine(), strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

func TestE2EExecBackgroundChildHoldsStdout(t *testing.T) {
	t.Parallel()
	d := e2eAdapter(t)
	env := provisionE2E(t, d, EnvConfig{PullPolicy: PullNever})

	t.Run("finishes and leaves the child", func(t *testing.T) {
		// No Timeout: only the engine decides when the exec ends. Docker
		// 20.10 waits a few seconds for the child's copy of stdout, Podman
		// 4.3 returns when sh exits.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		start := time.Now()
		res, err := d.Exec(ctx, env.ID, ExecRequest{Shell: "sleep 1011 &"})
		elapsed := time.Since(start)
		if err != nil {
			t.Fatalf("Exec: %v", err)
		}
		if res.ExitCode != 0 {
			t.Errorf("exit code = %d, want 0", res.ExitCode)
		}
		if elapsed > 15*time.Second {
			t.Errorf("Exec returned after %s", elapsed)
		}
		if n := processCount(t, d, env.ID, "sleep 1011"); n != 1 {
			t.Errorf("background children running after the exec = %d, want 1", n)
		}
		t.Logf("returned after %s with the child still running", elapsed.Round(time.Millisecond))
	})

	t.Run("timeout ends it within bounds", func(t *testing.T) {
		const timeout = 300 * time.Millisecond
		start := time.Now()
		_, err := d.Exec(context.Background(), env.ID, ExecRequest{Shell: "sleep 1012 &", Timeout: timeout})
		elapsed := time.Since(start)
		if elapsed > timeout+10*time.Second {
			t.Errorf("Exec returned after %s with a %s timeout", elapsed, timeout)
		}
		switch {
		case errors.Is(err, ErrExecTimeout):
			if n := processCount(t, d, env.ID, "sleep 1012"); n != 0 {
				t.Errorf("%d children left after EXEC_TIMEOUT, want every marked process killed", n)
			}
			t.Logf("EXEC_TIMEOUT after %s, child killed (%s)", elapsed.Round(time.Millisecond), errorsAsAdapter(err).Meta["killed_processes"])
		case err == nil:
			// The engine returned before the timeout: the documented case of a
			// finished command that leaves its child.
			if n := processCount(t, d, env.ID, "sleep 1012"); n != 1 {
				t.Errorf("%d children after a normal finish, want 1", n)
			}
			t.Logf("finished after %s before the timeout, child kept", elapsed.Round(time.Millisecond))
		default:
			t.Fatalf("Exec: %v, want EXEC_TIMEOUT or success", err)
		}
	})

	t.Run("timeout kills a detached child", func(t *testing.T) {
		// setsid moves the child to a new session and the trap ignores
		// SIGTERM, but the child keeps the marker in its environment.
		_, err := d.Exec(context.Background(), env.ID, ExecRequest{
			Shell:   `setsid sh -c 'trap "" TERM; sleep 1013' > /dev/null 2>&1 & sleep 1014`,
			Timeout: time.Second,
		})
		if !errors.Is(err, ErrExecTimeout) {
			t.Fatalf("Exec: %v, want EXEC_TIMEOUT", err)
		}
		for _, needle := range []string{"sleep 1013", "sleep 1014"} {
			if n := processCount(t, d, env.ID, needle); n != 0 {
				t.Errorf("%d processes %q left after the timeout, want 0", n, needle)
			}
		}
	})

	t.Run("timeout misses a child with a cleared environment", func(t *testing.T) {
		_, err := d.Exec(context.Background(), env.ID, ExecRequest{Shell: "env -i sleep 1015 & sleep 1016", Timeout: time.Second})
		if !errors.Is(err, ErrExecTimeout) {
			t.Fatalf("Exec: %v, want EXEC_TIMEOUT", err)
		}
		if n := processCount(t, d, env.ID, "sleep 1016"); n != 0 {
			t.Errorf("the foreground command survived the timeout")
		}
		// Exec's doc comment names this exception: the child lost the
		// marker, so it survives. This checks that the documented
		// behaviour still holds.
		if n := processCount(t, d, env.ID, "sleep 1015"); n != 1 {
			t.Errorf("%d processes of the env -i child after the timeout, want the 1 that Exec documents as surviving", n)
		}
	})
}

func TestE2EExecIntoUnusableEnvironment(t *testing.T) {
	t.Parallel()
	d := e2eAdapter(t)
	ctx := context.Background()

	tests := []struct {
		name      string
		setup     func(t *testing.T) string // returns the environment id
		wantCode  Code
		wantState string // empty for ENV_NOT_FOUND
	}{
		{
			name: "paused",
			setup: func(t *testing.T) string {
				env := provisionE2E(t, d, EnvConfig{PullPolicy: PullNever})
				engineOutput(t, "pause", env.ContainerID)
				t.Cleanup(func() { engineRun("unpause", env.ContainerID) })
				return env.ID
			},
			wantCode:  CodeEnvNotRunning,
			wantState: "paused",
		},
		{
			name: "stopped",
			setup: func(t *testing.T) string {
				env := provisionE2E(t, d, EnvConfig{PullPolicy: PullNever})
				engineOutput(t, "stop", "--time", "1", env.ContainerID)
				return env.ID
			},
			wantCode:  CodeEnvNotRunning,
			wantState: "exited",
		},
		{
			name: "main process ended",
			setup: func(t *testing.T) string {
				env := provisionE2E(t, d, EnvConfig{PullPolicy: PullNever, Command: []string{"sh", "-c", "sleep 3; exit 3"}})
				waitState(t, d, env.ID, StateExited)
				return env.ID
			},
			wantCode:  CodeEnvNotRunning,
			wantState: "exited",
		},
		{
			name: "created and never started",
			setup: func(t *testing.T) string {
				// What a kenv killed between the engine's create and start
				// leaves behind.
				id := newID()
				engineOutput(t, "create", "--name", containerName(id), "--label", LabelManaged+"=true", "--label", LabelEnv+"="+id, e2eImage(), "sleep", "1000")
				t.Cleanup(func() { d.Destroy(context.Background(), id) })
				return id
			},
			wantCode:  CodeEnvNotRunning,
			wantState: "created",
		},
		{
			name: "removed behind kenv's back",
			setup: func(t *testing.T) string {
				env := provisionE2E(t, d, EnvConfig{PullPolicy: PullNever})
				engineOutput(t, "rm", "--force", env.ContainerID)
				return env.ID
			},
			wantCode: CodeEnvNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id := tt.setup(t)
			_, err := d.Exec(ctx, id, ExecRequest{Argv: []string{"true"}})
			e := errorsAsAdapter(err)
			if e == nil || e.Code != tt.wantCode {
				t.Fatalf("Exec: %v, want %s", err, tt.wantCode)
			}
			if e.EnvID != id {
				t.Errorf("error names environment %q, want %s", e.EnvID, id)
			}
			if tt.wantState == "" {
				if !strings.Contains(e.Message, "not found") {
					t.Errorf("message %q does not report not found", e.Message)
				}
				return
			}
			if e.Meta["state"] != tt.wantState {
				t.Errorf("state in the error = %q, want %q", e.Meta["state"], tt.wantState)
			}
			if !strings.Contains(e.Message, tt.wantState) {
				t.Errorf("message %q does not name the state %q", e.Message, tt.wantState)
			}
		})
	}
}

// waitState waits up to 30 seconds for the environment to reach state.
func waitState(t *testing.T, d *Docker, envID string, state State) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		env, err := d.Get(context.Background(), envID)
		if err == nil && env.State == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("environment %s did not reach state %s: %+v, %v", envID, state, env, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestE2EExecKilledSaysWhich(t *testing.T) {
	t.Parallel()
	d := e2eAdapter(t)
	ctx := context.Background()

	t.Run("command killed by a signal", func(t *testing.T) {
		t.Parallel()
		env := provisionE2E(t, d, EnvConfig{PullPolicy: PullNever, Memory: "64m"})
		res, err := d.Exec(ctx, env.ID, ExecRequest{Shell: "kill -9 $$"})
		if err != nil {
			t.Fatalf("Exec: %v", err)
		}
		if res.ExitCode != 137 || res.OOMKilled {
			t.Errorf("exit %d oom_killed %t, want 137 and false", res.ExitCode, res.OOMKilled)
		}
	})

	t.Run("environment removed while the command ran", func(t *testing.T) {
		t.Parallel()
		logs := &syncBuffer{}
		logged, err := New(Options{Engine: e2eEngine(), Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		if err != nil {
			t.Fatal(err)
		}
		env, err := logged.Provision(ctx, EnvConfig{Image: e2eImage(), PullPolicy: PullNever})
		if err != nil {
			t.Fatalf("Provision: %v", err)
		}
		// The test removes the container itself. Destroy also takes the
		// volumes, once that removal has finished.
		t.Cleanup(func() {
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				if out, _ := engineRun("ps", "--all", "--quiet", "--filter", "label="+LabelEnv+"="+env.ID); out == "" {
					break
				}
			}
			logged.Destroy(context.Background(), env.ID)
		})

		time.AfterFunc(time.Second, func() { engineRun("rm", "--force", env.ContainerID) })
		res, err := logged.Exec(ctx, env.ID, ExecRequest{Argv: []string{"sleep", "30"}, Timeout: 20 * time.Second})
		e := errorsAsAdapter(err)
		if e == nil && res.ExitCode == sigkillExit {
			// Seen under load: the inspect after the SIGKILL still reports
			// the container running, because the removal has not reached
			// it yet.
			var calls []string
			for _, line := range strings.Split(logs.String(), "\n") {
				if strings.Contains(line, "op=exec") {
					calls = append(calls, line)
				}
			}
			knownBug(t, "Exec returned exit 137 and no error for an environment removed during the command; explainKill trusts one inspect taken while the removal is in progress. Engine calls:\n%s", strings.Join(calls, "\n"))
		}
		if e == nil && strings.Contains(string(res.Stderr), "has already been removed") {
			knownBug(t, "Exec returned exit %d and no error when Podman reported %q; parse.ClassifyFailure has no rule for Podman 4.3's \"container has already been removed\", which should be FailureNotFound", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
		}
		if e == nil {
			t.Fatalf("Exec: exit %d, stdout %q, stderr %q, error %v; want a typed error", res.ExitCode, res.Stdout, res.Stderr, err)
		}

		// Exec inspects the environment as soon as the command dies, which
		// may be before the engine has finished removing it: then the state
		// is that of a removal in progress.
		switch {
		case e.Code == CodeEnvNotFound:
			// "removed while the command ran" when the command died first,
			// plain "not found" when the engine's exec failed first.
			if !strings.Contains(e.Message, env.ID) || !(strings.Contains(e.Message, "removed") || strings.Contains(e.Message, "not found")) {
				t.Errorf("message %q does not report the environment %s gone", e.Message, env.ID)
			}
		case e.Code == CodeEnvNotRunning && (e.Meta["state"] == "dead" || e.Meta["state"] == "removing" || e.Meta["state"] == "exited"):
			if !strings.Contains(e.Message, e.Meta["state"]) {
				t.Errorf("message %q does not name the state %q", e.Message, e.Meta["state"])
			}
		default:
			t.Fatalf("Exec: %v, want ENV_NOT_FOUND, or ENV_NOT_RUNNING with the state of a removal", err)
		}
		t.Logf("%s: %s", e.Code, e.Message)
	})

	t.Run("main process out of memory", func(t *testing.T) {
		t.Parallel()
		// sort keeps its input, one endless line of /dev/zero, in memory.
		env := provisionE2E(t, d, EnvConfig{PullPolicy: PullNever, Memory: "16m", Command: []string{"sh", "-c", "sleep 2; exec sort /dev/zero"}})
		res, err := d.Exec(ctx, env.ID, ExecRequest{Argv: []string{"sleep", "60"}, Timeout: 50 * time.Second})
		e := errorsAsAdapter(err)
		if e == nil && res.ExitCode == sigkillExit {
			// Seen under load, as for the removal above.
			knownBug(t, "Exec returned exit 137 (oom_killed %t) and no error for an environment whose main process died of OOM during the command; explainKill trusts one inspect taken while the environment is still stopping", res.OOMKilled)
		}
		if e == nil || e.Code != CodeEnvNotRunning {
			t.Fatalf("Exec: exit %d, %v; want ENV_NOT_RUNNING", res.ExitCode, err)
		}
		if e.Meta["state"] != "exited" || e.Meta["exit_code"] != "137" {
			t.Errorf("meta = %v, want state exited and exit code 137", e.Meta)
		}
		if e.Meta["oom_killed"] != "true" && filepath.Base(e2eEngine()) == "podman" {
			t.Skipf("Podman 4.3 with cgroup v1 leaves State.OOMKilled false when the OOM killer ends the main process, so Exec cannot detect it: %v", err)
		}
		if e.Meta["oom_killed"] != "true" {
			t.Errorf("oom_killed = %q, want true", e.Meta["oom_killed"])
		}
		if !strings.Contains(e.Message, "out of memory: true") {
			t.Errorf("message %q does not report out of memory", e.Message)
		}
	})
}

// scopedExecutor narrows the two listings that GC starts from, all managed
// containers and all managed volumes, to one test's environments, so that GC
// on an engine that other tests share removes nothing of theirs. Containers
// must carry the label scope, and volumes a name ending in volumeSuffix.
type scopedExecutor struct {
	inner        dockercli.Executor
	scope        string // label selector KEY=VALUE
	volumeSuffix string
}

func (s *scopedExecutor) Run(ctx context.Context, cmd dockercli.Command) (dockercli.Result, error) {
	if !slices.Contains(cmd.Args, "label="+managedFilter) {
		return s.inner.Run(ctx, cmd)
	}
	switch {
	case argsStart(cmd.Args, "ps"):
		cmd.Args = append(slices.Clone(cmd.Args), "--filter", "label="+s.scope)
		return s.inner.Run(ctx, cmd)
	case argsStart(cmd.Args, "volume", "ls"):
		res, err := s.inner.Run(ctx, cmd)
		var kept []string
		for _, name := range strings.Fields(string(res.Stdout)) {
			if strings.HasSuffix(name, s.volumeSuffix) {
				kept = append(kept, name+"\n")
			}
		}
		res.Stdout = []byte(strings.Join(kept, ""))
		return res, err
	}
	return s.inner.Run(ctx, cmd)
}

func TestE2EGCOrphanOwnerCases(t *testing.T) {
	t.Parallel()
	d := e2eAdapter(t)
	ctx := context.Background()
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	const scopeKey = "kenv-reliability-scope"
	token := newID()
	volumeName := "v" + token
	gc, err := New(Options{Engine: e2eEngine(), Executor: &scopedExecutor{
		inner:        &dockercli.OSExecutor{Binary: e2eEngine()},
		scope:        scopeKey + "=" + token,
		volumeSuffix: "-" + volumeName,
	}})
	if err != nil {
		t.Fatal(err)
	}

	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	dead, err := ProcessOwner(sleeper.Process.Pid)
	if err != nil {
		t.Fatalf("ProcessOwner: %v", err)
	}
	sleeper.Process.Kill()
	sleeper.Wait()

	unowned, err := New(Options{Engine: e2eEngine(), NoOwner: true})
	if err != nil {
		t.Fatal(err)
	}
	reused := Owner{Host: host, PID: os.Getpid(), Start: "1"}
	otherHost := Owner{Host: "kenv-other-host.invalid", PID: dead.PID, Start: dead.Start}
	scoped := func(cfg EnvConfig) EnvConfig {
		cfg.PullPolicy = PullNever
		cfg.Labels = map[string]string{scopeKey: token}
		return cfg
	}

	deadRunning := provisionE2E(t, d, scoped(EnvConfig{Owner: &dead}))
	deadStopped := provisionE2E(t, d, scoped(EnvConfig{Owner: &dead}))
	engineOutput(t, "stop", "--time", "1", deadStopped.ContainerID)
	deadVolumeOnly := provisionE2E(t, d, scoped(EnvConfig{Owner: &dead, Volumes: []VolumeMount{{Name: volumeName, Target: "/v"}}}))
	engineOutput(t, "rm", "--force", deadVolumeOnly.ContainerID)
	pidReused := provisionE2E(t, d, scoped(EnvConfig{Owner: &reused}))
	remote := provisionE2E(t, d, scoped(EnvConfig{Owner: &otherHost}))
	live := provisionE2E(t, d, scoped(EnvConfig{}))
	noOwner := provisionE2E(t, unowned, scoped(EnvConfig{}))

	malformedID := newID()
	engineOutput(t, "run", "--detach", "--name", containerName(malformedID), "--label", scopeKey+"="+token,
		"--label", LabelManaged+"=true", "--label", LabelEnv+"="+malformedID,
		"--label", LabelOwnerHost+"="+host, "--label", LabelOwnerPID+"=not-a-pid", "--label", LabelOwnerStart+"=1",
		e2eImage(), "sleep", "300")
	t.Cleanup(func() { d.Destroy(context.Background(), malformedID) })

	wantOrphan := map[string]bool{
		deadRunning.ID:    true,
		deadStopped.ID:    true,
		deadVolumeOnly.ID: true,
		pidReused.ID:      true,
		remote.ID:         false,
		live.ID:           false,
		noOwner.ID:        false,
		malformedID:       false,
	}
	names := map[string]string{
		deadRunning.ID: "dead owner", deadStopped.ID: "dead owner, stopped", deadVolumeOnly.ID: "dead owner, volume only",
		pidReused.ID: "pid reused", remote.ID: "owner on another host", live.ID: "live owner", noOwner.ID: "no owner",
		malformedID: "malformed owner labels",
	}
	selected := func(items []GCItem) map[string]GCItem {
		out := map[string]GCItem{}
		for _, it := range items {
			if _, ours := wantOrphan[it.EnvID]; !ours {
				t.Errorf("GC through the scoped executor lists %s, which this test did not create", it.EnvID)
				continue
			}
			out[it.EnvID] = it
		}
		return out
	}

	items, err := gc.GC(ctx, GCOptions{DryRun: true})
	if err != nil {
		t.Fatalf("GC dry run of everything: %v", err)
	}
	if got := len(selected(items)); got != len(wantOrphan)-1 {
		t.Errorf("GC dry run of everything selects %d environments, want the %d with a container", got, len(wantOrphan)-1)
	}

	items, err = gc.GC(ctx, GCOptions{Orphans: true, OlderThan: time.Hour, DryRun: true})
	if err != nil {
		t.Fatalf("GC dry run with OlderThan: %v", err)
	}
	for id := range selected(items) {
		t.Errorf("GC with OlderThan 1h selected %s (%s), created seconds ago", id, names[id])
	}

	items, err = gc.GC(ctx, GCOptions{Orphans: true, DryRun: true})
	if err != nil {
		t.Fatalf("GC dry run: %v", err)
	}
	got := selected(items)
	for id, want := range wantOrphan {
		if _, ok := got[id]; ok != want {
			t.Errorf("%s (%s): selected as orphan %t, want %t", id, names[id], ok, want)
		}
	}
	if it := got[deadVolumeOnly.ID]; it.Container != "" || len(it.Volumes) != 1 {
		t.Errorf("volume-only orphan item = %+v, want no container and one volume", it)
	}

	items, err = gc.GC(ctx, GCOptions{Orphans: true})
	if err != nil {
		t.Errorf("GC: %v", err)
	}
	for id, it := range selected(items) {
		if !it.Removed {
			t.Errorf("GC did not remove %s (%s): %s", id, names[id], it.Error)
		}
	}
	for id, orphan := range wantOrphan {
		_, err := d.Get(ctx, id)
		switch {
		case orphan && !errors.Is(err, ErrEnvNotFound):
			t.Errorf("%s (%s) after GC: %v, want ENV_NOT_FOUND", id, names[id], err)
		case !orphan && err != nil:
			t.Errorf("%s (%s) after GC: %v, want it kept", id, names[id], err)
		}
	}
	if got := engineOutput(t, "volume", "ls", "--quiet", "--filter", "label="+LabelEnv+"="+deadVolumeOnly.ID); got != "" {
		t.Errorf("volumes of the volume-only orphan after GC: %q", got)
	}
}

func TestE2ESecretsStayOutOfErrorsAndLogs(t *testing.T) {
	t.Parallel()
	e2eAdapter(t)
	logs := &syncBuffer{}
	d, err := New(Options{Engine: e2eEngine(), Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	provisionSecret := "prov-" + newID() + "-s3cr3t"
	execSecret := "exec-" + newID() + "-s3cr3t"
	provisionEnv := map[string]string{"DB_PASSWORD": provisionSecret}
	execEnv := map[string]string{"API_KEY": execSecret}

	failures := map[string]error{}

	_, err = d.Provision(ctx, EnvConfig{Image: e2eImage(), PullPolicy: PullNever, Env: provisionEnv,
		Command: []string{"sh", "-c", `echo "password is $DB_PASSWORD"; echo "$DB_PASSWORD" >&2; exit 3`}})
	failures["main process prints the value and exits"] = err
	if e := errorsAsAdapter(err); e == nil || !strings.Contains(e.Meta["output"], "password is [redacted]") {
		t.Errorf("provision error %v: want the main process's output with the value redacted", err)
	}

	_, err = d.Provision(ctx, EnvConfig{Image: e2eImage(), PullPolicy: PullNever, Env: provisionEnv,
		Binds: []BindMount{{Source: "/nonexistent/kenv-secret-test", Target: "/x"}}})
	failures["missing bind source"] = err

	_, err = d.Provision(ctx, EnvConfig{Image: "kenv-test/does-not-exist:1", PullPolicy: PullNever, Env: provisionEnv})
	failures["missing image"] = err

	env := provisionE2E(t, d, EnvConfig{PullPolicy: PullNever, Env: provisionEnv})

	_, err = d.Exec(ctx, env.ID, ExecRequest{Argv: []string{"no-such-program"}, Env: execEnv})
	failures["missing program"] = err

	res, err := d.Exec(ctx, env.ID, ExecRequest{Shell: `echo "$API_KEY"; echo "$DB_PASSWORD" >&2; sleep 30`, Env: execEnv, Timeout: time.Second})
	failures["timeout"] = err
	if !strings.Contains(string(res.Stdout), execSecret) {
		t.Errorf("stdout of the timed-out command = %q, want the value the command printed itself", res.Stdout)
	}

	_, err = d.Exec(ctx, env.ID, ExecRequest{
		Shell: `echo "OCI runtime exec failed: exec failed: unable to start container process: exec: \"$API_KEY\": executable file not found in \$PATH: unknown" >&2; exit 126`,
		Env:   execEnv,
	})
	failures["command prints engine wording with the exec value"] = err

	engineOutput(t, "pause", env.ContainerID)
	_, err = d.Exec(ctx, env.ID, ExecRequest{Argv: []string{"true"}, Env: execEnv})
	failures["paused"] = err
	engineOutput(t, "unpause", env.ContainerID)

	for name, err := range failures {
		if err == nil {
			t.Errorf("%s: no error, want a failure", name)
		}
		for _, s := range errorTexts(err) {
			if strings.Contains(s, provisionSecret) || strings.Contains(s, execSecret) {
				t.Errorf("%s: error text %q contains an env value", name, s)
			}
		}
	}
	out := logs.String()
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, provisionSecret) || strings.Contains(line, execSecret) {
			t.Errorf("log line contains an env value: %s", line)
		}
	}
	if !strings.Contains(out, "DB_PASSWORD=[redacted]") || !strings.Contains(out, "API_KEY=[redacted]") {
		t.Errorf("log lacks the redacted env arguments, so it may not record the calls")
	}

	t.Run("value not in a snapshot image", func(t *testing.T) {
		snap, err := d.Snapshot(ctx, env.ID, SnapshotOptions{Name: "secrets"})
		if err != nil {
			t.Fatalf("Snapshot: %v", err)
		}
		t.Cleanup(func() { engineRun("image", "rm", "--force", snap.Ref) })
		config := engineOutput(t, "image", "inspect", "--format", "{{json .Config}}", snap.Ref)
		if strings.Contains(config, provisionSecret) {
			t.Errorf("the snapshot image's config contains the env value: %s", config)
		}
	})

	t.Run("provision value in a command's engine-like error", func(t *testing.T) {
		// Exec redacts the values of ExecRequest.Env only; the environment's
		// own values come from EnvConfig.Env.
		_, err := d.Exec(ctx, env.ID, ExecRequest{Shell: `echo "Error: the upstream at https://app:$DB_PASSWORD@db is not running" >&2; exit 1`})
		for _, s := range errorTexts(err) {
			if strings.Contains(s, provisionSecret) {
				knownBug(t, "an Exec error carries an EnvConfig.Env value in Meta[\"stderr\"] (%s): execFailure classed the command's own line as an engine error, and Exec redacts only ExecRequest.Env values", errorsAsAdapter(err).Code)
			}
		}
	})

	t.Run("value on the client command line", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		done := make(chan struct{})
		go func() {
			defer close(done)
			d.Exec(ctx, env.ID, ExecRequest{Argv: []string{"sleep", "3"}, Env: execEnv})
		}()
		seen := false
	poll:
		for !seen {
			select {
			case <-done:
				break poll
			case <-time.After(50 * time.Millisecond):
				seen = commandLineContains(execSecret)
			}
		}
		<-done
		if seen {
			knownBug(t, "env values reach the engine client as --env NAME=VALUE arguments, readable by every local user in /proc/PID/cmdline; pass single-line values through --env-file with a 0600 temporary file instead")
		}
	})
}

// commandLineContains reports whether any process's command line contains s.
func commandLineContains(s string) bool {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(cmdline), s) {
			return true
		}
	}
	return false
}

func TestE2ELoadCycles(t *testing.T) {
	// Not parallel: goroutines and file descriptors are counted for the
	// whole process, and parallel tests wait until the sequential ones end.
	e2eAdapter(t)
	cycles := 200
	if testing.Short() {
		cycles = 32
	}
	const workers = 16
	const labelKey = "kenv-reliability-load"
	token := newID()
	volumeName := "load" + token
	d, err := New(Options{Engine: e2eEngine()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	var mu sync.Mutex
	var keptSnapshots []string // snapshot references the test keeps
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if len(keptSnapshots) > 0 {
			engineRun(append([]string{"image", "rm", "--force"}, keptSnapshots...)...)
		}
	})

	cycle := func(i int) (err error) {
		cfg := EnvConfig{Image: e2eImage(), PullPolicy: PullNever, Labels: map[string]string{labelKey: token}}
		if i%2 == 0 {
			cfg.Volumes = []VolumeMount{{Name: volumeName, Target: "/data"}}
		}
		env, err := d.Provision(ctx, cfg)
		if err != nil {
			return fmt.Errorf("cycle %d: Provision: %w", i, err)
		}
		defer func() {
			if derr := d.Destroy(ctx, env.ID); derr != nil && err == nil {
				err = fmt.Errorf("cycle %d: Destroy: %w", i, derr)
			}
		}()

		want := fmt.Sprintf("cycle-%d\n", i)
		res, err := d.Exec(ctx, env.ID, ExecRequest{Argv: []string{"echo", strings.TrimSpace(want)}})
		if err != nil {
			return fmt.Errorf("cycle %d: Exec: %w", i, err)
		}
		if string(res.Stdout) != want || res.ExitCode != 0 {
			return fmt.Errorf("cycle %d: Exec gave exit %d stdout %q, want 0 and %q", i, res.ExitCode, res.Stdout, want)
		}

		if i%25 == 0 {
			snap, err := d.Snapshot(ctx, env.ID, SnapshotOptions{Name: "load"})
			if err != nil {
				return fmt.Errorf("cycle %d: Snapshot: %w", i, err)
			}
			mu.Lock()
			keptSnapshots = append(keptSnapshots, snap.Ref)
			mu.Unlock()
		}
		return nil
	}

	// One cycle first, so that whatever the runtime and the adapter start
	// once is already there when the counts are taken.
	if err := cycle(1); err != nil {
		t.Fatalf("warm-up: %v", err)
	}
	runtime.GC()
	goroutinesBefore := runtime.NumGoroutine()
	fdsBefore := openFDs(t)

	start := time.Now()
	jobs := make(chan int)
	errs := make(chan error, cycles)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for i := range jobs {
				if err := cycle(i); err != nil {
					errs <- err
				}
			}
		})
	}
	for i := 0; i < cycles; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	elapsed := time.Since(start)

	failed := 0
	for err := range errs {
		failed++
		if failed <= 10 {
			t.Errorf("%v", err)
		}
	}
	if failed > 10 {
		t.Errorf("and %d more failed cycles", failed-10)
	}
	t.Logf("%d cycles at concurrency %d on %s in %s (%.1f cycles/s), %d failed",
		cycles, workers, e2eEngine(), elapsed.Round(time.Millisecond), float64(cycles)/elapsed.Seconds(), failed)

	if got := engineOutput(t, "ps", "--all", "--quiet", "--filter", "label="+labelKey+"="+token); got != "" {
		t.Errorf("containers left by the cycles: %q", strings.Fields(got))
	}
	for _, v := range strings.Fields(engineOutput(t, "volume", "ls", "--quiet")) {
		if strings.HasSuffix(v, "-"+volumeName) {
			t.Errorf("volume %s left by the cycles", v)
		}
	}
	var images []string
	for _, ref := range strings.Fields(engineOutput(t, "image", "ls", "--filter", "label="+labelKey+"="+token, "--format", "{{.Repository}}:{{.Tag}}")) {
		images = append(images, strings.TrimPrefix(ref, "localhost/"))
	}
	mu.Lock()
	wantImages := slices.Clone(keptSnapshots)
	mu.Unlock()
	slices.Sort(images)
	slices.Sort(wantImages)
	if !slices.Equal(images, wantImages) {
		t.Errorf("snapshot images with the test's label = %q, want only the kept %q", images, wantImages)
	}

	// The engine clients have exited and their pipes are closed once the
	// calls return; the runtime may need a moment to end helper goroutines.
	goroutinesAfter, fdsAfter := 0, 0
	for deadline := time.Now().Add(5 * time.Second); ; {
		runtime.GC()
		goroutinesAfter, fdsAfter = runtime.NumGoroutine(), openFDs(t)
		if (goroutinesAfter <= goroutinesBefore+2 && fdsAfter <= fdsBefore+2) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("goroutines %d before, %d after; open file descriptors %d before, %d after", goroutinesBefore, goroutinesAfter, fdsBefore, fdsAfter)
	if goroutinesAfter > goroutinesBefore+2 {
		t.Errorf("goroutines grew from %d to %d over the cycles", goroutinesBefore, goroutinesAfter)
	}
	if fdsAfter > fdsBefore+2 {
		t.Errorf("open file descriptors grew from %d to %d over the cycles", fdsBefore, fdsAfter)
	}
}

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("counting file descriptors: %v", err)
	}
	return len(entries)
}

// managedObjects checks that every container and volume on the daemon
// carries kenv's managed label and a valid environment id, and returns the
// environment ids that own a container and those that own a volume.
func managedObjects(t *testing.T, p *privateDaemon) (containers, volumes map[string]bool) {
	t.Helper()
	objs := p.objects(t)
	check := func(kind string, args []string, names []string, into map[string]bool) {
		if len(names) == 0 {
			return
		}
		out := p.docker(t, append(args, names...)...)
		for _, line := range strings.Split(out, "\n") {
			name, data, _ := strings.Cut(line, " ")
			var labels map[string]string
			if err := json.Unmarshal([]byte(data), &labels); err != nil {
				t.Errorf("%s %s: reading labels %q: %v", kind, name, data, err)
				continue
			}
			if labels[LabelManaged] != "true" || !envIDPattern.MatchString(labels[LabelEnv]) {
				t.Errorf("%s %s lacks kenv's labels: %s", kind, name, data)
				continue
			}
			into[labels[LabelEnv]] = true
		}
	}
	containers, volumes = map[string]bool{}, map[string]bool{}
	check("container", []string{"container", "inspect", "--format", "{{.Name}} {{json .Config.Labels}}"}, objs.Containers, containers)
	check("volume", []string{"volume", "inspect", "--format", "{{.Name}} {{json .Labels}}"}, objs.Volumes, volumes)
	return containers, volumes
}

func TestE2EFrozenDaemonTimesOut(t *testing.T) {
	t.Parallel()
	p := startPrivateDaemon(t)
	timeouts := Timeouts{
		Inspect: time.Second,
		Create:  1500 * time.Millisecond,
		Remove:  1200 * time.Millisecond,
		Commit:  1300 * time.Millisecond,
		Pull:    1100 * time.Millisecond,
	}

	// freezeBefore, when set, freezes the daemon before the next engine
	// command that starts with its words.
	var hookMu sync.Mutex
	var freezeBefore []string
	freezeAt := func(words ...string) {
		hookMu.Lock()
		defer hookMu.Unlock()
		freezeBefore = words
	}
	exe := &hookExecutor{inner: p.executor(), before: func(args []string) {
		hookMu.Lock()
		defer hookMu.Unlock()
		if freezeBefore != nil && argsStart(args, freezeBefore...) {
			freezeBefore = nil
			p.freeze(t)
		}
	}}
	logs := &syncBuffer{}
	d := p.adapter(t, Options{Executor: exe, Timeouts: timeouts, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ctx := context.Background()

	env, err := d.Provision(ctx, EnvConfig{Image: e2eImage(), PullPolicy: PullNever, Volumes: []VolumeMount{{Name: "v", Target: "/v"}}})
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}

	t.Run("every call while frozen", func(t *testing.T) {
		p.freeze(t)
		defer p.thaw(t)

		type outcome struct {
			err     error
			elapsed time.Duration
		}
		execDone := make(chan outcome, 1)
		go func() {
			start := time.Now()
			_, err := d.Exec(ctx, env.ID, ExecRequest{Argv: []string{"true"}, Timeout: time.Second})
			execDone <- outcome{err, time.Since(start)}
		}()

		calls := map[string]struct {
			call  func() error
			limit time.Duration
		}{
			"info": {func() error { _, err := d.Info(ctx); return err }, timeouts.Inspect},
			"list": {func() error { _, err := d.List(ctx); return err }, timeouts.Inspect},
			"get":  {func() error { _, err := d.Get(ctx, env.ID); return err }, timeouts.Inspect},
			"provision": {func() error {
				_, err := d.Provision(ctx, EnvConfig{Image: e2eImage(), PullPolicy: PullNever})
				return err
			}, timeouts.Inspect},
			"snapshot": {func() error { _, err := d.Snapshot(ctx, env.ID, SnapshotOptions{}); return err }, timeouts.Inspect},
			"destroy":  {func() error { return d.Destroy(ctx, env.ID) }, timeouts.Inspect},
			"gc":       {func() error { _, err := d.GC(ctx, GCOptions{}); return err }, timeouts.Inspect},
			"logs": {func() error {
				var last error
				for _, err := range d.StreamLogs(ctx, env.ID, LogOptions{}) {
					last = err
				}
				return last
			}, timeouts.Pull},
		}
		var mu sync.Mutex
		results := map[string]outcome{}
		var wg sync.WaitGroup
		for name, c := range calls {
			wg.Go(func() {
				start := time.Now()
				err := c.call()
				mu.Lock()
				results[name] = outcome{err, time.Since(start)}
				mu.Unlock()
			})
		}
		wg.Wait()

		for name, c := range calls {
			r := results[name]
			if !errors.Is(r.err, ErrEngineTimeout) || errors.Is(r.err, ErrDockerUnavailable) {
				t.Errorf("%s: %v, want ENGINE_TIMEOUT", name, r.err)
				continue
			}
			if got := errorsAsAdapter(r.err).Meta["timeout"]; got != c.limit.String() {
				t.Errorf("%s: timeout in the error = %q, want %s", name, got, c.limit)
			}
			if r.elapsed > c.limit+3*time.Second {
				t.Errorf("%s returned after %s with a %s limit", name, r.elapsed, c.limit)
			}
			t.Logf("%s: ENGINE_TIMEOUT after %s", name, r.elapsed.Round(time.Millisecond))
		}
		isExec := func(cmdline string) bool { return strings.Contains(cmdline, " exec ") }
		if left := p.waitClients(2*time.Second, isExec); len(left) > 0 {
			t.Errorf("engine clients still running after their calls timed out: %v", left)
		}

		t.Run("exec", func(t *testing.T) {
			r := <-execDone
			t.Logf("Exec with a 1s timeout returned after %s: %v", r.elapsed.Round(time.Millisecond), r.err)
			if !errors.Is(r.err, ErrExecTimeout) && !errors.Is(r.err, ErrEngineTimeout) {
				t.Errorf("Exec: %v, want EXEC_TIMEOUT or ENGINE_TIMEOUT", r.err)
			}
			if r.elapsed > time.Second+timeouts.Inspect+3*time.Second {
				t.Errorf("Exec returned after %s, more than its timeout plus the %s inspect limit that bounds the kill", r.elapsed, timeouts.Inspect)
			}
		})
	})

	t.Run("provision frozen at run", func(t *testing.T) {
		freezeAt("run")
		defer p.thaw(t)
		start := time.Now()
		_, err := d.Provision(ctx, EnvConfig{Image: e2eImage(), PullPolicy: PullNever, Volumes: []VolumeMount{{Name: "v", Target: "/v"}}})
		elapsed := time.Since(start)
		e := errorsAsAdapter(err)
		if e == nil || e.Code != CodeEngineTimeout {
			t.Fatalf("Provision: %v, want ENGINE_TIMEOUT", err)
		}
		if e.Meta["timeout"] != timeouts.Create.String() || !envIDPattern.MatchString(e.EnvID) {
			t.Errorf("error %v: want the create timeout %s and the environment id", err, timeouts.Create)
		}
		if limit := timeouts.Create + 2*timeouts.Remove + 3*time.Second; elapsed > limit {
			t.Errorf("Provision returned after %s, want at most %s with its cleanup", elapsed, limit)
		}
		t.Logf("Provision: ENGINE_TIMEOUT after %s, cleanup included", elapsed.Round(time.Millisecond))
		if !strings.Contains(logs.String(), "cleanup of failed provision") {
			t.Errorf("no warning about the failed cleanup in the log")
		}

		p.thaw(t)
		_, volumes := managedObjects(t, p)
		if !volumes[e.EnvID] {
			t.Logf("no volume of %s left after the thaw", e.EnvID)
		}
		if err := d.Destroy(ctx, e.EnvID); err != nil {
			t.Fatalf("Destroy after the thaw: %v", err)
		}
		containers, volumes := managedObjects(t, p)
		if containers[e.EnvID] || volumes[e.EnvID] {
			t.Errorf("environment %s still has a container (%t) or volumes (%t) after Destroy", e.EnvID, containers[e.EnvID], volumes[e.EnvID])
		}
	})

	t.Run("snapshot frozen at commit", func(t *testing.T) {
		freezeAt("commit")
		defer p.thaw(t)
		_, err := d.Snapshot(ctx, env.ID, SnapshotOptions{Name: "frozen"})
		if e := errorsAsAdapter(err); e == nil || e.Code != CodeEngineTimeout || e.Meta["timeout"] != timeouts.Commit.String() {
			t.Fatalf("Snapshot: %v, want ENGINE_TIMEOUT after the commit timeout %s", err, timeouts.Commit)
		}
		p.thaw(t)
		if _, err := d.Snapshot(ctx, env.ID, SnapshotOptions{Name: "thawed"}); err != nil {
			t.Errorf("Snapshot after the thaw: %v", err)
		}
	})

	t.Run("destroy frozen at rm", func(t *testing.T) {
		freezeAt("rm")
		defer p.thaw(t)
		err := d.Destroy(ctx, env.ID)
		if e := errorsAsAdapter(err); e == nil || e.Code != CodeEngineTimeout || e.Meta["timeout"] != timeouts.Remove.String() {
			t.Fatalf("Destroy: %v, want ENGINE_TIMEOUT after the remove timeout %s", err, timeouts.Remove)
		}
		p.thaw(t)
		if err := d.Destroy(ctx, env.ID); err != nil {
			t.Fatalf("Destroy after the thaw: %v", err)
		}
		if _, err := d.Get(ctx, env.ID); !errors.Is(err, ErrEnvNotFound) {
			t.Errorf("Get after Destroy: %v, want ENV_NOT_FOUND", err)
		}
	})

	objs := p.objects(t)
	if len(objs.Containers) > 0 || len(objs.Volumes) > 0 {
		t.Errorf("left on the daemon: containers %q, volumes %q", objs.Containers, objs.Volumes)
	}
}

func TestE2EDaemonRestartDuringProvision(t *testing.T) {
	t.Parallel()
	p := startPrivateDaemon(t)
	ctx := context.Background()

	tests := []struct {
		name     string
		step     []string // the engine command before or during which dockerd gets SIGTERM
		inFlight bool     // SIGTERM 30 ms after the command starts, instead of before it
		useGC    bool     // clean up with GC instead of Destroy
	}{
		{"stopped before volume create", []string{"volume", "create"}, false, false},
		{"stopped while run is in flight", []string{"run"}, true, true},
		{"stopped before the inspect after run", []string{"container", "inspect"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p.socketClosed() {
				// An earlier case failed before its restart.
				p.waitExited(t, 30*time.Second)
				p.start(t)
			}
			var once sync.Once
			exe := &hookExecutor{inner: p.executor(), before: func(args []string) {
				if !argsStart(args, tt.step...) {
					return
				}
				once.Do(func() {
					if tt.inFlight {
						time.AfterFunc(30*time.Millisecond, func() { p.signal(syscall.SIGTERM) })
						return
					}
					p.signal(syscall.SIGTERM)
					for deadline := time.Now().Add(10 * time.Second); !p.socketClosed() && time.Now().Before(deadline); {
						time.Sleep(20 * time.Millisecond)
					}
				})
			}}
			logs := &syncBuffer{}
			d := p.adapter(t, Options{Executor: exe, Logger: slog.New(slog.NewTextHandler(logs, nil))})

			start := time.Now()
			env, err := d.Provision(ctx, EnvConfig{Image: e2eImage(), PullPolicy: PullNever, Volumes: []VolumeMount{{Name: "a", Target: "/a"}, {Name: "b", Target: "/b"}}})
			elapsed := time.Since(start)
			envID := env.ID
			if err == nil && tt.inFlight {
				// The run and the inspect after it finished before the
				// daemon stopped: the environment is complete.
				t.Logf("Provision finished after %s, before the daemon stopped", elapsed.Round(time.Millisecond))
			} else {
				e := errorsAsAdapter(err)
				if e == nil {
					t.Fatalf("Provision: %v, want a typed error", err)
				}
				if e.Code != CodeDockerUnavailable && e.Code != CodeProvisionFailed {
					t.Errorf("code %s, want DOCKER_UNAVAILABLE or PROVISION_FAILED", e.Code)
				}
				if !envIDPattern.MatchString(e.EnvID) {
					t.Errorf("error %v names no environment, so the caller cannot destroy what is left", err)
				}
				envID = e.EnvID
				t.Logf("Provision failed after %s: %v", elapsed.Round(time.Millisecond), err)
				if !strings.Contains(logs.String(), "cleanup of failed provision") {
					t.Errorf("no warning about the failed cleanup in the log:\n%s", logs)
				}
			}

			p.waitExited(t, 30*time.Second)
			p.start(t)

			containers, volumes := managedObjects(t, p)
			t.Logf("after the restart: container left %t, volumes left %t", containers[envID], volumes[envID])
			if tt.useGC {
				items, err := d.GC(ctx, GCOptions{OlderThan: time.Millisecond})
				if err != nil {
					t.Fatalf("GC: %v", err)
				}
				for _, it := range items {
					if it.EnvID != envID {
						t.Errorf("GC removed %s, which this provision did not create", it.EnvID)
					}
				}
			} else if err := d.Destroy(ctx, envID); err != nil {
				t.Fatalf("Destroy: %v", err)
			}
			objs := p.objects(t)
			if len(objs.Containers) > 0 || len(objs.Volumes) > 0 {
				t.Errorf("left after cleanup: containers %q, volumes %q", objs.Containers, objs.Volumes)
			}
		})
	}
}

// killRun is one kenv child killed in the middle of its work.
type killRun struct {
	mode    string        // provision, exec or snapshot
	after   string        // kill once an engine call whose argv starts with this has completed; empty counts from the "op" line
	delay   time.Duration // wait this long after the trigger
	noOwner bool
}

// killChild runs the test binary as a kenv process aimed at p, kills it with
// SIGKILL at r's trigger, and returns the last engine call it completed.
func killChild(t *testing.T, p *privateDaemon, r killRun, token string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(p.env(), childModeEnv+"="+r.mode, childTokenEnv+"="+token)
	if r.noOwner {
		cmd.Env = append(cmd.Env, childNoOwnerEnv+"=1")
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 256)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()

	last := ""
	seenOp := false
	var fire <-chan time.Time
	timeout := time.After(60 * time.Second)
wait:
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				cmd.Wait()
				t.Fatalf("child %+v exited before the kill: %s", r, stderr)
			}
			argv := engineCallArgv(line)
			if argv != "" {
				last = dockercli.CommandName(strings.Fields(argv))
			}
			if line == "op "+r.mode {
				seenOp = true
			}
			triggered := (r.after == "" && line == "op "+r.mode) || (r.after != "" && seenOp && strings.HasPrefix(argv, r.after))
			if fire == nil && triggered {
				fire = time.After(r.delay)
			}
		case <-fire:
			break wait
		case <-timeout:
			cmd.Process.Kill()
			t.Fatalf("child %+v never reached its trigger: %s", r, stderr)
		}
	}
	cmd.Process.Kill()
	for line := range lines {
		if argv := engineCallArgv(line); argv != "" {
			last = dockercli.CommandName(strings.Fields(argv))
		}
	}
	cmd.Wait()
	return last
}

// engineCallArgv returns the argv of an "engine call" log record, or "".
func engineCallArgv(line string) string {
	var rec struct {
		Msg  string `json:"msg"`
		Argv string `json:"argv"`
	}
	if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "engine call" {
		return ""
	}
	return rec.Argv
}

func TestE2EKilledKenvLeavesOnlyLabelled(t *testing.T) {
	t.Parallel()
	p := startPrivateDaemon(t)
	ctx := context.Background()
	token := newID()

	runs := []killRun{
		{mode: "provision", after: "image inspect"},
		{mode: "provision", after: "volume create"},
		{mode: "provision", after: "volume create", noOwner: true},
		{mode: "provision", delay: 150 * time.Millisecond},
		{mode: "provision", after: "run"},
		{mode: "exec", delay: 300 * time.Millisecond},
		{mode: "exec", delay: 300 * time.Millisecond, noOwner: true},
		{mode: "snapshot"},
		{mode: "snapshot", after: "commit", noOwner: true},
		{mode: "snapshot", delay: 100 * time.Millisecond},
	}
	for _, r := range runs {
		last := killChild(t, p, r, token)
		trigger := r.after
		if trigger == "" {
			trigger = "op " + r.mode
		}
		t.Logf("%s child (owner recorded %t) killed %s after %q, last completed call %q", r.mode, !r.noOwner, r.delay, trigger, last)
	}

	// Each engine client of a killed kenv runs in its own process group and
	// outlives it. Exec clients last until their container goes.
	isExec := func(cmdline string) bool { return strings.Contains(cmdline, " exec ") }
	if left := p.waitClients(60*time.Second, isExec); len(left) > 0 {
		t.Fatalf("engine clients still running a minute after the kills: %v", left)
	}

	containers, volumes := managedObjects(t, p)
	volumeOnly := 0
	for id := range volumes {
		if !containers[id] {
			volumeOnly++
		}
	}
	images := snapshotImages(t, p)
	t.Logf("left by the kills: %d environments with a container, %d with volumes only, %d snapshot images", len(containers), volumeOnly, len(images))

	d := p.adapter(t, Options{})
	items, err := d.GC(ctx, GCOptions{DryRun: true})
	if err != nil {
		t.Fatalf("GC dry run: %v", err)
	}
	for _, it := range items {
		if it.Container == "" {
			t.Errorf("GC with OlderThan 0 selected volumes %q of %s without a container, which are inside the %s grace period", it.Volumes, it.EnvID, orphanGrace)
		}
	}
	if len(items) != len(containers) {
		t.Errorf("GC with OlderThan 0 selected %d environments, want the %d with a container", len(items), len(containers))
	}

	removed := map[string]bool{}
	for _, opts := range []GCOptions{{Orphans: true}, {OlderThan: time.Millisecond}} {
		items, err := d.GC(ctx, opts)
		if err != nil {
			t.Errorf("GC %+v: %v", opts, err)
		}
		for _, it := range items {
			if !it.Removed {
				t.Errorf("GC %+v did not remove %s: %s", opts, it.EnvID, it.Error)
			}
			if opts.Orphans && it.Owner == nil {
				t.Errorf("GC with Orphans removed %s, which has no owner", it.EnvID)
			}
			removed[it.EnvID] = true
		}
		t.Logf("GC %+v removed %d environments", opts, len(items))
	}
	for id := range containers {
		if !removed[id] {
			t.Errorf("environment %s was not removed by GC", id)
		}
	}
	for id := range volumes {
		if !removed[id] {
			t.Errorf("volumes of %s were not removed by GC", id)
		}
	}

	objs := p.objects(t)
	if len(objs.Containers) > 0 || len(objs.Volumes) > 0 {
		t.Errorf("left after GC: containers %q, volumes %q", objs.Containers, objs.Volumes)
	}
	if left := p.waitClients(30*time.Second, nil); len(left) > 0 {
		t.Errorf("engine clients still running after GC: %v", left)
	}
	if len(images) > 0 {
		p.docker(t, append([]string{"image", "rm"}, images...)...)
	}
}

// snapshotImages checks that every image on the daemon but the test image
// carries kenv's snapshot labels, and returns their ids.
func snapshotImages(t *testing.T, p *privateDaemon) []string {
	t.Helper()
	testImage := p.docker(t, "image", "inspect", "--format", "{{.Id}}", e2eImage())
	var out []string
	for _, id := range p.objects(t).Images {
		if id == testImage {
			continue
		}
		data := p.docker(t, "image", "inspect", "--format", "{{json .Config.Labels}}", id)
		var labels map[string]string
		if err := json.Unmarshal([]byte(data), &labels); err != nil || labels[LabelManaged] != "true" || labels[LabelSnapshot] == "" {
			t.Errorf("image %s lacks kenv's snapshot labels: %s", id, data)
		}
		out = append(out, id)
	}
	return out
}

// sweepCase is one malformed config or request of the bad-input sweep.
type sweepCase struct {
	name     string
	call     func() error
	wantCode Code
	wantIn   string // text the error must contain, compared without case
	// bug, when set, reports whether err shows a known adapter defect and
	// describes it.
	bug func(err error) (string, bool)
}

func TestE2EBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	const sweepLabel = "kenv-reliability-sweep"
	var d *Docker
	var engine engineClient
	var objects func(t *testing.T) daemonObjects // nil on an engine that other tests share
	if filepath.Base(e2eEngine()) == "docker" {
		p := startPrivateDaemon(t)
		d = p.adapter(t, Options{})
		engine = p.run
		objects = p.objects
	} else {
		d = e2eAdapter(t)
		engine = engineRun
	}
	ctx := context.Background()
	token := newID()
	volumeName := "sw" + token

	base := func() EnvConfig {
		return EnvConfig{Image: e2eImage(), PullPolicy: PullNever, Labels: map[string]string{sweepLabel: token}}
	}
	env, err := d.Provision(ctx, base())
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}
	t.Cleanup(func() { d.Destroy(context.Background(), env.ID) })

	provisionCase := func(name string, mutate func(c *EnvConfig), code Code, wantIn string) sweepCase {
		return sweepCase{name: "provision " + name, wantCode: code, wantIn: wantIn, call: func() error {
			cfg := base()
			mutate(&cfg)
			created, err := d.Provision(ctx, cfg)
			if err == nil {
				d.Destroy(ctx, created.ID)
			}
			return err
		}}
	}
	execCase := func(name, envID string, req ExecRequest, code Code, wantIn string) sweepCase {
		return sweepCase{name: "exec " + name, wantCode: code, wantIn: wantIn, call: func() error {
			_, err := d.Exec(ctx, envID, req)
			return err
		}}
	}
	inv := CodeInvalidConfig
	huge := strings.Repeat("v", 200<<10)
	tooLong := func(err error) (string, bool) {
		return "a value over 128 KiB makes the client's execve fail with E2BIG, reported as DOCKER_UNAVAILABLE", errors.Is(err, ErrDockerUnavailable)
	}
	volume := func(name, target string) []VolumeMount { return []VolumeMount{{Name: name, Target: target}} }
	bind := func(source, target string) []BindMount { return []BindMount{{Source: source, Target: target}} }

	cases := []sweepCase{
		provisionCase("empty image", func(c *EnvConfig) { c.Image = "" }, inv, "image is empty"),
		provisionCase("uppercase image", func(c *EnvConfig) { c.Image = "BusyBox" }, inv, `"BusyBox"`),
		provisionCase("image like a flag", func(c *EnvConfig) { c.Image = "--privileged" }, inv, `"--privileged"`),
		provisionCase("image with a space", func(c *EnvConfig) { c.Image = "busy box" }, inv, `"busy box"`),
		provisionCase("image with two tags", func(c *EnvConfig) { c.Image = "busybox:1:2" }, inv, `"busybox:1:2"`),
		provisionCase("image with a short digest", func(c *EnvConfig) { c.Image = "busybox@sha256:abc" }, inv, `"busybox@sha256:abc"`),
		provisionCase("image tag of 129 characters", func(c *EnvConfig) { c.Image = "busybox:" + strings.Repeat("a", 129) }, inv, "invalid image reference"),
		provisionCase("image name of 300 characters", func(c *EnvConfig) { c.Image = strings.Repeat("a", 300) }, inv, "longer than 255"),
		provisionCase("image with a newline", func(c *EnvConfig) { c.Image = "busybox\n" }, inv, `"busybox\n"`),
		provisionCase("image with NUL", func(c *EnvConfig) { c.Image = "busybox\x00" }, inv, `"busybox\x00"`),
		provisionCase("memory word", func(c *EnvConfig) { c.Memory = "lots" }, inv, `"lots"`),
		provisionCase("memory negative", func(c *EnvConfig) { c.Memory = "-1g" }, inv, `"-1g"`),
		provisionCase("memory below minimum", func(c *EnvConfig) { c.Memory = "1m" }, inv, `"1m"`),
		provisionCase("memory zero", func(c *EnvConfig) { c.Memory = "0" }, inv, `"0"`),
		provisionCase("memory huge", func(c *EnvConfig) { c.Memory = "99999999999p" }, inv, `"99999999999p"`),
		provisionCase("memory two dots", func(c *EnvConfig) { c.Memory = "1.5.5g" }, inv, `"1.5.5g"`),
		provisionCase("memory exponent", func(c *EnvConfig) { c.Memory = "1e9" }, inv, `"1e9"`),
		provisionCase("cpus negative", func(c *EnvConfig) { c.CPUs = "-1" }, inv, `"-1"`),
		provisionCase("cpus zero", func(c *EnvConfig) { c.CPUs = "0" }, inv, `"0"`),
		provisionCase("cpus NaN", func(c *EnvConfig) { c.CPUs = "NaN" }, inv, `"NaN"`),
		provisionCase("cpus infinite", func(c *EnvConfig) { c.CPUs = "Inf" }, inv, `"Inf"`),
		provisionCase("cpus overflow", func(c *EnvConfig) { c.CPUs = "1e400" }, inv, `"1e400"`),
		provisionCase("cpus above 4096", func(c *EnvConfig) { c.CPUs = "4097" }, inv, `"4097"`),
		provisionCase("env name with equals", func(c *EnvConfig) { c.Env = map[string]string{"A=B": "x"} }, inv, `"A=B"`),
		provisionCase("env name empty", func(c *EnvConfig) { c.Env = map[string]string{"": "x"} }, inv, `name ""`),
		provisionCase("env name starting with a digit", func(c *EnvConfig) { c.Env = map[string]string{"1ABC": "x"} }, inv, `"1ABC"`),
		provisionCase("env name with NUL", func(c *EnvConfig) { c.Env = map[string]string{"A\x00B": "x"} }, inv, `"A\x00B"`),
		provisionCase("env name with a space", func(c *EnvConfig) { c.Env = map[string]string{"MY VAR": "x"} }, inv, `"MY VAR"`),
		provisionCase("env value with NUL", func(c *EnvConfig) { c.Env = map[string]string{"TOKEN": "x\x00y"} }, inv, "TOKEN"),
		func() sweepCase {
			c := provisionCase("env value of 200 KiB", func(c *EnvConfig) { c.Env = map[string]string{"BIG": huge} }, inv, "BIG")
			c.bug = tooLong
			return c
		}(),
		provisionCase("volume target relative", func(c *EnvConfig) { c.Volumes = volume("d", "data") }, inv, `"data"`),
		provisionCase("volume target empty", func(c *EnvConfig) { c.Volumes = volume("d", "") }, inv, "target is empty"),
		provisionCase("volume target root", func(c *EnvConfig) { c.Volumes = volume("d", "/") }, inv, `"/"`),
		provisionCase("volume target cleaning to root", func(c *EnvConfig) { c.Volumes = volume("d", "/a/..") }, inv, `"/a/.."`),
		provisionCase("volume target with a comma", func(c *EnvConfig) { c.Volumes = volume("d", "/a,b") }, inv, `"/a,b"`),
		provisionCase("volume name with a slash", func(c *EnvConfig) { c.Volumes = volume("../x", "/x") }, inv, `"../x"`),
		provisionCase("volume name empty", func(c *EnvConfig) { c.Volumes = volume("", "/x") }, inv, `name ""`),
		provisionCase("volume name twice", func(c *EnvConfig) {
			c.Volumes = []VolumeMount{{Name: "d", Target: "/a"}, {Name: "d", Target: "/b"}}
		}, inv, `"d" is used twice`),
		provisionCase("mount target twice", func(c *EnvConfig) {
			c.Volumes = volume("d", "/data")
			c.Binds = bind("/srv", "/data/")
		}, inv, `"/data/" is used twice`),
		provisionCase("volume targets equal after cleaning", func(c *EnvConfig) {
			c.Volumes = []VolumeMount{{Name: "a", Target: "/x"}, {Name: "b", Target: "/x/./"}}
		}, inv, "used twice"),
		provisionCase("bind source empty", func(c *EnvConfig) { c.Binds = bind("", "/x") }, inv, "bind source is empty"),
		provisionCase("bind source relative", func(c *EnvConfig) { c.Binds = bind("srv", "/x") }, inv, `"srv"`),
		provisionCase("bind source with a comma", func(c *EnvConfig) { c.Binds = bind("/a,b", "/x") }, inv, `"/a,b"`),
		provisionCase("bind target relative", func(c *EnvConfig) { c.Binds = bind("/srv", "x") }, inv, `"x"`),
		provisionCase("bind of the docker socket", func(c *EnvConfig) { c.Binds = bind("/var/run/docker.sock", "/var/run/docker.sock") }, inv, `"/var/run/docker.sock"`),
		provisionCase("bind of /run", func(c *EnvConfig) { c.Binds = bind("/run", "/hostrun") }, inv, `"/run"`),
		provisionCase("bind of the host root", func(c *EnvConfig) { c.Binds = bind("/", "/host") }, inv, `"/"`),
		provisionCase("label kenv.managed", func(c *EnvConfig) { c.Labels[LabelManaged] = "false" }, inv, `"kenv.managed"`),
		provisionCase("label kenv.env", func(c *EnvConfig) { c.Labels[LabelEnv] = "abcdabcdabcd" }, inv, `"kenv.env"`),
		provisionCase("label kenv.owner.pid", func(c *EnvConfig) { c.Labels[LabelOwnerPID] = "1" }, inv, `"kenv.owner.pid"`),
		provisionCase("label key empty", func(c *EnvConfig) { c.Labels[""] = "x" }, inv, "label key is empty"),
		provisionCase("label key with equals", func(c *EnvConfig) { c.Labels["a=b"] = "x" }, inv, `"a=b"`),
		provisionCase("label key with spaces around", func(c *EnvConfig) { c.Labels[" padded "] = "x" }, inv, `" padded "`),
		provisionCase("label value with NUL", func(c *EnvConfig) { c.Labels["team"] = "a\x00b" }, inv, `"team"`),
		provisionCase("label value with a newline", func(c *EnvConfig) { c.Labels["team"] = "a\nb" }, inv, `"team"`),
		provisionCase("pull policy unknown", func(c *EnvConfig) { c.PullPolicy = "sometimes" }, inv, `"sometimes"`),
		provisionCase("command with an empty program", func(c *EnvConfig) { c.Command = []string{""} }, inv, "first element is empty"),
		provisionCase("command argument with NUL", func(c *EnvConfig) { c.Command = []string{"sh", "a\x00b"} }, inv, `"a\x00b"`),
		provisionCase("allowed hosts", func(c *EnvConfig) { c.AllowedHosts = []string{"example.com"} }, CodeUnsupportedNetworkPolicy, "AllowedHosts"),
		provisionCase("allowed ports", func(c *EnvConfig) { c.AllowedPorts = []int{443} }, CodeUnsupportedNetworkPolicy, "AllowedPorts"),
		provisionCase("owner pid negative", func(c *EnvConfig) { c.Owner = &Owner{Host: "h", PID: -1, Start: "1"} }, inv, "PID:-1"),
		provisionCase("owner host empty", func(c *EnvConfig) { c.Owner = &Owner{PID: 1, Start: "1"} }, inv, "invalid owner"),

		// Values that pass validation but that the engine rejects: the
		// volume this call creates first must go with the failure.
		provisionCase("bind source missing", func(c *EnvConfig) {
			c.Volumes = volume(volumeName, "/v")
			c.Binds = bind("/nonexistent/kenv-sweep", "/x")
		}, CodeProvisionFailed, "/nonexistent/kenv-sweep"),
		provisionCase("volume over /proc", func(c *EnvConfig) { c.Volumes = volume(volumeName, "/proc") }, CodeProvisionFailed, "/proc"),

		execCase("id like a flag", "--rm", ExecRequest{Argv: []string{"true"}}, inv, `"--rm"`),
		execCase("id like a short flag", "-h", ExecRequest{Argv: []string{"true"}}, inv, `"-h"`),
		execCase("id with the container prefix", "kenv-abcd", ExecRequest{Argv: []string{"true"}}, inv, `"kenv-abcd"`),
		execCase("id empty", "", ExecRequest{Argv: []string{"true"}}, inv, `id ""`),
		execCase("id uppercase", "ABCD1234", ExecRequest{Argv: []string{"true"}}, inv, `"ABCD1234"`),
		{name: "destroy id like a flag", wantCode: inv, wantIn: `"--rm"`, call: func() error { return d.Destroy(ctx, "--rm") }},
		{name: "snapshot id like a flag", wantCode: inv, wantIn: `"--rm"`, call: func() error { _, err := d.Snapshot(ctx, "--rm", SnapshotOptions{}); return err }},
		{name: "get id like a flag", wantCode: inv, wantIn: `"--all"`, call: func() error { _, err := d.Get(ctx, "--all"); return err }},
		{name: "logs id like a flag", wantCode: inv, wantIn: `"--follow"`, call: func() error {
			var last error
			for _, err := range d.StreamLogs(ctx, "--follow", LogOptions{}) {
				last = err
			}
			return last
		}},
		{name: "snapshot name with a newline", wantCode: inv, wantIn: `"a\nb"`, call: func() error {
			_, err := d.Snapshot(ctx, env.ID, SnapshotOptions{Name: "a\nb"})
			return err
		}},
		{name: "snapshot name of 2000 bytes", wantCode: inv, wantIn: "2000 bytes", call: func() error {
			_, err := d.Snapshot(ctx, env.ID, SnapshotOptions{Name: strings.Repeat("n", 2000)})
			return err
		}},
		execCase("empty argv", env.ID, ExecRequest{}, inv, "command is empty"),
		execCase("empty program", env.ID, ExecRequest{Argv: []string{""}}, inv, "Argv[0]"),
		execCase("argv and shell", env.ID, ExecRequest{Argv: []string{"ls"}, Shell: "ls"}, inv, "both Argv and Shell"),
		execCase("argument with NUL", env.ID, ExecRequest{Argv: []string{"echo", "a\x00b"}}, inv, `"a\x00b"`),
		execCase("relative workdir", env.ID, ExecRequest{Argv: []string{"ls"}, WorkDir: "tmp"}, inv, `"tmp"`),
		execCase("env name with equals", env.ID, ExecRequest{Argv: []string{"ls"}, Env: map[string]string{"A=B": "x"}}, inv, `"A=B"`),
		execCase("env value with NUL", env.ID, ExecRequest{Argv: []string{"ls"}, Env: map[string]string{"TOKEN": "a\x00b"}}, inv, "TOKEN"),
		execCase("negative timeout", env.ID, ExecRequest{Argv: []string{"ls"}, Timeout: -time.Second}, inv, "-1s"),
		execCase("user with a newline", env.ID, ExecRequest{Argv: []string{"ls"}, User: "root\nx"}, inv, `"root\nx"`),
		func() sweepCase {
			c := execCase("env value of 200 KiB", env.ID, ExecRequest{Argv: []string{"true"}, Env: map[string]string{"BIG": huge}}, inv, "BIG")
			c.bug = tooLong
			return c
		}(),

		// Requests that reach the engine, which rejects them.
		execCase("program like a flag", env.ID, ExecRequest{Argv: []string{"--privileged"}}, CodeExecFailed, `"--privileged"`),
		execCase("user missing from the image", env.ID, ExecRequest{Argv: []string{"true"}, User: "nosuchuser"}, CodeExecFailed, "nosuchuser"),
		execCase("workdir missing", env.ID, ExecRequest{Argv: []string{"true"}, WorkDir: "/nonexistent"}, CodeExecFailed, "/nonexistent"),
	}
	if filepath.Base(e2eEngine()) == "docker" {
		// Podman 4.3 accepts a --cpus value above the host's CPU count.
		cpus := strconv.Itoa(runtime.NumCPU() + 1)
		cases = append(cases, provisionCase("cpus above the host's count", func(c *EnvConfig) {
			c.CPUs = cpus
			c.Volumes = volume(volumeName, "/v")
		}, CodeProvisionFailed, "CPUs"))
	}

	var before daemonObjects
	if objects != nil {
		before = objects(t)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			e := errorsAsAdapter(err)
			if tc.bug != nil {
				if defect, ok := tc.bug(err); ok {
					knownBug(t, "%s: %v", defect, err)
				}
			}
			if e == nil {
				t.Fatalf("error = %v, want %s", err, tc.wantCode)
			}
			if e.Code != tc.wantCode {
				t.Errorf("code = %s, want %s (error %v)", e.Code, tc.wantCode, err)
			}
			if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tc.wantIn)) {
				t.Errorf("error %q does not name %q", err, tc.wantIn)
			}
		})
	}

	if objects != nil {
		after := objects(t)
		for _, kind := range []struct {
			name          string
			before, after []string
		}{
			{"containers", before.Containers, after.Containers},
			{"volumes", before.Volumes, after.Volumes},
			{"images", before.Images, after.Images},
		} {
			if !slices.Equal(slices.Sorted(slices.Values(kind.before)), slices.Sorted(slices.Values(kind.after))) {
				t.Errorf("%s changed over the sweep: before %q, after %q", kind.name, kind.before, kind.after)
			}
		}
	}
	// On a shared engine only what carries this sweep's label or volume name
	// can come from the sweep: everything but the one environment must be gone.
	containers := strings.Fields(engine.must(t, "ps", "--all", "--quiet", "--no-trunc", "--filter", "label="+sweepLabel+"="+token))
	if len(containers) != 1 || !strings.HasPrefix(containers[0], env.ContainerID[:12]) {
		t.Errorf("containers with the sweep's label = %q, want only the sweep's environment %s", containers, env.ContainerID)
	}
	for _, v := range strings.Fields(engine.must(t, "volume", "ls", "--quiet")) {
		if strings.HasSuffix(v, "-"+volumeName) {
			t.Errorf("volume %s left by the sweep", v)
		}
	}
	t.Logf("%d malformed configs and requests", len(cases))
}

func TestE2EEngineSocketRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if filepath.Base(e2eEngine()) != "docker" {
		d := e2eAdapter(t)
		_, err := d.Provision(ctx, EnvConfig{Image: e2eImage(), PullPolicy: PullNever, Binds: []BindMount{{Source: "/run/podman/podman.sock", Target: "/run/podman/podman.sock"}}})
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "AllowEngineSocket") {
			t.Errorf("Provision with Podman's socket: %v, want INVALID_CONFIG naming AllowEngineSocket", err)
		}
		return
	}
	p := startPrivateDaemon(t)
	d := p.adapter(t, Options{})
	own := strings.TrimPrefix(p.host, "unix://")

	t.Run("host's docker socket", func(t *testing.T) {
		_, err := d.Provision(ctx, EnvConfig{Image: e2eImage(), PullPolicy: PullNever, Binds: []BindMount{{Source: "/var/run/docker.sock", Target: "/var/run/docker.sock"}}})
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "AllowEngineSocket") {
			t.Errorf("Provision: %v, want INVALID_CONFIG naming AllowEngineSocket", err)
		}
	})

	t.Run("allowed when opted in", func(t *testing.T) {
		env, err := d.Provision(ctx, EnvConfig{Image: e2eImage(), PullPolicy: PullNever, AllowEngineSocket: true,
			Binds: []BindMount{{Source: own, Target: "/var/run/docker.sock"}}})
		if err != nil {
			t.Fatalf("Provision with AllowEngineSocket: %v", err)
		}
		defer d.Destroy(ctx, env.ID)
		res, err := d.Exec(ctx, env.ID, ExecRequest{Argv: []string{"test", "-S", "/var/run/docker.sock"}})
		if err != nil || res.ExitCode != 0 {
			t.Errorf("socket inside the environment: exit %d, %v; want a socket", res.ExitCode, err)
		}
	})

	for _, source := range []string{own, p.dir} {
		t.Run("daemon's own socket "+filepath.Base(source), func(t *testing.T) {
			// DOCKER_HOST reaches the client through OSExecutor.Env, as in
			// every adapter aimed at another daemon.
			env, err := d.Provision(ctx, EnvConfig{Image: e2eImage(), PullPolicy: PullNever, Binds: []BindMount{{Source: source, Target: "/engine"}}})
			if err == nil {
				d.Destroy(ctx, env.ID)
				knownBug(t, "a bind of %s, which contains the socket of the daemon the adapter drives (DOCKER_HOST in OSExecutor.Env), is not refused; engineSocketPaths reads DOCKER_HOST only from kenv's own environment", source)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("Provision: %v, want INVALID_CONFIG", err)
			}
		})
	}
}

func TestE2EForeignLookalikesSurvive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var d *Docker
	var engine engineClient
	// On a private daemon GC may remove everything kenv manages; on an
	// engine that other tests share it only reports what it would remove.
	realGC := false
	if filepath.Base(e2eEngine()) == "docker" {
		p := startPrivateDaemon(t)
		d = p.adapter(t, Options{})
		engine = p.run
		realGC = true
	} else {
		d = e2eAdapter(t)
		engine = engineRun
	}

	// Each lookalike carries kenv's names and some, not all, of its labels.
	type lookalike struct {
		id     string
		labels []string
	}
	host, _ := os.Hostname()
	lookalikes := []lookalike{
		{newID(), []string{LabelEnv + "=%s"}},
		{newID(), []string{LabelManaged + "=true"}},
		{newID(), []string{LabelManaged + "=false", LabelEnv + "=%s"}},
		{newID(), []string{LabelManaged + "=True", LabelEnv + "=%s", LabelVersion + "=" + Version}},
		{newID(), []string{LabelManaged + "=true", LabelEnv + "=NOT-AN-ID", LabelOwnerHost + "=" + host, LabelOwnerPID + "=999999", LabelOwnerStart + "=1"}},
	}
	var containers, volumes []string
	for _, l := range lookalikes {
		var args []string
		for _, label := range l.labels {
			if strings.Contains(label, "%s") {
				label = fmt.Sprintf(label, l.id)
			}
			args = append(args, "--label", label)
		}
		name := containerName(l.id)
		engine.must(t, append(append([]string{"create", "--name", name}, args...), e2eImage(), "sleep", "300")...)
		containers = append(containers, name)
		vol := volumeName(l.id, "data")
		engine.must(t, append(append([]string{"volume", "create"}, args...), vol)...)
		volumes = append(volumes, vol)
	}
	t.Cleanup(func() {
		engine(append([]string{"rm", "--force"}, containers...)...)
		engine(append([]string{"volume", "rm"}, volumes...)...)
	})
	real, err := d.Provision(ctx, EnvConfig{Image: e2eImage(), PullPolicy: PullNever, Volumes: []VolumeMount{{Name: "data", Target: "/data"}}})
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}
	t.Cleanup(func() { d.Destroy(context.Background(), real.ID) })

	for _, l := range lookalikes {
		if err := d.Destroy(ctx, l.id); err != nil {
			t.Errorf("Destroy(%s): %v", l.id, err)
		}
	}
	items, err := d.GC(ctx, GCOptions{DryRun: true, OlderThan: 0})
	if err != nil {
		t.Fatalf("GC dry run: %v", err)
	}
	for _, it := range items {
		for _, l := range lookalikes {
			if it.EnvID == l.id || slices.Contains(it.Volumes, volumeName(l.id, "data")) {
				t.Errorf("GC selects the lookalike %s: %+v", l.id, it)
			}
		}
	}
	if !slices.ContainsFunc(items, func(it GCItem) bool { return it.EnvID == real.ID }) {
		t.Errorf("GC dry run does not select the real environment %s, so the check proves nothing", real.ID)
	}
	if realGC {
		for _, opts := range []GCOptions{{}, {OlderThan: time.Nanosecond}, {Orphans: true}} {
			if _, err := d.GC(ctx, opts); err != nil {
				t.Errorf("GC %+v: %v", opts, err)
			}
		}
		if _, err := d.Get(ctx, real.ID); !errors.Is(err, ErrEnvNotFound) {
			t.Errorf("real environment after GC: %v, want it removed", err)
		}
	}

	for _, name := range containers {
		if _, err := engine("container", "inspect", name); err != nil {
			t.Errorf("lookalike container %s is gone: %v", name, err)
		}
	}
	for _, name := range volumes {
		if _, err := engine("volume", "inspect", name); err != nil {
			t.Errorf("lookalike volume %s is gone: %v", name, err)
		}
	}
}

// engineClient runs an engine's client for a test, the private daemon's or
// the end-to-end engine's, and returns its trimmed combined output.
type engineClient func(args ...string) (string, error)

// must runs the client and fails the test when it fails.
func (c engineClient) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestE2EConcurrentDestroySucceeds(t *testing.T) {
	t.Parallel()
	d := e2eAdapter(t)
	ctx := context.Background()
	env := provisionE2E(t, d, EnvConfig{PullPolicy: PullNever, Volumes: []VolumeMount{{Name: "v", Target: "/v"}}})

	// Two kenv processes that run GC, or GC and a Destroy, at the same time
	// remove the same environment at once.
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { errs[i] = d.Destroy(ctx, env.ID) })
	}
	wg.Wait()

	if got := engineOutput(t, "ps", "--all", "--quiet", "--filter", "label="+LabelEnv+"="+env.ID); got != "" {
		t.Errorf("container left after the concurrent Destroy calls: %q", got)
	}
	var inProgress []error
	for i, err := range errs {
		if err != nil && strings.Contains(err.Error(), "already in progress") {
			inProgress = append(inProgress, err)
			continue
		}
		if err != nil {
			t.Errorf("Destroy #%d: %v", i+1, err)
		}
	}
	if err := d.Destroy(ctx, env.ID); err != nil {
		t.Errorf("Destroy after the concurrent calls: %v", err)
	}
	if got := engineOutput(t, "volume", "ls", "--quiet", "--filter", "label="+LabelEnv+"="+env.ID); got != "" {
		t.Errorf("volumes left after Destroy: %q", got)
	}
	if len(inProgress) > 0 {
		knownBug(t, "%d of %d concurrent Destroy calls failed with DESTROY_FAILED because Docker reports \"removal of container ... is already in progress\" (%v); removeTolerant should wait for that removal to finish and count it as success", len(inProgress), len(errs), inProgress[0])
	}
}

func TestE2ECanceledProvisionLeavesNothing(t *testing.T) {
	t.Parallel()
	d := e2eAdapter(t)
	const labelKey = "kenv-reliability-cancel"
	token := newID()
	volumeName := "cancel" + token

	// The engine client is killed when ctx ends, but the daemon may finish a
	// request it already received; Provision's cleanup must still win.
	delays := []time.Duration{20 * time.Millisecond, 60 * time.Millisecond, 120 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 450 * time.Millisecond}
	var wg sync.WaitGroup
	for _, delay := range delays {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), delay)
			defer cancel()
			env, err := d.Provision(ctx, EnvConfig{Image: e2eImage(), PullPolicy: PullNever,
				Labels: map[string]string{labelKey: token}, Volumes: []VolumeMount{{Name: volumeName, Target: "/v"}}})
			if err == nil {
				// Provision finished inside the delay.
				d.Destroy(context.Background(), env.ID)
				return
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Provision canceled after %s: %v, want an error wrapping the deadline", delay, err)
			}
		})
	}
	wg.Wait()

	// Requests the daemon received before the clients were killed may still
	// complete for a moment.
	time.Sleep(3 * time.Second)
	var leaks []string
	for _, id := range strings.Fields(engineOutput(t, "ps", "--all", "--quiet", "--filter", "label="+labelKey+"="+token)) {
		managed := engineOutput(t, "container", "inspect", "--format", `{{index .Config.Labels "kenv.managed"}}`, id)
		leaks = append(leaks, fmt.Sprintf("container %s (kenv.managed=%q)", id, managed))
		engineRun("rm", "--force", id)
	}
	for _, v := range strings.Fields(engineOutput(t, "volume", "ls", "--quiet")) {
		if strings.HasSuffix(v, "-"+volumeName) {
			managed := engineOutput(t, "volume", "inspect", "--format", `{{index .Labels "kenv.managed"}}`, v)
			leaks = append(leaks, fmt.Sprintf("volume %s (kenv.managed=%q)", v, managed))
			engineRun("volume", "rm", v)
		}
	}
	if len(leaks) > 0 {
		// A volume without labels comes from a run that the daemon completed
		// after the cleanup had removed the volume: --mount then creates it
		// anew, with no labels, where no Destroy or GC finds it.
		knownBug(t, "canceled provisions left %q: Provision records a volume for cleanup only after `volume create` returns, and removes the container once before the volumes, so a create or run that the daemon completes after the client was killed is never removed; record each name before its create, repeat the container removal until a listing by the env label stays empty, then remove the volumes by name", leaks)
	}
}

func TestE2EListingDuringConcurrentDestroy(t *testing.T) {
	t.Parallel()
	d := e2eAdapter(t)
	ctx := context.Background()
	const labelKey = "kenv-reliability-churn"
	token := newID()
	volumeName := "churn" + token
	// GC and List through a scoped executor inspect only this test's
	// environments, so each listing is quick, but the engine's listing
	// commands still run over every managed object.
	lister, err := New(Options{Engine: e2eEngine(), Executor: &scopedExecutor{
		inner:        &dockercli.OSExecutor{Binary: e2eEngine()},
		scope:        labelKey + "=" + token,
		volumeSuffix: "-" + volumeName,
	}})
	if err != nil {
		t.Fatal(err)
	}

	// Workers provision and destroy environments with a volume while the
	// test lists: GC and List must not fail because an object they listed
	// went away, as it does when other kenv processes work at the same time.
	stop := make(chan struct{})
	var workers sync.WaitGroup
	for w := 0; w < 6; w++ {
		workers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				env, err := d.Provision(ctx, EnvConfig{Image: e2eImage(), PullPolicy: PullNever,
					Labels: map[string]string{labelKey: token}, Volumes: []VolumeMount{{Name: volumeName, Target: "/v"}}})
				if err != nil {
					t.Errorf("Provision: %v", err)
					return
				}
				if err := d.Destroy(ctx, env.ID); err != nil {
					t.Errorf("Destroy: %v", err)
					return
				}
			}
		})
	}

	var failures []error
	deadline := time.Now().Add(8 * time.Second)
	listings := 0
	for ; time.Now().Before(deadline); listings++ {
		if _, err := lister.GC(ctx, GCOptions{DryRun: true}); err != nil {
			failures = append(failures, err)
		}
		if _, err := lister.List(ctx); err != nil {
			failures = append(failures, err)
		}
	}
	close(stop)
	workers.Wait()
	t.Logf("%d GC dry runs and List calls during the churn, %d failed", listings, len(failures))

	if got := engineOutput(t, "ps", "--all", "--quiet", "--filter", "label="+labelKey+"="+token); got != "" {
		t.Errorf("containers left by the churn: %q", strings.Fields(got))
	}
	var vanished []error
	for _, err := range failures {
		if strings.Contains(err.Error(), "no such volume") || strings.Contains(err.Error(), "no volume with name") {
			vanished = append(vanished, err)
			continue
		}
		t.Errorf("listing during the churn: %v", err)
	}
	if len(vanished) > 0 {
		knownBug(t, "%d of %d listings failed because a volume was removed while the engine listed it (%v); Podman 4.3's `volume ls --filter` fails then, and listNames should retry a listing that fails with FailureNotFound", len(vanished), 2*listings, vanished[0])
	}
}
