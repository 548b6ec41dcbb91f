package parse

import "fmt"

// maxQuotedOutput is the maximum number of bytes of engine output that an
// error message quotes.
const maxQuotedOutput = 40

// OutputError reports engine output that a parser rejected.
type OutputError struct {
	Command string // the engine command whose output was parsed, such as "container inspect"
	Output  string // the first 40 bytes of the output
	Err     error  // the JSON error, or the invalid field with its value
}

func (e *OutputError) Error() string {
	return fmt.Sprintf("invalid %s output %q: %v", e.Command, e.Output, e.Err)
}

func (e *OutputError) Unwrap() error { return e.Err }

func newOutputError(command string, output []byte, err error) *OutputError {
	return &OutputError{Command: command, Output: string(head(output, maxQuotedOutput)), Err: err}
}

// head returns at most the first n bytes of data.
func head[T ~string | ~[]byte](data T, n int) T {
	if len(data) > n {
		return data[:n]
	}
	return data
}
