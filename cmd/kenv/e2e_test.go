package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kenv/kenv/adapter"
)

// The end-to-end tests build the kenv binary once and run it against a real
// engine when KENV_DOCKER_E2E=1. KENV_E2E_ENGINE names the client (default
// docker) and KENV_E2E_IMAGE the local test image (default
// kenv-test/busybox:latest, built by `make testimage`). With
// KENV_DOCKER_E2E=1 a missing engine or image fails the tests instead of
// skipping them. Every test destroys what it created, and none destroys or
// changes an environment it did not create: see TestE2EGC for how gc is
// kept to the test's own environments.

func TestMain(m *testing.M) {
	code := m.Run()
	if e2eBuild.dir != "" {
		os.RemoveAll(e2eBuild.dir)
	}
	os.Exit(code)
}

// e2eBuild is the kenv binary, built once for all end-to-end tests.
var e2eBuild struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

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

// e2eRun is the context of one end-to-end test.
type e2eRun struct {
	t      *testing.T
	bin    string
	engine string // the engine client that kenv runs
	image  string

	// scope is a label value unique to this test. Environments the test
	// provisions carry the label e2eScopeLabel=scope.
	scope string
}

// e2eScopeLabel marks the environments of one end-to-end test.
const e2eScopeLabel = "kenv-e2e-scope"

