package cli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run runs Main and returns its exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// writeFiles writes name → content into a new temporary directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const goodPolicy = `{"version": "1", "default": "deny", "tools": {"UpdateUser": {}}}`

func TestCheckOK(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"toolgate.yaml": `
servers:
  clerk: {command: [node, local-server.js]}
  docs: {url: "http://127.0.0.1:9000/mcp"}
policies:
  default: policy.json
  inline: {version: "1", default: allow}
`,
		"policy.json": goodPolicy,
	})
	code, out, errOut := run(t, "check", "--config", filepath.Join(dir, "toolgate.yaml"))
	if code != 0 || out != "ok: 2 servers, 2 policies\n" || errOut != "" {
		t.Errorf("check = %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestCheckWarnsWithoutDefaultPolicy(t *testing.T) {
	for doc, warn := range map[string]bool{
		"auth: none\nservers: {a: {command: [x]}}\n":                                                        true,
		"auth: none\npolicies: {a: {version: \"1\", default: allow}, b: {version: \"1\", default: deny}}\n": true,
		"auth: none\npolicies: {only: {version: \"1\", default: allow}}\n":                                  false,
		"auth: grants\n":                 false,
		"servers: {a: {command: [x]}}\n": false, // auth: grants, the default
	} {
		dir := writeFiles(t, map[string]string{"toolgate.yaml": doc})
		code, out, errOut := run(t, "check", "--config", filepath.Join(dir, "toolgate.yaml"))
		if code != 0 || !strings.HasPrefix(out, "ok: ") || strings.Contains(errOut, `warning: auth is none and no policy is named "default"`) != warn {
			t.Errorf("%q: check = %d, stdout %q, stderr %q", doc, code, out, errOut)
		}
	}
}

func TestCheckUnknownKey(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"toolgate.yaml": "servers:\n  clerk:\n    command: [node, x.js]\n    enviroment: {A: b}\n",
	})
	file := filepath.Join(dir, "toolgate.yaml")
	code, out, errOut := run(t, "check", "--config", file)
	want := file + `:4:5: servers.clerk: unknown key "enviroment"`
	if code != 1 || out != "" || !strings.HasPrefix(errOut, want) || strings.Count(errOut, "\n") != 1 {
		t.Errorf("check = %d, stdout %q, stderr %q; want stderr starting %q", code, out, errOut, want)
	}
}

func TestCheckBadPolicyFile(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"toolgate.yaml": "servers: {a: {command: [x]}}\npolicies:\n  default: policy.json\n  missing: nope.json\n  inline:\n    version: \"2\"\n    default: allow\n",
		"policy.json": `{
  "version": "1",
  "default": "perhaps",
  "tools": {"x": {"action": "bogus"}},
  "extra": 1
}`,
	})
	file := filepath.Join(dir, "toolgate.yaml")
	code, out, errOut := run(t, "check", "--config", file)
	if code != 1 || out != "" {
		t.Errorf("check = %d, stdout %q", code, out)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	pfile := filepath.Join(dir, "policy.json")
	want := []string{
		pfile + ":3:14: /default: ",
		pfile + ":4:29: /tools/x/action: ",
		pfile + ":5:3: /extra: ",
		file + ":4:12: policies.missing: policy file " + filepath.Join(dir, "nope.json") + " not found",
		file + ":6:14: policies.inline/version: ",
	}
	if len(lines) != len(want) {
		t.Fatalf("stderr:\n%s\nwant %d lines", errOut, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], want[i])
		}
	}
}

func TestCheckConfigAndPolicyErrorsTogether(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"toolgate.yaml": "auth: maybe\npolicies: {default: p.json}\n",
		"p.json":        `{"version": "9"}`,
	})
	code, _, errOut := run(t, "check", "--config", filepath.Join(dir, "toolgate.yaml"))
	if code != 1 || !strings.Contains(errOut, "toolgate.yaml:1:7: auth: ") || !strings.Contains(errOut, "p.json:1:13: /version: ") {
		t.Errorf("check = %d, stderr %q", code, errOut)
	}
}

