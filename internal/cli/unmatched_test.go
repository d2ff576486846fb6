package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate/internal/testpeer"
)

// TestCheckLive runs check --live against the echo server (a go-sdk
// server listing echo, add, UpdateUser, DeleteUser...): a misspelt name in
// a policy file or an inline policy is reported where it is written, with
// the tool it meant, and check exits 1; a clean policy exits 0; a server
// that cannot start exits 7.
func TestCheckLive(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the echo server")
	}
	bin := testpeer.BuildEchoServer(t)
	server := fmt.Sprintf("servers:\n  echo:\n    command: [%q]\n", bin)
	tests := []struct {
		name   string
		files  map[string]string
		code   int
		stderr []string // each must appear
		stdout string
	}{
		{"a misspelt rule in a file", map[string]string{
			"toolgate.yaml": "auth: none\n" + server + "policies:\n  default: policy.yaml\n",
			"policy.yaml":   "version: \"1\"\ndefault: deny\nhide: [DeleteUser]\ntools:\n  echo: {}\n  UpdateUsr:\n    action: deny\n",
		}, 1, []string{`policy.yaml:6:3: /tools/UpdateUsr: tool "UpdateUsr" matches no tool the servers list (did you mean "UpdateUser"?)`}, ""},
		{"Intercept's format, a hide and a pattern", map[string]string{
			"toolgate.yaml": "auth: none\n" + server + "policies:\n  default: policy.yaml\n",
			"policy.yaml":   "version: \"1\"\nhide: [DeleteUsr]\ntools:\n  UpdateUsr:\n    rules: []\n",
		}, 1, []string{
			`policy.yaml:2:8: /hide/0: tool "DeleteUsr" matches no tool the servers list (did you mean "DeleteUser"?)`,
			`policy.yaml:4:3: /tools/UpdateUsr: tool "UpdateUsr" matches no tool the servers list (did you mean "UpdateUser"?)`,
		}, ""},
		{"an inline policy", map[string]string{
			"toolgate.yaml": "auth: none\n" + server + "policies:\n  default:\n    version: \"1\"\n    default: allow\n    tools:\n      Ban*: {action: deny}\n",
		}, 1, []string{`toolgate.yaml:10:7: policies.default/tools/Ban*: pattern "Ban*" matches no tool the servers list`}, ""},
		{"every name matches", map[string]string{
			"toolgate.yaml": "auth: none\n" + server + "policies:\n  default: policy.yaml\n",
			"policy.yaml":   "version: \"1\"\ndefault: deny\nhide: [DeleteUser]\ntools:\n  echo: {}\n  Update*: {}\n  \"@destructive\": {action: deny}\n",
		}, 0, nil, "ok: every tool the policies name is one of the"},
		{"a server that cannot start", map[string]string{
			"toolgate.yaml": "auth: none\nservers:\n  gone:\n    command: [/nonexistent/server]\npolicies:\n  default: {version: \"1\", default: allow}\n",
		}, 7, []string{"servers.gone: could not list its tools"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			code, stdout, stderr := run(t, "check", "--live", "--timeout", "30s", "--config", filepath.Join(dir, "toolgate.yaml"))
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(stderr, want) || strings.Contains(want, ".yaml:") && !strings.Contains(stderr, dir+"/"+want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if !strings.Contains(stdout, tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, stdout)
			}
		})
	}
	// Without --live the same typo passes: nothing is started.
	dir := writeFiles(t, tests[0].files)
	if code, _, stderr := run(t, "check", "--config", filepath.Join(dir, "toolgate.yaml")); code != 0 {
		t.Fatalf("check without --live: exit %d: %s", code, stderr)
	}
	if code, _, stderr := run(t, "check", "--live", filepath.Join(dir, "policy.yaml")); code != 1 || !strings.Contains(stderr, "takes no policy files") {
		t.Fatalf("check --live FILE: exit %d: %s", code, stderr)
	}
}

// TestServeWarnsUnmatched runs serve with a policy naming UpdateUsr in
// front of the echo server: once the server has listed its tools, the log
// names the rule and the tool it meant, once.
func TestServeWarnsUnmatched(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the echo server")
	}
	bin := testpeer.BuildEchoServer(t)
	addr := freeAddr(t)
	dir := writeFiles(t, map[string]string{
		"toolgate.yaml": fmt.Sprintf("listen: %s\nadmin_listen: off\nauth: none\nservers:\n  echo:\n    command: [%q]\npolicies:\n  default: policy.json\n", addr, bin),
		"policy.json":   `{"version":"1","default":"allow","tools":{"UpdateUsr":{"action":"deny"},"echo":{}}}`,
	})
	out, stop := startServe(t, filepath.Join(dir, "toolgate.yaml"), addr)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "upstream echo ready") {
		if time.Now().After(deadline) {
			_, errOut := stop()
			t.Fatalf("the echo server never became ready:\n%s\n%s", out.String(), errOut)
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, errOut := stop()
	if code != 0 {
		t.Fatalf("serve exited %d: %s", code, errOut)
	}
	var warnings []string
	for _, line := range strings.Split(errOut, "\n") {
		if strings.Contains(line, "a policy names a tool that no server lists") {
			warnings = append(warnings, line)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "tool=UpdateUsr") || !strings.Contains(warnings[0], "did_you_mean=UpdateUser") ||
		!strings.Contains(warnings[0], "pointer=/tools/UpdateUsr") || !strings.Contains(warnings[0], "level=WARN") {
		t.Fatalf("want one warning naming UpdateUsr and UpdateUser, got %q\n%s", warnings, errOut)
	}
}

// TestWrapPassesEnv: the wrap hands its command the environment the
// client started toolgate with (the env of the client's server entry),
// unlike a configured server, which gets a clean one unless inherit_env.
func TestWrapPassesEnv(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs binaries")
	}
	bin := testpeer.BuildToolgate(t)
	echo := testpeer.BuildEchoServer(t)
	envFile := filepath.Join(t.TempDir(), "env")
	cmd := exec.Command(bin, "wrap", "--state-dir", t.TempDir(), "--", "/bin/sh", "-c", `env > "$0" && exec "$1"`, envFile, echo)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "GITHUB_PERSONAL_ACCESS_TOKEN=entry-env-value")
	cs := connectCommand(t, cmd)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := cs.ListTools(ctx, nil); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(strings.Split(string(data), "\n"), "GITHUB_PERSONAL_ACCESS_TOKEN=entry-env-value") {
		t.Fatalf("the wrapped server did not get the entry's variable:\n%s", data)
	}
}
