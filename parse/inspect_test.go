package parse

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Expected values of the captured samples under testdata, copied from the
// JSON files. Created values such as 20:02:45.570282Z show that Docker's
// inspect output drops trailing zeros of the fraction.
var dockerRunning = Container{
	ID:          "983f174bcba749e1a0853a8ccf80400a7f61dec7b9df881c1f4b59bc9dffdab9",
	Name:        "parsetest-running",
	Image:       "kenv-test/busybox:latest",
	ImageID:     "sha256:73187c280adde253bee9703ab74630f7c76b8294a4a19ddfe9df4acdf1711532",
	State:       StateRunning,
	RawState:    "running",
	Pid:         29277,
	Created:     time.Date(2026, 12, 4, 20, 2, 44, 670458408, time.UTC),
	StartedAt:   time.Date(2026, 12, 4, 20, 2, 44, 889074994, time.UTC),
	Labels:      map[string]string{"kenv.role": "sample"},
	NetworkMode: "default",
	Mounts:      []Mount{},
}

var dockerExited = Container{
	ID:          "bcae146b4e0179aa0726246f1376e7614dbb464a3ba471ca1137b135ddcbfe1e",
	Name:        "parsetest-exited",
	Image:       "kenv-test/busybox:latest",
	ImageID:     "sha256:73187c280adde253bee9703ab74630f7c76b8294a4a19ddfe9df4acdf1711532",
	State:       StateExited,
	RawState:    "exited",
	ExitCode:    3,
	Created:     time.Date(2026, 12, 4, 20, 2, 44, 918375643, time.UTC),
	StartedAt:   time.Date(2026, 12, 4, 20, 2, 45, 123948103, time.UTC),
	FinishedAt:  time.Date(2026, 12, 4, 20, 2, 45, 125585524, time.UTC),
	Labels:      map[string]string{},
	NetworkMode: "default",
	Mounts:      []Mount{},
}

var dockerCreated = Container{
	ID:          "23c22950d0af0b887364711ae4ea7655e1646a340b36ea58f5b71a7da6f73fdd",
	Name:        "parsetest-created",
	Image:       "kenv-test/busybox:latest",
	ImageID:     "sha256:73187c280adde253bee9703ab74630f7c76b8294a4a19ddfe9df4acdf1711532",
	State:       StateCreated,
	RawState:    "created",
	Created:     time.Date(2026, 12, 4, 20, 2, 45, 229909201, time.UTC),
	Labels:      map[string]string{},
	NetworkMode: "default",
	Mounts:      []Mount{},
}

var dockerPaused = Container{
	ID:          "cb980b2b2f6189ad4109b270d9e94f9d2a9c81a691f119186e298fc7a7ea10ed",
	Name:        "parsetest-paused",
	Image:       "kenv-test/busybox:latest",
	ImageID:     "sha256:73187c280adde253bee9703ab74630f7c76b8294a4a19ddfe9df4acdf1711532",
	State:       StatePaused,
	RawState:    "paused",
	Pid:         29433,
	Created:     time.Date(2026, 12, 4, 20, 2, 45, 262937347, time.UTC),
	StartedAt:   time.Date(2026, 12, 4, 20, 2, 45, 480037130, time.UTC),
	Labels:      map[string]string{},
	NetworkMode: "default",
	Mounts:      []Mount{},
}

var dockerLabels = Container{
	ID:          "ee49324b409d54b6f0a08611c2c0db27316e89cec452ff556049dafa3291aaa9",
	Name:        "parsetest-labels",
	Image:       "kenv-test/busybox:latest",
	ImageID:     "sha256:73187c280adde253bee9703ab74630f7c76b8294a4a19ddfe9df4acdf1711532",
	State:       StateCreated,
	RawState:    "created",
	Created:     time.Date(2026, 12, 4, 20, 2, 45, 534911774, time.UTC),
	Labels:      map[string]string{"kenv.empty": "", "kenv.env": "A=1,B=2", "kenv.note": "one, two", "kenv.quote": "say \"hi\""},
	NetworkMode: "default",
	Mounts:      []Mount{},
}

