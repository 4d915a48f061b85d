package console

import (
	"net/http"

	"policybot/handlers"
)

// audit is the 操作记录 page: the last 300 actions officials took.
func (c *Console) audit(w http.ResponseWriter, r *http.Request) {
	es, err := handlers.RecentAudit(r.Context(), c.Store, 300)
	errText := ""
	if err != nil {
		errText = err.Error()
	}
	c.render(w, r, "audit.html", "操作记录", es, "", errText)
}
