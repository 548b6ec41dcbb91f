package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kenv/kenv/dockercli"
)

// markerPattern matches the random marker that the adapter adds to every
// exec.
var markerPattern = regexp.MustCompile(`KENV_EXEC_ID=[a-z0-9]+`)

// execCommands returns the engine calls with the exec marker replaced and
// the kill script shortened, for comparison.
func (tc *testCLI) execCommands() []string {
	var out []string
	for _, c := range tc.fake.Calls() {
		args := make([]string, len(c.Args))
		for i, a := range c.Args {
			if strings.Contains(a, "kenv-kill") || strings.HasPrefix(a, `m="KENV_EXEC_ID=$1"`) {
				a = "KILLSCRIPT"
			}
			args[i] = markerPattern.ReplaceAllString(a, "KENV_EXEC_ID=MARKER")
		}
		joined := strings.Join(args, " ")
		if i := strings.Index(joined, "KILLSCRIPT"); i >= 0 {
			joined = joined[:i] + "KILLSCRIPT"
		}
		out = append(out, joined)
	}
	return out
}

func TestExecPassesOutputAndStatus(t *testing.T) {
	tc := newTestCLI()
	tc.fake.On("exec").Returns("out line\n", "err line\n", 7)

	r := tc.run(t, "exec", "--workdir", "/tmp", "--user", "1000:1000", "--env", "A=1", testEnvID, "--", "sh", "-c", "exit 7")

	if r.Exit != 7 {
		t.Errorf("exit = %d, want the command's 7", r.Exit)
	}
	if r.Stdout != "out line\n" {
		t.Errorf("stdout = %q, want the command's stdout", r.Stdout)
	}
	if r.Stderr != "err line\n" {
		t.Errorf("stderr = %q, want the command's stderr", r.Stderr)
	}
	checkGolden(t, "exec", r, "")
	want := []string{"exec --user 1000:1000 --workdir /tmp --env KENV_EXEC_ID=MARKER --env A=1 kenv-" + testEnvID + " sh -c exit 7"}
	if diff := cmp.Diff(want, tc.execCommands()); diff != "" {
		t.Errorf("engine calls mismatch (-want +got):\n%s", diff)
	}
}

func TestExecWithoutDoubleDash(t *testing.T) {
	tc := newTestCLI()
	tc.fake.On("exec").Returns("ok\n", "", 0)

	r := tc.run(t, "exec", testEnvID, "echo", "ok")

	if r.Exit != 0 || r.Stdout != "ok\n" {
		t.Errorf("exec without -- = %+v, want exit 0 and stdout ok", r)
	}
	want := []string{"exec --env KENV_EXEC_ID=MARKER kenv-" + testEnvID + " echo ok"}
	if diff := cmp.Diff(want, tc.execCommands()); diff != "" {
		t.Errorf("engine calls mismatch (-want +got):\n%s", diff)
	}
}

func TestExecJSON(t *testing.T) {
	tc := newTestCLI()
	tc.fake.On("exec").Returns("out line\n", "err line\n", 7)

	r := tc.run(t, "exec", "--json", testEnvID, "--", "sh", "-c", "exit 7")

	if r.Exit != 7 {
		t.Errorf("exit = %d, want the command's 7", r.Exit)
	}
	checkGolden(t, "exec-json", r, "")
}

func TestExecForwardsStdin(t *testing.T) {
	tc := newTestCLI()
	tc.stdin = "line one\nline two\n"
	tc.fake.On("exec").Returns("2\n", "", 0)

	r := tc.run(t, "exec", "-i", testEnvID, "--", "wc", "-l")

	if r.Exit != 0 || r.Stdout != "2\n" {
		t.Errorf("exec -i = %+v, want exit 0 and stdout 2", r)
	}
	calls := tc.fake.Calls()
	if len(calls) != 1 {
		t.Fatalf("engine calls = %q, want one", tc.fake.Commands())
	}
	if calls[0].Stdin != tc.stdin {
		t.Errorf("engine stdin = %q, want %q", calls[0].Stdin, tc.stdin)
	}
	if calls[0].Args[1] != "--interactive" {
		t.Errorf("exec args = %q, want --interactive first", calls[0].Args)
	}
}

func TestExecWithoutInteractiveSendsNoStdin(t *testing.T) {
	tc := newTestCLI()
	tc.stdin = "not for the command\n"
	tc.fake.On("exec").Returns("", "", 0)

	tc.run(t, "exec", testEnvID, "--", "true")

	calls := tc.fake.Calls()
	if len(calls) != 1 {
		t.Fatalf("engine calls = %q, want one", tc.fake.Commands())
	}
	if calls[0].Stdin != "" {
		t.Errorf("engine stdin = %q, want none without -i", calls[0].Stdin)
	}
}

