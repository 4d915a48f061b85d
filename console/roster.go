package console

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"policybot/handlers"
	"policybot/roster"
)

// rosterData is the roster page: people, pairings and tasks in scope.
type rosterData struct {
	People   []handlers.StaffPerson
	Pairings int
	Tasks    int
	Invites  []handlers.Invite
	Report   []roster.RowError
	// ReportMore counts the row problems past the ones shown.
	ReportMore int
	// Pending counts the people of an import a crash cut short, not yet
	// finished (the server finishes it within a minute).
	Pending int
	// Query filters the lists (a name, phone, village, household, task);
	// PairingRows and TaskRows are what it lets through.
	Query       string
	PairingRows []pairingRow
	TaskRows    []taskRow
}

type pairingRow struct {
	Helper, HelperPhone, Household, Place string
}

type taskRow struct {
	ID, Problem, Owner, Due, Place string
	Closed, Overdue                bool
}

// matches reports whether any field holds q (everything matches "").
func matches(q string, fields ...string) bool {
	if q == "" {
		return true
	}
	for _, f := range fields {
		if strings.Contains(f, q) {
			return true
		}
	}
	return false
}

// rosterData is the roster page's content within u's scope; q, when not
// empty, filters every list.
func (c *Console) rosterData(ctx context.Context, u User, q string) rosterData {
	var d rosterData
	if p, err := c.Staff.PendingImport(ctx); err == nil {
		d.Pending = len(p.People)
	}
	r, err := c.Staff.Export(ctx)
	if err != nil {
		return d
	}
	q = strings.TrimSpace(q)
	names := map[string]string{}
	for _, p := range r.People {
		names[p.Phone] = p.Name
		if !inScope(u, p.Town, p.Village) || !matches(q, p.Name, p.Phone, p.Role, p.Town+p.Village) {
			continue
		}
		sp, err := c.Staff.Person(ctx, p.Phone)
		if err == nil {
			d.People = append(d.People, sp)
		}
	}
	r = scopeRoster(u, r)
	d.Pairings, d.Tasks, d.Query = len(r.Pairings), len(r.Tasks), q
	for _, p := range r.Pairings {
		if matches(q, names[p.HelperPhone], p.HelperPhone, p.Household, p.HouseholdID, p.Town+p.Village) {
			d.PairingRows = append(d.PairingRows, pairingRow{names[p.HelperPhone], p.HelperPhone, p.Household, p.Town + p.Village})
		}
	}
	today := c.now().In(handlers.ChinaTime()).Format("2006-01-02")
	for _, t := range r.Tasks {
		if !matches(q, t.ID, t.Problem, names[t.OwnerPhone], t.OwnerPhone, t.Town+t.Village) {
			continue
		}
		closed, _ := c.taskClosed(ctx, t.ID)
		d.TaskRows = append(d.TaskRows, taskRow{t.ID, t.Problem, names[t.OwnerPhone], t.Due, t.Town + t.Village, closed, !closed && t.Due < today})
	}
	return d
}

func (c *Console) rosterPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, "roster.html", "名单与绑定", c.rosterData(r.Context(), state(r).user, r.URL.Query().Get("q")), "", "")
}

