package audit

import "os"

// SetJSONLWrite replaces how j writes to its file, to simulate a full
// disk.
func SetJSONLWrite(j *JSONL, w func(f *os.File, b []byte) (int, error)) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.write = w
}
