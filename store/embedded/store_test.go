package embedded

import (
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
