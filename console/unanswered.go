package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"policybot/handlers"
	"policybot/knowledge"
)

// unansweredGroup is one question as officials see it in the queue: the
// same question asked several times is one line.
type unansweredGroup struct {
	Question string
	Short    string // the first 60 characters, when the question is longer
	Times    int
	Last     time.Time
	Score    float64
	Closest  string // 《title》 › section
	IDs      string // the records, comma-separated (for 忽略)
}

// unanswered lists the recent questions the knowledge base could not
// answer, grouped, newest first; questions answered by now (an FAQ was
// added) leave the list.
func (c *Console) unanswered(w http.ResponseWriter, r *http.Request) {
	ids, err := c.Store.ListRecords(r.Context(), handlers.KindUnanswered, "", 0)
	if err != nil {
		c.render(w, r, "unanswered.html", "未答问题", nil, "", err.Error())
		return
	}
	if len(ids) > 500 {
		ids = ids[len(ids)-500:]
	}
	data, _ := c.Store.GetRecords(r.Context(), handlers.KindUnanswered, ids)
	titles := map[string]string{}
	var kb *knowledge.Base
	if c.KB != nil {
		kb = c.KB()
		for _, d := range kb.Documents() {
			titles[d.File] = d.Title
		}
	}
	byKey := map[string]*unansweredGroup{}
	var groups []*unansweredGroup
	for i := len(data) - 1; i >= 0; i-- {
		var q handlers.UnansweredQuestion
		if data[i] == nil || json.Unmarshal(data[i], &q) != nil {
			continue
		}
		key := knowledge.Normalize(q.Question)
		g := byKey[key]
		if g == nil {
			if kb != nil {
				if a := kb.Answer(q.Question); a.Answered && a.FAQ != "" {
					continue // an FAQ answers it now
				}
			}
			g = &unansweredGroup{Question: q.Question, Last: q.Time, Score: q.Score, Closest: q.Closest}
			if file, sec, ok := strings.Cut(q.Closest, " › "); ok && titles[file] != "" {
				g.Closest = "《" + titles[file] + "》 › " + sec
			}
			if r := []rune(q.Question); len(r) > 60 {
				g.Short = string(r[:60]) + "…"
			}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.Times++
		g.IDs = strings.TrimPrefix(g.IDs+","+ids[i], ",")
	}
	if len(groups) > 200 {
		groups = groups[:200]
	}
	c.render(w, r, "unanswered.html", "未答问题", groups, "", "")
}

// unansweredDismiss removes a question from the queue (chit-chat, jokes,
// spam): its records are deleted and the action is audited.
func (c *Console) unansweredDismiss(w http.ResponseWriter, r *http.Request) {
	n := 0
	for _, id := range strings.Split(r.FormValue("ids"), ",") {
		if id = strings.TrimSpace(id); id == "" {
			continue
		}
		if err := c.Store.DeleteRecord(r.Context(), handlers.KindUnanswered, id); err == nil {
			n++
		}
	}
	handlers.Audit(r.Context(), c.Store, state(r).user.Name, "unanswered_dismiss", fmt.Sprintf("%d 条：%s", n, r.FormValue("q")), c.now())
	http.Redirect(w, r, c.prefix()+"/unanswered", http.StatusSeeOther)
}
