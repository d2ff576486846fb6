package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/toolgate/toolgate/internal/outbound"
	"github.com/toolgate/toolgate/internal/posdoc"
	"github.com/toolgate/toolgate/internal/textdist"
)

// maxNodes bounds the work of walking a document, so that YAML aliases
// cannot expand a small file into a huge one.
const maxNodes = posdoc.MaxNodes

// maxNesting bounds how deeply values may nest.
const maxNesting = posdoc.MaxDepth

var (
	nameRE   = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	envRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	prefixRE = regexp.MustCompile(`^[A-Za-z0-9_.-]*$`)
	tokenRE  = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	sizeRE   = regexp.MustCompile(`^(?i)(\d+)\s*(b|kb|kib|mb|mib|gb|gib)?$`)
)

// decoder walks one document and collects every error it finds.
type decoder struct {
	file   string
	data   []byte
	lines  *posdoc.Lines
	errs   ErrorList
	nodes  int
	lookup func(string) (string, bool)
}

// errorf records an error at n's position.
func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	d.errorAt(line, col, path, format, args...)
}

func (d *decoder) errorAt(line, col int, path, format string, args ...any) {
	d.errs = append(d.errs, &FieldError{File: d.file, Line: line, Column: col, Path: path, Message: fmt.Sprintf(format, args...)})
}

// parseDocument parses the data with the parser of every document toolgate
// reads (internal/posdoc): JSON when it is a valid JSON object, YAML
// otherwise. It returns the root value (nil for an empty document).
func (d *decoder) parseDocument() (*yaml.Node, error) {
	d.lines = posdoc.NewLines(d.data)
	if d.lookup == nil {
		d.lookup = os.LookupEnv
	}
	root, err := posdoc.Parse(d.data, posdoc.Options{})
	if err != nil {
		return nil, ErrorList{{File: d.file, Line: err.Line, Column: err.Column, Message: err.Message}}
	}
	return root, nil
}

// deref follows aliases and counts the work done.
func (d *decoder) deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	d.nodes++
	if d.nodes == maxNodes {
		d.errorf(n, "", "the document is too large once its aliases are expanded")
	}
	return n
}

func (d *decoder) exhausted() bool { return d.nodes >= maxNodes }

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// pair is one key and value of a mapping.
type pair struct{ key, val *yaml.Node }

// pairs returns the entries of a mapping with merge keys (<<) applied,
// reporting duplicate and non-scalar keys.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var out []pair
	seen := map[string]*yaml.Node{}
	var merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := d.deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "keys must be strings")
			continue
		}
		if k.Tag == "!!merge" {
			merged = append(merged, d.mergeSources(v, path, 0)...)
			continue
		}
		if first, ok := seen[k.Value]; ok {
			d.errorf(k, path, "duplicate key %q (first at line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, pair{k, v})
	}
	for _, p := range merged {
		if _, ok := seen[p.key.Value]; !ok {
			seen[p.key.Value] = p.key
			out = append(out, p)
		}
	}
	return out
}

// mergeSources returns the entries a merge key (<<) brings in.
func (d *decoder) mergeSources(v *yaml.Node, path string, depth int) []pair {
	v = d.deref(v)
	if depth > 10 || d.exhausted() {
		return nil
	}
	switch v.Kind {
	case yaml.MappingNode:
		return d.pairs(v, path)
	case yaml.SequenceNode:
		var out []pair
		for _, s := range v.Content {
			s = d.deref(s)
			if s.Kind != yaml.MappingNode {
				d.errorf(s, path, "a merge key (<<) takes a mapping or a list of mappings")
				continue
			}
			out = append(out, d.pairs(s, path)...)
		}
		return out
	}
	d.errorf(v, path, "a merge key (<<) takes a mapping or a list of mappings")
	return nil
}

// mapping returns the entries of a mapping value; null gives none.
func (d *decoder) mapping(n *yaml.Node, path string) ([]pair, bool) {
	n = d.deref(n)
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "must be a mapping of keys to values, not %s", describe(n))
		return nil, false
	}
	return d.pairs(n, path), true
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			return fmt.Sprintf("the string %q", n.Value)
		case "!!null":
			return "null"
		}
		return n.Value
	}
	return "this value"
}

// scalar returns the text of a scalar value with ${NAME} expanded.
// ok is false (and an error recorded) when n is not a scalar or the
// expansion failed.
func (d *decoder) scalar(n *yaml.Node, path, want string) (string, bool) {
	n = d.deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, path, "must be %s, not %s", want, describe(n))
		return "", false
	}
	return d.expand(n, path)
}

// expand replaces ${NAME} in a scalar's text with the environment
// variable's value; $$ stands for one dollar sign.
func (d *decoder) expand(n *yaml.Node, path string) (string, bool) {
	s := n.Value
	if !strings.Contains(s, "$") {
		return s, true
	}
	var b strings.Builder
	ok := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				line, col := d.find(n, s[i:])
				d.errorAt(line, col, path, "unterminated ${ (write $$ for a literal dollar sign)")
				return "", false
			}
			name := s[i+2 : i+2+end]
			ref := s[i : i+3+end]
			i += 2 + end
			if !envRE.MatchString(name) {
				line, col := d.find(n, ref)
				d.errorAt(line, col, path, "invalid environment variable reference %s (want ${NAME}, NAME made of letters, digits and _; write $$ for a literal dollar sign)", ref)
				ok = false
				continue
			}
			v, set := d.lookup(name)
			if !set {
				line, col := d.find(n, ref)
				d.errorAt(line, col, path, "environment variable %s is not set", name)
				ok = false
				continue
			}
			b.WriteString(v)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), ok
}

// find locates text within a scalar in the source, for errors that point
// inside a value; it falls back to the scalar's own position.
func (d *decoder) find(n *yaml.Node, text string) (int, int) {
	if len(text) > 2 && text[1] == '{' {
		if i := strings.IndexByte(text, '}'); i > 0 {
			text = text[:i+1]
		}
	}
	line := d.lines.Text(n.Line)
	// Skip to the scalar's start (Column counts characters).
	off := 0
	for c := 1; c < n.Column && off < len(line); c++ {
		_, size := utf8.DecodeRune(line[off:])
		off += size
	}
	if i := bytes.Index(line[off:], []byte(text)); i >= 0 {
		return n.Line, n.Column + utf8.RuneCount(line[off:off+i])
	}
	return n.Line, n.Column
}

// str sets *dst from a scalar; null keeps the default.
func (d *decoder) str(n *yaml.Node, path string, dst *string) bool {
	if isNull(d.deref(n)) {
		return false
	}
	v, ok := d.scalar(n, path, "a string")
	if ok {
		*dst = v
	}
	return ok
}

// strMap decodes a mapping of strings to strings (env, headers).
func (d *decoder) strMap(n *yaml.Node, path string, key func(k *yaml.Node, path string) bool) map[string]string {
	ps, _ := d.mapping(n, path)
	if len(ps) == 0 {
		return nil
	}
	m := make(map[string]string, len(ps))
	for _, p := range ps {
		kp := path + "." + p.key.Value
		if !key(p.key, kp) {
			continue
		}
		v := d.deref(p.val)
		if isNull(v) {
			d.errorf(p.key, kp, "has no value (write \"\" for an empty one)")
			continue
		}
		s, ok := d.scalar(v, kp, "a string")
		if !ok {
			continue
		}
		if strings.ContainsAny(s, "\x00\r\n") {
			d.errorf(v, kp, "must not contain NUL or line breaks")
			continue
		}
		m[p.key.Value] = s
	}
	return m
}

// headers decodes a map of HTTP header names to values: every name a
// valid header token, none of reserved (lower case), which setBy sets
// itself.
func (d *decoder) headers(n *yaml.Node, path, setBy string, reserved ...string) map[string]string {
	return d.strMap(n, path, func(k *yaml.Node, kpath string) bool {
		if !tokenRE.MatchString(k.Value) {
			d.errorf(k, kpath, "%q is not a valid HTTP header name", k.Value)
			return false
		}
		if slices.Contains(reserved, strings.ToLower(k.Value)) {
			d.errorf(k, kpath, "header %s is set by %s and cannot be configured", k.Value, setBy)
			return false
		}
		return true
	})
}

