// Package storetest is the contract every handlers.Store backend must
// pass. A backend's test calls Run with a factory for fresh, empty stores.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
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

func testRecords(t *testing.T, h Harness) {
	s := h.Store
	if _, err := s.GetRecord(ctx(), "user", "u1"); !errors.Is(err, handlers.ErrNotFound) {
		t.Fatalf("absent record: %v", err)
	}
	noErr(t, s.PutRecord(ctx(), "user", "u1", []byte(`{"name":"张三"}`),
		handlers.IndexEntry{Name: "openid", Value: "oA"}, handlers.IndexEntry{Name: "village", Value: "金家村"}))
	noErr(t, s.PutRecord(ctx(), "user", "u2", []byte(`{"name":"李四"}`),
		handlers.IndexEntry{Name: "openid", Value: "oB"}, handlers.IndexEntry{Name: "village", Value: "金家村"}))
	noErr(t, s.PutRecord(ctx(), "user", "u3", []byte(`{"name":"王五"}`), handlers.IndexEntry{Name: "village", Value: "上谷村"}))
	noErr(t, s.PutRecord(ctx(), "task", "u1", []byte(`another kind, same id`)))
	if got := mk[[]byte](t)(s.GetRecord(ctx(), "user", "u1")); string(got) != `{"name":"张三"}` {
		t.Fatalf("got %q", got)
	}
	if got := mk[[]string](t)(s.LookupRecords(ctx(), "user", "openid", "oB")); fmt.Sprint(got) != "[u2]" {
		t.Fatalf("lookup openid = %v", got)
	}
	if got := mk[[]string](t)(s.LookupRecords(ctx(), "user", "village", "金家村")); fmt.Sprint(got) != "[u1 u2]" {
		t.Fatalf("lookup village = %v", got)
	}
	if got := mk[[]string](t)(s.LookupRecords(ctx(), "user", "village", "金家")); len(got) != 0 {
		t.Fatalf("lookup matched a prefix: %v", got)
	}
	if got := mk[[]string](t)(s.LookupRecords(ctx(), "user", "nosuchindex", "x")); len(got) != 0 {
		t.Fatalf("unknown index = %v", got)
	}
	got := mk[[][]byte](t)(s.GetRecords(ctx(), "user", []string{"u3", "nope", "u1"}))
	if len(got) != 3 || string(got[0]) != `{"name":"王五"}` || got[1] != nil || string(got[2]) != `{"name":"张三"}` {
		t.Fatalf("GetRecords = %q", got)
	}
	if got := mk[[][]byte](t)(s.GetRecords(ctx(), "nosuchkind", []string{"u1"})); len(got) != 1 || got[0] != nil {
		t.Fatalf("GetRecords of an unknown kind = %q", got)
	}
	noErr(t, s.DeleteRecord(ctx(), "user", "u1"))
	noErr(t, s.DeleteRecord(ctx(), "user", "u1")) // absent: not an error
	if _, err := s.GetRecord(ctx(), "user", "u1"); !errors.Is(err, handlers.ErrNotFound) {
		t.Fatalf("deleted record: %v", err)
	}
	if got := mk[[]string](t)(s.LookupRecords(ctx(), "user", "village", "金家村")); fmt.Sprint(got) != "[u2]" {
		t.Fatalf("index entry of a deleted record remains: %v", got)
	}
	if got := mk[[]byte](t)(s.GetRecord(ctx(), "task", "u1")); string(got) != "another kind, same id" {
		t.Fatalf("kinds are not separate: %q", got)
	}
	if err := s.PutRecord(ctx(), "user", "bad\x00id", []byte("x")); err == nil {
		t.Fatal("an id with a NUL byte was accepted")
	}
}

func testRecordsIndexUpdate(t *testing.T, h Harness) {
	s := h.Store
	noErr(t, s.PutRecord(ctx(), "user", "u1", []byte("v1"), handlers.IndexEntry{Name: "openid", Value: "old"}, handlers.IndexEntry{Name: "role", Value: "helper"}))
	noErr(t, s.PutRecord(ctx(), "user", "u1", []byte("v2"), handlers.IndexEntry{Name: "openid", Value: "new"}))
	if got := mk[[]string](t)(s.LookupRecords(ctx(), "user", "openid", "old")); len(got) != 0 {
		t.Fatalf("old index value still finds the record: %v", got)
	}
	if got := mk[[]string](t)(s.LookupRecords(ctx(), "user", "role", "helper")); len(got) != 0 {
		t.Fatalf("dropped index still finds the record: %v", got)
	}
	if got := mk[[]string](t)(s.LookupRecords(ctx(), "user", "openid", "new")); fmt.Sprint(got) != "[u1]" {
		t.Fatalf("new index value: %v", got)
	}
	if got := mk[[]byte](t)(s.GetRecord(ctx(), "user", "u1")); string(got) != "v2" {
		t.Fatalf("data not replaced: %q", got)
	}
}

