package parse

import (
	"strings"
	"testing"
)

func BenchmarkParseLogLine(b *testing.B) {
	const stamp = "2026-12-04T19:52:59.054628598Z"
	benchmarks := []struct {
		name string
		line string
	}{
		{"short", stamp + " GET /healthz 200 0.412ms\n"},
		{"4 KiB of JSON", stamp + " " + strings.Repeat(`{"level":"info","ts":"2026-12-04T19:52:59.054Z","msg":"Task started"} `, 57) + "\n"},
		// Every 'T' is a candidate chunk header, the worst case for the search.
		{"4 KiB of T", stamp + " " + strings.Repeat("T", 4096) + "\n"},
		{"docker 40000 bytes in chunks", dockerChunks(stamp, digits(40000))},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			line := []byte(bm.line)
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				if _, err := ParseLogLine(line); err != nil {
					b.Fatalf("ParseLogLine: %v", err)
				}
			}
		})
	}
}

func BenchmarkContainerInspect(b *testing.B) {
	data := readTestdata(b, "docker-20.10/container-inspect-all.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ContainerInspect(data); err != nil {
			b.Fatalf("ContainerInspect: %v", err)
		}
	}
}
