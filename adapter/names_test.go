package adapter

import (
	"encoding/json"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// tagPattern is docker's rule for a tag.
var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

func TestSnapshotRef(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 200)
	tests := []struct {
		name    string
		snap    string
		want    string // empty: only check validity
		notSame string // a name whose ref must differ
	}{
		{name: "empty is latest", snap: "", want: "kenv/abcdabcdabcd:latest"},
		{name: "valid name kept", snap: "step-2.final_v1", want: "kenv/abcdabcdabcd:step-2.final_v1"},
		{name: "uppercase lowered with hash", snap: "Run-1", notSame: "run-1"},
		{name: "spaces replaced", snap: "after install", notSame: "after-install"},
		{name: "leading dot dropped", snap: ".hidden", notSame: "hidden"},
		{name: "long name cut with hash", snap: long, notSame: long + "y"},
		{name: "only punctuation", snap: "!!!", notSame: "???"},
		{name: "unicode", snap: "étape", notSame: "etape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ref := SnapshotRef("abcdabcdabcd", tt.snap)
			if tt.want != "" && ref != tt.want {
				t.Errorf("SnapshotRef(%q) = %q, want %q", tt.snap, ref, tt.want)
			}
			repo, tag, ok := strings.Cut(ref, ":")
			if !ok || repo != "kenv/abcdabcdabcd" {
				t.Fatalf("SnapshotRef(%q) = %q, want repository kenv/abcdabcdabcd", tt.snap, ref)
			}
			if !tagPattern.MatchString(tag) || len(tag) > 128 {
				t.Errorf("tag %q (%d characters) is not a valid docker tag", tag, len(tag))
			}
			if tag != strings.ToLower(tag) {
				t.Errorf("tag %q is not lowercase", tag)
			}
			if err := validateImage("test", ref); err != nil {
				t.Errorf("ref %q fails image validation: %v", ref, err)
			}
			if again := SnapshotRef("abcdabcdabcd", tt.snap); again != ref {
				t.Errorf("SnapshotRef is not deterministic: %q then %q", ref, again)
			}
			if tt.notSame != "" && SnapshotRef("abcdabcdabcd", tt.notSame) == ref {
				t.Errorf("SnapshotRef(%q) and SnapshotRef(%q) are both %q", tt.snap, tt.notSame, ref)
			}
		})
	}
}

func TestNewID(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := newID()
		if !envIDPattern.MatchString(id) || len(id) != 12 {
			t.Fatalf("newID() = %q, want 12 lowercase letters and digits", id)
		}
		if seen[id] {
			t.Fatalf("newID() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestValidateImage(t *testing.T) {
	t.Parallel()
	good := []string{
		"busybox", "busybox:latest", "kenv-test/busybox:latest", "localhost:5000/a/b:v1.2",
		"registry.example.com/team/app@sha256:" + strings.Repeat("a", 64),
		"sha256:" + strings.Repeat("0", 64), "a__b", "a.b-c_d",
	}
	bad := []string{"", "Busybox", "-x", "--rm", "busy box", "a:b:c", "a/", "/a", "a//b", "a:" + strings.Repeat("t", 129), "a@sha256:zz", "a\nb"}
	for _, img := range good {
		if err := validateImage("test", img); err != nil {
			t.Errorf("validateImage(%q) = %v, want nil", img, err)
		}
	}
	for _, img := range bad {
		if err := validateImage("test", img); err == nil {
			t.Errorf("validateImage(%q) = nil, want an error", img)
		}
	}
}

func TestParseMemory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"512m", 512 << 20, false},
		{"512M", 512 << 20, false},
		{"1g", 1 << 30, false},
		{"1.5g", 3 << 29, false},
		{"64MiB", 64 << 20, false},
		{"1024", 1024, false},
		{"100k", 100 << 10, false},
		{"2gb", 2 << 30, false},
		{"lots", 0, true},
		{"-1g", 0, true},
		{"", 0, true},
		{"1x", 0, true},
		{"1e9", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseMemory(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d, error %t", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestLibraryDependencies checks that the library packages depend on the
// standard library, golang.org/x/sync and each other only.
func TestLibraryDependencies(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not in PATH")
	}
	out, err := exec.Command("go", "list", "-json=ImportPath,Deps,Standard", "-deps",
		"github.com/kenv/kenv/adapter", "github.com/kenv/kenv/dockercli", "github.com/kenv/kenv/parse").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath string
			Standard   bool
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		switch {
		case p.Standard:
		case strings.HasPrefix(p.ImportPath, "golang.org/x/sync/"):
		case p.ImportPath == "github.com/kenv/kenv/adapter",
			p.ImportPath == "github.com/kenv/kenv/dockercli",
			p.ImportPath == "github.com/kenv/kenv/parse":
		default:
			t.Errorf("library depends on %s; allowed are the standard library, golang.org/x/sync and kenv's library packages", p.ImportPath)
		}
	}
}
