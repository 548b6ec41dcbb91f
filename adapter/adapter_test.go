package adapter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kenv/kenv/dockercli"
	"github.com/kenv/kenv/dockercli/dockerclitest"
)

// containerJSON is `docker container inspect` output for a kenv container,
// cut down from a Docker 20.10 recording to the fields the adapter reads.
func containerJSON(envID, status string) string {
	return fmt.Sprintf(`[{
  "Id": "3014373ad893a586beace9b91c0aa303b1aeba3385d23fb953d270d43288e06f",
  "Created": "2026-12-04T19:59:00.365559216Z",
  "State": {"Status": %q, "Running": %t, "Paused": %t, "OOMKilled": false, "Pid": 12725, "ExitCode": 0,
            "StartedAt": "2026-12-04T19:59:00.55746693Z", "FinishedAt": "0001-01-01T00:00:00Z"},
  "Image": "sha256:73187c280adde253bee9703ab74630f7c76b8294a4a19ddfe9df4acdf1711532",
  "Name": "/kenv-%s",
  "HostConfig": {"NanoCpus": 500000000, "Memory": 536870912, "NetworkMode": "none"},
  "Mounts": [{"Type": "volume", "Name": "kenv-%s-data", "Source": "/var/lib/docker/volumes/kenv-%s-data/_data",
              "Destination": "/data", "RW": true}],
  "Config": {"Image": "kenv-test/busybox:latest",
             "Labels": {"kenv.managed": "true", "kenv.env": %q, "kenv.version": "0.1.0", "team": "a,b=c"}}
}]`, status, status == "running", status == "paused", envID, envID, envID, envID)
}

const imageJSON = `[{"Id": "sha256:73187c280adde253bee9703ab74630f7c76b8294a4a19ddfe9df4acdf1711532",
  "RepoTags": ["kenv/abcdabcdabcd:latest"], "Created": "2026-12-04T20:01:02.123456789Z",
  "Config": {"Labels": {"kenv.managed": "true"}}, "Size": 1234}]`

// volumesJSON is `docker volume inspect` output for kenv volumes of envID.
func volumesJSON(envID string, names ...string) string {
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf(`{"CreatedAt": "2026-12-04T19:59:24Z", "Driver": "local", "Name": %q,
  "Labels": {"kenv.managed": "true", "kenv.env": %q, "kenv.version": "0.1.0"}, "Scope": "local"}`, n, envID))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func newTestAdapter(t *testing.T, fake *dockerclitest.Executor) *Docker {
	t.Helper()
	d, err := New(Options{Executor: fake, Timeouts: Timeouts{Inspect: 5 * time.Second}, NoOwner: true})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d
}

func TestProvisionSuccess(t *testing.T) {
	t.Parallel()
	fake := dockerclitest.New()
	fake.On("image", "inspect").Returns(imageJSON, "", 0)
	fake.On("volume", "create").Returns("vol\n", "", 0)
	fake.On("run").Returns("3014373ad893\n", "", 0)
	var envID string
	fake.On("container", "inspect").Does(func(ctx context.Context, cmd dockercli.Command) (dockercli.Result, error) {
		id := strings.TrimPrefix(cmd.Args[len(cmd.Args)-1], "kenv-")
		envID = id
		return dockercli.Result{Stdout: []byte(containerJSON(id, "running"))}, nil
	})
	d := newTestAdapter(t, fake)

	env, err := d.Provision(context.Background(), EnvConfig{
		Image:      "kenv-test/busybox:latest",
		CPUs:       "0.5",
		Memory:     "512m",
		Env:        map[string]string{"TOKEN": "s3cret-value"},
		Volumes:    []VolumeMount{{Name: "data", Target: "/data"}},
		NoInternet: true,
		Labels:     map[string]string{"team": "a,b=c"},
	})
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}

	want := Environment{
		ID:          envID,
		ContainerID: "3014373ad893a586beace9b91c0aa303b1aeba3385d23fb953d270d43288e06f",
		Name:        "kenv-" + envID,
		Image:       "kenv-test/busybox:latest",
		State:       StateRunning,
		CreatedAt:   time.Date(2026, 12, 4, 19, 59, 0, 365559216, time.UTC),
		Labels:      map[string]string{"kenv.managed": "true", "kenv.env": envID, "kenv.version": "0.1.0", "team": "a,b=c"},
		Volumes:     []string{"kenv-" + envID + "-data"},
	}
	if diff := cmp.Diff(want, env); diff != "" {
		t.Errorf("environment mismatch (-want +got):\n%s", diff)
	}

	const noOwner = " --label kenv.owner.host= --label kenv.owner.pid= --label kenv.owner.start="
	wantCmds := []string{
		"image inspect kenv-test/busybox:latest",
		"volume create --label kenv.env=" + envID + " --label kenv.managed=true" + noOwner +
			" --label kenv.version=0.1.0 --label kenv.volume=data kenv-" + envID + "-data",
		"run --detach --name kenv-" + envID +
			" --label kenv.env=" + envID + " --label kenv.env-names=TOKEN --label kenv.managed=true" + noOwner + " --label kenv.version=0.1.0 --label team=a,b=c" +
			" --env TOKEN=s3cret-value --cpus 0.5 --memory 536870912 --network none" +
			" --mount type=volume,source=kenv-" + envID + "-data,target=/data --init --pull never" +
			" --entrypoint sleep kenv-test/busybox:latest infinity",
		"container inspect kenv-" + envID,
	}
	if diff := cmp.Diff(wantCmds, fake.Commands()); diff != "" {
		t.Errorf("engine commands mismatch (-want +got):\n%s", diff)
	}
}

