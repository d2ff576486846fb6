package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/config"
	"github.com/toolgate/toolgate/policy"
)

func newCheckCmd(a *app) *cobra.Command {
	var live bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "check [POLICY_FILE...]",
		Short: "Validate the configuration and every policy it names, or policy files, without starting anything",
		Long: `check loads the configuration file and every policy it names, starts nothing,
and prints every problem found as file:line:col: message. It exits 1 when
there is any, and prints "ok: N servers, M policies" otherwise.

Given policy files (toolgate's JSON or YAML, or Intercept's YAML), check
validates those alone instead, without a configuration, and prints
"ok: FILE" for each valid one.

With --live, check then starts every server of the configuration, lists
its tools, and prints every tool name or pattern of the policies (a rule
or a hide entry) that matches none of them, with the tool it most likely
meant: "did you mean". It exits 1 when there is any, 7 when a server
cannot be listed.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, files []string) error {
			if len(files) > 0 {
				if live {
					return toolgate.Errorf(toolgate.Invalid, "--live checks the policies of a configuration against its servers; it takes no policy files")
				}
				return a.checkPolicyFiles(files)
			}
			c, err := a.check()
			if err != nil || !live {
				return err
			}
			found, err := a.checkLive(cmd.Context(), c, timeout)
			if err != nil {
				return err
			}
			if found {
				return errCheckFailed
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&live, "live", false, "start the servers and report policy tool names that match none of their tools")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "with --live: time allowed to start and list each server (default: the configuration's upstream_timeout)")
	return cmd
}

// errCheckFailed is returned once check has printed the problems it found.
var errCheckFailed = &reportedError{toolgate.Errorf(toolgate.Invalid, "check failed")}

// check validates the configuration and its policies, and returns the
// configuration when both are valid.
func (a *app) check() (*config.Config, error) {
	c, err := config.Load(a.configPath)
	var cerrs config.ErrorList
	switch {
	case err == nil:
	case errors.As(err, &cerrs):
		for _, e := range cerrs {
			fmt.Fprintln(a.stderr, e.Error())
		}
	default:
		fmt.Fprintf(a.stderr, "toolgate: %v\n", err)
		return nil, errCheckFailed
	}
	if c == nil { // the file could not be parsed at all
		return nil, errCheckFailed
	}
	failed := len(cerrs) > 0
	for _, name := range policyOrder(c) {
		if checkPolicy(a.stderr, c, name) {
			failed = true
		}
	}
	if !failed {
		if err := runnable(c, "http"); err != nil {
			fmt.Fprintf(a.stderr, "toolgate: %v\n", err)
			failed = true
		}
	}
	if failed {
		return nil, errCheckFailed
	}
	// With auth: none callers use the policy named "default", or the only
	// policy there is; with neither every call is denied.
	if _, ok := c.Policies[toolgate.Anonymous().Policy]; c.Auth == "none" && !ok && len(c.Policies) != 1 {
		fmt.Fprintf(a.stderr, "%s: warning: auth is none and no policy is named %q, so every tool call will be denied\n",
			c.File, toolgate.Anonymous().Policy)
	}
	fmt.Fprintf(a.stdout, "ok: %d servers, %d policies\n", len(c.Servers), len(c.Policies))
	return c, nil
}

// checkPolicyFiles validates bare policy files, printing every problem
// as file:line:col: message.
func (a *app) checkPolicyFiles(files []string) error {
	failed := false
	for _, f := range files {
		_, err := policy.LoadFile(f)
		var list policy.ErrorList
		switch {
		case err == nil:
			fmt.Fprintf(a.stdout, "ok: %s\n", f)
		case errors.As(err, &list):
			for _, e := range list {
				fmt.Fprintln(a.stderr, e.Error())
			}
			failed = true
		case errors.Is(err, fs.ErrNotExist):
			fmt.Fprintf(a.stderr, "%s: policy file not found\n", f)
			failed = true
		default:
			fmt.Fprintf(a.stderr, "%s: %v\n", f, err)
			failed = true
		}
	}
	if failed {
		return errCheckFailed
	}
	return nil
}

// policyOrder lists the policy names in the order the file lists them.
func policyOrder(c *config.Config) []string {
	names := make([]string, 0, len(c.Policies))
	for name := range c.Policies {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		pi, pj := c.Policies[names[i]], c.Policies[names[j]]
		if pi.Line != pj.Line {
			return pi.Line < pj.Line
		}
		if pi.Column != pj.Column {
			return pi.Column < pj.Column
		}
		return names[i] < names[j]
	})
	return names
}

// checkPolicy loads one named policy, prints its problems to w and reports
// whether there were any. Errors in an inline policy are given positions
// in the configuration file.
func checkPolicy(w io.Writer, c *config.Config, name string) bool {
	src := c.Policies[name]
	var err error
	switch {
	case src.Inline != nil:
		_, err = policy.Load(src.Inline, c.File)
	case src.Path != "":
		_, err = policy.LoadFile(c.PolicyPath(name))
	default: // the configuration error was reported already
		return false
	}
	if err == nil {
		return false
	}
	var list policy.ErrorList
	if !errors.As(err, &list) {
		msg := err.Error()
		if errors.Is(err, fs.ErrNotExist) {
			msg = fmt.Sprintf("policy file %s not found", c.PolicyPath(name))
		}
		fmt.Fprintf(w, "%s:%d:%d: policies.%s: %s\n", c.File, src.Line, src.Column, name, msg)
		return true
	}
	for _, e := range list {
		if src.Inline != nil {
			e.File = c.File
			e.Line, e.Column = src.Position(e.Line, e.Column)
			e.Path = "policies." + name + e.Path
		}
		fmt.Fprintln(w, e.Error())
	}
	return true
}
