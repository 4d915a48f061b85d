package embedded

import (
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"sync"
	"testing"
	"time"

	"policybot/store/storetest"
)

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestContract(t *testing.T) {
	storetest.Run(t, harness)
	storetest.RunFastPaths(t, harness)
}

func harness(t *testing.T) storetest.Harness {
	clk := &fakeClock{t: time.Now()}
	s, err := Open(t.TempDir(), Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return storetest.Harness{Store: s, Advance: clk.Advance}
}

// TestJournalLineFormat pins the line format: files written by earlier
// versions (and read by later ones) hold exactly these bytes.
func TestJournalLineFormat(t *testing.T) {
	for _, c := range []struct {
		op  byte
		key string
		e   jentry
	}{
		{'P', "seen:msg-1", jentry{val: []byte("1"), exp: 1764000000000}},
		{'P', "session:用户", jentry{val: []byte(`{"q":"低保怎么申请"}`), exp: 42}},
		{'D', "k", jentry{}},
	} {
		body := fmt.Sprintf("%c %d %s %s", c.op, c.e.exp, base64.RawStdEncoding.EncodeToString([]byte(c.key)), base64.RawStdEncoding.EncodeToString(c.e.val))
		want := fmt.Sprintf("%08x %s\n", crc32.ChecksumIEEE([]byte(body)), body)
		if got := string(journalLine(c.op, c.key, c.e)); got != want {
			t.Errorf("journalLine(%q) = %q, want %q", c.key, got, want)
		}
	}
}
