package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/grant"
)

func newGrantShowCmd(a *app) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "show ID [-o table|json]",
		Short: "Show one grant (never its token)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			return a.onGrant(cmd.Context(), args[0], func(store *grant.SQLite) error {
				g, err := store.Get(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if output == "json" {
					return writeJSON(a.stdout, grant.ViewOf(g, time.Now()))
				}
				return writeGrant(a, g)
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output: table or json")
	return cmd
}

// writeGrant prints a grant as "field  value" lines.
func writeGrant(a *app, g *toolgate.Grant) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	rows := [][2]string{
		{"id", g.ID},
		{"subject", g.Subject},
		{"policy", g.Policy},
		{"status", g.Status(time.Now())},
		{"labels", formatLabels(g.Labels)},
		{"servers", formatServers(g.Servers)},
		{"created", formatTime(g.CreatedAt, "")},
		{"expires", formatTime(g.ExpiresAt, "never")},
		{"last used", formatTime(g.LastUsedAt, "never")},
		{"rotated", formatTime(g.RotatedAt, "never")},
	}
	if g.Revoked {
		rows = append(rows, [2]string{"revoked", formatTime(g.RevokedAt, "")})
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", r[0], r[1])
	}
	return tw.Flush()
}
