package console

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"

	"policybot/handlers"
	"policybot/quiz"
)

// dashData is the dashboard: the figures of the last days in the
// official's scope.
type dashData struct {
	Days          []string
	Questions     []int64
	Unanswered    []int64
	UnansweredPct float64
	Quiz          quiz.Report
	Villages      []quiz.Row
	Deliveries    map[string]int
	// Sent counts messages sent (or confirmed) by what they were:
	// reminders, notices, daily questions.
	SentReminders, SentNotices, SentDaily int
	// AnyQuestions: someone asked in the last 14 days (else the chart
	// gives way to a sentence).
	AnyQuestions bool
	FailReasons  []reasonCount
	OverdueTasks int
	OpenTasks    int
	Unvisited    int
	Pairings     int
}

type reasonCount struct {
	Reason string
	N      int
}

func (c *Console) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := state(r).user
	now := c.now().In(handlers.ChinaTime())
	var d dashData
	var qTotal, uTotal int64
	for i := 13; i >= 0; i-- {
		day := now.AddDate(0, 0, -i)
		q, _ := c.Store.Counter(ctx, handlers.StatKey("questions", day))
		un, _ := c.Store.Counter(ctx, handlers.StatKey("unanswered", day))
		q += c.Counts.Pending(handlers.StatKey("questions", day))
		un += c.Counts.Pending(handlers.StatKey("unanswered", day))
		d.Days = append(d.Days, day.Format("01-02"))
		d.Questions, d.Unanswered = append(d.Questions, q), append(d.Unanswered, un)
		qTotal, uTotal = qTotal+q, uTotal+un
	}
	if qTotal > 0 {
		d.UnansweredPct = float64(uTotal) / float64(qTotal)
		d.AnyQuestions = true
	}
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, handlers.ChinaTime()).AddDate(0, 0, -29)
	if answers, err := handlers.LoadAnswers(ctx, c.Store, from, now); err == nil {
		var scoped []quiz.AnswerRecord
		for _, a := range answers {
			if inScope(u, a.Town, a.Village) {
				scoped = append(scoped, a)
			}
		}
		d.Quiz = quiz.BuildReport(scoped, from, now.AddDate(0, 0, 1), "", handlers.ChinaTime(), nil)
		d.Villages = d.Quiz.ByVillage
	}
	d.Deliveries = map[string]int{}
	reasons := map[string]int{}
	for _, status := range []string{"sent", "delivered", "failed", "dead"} {
		ids, err := c.Store.LookupRecords(ctx, handlers.KindDelivery, "status", status)
		if err != nil {
			continue
		}
		d.Deliveries[status] = len(ids)
		if status == "sent" || status == "delivered" {
			for _, id := range ids {
				switch {
				case strings.HasPrefix(id, "notice:"):
					d.SentNotices++
				case strings.HasPrefix(id, "daily:"):
					d.SentDaily++
				default:
					d.SentReminders++
				}
			}
		}
		if status == "failed" || status == "dead" {
			if len(ids) > 500 {
				ids = ids[len(ids)-500:]
			}
			for _, id := range ids {
				if rec, err := handlers.GetDelivery(ctx, c.Store, id); err == nil {
					reasons[reasonText(rec.Reason)]++
				}
			}
		}
	}
	for k, v := range reasons {
		d.FailReasons = append(d.FailReasons, reasonCount{k, v})
	}
	sort.Slice(d.FailReasons, func(i, j int) bool { return d.FailReasons[i].N > d.FailReasons[j].N })
	if c.Staff != nil {
		if r, err := c.Staff.Export(ctx); err == nil {
			today := now.Format("2006-01-02")
			for _, t := range r.Tasks {
				if !inScope(u, t.Town, t.Village) {
					continue
				}
				// closed tasks are stored with their closing; Export gives the roster fields only
				if closed, _ := c.taskClosed(ctx, t.ID); closed {
					continue
				}
				d.OpenTasks++
				if t.Due < today {
					d.OverdueTasks++
				}
			}
			for _, p := range r.Pairings {
				if !inScope(u, p.Town, p.Village) {
					continue
				}
				d.Pairings++
				ids, _ := c.Store.LookupRecords(ctx, handlers.KindVisit, "pm", p.Key()+"|"+now.Format("2006-01"))
				if len(ids) == 0 {
					d.Unvisited++
				}
			}
		}
	}
	c.render(w, r, "dashboard.html", "概览", d, "", "")
}

func (c *Console) taskClosed(ctx context.Context, id string) (bool, error) {
	b, err := c.Store.GetRecord(ctx, handlers.KindTask, id)
	if err != nil {
		return false, err
	}
	var t handlers.StaffTask
	return t.Closed, json.Unmarshal(b, &t)
}