// Keys accepted at each level, for unknown-key errors and suggestions.
var (
	topKeys = []string{"listen", "servers", "policies", "auth", "store", "limits", "allowed_origins", "allowed_hosts",
		"max_body_bytes", "max_depth", "list_default_denied", "legacy_sse", "upstream_timeout",
		"read_header_timeout", "read_timeout", "idle_timeout", "max_header_bytes",
		"max_sessions", "max_sessions_per_client", "request_state_key", "session_queue", "list_page_size", "session_queue_bytes", "max_inflight_bytes",
		"stream_replay_events", "stream_replay_bytes",
		"session_idle_timeout", "methods", "pins", "poisoned", "admin_listen", "directory", "approvals", "audit", "oauth_key_file"}
	serverKeys = []string{"command", "env", "inherit_env", "cwd", "url", "transport", "headers", "prefix", "timeout", "eager", "breaker", "share", "oauth"}
	oauthKeys  = []string{"grant", "client_id", "client_secret", "client_secret_env", "client_secret_file", "client_metadata_url", "scopes", "redirect_port",
		"token_endpoint_auth", "private_key_file", "key_id", "signing_alg", "idp"}
	idpKeys = []string{"token_endpoint", "client_id", "client_secret", "client_secret_env", "client_secret_file", "id_token_file", "id_token_env"}
)

// unknown reports a key that is not one of known.
func (d *decoder) unknown(k *yaml.Node, path string, known []string) {
	msg := fmt.Sprintf("unknown key %q", k.Value)
	if s := suggest(k.Value, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	} else {
		msg += " (known keys: " + strings.Join(known, ", ") + ")"
	}
	d.errorAt(k.Line, k.Column, path, "%s", msg)
}

// suggest returns the known key closest to k, if one is close enough.
func suggest(k string, known []string) string {
	norm := func(s string) string { return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(s)) }
	best, bestDist := "", 3
	for _, c := range known {
		if norm(c) == norm(k) {
			return c
		}
		if dist := editDistance(k, c); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	return textdist.Levenshtein(a, b)
}

// config fills c from the root mapping and validates it.
func (d *decoder) config(c *Config, root *yaml.Node) {
	if root == nil {
		return
	}
	root = d.deref(root)
	if isNull(root) {
		return
	}
	if root.Kind != yaml.MappingNode {
		d.errorf(root, "", "the configuration must be a mapping (listen:, servers:, policies:, ...), not %s", describe(root))
		return
	}
	var listenNode, adminNode, authNode, inflightNode *yaml.Node
	var methods []methodRoute
	for _, p := range d.pairs(root, "") {
		k, v := p.key.Value, p.val
		switch k {
		case "listen":
			if d.str(v, k, &c.Listen) {
				listenNode = v
				d.checkListen(v, k, c.Listen)
			}
		case "admin_listen":
			if d.str(v, k, &c.AdminListen) {
				adminNode = v
				if c.AdminListen == "off" {
					c.AdminListen = ""
				}
				if c.AdminListen != "" {
					d.checkListen(v, k, c.AdminListen)
				}
			}
		case "servers":
			d.servers(c, v)
		case "policies":
			d.policies(c, v)
		case "auth":
			authNode = v
			d.auth(c, v)
		case "store":
			if d.str(v, k, &c.Store) {
				d.checkStore(v, k, c.Store)
			}
		case "limits":
			if d.str(v, k, &c.Limits) {
				d.checkLimits(v, k, c.Limits)
			}
		case "allowed_origins":
			c.AllowedOrigins = d.origins(v, k)
		case "allowed_hosts":
			c.AllowedHosts = d.hosts(v, k)
		case "max_body_bytes":
			if n, ok := d.size(v, k); ok {
				c.MaxBodyBytes = n
			}
		case "max_depth":
			if n, ok := d.integer(v, k, 1, 10000); ok {
				c.MaxDepth = int(n)
			}
		case "list_default_denied":
			if b, ok := d.boolean(v, k); ok {
				c.ListDefaultDenied = b
			}
		case "legacy_sse":
			if b, ok := d.boolean(v, k); ok {
				c.LegacySSE = b
			}
		case "upstream_timeout":
			if t, ok := d.duration(v, k); ok {
				c.UpstreamTimeout = t
			}
		case "read_header_timeout":
			if t, ok := d.duration(v, k); ok {
				c.ReadHeaderTimeout = t
			}
		case "read_timeout":
			if t, ok := d.duration(v, k); ok {
				c.ReadTimeout = t
			}
		case "idle_timeout":
			if t, ok := d.duration(v, k); ok {
				c.IdleTimeout = t
			}
		case "write_timeout":
			d.errorf(p.key, k, "toolgate sets no write timeout: it would cut the long-lived event streams of MCP sessions (read_header_timeout, read_timeout and idle_timeout bound slow clients)")
		case "max_header_bytes":
			if n, ok := d.size(v, k); ok {
				if n > MaxHeaderBytesLimit {
					d.errorf(v, k, "must be at most 1MiB")
				} else {
					c.MaxHeaderBytes = n
				}
			}
		case "max_sessions":
			if n, ok := d.integer(v, k, 1, MaxCount); ok {
				c.MaxSessions = int(n)
			}
		case "max_sessions_per_client":
			if n, ok := d.integer(v, k, 1, MaxCount); ok {
				c.MaxSessionsPerClient = int(n)
			}
		case "request_state_key":
			if d.str(v, k, &c.RequestStateKey) && len(c.RequestStateKey) < 32 {
				d.errorf(v, k, "must be at least 32 characters (a random secret, e.g. ${TOOLGATE_STATE_KEY})")
			}
		case "session_queue":
			if n, ok := d.integer(v, k, 1, MaxCount); ok {
				c.SessionQueue = int(n)
			}
		case "list_page_size":
			if n, ok := d.integer(v, k, 1, MaxCount); ok {
				c.ListPageSize = int(n)
			}
		case "session_queue_bytes":
			if n, ok := d.size(v, k); ok {
				c.SessionQueueBytes = n
			}
		case "stream_replay_events":
			if n, ok := d.integer(v, k, 1, MaxCount); ok {
				c.StreamReplayEvents = int(n)
			}
		case "stream_replay_bytes":
			if n, ok := d.size(v, k); ok {
				c.StreamReplayBytes = n
			}
		case "max_inflight_bytes":
			if n, ok := d.size(v, k); ok {
				c.MaxInflightBytes = n
				inflightNode = v
			}
		case "session_idle_timeout":
			if t, ok := d.duration(v, k); ok {
				c.SessionIdleTimeout = t
			}
		case "methods":
			methods = d.methods(v, k)
		case "directory":
			d.directory(c, v, k)
		case "approvals":
			d.approvals(c, v, k)
		case "audit":
			d.audit(c, v, k)
		case "oauth_key_file":
			if d.str(v, k, &c.OAuthKeyFile) && c.OAuthKeyFile == "" {
				d.errorf(v, k, "must be the path of a file holding the key that seals upstream tokens")
			}
		case "pins":
			if d.str(v, k, &c.Pins) && c.Pins == "" {
				d.errorf(v, k, "must be the path of a pins file written by toolgate scan --pin")
			}
		case "poisoned":
			if d.str(v, k, &c.Poisoned) {
				switch c.Poisoned {
				case "hide", "deny", "allow":
				default:
					d.errorf(v, k, "must be hide, deny or allow, not %q", c.Poisoned)
				}
			}
		default:
			d.unknown(p.key, "", topKeys)
		}
	}
	if c.Auth == "none" && !isLoopback(c.Listen) {
		n := listenNode
		if n == nil {
			n = authNode
		}
		d.errorf(n, "listen", "%q is not a loopback address, which auth: none requires (anyone who can reach it could call every tool); listen on 127.0.0.1 or set auth: grants", c.Listen)
	}
	if c.AdminListen != "" && SameListener(c.Listen, c.AdminListen) {
		n := adminNode
		if n == nil {
			n = listenNode
		}
		d.errorf(n, "admin_listen", "%q is the MCP listener's address (listen: %q); the admin API needs its own, e.g. 127.0.0.1:8081, or \"off\"", c.AdminListen, c.Listen)
	}
	// One request of the largest size must fit in the in-flight budget. A
	// file that sets only max_body_bytes gets a budget that fits it.
	switch {
	case inflightNode == nil:
		c.MaxInflightBytes = max(c.MaxInflightBytes, c.MaxBodyBytes)
	case c.MaxInflightBytes < c.MaxBodyBytes:
		d.errorf(inflightNode, "max_inflight_bytes", "must be at least max_body_bytes (%s), or no request of the largest size could ever be decoded; it is %s",
			formatSize(c.MaxBodyBytes), formatSize(c.MaxInflightBytes))
	}
	d.routeMethods(c, methods)
	d.checkJWT(c)
	if c.OAuthKeyFile != "" {
		c.OAuthKeyFile = c.resolve(c.OAuthKeyFile)
	}
	for _, s := range c.Servers {
		if s.OAuth != nil && s.OAuth.ClientSecretFile != "" {
			s.OAuth.ClientSecretFile = c.resolve(s.OAuth.ClientSecretFile)
		}
		if s.OAuth != nil && s.OAuth.PrivateKeyFile != "" {
			s.OAuth.PrivateKeyFile = c.resolve(s.OAuth.PrivateKeyFile)
		}
		if s.OAuth != nil && s.OAuth.IdP != nil {
			if f := s.OAuth.IdP.ClientSecretFile; f != "" {
				s.OAuth.IdP.ClientSecretFile = c.resolve(f)
			}
			if f := s.OAuth.IdP.IDTokenFile; f != "" {
				s.OAuth.IdP.IDTokenFile = c.resolve(f)
			}
		}
		if len(s.Command) > 0 {
			if s.Cwd == "" {
				s.Cwd = c.Dir()
			} else {
				s.Cwd = c.resolve(s.Cwd)
			}
		}
	}
}

