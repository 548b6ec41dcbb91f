package adapter_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/kenv/kenv/adapter"
)

// Example is the README's library example. It is compiled with the tests
// but not run, because it needs an engine.
func Example() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err) // an *adapter.Error; errors.Is(err, adapter.ErrExecTimeout) and friends
	}
}

func run(ctx context.Context) error {
	kenv, err := adapter.New(adapter.Options{Engine: "docker"}) // or "podman"
	if err != nil {
		return err
	}

	env, err := kenv.Provision(ctx, adapter.EnvConfig{
		Image:      "kenv-test/busybox:latest",
		Memory:     "256m",
		CPUs:       "0.5",
		NoInternet: true,
		Volumes:    []adapter.VolumeMount{{Name: "work", Target: "/work"}},
	})
	if err != nil {
		return err
	}
	defer kenv.Destroy(context.WithoutCancel(ctx), env.ID)

	res, err := kenv.Exec(ctx, env.ID, adapter.ExecRequest{
		Argv:           []string{"sh", "-c", "echo hi; echo oops >&2; exit 3"},
		Timeout:        30 * time.Second,
		MaxOutputBytes: 1 << 20,
	})
	if err != nil {
		return err
	}
	fmt.Printf("exit %d, stdout %q, stderr %q\n", res.ExitCode, res.Stdout, res.Stderr)

	for entry, err := range kenv.StreamLogs(ctx, env.ID, adapter.LogOptions{Tail: 10}) {
		if err != nil {
			return err
		}
		fmt.Println(entry.Time, entry.Source, entry.Message)
	}
	return nil
}
