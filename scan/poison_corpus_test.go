package scan

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusLists loads every tool list of the labelled corpus, by server.
func corpusLists(t *testing.T) ([]string, map[string]*ToolList) {
	t.Helper()
	dir := filepath.Join("testdata", "corpus")
	data, err := os.ReadFile(filepath.Join(dir, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	var lab corpusLabels
	if err := json.Unmarshal(data, &lab); err != nil {
		t.Fatalf("labels.json: %v", err)
	}
	names := append(append([]string{}, lab.Parts.Tune...), lab.Parts.Holdout...)
	lists := map[string]*ToolList{}
	for _, n := range names {
		lists[n] = loadList(t, filepath.Join(dir, n+".json"))
	}
	return names, lists
}

// TestCorpusPoison: no tool of the 23 real servers is poisoned, alone or
// with all 23 merged behind one gateway (each server's texts checked
// against the other 22 servers' tool names, prefixed and not). The corpus
// has no poisoned tool, so every flag is a false positive; the bar is
// precision ≥ 0.9 on the poisoning set (TestPoisoningSet) and no flag
// here.
func TestCorpusPoison(t *testing.T) {
	names, lists := corpusLists(t)
	others := Others{}
	for _, n := range names {
		var tools []string
		for _, tl := range lists[n].Tools {
			tools = append(tools, tl.Name)
		}
		others.Add(n, n+"_", tools)
	}
	total, flagged := 0, 0
	for _, n := range names {
		for _, tl := range lists[n].Tools {
			total++
			var why []string
			r := Classify(tl)
			if e := PoisonEvidence(r.Signals); e != "" {
				why = append(why, e)
			}
			if s := Shadowing(tl, n, others); s != nil {
				why = append(why, "shadowing: "+s.Evidence)
			}
			raw, _ := json.Marshal(tl)
			if ir := CheckItem("tool", n, raw, others); ir.Poisoned() != "" {
				why = append(why, ir.Poisoned())
			}
			if len(why) > 0 {
				flagged++
				t.Errorf("%s/%s flagged as poisoned: %s", n, tl.Name, strings.Join(why, " | "))
			}
		}
	}
	t.Logf("corpus: %d servers, %d tools, %d flagged as poisoned", len(names), total, flagged)
}
