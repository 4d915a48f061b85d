package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"policybot/handlers"
	"policybot/store/embedded"
)

type codeErr struct {
	code int
	disp handlers.Disposition
}

func (e codeErr) Error() string                     { return fmt.Sprintf("errcode %d", e.code) }
func (e codeErr) Disposition() handlers.Disposition { return e.disp }

type fakeSender struct {
	mu        sync.Mutex
	sent      map[string][]string
	templates map[string]map[string]string
	fails     map[string][]error // per recipient, consumed in order
}

func (f *fakeSender) next(to string) error {
	if errs := f.fails[to]; len(errs) > 0 {
		f.fails[to] = errs[1:]
		return errs[0]
	}
	return nil
}

func (f *fakeSender) SendText(_ context.Context, to, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.next(to); err != nil {
		return err
	}
	f.sent[to] = append(f.sent[to], text)
	return nil
}

func (f *fakeSender) SendTemplate(_ context.Context, to, id string, fields map[string]string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.next(to); err != nil {
		return "", err
	}
	f.templates[to] = fields
	return "msg-" + to, nil
}

func enqueue(t *testing.T, st handlers.Queue, key, to, kind string, attempts int) {
	t.Helper()
	b, _ := json.Marshal(handlers.OutboundText{To: to, Text: "【走访提醒】hello " + to, Kind: kind})
	if _, err := st.Enqueue(context.Background(), "out", handlers.QueueItem{Key: key, Payload: b, MaxAttempts: attempts}); err != nil {
		t.Fatal(err)
	}
}

