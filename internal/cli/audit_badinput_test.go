package cli

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAuditCorruptedStore: with a page in the middle of the store file
// overwritten, audit verify reports the break naming the file (exit 1),
// audit query fails naming it, and serve refuses to start rather than
// append to it.
func TestAuditCorruptedStore(t *testing.T) {
	l, dbPath, run := auditStore(t)
	tools := make([]string, 2000)
	for i := range tools {
		tools[i] = fmt.Sprintf("tool%04d", i)
	}
	appendDecisions(t, l, time.Now(), tools...)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := int(binary.BigEndian.Uint16(data[16:18]))
	off := (len(data) / pageSize / 2) * pageSize
	copy(data[off:], bytes.Repeat([]byte{0xA5, 0x5A, 0xFF, 0x00}, 64))
	if err := os.WriteFile(dbPath, data, 0o600); err != nil {
		t.Fatal(err)
	}

	code, out := run("audit", "verify")
	if code != 1 || !strings.Contains(out, "BROKEN at") || !strings.Contains(out, dbPath) || !strings.Contains(out, "corrupted") {
		t.Fatalf("verify: exit %d:\n%s", code, out)
	}
	// Every event: the damaged page is read whichever it holds.
	code, out = run("audit", "query", "--limit", "10000")
	if code == 0 || !strings.Contains(out, dbPath) || !strings.Contains(out, "corrupted") {
		t.Fatalf("query: exit %d:\n%.2000s", code, out)
	}

	// serve: the audit log is on by default, in the store.
	cfg := filepath.Join(filepath.Dir(dbPath), "toolgate.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("auth: grants\nlisten: %s\nstore: sqlite://toolgate.db\n", freeAddr(t))), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var sout, serr bytes.Buffer
	code = Main(ctx, []string{"serve", "--config", cfg}, strings.NewReader(""), &sout, &serr)
	if ctx.Err() != nil {
		t.Fatalf("serve started on a corrupted store (ran until its context ended): %s", serr.String())
	}
	if code == 0 || !strings.Contains(serr.String(), dbPath) || !strings.Contains(serr.String(), "corrupt") {
		t.Fatalf("serve: exit %d: %s", code, serr.String())
	}
	t.Logf("serve refused: %s", serr.String())
}
