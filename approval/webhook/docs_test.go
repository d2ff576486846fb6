package webhook_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate/approval/webhook"
)

// docBlock returns the first fenced block after marker in doc.
func docBlock(t *testing.T, doc, marker string) string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, marker)
	if !ok {
		t.Fatalf("docs/admin.md has no %q", marker)
	}
	_, rest, _ = strings.Cut(rest, "```")
	_, rest, _ = strings.Cut(rest, "\n") // the fence's language
	block, _, _ := strings.Cut(rest, "```")
	return block
}

// TestDocsVerifyExample runs the verification program of docs/admin.md
// against deliveries signed as the Sender signs them, and checks that the
// body shown there is what a Sender sends.
func TestDocsVerifyExample(t *testing.T) {
	data, err := os.ReadFile("../../docs/admin.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)

	var b webhook.Body
	dec := json.NewDecoder(strings.NewReader(docBlock(t, doc, "### Webhook")))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("the example body is not a webhook.Body: %v", err)
	}

	dir := t.TempDir()
	src := filepath.Join(dir, "verify.go")
	if err := os.WriteFile(src, []byte(docBlock(t, doc, "<!-- example:webhook-verify -->")), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "verify")
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	build := exec.Command(goBin, "build", "-o", bin, src)
	build.Dir = dir
	build.Env = append(os.Environ(), "GO111MODULE=off", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the example: %v\n%s", err, out)
	}

	body := []byte(`{"id":"evt_1","type":"approval.requested"}`)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	old := strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10)
	for _, tc := range []struct {
		name, ts, sig string
		body          []byte
		ok            bool
	}{
		{"signed now", now, webhook.Sign(secret, now, body), body, true},
		{"body changed", now, webhook.Sign(secret, now, body), []byte(`{"id":"evt_2","type":"approval.requested"}`), false},
		{"other secret", now, webhook.Sign([]byte("another-secret-of-16"), now, body), body, false},
		{"ten minutes old", old, webhook.Sign(secret, old, body), body, false},
	} {
		cmd := exec.Command(bin, tc.ts, tc.sig)
		cmd.Env = append(os.Environ(), "TOOLGATE_WEBHOOK_SECRET="+string(secret))
		cmd.Stdin = bytes.NewReader(tc.body)
		out, err := cmd.Output()
		if (err == nil) != tc.ok || (tc.ok && strings.TrimSpace(string(out)) != "ok") {
			t.Errorf("%s: %v %q, want ok %v", tc.name, err, out, tc.ok)
		}
	}
}