func TestProvisionInvalidConfigRunsNothing(t *testing.T) {
	t.Parallel()
	valid := func() EnvConfig { return EnvConfig{Image: "busybox:latest"} }
	tests := []struct {
		name     string
		mutate   func(*EnvConfig)
		wantCode Code
		wantIn   string
	}{
		{"empty image", func(c *EnvConfig) { c.Image = "" }, CodeInvalidConfig, "image is empty"},
		{"uppercase image", func(c *EnvConfig) { c.Image = "BusyBox" }, CodeInvalidConfig, `"BusyBox"`},
		{"image looks like flag", func(c *EnvConfig) { c.Image = "--privileged" }, CodeInvalidConfig, `"--privileged"`},
		{"image with space", func(c *EnvConfig) { c.Image = "busy box" }, CodeInvalidConfig, "invalid image reference"},
		{"tag too long", func(c *EnvConfig) { c.Image = "busybox:" + strings.Repeat("a", 129) }, CodeInvalidConfig, "invalid image reference"},
		{"memory word", func(c *EnvConfig) { c.Memory = "lots" }, CodeInvalidConfig, `"lots"`},
		{"memory negative", func(c *EnvConfig) { c.Memory = "-1g" }, CodeInvalidConfig, `"-1g"`},
		{"memory below minimum", func(c *EnvConfig) { c.Memory = "1m" }, CodeInvalidConfig, "minimum"},
		{"memory huge", func(c *EnvConfig) { c.Memory = "99999999999p" }, CodeInvalidConfig, "too large"},
		{"cpus negative", func(c *EnvConfig) { c.CPUs = "-1" }, CodeInvalidConfig, `"-1"`},
		{"cpus zero", func(c *EnvConfig) { c.CPUs = "0" }, CodeInvalidConfig, `"0"`},
		{"cpus word", func(c *EnvConfig) { c.CPUs = "many" }, CodeInvalidConfig, `"many"`},
		{"cpus NaN", func(c *EnvConfig) { c.CPUs = "NaN" }, CodeInvalidConfig, `"NaN"`},
		{"env name empty", func(c *EnvConfig) { c.Env = map[string]string{"": "x"} }, CodeInvalidConfig, `""`},
		{"env name with equals", func(c *EnvConfig) { c.Env = map[string]string{"A=B": "x"} }, CodeInvalidConfig, `"A=B"`},
		{"env name with NUL", func(c *EnvConfig) { c.Env = map[string]string{"A\x00": "x"} }, CodeInvalidConfig, "invalid environment variable name"},
		{"env value with NUL", func(c *EnvConfig) { c.Env = map[string]string{"A": "x\x00y"} }, CodeInvalidConfig, "NUL"},
		{"volume relative target", func(c *EnvConfig) { c.Volumes = []VolumeMount{{Name: "d", Target: "data"}} }, CodeInvalidConfig, `"data"`},
		{"volume empty target", func(c *EnvConfig) { c.Volumes = []VolumeMount{{Name: "d"}} }, CodeInvalidConfig, "target is empty"},
		{"volume root target", func(c *EnvConfig) { c.Volumes = []VolumeMount{{Name: "d", Target: "/"}} }, CodeInvalidConfig, "whole filesystem"},
		{"volume bad name", func(c *EnvConfig) { c.Volumes = []VolumeMount{{Name: "../x", Target: "/x"}} }, CodeInvalidConfig, `"../x"`},
		{"volume duplicate name", func(c *EnvConfig) {
			c.Volumes = []VolumeMount{{Name: "d", Target: "/a"}, {Name: "d", Target: "/b"}}
		}, CodeInvalidConfig, "used twice"},
		{"duplicate target", func(c *EnvConfig) {
			c.Volumes = []VolumeMount{{Name: "d", Target: "/a"}}
			c.Binds = []BindMount{{Source: "/srv", Target: "/a/"}}
		}, CodeInvalidConfig, "used twice"},
		{"bind relative source", func(c *EnvConfig) { c.Binds = []BindMount{{Source: "srv", Target: "/a"}} }, CodeInvalidConfig, `"srv"`},
		{"bind comma", func(c *EnvConfig) { c.Binds = []BindMount{{Source: "/a,b", Target: "/a"}} }, CodeInvalidConfig, "comma"},
		{"bind engine socket", func(c *EnvConfig) {
			c.Binds = []BindMount{{Source: "/var/run/docker.sock", Target: "/var/run/docker.sock"}}
		}, CodeInvalidConfig, "AllowEngineSocket"},
		{"bind folder of engine socket", func(c *EnvConfig) { c.Binds = []BindMount{{Source: "/run", Target: "/hostrun"}} }, CodeInvalidConfig, "socket"},
		{"bind host root", func(c *EnvConfig) { c.Binds = []BindMount{{Source: "/", Target: "/host"}} }, CodeInvalidConfig, "socket"},
		{"label reserved prefix", func(c *EnvConfig) { c.Labels = map[string]string{"kenv.env": "x"} }, CodeInvalidConfig, "reserves"},
		{"label empty key", func(c *EnvConfig) { c.Labels = map[string]string{"": "x"} }, CodeInvalidConfig, "label key is empty"},
		{"pull policy unknown", func(c *EnvConfig) { c.PullPolicy = "sometimes" }, CodeInvalidConfig, `"sometimes"`},
		{"command empty program", func(c *EnvConfig) { c.Command = []string{""} }, CodeInvalidConfig, "first element is empty"},
		{"allowed hosts", func(c *EnvConfig) { c.AllowedHosts = []string{"example.com"} }, CodeUnsupportedNetworkPolicy, "not supported"},
		{"allowed ports", func(c *EnvConfig) { c.AllowedPorts = []int{443} }, CodeUnsupportedNetworkPolicy, "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := dockerclitest.New()
			d := newTestAdapter(t, fake)
			cfg := valid()
			tt.mutate(&cfg)

			_, err := d.Provision(context.Background(), cfg)

			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Provision error = %v, want *Error", err)
			}
			if e.Code != tt.wantCode {
				t.Errorf("code = %s, want %s (error %v)", e.Code, tt.wantCode, err)
			}
			if !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("error %q does not name %q", err, tt.wantIn)
			}
			if calls := fake.Commands(); len(calls) != 0 {
				t.Errorf("engine was called for an invalid config: %q", calls)
			}
		})
	}
}

