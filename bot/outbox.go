package bot

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"policybot/handlers"
)

// Outbox is the Sender of local mode: with no official account configured,
// customer-service messages are kept per user for the simulator to show.
type Outbox struct {
	Store handlers.Sessions
	mu    sync.Mutex
}

const outboxTTL = time.Hour

// SendText implements Sender.
func (o *Outbox) SendText(ctx context.Context, openid, text string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	var msgs []string
	if b, err := o.Store.GetSession(ctx, "outbox:"+openid); err == nil {
		json.Unmarshal(b, &msgs)
	} else if !errors.Is(err, handlers.ErrNotFound) {
		return err
	}
	msgs = append(msgs, text)
	b, _ := json.Marshal(msgs)
	return o.Store.PutSession(ctx, "outbox:"+openid, b, outboxTTL)
}

// Drain returns and forgets the messages waiting for openid.
func (o *Outbox) Drain(ctx context.Context, openid string) ([]string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	b, err := o.Store.GetSession(ctx, "outbox:"+openid)
	if errors.Is(err, handlers.ErrNotFound) {
		return []string{}, nil
	}
	if err != nil {
		return nil, err
	}
	var msgs []string
	if err := json.Unmarshal(b, &msgs); err != nil {
		return nil, err
	}
	return msgs, o.Store.DeleteSession(ctx, "outbox:"+openid)
}