// methodRoute is one entry of the methods mapping, kept until every server
// is known.
type methodRoute struct {
	method, server string
	node           *yaml.Node // the server name's value
}

// methods decodes the methods mapping: MCP method name → server name.
func (d *decoder) methods(n *yaml.Node, path string) []methodRoute {
	ps, _ := d.mapping(n, path)
	var out []methodRoute
	for _, p := range ps {
		method := p.key.Value
		if strings.TrimSpace(method) == "" {
			d.errorf(p.key, path, "the method name must not be empty")
			continue
		}
		kp := path + "." + method
		v := d.deref(p.val)
		if isNull(v) {
			d.errorf(p.key, kp, "has no value (write the name of the server that gets %s)", method)
			continue
		}
		server, ok := d.scalar(v, kp, "the name of a server")
		if !ok {
			continue
		}
		out = append(out, methodRoute{method, server, v})
	}
	return out
}

// routeMethods checks that every method is sent to a configured server and
// fills c.Methods.
func (d *decoder) routeMethods(c *Config, routes []methodRoute) {
	for _, r := range routes {
		if _, ok := c.Servers[r.server]; !ok {
			known := "servers lists none"
			if len(c.ServerNames) > 0 {
				known = "known servers: " + strings.Join(c.ServerNames, ", ")
			}
			d.errorf(r.node, "methods."+r.method, "server %q is not in servers (%s)", r.server, known)
			continue
		}
		if c.Methods == nil {
			c.Methods = make(map[string]string, len(routes))
		}
		c.Methods[r.method] = r.server
	}
}

// formatSize writes a byte count the way a file may: in the largest binary
// unit that divides it exactly.
func formatSize(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d%s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

func (d *decoder) checkListen(n *yaml.Node, path, v string) {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		d.errorf(n, path, "must be host:port (e.g. 127.0.0.1:8080), not %q", v)
		return
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || (port != "0" && p == 0) {
		d.errorf(n, path, "port %q must be a number from 0 to 65535", port)
	}
}

// SameListener reports whether two host:port addresses would bind the
// same port on a shared interface: the same port (not 0) and the same
// host, or either host a wildcard.
func SameListener(a, b string) bool {
	ah, ap, err1 := net.SplitHostPort(a)
	bh, bp, err2 := net.SplitHostPort(b)
	if err1 != nil || err2 != nil || ap != bp || ap == "0" {
		return false // malformed ones are reported elsewhere
	}
	wild := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return strings.EqualFold(ah, bh) || wild(ah) || wild(bh)
}

// isLoopback reports whether a host:port names a loopback interface.
func isLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return true // reported elsewhere
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

func (d *decoder) checkStore(n *yaml.Node, path, v string) {
	if rest, ok := cutPrefixFold(v, "sqlite://"); ok {
		if rest == "" {
			d.errorf(n, path, "sqlite:// needs a database file path, e.g. sqlite://toolgate.db")
		}
		return
	}
	if _, ok := cutPrefixFold(v, "postgres://"); !ok {
		if _, ok := cutPrefixFold(v, "postgresql://"); !ok {
			d.errorf(n, path, "must be sqlite://PATH or a postgres:// URL, not %q", redactURL(v))
			return
		}
	}
	if u, err := url.Parse(v); err != nil || u.Host == "" {
		d.errorf(n, path, "invalid postgres URL %q (want postgres://user:password@host:5432/db)", redactURL(v))
	}
}

func (d *decoder) checkLimits(n *yaml.Node, path, v string) {
	if v == "memory" {
		return
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
		d.errorf(n, path, "must be \"memory\" or a redis:// URL, not %q", redactURL(v))
		return
	}
	if u.Host == "" {
		d.errorf(n, path, "redis URL %q has no host (want redis://127.0.0.1:6379)", redactURL(v))
	}
}

// redactURL hides a password in a URL, for error messages.
func redactURL(v string) string {
	if u, err := url.Parse(v); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			return u.Redacted()
		}
	}
	return v
}

// list reads a list of strings, each checked and normalised by item
// (which reports its own errors and returns false for an item to leave out).
func (d *decoder) list(n *yaml.Node, path, of, want string, item func(e *yaml.Node, ep, s string) (string, bool)) []string {
	n = d.deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "must be a list of %s, not %s", of, describe(n))
		return nil
	}
	var out []string
	for i, e := range n.Content {
		ep := fmt.Sprintf("%s[%d]", path, i)
		s, ok := d.scalar(e, ep, want)
		if !ok {
			continue
		}
		if v, ok := item(e, ep, s); ok {
			out = append(out, v)
		}
	}
	return out
}

func (d *decoder) origins(n *yaml.Node, path string) []string {
	return d.list(n, path, "origins", "an origin such as https://app.example.com", func(e *yaml.Node, ep, s string) (string, bool) {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			d.errorf(e, ep, "%q is not an origin (want scheme://host[:port], e.g. https://app.example.com)", s)
			return "", false
		}
		return strings.ToLower(u.Scheme + "://" + u.Host), true
	})
}

// hosts reads allowed_hosts: host names (no scheme, no port) a request's
// Host header may carry besides the loopback names.
func (d *decoder) hosts(n *yaml.Node, path string) []string {
	return d.list(n, path, "host names", "a host name such as mcp.example.com", func(e *yaml.Node, ep, s string) (string, bool) {
		if s == "" || strings.ContainsAny(s, "/:@ ") || s == "*" {
			d.errorf(e, ep, "%q is not a host name (want a name or address without scheme or port, e.g. mcp.example.com)", s)
			return "", false
		}
		return strings.ToLower(s), true
	})
}

func (d *decoder) integer(n *yaml.Node, path string, lo, hi int64) (int64, bool) {
	if isNull(d.deref(n)) {
		return 0, false
	}
	s, ok := d.scalar(n, path, "a number")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
	if err != nil {
		d.errorf(n, path, "must be a whole number, not %q", s)
		return 0, false
	}
	if v < lo || v > hi {
		d.errorf(n, path, "must be between %d and %d, not %d", lo, hi, v)
		return 0, false
	}
	return v, true
}

// size decodes a byte count: a number or a string such as "4MiB".
func (d *decoder) size(n *yaml.Node, path string) (int64, bool) {
	if isNull(d.deref(n)) {
		return 0, false
	}
	s, ok := d.scalar(n, path, "a size")
	if !ok {
		return 0, false
	}
	m := sizeRE.FindStringSubmatch(strings.ReplaceAll(s, "_", ""))
	if m == nil {
		d.errorf(n, path, "must be a number of bytes or a size such as \"4MiB\", not %q", s)
		return 0, false
	}
	v, err := strconv.ParseInt(m[1], 10, 64)
	mult := map[string]int64{"": 1, "b": 1, "kb": 1e3, "kib": 1 << 10, "mb": 1e6, "mib": 1 << 20, "gb": 1e9, "gib": 1 << 30}[strings.ToLower(m[2])]
	if err != nil || v > math.MaxInt64/mult {
		d.errorf(n, path, "%q is too large", s)
		return 0, false
	}
	v *= mult
	if v < 1 {
		d.errorf(n, path, "must be at least 1 byte")
		return 0, false
	}
	return v, true
}

