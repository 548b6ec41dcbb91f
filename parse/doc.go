// Package parse reads the output of the docker and podman command-line
// clients: container and image inspect, version, ps, logs --timestamps, quiet
// listings, and the stderr of failed commands.
//
// The package takes bytes and returns values. It runs no command, does no I/O
// and logs nothing, so the caller runs the engine and passes its output in.
// No function panics on malformed input, and each one returns in time linear in
// the input size.
//
// The parsers are tested against output captured from a Docker 20.10 daemon
// (through the 20.10 and 28.2 clients) and from Podman 4.3; see
// testdata/capture.sh for the commands. Output of other versions is read on the
// assumption that it keeps the same JSON fields and wording.
package parse
