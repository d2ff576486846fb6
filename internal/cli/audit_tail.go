package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/admin"
	"github.com/toolgate/toolgate/audit"
)

// Bounds of audit tail's --interval.
const (
	minTailInterval = 100 * time.Millisecond
	maxTailInterval = time.Minute
)

func newAuditTailCmd(a *app) *cobra.Command {
	var kind, output string
	var lines int
	var follow bool
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "tail [-n N] [-f] [--kind K] [-o table|json|csv]",
		Short: "Print the last audit events, and follow new ones",
		Long: `tail prints the last -n events (default 20) of the audit log in the configured
store, oldest first. With -f it then polls the store every --interval (default
500ms) for events appended after them, by seq, and prints those as they come,
until interrupted (Ctrl-C). --kind keeps one kind of event: decision, outcome or
admin. -o json prints one JSON object per line; -o csv prints CSV as audit query
does, the header row once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "table", "json", "csv"); err != nil {
				return err
			}
			if lines < 1 || lines > audit.MaxLimit {
				return toolgate.Errorf(toolgate.Invalid, "-n must be from 1 to %d, not %d", audit.MaxLimit, lines)
			}
			if interval < minTailInterval || interval > maxTailInterval {
				return toolgate.Errorf(toolgate.Invalid, "--interval must be from %s to %s, not %s", minTailInterval, maxTailInterval, interval)
			}
			f, err := admin.AuditFilter(func(k string) string {
				if k == "kind" {
					return kind
				}
				return ""
			}, time.Now())
			if err != nil {
				return err
			}
			s, err := a.openAuditStore(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			return a.auditTail(cmd.Context(), s, f.Kind, lines, follow, interval, output)
		},
	}
	fl := cmd.Flags()
	fl.IntVarP(&lines, "lines", "n", 20, "print the last N events")
	fl.BoolVarP(&follow, "follow", "f", false, "keep printing new events until interrupted")
	fl.StringVar(&kind, "kind", "", "only events of this kind: decision, outcome or admin")
	fl.DurationVar(&interval, "interval", 500*time.Millisecond, "with -f, how often to look for new events (100ms to 1m)")
	fl.StringVarP(&output, "output", "o", "table", "output: table, json (one object per line) or csv")
	return cmd
}

// auditTail prints the last n events of kind (every kind when empty) and,
// with follow, the events appended after them until ctx ends.
func (a *app) auditTail(ctx context.Context, s *audit.SQLite, kind audit.Kind, n int, follow bool, interval time.Duration, output string) error {
	events, err := s.Query(ctx, audit.Filter{Kind: kind, Limit: n})
	if err != nil {
		return err
	}
	slices.Reverse(events)
	p := &tailPrinter{a: a, json: output == "json"}
	if output == "csv" {
		p.csv = newCSVWriter(a.stdout)
	}
	if err := p.print(events); err != nil {
		return err
	}
	if !follow {
		if len(events) == 0 && !p.json && p.csv == nil {
			fmt.Fprintln(a.stdout, "no events")
		}
		return nil
	}
	// The cursor is the highest seq printed: events after it, of any
	// time, are new.
	var after uint64
	if len(events) > 0 {
		after = events[len(events)-1].Seq
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil // interrupted: the normal end of -f
		case <-t.C:
		}
		// Drain what has come, a page at a time.
		for {
			events, err := s.Query(ctx, audit.Filter{Kind: kind, AfterSeq: after, Oldest: true, Limit: audit.MaxLimit})
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			if err := p.print(events); err != nil {
				return err
			}
			if len(events) > 0 {
				after = events[len(events)-1].Seq
			}
			if len(events) < audit.MaxLimit {
				break
			}
		}
	}
}

// tailPrinter writes events as table rows (with the header before the
// first), JSON lines or CSV rows (with the header before the first).
type tailPrinter struct {
	a      *app
	json   bool
	csv    *csvWriter // when -o csv
	header bool
}

func (p *tailPrinter) print(events []*audit.Event) error {
	if p.csv != nil { // the header even when there is no event yet
		return p.csv.write(events)
	}
	if len(events) == 0 {
		return nil
	}
	if p.json {
		for _, e := range events {
			b, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintf(p.a.stdout, "%s\n", b); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(p.a.stdout, 0, 4, 2, ' ', 0)
	if !p.header {
		fmt.Fprintln(tw, eventsHeader)
		p.header = true
	}
	for _, e := range events {
		fmt.Fprintln(tw, eventRow(e))
	}
	return tw.Flush()
}