func (d *decoder) boolean(n *yaml.Node, path string) (bool, bool) {
	if isNull(d.deref(n)) {
		return false, false
	}
	s, ok := d.scalar(n, path, "true or false")
	if !ok {
		return false, false
	}
	switch strings.ToLower(s) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	d.errorf(n, path, "must be true or false, not %q", s)
	return false, false
}

func (d *decoder) duration(n *yaml.Node, path string) (Duration, bool) {
	if isNull(d.deref(n)) {
		return 0, false
	}
	s, ok := d.scalar(n, path, "a duration")
	if !ok {
		return 0, false
	}
	v, err := parseDuration(s)
	if err != nil {
		d.errorf(n, path, "%v", err)
		return 0, false
	}
	if v <= 0 {
		d.errorf(n, path, "must be longer than 0")
		return 0, false
	}
	return v, true
}

// servers decodes the servers mapping.
func (d *decoder) servers(c *Config, n *yaml.Node) {
	ps, _ := d.mapping(n, "servers")
	type prefixed struct {
		name string
		node *yaml.Node
	}
	var explicit []*yaml.Node // prefix nodes by server, parallel to ServerNames
	for _, p := range ps {
		name := p.key.Value
		path := "servers." + name
		if !nameRE.MatchString(name) {
			d.errorf(p.key, "servers", "server name %q may hold only letters, digits, _ and -", name)
		}
		s, prefixNode := d.server(p.key, p.val, path)
		s.Line, s.Column = p.key.Line, p.key.Column
		c.Servers[name] = s
		c.ServerNames = append(c.ServerNames, name)
		explicit = append(explicit, prefixNode)
	}
	// Two servers may not share an effective, non-empty prefix.
	byPrefix := map[string]prefixed{}
	for i, name := range c.ServerNames {
		pre := c.ToolPrefix(name)
		if pre == "" {
			continue
		}
		node := explicit[i]
		if node == nil {
			node = &yaml.Node{Line: c.Servers[name].Line, Column: c.Servers[name].Column}
		}
		if first, ok := byPrefix[pre]; ok {
			d.errorf(node, "servers."+name+".prefix", "servers %q and %q both use the tool prefix %q (line %d); give one of them another prefix",
				first.name, name, pre, first.node.Line)
			continue
		}
		// One prefix starting another ("a_" and "a_b_") lets two servers'
		// tools take the same name: a rule for it would judge either.
		for other, first := range byPrefix {
			if strings.HasPrefix(pre, other) || strings.HasPrefix(other, pre) {
				d.errorf(node, "servers."+name+".prefix", "the tool prefix %q of server %q and %q of server %q (line %d) start alike, so their tool names could collide; give one of them another prefix",
					pre, name, other, first.name, first.node.Line)
			}
		}
		byPrefix[pre] = prefixed{name, node}
	}
}

// server decodes one server; it returns the prefix node when one is set.
func (d *decoder) server(key, n *yaml.Node, path string) (*Server, *yaml.Node) {
	s := &Server{Timeout: DefaultServerTimeout, Eager: true, Breaker: Breaker{Failures: DefaultBreakerFailures, Cooldown: DefaultBreakerCooldown}}
	n = d.deref(n)
	if isNull(n) {
		d.errorf(key, path, "needs either command (a stdio server) or url (a streamable-HTTP server)")
		return s, nil
	}
	ps, ok := d.mapping(n, path)
	if !ok {
		return s, nil
	}
	var cmdNode, urlNode, prefixNode, oauthNode, authHeader *yaml.Node
	var stdioOnly, httpOnly []*yaml.Node
	typo := false // an unknown key looked like command or url
	for _, p := range ps {
		k, v := p.key.Value, p.val
		kp := path + "." + k
		switch k {
		case "command":
			cmdNode = p.key
			s.Command = d.command(v, kp)
		case "env":
			stdioOnly = append(stdioOnly, p.key)
			s.Env = d.strMap(v, kp, func(k *yaml.Node, path string) bool {
				if k.Value == "" || strings.ContainsAny(k.Value, "=\x00") {
					d.errorf(k, path, "%q is not a valid environment variable name", k.Value)
					return false
				}
				return true
			})
		case "eager":
			if b, ok := d.boolean(v, kp); ok {
				s.Eager = b
			}
		case "inherit_env":
			stdioOnly = append(stdioOnly, p.key)
			if b, ok := d.boolean(v, kp); ok {
				s.InheritEnv = b
			}
		case "cwd":
			stdioOnly = append(stdioOnly, p.key)
			d.str(v, kp, &s.Cwd)
		case "url":
			urlNode = p.key
			if u, ok := d.scalar(v, kp, "an http:// or https:// URL"); ok {
				s.URL = u
				u, err := url.Parse(s.URL)
				switch {
				case err != nil:
					d.errorf(v, kp, "invalid URL %q", redactURL(s.URL))
				case u.Scheme != "http" && u.Scheme != "https":
					d.errorf(v, kp, "URL scheme must be http or https, not %q", u.Scheme)
				case u.Host == "":
					d.errorf(v, kp, "URL %q has no host", redactURL(s.URL))
				}
			}
		case "transport":
			httpOnly = append(httpOnly, p.key)
			if t, ok := d.scalar(v, kp, `"streamable-http" or "sse"`); ok {
				switch t {
				case TransportStreamableHTTP, TransportSSE:
					s.Transport = t
				default:
					d.errorf(v, kp, "must be %q or %q, not %q", TransportStreamableHTTP, TransportSSE, t)
				}
			}
		case "headers":
			httpOnly = append(httpOnly, p.key)
			s.Headers = d.headers(v, kp, "the gateway", "content-type", "content-length", "mcp-session-id", "mcp-protocol-version")
			if hv := d.deref(v); hv.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(hv.Content); i += 2 {
					if strings.EqualFold(hv.Content[i].Value, "authorization") {
						authHeader = hv.Content[i]
					}
				}
			}
		case "oauth":
			httpOnly = append(httpOnly, p.key)
			oauthNode = p.key
			s.OAuth = d.oauth(p.key, v, kp)
		case "timeout":
			if t, ok := d.duration(v, kp); ok {
				s.Timeout = t
			}
		case "breaker":
			httpOnly = append(httpOnly, p.key)
			s.Breaker = d.breaker(v, kp)
		case "share":
			stdioOnly = append(stdioOnly, p.key)
			if sh, ok := d.scalar(v, kp, `"per_session", "shared" or "per_grant"`); ok {
				switch sh {
				case SharePerSession, ShareShared, SharePerGrant:
					s.Share = sh
				default:
					d.errorf(v, kp, "must be %q, %q or %q, not %q", SharePerSession, ShareShared, SharePerGrant, sh)
				}
			}
		case "prefix":
			v = d.deref(v)
			if isNull(v) {
				continue
			}
			prefixNode = v
			var pre string
			if d.str(v, kp, &pre) {
				if !prefixRE.MatchString(pre) || len(pre) > 64 {
					d.errorf(v, kp, "prefix %q may hold only letters, digits, _, - and . (at most 64)", pre)
				}
				s.Prefix = &pre
			}
		default:
			d.unknown(p.key, path, serverKeys)
			if s := suggest(p.key.Value, serverKeys); s == "command" || s == "url" {
				typo = true
			}
		}
	}
	switch {
	case cmdNode != nil && urlNode != nil:
		d.errorf(urlNode, path, "has both command and url; a server is either a stdio command or a URL")
	case cmdNode == nil && urlNode == nil:
		if typo {
			break
		}
		d.errorf(key, path, "needs either command (a stdio server) or url (a streamable-HTTP server)")
	case cmdNode != nil:
		for _, k := range httpOnly {
			d.errorf(k, path+"."+k.Value, "only applies to url servers, and this one has a command")
		}
		if s.Share == "" {
			s.Share = SharePerSession
		}
	case urlNode != nil:
		for _, k := range stdioOnly {
			d.errorf(k, path+"."+k.Value, "only applies to command servers, and this one has a url")
		}
		if s.Transport == "" {
			s.Transport = TransportStreamableHTTP
		}
		if oauthNode != nil && s.OAuth != nil {
			if s.Transport == TransportSSE {
				d.errorf(oauthNode, path+".oauth", "applies to streamable-HTTP servers only, and this one has transport: sse")
			}
			if authHeader != nil {
				d.errorf(authHeader, path+".headers", "sets Authorization, which oauth sets: remove one of them")
			}
		}
	}
	return s, prefixNode
}

