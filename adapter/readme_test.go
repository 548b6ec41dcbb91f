package adapter

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeExampleCompiles checks that the README's Go example, from main
// on, is the code of Example in example_test.go, which the compiler checks,
// so the README cannot drift from the API.
func TestReadmeExampleCompiles(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatalf("reading README: %v", err)
	}
	example, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatalf("reading example_test.go: %v", err)
	}

	want := codeFrom(t, string(readme), "func main() {", "```")
	got := codeFrom(t, string(example), "func Example() {", "")
	if want != got {
		t.Errorf("README's main differs from Example in example_test.go:\nREADME:\n%s\nexample_test.go:\n%s", want, got)
	}
}

// codeFrom returns the lines after start, up to the line end or the end of
// text when end is empty, with surrounding space trimmed from each line and
// the trailing empty lines dropped.
func codeFrom(t *testing.T, text, start, end string) string {
	t.Helper()
	_, rest, ok := strings.Cut(text, start)
	if !ok {
		t.Fatalf("%q not found", start)
	}
	var lines []string
	for _, line := range strings.Split(rest, "\n") {
		if end != "" && line == end {
			break
		}
		lines = append(lines, strings.TrimSpace(line))
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
