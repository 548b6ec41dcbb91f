package parse

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestClassifyFailureCaptured(t *testing.T) {
	t.Parallel()
	// Every case that testdata/capture.sh records, per engine. Docker's two
	// clients print different wordings for some cases ("Error: No such
	// container" from 20.10, "Error response from daemon: No such container"
	// from 28.2) but classify the same.
	docker := map[string]Failure{
		"exec-created":              FailureNotRunning,
		"exec-missing-container":    FailureNotFound,
		"exec-missing-executable":   FailureExecNotFound,
		"exec-missing-path":         FailureExecNotFound,
		"exec-not-executable":       FailureExecPermission,
		"exec-paused":               FailurePaused,
		"exec-stopped":              FailureNotRunning,
		"exec-unreachable":          FailureDaemonUnavailable,
		"exec-user-exit-125":        FailureOther,
		"exec-user-not-found":       FailureOther,
		"exec-user-permission":      FailureOther,
		"image-inspect-missing":     FailureImageNotFound,
		"inspect-missing-container": FailureNotFound,
		"inspect-missing-object":    FailureNotFound,
		"inspect-one-missing":       FailureNotFound,
		"logs-missing-container":    FailureNotFound,
		"ps-connection-refused":     FailureDaemonUnavailable,
		"ps-unreachable":            FailureDaemonUnavailable,
		"rm-missing-container":      FailureNotFound,
		"run-missing-executable":    FailureExecNotFound,
		"run-missing-image":         FailureImageNotFound,
		"run-name-conflict":         FailureNameConflict,
		"run-not-executable":        FailureExecPermission,
		"start-missing-container":   FailureNotFound,
		"version-unreachable":       FailureDaemonUnavailable,
	}
	podman := map[string]Failure{}
	for name, failure := range docker {
		podman[name] = failure
	}
	// Podman 4.3 prints the same words for exec into a paused container as
	// for exec into a stopped one.
	podman["exec-paused"] = FailureNotRunning
	delete(podman, "exec-unreachable") // not captured for Podman
	want := map[string]map[string]Failure{
		"docker-20.10":     docker,
		"docker-28-client": docker,
		"podman-4.3":       podman,
	}

	for dir, cases := range want {
		// Fail when capture.sh records a case that this table lacks.
		for _, path := range testdataFiles(t, dir+"/failures/*.exit") {
			name := strings.TrimSuffix(filepath.Base(path), ".exit")
			if _, ok := cases[name]; !ok {
				t.Errorf("%s: no expected class for captured failure %s", dir, name)
			}
		}
		for name, wantFailure := range cases {
			t.Run(dir+"/"+name, func(t *testing.T) {
				t.Parallel()
				base := dir + "/failures/" + name
				exitCode, err := strconv.Atoi(strings.TrimSpace(string(readTestdata(t, base+".exit"))))
				if err != nil {
					t.Fatalf("read exit status: %v", err)
				}
				output := readTestdata(t, base+".stderr")
				// docker exec prints OCI runtime errors on stdout, so pass
				// stdout when stderr is empty, as ClassifyFailure's documentation asks.
				if len(output) == 0 {
					if stdout, err := os.ReadFile(filepath.Join("testdata", base+".stdout")); err == nil {
						output = stdout
					}
				}
				if got := ClassifyFailure(exitCode, output); got != wantFailure {
					t.Errorf("ClassifyFailure(%d, %q) = %v, want %v", exitCode, output, got, wantFailure)
				}
			})
		}
	}
}

func TestClassifyFailureDockerExecStderrEmpty(t *testing.T) {
	t.Parallel()
	// The real stderr of `docker exec parsetest-running no-such-command` is
	// empty, so without stdout there is nothing to classify.
	stderr := readTestdata(t, "docker-20.10/failures/exec-missing-executable.stderr")
	if got := ClassifyFailure(126, stderr); got != FailureOther {
		t.Errorf("ClassifyFailure(126, %q) = %v, want %v", stderr, got, FailureOther)
	}
}

