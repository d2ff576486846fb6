package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/audit"
)

func newAuditPruneCmd(a *app) *cobra.Command {
	var olderThan, output string
	cmd := &cobra.Command{
		Use:   "prune --older-than 90d [-o table|json]",
		Short: "Delete old audit events, keeping a signed checkpoint",
		Long: `prune deletes the audit events of the configured store made more than
--older-than ago (90d, 12h), oldest first, and records a checkpoint: the seq and
hash of the last event deleted, signed with a key kept in the store, so that
audit verify still passes on what remains. It deletes the chain from its start
and stops at the first event made after the cutoff; it always keeps the newest
event. A chain that does not verify is not pruned (exit 1). The gateway may
keep running meanwhile.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			if olderThan == "" {
				return toolgate.Errorf(toolgate.Invalid, "--older-than is required (90d, 12h)")
			}
			age, err := parseAge(olderThan)
			if err != nil {
				return err
			}
			s, err := a.openAuditStore(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			now := time.Now()
			res, err := s.Prune(cmd.Context(), now.Add(-age), now)
			if errors.Is(err, audit.ErrPruneBroken) {
				// Like verify's exit for a broken chain: the input is bad.
				return &toolgate.Error{Code: toolgate.Invalid, Message: "the chain does not verify, so it was not pruned (see audit verify)", Err: err}
			}
			if err != nil {
				return err
			}
			if output == "json" {
				return writeJSON(a.stdout, res)
			}
			if c := res.Checkpoint; c != nil {
				fmt.Fprintf(a.stdout, "pruned %d events (seq %d-%d), %d kept; checkpoint %d at seq %d, hash %s\n",
					res.Pruned, c.FromSeq, c.Seq, res.Kept, c.ID, c.Seq, c.Hash)
			} else {
				fmt.Fprintf(a.stdout, "nothing to prune: no event older than %s but the newest; %d kept\n", olderThan, res.Kept)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&olderThan, "older-than", "", "delete events made more than this long ago: whole days (90d) or a duration (12h)")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output: table or json")
	return cmd
}

// parseAge reads a positive age: a whole number of days (90d) or a Go
// duration (12h, 90m).
func parseAge(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if days, err := strconv.Atoi(n); err == nil && days > 0 && days <= 100*365 {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, toolgate.Errorf(toolgate.Invalid, "--older-than must be a positive age such as 90d or 12h, not %q", s)
}
