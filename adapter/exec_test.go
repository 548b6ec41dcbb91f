package adapter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kenv/kenv/dockercli"
	"github.com/kenv/kenv/dockercli/dockerclitest"
)

const testEnvID = "abcdabcdabcd"

func TestExecResults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		stdout     string
		stderr     string
		exit       int
		wantExit   int
		wantStdout string
		wantStderr string
		wantErr    Code
	}{
		{name: "success", stdout: "out\n", stderr: "err\n", wantStdout: "out\n", wantStderr: "err\n"},
		{name: "command exit code", stdout: "", stderr: "", exit: 7, wantExit: 7},
		{name: "user 127 from its shell", stderr: "sh: no-such-command: not found\n", exit: 127, wantExit: 127, wantStderr: "sh: no-such-command: not found\n"},
		{name: "user 125 with its own words", stderr: "it failed\n", exit: 125, wantExit: 125, wantStderr: "it failed\n"},
		{
			name:     "missing container",
			stderr:   "Error: No such container: kenv-abcdabcdabcd\n",
			exit:     1,
			wantExit: 1, wantStderr: "Error: No such container: kenv-abcdabcdabcd\n",
			wantErr: CodeEnvNotFound,
		},
		{
			name:     "podman missing container",
			stderr:   "Error: no container with name or ID \"kenv-abcdabcdabcd\" found: no such container\n",
			exit:     125,
			wantExit: 125, wantStderr: "Error: no container with name or ID \"kenv-abcdabcdabcd\" found: no such container\n",
			wantErr: CodeEnvNotFound,
		},
		{
			name:     "engine could not find the program",
			stderr:   "OCI runtime exec failed: exec failed: unable to start container process: exec: \"no-such-command\": executable file not found in $PATH: unknown\n",
			exit:     126,
			wantExit: 126, wantStderr: "OCI runtime exec failed: exec failed: unable to start container process: exec: \"no-such-command\": executable file not found in $PATH: unknown\n",
			wantErr: CodeExecFailed,
		},
		{
			name:     "docker prints the runtime failure on stdout",
			stdout:   "OCI runtime exec failed: exec failed: unable to start container process: exec: \"no-such-command\": executable file not found in $PATH: unknown\r\n",
			exit:     126,
			wantExit: 126, wantStdout: "OCI runtime exec failed: exec failed: unable to start container process: exec: \"no-such-command\": executable file not found in $PATH: unknown\r\n",
			wantErr: CodeExecFailed,
		},
		{
			name:     "missing user",
			stdout:   "unable to find user nosuchuser: no matching entries in passwd file\r\n",
			exit:     126,
			wantExit: 126, wantStdout: "unable to find user nosuchuser: no matching entries in passwd file\r\n",
			wantErr: CodeExecFailed,
		},
		{
			name:     "missing working directory",
			stdout:   "OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd (\"/nope\") set in config.json failed: no such file or directory: unknown\r\n",
			exit:     126,
			wantExit: 126, wantStdout: "OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd (\"/nope\") set in config.json failed: no such file or directory: unknown\r\n",
			wantErr: CodeExecFailed,
		},
		{
			name:     "engine words after real output stay the command's",
			stdout:   "partial\n",
			stderr:   "Error: No such container: kenv-abcdabcdabcd\n",
			exit:     1,
			wantExit: 1, wantStdout: "partial\n", wantStderr: "Error: No such container: kenv-abcdabcdabcd\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := dockerclitest.New()
			fake.On("exec").Returns(tt.stdout, tt.stderr, tt.exit)
			d := newTestAdapter(t, fake)

			res, err := d.Exec(context.Background(), testEnvID, ExecRequest{Argv: []string{"cmd"}})
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Exec: %v", err)
			}
			if tt.wantErr != "" && !errors.Is(err, &Error{Code: tt.wantErr}) {
				t.Fatalf("Exec error = %v, want %s", err, tt.wantErr)
			}
			if res.ExitCode != tt.wantExit {
				t.Errorf("exit code = %d, want %d", res.ExitCode, tt.wantExit)
			}
			if string(res.Stdout) != tt.wantStdout || string(res.Stderr) != tt.wantStderr {
				t.Errorf("output = %q / %q, want %q / %q", res.Stdout, res.Stderr, tt.wantStdout, tt.wantStderr)
			}
			if res.Finished.Before(res.Started) {
				t.Errorf("finished %v before started %v", res.Finished, res.Started)
			}
		})
	}
}

