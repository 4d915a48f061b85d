package storetest

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"policybot/handlers"
)

func testQueueBasics(t *testing.T, h Harness) {
	s := h.Store
	if _, err := s.Claim(ctx(), "out", time.Minute); !errors.Is(err, handlers.ErrQueueEmpty) {
		t.Fatalf("empty queue: %v", err)
	}
	if !mk[bool](t)(s.Enqueue(ctx(), "out", handlers.QueueItem{Key: "a", Payload: []byte("A")})) {
		t.Fatal("first enqueue not added")
	}
	h.Advance(10 * time.Millisecond)
	mk[bool](t)(s.Enqueue(ctx(), "out", handlers.QueueItem{Key: "b", Payload: []byte("B")}))
	if mk[bool](t)(s.Enqueue(ctx(), "out", handlers.QueueItem{Key: "a", Payload: []byte("again")})) {
		t.Fatal("a waiting key was enqueued twice")
	}
	// a later item, not yet due
	mk[bool](t)(s.Enqueue(ctx(), "out", handlers.QueueItem{Key: "later", NotBefore: time.Now().Add(time.Hour)}))
	c1 := mk[*handlers.Claimed](t)(s.Claim(ctx(), "out", time.Minute))
	if c1.Key != "a" || string(c1.Payload) != "A" || c1.Attempt != 1 || c1.Token == "" {
		t.Fatalf("first claim = %+v", c1)
	}
	if mk[bool](t)(s.Enqueue(ctx(), "out", handlers.QueueItem{Key: "a"})) {
		t.Fatal("an in-flight key was enqueued again")
	}
	c2 := mk[*handlers.Claimed](t)(s.Claim(ctx(), "out", time.Minute))
	if c2.Key != "b" {
		t.Fatalf("second claim = %+v", c2)
	}
	if _, err := s.Claim(ctx(), "out", time.Minute); !errors.Is(err, handlers.ErrQueueEmpty) {
		t.Fatalf("leased and future items were handed out: %v", err)
	}
	if err := s.Ack(ctx(), "out", "a", "wrong-token"); !errors.Is(err, handlers.ErrLeaseLost) {
		t.Fatalf("ack with a wrong token: %v", err)
	}
	noErr(t, s.Ack(ctx(), "out", "a", c1.Token))
	if err := s.Ack(ctx(), "out", "a", c1.Token); !errors.Is(err, handlers.ErrLeaseLost) {
		t.Fatalf("second ack: %v", err)
	}
	if mk[bool](t)(s.Enqueue(ctx(), "out", handlers.QueueItem{Key: "a"})) {
		t.Fatal("a done key was enqueued again")
	}
	// other queues are separate
	mk[bool](t)(s.Enqueue(ctx(), "other", handlers.QueueItem{Key: "a", Payload: []byte("x")}))
	if c := mk[*handlers.Claimed](t)(s.Claim(ctx(), "other", time.Minute)); c.Key != "a" {
		t.Fatalf("other queue claim = %+v", c)
	}
}

func testQueueLeaseExpiry(t *testing.T, h Harness) {
	s := h.Store
	mk[bool](t)(s.Enqueue(ctx(), "out", handlers.QueueItem{Key: "k", Payload: []byte("p")}))
	c1 := mk[*handlers.Claimed](t)(s.Claim(ctx(), "out", 500*time.Millisecond))
	h.Advance(800 * time.Millisecond) // the worker died
	c2 := mk[*handlers.Claimed](t)(s.Claim(ctx(), "out", time.Minute))
	if c2.Key != "k" || c2.Attempt != 2 || c2.Token == c1.Token {
		t.Fatalf("reclaim = %+v (first %+v)", c2, c1)
	}
	if err := s.Ack(ctx(), "out", "k", c1.Token); !errors.Is(err, handlers.ErrLeaseLost) {
		t.Fatalf("the dead worker's ack: %v", err)
	}
	if _, err := s.Retry(ctx(), "out", "k", c1.Token, time.Now(), "x"); !errors.Is(err, handlers.ErrLeaseLost) {
		t.Fatalf("the dead worker's retry: %v", err)
	}
	noErr(t, s.Ack(ctx(), "out", "k", c2.Token))
}

