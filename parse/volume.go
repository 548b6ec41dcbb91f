package parse

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Volume is one entry of `volume inspect` output.
type Volume struct {
	Name      string
	CreatedAt time.Time // zero when the engine did not say
	Labels    map[string]string
}

// VolumeInspect parses `docker volume inspect` and `podman volume inspect`
// output, a JSON array such as (Docker 20.10; Podman adds fractional seconds
// and more fields):
//
//	[{"CreatedAt": "2026-12-04T19:59:24Z", "Driver": "local",
//	  "Labels": {"kenv.managed": "true"}, "Name": "vt", ...}]
//
// Empty input gives an empty slice.
func VolumeInspect(data []byte) ([]Volume, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return []Volume{}, nil
	}
	var raw []struct {
		Name      string
		CreatedAt string
		Labels    map[string]string
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("invalid volume inspect output: %w", err)
	}
	out := make([]Volume, 0, len(raw))
	for _, r := range raw {
		v := Volume{Name: r.Name, Labels: r.Labels}
		if v.Labels == nil {
			v.Labels = map[string]string{}
		}
		if r.CreatedAt != "" {
			t, err := time.Parse(time.RFC3339Nano, r.CreatedAt)
			if err != nil {
				return nil, fmt.Errorf("invalid CreatedAt %q of volume %q: %w", r.CreatedAt, r.Name, err)
			}
			v.CreatedAt = t
		}
		out = append(out, v)
	}
	return out, nil
}
