package cli

import (
	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/grant"
)

func newGrantRotateCmd(a *app) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "rotate ID [-o table|json]",
		Short: "Give a grant a new token and print it, once; the old token stops working at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			return a.onGrantChange(cmd.Context(), args[0], func(store *grant.SQLite, rec *changeRecorder) error {
				g, token, err := grant.Rotate(cmd.Context(), store, args[0])
				if err != nil {
					return err
				}
				rec.record(cmd.Context(), audit.ActionGrantRotated, g.ID, grantDetail(g))
				return a.writeIssued(g, token, output)
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output: table or json")
	return cmd
}
