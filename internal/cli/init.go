package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/config"
	"github.com/toolgate/toolgate/internal/clientconfig"
	"github.com/toolgate/toolgate/scan"
)

// initDefaultTimeout is how long init waits for one server to start and
// list its tools: long enough for a first `npx -y` to download a package.
const initDefaultTimeout = 2 * time.Minute

// initProgressEvery is how often init says it is still waiting for a
// server.
const initProgressEvery = 10 * time.Second

type initFlags struct {
	yes         bool
	dryRun      bool
	undo        bool
	force       bool
	policiesDir string
	project     string
	timeout     time.Duration
	toolgate    string
	// progressEvery is how often a scan says it is still waiting
	// (initProgressEvery when zero).
	progressEvery time.Duration
}

func newInitCmd(a *app) *cobra.Command {
	var f initFlags
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Put the MCP servers of this machine's clients behind toolgate",
		Long: `init finds the MCP client configurations on this machine (Claude Desktop,
Claude Code, Cursor, VS Code, Windsurf, Gemini CLI, Copilot CLI; user files
and those of the project directory), lists their servers, starts each stdio
server to scan its tools, writes a recommended policy per server, shows the
change to each client file, and on confirmation rewrites each stdio entry to
run through toolgate:

  "command": "toolgate", "args": ["wrap", "-p", POLICY, "--", CMD, ARGS...]

The entry's other keys (env, ...) and the rest of the file stay as they
were; the original files are backed up first, and init --undo restores
them byte for byte. Entries already running toolgate are left alone, so a
second run changes nothing. Remote (url) entries are listed, not wrapped.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.undo {
				for _, n := range []string{"yes", "dry-run", "policies-dir", "project", "timeout", "toolgate"} {
					if cmd.Flags().Changed(n) {
						return toolgate.Errorf(toolgate.Invalid, "--undo takes no --%s", n)
					}
				}
				return a.initUndo(&f)
			}
			if f.force {
				return toolgate.Errorf(toolgate.Invalid, "--force goes with --undo")
			}
			return a.initRun(cmd.Context(), &f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&f.yes, "yes", "y", false, "rewrite every client file without asking")
	fl.BoolVar(&f.dryRun, "dry-run", false, "scan and show the changes; write nothing")
	fl.BoolVar(&f.undo, "undo", false, "restore the client files from the latest backup of init")
	fl.BoolVar(&f.force, "force", false, "with --undo: restore even files changed since init wrote them")
	fl.StringVar(&f.policiesDir, "policies-dir", "", "where the policies go, one per server (default: the user's configuration directory, toolgate/policies)")
	fl.StringVar(&f.project, "project", "", "the project directory whose .mcp.json, .cursor/, .vscode/ and .gemini/ files are read (default: the working directory)")
	fl.DurationVar(&f.timeout, "timeout", initDefaultTimeout, "time allowed to start and list each server")
	fl.StringVar(&f.toolgate, "toolgate", "", "the toolgate command the rewritten entries run (default: this program's absolute path)")
	return cmd
}

// wrapCommand is the command and arguments of a client entry that runs
// argv through toolgate under the policy file: toolgate's one-line wrap.
// Every entry init rewrites is made here.
func wrapCommand(toolgatePath, policyPath string, argv []string) (string, []string) {
	return toolgatePath, append([]string{"wrap", "-p", policyPath, "--"}, argv...)
}

// runsToolgate reports whether an entry runs toolgate's gateway already (a
// wrap, or `toolgate stdio` with a configuration): init leaves it alone.
// Other toolgate commands, such as the directory's MCP server, are servers
// like any other.
func runsToolgate(e *clientconfig.Entry) bool {
	base := strings.ToLower(e.Command)
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	if strings.TrimSuffix(base, ".exe") != "toolgate" {
		return false
	}
	for _, a := range e.Args {
		switch a {
		case "stdio", "wrap":
			return true
		case "--":
			return false
		}
	}
	return false
}

// initEntry is what init does with one server entry.
type initEntry struct {
	file   *clientconfig.File
	entry  *clientconfig.Entry
	label  string // client[/project]/server, for messages
	status string
	policy string // the policy file of an entry to wrap
	doc    []byte // the policy to write; nil when the file exists
}

func (a *app) initRun(ctx context.Context, f *initFlags) error {
	if f.timeout <= 0 {
		return toolgate.Errorf(toolgate.Invalid, "--timeout must be positive")
	}
	dirs, err := initDirs(f)
	if err != nil {
		return err
	}
	policiesDir := f.policiesDir
	if policiesDir == "" {
		policiesDir = filepath.Join(dirs.Config, "toolgate", "policies")
	}
	if policiesDir, err = filepath.Abs(policiesDir); err != nil {
		return toolgate.Errorf(toolgate.Invalid, "--policies-dir: %v", err)
	}
	tg := f.toolgate
	if tg == "" {
		if tg, err = os.Executable(); err != nil {
			return toolgate.Errorf(toolgate.Invalid, "cannot tell this program's path (give --toolgate): %v", err)
		}
	}
	if f.toolgate == "" && strings.Contains(filepath.ToSlash(tg), "/go-build") {
		fmt.Fprintf(a.stderr, "toolgate: warning: %s is a temporary build (go run?); the rewritten entries need a lasting path: give --toolgate\n", tg)
	}
	if strings.ContainsAny(tg, `/\`) {
		if tg, err = filepath.Abs(tg); err != nil {
			return toolgate.Errorf(toolgate.Invalid, "--toolgate: %v", err)
		}
	}

	files, bad := a.initRead(dirs)
	if len(files) == 0 {
		fmt.Fprintln(a.stdout, "No MCP servers found in the client files looked at:")
		for _, l := range clientconfig.Locations(dirs) {
			fmt.Fprintf(a.stdout, "  %-15s %s\n", l.Client, l.Path)
		}
		if bad > 0 {
			return toolgate.Errorf(toolgate.Invalid, "%s left untouched: could not be read", countOf(bad, "client file"))
		}
		return nil
	}

	plans := a.initPlan(ctx, f, files, policiesDir, filepath.Base(dirs.Project))
	failed := 0
	for _, p := range plans {
		if strings.HasPrefix(p.status, "not wrapped: scan failed") {
			failed++
		}
	}

	// The servers, and what happens to each.
	fmt.Fprintln(a.stdout)
	for _, file := range files {
		fmt.Fprintf(a.stdout, "%s (%s)\n", file.Path, file.Client)
		for _, p := range plans {
			if p.file == file {
				fmt.Fprintf(a.stdout, "  %-24s %-8s %s\n", entryName(p.entry), p.entry.Kind, p.status)
			}
		}
	}

	changed, err := a.initApply(f, files, plans, tg, policiesDir)
	if err != nil {
		return err
	}
	switch {
	case f.dryRun:
		fmt.Fprintln(a.stdout, "\nDry run: nothing written.")
	case changed > 0:
		fmt.Fprintf(a.stdout, "\nReview the policies in %s (Destructive and Financial tools wait for a human's approval).\n", policiesDir)
		fmt.Fprintln(a.stdout, "Restart the clients to start their servers through toolgate; `toolgate init --undo` restores the files.")
	}
	switch {
	case bad > 0:
		return toolgate.Errorf(toolgate.Invalid, "%s left untouched: could not be read", countOf(bad, "client file"))
	case failed > 0:
		return toolgate.Errorf(toolgate.Unavailable, "%s not wrapped: could not be scanned", countOf(failed, "server"))
	}
	return nil
}

// initDirs is where client files are looked for.
func initDirs(f *initFlags) (clientconfig.Dirs, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return clientconfig.Dirs{}, toolgate.Errorf(toolgate.Invalid, "no home directory: %v", err)
	}
	cfg, err := os.UserConfigDir()
	if err != nil {
		return clientconfig.Dirs{}, toolgate.Errorf(toolgate.Invalid, "no configuration directory: %v", err)
	}
	project := f.project
	if project == "" {
		if project, err = os.Getwd(); err != nil {
			return clientconfig.Dirs{}, toolgate.Errorf(toolgate.Invalid, "--project: %v", err)
		}
	}
	if project, err = filepath.Abs(project); err != nil {
		return clientconfig.Dirs{}, toolgate.Errorf(toolgate.Invalid, "--project: %v", err)
	}
	return clientconfig.Dirs{Home: home, Config: cfg, Project: project}, nil
}

// initRead reads the client files that exist and have servers, and
// reports each that cannot be read; it returns how many could not.
func (a *app) initRead(dirs clientconfig.Dirs) ([]*clientconfig.File, int) {
	var files []*clientconfig.File
	bad := 0
	for _, loc := range clientconfig.Locations(dirs) {
		file, err := clientconfig.Read(loc)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil && loc.Layout == clientconfig.VSCodeSettings && !mentionsMCP(loc.Path):
			// VS Code's settings allow comments; one without MCP
			// servers is none of init's business.
			a.log.Debug("init: skipping VS Code settings without MCP servers", "file", loc.Path, "err", err)
			continue
		case err != nil:
			var ce *clientconfig.Error
			if !errors.As(err, &ce) {
				err = fmt.Errorf("%s: %w", loc.Path, err)
			}
			fmt.Fprintf(a.stderr, "toolgate: %v (%s's file; left untouched)\n", err, loc.Client)
			bad++
			continue
		}
		if len(file.Entries) > 0 {
			files = append(files, file)
		}
	}
	return files, bad
}

func mentionsMCP(path string) bool {
	data, err := os.ReadFile(path)
	return err != nil || strings.Contains(string(data), `"mcp"`)
}

func entryName(e *clientconfig.Entry) string {
	if e.Project != "" {
		return e.Project + ": " + e.Name
	}
	return e.Name
}

// initPlan decides what to do with every entry, scanning each stdio
// server that has no policy yet.
func (a *app) initPlan(ctx context.Context, f *initFlags, files []*clientconfig.File, policiesDir, project string) []*initEntry {
	var plans []*initEntry
	used := map[string]string{} // policy file → label of the entry it is for
	scanned := map[string]initScanResult{}
	for _, file := range files {
		for i := range file.Entries {
			e := &file.Entries[i]
			p := &initEntry{file: file, entry: e, label: initLabel(file, e)}
			plans = append(plans, p)
			switch {
			case e.Kind == clientconfig.Remote:
				p.status = "remote (" + e.URL + "): not wrapped; toolgate init wraps stdio servers only so far"
				continue
			case e.Kind == clientconfig.Disabled:
				p.status = "disabled in the client: left alone"
				continue
			case e.Kind == clientconfig.Unknown:
				p.status = "neither command nor url: left alone"
				continue
			case runsToolgate(e):
				p.status = "runs toolgate already: left alone"
				continue
			}
			p.policy = initPolicyPath(policiesDir, project, file, e, used, p.label)
			if _, err := os.Stat(p.policy); err == nil {
				p.status = "wrap with the existing policy " + p.policy
				continue
			}
			key := strings.Join(append(e.Argv(), "\x00", e.Cwd, "\x00", fmt.Sprint(e.Env)), "\x00")
			res, ok := scanned[key]
			if !ok {
				res = a.initScan(ctx, f, p.label, e)
				scanned[key] = res
			}
			if res.err != nil {
				p.status = "not wrapped: scan failed: " + res.err.Error()
				p.policy = ""
				continue
			}
			p.doc = res.doc
			p.status = fmt.Sprintf("wrap with a new policy for %d tools (%s): %s", res.tools, res.risks, p.policy)
		}
	}
	return plans
}

func initLabel(file *clientconfig.File, e *clientconfig.Entry) string {
	switch {
	case e.Project != "":
		return file.Client + "/" + filepath.Base(e.Project) + "/" + e.Name
	case file.Scope == "project":
		return file.Client + "/project/" + e.Name
	}
	return file.Client + "/" + e.Name
}

// initPolicyPath names an entry's policy file: <client>-<server>.json,
// with the project's directory name for a project's server, and a number
// when another entry of this run has the name already.
func initPolicyPath(dir, project string, file *clientconfig.File, e *clientconfig.Entry, used map[string]string, label string) string {
	parts := []string{file.Client}
	switch {
	case e.Project != "":
		parts = append(parts, filepath.Base(e.Project))
	case file.Scope == "project":
		parts = append(parts, project)
	}
	parts = append(parts, e.Name)
	base := fileSlug(strings.Join(parts, "-"))
	name := base + ".json"
	for n := 2; used[name] != "" && used[name] != label; n++ {
		name = fmt.Sprintf("%s-%d.json", base, n)
	}
	used[name] = label
	return filepath.Join(dir, name)
}

// fileSlug keeps letters, digits, '.', '_' and '-', replacing the rest by
// '-'.
func fileSlug(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), ".-")
	if out == "" {
		return "server"
	}
	return out
}

type initScanResult struct {
	doc   []byte
	tools int
	risks string
	err   error
}

// initScan starts one stdio server as its client would (its env on top of
// ours), lists its tools and returns the recommended policy, saying on
// standard error what it is doing and, every initProgressEvery, that it
// is still waiting.
func (a *app) initScan(ctx context.Context, f *initFlags, label string, e *clientconfig.Entry) initScanResult {
	timeout, every := f.timeout, f.progressEvery
	if every <= 0 {
		every = initProgressEvery
	}
	fmt.Fprintf(a.stderr, "scanning %s: %s\n", label, strings.Join(e.Argv(), " "))
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(a.stderr, "  still waiting for %s after %s (a first npx or uvx run downloads the package; giving up after %s)\n",
					label, time.Since(start).Round(time.Second), timeout)
			}
		}
	}()
	sctx, cancel := context.WithTimeout(ctx, timeout)
	tools, err := scanListServer(sctx, &config.Server{Command: e.Argv(), Env: e.Env, Cwd: e.Cwd, InheritEnv: true}, nil)
	timedOut := errors.Is(sctx.Err(), context.DeadlineExceeded)
	cancel()
	close(done)
	wg.Wait()
	took := time.Since(start).Round(100 * time.Millisecond)
	if err != nil {
		if timedOut {
			err = fmt.Errorf("no tool list within %s (raise --timeout, or check that `%s` starts an MCP server): %w", timeout, strings.Join(e.Argv(), " "), err)
		}
		fmt.Fprintf(a.stderr, "  failed after %s: %v\n", took, err)
		return initScanResult{err: err}
	}
	sr := scan.Scan(e.Name, "command", tools)
	doc, err := scan.Recommend([]scan.ServerResult{sr})
	if err != nil {
		fmt.Fprintf(a.stderr, "  failed: %v\n", err)
		return initScanResult{err: err}
	}
	counts := map[scan.Risk]int{}
	for _, t := range sr.Tools {
		counts[t.Risk]++
	}
	var risks []string
	for _, r := range []scan.Risk{scan.Critical, scan.High, scan.Medium, scan.Low} {
		if counts[r] > 0 {
			risks = append(risks, fmt.Sprintf("%d %s", counts[r], r))
		}
	}
	if len(risks) == 0 {
		risks = []string{"none"}
	}
	res := initScanResult{doc: doc, tools: len(sr.Tools), risks: strings.Join(risks, ", ")}
	fmt.Fprintf(a.stderr, "  %d tools (%s) in %s\n", res.tools, res.risks, took)
	return res
}

// initApply shows each file's change and, as confirmed, writes the
// policies, backs the files up and rewrites them. It returns how many
// files it rewrote.
func (a *app) initApply(f *initFlags, files []*clientconfig.File, plans []*initEntry, tg, policiesDir string) (int, error) {
	in := bufio.NewReader(a.stdin)
	var pending []clientconfig.Pending
	var docs []*initEntry
	for _, file := range files {
		var changes []clientconfig.Change
		var mine []*initEntry
		for _, p := range plans {
			if p.file != file || p.policy == "" {
				continue
			}
			cmd, args := wrapCommand(tg, p.policy, p.entry.Argv())
			changes = append(changes, clientconfig.Change{Entry: p.entry, Command: cmd, Args: args})
			mine = append(mine, p)
		}
		if len(changes) == 0 {
			continue
		}
		data, err := file.Rewrite(changes)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", file.Path, err)
		}
		fmt.Fprintf(a.stdout, "\n%s", clientconfig.Diff(file.Path, file.Data, data))
		if f.dryRun {
			continue
		}
		if !f.yes && !a.initConfirm(in, fmt.Sprintf("Rewrite %s (%s through toolgate)? [y/N] ", file.Path, countOf(len(changes), "server"))) {
			fmt.Fprintf(a.stdout, "left %s as it was\n", file.Path)
			continue
		}
		pending = append(pending, clientconfig.Pending{Path: file.Path, Old: file.Data, New: data, Mode: file.Mode})
		docs = append(docs, mine...)
	}
	if len(pending) == 0 {
		if !f.dryRun {
			fmt.Fprintln(a.stdout, "\nNothing to change.")
		}
		return 0, nil
	}
	// The policies first, so that no rewritten entry names a missing one.
	for _, p := range docs {
		if p.doc == nil {
			continue
		}
		if err := os.MkdirAll(policiesDir, 0o700); err != nil {
			return 0, toolgate.Errorf(toolgate.Invalid, "--policies-dir: %v", err)
		}
		if err := clientconfig.WriteFile(p.policy, p.doc, 0o600); err != nil {
			return 0, toolgate.Errorf(toolgate.Invalid, "write policy: %v", err)
		}
		fmt.Fprintf(a.stdout, "wrote policy %s\n", p.policy)
	}
	root, err := initBackupRoot()
	if err != nil {
		return 0, err
	}
	dir, err := clientconfig.Apply(root, time.Now(), pending)
	if err != nil {
		if dir != "" {
			return 0, toolgate.Errorf(toolgate.Internal, "%v (the original files are in %s; `toolgate init --undo` restores them)", err, dir)
		}
		return 0, toolgate.Errorf(toolgate.Conflict, "%v", err)
	}
	fmt.Fprintf(a.stdout, "backed up the original files to %s\n", dir)
	for _, p := range pending {
		fmt.Fprintf(a.stdout, "rewrote %s\n", p.Path)
	}
	return len(pending), nil
}

// initConfirm asks on standard error and reads a line; only y or yes
// (any case) is yes, and the end of the input is no.
func (a *app) initConfirm(in *bufio.Reader, question string) bool {
	fmt.Fprint(a.stderr, question)
	line, err := in.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false
	}
	if err != nil && line == "" {
		fmt.Fprintln(a.stderr)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

// initBackupRoot is where init keeps its backups: init-backups in the
// user's state directory.
func initBackupRoot() (string, error) {
	dir, err := defaultStateDir()
	if err != nil {
		return "", toolgate.Errorf(toolgate.Invalid, "no home directory for the backups: %v", err)
	}
	return filepath.Join(dir, "init-backups"), nil
}

func (a *app) initUndo(f *initFlags) error {
	root, err := initBackupRoot()
	if err != nil {
		return err
	}
	dir, restored, err := clientconfig.Undo(root, time.Now(), f.force)
	for _, r := range restored {
		if r.Already {
			fmt.Fprintf(a.stdout, "unchanged %s (already as backed up)\n", r.Path)
		} else {
			fmt.Fprintf(a.stdout, "restored %s\n", r.Path)
		}
	}
	switch {
	case errors.Is(err, clientconfig.ErrNoBackup):
		return toolgate.Errorf(toolgate.NotFound, "nothing to undo: %v", err)
	case err != nil:
		return toolgate.Errorf(toolgate.Conflict, "%v", err)
	}
	fmt.Fprintf(a.stdout, "from the backup %s (the policies stay where init wrote them)\n", dir)
	return nil
}

// countOf is "1 server", "2 servers".
func countOf(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