var dockerLimits = Container{
	ID:          "1d45b894a3c43ea871bd5b043b6bd4df6f7b6e0051a2707d3dc6b329300012f4",
	Name:        "parsetest-limits",
	Image:       "kenv-test/busybox:latest",
	ImageID:     "sha256:73187c280adde253bee9703ab74630f7c76b8294a4a19ddfe9df4acdf1711532",
	State:       StateRunning,
	RawState:    "running",
	Pid:         29517,
	Created:     time.Date(2026, 12, 4, 20, 2, 45, 570282000, time.UTC),
	StartedAt:   time.Date(2026, 12, 4, 20, 2, 45, 747814862, time.UTC),
	Labels:      map[string]string{},
	NanoCPUs:    1500000000,
	Memory:      67108864,
	NetworkMode: "none",
	Mounts:      []Mount{{Type: "volume", Name: "parsetest-vol", Source: "/var/lib/docker/volumes/parsetest-vol/_data", Destination: "/data"}, {Type: "bind", Source: "/tmp/parsetest-capture.1vmOt2/bind", Destination: "/bind", ReadOnly: true}, {Type: "tmpfs", Destination: "/scratch"}},
}

var dockerOom = Container{
	ID:          "0c3d0773f5e38c3e6607cd713d282a8b1f308039929a644f1fc5f7adbd12f53f",
	Name:        "parsetest-oom",
	Image:       "kenv-test/busybox:latest",
	ImageID:     "sha256:73187c280adde253bee9703ab74630f7c76b8294a4a19ddfe9df4acdf1711532",
	State:       StateExited,
	RawState:    "exited",
	ExitCode:    137,
	OOMKilled:   true,
	Created:     time.Date(2026, 12, 4, 20, 2, 45, 774344739, time.UTC),
	StartedAt:   time.Date(2026, 12, 4, 20, 2, 45, 990210273, time.UTC),
	FinishedAt:  time.Date(2026, 12, 4, 20, 2, 46, 87410993, time.UTC),
	Labels:      map[string]string{},
	Memory:      16777216,
	NetworkMode: "default",
	Mounts:      []Mount{},
}

var dockerRestarting = Container{
	ID:          "19de27dae46fe924ae26856256ca6182ca9e1fb72e290fca09628e0335210a46",
	Name:        "parsetest-restarting",
	Image:       "kenv-test/busybox:latest",
	ImageID:     "sha256:73187c280adde253bee9703ab74630f7c76b8294a4a19ddfe9df4acdf1711532",
	State:       StateRunning,
	RawState:    "restarting",
	ExitCode:    1,
	Created:     time.Date(2026, 12, 4, 20, 2, 46, 459196579, time.UTC),
	StartedAt:   time.Date(2026, 12, 4, 20, 2, 47, 603228907, time.UTC),
	FinishedAt:  time.Date(2026, 12, 4, 20, 2, 47, 629477737, time.UTC),
	Labels:      map[string]string{},
	NetworkMode: "default",
	Mounts:      []Mount{},
}

var podmanRunning = Container{
	ID:          "27139ee0509da5a907d64d2bad30ebe2f1e2570aefcedf43ef78c353950e9f1f",
	Name:        "parsetest-running",
	Image:       "localhost/kenv-test/busybox:latest",
	ImageID:     "a0db0b8d00b97b4311592bd44ca64136cd5602826bffe60205b5e1df82698fd3",
	State:       StateRunning,
	RawState:    "running",
	Pid:         31455,
	Created:     time.Date(2026, 12, 4, 20, 2, 50, 770705749, time.UTC),
	StartedAt:   time.Date(2026, 12, 4, 20, 2, 50, 877438206, time.UTC),
	Labels:      map[string]string{"kenv.role": "sample"},
	NetworkMode: "bridge",
	Mounts:      []Mount{},
}

