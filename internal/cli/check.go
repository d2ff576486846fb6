package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/config"
	"github.com/toolgate/toolgate/policy"
)

func newCheckCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "check [POLICY_FILE...]",
		Short: "Validate the configuration and every policy it names, or policy files, without starting anything",
		Long: `check loads the configuration file and every policy it names, starts nothing,
and prints every problem found as file:line:col: message. It exits 1 when
there is any, and prints "ok: N servers, M policies" otherwise.

Given policy files (toolgate's JSON or YAML, or Intercept's YAML), check
validates those alone instead, without a configuration, and prints
"ok: FILE" for each valid one.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(_ *cobra.Command, files []string) error {
			if len(files) > 0 {
				return a.checkPolicyFiles(files)
			}
			return a.check()
		},
	}
}

// errCheckFailed is returned once check has printed the problems it found.
var errCheckFailed = &reportedError{toolgate.Errorf(toolgate.Invalid, "check failed")}

func (a *app) check() error {
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
		return errCheckFailed
	}
	if c == nil { // the file could not be parsed at all
		return errCheckFailed
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
		return errCheckFailed
	}
	// With auth: none callers use the policy named "default", or the only
	// policy there is; with neither every call is denied.
	if _, ok := c.Policies[toolgate.Anonymous().Policy]; c.Auth == "none" && !ok && len(c.Policies) != 1 {
		fmt.Fprintf(a.stderr, "%s: warning: auth is none and no policy is named %q, so every tool call will be denied\n",
			c.File, toolgate.Anonymous().Policy)
	}
	fmt.Fprintf(a.stdout, "ok: %d servers, %d policies\n", len(c.Servers), len(c.Policies))
	return nil
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
