package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// stdioUpstream runs an upstream server as a subprocess speaking
// newline-delimited JSON-RPC on its stdin and stdout.
type stdioUpstream struct {
	srv       *Server
	log       *slog.Logger
	flood     *floodLog // for what a misbehaving server could repeat at will
	onMessage func(message)

	cmd   *exec.Cmd
	stdin *os.File // a pipe: writes take a deadline
	wmu   sync.Mutex

	tail       *stderrTail   // the last stderr lines, for failure reports
	stderrDone chan struct{} // closed once stderr is read to its end

	pending *pendingCalls // ended, with why, once the process is gone
	done    chan struct{}
}

func startStdioUpstream(ctx context.Context, srv *Server, log *slog.Logger, flood *floodLog, onMessage func(message)) (*stdioUpstream, error) {
	if len(srv.Command) == 0 {
		return nil, fmt.Errorf("upstream %s: no command", srv.Name)
	}
	cmd := exec.Command(srv.Command[0], srv.Command[1:]...)
	cmd.Dir = srv.Dir
	cmd.Env = CommandEnv(os.Environ(), srv.Env, srv.InheritEnv)
	// The pipe is made here rather than by cmd.StdinPipe so that writes to
	// it can have a deadline: a server that stops reading its stdin must
	// not hold a writer, or the session's close, forever.
	stdinR, stdin, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("upstream %s: %w", srv.Name, err)
	}
	cmd.Stdin = stdinR
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("upstream %s: %w", srv.Name, err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("upstream %s: %w", srv.Name, err)
	}
	if err := cmd.Start(); err != nil {
		stdinR.Close()
		stdin.Close()
		return nil, fmt.Errorf("upstream %s: starting %q: %w", srv.Name, srv.Command[0], err)
	}
	stdinR.Close() // the child has its copy
	u := &stdioUpstream{
		srv: srv, log: log, flood: flood, onMessage: onMessage,
		cmd: cmd, stdin: stdin,
		tail:       &stderrTail{mask: newSecretMask(srv)},
		stderrDone: make(chan struct{}),
		pending:    newPendingCalls(),
		done:       make(chan struct{}),
	}
	go u.logStderr(stderr)
	go u.read(stdout)
	return u, nil
}

// logStderr keeps the last lines of the server's stderr, secrets masked,
// for the report of its exit, and logs them at debug level.
func (u *stdioUpstream) logStderr(r io.Reader) {
	defer close(u.stderrDone)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		u.tail.add(sc.Text())
		u.flood.Debug("stderr "+u.srv.Name, "upstream stderr", "server", u.srv.Name, "line", u.tail.mask.apply(sc.Text()))
	}
	// A line over the scanner's bound ends the scan: drain the rest, so
	// that the server never blocks on a full stderr pipe.
	_, _ = io.Copy(io.Discard, r)
}

// exited returns why the process ended, once it has (nil before).
func (u *stdioUpstream) exited() error { return u.pending.ended() }

func (u *stdioUpstream) read(stdout io.Reader) {
	br := bufio.NewReaderSize(stdout, 64<<10)
	var err error
	for {
		var line []byte
		line, err = readLine(br, maxUpstreamMessage)
		if err != nil {
			break
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		m, derr := decodeMessage(line, maxUpstreamDepth)
		if derr != nil {
			u.flood.Warn("undecodable "+u.srv.Name, "upstream wrote an undecodable line", "server", u.srv.Name, "err", derr.Message)
			continue
		}
		u.pending.dispatch(m, u.srv.Name, u.flood, u.onMessage)
	}
	if err != io.EOF {
		// A line over the bound or a broken pipe: the stream is beyond repair.
		u.log.Error("upstream stdout unreadable; stopping it", "server", u.srv.Name, "err", err)
		_ = u.cmd.Process.Kill()
	}
	// Wait closes stderr: read what the server wrote last first, but not
	// for long, as a child of the server may hold stderr open.
	select {
	case <-u.stderrDone:
	case <-time.After(500 * time.Millisecond):
	}
	werr := u.cmd.Wait()
	if err == io.EOF {
		err = exitError(u.srv.Name, werr, u.tail.snapshot())
	} else {
		err = fmt.Errorf("upstream %s: %w: %w", u.srv.Name, errUpstreamClosed, err)
	}
	u.pending.end(err)
	close(u.done)
}

func (u *stdioUpstream) write(raw []byte) error {
	raw, err := lineSafe(raw)
	if err != nil {
		return fmt.Errorf("upstream %s: %w", u.srv.Name, err)
	}
	u.wmu.Lock()
	defer u.wmu.Unlock()
	buf := make([]byte, 0, len(raw)+1)
	buf = append(buf, raw...)
	buf = append(buf, '\n')
	_ = u.stdin.SetWriteDeadline(time.Now().Add(u.writeTimeout()))
	if _, err := u.stdin.Write(buf); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// A server that reads nothing for this long is stuck: stop it,
			// so its calls fail now instead of at their own timeouts.
			u.log.Error("upstream does not read its stdin; stopping it", "server", u.srv.Name, "waited", u.writeTimeout())
			_ = u.cmd.Process.Kill()
		}
		return fmt.Errorf("upstream %s: %w", u.srv.Name, err)
	}
	return nil
}

