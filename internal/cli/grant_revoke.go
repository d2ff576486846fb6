package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/grant"
)

func newGrantRevokeCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a grant: its token stops working at once, for good",
		Long: `revoke marks the grant revoked; its token is refused from then on. The grant
stays listed, so that audit records naming it keep their meaning. Revoking a
revoked grant changes nothing.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.onGrantChange(cmd.Context(), args[0], func(store *grant.SQLite, rec *changeRecorder) error {
				now := time.Now().UTC()
				g, err := store.Revoke(cmd.Context(), args[0], now)
				if err != nil {
					return err
				}
				if !g.RevokedAt.Equal(now) {
					fmt.Fprintf(a.stdout, "%s was already revoked at %s\n", g.ID, formatTime(g.RevokedAt, ""))
					return nil
				}
				rec.record(cmd.Context(), audit.ActionGrantRevoked, g.ID, grantDetail(g))
				fmt.Fprintf(a.stdout, "revoked %s (%s)\n", g.ID, g.Subject)
				return nil
			})
		},
	}
}
