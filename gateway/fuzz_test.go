package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// FuzzDecode is a differential fuzz of the front's decoder. Whatever it
// accepts, a strict reader that matches keys exactly and refuses duplicates
// (as the TypeScript and Python SDKs read a message) must read the same
// method, id, tool name and arguments from the sender's bytes, from the
// gateway's decision and from the bytes the gateway forwards; the forwarded
// bytes hold no raw line break and are their own canonical form. Refusals
// are parse or invalid-request errors.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","Method":"x","params":{"name":"echo"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","Name":"b"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","Arguments":{"x":1}}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"x":1,"x":2}}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","paramſ":{"name":"a"}}`,
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"a\"}}\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\"}",
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":"a","result":{}}`,
		`{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"nope"}}`,
		`{"jsonrpc":"1.0","id":1,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":1.5,"method":""}`,
		`{"jsonrpc":"2.0","id":{},"method":"x"}`,
		`{"jsonrpc":"2.0","id":null}`,
		`{"a":` + strings.Repeat("[", 100),
		"\xff\xfe",
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, e := decodeMessage(data, 64)
		if e != nil {
			if e.Code != codeParse && e.Code != codeInvalidRequest {
				t.Fatalf("decode failure classified as %d", e.Code)
			}
			return
		}
		if bytes.ContainsAny(m.raw, "\r\n") {
			t.Fatalf("forwarded bytes %q hold a raw line break", m.raw)
		}
		again, e := decodeMessage(m.raw, 64)
		if e != nil || !bytes.Equal(again.raw, m.raw) {
			t.Fatalf("forwarded bytes %q do not decode to themselves: %q, %v", m.raw, again.raw, e)
		}
		sent, err := strictRead(data)
		if err != nil {
			t.Fatalf("the gateway accepted %q, which a strict reader refuses: %v", data, err)
		}
		fwd, err := strictRead(m.raw)
		if err != nil {
			t.Fatalf("a strict reader refuses the forwarded %q: %v", m.raw, err)
		}
		decided := map[string]any{}
		if req, ok := m.msg.(*jsonrpc.Request); ok {
			decided["method"] = req.Method
			if req.ID.IsValid() {
				decided["id"] = req.ID.Raw()
			}
			var p struct {
				Name      any `json:"name"`
				Arguments any `json:"arguments"`
			}
			pd := json.NewDecoder(bytes.NewReader(req.Params))
			pd.UseNumber()
			if pd.Decode(&p) == nil {
				decided["name"], decided["arguments"] = p.Name, p.Arguments
			}
		}
		for _, k := range []string{"method", "id", "name", "arguments"} {
			if !reflect.DeepEqual(sent[k], decided[k]) || !reflect.DeepEqual(fwd[k], decided[k]) {
				t.Fatalf("%s: sent %#v, decided %#v, forwarded %#v (input %q)", k, sent[k], decided[k], fwd[k], data)
			}
		}
	})
}

// strictRead reads a JSON-RPC request as a case-sensitive reader does:
// exact keys, duplicates refused. It returns method, id, params.name and
// params.arguments when present.
func strictRead(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := strictValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the message")
	}
	out := map[string]any{}
	env, ok := v.(map[string]any)
	if !ok {
		return out, nil
	}
	if m, ok := env["method"]; ok {
		out["method"] = m
		if id, ok := env["id"]; ok && id != nil {
			if n, ok := id.(json.Number); ok {
				if id, err = n.Int64(); err != nil {
					return nil, err
				}
			}
			out["id"] = id
		}
		if p, ok := env["params"].(map[string]any); ok {
			out["name"], out["arguments"] = p["name"], p["arguments"]
		}
	}
	return out, nil
}

func strictValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		m := map[string]any{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key := k.(string)
			if _, dup := m[key]; dup {
				return nil, fmt.Errorf("duplicate key %q", key)
			}
			if m[key], err = strictValue(dec); err != nil {
				return nil, err
			}
		}
		_, err := dec.Token()
		return m, err
	case json.Delim('['):
		var a []any
		for dec.More() {
			v, err := strictValue(dec)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		if a == nil {
			a = []any{}
		}
		_, err := dec.Token()
		return a, err
	}
	return tok, nil
}

// FuzzSSE reads arbitrary event streams: no panic, no event over the bound.
func FuzzSSE(f *testing.F) {
	f.Add([]byte("event: message\ndata: {\"a\":1}\n\n"))
	f.Add([]byte("data: a\ndata: b\r\n\r\n: comment\n\nid: 7\ndata: c"))
	f.Add([]byte("data:" + strings.Repeat("x", 300) + "\n\n"))
	f.Add([]byte("id: 0_1\ndata: \n\ndata: {}\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sr := newSSEReader(bytes.NewReader(data), 256)
		defer sr.release()
		for i := 0; i < 10000; i++ {
			ev, err := sr.next()
			if err != nil {
				return
			}
			if len(ev) > 256 {
				t.Fatalf("event of %d bytes passed a 256-byte bound", len(ev))
			}
		}
	})
}
