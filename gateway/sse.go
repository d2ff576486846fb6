package gateway

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// sseReader reads server-sent events from an upstream response body and
// returns the data of each event; events without data are skipped.
type sseReader struct {
	r      *bufio.Reader
	max    int
	data   []byte
	event  []byte // the type of the event next returned; "" means "message"
	lastID string
}

var errEventTooLarge = errors.New("server-sent event too large")

// readerPool recycles the buffered readers of SSE streams: one per call
// would otherwise be the gateway's largest allocation.
var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}

func newSSEReader(r io.Reader, max int) *sseReader {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(r)
	return &sseReader{r: br, max: max}
}

// release returns the reader's buffer to the pool; s is unusable after.
func (s *sseReader) release() {
	if s.r != nil {
		s.r.Reset(nil)
		readerPool.Put(s.r)
		s.r = nil
	}
}

// next returns the data of the next event. The slice is valid until the
// following call. An event whose data is empty is skipped, as the SSE
// standard says: SEP-1699's priming events (an id and "data: " alone) are
// not messages.
func (s *sseReader) next() ([]byte, error) {
	s.data, s.event = s.data[:0], s.event[:0]
	hasData := false
	for {
		line, err := s.readLine()
		if err != nil {
			if err == io.EOF && hasData && len(s.data) > 0 {
				return s.data, nil
			}
			return nil, err
		}
		if len(line) == 0 {
			if hasData && len(s.data) > 0 {
				return s.data, nil
			}
			s.data, s.event, hasData = s.data[:0], s.event[:0], false
			continue
		}
		if line[0] == ':' {
			continue // comment / keep-alive
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			if hasData {
				s.data = append(s.data, '\n')
			}
			if len(s.data)+len(value) > s.max {
				return nil, fmt.Errorf("%w (over %d bytes)", errEventTooLarge, s.max)
			}
			s.data = append(s.data, value...)
			hasData = true
		case "event":
			// Kept to 257 bytes: enough to tell any type the gateway
			// knows from every other.
			s.event = append(s.event[:0], value[:min(len(value), 257)]...)
		case "id":
			s.lastID = string(value)
		}
	}
}

// eventType is the type of the event next last returned: "message" when
// the event named none.
func (s *sseReader) eventType() string {
	if len(s.event) == 0 {
		return "message"
	}
	return string(s.event)
}

// readLine reads one line without its terminator (LF, CRLF or CR-less).
func (s *sseReader) readLine() ([]byte, error) {
	line, err := s.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// A long line: gather it, bounded by max.
		buf := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			if len(buf) > s.max+64 {
				return nil, fmt.Errorf("%w (over %d bytes)", errEventTooLarge, s.max)
			}
			line, err = s.r.ReadSlice('\n')
			buf = append(buf, line...)
		}
		line = buf
	}
	if err != nil && !(err == io.EOF && len(line) > 0) {
		return nil, err
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return line, nil
}

// writeSSE writes one event carrying data.
func writeSSE(w io.Writer, data []byte) error {
	return writeEvent(w, "", data)
}

// writeEvent writes one event carrying data, with the event id id when it
// is not empty. data is one JSON message: it holds no line break.
func writeEvent(w io.Writer, id string, data []byte) error {
	var b bytes.Buffer
	b.Grow(len(data) + len(id) + 28)
	if id != "" {
		b.WriteString("id: ")
		b.WriteString(id)
		b.WriteByte('\n')
	}
	b.WriteString("event: message\ndata: ")
	b.Write(data)
	b.WriteString("\n\n")
	_, err := w.Write(b.Bytes())
	return err
}

// writePriming writes a priming event (SEP-1699): an event id and empty
// data, which a client takes as the place to resume from, and the delay it
// waits before reconnecting.
func writePriming(w io.Writer, id string, retry time.Duration) error {
	_, err := fmt.Fprintf(w, "id: %s\nretry: %d\ndata: \n\n", id, retry.Milliseconds())
	return err
}
