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
// entry for toolgate is the Intercept entry with the command changed and
// "stdio" put first, in the form TestStdioWrap runs.
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
	if nyaml < 3 || len(entries) != 2 {
		t.Fatalf("%d YAML blocks and %d client entries; want at least 3 and 2", nyaml, len(entries))
	}
	ic, tg := entries[0], entries[1]
	if ic.Command != "intercept" || tg.Command != "toolgate" || !slices.Equal(append([]string{"stdio"}, ic.Args...), tg.Args) {
		t.Fatalf("entries %+v and %+v: want the command changed and stdio put first", ic, tg)
	}
	// The wrap test runs this form (plus --state-dir, to stay out of HOME).
	got := wrapArgs("/path/to/wrap.yaml", "d", "echoserver")
	want := []string{"stdio", "-c", "/path/to/wrap.yaml", "--state-dir", "d", "--", "echoserver"}
	if !slices.Equal(got, want) || tg.Args[1] != "-c" || tg.Args[3] != "--" {
		t.Fatalf("the wrap test runs %v; the docs show %v", got, tg.Args)
	}
}