func TestExecNotRunningNamesState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		stderr    string
		state     string
		wantState string
	}{
		{"stopped", "Error response from daemon: Container 3014373ad893 is not running\n", "exited", "exited"},
		{"paused", "Error response from daemon: Container kenv-abcdabcdabcd is paused, unpause the container before exec\n", "paused", "paused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := dockerclitest.New()
			fake.On("exec").Returns("", tt.stderr, 1)
			fake.On("container", "inspect").Returns(containerJSON(testEnvID, tt.state), "", 0)
			d := newTestAdapter(t, fake)

			_, err := d.Exec(context.Background(), testEnvID, ExecRequest{Argv: []string{"true"}})
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeEnvNotRunning {
				t.Fatalf("error = %v, want ENV_NOT_RUNNING", err)
			}
			if e.Meta["state"] != tt.wantState || !strings.Contains(e.Message, tt.wantState) {
				t.Errorf("error %q with state %q, want state %q named", e.Message, e.Meta["state"], tt.wantState)
			}
		})
	}
}

func TestExecArgv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		req     ExecRequest
		want    []string
		wantEnv []string // besides the marker
	}{
		{
			name: "argv verbatim",
			req:  ExecRequest{Argv: []string{"printf", "%s|", " a b", "it's", "$HOME", "x\ny", "--"}},
			want: []string{"printf", "%s|", " a b", "it's", "$HOME", "x\ny", "--"},
		},
		{
			name: "shell string",
			req:  ExecRequest{Shell: "echo $HOME && exit 3"},
			want: []string{"sh", "-c", "--", "echo $HOME && exit 3"},
		},
		{
			name:    "options",
			req:     ExecRequest{Argv: []string{"cat"}, Stdin: strings.NewReader("in"), User: "nobody", WorkDir: "/tmp", Env: map[string]string{"B": "2", "A": "1"}},
			want:    []string{"cat"},
			wantEnv: []string{"A=1", "B=2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := dockerclitest.New()
			fake.On("exec").Returns("", "", 0)
			d := newTestAdapter(t, fake)

			if _, err := d.Exec(context.Background(), testEnvID, tt.req); err != nil {
				t.Fatalf("Exec: %v", err)
			}
			args := fake.Calls()[0].Args
			i := indexOf(args, "kenv-"+testEnvID)
			if i < 0 {
				t.Fatalf("argv %q lacks the container name", args)
			}
			if diff := cmp.Diff(tt.want, args[i+1:]); diff != "" {
				t.Errorf("command argv mismatch (-want +got):\n%s", diff)
			}

			var env []string
			for j := 0; j < i; j++ {
				if args[j] == "--env" && !strings.HasPrefix(args[j+1], execMarker+"=") {
					env = append(env, args[j+1])
				}
			}
			if diff := cmp.Diff(tt.wantEnv, env); diff != "" {
				t.Errorf("env mismatch (-want +got):\n%s", diff)
			}
			if !contains(args[:i], "--env") {
				t.Errorf("argv %q lacks the %s marker", args, execMarker)
			}
			if tt.req.Stdin != nil && !contains(args, "--interactive") {
				t.Errorf("argv %q lacks --interactive for stdin", args)
			}
			if tt.req.Stdin == nil && contains(args, "--interactive") {
				t.Errorf("argv %q has --interactive without stdin", args)
			}
			if contains(args, "--tty") || contains(args, "-t") {
				t.Errorf("argv %q allocates a TTY", args)
			}
		})
	}
}

func TestExecInvalidRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  ExecRequest
	}{
		{"empty argv", ExecRequest{}},
		{"empty program", ExecRequest{Argv: []string{""}}},
		{"argv and shell", ExecRequest{Argv: []string{"ls"}, Shell: "ls"}},
		{"NUL in argument", ExecRequest{Argv: []string{"echo", "a\x00b"}}},
		{"relative workdir", ExecRequest{Argv: []string{"ls"}, WorkDir: "tmp"}},
		{"bad env name", ExecRequest{Argv: []string{"ls"}, Env: map[string]string{"A=B": "x"}}},
		{"negative timeout", ExecRequest{Argv: []string{"ls"}, Timeout: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := dockerclitest.New()
			d := newTestAdapter(t, fake)
			_, err := d.Exec(context.Background(), testEnvID, tt.req)
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error = %v, want INVALID_CONFIG", err)
			}
			if len(fake.Calls()) != 0 {
				t.Errorf("engine was called: %q", fake.Commands())
			}
		})
	}
}

func TestExecTimeoutKillsInsideEnvironment(t *testing.T) {
	t.Parallel()
	fake := dockerclitest.New()
	fake.On("exec", "--user", "0").Returns("3\n", "", 0)
	fake.On("exec").Does(func(ctx context.Context, cmd dockercli.Command) (dockercli.Result, error) {
		io.WriteString(cmd.Stdout, "before the hang\n")
		<-ctx.Done()
		return dockercli.Result{ExitCode: -1}, ctx.Err()
	})
	d := newTestAdapter(t, fake)

	start := time.Now()
	res, err := d.Exec(context.Background(), testEnvID, ExecRequest{Argv: []string{"sleep", "1000"}, Timeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrExecTimeout) {
		t.Fatalf("error = %v, want EXEC_TIMEOUT", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Exec returned after %s, want soon after the timeout", elapsed)
	}
	if string(res.Stdout) != "before the hang\n" {
		t.Errorf("stdout = %q, want the output gathered before the timeout", res.Stdout)
	}

	calls := fake.Calls()
	if len(calls) != 2 {
		t.Fatalf("calls = %q, want the exec and one kill", fake.Commands())
	}
	marker := ""
	for _, a := range calls[0].Args {
		if v, ok := strings.CutPrefix(a, execMarker+"="); ok {
			marker = v
		}
	}
	kill := calls[1].Args
	if marker == "" || kill[len(kill)-1] != marker {
		t.Errorf("kill call %q does not target marker %q of the exec", kill, marker)
	}
	var e *Error
	if errors.As(err, &e) && e.Meta["killed_processes"] != "3" {
		t.Errorf("killed_processes = %q, want the count the kill script printed", e.Meta["killed_processes"])
	}
}

func TestExecCanceledKillsInsideEnvironment(t *testing.T) {
	t.Parallel()
	fake := dockerclitest.New()
	fake.On("exec", "--user", "0").Returns("1\n", "", 0)
	fake.On("exec").Delays(time.Hour)
	d := newTestAdapter(t, fake)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := d.Exec(ctx, testEnvID, ExecRequest{Argv: []string{"sleep", "1000"}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if cmds := fake.Commands(); len(cmds) != 2 || !strings.HasPrefix(cmds[1], "exec --user 0 kenv-"+testEnvID+" sh -c") {
		t.Errorf("calls = %q, want the exec then a kill as root", cmds)
	}
}

func TestExecOutputCap(t *testing.T) {
	t.Parallel()
	fake := dockerclitest.New()
	fake.On("exec").Does(func(ctx context.Context, cmd dockercli.Command) (dockercli.Result, error) {
		for i := 0; i < 1000; i++ {
			fmt.Fprintf(cmd.Stdout, "%04d\n", i)
		}
		io.WriteString(cmd.Stderr, "short")
		return dockercli.Result{}, nil
	})
	d := newTestAdapter(t, fake)

	res, err := d.Exec(context.Background(), testEnvID, ExecRequest{Argv: []string{"seq"}, MaxOutputBytes: 20})
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	if want := "0000\n0001\n0998\n0999\n"; string(res.Stdout) != want {
		t.Errorf("stdout = %q, want head and tail %q", res.Stdout, want)
	}
	if !res.StdoutTruncated || res.StdoutDropped != 5000-20 {
		t.Errorf("stdout truncated %t dropped %d, want true and %d", res.StdoutTruncated, res.StdoutDropped, 5000-20)
	}
	if res.StderrTruncated || string(res.Stderr) != "short" {
		t.Errorf("stderr = %q truncated %t, want %q untouched", res.Stderr, res.StderrTruncated, "short")
	}
}

func TestHeadTail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		max         int
		writes      []string
		want        string
		wantDropped int64
	}{
		{"under cap", 10, []string{"abc", "de"}, "abcde", 0},
		{"exactly cap", 4, []string{"ab", "cd"}, "abcd", 0},
		{"one big write", 4, []string{"abcdefgh"}, "abgh", 4},
		{"many small writes", 4, []string{"a", "b", "c", "d", "e", "f", "g"}, "abfg", 3},
		{"tail wraps", 6, []string{"abc", "defg", "hij", "k"}, "abcijk", 5},
		{"unlimited", -1, []string{"abc", "def"}, "abcdef", 0},
		{"zero cap keeps nothing", 0, []string{"abc"}, "", 3},
		{"odd cap", 5, []string{"0123456789"}, "01789", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHeadTail(tt.max)
			for _, w := range tt.writes {
				if n, err := h.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
			}
			got, dropped := h.Bytes()
			if string(got) != tt.want || dropped != tt.wantDropped {
				t.Errorf("Bytes() = %q, %d; want %q, %d", got, dropped, tt.want, tt.wantDropped)
			}
		})
	}
}

func TestHeadTailMemoryBounded(t *testing.T) {
	t.Parallel()
	h := newHeadTail(1024)
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	for i := 0; i < 256; i++ { // 16 MiB in all
		h.Write(chunk)
	}
	if c := cap(h.head) + cap(h.tail); c > 4096 {
		t.Errorf("buffers hold %d bytes of capacity after 16 MiB, want about 1024", c)
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func contains(s []string, v string) bool { return indexOf(s, v) >= 0 }

func TestExecStreamsToWriters(t *testing.T) {
	t.Parallel()
	fake := dockerclitest.New()
	fake.On("exec").Does(func(ctx context.Context, cmd dockercli.Command) (dockercli.Result, error) {
		io.WriteString(cmd.Stdout, strings.Repeat("o", 100))
		io.WriteString(cmd.Stderr, "e")
		return dockercli.Result{}, nil
	})
	d := newTestAdapter(t, fake)

	var out, errOut bytes.Buffer
	res, err := d.Exec(context.Background(), testEnvID, ExecRequest{Argv: []string{"x"}, Stdout: &out, Stderr: &errOut, MaxOutputBytes: 10})
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	if out.Len() != 100 || errOut.String() != "e" {
		t.Errorf("writers got %d stdout bytes and stderr %q, want all 100 and %q", out.Len(), errOut.String(), "e")
	}
	if len(res.Stdout) != 10 || res.StdoutDropped != 90 {
		t.Errorf("result kept %d bytes, dropped %d; want the capped copy of 10 and 90 dropped", len(res.Stdout), res.StdoutDropped)
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestExecFailingWriterIsNotTimeout(t *testing.T) {
	t.Parallel()
	fake := dockerclitest.New()
	fake.On("exec", "--user", "0").Returns("0\n", "", 0)
	fake.On("exec").Returns("output", "", 0)
	d := newTestAdapter(t, fake)

	_, err := d.Exec(context.Background(), testEnvID, ExecRequest{Argv: []string{"x"}, Stdout: failingWriter{}, Timeout: time.Minute})
	if !errors.Is(err, ErrExecFailed) || errors.Is(err, ErrExecTimeout) {
		t.Errorf("error = %v, want EXEC_FAILED and not EXEC_TIMEOUT", err)
	}
}
