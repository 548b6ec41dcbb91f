package adapter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kenv/kenv/dockercli"
)

// The end-to-end tests run against a real engine when KENV_DOCKER_E2E=1.
// KENV_E2E_ENGINE names the client (default docker) and KENV_E2E_IMAGE the
// local test image (default kenv-test/busybox:latest, built by
// `make testimage`). With KENV_DOCKER_E2E=1 a missing engine fails the tests
// instead of skipping them.

func e2eEngine() string {
	if e := os.Getenv("KENV_E2E_ENGINE"); e != "" {
		return e
	}
	return "docker"
}

func e2eImage() string {
	if i := os.Getenv("KENV_E2E_IMAGE"); i != "" {
		return i
	}
	return "kenv-test/busybox:latest"
}

// e2eAdapter returns an adapter for the real engine, or skips the test when
// KENV_DOCKER_E2E is not set.
func e2eAdapter(t *testing.T) *Docker {
	t.Helper()
	if os.Getenv("KENV_DOCKER_E2E") != "1" {
		t.Skip("set KENV_DOCKER_E2E=1 to run end-to-end tests against a real engine")
	}
	if _, err := exec.LookPath(e2eEngine()); err != nil {
		t.Fatalf("KENV_DOCKER_E2E=1 but the engine %q is missing: %v", e2eEngine(), err)
	}
	d, err := New(Options{Engine: e2eEngine()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d
}

// engineOutput runs the engine client directly, for checks that must not go
// through the adapter.
func engineOutput(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(e2eEngine(), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", e2eEngine(), strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// provisionE2E provisions cfg and destroys it when the test ends.
func provisionE2E(t *testing.T, d *Docker, cfg EnvConfig) Environment {
	t.Helper()
	if cfg.Image == "" {
		cfg.Image = e2eImage()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env, err := d.Provision(ctx, cfg)
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Destroy(context.Background(), env.ID); err != nil {
			t.Errorf("Destroy in cleanup: %v", err)
		}
	})
	return env
}

func execE2E(t *testing.T, d *Docker, envID string, req ExecRequest) ExecResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := d.Exec(ctx, envID, req)
	if err != nil {
		t.Fatalf("Exec(%q): %v", req.Argv, err)
	}
	return res
}

func TestE2ELifecycle(t *testing.T) {
	t.Parallel()
	d := e2eAdapter(t)
	ctx := context.Background()

	env := provisionE2E(t, d, EnvConfig{
		CPUs:    "0.5",
		Memory:  "64m",
		Env:     map[string]string{"GREETING": "hello world", "MULTI": "a\nb"},
		Volumes: []VolumeMount{{Name: "data", Target: "/data"}},
		Labels:  map[string]string{"suite": "e2e,lifecycle=1"},
	})
	if env.State != StateRunning {
		t.Errorf("state = %s, want running", env.State)
	}
	if env.CreatedAt.IsZero() || time.Since(env.CreatedAt) > 10*time.Minute {
		t.Errorf("created at %v, want about now", env.CreatedAt)
	}
	if env.Labels["suite"] != "e2e,lifecycle=1" || env.Labels[LabelManaged] != "true" || env.Labels[LabelEnv] != env.ID {
		t.Errorf("labels = %v, want the caller's and kenv's", env.Labels)
	}

	t.Run("limits visible in inspect", func(t *testing.T) {
		got := engineOutput(t, "container", "inspect", "--format", "{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}", env.ContainerID)
		if got != "500000000 67108864" {
			t.Errorf("NanoCpus Memory = %q, want %q", got, "500000000 67108864")
		}
	})

	t.Run("env reaches exec", func(t *testing.T) {
		res := execE2E(t, d, env.ID, ExecRequest{Shell: `printf '%s|%s' "$GREETING" "$MULTI"`})
		if string(res.Stdout) != "hello world|a\nb" {
			t.Errorf("stdout = %q, want %q", res.Stdout, "hello world|a\nb")
		}
	})

	t.Run("exit codes and streams apart", func(t *testing.T) {
		res := execE2E(t, d, env.ID, ExecRequest{Shell: "echo out; echo err >&2; exit 7"})
		if res.ExitCode != 7 || string(res.Stdout) != "out\n" || string(res.Stderr) != "err\n" {
			t.Errorf("got exit %d stdout %q stderr %q, want 7, %q, %q", res.ExitCode, res.Stdout, res.Stderr, "out\n", "err\n")
		}
	})

	t.Run("argv verbatim", func(t *testing.T) {
		args := []string{" a b", "it's", "$HOME", "line1\nline2", "--", `"quoted"`, "*"}
		res := execE2E(t, d, env.ID, ExecRequest{Argv: append([]string{"printf", "%s|"}, args...)})
		want := strings.Join(args, "|") + "|"
		if string(res.Stdout) != want {
			t.Errorf("stdout = %q, want %q", res.Stdout, want)
		}
	})

	t.Run("stdin", func(t *testing.T) {
		res := execE2E(t, d, env.ID, ExecRequest{Argv: []string{"wc", "-c"}, Stdin: strings.NewReader(strings.Repeat("x", 100000))})
		if strings.TrimSpace(string(res.Stdout)) != "100000" {
			t.Errorf("wc -c of stdin = %q, want 100000", res.Stdout)
		}
	})

	t.Run("workdir user env", func(t *testing.T) {
		res := execE2E(t, d, env.ID, ExecRequest{Shell: `echo "$(pwd) $(id -u) $EXTRA"`, WorkDir: "/tmp", User: "65534", Env: map[string]string{"EXTRA": "x y"}})
		if string(res.Stdout) != "/tmp 65534 x y\n" {
			t.Errorf("stdout = %q, want %q", res.Stdout, "/tmp 65534 x y\n")
		}
	})

	t.Run("volume is writable", func(t *testing.T) {
		res := execE2E(t, d, env.ID, ExecRequest{Shell: "echo kept > /data/f && cat /data/f"})
		if string(res.Stdout) != "kept\n" {
			t.Errorf("stdout = %q, want %q", res.Stdout, "kept\n")
		}
	})

	t.Run("missing program is an engine error", func(t *testing.T) {
		_, err := d.Exec(ctx, env.ID, ExecRequest{Argv: []string{"no-such-program"}})
		if !errors.Is(err, ErrExecFailed) {
			t.Errorf("error = %v, want EXEC_FAILED", err)
		}
	})

	t.Run("second adapter sees it", func(t *testing.T) {
		other, err := New(Options{Engine: e2eEngine()})
		if err != nil {
			t.Fatal(err)
		}
		got, err := other.Get(ctx, env.ID)
		if err != nil || got.ContainerID != env.ContainerID {
			t.Fatalf("Get from a second adapter = %+v, %v; want container %s", got, err, env.ContainerID)
		}
		res, err := other.Exec(ctx, env.ID, ExecRequest{Argv: []string{"cat", "/data/f"}})
		if err != nil || string(res.Stdout) != "kept\n" {
			t.Errorf("Exec from a second adapter = %q, %v", res.Stdout, err)
		}
		list, err := other.List(ctx)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if !slices.ContainsFunc(list, func(e Environment) bool { return e.ID == env.ID }) {
			t.Errorf("List does not include %s", env.ID)
		}
	})
}

func TestE2EDestroyRemovesEverything(t *testing.T) {
	t.Parallel()
	d := e2eAdapter(t)
	ctx := context.Background()

	env, err := d.Provision(ctx, EnvConfig{Image: e2eImage(), Volumes: []VolumeMount{{Name: "a", Target: "/a"}, {Name: "b", Target: "/b"}}})
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if got := engineOutput(t, "volume", "ls", "--quiet", "--filter", "label=kenv.env="+env.ID); len(strings.Fields(got)) != 2 {
		t.Fatalf("volumes before destroy = %q, want two", got)
	}

	for i := 0; i < 2; i++ {
		if err := d.Destroy(ctx, env.ID); err != nil {
			t.Fatalf("Destroy #%d: %v", i+1, err)
		}
	}
	if got := engineOutput(t, "ps", "--all", "--quiet", "--filter", "label=kenv.env="+env.ID); got != "" {
		t.Errorf("containers after destroy = %q, want none", got)
	}
	if got := engineOutput(t, "volume", "ls", "--quiet", "--filter", "label=kenv.env="+env.ID); got != "" {
		t.Errorf("volumes after destroy = %q, want none", got)
	}
	if _, err := d.Exec(ctx, env.ID, ExecRequest{Argv: []string{"true"}}); !errors.Is(err, ErrEnvNotFound) {
		t.Errorf("Exec after destroy: %v, want ENV_NOT_FOUND", err)
	}
}

func TestE2ENoInternet(t *testing.T) {
	t.Parallel()
	d := e2eAdapter(t)

	tests := []struct {
		name       string
		noInternet bool
		wantOnlyLo bool
	}{
		{"internet off", true, true},
		{"internet on", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := provisionE2E(t, d, EnvConfig{NoInternet: tt.noInternet})
			res := execE2E(t, d, env.ID, ExecRequest{Argv: []string{"ls", "/sys/class/net"}})
			ifaces := strings.Fields(string(res.Stdout))
			onlyLo := slices.Equal(ifaces, []string{"lo"})
			if onlyLo != tt.wantOnlyLo {
				t.Errorf("interfaces = %q, want only lo: %t", ifaces, tt.wantOnlyLo)
			}
			mode := engineOutput(t, "container", "inspect", "--format", "{{.HostConfig.NetworkMode}}", env.ContainerID)
			if (mode == "none") != tt.noInternet {
				t.Errorf("network mode = %q, want none: %t", mode, tt.noInternet)
			}
		})
	}
}

// processCount counts processes in the environment whose command line
// contains needle, leaving out the ps pipeline itself.
func processCount(t *testing.T, d *Docker, envID, needle string) int {
	t.Helper()
	res := execE2E(t, d, envID, ExecRequest{Argv: []string{"ps", "-o", "args"}})
	n := 0
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		if strings.Contains(line, needle) && !strings.Contains(line, "ps -o") {
			n++
		}
	}
	return n
}