func TestEngineSocketBehindSymlinkRejected(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	link := filepath.Join(dir, "innocent")
	if err := os.Symlink("/var/run/docker.sock", link); err != nil {
		t.Fatal(err)
	}
	linkToRun := filepath.Join(dir, "run")
	if err := os.Symlink("/run", linkToRun); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{link, linkToRun} {
		_, err := planProvision(EnvConfig{Image: "busybox", Binds: []BindMount{{Source: src, Target: "/x"}}}, nil)
		if !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("bind of %s: %v, want INVALID_CONFIG", src, err)
		}
	}
}

func TestTrimStderrDropsClientHints(t *testing.T) {
	t.Parallel()
	in := "docker: Error response from daemon: invalid mount config.\nSee 'docker run --help'.\n"
	if got, want := trimStderr([]byte(in)), "docker: Error response from daemon: invalid mount config."; got != want {
		t.Errorf("trimStderr = %q, want %q", got, want)
	}
}

func TestProvisionAllowsEngineSocketWhenOptedIn(t *testing.T) {
	t.Parallel()
	_, err := planProvision(EnvConfig{
		Image:             "busybox",
		Binds:             []BindMount{{Source: "/var/run/docker.sock", Target: "/var/run/docker.sock"}},
		AllowEngineSocket: true,
	}, nil)
	if err != nil {
		t.Errorf("planProvision with AllowEngineSocket: %v, want nil", err)
	}
}

