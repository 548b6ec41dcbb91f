package adapter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kenv/kenv/dockercli"
	"github.com/kenv/kenv/dockercli/dockerclitest"
)

// ts formats second s of a fixed minute as docker logs --timestamps does.
func ts(s int) string { return fmt.Sprintf("2026-12-04T19:52:%02d.000000000Z", s) }

func collectLogs(t *testing.T, d *Docker, opts LogOptions) ([]string, error) {
	t.Helper()
	var got []string
	for e, err := range d.StreamLogs(context.Background(), testEnvID, opts) {
		if err != nil {
			return got, err
		}
		got = append(got, fmt.Sprintf("%s %s %s", e.Time.Format(time.RFC3339), e.Source, e.Message))
	}
	return got, nil
}

func TestStreamLogsMergesInTimestampOrder(t *testing.T) {
	t.Parallel()
	fake := dockerclitest.New()
	fake.On("logs").Does(func(ctx context.Context, cmd dockercli.Command) (dockercli.Result, error) {
		// The client writes each stream to its own pipe; here all of stdout
		// comes first, as a pipe's buffering can make it.
		io.WriteString(cmd.Stdout, ts(1)+" one\n"+ts(3)+" three\n"+ts(5)+" five\n")
		io.WriteString(cmd.Stderr, ts(2)+" two\n"+ts(4)+" four\n")
		return dockercli.Result{}, nil
	})
	d := newTestAdapter(t, fake)

	got, err := collectLogs(t, d, LogOptions{})
	if err != nil {
		t.Fatalf("StreamLogs: %v", err)
	}
	want := []string{
		"2026-12-04T19:52:01Z stdout one",
		"2026-12-04T19:52:02Z stderr two",
		"2026-12-04T19:52:03Z stdout three",
		"2026-12-04T19:52:04Z stderr four",
		"2026-12-04T19:52:05Z stdout five",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries mismatch (-want +got):\n%s", diff)
	}
	if args := fake.Calls()[0].Args; strings.Join(args, " ") != "logs --timestamps kenv-"+testEnvID {
		t.Errorf("argv = %q", args)
	}
}

func TestStreamLogsLongLinesComeOutWhole(t *testing.T) {
	t.Parallel()
	line := strings.Repeat("a", 40000)
	// Docker's json-file driver splits lines at 16 KiB and stamps each chunk.
	raw := ts(1) + " " + line[:16384] + ts(1) + " " + line[16384:32768] + ts(1) + " " + line[32768:] + "\n"
	huge := strings.Repeat("b", 300000)
	fake := dockerclitest.New()
	fake.On("logs").Does(func(ctx context.Context, cmd dockercli.Command) (dockercli.Result, error) {
		io.WriteString(cmd.Stdout, raw+ts(2)+" "+huge+"\n")
		return dockercli.Result{}, nil
	})
	d := newTestAdapter(t, fake)

	var msgs []string
	for e, err := range d.StreamLogs(context.Background(), testEnvID, LogOptions{}) {
		if err != nil {
			t.Fatalf("StreamLogs: %v", err)
		}
		msgs = append(msgs, e.Message)
	}
	if len(msgs) != 2 || msgs[0] != line || msgs[1] != huge {
		lens := []int{}
		for _, m := range msgs {
			lens = append(lens, len(m))
		}
		t.Errorf("got %d entries of lengths %v, want 2 of lengths 40000 and 300000", len(msgs), lens)
	}
}

func TestStreamLogsEngineFailure(t *testing.T) {
	t.Parallel()
	fake := dockerclitest.New()
	fake.On("logs").Returns("", "Error: No such container: kenv-abcdabcdabcd\n", 1)
	d := newTestAdapter(t, fake)

	_, err := collectLogs(t, d, LogOptions{})
	if !errors.Is(err, ErrEnvNotFound) {
		t.Errorf("error = %v, want ENV_NOT_FOUND", err)
	}
}

