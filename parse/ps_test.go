package parse

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// dockerPS is the listing in testdata/docker-20.10/ps.ndjson, which the 28.2
// client printed identically. parsetest-running also has the legacy link
// alias "parsetest-linker/db".
var dockerPS = []PSEntry{
	{ID: "aa941aedbe44adab99dd471dcf99d2590041e9227009afda76eb12ebd73f9a39", Name: "parsetest-tty", Names: []string{"parsetest-tty"}, Image: "kenv-test/busybox:latest", State: StateExited, RawState: "exited", CreatedAt: time.Date(2026, 12, 4, 20, 2, 47, 0, time.UTC)},
	{ID: "2fadb0f613a5b378133ce4f0d469b0c5ffabf9e29f55c6811907cd4fcd597187", Name: "parsetest-linker", Names: []string{"parsetest-linker"}, Image: "kenv-test/busybox:latest", State: StateRunning, RawState: "running", CreatedAt: time.Date(2026, 12, 4, 20, 2, 46, 0, time.UTC)},
	{ID: "19de27dae46fe924ae26856256ca6182ca9e1fb72e290fca09628e0335210a46", Name: "parsetest-restarting", Names: []string{"parsetest-restarting"}, Image: "kenv-test/busybox:latest", State: StateRunning, RawState: "restarting", CreatedAt: time.Date(2026, 12, 4, 20, 2, 46, 0, time.UTC)},
	{ID: "dc353cfe5776f5b1b5e06463b64ef67430fee52d04042db447a98cbeded73505", Name: "parsetest-conflict", Names: []string{"parsetest-conflict"}, Image: "kenv-test/busybox:latest", State: StateCreated, RawState: "created", CreatedAt: time.Date(2026, 12, 4, 20, 2, 46, 0, time.UTC)},
	{ID: "18c089666e949659704add533daa02cef83564323fff4730154b3a86140950a0", Name: "parsetest-logs", Names: []string{"parsetest-logs"}, Image: "kenv-test/busybox:latest", State: StateExited, RawState: "exited", CreatedAt: time.Date(2026, 12, 4, 20, 2, 46, 0, time.UTC)},
	{ID: "0c3d0773f5e38c3e6607cd713d282a8b1f308039929a644f1fc5f7adbd12f53f", Name: "parsetest-oom", Names: []string{"parsetest-oom"}, Image: "kenv-test/busybox:latest", State: StateExited, RawState: "exited", CreatedAt: time.Date(2026, 12, 4, 20, 2, 45, 0, time.UTC)},
	{ID: "1d45b894a3c43ea871bd5b043b6bd4df6f7b6e0051a2707d3dc6b329300012f4", Name: "parsetest-limits", Names: []string{"parsetest-limits"}, Image: "kenv-test/busybox:latest", State: StateRunning, RawState: "running", CreatedAt: time.Date(2026, 12, 4, 20, 2, 45, 0, time.UTC)},
	{ID: "ee49324b409d54b6f0a08611c2c0db27316e89cec452ff556049dafa3291aaa9", Name: "parsetest-labels", Names: []string{"parsetest-labels"}, Image: "kenv-test/busybox:latest", State: StateCreated, RawState: "created", CreatedAt: time.Date(2026, 12, 4, 20, 2, 45, 0, time.UTC)},
	{ID: "cb980b2b2f6189ad4109b270d9e94f9d2a9c81a691f119186e298fc7a7ea10ed", Name: "parsetest-paused", Names: []string{"parsetest-paused"}, Image: "kenv-test/busybox:latest", State: StatePaused, RawState: "paused", CreatedAt: time.Date(2026, 12, 4, 20, 2, 45, 0, time.UTC)},
	{ID: "23c22950d0af0b887364711ae4ea7655e1646a340b36ea58f5b71a7da6f73fdd", Name: "parsetest-created", Names: []string{"parsetest-created"}, Image: "kenv-test/busybox:latest", State: StateCreated, RawState: "created", CreatedAt: time.Date(2026, 12, 4, 20, 2, 45, 0, time.UTC)},
	{ID: "bcae146b4e0179aa0726246f1376e7614dbb464a3ba471ca1137b135ddcbfe1e", Name: "parsetest-exited", Names: []string{"parsetest-exited"}, Image: "kenv-test/busybox:latest", State: StateExited, RawState: "exited", CreatedAt: time.Date(2026, 12, 4, 20, 2, 44, 0, time.UTC)},
	{ID: "983f174bcba749e1a0853a8ccf80400a7f61dec7b9df881c1f4b59bc9dffdab9", Name: "parsetest-running", Names: []string{"parsetest-linker/db", "parsetest-running"}, Image: "kenv-test/busybox:latest", State: StateRunning, RawState: "running", CreatedAt: time.Date(2026, 12, 4, 20, 2, 44, 0, time.UTC)},
}

