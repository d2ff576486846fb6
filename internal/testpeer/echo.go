package testpeer

//lint:file-ignore SA1019 sampling is deprecated as of protocol 2026-07-28, but peers of older versions still use it and the gateway must carry it

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// EchoServerName is the serverInfo name the echo server reports.
const EchoServerName = "toolgate-echo"

// The resource and prompt the echo server offers besides its tools.
const (
	EchoResourceURI  = "test://echo/hello"
	EchoResourceText = "hello from the echo server"
	EchoPromptName   = "greet"
)

// EchoServer is a real go-sdk MCP server used as an upstream in tests. It
// counts every tools/call it receives, per tool name, so that a test can
// prove that a call the gateway denied never reached it.
//
// Tools:
//
//	echo {message}                 returns message as text
//	add {a, b}                     returns a+b as text, structured {"sum": a+b}
//	UpdateUser {user_id, ...}      returns "updated <user_id>"
//	DeleteUser {user_id}           returns "deleted <user_id>"
//	slow {ms}                      sleeps ms (honours cancellation), reports
//	                               progress when the call carries a token
//	sample {prompt}                asks the client to sample (sampling/createMessage)
//	                               and returns the client's answer text
//
// plus the resource [EchoResourceURI] and the prompt [EchoPromptName] {name}.
type EchoServer struct {
	server *mcp.Server

	mu        sync.Mutex
	calls     map[string]int
	executed  []ExecutedCall
	received  []ReceivedCall
	cancelled int
	hook      func(name string)
}

// ExecutedCall is one tools/call as the server received it: the tool name
// and the arguments exactly as its SDK parsed them off the wire (the
// typed handlers then decode them with encoding/json).
type ExecutedCall struct {
	Name      string
	Arguments json.RawMessage
}

// ReceivedCall is one tools/call as it reached the server, retries of a
// multi round-trip call included: the tool name, the arguments, and what
// a retry carries (the client's inputResponses and the requestState).
type ReceivedCall struct {
	Name           string
	Arguments      json.RawMessage
	InputResponses bool   // the call carried inputResponses
	RequestState   string // the requestState it carried, if any
}

// GoEchoServer returns a new echo server with fresh counters.
func GoEchoServer() *EchoServer {
	s := &EchoServer{calls: map[string]int{}}
	srv := mcp.NewServer(&mcp.Implementation{Name: EchoServerName, Version: "1.0.0"}, nil)
	// Added after NewServer, so this runs outside the SDK's own multi
	// round-trip middleware: one count per tools/call on the wire.
	srv.AddReceivingMiddleware(s.countCalls)

	mcp.AddTool(srv, &mcp.Tool{Name: "echo", Description: "Returns the message."}, echoTool)
	mcp.AddTool(srv, &mcp.Tool{Name: "add", Description: "Adds two numbers."}, addTool)
	mcp.AddTool(srv, &mcp.Tool{Name: "UpdateUser", Description: "Updates a user's profile."}, updateUserTool)
	mcp.AddTool(srv, &mcp.Tool{Name: "DeleteUser", Description: "Deletes a user."}, deleteUserTool)
	mcp.AddTool(srv, &mcp.Tool{Name: "slow", Description: "Sleeps for ms milliseconds, reporting progress."}, s.slowTool)
	mcp.AddTool(srv, &mcp.Tool{Name: "sample", Description: "Asks the client's model to answer the prompt."}, sampleTool)

	srv.AddResource(&mcp.Resource{URI: EchoResourceURI, Name: "hello", MIMEType: "text/plain"},
		func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{
				{URI: req.Params.URI, MIMEType: "text/plain", Text: EchoResourceText},
			}}, nil
		})
	srv.AddPrompt(&mcp.Prompt{Name: EchoPromptName, Description: "Greets someone.",
		Arguments: []*mcp.PromptArgument{{Name: "name", Required: true}}},
		func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{
				{Role: "user", Content: &mcp.TextContent{Text: "Hello, " + req.Params.Arguments["name"] + "!"}},
			}}, nil
		})
	s.server = srv
	return s
}

// Server is the underlying *mcp.Server (to Run it on any transport).
func (s *EchoServer) Server() *mcp.Server { return s.server }