// newE2E skips the test unless KENV_DOCKER_E2E=1, checks the engine and the
// image, and builds kenv once.
func newE2E(t *testing.T) *e2eRun {
	t.Helper()
	if os.Getenv("KENV_DOCKER_E2E") != "1" {
		t.Skip("set KENV_DOCKER_E2E=1 to run end-to-end tests against a real engine")
	}
	engine := e2eEngine()
	if _, err := exec.LookPath(engine); err != nil {
		t.Fatalf("KENV_DOCKER_E2E=1 but the engine %q is missing: %v", engine, err)
	}
	if out, err := exec.Command(engine, "image", "inspect", "--format", "{{.Id}}", e2eImage()).CombinedOutput(); err != nil {
		t.Fatalf("KENV_DOCKER_E2E=1 but the image %s is not in %s (build it with scripts/testimage %s): %v\n%s", e2eImage(), engine, engine, err, out)
	}

	e2eBuild.once.Do(func() {
		e2eBuild.dir, e2eBuild.err = os.MkdirTemp("", "kenv-e2e-bin-")
		if e2eBuild.err != nil {
			return
		}
		e2eBuild.bin = filepath.Join(e2eBuild.dir, "kenv")
		out, err := exec.Command("go", "build", "-o", e2eBuild.bin, ".").CombinedOutput()
		if err != nil {
			e2eBuild.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if e2eBuild.err != nil {
		t.Fatalf("building kenv: %v", e2eBuild.err)
	}

	return &e2eRun{t: t, bin: e2eBuild.bin, engine: engine, image: e2eImage(), scope: "s" + randomHex(t, 6)}
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// kenvCommand returns the kenv binary with args, set to run e.engine.
func (e *e2eRun) kenvCommand(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, e.bin, args...)
	cmd.Env = append(os.Environ(), "KENV_ENGINE="+e.engine)
	return cmd
}

// kenvWithStdin runs kenv with args and stdin, and returns what it printed
// and its exit status. It fails the test when kenv does not finish in 2
// minutes.
func (e *e2eRun) kenvWithStdin(stdin string, args ...string) cliResult {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := e.kenvCommand(ctx, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		e.t.Fatalf("kenv %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		e.t.Fatalf("kenv %s did not finish within 2 minutes; stderr: %s", strings.Join(args, " "), stderr.String())
	}
	return cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Exit: cmd.ProcessState.ExitCode()}
}

func (e *e2eRun) kenv(args ...string) cliResult {
	e.t.Helper()
	return e.kenvWithStdin("", args...)
}

// mustKenv runs kenv and fails the test unless it exits with want.
func (e *e2eRun) mustKenv(want int, args ...string) cliResult {
	e.t.Helper()
	r := e.kenv(args...)
	if r.Exit != want {
		e.t.Fatalf("kenv %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Exit, want, r.Stdout, r.Stderr)
	}
	return r
}

// engineOutput runs the real engine client directly, for checks that must
// not go through kenv.
func (e *e2eRun) engineOutput(args ...string) string {
	e.t.Helper()
	out, err := exec.Command(e2eEngine(), args...).CombinedOutput()
	if err != nil {
		e.t.Fatalf("%s %s: %v\n%s", e2eEngine(), strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// provision provisions an environment with the test's scope label and
// destroys it when the test ends.
func (e *e2eRun) provision(args ...string) string {
	e.t.Helper()
	args = append([]string{"provision", "--image", e.image, "--label", e2eScopeLabel + "=" + e.scope}, args...)
	r := e.mustKenv(0, args...)
	id := strings.TrimSuffix(r.Stdout, "\n")
	if !regexp.MustCompile(`^[a-z0-9]{4,64}$`).MatchString(id) {
		e.t.Fatalf("provision printed %q, want the environment id alone", r.Stdout)
	}
	e.t.Cleanup(func() { e.destroyInCleanup(id) })
	return id
}

// destroyInCleanup destroys an environment the test created, with the
// engine client directly when kenv destroy fails.
func (e *e2eRun) destroyInCleanup(id string) {
	r := e.kenv("destroy", id)
	if r.Exit == 0 {
		return
	}
	e.t.Errorf("kenv destroy %s in cleanup: exit %d: %s", id, r.Exit, r.Stderr)
	exec.Command(e2eEngine(), "rm", "--force", "kenv-"+id).Run()
}

// listEnvironments returns kenv ls --json, run through the real engine.
func (e *e2eRun) listEnvironments() []adapter.Environment {
	e.t.Helper()
	r := e.mustKenv(0, "--engine", e2eEngine(), "ls", "--json")
	var out lsJSON
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		e.t.Fatalf("ls --json printed %q: %v", r.Stdout, err)
	}
	return out.Environments
}

// containerExists reports whether the engine still has the environment's
// container.
func (e *e2eRun) containerExists(id string) bool {
	e.t.Helper()
	return e.engineOutput("ps", "--all", "--quiet", "--filter", "label=kenv.env="+id) != ""
}

// processList returns `ps` inside the environment, run by the engine client
// directly.
func (e *e2eRun) processList(id string) string {
	e.t.Helper()
	return e.engineOutput("exec", "kenv-"+id, "ps")
}

func TestE2EFullScript(t *testing.T) {
	t.Parallel()
	e := newE2E(t)

	id := e.provision(
		"--cpus", "0.5", "--memory", "64m",
		"--env", "GREETING=hello, world",
		"--volume", "data:/data",
		"--label", "team=e2e",
		"--command", "sh", "--command", "-c", "--command", "echo started; echo warning >&2; exec sleep 3600",
	)

	t.Run("limits", func(t *testing.T) {
		got := e.engineOutput("container", "inspect", "--format", "{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}", "kenv-"+id)
		if got != "500000000 67108864" {
			t.Errorf("NanoCpus Memory = %q, want %q", got, "500000000 67108864")
		}
	})

	t.Run("exit status passes through", func(t *testing.T) {
		r := e.kenv("exec", id, "--", "sh", "-c", "exit 7")
		if r.Exit != 7 {
			t.Errorf("exit = %d, want 7; stderr: %s", r.Exit, r.Stderr)
		}
	})

	t.Run("stdout and stderr apart", func(t *testing.T) {
		r := e.mustKenv(0, "exec", id, "--", "sh", "-c", "echo out; echo err >&2")
		if r.Stdout != "out\n" {
			t.Errorf("stdout = %q, want %q", r.Stdout, "out\n")
		}
		if r.Stderr != "err\n" {
			t.Errorf("stderr = %q, want %q", r.Stderr, "err\n")
		}
	})

	t.Run("env reaches exec", func(t *testing.T) {
		r := e.mustKenv(0, "exec", "--env", "EXTRA=x y", id, "--", "sh", "-c", `printf '%s|%s' "$GREETING" "$EXTRA"`)
		if r.Stdout != "hello, world|x y" {
			t.Errorf("stdout = %q, want %q", r.Stdout, "hello, world|x y")
		}
	})

	t.Run("volume", func(t *testing.T) {
		e.mustKenv(0, "sh", id, "echo kept > /data/file")
		r := e.mustKenv(0, "exec", id, "--", "cat", "/data/file")
		if r.Stdout != "kept\n" {
			t.Errorf("stdout = %q, want %q", r.Stdout, "kept\n")
		}
	})

	t.Run("stdin with -i", func(t *testing.T) {
		r := e.kenvWithStdin("one\ntwo\nthree\n", "exec", "-i", id, "--", "wc", "-l")
		if r.Exit != 0 || strings.TrimSpace(r.Stdout) != "3" {
			t.Errorf("exec -i wc -l = exit %d, stdout %q, want 0 and 3", r.Exit, r.Stdout)
		}
	})

	t.Run("sh with arguments", func(t *testing.T) {
		r := e.kenv("sh", id, `printf '%s' "$1"; exit 3`, "a b; echo injected")
		if r.Exit != 3 || r.Stdout != "a b; echo injected" {
			t.Errorf("sh = exit %d, stdout %q, want 3 and the argument unexpanded", r.Exit, r.Stdout)
		}
	})

	t.Run("json", func(t *testing.T) {
		r := e.kenv("exec", "--json", id, "--", "sh", "-c", "echo out; echo err >&2; exit 4")
		var got execJSON
		if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil {
			t.Fatalf("exec --json printed %q: %v", r.Stdout, err)
		}
		if r.Exit != 4 || got.ExitCode != 4 || got.Stdout != "out\n" || got.Stderr != "err\n" {
			t.Errorf("exec --json = exit %d, %+v, want 4 with out and err", r.Exit, got)
		}
	})

	t.Run("timeout kills the command", func(t *testing.T) {
		r := e.kenv("exec", "--timeout", "1s", id, "--", "sh", "-c", "sleep 31 & sleep 32")
		if r.Exit != exitTimeout || !strings.Contains(r.Stderr, "[EXEC_TIMEOUT]") {
			t.Errorf("exit = %d, stderr %q, want %d and EXEC_TIMEOUT", r.Exit, r.Stderr, exitTimeout)
		}
		if ps := e.processList(id); strings.Contains(ps, "sleep 31") || strings.Contains(ps, "sleep 32") {
			t.Errorf("processes left after the timeout:\n%s", ps)
		}
	})

	t.Run("logs", func(t *testing.T) {
		r := e.mustKenv(0, "logs", id)
		line := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (stdout started|stderr warning)$`)
		if n := len(line.FindAllString(r.Stdout, -1)); n != 2 {
			t.Errorf("logs = %q, want a stdout line 'started' and a stderr line 'warning'", r.Stdout)
		}

		r = e.mustKenv(0, "logs", "--json", "--tail", "1", id)
		var entry adapter.LogEntry
		if err := json.Unmarshal([]byte(r.Stdout), &entry); err != nil || entry.Time.IsZero() {
			t.Errorf("logs --json --tail 1 = %q (%v), want one entry", r.Stdout, err)
		}
	})

	t.Run("snapshot", func(t *testing.T) {
		e.mustKenv(0, "sh", id, "echo in-image > /snapshot-file")
		r := e.mustKenv(0, "snapshot", "--name", "e2e", id)
		ref := strings.TrimSpace(r.Stdout)
		if ref != "kenv/"+id+":e2e" {
			t.Fatalf("snapshot printed %q, want kenv/%s:e2e", r.Stdout, id)
		}
		// The restored environment uses the image, so the image goes after
		// it: cleanups of e.t run last registered, first run.
		e.t.Cleanup(func() {
			if out, err := exec.Command(e2eEngine(), "image", "rm", ref).CombinedOutput(); err != nil {
				e.t.Errorf("removing snapshot %s: %v: %s", ref, err, out)
			}
		})

		restored := e.provision("--image", ref)
		r = e.mustKenv(0, "exec", restored, "--", "cat", "/snapshot-file")
		if r.Stdout != "in-image\n" {
			t.Errorf("restored file = %q, want %q", r.Stdout, "in-image\n")
		}
	})

	t.Run("ls", func(t *testing.T) {
		r := e.mustKenv(0, "--engine", e2eEngine(), "ls")
		row := regexp.MustCompile(`(?m)^` + id + `\s+\S+\s+running\s+\S+\s+\S*team=e2e`)
		if !row.MatchString(r.Stdout) {
			t.Errorf("ls has no running row for %s with team=e2e:\n%s", id, r.Stdout)
		}

		found := false
		for _, env := range e.listEnvironments() {
			if env.ID == id {
				found = true
				if env.State != adapter.StateRunning || env.Labels["team"] != "e2e" || !slices.Contains(env.Volumes, "kenv-"+id+"-data") {
					t.Errorf("ls --json entry = %+v, want running with label team=e2e and volume data", env)
				}
			}
		}
		if !found {
			t.Errorf("ls --json lacks %s", id)
		}
	})

	t.Run("destroy twice", func(t *testing.T) {
		r := e.mustKenv(0, "destroy", id)
		if r.Stdout != id+"\n" {
			t.Errorf("destroy printed %q, want the id", r.Stdout)
		}
		r = e.mustKenv(0, "destroy", "--json", id)
		if r.Stdout != `{"destroyed":["`+id+`"]}`+"\n" {
			t.Errorf("second destroy printed %q", r.Stdout)
		}
		if e.containerExists(id) {
			t.Errorf("container of %s still exists", id)
		}
		if vols := e.engineOutput("volume", "ls", "--quiet", "--filter", "label=kenv.env="+id); vols != "" {
			t.Errorf("volumes of %s still exist: %s", id, vols)
		}
		r = e.kenv("exec", id, "--", "true")
		if r.Exit != exitNotFound || !strings.Contains(r.Stderr, "[ENV_NOT_FOUND]") {
			t.Errorf("exec after destroy = exit %d, stderr %q, want %d and ENV_NOT_FOUND", r.Exit, r.Stderr, exitNotFound)
		}
	})
}

// TestE2EInterruptExec sends SIGINT to kenv during `exec -- sleep 300`, as
// Ctrl-C in a terminal does, and checks that the sleep is gone.
func TestE2EInterruptExec(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	id := e.provision()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := e.kenvCommand(ctx, "exec", id, "--", "sleep", "300")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(e.processList(id), "sleep 300") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("sleep 300 did not start within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Errorf("exit = %d, want %d; stderr: %s", code, exitInterrupted, stderr.String())
	}
	if !strings.Contains(stderr.String(), "[INTERRUPTED]") {
		t.Errorf("stderr = %q, want an INTERRUPTED error", stderr.String())
	}
	if ps := e.processList(id); strings.Contains(ps, "sleep 300") {
		t.Errorf("sleep 300 still runs after the interrupt:\n%s", ps)
	}
}

// TestE2ELogsFollowInterrupted stops `logs --follow` with SIGINT.
func TestE2ELogsFollowInterrupted(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	id := e.provision("--command", "sh", "--command", "-c", "--command", "while true; do echo tick; sleep 0.2; done")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := e.kenvCommand(ctx, "logs", "--follow", id)
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(stdout.String(), "tick") < 3 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Errorf("exit = %d, want %d; stderr: %s", code, exitInterrupted, stderr.String())
	}
	if n := strings.Count(stdout.String(), "stdout tick"); n < 3 {
		t.Errorf("logs --follow printed %d tick lines before the interrupt, want at least 3:\n%s", n, stdout.String())
	}
	if stderr.String() != "" {
		t.Errorf("stderr = %q, want nothing after an interrupt of --follow", stderr.String())
	}
}

// lockedBuffer is a bytes.Buffer that the test reads while a process writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestE2EBadFlagsCreateNothing runs provision with each invalid option and
// checks that nothing reached the engine. Other tests may create containers
// at the same time, so the check looks for what these calls would have
// created: containers with this test's scope label and volumes with its
// volume name.
func TestE2EBadFlagsCreateNothing(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	volume := "bad" + e.scope
	base := []string{"provision", "--image", e.image, "--label", e2eScopeLabel + "=" + e.scope, "--volume", volume + ":/data"}
	cases := [][]string{
		{"--memory", "lots"},
		{"--cpus", "-1"},
		{"--env", "=x"},
		{"--volume", "nocolon"},
		{"--label", "kenv.x=1"},
		{"--mount", "relative:/src"},
		{"--pull", "sometimes"},
		{"--no-such-option"},
	}

	containersBefore := e.engineOutput("ps", "--all", "--quiet", "--no-trunc")
	volumesBefore := e.engineOutput("volume", "ls", "--quiet")

	for _, c := range cases {
		r := e.kenv(append(slices.Clone(base), c...)...)
		if r.Exit != exitInvalid || !strings.HasSuffix(r.Stderr, "[INVALID_CONFIG]\n") || r.Stdout != "" {
			t.Errorf("provision %s = exit %d, stdout %q, stderr %q, want %d and one INVALID_CONFIG line", strings.Join(c, " "), r.Exit, r.Stdout, r.Stderr, exitInvalid)
		}
	}

	if ours := e.engineOutput("ps", "--all", "--quiet", "--filter", "label="+e2eScopeLabel+"="+e.scope); ours != "" {
		t.Errorf("invalid provisions created containers: %s", ours)
	}
	for _, v := range strings.Fields(e.engineOutput("volume", "ls", "--quiet")) {
		if strings.HasSuffix(v, "-"+volume) {
			t.Errorf("invalid provisions created volume %s", v)
		}
	}
	for _, env := range e.listEnvironments() {
		if env.Labels[e2eScopeLabel] == e.scope {
			t.Errorf("ls --json shows environment %s of an invalid provision", env.ID)
		}
	}
	t.Logf("containers before: %d, after: %d; volumes before: %d, after: %d (other tests may run meanwhile)",
		len(strings.Fields(containersBefore)), len(strings.Fields(e.engineOutput("ps", "--all", "--quiet", "--no-trunc"))),
		len(strings.Fields(volumesBefore)), len(strings.Fields(e.engineOutput("volume", "ls", "--quiet"))))
}

// scopedEngine writes a wrapper around the engine client that scopes the
// two listings that GC starts from, all managed containers and all managed
// volumes, to this test. kenv gc run through it sees
// only this test's environments, so it cannot destroy environments of other
// tests or programs on the same engine, whatever its options. Listings of
// one environment (label kenv.env=ID), which Destroy uses, pass unchanged.
//
// Volumes carry only kenv's labels, so the wrapper lists none for GC: it
// sees no volumes without a container, a case left to the adapter's tests.
// Adding the scope filter to `volume ls` instead would not scope it,
// because Podman 4.3 joins several label filters of `volume ls` with OR.
func (e *e2eRun) scopedEngine() string {
	e.t.Helper()
	enginePath, err := exec.LookPath(e.engine)
	if err != nil {
		e.t.Fatal(err)
	}
	script := `#!/bin/sh
case "$*" in
*label=kenv.env=*) ;;
"ps "*label=kenv.managed=true*) exec ` + strconv.Quote(enginePath) + ` "$@" --filter label=` + e2eScopeLabel + `=` + e.scope + ` ;;
"volume ls "*label=kenv.managed=true*) exit 0 ;;
esac
exec ` + strconv.Quote(enginePath) + ` "$@"
`
	path := filepath.Join(e.t.TempDir(), "scoped-engine")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// gcItems runs kenv gc --json with args and returns the items.
func (e *e2eRun) gcItems(args ...string) []adapter.GCItem {
	e.t.Helper()
	r := e.mustKenv(0, append([]string{"gc", "--json"}, args...)...)
	var out gcJSON
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		e.t.Fatalf("gc --json printed %q: %v", r.Stdout, err)
	}
	return out.Items
}

func itemIDs(items []adapter.GCItem) []string {
	var ids []string
	for _, item := range items {
		ids = append(ids, item.EnvID)
	}
	slices.Sort(ids)
	return ids
}

// TestE2EGC runs gc through scopedEngine, so that it sees only the
// environments this test provisions, even with no --older-than.
func TestE2EGC(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	e.engine = e.scopedEngine()

	// The owner of orphan is a process that has exited; the owner of
	// owned is this test process, which runs.
	owner := exec.Command("sleep", "60")
	if err := owner.Start(); err != nil {
		t.Fatal(err)
	}
	orphan := e.provision("--owner", strconv.Itoa(owner.Process.Pid))
	owner.Process.Kill()
	owner.Wait()
	owned := e.provision("--owner", strconv.Itoa(os.Getpid()))
	plain := e.provision("--volume", "data:/data")
	all := []string{orphan, owned, plain}
	slices.Sort(all)

	if got := itemIDs(e.gcItems("--dry-run")); !slices.Equal(got, all) {
		t.Fatalf("gc --dry-run selects %q, want exactly this test's %q", got, all)
	}
	if got := e.mustKenv(0, "gc", "--dry-run").Stdout; !strings.Contains(got, "would destroy "+plain+" (container kenv-"+plain) {
		t.Errorf("gc --dry-run printed %q, want a line for %s", got, plain)
	}
	for _, id := range all {
		if !e.containerExists(id) {
			t.Errorf("gc --dry-run removed %s", id)
		}
	}

	if got := e.gcItems("--older-than", "1h"); len(got) != 0 {
		t.Errorf("gc --older-than 1h selects %q, want none: the environments are minutes old", itemIDs(got))
	}

	items := e.gcItems("--orphans")
	if got := itemIDs(items); !slices.Equal(got, []string{orphan}) || !items[0].Removed {
		t.Errorf("gc --orphans = %+v, want %s removed", items, orphan)
	}
	if e.containerExists(orphan) || !e.containerExists(owned) {
		t.Errorf("after gc --orphans: %s exists %t, %s exists %t; want only the orphan gone", orphan, e.containerExists(orphan), owned, e.containerExists(owned))
	}

	r := e.mustKenv(0, "gc")
	want := "gc: destroyed 2 environments, 0 failed\n"
	if !strings.HasSuffix(r.Stdout, want) {
		t.Errorf("gc printed %q, want it to end with %q", r.Stdout, want)
	}
	for _, id := range all {
		if e.containerExists(id) {
			t.Errorf("gc left %s", id)
		}
	}
	if vols := e.engineOutput("volume", "ls", "--quiet", "--filter", "label=kenv.env="+plain); vols != "" {
		t.Errorf("gc left the volumes of %s: %s", plain, vols)
	}
}

func TestE2EDoctor(t *testing.T) {
	t.Parallel()
	e := newE2E(t)

	r := e.mustKenv(0, "doctor")
	for _, check := range []string{"engine binary", "client", "daemon", "environments"} {
		if !strings.Contains(r.Stdout, "ok    "+check+": ") {
			t.Errorf("doctor has no ok line for %s:\n%s", check, r.Stdout)
		}
	}

	r = e.kenv("--engine", filepath.Join(t.TempDir(), "no-such-engine"), "doctor")
	if r.Exit != exitEngine || !strings.HasPrefix(r.Stdout, "FAIL  engine binary: ") {
		t.Errorf("doctor with a missing engine = exit %d, stdout %q, want %d and a FAIL line", r.Exit, r.Stdout, exitEngine)
	}
}

func TestE2EEngineMissing(t *testing.T) {
	t.Parallel()
	e := newE2E(t)

	r := e.kenv("--engine", filepath.Join(t.TempDir(), "no-such-engine"), "ls")

	if r.Exit != exitEngine || !strings.Contains(r.Stderr, "[DOCKER_UNAVAILABLE]") {
		t.Errorf("ls with a missing engine = exit %d, stderr %q, want %d and DOCKER_UNAVAILABLE", r.Exit, r.Stderr, exitEngine)
	}
}

func TestE2EBashCompletion(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	id := e.provision()

	r := e.mustKenv(0, "--generate-bash-completion")
	for _, cmd := range []string{"provision", "exec", "destroy", "doctor"} {
		if !strings.Contains(r.Stdout, cmd+"\n") {
			t.Errorf("command completion lacks %s:\n%s", cmd, r.Stdout)
		}
	}

	// Completion gives up after completionTimeout, which a loaded machine can
	// exceed once, so it gets three tries.
	for try := 1; ; try++ {
		r = e.mustKenv(0, "exec", "--generate-bash-completion")
		if strings.Contains(r.Stdout, id+"\n") {
			break
		}
		if try == 3 {
			t.Errorf("environment id completion lacks %s in %d tries:\n%s", id, try, r.Stdout)
			break
		}
	}
}
