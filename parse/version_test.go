package parse

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseVersion(t *testing.T) {
	t.Parallel()
	docker2010Client := ClientVersion{
		Version:           "20.10.24+dfsg1",
		APIVersion:        "1.41",
		DefaultAPIVersion: "1.41",
		GoVersion:         "go1.19.8",
		OS:                "linux",
		Arch:              "amd64",
	}
	docker2010Server := &ServerVersion{
		Version:       "20.10.24+dfsg1",
		APIVersion:    "1.41",
		MinAPIVersion: "1.12",
		KernelVersion: "6.18.44-fc-v1272",
		OS:            "linux",
		Arch:          "amd64",
	}
	podmanClient := ClientVersion{
		Version:    "4.3.1",
		APIVersion: "4.3.1",
		GoVersion:  "go1.19.8",
		OS:         "linux",
		Arch:       "amd64",
	}
	tests := []struct {
		name string
		file string
		want Version
	}{
		{
			name: "docker 20.10 client",
			file: "docker-20.10/version.json",
			want: Version{Engine: EngineDocker, Client: docker2010Client, Server: docker2010Server},
		},
		{
			name: "docker 20.10 client daemon unreachable",
			file: "docker-20.10/version-unreachable.json",
			want: Version{Engine: EngineDocker, Client: docker2010Client},
		},
		{
			// The 28 client lowers its API version to the daemon's 1.41.
			name: "docker 28 client",
			file: "docker-28-client/version.json",
			want: Version{
				Engine: EngineDocker,
				Client: ClientVersion{
					Version:           "28.2.2",
					APIVersion:        "1.41",
					DefaultAPIVersion: "1.50",
					GoVersion:         "go1.24.3",
					OS:                "linux",
					Arch:              "amd64",
				},
				Server: docker2010Server,
			},
		},
		{
			name: "docker 28 client daemon unreachable",
			file: "docker-28-client/version-unreachable.json",
			want: Version{
				Engine: EngineDocker,
				Client: ClientVersion{
					Version:           "28.2.2",
					APIVersion:        "1.50",
					DefaultAPIVersion: "1.50",
					GoVersion:         "go1.24.3",
					OS:                "linux",
					Arch:              "amd64",
				},
			},
		},
		{
			name: "podman local",
			file: "podman-4.3/version.json",
			want: Version{Engine: EnginePodman, Client: podmanClient},
		},
		{
			name: "podman remote",
			file: "podman-4.3/version-remote.json",
			want: Version{
				Engine: EnginePodman,
				Client: podmanClient,
				Server: &ServerVersion{Version: "4.3.1", APIVersion: "4.3.1", OS: "linux", Arch: "amd64"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseVersion(readTestdata(t, tt.file))
			if err != nil {
				t.Fatalf("ParseVersion: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseVersion mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseVersionEdgeCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		want  Version
	}{
		{
			name:  "null server",
			input: `{"Client":{"Version":"20.10.24","ApiVersion":"1.41","Os":"linux","Arch":"amd64"},"Server":null}`,
			want:  Version{Engine: EngineDocker, Client: ClientVersion{Version: "20.10.24", APIVersion: "1.41", OS: "linux", Arch: "amd64"}},
		},
		{
			name: "docker client against the podman compatible API",
			input: `{"Client":{"Version":"28.2.2","ApiVersion":"1.41"},"Server":{"Components":[{"Name":"Podman Engine",
				"Version":"4.3.1","Details":{"APIVersion":"4.3.1","Arch":"amd64","Os":"linux"}}],
				"Version":"4.3.1","ApiVersion":"1.41","MinAPIVersion":"1.24","Os":"linux","Arch":"amd64"}}`,
			want: Version{
				Engine: EnginePodman,
				Client: ClientVersion{Version: "28.2.2", APIVersion: "1.41"},
				Server: &ServerVersion{Version: "4.3.1", APIVersion: "1.41", MinAPIVersion: "1.24", OS: "linux", Arch: "amd64"},
			},
		},
		{
			name: "server fields only in the engine component",
			input: `{"Client":{"Version":"20.10.24"},"Server":{"Components":[{"Name":"containerd","Version":"1.6.20"},
				{"Name":"Engine","Version":"20.10.24","Details":{"ApiVersion":"1.41","MinAPIVersion":"1.12",
				"KernelVersion":"6.1.0","Os":"linux","Arch":"arm64"}}]}}`,
			want: Version{
				Engine: EngineDocker,
				Client: ClientVersion{Version: "20.10.24"},
				Server: &ServerVersion{Version: "20.10.24", APIVersion: "1.41", MinAPIVersion: "1.12", KernelVersion: "6.1.0", OS: "linux", Arch: "arm64"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseVersion([]byte(tt.input))
			if err != nil {
				t.Fatalf("ParseVersion: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseVersion mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseVersionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		input       string
		wantMessage string
	}{
		// An unreachable Podman prints nothing on stdout.
		{"empty output", "", `invalid version output "": empty output`},
		{"missing client", `{"Server":null}`, `invalid version output "{\"Server\":null}": missing Client`},
		{"null client", `{"Client":null}`, "missing Client"},
		{"not json", "Client: Podman Engine\nVersion: 4.3.1\n", "invalid character 'C'"},
		{"array", `[]`, "cannot unmarshal array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseVersion([]byte(tt.input))
			if err == nil {
				t.Fatalf("ParseVersion returned %+v and no error", got)
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
