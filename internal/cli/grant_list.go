package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate/grant"
)

func newGrantListCmd(a *app) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list [-o table|json]",
		Short: "List every grant, revoked and expired ones included",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			_, store, err := a.openGrants(cmd.Context())
			if err != nil {
				return err
			}
			defer store.Close()
			grants, err := store.List(cmd.Context())
			if err != nil {
				return err
			}
			now := time.Now()
			if output == "json" {
				views := make([]grant.View, 0, len(grants))
				for _, g := range grants {
					views = append(views, grant.ViewOf(g, now))
				}
				return writeJSON(a.stdout, views)
			}
			if len(grants) == 0 {
				fmt.Fprintln(a.stdout, "no grants")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSUBJECT\tPOLICY\tSTATUS\tEXPIRES\tLAST USED\tSERVERS\tLABELS")
			for _, g := range grants {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.ID, g.Subject, g.Policy, g.Status(now),
					formatTime(g.ExpiresAt, "never"), formatTime(g.LastUsedAt, "never"), formatServers(g.Servers), formatLabels(g.Labels))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output: table or json")
	return cmd
}
