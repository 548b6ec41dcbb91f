package parse

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kenv/kenv/dockercli"
)

// The golden cases that every engine layer must get right, each with its
// expected value, from the output in testdata/ (captured by
// testdata/capture.sh) or, where no capture exists, inline bytes in the
// engines' formats. The cases about the adapter (rm of a vanished container,
// snapshot names, argv passed verbatim) are in adapter/contract_test.go.

// capturedFailure reads the stdout, stderr and exit status that capture.sh
// saved for a failed command of engine.
func capturedFailure(t *testing.T, engine, name string) (stdout, stderr []byte, exitCode int) {
	t.Helper()
	base := filepath.Join(engine, "failures", name)
	code, err := strconv.Atoi(strings.TrimSpace(string(readTestdata(t, base+".exit"))))
	if err != nil {
		t.Fatalf("exit status of %s: %v", base, err)
	}
	if matches, _ := filepath.Glob(filepath.Join("testdata", base+".stdout")); len(matches) == 1 {
		stdout = readTestdata(t, base+".stdout")
	}
	return stdout, readTestdata(t, base+".stderr"), code
}

// engines are the directories of captured output, one per engine and client.
var engines = []string{"docker-20.10", "docker-28-client", "podman-4.3"}

func TestGoldenPSFormatsGiveSameList(t *testing.T) {
	t.Parallel()
	// Docker prints one object per line with labels joined by commas, and
	// Podman prints an array with a label map.
	docker := `{"Command":"\"sleep 600\"","CreatedAt":"2026-12-04 19:52:58 +0000 UTC","ID":"4bbb5c9c6311","Image":"kenv-test/busybox:latest","Labels":"kenv.env=A=1,B=2,kenv.note=one, two","Names":"web","State":"running","Status":"Up 2 seconds"}
{"Command":"\"true\"","CreatedAt":"2026-12-04 19:52:59 +0000 UTC","ID":"ac35194abb76","Image":"kenv-test/busybox:latest","Labels":"","Names":"db","State":"exited","Status":"Exited (0) 1 second ago"}
`
	podman := `[{"Id":"4bbb5c9c6311","Image":"kenv-test/busybox:latest","Labels":{"kenv.env":"A=1,B=2","kenv.note":"one, two"},"Names":["web"],"State":"running","Created":1796413978,"CreatedAt":"2 seconds ago"},
{"Id":"ac35194abb76","Image":"kenv-test/busybox:latest","Labels":null,"Names":["db"],"State":"exited","Created":1796413979,"CreatedAt":"1 second ago"}]`
	created := time.Date(2026, 12, 4, 19, 52, 58, 0, time.UTC)
	want := []PSEntry{
		{ID: "4bbb5c9c6311", Name: "web", Names: []string{"web"}, Image: "kenv-test/busybox:latest", State: StateRunning, RawState: "running", CreatedAt: created},
		{ID: "ac35194abb76", Name: "db", Names: []string{"db"}, Image: "kenv-test/busybox:latest", State: StateExited, RawState: "exited", CreatedAt: created.Add(time.Second)},
	}
	for name, input := range map[string]string{"docker": docker, "podman": podman} {
		got, err := PS([]byte(input))
		if err != nil {
			t.Fatalf("PS of %s output: %v", name, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("PS of %s output (-want +got):\n%s", name, diff)
		}
	}

	for _, empty := range []string{"", "\n", "[]", "[]\n"} {
		got, err := PS([]byte(empty))
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("PS(%q) = %#v, %v; want an empty list and no error", empty, got, err)
		}
	}
	got, err := PS(readTestdata(t, "podman-4.3/ps-empty.json"))
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("PS of podman-4.3/ps-empty.json = %#v, %v; want an empty list", got, err)
	}
}