func TestExecTruncationWarning(t *testing.T) {
	tc := newTestCLI()
	tc.fake.On("exec").Returns(strings.Repeat("0123456789", 10), strings.Repeat("e", 20), 0)

	r := tc.run(t, "exec", "--max-output", "16", testEnvID, "--", "seq", "100")

	checkGolden(t, "exec-truncated", r, "")
}

func TestExecTimeout(t *testing.T) {
	tc := newTestCLI()
	tc.fake.On("exec").Containing("kenv-kill").Returns("2\n", "", 0)
	tc.fake.On("exec").Does(func(ctx context.Context, cmd dockercli.Command) (dockercli.Result, error) {
		cmd.Stdout.Write([]byte("started\n"))
		<-ctx.Done()
		return dockercli.Result{ExitCode: -1}, ctx.Err()
	})

	r := tc.run(t, "exec", "--timeout", "50ms", testEnvID, "--", "sleep", "300")

	if r.Exit != exitTimeout {
		t.Errorf("exit = %d, want %d", r.Exit, exitTimeout)
	}
	checkGolden(t, "exec-timeout", r, "")
	want := []string{
		"exec --env KENV_EXEC_ID=MARKER kenv-" + testEnvID + " sleep 300",
		"exec --user 0 kenv-" + testEnvID + " sh -c KILLSCRIPT",
	}
	if diff := cmp.Diff(want, tc.execCommands()); diff != "" {
		t.Errorf("engine calls mismatch (-want +got):\n%s", diff)
	}
}

// errInterruptSignal stands in for the cause that signal.NotifyContext sets.
var errInterruptSignal = errors.New("interrupt signal received")

func TestExecInterrupted(t *testing.T) {
	tc := newTestCLI()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	tc.ctx = ctx
	tc.fake.On("exec").Containing("kenv-kill").Returns("1\n", "", 0)
	tc.fake.On("exec").Does(func(ctx context.Context, cmd dockercli.Command) (dockercli.Result, error) {
		cmd.Stdout.Write([]byte("partial\n"))
		cancel(errInterruptSignal)
		<-ctx.Done()
		return dockercli.Result{ExitCode: -1}, ctx.Err()
	})

	r := tc.run(t, "exec", testEnvID, "--", "sleep", "300")

	if r.Exit != exitInterrupted {
		t.Errorf("exit = %d, want %d", r.Exit, exitInterrupted)
	}
	checkGolden(t, "exec-interrupted", r, "")
	if cmds := tc.execCommands(); len(cmds) != 2 || !strings.HasSuffix(cmds[1], "KILLSCRIPT") {
		t.Errorf("engine calls = %q, want the exec and then the kill script", cmds)
	}
}

func TestExecInterruptedJSON(t *testing.T) {
	tc := newTestCLI()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	tc.ctx = ctx
	tc.fake.On("exec").Containing("kenv-kill").Returns("1\n", "", 0)
	tc.fake.On("exec").Does(func(ctx context.Context, cmd dockercli.Command) (dockercli.Result, error) {
		cancel(errInterruptSignal)
		<-ctx.Done()
		return dockercli.Result{ExitCode: -1}, ctx.Err()
	})

	r := tc.run(t, "--json", "exec", testEnvID, "--", "sleep", "300")

	checkGolden(t, "exec-interrupted-json", r, "")
}

func TestExecEngineFailures(t *testing.T) {
	cases := []struct {
		name     string
		sample   string // failure sample under parse/testdata/docker-20.10/failures
		inspect  string // container inspect sample, or "" for none
		wantExit int
	}{
		{"not-found", "exec-missing-container", "", exitNotFound},
		{"stopped", "exec-stopped", "docker-20.10/container-inspect-exited.json", exitNotFound},
		{"paused", "exec-paused", "docker-20.10/container-inspect-paused.json", exitNotFound},
		{"daemon-unreachable", "exec-unreachable", "", exitEngine},
		{"program-not-found", "exec-missing-executable", "", exitFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tc := newTestCLI()
			base := "docker-20.10/failures/" + c.sample
			stdout := ""
			if _, err := os.Stat(filepath.Join("..", "..", "parse", "testdata", base+".stdout")); err == nil {
				stdout = recorded(t, base+".stdout")
			}
			tc.fake.On("exec").Returns(stdout, recorded(t, base+".stderr"), recordedExit(t, base+".exit"))
			if c.inspect != "" {
				tc.fake.On("container", "inspect").Returns(inspectOutput(t, kenvContainer(t, c.inspect, testEnvID, nil)), "", 0)
			}

			r := tc.run(t, "exec", testEnvID, "--", "true")

			if r.Exit != c.wantExit {
				t.Errorf("exit = %d, want %d", r.Exit, c.wantExit)
			}
			checkGolden(t, "exec-failure/"+c.name, r, "")
		})
	}
}