// oauth reads a server's oauth settings.
func (d *decoder) oauth(key, n *yaml.Node, path string) *OAuth {
	n = d.deref(n)
	o := &OAuth{Grant: GrantAuthorizationCode}
	if isNull(n) {
		return o
	}
	ps, ok := d.mapping(n, path)
	if !ok {
		return nil
	}
	var secretNode, idNode, authNode, keyNode, keyOptNode, idpNode *yaml.Node
	setSecret := func(k *yaml.Node) bool {
		if secretNode != nil {
			d.errorf(k, path+"."+k.Value, "set one of client_secret, client_secret_env and client_secret_file")
			return false
		}
		secretNode = k
		return true
	}
	for _, p := range ps {
		kp := path + "." + p.key.Value
		switch p.key.Value {
		case "grant":
			if g, ok := d.scalar(p.val, kp, `"authorization_code", "client_credentials" or "cross_app_access"`); ok {
				switch g {
				case GrantAuthorizationCode, GrantClientCredentials, GrantCrossApp:
					o.Grant = g
				default:
					d.errorf(p.val, kp, "must be %q, %q or %q, not %q", GrantAuthorizationCode, GrantClientCredentials, GrantCrossApp, g)
				}
			}
		case "idp":
			idpNode = p.key
			o.IdP = d.oauthIdP(p.key, p.val, kp)
		case "client_id":
			if d.str(p.val, kp, &o.ClientID) {
				idNode = p.val
				if o.ClientID == "" {
					d.errorf(p.val, kp, "must not be empty")
				}
			}
		case "client_secret":
			if setSecret(p.key) && d.str(p.val, kp, &o.ClientSecret) && o.ClientSecret == "" {
				d.errorf(p.val, kp, "must not be empty (write client_secret: ${NAME} to take it from the environment)")
			}
		case "client_secret_env":
			if !setSecret(p.key) || !d.str(p.val, kp, &o.ClientSecretEnv) {
				continue
			}
			if v, ok := d.secretEnv(p.val, kp, o.ClientSecretEnv); ok {
				o.ClientSecret = v
			}
		case "client_secret_file":
			if setSecret(p.key) && d.str(p.val, kp, &o.ClientSecretFile) && o.ClientSecretFile == "" {
				d.errorf(p.val, kp, "must be the path of a file holding the client secret")
			}
		case "client_metadata_url":
			if d.str(p.val, kp, &o.ClientMetadataURL) {
				if u, err := url.Parse(o.ClientMetadataURL); err != nil || u.Scheme != "https" || u.Host == "" || u.Path == "" || u.Path == "/" {
					d.errorf(p.val, kp, "must be an https:// URL with a path (the client ID metadata document), not %q", redactURL(o.ClientMetadataURL))
				}
			}
		case "scopes":
			o.Scopes = d.strList(p.val, kp, "a scope")
			for i, sc := range o.Scopes {
				if strings.ContainsAny(sc, " \t\"\\") {
					d.errorf(p.val, fmt.Sprintf("%s[%d]", kp, i), "scope %q may not hold spaces, quotes or backslashes", sc)
				}
			}
		case "redirect_port":
			if v, ok := d.integer(p.val, kp, 0, 65535); ok {
				o.RedirectPort = int(v)
			}
		case "token_endpoint_auth":
			if m, ok := d.scalar(p.val, kp, `"client_secret_basic", "client_secret_post" or "private_key_jwt"`); ok {
				switch m {
				case AuthClientSecretBasic, AuthClientSecretPost, AuthPrivateKeyJWT:
					o.TokenEndpointAuth, authNode = m, p.val
				default:
					d.errorf(p.val, kp, "must be %q, %q or %q, not %q", AuthClientSecretBasic, AuthClientSecretPost, AuthPrivateKeyJWT, m)
				}
			}
		case "private_key_file":
			if d.str(p.val, kp, &o.PrivateKeyFile) {
				keyNode = p.key
				if o.PrivateKeyFile == "" {
					d.errorf(p.val, kp, "must be the path of a PEM file holding the client's private key")
				}
			}
		case "key_id":
			if d.str(p.val, kp, &o.KeyID) {
				keyOptNode = p.key
				if o.KeyID == "" {
					d.errorf(p.val, kp, "must not be empty")
				}
			}
		case "signing_alg":
			if a, ok := d.scalar(p.val, kp, "a JWS algorithm"); ok {
				keyOptNode = p.key
				if !slices.Contains(SigningAlgs(), a) {
					d.errorf(p.val, kp, "must be one of %s, not %q", strings.Join(SigningAlgs(), ", "), a)
				} else {
					o.SigningAlg = a
				}
			}
		default:
			d.unknown(p.key, path, oauthKeys)
		}
	}
	if keyNode != nil && o.TokenEndpointAuth == "" {
		o.TokenEndpointAuth = AuthPrivateKeyJWT
	}
	switch {
	case o.TokenEndpointAuth == AuthPrivateKeyJWT && keyNode == nil:
		d.errorf(authNode, path+".token_endpoint_auth", "private_key_jwt needs private_key_file (the PEM private key that signs the client assertions)")
	case o.TokenEndpointAuth == AuthPrivateKeyJWT && secretNode != nil:
		d.errorf(secretNode, path, "private_key_jwt authenticates with the private key: remove the client secret")
	case o.TokenEndpointAuth != "" && o.TokenEndpointAuth != AuthPrivateKeyJWT && keyNode != nil:
		d.errorf(keyNode, path, "private_key_file is for token_endpoint_auth: private_key_jwt, not %s", o.TokenEndpointAuth)
	case o.TokenEndpointAuth != "" && o.TokenEndpointAuth != AuthPrivateKeyJWT && secretNode == nil:
		d.errorf(authNode, path+".token_endpoint_auth", "%s needs a client secret: client_secret_env, client_secret_file or client_secret: ${NAME}", o.TokenEndpointAuth)
	}
	if keyOptNode != nil && keyNode == nil {
		d.errorf(keyOptNode, path, "%s needs private_key_file", keyOptNode.Value)
	}
	if o.Grant == GrantClientCredentials || o.Grant == GrantCrossApp {
		if idNode == nil {
			d.errorf(key, path, "grant: %s needs a client_id", o.Grant)
		}
		if secretNode == nil && keyNode == nil {
			d.errorf(key, path, "grant: %s needs a secret (client_secret_env, client_secret_file or client_secret: ${NAME}) or a private_key_file", o.Grant)
		}
	}
	switch {
	case o.Grant == GrantCrossApp && idpNode == nil:
		d.errorf(key, path, "grant: cross_app_access needs idp (the identity provider's token_endpoint and the ID token's id_token_file or id_token_env)")
	case o.Grant != GrantCrossApp && idpNode != nil:
		d.errorf(idpNode, path+".idp", "is for grant: cross_app_access only")
	}
	if secretNode != nil && idNode == nil {
		d.errorf(secretNode, path, "a client secret needs its client_id")
	}
	if keyNode != nil && idNode == nil {
		d.errorf(keyNode, path, "a private key needs its client_id")
	}
	return o
}

