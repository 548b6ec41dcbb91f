package dockercli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as a fake engine client: with KENV_TEST_CLIENT set
// it acts on its arguments instead of running tests.
func TestMain(m *testing.M) {
	if os.Getenv("KENV_TEST_CLIENT") == "1" {
		os.Exit(fakeClient(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeClient implements a few verbs: "echo ARGS" prints its args one per
// line, "fail CODE MSG" prints MSG to stderr and exits CODE, "cat" copies
// stdin, "env NAME" prints a variable, "sleep SECONDS" sleeps, and "orphan"
// starts a child that keeps stdout open and exits at once.
func fakeClient(args []string) int {
	if len(args) == 0 {
		return 3
	}
	switch args[0] {
	case "echo":
		for _, a := range args[1:] {
			fmt.Println(a)
		}
	case "fail":
		code, _ := strconv.Atoi(args[1])
		fmt.Fprint(os.Stderr, args[2])
		return code
	case "cat":
		io.Copy(os.Stdout, os.Stdin)
	case "env":
		fmt.Print(os.Getenv(args[1]))
	case "sleep":
		s, _ := strconv.ParseFloat(args[1], 64)
		time.Sleep(time.Duration(s * float64(time.Second)))
	case "orphan":
		c := exec.Command("sleep", "30")
		c.Stdout = os.Stdout
		if err := c.Start(); err != nil {
			return 4
		}
		fmt.Println("started")
	}
	return 0
}

func testExecutor(t *testing.T) *OSExecutor {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return &OSExecutor{Binary: self, Env: append(os.Environ(), "KENV_TEST_CLIENT=1"), WaitDelay: 300 * time.Millisecond}
}

func TestOSExecutorResults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cmd        Command
		wantStdout string
		wantStderr string
		wantExit   int
	}{
		{
			name:       "arguments arrive verbatim",
			cmd:        Command{Args: []string{"echo", " a b", "it's", "$HOME", "--", "*"}},
			wantStdout: " a b\nit's\n$HOME\n--\n*\n",
		},
		{
			name:       "non-zero exit is a result not an error",
			cmd:        Command{Args: []string{"fail", "125", "Error: boom"}},
			wantStderr: "Error: boom",
			wantExit:   125,
		},
		{
			name:       "stdin is copied",
			cmd:        Command{Args: []string{"cat"}, Stdin: strings.NewReader("line1\nline2")},
			wantStdout: "line1\nline2",
		},
		{
			name:       "extra env reaches the client",
			cmd:        Command{Args: []string{"env", "KENV_X"}, Env: []string{"KENV_X=value"}},
			wantStdout: "value",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := testExecutor(t).Run(context.Background(), tt.cmd)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := string(res.Stdout); got != tt.wantStdout {
				t.Errorf("stdout = %q, want %q", got, tt.wantStdout)
			}
			if got := string(res.Stderr); got != tt.wantStderr {
				t.Errorf("stderr = %q, want %q", got, tt.wantStderr)
			}
			if res.ExitCode != tt.wantExit {
				t.Errorf("exit code = %d, want %d", res.ExitCode, tt.wantExit)
			}
		})
	}
}

func TestOSExecutorWriters(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	res, err := testExecutor(t).Run(context.Background(), Command{Args: []string{"echo", "x"}, Stdout: &out})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if out.String() != "x\n" {
		t.Errorf("writer got %q, want %q", out.String(), "x\n")
	}
	if len(res.Stdout) != 0 {
		t.Errorf("Result.Stdout = %q, want empty when a writer is set", res.Stdout)
	}
}

func TestOSExecutorMissingBinary(t *testing.T) {
	t.Parallel()
	e := &OSExecutor{Binary: "/nonexistent/kenv-no-such-engine"}
	_, err := e.Run(context.Background(), Command{Args: []string{"version"}})
	var se *StartError
	if !errors.As(err, &se) {
		t.Fatalf("error = %v, want *StartError", err)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error = %v, want it to wrap os.ErrNotExist", err)
	}
}

func TestOSExecutorCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := testExecutor(t).Run(ctx, Command{Args: []string{"sleep", "30"}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Run returned after %s, want the client killed promptly", elapsed)
	}
}

func TestOSExecutorOrphanHoldingStdout(t *testing.T) {
	t.Parallel()
	start := time.Now()
	res, err := testExecutor(t).Run(context.Background(), Command{Args: []string{"orphan"}})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.ExitCode != 0 || !strings.Contains(string(res.Stdout), "started") {
		t.Errorf("result = exit %d stdout %q, want exit 0 with %q", res.ExitCode, res.Stdout, "started")
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("Run waited %s for a grandchild's pipe, want at most about WaitDelay", elapsed)
	}
}

func TestCommandName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"two words", []string{"container", "inspect", "x"}, "container inspect"},
		{"stops at flag", []string{"run", "--env", "SECRET=x"}, "run"},
		{"empty", nil, ""},
	}
	for _, tt := range tests {
		if got := CommandName(tt.args); got != tt.want {
			t.Errorf("%s: CommandName(%q) = %q, want %q", tt.name, tt.args, got, tt.want)
		}
	}
}
