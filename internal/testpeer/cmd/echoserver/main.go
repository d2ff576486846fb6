// Command echoserver serves testpeer's go-sdk echo server over stdio, for
// tests that need a stdio upstream. Build it with testpeer.BuildEchoServer.
//
//	echoserver [-calls FILE]
//
// With -calls, the name of every tools/call received is appended to FILE,
// one per line, before the call is handled (see testpeer.CallLog).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/toolgate/toolgate/internal/testpeer"
)

func main() {
	calls := flag.String("calls", "", "append the name of each tools/call received to this file")
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := s.Server().Run(ctx, &mcp.StdioTransport{}); err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
}
