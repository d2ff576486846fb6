package config

import (
	"fmt"
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
	t.Setenv("BILLING_CLIENT_SECRET", "example-secret")
	t.Setenv("WIKI_CLIENT_SECRET", "example-secret")
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

// TestDocsApprovalsExample parses the approvals example of docs/config.md.
func TestDocsApprovalsExample(t *testing.T) {
	t.Setenv("TOOLGATE_WEBHOOK_SECRET", "an-example-secret-of-some-length")
	data, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "<!-- example:approvals-config -->\n```yaml\n")
	if !ok {
		t.Fatal("no example:approvals-config block")
	}
	block, _, _ := strings.Cut(rest, "```")
	c, err := Parse([]byte(block), "approvals.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if w := c.Approvals.Webhook; w == nil || w.Secret != "an-example-secret-of-some-length" {
		t.Errorf("the example's webhook: %+v", w)
	}
}

// TestDocsAuditExample parses the audit example of docs/config.md.
func TestDocsAuditExample(t *testing.T) {
	t.Setenv("SIEM_TOKEN", "an-example-token")
	data, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "<!-- example:audit-config -->\n```yaml\n")
	if !ok {
		t.Fatal("no example:audit-config block")
	}
	block, _, _ := strings.Cut(rest, "```")
	c, err := Parse([]byte(block), "audit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Audit.Sinks) != 4 || c.Audit.Instance != "gateway-1" || c.Audit.Sinks[3].Headers["Authorization"] != "Bearer an-example-token" {
		t.Errorf("the example's audit section: %+v", c.Audit)
	}
}

// TestDocsAuditHTTPExample parses the http sink example of docs/audit.md.
func TestDocsAuditHTTPExample(t *testing.T) {
	t.Setenv("SIEM_TOKEN", "an-example-token")
	data, err := os.ReadFile("../docs/audit.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "<!-- example:audit-http-sink -->\n```yaml\n")
	if !ok {
		t.Fatal("no example:audit-http-sink block")
	}
	block, _, _ := strings.Cut(rest, "```")
	c, err := Parse([]byte(block), "audit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Audit.Sinks; len(s) != 2 || s[1].Type != SinkHTTP || s[1].Retries != 5 || s[1].Queue != 10000 {
		t.Errorf("the example's sinks: %+v", s)
	}
}

// TestDocsEveryKey checks that docs/config.md has a table row for every
// key the decoder accepts at the top level and in a server, and mentions
// every key of the directory section.
func TestDocsEveryKey(t *testing.T) {
	data, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, tt := range []struct {
		section string
		keys    []string
		form    string
	}{
		{"top level", topKeys, "| `%s` |"},
		{"servers", serverKeys, "| `%s` |"},
		{"directory", directoryKeys, "`%s`"},
		{"auth", authKeys, "`%s`"},
		{"auth.jwt", jwtKeys, "| `%s` |"},
		{"approvals", approvalsKeys, "| `%s` |"},
		{"approvals.webhook", webhookKeys, "| `%s` |"},
		{"audit", auditKeys, "| `%s` |"},
		{"audit.sinks", auditSinkKeys, "| `%s` |"},
		{"oauth", oauthKeys, "| `%s` |"},
		{"oauth.idp", idpKeys, "`%s`"},
	} {
		for _, k := range tt.keys {
			if !strings.Contains(doc, fmt.Sprintf(tt.form, k)) {
				t.Errorf("docs/config.md does not document the %s key %q", tt.section, k)
			}
		}
	}
}
