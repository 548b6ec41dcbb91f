package parse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Mount is one entry of a container's Mounts.
type Mount struct {
	Type        string // "volume", "bind", "tmpfs"
	Name        string // volume name, empty for binds
	Source      string
	Destination string
	ReadOnly    bool
}

// Container is the part of one `container inspect` entry that kenv uses.
type Container struct {
	ID          string
	Name        string // without Docker's leading "/"
	Image       string // the reference the container was created from (Config.Image)
	ImageID     string
	State       string // canonical, see CanonicalState
	RawState    string // as the engine printed it (State.Status)
	ExitCode    int
	OOMKilled   bool // NOTE: Podman 4.3 printed false for a container that the kernel OOM-killed (exit 137)
	Pid         int
	Created     time.Time
	StartedAt   time.Time         // zero when never started (the engine prints 0001-01-01T00:00:00Z)
	FinishedAt  time.Time         // zero when never finished
	Labels      map[string]string // from Config.Labels, never nil
	NanoCPUs    int64             // CPU limit in billionths of a CPU, 0 when unlimited
	Memory      int64             // HostConfig.Memory in bytes, 0 when unlimited
	NetworkMode string            // HostConfig.NetworkMode
	Mounts      []Mount           // never nil
}

type rawContainer struct {
	ID        string `json:"Id"`
	Created   string
	Name      string
	Image     string // the image ID
	ImageName string // the reference, printed by Podman only
	State     struct {
		Status     string
		OOMKilled  bool
		Pid        int
		ExitCode   int
		StartedAt  string
		FinishedAt string
	}
	Config struct {
		Image  string
		Labels map[string]string
	}
	HostConfig struct {
		NanoCpus    int64
		CpuQuota    int64
		CpuPeriod   int64
		Memory      int64
		NetworkMode string
	}
	Mounts []struct {
		Type        string
		Name        string
		Source      string
		Destination string
		RW          bool
	}
}

// ContainerInspect parses `docker container inspect` and `podman container
// inspect` output, a JSON array with one object per container. Docker 20.10
// prints, abridged:
//
//	[
//	    {
//	        "Id": "4bbb5c9c6311ee742e6891441cb1d460f985d0bb4ee28130eabbea42119b1859",
//	        "Created": "2026-12-04T20:01:49.050649028Z",
//	        "State": {
//	            "Status": "running",
//	            "OOMKilled": false,
//	            "Pid": 23535,
//	            "ExitCode": 0,
//	            "StartedAt": "2026-12-04T20:01:49.418167153Z",
//	            "FinishedAt": "0001-01-01T00:00:00Z"
//	        },
//	        "Image": "sha256:73187c280adde253bee9703ab74630f7c76b8294a4a19ddfe9df4acdf1711532",
//	        "Name": "/parsetest-running",
//	        "HostConfig": {"NetworkMode": "default", "Memory": 0, "NanoCpus": 0, "CpuQuota": 0},
//	        "Mounts": [{"Type": "volume", "Name": "parsetest-vol", "Destination": "/data", "RW": true}],
//	        "Config": {"Image": "kenv-test/busybox:latest", "Labels": {"kenv.role": "sample"}}
//	    }
//	]
//
// Podman 4.3 prints the same fields, but Name has no leading "/", Image is the
// ID without "sha256:", and Config.Labels is null when there are no labels.
//
// Empty input or "[]", which is what a missing name gives, returns an empty
// slice and a nil error. Timestamps may be in UTC with "Z" or carry an offset,
// and both parse to the same instant, returned in UTC.
//
// NanoCPUs is HostConfig.NanoCpus (set by --cpus). When that is 0 and a CFS
// quota is set (--cpu-quota), NanoCPUs is derived as quota/period, with the
// kernel's default period of 100 ms when the period is 0.
func ContainerInspect(data []byte) ([]Container, error) {
	containers := []Container{}
	if len(bytes.TrimSpace(data)) == 0 {
		return containers, nil
	}
	var raws []rawContainer
	if err := json.Unmarshal(data, &raws); err != nil {
		return nil, newOutputError("container inspect", data, err)
	}
	for i, raw := range raws {
		c, err := newContainer(raw)
		if err != nil {
			return nil, newOutputError("container inspect", data, fmt.Errorf("container %d: %w", i, err))
		}
		containers = append(containers, c)
	}
	return containers, nil
}

