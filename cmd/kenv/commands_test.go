package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/kenv/kenv/adapter"
	"github.com/kenv/kenv/dockercli"
)

// Environment ids of the listing tests.
const (
	oldEnvID     = "oldenv234567"
	exitedEnvID  = "exitedenv234"
	orphanEnvID  = "orphanenv234"
	managedLabel = "label=kenv.managed=true"
)

// onListing scripts `ps` and `container inspect` for two environments: one
// running with a user label, one whose main process exited.
func (tc *testCLI) onListing(t *testing.T) {
	t.Helper()
	running := kenvContainer(t, "docker-20.10/container-inspect-limits.json", oldEnvID, map[string]string{"team": "search", "task": "42"})
	exited := kenvContainer(t, "docker-20.10/container-inspect-oom.json", exitedEnvID, nil)
	tc.fake.On("ps", "--all", "--quiet", "--no-trunc", "--filter", managedLabel).Times(1).
		Returns(fmt.Sprintf("%s\n%s\n", running["Id"], exited["Id"]), "", 0)
	tc.fake.On("container", "inspect").Returns(inspectOutput(t, running, exited), "", 0)
}

// volumeInspect renders `volume inspect` output of Docker 20.10 for a kenv
// volume named "data".
func volumeInspect(envID, created string) string {
	return fmt.Sprintf(`[
    {
        "CreatedAt": %q,
        "Driver": "local",
        "Labels": {
            "kenv.env": %q,
            "kenv.managed": "true",
            "kenv.version": "0.1.0",
            "kenv.volume": "data"
        },
        "Mountpoint": "/var/lib/docker/volumes/kenv-%s-data/_data",
        "Name": "kenv-%s-data",
        "Options": null,
        "Scope": "local"
    }
]
`, created, envID, envID, envID)
}

func TestLs(t *testing.T) {
	tc := newTestCLI()
	tc.onListing(t)

	r := tc.run(t, "ls")

	checkGolden(t, "ls", r, "")
}

func TestLsJSON(t *testing.T) {
	tc := newTestCLI()
	tc.onListing(t)

	r := tc.run(t, "ls", "--json")

	checkGolden(t, "ls-json", r, "")
}

func TestLsEmpty(t *testing.T) {
	cases := []struct {
		golden string
		args   []string
	}{
		{"ls-empty", []string{"ls"}},
		{"ls-empty-json", []string{"ls", "--json"}},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			tc := newTestCLI()
			tc.fake.On("ps").Returns("", "", 0)

			r := tc.run(t, c.args...)

			checkGolden(t, c.golden, r, "")
			tc.assertCommands(t, "ps --all --quiet --no-trunc --filter "+managedLabel)
		})
	}
}

func TestLsDaemonUnreachable(t *testing.T) {
	tc := newTestCLI()
	tc.fake.On("ps").Returns("", recorded(t, "docker-20.10/failures/ps-unreachable.stderr"),
		recordedExit(t, "docker-20.10/failures/ps-unreachable.exit"))

	r := tc.run(t, "ls")

	if r.Exit != exitEngine {
		t.Errorf("exit = %d, want %d", r.Exit, exitEngine)
	}
	checkGolden(t, "ls-unreachable", r, "")
}

func TestLsDaemonUnreachableJSON(t *testing.T) {
	tc := newTestCLI()
	tc.fake.On("ps").Returns("", recorded(t, "docker-20.10/failures/ps-unreachable.stderr"),
		recordedExit(t, "docker-20.10/failures/ps-unreachable.exit"))

	r := tc.run(t, "--json", "ls")

	checkGolden(t, "ls-unreachable-json", r, "")
}

