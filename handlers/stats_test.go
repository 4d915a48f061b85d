package handlers_test

import (
	"context"
	"testing"
	"time"

	"policybot/handlers"
)

func TestDailyCountsAndAudit(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			at := time.Date(2026, 11, 22, 9, 0, 0, 0, handlers.ChinaTime())
			d := &handlers.DailyCounts{Counters: st, Flush: time.Hour}
			d.Start()
			for i := 0; i < 5; i++ {
				d.Add("questions", at)
			}
			d.Add("unanswered", at)
			if p := d.Pending(handlers.StatKey("questions", at)); p != 5 {
				t.Errorf("pending %d before the flush", p)
			}
			d.Close() // flushes
			if p := d.Pending(handlers.StatKey("questions", at)); p != 0 {
				t.Errorf("pending %d after the flush", p)
			}
			if n, _ := st.Counter(ctx, handlers.StatKey("questions", at)); n < 5 {
				t.Errorf("questions counted %d", n)
			}
			if n, _ := st.Counter(ctx, handlers.StatKey("unanswered", at)); n < 1 {
				t.Errorf("unanswered counted %d", n)
			}
			handlers.Audit(ctx, st, "wang", "login", "", at)
			handlers.Audit(ctx, st, "wang", "roster_import", "example.xlsx", at.Add(time.Minute))
			es, err := handlers.RecentAudit(ctx, st, 10)
			if err != nil || len(es) != 2 || es[0].Action != "roster_import" || es[1].Action != "login" {
				t.Errorf("audit %+v %v", es, err)
			}
		})
	}
}
