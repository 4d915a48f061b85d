package bot

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"policybot/handlers"
)

// replyWriter writes cached replies in batches: one round trip for many.
// A retry comes at least 5 s after its message, long after the batch.
func (w *Webhook) replyWriter(b handlers.SessionBatcher) {
	defer close(w.repliesDone)
	var batch []handlers.SessionPut
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := b.PutSessions(ctx, batch); err != nil {
			w.log.Warn("bot: cannot cache replies for retries", "err", err, "n", len(batch))
		}
		cancel()
		batch = batch[:0]
	}
	for p := range w.replies {
		batch = append(batch, p)
	more:
		for len(batch) < 256 {
			select {
			case p, ok := <-w.replies:
				if !ok {
					break more
				}
				batch = append(batch, p)
			default:
				break more
			}
		}
		flush()
	}
	flush()
}

// cacheReply keeps the reply a retry of key gets.
func (w *Webhook) cacheReply(ctx context.Context, key string, c cachedReply) {
	b, err := json.Marshal(c)
	if err != nil {
		return
	}
	p := handlers.SessionPut{Key: "reply:" + key, Value: b, TTL: w.o.DedupTTL}
	if w.replies != nil {
		select {
		case w.replies <- p:
			return
		default: // writer busy: write now rather than drop
		}
	}
	if err := w.st.PutSession(ctx, p.Key, p.Value, p.TTL); err != nil {
		w.log.Warn("bot: cannot cache reply for retries", "err", err)
	}
}

// cachedReply is what a retry gets: the answer already given.
type cachedReply struct {
	Text    string `json:"t,omitempty"`
	ToHuman bool   `json:"h,omitempty"`
}

// answer writes a response as the passive reply and caches it for retries.
// user is the user's state if already read (nil: read it when needed).
func (w *Webhook) answer(ctx context.Context, rw http.ResponseWriter, in *inbound, aes bool, key string, resp handlers.Response, start time.Time, typ string, user *userState) {
	c := cachedReply{ToHuman: resp.ToHuman}
	if resp.ToHuman {
		// one passive reply: the transfer; the words follow as a message
		if resp.Text != "" && w.send != nil {
			user, text := in.FromUserName, resp.Text
			_ = w.pool.submit(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := w.send.SendText(ctx, user, text); err != nil {
					w.sendFailed(err, user)
				}
			})
		}
	} else if resp.Text != "" {
		u := w.userOr(ctx, in.FromUserName, user)
		text := resp.Text
		if u.Pending != "" {
			text = handlers.TextPendingIntro + u.Pending + "\n——\n" + text
			if w.m != nil {
				w.m.AsyncReplies.WithLabelValues("pending_delivered").Inc()
			}
		}
		pages := paginate(text)
		c.Text = pages[0]
		if u.Pending != "" || len(u.Pages) > 0 || len(pages) > 1 {
			w.saveUser(ctx, in.FromUserName, userState{Pages: pages[1:]})
		}
	}
	w.count(typ, "replied")
	w.write(rw, in, aes, c, start)
	w.cacheReply(ctx, key, c)
}

// deliverLate sends an answer that missed the passive window as a
// customer-service message; if that fails it is kept for the user's next
// message.
func (w *Webhook) deliverLate(ctx context.Context, openid, key string, resp handlers.Response) {
	if resp.Text == "" && !resp.ToHuman {
		return
	}
	text := resp.Text
	if resp.ToHuman {
		text = handlers.TextToHuman
	}
	pages := paginate(text)
	first := pages[0]
	if b, err := json.Marshal(cachedReply{Text: first}); err == nil {
		w.st.PutSession(ctx, "reply:"+key, b, w.o.DedupTTL)
	}
	err := errors.New("no sender configured")
	if w.send != nil {
		err = w.send.SendText(ctx, openid, first)
	}
	u := w.loadUser(ctx, openid)
	if err == nil {
		if w.m != nil {
			w.m.AsyncReplies.WithLabelValues("sent").Inc()
		}
		if len(pages) > 1 || len(u.Pages) > 0 {
			u.Pages = pages[1:]
			w.saveUser(ctx, openid, u)
		}
		return
	}
	w.sendFailed(err, openid)
	if w.m != nil {
		w.m.AsyncReplies.WithLabelValues("failed").Inc()
	}
	u.Pending, u.Pages = text, nil
	w.saveUser(ctx, openid, u)
}

func (w *Webhook) sendFailed(err error, openid string) {
	code := "other"
	var ae *APIError
	if errors.As(err, &ae) {
		code = strconv.Itoa(ae.Code)
	}
	if w.m != nil {
		w.m.SendErrors.WithLabelValues(code).Inc()
	}
	w.log.Warn("bot: customer-service send failed", "errcode", code, "err", err, "user", UserHash(openid))
}

// nextPage pops the next page for 更多.
func (w *Webhook) nextPage(ctx context.Context, openid string, user *userState) string {
	u := w.userOr(ctx, openid, user)
	if len(u.Pages) == 0 {
		return handlers.TextNoMore
	}
	page := u.Pages[0]
	u.Pages = u.Pages[1:]
	w.saveUser(ctx, openid, u)
	return page
}

// write renders a reply (encrypted in safe mode); an empty reply is "success".
func (w *Webhook) write(rw http.ResponseWriter, in *inbound, aes bool, c cachedReply, start time.Time) {
	var body []byte
	var err error
	switch {
	case c.ToHuman:
		body, err = renderTransfer(in.FromUserName, in.ToUserName, w.now())
	case c.Text != "":
		body, err = renderText(in.FromUserName, in.ToUserName, c.Text, w.now())
	default:
		w.success(rw, start)
		return
	}
	if err == nil && aes {
		body, err = encryptReply(body, w.o.Token, w.o.AppID, w.o.AESKey, w.now())
	}
	if err != nil {
		w.log.Error("bot: cannot render reply", "err", err)
		w.success(rw, start)
		return
	}
	rw.Header().Set("Content-Type", "application/xml; charset=utf-8")
	rw.Write(body)
	w.observe(start)
}

// success acknowledges without a reply (WeChat then stops retrying).
func (w *Webhook) success(rw http.ResponseWriter, start time.Time) {
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(rw, "success")
	w.observe(start)
}

func (w *Webhook) observe(start time.Time) {
	if w.m != nil {
		w.m.ReplySeconds.Observe(w.now().Sub(start).Seconds())
	}
}
