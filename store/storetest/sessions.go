package storetest

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"policybot/handlers"
)

func testMarkSeen(t *testing.T, h Harness) {
	s := h.Store
	if !mk[bool](t)(s.MarkSeen(ctx(), "msg:1", time.Second)) {
		t.Fatal("first MarkSeen returned false")
	}
	if mk[bool](t)(s.MarkSeen(ctx(), "msg:1", time.Second)) {
		t.Fatal("second MarkSeen returned true")
	}
	if !mk[bool](t)(s.MarkSeen(ctx(), "msg:2", time.Second)) {
		t.Fatal("another key was seen")
	}
	h.Advance(1500 * time.Millisecond)
	if !mk[bool](t)(s.MarkSeen(ctx(), "msg:1", time.Second)) {
		t.Fatal("key still seen after its ttl")
	}
}

func testMarkSeenConcurrent(t *testing.T, h Harness) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	firsts := 0
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := h.Store.MarkSeen(ctx(), "race", time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				firsts++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firsts != 1 {
		t.Fatalf("%d callers were first, want 1", firsts)
	}
}

func testSessions(t *testing.T, h Harness) {
	s := h.Store
	if _, err := s.GetSession(ctx(), "quiz:u1"); !errors.Is(err, handlers.ErrNotFound) {
		t.Fatalf("absent session: %v", err)
	}
	noErr(t, s.PutSession(ctx(), "quiz:u1", []byte(`{"q":1}`), time.Second))
	if got := mk[[]byte](t)(s.GetSession(ctx(), "quiz:u1")); string(got) != `{"q":1}` {
		t.Fatalf("got %q", got)
	}
	noErr(t, s.PutSession(ctx(), "quiz:u1", []byte{0, 1, 2, 0xff}, time.Second))
	if got := mk[[]byte](t)(s.GetSession(ctx(), "quiz:u1")); !bytes.Equal(got, []byte{0, 1, 2, 0xff}) {
		t.Fatalf("binary value changed: %v", got)
	}
	noErr(t, s.PutSession(ctx(), "more:u1", []byte("page2"), 10*time.Second))
	h.Advance(1500 * time.Millisecond)
	if _, err := s.GetSession(ctx(), "quiz:u1"); !errors.Is(err, handlers.ErrNotFound) {
		t.Fatalf("expired session: %v", err)
	}
	if got := mk[[]byte](t)(s.GetSession(ctx(), "more:u1")); string(got) != "page2" {
		t.Fatalf("unexpired session lost: %q", got)
	}
	noErr(t, s.DeleteSession(ctx(), "more:u1"))
	noErr(t, s.DeleteSession(ctx(), "more:u1"))
	if _, err := s.GetSession(ctx(), "more:u1"); !errors.Is(err, handlers.ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
	if err := s.PutSession(ctx(), "x", []byte("v"), 0); err == nil {
		t.Fatal("PutSession with ttl 0 accepted (it would never expire)")
	}
}

func testIncrSession(t *testing.T, h Harness) {
	s := h.Store
	if got := mk[int64](t)(s.IncrSession(ctx(), "fail:a", 1, time.Second)); got != 1 {
		t.Fatalf("first increment = %d, want 1", got)
	}
	h.Advance(600 * time.Millisecond)
	if got := mk[int64](t)(s.IncrSession(ctx(), "fail:a", 2, time.Second)); got != 3 {
		t.Fatalf("second increment = %d, want 3", got)
	}
	if got := mk[int64](t)(s.IncrSession(ctx(), "fail:b", 1, time.Second)); got != 1 {
		t.Fatalf("another key = %d, want 1", got)
	}
	// the window started with the first increment: a later one does not
	// extend it
	h.Advance(600 * time.Millisecond)
	if got := mk[int64](t)(s.IncrSession(ctx(), "fail:a", 1, time.Second)); got != 1 {
		t.Fatalf("after the window = %d, want 1 (a new window)", got)
	}
	noErr(t, s.DeleteSession(ctx(), "fail:a"))
	if got := mk[int64](t)(s.IncrSession(ctx(), "fail:a", 1, time.Second)); got != 1 {
		t.Fatalf("after delete = %d, want 1", got)
	}
	if _, err := s.IncrSession(ctx(), "x", 1, 0); err == nil {
		t.Fatal("IncrSession with ttl 0 accepted (it would never expire)")
	}
}

func testIncrSessionConcurrent(t *testing.T, h Harness) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int64]bool{}
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := h.Store.IncrSession(ctx(), "guess", 1, time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			seen[v] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	// every caller got its own value: 1..40, none twice
	for v := int64(1); v <= 40; v++ {
		if !seen[v] {
			t.Fatalf("value %d was not handed out (%d distinct): increments are not atomic", v, len(seen))
		}
	}
}