// onCleanupChecks adds the rules for the checks of a failed provision's
// cleanup: nothing is left.
func onCleanupChecks(f *dockerclitest.Executor) {
	f.On("ps").Returns("", "", 0)
	f.On("rm").Returns("", "", 0)
	f.On("volume", "rm").Returns("", "", 0)
	f.On("container", "inspect").Returns("[]", "Error: No such object: kenv-x\n", 1)
	f.On("volume", "inspect").Returns("[]", "Error: No such volume: kenv-x\n", 1)
}

// assertCleanedUp checks that the calls remove the container and then the
// volumes of the failed provision, and end with the checks.
func assertCleanedUp(t *testing.T, cmds []string, volumes bool) {
	t.Helper()
	rm, volRm := -1, -1
	for i, c := range cmds {
		if strings.HasPrefix(c, "rm --force --volumes kenv-") && rm < 0 {
			rm = i
		}
		if strings.HasPrefix(c, "volume rm kenv-") && volRm < 0 {
			volRm = i
		}
	}
	if rm < 0 {
		t.Errorf("no container removal among %q", cmds)
	}
	if volumes && (volRm < 0 || volRm < rm) {
		t.Errorf("no volume removal after the container's among %q", cmds)
	}
	if last := cmds[len(cmds)-1]; !strings.HasPrefix(last, "container inspect kenv-") && !strings.HasPrefix(last, "volume inspect kenv-") {
		t.Errorf("last call = %q, want the check that nothing is left", last)
	}
}

func TestProvisionFailureCleansUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		setup    func(f *dockerclitest.Executor)
		wantCode Code
	}{
		{
			name: "run fails",
			setup: func(f *dockerclitest.Executor) {
				f.On("run").Returns("", "docker: Error response from daemon: Minimum memory limit allowed is 6MB.\n", 125)
			},
			wantCode: CodeProvisionFailed,
		},
		{
			name: "inspect after run fails",
			setup: func(f *dockerclitest.Executor) {
				f.On("run").Returns("abc\n", "", 0)
				f.On("container", "inspect").Returns("[]", "Error: No such object: kenv-x\n", 1)
			},
			wantCode: CodeEnvNotFound,
		},
		{
			name: "second volume fails",
			setup: func(f *dockerclitest.Executor) {
				f.On("volume", "create").Times(1).Returns("v\n", "", 0)
				f.On("volume", "create").Returns("", "Error response from daemon: create x: disk full\n", 1)
			},
			wantCode: CodeProvisionFailed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := dockerclitest.New()
			fake.On("image", "inspect").Returns(imageJSON, "", 0)
			tt.setup(fake)
			fake.On("volume", "create").Returns("v\n", "", 0)
			onCleanupChecks(fake)
			d := newTestAdapter(t, fake)

			_, err := d.Provision(context.Background(), EnvConfig{
				Image:   "busybox",
				Volumes: []VolumeMount{{Name: "a", Target: "/a"}, {Name: "b", Target: "/b"}},
			})
			if !errors.Is(err, &Error{Code: tt.wantCode}) {
				t.Fatalf("error = %v, want code %s", err, tt.wantCode)
			}
			assertCleanedUp(t, fake.Commands(), true)
		})
	}
}

func TestProvisionCleanupRepeatsForLateContainer(t *testing.T) {
	t.Parallel()
	fake := dockerclitest.New()
	fake.On("image", "inspect").Returns(imageJSON, "", 0)
	fake.On("run").Returns("", "docker: Error response from daemon: boom\n", 125)
	// The daemon completes a create after the first removal: the first
	// listing is empty, the check after it and the next round's listing find
	// the late container.
	fake.On("ps").Times(1).Returns("", "", 0)
	fake.On("ps").Times(2).Returns("late123\n", "", 0)
	onCleanupChecks(fake)
	d := newTestAdapter(t, fake)

	if _, err := d.Provision(context.Background(), EnvConfig{Image: "busybox"}); !errors.Is(err, ErrProvisionFailed) {
		t.Fatalf("error = %v, want PROVISION_FAILED", err)
	}
	removed := false
	for _, c := range fake.Commands() {
		if strings.HasPrefix(c, "rm --force --volumes") && strings.Contains(c, "late123") {
			removed = true
		}
	}
	if !removed {
		t.Errorf("the late container was not removed: %q", fake.Commands())
	}
}