var podmanExited = Container{
	ID:          "f211ebb10ccdb8ab0a6ab4a06da9ecbd27ceeebae7aa68f4b1066cc39fcbda22",
	Name:        "parsetest-exited",
	Image:       "localhost/kenv-test/busybox:latest",
	ImageID:     "a0db0b8d00b97b4311592bd44ca64136cd5602826bffe60205b5e1df82698fd3",
	State:       StateExited,
	RawState:    "exited",
	ExitCode:    3,
	Created:     time.Date(2026, 12, 4, 20, 2, 50, 904927946, time.UTC),
	StartedAt:   time.Date(2026, 12, 4, 20, 2, 51, 8076691, time.UTC),
	FinishedAt:  time.Date(2026, 12, 4, 20, 2, 51, 9241588, time.UTC),
	Labels:      map[string]string{},
	NetworkMode: "bridge",
	Mounts:      []Mount{},
}

var podmanCreated = Container{
	ID:          "8d34b6931bb93fab6bb70e39a1fd015014f8e9f2456fd2cf135329acc2e9929e",
	Name:        "parsetest-created",
	Image:       "localhost/kenv-test/busybox:latest",
	ImageID:     "a0db0b8d00b97b4311592bd44ca64136cd5602826bffe60205b5e1df82698fd3",
	State:       StateCreated,
	RawState:    "created",
	Created:     time.Date(2026, 12, 4, 20, 2, 51, 140883919, time.UTC),
	Labels:      map[string]string{},
	NetworkMode: "bridge",
	Mounts:      []Mount{},
}

var podmanPaused = Container{
	ID:          "0c19fa0c391aa9b8f6a12ab7330560c1535ed725438337b44a69422db55b4555",
	Name:        "parsetest-paused",
	Image:       "localhost/kenv-test/busybox:latest",
	ImageID:     "a0db0b8d00b97b4311592bd44ca64136cd5602826bffe60205b5e1df82698fd3",
	State:       StatePaused,
	RawState:    "paused",
	Pid:         31659,
	Created:     time.Date(2026, 12, 4, 20, 2, 51, 179480071, time.UTC),
	StartedAt:   time.Date(2026, 12, 4, 20, 2, 51, 273530087, time.UTC),
	Labels:      map[string]string{},
	NetworkMode: "bridge",
	Mounts:      []Mount{},
}

var podmanLabels = Container{
	ID:          "82862d3a32b8e00d2df238a34d686bd6cd9152f925bee1668856d5bee427c28d",
	Name:        "parsetest-labels",
	Image:       "localhost/kenv-test/busybox:latest",
	ImageID:     "a0db0b8d00b97b4311592bd44ca64136cd5602826bffe60205b5e1df82698fd3",
	State:       StateCreated,
	RawState:    "created",
	Created:     time.Date(2026, 12, 4, 20, 2, 51, 332635997, time.UTC),
	Labels:      map[string]string{"kenv.empty": "", "kenv.env": "A=1,B=2", "kenv.note": "one, two", "kenv.quote": "say \"hi\""},
	NetworkMode: "bridge",
	Mounts:      []Mount{},
}

var podmanLimits = Container{
	ID:          "1bac9311abe181aaf8962a86a542e68b0438677f87c96069331f7711b94df193",
	Name:        "parsetest-limits",
	Image:       "localhost/kenv-test/busybox:latest",
	ImageID:     "a0db0b8d00b97b4311592bd44ca64136cd5602826bffe60205b5e1df82698fd3",
	State:       StateRunning,
	RawState:    "running",
	Pid:         31713,
	Created:     time.Date(2026, 12, 4, 20, 2, 51, 368617916, time.UTC),
	StartedAt:   time.Date(2026, 12, 4, 20, 2, 51, 436310336, time.UTC),
	Labels:      map[string]string{},
	NanoCPUs:    1500000000,
	Memory:      67108864,
	NetworkMode: "none",
	Mounts:      []Mount{{Type: "volume", Name: "parsetest-vol", Source: "/var/lib/containers/storage/volumes/parsetest-vol/_data", Destination: "/data"}, {Type: "bind", Source: "/tmp/parsetest-capture.1vmOt2/bind", Destination: "/bind", ReadOnly: true}},
}

