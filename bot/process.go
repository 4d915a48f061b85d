package bot

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"policybot/handlers"
)

// process handles one verified message within the budget: dedup, the
// handler, and the passive reply or the hand-off to a late send.
func (w *Webhook) process(parent context.Context, rw http.ResponseWriter, in *inbound, aes bool, start time.Time) {
	msg := toMessage(in, start)
	typ := string(msg.Kind)
	user := UserHash(in.FromUserName)
	deadline := start.Add(w.o.Budget)
	sctx, cancel := context.WithDeadline(context.WithoutCancel(parent), deadline)
	defer cancel()
	// a user's keys share a hash tag: one Cluster slot, one round trip
	key := "wx:{" + in.FromUserName + "}:" + in.dedupKey()
	var first bool
	var err error
	var ustate *userState
	if sl, ok := w.st.(handlers.SeenLoader); ok {
		var raw []byte
		first, raw, err = sl.MarkSeenAndGet(sctx, key, w.o.DedupTTL, userKey(in.FromUserName))
		ustate = &userState{}
		if raw != nil {
			json.Unmarshal(raw, ustate)
		}
	} else {
		first, err = w.st.MarkSeen(sctx, key, w.o.DedupTTL)
	}
	if err != nil {
		// answering without dedup beats not answering
		w.log.Warn("bot: dedup unavailable", "err", err, "user", user)
		first = true
	}
	if !first {
		if w.m != nil {
			w.m.DedupHits.Inc()
		}
		var c cachedReply
		if b, err := w.st.GetSession(sctx, "reply:"+key); err == nil && json.Unmarshal(b, &c) == nil {
			w.count(typ, "retry_cached")
			w.write(rw, in, aes, c, start)
			return
		}
		if !w.takeOver(sctx, key) {
			w.count(typ, "retry")
			w.success(rw, start)
			return
		}
		// its handler died with its process: handle it again
		w.count(typ, "retry_takeover")
		w.log.Warn("bot: a retried message had no live handler; handling it again", "user", user, "type", typ)
		ustate = nil
	}
	msg.ID = key
	w.log.Debug("bot: message", "user", user, "type", typ, "text", msg.Text)
	if msg.Kind == handlers.KindText && handlers.FoldCommand(msg.Text) == "更多" {
		w.count(typ, "more")
		c := cachedReply{Text: w.nextPage(sctx, in.FromUserName, ustate)}
		w.write(rw, in, aes, c, start)
		w.cacheReply(sctx, key, c) // a retry gets this page, not the next
		return
	}
	// Who delivers the answer: 0 undecided, 1 the request (in time), 2 the
	// worker (the request gave up and answered "success").
	var handoff atomic.Int32
	done := make(chan handlers.Response, 1)
	job := func() {
		hctx, hcancel := context.WithTimeout(context.Background(), w.o.AsyncTimeout)
		defer hcancel()
		t := time.Now()
		resp, err := w.h.Handle(hctx, msg)
		if w.m != nil {
			w.m.HandlerTime.WithLabelValues(typ).Observe(time.Since(t).Seconds())
		}
		if err != nil {
			w.log.Error("bot: handler failed", "err", err, "user", user, "type", typ)
			resp = handlers.Response{Text: handlers.TextBusy}
		}
		if !resp.Answered && resp.Text != "" && w.m != nil {
			w.m.Unanswered.Inc()
		}
		if handoff.CompareAndSwap(0, 1) {
			done <- resp
			return
		}
		w.deliverLate(hctx, in.FromUserName, key, resp)
	}
	w.inflight.Store(key, struct{}{})
	if err := w.pool.submit(func() { defer w.inflight.Delete(key); job() }); err != nil {
		w.inflight.Delete(key)
		w.log.Error("bot: no worker free", "err", err, "user", user)
		w.count(typ, "overloaded")
		w.write(rw, in, aes, cachedReply{Text: handlers.TextBusy}, start)
		return
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	slow := time.NewTimer(w.o.OwnerAfter)
	defer slow.Stop()
	var resp handlers.Response
	select {
	case resp = <-done:
	case <-slow.C:
		// a slow handler: record who has the message, so that a retry
		// after this process's death is handled again (inflight.go)
		w.own(sctx, key)
		select {
		case resp = <-done:
		case <-timer.C:
			w.handOff(sctx, rw, in, aes, key, start, typ, ustate, &handoff, done)
			return
		}
	case <-timer.C:
		w.handOff(sctx, rw, in, aes, key, start, typ, ustate, &handoff, done)
		return
	}
	w.answer(sctx, rw, in, aes, key, resp, start, typ, ustate)
}

// handOff ends the request at the budget: the worker delivers the answer
// later, unless it finished at the last moment.
func (w *Webhook) handOff(ctx context.Context, rw http.ResponseWriter, in *inbound, aes bool, key string, start time.Time, typ string, ustate *userState, handoff *atomic.Int32, done chan handlers.Response) {
	if handoff.CompareAndSwap(0, 2) {
		w.count(typ, "async")
		w.success(rw, start)
		return
	}
	// the handler finished at the last moment
	w.answer(ctx, rw, in, aes, key, <-done, start, typ, ustate)
}

// toMessage maps WeChat's message types onto the transport-free Message.
func toMessage(in *inbound, at time.Time) handlers.Message {
	m := handlers.Message{User: in.FromUserName, At: at}
	switch strings.ToLower(in.MsgType) {
	case "text":
		m.Kind, m.Text = handlers.KindText, in.Content
	case "voice":
		if strings.TrimSpace(in.Recognition) != "" {
			m.Kind, m.Text = handlers.KindText, in.Recognition
		} else {
			m.Kind = handlers.KindMedia
		}
	case "image", "video", "shortvideo", "link", "location", "file":
		m.Kind = handlers.KindMedia
	case "event":
		m.Kind, m.Event, m.EventKey = handlers.KindEvent, in.Event, in.EventKey
		if strings.EqualFold(in.Event, "TEMPLATESENDJOBFINISH") {
			m.EventKey = in.TemplateID + ":" + in.Status
		}
		if strings.EqualFold(in.Event, "MASSSENDJOBFINISH") { // msgid:status:sent:errors:total
			m.EventKey = strings.Join([]string{in.TemplateID, in.Status, strings.TrimSpace(in.SentCount), strings.TrimSpace(in.ErrorCount), strings.TrimSpace(in.TotalCount)}, ":")
		}
	default:
		m.Kind = handlers.KindUnknown
	}
	return m
}
