package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"policybot/handlers"
)

// Sender sends one text to one person as a customer-service message
// (bot.API, or bot.Outbox in local mode).
type Sender interface {
	SendText(ctx context.Context, openid, text string) error
}

// TemplateSender sends template messages (bot.API).
type TemplateSender interface {
	SendTemplate(ctx context.Context, openid, templateID string, fields map[string]string) (msgid string, err error)
}

// DeliveryStore is what the pipeline needs.
type DeliveryStore interface {
	handlers.Queue
	handlers.Records
}

// Deliverer drains a queue of handlers.OutboundText: the stages of
// prometheus/alertmanager's notify (skip what was sent → rate limit →
// send → record → ack), with WeChat's errors mapped to what to do
// (handlers.Disposition):
//
//   - sent: the delivery record is written first, then the item acked;
//     a worker that died between the two finds the record and acks
//     without sending again;
//   - retry (timeouts, 5xx, -1): again after a backoff, until the item's
//     attempts are used up (dead letter);
//   - wait tomorrow (45009 daily quota): again after midnight;
//   - not following (43004): the person is marked, the item dropped;
//   - give up (45015, 45047, 48001): recorded as failed, dropped;
//   - bury (40003, 40037): dead letter with the reason.
//
// A worker that dies mid-send leaves the item to come back when its
// lease ends: nothing is lost. The one window where a message can go out
// twice is a crash after WeChat accepted it and before the record is
// written (WeChat's API takes no idempotency key).
type Deliverer struct {
	Store DeliveryStore
	Queue string
	// Channels are tried in order for each message: the first that
	// applies sends it (see ErrNotApplicable). A message no channel
	// applies to is recorded as failed (no channel reaches the person).
	Channels []Channel
	Workers  int           // default 2
	Lease    time.Duration // default 1 min; bounds one send
	Poll     time.Duration // wait when the queue is empty; default 1 s
	// Rate is messages per second across the workers (0: no limit).
	Rate float64
	// ChannelRates limits each channel by name (template, subscribe,
	// wecom, custom) to its own messages per second, on top of Rate:
	// WeChat's and WeCom's quotas are separate.
	ChannelRates map[string]float64
	// Backoff is the wait before attempt n+1; default 30 s × 2^(n−1), at most 30 min.
	Backoff func(attempt int) time.Duration
	Now     func() time.Time
	Loc     *time.Location
	Log     *slog.Logger

	once     sync.Once
	limiter  *limiter
	chLimits map[string]*limiter

	// unrecorded holds sends that went out while the store could not take
	// their record and ack (Redis going away): they are recorded and acked
	// as soon as it answers, and never sent again by this process.
	mu         sync.Mutex
	unrecorded map[string]unrecordedSend
}

type unrecordedSend struct {
	item *handlers.Claimed
	rec  handlers.Delivery
}

func (d *Deliverer) defaults() {
	d.once.Do(func() {
		if d.Workers <= 0 {
			d.Workers = 2
		}
		if d.Lease <= 0 {
			d.Lease = time.Minute
		}
		if d.Poll <= 0 {
			d.Poll = time.Second
		}
		if d.Backoff == nil {
			d.Backoff = func(n int) time.Duration {
				return min(30*time.Second<<min(max(n-1, 0), 6), 30*time.Minute)
			}
		}
		if d.Now == nil {
			d.Now = time.Now
		}
		if d.Loc == nil {
			d.Loc = handlers.ChinaTime()
		}
		if d.Log == nil {
			d.Log = slog.Default()
		}
		d.limiter = newLimiter(d.Rate)
		d.chLimits = map[string]*limiter{}
		for name, r := range d.ChannelRates {
			d.chLimits[name] = newLimiter(r)
		}
	})
}

// Run delivers until ctx ends, then returns once every worker has
// finished the item it holds.
func (d *Deliverer) Run(ctx context.Context) {
	d.defaults()
	var wg sync.WaitGroup
	for i := 0; i < d.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				worked, err := d.Once(ctx)
				if err != nil && ctx.Err() == nil {
					d.Log.Warn("delivery: queue not reachable", "queue", d.Queue, "err", err)
				}
				if !worked {
					select {
					case <-ctx.Done():
					case <-time.After(d.Poll):
					}
				}
			}
		}()
	}
	wg.Wait()
}