func TestCheckMissingConfig(t *testing.T) {
	code, _, errOut := run(t, "check", "--config", filepath.Join(t.TempDir(), "none.yaml"))
	if code != 1 || !strings.Contains(errOut, "none.yaml not found") {
		t.Errorf("check = %d, stderr %q", code, errOut)
	}
}

func TestCheckSyntaxError(t *testing.T) {
	dir := writeFiles(t, map[string]string{"toolgate.yaml": "servers: [\n"})
	code, _, errOut := run(t, "check", "--config", filepath.Join(dir, "toolgate.yaml"))
	if code != 1 || !strings.Contains(errOut, "toolgate.yaml:") || !strings.Contains(errOut, "invalid YAML") {
		t.Errorf("check = %d, stderr %q", code, errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"frobnicate"},
		{"version", "extra-arg"},
		{"check", "--no-such-flag"},
		{"--log-level", "loud", "version"},
		{"--log-format", "xml", "version"},
	} {
		code, _, errOut := run(t, args...)
		if code != 1 || !strings.HasPrefix(errOut, "toolgate: ") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "toolgate ") {
		t.Errorf("version = %d, %q", code, out)
	}
}

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	log, err := newLogger(&buf, "warn", "json")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown", "k", 1)
	if s := buf.String(); strings.Contains(s, "hidden") || !strings.Contains(s, `"msg":"shown"`) {
		t.Errorf("log = %q", s)
	}
}

// exampleConfigs lists the example configurations: every file of
// docs/examples/config except the policies (*.policy.*) they name.
func exampleConfigs() ([]string, error) {
	all, err := filepath.Glob("../../docs/examples/config/*")
	// The README's quick start config too.
	all = append(all, "../../examples/everything/toolgate.yaml")
	var files []string
	for _, f := range all {
		if !strings.Contains(filepath.Base(f), ".policy.") {
			files = append(files, f)
		}
	}
	return files, err
}

// TestDocsExamples runs check on every example configuration of
// docs/config.md and on the README's quick start.
func TestDocsExamples(t *testing.T) {
	t.Setenv("CLERK_SECRET_KEY", "sk_test_example")
	t.Setenv("DOCS_TOKEN", "example-token")
	t.Setenv("POSTGRES_PASSWORD", "example")
	t.Setenv("BILLING_CLIENT_SECRET", "example-secret")
	t.Setenv("WIKI_CLIENT_SECRET", "example-secret")
	files, err := exampleConfigs()
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	// Examples of what this build does not run yet: check refuses them
	// with the message serve gives, so that the two agree.
	refused := map[string]string{"replicas.yaml": "only sqlite:// is available in this build"}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if filepath.Base(f) == "oauth.yaml" {
				// The key that seals upstream tokens, which the example
				// names beside it.
				tmp := t.TempDir()
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				for name, content := range map[string][]byte{"oauth.yaml": data, "oauth.key": []byte(strings.Repeat("ab", 32) + "\n"), "readonly.policy.yaml": mustRead(t, filepath.Join(filepath.Dir(f), "readonly.policy.yaml"))} {
					if err := os.WriteFile(filepath.Join(tmp, name), content, 0o600); err != nil {
						t.Fatal(err)
					}
				}
				// and the private key of its private_key_jwt client.
				k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				if err != nil {
					t.Fatal(err)
				}
				der, err := x509.MarshalPKCS8PrivateKey(k)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(filepath.Join(tmp, "keys"), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(tmp, "keys", "crm-client.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
					t.Fatal(err)
				}
				f = filepath.Join(tmp, "oauth.yaml")
			}
			code, out, errOut := run(t, "check", "--config", f)
			if want, ok := refused[filepath.Base(f)]; ok {
				if code == 0 || !strings.Contains(errOut, want) {
					t.Errorf("check %s = %d, stderr %q; want a refusal saying %q", f, code, errOut, want)
				}
				return
			}
			if code != 0 || !strings.HasPrefix(out, "ok: ") {
				t.Errorf("check %s = %d\n%s%s", f, code, out, errOut)
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
