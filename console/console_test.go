package console

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"policybot/handlers"
	"policybot/roster"
	"policybot/store/embedded"
)

type env struct {
	srv     *httptest.Server
	store   handlers.Store
	now     time.Time
	console *Console
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{store: st, now: time.Date(2026, 11, 22, 10, 0, 0, 0, handlers.ChinaTime())}
	staff := &handlers.Staff{Store: st}
	c := &Console{Store: st, Staff: staff, Queue: "outbound", Now: func() time.Time { return e.now },
		Notices: &handlers.Notices{Store: st, Staff: staff, TwoPerson: true, Now: func() time.Time { return e.now }}}
	e.console = c
	e.srv = httptest.NewServer(c.Handler())
	t.Cleanup(e.srv.Close)
	ctx := context.Background()
	if err := CreateUser(ctx, st, User{Name: "admin", Role: RoleAdmin}, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if err := CreateUser(ctx, st, User{Name: "zhen", Role: RoleOfficial, Town: "马街镇"}, "official password 1"); err != nil {
		t.Fatal(err)
	}
	if err := CreateUser(ctx, st, User{Name: "admin2", Role: RoleAdmin}, "second admin password"); err != nil {
		t.Fatal(err)
	}
	return e
}

func client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var reCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func get(t *testing.T, c *http.Client, u string) (int, string, http.Header) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func post(t *testing.T, c *http.Client, u string, form url.Values) (int, string, http.Header) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func login(t *testing.T, e *env, c *http.Client, user, pw string) (int, http.Header) {
	t.Helper()
	_, page, _ := get(t, c, e.srv.URL+"/admin/login")
	m := reCSRF.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf on the login page:\n%s", page)
	}
	code, _, h := post(t, c, e.srv.URL+"/admin/login", url.Values{"csrf": {m[1]}, "user": {user}, "password": {pw}})
	return code, h
}

func csrfOf(t *testing.T, c *http.Client, u string) string {
	_, page, _ := get(t, c, u)
	m := reCSRF.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf on %s", u)
	}
	return m[1]
}

func TestLoginSessionsAndLockout(t *testing.T) {
	e := newEnv(t)
	c := client(t)
	if code, _, h := get(t, c, e.srv.URL+"/admin/"); code != http.StatusSeeOther || h.Get("Location") != "/admin/login" {
		t.Fatalf("unauthenticated dashboard: %d %s", code, h.Get("Location"))
	}
	// a login without the form's token is refused
	if code, _, _ := post(t, c, e.srv.URL+"/admin/login", url.Values{"user": {"admin"}, "password": {"correct horse battery"}}); code != http.StatusForbidden {
		t.Errorf("login without csrf: %d", code)
	}
	if code, _ := login(t, e, c, "admin", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", code)
	}
	code, h := login(t, e, c, "admin", "correct horse battery")
	if code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	ck := h.Get("Set-Cookie")
	if !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Strict") || strings.Contains(ck, "Secure") {
		t.Errorf("session cookie %q (no TLS here: not Secure)", ck)
	}
	code, page, hdr := get(t, c, e.srv.URL+"/admin/")
	if code != 200 || !strings.Contains(page, "每天提问数") || !strings.Contains(page, `src="/admin/assets/chart.umd.min.js"`) || !strings.Contains(page, `id="dash-data"`) {
		t.Errorf("dashboard %d:\n%s", code, page)
	}
	if !strings.Contains(hdr.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Errorf("CSP %q", hdr.Get("Content-Security-Policy"))
	}
	if code, js, _ := get(t, c, e.srv.URL+"/admin/assets/chart.umd.min.js"); code != 200 || len(js) < 100000 {
		t.Errorf("Chart.js not served locally: %d, %d bytes", code, len(js))
	}
	// a POST without the session's token
	if code, _, _ := post(t, c, e.srv.URL+"/admin/logout", url.Values{"csrf": {"forged"}}); code != http.StatusForbidden {
		t.Errorf("forged csrf: %d", code)
	}
	// lockout: five failures lock the name, even for the right password
	c2 := client(t)
	for i := 0; i < MaxFailures; i++ {
		login(t, e, c2, "zhen", "nope")
	}
	if code, _ := login(t, e, c2, "zhen", "official password 1"); code != http.StatusUnauthorized {
		t.Errorf("locked account logged in: %d", code)
	}
	e.now = e.now.Add(LockFor + time.Minute)
	if code, _ := login(t, e, c2, "zhen", "official password 1"); code != http.StatusSeeOther {
		t.Errorf("after the lock: %d", code)
	}
	// an official may look but not import
	if code, _, _ := post(t, c2, e.srv.URL+"/admin/roster/invite", url.Values{"csrf": {csrfOf(t, c2, e.srv.URL+"/admin/roster")}, "phone": {"1"}}); code != http.StatusForbidden {
		t.Errorf("official invites: %d", code)
	}
	if code, _, _ := get(t, c2, e.srv.URL+"/admin/audit"); code != http.StatusForbidden {
		t.Errorf("official reads the audit log: %d", code)
	}
	if code, _, _ := get(t, c2, e.srv.URL+"/admin/deliveries"); code != http.StatusForbidden {
		t.Errorf("official reads every town's deliveries: %d", code)
	}
	// logout ends the session
	post(t, c, e.srv.URL+"/admin/logout", url.Values{"csrf": {csrfOf(t, c, e.srv.URL+"/admin/")}})
	if code, _, _ := get(t, c, e.srv.URL+"/admin/"); code != http.StatusSeeOther {
		t.Errorf("after logout: %d", code)
	}
	if CreateUser(context.Background(), e.store, User{Name: "x", Role: RoleAdmin}, "short") == nil {
		t.Error("a short password was accepted")
	}
	if CreateUser(context.Background(), e.store, User{Name: "y", Role: RoleOfficial}, "long enough password") == nil {
		t.Error("an official without a town was accepted (they would see everything)")
	}
}

