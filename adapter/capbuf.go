package adapter

import "sync"

// headTail is an io.Writer that keeps at most max bytes: the first max/2
// bytes written and the last max-max/2, counting what it drops in between.
// Its memory stays bounded however much is written. A negative max keeps
// everything.
type headTail struct {
	mu      sync.Mutex
	max     int
	head    []byte
	tail    []byte // ring buffer of the last tailCap bytes
	tailPos int    // next write position in tail once it is full
	tailLen int
	total   int64
}

func newHeadTail(max int) *headTail {
	return &headTail{max: max}
}

func (h *headTail) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()

	n := len(p)
	h.total += int64(n)
	if h.max < 0 {
		h.head = append(h.head, p...)
		return n, nil
	}

	headCap := h.max / 2
	if room := headCap - len(h.head); room > 0 {
		take := min(room, len(p))
		h.head = append(h.head, p[:take]...)
		p = p[take:]
	}

	tailCap := h.max - headCap
	if tailCap == 0 || len(p) == 0 {
		return n, nil
	}
	if h.tail == nil {
		h.tail = make([]byte, tailCap)
	}
	if len(p) >= tailCap {
		copy(h.tail, p[len(p)-tailCap:])
		h.tailPos = 0
		h.tailLen = tailCap
		return n, nil
	}
	for len(p) > 0 {
		c := copy(h.tail[h.tailPos:], p)
		p = p[c:]
		h.tailPos = (h.tailPos + c) % tailCap
		h.tailLen = min(h.tailLen+c, tailCap)
	}
	return n, nil
}

// Bytes returns the kept bytes, head then tail, and how many were dropped.
func (h *headTail) Bytes() ([]byte, int64) {
	h.mu.Lock()
	defer h.mu.Unlock()

	out := make([]byte, 0, len(h.head)+h.tailLen)
	out = append(out, h.head...)
	if h.tailLen == len(h.tail) {
		out = append(out, h.tail[h.tailPos:]...)
		out = append(out, h.tail[:h.tailPos]...)
	} else {
		out = append(out, h.tail[:h.tailLen]...)
	}
	return out, h.total - int64(len(out))
}
