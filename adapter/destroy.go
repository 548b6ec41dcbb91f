package adapter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/kenv/kenv/dockercli"
	"github.com/kenv/kenv/parse"
)

// Destroy stops and removes the environment's container and every volume
// created for it. It finds both by kenv's labels, so it removes nothing that
// lacks them, and it succeeds when they are already gone, which makes it
// safe to repeat and to call on a half-created environment. Snapshot images
// are kept.
//
// An environment whose container exists costs three engine calls: an inspect
// of the container by name, whose labels prove it is kenv's and whose mounts
// name its volumes, then the two removals. Without the container, Destroy
// lists containers and volumes by label instead.
func (d *Docker) Destroy(ctx context.Context, envID string) error {
	if err := validateEnvID("destroy", envID); err != nil {
		return err
	}
	c := call{op: "destroy", envID: envID}

	ctr, err := d.inspectContainer(ctx, c, envID)
	switch {
	case err == nil:
		return d.removeEnv(ctx, c, []string{ctr.ID}, mountedVolumes(envID, ctr))
	case errors.Is(err, ErrEnvNotFound):
		return d.destroyByLabel(ctx, c)
	default:
		return err
	}
}

// mountedVolumes returns the names of the environment's own volumes among
// the container's mounts: those named kenv-<env id>-<name>.
func mountedVolumes(envID string, ctr parse.Container) []string {
	prefix := volumeName(envID, "")
	var out []string
	for _, m := range ctr.Mounts {
		if m.Type == "volume" && strings.HasPrefix(m.Name, prefix) {
			out = append(out, m.Name)
		}
	}
	return out
}

// destroyByLabel removes what carries the environment's labels when its
// container cannot be inspected by name: a half-created environment, or
// one whose container is already gone.
func (d *Docker) destroyByLabel(ctx context.Context, c call) error {
	envID := c.envID
	filters := []string{managedFilter, envFilter(envID)}

	// Listing containers and volumes are independent, so they run together.
	var containers, volumes []string
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		containers, err = d.listNames(gctx, c, dockercli.ContainerListArgs(filters...), "listing the environment's containers failed")
		return err
	})
	g.Go(func() error {
		var err error
		volumes, err = d.envVolumes(gctx, c, envID)
		return err
	})
	if err := g.Wait(); err != nil {
		return err
	}
	return d.removeEnv(ctx, c, containers, volumes)
}

// removeEnv removes the containers, then the volumes, of one environment.
func (d *Docker) removeEnv(ctx context.Context, c call, containers, volumes []string) error {
	envID := c.envID
	if len(containers) > 0 {
		rc := c
		rc.kind = kindRemove
		rc.cmd = dockercli.Command{Args: dockercli.RemoveContainersArgs(containers...)}
		if err := d.removeTolerant(ctx, rc, fmt.Sprintf("removing the container of environment %s failed", envID)); err != nil {
			return err
		}
	}

	if len(volumes) > 0 {
		vc := c
		vc.kind = kindRemove
		vc.cmd = dockercli.Command{Args: dockercli.VolumeRemoveArgs(volumes...)}
		if err := d.removeTolerant(ctx, vc, fmt.Sprintf("removing the volumes of environment %s failed", envID)); err != nil {
			return err
		}
	}
	return nil
}

// envVolumes returns the names of the volumes that carry both kenv's managed
// label and envID. The listing filters on one label only, because Podman 4
// joins several label filters of `volume ls` with OR, and the volumes it
// finds are inspected to check the other.
func (d *Docker) envVolumes(ctx context.Context, c call, envID string) ([]string, error) {
	names, err := d.listNames(ctx, c, dockercli.VolumeListArgs(envFilter(envID)), "listing the environment's volumes failed")
	if err != nil || len(names) == 0 {
		return nil, err
	}
	vols, err := d.inspectVolumes(ctx, c, names)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, v := range vols {
		if v.Labels[LabelManaged] == "true" && v.Labels[LabelEnv] == envID {
			out = append(out, v.Name)
		}
	}
	return out, nil
}

// inspectVolumes inspects volumes by name, skipping those removed since
// they were listed.
func (d *Docker) inspectVolumes(ctx context.Context, c call, names []string) ([]parse.Volume, error) {
	c.kind = kindInspect
	c.cmd = dockercli.Command{Args: dockercli.VolumeInspectArgs(names...)}
	res, err := d.run(ctx, c)
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 && parse.ClassifyFailure(res.ExitCode, res.Stderr) != parse.FailureNotFound {
		return nil, d.engineError(c, res, false, "inspecting volumes failed: "+strings.Join(names, ", "))
	}
	vols, err := parse.VolumeInspect(res.Stdout)
	if err != nil {
		return nil, &Error{Code: opCode(c.op), Op: c.op, EnvID: c.envID, Message: "the engine's volume inspect output could not be parsed", Err: err}
	}
	return vols, nil
}

// listNames runs a --quiet listing and returns its lines. Podman 4.3's
// filtered `volume ls` fails with "no such volume" when a matching volume is
// removed while it lists, so such a failure is retried a few times.
func (d *Docker) listNames(ctx context.Context, c call, args []string, what string) ([]string, error) {
	c.kind = kindInspect
	c.cmd = dockercli.Command{Args: args}
	for attempt := 0; ; attempt++ {
		res, err := d.run(ctx, c)
		if err != nil {
			return nil, err
		}
		if res.ExitCode == 0 {
			return parse.Lines(res.Stdout), nil
		}
		if parse.ClassifyFailure(res.ExitCode, res.Stderr) != parse.FailureNotFound || attempt >= listRetries {
			return nil, d.engineError(c, res, false, what)
		}
	}
}

// listRetries bounds the retries of a listing that raced a removal.
const listRetries = 3

// removeTolerant runs a removal and treats "no such object" as success:
// some engine versions exit 0 and still print it, others exit 1. When
// another caller is removing the same container, it repeats the removal
// until that one has finished.
func (d *Docker) removeTolerant(ctx context.Context, c call, what string) error {
	for attempt := 0; ; attempt++ {
		res, err := d.run(ctx, c)
		if err != nil {
			return err
		}
		failure := parse.ClassifyFailure(res.ExitCode, res.Stderr)
		switch {
		case res.ExitCode == 0 || failure == parse.FailureNotFound:
			return nil
		case failure == parse.FailureRemovalInProgress && attempt < removalRetries:
			if err := sleepCtx(ctx, removalRetryDelay); err != nil {
				return d.canceled(c, err)
			}
			continue
		}
		return d.engineError(c, res, false, what)
	}
}

// removalRetries and removalRetryDelay bound the wait for another caller's
// removal of the same container: 50 tries 200 ms apart, 10 seconds in all.
const (
	removalRetries    = 50
	removalRetryDelay = 200 * time.Millisecond
)

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
