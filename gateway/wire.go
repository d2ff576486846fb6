package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/toolgate/toolgate/internal/canonjson"
)

// Protocol revisions the front negotiates, newest first.
var supportedVersions = []string{"2025-11-25", "2025-06-18", "2025-03-26"}

const latestVersion = "2025-11-25"

func versionSupported(v string) bool {
	for _, s := range supportedVersions {
		if s == v {
			return true
		}
	}
	return false
}

// JSON-RPC error codes the gateway emits besides the standard ones.
const (
	codeParse          = jsonrpc.CodeParseError
	codeInvalidRequest = jsonrpc.CodeInvalidRequest
	codeMethodNotFound = jsonrpc.CodeMethodNotFound
	codeInvalidParams  = jsonrpc.CodeInvalidParams
	codeInternal       = jsonrpc.CodeInternalError
	codeUnavailable    = -32002
)

// rpcError builds a JSON-RPC error for a toolgate error code.
func rpcError(code int64, msg string) *jsonrpc.Error {
	return &jsonrpc.Error{Code: code, Message: msg}
}

// encodeResponse encodes a response with a raw result or an error. result
// must be canonical JSON, as decodeMessage leaves it or encoding/json
// writes it.
func encodeResponse(id jsonrpc.ID, result json.RawMessage, rerr *jsonrpc.Error) []byte {
	b := make([]byte, 0, len(result)+48)
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = appendID(b, id)
	if rerr != nil {
		b = append(b, `,"error":`...)
		b = appendError(b, rerr)
	} else {
		if len(result) == 0 {
			result = json.RawMessage(`{}`)
		}
		b = append(b, `,"result":`...)
		b = append(b, result...)
	}
	return append(b, '}')
}

// encodeRequest encodes a request, or with an invalid id a notification.
// params must be canonical JSON, or empty for none.
func encodeRequest(id jsonrpc.ID, method string, params json.RawMessage) []byte {
	b := make([]byte, 0, len(params)+len(method)+48)
	b = append(b, `{"jsonrpc":"2.0"`...)
	if id.IsValid() {
		b = append(b, `,"id":`...)
		b = appendID(b, id)
	}
	b = append(b, `,"method":`...)
	b = canonjson.AppendString(b, method)
	if len(params) > 0 {
		b = append(b, `,"params":`...)
		b = append(b, params...)
	}
	return append(b, '}')
}

func appendID(b []byte, id jsonrpc.ID) []byte {
	switch v := id.Raw().(type) {
	case int64:
		return strconv.AppendInt(b, v, 10)
	case string:
		return canonjson.AppendString(b, v)
	}
	return append(b, "null"...)
}

func appendError(b []byte, e *jsonrpc.Error) []byte {
	b = append(b, `{"code":`...)
	b = strconv.AppendInt(b, e.Code, 10)
	b = append(b, `,"message":`...)
	b = canonjson.AppendString(b, e.Message)
	if len(e.Data) > 0 {
		if data, err := canonjson.Append(nil, e.Data, maxUpstreamDepth); err == nil {
			b = append(b, `,"data":`...)
			b = append(b, data...)
		}
	}
	return append(b, '}')
}

// encodeErrorNullID encodes an error response whose id could not be read.
func encodeErrorNullID(code int64, msg string) []byte {
	return encodeResponse(jsonrpc.ID{}, nil, rpcError(code, msg))
}

// hasLineBreak reports whether b holds a byte sequence some line reader
// takes for the end of a line: LF, CR, NEL, LINE or PARAGRAPH SEPARATOR.
func hasLineBreak(b []byte) bool {
	return bytes.IndexByte(b, '\n') >= 0 || bytes.IndexByte(b, '\r') >= 0 ||
		bytes.Contains(b, []byte("\u0085")) || bytes.Contains(b, []byte("\u2028")) || bytes.Contains(b, []byte("\u2029"))
}

var errLineBreak = errors.New("refusing to write a message with a raw line break")

// lineSafe returns a message ready for a line-delimited stream. Messages
// the gateway decoded are canonical and pass as they are; one it built
// with encoding/json may hold a raw NEL, LINE or PARAGRAPH SEPARATOR in a
// string, which its canonical form escapes. A line break that is not
// inside a string (not JSON the gateway wrote) is refused: a
// line-splitting reader would take what follows for a second message
// that nobody judged.
func lineSafe(raw []byte) ([]byte, error) {
	if !hasLineBreak(raw) {
		return raw, nil
	}
	c, err := canonjson.Append(nil, raw, maxUpstreamDepth)
	if err != nil || hasLineBreak(c) {
		return nil, errLineBreak
	}
	return c, nil
}