func TestRosterImportInviteAndAudit(t *testing.T) {
	e := newEnv(t)
	c := client(t)
	login(t, e, c, "admin", "correct horse battery")
	upload := func(name string, data []byte) string {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("csrf", csrfOf(t, c, e.srv.URL+"/admin/roster"))
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write(data)
		mw.Close()
		resp, err := c.Post(e.srv.URL+"/admin/roster/import", mw.FormDataContentType(), &buf)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	good, err := os.ReadFile("../roster/example.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	if page := upload("garbage.xlsx", []byte("not a workbook")); !strings.Contains(page, "不是能打开的 Excel 工作簿") {
		t.Errorf("garbage: %s", page)
	}
	page := upload("example.xlsx", good)
	if !strings.Contains(page, "已导入 example.xlsx：8 人，9 个结对，4 项任务") || !strings.Contains(page, "王建国") {
		t.Fatalf("import:\n%s", page)
	}
	code, page, _ := post(t, c, e.srv.URL+"/admin/roster/invite", url.Values{"csrf": {csrfOf(t, c, e.srv.URL+"/admin/roster")}, "phone": {"13800000001"}})
	if code != 200 || !regexp.MustCompile(`绑定码 \d{6}`).MatchString(page) {
		t.Errorf("invite: %d\n%s", code, page)
	}
	_, page, _ = get(t, c, e.srv.URL+"/admin/audit")
	for _, want := range []string{"登录", "导入名单", "生成绑定码", "13800000001"} {
		if !strings.Contains(page, want) {
			t.Errorf("audit log lacks %q", want)
		}
	}
	// issue 15.12: the actions read in Chinese, not as code
	for _, code := range []string{">login<", ">roster_import<", ">invite<"} {
		if strings.Contains(page, code) {
			t.Errorf("audit log shows %s", code)
		}
	}
	// a dead letter comes back with 重发
	ctx := context.Background()
	e.store.Enqueue(ctx, "outbound", handlers.QueueItem{Key: "k1", Payload: []byte(`{}`)})
	it, _ := e.store.Claim(ctx, "outbound", time.Minute)
	e.store.Bury(ctx, "outbound", "k1", it.Token, "errcode 40003")
	_, page, _ = get(t, c, e.srv.URL+"/admin/deliveries")
	// with its reason in words an official can act on, not WeChat's code
	if !strings.Contains(page, "对方的微信身份无效") || strings.Contains(page, "errcode") || strings.Contains(page, ">k1<") {
		t.Errorf("dead letter not listed in Chinese:\n%s", page)
	}
	code, page, _ = post(t, c, e.srv.URL+"/admin/deliveries/revive", url.Values{"csrf": {csrfOf(t, c, e.srv.URL+"/admin/deliveries")}, "key": {"k1"}})
	if code != 200 || !strings.Contains(page, "已放回发送队列") {
		t.Errorf("revive: %d", code)
	}
	if _, err := e.store.Claim(ctx, "outbound", time.Minute); err != nil {
		t.Errorf("revived item not claimable: %v", err)
	}
}

func TestNoticesScopeApprovalAndOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	staff := &handlers.Staff{Store: e.store}
	if _, err := staff.Apply(ctx, rosterForTest()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"13800000001", "13900000009"} {
		inv, _ := staff.CreateInvite(ctx, p, time.Hour)
		staff.Bind(ctx, "o"+p, inv.Code)
	}
	official := client(t)
	login(t, e, official, "zhen", "official password 1")
	// an official's notice is kept inside their town, whatever they type
	code, _, h := post(t, official, e.srv.URL+"/admin/notices", url.Values{"csrf": {csrfOf(t, official, e.srv.URL+"/admin/notices")},
		"title": {"开会"}, "body": {"明天开会"}, "kind": {"staff"}, "town": {"龙山镇"}})
	if code != http.StatusSeeOther {
		t.Fatalf("official creates: %d", code)
	}
	_, page, _ := get(t, official, e.srv.URL+h.Get("Location"))
	if !strings.Contains(page, "发给：马街镇 全部干部（现在 1 人）") {
		t.Errorf("scope not forced:\n%s", page)
	}
	if code, page, _ := post(t, official, e.srv.URL+"/admin/notices", url.Values{"csrf": {csrfOf(t, official, e.srv.URL+"/admin/notices")},
		"title": {"x"}, "body": {"y"}, "kind": {"followers"}}); code != 200 || !strings.Contains(page, "只能发给本镇") {
		t.Errorf("official to all followers: %d", code)
	}
	// two-person rule: the author cannot approve; another admin can; sending twice sends once
	a1, a2 := client(t), client(t)
	login(t, e, a1, "admin", "correct horse battery")
	login(t, e, a2, "admin2", "second admin password")
	_, _, h = post(t, a1, e.srv.URL+"/admin/notices", url.Values{"csrf": {csrfOf(t, a1, e.srv.URL+"/admin/notices")},
		"title": {"检查"}, "body": {"周五检查档案"}, "kind": {"staff"}})
	view := h.Get("Location")
	id := strings.TrimPrefix(view, "/admin/notices/view?id=")
	if _, page, _ := get(t, a1, e.srv.URL+view); strings.Contains(page, ">批准<") || strings.Contains(page, ">发送<") {
		t.Errorf("the author may approve or send before approval:\n%s", page)
	}
	if _, page, _ := get(t, a2, e.srv.URL+view); !strings.Contains(page, ">批准<") {
		t.Errorf("a second admin sees no approve button")
	}
	post(t, a2, e.srv.URL+"/admin/notices/approve", url.Values{"csrf": {csrfOf(t, a2, e.srv.URL+view)}, "id": {id}})
	tok := csrfOf(t, a1, e.srv.URL+view)
	_, first, _ := post(t, a1, e.srv.URL+"/admin/notices/send", url.Values{"csrf": {tok}, "id": {id}})
	post(t, a1, e.srv.URL+"/admin/notices/send", url.Values{"csrf": {tok}, "id": {id}}) // a double click
	if !strings.Contains(first, "已发出：2 人排队发送") {
		t.Errorf("send:\n%s", first)
	}
	n := 0
	for {
		if _, err := e.store.Claim(ctx, "outbound", time.Hour); err != nil {
			break
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d messages queued, want 2 (once each)", n)
	}
	_, page, _ = get(t, a1, e.srv.URL+"/admin/audit")
	for _, want := range []string{"拟写通知", "批准通知", "发送通知"} {
		if !strings.Contains(page, want) {
			t.Errorf("audit lacks %s", want)
		}
	}
}

func rosterForTest() roster.Roster {
	return roster.Roster{People: []roster.Person{
		{Name: "王建国", Phone: "13800000001", Role: roster.RoleHelper, Town: "马街镇", Village: "金家村"},
		{Name: "龙山干部", Phone: "13900000009", Role: roster.RoleHelper, Town: "龙山镇", Village: "东风村"},
	}}
}

// An official's roster page and export hold only their town.
func TestRosterScope(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	staff := &handlers.Staff{Store: e.store}
	if _, err := staff.Apply(ctx, rosterForTest()); err != nil {
		t.Fatal(err)
	}
	c := client(t)
	login(t, e, c, "zhen", "official password 1")
	_, page, _ := get(t, c, e.srv.URL+"/admin/roster")
	if !strings.Contains(page, "王建国") || strings.Contains(page, "龙山干部") {
		t.Errorf("official's roster page shows other towns:\n%s", page)
	}
	resp, err := c.Get(e.srv.URL + "/admin/roster/export")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p, err := roster.ReadXLSX(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.People) != 1 || p.People[0].Town != "马街镇" {
		t.Errorf("official's export: %+v", p.People)
	}
}
