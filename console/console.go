package console

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"policybot/handlers"
	"policybot/knowledge"
	"policybot/quiz"
	"policybot/roster"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Console serves the officials' pages.
type Console struct {
	Store  handlers.Store
	Staff  *handlers.Staff
	KB     func() *knowledge.Base
	Bank   func() *quiz.Bank
	Queue  string // the outbound queue (dead letters, revive)
	Prefix string // default /admin
	Now    func() time.Time
	Logger *slog.Logger
	// InviteTTL is how long codes made here stay valid (default 72 h).
	InviteTTL time.Duration
	// Knowledge keeps documents and FAQ entries added here; Reload
	// rebuilds the knowledge base with them (other instances notice the
	// change by themselves).
	Knowledge handlers.KBStore
	Reload    func(ctx context.Context) error
	// Counts, when set, adds this instance's unflushed question counts to
	// the dashboard's.
	Counts *handlers.DailyCounts
	// Notices composes and sends notices; ReachByPhone as for reminders.
	Notices      *handlers.Notices
	ReachByPhone bool
	// Limits on bodies and login guesses; zero fields take DefaultLimits.
	Limits Limits
	// SetupCode, when set and no user exists yet, lets /admin/setup
	// create the first admin (serve prints it in its log).
	SetupCode string

	tmpl *template.Template
}

func (c *Console) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Console) prefix() string {
	if c.Prefix == "" {
		return "/admin"
	}
	return strings.TrimRight(c.Prefix, "/")
}

// Handler returns the console's routes under Prefix.
func (c *Console) Handler() http.Handler {
	c.tmpl = template.Must(template.New("").Funcs(template.FuncMap{
		"pct":  func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) },
		"time": func(t time.Time) string { return t.In(handlers.ChinaTime()).Format("2006-01-02 15:04") },
		"json": func(v any) template.JS { b, _ := json.Marshal(v); return template.JS(b) },
		"action": func(s string) string {
			if z, ok := actionNames[s]; ok {
				return z
			}
			return s
		},
		"status": func(s string) string {
			if z, ok := statusNames[s]; ok {
				return z
			}
			return s
		},
	}).ParseFS(templateFS, "templates/*.html"))
	p := c.prefix()
	mux := http.NewServeMux()
	assets, _ := fs.Sub(assetFS, "assets")
	mux.Handle("GET "+p+"/assets/", http.StripPrefix(p+"/assets/", http.FileServerFS(assets)))
	mux.HandleFunc("GET "+p+"/login", c.loginPage)
	mux.HandleFunc("POST "+p+"/login", c.loginPost)
	mux.HandleFunc("GET "+p+"/setup", c.setupPage)
	mux.HandleFunc("POST "+p+"/setup", c.setupPost)
	mux.HandleFunc("POST "+p+"/logout", c.authed(RoleOfficial, c.logout))
	mux.HandleFunc("GET "+p+"/{$}", c.authed(RoleOfficial, c.dashboard))
	mux.HandleFunc("GET "+p+"/account", c.authed(RoleOfficial, c.accountPage))
	mux.HandleFunc("POST "+p+"/account", c.authed(RoleOfficial, c.accountSave))
	mux.HandleFunc("GET "+p+"/unanswered", c.authed(RoleOfficial, c.unanswered))
	mux.HandleFunc("POST "+p+"/unanswered/dismiss", c.authed(RoleAdmin, c.unansweredDismiss))
	mux.HandleFunc("GET "+p+"/roster", c.authed(RoleOfficial, c.rosterPage))
	mux.HandleFunc("POST "+p+"/roster/import", c.authedUpload(RoleAdmin, c.rosterImport))
	mux.HandleFunc("GET "+p+"/roster/export", c.authed(RoleOfficial, c.rosterExport))
	mux.HandleFunc("GET "+p+"/roster/template", c.authed(RoleOfficial, c.rosterTemplate))
	mux.HandleFunc("POST "+p+"/roster/invite", c.authed(RoleAdmin, c.rosterInvite))
	mux.HandleFunc("GET "+p+"/deliveries", c.authed(RoleAdmin, c.deliveries)) // keys name people of every town
	mux.HandleFunc("POST "+p+"/deliveries/revive", c.authed(RoleAdmin, c.revive))
	mux.HandleFunc("GET "+p+"/audit", c.authed(RoleAdmin, c.audit))
	mux.HandleFunc("GET "+p+"/notices", c.authed(RoleOfficial, c.noticesPage))
	mux.HandleFunc("POST "+p+"/notices", c.authed(RoleOfficial, c.noticeCreate))
	mux.HandleFunc("GET "+p+"/notices/view", c.authed(RoleOfficial, c.noticeView))
	mux.HandleFunc("POST "+p+"/notices/send", c.authed(RoleOfficial, c.noticeSend))
	mux.HandleFunc("POST "+p+"/notices/approve", c.authed(RoleAdmin, c.noticeApprove))
	mux.HandleFunc("POST "+p+"/notices/preview", c.authed(RoleOfficial, c.noticePreview))
	mux.HandleFunc("GET "+p+"/knowledge", c.authed(RoleOfficial, c.knowledgePage))
	mux.HandleFunc("GET "+p+"/knowledge/doc", c.authed(RoleOfficial, c.docPage))
	mux.HandleFunc("POST "+p+"/knowledge/upload", c.authedUpload(RoleAdmin, c.upload))
	mux.HandleFunc("POST "+p+"/knowledge/delete", c.authed(RoleAdmin, c.deleteDoc))
	mux.HandleFunc("GET "+p+"/knowledge/faq", c.authed(RoleAdmin, c.faqForm))
	mux.HandleFunc("POST "+p+"/knowledge/faq", c.authed(RoleAdmin, c.faqSave))
	mux.HandleFunc("POST "+p+"/knowledge/faq/delete", c.authed(RoleAdmin, c.faqDelete))
	return securityHeaders(mux)
}