func TestProvisionCanceledStillCleansUp(t *testing.T) {
	t.Parallel()
	fake := dockerclitest.New()
	fake.On("image", "inspect").Returns(imageJSON, "", 0)
	fake.On("volume", "create").Returns("v\n", "", 0)
	fake.On("run").Delays(time.Hour)
	onCleanupChecks(fake)
	d := newTestAdapter(t, fake)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := d.Provision(ctx, EnvConfig{Image: "busybox", Volumes: []VolumeMount{{Name: "a", Target: "/a"}}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want it to wrap context.DeadlineExceeded", err)
	}
	assertCleanedUp(t, fake.Commands(), true)
}

func TestProvisionImagePolicy(t *testing.T) {
	t.Parallel()
	missing := "Error: No such image: busybox:latest\n"
	tests := []struct {
		name     string
		policy   PullPolicy
		setup    func(f *dockerclitest.Executor)
		wantErr  Code // empty for success
		wantPull bool
	}{
		{
			name:   "present image is not pulled",
			policy: PullMissing,
			setup:  func(f *dockerclitest.Executor) { f.On("image", "inspect").Returns(imageJSON, "", 0) },
		},
		{
			name:     "missing image is pulled",
			policy:   PullMissing,
			setup:    func(f *dockerclitest.Executor) { f.On("image", "inspect").Returns("[]", missing, 1) },
			wantPull: true,
		},
		{
			name:    "missing image with never fails",
			policy:  PullNever,
			setup:   func(f *dockerclitest.Executor) { f.On("image", "inspect").Returns("[]", missing, 1) },
			wantErr: CodeProvisionFailed,
		},
		{
			name:     "always pulls without inspect",
			policy:   PullAlways,
			setup:    func(f *dockerclitest.Executor) {},
			wantPull: true,
		},
		{
			name:   "failed pull names the image",
			policy: PullMissing,
			setup: func(f *dockerclitest.Executor) {
				f.On("image", "inspect").Returns("[]", missing, 1)
				f.On("pull").Returns("", "Error response from daemon: Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io: no such host\n", 1)
			},
			wantErr:  CodeProvisionFailed,
			wantPull: true,
		},
		{
			name:   "daemon down at inspect",
			policy: PullMissing,
			setup: func(f *dockerclitest.Executor) {
				f.On("image", "inspect").Returns("", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n", 1)
			},
			wantErr: CodeDockerUnavailable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := dockerclitest.New()
			tt.setup(fake)
			fake.On("pull").Returns("", "", 0)
			fake.On("run").Returns("abc\n", "", 0)
			fake.On("container", "inspect").Does(func(ctx context.Context, cmd dockercli.Command) (dockercli.Result, error) {
				id := strings.TrimPrefix(cmd.Args[len(cmd.Args)-1], "kenv-")
				return dockercli.Result{Stdout: []byte(containerJSON(id, "running"))}, nil
			})
			fake.On("rm").Returns("", "", 0)
			d := newTestAdapter(t, fake)

			_, err := d.Provision(context.Background(), EnvConfig{Image: "busybox:latest", PullPolicy: tt.policy})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Provision: %v", err)
			case tt.wantErr != "" && !errors.Is(err, &Error{Code: tt.wantErr}):
				t.Fatalf("error = %v, want code %s", err, tt.wantErr)
			case tt.wantErr == CodeProvisionFailed && !strings.Contains(err.Error(), "busybox:latest"):
				t.Errorf("error %q does not name the image", err)
			}

			pulled := false
			for _, c := range fake.Commands() {
				if strings.HasPrefix(c, "pull ") {
					pulled = true
				}
			}
			if pulled != tt.wantPull {
				t.Errorf("pulled = %t, want %t (calls %q)", pulled, tt.wantPull, fake.Commands())
			}
		})
	}
}

func TestEngineUnavailable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(f *dockerclitest.Executor)
	}{
		{"binary missing", func(f *dockerclitest.Executor) {
			f.On().Fails(&dockercli.StartError{Binary: "docker", Err: errors.New("executable file not found in $PATH")})
		}},
		{"daemon down", func(f *dockerclitest.Executor) {
			f.On().Returns("", "Cannot connect to the Docker daemon at unix:///tmp/x/nothing.sock. Is the docker daemon running?\n", 1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := dockerclitest.New()
			tt.setup(fake)
			d := newTestAdapter(t, fake)
			ctx := context.Background()

			checks := map[string]error{}
			_, checks["provision"] = d.Provision(ctx, EnvConfig{Image: "busybox"})
			_, checks["exec"] = d.Exec(ctx, "abcdabcdabcd", ExecRequest{Argv: []string{"true"}})
			_, checks["snapshot"] = d.Snapshot(ctx, "abcdabcdabcd", SnapshotOptions{})
			checks["destroy"] = d.Destroy(ctx, "abcdabcdabcd")
			_, checks["list"] = d.List(ctx)
			_, checks["info"] = d.Info(ctx)
			for _, e := range d.StreamLogs(ctx, "abcdabcdabcd", LogOptions{}) {
				checks["logs"] = e
			}
			for op, err := range checks {
				if !errors.Is(err, ErrDockerUnavailable) {
					t.Errorf("%s error = %v, want DOCKER_UNAVAILABLE", op, err)
				}
			}
		})
	}
}

