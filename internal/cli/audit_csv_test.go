package cli

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate/audit"
)

func TestCSVCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"=SUM(A1:A9)", "'=SUM(A1:A9)"},
		{"+1", "'+1"},
		{"-2+3", "'-2+3"},
		{"@SUM(1)", "'@SUM(1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"a=b", "a=b"},
		{" =1", " =1"}, // a spreadsheet reads it as text already
		{"'quoted", "'quoted"},
	}
	for _, tt := range tests {
		if got := csvCell(tt.in); got != tt.want {
			t.Errorf("csvCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestAuditQueryCSV: audit query -o csv writes a header and one RFC 4180
// record per event that reads back to the event's fields, whatever
// commas, quotes, line breaks and formulas they hold; formulas come back
// defused.
func TestAuditQueryCSV(t *testing.T) {
	l, _, run := auditStore(t)
	at := time.Date(2026, 11, 30, 6, 0, 0, 123456789, time.UTC)
	hostile := []struct {
		name string
		e    *audit.Event
		// want maps columns to the value read back.
		want map[string]string
	}{
		{"commas and quotes", &audit.Event{Kind: audit.KindDecision, Time: at, Tool: "a,b", Subject: `say "hi"`, Decision: audit.Denied, Reason: `"quoted", with, commas`},
			map[string]string{"tool": "a,b", "subject": `say "hi"`, "reason": `"quoted", with, commas`, "decision": "denied", "gateway_us": ""}},
		{"line breaks", &audit.Event{Kind: audit.KindDecision, Time: at, Tool: "echo", Subject: "two\nlines", Reason: "crlf\r\ninside", Decision: audit.Allowed},
			map[string]string{"subject": "two\nlines", "reason": "crlf\ninside"}},
		{"formulas", &audit.Event{Kind: audit.KindDecision, Time: at, Tool: "=HYPERLINK(\"http://127.0.0.1/x\",\"click\")", Subject: "+1", Rule: "-1", Reason: "@SUM(A1)", Decision: audit.Denied},
			map[string]string{"tool": "'=HYPERLINK(\"http://127.0.0.1/x\",\"click\")", "subject": "'+1", "rule": "'-1", "reason": "'@SUM(A1)"}},
		{"tab and cr", &audit.Event{Kind: audit.KindDecision, Time: at, Tool: "\t=1", Subject: "\r=2", Decision: audit.Allowed},
			// encoding/csv with CRLF line ends writes a line break in a
			// cell as CRLF and drops a lone CR (documented): the quote
			// still comes first.
			map[string]string{"tool": "'\t=1", "subject": "'=2"}},
		{"outcome", &audit.Event{Kind: audit.KindOutcome, Time: at, Tool: "echo", Ref: "0123", Outcome: audit.OutcomeToolError, Error: "=cmd|' /C calc'!A0", GatewayMicros: 0, UpstreamMicros: 1500, ResultBytes: 42},
			map[string]string{"outcome": "tool_error", "error": "'=cmd|' /C calc'!A0", "gateway_us": "0", "upstream_us": "1500", "result_bytes": "42", "ref": "0123", "time": "2026-11-30T06:00:00.123456789Z"}},
		{"admin", audit.Admin(audit.ActionPolicyLoaded, "toolgate", "default", "sha256:ab"),
			map[string]string{"kind": "admin", "action": "policy.loaded", "actor": "toolgate", "target": "default", "detail": "sha256:ab", "upstream_us": ""}},
	}
	for _, h := range hostile {
		if err := l.Append(context.Background(), h.e); err != nil {
			t.Fatal(err)
		}
	}
	code, out := run("audit", "query", "-o", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	if !strings.HasSuffix(out, "\r\n") {
		t.Fatalf("records do not end with CRLF: %q", out[max(0, len(out)-20):])
	}
	r := csv.NewReader(strings.NewReader(out))
	records, err := r.ReadAll() // also checks every record has as many fields as the header
	if err != nil {
		t.Fatalf("not valid CSV: %v\n%s", err, out)
	}
	if !slices.Equal(records[0], csvColumns) {
		t.Fatalf("header %v, want %v", records[0], csvColumns)
	}
	if len(records) != 1+len(hostile) {
		t.Fatalf("%d records, want a header and %d", len(records), len(hostile))
	}
	col := func(rec []string, name string) string { return rec[slices.Index(csvColumns, name)] }
	for i, h := range hostile {
		// Newest first: the last appended is the first row.
		rec := records[len(hostile)-i]
		t.Run(h.name, func(t *testing.T) {
			if got := col(rec, "id"); got != h.e.ID {
				t.Fatalf("row for %s has id %s", h.e.ID, got)
			}
			if got := col(rec, "seq"); got != strconv.FormatUint(h.e.Seq, 10) {
				t.Fatalf("seq %s, want %d", got, h.e.Seq)
			}
			for k, want := range h.want {
				if got := col(rec, k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// TestCSVColumnsDocumented: docs/audit.md lists the CSV columns in order.
func TestCSVColumnsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "audit.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := "`" + strings.Join(csvColumns, "`, `") + "`"
	if !strings.Contains(strings.Join(strings.Fields(string(doc)), " "), want) {
		t.Fatalf("docs/audit.md does not list the CSV columns as %s", want)
	}
}
