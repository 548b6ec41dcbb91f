package main

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

// samples is a list of measured durations.
type samples []time.Duration

// sorted returns a sorted copy.
func (s samples) sorted() samples {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// median returns the middle value, or the mean of the two middle values.
// It returns 0 for no samples.
func (s samples) median() time.Duration {
	if len(s) == 0 {
		return 0
	}
	sorted := s.sorted()
	mid := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[mid]
	}
	return (sorted[mid-1] + sorted[mid]) / 2
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100): the
// smallest sample that at least p percent of the samples do not exceed.
func (s samples) percentile(p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	sorted := s.sorted()
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

func (s samples) min() time.Duration {
	if len(s) == 0 {
		return 0
	}
	return slices.Min(s)
}

func (s samples) max() time.Duration {
	if len(s) == 0 {
		return 0
	}
	return slices.Max(s)
}

// ratio returns the median of kenv over the median of bare, or NaN when
// either has no samples.
func ratio(kenv, bare samples) float64 {
	b := bare.median()
	if len(kenv) == 0 || b <= 0 {
		return math.NaN()
	}
	return float64(kenv.median()) / float64(b)
}

// pairedRatio returns the median of kenv[i] / bare[i] over the runs that
// ran next to each other, which cancels drift in the machine's speed
// between pairs. It returns NaN when the lists differ in length or are
// empty.
func pairedRatio(kenv, bare samples) float64 {
	if len(kenv) == 0 || len(kenv) != len(bare) {
		return math.NaN()
	}
	ratios := make([]float64, len(kenv))
	for i := range kenv {
		ratios[i] = float64(kenv[i]) / float64(bare[i])
	}
	slices.Sort(ratios)
	mid := len(ratios) / 2
	if len(ratios)%2 == 1 {
		return ratios[mid]
	}
	return (ratios[mid-1] + ratios[mid]) / 2
}

// busyTime returns how long at least one of the calls was running: the
// length of the union of their intervals.
func busyTime(calls []engineCall) time.Duration {
	if len(calls) == 0 {
		return 0
	}
	sorted := slices.Clone(calls)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].start.Before(sorted[j].start) })
	var total time.Duration
	start, end := sorted[0].start, sorted[0].end
	for _, c := range sorted[1:] {
		if c.start.After(end) {
			total += end.Sub(start)
			start, end = c.start, c.end
			continue
		}
		if c.end.After(end) {
			end = c.end
		}
	}
	return total + end.Sub(start)
}

// formatDuration prints d with three significant digits in a unit that
// suits it.
func formatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + formatDuration(-d)
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}

// formatRatio prints r as "1.03x", or "n/a" when it is not a number.
func formatRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", r)
}

// formatBytes prints n in binary units.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