// onGC scripts a GC listing of the two environments of onListing plus the
// volume of an environment whose container is gone, and the destroy calls.
func (tc *testCLI) onGC(t *testing.T) {
	t.Helper()
	// Destroy inspects each container by name first; these answers send it
	// down the path that lists by label, which the rules below script.
	for _, id := range []string{oldEnvID, exitedEnvID, orphanEnvID} {
		tc.fake.On("container", "inspect", "kenv-"+id).Returns("[]", "Error: No such object: kenv-"+id+"\n", 1)
	}
	tc.onListing(t)
	tc.fake.On("volume", "ls", "--quiet", "--filter", managedLabel).Times(1).
		Returns("kenv-"+orphanEnvID+"-data\n", "", 0)
	tc.fake.On("volume", "inspect").Returns(volumeInspect(orphanEnvID, "2026-12-04T19:00:00Z"), "", 0)
	for _, id := range []string{oldEnvID, exitedEnvID, orphanEnvID} {
		tc.fake.On("ps").Containing("label=kenv.env="+id).Returns("cid-"+id+"\n", "", 0)
		tc.fake.On("volume", "ls").Containing("label=kenv.env="+id).Returns("", "", 0)
	}
	tc.fake.On("volume", "rm").Returns("", "", 0)
	tc.fake.On("rm").Returns("", "", 0)
}

func TestGCDryRun(t *testing.T) {
	tc := newTestCLI()
	tc.onGC(t)

	r := tc.run(t, "gc", "--dry-run", "--older-than", "1m")

	checkGolden(t, "gc-dry-run", r, "")
	for _, cmd := range tc.fake.Commands() {
		if strings.HasPrefix(cmd, "rm ") || strings.HasPrefix(cmd, "volume rm") {
			t.Errorf("dry run removed something: %s", cmd)
		}
	}
}

func TestGCDestroys(t *testing.T) {
	tc := newTestCLI()
	tc.onGC(t)

	r := tc.run(t, "gc", "--older-than", "1m")

	checkGolden(t, "gc", r, "")
	var removed []string
	for _, cmd := range tc.fake.Commands() {
		if strings.HasPrefix(cmd, "rm ") {
			removed = append(removed, cmd)
		}
	}
	want := []string{"rm --force --volumes cid-" + exitedEnvID, "rm --force --volumes cid-" + oldEnvID, "rm --force --volumes cid-" + orphanEnvID}
	if strings.Join(removed, "\n") != strings.Join(want, "\n") {
		t.Errorf("removals = %q, want %q", removed, want)
	}
}

func TestGCJSON(t *testing.T) {
	tc := newTestCLI()
	tc.onGC(t)

	r := tc.run(t, "gc", "--json", "--dry-run")

	checkGolden(t, "gc-json", r, "")
}

func TestGCNothing(t *testing.T) {
	tc := newTestCLI()
	tc.fake.On("ps").Returns("", "", 0)
	tc.fake.On("volume", "ls").Returns("", "", 0)

	r := tc.run(t, "gc")

	checkGolden(t, "gc-nothing", r, "")
}

func TestGCInvalidOlderThan(t *testing.T) {
	for _, value := range []string{"-1h", "soon"} {
		t.Run(value, func(t *testing.T) {
			tc := newTestCLI()

			r := tc.run(t, "gc", "--older-than", value)

			if r.Exit != exitInvalid {
				t.Errorf("exit = %d, want %d", r.Exit, exitInvalid)
			}
			checkGolden(t, "gc-invalid-"+strings.TrimPrefix(value, "-"), r, "")
			tc.assertNoEngineCalls(t)
		})
	}
}

