package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
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

// encodeResponse encodes a response with a raw result or an error.
func encodeResponse(id jsonrpc.ID, result json.RawMessage, rerr *jsonrpc.Error) []byte {
	resp := &jsonrpc.Response{ID: id, Result: result}
	if rerr != nil {
		resp.Error = rerr
		resp.Result = nil
	}
	data, err := jsonrpc.EncodeMessage(resp)
	if err != nil {
		// Only reachable with an invalid raw result; report that instead.
		data, _ = jsonrpc.EncodeMessage(&jsonrpc.Response{ID: id, Error: rpcError(codeInternal, "internal error")})
	}
	return data
}

// encodeErrorNullID encodes an error response whose id could not be read.
func encodeErrorNullID(code int64, msg string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"jsonrpc":"2.0","id":null,"error":{"code":`)
	b.WriteString(strconv.FormatInt(code, 10))
	b.WriteString(`,"message":`)
	m, _ := json.Marshal(msg)
	b.Write(m)
	b.WriteString(`}}`)
	return b.Bytes()
}

var errTooDeep = errors.New("JSON nesting too deep")

// checkDepth reports whether data nests arrays and objects deeper than max.
// It scans bytes only, so hostile input costs one pass and no allocation.
func checkDepth(data []byte, max int) error {
	depth := 0
	inString := false
	escaped := false
	for _, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > max {
				return fmt.Errorf("%w (more than %d levels)", errTooDeep, max)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// decodeError classifies a failure to decode one JSON-RPC message:
// invalid JSON is a parse error, valid JSON of the wrong shape an invalid request.
func decodeError(data []byte, err error) *jsonrpc.Error {
	if !json.Valid(data) {
		return rpcError(codeParse, "parse error: body is not valid JSON")
	}
	return rpcError(codeInvalidRequest, "invalid request: "+trimErr(err))
}

func trimErr(err error) string {
	s := err.Error()
	const p = "decoding JSON-RPC message: "
	if len(s) > len(p) && s[:len(p)] == p {
		s = s[len(p):]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
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

// wireMessage is the decode form of any JSON-RPC message.
type wireMessage struct {
	Version string          `json:"jsonrpc"`
	ID      any             `json:"id,omitempty"`
	Method  *string         `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *jsonrpc.Error  `json:"error,omitempty"`
}

var errNotJSONRPC = errors.New(`not a JSON-RPC 2.0 message: "jsonrpc" must be "2.0"`)

// decodeMessage decodes one JSON-RPC message, as jsonrpc.DecodeMessage does
// but with encoding/json, which allocates far less per message on the hot
// path (the SDK's decoder reserves a large buffer for every call).
func decodeMessage(data []byte) (jsonrpc.Message, error) {
	var w wireMessage
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("decoding JSON-RPC message: %w", err)
	}
	if w.Version != "2.0" {
		return nil, errNotJSONRPC
	}
	id, err := jsonrpc.MakeID(w.ID)
	if err != nil {
		return nil, fmt.Errorf("decoding JSON-RPC message: id must be a number or a string")
	}
	if w.Method != nil {
		if *w.Method == "" {
			return nil, errors.New("decoding JSON-RPC message: method must not be empty")
		}
		return &jsonrpc.Request{ID: id, Method: *w.Method, Params: w.Params}, nil
	}
	if !id.IsValid() {
		return nil, errors.New("decoding JSON-RPC message: a response needs an id, a request a method")
	}
	r := &jsonrpc.Response{ID: id, Result: w.Result}
	if w.Error != nil {
		r.Error = w.Error
	}
	return r, nil
}