func TestGoldenLabelsFromInspect(t *testing.T) {
	t.Parallel()
	// Split on commas, Docker's ps string "kenv.empty=,kenv.env=A=1,B=2,..."
	// would give a label "B". Inspect prints a JSON map, which keeps them.
	want := map[string]string{"kenv.empty": "", "kenv.env": "A=1,B=2", "kenv.note": "one, two", "kenv.quote": `say "hi"`}
	for _, engine := range []string{"docker-20.10", "podman-4.3"} {
		ctrs, err := ContainerInspect(readTestdata(t, engine+"/container-inspect-labels.json"))
		if err != nil || len(ctrs) != 1 {
			t.Fatalf("%s: ContainerInspect = %d containers, %v", engine, len(ctrs), err)
		}
		if diff := cmp.Diff(want, ctrs[0].Labels); diff != "" {
			t.Errorf("%s labels (-want +got):\n%s", engine, diff)
		}
	}
	images, err := ImageInspect(readTestdata(t, "docker-20.10/image-inspect-labelled.json"))
	if err != nil || len(images) != 1 {
		t.Fatalf("ImageInspect = %d images, %v", len(images), err)
	}
	if images[0].Labels["kenv.env"] != "A=1,B=2" || images[0].Labels["kenv.note"] != "one, two" {
		t.Errorf("image labels = %v, want kenv.env=A=1,B=2 and kenv.note=one, two", images[0].Labels)
	}
}

func TestGoldenTimestamps(t *testing.T) {
	t.Parallel()
	inspect := `[{"Id": "4bbb5c9c6311", "Name": "/web",
  "Created": "2021-05-07T17:27:52.347500403Z",
  "State": {"Status": "exited", "StartedAt": "2021-05-07T13:28:21.783776413-04:00", "FinishedAt": "0001-01-01T00:00:00Z"},
  "Config": {"Image": "kenv-test/busybox:latest"}},
 {"Id": "ac35194abb76", "Name": "/never",
  "Created": "2021-05-07T17:27:52.347500403Z",
  "State": {"Status": "created", "StartedAt": "0001-01-01T00:00:00Z", "FinishedAt": "0001-01-01T00:00:00Z"},
  "Config": {"Image": "kenv-test/busybox:latest"}}]`
	ctrs, err := ContainerInspect([]byte(inspect))
	if err != nil || len(ctrs) != 2 {
		t.Fatalf("ContainerInspect = %d containers, %v", len(ctrs), err)
	}
	if want := time.Date(2021, 5, 7, 17, 27, 52, 347500403, time.UTC); !ctrs[0].Created.Equal(want) {
		t.Errorf("Created = %v, want %v", ctrs[0].Created, want)
	}
	// 13:28 at -04:00 is 17:28 UTC.
	if want := time.Date(2021, 5, 7, 17, 28, 21, 783776413, time.UTC); !ctrs[0].StartedAt.Equal(want) {
		t.Errorf("StartedAt = %v, want %v", ctrs[0].StartedAt, want)
	}
	if !ctrs[0].FinishedAt.IsZero() || !ctrs[1].StartedAt.IsZero() {
		t.Errorf("FinishedAt %v and StartedAt of a created container %v, want both zero: 0001-01-01T00:00:00Z means never", ctrs[0].FinishedAt, ctrs[1].StartedAt)
	}

	lines := map[string]time.Time{
		"2021-05-07T17:27:52.347500403Z hello\n":      time.Date(2021, 5, 7, 17, 27, 52, 347500403, time.UTC),
		"2021-05-07T13:28:21.783776413-04:00 hello\n": time.Date(2021, 5, 7, 17, 28, 21, 783776413, time.UTC),
	}
	for line, want := range lines {
		got, err := ParseLogLine([]byte(line))
		if err != nil || !got.Time.Equal(want) || string(got.Message) != "hello" {
			t.Errorf("ParseLogLine(%q) = %v %q, %v; want %v and hello", line, got.Time, got.Message, err, want)
		}
	}
}

func TestGoldenInspectMissing(t *testing.T) {
	t.Parallel()
	for _, engine := range engines {
		stdout, stderr, exitCode := capturedFailure(t, engine, "inspect-missing-object")
		if strings.TrimSpace(string(stdout)) != "[]" {
			t.Errorf("%s: stdout of inspect of a missing object = %q, want []", engine, stdout)
		}
		ctrs, err := ContainerInspect(stdout)
		if err != nil || ctrs == nil || len(ctrs) != 0 {
			t.Errorf("%s: ContainerInspect(%q) = %v, %v; want an empty list", engine, stdout, ctrs, err)
		}
		if exitCode == 0 {
			t.Errorf("%s: inspect of a missing object exited 0", engine)
		}
		if got := ClassifyFailure(exitCode, stderr); got != FailureNotFound {
			t.Errorf("%s: ClassifyFailure(%d, %q) = %v, want not-found", engine, exitCode, stderr, got)
		}

		// Two names, one missing: the existing one still parses.
		ctrs, err = ContainerInspect(readTestdata(t, engine+"/container-inspect-one-missing.json"))
		if err != nil || len(ctrs) != 1 || ctrs[0].Name != "parsetest-running" || ctrs[0].State != StateRunning {
			t.Errorf("%s: inspect of one missing and one running = %+v, %v; want parsetest-running", engine, ctrs, err)
		}
		_, stderr, exitCode = capturedFailure(t, engine, "inspect-one-missing")
		if got := ClassifyFailure(exitCode, stderr); exitCode == 0 || got != FailureNotFound {
			t.Errorf("%s: inspect with one missing name exited %d, classified %v; want non-zero and not-found", engine, exitCode, got)
		}
	}
}

