package adapter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kenv/kenv/dockercli"
	"github.com/kenv/kenv/dockercli/dockerclitest"
	"github.com/kenv/kenv/parse"
)

// The contract tests replay the engine calls of the scenarios in
// scenarios_test.go, recorded from real engines under testdata/golden/NAME/,
// through the fakedocker binary, so `go test ./...` checks the adapter
// against each engine's real output without an engine.
//
// To record, run `make golden ENGINE=docker|podman|PATH [GOLDEN=NAME]`. It
// runs TestRecordGolden with
//
//	KENV_GOLDEN_RECORD=1      record instead of skipping
//	KENV_GOLDEN_ENGINE=PATH   the client binary, default docker
//	KENV_GOLDEN_NAME=NAME     the directory under testdata/golden, by default
//	                          derived from the versions: docker-20.10,
//	                          docker-28-client or podman-4.3
//
// and overwrites that directory's recordings, then replays each new one.
// The engine needs the image kenv-test/busybox:latest (`make testimage
// ENGINE=...`). Record one engine at a time: a recording first removes what
// an interrupted recording left, which includes another recording's
// environments on the same daemon.

// goldenDir holds one directory of recordings per engine.
const goldenDir = "../testdata/golden"

// The environment variables that point fakedocker at a recording.
const (
	fakeCasesEnv = "KENV_FAKEDOCKER_CASES"
	fakeStateEnv = "KENV_FAKEDOCKER_STATE"
)

// recordedNamePattern matches the containers, volumes and snapshot
// repositories that recorded scenarios create, after a "kenv-" or "kenv/"
// prefix.
var recordedNamePattern = regexp.MustCompile(`^rec[0-9]{9}([-:].*)?$`)

