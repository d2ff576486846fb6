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
