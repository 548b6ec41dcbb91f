package adapter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kenv/kenv/dockercli"
)

// privateDaemon is a dockerd that one test starts for itself, so that the test
// can freeze, stop and restart it, and list everything on it, without touching
// the host's main daemon. It keeps its data, state, socket, pid file and log in
// one short folder under /tmp, because a unix socket path must stay under about
// 100 bytes.
//
// It runs in a network namespace of its own, because dockerd 20.10 started
// with --bridge none deletes the interface named docker0 (seen on the test
// machine), which in the host's namespace is the main daemon's bridge.
type privateDaemon struct {
	dir  string
	host string // the DOCKER_HOST value of the daemon's socket
	bin  string // path of dockerd

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
	frozen bool
}

// startPrivateDaemon starts a dockerd with the test image loaded, and stops it
// and removes its folder when the test ends. It skips the test unless
// KENV_DOCKER_E2E=1 and the end-to-end engine is docker, and when the test
// does not run as root, which dockerd needs.
func startPrivateDaemon(t *testing.T) *privateDaemon {
	t.Helper()
	if os.Getenv("KENV_DOCKER_E2E") != "1" {
		t.Skip("set KENV_DOCKER_E2E=1 to run end-to-end tests against a real engine")
	}
	if filepath.Base(e2eEngine()) != "docker" {
		t.Skipf("this test starts a private dockerd, which the engine %q cannot use", e2eEngine())
	}
	if os.Geteuid() != 0 {
		t.Skip("starting a private dockerd needs root")
	}
	bin, err := exec.LookPath("dockerd")
	if err != nil {
		bin = "/usr/sbin/dockerd"
		if _, statErr := os.Stat(bin); statErr != nil {
			t.Fatalf("KENV_DOCKER_E2E=1 but dockerd is missing (%v); install the docker.io package", err)
		}
	}

	dir, err := os.MkdirTemp("/tmp", "kr")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "daemon.json"), []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &privateDaemon{dir: dir, host: "unix://" + filepath.Join(dir, "docker.sock"), bin: bin}
	t.Cleanup(func() { p.remove(t) })

	p.start(t)
	p.loadImage(t, e2eImage())
	return p
}

// start runs dockerd on the daemon's folders and waits until it responds.
func (p *privateDaemon) start(t *testing.T) {
	t.Helper()
	logFile, err := os.OpenFile(filepath.Join(p.dir, "dockerd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()

	cmd := exec.Command(p.bin,
		"--config-file", filepath.Join(p.dir, "daemon.json"),
		"--data-root", filepath.Join(p.dir, "data"),
		"--exec-root", filepath.Join(p.dir, "exec"),
		"--pidfile", filepath.Join(p.dir, "docker.pid"),
		"--host", p.host,
		"--bridge", "none",
		"--iptables=false",
		"--ip-masq=false",
		"--ip-forward=false",
		"--shutdown-timeout", "1",
	)
	cmd.Env = clientEnv("")
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Cloneflags: syscall.CLONE_NEWNET}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the private dockerd: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()

	p.mu.Lock()
	p.cmd, p.exited, p.frozen = cmd, exited, false
	p.mu.Unlock()

	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := p.run("version", "--format", "{{.Server.Version}}"); err == nil {
			return
		}
		select {
		case <-exited:
			t.Fatalf("the private dockerd exited before responding; end of its log:\n%s", p.logTail())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the private dockerd did not respond within 60s; end of its log:\n%s", p.logTail())
		}
	}
}

