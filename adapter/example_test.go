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
	ctx := context.Background()
	kenv, err := adapter.New(adapter.Options{Engine: "docker"}) // or "podman"
	if err != nil {
		log.Fatal(err)
	}

	env, err := kenv.Provision(ctx, adapter.EnvConfig{
		Image:      "kenv-test/busybox:latest",
		Memory:     "256m",
		CPUs:       "0.5",
		NoInternet: true,
		Volumes:    []adapter.VolumeMount{{Name: "work", Target: "/work"}},
	})
	if err != nil {
		log.Fatal(err) // *adapter.Error; errors.Is(err, adapter.ErrDockerUnavailable) and friends
	}
	defer kenv.Destroy(ctx, env.ID)

	res, err := kenv.Exec(ctx, env.ID, adapter.ExecRequest{
		Argv:           []string{"sh", "-c", "echo hi; echo oops >&2; exit 3"},
		Timeout:        30 * time.Second,
		MaxOutputBytes: 1 << 20,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("exit %d, stdout %q, stderr %q\n", res.ExitCode, res.Stdout, res.Stderr)

	for entry, err := range kenv.StreamLogs(ctx, env.ID, adapter.LogOptions{Tail: 10}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(entry.Time, entry.Source, entry.Message)
	}
}
