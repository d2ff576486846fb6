package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// docBlock returns the fenced block that follows the marker
// "<!-- example:NAME -->" in doc.
func docBlock(t *testing.T, doc, name string) string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, "<!-- example:"+name+" -->\n```")
	if !ok {
		t.Fatalf("no example:%s block", name)
	}
	_, rest, _ = strings.Cut(rest, "\n") // the fence's language
	block, _, _ := strings.Cut(rest, "```")
	return block
}

var (
	docExitRE  = regexp.MustCompile(`→ exit (\d+)`)
	docGrantRE = regexp.MustCompile(`^grant\s+(gr_[a-z2-7]{12})$`)
)

// TestDocsGrants runs the example of docs/auth.md: its configuration is
// written to a temporary directory, and every toolgate line of its command
// block is run in order. A comment line "# grant  gr_..." after a create or
// rotate names the id the doc uses for the grant that command printed; a
// trailing "# → exit N" is the exit code the line must have (0 otherwise).
// The lines hold no quotes: words are split at spaces.
func TestDocsGrants(t *testing.T) {
	data, err := os.ReadFile("../../docs/auth.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	dir := writeFiles(t, map[string]string{"toolgate.yaml": docBlock(t, doc, "grants-config")})
	cfg := filepath.Join(dir, "toolgate.yaml")
	if code, out, errOut := run(t, "check", "--config", cfg); code != 0 {
		t.Fatalf("check of the doc's configuration = %d\n%s%s", code, out, errOut)
	}

	ids := map[string]string{} // the doc's id → the id created
	lastID, ran := "", 0
	for _, line := range strings.Split(strings.TrimSpace(docBlock(t, doc, "grants")), "\n") {
		cmdPart, comment, _ := strings.Cut(line, "#")
		comment = strings.TrimSpace(comment)
		words := strings.Fields(cmdPart)
		if len(words) == 0 {
			if m := docGrantRE.FindStringSubmatch(comment); m != nil {
				if lastID == "" {
					t.Fatalf("%q follows no command that printed a grant", line)
				}
				if prev, ok := ids[m[1]]; ok && prev != lastID {
					t.Errorf("the doc's %s stands for two grants", m[1])
				}
				ids[m[1]] = lastID
			}
			continue
		}
		if words[0] != "toolgate" || len(words) < 2 || words[1] != "grant" {
			t.Fatalf("unexpected line in the example: %s", line)
		}
		args := []string{"--config", cfg}
		for _, w := range words[1:] {
			if real, ok := ids[w]; ok {
				w = real
			}
			args = append(args, w)
		}
		want := 0
		if m := docExitRE.FindStringSubmatch(comment); m != nil {
			want, _ = strconv.Atoi(m[1])
		}
		code, out, errOut := run(t, args...)
		ran++
		if code != want {
			t.Errorf("%s\n  exit %d, want %d\n%s%s", line, code, want, out, errOut)
		}
		lastID = ""
		if m := issuedRE.FindStringSubmatch(out); m != nil {
			lastID = m[1]
		}
		if strings.Contains(line, "list") || strings.Contains(line, "show") {
			if strings.Contains(out, "tg_") {
				t.Errorf("%s prints a token:\n%s", line, out)
			}
		}
	}
	if ran < 8 || len(ids) != 2 {
		t.Errorf("ran %d commands, mapped ids %v", ran, ids)
	}
}
