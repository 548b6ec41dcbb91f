package parse

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// LogLine is one line of `logs --timestamps` output.
type LogLine struct {
	Time    time.Time // the timestamp of the line's first chunk, in UTC
	Message []byte    // the line without the timestamp, the separating space and the trailing newline, with chunks rejoined
}

// LogLineError reports a line of logs output that does not start with a
// timestamp.
type LogLineError struct {
	Line string // the first 40 bytes of the line
	Err  error
}

func (e *LogLineError) Error() string {
	return fmt.Sprintf("invalid log line %q: %v", e.Line, e.Err)
}

func (e *LogLineError) Unwrap() error { return e.Err }

var errMissingLogTimestamp = errors.New("missing RFC 3339 timestamp and space at the start; run logs with --timestamps")

const (
	// dockerChunkSize is the size of the chunks that the Docker daemon's log
	// copier cuts a longer line into, measured with Docker 20.10 and the
	// json-file driver.
	dockerChunkSize = 16384

	// conmonReadSize is the maximum size of one read by conmon from a
	// container's stdout or stderr pipe (conmon 2.1.6 with Podman 4.3 and the
	// k8s-file driver). Each read that ends inside a line makes a chunk.
	conmonReadSize = 8192
)

// ParseLogLine parses one line of `docker logs --timestamps` or `podman logs
// --timestamps` output, with or without its trailing "\n":
//
//	2026-12-04T20:01:51.609584279Z first line
//
// Docker 20.10 and Podman 4.3 both print 9 fraction digits, keeping trailing
// zeros, and "Z" on a host in UTC. The leading timestamp may also have a
// shorter fraction, none, or an offset such as -04:00. Time is the instant in
// UTC.
//
// Both engines cut long lines into chunks and print each chunk with its own
// timestamp and no newline in between. Docker 20.10 cuts every 16384 bytes, so
// a 40000-byte line comes out as "TS1 <16384 bytes>TS2 <16384 bytes>TS3 <7232
// bytes>\n", and a line of exactly 16384 bytes ends with an empty chunk "TS2 \n".
// Podman 4.3 starts a chunk wherever one read from the container's pipe ended
// inside a line. A read takes at most 8192 bytes, and a process that writes
// part of a line and then pauses makes a chunk of any size.
//
// ParseLogLine rejoins the chunks into one Message. A timestamp followed by a
// space is taken as the header of the next chunk in two places. The first is
// exactly 16384 bytes after the start of the current chunk (Docker). The
// second is 1 to 8192 bytes after it, when the timestamp has 9 fraction
// digits, the same UTC offset as the line's first timestamp and a later
// instant than the current chunk's (Podman, whose chunks of one line come from
// separate reads). A message that starts with a timestamp stays intact.
//
// NOTE: a timestamp in the container's own output that meets the Podman rule,
// such as a future deadline printed with 9 fraction digits and followed by a
// space, is taken for a chunk header and cut from the message. Chunk sizes of
// Docker log drivers other than json-file were not measured.
//
// Message aliases line when the line has a single chunk, so copy it before
// reusing line's buffer. A line with several chunks is rejoined into one new
// allocation, and a valid line causes no other allocation. Lines can be longer
// than bufio.Scanner's default limit of 64 KiB.
//
// A line that does not start with a timestamp and a space gives a
// *LogLineError.
func ParseLogLine(line []byte) (LogLine, error) {
	body := line
	if n := len(body); n > 0 && body[n-1] == '\n' {
		body = body[:n-1]
	}

	first, ok := chunkHeader(body)
	if !ok {
		return LogLine{}, &LogLineError{Line: string(head(line, maxQuotedOutput)), Err: errMissingLogTimestamp}
	}
	message := body[first.length+1:]
	return LogLine{Time: first.time, Message: joinChunks(message, first)}, nil
}

// chunkHeader reads a timestamp followed by a space at the start of text.
// The returned length does not count the space.
func chunkHeader(text []byte) (timestamp, bool) {
	ts, ok := scanTimestamp(text)
	if !ok || ts.length >= len(text) || text[ts.length] != ' ' {
		return timestamp{}, false
	}
	return ts, true
}

// joinChunks removes the chunk headers from message. It returns message itself
// when there is only one chunk.
func joinChunks(message []byte, first timestamp) []byte {
	var joined []byte
	start := 0 // where the current chunk's content starts
	current := first
	for {
		at, header, found := nextChunkHeader(message, start, current, first)
		if !found {
			break
		}
		if joined == nil {
			// The joined message is shorter than message, so this is the only allocation.
			joined = make([]byte, 0, len(message))
		}
		joined = append(joined, message[start:at]...)
		start = at + header.length + 1
		current = header
	}
	if joined == nil {
		return message
	}
	return append(joined, message[start:]...)
}

// nextChunkHeader finds the header that ends the chunk whose content starts at
// message[start], by the rules in ParseLogLine's comment, and returns its
// position.
func nextChunkHeader(message []byte, start int, current, first timestamp) (int, timestamp, bool) {
	// Podman: a header at start+1 through start+conmonReadSize. A timestamp has
	// its 'T' at index 10, so search for that byte.
	low := start + 11
	high := min(len(message), start+conmonReadSize+11)
	for low < high {
		index := bytes.IndexByte(message[low:high], 'T')
		if index < 0 {
			break
		}
		at := low + index - 10
		low += index + 1
		// Reject most non-timestamps before the full parse, which costs more.
		if len(message)-at < 21 || message[at+4] != '-' || message[at+13] != ':' {
			continue
		}
		header, ok := chunkHeader(message[at:])
		if ok && header.fractionWidth == 9 && header.offset == first.offset && header.time.After(current.time) {
			return at, header, true
		}
	}

	// Docker: a header exactly dockerChunkSize bytes after start.
	if at := start + dockerChunkSize; at < len(message) {
		if header, ok := chunkHeader(message[at:]); ok {
			return at, header, true
		}
	}
	return 0, timestamp{}, false
}
