package gateway

import (
	"bytes"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// FuzzDecode feeds the front's decoder arbitrary bodies: it must never
// panic, must classify every failure as a parse or invalid-request error,
// and what it accepts must survive a round trip.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":"a","result":{}}`,
		`{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"nope"}}`,
		`[{"jsonrpc":"2.0","id":1,"method":"ping"}]`,
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
		if err := checkDepth(data, 64); err != nil {
			return
		}
		_ = isBatch(data)
		msg, err := decodeMessage(data)
		if err != nil {
			e := decodeError(data, err)
			if e.Code != codeParse && e.Code != codeInvalidRequest {
				t.Fatalf("decode failure classified as %d", e.Code)
			}
			return
		}
		raw, err := jsonrpc.EncodeMessage(msg)
		if err != nil {
			// Only params/result that are not valid JSON on their own could
			// fail, and json.Unmarshal never yields those.
			t.Fatalf("re-encoding %q: %v", data, err)
		}
		again, err := decodeMessage(raw)
		if err != nil {
			t.Fatalf("round trip of %q: %v", raw, err)
		}
		if _, ok := again.(*jsonrpc.Request); ok != isRequest(msg) {
			t.Fatalf("round trip changed the message kind")
		}
	})
}

// FuzzSSE reads arbitrary event streams: no panic, no event over the bound.
func FuzzSSE(f *testing.F) {
	f.Add([]byte("event: message\ndata: {\"a\":1}\n\n"))
	f.Add([]byte("data: a\ndata: b\r\n\r\n: comment\n\nid: 7\ndata: c"))
	f.Add([]byte("data:" + strings.Repeat("x", 300) + "\n\n"))
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

func isRequest(m jsonrpc.Message) bool {
	_, ok := m.(*jsonrpc.Request)
	return ok
}