// oauthIdP reads the identity provider of cross-app access.
func (d *decoder) oauthIdP(key, n *yaml.Node, path string) *OAuthIdP {
	ps, ok := d.mapping(n, path)
	if !ok {
		return nil
	}
	o := &OAuthIdP{}
	var secretNode, idNode, endpointNode, tokenNode *yaml.Node
	setOne := func(node **yaml.Node, k *yaml.Node, names string) bool {
		if *node != nil {
			d.errorf(k, path+"."+k.Value, "set one of %s", names)
			return false
		}
		*node = k
		return true
	}
	const secrets, tokens = "client_secret, client_secret_env and client_secret_file", "id_token_file and id_token_env"
	for _, p := range ps {
		kp := path + "." + p.key.Value
		switch p.key.Value {
		case "token_endpoint":
			if d.str(p.val, kp, &o.TokenEndpoint) {
				endpointNode = p.val
				if u, err := url.Parse(o.TokenEndpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
					d.errorf(p.val, kp, "must be the IdP's http(s) token endpoint URL, not %q", redactURL(o.TokenEndpoint))
				}
			}
		case "client_id":
			if d.str(p.val, kp, &o.ClientID) {
				idNode = p.val
				if o.ClientID == "" {
					d.errorf(p.val, kp, "must not be empty")
				}
			}
		case "client_secret":
			if setOne(&secretNode, p.key, secrets) && d.str(p.val, kp, &o.ClientSecret) && o.ClientSecret == "" {
				d.errorf(p.val, kp, "must not be empty (write client_secret: ${NAME} to take it from the environment)")
			}
		case "client_secret_env":
			if setOne(&secretNode, p.key, secrets) && d.str(p.val, kp, &o.ClientSecretEnv) {
				if v, ok := d.secretEnv(p.val, kp, o.ClientSecretEnv); ok {
					o.ClientSecret = v
				}
			}
		case "client_secret_file":
			if setOne(&secretNode, p.key, secrets) && d.str(p.val, kp, &o.ClientSecretFile) && o.ClientSecretFile == "" {
				d.errorf(p.val, kp, "must be the path of a file holding the client secret")
			}
		case "id_token_file":
			if setOne(&tokenNode, p.key, tokens) && d.str(p.val, kp, &o.IDTokenFile) && o.IDTokenFile == "" {
				d.errorf(p.val, kp, "must be the path of a file holding the ID token")
			}
		case "id_token_env":
			// Only checked here: the token is read for each exchange.
			if setOne(&tokenNode, p.key, tokens) && d.str(p.val, kp, &o.IDTokenEnv) {
				d.secretEnv(p.val, kp, o.IDTokenEnv)
			}
		default:
			d.unknown(p.key, path, idpKeys)
		}
	}
	if endpointNode == nil {
		d.errorf(key, path, "needs token_endpoint, the IdP's token endpoint")
	}
	if tokenNode == nil {
		d.errorf(key, path, "needs the ID token: id_token_file or id_token_env")
	}
	if secretNode != nil && idNode == nil {
		d.errorf(secretNode, path, "a client secret needs its client_id")
	}
	return o
}

// secretEnv checks that name is an environment variable name, set and
// not empty, and returns its value.
func (d *decoder) secretEnv(n *yaml.Node, path, name string) (string, bool) {
	if !envRE.MatchString(name) {
		d.errorf(n, path, "%q is not an environment variable name", name)
		return "", false
	}
	v, set := d.lookup(name)
	switch {
	case !set:
		d.errorf(n, path, "environment variable %s is not set", name)
	case v == "":
		d.errorf(n, path, "environment variable %s is empty", name)
	default:
		return v, true
	}
	return "", false
}

// command decodes a command: a list of strings, or one string split at
// spaces (without any shell quoting).
func (d *decoder) command(n *yaml.Node, path string) []string {
	n = d.deref(n)
	switch {
	case n.Kind == yaml.SequenceNode:
		if len(n.Content) == 0 {
			d.errorf(n, path, "must not be empty")
			return nil
		}
		out := make([]string, 0, len(n.Content))
		for i, e := range n.Content {
			ep := fmt.Sprintf("%s[%d]", path, i)
			s, ok := d.scalar(e, ep, "a string")
			if !ok {
				return nil
			}
			if strings.IndexByte(s, 0) >= 0 {
				d.errorf(e, ep, "must not contain NUL")
				return nil
			}
			if i == 0 && strings.TrimSpace(s) == "" {
				d.errorf(e, ep, "the program name must not be empty")
				return nil
			}
			out = append(out, s)
		}
		return out
	case n.Kind == yaml.ScalarNode && !isNull(n):
		s, ok := d.expand(n, path)
		if !ok {
			return nil
		}
		if strings.ContainsAny(n.Value, "\"'\\") {
			d.errorf(n, path, "a command string is split at spaces without shell quoting; write it as a list, e.g. [node, \"my server.js\"]")
			return nil
		}
		f := strings.Fields(s)
		if len(f) == 0 {
			d.errorf(n, path, "must not be empty")
			return nil
		}
		if strings.IndexByte(s, 0) >= 0 {
			d.errorf(n, path, "must not contain NUL")
			return nil
		}
		return f
	}
	d.errorf(n, path, "must be a list such as [node, server.js], not %s", describe(n))
	return nil
}

// policies decodes the policies mapping.
func (d *decoder) policies(c *Config, n *yaml.Node) {
	ps, _ := d.mapping(n, "policies")
	for _, p := range ps {
		name := p.key.Value
		path := "policies." + name
		if !nameRE.MatchString(name) {
			d.errorf(p.key, "policies", "policy name %q may hold only letters, digits, _ and -", name)
		}
		v := d.deref(p.val)
		src := &PolicySource{Line: v.Line, Column: v.Column}
		if v.Line == 0 {
			src.Line, src.Column = p.key.Line, p.key.Column
		}
		switch {
		case v.Kind == yaml.MappingNode:
			e := &jsonEncoder{d: d, line: 1, col: 1}
			if e.encode(v, path, 0) {
				src.Inline = e.buf.Bytes()
				src.marks = e.marks
			}
		case v.Kind == yaml.ScalarNode && !isNull(v):
			if s, ok := d.expand(v, path); ok {
				if s == "" {
					d.errorf(v, path, "the policy file name is empty")
				}
				src.Path = s
			}
		default:
			d.errorf(v, path, "must be a policy file name or an inline policy document, not %s", describe(v))
		}
		c.Policies[name] = src
	}
}

// jsonEncoder re-encodes an inline policy as JSON, one value per line,
// remembering where each key and value came from.
type jsonEncoder struct {
	d         *decoder
	buf       bytes.Buffer
	line, col int
	marks     []mark
}

func (e *jsonEncoder) write(s string) {
	e.buf.WriteString(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		e.line += strings.Count(s, "\n")
		e.col = 1 + utf8.RuneCountInString(s[i+1:])
	} else {
		e.col += utf8.RuneCountInString(s)
	}
}

func (e *jsonEncoder) mark(n *yaml.Node) {
	if n.Line > 0 {
		e.marks = append(e.marks, mark{e.line, e.col, n.Line, n.Column})
	}
}

func quoteJSON(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// encode writes n; it reports false when n cannot be written as JSON.
func (e *jsonEncoder) encode(n *yaml.Node, path string, depth int) bool {
	d := e.d
	n = d.deref(n)
	if depth > maxNesting {
		d.errorf(n, path, "values nest more than %d levels deep", maxNesting)
		return false
	}
	if d.exhausted() {
		return false
	}
	e.mark(n)
	indent := strings.Repeat("  ", depth)
	ok := true
	switch n.Kind {
	case yaml.MappingNode:
		ps := d.pairs(n, path)
		if len(ps) == 0 {
			e.write("{}")
			return true
		}
		e.write("{\n")
		for i, p := range ps {
			e.write(indent + "  ")
			e.mark(p.key)
			e.write(quoteJSON(p.key.Value) + ": ")
			ok = e.encode(p.val, path+"."+p.key.Value, depth+1) && ok
			if i < len(ps)-1 {
				e.write(",")
			}
			e.write("\n")
		}
		e.write(indent + "}")
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			e.write("[]")
			return true
		}
		e.write("[\n")
		for i, c := range n.Content {
			e.write(indent + "  ")
			ok = e.encode(c, fmt.Sprintf("%s[%d]", path, i), depth+1) && ok
			if i < len(n.Content)-1 {
				e.write(",")
			}
			e.write("\n")
		}
		e.write(indent + "]")
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			e.write("null")
		case "!!bool":
			e.write(strings.ToLower(n.Value))
		case "!!int":
			v := strings.ReplaceAll(n.Value, "_", "")
			if i, err := strconv.ParseInt(v, 0, 64); err == nil {
				e.write(strconv.FormatInt(i, 10))
			} else if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(f, 0) {
				e.write(strconv.FormatFloat(f, 'g', -1, 64))
			} else {
				d.errorf(n, path, "number %s is out of range", n.Value)
				return false
			}
		case "!!float":
			f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
			if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				d.errorf(n, path, "number %s cannot be written in JSON", n.Value)
				return false
			}
			e.write(strconv.FormatFloat(f, 'g', -1, 64))
		default:
			s, sok := d.expand(n, path)
			if !sok {
				return false
			}
			e.write(quoteJSON(s))
		}
	default:
		d.errorf(n, path, "unsupported value")
		return false
	}
	return ok
}

