package adapter

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeExampleCompiles checks that the body of main in the README's Go
// example is the body of Example in example_test.go, which the compiler
// checks, so the README cannot drift from the API.
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

	want := functionBody(t, string(readme), "func main() {")
	got := functionBody(t, string(example), "func Example() {")
	if want != got {
		t.Errorf("README's main differs from Example in example_test.go:\nREADME:\n%s\nexample_test.go:\n%s", want, got)
	}
}

// functionBody returns the lines after start up to the first line that is
// a lone "}", with surrounding space trimmed from each line.
func functionBody(t *testing.T, text, start string) string {
	t.Helper()
	_, rest, ok := strings.Cut(text, start)
	if !ok {
		t.Fatalf("%q not found", start)
	}
	var lines []string
	for _, line := range strings.Split(rest, "\n") {
		if line == "}" {
			return strings.Join(lines, "\n")
		}
		lines = append(lines, strings.TrimSpace(line))
	}
	t.Fatalf("no closing brace after %q", start)
	return ""
}
