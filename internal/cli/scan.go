package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/config"
	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/upstreamauth"
	"github.com/toolgate/toolgate/policy"
	"github.com/toolgate/toolgate/scan"
)

type scanFlags struct {
	server    string
	command   string
	url       string
	headers   []string
	file      string
	name      string
	output    string
	policyOut string
	policyFmt string
	diff      string
	pin       string
	checkPins string
	timeout   time.Duration
}

func newScanCmd(a *app) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Classify the tools of MCP servers by risk and write a recommended policy",
		Long: `scan lists the tools of MCP servers and classifies each one: category (Read,
Write, Destructive, Financial), risk (low to critical) and the signals behind
them, with their evidence. docs/scanner.md describes the rules.

Which servers: every server of the configuration (--config), one of them
(--server NAME), a server given on the spot (--command "node server.js" or
--url http://host/mcp), or a saved tools/list result (--file tools.json).

--policy-out writes a recommended policy (--policy-format json or yaml, for
Intercept); --diff shows which tools an
existing policy leaves to its default; --pin records each tool's definition
hash and --check-pins reports tools whose definition changed since (exit 5).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.scan(cmd.Context(), &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.server, "server", "", "scan only this server of the configuration")
	fl.StringVar(&f.command, "command", "", `scan a stdio server started with this command line ("node server.js --flag"), with only PATH, HOME, TMPDIR and the locale from the environment`)
	fl.StringVar(&f.url, "url", "", "scan a streamable-HTTP server at this URL")
	fl.StringArrayVar(&f.headers, "header", nil, `HTTP header for --url, "Name: value" (repeatable)`)
	fl.StringVar(&f.file, "file", "", `scan a saved tools/list result ({"tools": [...]}, a JSON-RPC response, or an array)`)
	fl.StringVar(&f.name, "name", "", "server name for --command, --url or --file (default: command, url, or the file's \"server\")")
	fl.StringVarP(&f.output, "output", "o", "table", "output format: table, json or markdown")
	fl.StringVar(&f.policyOut, "policy-out", "", "write the recommended policy to this file")
	fl.StringVar(&f.policyFmt, "policy-format", "", `format of --policy-out: json (toolgate's) or yaml (Intercept's; what it cannot express is listed in comments); default: yaml for a .yaml or .yml file, json otherwise`)
	fl.StringVar(&f.diff, "diff", "", "show which tools this existing policy file leaves uncovered")
	fl.StringVar(&f.pin, "pin", "", "record the tools' definition pins in this file")
	fl.StringVar(&f.checkPins, "check-pins", "", "compare the tools with the pins in this file; exit 5 when any changed")
	fl.DurationVar(&f.timeout, "timeout", 0, "time allowed to start and list each server (default: the configuration's upstream_timeout, 30s)")
	return cmd
}

// target is one server to scan.
type scanTarget struct {
	name, source, prefix string
	server               *config.Server
	file                 string
	// creds are the stored OAuth tokens of a configured server with
	// oauth settings; nil otherwise.
	creds upstreamauth.Credentials
}

func (a *app) scan(ctx context.Context, f *scanFlags) error {
	switch f.output {
	case "table", "json", "markdown", "md":
	default:
		return toolgate.Errorf(toolgate.Invalid, "invalid --output %q (want table, json or markdown)", f.output)
	}
	given := 0
	for _, s := range []string{f.command, f.url, f.file} {
		if s != "" {
			given++
		}
	}
	if given > 1 || given == 1 && f.server != "" {
		return toolgate.Errorf(toolgate.Invalid, "give one of --server, --command, --url or --file")
	}
	if len(f.headers) > 0 && f.url == "" {
		return toolgate.Errorf(toolgate.Invalid, "--header needs --url")
	}
	targets, timeout, closeTokens, err := a.scanTargets(ctx, f)
	if err != nil {
		return err
	}
	defer closeTokens()
	if f.timeout > 0 {
		timeout = f.timeout
	}
	var pins *scan.Pins
	if f.checkPins != "" {
		if pins, err = scan.LoadPins(f.checkPins); err != nil {
			return toolgate.Errorf(toolgate.Invalid, "%v", err)
		}
	}
	var existing *policy.Engine
	if f.diff != "" {
		if existing, err = policy.LoadFile(f.diff); err != nil {
			return toolgate.Errorf(toolgate.Invalid, "--diff: %v", err)
		}
	}

	newPins := scan.NewPins()
	var results []scan.ServerResult
	var listed [][]scan.Tool // each result's definitions, for scan.CrossCheck
	failed := 0
	for _, tg := range targets {
		tools, items, name, err := a.listTarget(ctx, tg, timeout)
		if name != "" {
			tg.name = name
		}
		if err != nil {
			failed++
			a.log.Warn("scan: server not listed", "server", tg.name, "err", err)
			sr := scan.Scan(tg.name, tg.source, nil)
			sr.Prefix, sr.Error = tg.prefix, err.Error()
			results = append(results, sr)
			listed = append(listed, nil)
			continue
		}
		sr := scan.Scan(tg.name, tg.source, tools)
		sr.Prefix, sr.Items = tg.prefix, items
		if pins != nil {
			sr.Pins = pins.Check(tg.name, tools)
		}
		if existing != nil {
			sr.Coverage = scan.CheckCoverage(existing, &sr)
		}
		newPins.Add(tg.name, tools...)
		results = append(results, sr)
		listed = append(listed, tools)
	}
	scan.CrossCheck(results, listed)
	res := scan.NewResult(results)

	if f.policyOut != "" {
		doc, err := recommendIn(results, f.policyFmt, f.policyOut)
		if err != nil {
			return fmt.Errorf("scan: %w", err)
		}
		if err := os.WriteFile(f.policyOut, doc, 0o644); err != nil {
			return toolgate.Errorf(toolgate.Invalid, "--policy-out: %v", err)
		}
	}
	if f.pin != "" {
		rec, err := a.pinRecorder(ctx, f.pin)
		if err != nil {
			return err
		}
		defer rec.close()
		var old *scan.Pins
		if rec != nil {
			old, _ = scan.LoadPins(f.pin) // none, or unreadable: every pin is new
		}
		if err := scan.SavePins(f.pin, newPins); err != nil {
			return toolgate.Errorf(toolgate.Invalid, "--pin: %v", err)
		}
		recordPins(ctx, rec, old, newPins)
	}
	switch f.output {
	case "json":
		err = scan.WriteJSON(a.stdout, res)
	case "markdown", "md":
		err = scan.WriteMarkdown(a.stdout, res)
	default:
		err = scan.WriteTable(a.stdout, res, scanIsTerminal(a.stdout))
	}
	if err != nil {
		return err
	}
	if f.diff != "" && f.output == "table" {
		fmt.Fprintf(a.stdout, "%d of %d tools not covered by %s\n", res.Summary.Uncovered, res.Summary.Tools, f.diff)
	}
	switch {
	case failed > 0:
		return &reportedError{toolgate.Errorf(toolgate.Unavailable, "%d servers could not be listed", failed)}
	case pins != nil && res.Summary.Changed > 0:
		return &reportedError{toolgate.Errorf(toolgate.Conflict, "%d tools differ from their pins", res.Summary.Changed)}
	}
	return nil
}

// pinRecorder returns the audit log to record accepted pins in when path
// is the configuration's pins file, the one the gateway checks tools
// against: writing it accepts the definitions it holds. It returns nil
// for any other file, or when no configuration can be read (scan needs
// none with --file, --command or --url).
func (a *app) pinRecorder(ctx context.Context, path string) (*changeRecorder, error) {
	cfg, err := a.loadConfig()
	if err != nil || cfg.PinsPath() == "" || !samePath(cfg.PinsPath(), path) {
		return nil, nil
	}
	return a.openChangeRecorder(ctx, cfg)
}

// samePath reports whether a and b name the same file.
func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	if err1 == nil && err2 == nil && aa == bb {
		return true
	}
	ia, err1 := os.Stat(a)
	ib, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(ia, ib)
}

// recordPins records pin.accepted for every tool whose pin in pins is new
// or differs from its pin in old: target the tool's name on its server,
// detail its server, the new definition's hash and the one it replaced.
func recordPins(ctx context.Context, rec *changeRecorder, old, pins *scan.Pins) {
	if rec == nil {
		return
	}
	for _, server := range slices.Sorted(maps.Keys(pins.Servers)) {
		tools := pins.Servers[server]
		for _, name := range slices.Sorted(maps.Keys(tools)) {
			prev := "none"
			if pt, ok := old.Lookup(server, name); ok {
				if pt.Pin == tools[name].Pin {
					continue
				}
				prev = pt.Pin
			}
			rec.record(ctx, audit.ActionPinAccepted, name, "server="+server+" pin="+tools[name].Pin+" previous="+prev)
		}
	}
}

// scanTargets turns the flags into servers to scan, with the timeout of
// the configuration when one is read.
func (a *app) scanTargets(ctx context.Context, f *scanFlags) (targets []scanTarget, timeout time.Duration, closeTokens func(), err error) {
	noop := func() {}
	timeout = time.Duration(config.DefaultUpstreamTimeout)
	switch {
	case f.file != "":
		return []scanTarget{{name: f.name, source: "file", file: f.file}}, timeout, noop, nil
	case f.command != "":
		argv, err := scanSplitCommand(f.command)
		if err != nil {
			return nil, 0, nil, toolgate.Errorf(toolgate.Invalid, "--command: %v", err)
		}
		return []scanTarget{{name: scanOr(f.name, "command"), source: "command", server: &config.Server{Command: argv}}}, timeout, noop, nil
	case f.url != "":
		h := map[string]string{}
		for _, kv := range f.headers {
			k, v, ok := strings.Cut(kv, ":")
			if !ok || strings.TrimSpace(k) == "" {
				return nil, 0, nil, toolgate.Errorf(toolgate.Invalid, "--header %q: want \"Name: value\"", kv)
			}
			h[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
		return []scanTarget{{name: scanOr(f.name, "url"), source: "url", server: &config.Server{URL: f.url, Headers: h}}}, timeout, noop, nil
	}
	c, err := config.Load(a.configPath)
	if err != nil {
		return nil, 0, nil, toolgate.Errorf(toolgate.Invalid, "%v", err)
	}
	if c.UpstreamTimeout > 0 {
		timeout = time.Duration(c.UpstreamTimeout)
	}
	var out []scanTarget
	for _, name := range c.ServerNames {
		if f.server != "" && name != f.server {
			continue
		}
		out = append(out, scanTarget{name: name, source: "config", prefix: c.ToolPrefix(name), server: c.Servers[name]})
	}
	if f.server != "" && len(out) == 0 {
		return nil, 0, nil, toolgate.Errorf(toolgate.NotFound, "no server %q in %s", f.server, c.File)
	}
	if len(out) == 0 {
		return nil, 0, nil, toolgate.Errorf(toolgate.Invalid, "%s names no servers; give --command, --url or --file", c.File)
	}
	closeTokens = noop
	if slices.ContainsFunc(out, func(tg scanTarget) bool { return tg.server.OAuth != nil }) {
		// Servers behind OAuth are listed with their stored tokens.
		creds, closeCreds, err := a.upstreamCredentials(ctx, c)
		if err != nil {
			return nil, 0, nil, err
		}
		for i := range out {
			out[i].creds = creds[out[i].name]
		}
		closeTokens = closeCreds
	}
	return out, timeout, closeTokens, nil
}

func scanOr(s, d string) string {
	if s != "" {
		return s
	}
	return d
}

// listTarget returns a target's tools, and the server name a file gives.
func (a *app) listTarget(ctx context.Context, tg scanTarget, timeout time.Duration) ([]scan.Tool, []scan.ItemReport, string, error) {
	if tg.file != "" {
		data, err := os.ReadFile(tg.file)
		if err != nil {
			return nil, nil, "", fmt.Errorf("read tool list: %w", err)
		}
		list, err := scan.ParseToolList(data)
		if err != nil {
			return nil, nil, scanOr(tg.name, tg.file), fmt.Errorf("%s: %w", tg.file, err)
		}
		return list.Tools, nil, scanOr(tg.name, scanOr(list.Server, "file")), nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tools, items, err := scanList(ctx, tg.server, tg.creds, tg.name, true)
	return tools, items, "", err
}

// scanListServer connects to an MCP server with the go-sdk client and lists
// every page of its tools.
// creds, when not nil, are the server's OAuth tokens.
func scanListServer(ctx context.Context, s *config.Server, creds upstreamauth.Credentials) ([]scan.Tool, error) {
	tools, _, err := scanList(ctx, s, creds, "", false)
	return tools, err
}

// scanList lists a server's tools and, with items, checks its
// instructions, prompts and resources for poisoning (scanItems).
func scanList(ctx context.Context, s *config.Server, creds upstreamauth.Credentials, name string, items bool) ([]scan.Tool, []scan.ItemReport, error) {
	var transport mcp.Transport
	var stderr bytes.Buffer
	switch {
	case len(s.Command) > 0:
		cmd := exec.Command(s.Command[0], s.Command[1:]...)
		cmd.Dir = s.Cwd
		cmd.Env = gateway.CommandEnv(os.Environ(), s.Env, s.InheritEnv)
		cmd.Stderr = &scanLimitedWriter{w: &stderr, n: 4096}
		transport = &mcp.CommandTransport{Command: cmd, TerminateDuration: 2 * time.Second}
	case s.URL != "":
		var base http.RoundTripper = http.DefaultTransport
		if creds != nil {
			base = &upstreamauth.Transport{ServerURL: s.URL, Credentials: creds}
		}
		transport = &mcp.StreamableClientTransport{Endpoint: s.URL, MaxRetries: -1, DisableStandaloneSSE: true,
			HTTPClient: &http.Client{Transport: scanHeaderTransport{headers: s.Headers, base: base}}}
	default:
		return nil, nil, errors.New("server has neither command nor url")
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "toolgate-scan", Version: shortVersion()}, nil)
	cs, err := client.Connect(ctx, transport, nil)
	if err != nil {
		return nil, nil, scanWithStderr(fmt.Errorf("connect: %w", err), &stderr)
	}
	defer cs.Close()
	var tools []scan.Tool
	for t, err := range cs.Tools(ctx, nil) {
		if err != nil {
			return nil, nil, scanWithStderr(fmt.Errorf("tools/list: %w", err), &stderr)
		}
		raw, err := json.Marshal(t)
		if err != nil {
			return nil, nil, fmt.Errorf("tools/list: encode %q: %w", t.Name, err)
		}
		var st scan.Tool
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, nil, fmt.Errorf("tools/list: decode %q: %w", t.Name, err)
		}
		tools = append(tools, st)
	}
	if !items {
		return tools, nil, nil
	}
	return tools, scanItems(ctx, cs, name), nil
}

func scanWithStderr(err error, stderr *bytes.Buffer) error {
	if s := strings.TrimSpace(stderr.String()); s != "" {
		return fmt.Errorf("%w (server stderr: %s)", err, s)
	}
	return err
}

type scanLimitedWriter struct {
	w io.Writer
	n int
}

func (l *scanLimitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		q := p[:min(len(p), l.n)]
		l.n -= len(q)
		_, _ = l.w.Write(q)
	}
	return len(p), nil
}

// scanHeaderTransport adds the configured headers to every request.
type scanHeaderTransport struct {
	headers map[string]string
	base    http.RoundTripper
}

func (t scanHeaderTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if len(t.headers) > 0 {
		r = r.Clone(r.Context())
		for k, v := range t.headers {
			r.Header.Set(k, v)
		}
	}
	return t.base.RoundTrip(r)
}

// scanIsTerminal reports whether w is a terminal (for colour), unless NO_COLOR
// is set.
func scanIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// scanSplitCommand splits a command line into words the way a POSIX shell
// would for plain words, 'single' and "double" quotes and backslashes
// (no variables, globs or operators).
func scanSplitCommand(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated ' quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New(`unterminated " quote`)
			}
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	if len(out) == 0 {
		return nil, errors.New("empty command")
	}
	return out, nil
}