func TestDestroy(t *testing.T) {
	tc := newTestCLI()
	tc.fake.On("container", "inspect").Returns("[]", "Error: No such object: kenv-"+testEnvID+"\n", 1)
	tc.fake.On("ps").Containing("label=kenv.env="+testEnvID).Returns("cid-1\n", "", 0)
	tc.fake.On("volume", "ls").Containing("label=kenv.env="+testEnvID).Returns("kenv-"+testEnvID+"-data\n", "", 0)
	tc.fake.On("ps").Returns("", "", 0)
	tc.fake.On("volume", "ls").Returns("", "", 0)
	tc.fake.On("rm").Returns("cid-1\n", "", 0)
	tc.fake.On("volume", "rm").Returns("kenv-"+testEnvID+"-data\n", "", 0)
	tc.fake.On("volume", "inspect").Returns(volumeInspect(testEnvID, "2026-12-04T20:02:45Z"), "", 0)

	r := tc.run(t, "destroy", testEnvID, "gone23456789")

	checkGolden(t, "destroy", r, "")
	var removals []string
	for _, cmd := range tc.fake.Commands() {
		if strings.HasPrefix(cmd, "rm ") || strings.HasPrefix(cmd, "volume rm ") {
			removals = append(removals, cmd)
		}
	}
	if len(removals) != 2 || !strings.HasSuffix(removals[0], " cid-1") || !strings.HasSuffix(removals[1], " kenv-"+testEnvID+"-data") {
		t.Errorf("removals = %q, want the container cid-1, then the volume kenv-%s-data", removals, testEnvID)
	}
}

func TestDestroyJSON(t *testing.T) {
	tc := newTestCLI()
	tc.fake.On("container", "inspect").Returns("[]", "Error: No such object: kenv-"+testEnvID+"\n", 1)
	tc.fake.On("ps").Returns("", "", 0)
	tc.fake.On("volume", "ls").Returns("", "", 0)

	r := tc.run(t, "destroy", "--json", testEnvID)

	checkGolden(t, "destroy-json", r, "")
}

func TestDestroyMalformedIDDestroysNothing(t *testing.T) {
	tc := newTestCLI()
	tc.fake.On("ps").Returns("", "", 0)
	tc.fake.On("volume", "ls").Returns("", "", 0)

	r := tc.run(t, "destroy", "--json", testEnvID, "Bad-Id")

	if r.Exit != exitInvalid {
		t.Errorf("exit = %d, want %d", r.Exit, exitInvalid)
	}
	checkGolden(t, "destroy-partial", r, "")
	tc.assertNoEngineCalls(t)
}

func TestDestroyNoArguments(t *testing.T) {
	tc := newTestCLI()

	r := tc.run(t, "destroy")

	if r.Exit != exitInvalid {
		t.Errorf("exit = %d, want %d", r.Exit, exitInvalid)
	}
	checkGolden(t, "destroy-no-arguments", r, "")
	tc.assertNoEngineCalls(t)
}

// onLogs scripts `logs` with the recorded sample, leaving out its lines of
// 16 KiB and more to keep the golden file readable.
func (tc *testCLI) onLogs(t *testing.T) {
	t.Helper()
	var short []string
	for _, line := range strings.SplitAfter(recorded(t, "docker-20.10/logs.txt"), "\n") {
		if len(line) < 200 {
			short = append(short, line)
		}
	}
	tc.fake.On("logs").Returns(strings.Join(short, ""), recorded(t, "docker-20.10/logs-stderr.txt"), 0)
}

func TestLogs(t *testing.T) {
	tc := newTestCLI()
	tc.onLogs(t)

	r := tc.run(t, "logs", "--since", "10m", "--tail", "20", testEnvID)

	checkGolden(t, "logs", r, "")
	tc.assertCommands(t, "logs --timestamps --since 10m --tail 20 kenv-"+testEnvID)
}

func TestLogsJSON(t *testing.T) {
	tc := newTestCLI()
	tc.onLogs(t)

	r := tc.run(t, "logs", "--json", testEnvID)

	checkGolden(t, "logs-json", r, "")
}

func TestLogsNotFound(t *testing.T) {
	tc := newTestCLI()
	tc.fake.On("logs").Returns("", recorded(t, "docker-20.10/failures/logs-missing-container.stderr"),
		recordedExit(t, "docker-20.10/failures/logs-missing-container.exit"))

	r := tc.run(t, "logs", testEnvID)

	if r.Exit != exitNotFound {
		t.Errorf("exit = %d, want %d", r.Exit, exitNotFound)
	}
	checkGolden(t, "logs-not-found", r, "")
}

