package cli

import (
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate/admin"
	"github.com/toolgate/toolgate/audit"
)

func newAuditQueryCmd(a *app) *cobra.Command {
	var tool, subject, decision, kind, since, output string
	var limit int
	cmd := &cobra.Command{
		Use:   "query [--tool T] [--subject S] [--decision D] [--kind K] [--since 1h] [--limit N] [-o table|json|csv]",
		Short: "List audit events, newest first",
		Long: `query lists the audit events matching every filter given, newest first.
--decision is one of allowed, approved, denied, hidden, no_policy, invalid_args,
pin_mismatch, rate_limited, approval_pending, rejected; --kind one of decision,
outcome, admin; --since a duration back from now (1h, 30m) or an RFC 3339
time. -o csv prints RFC 4180 CSV with a header row, its columns listed in
docs/audit.md; a cell a spreadsheet would read as a formula (starting with =,
+, -, @, a tab or a carriage return) gets a leading single quote.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "table", "json", "csv"); err != nil {
				return err
			}
			params := map[string]string{"tool": tool, "subject": subject, "decision": decision, "kind": kind, "since": since}
			if limit != 0 {
				params["limit"] = strconv.Itoa(limit)
			}
			f, err := admin.AuditFilter(func(k string) string { return params[k] }, time.Now())
			if err != nil {
				return err
			}
			s, err := a.openAuditStore(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			events, err := s.Query(cmd.Context(), f)
			if err != nil {
				return err
			}
			switch output {
			case "json":
				return writeJSON(a.stdout, events)
			case "csv":
				return newCSVWriter(a.stdout).write(events)
			}
			if len(events) == 0 {
				fmt.Fprintln(a.stdout, "no events")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, eventsHeader)
			for _, e := range events {
				fmt.Fprintln(tw, eventRow(e))
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&tool, "tool", "", "only events of this tool")
	f.StringVar(&subject, "subject", "", "only events of this subject")
	f.StringVar(&decision, "decision", "", "only decisions of this kind (allowed, denied, rate_limited, ...)")
	f.StringVar(&kind, "kind", "", "only events of this kind: decision, outcome or admin")
	f.StringVar(&since, "since", "", "only events since this long ago (1h) or this RFC 3339 time")
	f.IntVar(&limit, "limit", 0, "at most this many events (default 100)")
	f.StringVarP(&output, "output", "o", "table", "output: table, json or csv")
	return cmd
}

// eventsHeader is the header of the event tables of audit query and tail.
const eventsHeader = "SEQ\tTIME\tKIND\tSUBJECT\tTOOL\tDECISION/OUTCOME\tRULE/ACTION\tID"

// eventRow is an event's row under eventsHeader, tab-separated.
func eventRow(e *audit.Event) string {
	what, rule := string(e.Decision), e.Rule
	if what == "" {
		what = string(e.Outcome)
	}
	if e.Action != "" {
		what, rule = e.Actor, e.Action+" "+e.Target
	}
	return fmt.Sprintf("%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s", e.Seq, formatTime(e.Time, ""), e.Kind, e.Subject, eventTool(e), what, rule, e.ID)
}

// eventTool is what the TOOL column shows: the tool, or what a
// resources/read or prompts/get read.
func eventTool(e *audit.Event) string {
	switch {
	case e.Tool != "":
		return e.Tool
	case e.Resource != "":
		return "resource " + e.Resource
	case e.Prompt != "":
		return "prompt " + e.Prompt
	}
	return ""
}
