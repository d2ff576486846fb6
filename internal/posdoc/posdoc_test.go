package posdoc

import (
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestParse(t *testing.T) {
	deepJSON := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	okJSON := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	deepYAML := "a: " + strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1) + "\n"
	var bomb strings.Builder
	bomb.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&bomb, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	tests := []struct {
		name   string
		doc    string
		strict bool
		err    string // "line:col: text" prefix or substring; "" for none
		empty  bool
	}{
		{"json object", `{"a": 1}`, false, "", false},
		{"yaml mapping", "a: 1\n", false, "", false},
		{"empty", "", false, "", true},
		{"only spaces and a comment", "  \n# nothing\n", false, "", true},
		{"yaml flow that looks like json", `{a: 1}`, false, "", false},
		{"yaml flow, strict", `{a: 1}`, true, "1:2: invalid JSON", false},
		{"neither json nor yaml", `{"a": 1,, }`, false, "1:9: invalid JSON", false},
		{"json cut short", `{"a": [1, 2`, true, "1:12: invalid JSON: unexpected end of the document", false},
		{"json trailing data", `{"a": 1} {"b": 2}`, true, "1:10: invalid JSON: unexpected data after the end", false},
		{"json too deep", `{"a": ` + deepJSON + `}`, false, fmt.Sprintf("nests deeper than %d levels", MaxDepth), false},
		{"json at the depth limit", `{"a": ` + okJSON[1:len(okJSON)-1] + `}`, false, "", false},
		{"yaml too deep", deepYAML, false, fmt.Sprintf("nests deeper than %d levels", MaxDepth), false},
		{"alias bomb", bomb.String(), false, "too large once its aliases are expanded", false},
		{"self-referencing alias", "a: &x [*x]\n", false, "nests deeper than", false},
		{"unknown alias", "a: *nowhere\n", false, "invalid YAML", false},
		{"several documents", "a: 1\n---\nb: 2\n", false, "2:1: the file holds several YAML documents", false},
		{"tab indentation", "a:\n\tb: 1\n", false, "2:1: invalid YAML: tab characters", false},
		{"bad yaml", "a: [1, 2\nb: 3\n", false, "invalid YAML", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := Parse([]byte(tt.doc), Options{StrictJSON: tt.strict})
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want %q", err, tt.err)
			case tt.err == "" && (root == nil) != tt.empty:
				t.Fatalf("root %v, empty %v", root, tt.empty)
			}
		})
	}
}

// Positions are 1-based lines and columns in characters, for JSON and YAML.
func TestPositions(t *testing.T) {
	for _, tt := range []struct {
		doc       string
		line, col int // of "key"
	}{
		{"{\n  \"é\": \"x\",\n  \"key\": [1, 2.5, true, null, 12345678901234567890]\n}", 3, 3},
		{"é: x\nkey: [1, 2.5, true, null, 12345678901234567890]\n", 2, 1},
	} {
		doc := tt.doc
		root, err := Parse([]byte(doc), Options{})
		if err != nil {
			t.Fatal(err)
		}
		key, val := root.Content[2], root.Content[3]
		if key.Value != "key" || key.Line != tt.line || key.Column != tt.col {
			t.Fatalf("%q: key %q at %d:%d, want %d:%d", doc, key.Value, key.Line, key.Column, tt.line, tt.col)
		}
		tags := []string{}
		for _, n := range val.Content {
			tags = append(tags, n.Tag)
		}
		if got := strings.Join(tags, " "); got != "!!int !!float !!bool !!null !!int" {
			t.Errorf("%q: tags %s", doc, got)
		}
		if e := val.Content[1]; e.Line != key.Line || e.Column <= key.Column {
			t.Errorf("%q: 2.5 at %d:%d, key at %d:%d", doc, e.Line, e.Column, key.Line, key.Column)
		}
	}
	root, _ := Parse([]byte("{\"é\": \"x\", \"b\": 1}"), Options{})
	if b := root.Content[2]; b.Line != 1 || b.Column != 12 {
		t.Errorf("\"b\" at %d:%d, want 1:12 (columns count characters)", b.Line, b.Column)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"a": 1}`, "a: 1\n", "", `{a: 1}`, `{"a": [1, 2`, "a: &x [*x]\n", "a: 1\n---\nb: 2\n", "a:\n\tb: 1\n",
		`{"a": {"b": [true, null, 1e400, "\u00e9"]}}`, "- &a [1]\n- *a\n- {<<: *a}\n",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, strict bool) {
		root, err := Parse(data, Options{StrictJSON: strict})
		if err != nil {
			if err.Line < 1 || err.Column < 1 || err.Message == "" {
				t.Fatalf("error without a position: %+v", err)
			}
			return
		}
		var walk func(n *yaml.Node, depth int)
		walk = func(n *yaml.Node, depth int) {
			if depth > MaxDepth+2 {
				t.Fatalf("accepted a document deeper than %d", MaxDepth)
			}
			if n.Kind != yaml.AliasNode && n.Kind != yaml.DocumentNode && (n.Line < 1 || n.Column < 1) {
				t.Fatalf("node without a position: %+v", n)
			}
			if n.Kind == yaml.AliasNode {
				return
			}
			for _, c := range n.Content {
				walk(c, depth+1)
			}
		}
		if root != nil {
			walk(root, 1)
		}
	})
}
