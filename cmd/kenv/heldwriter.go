package main

import (
	"bytes"
	"io"
	"sync"
	"time"
)

// heldWriter streams a command's output to w, but holds back its first line
// until more output follows, holdTime passes or the command ends. When the
// engine fails to start a command (missing environment, missing program), its
// whole output is one line of the engine's own wording, which kenv replaces
// with its error. Discard then drops the held line, so it is not printed
// twice.
type heldWriter struct {
	mu      sync.Mutex
	w       io.Writer
	held    bytes.Buffer
	passing bool // the hold is over: writes go straight to w
	timer   *time.Timer
	err     error // the first error of w, returned by later writes
}

// holdTime bounds how long the first line of output waits before it is
// printed.
const holdTime = 250 * time.Millisecond

// holdLimit bounds the bytes held back.
const holdLimit = 4096

func newHeldWriter(w io.Writer) *heldWriter {
	h := &heldWriter{w: w}
	h.timer = time.AfterFunc(time.Hour, h.release)
	h.timer.Stop()
	return h
}

func (h *heldWriter) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil {
		return 0, h.err
	}
	if h.passing {
		return h.write(p)
	}

	if h.held.Len() == 0 {
		h.timer.Reset(holdTime)
	}
	h.held.Write(p)
	firstLineEnd := bytes.IndexByte(h.held.Bytes(), '\n')
	if (firstLineEnd >= 0 && firstLineEnd < h.held.Len()-1) || h.held.Len() > holdLimit {
		h.flushLocked()
	}
	if h.err != nil {
		return 0, h.err
	}
	return len(p), nil
}

// release ends the hold and prints what is held.
func (h *heldWriter) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.flushLocked()
}

// Discard drops what is held and reports whether anything was dropped. Call
// it only after the command has ended.
func (h *heldWriter) Discard() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.timer.Stop()
	dropped := !h.passing && h.held.Len() > 0
	h.held.Reset()
	h.passing = true
	return dropped
}

// Flush prints what is held. Call it after the command has ended.
func (h *heldWriter) Flush() error {
	h.release()
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

func (h *heldWriter) flushLocked() {
	h.timer.Stop()
	if h.passing {
		return
	}
	h.passing = true
	if h.held.Len() > 0 {
		h.write(h.held.Bytes())
		h.held.Reset()
	}
}

func (h *heldWriter) write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	if err != nil && h.err == nil {
		h.err = err
	}
	return n, err
}
