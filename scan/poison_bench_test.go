package scan

import (
	"encoding/json"
	"testing"
)

// BenchmarkGatewayPoisonChecks is what the gateway adds to a merged
// tools/list per tool on top of Classify (which it caches): the fields
// Classify does not read, and the shadowing check against every other
// server's tools, over the 478 tools of the corpus.
func BenchmarkGatewayPoisonChecks(b *testing.B) {
	t := &testing.T{}
	names, lists := corpusLists(t)
	others := Others{}
	type item struct {
		server string
		tool   Tool
		raw    json.RawMessage
	}
	var items []item
	for _, n := range names {
		var tools []string
		for _, tl := range lists[n].Tools {
			tools = append(tools, tl.Name)
			raw, _ := json.Marshal(tl)
			items = append(items, item{n, tl, raw})
		}
		others.Add(n, n+"_", tools)
	}
	b.ResetTimer()
	for b.Loop() {
		for _, it := range items {
			CheckItem("tool", it.server, it.raw, others)
			Shadowing(it.tool, it.server, others)
		}
	}
}
