package cli

import "github.com/spf13/cobra"

func newPolicyCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Work with policy documents without a running gateway",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newPolicyTestCmd(a), newPolicyReplayCmd(a), newPolicyConvertCmd(a))
	return cmd
}
