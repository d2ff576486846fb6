package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/policy"
)

func newPolicyConvertCmd(a *app) *cobra.Command {
	var to, out string
	var lossy bool
	cmd := &cobra.Command{
		Use:   "convert FILE --to json|yaml [-o OUT] [--lossy]",
		Short: "Convert a policy between Intercept's YAML and toolgate's JSON",
		Long: `convert reads a policy and writes it in the other format: an Intercept
policy as toolgate's JSON (--to json), a toolgate policy (JSON or YAML) as
Intercept's YAML (--to yaml). It writes to stdout, or to -o OUT.

Only what means the same in both formats is converted (the table is in
docs/intercept.md#converting). Everything else is listed on stderr, one
line per construct with its JSON Pointer in FILE, and then convert exits 1
without writing anything, unless --lossy: then it writes the rest.

It exits 1 for an invalid policy (every problem printed as file:line:col)
and 3 for a file not found.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to != policy.ConvertToJSON && to != policy.ConvertToYAML {
				return toolgate.Errorf(toolgate.Invalid, "--to must be json or yaml, not %q", to)
			}
			return a.policyConvert(args[0], to, out, lossy)
		},
	}
	f := cmd.Flags()
	f.StringVar(&to, "to", "", "the format to write: json (toolgate's, from Intercept's) or yaml (Intercept's, from toolgate's)")
	f.StringVarP(&out, "output", "o", "", "write to this file instead of stdout")
	f.BoolVar(&lossy, "lossy", false, "write the conversion even when some constructs cannot be converted")
	return cmd
}

func (a *app) policyConvert(file, to, out string, lossy bool) error {
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
			return &toolgate.Error{Code: toolgate.NotFound, Message: "the policy " + file + " does not exist", Err: err}
		}
		return err
	}
	data, lost, err := policy.Convert(eng, to)
	if err != nil {
		return toolgate.Errorf(toolgate.Invalid, "%s", err.Error())
	}
	for _, l := range lost {
		fmt.Fprintf(a.stderr, "%s: %s: %s\n", file, l.Pointer, l.Message)
	}
	if len(lost) > 0 && !lossy {
		err := toolgate.Errorf(toolgate.Invalid, "%d constructs of %s cannot be converted; nothing was written (--lossy writes the rest)", len(lost), file)
		fmt.Fprintf(a.stderr, "toolgate: %s\n", toolgate.ErrorMessage(err))
		return &reportedError{err}
	}
	if out == "" {
		_, err = a.stdout.Write(data)
		return err
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}