var directoryKeys = []string{"data", "listen", "secret_keys", "api_keys"}

// directory reads the directory section (toolgate directory serve).
func (d *decoder) directory(c *Config, n *yaml.Node, path string) {
	n = d.deref(n)
	if isNull(n) {
		return
	}
	ps, ok := d.mapping(n, path)
	if !ok {
		return
	}
	for _, p := range ps {
		kp := path + "." + p.key.Value
		switch p.key.Value {
		case "data":
			if d.str(p.val, kp, &c.Directory.Data) {
				c.Directory.Data = c.resolve(c.Directory.Data)
			}
		case "listen":
			if d.str(p.val, kp, &c.Directory.Listen) {
				d.checkListen(p.val, kp, c.Directory.Listen)
			}
		case "secret_keys":
			c.Directory.SecretKeys = d.strList(p.val, kp, "a secret key")
		case "api_keys":
			c.Directory.APIKeys = d.strList(p.val, kp, "an API key")
		default:
			d.unknown(p.key, path, directoryKeys)
		}
	}
}

// strList reads a list of non-empty strings.
func (d *decoder) strList(n *yaml.Node, path, what string) []string {
	n = d.deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "must be a list of strings, not %s", describe(n))
		return nil
	}
	var out []string
	for i, e := range n.Content {
		ep := fmt.Sprintf("%s[%d]", path, i)
		if s, ok := d.scalar(e, ep, what); ok {
			if s == "" {
				d.errorf(e, ep, "must not be empty")
				continue
			}
			out = append(out, s)
		}
	}
	return out
}

// Keys of the approvals section and of its webhook.
var (
	approvalsKeys = []string{"wait", "valid_for", "progress_every", "webhook"}
	webhookKeys   = []string{"url", "secret", "secret_env", "timeout", "retries", "queue"}
)

// maxApprovalDuration bounds wait, valid_for and progress_every: a day
// is far beyond any client's patience and any sensible approval's life.
const maxApprovalDuration = Duration(24 * time.Hour)

func (d *decoder) approvals(c *Config, n *yaml.Node, path string) {
	ps, ok := d.mapping(n, path)
	if !ok {
		return
	}
	for _, p := range ps {
		kp := path + "." + p.key.Value
		var dst *Duration
		switch p.key.Value {
		case "wait":
			dst = &c.Approvals.Wait
		case "valid_for":
			dst = &c.Approvals.ValidFor
		case "progress_every":
			dst = &c.Approvals.ProgressEvery
		case "webhook":
			c.Approvals.Webhook = d.webhook(p.key, p.val, kp)
			continue
		default:
			d.unknown(p.key, path, approvalsKeys)
			continue
		}
		if v, ok := d.duration(p.val, kp); ok {
			if v > maxApprovalDuration {
				d.errorf(p.val, kp, "must be at most 24h, not %s", v)
				continue
			}
			*dst = v
		}
	}
}

func (d *decoder) webhook(key, n *yaml.Node, path string) *Webhook {
	n = d.deref(n)
	if isNull(n) {
		return nil
	}
	ps, ok := d.mapping(n, path)
	if !ok {
		return nil
	}
	w := &Webhook{Timeout: DefaultWebhookTimeout, Retries: DefaultWebhookRetries, Queue: DefaultWebhookQueue}
	var urlNode, secretNode *yaml.Node
	for _, p := range ps {
		kp := path + "." + p.key.Value
		switch p.key.Value {
		case "url":
			if d.str(p.val, kp, &w.URL) {
				urlNode = p.val
			}
		case "secret":
			if secretNode != nil {
				d.errorf(p.key, kp, "set one of secret and secret_env, not both")
				continue
			}
			secretNode = p.key
			if d.str(p.val, kp, &w.Secret) && len(w.Secret) < MinWebhookSecretLen {
				d.errorf(p.val, kp, "must have at least %d characters (it signs every delivery)", MinWebhookSecretLen)
			}
		case "secret_env":
			if secretNode != nil {
				d.errorf(p.key, kp, "set one of secret and secret_env, not both")
				continue
			}
			secretNode = p.key
			if !d.str(p.val, kp, &w.SecretEnv) {
				continue
			}
			if !envRE.MatchString(w.SecretEnv) {
				d.errorf(p.val, kp, "%q is not an environment variable name", w.SecretEnv)
				continue
			}
			v, set := d.lookup(w.SecretEnv)
			switch {
			case !set:
				d.errorf(p.val, kp, "environment variable %s is not set", w.SecretEnv)
			case len(v) < MinWebhookSecretLen:
				d.errorf(p.val, kp, "environment variable %s must hold at least %d characters (it signs every delivery)", w.SecretEnv, MinWebhookSecretLen)
			default:
				w.Secret = v
			}
		case "timeout":
			if v, ok := d.duration(p.val, kp); ok {
				w.Timeout = v
			}
		case "retries":
			if v, ok := d.integer(p.val, kp, 0, 20); ok {
				w.Retries = int(v)
			}
		case "queue":
			if v, ok := d.integer(p.val, kp, 1, MaxCount); ok {
				w.Queue = int(v)
			}
		default:
			d.unknown(p.key, path, webhookKeys)
		}
	}
	if urlNode == nil {
		d.errorf(key, path, "needs a url")
	} else if msg := webhookURLProblem(w.URL); msg != "" {
		d.errorf(urlNode, path+".url", "%s", msg)
	}
	if secretNode == nil {
		d.errorf(key, path, "needs a secret: secret_env: NAME (an environment variable) or secret: ${NAME}")
	}
	return w
}

// webhookURLProblem says why u cannot be a webhook or http sink URL ("" when it can),
// by the rule internal/outbound.CheckURL applies when the approval webhook
// or an audit http sink is built.
func webhookURLProblem(u string) string {
	if err := outbound.CheckURL(u); err != nil {
		return err.Error()
	}
	return ""
}

// Keys of the audit section and of its sinks.
var (
	auditKeys     = []string{"enabled", "args", "journal", "instance", "sinks"}
	auditSinkKeys = []string{"type", "path", "max_bytes", "keep", "fsync", "on_error",
		"url", "headers", "batch", "flush", "timeout", "retries", "queue"}
)

// audit reads the audit section.
func (d *decoder) audit(c *Config, n *yaml.Node, path string) {
	ps, ok := d.mapping(n, path)
	if !ok {
		return
	}
	for _, p := range ps {
		kp := path + "." + p.key.Value
		switch p.key.Value {
		case "enabled":
			if b, ok := d.boolean(p.val, kp); ok {
				c.Audit.Enabled = b
			}
		case "args":
			var v string
			if d.str(p.val, kp, &v) {
				switch v {
				case "keys", "redacted", "full":
					c.Audit.Args = v
				default:
					d.errorf(p.val, kp, "must be keys, redacted or full, not %q", v)
				}
			}
		case "journal":
			if b, ok := d.boolean(p.val, kp); ok {
				c.Audit.Journal = b
			}
		case "instance":
			if d.str(p.val, kp, &c.Audit.Instance) && strings.ContainsAny(c.Audit.Instance, "\x00\r\n") {
				d.errorf(p.val, kp, "must be one line")
			}
		case "sinks":
			c.Audit.Sinks = d.auditSinks(c, p.val, kp)
		default:
			d.unknown(p.key, path, auditKeys)
		}
	}
}