func TestStreamLogsConsumerStopEndsClient(t *testing.T) {
	t.Parallel()
	ended := make(chan error, 1)
	fake := dockerclitest.New()
	fake.On("logs").Does(func(ctx context.Context, cmd dockercli.Command) (dockercli.Result, error) {
		for i := 0; ; i++ {
			if _, err := fmt.Fprintf(cmd.Stdout, "%s line %d\n", ts(i%60), i); err != nil {
				ended <- err
				return dockercli.Result{ExitCode: -1}, err
			}
			select {
			case <-ctx.Done():
				ended <- ctx.Err()
				return dockercli.Result{ExitCode: -1}, ctx.Err()
			default:
			}
		}
	})
	d := newTestAdapter(t, fake)

	n := 0
	for _, err := range d.StreamLogs(context.Background(), testEnvID, LogOptions{Follow: true}) {
		if err != nil {
			t.Fatalf("StreamLogs: %v", err)
		}
		n++
		if n == 3 {
			break
		}
	}
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the client kept running after the consumer stopped")
	}
}

func TestStreamLogsFollowDeliversPromptly(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	fake := dockerclitest.New()
	fake.On("logs").Does(func(ctx context.Context, cmd dockercli.Command) (dockercli.Result, error) {
		io.WriteString(cmd.Stdout, ts(1)+" first\n")
		select {
		case <-release:
		case <-ctx.Done():
		}
		return dockercli.Result{}, nil
	})
	d := newTestAdapter(t, fake)

	start := time.Now()
	for e, err := range d.StreamLogs(context.Background(), testEnvID, LogOptions{Follow: true}) {
		if err != nil {
			t.Fatalf("StreamLogs: %v", err)
		}
		if e.Message != "first" {
			t.Errorf("message = %q, want %q", e.Message, "first")
		}
		if waited := time.Since(start); waited > MergeWindow+500*time.Millisecond {
			t.Errorf("first entry took %s while stderr stayed silent, want about MergeWindow (%s)", waited, MergeWindow)
		}
		close(release)
		break
	}
}

func TestStreamLogsOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts LogOptions
		want string
	}{
		{"all", LogOptions{}, "logs --timestamps kenv-" + testEnvID},
		{"since until tail", LogOptions{Since: "10m", Until: "2026-12-04T20:00:00Z", Tail: 5}, "logs --timestamps --since 10m --until 2026-12-04T20:00:00Z --tail 5 kenv-" + testEnvID},
		{"new only overrides tail", LogOptions{Follow: true, Tail: 5, NewOnly: true}, "logs --timestamps --follow --tail 0 kenv-" + testEnvID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := dockerclitest.New()
			fake.On("logs").Returns("", "", 0)
			d := newTestAdapter(t, fake)

			if _, err := collectLogs(t, d, tt.opts); err != nil {
				t.Fatalf("StreamLogs: %v", err)
			}
			if got := fake.Commands()[0]; got != tt.want {
				t.Errorf("argv = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStreamLogsBusyStreamIsNotThrottled(t *testing.T) {
	t.Parallel()
	const lines = 20000
	fake := dockerclitest.New()
	fake.On("logs").Does(func(ctx context.Context, cmd dockercli.Command) (dockercli.Result, error) {
		// stderr stays open, and silent, until the client returns.
		for i := 0; i < lines; i++ {
			if _, err := fmt.Fprintf(cmd.Stdout, "%s line %d\n", ts(i%60), i); err != nil {
				return dockercli.Result{ExitCode: -1}, err
			}
		}
		return dockercli.Result{}, nil
	})
	d := newTestAdapter(t, fake)

	start := time.Now()
	n := 0
	for _, err := range d.StreamLogs(context.Background(), testEnvID, LogOptions{}) {
		if err != nil {
			t.Fatalf("StreamLogs: %v", err)
		}
		n++
	}
	if n != lines {
		t.Errorf("got %d entries, want %d", n, lines)
	}
	// Holding each entry MergeWindow in turn would take minutes.
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("%d lines took %s while stderr stayed open and silent", lines, elapsed)
	}
}