// writeTimeout bounds one write to the server's stdin: its call timeout.
func (u *stdioUpstream) writeTimeout() time.Duration {
	if u.srv.Timeout > 0 {
		return u.srv.Timeout
	}
	return DefaultServerTimeout
}

func (u *stdioUpstream) call(ctx context.Context, req *jsonrpc.Request, raw []byte, related func(message)) (*jsonrpc.Response, []byte, error) {
	key, p, err := u.pending.add(req, related)
	if err != nil {
		return nil, nil, err
	}
	if err := u.write(raw); err != nil {
		u.pending.forget(key)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			// A write to a process that has exited fails (broken pipe)
			// before its exit is read: wait a moment for the exit, whose
			// report says why (exit code, last stderr lines).
			select {
			case <-u.done:
				if e := u.exited(); e != nil {
					return nil, nil, e
				}
			case <-time.After(time.Second):
			case <-ctx.Done():
			}
		}
		return nil, nil, err
	}
	select {
	case m, ok := <-p.resp:
		if !ok {
			return nil, nil, u.exited()
		}
		return m.msg.(*jsonrpc.Response), m.raw, nil
	case <-ctx.Done():
		u.pending.forget(key)
		return nil, nil, ctx.Err()
	}
}

func (u *stdioUpstream) send(_ context.Context, raw []byte) error { return u.write(raw) }

func (u *stdioUpstream) initialized(string) {}

func (u *stdioUpstream) close() {
	// Not under wmu: a writer stuck on a full pipe must not keep the
	// server from being stopped. Closing the pipe makes that write fail.
	u.stdin.Close()
	select {
	case <-u.done:
		return
	case <-time.After(2 * time.Second):
	}
	_ = u.cmd.Process.Kill()
	<-u.done
}

// progressToken returns params._meta.progressToken, or nil.
func progressToken(params json.RawMessage) any {
	if !bytes.Contains(params, []byte(`"progressToken"`)) {
		return nil
	}
	var p struct {
		Meta struct {
			Token any `json:"progressToken"`
		} `json:"_meta"`
	}
	if json.Unmarshal(params, &p) != nil {
		return nil
	}
	return p.Meta.Token
}

var errLineTooLong = errors.New("line too long")

// readLine reads one newline-terminated line of at most max bytes.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err == nil {
		return bytes.Clone(line[:len(line)-1]), nil
	}
	if err != bufio.ErrBufferFull {
		if err == io.EOF && len(line) > 0 {
			return bytes.Clone(line), nil
		}
		return nil, err
	}
	buf := bytes.Clone(line)
	for {
		line, err = br.ReadSlice('\n')
		buf = append(buf, line...)
		if len(buf) > max+1 {
			return nil, fmt.Errorf("%w (over %d bytes)", errLineTooLong, max)
		}
		switch err {
		case nil:
			return buf[:len(buf)-1], nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			if len(buf) > 0 {
				return buf, nil
			}
		}
		return nil, err
	}
}
