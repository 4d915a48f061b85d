package scheduler

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"policybot/store/embedded"
)

func TestRunNowLeasePanicAndSkip(t *testing.T) {
	st, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := New(time.UTC, st, nil)
	b := New(time.UTC, st, nil) // a second instance on the same store
	ctx := context.Background()

	// a panic is recovered and reported
	ran, err := a.RunNow(ctx, Job{Name: "p", Run: func(context.Context) error { panic("boom") }})
	if !ran || err == nil || a.Stats("p").Panics != 1 {
		t.Fatalf("panic: ran=%v err=%v stats=%+v", ran, err, a.Stats("p"))
	}
	// the lease was released after the panic: b can run it
	if ran, _ := b.RunNow(ctx, Job{Name: "p", Run: func(context.Context) error { return nil }}); !ran {
		t.Fatal("lease not released after a panic")
	}

	// while a holds the lease, b skips
	hold := make(chan struct{})
	started := make(chan struct{})
	var runs atomic.Int32
	job := Job{Name: "slow", Lease: time.Minute, Run: func(ctx context.Context) error {
		runs.Add(1)
		close(started)
		<-hold
		return nil
	}}
	done := make(chan struct{})
	go func() { a.RunNow(ctx, job); close(done) }()
	<-started
	if ran, err := b.RunNow(ctx, Job{Name: "slow", Run: func(context.Context) error { runs.Add(1); return nil }}); ran || err != nil {
		t.Errorf("second instance ran a held job: %v %v", ran, err)
	}
	close(hold)
	<-done
	if runs.Load() != 1 || b.Stats("slow").Skipped != 1 {
		t.Errorf("runs %d, skipped %+v", runs.Load(), b.Stats("slow"))
	}
	// an error is counted
	if _, err := a.RunNow(ctx, Job{Name: "e", Run: func(context.Context) error { return errors.New("x") }}); err == nil || a.Stats("e").Failed != 1 {
		t.Errorf("error: %v %+v", err, a.Stats("e"))
	}
}

// The cron path: an overlapping run is skipped, Stop waits for the run.
func TestScheduleSkipsOverlap(t *testing.T) {
	st, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := New(time.UTC, st, nil)
	var runs atomic.Int32
	release := make(chan struct{})
	if err := s.Add(Job{Name: "every", Spec: "@every 1s", Run: func(ctx context.Context) error {
		runs.Add(1)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(Job{Name: "bad", Spec: "not a spec"}); err == nil {
		t.Error("a bad spec was accepted")
	}
	s.Start()
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats("every").Skipped == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	close(release)
	s.Stop()
	if runs.Load() < 1 || s.Stats("every").Skipped == 0 {
		t.Errorf("runs %d, stats %+v", runs.Load(), s.Stats("every"))
	}
}

func TestDailySpec(t *testing.T) {
	if got, err := DailySpec("09:30"); err != nil || got != "30 9 * * *" {
		t.Errorf("%q %v", got, err)
	}
	if _, err := DailySpec("25:00"); err == nil {
		t.Error("25:00 accepted")
	}
}

// After downtime, a job whose time passed runs once at start, however
// many times it was missed; the schedule is read through Schedule.Next on
// an injected clock, in Asia/Shanghai.
func TestCatchUpAfterDowntime(t *testing.T) {
	st, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 20, 8, 0, 30, 0, loc)
	s := New(loc, st, nil)
	s.Now = func() time.Time { return now }
	var runs atomic.Int32
	job := Job{Name: "morning", Spec: "0 8 * * *", Run: func(context.Context) error { runs.Add(1); return nil }}
	if err := s.Add(job); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Missed(context.Background()); len(m) != 0 {
		t.Fatalf("a job never run counts as missed: %v", m)
	}
	s.RunNow(context.Background(), job) // ran at 08:00:30 on the 20th
	for _, c := range []struct {
		at     time.Time
		missed bool
	}{
		{time.Date(2026, 11, 20, 20, 0, 0, 0, loc), false}, // same day, later
		{time.Date(2026, 11, 21, 7, 59, 0, 0, loc), false}, // before the next 08:00 Beijing time
		{time.Date(2026, 11, 21, 8, 0, 0, 0, loc), true},
		{time.Date(2026, 11, 25, 12, 0, 0, 0, loc), true}, // down for days: still once
	} {
		now = c.at
		m, err := s.Missed(context.Background())
		if err != nil || (len(m) == 1) != c.missed {
			t.Errorf("at %s: missed %v (%v), want %v", c.at, m, err, c.missed)
		}
	}
	s.CatchUp(context.Background())
	if runs.Load() != 2 {
		t.Errorf("runs %d, want 2 (the first and one catch-up)", runs.Load())
	}
	if m, _ := s.Missed(context.Background()); len(m) != 0 {
		t.Errorf("still missed after catching up: %v", m)
	}
}
