// Package cli holds toolgate's command line: one file per subcommand, each
// a thin layer that parses flags and calls the packages doing the work.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate"
)

// app is the state shared by the subcommands: the global flags, the
// logger built from them, and the process's standard streams.
type app struct {
	configPath string
	logLevel   string
	logFormat  string

	log    *slog.Logger
	stdin  io.Reader
	stdout io.Writer
	// progress prints how the eager upstreams start (serve only).
	progress *upstreamProgress
	stderr   io.Writer

	// ran is set once flags and arguments were accepted and a command
	// started; errors before that are usage errors.
	ran bool
	// now is the clock of the gateway's windowed counters; nil is
	// time.Now (see withClock).
	now func() time.Time
}

// reportedError marks an error whose details a command already printed;
// Main only turns it into an exit code.
type reportedError struct{ err error }

func (e *reportedError) Error() string { return e.err.Error() }
func (e *reportedError) Unwrap() error { return e.err }

// Main runs the toolgate command line with args (without the program name)
// and returns the process exit code: 0 on success, otherwise
// toolgate.ExitCode of the error's code (1 for invalid input and usage
// errors). It never calls os.Exit.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, log: slog.New(slog.DiscardHandler), now: clockOf(ctx)}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	if !a.ran {
		var te *toolgate.Error
		if !errors.As(err, &te) {
			err = &toolgate.Error{Code: toolgate.Invalid, Message: err.Error()}
		}
		fmt.Fprintf(stderr, "toolgate: %v\nRun 'toolgate --help' for usage.\n", err)
		return toolgate.ExitCode(toolgate.ErrorCode(err))
	}
	var rep *reportedError
	if !errors.As(err, &rep) {
		fmt.Fprintf(stderr, "toolgate: %v\n", err)
	}
	return toolgate.ExitCode(toolgate.ErrorCode(err))
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "toolgate [-c POLICY -- COMMAND [ARGS...]]",
		Short: "toolgate is a self-hosted MCP policy gateway",
		Long: `toolgate sits between AI agents and their MCP servers: it shows the agent one
merged tool list and puts every tools/call through a policy before it
reaches the server.`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(a.stderr, a.logLevel, a.logFormat)
			if err != nil {
				return err
			}
			a.log = log
			a.ran = true
			return nil
		},
	}
	f := root.PersistentFlags()
	f.StringVarP(&a.configPath, "config", "c", "toolgate.yaml", "configuration file (YAML or JSON); in a wrap, the policy file")
	f.StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&a.logFormat, "log-format", "text", "log format: text or json")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &toolgate.Error{Code: toolgate.Invalid, Message: err.Error()}
	})
	root.AddCommand(newCheckCmd(a), newVersionCmd(a), newServeCmd(a), newStdioCmd(a), newWrapCmd(a), newCallCmd(a), newApprovalsCmd(a), newDemoCmd(a), newScanCmd(a), newDirectoryCmd(a), newGrantCmd(a), newAdminCmd(a), newPolicyCmd(a), newAuditCmd(a), newInitCmd(a), newUpstreamCmd(a))
	rootWrap(a, root)
	return root
}

// newLogger builds the logger the flags ask for; it writes to w.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lv = slog.LevelDebug
	case "info":
		lv = slog.LevelInfo
	case "warn", "warning":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		return nil, toolgate.Errorf(toolgate.Invalid, "invalid --log-level %q (want debug, info, warn or error)", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, toolgate.Errorf(toolgate.Invalid, "invalid --log-format %q (want text or json)", format)
}