var podmanOom = Container{
	ID:          "4a149c0934afe185edfc9825ad3a39df92097dcf33ccec8e686f606f13954612",
	Name:        "parsetest-oom",
	Image:       "localhost/kenv-test/busybox:latest",
	ImageID:     "a0db0b8d00b97b4311592bd44ca64136cd5602826bffe60205b5e1df82698fd3",
	State:       StateExited,
	RawState:    "exited",
	ExitCode:    137,
	Created:     time.Date(2026, 12, 4, 20, 2, 51, 464911482, time.UTC),
	StartedAt:   time.Date(2026, 12, 4, 20, 2, 51, 554491821, time.UTC),
	FinishedAt:  time.Date(2026, 12, 4, 20, 2, 51, 642021747, time.UTC),
	Labels:      map[string]string{},
	Memory:      16777216,
	NetworkMode: "bridge",
	Mounts:      []Mount{},
}

var podmanInitialized = Container{
	ID:          "d82266560df91e73d730b4898696bd74f682687cc92ff34b76db820019d627aa",
	Name:        "parsetest-initialized",
	Image:       "localhost/kenv-test/busybox:latest",
	ImageID:     "a0db0b8d00b97b4311592bd44ca64136cd5602826bffe60205b5e1df82698fd3",
	State:       StateCreated,
	RawState:    "initialized",
	Pid:         31909,
	Created:     time.Date(2026, 12, 4, 20, 2, 51, 878979835, time.UTC),
	Labels:      map[string]string{},
	NetworkMode: "bridge",
	Mounts:      []Mount{},
}