func TestRecordGolden(t *testing.T) {
	if os.Getenv("KENV_GOLDEN_RECORD") != "1" {
		t.Skip("set KENV_GOLDEN_RECORD=1 (make golden) to record the scenarios against a real engine")
	}
	binary := os.Getenv("KENV_GOLDEN_ENGINE")
	if binary == "" {
		binary = "docker"
	}
	if _, err := exec.LookPath(binary); err != nil {
		t.Fatalf("engine client %q not found: %v", binary, err)
	}
	plain := &dockercli.OSExecutor{Binary: binary}
	probe, err := New(Options{Engine: binary, Executor: plain, NoOwner: true})
	if err != nil {
		t.Fatal(err)
	}
	info, err := probe.Info(context.Background())
	if err != nil {
		t.Fatalf("the engine %q must answer to record: %v", binary, err)
	}
	name := os.Getenv("KENV_GOLDEN_NAME")
	if name == "" {
		name = goldenName(info)
	}
	if !regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`).MatchString(name) {
		t.Fatalf("invalid recording name %q; use lowercase letters, digits, '.', '_' and '-'", name)
	}
	if res, err := plain.Run(context.Background(), dockercli.Command{Args: dockercli.ImageInspectArgs(goldenImage)}); err != nil || res.ExitCode != 0 {
		t.Fatalf("the image %s is missing in %s; build it with `make testimage ENGINE=%s`", goldenImage, binary, binary)
	}
	t.Logf("recording %s %s (client %s, server %s) into %s", info.Kind, binary, info.ClientVersion, info.ServerVersion, filepath.Join(goldenDir, name))

	fake := buildFakedocker(t)
	removeRecordedLeftovers(t, plain)
	for _, sc := range scenarios {
		if sc.dockerOnly && info.Kind != parse.EngineDocker {
			continue
		}
		t.Run(sc.name, func(t *testing.T) {
			base := plain
			if sc.unreachable {
				sock := filepath.Join(t.TempDir(), "nothing.sock")
				base = &dockercli.OSExecutor{Binary: binary, Env: append(os.Environ(), "DOCKER_HOST=unix://"+sock, "DOCKER_CONTEXT=")}
			}
			recorder := &dockercli.RecordingExecutor{Executor: base}
			ids := &sequentialIDs{}
			d, err := New(Options{Engine: binary, Executor: recorder, NewID: ids.next, NoOwner: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { removeRecordedLeftovers(t, plain) })

			start := time.Now().UTC()
			sc.run(t, &scenarioRun{d: d, engine: recorder, ids: ids, kind: info.Kind, start: start})
			recorder.Wait()
			if t.Failed() {
				t.Fatalf("the scenario failed, so %s keeps its old recording", sc.name)
			}

			rec := dockercli.Recording{Engine: name, Binary: binary, Scenario: sc.name, RecordedAt: start, Cases: recorder.Cases()}
			path := filepath.Join(goldenDir, name, sc.name+".json")
			if err := rec.WriteFile(path); err != nil {
				t.Fatalf("writing the recording: %v", err)
			}
			t.Logf("wrote %d cases to %s", len(rec.Cases), path)

			// A recording that its own scenario cannot replay, for example
			// because an argv depends on the time, fails here and not later
			// in TestContract.
			t.Run("replay", func(t *testing.T) {
				replayScenario(t, fake, path, sc, info.Kind)
			})
		})
	}
}

// goldenName derives a recording's directory name from the engine's
// versions: podman-4.3, docker-20.10 for a client of the daemon's version,
// and docker-28-client for a client of another version than the daemon.
func goldenName(info EngineInfo) string {
	client := majorMinor(info.ClientVersion)
	if info.Kind == parse.EngineDocker && client != majorMinor(info.ServerVersion) {
		major, _, _ := strings.Cut(client, ".")
		return "docker-" + major + "-client"
	}
	return info.Kind + "-" + client
}

// majorMinor returns "20.10" for "20.10.24+dfsg1".
func majorMinor(version string) string {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return version
	}
	return parts[0] + "." + parts[1]
}

// removeRecordedLeftovers removes the containers, volumes and snapshot
// images that an interrupted recording left behind, outside any recording.
// It touches only kenv's resources whose ids recordedNamePattern matches.
func removeRecordedLeftovers(t *testing.T, engine dockercli.Executor) {
	t.Helper()
	run := func(args ...string) []string {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		res, err := engine.Run(ctx, dockercli.Command{Args: args})
		if err != nil || res.ExitCode != 0 {
			t.Errorf("cleanup: engine %q failed: %v %s", args, err, res.Stderr)
			return nil
		}
		return parse.Lines(res.Stdout)
	}
	managed := "label=" + LabelManaged + "=true"

	var containers []string
	for _, name := range run("ps", "--all", "--filter", managed, "--format", "{{.Names}}") {
		if id, ok := strings.CutPrefix(name, "kenv-"); ok && recordedNamePattern.MatchString(id) {
			containers = append(containers, name)
		}
	}
	if len(containers) > 0 {
		t.Logf("cleanup: removing containers %q", containers)
		run(dockercli.RemoveContainersArgs(containers...)...)
	}

	var volumes []string
	for _, name := range run(dockercli.VolumeListArgs(managed)...) {
		if id, ok := strings.CutPrefix(name, "kenv-"); ok && recordedNamePattern.MatchString(id) {
			volumes = append(volumes, name)
		}
	}
	if len(volumes) > 0 {
		t.Logf("cleanup: removing volumes %q", volumes)
		run(dockercli.VolumeRemoveArgs(volumes...)...)
	}

	var images []string
	for _, ref := range run("image", "ls", "--filter", managed, "--format", "{{.Repository}}:{{.Tag}}") {
		repo := strings.TrimPrefix(ref, "localhost/")
		if id, ok := strings.CutPrefix(repo, "kenv/"); ok && recordedNamePattern.MatchString(id) {
			images = append(images, ref)
		}
	}
	if len(images) > 0 {
		t.Logf("cleanup: removing images %q", images)
		run(dockercli.RemoveImagesArgs(images...)...)
	}
}

func TestContract(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob(filepath.Join(goldenDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var engines []string
	for _, dir := range dirs {
		if info, err := os.Stat(dir); err == nil && info.IsDir() {
			engines = append(engines, dir)
		}
	}
	if len(engines) == 0 {
		t.Fatalf("no recordings under %s; record them with `make golden`", goldenDir)
	}
	fake := buildFakedocker(t)

	for _, dir := range engines {
		name := filepath.Base(dir)
		kind := parse.EngineDocker
		if strings.HasPrefix(name, parse.EnginePodman) {
			kind = parse.EnginePodman
		}
		for _, sc := range scenarios {
			path := filepath.Join(dir, sc.name+".json")
			if _, err := os.Stat(path); err != nil {
				if !sc.dockerOnly || kind == parse.EngineDocker {
					t.Errorf("recording %s is missing: %v; record it with `make golden`", path, err)
				}
				continue
			}
			t.Run(name+"/"+sc.name, func(t *testing.T) {
				t.Parallel()
				replayScenario(t, fake, path, sc, kind)
			})
		}
	}
}

// replayScenario runs sc against the recording at path and fails on every
// call that matched no recorded case and every case that no call used.
func replayScenario(t *testing.T, fake, path string, sc scenario, kind string) {
	rec, err := dockercli.ReadRecording(path)
	if err != nil {
		t.Fatal(err)
	}
	state := dockercli.ReplayState(t.TempDir())
	engine := &dockercli.OSExecutor{
		Binary: fake,
		Env:    append(os.Environ(), fakeCasesEnv+"="+path, fakeStateEnv+"="+string(state)),
	}
	ids := &sequentialIDs{}
	d, err := New(Options{Engine: fake, Executor: engine, NewID: ids.next, NoOwner: true})
	if err != nil {
		t.Fatal(err)
	}

	// The checks run also when the scenario stops early, because the first
	// mismatch usually explains the failure.
	defer func() {
		mismatches, err := state.Mismatches()
		if err != nil {
			t.Error(err)
		}
		for _, m := range mismatches {
			t.Errorf("unrecorded engine call: %s", m)
		}
		unused, err := state.Unused(len(rec.Cases))
		if err != nil {
			t.Error(err)
		}
		for _, i := range unused {
			t.Errorf("recorded case %d was never used: %q", i, rec.Cases[i].Argv)
		}
	}()
	sc.run(t, &scenarioRun{d: d, engine: engine, ids: ids, kind: kind, start: rec.RecordedAt})
}

// buildFakedocker builds the fakedocker command into a temporary directory
// and returns its path.
func buildFakedocker(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		if _, statErr := os.Stat(goTool); statErr != nil {
			t.Fatalf("the go command is needed to build fakedocker and is not in PATH: %v", err)
		}
	}
	out := filepath.Join(t.TempDir(), "fakedocker")
	cmd := exec.Command(goTool, "build", "-o", out, "github.com/kenv/kenv/fakedocker")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building fakedocker: %v\n%s", err, output)
	}
	return out
}

// capturedFailure reads the stderr, stdout and exit status that
// parse/testdata/capture.sh saved for one failed engine command.
func capturedFailure(t *testing.T, engine, name string) (stdout, stderr string, exitCode int) {
	t.Helper()
	base := filepath.Join("..", "parse", "testdata", engine, "failures", name)
	read := func(ext string) string {
		data, err := os.ReadFile(base + ext)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		return string(data)
	}
	if _, err := fmt.Sscan(read(".exit"), &exitCode); err != nil {
		t.Fatalf("exit status of %s: %v", base, err)
	}
	return read(".stdout"), read(".stderr"), exitCode
}

// contractAdapter returns an adapter driven by fake, with fixed ids.
func contractAdapter(t *testing.T, fake *dockerclitest.Executor) *Docker {
	t.Helper()
	ids := &sequentialIDs{}
	d, err := New(Options{Executor: fake, NewID: ids.next, NoOwner: true})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestContractDestroyToleratesVanishedContainer(t *testing.T) {
	t.Parallel()
	const id = "rec000000001"
	tests := []struct {
		name     string
		stderr   string
		exitCode int
		wantErr  bool
	}{
		// Measured with `rm --force --volumes` of a missing container.
		{"docker 20.10 client exits 0", "Error: No such container: kenv-" + id + "\n", 0, false},
		{"docker 28 client exits 0", "Error response from daemon: No such container: kenv-" + id + "\n", 0, false},
		{"podman 4.3 exits 0 silently", "", 0, false},
		// Without --force, as in parse/testdata.
		{"docker exits 1", "Error: No such container: kenv-" + id + "\n", 1, false},
		{"podman exits 1", `Error: no container with name or ID "kenv-` + id + `" found: no such container` + "\n", 1, false},
		{"other failure", "Error response from daemon: driver \"overlay2\" failed to remove root filesystem: device or resource busy\n", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := dockerclitest.New()
			fake.On("container", "inspect").Returns("[]", "Error: No such object: kenv-"+id+"\n", 1)
			fake.On("ps").Returns("3014373ad893\n", "", 0)
			fake.On("volume", "ls").Returns("", "", 0)
			fake.On("rm").Returns("", tt.stderr, tt.exitCode)
			err := contractAdapter(t, fake).Destroy(context.Background(), id)
			if tt.wantErr && !errors.Is(err, ErrDestroyFailed) {
				t.Errorf("Destroy: %v, want DESTROY_FAILED", err)
			}
			if !tt.wantErr && err != nil {
				t.Errorf("Destroy: %v, want success", err)
			}
		})
	}
}

func TestContractInspectMissingIsNotFound(t *testing.T) {
	t.Parallel()
	const id = "rec000000001"
	tests := []struct {
		name     string
		stdout   string
		stderr   string
		exitCode int
	}{
		{"docker no such object", "[]\n", "Error: No such object: kenv-" + id + "\n", 1},
		{"docker no such container", "[]\n", "Error: No such container: kenv-" + id + "\n", 1},
		{"podman no such container", "[]\n", "Error: inspecting object: no such container kenv-" + id + "\n", 125},
		{"podman name or ID", "", `Error: no container with name or ID "kenv-` + id + `" found: no such container` + "\n", 125},
		{"podman ID or name", "", `Error: no container with ID or name "kenv-` + id + `" found: no such container` + "\n", 125},
		{"upper case", "[]\n", "ERROR: NO SUCH CONTAINER: kenv-" + id + "\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := dockerclitest.New()
			fake.On("container", "inspect").Returns(tt.stdout, tt.stderr, tt.exitCode)
			if _, err := contractAdapter(t, fake).Get(context.Background(), id); !errors.Is(err, ErrEnvNotFound) {
				t.Errorf("Get: %v, want ENV_NOT_FOUND", err)
			}
		})
	}
}

func TestContractVersionUnreachable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		engine      string
		wantVersion string
	}{
		{"docker-20.10", "20.10.24+dfsg1"},
		{"docker-28-client", "28.2.2"},
	}
	for _, tt := range tests {
		t.Run(tt.engine, func(t *testing.T) {
			t.Parallel()
			stdout, err := os.ReadFile(filepath.Join("..", "parse", "testdata", tt.engine, "version-unreachable.json"))
			if err != nil {
				t.Fatal(err)
			}
			_, stderr, exitCode := capturedFailure(t, tt.engine, "version-unreachable")
			fake := dockerclitest.New()
			fake.On("version").Returns(string(stdout), stderr, exitCode)

			info, err := contractAdapter(t, fake).Info(context.Background())
			if !errors.Is(err, ErrDockerUnavailable) {
				t.Errorf("Info: %v, want DOCKER_UNAVAILABLE", err)
			}
			if info.ClientVersion != tt.wantVersion || info.ServerVersion != "" {
				t.Errorf("Info = client %q server %q, want client %q and no server", info.ClientVersion, info.ServerVersion, tt.wantVersion)
			}
		})
	}
}

func TestContractExecEngineStatuses(t *testing.T) {
	t.Parallel()
	const id = "rec000000001"
	tests := []struct {
		engine   string
		failure  string
		wantCode Code // "" when the status is the command's own
	}{
		{"docker-20.10", "exec-missing-executable", CodeExecFailed},
		{"docker-20.10", "exec-missing-path", CodeExecFailed},
		{"docker-20.10", "exec-not-executable", CodeExecFailed},
		{"docker-28-client", "exec-missing-executable", CodeExecFailed},
		{"podman-4.3", "exec-missing-executable", CodeExecFailed},
		{"podman-4.3", "exec-not-executable", CodeExecFailed},
		{"docker-20.10", "exec-user-exit-125", ""},
		{"docker-20.10", "exec-user-not-found", ""},
		{"docker-20.10", "exec-user-permission", ""},
		{"podman-4.3", "exec-user-exit-125", ""},
		{"podman-4.3", "exec-user-not-found", ""},
	}
	for _, tt := range tests {
		t.Run(tt.engine+"/"+tt.failure, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, exitCode := capturedFailure(t, tt.engine, tt.failure)
			fake := dockerclitest.New()
			fake.On("exec").Returns(stdout, stderr, exitCode)
			res, err := contractAdapter(t, fake).Exec(context.Background(), id, ExecRequest{Argv: []string{"prog"}})
			if errorCode(err) != tt.wantCode {
				t.Errorf("Exec with exit status %d: error %v, want code %q", exitCode, err, tt.wantCode)
			}
			if res.ExitCode != exitCode {
				t.Errorf("exit code = %d, want %d", res.ExitCode, exitCode)
			}
		})
	}
}

func TestContractRunEngineStatuses(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"docker-20.10", "docker-28-client", "podman-4.3"} {
		for _, failure := range []string{"run-missing-executable", "run-not-executable"} {
			t.Run(engine+"/"+failure, func(t *testing.T) {
				t.Parallel()
				_, stderr, exitCode := capturedFailure(t, engine, failure)
				fake := dockerclitest.New()
				fake.On("image", "inspect").Returns("[{}]", "", 0)
				fake.On("run").Returns("", stderr, exitCode)
				onCleanupChecks(fake)
				_, err := contractAdapter(t, fake).Provision(context.Background(), EnvConfig{Image: goldenImage})
				var e *Error
				if !errors.As(err, &e) || e.Code != CodeProvisionFailed || e.Meta["exit_code"] != fmt.Sprint(exitCode) {
					t.Errorf("Provision: %v, want PROVISION_FAILED with exit code %d", err, exitCode)
				}
				assertCleanedUp(t, fake.Commands(), false)
			})
		}
	}
}

func TestContractSnapshotNames(t *testing.T) {
	t.Parallel()
	const id = "rec000000001"

	ref := SnapshotRef(id, "Run-1")
	if !imageRefPattern.MatchString(ref) || ref != strings.ToLower(ref) {
		t.Errorf("SnapshotRef(Run-1) = %q, want a valid lowercase reference", ref)
	}
	if !strings.HasPrefix(ref, "kenv/"+id+":run-1-") {
		t.Errorf("SnapshotRef(Run-1) = %q, want tag run-1 and a hash", ref)
	}

	long := strings.Repeat("Step ", 40)
	other := strings.Repeat("Step ", 39) + "Last "
	refLong, refOther := SnapshotRef(id, long), SnapshotRef(id, other)
	for _, r := range []string{refLong, refOther} {
		_, tag, _ := strings.Cut(r, ":")
		if len(tag) > 128 || !imageRefPattern.MatchString(r) {
			t.Errorf("SnapshotRef of a 200-character name = %q (tag of %d characters), want a valid reference with a tag of at most 128", r, len(tag))
		}
	}
	if refLong != SnapshotRef(id, long) {
		t.Errorf("SnapshotRef is not deterministic: %q, then %q", refLong, SnapshotRef(id, long))
	}
	if refLong == refOther {
		t.Errorf("two long names that differ after 195 characters give the same reference %q", refLong)
	}
}