func (c *Console) rosterImport(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := state(r).user
	f, hdr, err := r.FormFile("file")
	if err != nil {
		c.render(w, r, "roster.html", "名单与绑定", c.rosterData(ctx, u, ""), "", "请选择一个 .xlsx 文件")
		return
	}
	defer f.Close()
	if !strings.HasSuffix(strings.ToLower(hdr.Filename), ".xlsx") {
		c.render(w, r, "roster.html", "名单与绑定", c.rosterData(ctx, u, ""), "", "只收 .xlsx 文件（人员、结对、整改任务三张表）")
		return
	}
	p, err := roster.ReadXLSX(io.LimitReader(f, 16<<20))
	if err != nil {
		c.render(w, r, "roster.html", "名单与绑定", c.rosterData(ctx, u, ""), "", err.Error())
		return
	}
	ex, err := c.Staff.Existing(ctx)
	if err != nil {
		c.render(w, r, "roster.html", "名单与绑定", c.rosterData(ctx, u, ""), "", err.Error())
		return
	}
	bad := append(p.Bad, roster.Check(p.Roster, p.Rows, ex)...)
	if len(bad) > 0 {
		d := c.rosterData(ctx, u, "")
		d.Report = bad
		if len(bad) > maxRowErrors {
			d.Report, d.ReportMore = bad[:maxRowErrors], len(bad)-maxRowErrors
		}
		c.render(w, r, "roster.html", "名单与绑定", d, "", fmt.Sprintf("%s 有 %d 行有问题，没有导入任何内容。改好后再导入。", hdr.Filename, len(bad)))
		return
	}
	res, err := c.Staff.Apply(ctx, p.Roster)
	if err != nil {
		c.render(w, r, "roster.html", "名单与绑定", c.rosterData(ctx, u, ""), "", err.Error())
		return
	}
	detail := fmt.Sprintf("%s：%d 人，%d 个结对，%d 项任务", hdr.Filename, res.People, res.Pairings, res.Tasks)
	handlers.Audit(ctx, c.Store, u.Name, "roster_import", detail, c.now())
	c.render(w, r, "roster.html", "名单与绑定", c.rosterData(ctx, u, ""), "已导入 "+detail, "")
}

// rosterTemplate serves the example workbook: the three sheets with their
// columns and a few filled-in rows to copy.
func (c *Console) rosterTemplate(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="roster-template.xlsx"; filename*=UTF-8''%E5%90%8D%E5%8D%95%E6%A8%A1%E6%9D%BF.xlsx`)
	w.Write(roster.Example)
}

// maxRowErrors is how many row problems an import page lists; the rest
// are counted.
const maxRowErrors = 100

func (c *Console) rosterExport(w http.ResponseWriter, r *http.Request) {
	rs, err := c.Staff.Export(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	rs = scopeRoster(state(r).user, rs)
	var buf bytes.Buffer
	if err := roster.WriteXLSX(&buf, rs); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	handlers.Audit(r.Context(), c.Store, state(r).user.Name, "roster_export", "", c.now())
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="roster.xlsx"`)
	w.Write(buf.Bytes())
}

func (c *Console) rosterInvite(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := state(r).user
	phone := strings.TrimSpace(r.FormValue("phone"))
	ttl := c.InviteTTL
	if ttl <= 0 {
		ttl = 72 * time.Hour
	}
	inv, err := c.Staff.CreateInvite(ctx, phone, ttl)
	d := c.rosterData(ctx, u, "")
	if err != nil {
		c.render(w, r, "roster.html", "名单与绑定", d, "", "生成绑定码失败："+err.Error())
		return
	}
	handlers.Audit(ctx, c.Store, u.Name, "invite", phone, c.now())
	d.Invites = []handlers.Invite{inv}
	whose := phone
	if p, err := c.Staff.Person(ctx, inv.Phone); err == nil {
		whose = fmt.Sprintf("%s（%s，%s%s）", p.Name, p.Role, p.Town, p.Village)
	}
	c.render(w, r, "roster.html", "名单与绑定", d, fmt.Sprintf("%s 的绑定码 %s（%s 前有效）：请本人在公众号里发送「绑定 %s」，别人用不了", whose, inv.Code, inv.Expires.In(handlers.ChinaTime()).Format("01-02 15:04"), inv.Code), "")
}

// scopeRoster keeps what an official may see: their town's (or
// village's) people, pairings and tasks.
func scopeRoster(u User, r roster.Roster) roster.Roster {
	if u.Role == RoleAdmin || u.Town == "" {
		return r
	}
	var out roster.Roster
	for _, p := range r.People {
		if inScope(u, p.Town, p.Village) {
			out.People = append(out.People, p)
		}
	}
	for _, p := range r.Pairings {
		if inScope(u, p.Town, p.Village) {
			out.Pairings = append(out.Pairings, p)
		}
	}
	for _, t := range r.Tasks {
		if inScope(u, t.Town, t.Village) {
			out.Tasks = append(out.Tasks, t)
		}
	}
	return out
}
