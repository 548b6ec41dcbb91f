package main

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

func TestHeldWriter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		writes      []string
		discard     bool
		wantBefore  string // printed before the command ends
		wantAfter   string // printed after Flush or Discard
		wantDropped bool
	}{
		{"one line held then flushed", []string{"hello\n"}, false, "", "hello\n", false},
		{"one line discarded", []string{"Error: No such container: x\n"}, true, "", "", true},
		{"second line releases", []string{"a\n", "b"}, false, "a\nb", "a\nb", false},
		{"second line in one write", []string{"a\nb\n"}, true, "a\nb\n", "a\nb\n", false},
		{"large output releases", []string{string(bytes.Repeat([]byte("x"), holdLimit+1))}, true, string(bytes.Repeat([]byte("x"), holdLimit+1)), string(bytes.Repeat([]byte("x"), holdLimit+1)), false},
		{"nothing written", nil, true, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			h := newHeldWriter(&out)
			for _, w := range tt.writes {
				if n, err := h.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
			}
			if got := out.String(); got != tt.wantBefore {
				t.Errorf("printed before the end = %q, want %q", got, tt.wantBefore)
			}
			dropped := false
			if tt.discard {
				dropped = h.Discard()
			} else if err := h.Flush(); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			if got := out.String(); got != tt.wantAfter {
				t.Errorf("printed in the end = %q, want %q", got, tt.wantAfter)
			}
			if dropped != tt.wantDropped {
				t.Errorf("Discard dropped = %t, want %t", dropped, tt.wantDropped)
			}
		})
	}
}

func TestHeldWriterReleasesAfterHoldTime(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	h := newHeldWriter(&out)
	h.Write([]byte("progress: 1 of 10\n"))

	deadline := time.Now().Add(5 * time.Second)
	for out.String() == "" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := out.String(); got != "progress: 1 of 10\n" {
		t.Errorf("printed after the hold time = %q, want the line", got)
	}
	h.Write([]byte("more"))
	if got := out.String(); got != "progress: 1 of 10\nmore" {
		t.Errorf("printed after release = %q, want later writes to pass straight through", got)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader in different
// goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
