package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/toolgate/toolgate"
)

// DefaultCallURL is where `toolgate call` connects unless told otherwise:
// the MCP endpoint of `toolgate serve` with the default listen address.
const DefaultCallURL = "http://127.0.0.1:8080/mcp"

func newCallCmd(a *app) *cobra.Command {
	var (
		url     string
		headers []string
		output  string
	)
	cmd := &cobra.Command{
		Use:   "call TOOL [key=value | key:=json]...",
		Short: "Call one MCP tool and print its result",
		Long: `call connects to an MCP endpoint (a toolgate gateway, or any streamable-HTTP
MCP server), calls one tool and prints the result.

Arguments are key=value pairs, coerced by the tool's inputSchema (a number
for a number property, true/false for a boolean, JSON for an array or an
object), or key:=json for a raw JSON value:

  toolgate call UpdateUser user_id=user_2abc first_name=Ada
  toolgate call UpdateUser user_id=user_2abc public_metadata:='{"plan":"pro"}'

A refused or failed call prints the reason on stderr and exits non-zero
(4 when a policy denied it).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "pretty" && output != "json" {
				return toolgate.Errorf(toolgate.Invalid, "-o must be pretty or json, not %q", output)
			}
			hdr, err := parseHeaders(headers)
			if err != nil {
				return err
			}
			return a.call(cmd.Context(), url, hdr, args[0], args[1:], output)
		},
	}
	f := cmd.Flags()
	f.StringVar(&url, "url", DefaultCallURL, "MCP endpoint URL")
	f.StringArrayVar(&headers, "header", nil, "HTTP header K=V (or \"K: V\") sent with every request; repeatable")
	f.StringVarP(&output, "output", "o", "pretty", "output: pretty or json")
	return cmd
}

func parseHeaders(list []string) (http.Header, error) {
	h := http.Header{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if c, cv, cok := strings.Cut(kv, ":"); cok && (!ok || len(c) < len(k)) {
			k, v, ok = c, cv, true
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, toolgate.Errorf(toolgate.Invalid, "--header %q: want K=V", kv)
		}
		h.Add(k, v)
	}
	return h, nil
}

// headerTransport adds fixed headers to every request.
type headerTransport struct {
	base http.RoundTripper
	h    http.Header
}

func (t *headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, vs := range t.h {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	return t.base.RoundTrip(r)
}

func (a *app) call(ctx context.Context, url string, hdr http.Header, tool string, raw []string, output string) error {
	client := mcp.NewClient(&mcp.Implementation{Name: "toolgate-call", Version: shortVersion()}, nil)
	hc := &http.Client{Transport: &headerTransport{base: http.DefaultTransport, h: hdr}}
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: hc}, nil)
	if err != nil {
		return &toolgate.Error{Code: toolgate.Unavailable, Message: "cannot connect to " + url, Err: err}
	}
	defer cs.Close()
	schema := toolSchema(ctx, cs, tool)
	args, err := coerceArgs(raw, schema)
	if err != nil {
		return err
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		return &toolgate.Error{Code: toolgate.Unavailable, Message: "calling " + tool + " failed", Err: err}
	}
	if output == "json" {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return fmt.Errorf("writing the result: %w", err)
		}
	} else if !res.IsError {
		printResult(a.stdout, res)
	}
	if res.IsError {
		text := resultText(res)
		fmt.Fprintln(a.stderr, text)
		code := toolgate.Internal
		if strings.HasPrefix(text, "[POLICY DENIED]") {
			code = toolgate.Forbidden
		}
		return &reportedError{err: &toolgate.Error{Code: code, Message: text}}
	}
	if output == "pretty" {
		fmt.Fprintln(a.stdout, summary(tool, args))
	}
	return nil
}

// toolSchema returns the properties' JSON types of tool's inputSchema, or
// nil when the tool is not listed (the call then goes out as typed).
func toolSchema(ctx context.Context, cs *mcp.ClientSession, tool string) map[string]string {
	for t, err := range cs.Tools(ctx, nil) {
		if err != nil {
			return nil
		}
		if t.Name != tool {
			continue
		}
		var s struct {
			Properties map[string]struct {
				Type any `json:"type"`
			} `json:"properties"`
		}
		b, err := json.Marshal(t.InputSchema)
		if err != nil || json.Unmarshal(b, &s) != nil {
			return nil
		}
		types := map[string]string{}
		for name, p := range s.Properties {
			switch v := p.Type.(type) {
			case string:
				types[name] = v
			case []any: // ["string","null"]: the first non-null type
				for _, x := range v {
					if xs, ok := x.(string); ok && xs != "null" {
						types[name] = xs
						break
					}
				}
			}
		}
		return types
	}
	return nil
}

// coerceArgs turns key=value and key:=json into arguments.
func coerceArgs(raw []string, types map[string]string) (map[string]any, error) {
	args := map[string]any{}
	for _, kv := range raw {
		if k, v, ok := strings.Cut(kv, ":="); ok && k != "" && !strings.Contains(k, "=") {
			var x any
			if err := json.Unmarshal([]byte(v), &x); err != nil {
				return nil, toolgate.Errorf(toolgate.Invalid, "argument %s: not valid JSON: %v", k, err)
			}
			args[k] = x
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, toolgate.Errorf(toolgate.Invalid, "argument %q: want key=value or key:=json", kv)
		}
		x, err := coerce(v, types[k])
		if err != nil {
			return nil, toolgate.Errorf(toolgate.Invalid, "argument %s: %v", k, err)
		}
		args[k] = x
	}
	return args, nil
}

func coerce(v, typ string) (any, error) {
	switch typ {
	case "integer":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", v)
		}
		return n, nil
	case "number":
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", v)
		}
		return n, nil
	case "boolean":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", v)
		}
		return b, nil
	case "array", "object":
		var x any
		if err := json.Unmarshal([]byte(v), &x); err != nil {
			return nil, fmt.Errorf("want JSON for an %s: %v", typ, err)
		}
		return x, nil
	case "null":
		return nil, nil
	}
	return v, nil
}

func resultText(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, t.Text)
		}
	}
	return strings.Join(parts, "\n")
}

func printResult(w io.Writer, res *mcp.CallToolResult) {
	for _, c := range res.Content {
		switch c := c.(type) {
		case *mcp.TextContent:
			fmt.Fprintln(w, prettyJSON(c.Text))
		default:
			b, _ := json.MarshalIndent(c, "", "  ")
			fmt.Fprintln(w, string(b))
		}
	}
	if res.StructuredContent != nil && len(res.Content) == 0 {
		b, _ := json.MarshalIndent(res.StructuredContent, "", "  ")
		fmt.Fprintln(w, string(b))
	}
}

// prettyJSON indents s when it is a JSON object or array.
func prettyJSON(s string) string {
	t := strings.TrimSpace(s)
	if len(t) == 0 || (t[0] != '{' && t[0] != '[') {
		return s
	}
	var x any
	if json.Unmarshal([]byte(t), &x) != nil {
		return s
	}
	b, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		return s
	}
	return string(b)
}

var pastTense = map[string]string{
	"add": "added", "ban": "banned", "create": "created", "delete": "deleted", "get": "retrieved",
	"list": "listed", "lock": "locked", "remove": "removed", "revoke": "revoked", "set": "set",
	"unban": "unbanned", "unlock": "unlocked", "update": "updated", "verify": "verified",
}

// summary is the one-line account of a successful call, e.g. "Successfully
// updated user user_2abc" for UpdateUser {user_id: user_2abc}.
func summary(tool string, args map[string]any) string {
	words := splitName(tool)
	if len(words) >= 2 {
		if past, ok := pastTense[words[0]]; ok {
			s := "Successfully " + past + " " + strings.Join(words[1:], " ")
			if id := identifier(args); id != "" {
				s += " " + id
			}
			return s
		}
	}
	return "Successfully called " + tool
}

// identifier picks the argument that names the object acted on.
func identifier(args map[string]any) string {
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, pref := range []string{"user_id", "userId", "id", "email"} {
		if v, ok := args[pref].(string); ok && v != "" {
			return v
		}
	}
	for _, k := range keys {
		if strings.HasSuffix(k, "_id") || strings.HasSuffix(k, "Id") {
			if v, ok := args[k].(string); ok && v != "" {
				return v
			}
		}
	}
	return ""
}

// splitName splits UpdateUser, update_user and update-user into lowercase words.
func splitName(name string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		switch {
		case r == '_' || r == '-' || r == ' ' || r == '.':
			flush()
		case unicode.IsUpper(r) && len(cur) > 0 && (unicode.IsLower(cur[len(cur)-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return words
}
