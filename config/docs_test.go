package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsExamples parses every example configuration of docs/config.md
// (docs/examples/config, except the *.policy.* files they name) and checks
// that the policy files they reference exist.
func TestDocsExamples(t *testing.T) {
	t.Setenv("CLERK_SECRET_KEY", "sk_test_example")
	t.Setenv("DOCS_TOKEN", "example-token")
	t.Setenv("POSTGRES_PASSWORD", "example")
	all, err := filepath.Glob("../docs/examples/config/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range all {
		if strings.Contains(filepath.Base(f), ".policy.") {
			continue
		}
		n++
		c, err := Load(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		for name := range c.Policies {
			if p := c.PolicyPath(name); p != "" {
				if _, err := os.Stat(p); err != nil {
					t.Errorf("%s: policy %s: %v", f, name, err)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no example configurations found")
	}
}