func TestLogsFollowInterrupted(t *testing.T) {
	tc := newTestCLI()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	tc.ctx = ctx
	tc.fake.On("logs").Does(func(ctx context.Context, cmd dockercli.Command) (dockercli.Result, error) {
		cmd.Stdout.Write([]byte("2026-12-04T20:02:46.395179968Z first line\n"))
		go cancel(errInterruptSignal)
		<-ctx.Done()
		return dockercli.Result{ExitCode: -1}, ctx.Err()
	})

	r := tc.run(t, "logs", "--follow", testEnvID)

	if r.Exit != exitInterrupted {
		t.Errorf("exit = %d, want %d", r.Exit, exitInterrupted)
	}
	if r.Stderr != "" {
		t.Errorf("stderr = %q, want nothing after Ctrl-C", r.Stderr)
	}
	tc.assertCommands(t, "logs --timestamps --follow kenv-"+testEnvID)
}

func TestLogsInvalidOptions(t *testing.T) {
	cases := []struct {
		name string
		args []string
	}{
		{"since", []string{"logs", "--since", "yesterday", testEnvID}},
		{"until-negative", []string{"logs", "--until", "-5m", testEnvID}},
		{"tail-negative", []string{"logs", "--tail", "-1", testEnvID}},
		{"tail-word", []string{"logs", "--tail", "all", testEnvID}},
		{"no-id", []string{"logs"}},
		{"two-ids", []string{"logs", testEnvID, oldEnvID}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tc := newTestCLI()

			r := tc.run(t, c.args...)

			if r.Exit != exitInvalid {
				t.Errorf("exit = %d, want %d", r.Exit, exitInvalid)
			}
			checkGolden(t, "logs-invalid/"+c.name, r, "")
			tc.assertNoEngineCalls(t)
		})
	}
}

func TestLogTimeForms(t *testing.T) {
	valid := []string{"10m", "1h30m", "1700000000", "1700000000.5", "2024-05-01T12:00:00Z", "2024-05-01T12:00:00.123+02:00", "2024-05-01T12:00:00", "2024-05-01"}
	for _, v := range valid {
		if !validLogTime(v) {
			t.Errorf("validLogTime(%q) = false, want true", v)
		}
	}
	invalid := []string{"yesterday", "-5m", "0s", "2024-13-01", "12:00"}
	for _, v := range invalid {
		if validLogTime(v) {
			t.Errorf("validLogTime(%q) = true, want false", v)
		}
	}
}

func TestSnapshot(t *testing.T) {
	for _, json := range []bool{false, true} {
		t.Run(fmt.Sprintf("json=%t", json), func(t *testing.T) {
			tc := newTestCLI()
			tc.onRunningEnv(t)
			tc.fake.On("commit").Returns("sha256:bda9f693367f0f2954c31c1ff5adf183babe0bf2e15e2551e3da5054639f0d9e\n", "", 0)
			tc.fake.On("image", "inspect").Returns(recorded(t, "docker-20.10/image-inspect-labelled.json"), "", 0)

			args := []string{"snapshot", "--name", "step-1", testEnvID}
			name := "snapshot"
			if json {
				args = append([]string{"--json"}, args...)
				name = "snapshot-json"
			}
			r := tc.run(t, args...)

			checkGolden(t, name, r, "")
		})
	}
}

func TestSnapshotNotFound(t *testing.T) {
	tc := newTestCLI()
	tc.fake.On("container", "inspect").Returns("[]\n", recorded(t, "docker-20.10/failures/inspect-missing-container.stderr"),
		recordedExit(t, "docker-20.10/failures/inspect-missing-container.exit"))

	r := tc.run(t, "snapshot", testEnvID)

	if r.Exit != exitNotFound {
		t.Errorf("exit = %d, want %d", r.Exit, exitNotFound)
	}
	checkGolden(t, "snapshot-not-found", r, "")
}