// Once claims and handles one item. worked is false when the queue had
// nothing ready (or could not be reached: err).
func (d *Deliverer) Once(ctx context.Context) (worked bool, err error) {
	d.defaults()
	d.recordPending(ctx)
	if err := d.limiter.wait(ctx); err != nil {
		return false, nil
	}
	it, err := d.Store.Claim(ctx, d.Queue, d.Lease)
	if errors.Is(err, handlers.ErrQueueEmpty) {
		d.limiter.giveBack()
		return false, nil
	}
	if err != nil {
		d.limiter.giveBack()
		return false, err
	}
	// the send must end inside the lease, and a shutdown must not cut it
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.Lease*9/10)
	defer cancel()
	rec := handlers.Delivery{Key: it.Key, Attempts: it.Attempt}
	if prev, err := handlers.GetDelivery(sctx, d.Store, it.Key); err == nil && (prev.Status == "sent" || prev.Status == "delivered") {
		// sent by a worker that died before acking: finish, do not resend
		return true, d.ack(sctx, it)
	}
	d.mu.Lock()
	u, sentHere := d.unrecorded[it.Key]
	d.mu.Unlock()
	if sentHere { // this process sent it while the store was away
		u.item = it
		return true, d.finishUnrecorded(sctx, u)
	}
	var msg handlers.OutboundText
	if err := json.Unmarshal(it.Payload, &msg); err != nil || msg.To == "" && msg.Phone == "" || msg.Text == "" {
		return true, d.bury(sctx, it, rec, fmt.Sprintf("unreadable payload: %v", err))
	}
	rec.To, rec.Kind = msg.To, msg.Kind
	sendErr := d.send(sctx, msg, &rec)
	if sendErr == nil {
		rec.Status, rec.At = "sent", d.Now()
		return true, d.finishUnrecorded(sctx, unrecordedSend{item: it, rec: rec})
	}
	reason := sendErr.Error()
	switch handlers.DispositionOf(sendErr) {
	case handlers.NotFollowing:
		if err := handlers.MarkNotFollowing(sctx, d.Store, msg.To, d.Now()); err != nil {
			d.Log.Warn("delivery: follower not marked", "err", err)
		}
		return true, d.fail(sctx, it, rec, reason)
	case handlers.GiveUp:
		return true, d.fail(sctx, it, rec, reason)
	case handlers.Bury:
		return true, d.bury(sctx, it, rec, reason)
	case handlers.WaitTomorrow:
		lt := d.Now().In(d.Loc)
		tomorrow := time.Date(lt.Year(), lt.Month(), lt.Day()+1, 0, 5, 0, 0, d.Loc)
		return true, d.retry(sctx, it, rec, tomorrow, reason)
	default:
		return true, d.retry(sctx, it, rec, d.Now().Add(d.Backoff(it.Attempt)), reason)
	}
}

// finishUnrecorded records a send and acks its item; when the store does
// not answer it keeps both for later (recordPending) instead of losing
// the fact that the message went out.
func (d *Deliverer) finishUnrecorded(ctx context.Context, u unrecordedSend) error {
	if err := handlers.PutDelivery(ctx, d.Store, u.rec); err != nil {
		d.keep(u)
		d.Log.Warn("delivery: sent, recording later (store unavailable)", "key", u.item.Key, "err", err)
		return nil
	}
	if err := d.ack(ctx, u.item); err != nil {
		d.keep(u)
		return nil
	}
	d.mu.Lock()
	delete(d.unrecorded, u.item.Key)
	d.mu.Unlock()
	return nil
}

func (d *Deliverer) keep(u unrecordedSend) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.unrecorded == nil {
		d.unrecorded = map[string]unrecordedSend{}
	}
	d.unrecorded[u.item.Key] = u
}

// recordPending retries the records and acks kept while the store was away.
func (d *Deliverer) recordPending(ctx context.Context) {
	d.mu.Lock()
	pending := make([]unrecordedSend, 0, len(d.unrecorded))
	for _, u := range d.unrecorded {
		pending = append(pending, u)
	}
	d.mu.Unlock()
	for _, u := range pending {
		if ctx.Err() != nil {
			return
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.Lease/2)
		d.finishUnrecorded(sctx, u)
		cancel()
	}
}

