// Command kenv provisions disposable, isolated container environments for
// running untrusted or agent-written code, and runs commands in them. Run
// `kenv --help` for the commands and the exit status table.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one ends kenv at once instead of
		// waiting for the cleanup that the first one started.
		<-ctx.Done()
		stop()
	}()

	code := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}