func TestClassifyFailureWordings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		exitCode int
		stderr   string
		want     Failure
	}{
		{"success", 0, "Error: No such container: x", FailureOther},
		{"empty stderr", 1, "", FailureOther},
		{"upper case", 1, "ERROR RESPONSE FROM DAEMON: NO SUCH CONTAINER: X", FailureNotFound},
		{"crlf line endings", 1, "Error response from daemon: No such container: x\r\n", FailureNotFound},
		{"indented line", 1, "  Error: No such object: x", FailureNotFound},
		{
			"engine line after user output", 1,
			"some output of the user\nError response from daemon: No such container: x\n",
			FailureNotFound,
		},
		{"podman id or name", 125, `Error: no container with ID or name "x" found: no such container`, FailureNotFound},
		{"docker volume", 1, "Error: No such volume: data", FailureNotFound},
		{"podman volume", 125, `Error: no volume with name "data" found: no such volume`, FailureNotFound},
		{"podman network", 125, "Error: unable to find network with name or ID x: network not found", FailureNotFound},
		{
			"docker error during connect", 1,
			`error during connect: Get "http://docker.example:2375/v1.41/containers/json": dial tcp: lookup docker.example: no such host`,
			FailureDaemonUnavailable,
		},
		{
			"docker socket permission", 1,
			`Got permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.24/containers/json": dial unix /var/run/docker.sock: connect: permission denied`,
			FailureDaemonUnavailable,
		},
		{
			"podman unable to connect", 125,
			`Error: unable to connect to Podman socket: Get "http://d/v4.3.1/libpod/_ping": dial unix /run/podman/podman.sock: connect: no such file or directory`,
			FailureDaemonUnavailable,
		},
		{
			"docker restarting", 1,
			"Error response from daemon: Container abc is restarting, wait until the container is running",
			FailureNotRunning,
		},
		{"podman exec wording", 125, "Error: can only exec into running containers: container state improper", FailureNotRunning},
		{
			"crun missing executable", 127,
			"Error: crun: executable file `foo` not found in $PATH: No such file or directory: OCI runtime attempted to invoke a command that was not found",
			FailureExecNotFound,
		},
		{
			"crun missing path", 127,
			"Error: crun: /no/such/file: No such file or directory: OCI runtime attempted to invoke a command that was not found",
			FailureExecNotFound,
		},
		{
			"crun permission", 126,
			"Error: crun: open executable: Permission denied: OCI permission denied",
			FailureExecPermission,
		},
		{
			"docker pull access denied", 125,
			"Unable to find image 'parsetest/missing:latest' locally\ndocker: Error response from daemon: pull access denied for parsetest/missing, repository does not exist or may require 'docker login': denied: requested access to the resource is denied.\nSee 'docker run --help'.",
			FailureImageNotFound,
		},
		{
			"docker manifest unknown", 125,
			"docker: Error response from daemon: manifest for busybox:nope not found: manifest unknown: manifest unknown.",
			FailureImageNotFound,
		},
		{
			"podman manifest unknown", 125,
			"Error: initializing source docker://busybox:nope: reading manifest nope in docker.io/library/busybox: manifest unknown",
			FailureImageNotFound,
		},
		{"podman rmi missing", 1, "Error: parsetest/missing: image not known", FailureImageNotFound},
		{
			"podman name in use", 125,
			`Error: creating container storage: the container name "x" is already in use by abc. You have to remove that container to be able to reuse that name: that name is already in use`,
			FailureNameConflict,
		},
		{"unknown engine error", 125, "docker: invalid reference format.", FailureOther},
		{"docker exec missing user", 126, "unable to find user nosuchuser: no matching entries in passwd file\r\n", FailureExecUser},
		{"podman exec missing user", 255, "Error: unable to find user nosuchuser: no matching entries in passwd file", FailureExecUser},
		{
			"docker exec missing workdir", 126,
			`OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd ("/nope") set in config.json failed: no such file or directory: unknown`,
			FailureExecWorkDir,
		},
		{
			"podman exec missing workdir", 127,
			`Error: runc: exec failed: unable to start container process: chdir to cwd ("/nope") set in config.json failed: no such file or directory: OCI runtime attempted to invoke a command that was not found`,
			FailureExecWorkDir,
		},
		{
			"podman exec workdir is a file", 255,
			`Error: OCI runtime error: runc: exec failed: unable to start container process: chdir to cwd ("/etc/passwd") set in config.json failed: not a directory`,
			FailureExecWorkDir,
		},
		{"user output naming a user", 1, "unable to find user bob in my own config", FailureOther},
		{"podman exec into a removed container", 255, "Error: container has already been removed", FailureNotFound},
		{
			"docker concurrent removal", 1,
			"Error response from daemon: removal of container 3014373ad893 is already in progress",
			FailureRemovalInProgress,
		},

		// Exit statuses 125 to 127 of the user's own command.
		{"user missing command", 127, "sh: foo: not found\n", FailureOther},
		{"user not executable", 126, "sh: ./run.sh: Permission denied\n", FailureOther},
		{"user env missing interpreter", 127, "env: 'python3': No such file or directory\n", FailureOther},
		{"user exit 125", 125, "it failed\n", FailureOther},
		{"user error line with permission denied", 126, "error: permission denied\n", FailureOther},
		{"user error line with missing file", 127, "Error: open config.yaml: no such file or directory\n", FailureOther},
		{"user mentions not running", 1, "service x is not running\n", FailureOther},
		{"user mentions connection refused", 1, "dial tcp 10.0.0.1:5432: connect: connection refused\n", FailureOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ClassifyFailure(tt.exitCode, []byte(tt.stderr)); got != tt.want {
				t.Errorf("ClassifyFailure(%d, %q) = %v, want %v", tt.exitCode, tt.stderr, got, tt.want)
			}
		})
	}
}

func TestFailureString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		failure Failure
		want    string
	}{
		{FailureOther, "other"},
		{FailureNotFound, "not-found"},
		{FailureDaemonUnavailable, "daemon-unavailable"},
		{FailureNotRunning, "not-running"},
		{FailurePaused, "paused"},
		{FailureExecNotFound, "exec-not-found"},
		{FailureExecPermission, "exec-permission"},
		{FailureImageNotFound, "image-not-found"},
		{FailureNameConflict, "name-conflict"},
		{FailureExecUser, "exec-user"},
		{FailureExecWorkDir, "exec-workdir"},
		{FailureRemovalInProgress, "removal-in-progress"},
		{Failure(99), "Failure(99)"},
		{Failure(-1), "Failure(-1)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := tt.failure.String(); got != tt.want {
				t.Errorf("Failure(%d).String() = %q, want %q", int(tt.failure), got, tt.want)
			}
		})
	}
}