func testQueueRetryAndDeadLetter(t *testing.T, h Harness) {
	s := h.Store
	mk[bool](t)(s.Enqueue(ctx(), "out", handlers.QueueItem{Key: "k", Payload: []byte("p"), MaxAttempts: 2}))
	c := mk[*handlers.Claimed](t)(s.Claim(ctx(), "out", time.Minute))
	dead := mk[bool](t)(s.Retry(ctx(), "out", "k", c.Token, time.Now().Add(300*time.Millisecond), "45009 quota"))
	if dead {
		t.Fatal("dead after the first of two attempts")
	}
	if _, err := s.Claim(ctx(), "out", time.Minute); !errors.Is(err, handlers.ErrQueueEmpty) {
		t.Fatalf("claimed before its not-before time: %v", err)
	}
	h.Advance(500 * time.Millisecond)
	c = mk[*handlers.Claimed](t)(s.Claim(ctx(), "out", time.Minute))
	if c.Attempt != 2 || c.LastError != "45009 quota" {
		t.Fatalf("second claim = %+v", c)
	}
	if !mk[bool](t)(s.Retry(ctx(), "out", "k", c.Token, time.Now(), "40003 bad openid")) {
		t.Fatal("not dead after its last attempt")
	}
	dl := mk[[]handlers.DeadLetter](t)(s.DeadLetters(ctx(), "out", 0))
	if len(dl) != 1 || dl[0].Key != "k" || dl[0].Reason != "40003 bad openid" || dl[0].Attempts != 2 || string(dl[0].Payload) != "p" {
		t.Fatalf("dead letters = %+v", dl)
	}
	if mk[bool](t)(s.Enqueue(ctx(), "out", handlers.QueueItem{Key: "k"})) {
		t.Fatal("a dead key was enqueued again")
	}
	if err := s.Revive(ctx(), "out", "nosuch"); !errors.Is(err, handlers.ErrNotFound) {
		t.Fatalf("revive absent: %v", err)
	}
	noErr(t, s.Revive(ctx(), "out", "k"))
	c = mk[*handlers.Claimed](t)(s.Claim(ctx(), "out", time.Minute))
	if c.Key != "k" || c.Attempt != 1 || string(c.Payload) != "p" {
		t.Fatalf("revived claim = %+v", c)
	}
	if dl := mk[[]handlers.DeadLetter](t)(s.DeadLetters(ctx(), "out", 0)); len(dl) != 0 {
		t.Fatalf("revived item still dead: %+v", dl)
	}
	// Bury: dead now, with attempts left; a stale token cannot
	if err := s.Bury(ctx(), "out", "k", "stale-token", "x"); !errors.Is(err, handlers.ErrLeaseLost) {
		t.Fatalf("bury with a stale token: %v", err)
	}
	noErr(t, s.Bury(ctx(), "out", "k", c.Token, "40003 invalid openid"))
	dl = mk[[]handlers.DeadLetter](t)(s.DeadLetters(ctx(), "out", 0))
	if len(dl) != 1 || dl[0].Key != "k" || dl[0].Reason != "40003 invalid openid" {
		t.Fatalf("buried = %+v", dl)
	}
	if _, err := s.Claim(ctx(), "out", time.Minute); !errors.Is(err, handlers.ErrQueueEmpty) {
		t.Fatalf("a buried item was claimed: %v", err)
	}
}

func testQueueDeadAfterRepeatedCrashes(t *testing.T, h Harness) {
	s := h.Store
	mk[bool](t)(s.Enqueue(ctx(), "out", handlers.QueueItem{Key: "poison", MaxAttempts: 2}))
	for i := 0; i < 2; i++ {
		mk[*handlers.Claimed](t)(s.Claim(ctx(), "out", 200*time.Millisecond))
		h.Advance(400 * time.Millisecond) // the worker crashes every time
	}
	if _, err := s.Claim(ctx(), "out", time.Minute); !errors.Is(err, handlers.ErrQueueEmpty) {
		t.Fatalf("a item that crashed its workers %d times was handed out again: %v", 2, err)
	}
	dl := mk[[]handlers.DeadLetter](t)(s.DeadLetters(ctx(), "out", 0))
	if len(dl) != 1 || dl[0].Key != "poison" || dl[0].Reason == "" {
		t.Fatalf("dead letters = %+v", dl)
	}
}

func testQueueConcurrentClaims(t *testing.T, h Harness) {
	s := h.Store
	const n = 200
	for i := 0; i < n; i++ {
		mk[bool](t)(s.Enqueue(ctx(), "out", handlers.QueueItem{Key: fmt.Sprintf("m%03d", i)}))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, err := s.Claim(ctx(), "out", time.Minute)
				if errors.Is(err, handlers.ErrQueueEmpty) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[c.Key]++
				mu.Unlock()
				if err := s.Ack(ctx(), "out", c.Key, c.Token); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("%d of %d items delivered", len(seen), n)
	}
	var twice []string
	for k, c := range seen {
		if c != 1 {
			twice = append(twice, k)
		}
	}
	sort.Strings(twice)
	if len(twice) > 0 {
		t.Fatalf("delivered more than once: %v", twice)
	}
}