// maxUpstreamDepth bounds the nesting of what an upstream sends.
const maxUpstreamDepth = 512

// names is a set of member names read by exact spelling, with a lookup of
// the case variants Go's encoding/json (and so many servers) would take
// for them.
type names struct {
	exact map[string]bool
	fold  map[string]string // folded → exact
}

func nameSet(list ...string) names {
	n := names{exact: make(map[string]bool, len(list)), fold: make(map[string]string, len(list))}
	for _, s := range list {
		n.exact[s] = true
		n.fold[canonjson.Fold(s)] = s
	}
	return n
}

// variant returns the name key is a case variant of ("Method" of
// "method"), or "" when key is a name itself or no name's variant.
func (n names) variant(key []byte) string {
	if n.exact[string(key)] {
		return ""
	}
	return n.fold[canonjson.Fold(string(key))]
}

var (
	envelopeNames = nameSet("jsonrpc", "id", "method", "params", "result", "error")
	errorNames    = nameSet("code", "message", "data")
	// paramNames are the members of MCP request and notification params
	// that the gateway or an upstream acts on; a case variant of one is
	// refused, since a case-insensitive reader upstream would take it for
	// the member itself.
	paramNames = nameSet("_meta", "name", "arguments", "uri", "cursor", "ref", "argument", "context",
		"level", "requestId", "reason", "protocolVersion", "capabilities", "clientInfo",
		"progressToken", "progress", "total", "message", "task", "taskId", "ttl")
	metaNames = nameSet("progressToken")
	refNames  = nameSet("type", "name", "uri")
)

// errInvalid builds the -32600 error of a message read strictly.
func errInvalid(format string, args ...any) *jsonrpc.Error {
	return rpcError(codeInvalidRequest, "invalid request: "+fmt.Sprintf(format, args...))
}

// decodeMessage reads one JSON-RPC message strictly and returns it with
// its wire form re-encoded from exactly what was read: canonical JSON (no
// duplicate or case-variant keys anywhere, no raw line breaks, one string
// escaping) holding only the members the gateway decided on. Every byte the
// gateway forwards comes from here or from its own encoders, never from the
// sender's bytes. Malformed JSON is -32700, a wrong shape -32600.
func decodeMessage(data []byte, maxDepth int) (message, *jsonrpc.Error) {
	canon, err := canonjson.Append(make([]byte, 0, len(data)), data, maxDepth)
	if err != nil {
		var ce *canonjson.Error
		if errors.As(err, &ce) && ce.Kind == canonjson.Syntax {
			return message{}, rpcError(codeParse, "parse error: "+ce.Error())
		}
		return message{}, errInvalid("%v", err)
	}
	if canon[0] != '{' {
		return message{}, errInvalid("a JSON-RPC message is an object")
	}
	var version, id, method, params, result, rerr []byte
	err = canonjson.EachMember(canon, func(k, v []byte) error {
		switch string(k) {
		case "jsonrpc":
			version = v
		case "id":
			id = v
		case "method":
			method = v
		case "params":
			params = v
		case "result":
			result = v
		case "error":
			rerr = v
		default:
			if exact := envelopeNames.variant(k); exact != "" {
				return errInvalid("member %q must be spelled %q", k, exact)
			}
			// Other members mean nothing to JSON-RPC: left out.
		}
		return nil
	})
	if err != nil {
		return message{}, asWireError(err)
	}
	if string(version) != `"2.0"` {
		return message{}, errInvalid(`"jsonrpc" must be "2.0"`)
	}
	mid, ok := readID(id)
	if !ok {
		return message{}, errInvalid("id must be a string or an integer of at most 2^53")
	}
	if method != nil {
		if result != nil || rerr != nil {
			return message{}, errInvalid("a message is a request or a response, not both")
		}
		m, ok := readString(method)
		if !ok || m == "" {
			return message{}, errInvalid("method must be a non-empty string")
		}
		if string(params) == "null" {
			params = nil
		}
		if params != nil {
			if params[0] != '{' && params[0] != '[' {
				return message{}, errInvalid("params must be an object or an array")
			}
			if e := checkParams(params); e != nil {
				return message{}, e
			}
		}
		req := &jsonrpc.Request{ID: mid, Method: m, Params: params}
		return message{msg: req, raw: encodeRequest(mid, m, params)}, nil
	}
	if !mid.IsValid() && rerr == nil {
		return message{}, errInvalid("a response needs an id, a request a method")
	}
	resp := &jsonrpc.Response{ID: mid}
	var werr *jsonrpc.Error
	switch {
	case rerr != nil && result != nil:
		return message{}, errInvalid("a response has a result or an error, not both")
	case rerr != nil:
		var e *jsonrpc.Error
		if werr, e = readError(rerr); e != nil {
			return message{}, e
		}
		resp.Error = werr
	case result != nil:
		resp.Result = result
	default:
		return message{}, errInvalid("a response needs a result or an error")
	}
	return message{msg: resp, raw: encodeResponse(mid, resp.Result, werr)}, nil
}