// securityHeaders: no framing, no inline script, nothing from elsewhere.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

// actionNames shows audit actions in Chinese (an action not listed is
// shown as recorded).
var actionNames = map[string]string{
	"login": "登录", "login_failed": "登录失败", "invite": "生成绑定码", "roster_import": "导入名单", "roster_export": "导出名单",
	"kb_upload": "加入文件", "kb_delete": "删除文件", "faq_save": "保存 FAQ", "faq_delete": "删除 FAQ",
	"notice_create": "拟写通知", "unanswered_dismiss": "忽略未答问题", "account_save": "修改账号", "notice_approve": "批准通知", "notice_send": "发送通知", "revive": "重发消息",
}

// statusNames shows notice and delivery states in Chinese.
var statusNames = map[string]string{
	handlers.NoticeDraft: "待发送", handlers.NoticePending: "待批准", handlers.NoticeScheduled: "已定时",
	handlers.NoticeSent: "已发出", handlers.NoticeFailed: "失败",
	"delivered": "已送达", "dead": "已放弃",
}

type ctxKey struct{}

type reqState struct {
	user User
	sess session
}

// authed requires a session (and, for admin pages, the admin role), and
// a valid CSRF token on every POST, whose body is capped at
// Limits.FormBytes before anything of it is read.
func (c *Console) authed(role string, h http.HandlerFunc) http.HandlerFunc {
	return c.authedLimit(role, func(l Limits) int64 { return l.FormBytes }, h)
}

// authedUpload is authed for a file upload: the body may be up to
// Limits.UploadBytes.
func (c *Console) authedUpload(role string, h http.HandlerFunc) http.HandlerFunc {
	return c.authedLimit(role, func(l Limits) int64 { return l.UploadBytes }, h)
}

func (c *Console) authedLimit(role string, limit func(Limits) int64, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, s, ok := c.current(r)
		if !ok {
			http.Redirect(w, r, c.prefix()+"/login", http.StatusSeeOther)
			return
		}
		if role == RoleAdmin && u.Role != RoleAdmin {
			http.Error(w, "只有管理员可以这样做", http.StatusForbidden)
			return
		}
		if r.Method == http.MethodPost {
			n := limit(c.limits())
			limitBody(w, r, n)
			if err := parseBody(r, n); err != nil {
				if errors.Is(err, errTooLarge) {
					http.Error(w, fmt.Sprintf("提交的内容太大（最多 %s）", sizeText(n)), http.StatusRequestEntityTooLarge)
					return
				}
				http.Error(w, "表单读不出来", http.StatusBadRequest)
				return
			}
			if !csrfOK(r, s) {
				http.Error(w, "表单已过期，请刷新页面再试", http.StatusForbidden)
				return
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, reqState{u, s})))
	}
}

// sizeText writes a byte count for people: 256 KB, 20 MB.
func sizeText(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d KB", n>>10)
}

func state(r *http.Request) reqState { s, _ := r.Context().Value(ctxKey{}).(reqState); return s }

// withState is r's context with st (after the account changed).
func withState(r *http.Request, st reqState) context.Context {
	return context.WithValue(r.Context(), ctxKey{}, st)
}

