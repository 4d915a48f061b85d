package llm

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"policybot/handlers"
)

// Defaults of Limited.
const (
	DefaultPerUserPerMinute = 6
	DefaultPerMinute        = 300
	DefaultBreakAfter       = 5
	DefaultCooldown         = time.Minute
)

// CallMetrics receives every call made to the model (handlers.WriterMetrics
// has this method).
type CallMetrics interface {
	Call(outcome string, took time.Duration, promptTokens, completionTokens int)
}

// Limited is a handlers.Model with the limits a shared, paid model needs:
// calls per person per minute (the person from handlers.WithUser) and in
// all, a daily token budget counted in the store across instances, up to
// three tries of what may pass (429, 5xx, timeouts) while the context
// allows, and a breaker that stops calling a model that keeps failing.
// A call it does not make fails at once with a non-retryable
// handlers.ModelError around handlers.ErrModelNotCalled whose Reason names
// the limit: breaker_open, rate_user, rate_global or token_budget.
type Limited struct {
	Model handlers.Model
	// PerUserPerMinute and PerMinute bound calls (defaults 6 and 300).
	PerUserPerMinute int
	PerMinute        int
	// DailyTokens is the budget a day (China time) across instances, kept
	// in Counters; 0 means none.
	DailyTokens int64
	Counters    handlers.Counters
	// BreakAfter failures in a row stop calls for Cooldown (defaults 5
	// and 1 min).
	BreakAfter int
	Cooldown   time.Duration
	Metrics    CallMetrics
	Logger     *slog.Logger
	Now        func() time.Time

	once      sync.Once
	mu        sync.Mutex
	fails     int
	openUntil time.Time
	calls     map[string][]time.Time // per person, last minute
	all       []time.Time
}

func (l *Limited) init() {
	l.once.Do(func() {
		if l.PerUserPerMinute <= 0 {
			l.PerUserPerMinute = DefaultPerUserPerMinute
		}
		if l.PerMinute <= 0 {
			l.PerMinute = DefaultPerMinute
		}
		if l.BreakAfter <= 0 {
			l.BreakAfter = DefaultBreakAfter
		}
		if l.Cooldown <= 0 {
			l.Cooldown = DefaultCooldown
		}
		if l.Now == nil {
			l.Now = time.Now
		}
		if l.Logger == nil {
			l.Logger = slog.Default()
		}
		l.calls = map[string][]time.Time{}
	})
}

// Chat implements handlers.Model.
func (l *Limited) Chat(ctx context.Context, system, user string) (handlers.Completion, error) {
	l.init()
	if reason := l.admit(ctx, handlers.UserOf(ctx)); reason != "" {
		return handlers.Completion{}, &handlers.ModelError{Reason: reason, Err: handlers.ErrModelNotCalled}
	}
	var c handlers.Completion
	var err error
	backoff := 200 * time.Millisecond
	for attempt := 0; ; attempt++ {
		start := l.Now()
		c, err = l.Model.Chat(ctx, system, user)
		took := l.Now().Sub(start)
		if err == nil {
			l.call("ok", took, c)
			l.succeeded()
			break
		}
		outcome := "error"
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			outcome = "timeout"
		}
		l.call(outcome, took, c)
		var me *handlers.ModelError
		retry := errors.As(err, &me) && me.Retryable
		if !retry || attempt >= 2 || ctx.Err() != nil {
			l.failed()
			return c, err
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			l.failed()
			return c, ctx.Err()
		}
		backoff *= 2
	}
	l.spend(ctx, c)
	return c, nil
}

// admit applies the breaker, the rate limits and the daily budget; it
// returns the reason not to call, or "".
func (l *Limited) admit(ctx context.Context, user string) string {
	now := l.Now()
	l.mu.Lock()
	if now.Before(l.openUntil) {
		l.mu.Unlock()
		return "breaker_open"
	}
	cut := now.Add(-time.Minute)
	recent := l.calls[user][:0]
	for _, t := range l.calls[user] {
		if t.After(cut) {
			recent = append(recent, t)
		}
	}
	all := l.all[:0]
	for _, t := range l.all {
		if t.After(cut) {
			all = append(all, t)
		}
	}
	l.all = all
	if len(recent) >= l.PerUserPerMinute {
		l.calls[user] = recent
		l.mu.Unlock()
		return "rate_user"
	}
	if len(all) >= l.PerMinute {
		l.calls[user] = recent
		l.mu.Unlock()
		return "rate_global"
	}
	l.calls[user] = append(recent, now)
	l.all = append(l.all, now)
	if len(l.calls) > 10000 { // forget idle people
		for u, ts := range l.calls {
			if len(ts) == 0 || ts[len(ts)-1].Before(cut) {
				delete(l.calls, u)
			}
		}
	}
	l.mu.Unlock()
	if l.DailyTokens > 0 && l.Counters != nil {
		used, err := l.Counters.Counter(ctx, l.budgetKey())
		if err == nil && used >= l.DailyTokens {
			return "token_budget"
		}
	}
	return ""
}

func (l *Limited) budgetKey() string {
	return "llm:tokens:" + l.Now().In(handlers.ChinaTime()).Format("2006-01-02")
}

func (l *Limited) spend(ctx context.Context, c handlers.Completion) {
	if l.DailyTokens > 0 && l.Counters != nil {
		if _, err := l.Counters.Incr(context.WithoutCancel(ctx), l.budgetKey(), int64(c.PromptTokens+c.CompletionTokens)); err != nil {
			l.Logger.Warn("llm: token use not counted", "err", err)
		}
	}
}

func (l *Limited) succeeded() {
	l.mu.Lock()
	l.fails = 0
	l.mu.Unlock()
}

func (l *Limited) failed() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fails++
	if l.fails >= l.BreakAfter {
		l.openUntil = l.Now().Add(l.Cooldown)
		l.fails = 0
		l.Logger.Warn("llm: model keeps failing; not calling it for a while", "cooldown", l.Cooldown)
	}
}

func (l *Limited) call(outcome string, took time.Duration, c handlers.Completion) {
	if l.Metrics != nil {
		l.Metrics.Call(outcome, took, c.PromptTokens, c.CompletionTokens)
	}
}
