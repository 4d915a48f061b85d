package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"policybot/handlers"
)

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