func TestGoldenVersionUnreachable(t *testing.T) {
	t.Parallel()
	clients := map[string]string{"docker-20.10": "20.10.24+dfsg1", "docker-28-client": "28.2.2"}
	for engine, wantClient := range clients {
		v, err := ParseVersion(readTestdata(t, engine+"/version-unreachable.json"))
		if err != nil {
			t.Fatalf("%s: ParseVersion: %v", engine, err)
		}
		if v.Server != nil || v.Client.Version != wantClient || v.Engine != EngineDocker {
			t.Errorf("%s: version = %+v, want client %s and no server", engine, v, wantClient)
		}
		_, stderr, exitCode := capturedFailure(t, engine, "version-unreachable")
		if !bytes.Contains(stderr, []byte("Cannot connect")) || ClassifyFailure(exitCode, stderr) != FailureDaemonUnavailable {
			t.Errorf("%s: stderr %q exit %d, want a Cannot connect line classified as daemon-unavailable", engine, stderr, exitCode)
		}
	}

	// An unreachable Podman prints nothing on stdout.
	_, stderr, exitCode := capturedFailure(t, "podman-4.3", "version-unreachable")
	if got := ClassifyFailure(exitCode, stderr); got != FailureDaemonUnavailable {
		t.Errorf("podman: ClassifyFailure = %v, want daemon-unavailable", got)
	}
}

func TestGoldenEngineExitStatuses(t *testing.T) {
	t.Parallel()
	// Each failure's exit status is 125, 126 or 127. The engine's wording
	// makes it an engine failure, and without it the status is the command's.
	// Docker's exec prints the OCI runtime error on stdout, so for an exec
	// whose stderr is empty, stdout is classified.
	tests := []struct {
		failure string
		want    Failure
	}{
		{"run-missing-executable", FailureExecNotFound},
		{"run-not-executable", FailureExecPermission},
		{"exec-missing-executable", FailureExecNotFound},
		{"exec-missing-path", FailureExecNotFound},
		{"exec-not-executable", FailureExecPermission},
		{"exec-user-exit-125", FailureOther},
		{"exec-user-not-found", FailureOther},
		{"exec-user-permission", FailureOther},
	}
	for _, engine := range engines {
		for _, tt := range tests {
			stdout, stderr, exitCode := capturedFailure(t, engine, tt.failure)
			if exitCode < 125 || exitCode > 127 {
				t.Errorf("%s %s: exit status %d, want 125 to 127", engine, tt.failure, exitCode)
			}
			text := stderr
			if len(bytes.TrimSpace(stderr)) == 0 {
				text = stdout
			}
			if got := ClassifyFailure(exitCode, text); got != tt.want {
				t.Errorf("%s %s: ClassifyFailure(%d, %q) = %v, want %v", engine, tt.failure, exitCode, text, got, tt.want)
			}
		}
	}
}

func TestGoldenRemoveMissingContainer(t *testing.T) {
	t.Parallel()
	// `rm` without --force, as captured, exits 1 on every engine.
	for _, engine := range engines {
		_, stderr, exitCode := capturedFailure(t, engine, "rm-missing-container")
		if got := ClassifyFailure(exitCode, stderr); exitCode != 1 || got != FailureNotFound {
			t.Errorf("%s: rm of a missing container exited %d, classified %v; want 1 and not-found", engine, exitCode, got)
		}
	}
	// `rm --force` exits 0 and still prints the wording with Docker's 20.10
	// and 28.2 clients (measured against the 20.10 daemon). A zero exit is
	// success whatever stderr says.
	for _, stderr := range []string{"Error: No such container: kenv-x\n", "Error response from daemon: No such container: kenv-x\n"} {
		if got := ClassifyFailure(0, []byte(stderr)); got != FailureOther {
			t.Errorf("ClassifyFailure(0, %q) = %v, want other for a zero exit", stderr, got)
		}
		if got := ClassifyFailure(1, []byte(stderr)); got != FailureNotFound {
			t.Errorf("ClassifyFailure(1, %q) = %v, want not-found", stderr, got)
		}
	}
}

