package adapter

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/kenv/kenv/dockercli"
	"github.com/kenv/kenv/parse"
)

// GCOptions selects what GC removes.
type GCOptions struct {
	// OlderThan keeps environments created less than this long ago. Zero
	// selects every managed environment.
	OlderThan time.Duration

	// DryRun reports what would be removed and removes nothing.
	DryRun bool

	// Orphans selects only environments whose recorded owner process has
	// exited (see EnvConfig.Owner). Environments with no owner, or with an
	// owner on another host, are never orphans. OlderThan still applies.
	Orphans bool
}

// GCItem is one environment that GC removed or would remove.
type GCItem struct {
	EnvID     string    `json:"env_id"`
	Container string    `json:"container,omitempty"` // empty for volumes left without a container
	Volumes   []string  `json:"volumes,omitempty"`
	State     State     `json:"state,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Owner     *Owner    `json:"owner,omitempty"`
	Removed   bool      `json:"removed"`
	Error     string    `json:"error,omitempty"`
}

// GC destroys the managed environments created before now minus
// opts.OlderThan, and the managed volumes left behind by environments whose
// container is gone (a killed provision leaves such volumes). Volumes without
// a container are left alone for orphanGrace unless OlderThan or Orphans
// selects them, since a running provision creates them first. It acts only on
// resources with kenv's labels. A failure to destroy one environment is
// recorded in its item and GC goes on; the returned error then joins every
// failure.
func (d *Docker) GC(ctx context.Context, opts GCOptions) ([]GCItem, error) {
	cutoff := time.Now().Add(-opts.OlderThan)

	ctrs, err := d.listContainers(ctx, "gc", managedFilter)
	if err != nil {
		return nil, err
	}
	vols, err := d.listVolumes(ctx)
	if err != nil {
		return nil, err
	}

	items := map[string]*GCItem{}
	for _, ctr := range ctrs {
		id := ctr.Labels[LabelEnv]
		items[id] = &GCItem{EnvID: id, Container: ctr.Name, State: State(ctr.State), CreatedAt: ctr.Created, Owner: ownerOf(ctr.Labels)}
	}
	for _, v := range vols {
		id := v.Labels[LabelEnv]
		if !envIDPattern.MatchString(id) {
			continue
		}
		item, ok := items[id]
		if !ok {
			item = &GCItem{EnvID: id, CreatedAt: v.CreatedAt, Owner: ownerOf(v.Labels)}
			items[id] = item
		}
		item.Volumes = append(item.Volumes, v.Name)
	}

	var selected []*GCItem
	for _, item := range items {
		if opts.OlderThan > 0 && !item.CreatedAt.Before(cutoff) {
			continue
		}
		if opts.Orphans && (item.Owner == nil || !ownerGone(*item.Owner)) {
			continue
		}
		ownerExited := opts.Orphans // checked just above
		if opts.OlderThan == 0 && !ownerExited && item.Container == "" && time.Since(item.CreatedAt) < orphanGrace {
			// Volumes without a container may belong to a provision that is
			// still running: leave them a grace period.
			continue
		}
		sort.Strings(item.Volumes)
		selected = append(selected, item)
	}
	sort.Slice(selected, func(i, j int) bool { return selected[i].EnvID < selected[j].EnvID })

	var errs []error
	out := make([]GCItem, 0, len(selected))
	for _, item := range selected {
		if !opts.DryRun {
			if err := d.Destroy(ctx, item.EnvID); err != nil {
				item.Error = err.Error()
				errs = append(errs, err)
			} else {
				item.Removed = true
			}
		}
		out = append(out, *item)
	}
	return out, errors.Join(errs...)
}

// ownerOf reads an item's owner from its labels.
func ownerOf(labels map[string]string) *Owner {
	if o, ok := ownerFromLabels(labels); ok {
		return &o
	}
	return nil
}

// orphanGrace is the minimum age of volumes without a container before GC
// with no OlderThan removes them. It outlasts a provision's image check and
// container start.
const orphanGrace = 10 * time.Minute

// listVolumes lists and inspects the managed volumes.
func (d *Docker) listVolumes(ctx context.Context) ([]parse.Volume, error) {
	c := call{op: "gc", kind: kindInspect}
	names, err := d.listNames(ctx, c, dockercli.VolumeListArgs(managedFilter), "listing volumes failed")
	if err != nil || len(names) == 0 {
		return nil, err
	}

	vols, err := d.inspectVolumes(ctx, c, names)
	if err != nil {
		return nil, err
	}
	var out []parse.Volume
	for _, v := range vols {
		if v.Labels[LabelManaged] == "true" {
			out = append(out, v)
		}
	}
	return out, nil
}
