package gateway

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// pendingCalls is the table of requests an upstream connection that
// carries every message on one stream (a stdio process's stdout, a legacy
// SSE stream) has sent and not yet had answered, by the gateway's request
// id: the reader hands each response to its call, and progress to the call
// whose token it carries.
type pendingCalls struct {
	mu    sync.Mutex
	calls map[any]*pendingCall // nil once the connection has ended
	err   error                // why it ended
}

type pendingCall struct {
	resp    chan message
	related func(message)
	token   any // progress token of the call, if any
}

func newPendingCalls() *pendingCalls {
	return &pendingCalls{calls: map[any]*pendingCall{}}
}

// add records req as waiting for its answer; it fails once the connection
// has ended (with why), or when the id is already in flight.
func (p *pendingCalls) add(req *jsonrpc.Request, related func(message)) (any, *pendingCall, error) {
	c := &pendingCall{resp: make(chan message, 1), related: related, token: progressToken(req.Params)}
	key := idKey(req.ID)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.calls == nil {
		return nil, nil, p.err
	}
	if _, dup := p.calls[key]; dup {
		return nil, nil, fmt.Errorf("request id %v is already in flight", req.ID.Raw())
	}
	p.calls[key] = c
	return key, c, nil
}

// forget drops a call that no longer waits.
func (p *pendingCalls) forget(key any) {
	p.mu.Lock()
	delete(p.calls, key)
	p.mu.Unlock()
}

// end records why the connection ended and wakes every waiting call
// (its resp channel closes).
func (p *pendingCalls) end(err error) {
	p.mu.Lock()
	p.err = err
	calls := p.calls
	p.calls = nil
	p.mu.Unlock()
	for _, c := range calls {
		close(c.resp)
	}
}

// ended returns why the connection ended, once it has (nil before).
func (p *pendingCalls) ended() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// dispatch hands m, read from the connection of server, to the call it
// answers or whose progress it reports, or else to onMessage. A response
// to no call waiting is dropped and logged.
func (p *pendingCalls) dispatch(m message, server string, flood *floodLog, onMessage func(message)) {
	switch msg := m.msg.(type) {
	case *jsonrpc.Response:
		key := idKey(msg.ID)
		p.mu.Lock()
		c := p.calls[key]
		delete(p.calls, key)
		p.mu.Unlock()
		if c != nil {
			c.resp <- m
		} else {
			flood.Debug("unknown response "+server, "upstream answered an unknown request", "server", server)
		}
	case *jsonrpc.Request:
		if msg.Method == "notifications/progress" {
			if c := p.forToken(msg.Params); c != nil && c.related != nil {
				c.related(m)
				return
			}
		}
		onMessage(m)
	}
}

// forToken returns the call whose progress token params carry.
func (p *pendingCalls) forToken(params json.RawMessage) *pendingCall {
	tok := progressTokenOfNotification(params)
	if tok == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.calls {
		if c.token == tok {
			return c
		}
	}
	return nil
}

// progressTokenOfNotification returns the progressToken of a
// notifications/progress's params, or nil.
func progressTokenOfNotification(params []byte) any {
	var p struct {
		Token any `json:"progressToken"`
	}
	if json.Unmarshal(params, &p) != nil {
		return nil
	}
	return p.Token
}
