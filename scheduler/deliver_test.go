package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"policybot/handlers"
	"policybot/store/embedded"
)

type permErr struct{ code int }

func (e permErr) Error() string   { return fmt.Sprintf("errcode %d", e.code) }
func (e permErr) Permanent() bool { return true }

type fakeSender struct {
	mu    sync.Mutex
	sent  map[string][]string
	fails map[string][]error // per recipient, consumed in order
}

func (f *fakeSender) SendText(_ context.Context, to, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if errs := f.fails[to]; len(errs) > 0 {
		f.fails[to] = errs[1:]
		return errs[0]
	}
	f.sent[to] = append(f.sent[to], text)
	return nil
}

func enqueue(t *testing.T, st handlers.Queue, key, to string, attempts int) {
	t.Helper()
	b, _ := json.Marshal(handlers.OutboundText{To: to, Text: "hello " + to, Kind: "test"})
	if _, err := st.Enqueue(context.Background(), "out", handlers.QueueItem{Key: key, Payload: b, MaxAttempts: attempts}); err != nil {
		t.Fatal(err)
	}
}

func TestDelivererOutcomes(t *testing.T) {
	st, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	transient := errors.New("connection reset")
	s := &fakeSender{sent: map[string][]string{}, fails: map[string][]error{
		"flaky": {transient, transient},            // sent on the third try
		"gone":  {permErr{43004}},                  // not following: give up at once
		"down":  {transient, transient, transient}, // attempts used up
	}}
	enqueue(t, st, "k-ok", "ok", 0)
	enqueue(t, st, "k-flaky", "flaky", 5)
	enqueue(t, st, "k-gone", "gone", 5)
	enqueue(t, st, "k-down", "down", 3)
	st.Enqueue(context.Background(), "out", handlers.QueueItem{Key: "k-bad", Payload: []byte("not json")})
	d := &Deliverer{Store: st, Queue: "out", Sender: s, Workers: 3, Poll: 10 * time.Millisecond,
		Backoff: func(int) time.Duration { return 0 }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	want := map[string]string{"k-ok": "sent", "k-flaky": "sent", "k-gone": "failed", "k-down": "dead", "k-bad": "failed"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := map[string]string{}
		for key := range want {
			if b, err := st.GetRecord(context.Background(), KindDelivery, key); err == nil {
				var rec Delivery
				json.Unmarshal(b, &rec)
				got[key] = rec.Status
			}
		}
		if fmt.Sprint(got) == fmt.Sprint(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("outcomes %v, want %v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	if len(s.sent["ok"]) != 1 || len(s.sent["flaky"]) != 1 || len(s.sent["gone"]) != 0 {
		t.Errorf("sent %v", s.sent)
	}
	dead, err := st.DeadLetters(context.Background(), "out", 0)
	if err != nil || len(dead) != 1 || dead[0].Key != "k-down" {
		t.Errorf("dead letters %+v %v", dead, err)
	}
	if _, err := st.Claim(context.Background(), "out", time.Minute); !errors.Is(err, handlers.ErrQueueEmpty) {
		t.Errorf("queue not drained: %v", err)
	}
	b, _ := st.GetRecord(context.Background(), KindDelivery, "k-flaky")
	var rec Delivery
	json.Unmarshal(b, &rec)
	if rec.Attempts != 3 || rec.To != "flaky" {
		t.Errorf("flaky record %+v", rec)
	}
}
