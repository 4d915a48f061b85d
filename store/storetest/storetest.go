// Package storetest is the contract every handlers.Store backend must
// pass. A backend's test calls Run with a factory for fresh, empty stores.
package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"policybot/handlers"
)

// Harness is one fresh store under test.
type Harness struct {
	Store handlers.Store
	// Advance moves time forward by d for the store: a fake clock for
	// stores that take one, and real time for servers that keep their own
	// (Redis expires keys itself).
	Advance func(d time.Duration)
}

// Factory returns a fresh, empty store. It registers its own cleanup.
type Factory func(t *testing.T) Harness

// Run runs the whole contract against stores from factory.
func Run(t *testing.T, factory Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"MarkSeen", testMarkSeen},
		{"MarkSeenConcurrent", testMarkSeenConcurrent},
		{"Sessions", testSessions},
		{"IncrSession", testIncrSession},
		{"IncrSessionConcurrent", testIncrSessionConcurrent},
		{"Records", testRecords},
		{"RecordsIndexUpdate", testRecordsIndexUpdate},
		{"RecordsRangeAndList", testRecordsRangeAndList},
		{"GetRecordsMany", testGetRecordsMany},
		{"Counters", testCounters},
		{"Rankings", testRankings},
		{"QueueBasics", testQueueBasics},
		{"QueueLeaseExpiry", testQueueLeaseExpiry},
		{"QueueRetryAndDeadLetter", testQueueRetryAndDeadLetter},
		{"QueueDeadAfterRepeatedCrashes", testQueueDeadAfterRepeatedCrashes},
		{"QueueConcurrentClaims", testQueueConcurrentClaims},
		{"Locks", testLocks},
		{"PingAndClose", testPingAndClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, factory(t)) })
	}
}

func ctx() context.Context { return context.Background() }

// mk returns a checker for a call's (value, error) results: the test
// fails on an error, else the value is returned.
func mk[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func testLocks(t *testing.T, h Harness) {
	s := h.Store
	if !mk[bool](t)(s.AcquireLease(ctx(), "job:remind", "a", time.Second)) {
		t.Fatal("free lease not acquired")
	}
	if mk[bool](t)(s.AcquireLease(ctx(), "job:remind", "b", time.Second)) {
		t.Fatal("held lease acquired by another owner")
	}
	if !mk[bool](t)(s.AcquireLease(ctx(), "job:remind", "a", time.Second)) {
		t.Fatal("owner could not re-acquire its own lease")
	}
	if mk[bool](t)(s.RenewLease(ctx(), "job:remind", "b", time.Second)) {
		t.Fatal("non-owner renewed")
	}
	if mk[bool](t)(s.ReleaseLease(ctx(), "job:remind", "b")) {
		t.Fatal("non-owner released")
	}
	if !mk[bool](t)(s.RenewLease(ctx(), "job:remind", "a", time.Second)) {
		t.Fatal("owner could not renew")
	}
	if !mk[bool](t)(s.ReleaseLease(ctx(), "job:remind", "a")) {
		t.Fatal("owner could not release")
	}
	if !mk[bool](t)(s.AcquireLease(ctx(), "job:remind", "b", 300*time.Millisecond)) {
		t.Fatal("released lease not acquired")
	}
	h.Advance(600 * time.Millisecond) // b died without releasing
	if !mk[bool](t)(s.AcquireLease(ctx(), "job:remind", "c", time.Second)) {
		t.Fatal("expired lease not acquired")
	}
	if mk[bool](t)(s.RenewLease(ctx(), "job:remind", "b", time.Second)) {
		t.Fatal("the expired owner renewed")
	}
}

func testPingAndClose(t *testing.T, h Harness) {
	noErr(t, h.Store.Ping(ctx()))
	noErr(t, h.Store.Close())
	if _, err := h.Store.MarkSeen(ctx(), "after-close", time.Second); err == nil {
		t.Fatal("MarkSeen after Close succeeded")
	}
	if err := h.Store.PutRecord(ctx(), "k", "i", []byte("x")); err == nil {
		t.Fatal("PutRecord after Close succeeded")
	}
}

// RunFastPaths checks the optional fast paths against the plain operations.
func RunFastPaths(t *testing.T, factory Factory) {
	t.Run("MarkSeenAndGet", func(t *testing.T) {
		h := factory(t)
		sl, ok := h.Store.(handlers.SeenLoader)
		if !ok {
			t.Skip("no SeenLoader")
		}
		first, v, err := sl.MarkSeenAndGet(ctx(), "m:{u1}:1", time.Minute, "user:{u1}")
		if err != nil || !first || v != nil {
			t.Fatalf("first call = %v %q %v", first, v, err)
		}
		noErr(t, h.Store.PutSession(ctx(), "user:{u1}", []byte("state"), time.Minute))
		first, v, err = sl.MarkSeenAndGet(ctx(), "m:{u1}:1", time.Minute, "user:{u1}")
		if err != nil || first || string(v) != "state" {
			t.Fatalf("second call = %v %q %v", first, v, err)
		}
		if again := mk[bool](t)(h.Store.MarkSeen(ctx(), "m:{u1}:1", time.Minute)); again {
			t.Fatal("MarkSeenAndGet did not mark the key for MarkSeen")
		}
		// many concurrent calls (batched together by a backend that
		// pipelines): each key has exactly one first, each state is its own
		var wg sync.WaitGroup
		firsts := make([]atomic.Int32, 20)
		errs := make(chan error, 400)
		for g := 0; g < 400; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				k := g % 20
				first, v, err := sl.MarkSeenAndGet(ctx(), fmt.Sprintf("m:{c%d}:x", k), time.Minute, fmt.Sprintf("user:{c%d}", k))
				if err != nil {
					errs <- err
					return
				}
				if first {
					firsts[k].Add(1)
				}
				if v != nil {
					errs <- fmt.Errorf("state %q for a user with none", v)
				}
			}(g)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for k := range firsts {
			if n := firsts[k].Load(); n != 1 {
				t.Fatalf("key %d had %d firsts", k, n)
			}
		}
	})
	t.Run("PutSessions", func(t *testing.T) {
		h := factory(t)
		sb, ok := h.Store.(handlers.SessionBatcher)
		if !ok {
			t.Skip("no SessionBatcher")
		}
		noErr(t, sb.PutSessions(ctx(), []handlers.SessionPut{{Key: "a", Value: []byte("1"), TTL: time.Minute}, {Key: "b", Value: []byte("2"), TTL: time.Minute}}))
		if v := mk[[]byte](t)(h.Store.GetSession(ctx(), "b")); string(v) != "2" {
			t.Fatalf("b = %q", v)
		}
		if err := sb.PutSessions(ctx(), []handlers.SessionPut{{Key: "c", Value: []byte("x")}}); err == nil {
			t.Fatal("a zero TTL was accepted")
		}
	})
}

// testGetRecordsMany reads more records than one batch of any backend.
func testGetRecordsMany(t *testing.T, h Harness) {
	s := h.Store
	const n = 2345
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("a%05d", i)
		noErr(t, s.PutRecord(ctx(), "many", ids[i], []byte(fmt.Sprint(i*7))))
	}
	got := mk[[][]byte](t)(s.GetRecords(ctx(), "many", ids))
	for i := range ids {
		if string(got[i]) != fmt.Sprint(i*7) {
			t.Fatalf("record %d = %q", i, got[i])
		}
	}
}