func testRecordsRangeAndList(t *testing.T, h Harness) {
	s := h.Store
	for i, due := range []string{"2026-12-03", "2026-12-01", "2026-12-02", "2026-12-01", "2027-01-05"} {
		id := fmt.Sprintf("t%d", i)
		noErr(t, s.PutRecord(ctx(), "task", id, []byte(id), handlers.IndexEntry{Name: "due", Value: due}))
	}
	hits := mk[[]handlers.IndexHit](t)(s.RangeRecords(ctx(), "task", "due", "2026-12-01", "2026-12-03", 0))
	if fmt.Sprint(hits) != "[{2026-12-01 t1} {2026-12-01 t3} {2026-12-02 t2}]" {
		t.Fatalf("range = %v", hits)
	}
	hits = mk[[]handlers.IndexHit](t)(s.RangeRecords(ctx(), "task", "due", "2026-12-02", "", 2))
	if fmt.Sprint(hits) != "[{2026-12-02 t2} {2026-12-03 t0}]" {
		t.Fatalf("open range with limit = %v", hits)
	}
	ids := mk[[]string](t)(s.ListRecords(ctx(), "task", "", 3))
	if fmt.Sprint(ids) != "[t0 t1 t2]" {
		t.Fatalf("list = %v", ids)
	}
	ids = mk[[]string](t)(s.ListRecords(ctx(), "task", "t2", 0))
	if fmt.Sprint(ids) != "[t3 t4]" {
		t.Fatalf("list after t2 = %v", ids)
	}
	if ids := mk[[]string](t)(s.ListRecords(ctx(), "nokind", "", 0)); len(ids) != 0 {
		t.Fatalf("empty kind listed %v", ids)
	}
}

func testCounters(t *testing.T, h Harness) {
	s := h.Store
	if v := mk[int64](t)(s.Counter(ctx(), "answers:q1")); v != 0 {
		t.Fatalf("absent counter = %d", v)
	}
	mk[int64](t)(s.Incr(ctx(), "answers:q1", 1))
	if v := mk[int64](t)(s.Incr(ctx(), "answers:q1", 5)); v != 6 {
		t.Fatalf("incr = %d", v)
	}
	if v := mk[int64](t)(s.Incr(ctx(), "answers:q1", -2)); v != 4 {
		t.Fatalf("decr = %d", v)
	}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Incr(ctx(), "c", 1); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if v := mk[int64](t)(s.Counter(ctx(), "c")); v != 20 {
		t.Fatalf("concurrent incr lost updates: %d", v)
	}
}

func testRankings(t *testing.T, h Harness) {
	s := h.Store
	for _, x := range []struct {
		m string
		d float64
	}{{"张三", 3}, {"李四", 5}, {"王五", 1}, {"张三", 4}} {
		mk[float64](t)(s.AddScore(ctx(), "week:金家村", x.m, x.d))
	}
	top := mk[[]handlers.Scored](t)(s.TopScores(ctx(), "week:金家村", 2))
	if fmt.Sprint(top) != "[{张三 7} {李四 5}]" {
		t.Fatalf("top = %v", top)
	}
	score, rank := 0.0, 0
	var err error
	if score, rank, err = s.ScoreOf(ctx(), "week:金家村", "王五"); err != nil || score != 1 || rank != 3 {
		t.Fatalf("ScoreOf = %v %v %v", score, rank, err)
	}
	if _, _, err := s.ScoreOf(ctx(), "week:金家村", "nobody"); !errors.Is(err, handlers.ErrNotFound) {
		t.Fatalf("absent member: %v", err)
	}
	if top := mk[[]handlers.Scored](t)(s.TopScores(ctx(), "empty", 10)); len(top) != 0 {
		t.Fatalf("empty board = %v", top)
	}
}

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
