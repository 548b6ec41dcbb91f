package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kenv/kenv/adapter"
	"github.com/kenv/kenv/dockercli/dockerclitest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with the current output")

// testEnvID is the environment id of the tests' existing environments.
const testEnvID = "abcdefgh2345"

// testNow is the clock of the in-process CLI: 90 minutes after the
// recorded containers were created.
var testNow = time.Date(2026, 12, 4, 21, 32, 45, 0, time.UTC)

// testCLI runs the CLI in-process against a fake engine.
type testCLI struct {
	fake     *dockerclitest.Executor
	env      []string
	stdin    string
	lookPath func(string) (string, error)
	ctx      context.Context

	// engine is the Options.Engine that the CLI built its adapter with.
	engine string
}

func newTestCLI() *testCLI {
	return &testCLI{
		fake: dockerclitest.New(),
		lookPath: func(file string) (string, error) {
			return "/usr/bin/" + file, nil
		},
		ctx: context.Background(),
	}
}

// cliResult is what one run of the CLI printed and returned.
type cliResult struct {
	Stdout string
	Stderr string
	Exit   int
}

func (tc *testCLI) run(t *testing.T, args ...string) cliResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cfg := appConfig{
		Stdin:  strings.NewReader(tc.stdin),
		Stdout: &stdout,
		Stderr: &stderr,
		Getenv: lookupIn(tc.env),
		NewAdapter: func(opts adapter.Options) (*adapter.Docker, error) {
			tc.engine = opts.Engine
			opts.Executor = tc.fake
			return adapter.New(opts)
		},
		LookPath: tc.lookPath,
		Now:      func() time.Time { return testNow },
	}
	code := runApp(tc.ctx, append([]string{"kenv"}, args...), cfg)
	return cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Exit: code}
}

// generatedEnvID returns the id that provision generated, read from the
// engine's run call, or "" when there was none.
func (tc *testCLI) generatedEnvID() string {
	for _, c := range tc.fake.Calls() {
		if len(c.Args) > 3 && c.Args[0] == "run" && c.Args[2] == "--name" {
			return strings.TrimPrefix(c.Args[3], "kenv-")
		}
	}
	return ""
}

// assertNoEngineCalls fails when the CLI ran the engine client at all.
func (tc *testCLI) assertNoEngineCalls(t *testing.T) {
	t.Helper()
	if cmds := tc.fake.Commands(); len(cmds) > 0 {
		t.Errorf("engine calls = %q, want none", cmds)
	}
}

// ownerLabelPattern matches the owner labels that the adapter adds to
// everything it creates, empty since kenv sets Options.NoOwner.
var ownerLabelPattern = regexp.MustCompile(`--label kenv\.owner\.[a-z]+=\S* `)

// assertCommands compares the engine calls with want, each argv joined by
// spaces, without owner labels.
func (tc *testCLI) assertCommands(t *testing.T, want ...string) {
	t.Helper()
	var got []string
	for _, cmd := range tc.fake.Commands() {
		got = append(got, ownerLabelPattern.ReplaceAllString(cmd, ""))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("engine calls mismatch (-want +got):\n%s", diff)
	}
}

// timestampPattern matches the times that change from run to run: those of
// exec results and of slog records.
var timestampPattern = regexp.MustCompile(`("(?:started_at|finished_at)":)"[^"]*"|\b(?:time|elapsed)=\S+`)

// normalize replaces generated ids and run-dependent times with fixed
// placeholders, so the output can be compared with a golden file.
func normalize(s, envID string) string {
	if envID != "" {
		s = strings.ReplaceAll(s, envID, "GENERATEDID")
	}
	return timestampPattern.ReplaceAllStringFunc(s, func(m string) string {
		if key, _, ok := strings.Cut(m, "="); ok && !strings.HasPrefix(m, `"`) {
			return key + "=" + strings.ToUpper(key)
		}
		key, _, _ := strings.Cut(m, ":")
		return key + `:"TIME"`
	})
}

// checkGolden compares r with testdata/NAME.golden, or rewrites the file
// with -update.
func checkGolden(t *testing.T, name string, r cliResult, envID string) {
	t.Helper()
	got := "-- exit --\n" + strconv.Itoa(r.Exit) + "\n" +
		"-- stdout --\n" + goldenSection(normalize(r.Stdout, envID)) +
		"-- stderr --\n" + goldenSection(normalize(r.Stderr, envID))
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Fatalf("golden file %s is missing; create it with `go test ./cmd/kenv -update`", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("output differs from %s (-want +got); rewrite it with `go test ./cmd/kenv -update` if the change is intended:\n%s", path, diff)
	}
}

// goldenSection ends output that lacks a final newline with a marker line,
// so that the next section header starts a line of its own.
func goldenSection(s string) string {
	if s == "" || strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n[no newline at end]\n"
}

// recorded returns engine output recorded from a real engine by
// parse/testdata/capture.sh, such as "docker-20.10/version.json".
func recorded(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "parse", "testdata", name))
	if err != nil {
		t.Fatalf("reading recorded engine output: %v", err)
	}
	return string(b)
}

// recordedExit returns the exit status recorded with a failure sample.
func recordedExit(t *testing.T, name string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(recorded(t, name)))
	if err != nil {
		t.Fatalf("recorded exit status %s: %v", name, err)
	}
	return n
}

// kenvContainer turns a recorded `container inspect` array of one container
// into the inspect output of environment envID: the container gets kenv's
// name and labels plus extra, and a mounted volume gets the name that
// provision gives volume "data".
func kenvContainer(t *testing.T, file, envID string, extra map[string]string) map[string]any {
	t.Helper()
	var containers []map[string]any
	if err := json.Unmarshal([]byte(recorded(t, file)), &containers); err != nil || len(containers) != 1 {
		t.Fatalf("recorded %s: want one container, got %d (%v)", file, len(containers), err)
	}
	c := containers[0]
	c["Name"] = "/kenv-" + envID
	labels := map[string]any{"kenv.managed": "true", "kenv.env": envID, "kenv.version": adapter.Version}
	for k, v := range extra {
		labels[k] = v
	}
	c["Config"].(map[string]any)["Labels"] = labels

	mounts, _ := c["Mounts"].([]any)
	for _, m := range mounts {
		mount := m.(map[string]any)
		if mount["Type"] == "volume" {
			mount["Name"] = "kenv-" + envID + "-data"
		}
	}
	return c
}

// inspectOutput renders containers as `container inspect` prints them.
func inspectOutput(t *testing.T, containers ...map[string]any) string {
	t.Helper()
	b, err := json.MarshalIndent(containers, "", "    ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

// onRunningEnv scripts the fake so that environment testEnvID exists and
// runs.
func (tc *testCLI) onRunningEnv(t *testing.T) {
	t.Helper()
	tc.fake.On("container", "inspect", "kenv-"+testEnvID).
		Returns(inspectOutput(t, kenvContainer(t, "docker-20.10/container-inspect-running.json", testEnvID, nil)), "", 0)
}
