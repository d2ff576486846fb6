package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/audit"
)

func newAuditVerifyCmd(a *app) *cobra.Command {
	var jsonl, output string
	cmd := &cobra.Command{
		Use:   "verify [--jsonl FILE] [-o table|json]",
		Short: "Walk the audit chain and report the first broken link",
		Long: `verify walks the audit chain in the configured store, in seq order, and checks
every link: each event's hash over the previous hash and its body, seq without
gaps, and the table's columns against the body. A pruned chain starts from its
latest checkpoint, whose signature must hold (audit prune). It reports the first broken
link (an event edited, deleted or reordered) and exits 1; 0 when the chain is
whole. With --jsonl it walks a JSON Lines sink's file (and its rotated files)
instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			var rep *audit.Report
			var err error
			if jsonl != "" {
				rep, err = audit.VerifyJSONL(jsonl)
			} else {
				s, oerr := a.openAuditStore(cmd.Context())
				if oerr != nil {
					return oerr
				}
				defer s.Close()
				rep, err = s.Verify(cmd.Context())
			}
			if err != nil {
				return err
			}
			if output == "json" {
				if err := writeJSON(a.stdout, rep); err != nil {
					return err
				}
			} else if rep.Break == nil {
				fmt.Fprintf(a.stdout, "ok: %d events, the chain is whole (head seq %d, hash %s)\n", rep.Events, rep.HeadSeq, rep.HeadHash)
				if c := rep.Checkpoint; c != nil {
					fmt.Fprintf(a.stdout, "it continues from checkpoint %d (seq %d, made %s): %d earlier events were pruned\n", c.ID, c.Seq, formatTime(c.Time, ""), c.Seq)
				}
			} else {
				fmt.Fprintf(a.stdout, "BROKEN at %s: %s\n%d events before it are intact\n", rep.Break.Where, rep.Break.Problem, rep.Events)
			}
			if rep.Break != nil {
				return &reportedError{err: &toolgate.Error{Code: toolgate.Invalid, Message: rep.Break.Error()}}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&jsonl, "jsonl", "", "verify this JSON Lines file (and its rotated files) instead of the store")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output: table or json")
	return cmd
}