// loadImage copies image from the main engine into the private daemon, since
// nothing can be pulled.
func (p *privateDaemon) loadImage(t *testing.T, image string) {
	t.Helper()
	save := exec.Command(e2eEngine(), "save", image)
	load := exec.Command(e2eEngine(), "load", "--quiet")
	load.Env = p.env()
	pipe, err := save.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	load.Stdin = pipe
	var saveErr, loadOut bytes.Buffer
	save.Stderr = &saveErr
	load.Stdout = &loadOut
	load.Stderr = &loadOut
	if err := save.Start(); err != nil {
		t.Fatalf("%s save: %v", e2eEngine(), err)
	}
	loadErr := load.Run()
	if err := save.Wait(); err != nil {
		t.Fatalf("%s save %s: %v: %s", e2eEngine(), image, err, saveErr.Bytes())
	}
	if loadErr != nil {
		t.Fatalf("loading %s into the private dockerd: %v: %s", image, loadErr, loadOut.Bytes())
	}
}

// signal sends sig to dockerd alone, not to its containerd.
func (p *privateDaemon) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch sig {
	case syscall.SIGSTOP:
		p.frozen = true
	case syscall.SIGCONT:
		p.frozen = false
	case syscall.SIGTERM:
		if p.frozen {
			p.cmd.Process.Signal(syscall.SIGCONT)
			p.frozen = false
		}
	}
	return p.cmd.Process.Signal(sig)
}

// freeze stops the daemon with SIGSTOP: it keeps its socket, so clients
// connect and then wait for a response that never comes. It may run on any
// goroutine.
func (p *privateDaemon) freeze(t *testing.T) {
	if err := p.signal(syscall.SIGSTOP); err != nil {
		t.Errorf("SIGSTOP to the private dockerd: %v", err)
	}
}

// thaw resumes a frozen daemon.
func (p *privateDaemon) thaw(t *testing.T) {
	p.mu.Lock()
	frozen := p.frozen
	p.mu.Unlock()
	if !frozen {
		return
	}
	if err := p.signal(syscall.SIGCONT); err != nil {
		t.Errorf("SIGCONT to the private dockerd: %v", err)
	}
}

// waitExited waits until dockerd has exited after a SIGTERM.
func (p *privateDaemon) waitExited(t *testing.T, limit time.Duration) {
	t.Helper()
	p.mu.Lock()
	exited := p.exited
	p.mu.Unlock()
	select {
	case <-exited:
	case <-time.After(limit):
		t.Fatalf("the private dockerd did not exit within %s of SIGTERM; end of its log:\n%s", limit, p.logTail())
	}
}

// socketClosed reports whether the daemon no longer accepts connections.
func (p *privateDaemon) socketClosed() bool {
	conn, err := net.DialTimeout("unix", strings.TrimPrefix(p.host, "unix://"), 200*time.Millisecond)
	if err != nil {
		return true
	}
	conn.Close()
	return false
}

// remove stops the daemon and deletes its folder. Containers are removed
// first so that no container shim outlives the daemon.
func (p *privateDaemon) remove(t *testing.T) {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd != nil {
		p.thaw(t)
		select {
		case <-exited:
		default:
			if ids, err := p.run("ps", "--all", "--quiet"); err == nil && ids != "" {
				p.run(append([]string{"rm", "--force", "--volumes"}, strings.Fields(ids)...)...)
			}
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(30 * time.Second):
				t.Errorf("the private dockerd did not stop within 30s of SIGTERM; killing its process group")
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-exited
			}
		}
	}
	if mounts := p.mounts(); len(mounts) > 0 {
		t.Errorf("mounts left under %s after the private dockerd stopped: %q", p.dir, mounts)
		return
	}
	if err := os.RemoveAll(p.dir); err != nil {
		t.Errorf("removing the private dockerd's folder: %v", err)
	}
}

// mounts lists the mount points under the daemon's folder.
func (p *privateDaemon) mounts() []string {
	data, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 1 && strings.HasPrefix(fields[1], p.dir+"/") {
			out = append(out, fields[1])
		}
	}
	return out
}

// logTail returns the last lines of the daemon's log.
func (p *privateDaemon) logTail() string {
	data, _ := os.ReadFile(filepath.Join(p.dir, "dockerd.log"))
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}