// validToken reports whether a canonical value is a progress token as MCP
// defines one: a string or an integer. Anything else (an object, say)
// could not serve as a map key or be compared.
func validToken(v []byte) bool {
	if len(v) == 0 {
		return false
	}
	if v[0] == '"' {
		return true
	}
	_, err := strconv.ParseInt(string(v), 10, 64)
	return err == nil
}

// readString reads a canonical JSON string.
func readString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	if bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1]), true
	}
	var s string
	return s, json.Unmarshal(v, &s) == nil
}

// maxExactID is the largest integer id float64 holds exactly (2^53).
const maxExactID = 1 << 53

// readID reads a canonical id: absent or null (invalid ID), a string, or
// an integer that int64 holds exactly.
func readID(v []byte) (jsonrpc.ID, bool) {
	if v == nil || string(v) == "null" {
		return jsonrpc.ID{}, true
	}
	switch v[0] {
	case '"':
		s, ok := readString(v)
		if !ok {
			return jsonrpc.ID{}, false
		}
		return stringID(s), true
	case '{', '[', 't', 'f':
		return jsonrpc.ID{}, false
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil || n > maxExactID || n < -maxExactID {
		// The jsonrpc package keeps integer ids as float64 on the way
		// out: a larger one would come back changed.
		return jsonrpc.ID{}, false
	}
	return intID(n), true
}

func readError(v []byte) (*jsonrpc.Error, *jsonrpc.Error) {
	var e jsonrpc.Error
	var code, msg bool
	err := canonjson.EachMember(v, func(k, x []byte) error {
		switch string(k) {
		case "code":
			n, err := strconv.ParseInt(string(x), 10, 64)
			if err != nil {
				return errInvalid("error.code must be an integer")
			}
			e.Code, code = n, true
		case "message":
			if x[0] != '"' || json.Unmarshal(x, &e.Message) != nil {
				return errInvalid("error.message must be a string")
			}
			msg = true
		case "data":
			e.Data = x
		default:
			if exact := errorNames.variant(k); exact != "" {
				return errInvalid("member %q must be spelled %q", k, exact)
			}
		}
		return nil
	})
	if err != nil {
		return nil, asWireError(err)
	}
	if !code || !msg {
		return nil, errInvalid("an error needs a code and a message")
	}
	return &e, nil
}

// checkParams refuses case variants of the members MCP gives meaning to,
// in params, params._meta and params.ref.
func checkParams(params []byte) *jsonrpc.Error {
	if params[0] != '{' {
		return nil
	}
	err := canonjson.EachMember(params, func(k, v []byte) error {
		if exact := paramNames.variant(k); exact != "" {
			return errInvalid("params member %q must be spelled %q", k, exact)
		}
		if string(k) == "progressToken" && !validToken(v) {
			return errInvalid("params.progressToken must be a string or an integer")
		}
		var sub names
		switch string(k) {
		case "_meta":
			sub = metaNames
		case "ref":
			sub = refNames
		default:
			return nil
		}
		if v[0] != '{' {
			return nil
		}
		return canonjson.EachMember(v, func(k2, v2 []byte) error {
			if exact := sub.variant(k2); exact != "" {
				return errInvalid("params.%s member %q must be spelled %q", k, k2, exact)
			}
			if string(k) == "_meta" && string(k2) == "progressToken" && !validToken(v2) {
				return errInvalid("params._meta.progressToken must be a string or an integer")
			}
			return nil
		})
	})
	if err != nil {
		return asWireError(err)
	}
	return nil
}

// isBatch reports whether data holds a JSON array (a JSON-RPC batch).
func isBatch(data []byte) bool {
	for _, c := range data {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '[':
			return true
		}
		return false
	}
	return false
}

// idKey turns a JSON-RPC id into a comparable map key.
func idKey(id jsonrpc.ID) any { return id.Raw() }

// stringID and intID build request ids (the jsonrpc package exports only MakeID).
func stringID(s string) jsonrpc.ID {
	id, _ := jsonrpc.MakeID(s)
	return id
}

func intID(n int64) jsonrpc.ID {
	id, _ := jsonrpc.MakeID(float64(n))
	return id
}

// rawID turns the value of ID.Raw (int64 or string) back into an ID.
func rawID(v any) jsonrpc.ID {
	switch v := v.(type) {
	case int64:
		return intID(v)
	case string:
		return stringID(v)
	}
	return jsonrpc.ID{}
}
