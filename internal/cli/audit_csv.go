package cli

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/toolgate/toolgate/audit"
)

// csvColumns are the columns of audit query and tail's -o csv, in order:
// what an analyst filters and pivots on. Arguments, labels and hashes are
// left out (-o json has them): arguments may be megabytes, more than a
// spreadsheet cell holds, and the chain is checked with audit verify.
// docs/audit.md lists the same columns; keep the two in step.
var csvColumns = []string{
	"time", "seq", "id", "kind", "instance",
	"subject", "grant", "session", "server", "method", "tool", "policy",
	"decision", "decision_kind", "rule", "reason", "approval_id",
	"ref", "outcome", "error", "gateway_us", "upstream_us", "result_bytes",
	"action", "actor", "target", "detail",
}

// csvRecord is e's row under csvColumns. The timing and size columns are
// empty except on outcome events, where 0 is a measurement.
func csvRecord(e *audit.Event) []string {
	num := func(n int64) string {
		if e.Kind != audit.KindOutcome {
			return ""
		}
		return strconv.FormatInt(n, 10)
	}
	t := ""
	if !e.Time.IsZero() {
		t = e.Time.UTC().Format(time.RFC3339Nano)
	}
	r := []string{
		t, strconv.FormatUint(e.Seq, 10), e.ID, string(e.Kind), e.Instance,
		e.Subject, e.Grant, e.Session, e.Server, e.Method, e.Tool, e.Policy,
		string(e.Decision), string(e.DecisionKind), e.Rule, e.Reason, e.ApprovalID,
		e.Ref, string(e.Outcome), e.Error, num(e.GatewayMicros), num(e.UpstreamMicros), num(e.ResultBytes),
		e.Action, e.Actor, e.Target, e.Detail,
	}
	for i := range r {
		r[i] = csvCell(r[i])
	}
	return r
}

// csvCell defuses a cell a spreadsheet would read as a formula (CSV or
// formula injection): one starting with =, +, -, @, a tab or a carriage
// return gets a leading single quote, which spreadsheets show as text.
// Every string field of an event can hold what a caller sent (a tool
// name, a reason quoting an argument), so every cell is checked. The
// numbers written here are never negative, so none is changed.
func csvCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// csvWriter writes events as RFC 4180 CSV (CRLF line ends, fields with a
// comma, quote or line break quoted), the header row before the first.
type csvWriter struct {
	w      *csv.Writer
	header bool
}

func newCSVWriter(w io.Writer) *csvWriter {
	c := csv.NewWriter(w)
	c.UseCRLF = true
	return &csvWriter{w: c}
}

// write writes the header (once) and a row per event, and flushes.
func (c *csvWriter) write(events []*audit.Event) error {
	if !c.header {
		if err := c.w.Write(csvColumns); err != nil {
			return fmt.Errorf("writing CSV: %w", err)
		}
		c.header = true
	}
	for _, e := range events {
		if err := c.w.Write(csvRecord(e)); err != nil {
			return fmt.Errorf("writing CSV: %w", err)
		}
	}
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}
