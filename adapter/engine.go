package adapter

import (
	"context"
	"fmt"
	"os/exec"

	"github.com/kenv/kenv/dockercli"
	"github.com/kenv/kenv/parse"
)

// EngineInfo describes the engine client and its daemon.
type EngineInfo struct {
	Binary        string `json:"binary"`         // as configured
	Path          string `json:"path,omitempty"` // resolved in PATH; empty when not found
	Kind          string `json:"kind"`           // "docker" or "podman"
	ClientVersion string `json:"client_version"`
	ClientAPI     string `json:"client_api_version,omitempty"`
	ServerVersion string `json:"server_version,omitempty"` // empty when the daemon does not respond
	ServerAPI     string `json:"server_api_version,omitempty"`
	OS            string `json:"os,omitempty"`
	Arch          string `json:"arch,omitempty"`
	KernelVersion string `json:"kernel_version,omitempty"`
}

// Info runs `version` and reports the client and its daemon. When the client
// runs but the daemon does not respond, Info returns what it learned about
// the client together with ErrDockerUnavailable.
func (d *Docker) Info(ctx context.Context) (EngineInfo, error) {
	info := EngineInfo{Binary: d.engine}
	if p, err := exec.LookPath(d.engine); err == nil {
		info.Path = p
	}

	c := call{op: "version", kind: kindInspect}
	c.cmd = dockercli.Command{Args: dockercli.VersionArgs()}
	res, err := d.run(ctx, c)
	if err != nil {
		return info, err
	}

	v, perr := parse.ParseVersion(res.Stdout)
	if perr == nil {
		info.Kind = v.Engine
		info.ClientVersion = v.Client.Version
		info.ClientAPI = v.Client.APIVersion
		info.OS, info.Arch = v.Client.OS, v.Client.Arch
		switch {
		case v.Server != nil:
			info.ServerVersion = v.Server.Version
			info.ServerAPI = v.Server.APIVersion
			info.KernelVersion = v.Server.KernelVersion
		case v.Engine == "podman" && res.ExitCode == 0:
			// Local Podman has no daemon and prints no server section: the
			// client is the engine.
			info.ServerVersion = v.Client.Version
			info.ServerAPI = v.Client.APIVersion
		}
	}

	if res.ExitCode != 0 || (perr == nil && info.ServerVersion == "") {
		e := d.engineError(c, res, false, fmt.Sprintf("the engine client %q runs, but its daemon does not respond; start the daemon or check DOCKER_HOST and the active context", d.engine))
		e.Code = CodeDockerUnavailable
		return info, e
	}
	if perr != nil {
		return info, &Error{Code: CodeEngineFailed, Op: "version", Message: "the engine's version output could not be parsed", Err: perr}
	}
	return info, nil
}
