package gateway

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// A tool result of protocol 2026-07-28 may ask the client for input
// (resultType "input_required", with inputRequests and an opaque
// requestState); the client then calls the tool again carrying
// inputResponses and the requestState. The gateway passes both ways, and
// links the retry to the first call:
//
//   - The upstream's requestState never reaches the client. The client gets
//     a state of the gateway's instead: the upstream's, the id of the first
//     call's decision (its audit event), the grant, the tool, a nonce and an
//     expiry, signed with HMAC-SHA256 under Options.RequestStateKey.
//   - A retry must carry such a state, signed by this key, unexpired, for
//     the same grant and tool, and not used before (on this gateway
//     process); otherwise it is refused with -32602 and goes nowhere.
//   - The retry must carry the first call's arguments. It is judged by the
//     pipeline like any call (its arguments are what is judged and what is
//     forwarded), except that it reserves no
//     rate-limit quota and no counter: the first call counted for both
//     (toolgate.Call.Continues). Its audit decision names the first call's
//     decision in continues.
//   - The upstream gets its own requestState back, and nothing else of the
//     gateway's state.

// requestStatePrefix marks a requestState of the gateway's.
const requestStatePrefix = "tg1."

// requestStateTTL bounds how long a client may take to answer an input
// request.
const requestStateTTL = 15 * time.Minute

// requestState is what the gateway's requestState carries.
type requestState struct {
	First    string `json:"f"`           // decision event id of the first call
	Grant    string `json:"g,omitempty"` // the grant that made it
	Tool     string `json:"t"`           // the tool, as the client names it
	Upstream string `json:"u,omitempty"` // the upstream's own requestState
	Args     string `json:"a"`           // digest of the arguments (argsDigest)
	Nonce    string `json:"n"`
	Expires  int64  `json:"e"` // unix seconds
}

// usedStates remembers the nonces of requestStates a retry already used,
// until they expire, so that one input round counts once.
type usedStates struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// use reports whether nonce was unused, and marks it used until exp.
func (u *usedStates) use(nonce string, exp time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := time.Now()
	if u.seen == nil {
		u.seen = map[string]time.Time{}
	}
	if len(u.seen) > 1024 {
		for k, t := range u.seen {
			if now.After(t) {
				delete(u.seen, k)
			}
		}
	}
	if _, ok := u.seen[nonce]; ok {
		return false
	}
	u.seen[nonce] = exp
	return true
}

func (g *Gateway) signState(payload []byte) string {
	m := hmac.New(sha256.New, g.stateKey)
	m.Write(payload)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// wrapState makes the requestState the client gets.
func (g *Gateway) wrapState(st requestState) string {
	var n [12]byte
	_, _ = rand.Read(n[:])
	st.Nonce = hex.EncodeToString(n[:])
	st.Expires = time.Now().Add(requestStateTTL).Unix()
	payload, _ := json.Marshal(st)
	return requestStatePrefix + base64.RawURLEncoding.EncodeToString(payload) + "." + g.signState(payload)
}

// argsDigest names a call's arguments: a retry must carry the arguments
// of the call that asked for input, or one counted call would open the
// way to uncounted calls with other arguments.
func argsDigest(args map[string]any) string {
	b, _ := json.Marshal(args) // map keys sorted: one spelling per value
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// unwrapState checks a retry's requestState for the grant, tool and
// arguments; the error is what the client is told.
func (g *Gateway) unwrapState(raw, grant, tool string, args map[string]any) (*requestState, *jsonrpc.Error) {
	bad := func(why string) *jsonrpc.Error {
		return rpcError(codeInvalidParams, "tools/call: requestState "+why+"; call the tool again without inputResponses and requestState")
	}
	rest, ok := strings.CutPrefix(raw, requestStatePrefix)
	if !ok {
		return nil, bad("was not issued by toolgate")
	}
	enc, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return nil, bad("was not issued by toolgate")
	}
	payload, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || !hmac.Equal([]byte(sig), []byte(g.signState(payload))) {
		return nil, bad("was not issued by toolgate, or was altered")
	}
	var st requestState
	if err := json.Unmarshal(payload, &st); err != nil {
		return nil, bad("was not issued by toolgate")
	}
	exp := time.Unix(st.Expires, 0)
	switch {
	case time.Now().After(exp):
		return nil, bad("has expired")
	case st.Grant != grant || st.Tool != tool:
		return nil, bad("belongs to another call")
	case st.Args != argsDigest(args):
		return nil, bad("belongs to a call with other arguments")
	case !g.usedStates.use(st.Nonce, exp):
		return nil, bad("was used already")
	}
	return &st, nil
}

// retryState reads the requestState of a tools/call; "" when none.
func retryState(params json.RawMessage) (string, bool) {
	var p struct {
		RequestState *string `json:"requestState"`
	}
	if json.Unmarshal(params, &p) != nil || p.RequestState == nil {
		return "", false
	}
	return *p.RequestState, true
}

// withRequestState returns params with requestState set to v, or taken
// out when v is "".
func withRequestState(params json.RawMessage, v string) (json.RawMessage, error) {
	var p map[string]json.RawMessage
	if err := json.Unmarshal(params, &p); err != nil {
		return nil, err
	}
	if v == "" {
		delete(p, "requestState")
	} else {
		p["requestState"], _ = json.Marshal(v)
	}
	return json.Marshal(p)
}

// inputRequired reports whether a tool result asks for input, and its
// requestState.
func inputRequired(result json.RawMessage) (state string, ok bool) {
	var r struct {
		ResultType   string `json:"resultType"`
		RequestState string `json:"requestState"`
	}
	if json.Unmarshal(result, &r) != nil || r.ResultType != "input_required" {
		return "", false
	}
	return r.RequestState, true
}
