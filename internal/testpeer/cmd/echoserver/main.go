// Command echoserver serves testpeer's go-sdk echo server over stdio, for
// tests that need a stdio upstream. Build it with testpeer.BuildEchoServer.
//
//	echoserver [-calls FILE] [-tools FILE]
//
// With -calls, the name of every tools/call received is appended to FILE,
// one per line, before the call is handled (see testpeer.CallLog).
//
// With -tools, the server also offers every name in FILE (one per line)
// as a tool taking any object, which answers "upstream-ok:<name>", or a
// JSON-RPC error when its arguments hold "__upstream_error": true. The
// Intercept golden test (policy/intercept_wrap_test.go) uses it to offer
// the tools a policy names.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/toolgate/toolgate/internal/testpeer"
)

func main() {
	calls := flag.String("calls", "", "append the name of each tools/call received to this file")
	tools := flag.String("tools", "", "also offer the tools named in this file, one per line")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("echoserver: ")

	s := testpeer.GoEchoServer()
	if *calls != "" {
		f, err := os.OpenFile(*calls, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		s.OnCall(func(name string) {
			if _, err := fmt.Fprintln(f, name); err != nil {
				log.Print(err)
			}
		})
	}
	if *tools != "" {
		data, err := os.ReadFile(*tools)
		if err != nil {
			log.Fatal(err)
		}
		for _, name := range strings.Fields(string(data)) {
			s.Server().AddTool(&mcp.Tool{Name: name, InputSchema: json.RawMessage(`{"type":"object"}`)}, anyTool(name))
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := s.Server().Run(ctx, &mcp.StdioTransport{}); err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
}

// anyTool answers a call of an extra tool (counted, like the echo
// server's own, by its middleware, so -calls records it).
func anyTool(name string) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var args map[string]any
		if len(req.Params.Arguments) > 0 {
			if err := json.Unmarshal(req.Params.Arguments, &args); err != nil {
				return nil, err
			}
		}
		if args["__upstream_error"] == true {
			return nil, errors.New("upstream failure")
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "upstream-ok:" + name}}}, nil
	}
}
