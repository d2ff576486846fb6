package gateway

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/toolgate/toolgate"
)

// maxStdioRequests bounds the requests of the stdio client served at once.
const maxStdioRequests = 64

// ServeStdio runs one client session on r and w, newline-delimited JSON-RPC
// as MCP's stdio transport has it, until r ends or ctx is done.
func (g *Gateway) ServeStdio(ctx context.Context, r io.Reader, w io.Writer) error {
	return g.serveStdio(ctx, r, w, nil, nil)
}

// ServeStdioAs is ServeStdio for the holder of a grant (auth: grants): the
// session is the grant's, under the policy it names and with the servers
// it allows. token is the grant's token, checked by the caller; the
// gateway's Authenticator checks it again before every request, so that a
// revoked or rotated grant's session ends at its next request, as on HTTP.
func (g *Gateway) ServeStdioAs(ctx context.Context, r io.Reader, w io.Writer, gr *toolgate.Grant, token string) error {
	who := &caller{grant: gr, hash: sha256.Sum256([]byte(token))}
	recheck := func(ctx context.Context) error {
		if g.opts.Authenticator == nil {
			return nil
		}
		cur, err := g.opts.Authenticator.Authenticate(ctx, token)
		switch {
		case err == nil && cur != nil && cur.ID == gr.ID:
			return nil
		case err != nil && toolgate.ErrorCode(err) == toolgate.Unavailable:
			return err
		}
		return errGrantInvalid
	}
	return g.serveStdio(ctx, r, w, who, recheck)
}

// errGrantInvalid ends a stdio session whose grant's token stopped working.
var errGrantInvalid = &toolgate.Error{Code: toolgate.Unauthorized, Message: "the session's grant token is no longer valid (revoked, rotated or expired)"}

func (g *Gateway) serveStdio(ctx context.Context, r io.Reader, w io.Writer, who *caller, recheck func(context.Context) error) error {
	var wmu sync.Mutex
	write := func(raw []byte) bool {
		raw, err := lineSafe(raw)
		if err != nil {
			g.log.Error("not writing a message to the stdio client", "err", err)
			return false
		}
		wmu.Lock()
		defer wmu.Unlock()
		buf := make([]byte, 0, len(raw)+1)
		buf = append(append(buf, raw...), '\n')
		_, err = w.Write(buf)
		return err == nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var s *session
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		if s != nil {
			g.removeSession(s.id)
			s.close()
		}
	}()
	running := make(chan struct{}, maxStdioRequests)
	lines := make(chan []byte)
	readErr := make(chan error, 1)
	go func() {
		br := bufio.NewReaderSize(r, 64<<10)
		for {
			line, err := readLine(br, int(g.opts.MaxBodyBytes))
			if err != nil {
				readErr <- err
				close(lines)
				return
			}
			select {
			case lines <- line:
			case <-ctx.Done():
				close(lines)
				return
			}
		}
	}()
	for {
		var line []byte
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case line, ok = <-lines:
		}
		if !ok {
			err := <-readErr
			if errors.Is(err, errLineTooLong) {
				write(encodeErrorNullID(codeInvalidRequest, "message too large"))
				return fmt.Errorf("stdio: %w", err)
			}
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("stdio: %w", err)
		}
		if len(line) == 0 || (len(line) == 1 && line[0] == '\r') {
			continue
		}
		m, e := decodeMessage(line, g.opts.MaxDepth)
		if e != nil {
			write(encodeErrorNullID(e.Code, e.Message))
			continue
		}
		msg := m.msg
		if s == nil {
			req, isReq := msg.(*jsonrpc.Request)
			if !isReq || req.Method != "initialize" || !req.IsCall() {
				if isReq && req.IsCall() {
					write(preInitError(req))
				}
				continue
			}
			ns, resp, err := g.newSession(ctx, req, "stdio", who, "", nil)
			if err != nil {
				write(encodeResponse(req.ID, nil, rpcError(codeUnavailable, err.Error())))
				continue
			}
			write(resp)
			if ns == nil {
				continue
			}
			s = ns
			s.pinned.Store(true)
			s.listening.Store(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-ctx.Done():
						return
					case raw := <-s.out:
						s.dequeued(raw)
						write(raw)
					}
				}
			}()
			continue
		}
		if req, ok := msg.(*jsonrpc.Request); ok && recheck != nil {
			if err := recheck(ctx); errors.Is(err, errGrantInvalid) {
				if req.IsCall() {
					write(encodeResponse(req.ID, nil, rpcError(codeInvalidRequest, "unauthorized: "+errGrantInvalid.Message)))
				}
				g.log.Info("stdio session ended: its grant's token is no longer valid", "session", s.logID(), "grant", s.ident.Grant)
				return fmt.Errorf("stdio: %w", err)
			} else if err != nil {
				g.log.Error("authentication unavailable", "err", err)
				if req.IsCall() {
					write(encodeResponse(req.ID, nil, rpcError(codeUnavailable, "authentication is unavailable; retry later")))
				}
				continue
			}
		}
		if req, ok := msg.(*jsonrpc.Request); ok && req.IsCall() {
			// Requests run concurrently so a slow tool does not hold up
			// pings and cancellations, up to a bound: beyond it the next
			// line waits to be read.
			select {
			case running <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			wg.Add(1)
			go func() {
				defer func() { <-running }()
				defer wg.Done()
				if resp := s.handle(ctx, m, write); resp != nil {
					write(resp)
				}
			}()
			continue
		}
		s.handle(ctx, m, write)
	}
}
