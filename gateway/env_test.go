package gateway_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
)

func TestCommandEnv(t *testing.T) {
	environ := []string{
		"PATH=/usr/bin:/bin", "HOME=/home/gw", "TMPDIR=/tmp/gw", "LANG=C.UTF-8", "LC_ALL=C", "LC_CTYPE=UTF-8",
		"AWS_SECRET_ACCESS_KEY=shh", "TOOLGATE_SECRET_TEST=xyz", "path=lowercase", "EMPTY=",
	}
	tests := []struct {
		name    string
		environ []string
		env     map[string]string
		inherit bool
		want    []string
	}{
		{"only the passed variables", environ, nil, false,
			[]string{"PATH=/usr/bin:/bin", "HOME=/home/gw", "TMPDIR=/tmp/gw", "LANG=C.UTF-8", "LC_ALL=C", "LC_CTYPE=UTF-8"}},
		{"env added sorted", environ, map[string]string{"B": "2", "A": "1", "TOOLGATE_SECRET_TEST": "given"}, false,
			[]string{"PATH=/usr/bin:/bin", "HOME=/home/gw", "TMPDIR=/tmp/gw", "LANG=C.UTF-8", "LC_ALL=C", "LC_CTYPE=UTF-8",
				"A=1", "B=2", "TOOLGATE_SECRET_TEST=given"}},
		{"env replaces a passed variable", environ, map[string]string{"PATH": "/opt/bin", "HOME": ""}, false,
			[]string{"TMPDIR=/tmp/gw", "LANG=C.UTF-8", "LC_ALL=C", "LC_CTYPE=UTF-8", "HOME=", "PATH=/opt/bin"}},
		{"inherit takes everything", environ, nil, true, environ},
		{"inherit with env replacing", environ, map[string]string{"AWS_SECRET_ACCESS_KEY": "other", "NEW": "n"}, true,
			[]string{"PATH=/usr/bin:/bin", "HOME=/home/gw", "TMPDIR=/tmp/gw", "LANG=C.UTF-8", "LC_ALL=C", "LC_CTYPE=UTF-8",
				"TOOLGATE_SECRET_TEST=xyz", "path=lowercase", "EMPTY=", "AWS_SECRET_ACCESS_KEY=other", "NEW=n"}},
		{"nothing to pass is empty, not nil", []string{"SECRET=1"}, nil, false, []string{}},
		{"no environment at all", nil, nil, true, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := gateway.CommandEnv(tt.environ, tt.env, tt.inherit)
			if got == nil {
				t.Fatal("CommandEnv returned nil, which exec.Cmd reads as the whole environment")
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CommandEnv =\n  %q\nwant\n  %q", got, tt.want)
			}
		})
	}
}

// A real stdio upstream, started by the gateway when a client connects,
// sees only the environment CommandEnv allows. The command writes its
// environment to a file and then becomes the echo server.
func TestStdioUpstreamEnvironment(t *testing.T) {
	t.Setenv("TOOLGATE_SECRET_TEST", "xyz")
	bin := testpeer.BuildEchoServer(t)
	tests := []struct {
		name    string
		env     map[string]string
		inherit bool
		want    []string // NAME=value lines that must be there
		absent  []string // names that must not
	}{
		{"clean by default", nil, false, []string{"PATH=" + os.Getenv("PATH")}, []string{"TOOLGATE_SECRET_TEST"}},
		{"env entries reach it", map[string]string{"UPSTREAM_TOKEN": "tok", "TOOLGATE_SECRET_TEST": "chosen"}, false,
			[]string{"UPSTREAM_TOKEN=tok", "TOOLGATE_SECRET_TEST=chosen"}, nil},
		{"inherit_env passes everything", nil, true, []string{"TOOLGATE_SECRET_TEST=xyz", "PATH=" + os.Getenv("PATH")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			envFile := filepath.Join(t.TempDir(), "env")
			srv := gateway.Server{Name: "echo", Env: tt.env, InheritEnv: tt.inherit,
				Command: []string{"/bin/sh", "-c", `env > "$0" && exec "$1"`, envFile, bin}}
			_, url := newGateway(t, allowAll, srv)
			cs := connect(t, ctx, url, nil)
			if names := toolNames(t, ctx, cs); !contains(names, "echo") {
				t.Fatalf("the upstream did not come up as the echo server: tools %q", names)
			}
			data, err := os.ReadFile(envFile)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			for _, w := range tt.want {
				if !slices.Contains(lines, w) {
					t.Errorf("the upstream's environment lacks %q:\n%s", w, data)
				}
			}
			for _, name := range tt.absent {
				for _, l := range lines {
					if strings.HasPrefix(l, name+"=") {
						t.Errorf("the upstream's environment has %q", l)
					}
				}
			}
		})
	}
}
