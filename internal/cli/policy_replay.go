package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/policy"
	"github.com/toolgate/toolgate/replay"
)

func newPolicyReplayCmd(a *app) *cobra.Command {
	var candidate, since, output string
	var examples int
	var failOnChange bool
	cmd := &cobra.Command{
		Use:   "replay --policy FILE [--since 7d] [--examples 3] [--fail-on-change] [-o table|json]",
		Short: "Decide the recorded calls again under a candidate policy and show what would change",
		Long: `replay reads the decision events of the audit log in the configuration's
store (--config) since --since (a duration back from now such as 7d or 12h,
or an RFC 3339 time; default 7d), decides each call again under the
candidate policy (toolgate's format or Intercept's) with the gateway's own
decision code, and prints what would change: allowed→denied, denied→allowed
and to or from approval, counted per tool and per candidate rule, with
examples.

Arguments are replayed as recorded. A call recorded with args_mode keys or
redacted whose candidate rule reads argument values is not guessed at: it is
counted as not replayable, with the reason. Rate limits replay in order on
the events' own clock; the upstream's inputSchema and pins are not recorded
and not checked. See docs/audit.md#policy-replay.

It exits 0 whatever would change (1 with --fail-on-change when anything
would), and 1 for an invalid candidate, every problem printed as
file:line:col.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			if candidate == "" {
				return toolgate.Errorf(toolgate.Invalid, "--policy is required: the candidate policy file")
			}
			if examples < 0 {
				return toolgate.Errorf(toolgate.Invalid, "--examples must be 0 or more, not %d", examples)
			}
			from, err := parseSince(since, time.Now())
			if err != nil {
				return err
			}
			return a.policyReplay(cmd.Context(), candidate, from, output, examples, failOnChange)
		},
	}
	f := cmd.Flags()
	f.StringVar(&candidate, "policy", "", "the candidate policy file (JSON or YAML, toolgate's or Intercept's format)")
	f.StringVar(&since, "since", "7d", "replay the calls since this long ago (7d, 12h) or this RFC 3339 time")
	f.IntVar(&examples, "examples", 3, "examples to show of each change")
	f.BoolVar(&failOnChange, "fail-on-change", false, "exit 1 when any decision would change (for CI)")
	f.StringVarP(&output, "output", "o", "table", "output: table or json")
	return cmd
}

// parseSince reads a duration back from now (Go's, or a whole number of
// days such as 7d) or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if days, err := strconv.Atoi(n); err == nil && days > 0 {
			return now.AddDate(0, 0, -days), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, toolgate.Errorf(toolgate.Invalid, "--since must be a duration such as 7d or 12h, or an RFC 3339 time, not %q", s)
}

// replayReport is the report of -o json.
type replayReport struct {
	Since time.Time `json:"since"`
	*replay.Report
}

func (a *app) policyReplay(ctx context.Context, file string, since time.Time, output string, examples int, failOnChange bool) error {
	eng, err := policy.LoadFile(file)
	if err != nil {
		var list policy.ErrorList
		if errors.As(err, &list) {
			for _, e := range list {
				fmt.Fprintln(a.stderr, e.Error())
			}
			return &reportedError{err}
		}
		if errors.Is(err, fs.ErrNotExist) {
			return &toolgate.Error{Code: toolgate.NotFound, Message: "the candidate policy " + file + " does not exist", Err: err}
		}
		return err
	}
	s, err := a.openAuditStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	events, err := readDecisions(ctx, s, since)
	if err != nil {
		return err
	}
	r := replay.Run(ctx, eng, events, replay.Options{Examples: examples})
	if output == "json" {
		err = writeJSON(a.stdout, replayReport{Since: since.UTC(), Report: r})
	} else {
		err = writeReplay(a, file, since, r)
	}
	if err != nil {
		return err
	}
	if n := sum(r.Changes); failOnChange && n > 0 {
		return toolgate.Errorf(toolgate.Invalid, "%d recorded decision(s) would change under %s", n, file)
	}
	return nil
}

// readDecisions reads every decision event made since the given time,
// page by page back from the newest.
func readDecisions(ctx context.Context, s *audit.SQLite, since time.Time) ([]*audit.Event, error) {
	f := audit.Filter{Kind: audit.KindDecision, Since: since, Limit: audit.MaxLimit}
	var all []*audit.Event
	for {
		page, err := s.Query(ctx, f)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < audit.MaxLimit {
			return all, nil
		}
		f.BeforeSeq = page[len(page)-1].Seq
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// arrow renders a change name: allowed_to_denied → allowed→denied.
func arrow(change string) string { return strings.Replace(change, "_to_", "→", 1) }

func writeReplay(a *app, file string, since time.Time, r *replay.Report) error {
	w := a.stdout
	fmt.Fprintf(w, "%d decisions since %s replayed under %s: %d replayed, %d not replayable\n",
		r.Read, formatTime(since, ""), file, r.Replayed, r.Read-r.Replayed)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  unchanged\t%d\n", r.Unchanged)
	fmt.Fprintf(tw, "  allowed→denied\t%d\n", r.AllowedToDenied)
	fmt.Fprintf(tw, "  denied→allowed\t%d\n", r.DeniedToAllowed)
	for _, ch := range slices.Sorted(maps.Keys(r.Changes)) {
		if ch != replay.AllowedToDenied && ch != replay.DeniedToAllowed {
			fmt.Fprintf(tw, "  %s\t%d\n", arrow(ch), r.Changes[ch])
		}
	}
	for _, why := range slices.Sorted(maps.Keys(r.NotReplayable)) {
		fmt.Fprintf(tw, "  not replayable: %s\t%d\t(%s)\n", why, r.NotReplayable[why], replay.ReasonText[why])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.ByTool) == 0 {
		fmt.Fprintln(w, "nothing would change")
	} else {
		for _, table := range []struct {
			head string
			rows []replay.Count
		}{{"TOOL", r.ByTool}, {"CANDIDATE RULE", r.ByRule}} {
			fmt.Fprintln(w)
			tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "CHANGE\t%s\tCOUNT\n", table.head)
			for _, c := range table.rows {
				fmt.Fprintf(tw, "%s\t%s\t%d\n", arrow(c.Change), c.Key, c.Count)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
	}
	if len(r.Examples) > 0 {
		fmt.Fprintln(w, "\nexamples:")
	}
	for _, x := range r.Examples {
		fmt.Fprintf(w, "  %s  seq %d  %s  %s  %s  %s\n", arrow(x.Change), x.Seq, x.ID, formatTime(x.Time, ""), x.Subject, x.Tool)
		fmt.Fprintf(w, "    was %s by %s", x.Old.Decision, x.Old.Rule)
		if x.New != nil {
			fmt.Fprintf(w, "; would be %s by %s", x.New.Decision, x.New.Rule)
			if x.New.Reason != "" {
				fmt.Fprintf(w, ": %s", x.New.Reason)
			}
		}
		if x.Detail != "" {
			fmt.Fprintf(w, "; not replayed: %s", x.Detail)
		}
		fmt.Fprintln(w)
	}
	return nil
}
