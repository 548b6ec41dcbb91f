package parse

import (
	"os"
	"path/filepath"
	"testing"
)

// readTestdata returns the contents of a file under testdata.
func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatalf("read test sample: %v", err)
	}
	return data
}

// testdataFiles returns the paths under testdata that match pattern.
func testdataFiles(tb testing.TB, pattern string) []string {
	tb.Helper()
	matches, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil {
		tb.Fatalf("glob %q: %v", pattern, err)
	}
	if len(matches) == 0 {
		tb.Fatalf("no test samples match %q", pattern)
	}
	return matches
}