// Every WeChat error path, against a fake sender.
func TestDelivererOutcomes(t *testing.T) {
	st, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	transient := errors.New("connection reset")
	s := &fakeSender{sent: map[string][]string{}, templates: map[string]map[string]string{}, fails: map[string][]error{
		"flaky":  {transient, codeErr{-1, handlers.Retry}}, // sent on the third try
		"gone":   {codeErr{43004, handlers.NotFollowing}},  // not following: mark and stop
		"window": {codeErr{45015, handlers.GiveUp}},        // window closed: give up
		"bad":    {codeErr{40003, handlers.Bury}},          // bad openid: dead letter now
		"quota":  {codeErr{45009, handlers.WaitTomorrow}},  // daily quota: tomorrow
		"down":   {transient, transient, transient},        // attempts used up
	}}
	enqueue(t, st, "k-ok", "ok", "daily_quiz", 0)
	enqueue(t, st, "k-tpl", "tpl", "visit", 0)
	enqueue(t, st, "k-flaky", "flaky", "x", 5)
	enqueue(t, st, "k-gone", "gone", "x", 5)
	enqueue(t, st, "k-window", "window", "x", 5)
	enqueue(t, st, "k-bad", "bad", "x", 5)
	enqueue(t, st, "k-quota", "quota", "x", 5)
	enqueue(t, st, "k-down", "down", "x", 3)
	enqueue(t, st, "k-done", "done", "x", 5)
	st.Enqueue(ctx, "out", handlers.QueueItem{Key: "k-garbage", Payload: []byte("not json")})
	// k-done was sent by a worker that died before acking
	handlers.PutDelivery(ctx, st, handlers.Delivery{Key: "k-done", Status: "sent", At: time.Now()})

	d := &Deliverer{Store: st, Queue: "out", Workers: 3, Poll: 10 * time.Millisecond,
		Channels: []Channel{&TemplateChannel{API: s, Templates: map[string]string{"visit": "TPL-VISIT"}}, &CustomChannel{API: s}},
		Backoff:  func(int) time.Duration { return 0 }}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { d.Run(runCtx); close(done) }()
	want := map[string]string{"k-ok": "sent", "k-tpl": "sent", "k-flaky": "sent", "k-gone": "failed", "k-window": "failed",
		"k-bad": "dead", "k-down": "dead", "k-garbage": "dead", "k-done": "sent"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := map[string]string{}
		for key := range want {
			if rec, err := handlers.GetDelivery(ctx, st, key); err == nil {
				got[key] = rec.Status
			}
		}
		if fmt.Sprint(got) == fmt.Sprint(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("outcomes\n got %v\nwant %v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	if len(s.sent["ok"]) != 1 || len(s.sent["flaky"]) != 1 || len(s.sent["done"]) != 0 || len(s.sent["tpl"]) != 0 {
		t.Errorf("sent %v", s.sent)
	}
	if f := s.templates["tpl"]; f["thing1"] != "走访提醒" || f["thing2"] != "hello tpl" {
		t.Errorf("template fields %v", f)
	}
	if rec, _ := handlers.GetDelivery(ctx, st, "k-tpl"); rec.Channel != "template" || rec.MsgID != "msg-tpl" {
		t.Errorf("template record %+v", rec)
	}
	// WeChat confirms the template message later
	intent := handlers.TemplateFinishIntent(st)
	intent.Handle(ctx, handlers.Message{User: "tpl", Kind: handlers.KindEvent, Event: "TEMPLATESENDJOBFINISH", EventKey: "msg-tpl:success", At: time.Now()})
	if rec, _ := handlers.GetDelivery(ctx, st, "k-tpl"); rec.Status != "delivered" {
		t.Errorf("after TEMPLATESENDJOBFINISH: %+v", rec)
	}
	if b, err := st.GetRecord(ctx, handlers.KindFollower, "gone"); err != nil || !strings.Contains(string(b), `"following":false`) {
		t.Errorf("43004 did not mark the follower: %s %v", b, err)
	}
	dead, _ := st.DeadLetters(ctx, "out", 0)
	reasons := map[string]string{}
	for _, dl := range dead {
		reasons[dl.Key] = dl.Reason
	}
	if reasons["k-bad"] != "errcode 40003" || reasons["k-down"] == "" || len(dead) != 3 {
		t.Errorf("dead letters %v", reasons)
	}
	// the quota item waits for tomorrow: still queued, not ready, not dead
	if _, err := st.Claim(ctx, "out", time.Minute); !errors.Is(err, handlers.ErrQueueEmpty) {
		t.Errorf("quota item ready again today: %v", err)
	}
	if _, err := handlers.GetDelivery(ctx, st, "k-quota"); !errors.Is(err, handlers.ErrNotFound) {
		t.Errorf("quota item has an outcome already: %v", err)
	}
}

type fakeChannel struct {
	name string
	errs map[string]error // by recipient (openid or phone)
	mu   sync.Mutex
	got  []string
}

func (c *fakeChannel) Name() string { return c.name }
func (c *fakeChannel) Send(_ context.Context, m handlers.OutboundText) (string, error) {
	who := m.To
	if c.name != "wecom" && m.To == "" {
		return "", ErrNotApplicable
	}
	if c.name == "wecom" {
		if m.Phone == "" {
			return "", ErrNotApplicable
		}
		who = m.Phone
	}
	if err, ok := c.errs[who]; ok {
		return "", err
	}
	c.mu.Lock()
	c.got = append(c.got, who)
	c.mu.Unlock()
	return "", nil
}

// Channels are tried in order; "not applicable" moves on, a real error
// stops there.
func TestDelivererChannelOrder(t *testing.T) {
	st, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	sub := &fakeChannel{name: "subscribe", errs: map[string]error{"oStaff": ErrNotApplicable, "oHouse": ErrNotApplicable, "oOut": ErrNotApplicable, "oBroken": ErrNotApplicable}}
	wecom := &fakeChannel{name: "wecom", errs: map[string]error{"13900000000": ErrNotApplicable}}
	custom := &fakeChannel{name: "custom", errs: map[string]error{"oBroken": codeErr{45015, handlers.GiveUp}}}
	put := func(key string, m handlers.OutboundText) {
		b, _ := json.Marshal(m)
		st.Enqueue(ctx, "out", handlers.QueueItem{Key: key, Payload: b})
	}
	put("staff", handlers.OutboundText{To: "oStaff", Phone: "13800000001", Text: "t", Kind: "visit"})
	put("outsider", handlers.OutboundText{To: "oOut", Phone: "13900000000", Text: "t", Kind: "visit"})
	put("house", handlers.OutboundText{To: "oHouse", Text: "t", Kind: "daily_quiz"})
	put("unbound", handlers.OutboundText{Phone: "13800000002", Text: "t", Kind: "visit"})
	put("broken", handlers.OutboundText{To: "oBroken", Text: "t", Kind: "x"})
	d := &Deliverer{Store: st, Queue: "out", Channels: []Channel{sub, wecom, custom}}
	for {
		worked, err := d.Once(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !worked {
			break
		}
	}
	want := map[string]string{"staff": "wecom/sent", "outsider": "custom/sent", "house": "custom/sent", "unbound": "wecom/sent", "broken": "custom/failed"}
	for key, w := range want {
		rec, err := handlers.GetDelivery(ctx, st, key)
		if got := rec.Channel + "/" + rec.Status; err != nil || got != w {
			t.Errorf("%s: %s (%v), want %s", key, got, err, w)
		}
	}
}

// A channel's own rate limit spaces its sends.
func TestChannelRate(t *testing.T) {
	st, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	custom := &fakeChannel{name: "custom", errs: map[string]error{}}
	for i := 0; i < 6; i++ {
		b, _ := json.Marshal(handlers.OutboundText{To: fmt.Sprint("o", i), Text: "t"})
		st.Enqueue(ctx, "out", handlers.QueueItem{Key: fmt.Sprint("k", i), Payload: b})
	}
	d := &Deliverer{Store: st, Queue: "out", Channels: []Channel{custom}, ChannelRates: map[string]float64{"custom": 20}}
	start := time.Now()
	for {
		worked, err := d.Once(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !worked {
			break
		}
	}
	// 6 sends at 20/s: the last may start 250 ms after the first
	if took := time.Since(start); took < 200*time.Millisecond || len(custom.got) != 6 {
		t.Errorf("6 sends at 20/s took %s (%d sent)", took, len(custom.got))
	}
}