func TestEnvIDRejectedBeforeEngine(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"", "--rm", "-x", "ABCD", "kenv-abcd", "a b c d", "abc", strings.Repeat("a", 65), "abcd;rm"} {
		fake := dockerclitest.New()
		d := newTestAdapter(t, fake)
		ctx := context.Background()

		errs := map[string]error{}
		_, errs["exec"] = d.Exec(ctx, id, ExecRequest{Argv: []string{"true"}})
		_, errs["snapshot"] = d.Snapshot(ctx, id, SnapshotOptions{})
		errs["destroy"] = d.Destroy(ctx, id)
		_, errs["get"] = d.Get(ctx, id)
		for _, e := range d.StreamLogs(ctx, id, LogOptions{}) {
			errs["logs"] = e
		}
		for op, err := range errs {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("%s(%q) error = %v, want INVALID_CONFIG", op, id, err)
			}
		}
		if calls := fake.Commands(); len(calls) != 0 {
			t.Errorf("id %q reached the engine: %q", id, calls)
		}
	}
}

func TestDestroy(t *testing.T) {
	t.Parallel()
	const id = "abcdabcdabcd"
	tests := []struct {
		name      string
		setup     func(f *dockerclitest.Executor)
		wantCalls []string
		wantErr   Code
	}{
		{
			name: "container and volumes",
			setup: func(f *dockerclitest.Executor) {
				f.On("ps").Returns("c1\n", "", 0)
				f.On("volume", "ls").Returns("kenv-abcdabcdabcd-data\n", "", 0)
				f.On("volume", "inspect").Returns(volumesJSON(id, "kenv-abcdabcdabcd-data"), "", 0)
				f.On("rm").Returns("c1\n", "", 0)
				f.On("volume", "rm").Returns("kenv-abcdabcdabcd-data\n", "", 0)
			},
			wantCalls: []string{"rm --force --volumes c1", "volume rm kenv-abcdabcdabcd-data"},
		},
		{
			name: "already gone",
			setup: func(f *dockerclitest.Executor) {
				f.On("ps").Returns("", "", 0)
				f.On("volume", "ls").Returns("", "", 0)
			},
		},
		{
			name: "half created: volumes only",
			setup: func(f *dockerclitest.Executor) {
				f.On("ps").Returns("", "", 0)
				f.On("volume", "ls").Returns("kenv-abcdabcdabcd-a\nkenv-abcdabcdabcd-b\n", "", 0)
				f.On("volume", "inspect").Returns(volumesJSON(id, "kenv-abcdabcdabcd-a", "kenv-abcdabcdabcd-b"), "", 0)
				f.On("volume", "rm").Returns("", "", 0)
			},
			wantCalls: []string{"volume rm kenv-abcdabcdabcd-a kenv-abcdabcdabcd-b"},
		},
		{
			name: "volume without managed label is kept",
			setup: func(f *dockerclitest.Executor) {
				f.On("ps").Returns("", "", 0)
				f.On("volume", "ls").Returns("kenv-abcdabcdabcd-x\n", "", 0)
				f.On("volume", "inspect").Returns(strings.Replace(volumesJSON(id, "kenv-abcdabcdabcd-x"), `"kenv.managed": "true"`, `"other": "1"`, 1), "", 0)
			},
		},
		{
			name: "removed concurrently, rm exits 1",
			setup: func(f *dockerclitest.Executor) {
				f.On("ps").Returns("c1\n", "", 0)
				f.On("volume", "ls").Returns("", "", 0)
				f.On("rm").Returns("", "Error: No such container: c1\n", 1)
			},
			wantCalls: []string{"rm --force --volumes c1"},
		},
		{
			name: "removed concurrently, rm exits 0 with message",
			setup: func(f *dockerclitest.Executor) {
				f.On("ps").Returns("c1\n", "", 0)
				f.On("volume", "ls").Returns("", "", 0)
				f.On("rm").Returns("", "Error: No such container: c1\n", 0)
			},
			wantCalls: []string{"rm --force --volumes c1"},
		},
		{
			name: "volume in use",
			setup: func(f *dockerclitest.Executor) {
				f.On("ps").Returns("", "", 0)
				f.On("volume", "ls").Returns("kenv-abcdabcdabcd-a\n", "", 0)
				f.On("volume", "inspect").Returns(volumesJSON(id, "kenv-abcdabcdabcd-a"), "", 0)
				f.On("volume", "rm").Returns("", "Error response from daemon: remove kenv-abcdabcdabcd-a: volume is in use - [c2]\n", 1)
			},
			wantCalls: []string{"volume rm kenv-abcdabcdabcd-a"},
			wantErr:   CodeDestroyFailed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := dockerclitest.New()
			tt.setup(fake)
			// These cases cover the path without a container to inspect.
			fake.On("container", "inspect").Returns("[]", "Error: No such object: kenv-abcdabcdabcd\n", 1)
			d := newTestAdapter(t, fake)

			err := d.Destroy(context.Background(), id)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Destroy: %v", err)
			}
			if tt.wantErr != "" && !errors.Is(err, &Error{Code: tt.wantErr}) {
				t.Fatalf("Destroy error = %v, want %s", err, tt.wantErr)
			}

			var removals []string
			for _, c := range fake.Commands() {
				if strings.HasPrefix(c, "rm ") || strings.HasPrefix(c, "volume rm ") {
					removals = append(removals, c)
				}
				if strings.HasPrefix(c, "ps ") && !strings.Contains(c, "label=kenv.managed=true") {
					t.Errorf("listing %q does not filter on the managed label", c)
				}
				if strings.HasPrefix(c, "volume ls ") && strings.Count(c, "--filter") != 1 {
					t.Errorf("volume listing %q has more than one filter, which Podman joins with OR", c)
				}
			}
			if diff := cmp.Diff(tt.wantCalls, removals); diff != "" {
				t.Errorf("removals mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDestroyInspectsContainerFirst(t *testing.T) {
	t.Parallel()
	const id = "abcdabcdabcd"
	fake := dockerclitest.New()
	fake.On("container", "inspect").Returns(containerJSON(id, "running"), "", 0)
	fake.On("rm").Returns("", "", 0)
	fake.On("volume", "rm").Returns("", "", 0)
	d := newTestAdapter(t, fake)

	if err := d.Destroy(context.Background(), id); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	want := []string{
		"container inspect kenv-" + id,
		"rm --force --volumes 3014373ad893a586beace9b91c0aa303b1aeba3385d23fb953d270d43288e06f",
		"volume rm kenv-" + id + "-data",
	}
	if diff := cmp.Diff(want, fake.Commands()); diff != "" {
		t.Errorf("engine calls mismatch (-want +got):\n%s", diff)
	}
}

func TestDestroyForeignContainerFallsBackToLabels(t *testing.T) {
	t.Parallel()
	const id = "abcdabcdabcd"
	foreign := strings.Replace(containerJSON(id, "running"), `"kenv.managed": "true"`, `"kenv.managed": "no"`, 1)
	fake := dockerclitest.New()
	fake.On("container", "inspect").Returns(foreign, "", 0)
	fake.On("ps").Returns("", "", 0)
	fake.On("volume", "ls").Returns("", "", 0)
	d := newTestAdapter(t, fake)

	if err := d.Destroy(context.Background(), id); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	for _, c := range fake.Commands() {
		if strings.HasPrefix(c, "rm ") || strings.HasPrefix(c, "volume rm") {
			t.Errorf("Destroy removed %q from a container without kenv's labels", c)
		}
	}
}

func TestSnapshot(t *testing.T) {
	t.Parallel()
	const id = "abcdabcdabcd"
	fake := dockerclitest.New()
	fake.On("container", "inspect").Returns(containerJSON(id, "running"), "", 0)
	fake.On("commit").Returns("sha256:73187c\n", "", 0)
	fake.On("image", "inspect").Returns(imageJSON, "", 0)
	d := newTestAdapter(t, fake)

	snap, err := d.Snapshot(context.Background(), id, SnapshotOptions{Name: "Run-1"})
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	want := Snapshot{
		EnvID:     id,
		Name:      "Run-1",
		Ref:       SnapshotRef(id, "Run-1"),
		ImageID:   "sha256:73187c280adde253bee9703ab74630f7c76b8294a4a19ddfe9df4acdf1711532",
		CreatedAt: time.Date(2026, 12, 4, 20, 1, 2, 123456789, time.UTC),
	}
	if diff := cmp.Diff(want, snap); diff != "" {
		t.Errorf("snapshot mismatch (-want +got):\n%s", diff)
	}
	commit := fake.Commands()[1]
	if !strings.HasPrefix(commit, "commit --pause=true ") || !strings.HasSuffix(commit, " 3014373ad893a586beace9b91c0aa303b1aeba3385d23fb953d270d43288e06f "+want.Ref) {
		t.Errorf("commit call = %q, want a commit of the container id to %s", commit, want.Ref)
	}
}

func TestSnapshotForeignContainerIsNotFound(t *testing.T) {
	t.Parallel()
	const id = "abcdabcdabcd"
	foreign := strings.Replace(containerJSON(id, "running"), `"kenv.managed": "true"`, `"kenv.managed": "no"`, 1)
	fake := dockerclitest.New()
	fake.On("container", "inspect").Returns(foreign, "", 0)
	d := newTestAdapter(t, fake)

	_, err := d.Snapshot(context.Background(), id, SnapshotOptions{})
	if !errors.Is(err, ErrEnvNotFound) {
		t.Fatalf("error = %v, want ENV_NOT_FOUND for a container without kenv's labels", err)
	}
	if n := len(fake.Calls()); n != 1 {
		t.Errorf("engine calls = %q, want only the inspect", fake.Commands())
	}
}

func TestErrorsIs(t *testing.T) {
	t.Parallel()
	cause := errors.New("boom")
	err := fmt.Errorf("wrapped: %w", &Error{Code: CodeEnvNotFound, Op: "exec", EnvID: "abcd", Message: "m", Err: cause})
	if !errors.Is(err, ErrEnvNotFound) {
		t.Error("errors.Is(err, ErrEnvNotFound) = false, want true")
	}
	if errors.Is(err, ErrExecFailed) {
		t.Error("errors.Is(err, ErrExecFailed) = true, want false")
	}
	if !errors.Is(err, cause) {
		t.Error("errors.Is(err, cause) = false, want true through Unwrap")
	}
	var e *Error
	if !errors.As(err, &e) || e.EnvID != "abcd" {
		t.Errorf("errors.As gave %+v, want the *Error", e)
	}
}

func TestErrorMessageRedactsSecrets(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-very-secret"
	fake := dockerclitest.New()
	fake.On("image", "inspect").Returns(imageJSON, "", 0)
	fake.On("run").Returns("", "docker: invalid env TOKEN="+secret+"\n", 125)
	fake.On("rm").Returns("", "", 0)
	d := newTestAdapter(t, fake)

	_, err := d.Provision(context.Background(), EnvConfig{Image: "busybox", Env: map[string]string{"TOKEN": secret}})
	if err == nil {
		t.Fatal("Provision succeeded, want the run failure")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error %q contains the env value", err)
	}
	var e *Error
	if errors.As(err, &e) {
		for k, v := range e.Meta {
			if strings.Contains(v, secret) {
				t.Errorf("error meta %s = %q contains the env value", k, v)
			}
		}
	}
}

func TestInfo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		stdout     string
		stderr     string
		exit       int
		wantKind   string
		wantServer string
		wantErr    error
	}{
		{
			name:       "docker with daemon",
			stdout:     `{"Client":{"Version":"28.2.2","ApiVersion":"1.41","Os":"linux","Arch":"amd64"},"Server":{"Components":[{"Name":"Engine","Version":"20.10.24+dfsg1","Details":{"ApiVersion":"1.41"}}],"Version":"20.10.24+dfsg1","ApiVersion":"1.41","MinAPIVersion":"1.12","Os":"linux","Arch":"amd64","KernelVersion":"6.1"}}`,
			wantKind:   "docker",
			wantServer: "20.10.24+dfsg1",
		},
		{
			name:     "docker daemon down",
			stdout:   `{"Client":{"Version":"28.2.2","ApiVersion":"1.51","Os":"linux","Arch":"amd64"},"Server":null}`,
			stderr:   "Cannot connect to the Docker daemon at unix:///tmp/x.sock. Is the docker daemon running?\n",
			exit:     1,
			wantKind: "docker",
			wantErr:  ErrDockerUnavailable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := dockerclitest.New()
			fake.On("version").Returns(tt.stdout, tt.stderr, tt.exit)
			d := newTestAdapter(t, fake)

			info, err := d.Info(context.Background())
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Info error = %v, want %v", err, tt.wantErr)
			}
			if info.Kind != tt.wantKind || info.ServerVersion != tt.wantServer || info.ClientVersion == "" {
				t.Errorf("info = %+v, want kind %q, server %q and a client version", info, tt.wantKind, tt.wantServer)
			}
		})
	}
}
