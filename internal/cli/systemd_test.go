package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/toolgate/toolgate/config"
	"github.com/toolgate/toolgate/internal/testpeer"
)

// The paths the deployment guide installs to, which the test maps into a
// temporary directory.
const (
	unitBinary = "/usr/local/bin/toolgate"
	unitConfig = "/etc/toolgate/toolgate.yaml"
)

// serviceUID is the unprivileged user the unit's command runs as (nobody):
// a stand-in for the user DynamicUser=yes allocates.
const serviceUID = 65534

// systemdUnit parses the [Service] section of a unit file: one value per
// key (the last one), and no line continuations, which the guide's unit
// does not use.
func systemdUnit(t *testing.T, text string) map[string]string {
	t.Helper()
	service := map[string]string{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
		case strings.HasSuffix(line, `\`):
			t.Fatalf("unit line %q continues on the next line: the test does not read that", line)
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("unit line %q is not key=value", line)
			}
			if section == "Service" {
				service[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	return service
}

var plainArgRE = regexp.MustCompile(`^[A-Za-z0-9_./:=-]+$`)

// execStart splits an ExecStart= line into its words. It accepts only what
// needs no systemd quoting or expansion rules (no quotes, $, % or
// prefixes such as "-" or "+"), and fails the test on anything else.
func execStart(t *testing.T, line string) []string {
	t.Helper()
	argv := strings.Fields(line)
	for _, a := range argv {
		if !plainArgRE.MatchString(a) {
			t.Fatalf("ExecStart=%s: the word %q needs systemd's quoting rules, which the test does not implement", line, a)
		}
	}
	if len(argv) == 0 || !path.IsAbs(argv[0]) {
		t.Fatalf("ExecStart=%s: want an absolute path to the binary", line)
	}
	return argv
}

// docsSystemd returns the unit's [Service] section and the configuration
// of docs/deployment.md, after checking that they agree with each other:
// the store lies in the state directory the unit asks systemd for, the
// working directory is that directory, and ExecStart runs the installed
// binary on the configuration the guide writes.
func docsSystemd(t *testing.T) (service map[string]string, argv []string, stateDir, cfgText string) {
	t.Helper()
	doc := readFile(t, "../../docs/deployment.md")
	service = systemdUnit(t, docBlock(t, doc, "systemd-unit"))
	cfgText = docBlock(t, doc, "systemd-config")

	for key, want := range map[string]string{"DynamicUser": "yes", "StateDirectory": "toolgate", "StateDirectoryMode": "0700"} {
		if service[key] != want {
			t.Errorf("the unit's %s=%q, want %q", key, service[key], want)
		}
	}
	stateDir = "/var/lib/" + service["StateDirectory"]
	if wd := service["WorkingDirectory"]; wd != stateDir {
		t.Errorf("WorkingDirectory=%q, want the state directory %s", wd, stateDir)
	}
	argv = execStart(t, service["ExecStart"])
	if argv[0] != unitBinary || len(argv) < 2 || argv[1] != "serve" {
		t.Errorf("ExecStart=%s: want %s serve ...", service["ExecStart"], unitBinary)
	}
	var cfgArg string
	for i, a := range argv {
		if a == "--config" && i+1 < len(argv) {
			cfgArg = argv[i+1]
		}
	}
	if cfgArg != unitConfig {
		t.Errorf("ExecStart=%s: want --config %s", service["ExecStart"], unitConfig)
	}
	cfg, err := config.Parse([]byte(cfgText), unitConfig)
	if err != nil {
		t.Fatalf("the guide's configuration: %v", err)
	}
	if cfg.Auth != "grants" {
		t.Errorf("the guide's configuration has auth: %s, want grants", cfg.Auth)
	}
	if store := cfg.StorePath(); filepath.Dir(store) != stateDir {
		t.Errorf("the guide's store is %s, outside the state directory %s: the service could not create it", store, stateDir)
	}
	return service, argv, stateDir, cfgText
}

// The systemd unit and the configuration of docs/deployment.md, run as
// written but for the paths, which move into a temporary directory: the
// unit's command, as an unprivileged user (what DynamicUser=yes makes it),
// in the environment and working directory systemd gives it, serves, and
// creates its store with mode 0600 in the state directory systemd would
// have made for that user. When the directory is missing or not writable
// it fails at once, saying why.
//
// Changing to another user needs root and setpriv (util-linux); the test
// skips without them, after checking the unit and the configuration.
func TestDocsSystemdUnit(t *testing.T) {
	service, argv, stateDir, cfgText := docsSystemd(t)
	if t.Failed() {
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("running the unit's command as another user needs root; ran only the checks of the unit and configuration")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("running the unit's command as another user needs setpriv (util-linux), not found; ran only the checks of the unit and configuration")
	}
	bin := testpeer.BuildToolgate(t)

	// The temporary root: <root>/etc/toolgate, <root>/var/lib/toolgate. Every
	// directory above them is searchable by the service's user, as / is.
	root := t.TempDir()
	for dir := root; dir != filepath.Dir(dir) && dir != os.TempDir(); dir = filepath.Dir(dir) {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mapped := func(p string) string { return filepath.Join(root, filepath.FromSlash(p)) }
	addr, adminAddr := freeAddr(t), freeAddr(t)
	written := cfgText
	for from, to := range map[string]string{stateDir: mapped(stateDir), "127.0.0.1:8080": addr, "127.0.0.1:8081": adminAddr} {
		if !strings.Contains(written, from) {
			t.Fatalf("the guide's configuration has no %s to move", from)
		}
		written = strings.ReplaceAll(written, from, to)
	}
	if err := os.MkdirAll(filepath.Dir(mapped(unitConfig)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mapped(unitConfig), []byte(written), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(mapped(stateDir)), 0o755); err != nil {
		t.Fatal(err)
	}
	args := append([]string(nil), argv[1:]...)
	for i, a := range args {
		if a == unitConfig {
			args[i] = mapped(unitConfig)
		}
	}

	// run starts argv as systemd would: as the service's user and group with
	// no supplementary groups, umask 0022, in the working directory (entered
	// as that user), with the environment of a DynamicUser service.
	run := func(ctx context.Context, wd string, argv ...string) *exec.Cmd {
		sh := `cd -- "$1" && umask 0022 && shift && exec "$@"`
		cmd := exec.CommandContext(ctx, setpriv, append([]string{
			fmt.Sprint("--reuid=", serviceUID), fmt.Sprint("--regid=", serviceUID), "--clear-groups", "--",
			"/bin/sh", "-c", sh, "sh", wd}, argv...)...)
		cmd.Env = []string{
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin",
			"LANG=C.UTF-8",
			"HOME=/",
			"USER=toolgate",
			"LOGNAME=toolgate",
			"SHELL=/usr/sbin/nologin",
			"INVOCATION_ID=0123456789abcdef0123456789abcdef",
			"STATE_DIRECTORY=" + mapped(stateDir),
		}
		cmd.Dir = "/"
		return cmd
	}

	t.Run("serves", func(t *testing.T) {
		state := mapped(stateDir)
		t.Cleanup(func() { os.RemoveAll(state) })
		if err := os.Mkdir(state, 0o700); err != nil { // StateDirectoryMode=0700
			t.Fatal(err)
		}
		if err := os.Chown(state, serviceUID, serviceUID); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		wd := mapped(service["WorkingDirectory"])
		cmd := run(ctx, wd, append([]string{bin}, args...)...)
		var stderr testpeer.SyncBuffer
		cmd.Stdout, cmd.Stderr = &stderr, &stderr
		proc := startProcess(t, cmd)
		defer proc.stop()
		waitHealthy(t, addr, proc, stderr.String)

		// The store: in the state directory, the user's, mode 0600.
		for _, name := range []string{"toolgate.db", "toolgate.db-wal", "toolgate.db-shm"} {
			fi, err := os.Stat(filepath.Join(state, name))
			if name != "toolgate.db" && errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				t.Fatalf("the store: %v\n%s", err, stderr.String())
			}
			st := fi.Sys().(*syscall.Stat_t)
			if fi.Mode().Perm() != 0o600 || st.Uid != serviceUID || st.Gid != serviceUID {
				t.Errorf("%s: mode %v, owner %d:%d; want 0600, %d:%d", name, fi.Mode().Perm(), st.Uid, st.Gid, serviceUID, serviceUID)
			}
		}

		// A grant made as the service's user, and an MCP session with it.
		var out, errOut bytes.Buffer
		create := run(ctx, wd, bin, "grant", "create", "--config", mapped(unitConfig), "--subject", "ops@example.com", "--policy", "support")
		create.Stdout, create.Stderr = &out, &errOut
		if err := create.Run(); err != nil {
			t.Fatalf("grant create as the service's user: %v\n%s%s", err, out.String(), errOut.String())
		}
		m := issuedRE.FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("no token in %q", out.String())
		}
		token := m[2]
		for _, tc := range []struct {
			token string
			want  int
		}{{"", http.StatusUnauthorized}, {token, http.StatusOK}} {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/mcp", strings.NewReader(
				`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("initialize with token %v: %d, want %d\n%s", tc.token != "", resp.StatusCode, tc.want, stderr.String())
			}
		}

		// systemctl stop: SIGTERM, and a clean exit.
		if err := proc.stop(); err != nil {
			t.Errorf("serve on SIGTERM: %v\n%s", err, stderr.String())
		}
	})

	for _, tc := range []struct {
		name  string
		setup func(state string) error
		want  string
	}{
		{"state directory not writable", func(state string) error { return os.Mkdir(state, 0o755) }, "permission denied"},
		{"state directory missing", func(string) error { return nil }, "no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := mapped(stateDir)
			t.Cleanup(func() { os.RemoveAll(state) })
			if err := tc.setup(state); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// Without its working directory, systemd would not start the
			// command at all; what is tested here is toolgate's answer.
			cmd := run(ctx, mapped("/"), append([]string{bin}, args...)...)
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stderr, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || ctx.Err() != nil {
				t.Fatalf("want serve to exit with an error at once; got %v\n%s", err, stderr.String())
			}
			store := filepath.Join(state, "toolgate.db")
			if msg := stderr.String(); !strings.Contains(msg, "opening the store "+store) || !strings.Contains(msg, tc.want) {
				t.Errorf("want the error to name the store %s and say %q; got:\n%s", store, tc.want, msg)
			}
		})
	}
}
