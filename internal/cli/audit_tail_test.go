package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/internal/testpeer"
)

func TestAuditTail(t *testing.T) {
	l, _, run := auditStore(t)
	appendDecisions(t, l, time.Now(), "a", "b", "c")
	if err := l.Append(context.Background(), audit.Admin(audit.ActionPolicyLoaded, "toolgate", "default", "sha256:x")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		want []string // in this order
		not  []string
	}{
		{[]string{"-n", "2"}, 0, []string{"SEQ", "\n3 ", "\n4 ", "policy.loaded"}, []string{"\n2 "}},
		{nil, 0, []string{"\n1 ", "\n2 ", "\n3 ", "\n4 "}, nil},
		{[]string{"--kind", "decision", "-n", "2", "-o", "json"}, 0, []string{`"tool":"b"`, `"tool":"c"`}, []string{`"tool":"a"`, "admin"}},
		{[]string{"--kind", "other"}, 1, []string{"kind must be"}, nil},
		{[]string{"-o", "xml"}, 1, []string{"-o must be"}, nil},
		{[]string{"-n", "2", "-o", "csv"}, 0, []string{"time,seq,id,kind,", "\r\n", ",3,", ",4,", "policy.loaded"}, []string{",2,", "SEQ"}},
		{[]string{"-n", "0"}, 1, []string{"-n must be"}, nil},
		{[]string{"-f", "--interval", "1ms"}, 1, []string{"--interval must be"}, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out := run(append([]string{"audit", "tail"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, out)
			}
			rest := out
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("no %q in order in:\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
			for _, n := range tt.not {
				if strings.Contains(out, n) {
					t.Fatalf("%q in:\n%s", n, out)
				}
			}
		})
	}
}

// TestAuditTailFollow: tail -f prints the last events, then every event an
// in-process writer appends while it runs, each once and in seq order, and
// ends when its context does.
func TestAuditTailFollow(t *testing.T) {
	l, dbPath, _ := auditStore(t)
	cfg := filepath.Join(filepath.Dir(dbPath), "toolgate.yaml")
	appendDecisions(t, l, time.Now(), "t0", "t1", "t2")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errOut testpeer.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"audit", "tail", "-f", "-n", "2", "--kind", "decision", "-o", "json", "--interval", "100ms", "--config", cfg},
			strings.NewReader(""), &out, &errOut)
	}()
	waitFor := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(out.String(), what) {
			if time.Now().After(deadline) {
				t.Fatalf("no %s after 10s:\n%s%s", what, out.String(), errOut.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor(`"tool":"t2"`)
	const n = 30
	for i := 0; i < n; i++ {
		appendDecisions(t, l, time.Now(), fmt.Sprintf("w%d", i))
		if i%10 == 0 { // an admin event, which --kind decision leaves out
			if err := l.Append(context.Background(), audit.Admin(audit.ActionPolicyLoaded, "toolgate", "default", "sha256:x")); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	waitFor(fmt.Sprintf(`"tool":"w%d"`, n-1))
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("tail -f exited %d: %s", code, errOut.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("tail -f did not stop when its context ended")
	}
	var tools []string
	var last uint64
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var e audit.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if e.Kind != audit.KindDecision || e.Seq <= last {
			t.Fatalf("event %d (%s) after seq %d", e.Seq, e.Kind, last)
		}
		last = e.Seq
		tools = append(tools, e.Tool)
	}
	want := []string{"t1", "t2"}
	for i := 0; i < n; i++ {
		want = append(want, fmt.Sprintf("w%d", i))
	}
	if strings.Join(tools, ",") != strings.Join(want, ",") {
		t.Fatalf("tail -f printed %v, want %v", tools, want)
	}
}