// page is what every template gets.
type page struct {
	Prefix string
	User   User
	CSRF   string
	Title  string
	Flash  string
	Error  string
	Data   any
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, name, title string, data any, flash, errText string) {
	st := state(r)
	var buf bytes.Buffer
	err := c.tmpl.ExecuteTemplate(&buf, name, page{Prefix: c.prefix(), User: st.user, CSRF: st.sess.CSRF, Title: title, Data: data, Flash: flash, Error: errText})
	if err != nil {
		c.log().Error("console: render", "page", name, "err", err)
		http.Error(w, "页面出错了", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

func (c *Console) log() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) { c.showLogin(w, r, "") }

func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, errText string) {
	c.renderPlain(w, "login.html", page{Prefix: c.prefix(), CSRF: c.signedOutToken(w, r), Title: "登录", Error: errText,
		Data: c.SetupCode != "" && c.noAdmin(r.Context())}, errText != "")
}

// renderPlain renders a page for someone not signed in.
func (c *Console) renderPlain(w http.ResponseWriter, name string, pg page, unauthorized bool) {
	var buf bytes.Buffer
	c.tmpl.ExecuteTemplate(&buf, name, pg)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if unauthorized {
		w.WriteHeader(http.StatusUnauthorized)
	}
	w.Write(buf.Bytes())
}

// loginBytes caps a login POST: a name, a password and a token.
const loginBytes = 8 << 10

// signedOutToken gives a form for someone not signed in (login, setup)
// its CSRF token: a cookie the form must repeat.
func (c *Console) signedOutToken(w http.ResponseWriter, r *http.Request) string {
	t := token()
	http.SetCookie(w, &http.Cookie{Name: "pb_login", Value: t, Path: c.prefix(), HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	return t
}

// readSignedOutForm reads such a form, capped at loginBytes, and checks
// its token; on false the response is written.
func (c *Console) readSignedOutForm(w http.ResponseWriter, r *http.Request) bool {
	limitBody(w, r, loginBytes)
	if err := parseBody(r, loginBytes); err != nil {
		if errors.Is(err, errTooLarge) {
			http.Error(w, "提交的内容太大", http.StatusRequestEntityTooLarge)
			return false
		}
		http.Error(w, "表单读不出来", http.StatusBadRequest)
		return false
	}
	ck, err := r.Cookie("pb_login")
	if err != nil || r.PostFormValue("csrf") == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		http.Error(w, "表单已过期，请刷新页面再试", http.StatusForbidden)
		return false
	}
	return true
}

func (c *Console) loginPost(w http.ResponseWriter, r *http.Request) {
	if !c.readSignedOutForm(w, r) {
		return
	}
	u, err := c.login(r.Context(), c.clientAddr(r), strings.TrimSpace(r.PostFormValue("user")), r.PostFormValue("password"))
	if err != nil {
		c.showLogin(w, r, err.Error())
		return
	}
	if err := c.startSession(r.Context(), w, r, u); err != nil {
		http.Error(w, "暂时无法登录，请稍后再试", http.StatusServiceUnavailable)
		return
	}
	http.Redirect(w, r, c.prefix()+"/", http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	c.endSession(w, r)
	http.Redirect(w, r, c.prefix()+"/login", http.StatusSeeOther)
}

// inScope reports whether an official may see a town/village.
func inScope(u User, town, village string) bool {
	if u.Role == RoleAdmin || u.Town == "" {
		return true
	}
	return u.Town == town && (u.Village == "" || u.Village == village)
}

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
					reasons[shortReason(rec.Reason)]++
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

func shortReason(s string) string {
	if i := strings.Index(s, "errcode "); i >= 0 {
		s = s[i:]
		if j := strings.IndexByte(s, ':'); j > 0 {
			s = s[:j]
		}
	}
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	if s == "" {
		s = "（未知）"
	}
	return s
}

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

type deliveriesData struct {
	Recent []handlers.Delivery
	Failed []handlers.Delivery
	Dead   []handlers.DeadLetter
}

func (c *Console) deliveriesData(ctx context.Context) deliveriesData {
	var d deliveriesData
	load := func(status string, n int) []handlers.Delivery {
		ids, err := c.Store.LookupRecords(ctx, handlers.KindDelivery, "status", status)
		if err != nil {
			return nil
		}
		if len(ids) > n {
			ids = ids[len(ids)-n:]
		}
		var out []handlers.Delivery
		for _, id := range ids {
			if rec, err := handlers.GetDelivery(ctx, c.Store, id); err == nil {
				out = append(out, rec)
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
		return out
	}
	d.Recent = append(load("sent", 50), load("delivered", 50)...)
	d.Failed = load("failed", 100)
	d.Dead, _ = c.Store.DeadLetters(ctx, c.Queue, 100)
	return d
}

func (c *Console) deliveries(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, "deliveries.html", "消息发送", c.deliveriesData(r.Context()), "", "")
}

func (c *Console) revive(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	key := r.FormValue("key")
	err := c.Store.Revive(ctx, c.Queue, key)
	if err != nil {
		c.render(w, r, "deliveries.html", "消息发送", c.deliveriesData(ctx), "", "重发失败："+err.Error())
		return
	}
	handlers.Audit(ctx, c.Store, state(r).user.Name, "revive", key, c.now())
	c.render(w, r, "deliveries.html", "消息发送", c.deliveriesData(ctx), "已放回发送队列："+key, "")
}

func (c *Console) audit(w http.ResponseWriter, r *http.Request) {
	es, err := handlers.RecentAudit(r.Context(), c.Store, 300)
	errText := ""
	if err != nil {
		errText = err.Error()
	}
	c.render(w, r, "audit.html", "操作记录", es, "", errText)
}
