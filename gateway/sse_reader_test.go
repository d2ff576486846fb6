package gateway

import (
	"io"
	"strings"
	"testing"
)

// Events with empty data (priming events, a lone "data:") are skipped; the
// ids they carry are kept; data split over lines is joined by newlines.
func TestSSEReaderSkipsEmptyEvents(t *testing.T) {
	stream := "id: 0_1\nretry: 10\ndata: \n\n" + // SEP-1699 priming event
		"data:\n\n" +
		": keep-alive\n\n" +
		"event: message\nid: 0_2\ndata: {\"a\":1}\n\n" +
		"data: x\ndata: y\n\n" +
		"id: 0_3\ndata: "
	sr := newSSEReader(strings.NewReader(stream), 1<<10)
	defer sr.release()
	var got []string
	for range 10 {
		d, err := sr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(d))
	}
	if strings.Join(got, "|") != `{"a":1}|x`+"\n"+`y` {
		t.Errorf("events = %q", got)
	}
	if sr.lastID != "0_3" {
		t.Errorf("lastID = %q, want 0_3", sr.lastID)
	}
}

// The reader reports each event's type: "message" when it names none, and
// a type resets with its event.
func TestSSEReaderEventType(t *testing.T) {
	long := strings.Repeat("e", 1000)
	stream := "event: endpoint\ndata: /messages?sessionId=1\n\n" +
		"data: {}\n\n" +
		"event: ignored\n\n" + // no data: skipped, and its type with it
		"data: {\"b\":2}\n\n" +
		"event: " + long + "\ndata: x\n\n"
	sr := newSSEReader(strings.NewReader(stream), 1<<12)
	defer sr.release()
	want := []struct{ event, data string }{
		{"endpoint", "/messages?sessionId=1"},
		{"message", "{}"},
		{"message", `{"b":2}`},
		{long[:257], "x"},
	}
	for i, w := range want {
		data, err := sr.next()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if string(data) != w.data || sr.eventType() != w.event {
			t.Errorf("event %d = %.20q %q, want %.20q %q", i, sr.eventType(), data, w.event, w.data)
		}
	}
	if _, err := sr.next(); err != io.EOF {
		t.Errorf("after the last event: %v, want EOF", err)
	}
}