// onVersion scripts `version` with a recorded sample and its exit status.
func (tc *testCLI) onVersion(t *testing.T, sample string, stderr string, exit int) {
	t.Helper()
	tc.fake.On("version").Returns(recorded(t, sample), stderr, exit)
}

func TestDoctor(t *testing.T) {
	tc := newTestCLI()
	tc.onVersion(t, "docker-28-client/version.json", "", 0)
	tc.onListing(t)

	r := tc.run(t, "doctor")

	if r.Exit != 0 {
		t.Errorf("exit = %d, want 0", r.Exit)
	}
	checkGolden(t, "doctor", r, "")
}

func TestDoctorJSON(t *testing.T) {
	tc := newTestCLI()
	tc.env = []string{"DOCKER_HOST=unix:///run/user/1000/docker.sock"}
	tc.onVersion(t, "docker-20.10/version.json", "", 0)
	tc.onListing(t)

	r := tc.run(t, "doctor", "--json")

	checkGolden(t, "doctor-json", r, "")
}

func TestDoctorPodman(t *testing.T) {
	tc := newTestCLI()
	tc.onVersion(t, "podman-4.3/version.json", "", 0)
	tc.fake.On("ps").Returns("", "", 0)

	r := tc.run(t, "--engine", "podman", "doctor")

	if tc.engine != "podman" {
		t.Errorf("adapter engine = %q, want podman", tc.engine)
	}
	checkGolden(t, "doctor-podman", r, "")
}

func TestDoctorDaemonDown(t *testing.T) {
	tc := newTestCLI()
	tc.onVersion(t, "docker-20.10/version-unreachable.json",
		recorded(t, "docker-20.10/failures/version-unreachable.stderr"),
		recordedExit(t, "docker-20.10/failures/version-unreachable.exit"))

	r := tc.run(t, "doctor")

	if r.Exit != exitEngine {
		t.Errorf("exit = %d, want %d", r.Exit, exitEngine)
	}
	checkGolden(t, "doctor-daemon-down", r, "")
}

func TestDoctorBinaryMissing(t *testing.T) {
	tc := newTestCLI()
	tc.lookPath = func(file string) (string, error) {
		return "", &exec.Error{Name: file, Err: exec.ErrNotFound}
	}

	r := tc.run(t, "--engine", "nerdctl", "doctor")

	if r.Exit != exitEngine {
		t.Errorf("exit = %d, want %d", r.Exit, exitEngine)
	}
	checkGolden(t, "doctor-binary-missing", r, "")
	tc.assertNoEngineCalls(t)
}

func TestDoctorListFails(t *testing.T) {
	tc := newTestCLI()
	tc.onVersion(t, "docker-20.10/version.json", "", 0)
	tc.fake.On("ps").Returns("", "permission denied while trying to connect to the Docker daemon socket\n", 1)

	r := tc.run(t, "doctor")

	if r.Exit != exitFailed {
		t.Errorf("exit = %d, want %d", r.Exit, exitFailed)
	}
	checkGolden(t, "doctor-list-fails", r, "")
}

func TestVersion(t *testing.T) {
	cases := []struct {
		golden string
		args   []string
	}{
		{"version", []string{"version"}},
		{"version-json", []string{"version", "--json"}},
		{"version-flag", []string{"--version"}},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			tc := newTestCLI()

			r := tc.run(t, c.args...)

			checkGolden(t, c.golden, r, "")
			tc.assertNoEngineCalls(t)
		})
	}
}

func TestEngineFromEnvironment(t *testing.T) {
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"default", nil, []string{"version"}, "docker"},
		{"KENV_ENGINE", []string{"KENV_ENGINE=podman"}, []string{"version"}, "podman"},
		{"option wins", []string{"KENV_ENGINE=podman"}, []string{"--engine", "/usr/local/bin/docker", "version"}, "/usr/local/bin/docker"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tc := newTestCLI()
			tc.env = c.env

			tc.run(t, c.args...)

			if tc.engine != c.want {
				t.Errorf("engine = %q, want %q", tc.engine, c.want)
			}
		})
	}
}

