package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/audit"
)

func newAuditCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify, query, show, tail and prune the audit log",
		Long: `audit reads the audit log kept in the configuration's store (store: in
--config): every tools/call decision, each forwarded call's outcome, and admin
changes, in one hash chain (docs/audit.md).`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newAuditVerifyCmd(a), newAuditQueryCmd(a), newAuditShowCmd(a), newAuditPruneCmd(a), newAuditTailCmd(a))
	return cmd
}

// openAuditStore loads the configuration and opens the audit table of the
// store it names. The caller closes it.
func (a *app) openAuditStore(ctx context.Context) (*audit.SQLite, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	path := cfg.StorePath()
	if path == "" {
		return nil, toolgate.Errorf(toolgate.Invalid, "%s: store %q: only sqlite:// is available in this build", cfg.File, cfg.Store)
	}
	s, err := audit.OpenSQLite(ctx, path, &audit.SQLiteOptions{Logger: a.log})
	if err != nil {
		return nil, &toolgate.Error{Code: toolgate.Unavailable, Message: "cannot open the store " + path, Err: err}
	}
	// A gateway that stopped without moving its journaled events into
	// the store (killed, or its store failing) left them in the journal.
	dir := audit.JournalDir(path)
	if n, err := audit.PendingJournal(dir); err != nil {
		fmt.Fprintf(a.stderr, "warning: the audit journal %s cannot be read: %v\n", dir, err)
	} else if n > 0 {
		fmt.Fprintf(a.stderr, "warning: %d audit events of a gateway that stopped are in the journal %s, not yet in the store; they enter it when the gateway starts again\n", n, dir)
	}
	return s, nil
}

func newAuditShowCmd(a *app) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "show ID [-o table|json]",
		Short: "Show one audit event",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			s, err := a.openAuditStore(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			e, err := s.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if output == "json" {
				return writeJSON(a.stdout, e)
			}
			return writeEvent(a, e)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output: table or json")
	return cmd
}

// writeEvent prints an event's fields that are set, as "field  value" lines.
func writeEvent(a *app, e *audit.Event) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	rows := [][2]string{
		{"id", e.ID}, {"seq", fmt.Sprint(e.Seq)}, {"time", formatTime(e.Time, "")}, {"kind", string(e.Kind)},
		{"instance", e.Instance}, {"ref", e.Ref}, {"request", e.RequestID}, {"session", e.Session},
		{"grant", e.Grant}, {"labels", formatLabels(e.Labels)}, {"subject", e.Subject}, {"server", e.Server},
		{"method", e.Method}, {"tool", e.Tool}, {"resource", e.Resource}, {"prompt", e.Prompt}, {"policy", e.Policy}, {"policy version", e.PolicyVersion},
		{"decision", string(e.Decision)}, {"decision kind", string(e.DecisionKind)}, {"rule", e.Rule},
		{"reason", e.Reason}, {"approval", e.ApprovalID}, {"args mode", string(e.ArgsMode)}, {"args", string(e.Args)},
		{"outcome", string(e.Outcome)}, {"error", e.Error},
		{"action", e.Action}, {"actor", e.Actor}, {"target", e.Target}, {"detail", e.Detail},
		{"prev hash", e.PrevHash}, {"hash", e.Hash},
	}
	if e.Kind == audit.KindOutcome {
		rows = append(rows, [2]string{"gateway µs", fmt.Sprint(e.GatewayMicros)}, [2]string{"upstream µs", fmt.Sprint(e.UpstreamMicros)},
			[2]string{"result bytes", fmt.Sprint(e.ResultBytes)})
	}
	for _, r := range rows {
		if r[1] != "" && r[1] != "-" {
			fmt.Fprintf(tw, "%s\t%s\n", r[0], r[1])
		}
	}
	return tw.Flush()
}