func (d *decoder) auditSinks(c *Config, n *yaml.Node, path string) []AuditSink {
	n = d.deref(n)
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		d.errorf(n, path, "must be a list of at least one sink ({type: sqlite}, {type: jsonl, path: ...}, {type: stdout}, {type: http, url: ...}); to turn the audit log off, set enabled: false")
		return nil
	}
	var out []AuditSink
	paths := map[string]int{}
	urls := map[string]int{}
	types := map[string]int{}
	for i, e := range n.Content {
		ep := fmt.Sprintf("%s[%d]", path, i)
		s, typeNode, ok := d.auditSink(c, e, ep)
		if !ok {
			continue
		}
		switch s.Type {
		case SinkHTTP:
			if prev, dup := urls[s.URL]; dup {
				d.errorf(typeNode, ep+".url", "%s[%d] sends to the same URL", path, prev)
				continue
			}
			urls[s.URL] = i
		case SinkSQLite, SinkStdout:
			if prev, dup := types[s.Type]; dup {
				d.errorf(typeNode, ep+".type", "a second %s sink (the first is %s[%d])", s.Type, path, prev)
				continue
			}
			types[s.Type] = i
		default:
			if prev, dup := paths[s.Path]; dup {
				d.errorf(typeNode, ep+".path", "%s[%d] writes to the same file", path, prev)
				continue
			}
			paths[s.Path] = i
		}
		if i == 0 {
			if s.Type == SinkStdout || s.Type == SinkHTTP {
				d.errorf(typeNode, ep+".type", "the first sink is the primary, which keeps the chain: it must be sqlite or jsonl, not %s", s.Type)
			}
			if s.OnError == "continue" {
				d.errorf(typeNode, ep+".on_error", "the first sink is the primary: every decision is committed there before its call is forwarded, so it cannot be on_error: continue")
			}
		}
		out = append(out, s)
	}
	return out
}

func (d *decoder) auditSink(c *Config, n *yaml.Node, path string) (AuditSink, *yaml.Node, bool) {
	ps, ok := d.mapping(n, path)
	if !ok {
		return AuditSink{}, nil, false
	}
	s := AuditSink{OnError: "fail"}
	var typeNode, onErrorNode, urlNode *yaml.Node
	var fsyncSet, retriesSet bool
	var fileOnly, httpOnly []*yaml.Node // keys that only a jsonl, or an http, sink takes
	for _, p := range ps {
		kp := path + "." + p.key.Value
		switch p.key.Value {
		case "type":
			if d.str(p.val, kp, &s.Type) {
				typeNode = p.val
				switch s.Type {
				case SinkSQLite, SinkJSONL, SinkStdout, SinkHTTP:
				default:
					d.errorf(p.val, kp, "must be sqlite, jsonl, stdout or http, not %q", s.Type)
					return s, nil, false
				}
			}
		case "path":
			fileOnly = append(fileOnly, p.key)
			if d.str(p.val, kp, &s.Path) && s.Path == "" {
				d.errorf(p.val, kp, "must not be empty")
			}
		case "max_bytes":
			fileOnly = append(fileOnly, p.key)
			if v, ok := d.size(p.val, kp); ok {
				s.MaxBytes = v
			}
		case "keep":
			fileOnly = append(fileOnly, p.key)
			if v, ok := d.integer(p.val, kp, 1, 1000); ok {
				s.Keep = int(v)
			}
		case "fsync":
			if b, ok := d.boolean(p.val, kp); ok {
				s.Fsync, fsyncSet = b, true
			}
		case "on_error":
			onErrorNode = p.val
			if d.str(p.val, kp, &s.OnError) && s.OnError != "fail" && s.OnError != "continue" {
				d.errorf(p.val, kp, "must be fail or continue, not %q", s.OnError)
			}
		case "url":
			httpOnly = append(httpOnly, p.key)
			if d.str(p.val, kp, &s.URL) {
				urlNode = p.val
			}
		case "headers":
			httpOnly = append(httpOnly, p.key)
			s.Headers = d.headers(p.val, kp, "the sink", "content-type", "content-length", "host", "toolgate-audit-seqs")
		case "batch":
			httpOnly = append(httpOnly, p.key)
			if v, ok := d.integer(p.val, kp, 1, 10000); ok {
				s.Batch = int(v)
			}
		case "flush":
			httpOnly = append(httpOnly, p.key)
			if v, ok := d.duration(p.val, kp); ok {
				s.Flush = v
			}
		case "timeout":
			httpOnly = append(httpOnly, p.key)
			if v, ok := d.duration(p.val, kp); ok {
				s.Timeout = v
			}
		case "retries":
			httpOnly = append(httpOnly, p.key)
			if v, ok := d.integer(p.val, kp, 0, 20); ok {
				s.Retries, retriesSet = int(v), true
			}
		case "queue":
			httpOnly = append(httpOnly, p.key)
			if v, ok := d.integer(p.val, kp, 1, MaxCount); ok {
				s.Queue = int(v)
			}
		default:
			d.unknown(p.key, path, auditSinkKeys)
		}
	}
	if typeNode == nil {
		d.errorf(n, path, "needs a type: sqlite, jsonl, stdout or http")
		return s, nil, false
	}
	if s.Type != SinkHTTP {
		for _, k := range httpOnly {
			d.errorf(k, path+"."+k.Value, "applies to http sinks only, not to %s", s.Type)
		}
	}
	if s.Type != SinkJSONL {
		for _, k := range fileOnly {
			d.errorf(k, path+"."+k.Value, "applies to jsonl sinks only, not to %s", s.Type)
		}
		if (s.Type == SinkStdout || s.Type == SinkHTTP) && fsyncSet {
			art := "a"
			if s.Type == SinkHTTP {
				art = "an"
			}
			d.errorf(typeNode, path+".fsync", "%s %s sink is never fsynced", art, s.Type)
		}
		if s.Type == SinkHTTP {
			return d.httpSink(s, typeNode, onErrorNode, urlNode, path, retriesSet)
		}
		return s, typeNode, true
	}
	if s.Path == "" {
		d.errorf(typeNode, path, "a jsonl sink needs a path")
		return s, nil, false
	}
	s.Path = c.resolve(s.Path)
	if !fsyncSet {
		s.Fsync = true
	}
	if s.MaxBytes == 0 {
		s.MaxBytes = DefaultAuditMaxBytes
	}
	if s.Keep == 0 {
		s.Keep = DefaultAuditKeep
	}
	return s, typeNode, true
}

// httpSink checks an http sink and fills in its defaults. It sends from a
// queue, after the calls it records have gone on: it cannot refuse them,
// so it must say on_error: continue.
func (d *decoder) httpSink(s AuditSink, typeNode, onErrorNode, urlNode *yaml.Node, path string, retriesSet bool) (AuditSink, *yaml.Node, bool) {
	if urlNode == nil {
		d.errorf(typeNode, path, "an http sink needs a url")
		return s, nil, false
	}
	if msg := webhookURLProblem(s.URL); msg != "" {
		d.errorf(urlNode, path+".url", "%s", msg)
	}
	if s.OnError != "continue" {
		at := onErrorNode
		if at == nil {
			at = typeNode
		}
		d.errorf(at, path+".on_error", "an http sink sends after the call has gone on, so it cannot refuse it: write on_error: continue (its losses are logged and counted)")
	}
	if s.Batch == 0 {
		s.Batch = DefaultAuditHTTPBatch
	}
	if s.Flush == 0 {
		s.Flush = DefaultAuditHTTPFlush
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultAuditHTTPTimeout
	}
	if !retriesSet {
		s.Retries = DefaultAuditHTTPRetries
	}
	if s.Queue == 0 {
		s.Queue = DefaultAuditHTTPQueue
	}
	if s.Queue < s.Batch {
		d.errorf(typeNode, path+".queue", "must hold at least one batch (%d events), not %d", s.Batch, s.Queue)
	}
	return s, typeNode, true
}

// breaker reads a server's breaker: {failures: N, cooldown: DURATION}.
func (d *decoder) breaker(n *yaml.Node, path string) Breaker {
	b := Breaker{Failures: DefaultBreakerFailures, Cooldown: DefaultBreakerCooldown}
	ps, ok := d.mapping(n, path)
	if !ok {
		return b
	}
	for _, p := range ps {
		kp := path + "." + p.key.Value
		switch p.key.Value {
		case "failures":
			if v, ok := d.integer(p.val, kp, 0, 1000); ok {
				b.Failures = int(v)
			}
		case "cooldown":
			if t, ok := d.duration(p.val, kp); ok {
				if t <= 0 {
					d.errorf(p.val, kp, "must be more than zero")
				} else {
					b.Cooldown = t
				}
			}
		default:
			d.unknown(p.key, path, []string{"failures", "cooldown"})
		}
	}
	return b
}