// send tries the channels in order until one applies.
func (d *Deliverer) send(ctx context.Context, msg handlers.OutboundText, rec *handlers.Delivery) error {
	for _, ch := range d.Channels {
		if l := d.chLimits[ch.Name()]; l != nil {
			if err := l.wait(ctx); err != nil {
				return err
			}
		}
		msgid, err := ch.Send(ctx, msg)
		if errors.Is(err, ErrNotApplicable) {
			continue
		}
		rec.Channel, rec.MsgID = ch.Name(), msgid
		return err
	}
	return errNoChannel
}

// errNoChannel: no configured channel reaches the person.
var errNoChannel = noChannelError{}

type noChannelError struct{}

func (noChannelError) Error() string                     { return "no channel reaches this person" }
func (noChannelError) Disposition() handlers.Disposition { return handlers.GiveUp }

// splitTitle takes "【走访提醒】本月…" apart into 走访提醒 and the rest.
func splitTitle(text string) (string, string) {
	if strings.HasPrefix(text, "【") {
		if i := strings.Index(text, "】"); i > 0 {
			return text[len("【"):i], strings.TrimSpace(text[i+len("】"):])
		}
	}
	return "通知", text
}

func (d *Deliverer) ack(ctx context.Context, it *handlers.Claimed) error {
	if err := d.Store.Ack(ctx, d.Queue, it.Key, it.Token); err != nil && !errors.Is(err, handlers.ErrLeaseLost) {
		return err
	}
	return nil
}

func (d *Deliverer) fail(ctx context.Context, it *handlers.Claimed, rec handlers.Delivery, reason string) error {
	rec.Status, rec.Reason, rec.At = "failed", reason, d.Now()
	d.record(ctx, rec)
	return d.ack(ctx, it)
}

func (d *Deliverer) bury(ctx context.Context, it *handlers.Claimed, rec handlers.Delivery, reason string) error {
	rec.Status, rec.Reason, rec.At = "dead", reason, d.Now()
	d.record(ctx, rec)
	if err := d.Store.Bury(ctx, d.Queue, it.Key, it.Token, reason); err != nil && !errors.Is(err, handlers.ErrLeaseLost) {
		return err
	}
	return nil
}

func (d *Deliverer) retry(ctx context.Context, it *handlers.Claimed, rec handlers.Delivery, at time.Time, reason string) error {
	dead, err := d.Store.Retry(ctx, d.Queue, it.Key, it.Token, at, reason)
	if err != nil {
		if errors.Is(err, handlers.ErrLeaseLost) {
			return nil
		}
		return err
	}
	if dead {
		rec.Status, rec.Reason, rec.At = "dead", reason, d.Now()
		d.record(ctx, rec)
	} else {
		d.Log.Info("delivery: will retry", "key", it.Key, "attempt", it.Attempt, "at", at, "err", reason)
	}
	return nil
}

func (d *Deliverer) record(ctx context.Context, rec handlers.Delivery) {
	if err := handlers.PutDelivery(ctx, d.Store, rec); err != nil {
		d.Log.Error("delivery: outcome not recorded", "key", rec.Key, "status", rec.Status, "err", err)
	}
	d.Log.Warn("delivery: message not sent", "key", rec.Key, "status", rec.Status, "reason", rec.Reason)
}

// limiter spaces sends evenly at rate per second across workers.
type limiter struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
}

func newLimiter(rate float64) *limiter {
	if rate <= 0 {
		return &limiter{}
	}
	return &limiter{interval: time.Duration(float64(time.Second) / rate)}
}

// wait blocks until the next send may start.
func (l *limiter) wait(ctx context.Context) error {
	if l.interval == 0 {
		return nil
	}
	l.mu.Lock()
	now := time.Now()
	if l.next.Before(now) {
		l.next = now
	}
	at := l.next
	l.next = l.next.Add(l.interval)
	l.mu.Unlock()
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// giveBack returns a slot that was not used (the queue was empty).
func (l *limiter) giveBack() {
	if l.interval == 0 {
		return
	}
	l.mu.Lock()
	l.next = l.next.Add(-l.interval)
	l.mu.Unlock()
}