func TestE2EExecTimeoutLeavesNoProcess(t *testing.T) {
	t.Parallel()
	d := e2eAdapter(t)
	env := provisionE2E(t, d, EnvConfig{})

	tests := []struct {
		name   string
		req    ExecRequest
		needle string
	}{
		{"foreground sleep", ExecRequest{Argv: []string{"sleep", "1001"}, Timeout: time.Second}, "sleep 1001"},
		{"shell with children", ExecRequest{Shell: "sleep 1002 & sleep 1003 & wait", Timeout: time.Second}, "sleep 100"},
		{"background child holds stdout", ExecRequest{Shell: "(sleep 1004; echo late) & sleep 1005", Timeout: time.Second}, "sleep 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := d.Exec(context.Background(), env.ID, tt.req)
			if !errors.Is(err, ErrExecTimeout) {
				t.Fatalf("error = %v, want EXEC_TIMEOUT", err)
			}
			if elapsed := time.Since(start); elapsed > 15*time.Second {
				t.Errorf("Exec returned after %s with a 1s timeout", elapsed)
			}
			if n := processCount(t, d, env.ID, tt.needle); n != 0 {
				t.Errorf("%d processes matching %q left running after the timeout", n, tt.needle)
			}
		})
	}

	t.Run("canceled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Second, cancel)
		_, err := d.Exec(ctx, env.ID, ExecRequest{Argv: []string{"sleep", "1006"}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error = %v, want context.Canceled", err)
		}
		if n := processCount(t, d, env.ID, "sleep 1006"); n != 0 {
			t.Errorf("%d processes left running after cancel", n)
		}
	})

	t.Run("finished command keeps its background child", func(t *testing.T) {
		// The documented behaviour: like `docker exec`, a command that
		// finishes normally may leave a background child running.
		start := time.Now()
		res, err := d.Exec(context.Background(), env.ID, ExecRequest{Shell: "sleep 1007 > /dev/null 2>&1 & echo started", Timeout: 20 * time.Second})
		if err != nil {
			t.Fatalf("Exec: %v", err)
		}
		if string(res.Stdout) != "started\n" {
			t.Errorf("stdout = %q", res.Stdout)
		}
		if elapsed := time.Since(start); elapsed > 15*time.Second {
			t.Errorf("Exec took %s", elapsed)
		}
		if n := processCount(t, d, env.ID, "sleep 1007"); n != 1 {
			t.Errorf("background child count = %d, want 1", n)
		}
	})
}