func TestContainerInspect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		want []Container
	}{
		{"docker running", "docker-20.10/container-inspect-running.json", []Container{dockerRunning}},
		{"docker exited", "docker-20.10/container-inspect-exited.json", []Container{dockerExited}},
		{"docker created", "docker-20.10/container-inspect-created.json", []Container{dockerCreated}},
		{"docker paused", "docker-20.10/container-inspect-paused.json", []Container{dockerPaused}},
		{"docker restarting", "docker-20.10/container-inspect-restarting.json", []Container{dockerRestarting}},
		{"docker labels with commas", "docker-20.10/container-inspect-labels.json", []Container{dockerLabels}},
		{"docker limits and mounts", "docker-20.10/container-inspect-limits.json", []Container{dockerLimits}},
		{"docker oom killed", "docker-20.10/container-inspect-oom.json", []Container{dockerOom}},
		{"docker three containers", "docker-20.10/container-inspect-all.json", []Container{dockerRunning, dockerExited, dockerCreated}},
		{"docker missing", "docker-20.10/container-inspect-missing.json", []Container{}},
		{"docker one of two missing", "docker-20.10/container-inspect-one-missing.json", []Container{dockerRunning}},
		{"docker 28 client running", "docker-28-client/container-inspect-running.json", []Container{dockerRunning}},
		{"docker 28 client missing", "docker-28-client/container-inspect-missing.json", []Container{}},
		{"docker 28 client one missing", "docker-28-client/container-inspect-one-missing.json", []Container{dockerRunning}},
		{"podman running", "podman-4.3/container-inspect-running.json", []Container{podmanRunning}},
		{"podman exited", "podman-4.3/container-inspect-exited.json", []Container{podmanExited}},
		{"podman created", "podman-4.3/container-inspect-created.json", []Container{podmanCreated}},
		{"podman initialized", "podman-4.3/container-inspect-initialized.json", []Container{podmanInitialized}},
		{"podman paused", "podman-4.3/container-inspect-paused.json", []Container{podmanPaused}},
		{"podman labels with commas", "podman-4.3/container-inspect-labels.json", []Container{podmanLabels}},
		{"podman limits and mounts", "podman-4.3/container-inspect-limits.json", []Container{podmanLimits}},
		{"podman oom killed", "podman-4.3/container-inspect-oom.json", []Container{podmanOom}},
		{"podman three containers", "podman-4.3/container-inspect-all.json", []Container{podmanRunning, podmanExited, podmanCreated}},
		{"podman missing", "podman-4.3/container-inspect-missing.json", []Container{}},
		{"podman one of two missing", "podman-4.3/container-inspect-one-missing.json", []Container{podmanRunning}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ContainerInspect(readTestdata(t, tt.file))
			if err != nil {
				t.Fatalf("ContainerInspect: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ContainerInspect mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestContainerInspectEdgeCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		want  []Container
	}{
		{name: "empty input", input: "", want: []Container{}},
		{name: "white space only", input: " \n", want: []Container{}},
		{name: "empty array", input: "[]", want: []Container{}},
		{name: "null", input: "null", want: []Container{}},
		{
			name: "timestamps in UTC, with offset and zero",
			input: `[{"Id": "abc", "Created": "2021-05-07T17:27:52.347500403Z",
				"State": {"Status": "exited", "StartedAt": "2021-05-07T13:28:21.783776413-04:00",
				"FinishedAt": "0001-01-01T00:00:00Z"}}]`,
			want: []Container{{
				ID:         "abc",
				State:      StateExited,
				RawState:   "exited",
				Created:    time.Date(2021, 5, 7, 17, 27, 52, 347500403, time.UTC),
				StartedAt:  time.Date(2021, 5, 7, 17, 28, 21, 783776413, time.UTC),
				FinishedAt: time.Time{},
				Labels:     map[string]string{},
				Mounts:     []Mount{},
			}},
		},
		{
			name: "labels with commas, equals signs and quotes",
			input: `[{"Id": "abc", "Config": {"Labels": {"kenv.env": "A=1,B=2", "kenv.note": "one, two",
				"kenv.quote": "say \"hi\"", "kenv.empty": ""}}}]`,
			want: []Container{{
				ID:     "abc",
				State:  StateUnknown,
				Labels: map[string]string{"kenv.env": "A=1,B=2", "kenv.note": "one, two", "kenv.quote": `say "hi"`, "kenv.empty": ""},
				Mounts: []Mount{},
			}},
		},
		{
			name:  "Podman reference from ImageName when Config.Image is empty",
			input: `[{"Id": "abc", "Image": "a0db0b8d00b9", "ImageName": "localhost/kenv-test/busybox:latest"}]`,
			want: []Container{{
				ID:      "abc",
				Image:   "localhost/kenv-test/busybox:latest",
				ImageID: "a0db0b8d00b9",
				State:   StateUnknown,
				Labels:  map[string]string{},
				Mounts:  []Mount{},
			}},
		},
		{
			name:  "CPU limit from quota and period",
			input: `[{"Id": "abc", "HostConfig": {"CpuQuota": 150000, "CpuPeriod": 100000}}]`,
			want:  []Container{{ID: "abc", State: StateUnknown, NanoCPUs: 1_500_000_000, Labels: map[string]string{}, Mounts: []Mount{}}},
		},
		{
			name:  "CPU limit from quota with default period",
			input: `[{"Id": "abc", "HostConfig": {"CpuQuota": 50000}}]`,
			want:  []Container{{ID: "abc", State: StateUnknown, NanoCPUs: 500_000_000, Labels: map[string]string{}, Mounts: []Mount{}}},
		},
		{
			name:  "NanoCpus wins over quota",
			input: `[{"Id": "abc", "HostConfig": {"NanoCpus": 2000000000, "CpuQuota": 50000, "CpuPeriod": 100000}}]`,
			want:  []Container{{ID: "abc", State: StateUnknown, NanoCPUs: 2_000_000_000, Labels: map[string]string{}, Mounts: []Mount{}}},
		},
		{
			name:  "unlimited quota",
			input: `[{"Id": "abc", "HostConfig": {"CpuQuota": -1, "CpuPeriod": 100000}}]`,
			want:  []Container{{ID: "abc", State: StateUnknown, Labels: map[string]string{}, Mounts: []Mount{}}},
		},
		{
			name:  "quota with a period the kernel rejects",
			input: `[{"Id": "abc", "HostConfig": {"CpuQuota": 50000, "CpuPeriod": 10}}]`,
			want:  []Container{{ID: "abc", State: StateUnknown, Labels: map[string]string{}, Mounts: []Mount{}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ContainerInspect([]byte(tt.input))
			if err != nil {
				t.Fatalf("ContainerInspect: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ContainerInspect mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestContainerInspectErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		input       string
		wantMessage string
	}{
		{
			name:        "stderr instead of stdout",
			input:       "Error: No such container: parsetest-missing\n",
			wantMessage: `invalid container inspect output "Error: No such container: parsetest-miss": invalid character 'E' looking for beginning of value`,
		},
		{
			name:        "object instead of array",
			input:       `{"Id": "abc"}`,
			wantMessage: "cannot unmarshal object",
		},
		{
			name:        "truncated",
			input:       `[{"Id": "abc"`,
			wantMessage: "unexpected end of JSON input",
		},
		{
			name:        "missing Id",
			input:       `[{"Name": "/parsetest-running"}]`,
			wantMessage: "container 0: missing Id",
		},
		{
			name:        "invalid Created",
			input:       `[{"Id": "abc", "Created": "yesterday"}]`,
			wantMessage: `container 0: invalid Created "yesterday": not an RFC 3339 timestamp`,
		},
		{
			name:        "February 30",
			input:       `[{"Id": "abc", "State": {"StartedAt": "2021-02-30T00:00:00Z"}}]`,
			wantMessage: `invalid State.StartedAt "2021-02-30T00:00:00Z"`,
		},
		{
			name:        "trailing text after timestamp",
			input:       `[{"Id": "abc", "State": {"FinishedAt": "2021-05-07T17:27:52Z x"}}]`,
			wantMessage: `invalid State.FinishedAt "2021-05-07T17:27:52Z x"`,
		},
		{
			name:        "second entry invalid",
			input:       `[{"Id": "abc"}, {"Id": ""}]`,
			wantMessage: "container 1: missing Id",
		},
		{
			name:        "exit code not a number",
			input:       `[{"Id": "abc", "State": {"ExitCode": "1"}}]`,
			wantMessage: "cannot unmarshal string",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ContainerInspect([]byte(tt.input))
			if err == nil {
				t.Fatalf("ContainerInspect returned %v and no error", got)
			}
			var outputErr *OutputError
			if !errors.As(err, &outputErr) {
				t.Errorf("error %T is not an *OutputError", err)
			}
			if !strings.Contains(err.Error(), tt.wantMessage) {
				t.Errorf("error %q does not contain %q", err, tt.wantMessage)
			}
			if got != nil {
				t.Errorf("ContainerInspect returned %v with an error", got)
			}
		})
	}
}

func TestImageInspect(t *testing.T) {
	t.Parallel()
	dockerImage := Image{
		ID:       "sha256:73187c280adde253bee9703ab74630f7c76b8294a4a19ddfe9df4acdf1711532",
		RepoTags: []string{"kenv-test/busybox:latest"},
		Created:  time.Date(2026, 12, 4, 19, 57, 50, 129153207, time.UTC),
		Labels:   map[string]string{},
		Size:     1984241,
		Env:      []string{"PATH=/bin"},
	}
	tests := []struct {
		name string
		file string
		want []Image
	}{
		{"docker", "docker-20.10/image-inspect.json", []Image{dockerImage}},
		{"docker labelled with two tags", "docker-20.10/image-inspect-labelled.json", []Image{{
			ID:       "sha256:bda9f693367f0f2954c31c1ff5adf183babe0bf2e15e2551e3da5054639f0d9e",
			RepoTags: []string{"parsetest/labelled:latest", "parsetest/labelled:second"},
			Created:  time.Date(2026, 12, 4, 20, 2, 47, 461996420, time.UTC),
			Labels:   map[string]string{"kenv.env": "A=1,B=2", "kenv.note": "one, two"},
			Size:     1984241,
			Env:      []string{"PATH=/bin"},
		}}},
		{"docker missing", "docker-20.10/image-inspect-missing.json", []Image{}},
		{"docker 28 client missing", "docker-28-client/image-inspect-missing.json", []Image{}},
		{"podman", "podman-4.3/image-inspect.json", []Image{{
			ID:       "a0db0b8d00b97b4311592bd44ca64136cd5602826bffe60205b5e1df82698fd3",
			RepoTags: []string{"localhost/kenv-test/busybox:latest"},
			Created:  time.Date(2026, 12, 4, 19, 57, 54, 352922023, time.UTC),
			Labels:   map[string]string{},
			Size:     2131034,
			Env:      []string{"PATH=/bin"},
		}}},
		{"podman labelled with two tags", "podman-4.3/image-inspect-labelled.json", []Image{{
			ID:       "f680cedbdcf724f923bfc3d499ff695c8a1de2bface1bfb63ad5e0e9c3b514a3",
			RepoTags: []string{"localhost/parsetest/labelled:latest", "localhost/parsetest/labelled:second"},
			Created:  time.Date(2026, 12, 4, 20, 2, 52, 39501738, time.UTC),
			Labels:   map[string]string{"kenv.env": "A=1,B=2", "kenv.note": "one, two"},
			Size:     2132785,
			Env:      []string{"PATH=/bin", "TERM=xterm", "container=podman"},
		}}},
		{"podman missing", "podman-4.3/image-inspect-missing.json", []Image{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ImageInspect(readTestdata(t, tt.file))
			if err != nil {
				t.Fatalf("ImageInspect: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ImageInspect mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestImageInspectEdgeCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		want  []Image
	}{
		{name: "empty input", input: "", want: []Image{}},
		{name: "empty array", input: "[]\n", want: []Image{}},
		{
			name:  "dangling image without tags",
			input: `[{"Id": "sha256:abc", "RepoTags": null, "Created": "2021-05-07T13:28:21.783776413-04:00"}]`,
			want: []Image{{
				ID:       "sha256:abc",
				RepoTags: []string{},
				Created:  time.Date(2021, 5, 7, 17, 28, 21, 783776413, time.UTC),
				Labels:   map[string]string{},
			}},
		},
		{
			name:  "Podman top-level labels merged with Config.Labels",
			input: `[{"Id": "abc", "Labels": {"a": "1", "b": "top"}, "Config": {"Labels": {"b": "config", "c": "3"}}}]`,
			want: []Image{{
				ID:       "abc",
				RepoTags: []string{},
				Labels:   map[string]string{"a": "1", "b": "config", "c": "3"},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ImageInspect([]byte(tt.input))
			if err != nil {
				t.Fatalf("ImageInspect: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ImageInspect mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestImageInspectErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		input       string
		wantMessage string
	}{
		{"stderr instead of stdout", "Error: No such image: parsetest/missing:latest", `invalid image inspect output "Error: No such image: parsetest/missing:"`},
		{"missing Id", `[{"RepoTags": []}]`, "image 0: missing Id"},
		{"invalid Created", `[{"Id": "abc", "Created": "2021-05-07"}]`, `image 0: invalid Created "2021-05-07"`},
		{"size not a number", `[{"Id": "abc", "Size": "big"}]`, "cannot unmarshal string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ImageInspect([]byte(tt.input))
			if err == nil {
				t.Fatalf("ImageInspect returned %v and no error", got)
			}
			var outputErr *OutputError
			if !errors.As(err, &outputErr) {
				t.Errorf("error %T is not an *OutputError", err)
			}
			if !strings.Contains(err.Error(), tt.wantMessage) {
				t.Errorf("error %q does not contain %q", err, tt.wantMessage)
			}
		})
	}
}