// Calls reports how many tools/call requests for the tool name were received,
// whether or not the call then succeeded (unknown names and invalid arguments
// count too). The retry of a multi round-trip call that carries the client's
// inputResponses is a continuation of the same call and is not counted again.
func (s *EchoServer) Calls(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[name]
}

// AllCalls returns a copy of every per-tool count.
func (s *EchoServer) AllCalls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		m[k] = v
	}
	return m
}

// Executed returns every counted tools/call in the order received.
func (s *EchoServer) Executed() []ExecutedCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ExecutedCall(nil), s.executed...)
}

// Received returns every tools/call that reached the server, in order,
// retries carrying inputResponses included.
func (s *EchoServer) Received() []ReceivedCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ReceivedCall(nil), s.received...)
}

// Cancellations reports how many slow calls ended because their context was
// cancelled (the client cancelled, or the session went away).
func (s *EchoServer) Cancellations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cancelled
}

// OnCall sets a function called (synchronously) with the tool name of every
// counted tools/call. The stdio echoserver command uses it to log calls.
func (s *EchoServer) OnCall(f func(name string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = f
}

func (s *EchoServer) countCalls(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if p, ok := req.GetParams().(*mcp.CallToolParamsRaw); ok && method == "tools/call" {
			s.mu.Lock()
			s.received = append(s.received, ReceivedCall{Name: p.Name, Arguments: append(json.RawMessage(nil), p.Arguments...),
				InputResponses: p.InputResponses != nil, RequestState: p.RequestState})
			s.mu.Unlock()
		}
		if p, ok := req.GetParams().(*mcp.CallToolParamsRaw); ok && method == "tools/call" && p.InputResponses == nil {
			s.mu.Lock()
			s.calls[p.Name]++
			s.executed = append(s.executed, ExecutedCall{Name: p.Name, Arguments: append(json.RawMessage(nil), p.Arguments...)})
			hook := s.hook
			s.mu.Unlock()
			if hook != nil {
				hook(p.Name)
			}
		}
		return next(ctx, method, req)
	}
}

// HTTPHandler serves the echo server over streamable HTTP with sessions
// (Mcp-Session-Id). With go-sdk v1.8.0 such a handler negotiates at most
// protocol 2025-11-25 (initialize handshake): the 2026-07-28 server/discover
// protocol is served only by stateless handlers, see [StatelessHTTPHandler].
func (s *EchoServer) HTTPHandler() http.Handler {
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.server }, nil)
}

// StatelessHTTPHandler serves the echo server over sessionless streamable
// HTTP, where clients that offer it (the go-sdk client by default) speak
// protocol 2026-07-28: sample then works by multi round-trip, and cancelling
// the HTTP request cancels the call.
func (s *EchoServer) StatelessHTTPHandler() http.Handler {
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.server },
		&mcp.StreamableHTTPOptions{Stateless: true, PropagateRequestCancellation: true})
}

// StartHTTP serves [EchoServer.HTTPHandler] on a loopback httptest server
// and returns its MCP endpoint URL (http://127.0.0.1:PORT/mcp). On t.Cleanup
// the server's connections are cut first, so that a client session left open
// (its SSE stream still attached) cannot make the cleanup hang.
func (s *EchoServer) StartHTTP(t testing.TB) string {
	t.Helper()
	return serveHTTP(t, s.HTTPHandler())
}

// StartStatelessHTTP is [EchoServer.StartHTTP] for [EchoServer.StatelessHTTPHandler].
func (s *EchoServer) StartStatelessHTTP(t testing.TB) string {
	t.Helper()
	return serveHTTP(t, s.StatelessHTTPHandler())
}

func serveHTTP(t testing.TB, h http.Handler) string {
	mux := http.NewServeMux()
	mux.Handle("/mcp", h)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
	})
	return ts.URL + "/mcp"
}

func text(s string) []mcp.Content { return []mcp.Content{&mcp.TextContent{Text: s}} }

type EchoArgs struct {
	Message string `json:"message" jsonschema:"the text to return"`
}

func echoTool(_ context.Context, _ *mcp.CallToolRequest, in EchoArgs) (*mcp.CallToolResult, any, error) {
	return &mcp.CallToolResult{Content: text(in.Message)}, nil, nil
}

