package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// TestInterceptDocs checks the examples of docs/intercept.md: every YAML
// block is one of the example files the policy tests run, and the client
// entries for toolgate are Intercept's with the command changed alone, in
// the forms TestWrapForms and TestWrapUpstream run.
func TestInterceptDocs(t *testing.T) {
	data, err := os.ReadFile("../../docs/intercept.md")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../../docs/examples/intercept/*.yaml")
	examples := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		examples[string(b)] = true
	}
	blocks := regexp.MustCompile("(?s)```(yaml|json)\n(.*?)```").FindAllStringSubmatch(string(data), -1)
	var entries []struct {
		Command string   `json:"command"`
		Args    []string `json:"args"`
	}
	nyaml := 0
	for _, b := range blocks {
		switch b[1] {
		case "yaml":
			nyaml++
			if !examples[b[2]] {
				t.Errorf("a YAML block of docs/intercept.md is none of docs/examples/intercept/*.yaml:\n%s", b[2])
			}
		case "json":
			var doc struct {
				MCPServers map[string]struct {
					Command string   `json:"command"`
					Args    []string `json:"args"`
				} `json:"mcpServers"`
			}
			if err := json.Unmarshal([]byte(b[2]), &doc); err != nil {
				t.Fatalf("%v:\n%s", err, b[2])
			}
			for _, e := range doc.MCPServers {
				entries = append(entries, struct {
					Command string   `json:"command"`
					Args    []string `json:"args"`
				}{e.Command, e.Args})
			}
		}
	}
	if nyaml < 3 || len(entries) != 4 {
		t.Fatalf("%d YAML blocks and %d client entries; want at least 3 and 4", nyaml, len(entries))
	}
	// Each Intercept entry is followed by toolgate's: the command changed,
	// the arguments the same.
	for i := 0; i < len(entries); i += 2 {
		ic, tg := entries[i], entries[i+1]
		if ic.Command != "intercept" || tg.Command != "toolgate" || !slices.Equal(ic.Args, tg.Args) {
			t.Fatalf("entries %+v and %+v: want only the command changed", ic, tg)
		}
	}
	// TestWrapForms runs the first form (plus --state-dir, to stay out of
	// HOME); TestWrapUpstream the second.
	if a := entries[1].Args; len(a) != 4 || a[0] != "-c" || a[2] != "--" {
		t.Fatalf("the command entry %v is not the form TestWrapForms runs: -c POLICY -- COMMAND", a)
	}
	if a := entries[3].Args; len(a) != 6 || a[0] != "-c" || a[2] != "--upstream" || a[4] != "--header" {
		t.Fatalf("the remote entry %v is not the form TestWrapUpstream runs: -c POLICY --upstream URL --header H", a)
	}
}