// podmanPS is the listing in testdata/podman-4.3/ps.json.
var podmanPS = []PSEntry{
	{ID: "27139ee0509da5a907d64d2bad30ebe2f1e2570aefcedf43ef78c353950e9f1f", Name: "parsetest-running", Names: []string{"parsetest-running"}, Image: "localhost/kenv-test/busybox:latest", State: StateRunning, RawState: "running", CreatedAt: time.Date(2026, 12, 4, 20, 2, 50, 0, time.UTC)},
	{ID: "f211ebb10ccdb8ab0a6ab4a06da9ecbd27ceeebae7aa68f4b1066cc39fcbda22", Name: "parsetest-exited", Names: []string{"parsetest-exited"}, Image: "localhost/kenv-test/busybox:latest", State: StateExited, RawState: "exited", CreatedAt: time.Date(2026, 12, 4, 20, 2, 50, 0, time.UTC)},
	{ID: "8d34b6931bb93fab6bb70e39a1fd015014f8e9f2456fd2cf135329acc2e9929e", Name: "parsetest-created", Names: []string{"parsetest-created"}, Image: "localhost/kenv-test/busybox:latest", State: StateCreated, RawState: "created", CreatedAt: time.Date(2026, 12, 4, 20, 2, 51, 0, time.UTC)},
	{ID: "0c19fa0c391aa9b8f6a12ab7330560c1535ed725438337b44a69422db55b4555", Name: "parsetest-paused", Names: []string{"parsetest-paused"}, Image: "localhost/kenv-test/busybox:latest", State: StatePaused, RawState: "paused", CreatedAt: time.Date(2026, 12, 4, 20, 2, 51, 0, time.UTC)},
	{ID: "82862d3a32b8e00d2df238a34d686bd6cd9152f925bee1668856d5bee427c28d", Name: "parsetest-labels", Names: []string{"parsetest-labels"}, Image: "localhost/kenv-test/busybox:latest", State: StateCreated, RawState: "created", CreatedAt: time.Date(2026, 12, 4, 20, 2, 51, 0, time.UTC)},
	{ID: "1bac9311abe181aaf8962a86a542e68b0438677f87c96069331f7711b94df193", Name: "parsetest-limits", Names: []string{"parsetest-limits"}, Image: "localhost/kenv-test/busybox:latest", State: StateRunning, RawState: "running", CreatedAt: time.Date(2026, 12, 4, 20, 2, 51, 0, time.UTC)},
	{ID: "4a149c0934afe185edfc9825ad3a39df92097dcf33ccec8e686f606f13954612", Name: "parsetest-oom", Names: []string{"parsetest-oom"}, Image: "localhost/kenv-test/busybox:latest", State: StateExited, RawState: "exited", CreatedAt: time.Date(2026, 12, 4, 20, 2, 51, 0, time.UTC)},
	{ID: "6f704f85c1543a19ca6534cdb45397d12dcee1db20f3852f27130fa7ee0ef821", Name: "parsetest-logs", Names: []string{"parsetest-logs"}, Image: "localhost/kenv-test/busybox:latest", State: StateExited, RawState: "exited", CreatedAt: time.Date(2026, 12, 4, 20, 2, 51, 0, time.UTC)},
	{ID: "fcb76eab2aaacc073ba27c9ca11092d0fcbf759787409778054b847a189a4f26", Name: "parsetest-conflict", Names: []string{"parsetest-conflict"}, Image: "localhost/kenv-test/busybox:latest", State: StateCreated, RawState: "created", CreatedAt: time.Date(2026, 12, 4, 20, 2, 51, 0, time.UTC)},
	{ID: "d82266560df91e73d730b4898696bd74f682687cc92ff34b76db820019d627aa", Name: "parsetest-initialized", Names: []string{"parsetest-initialized"}, Image: "localhost/kenv-test/busybox:latest", State: StateCreated, RawState: "initialized", CreatedAt: time.Date(2026, 12, 4, 20, 2, 51, 0, time.UTC)},
}

