package console

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"policybot/handlers"
	"policybot/knowledge"
	"policybot/quiz"
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
		"kind":    func(s string) string { return nameOr(kindNames, s) },
		"channel": func(s string) string { return nameOr(channelNames, s) },
		"reason":  reasonText,
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

// inScope reports whether an official may see a town/village.
func inScope(u User, town, village string) bool {
	if u.Role == RoleAdmin || u.Town == "" {
		return true
	}
	return u.Town == town && (u.Village == "" || u.Village == village)
}
