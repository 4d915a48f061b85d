package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"policybot/handlers"
)

// A message whose handler dies with its process must not be lost: WeChat
// retries it (same MsgId) and the retry finds the dedup mark but no cached
// reply. Such a retry is processed again unless a live handler still has
// the message. How "live" is known:
//
//   - A handler that is not done after OwnerAfter writes an owner record,
//     wxown:<key> = its instance id. Quick answers (nearly all) write
//     nothing: they are cached as replies within milliseconds.
//   - Every instance keeps a heartbeat, wxlive:<instance>, that expires
//     LiveTTL after its last refresh (refreshed every LiveTTL/3).
//
// A retry with no cached reply is taken over when nobody is handling the
// message here and its owner record is missing (the process died before
// writing it) or names an instance whose heartbeat has expired. Of several
// retries racing for it, one wins a dedup mark (wxretake:<key>:<owner>).
// Side effects of a message are made once by their own keys (see
// handlers.Message.ID), so running a handler again repeats none.

func newInstanceID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func liveKey(instance string) string { return "wxlive:" + instance }
func ownerKey(key string) string     { return "wxown:" + key }

// heartbeat refreshes this instance's liveness until stop is closed.
func (w *Webhook) heartbeat(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	beat := func() {
		ctx, cancel := context.WithTimeout(context.Background(), w.o.LiveTTL/2)
		defer cancel()
		if err := w.st.PutSession(ctx, liveKey(w.o.Instance), []byte("1"), w.o.LiveTTL); err != nil {
			w.log.Warn("bot: cannot refresh this instance's heartbeat", "err", err)
		}
	}
	beat()
	t := time.NewTicker(w.o.LiveTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			w.st.DeleteSession(ctx, liveKey(w.o.Instance)) // a clean stop leaves no false "alive"
			cancel()
			return
		case <-t.C:
			beat()
		}
	}
}

// own records that this instance is handling key (a slow handler).
func (w *Webhook) own(ctx context.Context, key string) {
	if err := w.st.PutSession(ctx, ownerKey(key), []byte(w.o.Instance), w.o.DedupTTL); err != nil {
		w.log.Warn("bot: cannot record the owner of a slow message", "err", err)
	}
}

// takeOver decides whether a retry with no cached reply is handled again:
// true when no live handler has the message and this retry won it.
// When it cannot tell (the store fails), it does not: better a missing
// answer than two.
func (w *Webhook) takeOver(ctx context.Context, key string) bool {
	if _, live := w.inflight.Load(key); live {
		return false
	}
	owner, err := w.st.GetSession(ctx, ownerKey(key))
	switch {
	case err == nil && string(owner) == w.o.Instance:
		return false // handled here and finished: its answer went out
	case err == nil:
		if _, err := w.st.GetSession(ctx, liveKey(string(owner))); !errors.Is(err, handlers.ErrNotFound) {
			return false // its owner is alive (or the store cannot say)
		}
	case !errors.Is(err, handlers.ErrNotFound):
		return false
	}
	first, err := w.st.MarkSeen(ctx, "wxretake:"+key+":"+string(owner), w.o.DedupTTL)
	return err == nil && first
}