func TestDebugLogsEngineCalls(t *testing.T) {
	tc := newTestCLI()
	tc.fake.On("ps").Returns("", "", 0)

	r := tc.run(t, "--debug", "ls")

	checkGolden(t, "debug", r, "")
}

func TestGlobalOptionAfterCommand(t *testing.T) {
	tc := newTestCLI()

	r := tc.run(t, "ls", "--engine", "podman")

	if r.Exit != exitInvalid {
		t.Errorf("exit = %d, want %d", r.Exit, exitInvalid)
	}
	checkGolden(t, "global-option-after-command", r, "")
	tc.assertNoEngineCalls(t)
}

func TestUnknownCommand(t *testing.T) {
	tc := newTestCLI()

	r := tc.run(t, "provison", "--image", "x")

	if r.Exit != exitInvalid {
		t.Errorf("exit = %d, want %d", r.Exit, exitInvalid)
	}
	checkGolden(t, "unknown-command", r, "")
	tc.assertNoEngineCalls(t)
}

func TestRootHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			tc := newTestCLI()

			r := tc.run(t, args...)

			if r.Exit != 0 {
				t.Errorf("exit = %d, want 0", r.Exit)
			}
			checkGolden(t, "help", r, "")
			tc.assertNoEngineCalls(t)
		})
	}
}

func TestCommandHelp(t *testing.T) {
	for _, cmd := range []string{"provision", "exec", "sh", "logs", "snapshot", "destroy", "ls", "gc", "doctor", "version"} {
		t.Run(cmd, func(t *testing.T) {
			tc := newTestCLI()

			r := tc.run(t, cmd, "--help")

			if r.Exit != 0 {
				t.Errorf("exit = %d, want 0", r.Exit)
			}
			checkGolden(t, "help-"+cmd, r, "")
			tc.assertNoEngineCalls(t)
		})
	}
}

func TestExitCodeTable(t *testing.T) {
	cases := map[string]int{
		"INVALID_CONFIG":                exitInvalid,
		"UNSUPPORTED_M1_NETWORK_POLICY": exitInvalid,
		"ENV_NOT_FOUND":                 exitNotFound,
		"ENV_NOT_RUNNING":               exitNotFound,
		"DOCKER_UNAVAILABLE":            exitEngine,
		"ENGINE_TIMEOUT":                exitEngine,
		"EXEC_TIMEOUT":                  exitTimeout,
		"PROVISION_FAILED":              exitFailed,
		"EXEC_FAILED":                   exitFailed,
		"LOGS_FAILED":                   exitFailed,
		"SNAPSHOT_FAILED":               exitFailed,
		"DESTROY_FAILED":                exitFailed,
		"ENGINE_FAILED":                 exitFailed,
		"KENV_FAILED":                   exitFailed,
		"INTERRUPTED":                   exitInterrupted,
	}
	for code, want := range cases {
		if got := exitCodeOf(adapter.Code(code)); got != want {
			t.Errorf("exitCodeOf(%s) = %d, want %d", code, got, want)
		}
	}
}

func TestErrorThatIsNotAnAdapterError(t *testing.T) {
	e := asKenvError(errors.New("write /dev/stdout: broken pipe"))

	if e.Code != codeInternal {
		t.Errorf("code = %s, want %s", e.Code, codeInternal)
	}
	if got := errorLine(e); got != "kenv: write /dev/stdout: broken pipe [KENV_FAILED]" {
		t.Errorf("error line = %q", got)
	}
}

func TestSnapshotEmptyNameRejected(t *testing.T) {
	tc := newTestCLI()

	r := tc.run(t, "snapshot", "--name", "", testEnvID)

	if r.Exit != exitInvalid {
		t.Errorf("exit = %d, want %d", r.Exit, exitInvalid)
	}
	if !strings.Contains(r.Stderr, "--name is empty") {
		t.Errorf("stderr = %q, want it to name the empty --name", r.Stderr)
	}
	tc.assertNoEngineCalls(t)
}