func TestGoldenNotFoundWordings(t *testing.T) {
	t.Parallel()
	wordings := []string{
		`Error: no container with name or ID "kenv-x" found: no such container`,
		`Error: no container with ID or name "kenv-x" found: no such container`,
		`Error: inspecting object: no such container kenv-x`,
		`Error: no such container`,
		`Error: No such container: kenv-x`,
		`Error response from daemon: No such container: kenv-x`,
		`Error: No such object: kenv-x`,
		`ERROR: NO SUCH CONTAINER: kenv-x`,
		`error response from daemon: no such object: kenv-x`,
	}
	for _, w := range wordings {
		for _, exitCode := range []int{1, 125} {
			if got := ClassifyFailure(exitCode, []byte(w+"\n")); got != FailureNotFound {
				t.Errorf("ClassifyFailure(%d, %q) = %v, want not-found", exitCode, w, got)
			}
		}
	}
	for _, engine := range engines {
		for _, failure := range []string{"exec-missing-container", "logs-missing-container", "start-missing-container", "inspect-missing-container"} {
			_, stderr, exitCode := capturedFailure(t, engine, failure)
			if got := ClassifyFailure(exitCode, stderr); got != FailureNotFound {
				t.Errorf("%s %s: ClassifyFailure(%d, %q) = %v, want not-found", engine, failure, exitCode, stderr, got)
			}
		}
	}
	// The same words printed by the user's command are not the engine's.
	if got := ClassifyFailure(1, []byte("grep: no such container here\n")); got != FailureOther {
		t.Errorf("ClassifyFailure of a command's own output = %v, want other", got)
	}
}

// TestGoldenRecordingsParse reads every output in the adapter's recordings
// (testdata/golden at the repository root) with the parser for its command,
// with ids and times as the engines printed them.
func TestGoldenRecordingsParse(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "golden", "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no recordings under ../testdata/golden; record them with `make golden`")
	}
	for _, path := range paths {
		rec, err := dockercli.ReadRecording(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range rec.Cases {
			where := fmt.Sprintf("%s case %d (%q)", path, i, c.Argv)
			if err := parseRecordedOutput(c); err != nil {
				t.Errorf("%s: %v", where, err)
			}
		}
	}
}

// parseRecordedOutput parses a recorded case's stdout, and its stderr for
// logs, with the parser of its command.
func parseRecordedOutput(c dockercli.Case) error {
	command := strings.Join(c.Argv[:min(2, len(c.Argv))], " ")
	switch {
	case command == "container inspect":
		ctrs, err := ContainerInspect(c.Stdout)
		if err == nil && c.ExitCode == 0 && (len(ctrs) == 0 || ctrs[0].Created.IsZero()) {
			return fmt.Errorf("ContainerInspect gave %d containers without a creation time", len(ctrs))
		}
		return err
	case command == "image inspect" && c.ExitCode == 0:
		images, err := ImageInspect(c.Stdout)
		if err == nil && (len(images) == 0 || images[0].Created.IsZero()) {
			return fmt.Errorf("ImageInspect gave %d images without a creation time", len(images))
		}
		return err
	case command == "volume inspect":
		_, err := VolumeInspect(c.Stdout)
		return err
	case c.Argv[0] == "version":
		v, err := ParseVersion(c.Stdout)
		if err == nil && v.Client.Version == "" {
			return fmt.Errorf("ParseVersion gave no client version")
		}
		return err
	case c.Argv[0] == "logs" && c.ExitCode != 1 && c.ExitCode != 125:
		for _, out := range [][]byte{c.Stdout, c.Stderr} {
			for _, line := range bytes.SplitAfter(out, []byte("\n")) {
				if len(line) == 0 {
					continue
				}
				if _, err := ParseLogLine(line); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
