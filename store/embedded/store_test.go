package embedded

import (
	"context"
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

// TestConcurrentWritesToOneKeyReplayAsTheyHappened: when several writers
// change one key at once, the journal must hold their lines in the order
// the changes were made, so that a restart restores the value the store
// held, not an older one.
func TestConcurrentWritesToOneKeyReplayAsTheyHappened(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	for round := 0; round < 20; round++ {
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for w := 0; w < 32; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					if err := s.PutSession(ctx, "k", []byte(fmt.Sprintf("%d-%d-%d", round, w, i)), time.Hour); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		held, err := s.GetSession(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s, err = Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.GetSession(ctx, "k")
		s.Close()
		if err != nil || string(got) != string(held) {
			t.Fatalf("round %d: after a restart the key holds %q (%v); before it, %q", round, got, err, held)
		}
	}
}
