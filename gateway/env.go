package gateway

import (
	"sort"
	"strings"
)

// passedEnv reports whether the variable name is one a stdio upstream gets
// from the gateway's environment without inherit_env: the ones a program
// needs to find other programs, its home and its temporary directory, and
// to encode text. None of them usually holds a secret.
func passedEnv(name string) bool {
	switch name {
	case "PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE":
		return true
	}
	return false
}

// CommandEnv returns the environment of an upstream command, as
// exec.Cmd.Env takes it. From environ, the gateway's own environment in
// os.Environ's form, it takes every variable when inherit is true, and
// otherwise only PATH, HOME, TMPDIR, LANG, LC_ALL and LC_CTYPE; then come
// the entries of env, sorted by name, each replacing an inherited variable
// of the same name. The result is never nil: a nil exec.Cmd.Env would hand
// the command the gateway's whole environment.
func CommandEnv(environ []string, env map[string]string, inherit bool) []string {
	out := make([]string, 0, len(env)+8)
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if _, set := env[name]; set {
			continue
		}
		if inherit || passedEnv(name) {
			out = append(out, kv)
		}
	}
	names := make([]string, 0, len(env))
	for name := range env {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		out = append(out, name+"="+env[name])
	}
	return out
}