// clientEnv returns this process's environment without the variables that
// select a Docker daemon, plus DOCKER_HOST=host when host is not empty.
func clientEnv(host string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH":
			continue
		}
		env = append(env, kv)
	}
	if host != "" {
		env = append(env, "DOCKER_HOST="+host)
	}
	return env
}

// env is the environment of a client aimed at the daemon.
func (p *privateDaemon) env() []string { return clientEnv(p.host) }

// executor returns an executor that runs the docker client against the daemon.
func (p *privateDaemon) executor() *dockercli.OSExecutor {
	return &dockercli.OSExecutor{Binary: e2eEngine(), Env: p.env()}
}

// adapter returns an adapter for the daemon. opts.Executor, when set, is used
// as it is and must itself aim at the daemon.
func (p *privateDaemon) adapter(t *testing.T, opts Options) *Docker {
	t.Helper()
	opts.Engine = e2eEngine()
	if opts.Executor == nil {
		opts.Executor = p.executor()
	}
	d, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d
}

// run runs the docker client against the daemon with a 60-second limit and
// returns its trimmed combined output.
func (p *privateDaemon) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, e2eEngine(), args...)
	cmd.Env = p.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return strings.TrimSpace(string(out)), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return strings.TrimSpace(string(out)), nil
}

// docker runs the docker client against the daemon and fails the test when
// the client fails.
func (p *privateDaemon) docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := p.run(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// daemonObjects are the ids of everything on a daemon.
type daemonObjects struct {
	Containers []string
	Volumes    []string
	Images     []string
}

// objects lists every container, volume and image on the daemon, with the
// same commands a user would run.
func (p *privateDaemon) objects(t *testing.T) daemonObjects {
	t.Helper()
	return daemonObjects{
		Containers: strings.Fields(p.docker(t, "ps", "--all", "--quiet", "--no-trunc")),
		Volumes:    strings.Fields(p.docker(t, "volume", "ls", "--quiet")),
		Images:     strings.Fields(p.docker(t, "image", "ls", "--quiet", "--no-trunc")),
	}
}

// clientProcesses returns the pids of the engine clients aimed at the daemon,
// found by DOCKER_HOST in their environment, with their command lines.
func (p *privateDaemon) clientProcesses() map[int]string {
	want := []byte("DOCKER_HOST=" + p.host + "\x00")
	out := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		environ, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || !bytes.Contains(environ, want) {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if filepath.Base(string(bytes.SplitN(cmdline, []byte{0}, 2)[0])) != filepath.Base(e2eEngine()) {
			continue
		}
		out[pid] = strings.TrimSpace(string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
	}
	return out
}

// waitClients waits until no engine client aimed at the daemon runs, except
// those for which keep returns true, and returns the ones still running when
// limit passes.
func (p *privateDaemon) waitClients(limit time.Duration, keep func(cmdline string) bool) map[int]string {
	deadline := time.Now().Add(limit)
	for {
		left := map[int]string{}
		for pid, cmdline := range p.clientProcesses() {
			if keep == nil || !keep(cmdline) {
				left[pid] = cmdline
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// hookExecutor runs a function before each engine command, so that a test can
// freeze or stop the daemon at an exact step of an operation.
type hookExecutor struct {
	inner  dockercli.Executor
	before func(args []string)
}

func (h *hookExecutor) Run(ctx context.Context, cmd dockercli.Command) (dockercli.Result, error) {
	if h.before != nil {
		h.before(cmd.Args)
	}
	return h.inner.Run(ctx, cmd)
}

// argsStart reports whether args begins with prefix.
func argsStart(args []string, prefix ...string) bool {
	if len(args) < len(prefix) {
		return false
	}
	for i, w := range prefix {
		if args[i] != w {
			return false
		}
	}
	return true
}

// syncBuffer is a bytes.Buffer safe for concurrent writers, for log handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var _ io.Writer = (*syncBuffer)(nil)

// errorsAsAdapter returns err as an *Error, or nil.
func errorsAsAdapter(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