func newContainer(raw rawContainer) (Container, error) {
	if raw.ID == "" {
		return Container{}, errors.New("missing Id")
	}
	c := Container{
		ID:          raw.ID,
		Name:        strings.TrimPrefix(raw.Name, "/"),
		Image:       raw.Config.Image,
		ImageID:     raw.Image,
		State:       CanonicalState(raw.State.Status),
		RawState:    raw.State.Status,
		ExitCode:    raw.State.ExitCode,
		OOMKilled:   raw.State.OOMKilled,
		Pid:         raw.State.Pid,
		Labels:      nonNilLabels(raw.Config.Labels),
		NanoCPUs:    nanoCPUs(raw.HostConfig.NanoCpus, raw.HostConfig.CpuQuota, raw.HostConfig.CpuPeriod),
		Memory:      raw.HostConfig.Memory,
		NetworkMode: raw.HostConfig.NetworkMode,
		Mounts:      make([]Mount, 0, len(raw.Mounts)),
	}
	if c.Image == "" {
		c.Image = raw.ImageName
	}

	var err error
	if c.Created, err = fieldTime("Created", raw.Created); err != nil {
		return Container{}, err
	}
	if c.StartedAt, err = fieldTime("State.StartedAt", raw.State.StartedAt); err != nil {
		return Container{}, err
	}
	if c.FinishedAt, err = fieldTime("State.FinishedAt", raw.State.FinishedAt); err != nil {
		return Container{}, err
	}

	for _, m := range raw.Mounts {
		c.Mounts = append(c.Mounts, Mount{
			Type:        m.Type,
			Name:        m.Name,
			Source:      m.Source,
			Destination: m.Destination,
			ReadOnly:    !m.RW,
		})
	}
	return c, nil
}

// defaultCFSPeriod is the kernel's default CFS period in microseconds.
const defaultCFSPeriod = 100_000

// nanoCPUs returns nano when set, else the CFS quota as billionths of a CPU.
func nanoCPUs(nano, quota, period int64) int64 {
	if nano != 0 || quota <= 0 {
		return nano
	}
	if period == 0 {
		period = defaultCFSPeriod
	}
	// The kernel accepts periods from 1 ms to 1 s, so anything else is not a
	// real limit. The bound on quota keeps the multiplication from overflowing.
	if period < 1_000 || period > 1_000_000 || quota > math.MaxInt64/1_000_000_000 {
		return 0
	}
	return quota * 1_000_000_000 / period
}

// nonNilLabels returns labels, or a new empty map when labels is nil.
func nonNilLabels(labels map[string]string) map[string]string {
	if labels == nil {
		return map[string]string{}
	}
	return labels
}

// Image is the part of one `image inspect` entry that kenv uses.
type Image struct {
	ID       string
	RepoTags []string // never nil
	Created  time.Time
	Labels   map[string]string // Config.Labels merged with Podman's top-level Labels, never nil
	Size     int64             // bytes
	Env      []string          // Config.Env: the image's NAME=VALUE defaults, never secrets of a kenv environment
}

type rawImage struct {
	ID       string `json:"Id"`
	RepoTags []string
	Created  string
	Size     int64
	Labels   map[string]string // Podman only
	Config   struct {
		Labels map[string]string
		Env    []string
	}
}

// ImageInspect parses `docker image inspect` and `podman image inspect`
// output, a JSON array with one object per image. Docker 20.10 prints,
// abridged:
//
//	[
//	    {
//	        "Id": "sha256:1ab53a49f4c0cea5f53bd53bded973587958bc390640118056a03dbfafe9a395",
//	        "RepoTags": ["parsetest/labelled:latest", "parsetest/labelled:second"],
//	        "Created": "2026-12-04T20:01:52.733466999Z",
//	        "Config": {"Labels": {"kenv.env": "A=1,B=2", "kenv.note": "one, two"}},
//	        "Size": 1984241
//	    }
//	]
//
// Podman 4.3 prints the ID without "sha256:", null Labels when there are none,
// and a top-level "Labels" with the same content as Config.Labels. Empty input
// or "[]" returns an empty slice and a nil error.
func ImageInspect(data []byte) ([]Image, error) {
	images := []Image{}
	if len(bytes.TrimSpace(data)) == 0 {
		return images, nil
	}
	var raws []rawImage
	if err := json.Unmarshal(data, &raws); err != nil {
		return nil, newOutputError("image inspect", data, err)
	}
	for i, raw := range raws {
		if raw.ID == "" {
			return nil, newOutputError("image inspect", data, fmt.Errorf("image %d: missing Id", i))
		}
		created, err := fieldTime("Created", raw.Created)
		if err != nil {
			return nil, newOutputError("image inspect", data, fmt.Errorf("image %d: %w", i, err))
		}
		image := Image{
			ID:       raw.ID,
			RepoTags: raw.RepoTags,
			Created:  created,
			Labels:   make(map[string]string, len(raw.Labels)+len(raw.Config.Labels)),
			Size:     raw.Size,
			Env:      raw.Config.Env,
		}
		if image.RepoTags == nil {
			image.RepoTags = []string{}
		}
		for key, value := range raw.Labels {
			image.Labels[key] = value
		}
		for key, value := range raw.Config.Labels {
			image.Labels[key] = value
		}
		images = append(images, image)
	}
	return images, nil
}
