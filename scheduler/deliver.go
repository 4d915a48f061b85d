package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"policybot/handlers"
)

// Sender sends one text to one person (bot.API, or bot.Outbox in local
// mode).
type Sender interface {
	SendText(ctx context.Context, openid, text string) error
}

// KindDelivery records the outcome of every queued message (id: the
// queue key; index "status" = sent|failed|dead, "day").
const KindDelivery = "delivery"

// Delivery is the record of one message's outcome.
type Delivery struct {
	Key      string    `json:"key"`
	To       string    `json:"to"`
	Kind     string    `json:"kind"`
	Status   string    `json:"status"` // sent, failed (given up: permanent), dead (attempts used up)
	Reason   string    `json:"reason,omitempty"`
	Attempts int       `json:"attempts"`
	At       time.Time `json:"at"`
}

// DeliveryStore is what the pipeline needs.
type DeliveryStore interface {
	handlers.Queue
	handlers.Records
}

// Deliverer drains a queue of handlers.OutboundText through a Sender:
// each item is sent by one worker at a time (a lease), acknowledged when
// sent, retried with backoff on a transient error, given up on a
// permanent one (the error says so with a Permanent() bool method), and
// dead-lettered when its attempts are used up. Every outcome is recorded.
// A worker that dies mid-send leaves the item to come back when its lease
// ends, so a message is never lost; it can be sent twice only if a send
// succeeded and the process died before the acknowledgement.
type Deliverer struct {
	Store   DeliveryStore
	Queue   string
	Sender  Sender
	Workers int           // default 2
	Lease   time.Duration // default 1 min; bounds one send
	Poll    time.Duration // wait when the queue is empty; default 1 s
	// Backoff is the wait before attempt n+1; default 30 s × 2^(n−1), at most 30 min.
	Backoff func(attempt int) time.Duration
	Now     func() time.Time
	Log     *slog.Logger
}

func (d *Deliverer) defaults() {
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
			b := 30 * time.Second << min(n-1, 6)
			return min(b, 30*time.Minute)
		}
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
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
	it, err := d.Store.Claim(ctx, d.Queue, d.Lease)
	if errors.Is(err, handlers.ErrQueueEmpty) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	// the send must finish inside the lease, and survive ctx's end so a
	// shutdown does not cut a send in half
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.Lease*9/10)
	defer cancel()
	var msg handlers.OutboundText
	if err := json.Unmarshal(it.Payload, &msg); err != nil || msg.To == "" || msg.Text == "" {
		d.finish(sctx, it, "failed", fmt.Sprintf("unreadable payload: %v", err), "")
		return true, d.Store.Ack(sctx, d.Queue, it.Key, it.Token)
	}
	sendErr := d.Sender.SendText(sctx, msg.To, msg.Text)
	var perm interface{ Permanent() bool }
	switch {
	case sendErr == nil:
		if err := d.Store.Ack(sctx, d.Queue, it.Key, it.Token); err != nil {
			// lease lost: someone else holds it now; they will ack or resend
			d.Log.Warn("delivery: sent but not acknowledged", "key", it.Key, "err", err)
			return true, nil
		}
		d.finish(sctx, it, "sent", "", msg.Kind, msg.To)
	case errors.As(sendErr, &perm) && perm.Permanent():
		if err := d.Store.Ack(sctx, d.Queue, it.Key, it.Token); err != nil {
			return true, nil
		}
		d.finish(sctx, it, "failed", sendErr.Error(), msg.Kind, msg.To)
	default:
		dead, err := d.Store.Retry(sctx, d.Queue, it.Key, it.Token, d.Now().Add(d.Backoff(it.Attempt)), sendErr.Error())
		if err != nil {
			return true, nil
		}
		if dead {
			d.finish(sctx, it, "dead", sendErr.Error(), msg.Kind, msg.To)
		} else {
			d.Log.Info("delivery: will retry", "key", it.Key, "attempt", it.Attempt, "err", sendErr)
		}
	}
	return true, nil
}

func (d *Deliverer) finish(ctx context.Context, it *handlers.Claimed, status, reason, kind string, to ...string) {
	rec := Delivery{Key: it.Key, Kind: kind, Status: status, Reason: reason, Attempts: it.Attempt, At: d.Now()}
	if len(to) > 0 {
		rec.To = to[0]
	}
	b, _ := json.Marshal(rec)
	if err := d.Store.PutRecord(ctx, KindDelivery, it.Key, b,
		handlers.IndexEntry{Name: "status", Value: status}, handlers.IndexEntry{Name: "day", Value: rec.At.Format("2006-01-02")}); err != nil {
		d.Log.Error("delivery: outcome not recorded", "key", it.Key, "status", status, "err", err)
	}
	if status != "sent" {
		d.Log.Warn("delivery: message given up", "key", it.Key, "status", status, "reason", reason)
	}
}