func TestE2ELargeOutputBounded(t *testing.T) {
	t.Parallel()
	d := e2eAdapter(t)
	env := provisionE2E(t, d, EnvConfig{})

	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()

	res := execE2E(t, d, env.ID, ExecRequest{
		Shell:          "head -c 52428800 /dev/zero | tr '\\0' x; echo; echo done >&2",
		MaxOutputBytes: 4096,
	})
	close(stop)
	wg.Wait()

	if !res.StdoutTruncated || res.StdoutDropped != 52428801-4096 {
		t.Errorf("stdout truncated %t dropped %d, want true and %d", res.StdoutTruncated, res.StdoutDropped, 52428801-4096)
	}
	if len(res.Stdout) != 4096 || !bytes.HasSuffix(res.Stdout, []byte("xx\n")) {
		t.Errorf("kept %d bytes ending %q, want 4096 ending in the tail", len(res.Stdout), res.Stdout[max(0, len(res.Stdout)-3):])
	}
	if string(res.Stderr) != "done\n" {
		t.Errorf("stderr = %q, want %q", res.Stderr, "done\n")
	}
	// Other tests run in parallel in this process, so the bound is loose; the
	// output alone would be 50 MB.
	if p := peak.Load(); p > 48<<20 {
		t.Errorf("peak heap in use %d MiB while capturing 50 MB with a 4 KiB cap", p>>20)
	}
}

