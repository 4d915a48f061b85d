package bot

import (
	"context"
	"encoding/json"
	"errors"

	"policybot/handlers"
)

// userState is what the bot keeps per user between messages, in one
// session key so each message costs one read: an answer that could not be
// delivered, and the pages left for 更多.
type userState struct {
	Pending string   `json:"p,omitempty"`
	Pages   []string `json:"m,omitempty"`
}

func userKey(openid string) string { return "user:{" + openid + "}" }

// userOr returns the state already read, or reads it.
func (w *Webhook) userOr(ctx context.Context, openid string, u *userState) userState {
	if u != nil {
		return *u
	}
	return w.loadUser(ctx, openid)
}

func (w *Webhook) loadUser(ctx context.Context, openid string) userState {
	var u userState
	if b, err := w.st.GetSession(ctx, userKey(openid)); err == nil {
		json.Unmarshal(b, &u)
	} else if !errors.Is(err, handlers.ErrNotFound) {
		w.log.Warn("bot: cannot read user state", "err", err, "user", UserHash(openid))
	}
	return u
}

// saveUser writes the state, or deletes it when empty. The TTL is the
// longer of the two lifetimes (pending answers wait 48 h).
func (w *Webhook) saveUser(ctx context.Context, openid string, u userState) {
	var err error
	if u.Pending == "" && len(u.Pages) == 0 {
		err = w.st.DeleteSession(ctx, userKey(openid))
	} else {
		ttl := w.o.PageTTL
		if u.Pending != "" {
			ttl = w.o.PendingTTL
		}
		b, _ := json.Marshal(u)
		err = w.st.PutSession(ctx, userKey(openid), b, ttl)
	}
	if err != nil {
		w.log.Warn("bot: cannot keep user state", "err", err, "user", UserHash(openid))
	}
}