type AddArgs struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

type AddResult struct {
	Sum float64 `json:"sum"`
}

func addTool(_ context.Context, _ *mcp.CallToolRequest, in AddArgs) (*mcp.CallToolResult, AddResult, error) {
	sum := in.A + in.B
	return &mcp.CallToolResult{Content: text(strconv.FormatFloat(sum, 'g', -1, 64))}, AddResult{Sum: sum}, nil
}

// UpdateUserArgs is shaped like a real admin API: only user_id is required,
// and some fields (password, skip_password_checks) are what a policy should
// guard.
type UpdateUserArgs struct {
	UserID             string `json:"user_id" jsonschema:"the user to update"`
	FirstName          string `json:"first_name,omitempty"`
	LastName           string `json:"last_name,omitempty"`
	Email              string `json:"email,omitempty"`
	Role               string `json:"role,omitempty" jsonschema:"e.g. member or admin"`
	Password           string `json:"password,omitempty"`
	SkipPasswordChecks bool   `json:"skip_password_checks,omitempty"`
	Disabled           bool   `json:"disabled,omitempty"`
}

func updateUserTool(_ context.Context, _ *mcp.CallToolRequest, in UpdateUserArgs) (*mcp.CallToolResult, any, error) {
	return &mcp.CallToolResult{Content: text("updated " + in.UserID)}, nil, nil
}

type DeleteUserArgs struct {
	UserID string `json:"user_id"`
}

func deleteUserTool(_ context.Context, _ *mcp.CallToolRequest, in DeleteUserArgs) (*mcp.CallToolResult, any, error) {
	return &mcp.CallToolResult{Content: text("deleted " + in.UserID)}, nil, nil
}

type SlowArgs struct {
	MS int `json:"ms" jsonschema:"how long to sleep, in milliseconds"`
}

func (s *EchoServer) slowTool(ctx context.Context, req *mcp.CallToolRequest, in SlowArgs) (*mcp.CallToolResult, any, error) {
	const steps = 5
	token := req.Params.GetProgressToken()
	total := time.Duration(in.MS) * time.Millisecond
	for i := 1; i <= steps; i++ {
		select {
		case <-ctx.Done():
			s.mu.Lock()
			s.cancelled++
			s.mu.Unlock()
			return nil, nil, ctx.Err()
		case <-time.After(total / steps):
		}
		if token != nil {
			_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
				ProgressToken: token, Progress: float64(i), Total: steps,
				Message: fmt.Sprintf("step %d of %d", i, steps),
			})
		}
	}
	return &mcp.CallToolResult{Content: text(fmt.Sprintf("slept %dms", in.MS))}, nil, nil
}

type SampleArgs struct {
	Prompt string `json:"prompt"`
}

const sampleInputID = "sample"

// sampleTool asks the client to sample. It returns an input request (SEP-2322
// multi round-trip): a client on protocol 2026-07-28 or later fulfils it and
// retries the call with inputResponses; for older clients the SDK's server
// middleware sends a real sampling/createMessage request on the session
// (ServerSession.CreateMessage) and re-invokes this handler with the answer.
func sampleTool(_ context.Context, req *mcp.CallToolRequest, in SampleArgs) (*mcp.CallToolResult, any, error) {
	if resp, ok := req.Params.InputResponses[sampleInputID]; ok {
		var parts []string
		switch r := resp.(type) {
		case *mcp.CreateMessageWithToolsResult:
			for _, c := range r.Content {
				if tc, ok := c.(*mcp.TextContent); ok {
					parts = append(parts, tc.Text)
				}
			}
		case *mcp.CreateMessageResult:
			if tc, ok := r.Content.(*mcp.TextContent); ok {
				parts = append(parts, tc.Text)
			}
		default:
			return nil, nil, fmt.Errorf("sample: unexpected input response %T", resp)
		}
		return &mcp.CallToolResult{Content: text(strings.Join(parts, ""))}, nil, nil
	}
	return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{
		sampleInputID: &mcp.CreateMessageParams{
			MaxTokens: 100,
			Messages:  []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: in.Prompt}}},
		},
	}}, nil, nil
}
