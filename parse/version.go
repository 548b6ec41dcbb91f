package parse

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// Engine names that ParseVersion detects.
const (
	EngineDocker = "docker"
	EnginePodman = "podman"
)

// ClientVersion is the client section of version output.
type ClientVersion struct {
	Version           string
	APIVersion        string // the API version in use, which Docker lowers to the daemon's
	DefaultAPIVersion string // the client's own API version before negotiation, Docker only
	GoVersion         string
	OS, Arch          string
}

// ServerVersion is the server section of version output.
type ServerVersion struct {
	Version       string
	APIVersion    string
	MinAPIVersion string // Docker only
	KernelVersion string // Docker only
	OS, Arch      string
}

// Version is the parsed output of a version command.
type Version struct {
	Engine string // EngineDocker or EnginePodman, detected from the output
	Client ClientVersion
	Server *ServerVersion // nil when the output has no server section
}

type rawVersion struct {
	Client *rawVersionPart
	Server *rawVersionPart
}

// rawVersionPart reads the client and server sections of both engines.
// encoding/json matches keys case-insensitively, so APIVersion also reads
// Docker's "ApiVersion".
type rawVersionPart struct {
	Version           string
	APIVersion        string
	DefaultAPIVersion string
	MinAPIVersion     string
	GoVersion         string
	KernelVersion     string
	Os                string
	Arch              string
	OsArch            string          // Podman only, such as "linux/amd64"
	Built             json.RawMessage // Podman only, and only its presence is read
	Components        []struct {
		Name    string
		Version string
		Details struct {
			APIVersion    string
			MinAPIVersion string
			KernelVersion string
			Os            string
			Arch          string
		}
	}
}

// isPodman reports whether the section has fields that only Podman prints.
func (p *rawVersionPart) isPodman() bool {
	if p.OsArch != "" || p.Built != nil {
		return true
	}
	// `docker version` against Podman's Docker-compatible API names the
	// server component "Podman Engine".
	for _, component := range p.Components {
		if strings.Contains(strings.ToLower(component.Name), "podman") {
			return true
		}
	}
	return false
}

// osArch returns Os and Arch, split from Podman's OsArch when they are missing.
func (p *rawVersionPart) osArch() (string, string) {
	os, arch := p.Os, p.Arch
	if before, after, found := strings.Cut(p.OsArch, "/"); found {
		if os == "" {
			os = before
		}
		if arch == "" {
			arch = after
		}
	}
	return os, arch
}

// ParseVersion parses `docker version --format '{{json .}}'` (20.10 and 28 clients)
// and `podman version --format json`. The Docker 20.10 client prints, abridged:
//
//	{"Client":{"Version":"20.10.24+dfsg1","ApiVersion":"1.41","DefaultAPIVersion":"1.41",
//	"GoVersion":"go1.19.8","Os":"linux","Arch":"amd64","BuildTime":"Thu May  7 21:09:36 2026"},
//	"Server":{"Components":[{"Name":"Engine","Version":"20.10.24+dfsg1","Details":{...}}],
//	"Version":"20.10.24+dfsg1","ApiVersion":"1.41","MinAPIVersion":"1.12","Os":"linux",
//	"Arch":"amd64","KernelVersion":"6.18.44-fc-v1272"}}
//
// and "Server":null when the daemon is unreachable. Podman 4.3 prints only a
// client section when it runs locally, and a server section of the same shape
// through a remote connection:
//
//	{"Client":{"APIVersion":"4.3.1","Version":"4.3.1","GoVersion":"go1.19.8","GitCommit":"",
//	"BuiltTime":"Thu Jan  1 00:00:00 1970","Built":0,"OsArch":"linux/amd64","Os":"linux"}}
//
// A missing or null Server gives Server == nil, not an error. Output without a
// Client section is an error; an unreachable Podman prints nothing on stdout.
func ParseVersion(data []byte) (Version, error) {
	var raw rawVersion
	if len(bytes.TrimSpace(data)) == 0 {
		return Version{}, newOutputError("version", data, errors.New("empty output"))
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return Version{}, newOutputError("version", data, err)
	}
	if raw.Client == nil {
		return Version{}, newOutputError("version", data, errors.New("missing Client"))
	}

	v := Version{Engine: EngineDocker}
	if raw.Client.isPodman() || (raw.Server != nil && raw.Server.isPodman()) {
		v.Engine = EnginePodman
	}
	v.Client = ClientVersion{
		Version:           raw.Client.Version,
		APIVersion:        raw.Client.APIVersion,
		DefaultAPIVersion: raw.Client.DefaultAPIVersion,
		GoVersion:         raw.Client.GoVersion,
	}
	v.Client.OS, v.Client.Arch = raw.Client.osArch()

	if raw.Server != nil {
		v.Server = newServerVersion(raw.Server)
	}
	return v, nil
}

func newServerVersion(raw *rawVersionPart) *ServerVersion {
	server := &ServerVersion{
		Version:       raw.Version,
		APIVersion:    raw.APIVersion,
		MinAPIVersion: raw.MinAPIVersion,
		KernelVersion: raw.KernelVersion,
	}
	server.OS, server.Arch = raw.osArch()

	// Docker also lists the engine as a component. Fill in what the top
	// level left out from it.
	for _, component := range raw.Components {
		if component.Name != "Engine" && component.Name != "Podman Engine" {
			continue
		}
		fillEmpty(&server.Version, component.Version)
		fillEmpty(&server.APIVersion, component.Details.APIVersion)
		fillEmpty(&server.MinAPIVersion, component.Details.MinAPIVersion)
		fillEmpty(&server.KernelVersion, component.Details.KernelVersion)
		fillEmpty(&server.OS, component.Details.Os)
		fillEmpty(&server.Arch, component.Details.Arch)
		break
	}
	return server
}

func fillEmpty(field *string, value string) {
	if *field == "" {
		*field = value
	}
}
