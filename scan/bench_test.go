package scan

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// corpusTools returns the tools of every tool list of the corpus
// (scan/testdata/corpus), in file name order.
func corpusTools(b testing.TB) []Tool {
	b.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.json"))
	if err != nil {
		b.Fatal(err)
	}
	sort.Strings(files)
	var base []Tool
	for _, f := range files {
		if filepath.Base(f) == "labels.json" {
			continue
		}
		base = append(base, loadList(b, f).Tools...)
	}
	if len(base) == 0 {
		b.Fatal("no corpus tools")
	}
	return base
}

// benchTools returns n tools of the corpus, each renamed so that no two are
// alike.
func benchTools(b testing.TB, n int) []Tool {
	base := corpusTools(b)
	tools := make([]Tool, n)
	for i := range tools {
		t := base[i%len(base)]
		t.Name = fmt.Sprintf("%s_%d", t.Name, i)
		tools[i] = t
	}
	return tools
}

// benchList is a tools/list result of n corpus tools, as a server sends it.
func benchList(b testing.TB, n int) []byte {
	data, err := json.Marshal(map[string]any{"tools": benchTools(b, n)})
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkScan10k reads a tools/list result of 10,000 real tools (the
// corpus's, renamed) and classifies every tool, as `toolgate scan --file`
// does; run with -cpu 1. Each iteration also times a plain
// encoding/json.Unmarshal of the same bytes into an interface{} (which
// classifies nothing), so that the ratio holds on a noisy machine:
// ns/10k-tools is the scanner, baseline-ns/10k the decode alone, and
// scan/baseline their ratio.
func BenchmarkScan10k(b *testing.B) {
	data := benchList(b, 10000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var scanNs, baseNs, scanCPU, baseCPU time.Duration
	for b.Loop() {
		t0, c0 := time.Now(), cpuTime()
		l, err := ParseToolList(data)
		if err != nil {
			b.Fatal(err)
		}
		if len(l.Tools) != 10000 {
			b.Fatalf("%d tools", len(l.Tools))
		}
		_ = ClassifyAll(l.Tools)
		t1, c1 := time.Now(), cpuTime()
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			b.Fatal(err)
		}
		t2, c2 := time.Now(), cpuTime()
		scanNs += t1.Sub(t0)
		baseNs += t2.Sub(t1)
		scanCPU += c1 - c0
		baseCPU += c2 - c1
	}
	n := float64(b.N)
	b.ReportMetric(float64(scanNs)/n, "ns/10k-tools")
	b.ReportMetric(float64(baseNs)/n, "baseline-ns/10k")
	b.ReportMetric(float64(scanNs)/float64(baseNs), "scan/baseline")
	if baseCPU > 0 {
		// The same in CPU time, which other work on the machine
		// inflates less than the wall clock.
		b.ReportMetric(float64(scanCPU)/n, "cpu-ns/10k-tools")
		b.ReportMetric(float64(baseCPU)/n, "baseline-cpu-ns/10k")
		b.ReportMetric(float64(scanCPU)/float64(baseCPU), "cpu-scan/baseline")
	}
}

// BenchmarkClassify10k classifies 10,000 corpus tools per iteration, the
// tool list already read.
func BenchmarkClassify10k(b *testing.B) {
	tools := benchTools(b, 10000)
	b.ReportAllocs()
	for b.Loop() {
		for i := range tools {
			_ = Classify(tools[i])
		}
	}
}

func BenchmarkPin(b *testing.B) {
	tools := benchTools(b, 100)
	b.ReportAllocs()
	for b.Loop() {
		for i := range tools {
			_ = Pin(tools[i])
		}
	}
}
