package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"policybot/quiz"
)

// LoadAnswers reads the quiz answer records of the days from..to
// (inclusive, in the quiz's time zone).
func LoadAnswers(ctx context.Context, st Records, from, to time.Time) ([]quiz.AnswerRecord, error) {
	hits, err := st.RangeRecords(ctx, KindQuizAnswer, "day", from.Format("2006-01-02"), to.AddDate(0, 0, 1).Format("2006-01-02"), 0)
	if err != nil {
		return nil, fmt.Errorf("list answers: %w", err)
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	data, err := st.GetRecords(ctx, KindQuizAnswer, ids)
	if err != nil {
		return nil, fmt.Errorf("read answers: %w", err)
	}
	out := make([]quiz.AnswerRecord, 0, len(data))
	for i, d := range data {
		if d == nil {
			continue // deleted meanwhile
		}
		var a quiz.AnswerRecord
		if err := json.Unmarshal(d, &a); err != nil {
			return nil, fmt.Errorf("answer %s is unreadable: %w", ids[i], err)
		}
		out = append(out, a)
	}
	return out, nil
}

// KindAudit is the audit log: who did what and when (id: time-ordered;
// index "day").
const KindAudit = "audit"

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	At     time.Time `json:"at"`
	Who    string    `json:"who"`
	Action string    `json:"action"` // login, login_failed, roster_import, invite, revive, ...
	Detail string    `json:"detail,omitempty"`
}

// Audit appends to the audit log (durable: a record in the store).
func Audit(ctx context.Context, rec Records, who, action, detail string, at time.Time) error {
	e := AuditEntry{At: at, Who: who, Action: action, Detail: detail}
	id := fmt.Sprintf("%019d-%s", at.UnixNano(), action)
	return putJSON(ctx, rec, KindAudit, id, e, IndexEntry{Name: "day", Value: at.In(ChinaTime()).Format("2006-01-02")})
}

// RecentAudit returns up to n entries, newest first.
func RecentAudit(ctx context.Context, rec Records, n int) ([]AuditEntry, error) {
	ids, err := rec.ListRecords(ctx, KindAudit, "", 0)
	if err != nil {
		return nil, err
	}
	if len(ids) > n {
		ids = ids[len(ids)-n:]
	}
	es, err := allJSON[AuditEntry](ctx, rec, KindAudit, ids)
	for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
		es[i], es[j] = es[j], es[i]
	}
	return es, err
}

// DailyCounts counts questions and unanswered ones per day for the
// console, in memory, and adds them to store counters every Flush period
// (one round trip per period, not per question).
type DailyCounts struct {
	Counters Counters
	Flush    time.Duration // default 10 s
	Logger   *slog.Logger

	mu      sync.Mutex
	pending map[string]int64
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// StatKey names a daily counter: stat:questions:2026-11-22.
func StatKey(kind string, day time.Time) string {
	return "stat:" + kind + ":" + day.In(ChinaTime()).Format("2006-01-02")
}

// Add counts one event of kind (questions, unanswered) at t.
func (d *DailyCounts) Add(kind string, t time.Time) {
	if d == nil {
		return
	}
	d.mu.Lock()
	if d.pending == nil {
		d.pending = map[string]int64{}
	}
	d.pending[StatKey(kind, t)]++
	d.mu.Unlock()
}

// Pending is what this process counted under key and has not flushed
// yet (so a page can show figures without waiting for the flush).
func (d *DailyCounts) Pending(key string) int64 {
	if d == nil {
		return 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pending[key]
}

// Start flushes every period until Close.
func (d *DailyCounts) Start() {
	d.once.Do(func() {
		if d.Flush <= 0 {
			d.Flush = 10 * time.Second
		}
		d.stop, d.done = make(chan struct{}), make(chan struct{})
		go func() {
			defer close(d.done)
			t := time.NewTicker(d.Flush)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					d.flush()
				case <-d.stop:
					d.flush()
					return
				}
			}
		}()
	})
}

// Close flushes what is pending and stops.
func (d *DailyCounts) Close() {
	if d == nil || d.stop == nil {
		return
	}
	close(d.stop)
	<-d.done
}

func (d *DailyCounts) flush() {
	d.mu.Lock()
	p := d.pending
	d.pending = nil
	d.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for k, n := range p {
		if _, err := d.Counters.Incr(ctx, k, n); err != nil {
			if d.Logger != nil {
				d.Logger.Warn("stats: counts not saved", "key", k, "err", err)
			}
			d.mu.Lock() // keep them for the next flush
			if d.pending == nil {
				d.pending = map[string]int64{}
			}
			d.pending[k] += n
			d.mu.Unlock()
		}
	}
}