func TestE2EStreamLogsInOrder(t *testing.T) {
	t.Parallel()
	d := e2eAdapter(t)
	script := `i=0; while [ $i -lt 20 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); sleep 0.01; done; sleep infinity`
	env := provisionE2E(t, d, EnvConfig{Command: []string{"sh", "-c", script}})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var got []LogEntry
	deadline := time.Now().Add(30 * time.Second)
	for len(got) < 40 && time.Now().Before(deadline) {
		got = got[:0]
		for e, err := range d.StreamLogs(ctx, env.ID, LogOptions{}) {
			if err != nil {
				t.Fatalf("StreamLogs: %v", err)
			}
			got = append(got, e)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(got) != 40 {
		t.Fatalf("got %d entries, want 40", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i].Time.Before(got[i-1].Time) {
			t.Errorf("entry %d (%v %q) is earlier than entry %d (%v %q)", i, got[i].Time, got[i].Message, i-1, got[i-1].Time, got[i-1].Message)
		}
	}
	// The daemon stamps each stream's lines as it reads its pipe, so "err i"
	// may carry an earlier time than "out i". Each stream keeps its own order.
	next := map[LogSource]int{}
	for i, e := range got {
		prefix := map[LogSource]string{SourceStdout: "out", SourceStderr: "err"}[e.Source]
		if want := fmt.Sprintf("%s %d", prefix, next[e.Source]); e.Message != want {
			t.Errorf("entry %d = %s %q, want %q next on %s", i, e.Source, e.Message, want, e.Source)
		}
		next[e.Source]++
	}

	t.Run("follow delivers new lines", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		marker := fmt.Sprintf("marker-%d", time.Now().UnixNano())
		go func() {
			time.Sleep(500 * time.Millisecond)
			// PID 1, the init process, shares the main process's stdout pipe:
			// writing to it adds a log line.
			d.Exec(ctx, env.ID, ExecRequest{Shell: "echo " + marker + " > /proc/1/fd/1"})
		}()
		for e, err := range d.StreamLogs(ctx, env.ID, LogOptions{Follow: true, Tail: 1}) {
			if err != nil {
				t.Fatalf("StreamLogs follow: %v", err)
			}
			if e.Message == marker {
				return
			}
		}
		t.Errorf("follow ended without the line %q", marker)
	})
}

func TestE2ELongLogLine(t *testing.T) {
	t.Parallel()
	d := e2eAdapter(t)
	env := provisionE2E(t, d, EnvConfig{Command: []string{"sh", "-c", "head -c 100000 /dev/zero | tr '\\0' y; echo; echo next; sleep infinity"}})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var msgs []string
	for i := 0; i < 50 && len(msgs) < 2; i++ {
		msgs = msgs[:0]
		for e, err := range d.StreamLogs(ctx, env.ID, LogOptions{}) {
			if err != nil {
				t.Fatalf("StreamLogs: %v", err)
			}
			msgs = append(msgs, e.Message)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(msgs) != 2 || msgs[0] != strings.Repeat("y", 100000) || msgs[1] != "next" {
		lens := []int{}
		for _, m := range msgs {
			lens = append(lens, len(m))
		}
		t.Errorf("entries of lengths %v, want 100000 then 4", lens)
	}
}

func TestE2ESnapshotRestores(t *testing.T) {
	t.Parallel()
	d := e2eAdapter(t)
	ctx := context.Background()
	const secret = "very-secret-value-123"
	env := provisionE2E(t, d, EnvConfig{Env: map[string]string{"TOKEN": secret, "PATH": "/custom:/bin"}})

	execE2E(t, d, env.ID, ExecRequest{Shell: "echo from-snapshot > /root/state"})
	snap, err := d.Snapshot(ctx, env.ID, SnapshotOptions{Name: "Step One"})
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	t.Cleanup(func() { exec.Command(e2eEngine(), "image", "rm", "--force", snap.Ref).Run() })

	if snap.Ref != SnapshotRef(env.ID, "Step One") || !strings.HasPrefix(snap.ImageID, "sha256:") || snap.CreatedAt.IsZero() {
		t.Errorf("snapshot = %+v, want ref %s, an image id and a time", snap, SnapshotRef(env.ID, "Step One"))
	}

	imageEnv := engineOutput(t, "image", "inspect", "--format", "{{json .Config.Env}}", snap.Ref)
	if strings.Contains(imageEnv, secret) || strings.Contains(imageEnv, "/custom") {
		t.Errorf("snapshot image env %s keeps a provisioned value", imageEnv)
	}

	restored := provisionE2E(t, d, EnvConfig{Image: snap.Ref, PullPolicy: PullNever})
	res := execE2E(t, d, restored.ID, ExecRequest{Argv: []string{"cat", "/root/state"}})
	if string(res.Stdout) != "from-snapshot\n" {
		t.Errorf("restored file = %q, want %q", res.Stdout, "from-snapshot\n")
	}
	res = execE2E(t, d, restored.ID, ExecRequest{Shell: `printf '%s|%s' "$TOKEN" "$PATH"`})
	if string(res.Stdout) != "|/bin" {
		t.Errorf("restored TOKEN|PATH = %q, want %q (empty token, the image's PATH)", res.Stdout, "|/bin")
	}
	if restored.Labels[LabelEnv] != restored.ID {
		t.Errorf("restored environment carries env label %q, want its own id %s", restored.Labels[LabelEnv], restored.ID)
	}
}

func TestE2EStoppedAndMissing(t *testing.T) {
	t.Parallel()
	d := e2eAdapter(t)
	ctx := context.Background()

	if _, err := d.Exec(ctx, "zzzzzzzzzzzz", ExecRequest{Argv: []string{"true"}}); !errors.Is(err, ErrEnvNotFound) {
		t.Errorf("Exec on a missing environment: %v, want ENV_NOT_FOUND", err)
	}
	if _, err := d.Snapshot(ctx, "zzzzzzzzzzzz", SnapshotOptions{}); !errors.Is(err, ErrEnvNotFound) {
		t.Errorf("Snapshot of a missing environment: %v, want ENV_NOT_FOUND", err)
	}
	for _, err := range d.StreamLogs(ctx, "zzzzzzzzzzzz", LogOptions{}) {
		if !errors.Is(err, ErrEnvNotFound) {
			t.Errorf("StreamLogs of a missing environment: %v, want ENV_NOT_FOUND", err)
		}
	}
	if err := d.Destroy(ctx, "zzzzzzzzzzzz"); err != nil {
		t.Errorf("Destroy of a missing environment: %v, want nil", err)
	}

	env := provisionE2E(t, d, EnvConfig{})
	engineOutput(t, "pause", env.ContainerID)
	_, err := d.Exec(ctx, env.ID, ExecRequest{Argv: []string{"true"}})
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeEnvNotRunning || e.Meta["state"] != "paused" {
		t.Errorf("Exec on a paused environment: %v, want ENV_NOT_RUNNING naming paused", err)
	}
	engineOutput(t, "unpause", env.ContainerID)

	engineOutput(t, "kill", env.ContainerID)
	_, err = d.Exec(ctx, env.ID, ExecRequest{Argv: []string{"true"}})
	if !errors.As(err, &e) || e.Code != CodeEnvNotRunning || e.Meta["state"] != "exited" {
		t.Errorf("Exec on a stopped environment: %v, want ENV_NOT_RUNNING naming exited", err)
	}
}

func TestE2EForeignContainerUntouched(t *testing.T) {
	t.Parallel()
	d := e2eAdapter(t)
	ctx := context.Background()

	// A container named like a kenv environment but without kenv's labels.
	const id = "foreignfake1"
	name := containerName(id)
	engineOutput(t, "run", "--detach", "--name", name, "--label", LabelEnv+"="+id, e2eImage(), "sleep", "300")
	t.Cleanup(func() { exec.Command(e2eEngine(), "rm", "--force", name).Run() })

	if _, err := d.Get(ctx, id); !errors.Is(err, ErrEnvNotFound) {
		t.Errorf("Get of a foreign container: %v, want ENV_NOT_FOUND", err)
	}
	if err := d.Destroy(ctx, id); err != nil {
		t.Errorf("Destroy: %v", err)
	}
	if got := engineOutput(t, "container", "inspect", "--format", "{{.State.Status}}", name); got != "running" {
		t.Errorf("foreign container state after Destroy = %q, want running", got)
	}
}

func TestE2EDockerUnavailable(t *testing.T) {
	t.Parallel()
	e2eAdapter(t)
	if filepath.Base(e2eEngine()) != "docker" {
		t.Skip("an unreachable daemon is simulated with DOCKER_HOST, which only the docker client reads")
	}
	sock := filepath.Join(t.TempDir(), "nothing.sock")
	d, err := New(Options{Executor: &dockercli.OSExecutor{
		Binary: e2eEngine(),
		Env:    append(os.Environ(), "DOCKER_HOST=unix://"+sock, "DOCKER_CONTEXT="),
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := d.Provision(ctx, EnvConfig{Image: e2eImage()}); !errors.Is(err, ErrDockerUnavailable) {
		t.Errorf("Provision: %v, want DOCKER_UNAVAILABLE", err)
	}
	info, err := d.Info(ctx)
	if !errors.Is(err, ErrDockerUnavailable) {
		t.Errorf("Info: %v, want DOCKER_UNAVAILABLE", err)
	}
	if info.ClientVersion == "" {
		t.Errorf("Info lost the client version: %+v", info)
	}

	missing, _ := New(Options{Engine: filepath.Join(t.TempDir(), "no-such-docker")})
	if _, err := missing.Exec(ctx, "abcdabcdabcd", ExecRequest{Argv: []string{"true"}}); !errors.Is(err, ErrDockerUnavailable) {
		t.Errorf("Exec with a missing binary: %v, want DOCKER_UNAVAILABLE", err)
	}
}

func TestE2EProvisionFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	d := e2eAdapter(t)
	ctx := context.Background()

	tests := []struct {
		name          string
		cfg           EnvConfig
		mayStartFirst bool
	}{
		{"missing image with never", EnvConfig{Image: "kenv-test/does-not-exist:1", PullPolicy: PullNever, Volumes: []VolumeMount{{Name: "v", Target: "/v"}}}, false},
		{"missing entrypoint", EnvConfig{Image: e2eImage(), Command: []string{"/no/such/binary"}, Volumes: []VolumeMount{{Name: "v", Target: "/v"}}}, true},
		{"missing bind source", EnvConfig{Image: e2eImage(), Binds: []BindMount{{Source: "/nonexistent/kenv-e2e", Target: "/x"}}, Volumes: []VolumeMount{{Name: "v", Target: "/v"}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := engineOutput(t, "volume", "ls", "--quiet", "--filter", "label=kenv.managed=true")
			beforeCtr := engineOutput(t, "ps", "--all", "--quiet", "--filter", "label=kenv.managed=true")
			env, err := d.Provision(ctx, tt.cfg)
			if err == nil && tt.mayStartFirst {
				// Under --init the init process starts and the missing
				// program fails inside it, so on a loaded machine the
				// inspect after the start can still see it running. The
				// environment must then stop on its own.
				t.Logf("the main process had not failed yet at the inspect; checking that the environment stops")
				deadline := time.Now().Add(10 * time.Second)
				for time.Now().Before(deadline) {
					got, gerr := d.Get(ctx, env.ID)
					if gerr != nil || got.State != StateRunning {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				if got, gerr := d.Get(ctx, env.ID); gerr == nil && got.State == StateRunning {
					t.Errorf("environment %s with a missing main program is still running", env.ID)
				}
				if derr := d.Destroy(ctx, env.ID); derr != nil {
					t.Errorf("Destroy: %v", derr)
				}
				return
			}
			if !errors.Is(err, ErrProvisionFailed) {
				t.Fatalf("Provision: %v, want PROVISION_FAILED", err)
			}
			// Other tests provision in parallel, so compare only what this
			// call could have added: anything new must be gone.
			after := engineOutput(t, "volume", "ls", "--quiet", "--filter", "label=kenv.managed=true")
			afterCtr := engineOutput(t, "ps", "--all", "--quiet", "--filter", "label=kenv.managed=true")
			for _, v := range strings.Fields(after) {
				if !strings.Contains(before, v) && strings.HasSuffix(v, "-v") {
					t.Errorf("volume %s left behind by a failed provision", v)
				}
			}
			for _, c := range strings.Fields(afterCtr) {
				if !strings.Contains(beforeCtr, c) {
					status := engineOutput(t, "container", "inspect", "--format", "{{.State.Status}} {{.Config.Image}} {{index .Config.Labels \"kenv.env\"}}", c)
					if strings.Contains(status, "created") || strings.Contains(status, "exited") {
						t.Errorf("container %s (%s) left behind by a failed provision", c, status)
					}
				}
			}
		})
	}
}

func TestE2EKilledDuringExec(t *testing.T) {
	t.Parallel()
	d := e2eAdapter(t)
	ctx := context.Background()

	t.Run("out of memory", func(t *testing.T) {
		env := provisionE2E(t, d, EnvConfig{Memory: "16m"})
		// sort keeps its whole input, a single 100 MB line, in memory.
		res, err := d.Exec(ctx, env.ID, ExecRequest{Shell: "head -c 100000000 /dev/zero | sort > /dev/null"})
		if err != nil {
			t.Fatalf("Exec: %v", err)
		}
		if res.ExitCode != 137 || !res.OOMKilled {
			t.Errorf("exit %d oom_killed %t, want 137 and true", res.ExitCode, res.OOMKilled)
		}
	})

	t.Run("environment stopped", func(t *testing.T) {
		env := provisionE2E(t, d, EnvConfig{})
		time.AfterFunc(time.Second, func() { exec.Command(e2eEngine(), "kill", env.ContainerID).Run() })
		_, err := d.Exec(ctx, env.ID, ExecRequest{Argv: []string{"sleep", "30"}, Timeout: 20 * time.Second})
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeEnvNotRunning || e.Meta["state"] != "exited" || e.Meta["oom_killed"] != "false" {
			t.Errorf("error = %v (meta %v), want ENV_NOT_RUNNING with state exited and oom_killed false", err, e.Meta)
		}
	})
}

func TestE2EGCOrphans(t *testing.T) {
	t.Parallel()
	d := e2eAdapter(t)
	ctx := context.Background()

	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	gone, err := ProcessOwner(sleeper.Process.Pid)
	if err != nil {
		t.Fatalf("ProcessOwner: %v", err)
	}
	orphan := provisionE2E(t, d, EnvConfig{Owner: &gone, Volumes: []VolumeMount{{Name: "v", Target: "/v"}}})
	owned := provisionE2E(t, d, EnvConfig{})
	unowned, err := New(Options{Engine: e2eEngine(), NoOwner: true})
	if err != nil {
		t.Fatal(err)
	}
	noOwner := provisionE2E(t, unowned, EnvConfig{})
	if noOwner.Labels[LabelOwnerPID] != "" {
		t.Errorf("NoOwner environment has owner pid label %q", noOwner.Labels[LabelOwnerPID])
	}
	if owned.Labels[LabelOwnerPID] != fmt.Sprint(os.Getpid()) {
		t.Errorf("owner pid label = %q, want this process %d", owned.Labels[LabelOwnerPID], os.Getpid())
	}

	sleeper.Process.Kill()
	sleeper.Wait()

	items, err := d.GC(ctx, GCOptions{Orphans: true, DryRun: true})
	if err != nil {
		t.Fatalf("GC dry run: %v", err)
	}
	found := map[string]bool{}
	for _, it := range items {
		found[it.EnvID] = true
		if it.Removed {
			t.Errorf("dry run removed %s", it.EnvID)
		}
	}
	if !found[orphan.ID] || found[owned.ID] || found[noOwner.ID] {
		t.Errorf("orphans = %v, want %s and neither %s (live owner) nor %s (no owner)", found, orphan.ID, owned.ID, noOwner.ID)
	}

	if _, err := d.GC(ctx, GCOptions{Orphans: true}); err != nil {
		t.Fatalf("GC: %v", err)
	}
	if _, err := d.Get(ctx, orphan.ID); !errors.Is(err, ErrEnvNotFound) {
		t.Errorf("orphan after GC: %v, want ENV_NOT_FOUND", err)
	}
	if got := engineOutput(t, "volume", "ls", "--quiet", "--filter", "label=kenv.env="+orphan.ID); got != "" {
		t.Errorf("orphan volumes after GC: %q", got)
	}
	for _, id := range []string{owned.ID, noOwner.ID} {
		if _, err := d.Get(ctx, id); err != nil {
			t.Errorf("environment %s after orphan GC: %v, want it kept", id, err)
		}
	}
}