func TestExecEngineBinaryMissing(t *testing.T) {
	tc := newTestCLI()
	tc.fake.On("exec").Fails(&dockercli.StartError{Binary: "docker", Err: errors.New(`exec: "docker": executable file not found in $PATH`)})

	r := tc.run(t, "exec", testEnvID, "--", "true")

	if r.Exit != exitEngine {
		t.Errorf("exit = %d, want %d", r.Exit, exitEngine)
	}
	checkGolden(t, "exec-engine-missing", r, "")
}

func TestExecUsageErrorsRunNothing(t *testing.T) {
	cases := []struct {
		name string
		args []string
	}{
		{"no-arguments", []string{"exec"}},
		{"no-command", []string{"exec", testEnvID}},
		{"no-command-after-dashes", []string{"exec", testEnvID, "--"}},
		{"option-after-env", []string{"exec", testEnvID, "--timeout", "5s", "--", "true"}},
		{"invalid-env-id", []string{"exec", "Not-An-Id", "--", "true"}},
		{"relative-workdir", []string{"exec", "--workdir", "tmp", testEnvID, "--", "true"}},
		{"negative-timeout", []string{"exec", "--timeout", "-5s", testEnvID, "--", "true"}},
		{"invalid-timeout", []string{"exec", "--timeout", "soon", testEnvID, "--", "true"}},
		{"invalid-max-output", []string{"exec", "--max-output", "lots", testEnvID, "--", "true"}},
		{"zero-max-output", []string{"exec", "--max-output", "0", testEnvID, "--", "true"}},
		{"env-empty-name", []string{"exec", "--env", "=x", testEnvID, "--", "true"}},
		{"sh-no-script", []string{"sh", testEnvID}},
		{"sh-empty-script", []string{"sh", testEnvID, ""}},
		{"sh-option-after-env", []string{"sh", testEnvID, "--timeout", "5s", "true"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tc := newTestCLI()

			r := tc.run(t, c.args...)

			if r.Exit != exitInvalid {
				t.Errorf("exit = %d, want %d", r.Exit, exitInvalid)
			}
			checkGolden(t, "exec-invalid/"+c.name, r, "")
			tc.assertNoEngineCalls(t)
		})
	}
}

func TestShRunsScript(t *testing.T) {
	tc := newTestCLI()
	tc.fake.On("exec").Returns("hi\n", "", 3)

	r := tc.run(t, "sh", testEnvID, "echo hi; exit 3")

	if r.Exit != 3 || r.Stdout != "hi\n" {
		t.Errorf("sh = %+v, want exit 3 and stdout hi", r)
	}
	want := []string{"exec --env KENV_EXEC_ID=MARKER kenv-" + testEnvID + " sh -c -- echo hi; exit 3"}
	if diff := cmp.Diff(want, tc.execCommands()); diff != "" {
		t.Errorf("engine calls mismatch (-want +got):\n%s", diff)
	}
}

func TestShAcceptsDoubleDash(t *testing.T) {
	tc := newTestCLI()
	tc.fake.On("exec").Returns("", "", 0)

	r := tc.run(t, "sh", testEnvID, "--", "-x-is-not-an-option")

	if r.Exit != 0 {
		t.Errorf("exit = %d, stderr %q, want 0", r.Exit, r.Stderr)
	}
	want := []string{"exec --env KENV_EXEC_ID=MARKER kenv-" + testEnvID + " sh -c -- -x-is-not-an-option"}
	if diff := cmp.Diff(want, tc.execCommands()); diff != "" {
		t.Errorf("engine calls mismatch (-want +got):\n%s", diff)
	}
}

func TestShPassesArguments(t *testing.T) {
	tc := newTestCLI()
	tc.fake.On("exec").Returns("", "", 0)

	tc.run(t, "sh", "--timeout", "1m", testEnvID, `grep -- "$1" /etc/passwd`, "root; rm -rf /")

	calls := tc.fake.Calls()
	if len(calls) != 1 {
		t.Fatalf("engine calls = %q, want one", tc.fake.Commands())
	}
	argv := calls[0].Args[len(calls[0].Args)-6:]
	want := []string{"sh", "-c", "--", `grep -- "$1" /etc/passwd`, "sh", "root; rm -rf /"}
	if diff := cmp.Diff(want, argv); diff != "" {
		t.Errorf("script argv mismatch (-want +got):\n%s", diff)
	}
}

func TestExecOutOfMemoryWarning(t *testing.T) {
	tc := newTestCLI()
	tc.onRunningEnv(t)
	tc.fake.On("exec").Containing("--user", "0").Returns("oom 0\noom_kill 1\n", "", 0)
	tc.fake.On("exec").Returns("", "", 137)

	r := tc.run(t, "exec", testEnvID, "--", "sh", "-c", "x=$(head -c 1g /dev/zero)")

	if r.Exit != 137 {
		t.Errorf("exit = %d, want the command's 137", r.Exit)
	}
	checkGolden(t, "exec-oom", r, "")
}