func TestPS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		want []PSEntry
	}{
		{"docker 20.10 client", "docker-20.10/ps.ndjson", dockerPS},
		{"docker 28 client", "docker-28-client/ps.ndjson", dockerPS},
		{"podman", "podman-4.3/ps.json", podmanPS},
		{"podman empty", "podman-4.3/ps-empty.json", []PSEntry{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := PS(readTestdata(t, tt.file))
			if err != nil {
				t.Fatalf("PS: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("PS mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPSBothFormatsGiveSameList(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 12, 4, 19, 52, 58, 0, time.UTC)
	want := []PSEntry{
		{
			ID:        "4bbb5c9c6311",
			Name:      "web",
			Names:     []string{"web"},
			Image:     "kenv-test/busybox:latest",
			State:     StateRunning,
			RawState:  "running",
			CreatedAt: created,
		},
		{
			ID:        "ac35194abb76",
			Name:      "db",
			Names:     []string{"db", "db-alias"},
			Image:     "kenv-test/busybox:latest",
			State:     StateExited,
			RawState:  "exited",
			CreatedAt: created.Add(time.Second),
		},
	}
	tests := []struct {
		name  string
		input string
	}{
		{
			name: "docker ndjson",
			input: `{"CreatedAt":"2026-12-04 19:52:58 +0000 UTC","ID":"4bbb5c9c6311","Image":"kenv-test/busybox:latest","Labels":"a=1,b=2","Names":"web","State":"running","Status":"Up 2 seconds"}
{"CreatedAt":"2026-12-04 19:52:59 +0000 UTC","ID":"ac35194abb76","Image":"kenv-test/busybox:latest","Labels":"","Names":"db,db-alias","State":"exited","Status":"Exited (0) 1 second ago"}
`,
		},
		{
			name:  "docker ndjson with crlf and local time",
			input: "{\"CreatedAt\":\"2026-12-04 14:52:58 -0500 EST\",\"ID\":\"4bbb5c9c6311\",\"Image\":\"kenv-test/busybox:latest\",\"Names\":\"web\",\"State\":\"running\"}\r\n{\"CreatedAt\":\"2026-12-04 20:52:59 +0100 CET\",\"ID\":\"ac35194abb76\",\"Image\":\"kenv-test/busybox:latest\",\"Names\":\"db,db-alias\",\"State\":\"exited\"}\r\n",
		},
		{
			name: "podman array",
			input: `[
  {"Id": "4bbb5c9c6311", "Image": "kenv-test/busybox:latest", "Labels": {"a": "1", "b": "2"}, "Names": ["web"], "State": "running", "Created": 1796413978, "CreatedAt": "2 seconds ago"},
  {"Id": "ac35194abb76", "Image": "kenv-test/busybox:latest", "Labels": null, "Names": ["db", "db-alias"], "State": "exited", "Created": 1796413979, "CreatedAt": "1 second ago"}
]
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := PS([]byte(tt.input))
			if err != nil {
				t.Fatalf("PS: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("PS mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPSEdgeCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		want  []PSEntry
	}{
		{name: "empty output", input: "", want: []PSEntry{}},
		{name: "newline only", input: "\n", want: []PSEntry{}},
		{name: "empty array", input: "[]\n", want: []PSEntry{}},
		{
			name:  "docker without State field reads Status",
			input: `{"ID":"a","Names":"paused-one","Status":"Up 5 minutes (Paused)"}` + "\n" + `{"ID":"b","Names":"gone","Status":"Removal In Progress"}`,
			want: []PSEntry{
				{ID: "a", Name: "paused-one", Names: []string{"paused-one"}, State: StatePaused},
				{ID: "b", Name: "gone", Names: []string{"gone"}, State: StateDead},
			},
		},
		{
			name:  "only link aliases",
			input: `{"ID":"a","Names":"linker/db"}`,
			want:  []PSEntry{{ID: "a", Names: []string{"linker/db"}, State: StateUnknown}},
		},
		{
			name:  "no names",
			input: `[{"Id":"a","Names":null,"State":"created"}]`,
			want:  []PSEntry{{ID: "a", Names: []string{}, State: StateCreated, RawState: "created"}},
		},
		{
			name:  "podman created as RFC 3339 string",
			input: `[{"Id":"a","Names":["x"],"State":"configured","Created":"2021-05-07T13:28:21.783776413-04:00"}]`,
			want: []PSEntry{{
				ID: "a", Name: "x", Names: []string{"x"}, State: StateCreated, RawState: "configured",
				CreatedAt: time.Date(2021, 5, 7, 17, 28, 21, 783776413, time.UTC),
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := PS([]byte(tt.input))
			if err != nil {
				t.Fatalf("PS: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("PS mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPSErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		input       string
		wantMessage string
	}{
		{"table output", "CONTAINER ID   IMAGE     COMMAND", `invalid ps output "CONTAINER ID   IMAGE     COMMAND": invalid character 'C'`},
		{"truncated object", `{"ID":"a"`, "unexpected EOF"},
		{"truncated array", `[{"Id":"a"}`, "unexpected end of JSON input"},
		{"missing ID", `{"Names":"web"}`, "entry 0: missing ID"},
		{"second entry missing ID", `{"ID":"a"}` + "\n" + `{"ID":""}`, "entry 1: missing ID"},
		{"names a number", `{"ID":"a","Names":5}`, "entry 0: invalid Names 5"},
		{"names list of numbers", `[{"Id":"a","Names":[1]}]`, "entry 0: invalid Names [1]"},
		{"invalid CreatedAt", `{"ID":"a","CreatedAt":"2 seconds ago"}`, `entry 0: invalid CreatedAt "2 seconds ago"`},
		{"invalid Created", `[{"Id":"a","Created":true}]`, "entry 0: invalid Created true"},
		{"invalid Created string", `[{"Id":"a","Created":"yesterday"}]`, `entry 0: invalid Created "yesterday"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := PS([]byte(tt.input))
			if err == nil {
				t.Fatalf("PS returned %v and no error", got)
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

func TestLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"empty", "", []string{}},
		{"newline only", "\n", []string{}},
		{"ids", "4bbb5c9c6311\nac35194abb76\n", []string{"4bbb5c9c6311", "ac35194abb76"}},
		{"no trailing newline", "a\nb", []string{"a", "b"}},
		{"crlf and blank lines", "a\r\n\r\n  b  \n\n", []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, Lines([]byte(tt.input))); diff != "" {
				t.Errorf("Lines mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
