package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/xuri/excelize/v2"

	"policybot/handlers"
	"policybot/roster"
	"policybot/store/embedded"
)

// loginForm returns a client that sends the login page's cookie on every
// request (a failed login's new cookie is not taken), and the token the
// form must repeat.
func loginForm(t *testing.T, e *env) (*http.Client, string) {
	t.Helper()
	c := client(t)
	_, page, _ := get(t, c, e.srv.URL+"/admin/login")
	m := reCSRF.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no csrf on the login page")
	}
	u, _ := url.Parse(e.srv.URL + "/admin/login")
	fixed := &fixedJar{cookies: c.Jar.Cookies(u)}
	return &http.Client{Jar: fixed, CheckRedirect: c.CheckRedirect}, m[1]
}

// fixedJar always sends the same cookies.
type fixedJar struct{ cookies []*http.Cookie }

func (j *fixedJar) SetCookies(*url.URL, []*http.Cookie) {}
func (j *fixedJar) Cookies(*url.URL) []*http.Cookie     { return j.cookies }

// postFrom posts a login form as if from addr (through a proxy that says so).
func postFrom(t *testing.T, c *http.Client, e *env, csrf, addr, user, pw string) (int, string) {
	t.Helper()
	form := url.Values{"csrf": {csrf}, "user": {user}, "password": {pw}}
	req, _ := http.NewRequest("POST", e.srv.URL+"/admin/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if addr != "" {
		req.Header.Set("X-Forwarded-For", addr)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Issue 14.1: 20 logins with a 2,000,000-character name grew the store by
// 68 MB. A login body is capped, and names that are no account leave no
// per-name state.
func TestLoginInputIsBounded(t *testing.T) {
	dir := t.TempDir()
	st, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := &Console{Store: st, Staff: &handlers.Staff{Store: st}}
	e := &env{store: st, console: c}
	e.srv = httptest.NewServer(c.Handler())
	defer e.srv.Close()
	cl, csrf := loginForm(t, e)
	huge := strings.Repeat("名", 2_000_000/3) + strings.Repeat("x", 2)
	for i := 0; i < 20; i++ {
		code, _ := postFrom(t, cl, e, csrf, "", huge+fmt.Sprint(i), "pw")
		if code != http.StatusRequestEntityTooLarge {
			t.Fatalf("login with a 2 MB name: %d, want 413", code)
		}
	}
	// names up to the body limit but over the name limit, and invented
	// names of normal length: refused, and no per-name counter is kept
	long := strings.Repeat("x", MaxNameLen+1)
	if code, body := postFrom(t, cl, e, csrf, "", long, "pw"); code != http.StatusUnauthorized || !strings.Contains(body, errBadLogin.Error()) {
		t.Fatalf("over-long name: %d", code)
	}
	for i := 0; i < 3; i++ {
		postFrom(t, cl, e, csrf, "", fmt.Sprint("nobody", i), "pw")
	}
	win := c.window(c.limits())
	for i := 0; i < 3; i++ {
		if _, err := st.GetSession(context.Background(), "loginname:"+nameKey(fmt.Sprint("nobody", i))+":"+win); !errors.Is(err, handlers.ErrNotFound) {
			t.Fatalf("a per-name counter was kept for a name that is no account: %v", err)
		}
	}
	st.Close()
	fi, err := os.Stat(filepath.Join(dir, embedded.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 64<<10 {
		t.Fatalf("the journal grew to %d bytes from refused logins", fi.Size())
	}
}

// Issue 14.2: 40 concurrent guesses (the last one right) all reached
// bcrypt. Each guess is counted before the password is checked, so at most
// PerAccountAddress of them are checked.
func TestConcurrentGuessesAreCountedFirst(t *testing.T) {
	e := newEnv(t)
	cl, csrf := loginForm(t, e)
	var mu sync.Mutex
	outcome := map[string]int{}
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		pw := "wrong password"
		if i == 39 {
			pw = "official password 1"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body := postFrom(t, cl, e, csrf, "", "zhen", pw)
			k := "other"
			switch {
			case code == http.StatusSeeOther:
				k = "in"
			case strings.Contains(body, errBadLogin.Error()):
				k = "checked"
			case strings.Contains(body, errLocked.Error()):
				k = "locked"
			}
			mu.Lock()
			outcome[k]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if checked := outcome["checked"] + outcome["in"]; checked > MaxFailures || outcome["other"] > 0 {
		t.Fatalf("%d of 40 concurrent guesses had their password checked (want at most %d): %v", checked, MaxFailures, outcome)
	}
}

// Issue 14.3: five wrong passwords from a stranger locked the real admin
// out. Guesses are counted per address (and per account from that
// address): the stranger is locked, the admin elsewhere is not.
func TestStrangerCannotLockTheAdminOut(t *testing.T) {
	e := newEnv(t)
	proxies, _ := ParseProxies([]string{"127.0.0.1"})
	e.console.Limits.TrustedProxies = proxies
	e.console.Limits.PerAddress = 8 // fewer bcrypt checks under the race detector
	cl, csrf := loginForm(t, e)
	for i := 0; i < MaxFailures; i++ {
		postFrom(t, cl, e, csrf, "203.0.113.9", "admin", "guess")
	}
	if code, body := postFrom(t, cl, e, csrf, "203.0.113.9", "admin", "correct horse battery"); code == http.StatusSeeOther || !strings.Contains(body, errLocked.Error()) {
		t.Fatalf("the guessing address is not locked: %d", code)
	}
	if code, _ := postFrom(t, cl, e, csrf, "198.51.100.7", "admin", "correct horse battery"); code != http.StatusSeeOther {
		t.Fatalf("the admin from another address was locked out: %d", code)
	}
	// the stranger cannot move to a new address by writing the header
	// when the peer is not a trusted proxy
	e.console.Limits.TrustedProxies = nil
	for i := 0; i < e.console.Limits.PerAddress; i++ {
		postFrom(t, cl, e, csrf, fmt.Sprintf("192.0.2.%d", i), fmt.Sprint("name", i), "guess")
	}
	if code, body := postFrom(t, cl, e, csrf, "192.0.2.200", "zhen", "official password 1"); code == http.StatusSeeOther || !strings.Contains(body, errLocked.Error()) {
		t.Fatalf("a forged X-Forwarded-For escaped the per-address limit: %d", code)
	}
}

func TestClientAddr(t *testing.T) {
	proxies, err := ParseProxies([]string{"10.0.0.0/8", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	c := &Console{Limits: Limits{TrustedProxies: proxies}}
	for _, tt := range []struct{ remote, xff, want string }{
		{"203.0.113.1:5000", "1.2.3.4", "203.0.113.1"},             // not a proxy: header ignored
		{"10.1.1.1:5000", "1.2.3.4", "1.2.3.4"},                    // a proxy: its word
		{"10.1.1.1:5000", "6.6.6.6, 1.2.3.4, 10.2.2.2", "1.2.3.4"}, // nearest untrusted hop
		{"10.1.1.1:5000", "garbage, 1.2.3.4", "1.2.3.4"},           // a broken hop ends the walk
		{"[2001:db8:1:2:3:4:5:6]:80", "", "2001:db8:1:2::/64"},     // IPv6 by /64
		{"[::1]:80", "2001:db8:9:9::1", "2001:db8:9:9::/64"},
	} {
		r := httptest.NewRequest("POST", "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := c.clientAddr(r); got != tt.want {
			t.Errorf("%s + %q = %s, want %s", tt.remote, tt.xff, got, tt.want)
		}
	}
	if _, err := ParseProxies([]string{"not an address"}); err == nil {
		t.Error("a bad proxy entry was accepted")
	}
}

// countingReader yields n bytes of a multipart part and counts what the
// server read.
type countingReader struct {
	mu   sync.Mutex
	head string
	n    int64
	read int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.read >= c.n {
		return 0, io.EOF
	}
	k := int64(len(p))
	if c.n-c.read < k {
		k = c.n - c.read
	}
	for i := range p[:k] {
		off := c.read + int64(i)
		if off < int64(len(c.head)) {
			p[i] = c.head[off]
		} else {
			p[i] = 'a'
		}
	}
	c.read += k
	return int(k), nil
}

func (c *countingReader) Read64() int64 { c.mu.Lock(); defer c.mu.Unlock(); return c.read }

// Issue 14.4: a 1.5 GB multipart part to /admin/login went to /tmp before
// the 401. Every console POST is capped before its form (and the CSRF token
// in it) is parsed.
func TestConsoleBodiesAreCapped(t *testing.T) {
	e := newEnv(t)
	cl := client(t)
	login(t, e, cl, "admin", "correct horse battery")
	u, _ := url.Parse(e.srv.URL + "/admin/")
	cookies := cl.Jar.Cookies(u)
	h := e.console.Handler()
	for _, tt := range []struct {
		path string
		max  int64
	}{
		{"/admin/login", loginBytes},
		{"/admin/notices", DefaultLimits.FormBytes},
		{"/admin/knowledge/upload", DefaultLimits.UploadBytes},
		{"/admin/roster/import", DefaultLimits.UploadBytes},
	} {
		body := &countingReader{n: 200 << 20,
			head: "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.txt\"\r\n\r\n"}
		req := httptest.NewRequest("POST", tt.path, body)
		req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s with 200 MB: %d, want 413", tt.path, rec.Code)
		}
		if got := body.Read64(); got > tt.max+64<<10 {
			t.Errorf("%s read %d bytes of the body (limit %d)", tt.path, got, tt.max)
		}
		if !strings.Contains(rec.Body.String(), "太大") {
			t.Errorf("%s: no Chinese error: %q", tt.path, rec.Body.String())
		}
	}
}

// Issue 14.10: a 500 k-row file returned a 44 MB page of row errors. At
// most maxRowErrors are listed, with a count of the rest.
func TestImportPageListsAtMostAHundredRowErrors(t *testing.T) {
	e := newEnv(t)
	cl := client(t)
	login(t, e, cl, "admin", "correct horse battery")
	f := excelize.NewFile()
	f.SetSheetName("Sheet1", "人员")
	f.SetSheetRow("人员", "A1", &[]any{"姓名", "手机号", "角色", "乡镇", "村"})
	for i := 0; i < 500; i++ {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		f.SetSheetRow("人员", cell, &[]any{fmt.Sprint("人", i), "12345", "帮扶责任人", "马街镇", "金家村"})
	}
	var wb bytes.Buffer
	f.Write(&wb)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", csrfOf(t, cl, e.srv.URL+"/admin/roster"))
	fw, _ := mw.CreateFormFile("file", "bad.xlsx")
	fw.Write(wb.Bytes())
	mw.Close()
	resp, err := cl.Post(e.srv.URL+"/admin/roster/import", mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	page := string(b)
	if n := strings.Count(page, "不是 11 位手机号"); n != maxRowErrors {
		t.Fatalf("%d row errors listed, want %d", n, maxRowErrors)
	}
	if !strings.Contains(page, "另有 400 行有问题") || !strings.Contains(page, "有 500 行有问题") {
		t.Fatalf("the page does not count the rest:\n%.2000s", page)
	}
}

// Issue 15.16: a new deployment's dashboard says there is nothing yet
// instead of "0.0% 知晓率" and empty charts.
func TestDashboardEmptyStates(t *testing.T) {
	e := newEnv(t)
	cl := client(t)
	login(t, e, cl, "admin", "correct horse battery")
	_, page, _ := get(t, cl, e.srv.URL+"/admin/")
	for _, want := range []string{"还没有人答题", "还没有提问", "近 14 天还没有人提问", "还没有导入结对名单", "已发提醒（走访、在村、期限）", "已发通知"} {
		if !strings.Contains(page, want) {
			t.Errorf("the empty dashboard lacks %q", want)
		}
	}
	if strings.Contains(page, "0.0%") || strings.Contains(page, `id="questions"`) {
		t.Errorf("the empty dashboard shows a 0.0%% figure or an empty chart")
	}
}

// Issue 15.15: an admin without a phone can set it (and the password) in
// the console instead of being sent to the command line.
func TestAccountPhoneAndPassword(t *testing.T) {
	e := newEnv(t)
	cl := client(t)
	login(t, e, cl, "admin2", "second admin password")
	form := func(v url.Values) string {
		v.Set("csrf", csrfOf(t, cl, e.srv.URL+"/admin/account"))
		_, page, _ := post(t, cl, e.srv.URL+"/admin/account", v)
		return page
	}
	if page := form(url.Values{"phone": {"12345"}}); !strings.Contains(page, "不是 11 位手机号") {
		t.Errorf("a bad phone was taken")
	}
	if page := form(url.Values{"phone": {"13800000001"}}); !strings.Contains(page, "已保存") || !strings.Contains(page, `value="13800000001"`) {
		t.Errorf("phone not saved:\n%.600s", page)
	}
	if u, _ := getUser(context.Background(), e.store, "admin2"); u.Phone != "13800000001" {
		t.Errorf("stored phone %q", u.Phone)
	}
	if page := form(url.Values{"phone": {"13800000001"}, "password": {"wrong"}, "new_password": {"a brand new password"}}); !strings.Contains(page, "当前密码不对") {
		t.Errorf("a password was changed without the current one")
	}
	form(url.Values{"phone": {"13800000001"}, "password": {"second admin password"}, "new_password": {"a brand new password"}})
	if code, _ := login(t, e, client(t), "admin2", "a brand new password"); code != http.StatusSeeOther {
		t.Errorf("login with the new password: %d", code)
	}
}

// Issue 15.14: the template workbook can be downloaded (and reads as a
// roster), and a binding code says whose it is.
func TestRosterTemplateAndWhoseInvite(t *testing.T) {
	e := newEnv(t)
	cl := client(t)
	login(t, e, cl, "admin", "correct horse battery")
	resp, err := cl.Get(e.srv.URL + "/admin/roster/template")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	p, err := roster.ReadXLSX(bytes.NewReader(b))
	if resp.StatusCode != 200 || err != nil || len(p.People) == 0 {
		t.Fatalf("template: %d %v", resp.StatusCode, err)
	}
	if _, err := e.console.Staff.Apply(context.Background(), p.Roster); err != nil {
		t.Fatal(err)
	}
	_, page, _ := post(t, cl, e.srv.URL+"/admin/roster/invite", url.Values{"csrf": {csrfOf(t, cl, e.srv.URL+"/admin/roster")}, "phone": {p.People[0].Phone}})
	if !strings.Contains(page, p.People[0].Name+"（"+p.People[0].Role) || !strings.Contains(page, "的绑定码") {
		t.Errorf("the code does not say whose it is:\n%.800s", page)
	}
}

// Issue 15.4: with serve running, the command line cannot create the first
// admin (the embedded store is one process's); the console can, with the
// setup code serve prints. Once an admin exists the page is gone.
func TestFirstAdminIsCreatedWithTheSetupCode(t *testing.T) {
	dir := t.TempDir()
	st, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := &Console{Store: st, Staff: &handlers.Staff{Store: st}, SetupCode: "12345678"}
	e := &env{store: st, console: c}
	e.srv = httptest.NewServer(c.Handler())
	defer e.srv.Close()
	cl := client(t)
	if _, page, _ := get(t, cl, e.srv.URL+"/admin/login"); !strings.Contains(page, "创建第一个管理员") {
		t.Fatalf("the login page does not point to the setup")
	}
	csrf := "none"
	if _, page, _ := get(t, cl, e.srv.URL+"/admin/setup"); reCSRF.MatchString(page) {
		csrf = reCSRF.FindStringSubmatch(page)[1]
	} else {
		t.Fatalf("no setup form:\n%s", page)
	}
	setup := func(code, user, pw string) (int, string) {
		code2, body, _ := post(t, cl, e.srv.URL+"/admin/setup", url.Values{"csrf": {csrf}, "code": {code}, "user": {user}, "password": {pw}})
		if m := reCSRF.FindStringSubmatch(body); m != nil {
			csrf = m[1] // the form comes back with a new token
		}
		return code2, body
	}
	if _, body := setup("00000000", "wang", "a long enough password"); !strings.Contains(body, "设置码不对") {
		t.Errorf("a wrong code: %.300s", body)
	}
	if _, body := setup("12345678", "wang", "short"); !strings.Contains(body, "至少 10 个字符") {
		t.Errorf("a short password: %.300s", body)
	}
	if code, _ := setup("12345678", "wang", "a long enough password"); code != http.StatusSeeOther {
		t.Fatalf("setup: %d", code)
	}
	if code, _, _ := get(t, cl, e.srv.URL+"/admin/"); code != 200 {
		t.Errorf("not signed in after the setup: %d", code)
	}
	// the page is gone now
	if code, _, h := get(t, client(t), e.srv.URL+"/admin/setup"); code != http.StatusSeeOther || !strings.HasSuffix(h.Get("Location"), "/login") {
		t.Errorf("setup after an admin exists: %d", code)
	}
	if code, _ := setup("12345678", "intruder", "a long enough password"); code != http.StatusSeeOther {
		t.Errorf("a second setup: %d", code)
	}
	if _, err := getUser(context.Background(), st, "intruder"); err == nil {
		t.Error("a second admin was created through the setup")
	}
}

// Issue 15.14: pairings and tasks can be seen, not only counted, and
// every list can be filtered.
func TestRosterListsAndFilter(t *testing.T) {
	e := newEnv(t)
	cl := client(t)
	login(t, e, cl, "admin", "correct horse battery")
	p, err := roster.ReadXLSX(bytes.NewReader(roster.Example))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.console.Staff.Apply(context.Background(), p.Roster); err != nil {
		t.Fatal(err)
	}
	_, page, _ := get(t, cl, e.srv.URL+"/admin/roster")
	for _, want := range []string{"结对（9）", "整改任务（4）", p.Pairings[0].Household, p.Tasks[0].ID} {
		if !strings.Contains(page, want) {
			t.Errorf("the roster page lacks %q", want)
		}
	}
	_, page, _ = get(t, cl, e.srv.URL+"/admin/roster?q="+url.QueryEscape(p.Pairings[0].Household))
	if !strings.Contains(page, "结对（1）") || !strings.Contains(page, "显示全部") {
		t.Errorf("the filter does not narrow the pairings:\n%.1500s", page)
	}
}
